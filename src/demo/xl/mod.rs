//! Fleet-XL: a generated fleet at the size issue 14 measures (50 pillows × 64 partitions, 40 ES
//! nodes × 20,000 shards, 300 queues, 200 hosts × 8 disks, 10k audit entries, 100k log lines),
//! for `opsdeck demo --fleet xl` and the benchmarks. Each pane's poll number `step` is the same
//! update type its real poller sends, deterministic, and moves believably from one step to the next
//! (offsets grow at each partition's rate, some lag and catch up, a disk fills, queues back up and
//! drain), so history-based columns fill in. Nothing here is reachable from a config file: only the
//! demo hands these pollers to the console.

mod elasticsearch;
mod hosts;
mod layout;
mod pillows;
mod queues;
mod records;

pub use elasticsearch::elasticsearch;
pub use hosts::hosts;
pub use layout::{config, host_names, pillow_name};
pub use pillows::pillows;
pub use queues::{queue_name, queues};
pub use records::{audit, log_events};

use crate::model::Fleet;
use crate::model::fleet::SourceUpdate;
use crate::sources::PanePoller;
use opsdeck_core::pane::{Pane, PaneId, Poller};
use opsdeck_core::source_error::SourceError;
use opsdeck_elasticsearch::Elasticsearch;
use opsdeck_elasticsearch::model::EsAnswer;
use opsdeck_hosts::{Hosts, Logs};
use opsdeck_pillows::Pillows;
use opsdeck_queues::Queues;
use std::time::{Duration, SystemTime};

/// Seconds between two generated polls (the demo's refresh): rates are per second, so offsets and
/// depths move by rate × this per step.
pub const STEP_SECS: u64 = 2;

/// How big the generated fleet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub pillows: usize,
    pub partitions_per_pillow: usize,
    pub es_nodes: usize,
    pub es_shards: usize,
    pub queues: usize,
    pub hosts: usize,
    pub disks_per_host: usize,
    pub audit_entries: usize,
    pub log_lines: usize,
}

/// Issue 14's fleet-XL.
pub const XL: Size = Size {
    pillows: 50,
    partitions_per_pillow: 64,
    es_nodes: 40,
    es_shards: 20_000,
    queues: 300,
    hosts: 200,
    disks_per_host: 8,
    audit_entries: 10_000,
    log_lines: 100_000,
};

impl Size {
    /// The same fleet with `shards` shard copies in Elasticsearch (the 100k grid goal).
    pub const fn with_es_shards(self, shards: usize) -> Size {
        Size {
            es_shards: shards,
            ..self
        }
    }
}

/// Polls of history the benchmarks' states hold (and `pillows.history`, the samples kept).
pub const HISTORY: u64 = 120;

/// The wall-clock time of poll `step` in the benchmarks and tests (a fixed start, `STEP_SECS` apart).
pub fn time(step: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000 + step * STEP_SECS)
}

/// A deterministic pseudo-random number from a few seeds (splitmix64).
fn mix(seeds: &[u64]) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for s in seeds {
        x ^= s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
    }
    x
}

/// `mix` as a fraction in 0..1.
fn unit(seeds: &[u64]) -> f64 {
    (mix(seeds) >> 11) as f64 / (1u64 << 53) as f64
}

/// A triangle wave 0 → 1 → 0 over `period` steps, shifted by `phase`: fills then drains.
fn tide(step: u64, period: u64, phase: u64) -> f64 {
    let x = (step + phase) % period;
    let half = period / 2;
    if x < half {
        x as f64 / half as f64
    } else {
        (period - x) as f64 / half as f64
    }
}

/// The panes a generated poller polls, in registry order.
pub const POLLED: [PaneId; 4] = [Pillows::ID, Elasticsearch::ID, Queues::ID, Hosts::ID];

/// Fleet `size`'s polls as they reach the app: what each pane's poller sends for its poll `step`.
/// It keeps what a pane's poller keeps between its polls, so one `Polls` per sequence of polls.
#[derive(Debug, Clone)]
pub struct Polls {
    size: Size,
    /// The pillows' data as their poller folds it (`opsdeck_core::folding`): the app swaps it in.
    pillows: Option<std::sync::Arc<opsdeck_pillows::model::PillowsState>>,
}

impl Polls {
    pub fn new(size: Size) -> Polls {
        Polls { size, pillows: None }
    }

    /// Pane `pane`'s poll `step`, made at `at`; `None` for a pane the generator has no data for
    /// (Redis, PostgreSQL, RabbitMQ, logs).
    pub fn update(&mut self, pane: PaneId, step: u64, at: SystemTime) -> Option<SourceUpdate> {
        let size = &self.size;
        Some(match pane {
            p if p == Pillows::ID => {
                let poll = pillows(size, step, at);
                SourceUpdate::Pillows(Ok(opsdeck_core::folding::fold(&mut self.pillows, poll, at)))
            }
            p if p == Elasticsearch::ID => SourceUpdate::Elasticsearch(Ok(EsAnswer::of(elasticsearch(size, step)))),
            p if p == Queues::ID => SourceUpdate::Queues(Ok(queues(size, step))),
            p if p == Hosts::ID => SourceUpdate::Hosts(Ok(hosts(size, step))),
            _ => return None,
        })
    }
}

/// A fleet that has seen `steps` polls of every generated pane (at [`time`]), with the audit
/// entries and the log lines, and the polls that go on from there (their next is poll `steps`):
/// the state the benchmarks and the snapshot start from.
pub fn history(size: &Size, steps: u64) -> (Fleet, Polls) {
    let mut fleet = Fleet::default();
    for pane in POLLED {
        fleet.enable(pane);
    }
    fleet.enable(Logs::ID);
    let mut polls = Polls::new(*size);
    for step in 0..steps {
        for pane in POLLED {
            if let Some(u) = polls.update(pane, step, time(step)) {
                fleet.apply(time(step), u);
            }
        }
    }
    for e in log_events(size, time(steps)) {
        fleet.apply(time(steps), SourceUpdate::Logs(e));
    }
    fleet.audit = audit(size);
    (fleet, polls)
}

/// [`history`]'s fleet.
pub fn fleet(size: &Size, steps: u64) -> Fleet {
    history(size, steps).0
}

/// A generated fleet in place of connected clients (`opsdeck demo --fleet xl`): the console
/// starts it on its fleet, which then knows some history, the audit entries and the buffered log
/// lines before the first poll, and runs the pollers it returns.
pub struct Generated {
    size: Size,
    /// How often the pollers poll (the console's refresh).
    every: Duration,
}
/// Why an action on a generated row is not run.
pub const NOTHING_BEHIND: &str =
    "not run: this is the generated XL demo fleet, there is no peer behind its rows to act on (try `opsdeck demo`)";

/// Polls of history the demo starts with, so trends and sparklines are drawn from the first frame.
const PRELOAD: u64 = 20;

impl Generated {
    /// Fleet `size`, polled `every` so often.
    pub fn new(size: Size, every: Duration) -> Generated {
        Generated { size, every }
    }

    /// Folds `PRELOAD` polls of history ending now into `fleet`, one at a time (a poll is dropped
    /// once applied: holding them all would cost twenty fleets), with the audit entries and the log
    /// lines; returns the pollers that go on from there.
    pub fn start(self, fleet: &mut Fleet) -> Vec<Box<dyn PanePoller>> {
        let now = SystemTime::now();
        let mut pollers = Vec::new();
        for pane in POLLED {
            // Each pane's history and its poller are one sequence of polls.
            let mut polls = Polls::new(self.size);
            for step in 0..PRELOAD {
                let at = now - Duration::from_secs((PRELOAD - step) * STEP_SECS);
                if let Some(update) = polls.update(pane, step, at) {
                    fleet.apply(at, update);
                }
            }
            pollers.push(Box::new(GeneratedPoller {
                polls,
                pane,
                every: self.every,
                started: now,
                step: PRELOAD - 1,
            }) as Box<dyn PanePoller>);
        }
        for e in log_events(&self.size, now) {
            fleet.apply(now, SourceUpdate::Logs(e));
        }
        fleet.audit = audit(&self.size);
        pollers
    }
}

/// One pane's generated poller. Polls follow the wall clock, a step every `STEP_SECS` (rates are
/// per step): at any refresh, offsets and depths move as fast as they would in the fleet.
struct GeneratedPoller {
    polls: Polls,
    pane: PaneId,
    every: Duration,
    /// When the preloaded history ends (step `PRELOAD`).
    started: SystemTime,
    /// The last step polled.
    step: u64,
}

impl Poller<SourceUpdate> for GeneratedPoller {
    fn interval(&self) -> Duration {
        self.every
    }
    fn timeout(&self) -> Duration {
        Duration::from_secs(10)
    }
    fn poll(&mut self) -> futures::future::BoxFuture<'_, SourceUpdate> {
        let now = SystemTime::now();
        let elapsed = now.duration_since(self.started).unwrap_or_default().as_secs();
        self.step = (PRELOAD + elapsed / STEP_SECS).max(self.step + 1);
        let update = self
            .polls
            .update(self.pane, self.step, now)
            .expect("generated panes only");
        Box::pin(std::future::ready(update))
    }
}

impl PanePoller for GeneratedPoller {
    fn pane(&self) -> PaneId {
        self.pane
    }
    fn failed(&self, error: SourceError) -> SourceUpdate {
        SourceUpdate::failed(self.pane, error).expect("a polled pane")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_poller_polls_at_the_refresh_and_steps_with_the_wall_clock() {
        let every = Duration::from_secs(5);
        let mut pollers = Generated::new(XL.with_es_shards(100), every).start(&mut Fleet::default());
        let poller = pollers
            .iter_mut()
            .find(|p| p.pane() == Queues::ID)
            .expect("a queues poller");
        assert_eq!(poller.interval(), every);
        let mut generated = GeneratedPoller {
            polls: Polls::new(XL),
            pane: Queues::ID,
            every,
            started: SystemTime::now() - Duration::from_secs(5 * STEP_SECS + 1),
            step: PRELOAD - 1,
        };
        drop(generated.poll());
        assert_eq!(generated.step, PRELOAD + 5, "five steps of the fleet's time went by");
        drop(generated.poll());
        assert_eq!(generated.step, PRELOAD + 6, "a poll sooner than a step still moves on");
    }
}
