//! What a person would conclude from the Elasticsearch data.
//!
//! Health: yellow is a warning (replicas missing), red is critical (a primary is missing).
//! Disk, against the cluster's own watermarks: over low is a warning (no new shards land there),
//! over high or flood-stage is critical (shards are pushed away / indices turn read-only).

use crate::Elasticsearch;
use crate::model::{DiskLevel, EsState, HealthStatus};
use opsdeck_core::alert::{Alert, AlertTarget, Severity};
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId};
use std::collections::BTreeSet;

const SOURCE: PaneId = Elasticsearch::ID;

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(state: &EsState, _config: &dyn PaneConfigs) -> Vec<Alert> {
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
    for d in state.departed.iter().filter(|d| !d.acknowledged) {
        out.push(Alert::new(
            Severity::Warning,
            SOURCE,
            &d.node.name,
            format!(
                "{} left the cluster at {} (it held {} shard copies)",
                d.node.name,
                clock(d.left_at),
                d.node.shard_rows
            ),
        ));
    }
    // A part the cluster would not give: say what is missing and why, rather than judge from nothing.
    for r in &state.refused {
        let shown = if r.kept_from_earlier {
            "shown as last read"
        } else {
            "not known"
        };
        out.push(
            Alert::new(
                Severity::Warning,
                SOURCE,
                format!("{cluster}:{}", r.part.label()),
                format!(
                    "{} not read ({shown}: {}): {}",
                    r.part.label(),
                    r.part.consequence(),
                    r.reason
                ),
            )
            .at(AlertTarget::row(SOURCE, "").in_view("nodes")),
        );
    }
    if state.settings.enable != "all" {
        let row = state.settings.enable_scope.row_key(crate::model::ENABLE_KEY);
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

/// Where the shards of leaving nodes would land: one receiving node, before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct Receiver {
    pub name: String,
    pub total: u64,
    pub used: u64,
    /// Bytes it can take before it crosses the low watermark (0 when it is over it already).
    pub room: u64,
    /// Bytes the projection places on it.
    pub gets: u64,
}

impl Receiver {
    pub fn used_percent(&self) -> f64 {
        self.used as f64 * 100.0 / self.total.max(1) as f64
    }
    pub fn projected_percent(&self) -> f64 {
        (self.used + self.gets) as f64 * 100.0 / self.total.max(1) as f64
    }
}

/// Whether the copies on `leaving` nodes fit on the others under the low watermark.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityCheck {
    pub leaving: Vec<String>,
    pub copies: usize,
    pub bytes_to_move: u64,
    pub receivers: Vec<Receiver>,
    /// Copies the projection could place nowhere: `index/shard/p|r (size)`.
    pub unplaced: Vec<String>,
    /// Copies whose size `_cat/shards` did not give (counted as 0 bytes).
    pub unknown_sizes: usize,
    /// Nodes left out as receivers, with why (excluded, over the low watermark, no disk numbers).
    pub not_receiving: Vec<String>,
}

impl CapacityCheck {
    pub fn fits(&self) -> bool {
        self.unplaced.is_empty()
    }

    pub fn room(&self) -> u64 {
        self.receivers.iter().map(|r| r.room).sum()
    }

    /// The check in words for a plan's description: the verdict, then one line per receiver.
    pub fn describe(&self) -> String {
        use crate::model::human_bytes;
        let verdict = if self.fits() {
            format!(
                "CAPACITY: {} in {} copies move off {}; the receivers have {} free under the low watermark — it fits.",
                human_bytes(self.bytes_to_move),
                self.copies,
                self.leaving.join(", "),
                human_bytes(self.room())
            )
        } else {
            format!(
                "DOES NOT FIT: {} in {} copies move off {}; the receivers have {} free under the low watermark, \
                 and {} copies would find no node ({}).",
                human_bytes(self.bytes_to_move),
                self.copies,
                self.leaving.join(", "),
                human_bytes(self.room()),
                self.unplaced.len(),
                preview(&self.unplaced)
            )
        };
        let mut lines = vec![verdict];
        for r in &self.receivers {
            lines.push(format!(
                "  {}: disk {:.0}% → {:.0}% (+{})",
                r.name,
                r.used_percent(),
                r.projected_percent(),
                human_bytes(r.gets)
            ));
        }
        for n in &self.not_receiving {
            lines.push(format!("  {n}: takes nothing"));
        }
        if self.unknown_sizes > 0 {
            lines.push(format!("  ({} copies have no size in _cat/shards)", self.unknown_sizes));
        }
        lines.join("\n")
    }
}

/// The first five of `items`, then how many more.
pub fn preview(items: &[String]) -> String {
    let mut s = items.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 5 {
        s.push_str(&format!(" and {} more", items.len() - 5));
    }
    s
}

/// Projects moving every copy off `leaving` the way the allocator would be allowed to: onto data
/// nodes that are not leaving and not excluded, never two copies of one shard on a node, and never
/// past the low watermark (where Elasticsearch stops allocating). Largest copies first, each onto the
/// receiver with the most room left.
pub fn capacity_for_moving(state: &EsState, leaving: &[&str]) -> CapacityCheck {
    let is_leaving = |name: &str| leaving.contains(&name);
    let w = &state.settings.watermarks;
    let mut receivers = Vec::new();
    // Borrowed from `state`, beside `receivers`: the same-shard bookkeeping holds names of both kinds.
    let mut receiver_names: Vec<&str> = Vec::new();
    let mut not_receiving = Vec::new();
    for n in state.nodes.iter().filter(|n| !is_leaving(&n.name)) {
        let data = n.roles.is_empty() || n.roles.iter().any(|r| r.starts_with("data"));
        if !data {
            continue;
        }
        if !n.excluded_by.is_empty() {
            not_receiving.push(format!("{} (excluded: {})", n.name, n.excluded_by.join(", ")));
            continue;
        }
        let (Some(total), Some(avail)) = (n.disk_total, n.disk_available) else {
            not_receiving.push(format!("{} (no disk numbers)", n.name));
            continue;
        };
        let need = match n.effective_thresholds {
            Some(t) => t.low,
            None => w.low.required_free(total, w.low_max_headroom),
        };
        let room = avail.saturating_sub(need);
        if room == 0 {
            let used = (total - avail.min(total)) as f64 * 100.0 / total.max(1) as f64;
            not_receiving.push(format!("{} (disk {used:.0}%, over the low watermark)", n.name));
            continue;
        }
        receiver_names.push(&n.name);
        receivers.push(Receiver {
            name: n.name.clone(),
            total,
            used: total - avail.min(total),
            room,
            gets: 0,
        });
    }
    let moving: Vec<&crate::model::ShardRow> = state
        .shards
        .iter()
        .filter(|s| s.state != crate::model::ShardState::Unassigned)
        .filter(|s| s.node.as_deref().is_some_and(is_leaving))
        .collect();
    // Per moving shard: how many copies it has, and which staying nodes hold one (same-shard rule);
    // only the moving shards are keyed, so the pass over every copy stays a lookup each.
    let mut holders: foldhash::HashMap<(&str, u32), (usize, Vec<&str>)> =
        moving.iter().map(|s| ((&*s.index, s.shard), (0, Vec::new()))).collect();
    for s in &state.shards {
        let Some((copies, held)) = holders.get_mut(&(&*s.index, s.shard)) else {
            continue;
        };
        *copies += 1;
        for name in [s.node.as_deref(), s.relocating_to.as_ref().map(|t| t.name.as_str())]
            .into_iter()
            .flatten()
            .filter(|n| !is_leaving(n))
        {
            held.push(name);
        }
    }
    // Allocation awareness (not forced): at most ceil(copies / values) copies of a shard share a
    // value of an awareness attribute, the values counted over the nodes (leaving ones included: an
    // excluded zone still counts, which is what keeps shards from leaving it).
    let awareness: Vec<(&str, usize)> = state
        .settings
        .awareness_attributes
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            let values: BTreeSet<&str> = state
                .nodes
                .iter()
                .filter_map(|n| n.attributes.get(a).map(String::as_str))
                .collect();
            (a, values.len())
        })
        .filter(|(_, values)| *values > 1)
        .collect();
    let attribute =
        |node: &str, attr: &str| -> Option<&str> { state.node_by_name(node)?.attributes.get(attr).map(String::as_str) };
    let aware = |receiver: &str, copies: usize, held: &[&str]| {
        awareness.iter().all(|(attr, values)| {
            let Some(mine) = attribute(receiver, attr) else {
                return true;
            };
            let same = held.iter().filter(|h| attribute(h, attr) == Some(mine)).count();
            same < copies.div_ceil(*values)
        })
    };
    let mut order = moving.clone();
    order.sort_by_key(|s| std::cmp::Reverse(s.store_bytes.unwrap_or(0)));
    let mut unplaced = Vec::new();
    for s in order {
        let size = s.store_bytes.unwrap_or(0);
        let (copies, held) = holders.entry((&*s.index, s.shard)).or_default();
        let fits_on = |i: usize| !held.contains(&receiver_names[i]) && receivers[i].room - receivers[i].gets >= size;
        let best = (0..receivers.len())
            .filter(|&i| fits_on(i) && aware(receiver_names[i], *copies, held))
            .max_by_key(|&i| (receivers[i].room - receivers[i].gets, std::cmp::Reverse(i)));
        match best {
            Some(i) => {
                receivers[i].gets += size;
                held.push(receiver_names[i]);
            }
            None => {
                let why = if (0..receivers.len()).any(fits_on) {
                    format!(
                        "; awareness {}",
                        awareness.iter().map(|(a, _)| *a).collect::<Vec<_>>().join(",")
                    )
                } else {
                    String::new()
                };
                unplaced.push(format!("{} ({}{why})", s.copy_key(), crate::model::human_bytes(size)));
            }
        }
    }
    CapacityCheck {
        leaving: leaving.iter().map(|s| s.to_string()).collect(),
        copies: moving.len(),
        bytes_to_move: moving.iter().map(|s| s.store_bytes.unwrap_or(0)).sum(),
        receivers,
        unplaced,
        unknown_sizes: moving.iter().filter(|s| s.store_bytes.is_none()).count(),
        not_receiving,
    }
}

/// `03:12 UTC`: the wall-clock time of an event, as an on-call engineer matches it against logs.
pub fn clock(t: std::time::SystemTime) -> String {
    let stamp = opsdeck_core::time::rfc3339(t);
    format!("{} UTC", stamp.get(11..16).unwrap_or(&stamp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EsNode, Watermark};
    use opsdeck_core::pane::Sections;

    type Config = Sections;

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
        assert_eq!(opsdeck_core::alert::worst(&a), Severity::Critical);
    }

    fn copy(index: &str, shard: u32, primary: bool, node: &str, gib: u64) -> crate::model::ShardRow {
        crate::model::ShardRow {
            index: index.into(),
            shard,
            primary,
            state: crate::model::ShardState::Started,
            docs: None,
            store_bytes: Some(gib << 30),
            ip: None,
            node_id: None,
            node: Some(node.into()),
            relocating_to: None,
            unassigned_reason: None,
        }
    }

    fn disk_node(name: &str, used_gib: u64) -> EsNode {
        let mut n = EsNode {
            name: name.into(),
            roles: vec!["data".into()],
            disk_total: Some(100 << 30),
            disk_available: Some((100 - used_gib) << 30),
            ..EsNode::default()
        };
        n.disk_level = n.level_against(&Default::default());
        n
    }

    #[test]
    fn capacity_counts_room_under_the_low_watermark_and_the_same_shard_rule() {
        let mut s = state(HealthStatus::Green);
        s.nodes = vec![
            disk_node("a", 60),
            disk_node("b", 80),
            disk_node("full", 87),
            disk_node("spot", 30),
        ];
        s.shards = vec![
            copy("logs", 0, true, "spot", 10),
            copy("logs", 0, false, "a", 10),
            copy("logs", 1, true, "spot", 4),
        ];
        let c = capacity_for_moving(&s, &["spot"]);
        // a has 25 GiB of room, b 5 GiB; full is over the low watermark. logs/0's other copy is on a,
        // so that 10 GiB copy cannot go there, and b has room for only 5: it does not fit.
        assert_eq!(c.bytes_to_move, 14 << 30);
        assert!(!c.fits());
        assert_eq!(c.unplaced, vec!["logs/0/p (10.0 GiB)".to_string()]);
        assert_eq!(
            c.not_receiving,
            vec!["full (disk 87%, over the low watermark)".to_string()]
        );
        let d = c.describe();
        assert!(
            d.starts_with("DOES NOT FIT: 14.0 GiB in 2 copies move off spot; the receivers have 30.0 GiB"),
            "{d}"
        );
        assert!(d.contains("\n  a: disk 60% → 64% (+4.0 GiB)"), "{d}");
        assert!(d.contains("\n  b: disk 80% → 80% (+0 B)"), "{d}");
        // Without the replica on a, it fits, largest copy on the roomiest node.
        s.shards.remove(1);
        let c = capacity_for_moving(&s, &["spot"]);
        assert!(c.fits());
        assert!(
            c.describe().contains("\n  a: disk 60% → 74% (+14.0 GiB)"),
            "{}",
            c.describe()
        );
    }

    #[test]
    fn allocation_awareness_keeps_a_shards_copies_out_of_one_zone() {
        // Awareness on zone with two zones: each zone holds at most one of a shard's two copies, so
        // excluding the spot zone leaves logs/0/p nowhere to go although b has room.
        let mut s = state(HealthStatus::Green);
        let zoned = |name: &str, used: u64, zone: &str| {
            let mut n = disk_node(name, used);
            n.attributes.insert("zone".into(), zone.into());
            n
        };
        s.nodes = vec![
            zoned("a", 30, "core"),
            zoned("b", 30, "core"),
            zoned("spot", 30, "spot"),
        ];
        s.shards = vec![copy("logs", 0, true, "spot", 1), copy("logs", 0, false, "a", 1)];
        assert!(
            capacity_for_moving(&s, &["spot"]).fits(),
            "without awareness b takes it"
        );
        s.settings.awareness_attributes = "zone".into();
        let c = capacity_for_moving(&s, &["spot"]);
        assert_eq!(c.unplaced, vec!["logs/0/p (1.0 GiB; awareness zone)".to_string()]);
        assert!(
            c.describe()
                .contains("and 1 copies would find no node (logs/0/p (1.0 GiB; awareness zone))")
        );
    }

    #[test]
    fn a_departed_node_alerts_until_acknowledged() {
        let mut s = state(HealthStatus::Green);
        s.departed.push(crate::model::DepartedNode {
            node: EsNode {
                name: "es-data-3".into(),
                shard_rows: 12,
                ..EsNode::default()
            },
            left_at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000 + 3 * 3600 + 12 * 60),
            acknowledged: false,
        });
        let a = alerts(&s, &Config::default());
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].subject, "es-data-3");
        assert!(
            a[0].message.starts_with("es-data-3 left the cluster at "),
            "{}",
            a[0].message
        );
        assert!(s.acknowledge_departure("es-data-3"));
        assert!(alerts(&s, &Config::default()).is_empty());
        assert!(!s.acknowledge_departure("es-data-1"));
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
