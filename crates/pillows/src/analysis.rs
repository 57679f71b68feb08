//! What a person would conclude about pillows: pure functions over offset histories.
//!
//! Partition statuses follow Burrow's evaluator (`core/internal/evaluator/caching.go`) with grace for
//! checkpoints that are written only every N changes or 5 minutes; time lag is interpolated over
//! sampled log-end offsets like kafka-lag-exporter; verdict texts follow the pillow runbooks.

use crate::Pillows;
use crate::model::{
    self, CheckpointKind, EvalSettings, Partition, PartitionStatus, Pillow, PillowsPoll, PillowsState, ProcessRef,
    Recovery, Sample, Verdict,
};
use opsdeck_core::alert::{Alert, AlertTarget, Severity};
use opsdeck_core::feed::FeedData;
use opsdeck_core::pane::{Pane, PaneConfigs};
use opsdeck_hosts::model::{HostsState, Program, ProgramState};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

/// What the evaluator concludes about one partition.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionEval {
    pub status: PartitionStatus,
    pub consume_rate: Option<f64>,
    pub produce_rate: Option<f64>,
    pub time_lag_seconds: Option<f64>,
    pub eta_seconds: Option<f64>,
    pub checkpoint_age_seconds: Option<f64>,
    pub verdict: String,
}

fn secs_between(later: SystemTime, earlier: SystemTime) -> f64 {
    later.duration_since(earlier).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Consume and produce rates (changes/s) over the samples of the last `window`.
pub fn rates(history: &[Sample], window: Duration) -> (Option<f64>, Option<f64>) {
    let Some(last) = history.last() else {
        return (None, None);
    };
    let since = last.at.checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH);
    let in_window = || history.iter().filter(|s| s.at >= since);
    let rate = |get: fn(&Sample) -> Option<i64>| {
        let first = in_window().find(|s| get(s).is_some())?;
        let last = history
            .iter()
            .rev()
            .take_while(|s| s.at >= since)
            .find(|s| get(s).is_some())?;
        let dt = secs_between(last.at, first.at);
        if dt < 1.0 {
            return None;
        }
        // A rewind makes the difference negative: that is not consumption.
        Some(((get(last)? - get(first)?) as f64 / dt).max(0.0))
    };
    (rate(|s| s.committed), rate(|s| s.log_end))
}

/// When the log end was at `offset`, from sampled log-end offsets (kafka-lag-exporter's lookup table:
/// interpolate between bracketing samples, else extrapolate along oldest→newest).
pub fn time_of_offset(history: &[Sample], offset: i64) -> Option<SystemTime> {
    let points: Vec<(i64, SystemTime)> = history.iter().filter_map(|s| Some((s.log_end?, s.at))).collect();
    if points.len() < 2 {
        return None;
    }
    let predict = |l: (i64, SystemTime), r: (i64, SystemTime)| -> Option<SystemTime> {
        if r.0 == l.0 {
            return None;
        }
        let span = secs_between(r.1, l.1);
        let back = (r.0 - offset) as f64 * span / (r.0 - l.0) as f64;
        if back >= 0.0 {
            r.1.checked_sub(Duration::from_secs_f64(back))
        } else {
            r.1.checked_add(Duration::from_secs_f64(-back))
        }
    };
    for pair in points.windows(2).rev() {
        let (l, r) = (pair[0], pair[1]);
        if l.0 <= offset && offset <= r.0 && l.0 != r.0 {
            // Within a flat-then-rising pair, the offset was reached when the rise began.
            return predict(l, r);
        }
    }
    predict(points[0], points[points.len() - 1])
}

/// Burrow rule 2: the first drop of the checkpoint that was never regained, as (from, to).
pub fn rewind(history: &[Sample]) -> Option<(i64, i64)> {
    let offsets: Vec<i64> = history.iter().filter_map(|s| s.committed).collect();
    let i = (1..offsets.len()).find(|&i| offsets[i] < offsets[i - 1])?;
    let (from, to) = (offsets[i - 1], offsets[i]);
    if offsets[i..].iter().any(|&o| o >= from) {
        return None;
    }
    Some((from, to))
}

/// The time since the checkpoint offset last changed, as far as the history shows.
fn flat_since(history: &[Sample]) -> Option<SystemTime> {
    let last = history.iter().rev().find(|s| s.committed.is_some())?;
    let mut since = last.at;
    for s in history.iter().rev() {
        match s.committed {
            Some(c) if Some(c) == last.committed => since = s.at,
            Some(_) => break,
            None => {}
        }
    }
    Some(since)
}

/// Evaluates one partition at `now` (pure: the history and the latest values are all it reads).
pub fn evaluate_partition(p: &Partition, kind: CheckpointKind, now: SystemTime, s: &EvalSettings) -> PartitionEval {
    let history: Vec<Sample> = p.samples().collect();
    evaluate_samples(&history, p, kind, now, s)
}

fn evaluate_samples(
    history: &[Sample],
    p: &Partition,
    kind: CheckpointKind,
    now: SystemTime,
    s: &EvalSettings,
) -> PartitionEval {
    let (consume_rate, produce_rate) = rates(history, s.rate_window);
    let flat = flat_since(history);
    let checkpoint_age_seconds = match kind {
        CheckpointKind::Postgres => p.last_modified.map(|t| secs_between(now, t)),
        CheckpointKind::KafkaGroup => flat.map(|t| secs_between(now, t)),
    };
    let mut eval = PartitionEval {
        status: PartitionStatus::Unknown,
        consume_rate,
        produce_rate,
        time_lag_seconds: None,
        eta_seconds: None,
        checkpoint_age_seconds,
        verdict: String::new(),
    };
    let name = p.key();
    let (Some(committed), Some(lag)) = (p.committed, p.lag) else {
        eval.verdict = match p.committed {
            None => "no checkpoint yet".into(),
            Some(_) => "Kafka gave no log end for this partition".into(),
        };
        return eval;
    };
    eval.time_lag_seconds = if lag == 0 {
        Some(0.0)
    } else if let Some(t) = p.doc_modification_time {
        Some(secs_between(now, t))
    } else {
        time_of_offset(history, committed).map(|t| secs_between(now, t))
    };
    // Offsets ≤ 0 mean "never ran" to HQ's validator, which skips them too.
    if let Some(low) = p.log_start.filter(|&low| committed > 0 && committed < low) {
        eval.status = PartitionStatus::Lost;
        eval.verdict = format!(
            "checkpoint on {name} is below the first retained offset (needed {committed}, first available {low}): \
             changes were lost — reprocess, then move the checkpoint"
        );
        return eval;
    }
    if let Some((from, to)) = rewind(history) {
        eval.status = PartitionStatus::Rewind;
        eval.verdict = format!("checkpoint rewound on {name} (from {from} to {to})");
        return eval;
    }
    if lag <= s.allowed_lag {
        eval.status = PartitionStatus::Ok;
        return eval;
    }
    let grace = s.checkpoint_grace.as_secs_f64();
    let flat_for = flat.map(|t| secs_between(now, t)).unwrap_or(0.0);
    let written_for = match kind {
        CheckpointKind::Postgres => checkpoint_age_seconds.unwrap_or(flat_for),
        CheckpointKind::KafkaGroup => flat_for,
    };
    // Postgres rows say when they were last written; for Kafka groups the history only bounds the
    // flat time from below (OffsetFetch carries no commit time).
    if written_for > grace {
        eval.status = PartitionStatus::Stop;
        eval.verdict = format!(
            "stopped: checkpoint on {name} has not moved for {} while {lag} changes wait",
            opsdeck_core::time::short_duration(Duration::from_secs_f64(written_for))
        );
        return eval;
    }
    if flat_for > grace && written_for <= grace {
        eval.status = PartitionStatus::Stall;
        eval.verdict = format!(
            "stalled: checkpoint on {name} is rewritten but stuck at {committed} for {}",
            opsdeck_core::time::short_duration(Duration::from_secs_f64(flat_for))
        );
        return eval;
    }
    match (consume_rate, produce_rate) {
        (Some(c), Some(pr)) if c > pr => {
            let eta = lag as f64 / (c - pr);
            eval.eta_seconds = Some(eta);
            eval.status = PartitionStatus::Ok;
            eval.verdict = format!(
                "lagging {lag}, recovering: about {} to catch up",
                opsdeck_core::time::short_duration(Duration::from_secs_f64(eta))
            );
        }
        (Some(c), Some(pr)) => {
            eval.status = PartitionStatus::Warn;
            eval.verdict = format!("lagging {lag} and not recovering: consuming {c:.1}/s, producing {pr:.1}/s");
        }
        _ => {
            eval.status = PartitionStatus::Ok;
            eval.verdict = format!("lagging {lag}; too little history for a rate yet");
        }
    }
    eval
}

/// Folding a poll in is model work (histories kept, pillows matched by name), then the evaluator
/// judges each pillow that answered: verdicts are computed here, never by the model.
impl FeedData for PillowsState {
    type Poll = PillowsPoll;

    fn absorb(current: &mut Option<Self>, poll: Self::Poll, at: SystemTime) {
        let state = current.get_or_insert_with(PillowsState::default);
        let mut next = Vec::with_capacity(poll.pillows.len());
        for reading in poll.pillows {
            // Histories survive across polls; pillows removed from the config disappear.
            let mut pillow = match state.pillows.iter().position(|p| p.name == reading.name) {
                Some(i) => state.pillows.swap_remove(i),
                None => Pillow::new(&reading),
            };
            pillow.kind = reading.kind;
            pillow.checkpoint = reading.checkpoint.clone();
            pillow.assignment = reading.assignment;
            pillow.processes = reading.processes.clone();
            match reading.result {
                Ok(readings) => {
                    pillow.error = None;
                    model::merge_readings(&mut pillow, readings, at, poll.settings.history);
                    evaluate_pillow(&mut pillow, at, &poll.settings);
                    pillow
                        .lag_history
                        .push_bounded((at, pillow.total_lag), poll.settings.history);
                }
                Err(e) => pillow.error = Some(e),
            }
            next.push(pillow);
        }
        state.pillows = next;
        state.settings = Some(poll.settings);
    }
}

/// Evaluates every partition of `pillow` and draws the pillow-level verdicts (the runbook's
/// "all partitions or a few?" first of all).
pub fn evaluate_pillow(pillow: &mut Pillow, now: SystemTime, s: &EvalSettings) {
    let kind = pillow.kind;
    for p in pillow.partitions.iter_mut() {
        let e = evaluate_partition(p, kind, now, s);
        p.status = e.status;
        p.consume_rate = e.consume_rate;
        p.produce_rate = e.produce_rate;
        p.time_lag_seconds = e.time_lag_seconds;
        p.eta_seconds = e.eta_seconds;
        p.checkpoint_age_seconds = e.checkpoint_age_seconds;
        p.verdict = e.verdict;
    }
    summarize(pillow, s);
}

fn summarize(pillow: &mut Pillow, s: &EvalSettings) {
    let parts = &pillow.partitions;
    pillow.total_lag = parts.iter().filter_map(|p| p.lag).sum();
    let lagging: Vec<&Partition> = parts.iter().filter(|p| p.lag.unwrap_or(0) > s.allowed_lag).collect();
    pillow.lagging_partitions = lagging.len();
    pillow.worst_partition = parts
        .iter()
        .filter(|p| p.lag.unwrap_or(0) > 0)
        // The first of equals, so the pane does not flicker between them.
        .min_by_key(|p| std::cmp::Reverse(p.lag.unwrap_or(0)))
        .map(Partition::key);
    let sum = |f: fn(&Partition) -> Option<f64>| {
        let v: Vec<f64> = parts.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum())
    };
    pillow.consume_rate = sum(|p| p.consume_rate);
    pillow.produce_rate = sum(|p| p.produce_rate);
    pillow.status = parts
        .iter()
        .map(|p| p.status)
        .max_by_key(|st| (st.severity(), *st))
        .unwrap_or(PartitionStatus::Unknown);
    let stuck = parts
        .iter()
        .any(|p| p.lag.unwrap_or(0) > 0 && p.status.severity() == Severity::Critical);
    pillow.recovery = if lagging.is_empty() && !stuck {
        if parts.iter().all(|p| p.lag.is_some()) {
            Recovery::CaughtUp
        } else {
            Recovery::Unknown
        }
    } else if stuck {
        // A stopped or lost partition does not catch up on its own, however small its lag.
        Recovery::NotRecovering
    } else if lagging.iter().all(|p| p.eta_seconds.is_some()) {
        Recovery::Eta(lagging.iter().filter_map(|p| p.eta_seconds).fold(0.0, f64::max))
    } else if lagging
        .iter()
        .any(|p| p.eta_seconds.is_none() && p.status != PartitionStatus::Ok)
    {
        Recovery::NotRecovering
    } else {
        Recovery::Unknown
    };
    pillow.verdicts = verdicts(pillow, &lagging, s);
}

fn list(parts: &[&Partition], max: usize) -> String {
    let mut names: Vec<String> = parts.iter().take(max).map(|p| p.key()).collect();
    if parts.len() > max {
        names.push(format!("… {} more", parts.len() - max));
    }
    names.join(", ")
}

fn verdicts(pillow: &Pillow, lagging: &[&Partition], s: &EvalSettings) -> Vec<Verdict> {
    let mut out = Vec::new();
    let parts = &pillow.partitions;
    for p in parts {
        if matches!(p.status, PartitionStatus::Lost | PartitionStatus::Rewind) {
            out.push(Verdict::new(p.status.severity(), p.verdict.clone()));
        }
    }
    let stopped: Vec<&Partition> = parts
        .iter()
        .filter(|p| matches!(p.status, PartitionStatus::Stop | PartitionStatus::Stall))
        .collect();
    if !stopped.is_empty() {
        let owners: BTreeSet<usize> = stopped.iter().filter_map(|p| p.owner).collect();
        let whole_process = |o: &usize| {
            pillow
                .partitions_of(*o)
                .all(|p| matches!(p.status, PartitionStatus::Stop | PartitionStatus::Stall))
        };
        let (message, blamed) = if stopped.len() == parts.len() {
            (
                format!(
                    "stopped: no checkpoint of any of the {} partitions moves → check that the processes are RUNNING, then their logs",
                    parts.len()
                ),
                pillow.processes.iter().map(|p| p.index).collect(),
            )
        } else if !owners.is_empty() && owners.iter().all(whole_process) && owners.len() < pillow.assignment.processes {
            (
                format!(
                    "stopped: process {} makes no progress on its partitions ({}) → restart it",
                    owners.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", "),
                    list(&stopped, 6)
                ),
                owners.iter().copied().collect(),
            )
        } else {
            (
                format!("stopped: checkpoints do not move on {}", list(&stopped, 6)),
                Vec::new(),
            )
        };
        out.push(Verdict {
            severity: Severity::Critical,
            message,
            processes: blamed,
        });
    }
    if !lagging.is_empty() {
        let severity = if pillow.total_lag >= s.lag_critical {
            Severity::Critical
        } else if pillow.total_lag >= s.lag_warning || pillow.recovery == Recovery::NotRecovering {
            Severity::Warning
        } else {
            Severity::Ok
        };
        let n = parts.len();
        let share = lagging.len() as f64 / n.max(1) as f64;
        let owners: BTreeSet<usize> = lagging.iter().filter_map(|p| p.owner).collect();
        let mut blamed = Vec::new();
        let message = if n > 1 && lagging.len() == n {
            format!("all {n} partitions lagging → check processes, errors, load")
        } else if n > 1 && share >= s.all_fraction {
            format!(
                "{} of {n} partitions lagging → check processes, errors, load",
                lagging.len()
            )
        } else if owners.len() == 1 && lagging.iter().all(|p| p.owner.is_some()) {
            let o = owners.iter().next().copied().unwrap_or(0);
            blamed.push(o);
            format!(
                "only partitions of process {o} lagging ({}) → process {o} is backed up",
                list(lagging, 6)
            )
        } else if !owners.is_empty() && owners.len() < pillow.assignment.processes {
            blamed.extend(owners.iter().copied());
            format!(
                "only partitions of processes {} lagging ({} of {n}) → those processes are backed up",
                owners.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(", "),
                lagging.len()
            )
        } else {
            format!("{} of {n} partitions lagging ({})", lagging.len(), list(lagging, 6))
        };
        out.push(Verdict {
            severity,
            message: format!("{message}; {} changes behind", count(pillow.total_lag)),
            processes: blamed,
        });
        let recovery = match pillow.recovery {
            Recovery::Eta(eta) => Some((
                Severity::Ok,
                format!(
                    "recovering: about {} to catch up",
                    opsdeck_core::time::short_duration(Duration::from_secs_f64(eta))
                ),
            )),
            Recovery::NotRecovering => Some((
                Severity::Warning,
                format!(
                    "not recovering: consuming {:.1}/s, producing {:.1}/s",
                    pillow.consume_rate.unwrap_or(0.0),
                    pillow.produce_rate.unwrap_or(0.0)
                ),
            )),
            _ => None,
        };
        if let Some((severity, message)) = recovery {
            out.push(Verdict::new(severity, message));
        }
    }
    if let Some(worst) = parts.iter().filter(|p| p.time_lag_seconds.is_some()).max_by(|a, b| {
        a.time_lag_seconds
            .partial_cmp(&b.time_lag_seconds)
            .unwrap_or(std::cmp::Ordering::Equal)
    }) {
        let t = worst.time_lag_seconds.unwrap_or(0.0);
        let severity = if t >= s.time_lag_critical {
            Some(Severity::Critical)
        } else if t >= s.time_lag_warning {
            Some(Severity::Warning)
        } else {
            None
        };
        if let Some(severity) = severity {
            out.push(Verdict::new(
                severity,
                format!(
                    "changes are {} behind on {}",
                    opsdeck_core::time::short_duration(Duration::from_secs_f64(t)),
                    worst.key()
                ),
            ));
        }
    }
    out.sort_by_key(|v| std::cmp::Reverse(v.severity));
    out
}

/// `12,345`
pub fn count(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The processes of `pillow` that supervisor (as the hosts source last saw it) reports as not
/// running and not on their way up; processes on hosts without a status are left out.
pub fn down_processes<'a>(pillow: &'a Pillow, hosts: &'a HostsState) -> Vec<(&'a ProcessRef, &'a Program)> {
    pillow
        .processes
        .iter()
        .filter_map(|p| {
            let found = hosts
                .host(&p.host)?
                .programs
                .iter()
                .find(|prog| prog.name == p.program || prog.name.rsplit(':').next() == Some(p.program.as_str()))?;
            let down = matches!(
                found.state,
                ProgramState::Exited | ProgramState::Fatal | ProgramState::Backoff | ProgramState::Stopped
            );
            down.then_some((p, found))
        })
        .collect()
}

/// `killed: out of memory` from `(killed: out of memory)`; supervisor's EXITED shows when, `at Oct 14 03:12 AM`.
fn reason(description: &str) -> String {
    let text = description.trim();
    let text = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text)
        .trim();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if text.is_empty() {
        String::new()
    } else if MONTHS.iter().any(|m| text.starts_with(m)) {
        format!(" at {text}")
    } else {
        format!(" ({text})")
    }
}

/// What a process that is not running means for its pillow, and what to do: start it, or first
/// move the checkpoint when its partitions lost theirs (a start alone resumes nothing).
fn process_verdict(pillow: &Pillow, process: &ProcessRef, program: &Program, log: Option<String>) -> Verdict {
    let owned: Vec<&Partition> = pillow.partitions_of(process.index).collect();
    let lost = owned.iter().any(|p| p.status == PartitionStatus::Lost);
    let advice = match program.state {
        _ if lost => "its checkpoint is below the retained log: move the checkpoint, then start it",
        ProgramState::Fatal => "supervisor gave up starting it: read its log, fix the cause, then start it",
        ProgramState::Backoff => "it dies as it starts: read its log",
        ProgramState::Stopped => "someone stopped it: start it when that is over",
        _ => "start it",
    };
    // The log path comes last: it is the longest part, and the one a narrow screen may cut.
    let waiting = match owned.len() {
        0 => String::new(),
        n => format!(", {n} partition(s) not consumed"),
    };
    let mut message = format!(
        "process {}-{} {}{} on {}{waiting} → {advice}",
        pillow.name,
        process.index,
        program.state.as_str(),
        reason(&program.description),
        process.host
    );
    if let Some(log) = log {
        message.push_str(&format!("; its log: {log}"));
    }
    Verdict {
        severity: Severity::Critical,
        message,
        processes: vec![process.index],
    }
}

/// The pillow's verdicts with supervisor's view of its processes joined in: a process that is not
/// running comes first, with its state, why, and its log; verdicts blaming only such processes
/// ("backed up → restart it") are dropped, as they would send the reader the wrong way.
pub fn verdicts_with_processes(
    pillow: &Pillow,
    hosts: Option<&HostsState>,
    log_of: impl Fn(&ProcessRef) -> Option<String>,
) -> Vec<Verdict> {
    let down = hosts.map(|h| down_processes(pillow, h)).unwrap_or_default();
    let down_index: BTreeSet<usize> = down.iter().map(|(p, _)| p.index).collect();
    let mut out: Vec<Verdict> = down
        .iter()
        .map(|(p, prog)| process_verdict(pillow, p, prog, log_of(p)))
        .collect();
    out.extend(
        pillow
            .verdicts
            .iter()
            .filter(|v| v.processes.is_empty() || !v.processes.iter().all(|i| down_index.contains(i)))
            .cloned(),
    );
    out
}

/// Where a pillow process writes its log, as a verdict names it.
pub fn process_log(config: &dyn PaneConfigs, pillow: &str, process: &ProcessRef) -> Option<String> {
    let pc = config.of::<Pillows>().pillows.iter().find(|p| p.name == pillow)?;
    crate::config::pillow_process_log(config, pc, process)
        .ok()
        .map(|l| l.what())
}

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(state: &PillowsState, hosts: Option<&HostsState>, config: &dyn PaneConfigs) -> Vec<Alert> {
    let mut out = Vec::new();
    for pillow in &state.pillows {
        if let Some(e) = &pillow.error {
            out.push(
                Alert::new(
                    Severity::Critical,
                    Pillows::ID,
                    &pillow.name,
                    format!("cannot read checkpoints: {e}"),
                )
                .at(AlertTarget::row(Pillows::ID, &pillow.name)),
            );
        }
        let verdicts = verdicts_with_processes(pillow, hosts, |p| process_log(config, &pillow.name, p));
        for v in verdicts.iter().filter(|v| v.severity > Severity::Ok) {
            out.push(
                Alert::new(v.severity, Pillows::ID, &pillow.name, v.message.clone())
                    .at(AlertTarget::row(Pillows::ID, &pillow.name)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests;
