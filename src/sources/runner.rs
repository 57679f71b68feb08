//! Runs pollers: on their interval, each poll bounded by its timeout, with backoff while failing.

use super::PanePoller;
use crate::model::fleet::SourceUpdate;
use crate::supervise::{self, INTERNAL_ERROR};
use opsdeck_core::pane::PaneId;
use opsdeck_core::source_error::{ErrorKind, SourceError};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What pollers send: when the poll ended and what it found.
#[derive(Debug)]
pub struct Polled {
    pub at: SystemTime,
    pub update: SourceUpdate,
}

/// The error update for `pane` (a timeout, or a source that could not be set up); `None` for a
/// pane without pollers of its own.
pub fn failed(pane: PaneId, error: SourceError) -> Option<SourceUpdate> {
    SourceUpdate::failed(pane, error)
}

/// One poll, bounded by the poller's timeout and supervised: a panic in it is logged and becomes
/// the source's error ([`INTERNAL_ERROR`]). An error's text (often the far side's own words) is
/// made safe to show.
pub async fn poll_once(poller: &mut dyn PanePoller) -> SourceUpdate {
    let limit = poller.timeout();
    let kind = poller.pane();
    // `poll()` itself is called inside the supervised task: a poller may panic before its future.
    let poll = async { tokio::time::timeout(limit, poller.poll()).await };
    let update = match supervise::catch(kind.name(), poll).await {
        Ok(Ok(update)) => update,
        Ok(Err(_)) => poller.failed(SourceError::timeout(format!(
            "no answer within {}",
            humantime::format_duration(limit)
        ))),
        Err(supervise::Panicked) => poller.failed(SourceError::internal(INTERNAL_ERROR)),
    };
    update.cleaned()
}

/// Spawns one task per poller. `refresh` makes every poller poll now; `cancel` stops them all.
/// Polls start on a shared grid ([`next_start`]), so pollers of one interval poll together.
pub fn spawn_pollers(
    pollers: Vec<Box<dyn PanePoller>>,
    tx: mpsc::Sender<Polled>,
    refresh: std::sync::Arc<tokio::sync::Notify>,
    cancel: CancellationToken,
) {
    let epoch = tokio::time::Instant::now();
    for poller in pollers {
        let mut poller = panic_injected(poller);
        let tx = tx.clone();
        let refresh = refresh.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let mut failures: u32 = 0;
            loop {
                let update = tokio::select! {
                    _ = cancel.cancelled() => return,
                    u = poll_once(poller.as_mut()) => u,
                };
                let failed = update.error_kind();
                failures = if failed.is_some() {
                    failures.saturating_add(1)
                } else {
                    0
                };
                let polled = Polled {
                    at: SystemTime::now(),
                    update,
                };
                if tx.send(polled).await.is_err() {
                    return;
                }
                let wait = retry_after(poller.interval(), failed, failures);
                let start = next_start(epoch, tokio::time::Instant::now(), wait);
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep_until(start) => {}
                    _ = refresh.notified() => {}
                }
            }
        });
    }
}

/// Debug builds with `OPSDECK_DEBUG_PANIC=poller` (end-to-end tests of supervision): the poller
/// panics in its first poll. Otherwise, and always in release builds, the poller as it is.
fn panic_injected(poller: Box<dyn PanePoller>) -> Box<dyn PanePoller> {
    #[cfg(debug_assertions)]
    if std::env::var("OPSDECK_DEBUG_PANIC").is_ok_and(|v| v == "poller") {
        return Box::new(PanicsFirst {
            inner: poller,
            first: true,
        });
    }
    poller
}

/// A poller whose first poll panics (see [`panic_injected`]).
#[cfg(debug_assertions)]
struct PanicsFirst {
    inner: Box<dyn PanePoller>,
    first: bool,
}

#[cfg(debug_assertions)]
impl opsdeck_core::pane::Poller<SourceUpdate> for PanicsFirst {
    fn interval(&self) -> Duration {
        self.inner.interval()
    }
    fn timeout(&self) -> Duration {
        self.inner.timeout()
    }
    fn poll(&mut self) -> futures::future::BoxFuture<'_, SourceUpdate> {
        if std::mem::take(&mut self.first) {
            supervise::debug_inject_panic("poller");
        }
        self.inner.poll()
    }
}

#[cfg(debug_assertions)]
impl PanePoller for PanicsFirst {
    fn pane(&self) -> PaneId {
        self.inner.pane()
    }
    fn failed(&self, error: SourceError) -> SourceUpdate {
        self.inner.failed(error)
    }
}

/// When the next poll starts: on the grid of `period`s counted from `epoch`, and at least half a
/// period after the last poll `ended`. Pollers of one interval then poll at the same moments however
/// long each takes, instead of drifting apart by their answers' latencies: their answers reach the
/// screen in one frame rather than one frame each (an idle console's CPU is mostly drawing), every
/// pane's age agrees, and "every 5 s" means every 5 s, not every 5 s plus the answer's time. A
/// source slower than half its period skips a beat rather than being asked again at once.
pub fn next_start(epoch: Instant, ended: Instant, period: Duration) -> Instant {
    let period = period.max(Duration::from_millis(1)).as_nanos();
    let earliest = ended.saturating_duration_since(epoch).as_nanos() + period / 2;
    let offset = earliest.div_ceil(period) * period;
    const NANOS: u128 = 1_000_000_000;
    let offset = Duration::new(
        u64::try_from(offset / NANOS).unwrap_or(u64::MAX),
        (offset % NANOS) as u32,
    );
    // An interval too long for the clock (a config's `u64::MAX` seconds) is a poll that never comes.
    epoch
        .checked_add(offset)
        .unwrap_or_else(|| ended + Duration::from_secs(NEVER_SECS))
}

/// "Never", as far as a poll is concerned: thirty years.
const NEVER_SECS: u64 = 30 * 365 * 86_400;

/// The wait before the next poll: the interval while healthy; after `failures` failed polls in a
/// row, by what failed last. A peer that refused our credentials or our request will refuse them
/// again until a person changes something: it is asked again slowly from the first failure, not
/// hammered. Anything that may pass by itself (a timeout, an unreachable or failing peer, an answer
/// we could not read, our own panic) backs off exponentially ([`backoff`]).
pub fn retry_after(interval: Duration, failed: Option<ErrorKind>, failures: u32) -> Duration {
    match failed {
        None => interval,
        Some(ErrorKind::Unauthorised | ErrorKind::Refused) => backoff(interval, u32::MAX).max(SLOW_RETRY),
        Some(ErrorKind::Timeout | ErrorKind::Unreachable | ErrorKind::BadAnswer | ErrorKind::Internal) => {
            backoff(interval, failures)
        }
    }
}

/// The least wait after a refusal (credentials, a request the peer does not serve).
const SLOW_RETRY: Duration = Duration::from_secs(60);

/// Interval while healthy; doubling per consecutive failure, capped at 8x the interval (and 5 minutes).
/// Saturating: an interval from the config never makes the arithmetic panic.
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    let factor = 1u32 << failures.min(3);
    interval
        .saturating_mul(factor)
        .min(Duration::from_secs(300).max(interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let i = Duration::from_secs(5);
        assert_eq!(backoff(i, 0), i);
        assert_eq!(backoff(i, 1), Duration::from_secs(10));
        assert_eq!(backoff(i, 3), Duration::from_secs(40));
        assert_eq!(backoff(i, 30), Duration::from_secs(40));
        assert_eq!(backoff(Duration::from_secs(100), 3), Duration::from_secs(300));
        assert_eq!(backoff(Duration::MAX, 3), Duration::MAX);
    }

    #[test]
    fn refusals_are_asked_again_slowly_from_the_first_failure() {
        let i = Duration::from_secs(5);
        for kind in [ErrorKind::Unauthorised, ErrorKind::Refused] {
            assert_eq!(retry_after(i, Some(kind), 1), Duration::from_secs(60), "{kind:?}");
            assert_eq!(retry_after(i, Some(kind), 9), Duration::from_secs(60), "{kind:?}");
        }
        // A slow interval stays the floor; the cap is five minutes.
        assert_eq!(
            retry_after(Duration::from_secs(30), Some(ErrorKind::Unauthorised), 1),
            Duration::from_secs(240)
        );
        assert_eq!(
            retry_after(Duration::from_secs(120), Some(ErrorKind::Refused), 1),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn passing_failures_back_off_exponentially_and_health_polls_on_the_interval() {
        let i = Duration::from_secs(5);
        for kind in [
            ErrorKind::Timeout,
            ErrorKind::Unreachable,
            ErrorKind::BadAnswer,
            ErrorKind::Internal,
        ] {
            assert_eq!(retry_after(i, Some(kind), 1), Duration::from_secs(10), "{kind:?}");
            assert_eq!(retry_after(i, Some(kind), 2), Duration::from_secs(20), "{kind:?}");
            assert_eq!(retry_after(i, Some(kind), 7), Duration::from_secs(40), "{kind:?}");
        }
        assert_eq!(retry_after(i, None, 0), i);
    }

    #[test]
    fn the_next_poll_starts_on_the_grid_after_half_a_period_of_rest() {
        let epoch = Instant::now();
        let secs = |s: f64| epoch + Duration::from_secs_f64(s);
        let period = Duration::from_secs(5);
        // However long the answer took, the next poll starts on the grid.
        assert_eq!(next_start(epoch, secs(0.01), period), secs(5.0));
        assert_eq!(next_start(epoch, secs(2.4), period), secs(5.0));
        assert_eq!(next_start(epoch, secs(15.3), period), secs(20.0));
        // An answer that took more than half the period skips a beat.
        assert_eq!(next_start(epoch, secs(2.6), period), secs(10.0));
        assert_eq!(next_start(epoch, secs(4.99), period), secs(10.0));
        // A refresh (a poll off the grid) comes back to it.
        assert_eq!(next_start(epoch, secs(7.1), period), secs(10.0));
        // Backoff periods are on their own grid.
        assert_eq!(next_start(epoch, secs(5.2), Duration::from_secs(20)), secs(20.0));
        // No interval makes the arithmetic panic, and none polls in a busy loop.
        assert!(next_start(epoch, secs(1.0), Duration::MAX) > secs(1e8));
        assert!(next_start(epoch, secs(1.0), Duration::ZERO) > secs(1.0));
    }

    /// Two pollers whose answers take very different times still poll at the same moments (the
    /// clock is tokio's paused one: no real time passes).
    #[tokio::test(start_paused = true)]
    async fn pollers_of_one_interval_poll_together_whatever_their_latency() {
        use futures::FutureExt;
        struct Slow {
            id: usize,
            takes: Duration,
            started: mpsc::UnboundedSender<(usize, Instant)>,
        }
        impl opsdeck_core::pane::Poller<SourceUpdate> for Slow {
            fn interval(&self) -> Duration {
                Duration::from_secs(5)
            }
            fn timeout(&self) -> Duration {
                Duration::from_secs(4)
            }
            fn poll(&mut self) -> futures::future::BoxFuture<'_, SourceUpdate> {
                let _ = self.started.send((self.id, Instant::now()));
                let takes = self.takes;
                async move {
                    tokio::time::sleep(takes).await;
                    SourceUpdate::Hosts(Ok(Vec::new()))
                }
                .boxed()
            }
        }
        impl PanePoller for Slow {
            fn pane(&self) -> PaneId {
                PaneId::new("hosts")
            }
            fn failed(&self, error: SourceError) -> SourceUpdate {
                SourceUpdate::Hosts(Err(error))
            }
        }
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let pollers: Vec<Box<dyn PanePoller>> = [10, 1_300]
            .into_iter()
            .enumerate()
            .map(|(id, ms)| {
                Box::new(Slow {
                    id,
                    takes: Duration::from_millis(ms),
                    started: started_tx.clone(),
                }) as Box<dyn PanePoller>
            })
            .collect();
        let (tx, mut rx) = mpsc::channel(64);
        let cancel = CancellationToken::new();
        spawn_pollers(pollers, tx, Default::default(), cancel.clone());
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let mut starts = [Vec::new(), Vec::new()];
        while starts.iter().any(|s| s.len() < 5) {
            let (id, at) = started.recv().await.expect("pollers run");
            starts[id].push(at);
        }
        cancel.cancel();
        let (fast, slow) = (&starts[0][..5], &starts[1][..5]);
        assert_eq!(fast, slow, "both poll at the same moments");
        let first = fast[0];
        let offsets: Vec<_> = fast.iter().map(|t| *t - first).collect();
        let every_5s: Vec<_> = (0..5).map(|n| Duration::from_secs(5 * n)).collect();
        assert_eq!(offsets, every_5s, "every 5 s, not every 5 s plus the answer's time");
    }
}
