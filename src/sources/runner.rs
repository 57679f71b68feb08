//! Runs pollers: on their interval, each poll bounded by its timeout, with backoff while failing.

use super::PanePoller;
use crate::model::fleet::SourceUpdate;
use crate::supervise::{self, INTERNAL_ERROR};
use opsdeck_core::pane::PaneId;
use opsdeck_core::source_error::{ErrorKind, SourceError};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
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
pub fn spawn_pollers(
    pollers: Vec<Box<dyn PanePoller>>,
    tx: mpsc::Sender<Polled>,
    refresh: std::sync::Arc<tokio::sync::Notify>,
    cancel: CancellationToken,
) {
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
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
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
}
