//! What a pane's part of the built-in demo fleet works with (`opsdeck demo`): a private sandbox
//! directory, a signal that stops its simulations, the config it fills in (its own section, and
//! another pane's where they meet: a demo host for the pillows' processes), and whatever must live as
//! long as the demo.

use crate::pane::{Pane, PaneConfigs, PaneId};
use std::any::Any;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub struct DemoCtx<'a> {
    /// A private scratch directory (sandbox hosts, logs).
    pub sandbox: &'a Path,
    /// Stops background tasks when the demo ends.
    pub cancel: CancellationToken,
    /// Every pane's config section: `demo.config.of_mut::<Hosts>()`.
    pub config: &'a mut dyn PaneConfigs,
    /// What its clients use in place of a real peer (the pillows' checkpoint table in memory).
    pub stand_ins: &'a mut StandIns,
    /// Servers, mock clusters, temp dirs: dropped when the demo ends.
    pub keep_alive: &'a mut Vec<Box<dyn Any + Send>>,
    /// The storyline's clock, shared by every part: when each incident begins.
    pub story: StoryClock,
}

/// When each incident of the demo's storyline begins, in story time (after the runbooks). A person
/// opening the demo sees the first within a minute and all four within ten; each stays fixed once
/// fixed (no part breaks the same thing again on a timer).
pub mod beats {
    use std::time::Duration;
    /// A pillow process is OOM-killed: its partitions fall behind until it is restarted.
    pub const PILLOW_OOM: Duration = Duration::from_secs(40);
    /// An ES data node's disk crosses the high watermark: shards stop allocating there.
    pub const ES_HIGH_WATERMARK: Duration = Duration::from_secs(150);
    /// A queue backs up behind failing consumers; dead letters arrive in its DLQ.
    pub const QUEUE_BACKLOG: Duration = Duration::from_secs(300);
    /// Crash dumps pile up on a host until removed.
    pub const CRASH_DUMPS: Duration = Duration::from_secs(450);
}

/// The environment variable that runs the storyline faster (`OPSDECK_DEMO_SPEED=10`: ten story
/// seconds a second), for a quick look or a test of the real binary. Not a config key: it changes
/// the demo's story, nothing a real fleet has.
pub const SPEED_VAR: &str = "OPSDECK_DEMO_SPEED";

/// The storyline's clock: wall time since the demo started times a speed, plus whatever a test
/// skipped ahead. Clones share it.
#[derive(Debug, Clone)]
pub struct StoryClock(Arc<ClockInner>);

#[derive(Debug)]
struct ClockInner {
    started: Instant,
    speed: f64,
    skipped_ns: AtomicU64,
}

impl Default for StoryClock {
    fn default() -> Self {
        Self::new(1.0)
    }
}

impl StoryClock {
    /// A clock starting now, running `speed` story seconds a wall second (at least 1).
    pub fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() { speed.max(1.0) } else { 1.0 };
        StoryClock(Arc::new(ClockInner {
            started: Instant::now(),
            speed,
            skipped_ns: AtomicU64::new(0),
        }))
    }

    /// A clock at the speed [`SPEED_VAR`] asks for; 1 when unset, an error when not a number ≥ 1.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(SPEED_VAR) {
            Err(_) => Ok(Self::default()),
            Ok(v) => match v.trim().parse::<f64>() {
                Ok(speed) if speed.is_finite() && speed >= 1.0 => Ok(Self::new(speed)),
                _ => Err(format!("{SPEED_VAR}={v:?}: expected a number of at least 1")),
            },
        }
    }

    /// Story time since the demo started.
    pub fn now(&self) -> Duration {
        self.0.started.elapsed().mul_f64(self.0.speed) + Duration::from_nanos(self.0.skipped_ns.load(Ordering::Relaxed))
    }

    /// Whether the story has reached `beat`.
    pub fn reached(&self, beat: Duration) -> bool {
        self.now() >= beat
    }

    /// Moves the story ahead by `by` (tests: reach a beat without waiting for it).
    pub fn skip(&self, by: Duration) {
        let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.0.skipped_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Moves the story ahead to `beat`, if it is not there yet.
    pub fn skip_to(&self, beat: Duration) {
        if let Some(left) = beat.checked_sub(self.now()) {
            self.skip(left);
        }
    }
}

/// What the demo hands a pane's clients in place of a real peer, by pane (the pillows' checkpoint
/// table in memory). Only the demo makes them, in code: no config file can name one.
#[derive(Clone, Default)]
pub struct StandIns(Vec<(PaneId, Arc<dyn Any + Send + Sync>)>);

impl StandIns {
    /// Pane `P`'s stand-in is `value` (replacing one of the same type).
    pub fn insert<P: Pane, T: Any + Send + Sync>(&mut self, value: T) {
        self.0.retain(|(pane, v)| *pane != P::ID || !v.is::<T>());
        self.0.push((P::ID, Arc::new(value)));
    }

    /// Pane `P`'s stand-in of type `T`, if the demo made one.
    pub fn get<P: Pane, T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0
            .iter()
            .filter(|(pane, _)| *pane == P::ID)
            .find_map(|(_, v)| v.downcast_ref())
    }
}

impl fmt::Debug for StandIns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(pane, _)| pane)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_story_clock_runs_at_its_speed_and_skips_ahead() {
        let fast = StoryClock::new(50.0);
        std::thread::sleep(Duration::from_millis(40));
        assert!(fast.now() >= Duration::from_secs(2), "{:?}", fast.now());
        let clock = StoryClock::default();
        assert!(!clock.reached(beats::PILLOW_OOM));
        let shared = clock.clone();
        shared.skip_to(beats::ES_HIGH_WATERMARK);
        // Reached at once, not a fraction of a millisecond later.
        assert!(clock.reached(beats::PILLOW_OOM) && clock.reached(beats::ES_HIGH_WATERMARK));
        assert!(!clock.reached(beats::QUEUE_BACKLOG));
        clock.skip_to(beats::PILLOW_OOM);
        assert!(
            clock.now() < beats::ES_HIGH_WATERMARK + Duration::from_secs(5),
            "never back"
        );
        assert_eq!(StoryClock::new(f64::NAN).0.speed, 1.0);
    }
}
