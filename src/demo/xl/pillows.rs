//! The pillows' polls: Kafka offsets per partition and their checkpoints.

use super::layout::{PILLOW_KINDS, PILLOW_PROCESSES, pillow_host, pillow_name, program};
use super::{HISTORY, STEP_SECS, Size, tide, unit};
use opsdeck_pillows::model::{Assignment, CheckpointKind, PartitionReading, PillowReading, PillowsPoll, ProcessRef};
use std::time::{Duration, SystemTime};

/// The pillows' poll `step`: every partition's log end grows at its own rate (20–400 msg/s); most
/// checkpoints follow within a second or two, a few partitions of some pillows fall thousands
/// behind and catch up, and one pillow's process 3 is dead for a while (its partitions stall).
pub fn pillows(size: &Size, step: u64, at: SystemTime) -> PillowsPoll {
    let settings = opsdeck_pillows::config::PillowsConfig {
        history: HISTORY as usize,
        ..Default::default()
    }
    .settings();
    let pillows = (0..size.pillows)
        .map(|i| {
            let name = pillow_name(i);
            let (_, topic) = PILLOW_KINDS[i % PILLOW_KINDS.len()];
            let host = pillow_host(size, i);
            let assignment = Assignment {
                processes: PILLOW_PROCESSES,
                dedicated_migration_process: false,
            };
            let partitions = (0..size.partitions_per_pillow)
                .map(|p| partition(i, p, topic, size.partitions_per_pillow, (step, at), assignment))
                .collect();
            PillowReading {
                kind: CheckpointKind::Postgres,
                checkpoint: format!("{name}-checkpoint"),
                assignment,
                processes: (0..PILLOW_PROCESSES)
                    .map(|n| ProcessRef {
                        index: n,
                        host: host.clone(),
                        program: program(&name, n),
                    })
                    .collect(),
                result: Ok(partitions),
                name,
            }
        })
        .collect();
    PillowsPoll { pillows, settings }
}

/// The step pillow `pillow`'s process `n` died at, while it is down at `step` (one process of one
/// pillow is OOM-killed for 90 of every 300 steps, then restarted).
pub(super) fn down_since(pillow: usize, n: usize, step: u64) -> Option<u64> {
    let cycle = step % 300;
    (pillow == 3 && n == 3 && (150..240).contains(&cycle)).then(|| step - (cycle - 150))
}

/// Topics per pillow: the partitions are split over a topic and its high-priority twin.
const TOPICS: usize = 2;

fn partition(
    pillow: usize,
    p: usize,
    topic: &str,
    count: usize,
    (step, at): (u64, SystemTime),
    assignment: Assignment,
) -> PartitionReading {
    let seed = [pillow as u64, p as u64];
    let rate = 20.0 + 380.0 * unit(&seed);
    let base = 2_000_000 + (unit(&[seed[0], seed[1], 1]) * 80_000_000.0) as i64;
    let end_at = |s: u64| base + (rate * (s * STEP_SECS) as f64) as i64;
    let end = end_at(step);
    let stalled = down_since(pillow, assignment.owner(p).unwrap_or(0), step);
    let committed = match stalled {
        // Stalled where the process died: the lag grows at the partition's whole rate.
        Some(since) => end_at(since),
        // Behind and catching up: thousands of messages at the peak.
        None if pillow % 17 == 2 && p % 8 == 5 => end - (rate * 40.0 * tide(step, 200, (p as u64) * 13)) as i64,
        None => end - (rate * (0.5 + 1.5 * unit(&[seed[0], seed[1], step]))) as i64,
    };
    let per_topic = (count / TOPICS).max(1);
    PartitionReading {
        topic: if p < per_topic {
            topic.to_string()
        } else {
            format!("{topic}-high-priority")
        },
        partition: (p % per_topic) as i32,
        committed: Some(committed),
        log_start: Some(base / 4),
        log_end: Some(end),
        last_modified: Some(at - Duration::from_secs((step - stalled.unwrap_or(step)) * STEP_SECS)),
        doc_modification_time: None,
    }
}
