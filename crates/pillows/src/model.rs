//! Model of pillows: process groups consuming Kafka topics, their partitions, checkpoints and
//! bounded offset histories, plus the verdicts the analysis drew at the last poll.
//!
//! A pillow keeps its progress either in a Kafka consumer group (committed offsets) or, as CommCare HQ
//! does, in the `pillowtop_kafkacheckpoint` table (the stored offset is the next one to read), so
//! `lag = log_end − committed` in both cases.

use opsdeck_core::alert::Severity;
use opsdeck_core::history::History;
use opsdeck_core::time::serialize_opt_rfc3339;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where a pillow keeps its checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointKind {
    /// Rows of `pillowtop_kafkacheckpoint` (CommCare HQ), read with a real Postgres client.
    Postgres,
    /// Committed offsets of a Kafka consumer group, read without joining the group.
    KafkaGroup,
}

impl CheckpointKind {
    pub fn label(self) -> &'static str {
        match self {
            CheckpointKind::Postgres => "postgres",
            CheckpointKind::KafkaGroup => "kafka group",
        }
    }
}

/// One supervisor program of a pillow (process `index` of `N`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessRef {
    pub index: usize,
    /// Host from the `[ssh]` section, or `local`.
    pub host: String,
    /// Supervisor program name, e.g. `commcare-hq-production-pillowtop-case-pillow-3`.
    pub program: String,
}

/// How partitions map to processes (CommCare HQ: process n of N owns `sorted(partitions)[n::N]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub processes: usize,
    /// Process 0 only runs migrations; process k≥1 owns `sorted[(k−1)::(N−1)]`.
    pub dedicated_migration_process: bool,
}

impl Assignment {
    /// The process owning the partition at `index` in the sorted partition list.
    pub fn owner(self, index: usize) -> Option<usize> {
        let workers = self
            .processes
            .saturating_sub(usize::from(self.dedicated_migration_process));
        if workers == 0 {
            return None;
        }
        Some(index % workers + usize::from(self.dedicated_migration_process))
    }
}

/// Thresholds the analysis applies; copied from the config into each poll so the model stays pure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalSettings {
    /// A partition is lagging above this many changes (Burrow's allowed-lag).
    pub allowed_lag: i64,
    pub lag_warning: i64,
    pub lag_critical: i64,
    /// Time lag thresholds, seconds.
    pub time_lag_warning: f64,
    pub time_lag_critical: f64,
    /// How long a checkpoint may stay put before it counts as stopped/stalled: checkpoints are written
    /// only every N changes or 5 minutes (HQ's MAX_CHECKPOINT_DELAY).
    pub checkpoint_grace: Duration,
    /// The window rates are computed over.
    pub rate_window: Duration,
    /// Samples kept per partition.
    pub history: usize,
    /// Share of partitions that makes "all partitions lagging" (the runbook's first question).
    pub all_fraction: f64,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            allowed_lag: 1000,
            lag_warning: 2500,
            lag_critical: 5000,
            time_lag_warning: 600.0,
            time_lag_critical: 3600.0,
            checkpoint_grace: Duration::from_secs(330),
            rate_window: Duration::from_secs(600),
            history: 120,
            all_fraction: 0.8,
        }
    }
}

/// One partition as read in one poll.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionReading {
    pub topic: String,
    pub partition: i32,
    /// Checkpoint / committed offset (next to read); `None` when the group never committed.
    pub committed: Option<i64>,
    /// First retained offset (low watermark); `None` when Kafka did not answer for it.
    pub log_start: Option<i64>,
    /// Log end offset (high watermark).
    pub log_end: Option<i64>,
    /// When the checkpoint row was last written (Postgres only).
    pub last_modified: Option<SystemTime>,
    /// Publish time of the last checkpointed change (Postgres only).
    pub doc_modification_time: Option<SystemTime>,
}

/// One pillow as read in one poll: its partitions, or why they could not be read.
#[derive(Debug, Clone)]
pub struct PillowReading {
    pub name: String,
    pub kind: CheckpointKind,
    /// Checkpoint id (Postgres) or consumer group (Kafka).
    pub checkpoint: String,
    pub assignment: Assignment,
    pub processes: Vec<ProcessRef>,
    pub result: Result<Vec<PartitionReading>, String>,
}

/// What one poll of the pillows source returns.
#[derive(Debug, Clone)]
pub struct PillowsPoll {
    pub pillows: Vec<PillowReading>,
    pub settings: EvalSettings,
}

/// One sample of a partition's history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: SystemTime,
    pub committed: Option<i64>,
    pub log_start: Option<i64>,
    pub log_end: Option<i64>,
}

impl Sample {
    pub fn lag(&self) -> Option<i64> {
        Some((self.log_end? - self.committed?).max(0))
    }
}

/// A [`Sample`] as the history keeps it: 24 bytes, not 64. The time keeps milliseconds, finer than
/// any poll interval. Where the log starts is kept apart, once per change
/// ([`Partition::log_starts`]): retention moves it a segment at a time, not at every poll. At fleet
/// scale (3,200 partitions × 120 samples) that is 15 MB less than whole samples, 3 MB less than
/// the four offsets each.
#[derive(Debug, Clone, Copy)]
struct PackedSample {
    at_ms: i64,
    committed: i64,
    log_end: i64,
}

/// An offset absent from a packed sample (Kafka offsets are never negative this far).
const NO_OFFSET: i64 = i64::MIN;

fn pack_offset(o: Option<i64>) -> i64 {
    o.unwrap_or(NO_OFFSET)
}

fn unpack_offset(o: i64) -> Option<i64> {
    (o != NO_OFFSET).then_some(o)
}

/// A partition's status, after Burrow's evaluator with checkpoint-cadence grace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PartitionStatus {
    /// Not enough data (first poll, no checkpoint, Kafka did not answer).
    #[default]
    Unknown,
    Ok,
    /// Lagging and consuming no faster than production.
    Warn,
    /// Checkpoint rewritten but its offset does not move.
    Stall,
    /// Checkpoint unchanged for longer than the window/grace while changes arrive.
    Stop,
    /// The checkpoint went backwards and has not regained its old offset.
    Rewind,
    /// The checkpoint is below the first retained offset: changes were lost.
    Lost,
}

impl PartitionStatus {
    pub fn label(self) -> &'static str {
        match self {
            PartitionStatus::Unknown => "?",
            PartitionStatus::Ok => "OK",
            PartitionStatus::Warn => "WARN",
            PartitionStatus::Stall => "STALL",
            PartitionStatus::Stop => "STOP",
            PartitionStatus::Rewind => "REWIND",
            PartitionStatus::Lost => "LOST",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            PartitionStatus::Unknown | PartitionStatus::Ok => Severity::Ok,
            PartitionStatus::Warn | PartitionStatus::Rewind => Severity::Warning,
            PartitionStatus::Stall | PartitionStatus::Stop | PartitionStatus::Lost => Severity::Critical,
        }
    }
}

/// A partition of a pillow: latest values, derived figures and its bounded history.
#[derive(Debug, Clone, Serialize)]
pub struct Partition {
    pub topic: String,
    pub partition: i32,
    pub committed: Option<i64>,
    pub log_start: Option<i64>,
    pub log_end: Option<i64>,
    pub lag: Option<i64>,
    pub status: PartitionStatus,
    /// Process owning the partition (HQ mapping), if the pillow has processes.
    pub owner: Option<usize>,
    #[serde(serialize_with = "serialize_opt_rfc3339")]
    pub last_modified: Option<SystemTime>,
    #[serde(serialize_with = "serialize_opt_rfc3339")]
    pub doc_modification_time: Option<SystemTime>,
    /// Seconds since the checkpoint last moved (or was written, for Postgres rows).
    pub checkpoint_age_seconds: Option<f64>,
    /// Changes per second, over the rate window.
    pub consume_rate: Option<f64>,
    pub produce_rate: Option<f64>,
    /// How far behind in time the checkpoint is, seconds.
    pub time_lag_seconds: Option<f64>,
    /// Seconds to catch up at current rates; `None` when not recovering or not lagging.
    pub eta_seconds: Option<f64>,
    /// The verdict for this partition in words ("" when OK).
    pub verdict: String,
    #[serde(skip)]
    history: History<PackedSample>,
    /// Where the log started from a sample on (the sample's number, the offset or [`NO_OFFSET`]),
    /// oldest first: one entry per change, none from before the one in force at the oldest sample
    /// kept. Shared between clones (the poller folds a copy of the state every poll).
    #[serde(skip)]
    log_starts: Arc<[(u64, i64)]>,
    /// Samples ever recorded: the next one's number.
    #[serde(skip)]
    recorded: u64,
}

impl Partition {
    pub fn new(topic: &str, partition: i32) -> Self {
        Self {
            topic: topic.to_string(),
            partition,
            committed: None,
            log_start: None,
            log_end: None,
            lag: None,
            status: PartitionStatus::Unknown,
            owner: None,
            last_modified: None,
            doc_modification_time: None,
            checkpoint_age_seconds: None,
            consume_rate: None,
            produce_rate: None,
            time_lag_seconds: None,
            eta_seconds: None,
            verdict: String::new(),
            history: History::new(),
            log_starts: Arc::new([]),
            recorded: 0,
        }
    }

    /// `topic:partition`, as the runbook writes it.
    pub fn key(&self) -> String {
        format!("{}:{}", self.topic, self.partition)
    }

    /// The samples kept, oldest first, built on each call (each sample joined with where the log
    /// started then): read them once per use.
    pub fn samples(&self) -> impl DoubleEndedIterator<Item = Sample> + ExactSizeIterator + use<> {
        let first = self.recorded - self.history.len() as u64;
        let mut starts = self.log_starts.iter().peekable();
        let mut start = NO_OFFSET;
        let mut samples = Vec::with_capacity(self.history.len());
        for (n, p) in (first..).zip(self.history.iter()) {
            while let Some(&&(from, s)) = starts.peek()
                && from <= n
            {
                start = s;
                starts.next();
            }
            samples.push(Sample {
                at: opsdeck_core::time::from_unix_millis(p.at_ms),
                committed: unpack_offset(p.committed),
                log_start: unpack_offset(start),
                log_end: unpack_offset(p.log_end),
            });
        }
        samples.into_iter()
    }

    pub fn sample_count(&self) -> usize {
        self.history.len()
    }

    /// Adds the newest sample, keeping at most `cap`.
    pub fn record(&mut self, sample: Sample, cap: usize) {
        let n = self.recorded;
        self.recorded += 1;
        self.history.push_bounded(
            PackedSample {
                at_ms: opsdeck_core::time::unix_millis(sample.at),
                committed: pack_offset(sample.committed),
                log_end: pack_offset(sample.log_end),
            },
            cap,
        );
        let start = pack_offset(sample.log_start);
        let oldest = self.recorded - self.history.len() as u64;
        let changed = self.log_starts.last().is_none_or(|&(_, s)| s != start);
        let outdated = self.log_starts.get(1).is_some_and(|&(from, _)| from <= oldest);
        if changed || outdated {
            let mut starts = self.log_starts.to_vec();
            if changed {
                starts.push((n, start));
            }
            // The change in force at the oldest sample kept is the last one at or before it.
            let in_force = starts.iter().rposition(|&(from, _)| from <= oldest).unwrap_or(0);
            starts.drain(..in_force);
            self.log_starts = starts.into();
        }
    }
}

/// A verdict in words, with how much it matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub severity: Severity,
    pub message: String,
    /// The processes whose partitions it is about, when it blames them ("backed up → restart it"):
    /// once supervisor says those processes are not running, the process verdict replaces it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<usize>,
}

impl Verdict {
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Self {
            severity,
            message: message.into(),
            processes: Vec::new(),
        }
    }
}

/// Whether a lagging pillow catches up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "seconds")]
pub enum Recovery {
    /// No lag above the allowed lag.
    CaughtUp,
    /// Catching up; seconds to recovery.
    Eta(f64),
    /// Consumption is slower than production.
    NotRecovering,
    /// Not enough history to tell.
    Unknown,
}

/// A pillow and everything the analysis concluded about it.
#[derive(Debug, Clone, Serialize)]
pub struct Pillow {
    pub name: String,
    pub kind: CheckpointKind,
    pub checkpoint: String,
    /// Why the last poll of this pillow failed (shown in the pane over the last good data).
    pub error: Option<String>,
    pub assignment: Assignment,
    pub processes: Vec<ProcessRef>,
    pub status: PartitionStatus,
    pub total_lag: i64,
    pub lagging_partitions: usize,
    /// `topic:partition` with the most lag.
    pub worst_partition: Option<String>,
    pub consume_rate: Option<f64>,
    pub produce_rate: Option<f64>,
    pub recovery: Recovery,
    pub verdicts: Vec<Verdict>,
    pub partitions: Vec<Partition>,
    /// Total lag per poll, for the sparkline.
    #[serde(skip)]
    pub lag_history: History<(SystemTime, i64)>,
}

impl Pillow {
    pub fn new(reading: &PillowReading) -> Self {
        Self {
            name: reading.name.clone(),
            kind: reading.kind,
            checkpoint: reading.checkpoint.clone(),
            error: None,
            assignment: reading.assignment,
            processes: reading.processes.clone(),
            status: PartitionStatus::Unknown,
            total_lag: 0,
            lagging_partitions: 0,
            worst_partition: None,
            consume_rate: None,
            produce_rate: None,
            recovery: Recovery::Unknown,
            verdicts: Vec::new(),
            partitions: Vec::new(),
            lag_history: History::new(),
        }
    }

    pub fn partition(&self, topic: &str, partition: i32) -> Option<&Partition> {
        self.partitions
            .iter()
            .find(|p| p.topic == topic && p.partition == partition)
    }

    /// Partitions owned by process `index`.
    pub fn partitions_of(&self, index: usize) -> impl Iterator<Item = &Partition> {
        self.partitions.iter().filter(move |p| p.owner == Some(index))
    }
}

/// The pillows source's state: one entry per configured pillow, in config order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PillowsState {
    pub pillows: Vec<Pillow>,
    #[serde(skip)]
    pub settings: Option<EvalSettings>,
}

impl PillowsState {
    pub fn pillow(&self, name: &str) -> Option<&Pillow> {
        self.pillows.iter().find(|p| p.name == name)
    }
}

/// Folds one poll's partitions into the pillow, sorted as HQ sorts them (topic, then partition) so the
/// process mapping is HQ's.
pub(crate) fn merge_readings(pillow: &mut Pillow, mut readings: Vec<PartitionReading>, at: SystemTime, cap: usize) {
    readings.sort_by(|a, b| a.topic.cmp(&b.topic).then(a.partition.cmp(&b.partition)));
    let mut old = std::mem::take(&mut pillow.partitions);
    old.sort_by(|a, b| a.topic.cmp(&b.topic).then(a.partition.cmp(&b.partition)));
    let mut old = old.into_iter().peekable();
    let mut merged = Vec::with_capacity(readings.len());
    for (index, r) in readings.into_iter().enumerate() {
        // Both lists are sorted: skip old partitions that are gone, reuse the matching one.
        while old
            .peek()
            .is_some_and(|p| (p.topic.as_str(), p.partition) < (r.topic.as_str(), r.partition))
        {
            old.next();
        }
        let mut p = match old.peek() {
            Some(p) if p.topic == r.topic && p.partition == r.partition => {
                old.next().unwrap_or_else(|| Partition::new(&r.topic, r.partition))
            }
            _ => Partition::new(&r.topic, r.partition),
        };
        p.owner = pillow.assignment.owner(index);
        p.committed = r.committed;
        p.log_start = r.log_start;
        p.log_end = r.log_end;
        p.last_modified = r.last_modified;
        p.doc_modification_time = r.doc_modification_time;
        p.lag = match (r.log_end, r.committed) {
            (Some(end), Some(c)) => Some((end - c).max(0)),
            // A partition nobody ever committed: everything retained is still to do.
            (Some(end), None) => Some((end - r.log_start.unwrap_or(0)).max(0)),
            _ => None,
        };
        p.record(
            Sample {
                at,
                committed: r.committed,
                log_start: r.log_start,
                log_end: r.log_end,
            },
            cap,
        );
        merged.push(p);
    }
    pillow.partitions = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_sample_reads_back_as_it_was_to_the_millisecond() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_000_000_123);
        let samples = [
            Sample {
                at,
                committed: Some(0),
                log_start: None,
                log_end: Some(7_000_000_001),
            },
            Sample {
                at,
                committed: None,
                log_start: Some(-1),
                log_end: None,
            },
        ];
        let mut p = Partition::new("case-sql", 0);
        for s in samples {
            p.record(s, 10);
        }
        assert_eq!(p.samples().collect::<Vec<_>>(), samples);
        assert_eq!(std::mem::size_of::<PackedSample>(), 24);
    }

    /// Where the log starts changes now and then; each sample reads back the start it was taken
    /// with, whatever the clock says (every sample here at the same instant), and only the changes
    /// the kept samples need are kept.
    #[test]
    fn each_sample_reads_back_where_the_log_started_when_it_was_taken() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let start_of = |i: i64| match i {
            0..=9 => Some(100),
            10 => None,
            11..=24 => Some(150),
            _ => Some(150 + (i - 24) / 3 * 10),
        };
        let cap = 8;
        let mut p = Partition::new("case-sql", 0);
        for i in 0..60 {
            p.record(
                Sample {
                    at,
                    committed: Some(1_000 + i),
                    log_start: start_of(i),
                    log_end: Some(2_000 + i),
                },
                cap,
            );
            let kept: Vec<Sample> = p.samples().collect();
            let first = (i + 1 - kept.len() as i64).max(0);
            let want: Vec<Option<i64>> = (first..=i).map(start_of).collect();
            assert_eq!(
                kept.iter().map(|s| s.log_start).collect::<Vec<_>>(),
                want,
                "after sample {i}"
            );
            assert_eq!(kept.last().unwrap().committed, Some(1_000 + i));
            assert_eq!(kept.len(), (i as usize + 1).min(cap));
            assert!(
                p.log_starts.len() <= cap,
                "{} changes kept after sample {i}",
                p.log_starts.len()
            );
        }
        // The reverse order reads the same samples.
        let forward: Vec<Sample> = p.samples().collect();
        let mut backward: Vec<Sample> = p.samples().rev().collect();
        backward.reverse();
        assert_eq!(forward, backward);
    }

    #[test]
    fn hq_process_mapping_matches_hq_test_vectors() {
        // corehq/apps/change_feed/tests/test_kafka_change_feed.py, 3 processes, partitions 0..5.
        let plain = Assignment {
            processes: 3,
            dedicated_migration_process: false,
        };
        let owned: Vec<usize> = (0..6).filter(|i| plain.owner(*i) == Some(0)).collect();
        assert_eq!(owned, vec![0, 3]);
        let dedicated = Assignment {
            processes: 3,
            dedicated_migration_process: true,
        };
        assert_eq!((0..6).filter(|i| dedicated.owner(*i) == Some(0)).count(), 0);
        let owned: Vec<usize> = (0..6).filter(|i| dedicated.owner(*i) == Some(2)).collect();
        assert_eq!(owned, vec![1, 3, 5]);
    }
}
