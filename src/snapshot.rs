//! `opsdeck snapshot` and `opsdeck check`: poll every configured source once, then print JSON or
//! one line per problem (exit 0 ok, 1 warning, 2 critical).

use crate::analysis;
use crate::config::Config;
use crate::model::Fleet;
use crate::sources::Backends;
use crate::sources::runner::{failed, poll_once};
use opsdeck_core::alert::Alert;
use opsdeck_core::demo::StandIns;
use std::time::SystemTime;

/// Polls every configured source once (concurrently, each bounded by its poller's timeout).
pub async fn collect(config: &Config) -> Fleet {
    collect_with(config, &StandIns::default()).await
}

/// [`collect`] with the demo's stand-ins for real peers.
pub async fn collect_with(config: &Config, stand_ins: &StandIns) -> Fleet {
    let mut fleet = Fleet::default();
    for kind in crate::config::enabled_sources(config) {
        fleet.enable(kind);
    }
    let (backends, errors) = Backends::connect_with(config, stand_ins).await;
    for e in errors {
        if let Some(update) = failed(e.kind, e.as_poll_error()) {
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

/// Problems for `check`: each source that could not be polled (see [`analysis::poll_failure`]);
/// then every alert.
pub fn problems(fleet: &Fleet, config: &Config) -> Vec<Alert> {
    let mut out: Vec<Alert> = crate::model::fleet::SOURCES
        .iter()
        .filter_map(|&pane| fleet.feed(pane).and_then(|feed| analysis::poll_failure(pane, &feed)))
        .collect();
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
        let polled = crate::config::enabled_sources(config).len();
        lines.push(format!("OK: {polled} source(s) polled, no problems"));
    }
    (lines, worst.exit_code())
}
