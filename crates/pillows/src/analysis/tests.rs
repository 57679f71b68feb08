//! The evaluator over recorded offset histories.

use super::*;
use crate::model::{Assignment, PartitionReading, PillowReading, PillowsPoll, PillowsState, ProcessRef};
use opsdeck_core::feed::FeedData;

fn t(s: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
}

fn settings() -> EvalSettings {
    EvalSettings {
        allowed_lag: 100,
        lag_warning: 2500,
        lag_critical: 5000,
        checkpoint_grace: Duration::from_secs(330),
        rate_window: Duration::from_secs(600),
        ..EvalSettings::default()
    }
}

/// A partition whose history is `(seconds, committed, log_end)` samples; the last one is "now".
fn partition(samples: &[(u64, i64, i64)], low: i64, last_modified: Option<SystemTime>) -> Partition {
    let mut p = Partition::new("case-sql", 7);
    for &(s, c, e) in samples {
        p.record(
            Sample {
                at: t(s),
                committed: Some(c),
                log_start: Some(low),
                log_end: Some(e),
            },
            usize::MAX,
        );
    }
    let &(_, c, e) = samples.last().unwrap();
    p.committed = Some(c);
    p.log_end = Some(e);
    p.log_start = Some(low);
    p.lag = Some((e - c).max(0));
    p.last_modified = last_modified;
    p
}

fn eval(p: &Partition, kind: CheckpointKind) -> PartitionEval {
    let now = p.samples().next_back().unwrap().at;
    evaluate_partition(p, kind, now, &settings())
}

#[test]
fn caught_up_partition_is_ok() {
    let samples: Vec<_> = (0..10)
        .map(|i| (i * 30, 1000 + i as i64 * 50, 1010 + i as i64 * 50))
        .collect();
    let e = eval(&partition(&samples, 0, None), CheckpointKind::KafkaGroup);
    assert_eq!(e.status, PartitionStatus::Ok);
    assert_eq!(e.verdict, "");
    assert!((e.consume_rate.unwrap() - 50.0 / 30.0).abs() < 1e-9);
}

#[test]
fn lagging_but_recovering_gives_an_eta() {
    // Production 10/s, consumption 20/s, 2000 behind at the end → 2000 / (20 − 10) = 200 s.
    let samples: Vec<_> = (0..=10)
        .map(|i| (i * 10, i as i64 * 200, 3000 + i as i64 * 100))
        .collect();
    let e = eval(&partition(&samples, 0, None), CheckpointKind::KafkaGroup);
    assert_eq!(e.status, PartitionStatus::Ok);
    assert!((e.eta_seconds.unwrap() - 200.0).abs() < 1e-6, "{e:?}");
    assert!(e.verdict.contains("recovering: about 3m"), "{}", e.verdict);
}

#[test]
fn lagging_and_slower_than_production_is_warn_not_recovering() {
    let samples: Vec<_> = (0..=10)
        .map(|i| (i * 10, i as i64 * 50, 3000 + i as i64 * 100))
        .collect();
    let e = eval(&partition(&samples, 0, None), CheckpointKind::KafkaGroup);
    assert_eq!(e.status, PartitionStatus::Warn);
    assert_eq!(e.eta_seconds, None);
    assert!(e.verdict.contains("not recovering"), "{}", e.verdict);
}

#[test]
fn flat_checkpoint_within_grace_is_not_stopped() {
    // HQ writes checkpoints every N changes or 5 minutes: 4 flat minutes are normal.
    let samples: Vec<_> = (0..=8).map(|i| (i * 30, 500, 1000 + i as i64 * 10)).collect();
    let e = eval(&partition(&samples, 0, Some(t(0))), CheckpointKind::Postgres);
    assert_ne!(e.status, PartitionStatus::Stop);
    assert_ne!(e.status, PartitionStatus::Stall);
}

#[test]
fn postgres_row_not_written_past_grace_is_stopped() {
    let samples: Vec<_> = (0..=14).map(|i| (i * 30, 500, 1000 + i as i64 * 10)).collect();
    let e = eval(&partition(&samples, 0, Some(t(0))), CheckpointKind::Postgres);
    assert_eq!(e.status, PartitionStatus::Stop);
    assert!(
        e.verdict
            .starts_with("stopped: checkpoint on case-sql:7 has not moved for 7m"),
        "{}",
        e.verdict
    );
}

#[test]
fn kafka_group_offset_flat_past_grace_is_stopped() {
    let samples: Vec<_> = (0..=14).map(|i| (i * 30, 500, 1000 + i as i64 * 10)).collect();
    let e = eval(&partition(&samples, 0, None), CheckpointKind::KafkaGroup);
    assert_eq!(e.status, PartitionStatus::Stop);
    // The same flat history, but only 2 minutes of it: not yet.
    let e = eval(&partition(&samples[..5], 0, None), CheckpointKind::KafkaGroup);
    assert_ne!(e.status, PartitionStatus::Stop);
}

#[test]
fn row_rewritten_but_offset_stuck_is_stalled() {
    let samples: Vec<_> = (0..=14).map(|i| (i * 30, 500, 1000 + i as i64 * 10)).collect();
    let recent = Some(t(14 * 30 - 20));
    let e = eval(&partition(&samples, 0, recent), CheckpointKind::Postgres);
    assert_eq!(e.status, PartitionStatus::Stall, "{e:?}");
}

#[test]
fn rewind_is_reported_until_the_old_offset_is_regained() {
    let mut samples = vec![
        (0, 100, 1000),
        (30, 200, 1000),
        (60, 300, 1000),
        (90, 150, 1000),
        (120, 180, 1000),
    ];
    let e = eval(&partition(&samples, 0, None), CheckpointKind::KafkaGroup);
    assert_eq!(e.status, PartitionStatus::Rewind);
    assert_eq!(e.verdict, "checkpoint rewound on case-sql:7 (from 300 to 150)");
    samples.push((150, 320, 1000));
    let e = eval(&partition(&samples, 0, None), CheckpointKind::KafkaGroup);
    assert_ne!(e.status, PartitionStatus::Rewind);
}

#[test]
fn checkpoint_below_first_retained_offset_is_lost() {
    let e = eval(
        &partition(&[(0, 3, 40), (30, 3, 40)], 15, None),
        CheckpointKind::Postgres,
    );
    assert_eq!(e.status, PartitionStatus::Lost);
    assert_eq!(
        e.verdict,
        "checkpoint on case-sql:7 is below the first retained offset (needed 3, first available 15): \
         changes were lost — reprocess, then move the checkpoint"
    );
    // Offset 0 means "never ran" (HQ's validator skips it): not lost.
    let e = eval(&partition(&[(0, 0, 40)], 15, None), CheckpointKind::Postgres);
    assert_ne!(e.status, PartitionStatus::Lost);
}

#[test]
fn time_lag_is_interpolated_from_sampled_log_ends() {
    let p = partition(&[(0, 1050, 1000), (10, 1050, 1100), (20, 1050, 1200)], 0, None);
    let e = eval(&p, CheckpointKind::KafkaGroup);
    assert!((e.time_lag_seconds.unwrap() - 15.0).abs() < 1e-6, "{e:?}");
    let mut p = p;
    p.doc_modification_time = Some(t(2));
    let e = eval(&p, CheckpointKind::Postgres);
    assert!((e.time_lag_seconds.unwrap() - 18.0).abs() < 1e-6, "{e:?}");
}

// Pillow-level verdicts, through the model's absorb (what the poller feeds).

fn reading(p: i32, committed: i64, end: i64) -> PartitionReading {
    PartitionReading {
        topic: "case-sql".into(),
        partition: p,
        committed: Some(committed),
        log_start: Some(0),
        log_end: Some(end),
        last_modified: None,
        doc_modification_time: None,
    }
}

fn poll(parts: Vec<PartitionReading>) -> PillowsPoll {
    PillowsPoll {
        pillows: vec![PillowReading {
            name: "case-pillow".into(),
            kind: CheckpointKind::KafkaGroup,
            checkpoint: "case-pillow".into(),
            assignment: Assignment {
                processes: 3,
                dedicated_migration_process: false,
            },
            processes: (0..3)
                .map(|n| ProcessRef {
                    index: n,
                    host: "pillow1".into(),
                    program: format!("case-{n}"),
                })
                .collect(),
            result: Ok(parts),
        }],
        settings: settings(),
    }
}

/// Six partitions over 3 processes (process n owns n and n+3); `lagging(p)` says which fall behind.
fn run(lagging: impl Fn(i32) -> bool, steps: u64) -> PillowsState {
    let mut state = None;
    for step in 0..=steps {
        let parts = (0..6)
            .map(|p| {
                let end = 10_000 + step as i64 * 300;
                let c = if lagging(p) { 1_000 + step as i64 * 100 } else { end - 5 };
                reading(p, c, end)
            })
            .collect();
        PillowsState::absorb(&mut state, poll(parts), t(step * 30));
    }
    state.unwrap()
}

#[test]
fn only_one_process_lagging_names_the_process() {
    let state = run(|p| p == 1 || p == 4, 10);
    let pillow = &state.pillows[0];
    assert_eq!(pillow.lagging_partitions, 2);
    assert!(
        pillow.verdicts.iter().any(|v| v
            .message
            .starts_with("only partitions of process 1 lagging (case-sql:1, case-sql:4) → process 1 is backed up")),
        "{:?}",
        pillow.verdicts
    );
    assert_eq!(pillow.recovery, Recovery::NotRecovering);
    assert_eq!(pillow.worst_partition.as_deref(), Some("case-sql:1"));
}

#[test]
fn all_partitions_lagging_points_at_processes_errors_load() {
    let state = run(|_| true, 10);
    let pillow = &state.pillows[0];
    assert!(
        pillow.verdicts.iter().any(|v| v
            .message
            .starts_with("all 6 partitions lagging → check processes, errors, load")
            && v.severity == Severity::Critical),
        "{:?}",
        pillow.verdicts
    );
    let alerts = alerts(
        &state,
        None,
        &opsdeck_core::pane::Sections::default().with::<crate::Pillows>(Default::default()),
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.severity == Severity::Critical && a.subject == "case-pillow")
    );
}

#[test]
fn stopped_process_is_named_and_pillow_eta_is_the_slowest_partition() {
    // Process 2's partitions (2, 5) never move; the others catch up.
    let mut state = None;
    for step in 0..=20u64 {
        let end = 10_000 + step as i64 * 10;
        let parts = (0..6)
            .map(|p| match p {
                2 | 5 => reading(p, 4_000, end),
                _ => reading(p, (5_000 + step as i64 * 200).min(end), end),
            })
            .collect();
        PillowsState::absorb(&mut state, poll(parts), t(step * 30));
    }
    let pillow = &state.unwrap().pillows[0];
    assert_eq!(pillow.status, PartitionStatus::Stop);
    assert!(
        pillow.verdicts.iter().any(|v| v
            .message
            .starts_with("stopped: process 2 makes no progress on its partitions (case-sql:2, case-sql:5)")),
        "{:?}",
        pillow.verdicts
    );

    // ETA: two partitions 2000 behind, consuming 20/s against 1/s produced → 2000/19 s.
    let mut state = None;
    for step in 0..=10u64 {
        let end = 10_000 + step as i64 * 30;
        let parts = (0..6)
            .map(|p| {
                let behind = if p < 2 { 2_000 + 19 * 30 * (10 - step as i64) } else { 0 };
                reading(p, end - behind, end)
            })
            .collect();
        PillowsState::absorb(&mut state, poll(parts), t(step * 30));
    }
    let pillow = &state.unwrap().pillows[0];
    match pillow.recovery {
        Recovery::Eta(s) => assert!((s - 2000.0 / 19.0).abs() < 1e-6, "{s}"),
        other => panic!("expected an ETA, got {other:?}"),
    }
}

#[test]
fn history_is_bounded() {
    let state = run(|_| false, 300);
    let p = &state.pillows[0].partitions[0];
    assert_eq!(p.sample_count(), settings().history);
    assert_eq!(state.pillows[0].lag_history.len(), settings().history);
}

fn hosts_with(programs: &[(&str, opsdeck_hosts::model::ProgramState, &str)]) -> opsdeck_hosts::model::HostsState {
    use opsdeck_hosts::model::{HostStatus, HostsState, Program};
    HostsState {
        hosts: vec![HostStatus {
            name: "pillow1".into(),
            reachable: true,
            programs: programs
                .iter()
                .map(|(name, state, description)| Program {
                    name: name.to_string(),
                    state: state.clone(),
                    pid: None,
                    uptime_secs: None,
                    description: description.to_string(),
                })
                .collect(),
            ..HostStatus::default()
        }],
    }
}

#[test]
fn a_process_killed_for_memory_is_named_with_its_state_reason_and_log() {
    use opsdeck_hosts::model::ProgramState::{Exited, Running};
    let state = run(|p| p == 1 || p == 4, 10);
    let pillow = &state.pillows[0];
    let hosts = hosts_with(&[
        ("case-0", Running, "pid 12, uptime 0:10:00"),
        ("pillows:case-1", Exited, "(killed: out of memory)"),
        ("case-2", Running, "pid 14, uptime 0:10:00"),
    ]);
    let v = verdicts_with_processes(pillow, Some(&hosts), |p| Some(format!("/var/log/{}.log", p.program)));
    assert_eq!(
        v[0].message,
        "process case-pillow-1 EXITED (killed: out of memory) on pillow1, 2 partition(s) not consumed → start it; \
         its log: /var/log/case-1.log"
    );
    assert_eq!(v[0].severity, Severity::Critical);
    assert!(
        !v.iter().any(|v| v.message.contains("backed up")),
        "a dead process is not backed up: {v:#?}"
    );
    // Supervisor's EXITED line carries when it exited; STARTING is on its way up, not down.
    let hosts = hosts_with(&[
        ("case-0", Running, ""),
        ("case-1", Exited, "Oct 14 03:12 AM"),
        ("case-2", opsdeck_hosts::model::ProgramState::Starting, ""),
    ]);
    let v = verdicts_with_processes(pillow, Some(&hosts), |_| None);
    assert!(v[0].message.starts_with(
        "process case-pillow-1 EXITED at Oct 14 03:12 AM on pillow1, 2 partition(s) not consumed → start it"
    ));
    assert_eq!(v.iter().filter(|v| v.message.starts_with("process ")).count(), 1);
    // Without the hosts source the pillow's own verdicts stand.
    assert_eq!(verdicts_with_processes(pillow, None, |_| None), pillow.verdicts);
}
