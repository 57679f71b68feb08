//! Runs pollers: on their interval, each poll bounded by its timeout, with backoff while failing.

use super::PanePoller;
use crate::model::fleet::SourceUpdate;
use crate::supervise::{self, INTERNAL_ERROR};
use opsdeck_core::pane::PaneId;
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
pub fn failed(pane: PaneId, error: String) -> Option<SourceUpdate> {
    SourceUpdate::failed(pane, error)
}

/// One poll, bounded by the poller's timeout and supervised: a panic in it is logged and becomes
/// the source's error ([`INTERNAL_ERROR`]). An error's text (often the far side's own words) is
/// made safe to show.
pub async fn poll_once(poller: &mut dyn PanePoller) -> SourceUpdate {
    poll_supervised(poller, false).await
}

/// [`poll_once`]; on a poller's `first` poll a debug build may inject a panic (tests of supervision).
async fn poll_supervised(poller: &mut dyn PanePoller, first: bool) -> SourceUpdate {
    let limit = poller.timeout();
    let kind = poller.pane();
    let poll = async {
        if first {
            supervise::debug_inject_panic("poller");
        }
        tokio::time::timeout(limit, poller.poll()).await
    };
    let update = match supervise::catch(kind.name(), poll).await {
        Ok(Ok(update)) => update,
        Ok(Err(_)) => poller.failed(format!("no answer within {}", humantime::format_duration(limit))),
        Err(supervise::Panicked) => poller.failed(INTERNAL_ERROR.to_string()),
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
    for mut poller in pollers {
        let tx = tx.clone();
        let refresh = refresh.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let mut failures: u32 = 0;
            let mut first = true;
            loop {
                let update = tokio::select! {
                    _ = cancel.cancelled() => return,
                    u = poll_supervised(poller.as_mut(), std::mem::take(&mut first)) => u,
                };
                failures = if update.is_error() {
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
                let wait = backoff(poller.interval(), failures);
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                    _ = refresh.notified() => {}
                }
            }
        });
    }
}

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
}
