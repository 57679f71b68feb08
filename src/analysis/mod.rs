//! What a person would conclude: pure functions over the model.

use crate::config::Config;
use crate::model::Fleet;
use opsdeck_core::alert::Alert;
use opsdeck_core::feed::FeedStatus;
use opsdeck_core::pane::PaneId;
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
