//! What a person would conclude: pure functions over the model.

use crate::config::Config;
use crate::model::Fleet;
use opsdeck_core::alert::{Alert, Severity};
use opsdeck_core::feed::{FeedInfo, FeedStatus};
use opsdeck_core::pane::PaneId;
use opsdeck_core::source_error::ErrorKind;
use opsdeck_core::time::age;
use opsdeck_core::view::Tone;
use std::time::SystemTime;

/// Every alert across the fleet, worst first.
pub fn alerts(fleet: &Fleet, config: &Config) -> Vec<Alert> {
    let mut all = fleet.pane_alerts(config);
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    all
}

/// A source whose last poll failed, as an alert: how bad by what failed, and what a person can do
/// about it. A refusal (credentials, a request the peer does not serve) and a peer not there at all
/// are critical and need someone; a slow or garbled answer is a warning (the runner retries it).
/// `None` while the source is not failing.
pub fn poll_failure(pane: PaneId, feed: &FeedInfo<'_>) -> Option<Alert> {
    if feed.status != FeedStatus::Error {
        return None;
    }
    let error = feed.error.unwrap_or_default();
    let (severity, advice) = match feed.error_kind {
        Some(ErrorKind::Unauthorised) => (Severity::Critical, Some("check credentials")),
        Some(ErrorKind::Refused) => (Severity::Critical, Some("check the config")),
        Some(ErrorKind::Unreachable | ErrorKind::Internal) | None => (Severity::Critical, None),
        Some(ErrorKind::Timeout | ErrorKind::BadAnswer) => (Severity::Warning, None),
    };
    let message = match advice {
        Some(advice) => format!("cannot poll: {error} — {advice}"),
        None => format!("cannot poll: {error}"),
    };
    Some(Alert::new(severity, pane, pane.name(), message))
}

/// "updated 3s ago" / "✖ error — showing data from 2m ago" for `pane`.
pub fn freshness(fleet: &Fleet, pane: PaneId, now: SystemTime) -> (String, Tone) {
    let Some(feed) = fleet.feed(pane) else {
        return (String::new(), Tone::Muted);
    };
    match feed.status {
        FeedStatus::Disabled => ("not configured".into(), Tone::Muted),
        FeedStatus::Waiting => ("waiting for the first answer…".into(), Tone::Muted),
        FeedStatus::Ok => (
            format!("updated {}", feed.polled_at.map(|t| age(now, t)).unwrap_or_default()),
            Tone::Ok,
        ),
        FeedStatus::Error => {
            let since = match (feed.has_data, feed.last_ok) {
                (true, Some(t)) => format!(" — showing data from {}", age(now, t)),
                _ => " — no data yet".to_string(),
            };
            (format!("✖ {}{since}", feed.error.unwrap_or_default()), Tone::Crit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_core::feed::Feed;
    use opsdeck_core::source_error::SourceError;

    fn failing(error: SourceError) -> Feed<()> {
        let mut feed = Feed::waiting();
        feed.fail(SystemTime::UNIX_EPOCH, error);
        feed
    }

    #[test]
    fn a_failing_source_alerts_by_what_failed() {
        let pane = PaneId::new("elasticsearch");
        let alert = |e: SourceError| poll_failure(pane, &failing(e).info()).expect("failing");
        let a = alert(SourceError::unauthorised("HTTP 401"));
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.message, "cannot poll: HTTP 401 — check credentials");
        let a = alert(SourceError::refused("HTTP 404"));
        assert_eq!(
            (a.severity, a.message.as_str()),
            (Severity::Critical, "cannot poll: HTTP 404 — check the config")
        );
        for e in [SourceError::unreachable("refused"), SourceError::internal("panic")] {
            assert_eq!(alert(e.clone()).severity, Severity::Critical, "{e:?}");
        }
        for e in [SourceError::timeout("slow"), SourceError::bad_answer("garbled")] {
            let a = alert(e.clone());
            assert_eq!(a.severity, Severity::Warning, "{e:?}");
            assert_eq!(a.message, format!("cannot poll: {}", e.message));
        }
        assert_eq!(poll_failure(pane, &Feed::<()>::waiting().info()), None);
    }
}
