//! What a person would conclude from the Elasticsearch data.
//!
//! Health: yellow is a warning (replicas missing), red is critical (a primary is missing).
//! Disk, against the cluster's own watermarks: over low is a warning (no new shards land there),
//! over high or flood-stage is critical (shards are pushed away / indices turn read-only).

use crate::config::Config;
use crate::model::alert::AlertTarget;
use crate::model::elasticsearch::{DiskLevel, EsState, HealthStatus};
use crate::model::{Alert, Severity};

const SOURCE: &str = "elasticsearch";

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(state: &EsState, _config: &Config) -> Vec<Alert> {
    let mut out = Vec::new();
    let h = &state.health;
    let cluster = if h.cluster_name.is_empty() {
        "cluster".to_string()
    } else {
        h.cluster_name.clone()
    };
    // Red and yellow land on the first missing copy (a primary first) in the unassigned view.
    let missing = state
        .unassigned
        .iter()
        .find(|s| s.primary)
        .or(state.unassigned.first())
        .map(|s| s.copy_key())
        .unwrap_or_default();
    let unassigned = AlertTarget::row(SOURCE, missing).in_view("unassigned");
    match h.status {
        HealthStatus::Red => out.push(
            Alert::new(
                Severity::Critical,
                SOURCE,
                &cluster,
                format!(
                    "red: {} unassigned shard(s), at least one primary missing",
                    h.unassigned_shards
                ),
            )
            .at(unassigned),
        ),
        HealthStatus::Yellow => out.push(
            Alert::new(
                Severity::Warning,
                SOURCE,
                &cluster,
                format!("yellow: {} unassigned replica(s)", h.unassigned_shards),
            )
            .at(unassigned),
        ),
        HealthStatus::Unknown => out.push(
            Alert::new(Severity::Warning, SOURCE, &cluster, "health status unknown")
                .at(AlertTarget::row(SOURCE, "").in_view("nodes")),
        ),
        HealthStatus::Green => {}
    }
    let w = &state.settings.watermarks;
    for n in &state.nodes {
        let (sev, which) = match n.disk_level {
            DiskLevel::Low => (Severity::Warning, format!("low watermark {}", w.low.describe())),
            DiskLevel::High => (Severity::Critical, format!("high watermark {}", w.high.describe())),
            DiskLevel::FloodStage => (
                Severity::Critical,
                format!(
                    "flood-stage watermark {} (indices go read-only)",
                    w.flood_stage.describe()
                ),
            ),
            DiskLevel::Ok | DiskLevel::Unknown => continue,
        };
        let used = n.disk_used_percent().map(|p| format!("{p:.0}%")).unwrap_or_default();
        out.push(
            Alert::new(
                sev,
                SOURCE,
                format!("{}:disk", n.name),
                format!("disk {used} used, over the {which}"),
            )
            .at(AlertTarget::row(SOURCE, &n.name).in_view("nodes")),
        );
    }
    if state.settings.enable != "all" {
        let row = state
            .settings
            .enable_scope
            .row_key(crate::model::elasticsearch::ENABLE_KEY);
        out.push(
            Alert::new(
                Severity::Warning,
                SOURCE,
                &cluster,
                format!(
                    "shard allocation is {} ({}): lost replicas will not be rebuilt",
                    state.settings.enable,
                    state.settings.enable_scope.as_str()
                ),
            )
            .at(AlertTarget::row(SOURCE, row).in_view("settings")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::elasticsearch::{EsNode, Watermark};

    fn state(status: HealthStatus) -> EsState {
        let mut s = EsState::default();
        s.health.cluster_name = "c".into();
        s.health.status = status;
        s.health.unassigned_shards = 3;
        s
    }

    #[test]
    fn health_maps_to_severity() {
        let cfg = Config::default();
        assert!(alerts(&state(HealthStatus::Green), &cfg).is_empty());
        let y = alerts(&state(HealthStatus::Yellow), &cfg);
        assert_eq!(y.len(), 1);
        assert_eq!(y[0].severity, Severity::Warning);
        let r = alerts(&state(HealthStatus::Red), &cfg);
        assert_eq!(r[0].severity, Severity::Critical);
        assert!(r[0].message.contains("3 unassigned"));
    }

    #[test]
    fn watermarks_map_to_severity() {
        let cfg = Config::default();
        let mut s = state(HealthStatus::Green);
        s.settings.watermarks.low = Watermark::FreeBytes(500);
        for (name, avail) in [("ok", 900u64), ("low", 400), ("high", 80), ("flood", 10)] {
            let mut n = EsNode {
                name: name.into(),
                disk_total: Some(1000),
                disk_available: Some(avail),
                ..EsNode::default()
            };
            n.disk_level = n.level_against(&s.settings.watermarks);
            s.nodes.push(n);
        }
        let a = alerts(&s, &cfg);
        let sev = |n: &str| a.iter().find(|a| a.subject == format!("{n}:disk")).map(|a| a.severity);
        assert_eq!(sev("ok"), None);
        assert_eq!(sev("low"), Some(Severity::Warning));
        assert!(
            a.iter()
                .any(|x| x.subject == "low:disk" && x.message.contains("500 B free"))
        );
        assert_eq!(sev("high"), Some(Severity::Critical));
        assert_eq!(sev("flood"), Some(Severity::Critical));
        assert_eq!(crate::model::alert::worst(&a), Severity::Critical);
    }

    #[test]
    fn disabled_allocation_warns() {
        let mut s = state(HealthStatus::Green);
        s.settings.enable = "none".into();
        let a = alerts(&s, &Config::default());
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].severity, Severity::Warning);
    }
}
