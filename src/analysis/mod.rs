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
    let severity = match feed.error_kind {
        Some(ErrorKind::Unauthorised | ErrorKind::Refused | ErrorKind::Unreachable | ErrorKind::Internal) | None => {
            Severity::Critical
        }
        Some(ErrorKind::Timeout | ErrorKind::BadAnswer) => Severity::Warning,
    };
    let message = match feed.error_kind.and_then(advice) {
        Some(advice) => format!("cannot poll: {error} — {advice}"),
        None => format!("cannot poll: {error}"),
    };
    Some(Alert::new(severity, pane, pane.name(), message))
}

/// What a person should look at for a failure that will not pass by itself.
fn advice(kind: ErrorKind) -> Option<&'static str> {
    match kind {
        ErrorKind::Unauthorised => Some("check credentials"),
        ErrorKind::Refused => Some("check the config"),
        ErrorKind::Timeout | ErrorKind::Unreachable | ErrorKind::BadAnswer | ErrorKind::Internal => None,
    }
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
            let advice = feed
                .error_kind
                .and_then(advice)
                .map(|a| format!(" ({a})"))
                .unwrap_or_default();
            (
                format!("✖ {}{advice}{since}", feed.error.unwrap_or_default()),
                Tone::Crit,
            )
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

    #[test]
    fn the_error_line_says_what_to_check_when_it_will_not_pass_by_itself() {
        let mut fleet = Fleet::default();
        let pane = PaneId::new("elasticsearch");
        fleet.enable(pane);
        let at = SystemTime::UNIX_EPOCH;
        fleet
            .elasticsearch
            .fail(at, SourceError::unauthorised("GET /: HTTP 401"));
        assert_eq!(
            freshness(&fleet, pane, at).0,
            "✖ GET /: HTTP 401 (check credentials) — no data yet"
        );
        fleet
            .elasticsearch
            .fail(at, SourceError::timeout("no answer within 5s"));
        assert_eq!(freshness(&fleet, pane, at).0, "✖ no answer within 5s — no data yet");
    }
}
