//! `opsdeck snapshot` and `opsdeck check`: poll every configured source once, then print JSON or
//! one line per problem (exit 0 ok, 1 warning, 2 critical).

use crate::analysis;
use crate::config::Config;
use crate::model::Fleet;
use crate::sources::Backends;
use crate::sources::runner::{failed, poll_once};
use opsdeck_core::alert::{Alert, Severity};
use opsdeck_core::demo::StandIns;
use opsdeck_core::feed::FeedStatus;
use std::time::SystemTime;

/// Polls every configured source once (concurrently, each bounded by its poller's timeout).
pub async fn collect(config: &Config) -> Fleet {
    collect_with(config, &StandIns::default()).await
}

/// [`collect`] with the demo's stand-ins for real peers.
pub async fn collect_with(config: &Config, stand_ins: &StandIns) -> Fleet {
    let mut fleet = Fleet::default();
    for kind in crate::sources::enabled_sources(config) {
        fleet.enable(kind);
    }
    let (backends, errors) = Backends::connect_with(config, stand_ins).await;
    for e in errors {
        if let Some(update) = failed(e.kind, e.error) {
            fleet.apply(SystemTime::now(), update);
        }
    }
    let mut pollers = backends.pollers(config);
    let updates = futures::future::join_all(pollers.iter_mut().map(|p| poll_once(p.as_mut()))).await;
    let at = SystemTime::now();
    for update in updates {
        fleet.apply(at, update);
    }
    fleet
}

/// The snapshot document: one object per source plus the alerts.
pub fn to_json(fleet: &Fleet, config: &Config) -> serde_json::Value {
    let mut doc = serde_json::to_value(fleet).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
    if let Some(map) = doc.as_object_mut() {
        map.insert(
            "opsdeck".into(),
            serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "generated_at": opsdeck_core::time::rfc3339(SystemTime::now()),
                "environment": config.general.environment,
            }),
        );
        map.insert(
            "alerts".into(),
            serde_json::to_value(analysis::alerts(fleet, config)).unwrap_or_default(),
        );
    }
    doc
}

/// Problems for `check`: a source that could not be polled is critical; then every alert.
pub fn problems(fleet: &Fleet, config: &Config) -> Vec<Alert> {
    let mut out = Vec::new();
    for &kind in crate::registry::SOURCES {
        if let Some(feed) = fleet.feed(kind)
            && feed.status == FeedStatus::Error
        {
            out.push(Alert::new(
                Severity::Critical,
                kind,
                kind.name(),
                format!("cannot poll: {}", feed.error.unwrap_or_default()),
            ));
        }
    }
    out.extend(analysis::alerts(fleet, config));
    out
}

/// `check`'s output lines and exit code.
pub fn check_report(fleet: &Fleet, config: &Config) -> (Vec<String>, i32) {
    let problems = problems(fleet, config);
    let worst = opsdeck_core::alert::worst(&problems);
    let mut lines: Vec<String> = problems
        .iter()
        .map(|a| format!("{} {} {}: {}", a.severity.label(), a.source, a.subject, a.message))
        .collect();
    if lines.is_empty() {
        let polled = crate::sources::enabled_sources(config).len();
        lines.push(format!("OK: {polled} source(s) polled, no problems"));
    }
    (lines, worst.exit_code())
}
