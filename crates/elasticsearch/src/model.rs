//! Model of the Elasticsearch cluster: health, nodes, shards, allocation settings, recoveries, explains.
//!
//! Plain types and pure arithmetic (watermarks, drain progress, last copies); the wire formats are
//! parsed in `sources::elasticsearch::parse`.

use opsdeck_core::feed::FeedData;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

/// Which server answers, from `GET /`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Flavor {
    #[default]
    Elasticsearch,
    OpenSearch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Distribution {
    pub flavor: Flavor,
    pub version: String,
    pub major: u32,
    /// The demo's simulated cluster, which restarts a node when asked (never from an answer or a
    /// config: see `source::RestartsOnRequest`).
    #[serde(skip)]
    pub restarts_on_request: bool,
}

impl Distribution {
    pub fn label(&self) -> String {
        match self.flavor {
            Flavor::Elasticsearch => format!("Elasticsearch {}", self.version),
            Flavor::OpenSearch => format!("OpenSearch {}", self.version),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Green,
    Yellow,
    Red,
    #[default]
    Unknown,
}

impl HealthStatus {
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "green" => Self::Green,
            "yellow" => Self::Yellow,
            "red" => Self::Red,
            _ => Self::Unknown,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::Red => "red",
            Self::Unknown => "unknown",
        }
    }
}

/// `GET /_cluster/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ClusterHealth {
    pub cluster_name: String,
    pub status: HealthStatus,
    pub number_of_nodes: u32,
    pub number_of_data_nodes: u32,
    pub active_primary_shards: u32,
    pub active_shards: u32,
    pub relocating_shards: u32,
    pub initializing_shards: u32,
    pub unassigned_shards: u32,
    pub delayed_unassigned_shards: u32,
    pub number_of_pending_tasks: u32,
    pub active_shards_percent: f64,
}

/// A shard copy's state as `_cat/shards` names it; unknown names are kept, not rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShardState {
    Started,
    Initializing,
    Relocating,
    Unassigned,
    #[serde(untagged)]
    Other(String),
}

impl ShardState {
    pub fn parse(s: &str) -> Self {
        match s {
            "STARTED" => Self::Started,
            "INITIALIZING" => Self::Initializing,
            "RELOCATING" => Self::Relocating,
            "UNASSIGNED" => Self::Unassigned,
            other => Self::Other(other.to_string()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Self::Started => "STARTED",
            Self::Initializing => "INITIALIZING",
            Self::Relocating => "RELOCATING",
            Self::Unassigned => "UNASSIGNED",
            Self::Other(s) => s,
        }
    }
}

/// The target of a relocation, parsed from the `node` cell `"src -> ip id target"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelocationTarget {
    pub ip: String,
    pub id: String,
    pub name: String,
}

/// One `_cat/shards` row (one shard copy). Index and node names are shared between the rows that
/// name them (`Arc<str>`, one copy of each name per answer): 20,000 shards name 40 nodes and a few
/// hundred indices, and four strings a row made the shard table half of the pane's memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardRow {
    pub index: Arc<str>,
    pub shard: u32,
    pub primary: bool,
    pub state: ShardState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_bytes: Option<u64>,
    /// The (source) node's IP, name and id; `None` when unassigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relocating_to: Option<RelocationTarget>,
    /// What made it unassigned (`NODE_LEFT`, `ALLOCATION_FAILED`, ...): an open set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unassigned_reason: Option<String>,
}

impl ShardRow {
    /// `index/shard/p|r`: names a copy well enough for explain and for the UI's row keys.
    pub fn copy_key(&self) -> String {
        format!("{}/{}/{}", self.index, self.shard, if self.primary { "p" } else { "r" })
    }
    /// Whether this row names `node` as its holder or as a relocation's target.
    pub fn names_node(&self, node: &EsNode) -> bool {
        let matches = |name: Option<&str>, id: Option<&str>| {
            name.is_some_and(|n| n == node.name) || id.is_some_and(|i| !node.id.is_empty() && i == node.id)
        };
        matches(self.node.as_deref(), self.node_id.as_deref())
            || self
                .relocating_to
                .as_ref()
                .is_some_and(|t| matches(Some(&t.name), Some(&t.id)))
    }
}

/// A disk watermark as written in settings: a used-percent (`85%`, or the ratio `0.85`), or the
/// absolute FREE space that must remain (`500mb`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Watermark {
    UsedPercent(f64),
    FreeBytes(u64),
}

impl Watermark {
    /// The free bytes a disk of `total` bytes must keep; `headroom` caps a percentage (ES ≥ 8.5 `max_headroom`).
    pub fn required_free(self, total: u64, headroom: Option<u64>) -> u64 {
        match self {
            Watermark::UsedPercent(p) => {
                let free = (total as f64 * (100.0 - p) / 100.0).max(0.0) as u64;
                headroom.map_or(free, |h| free.min(h))
            }
            Watermark::FreeBytes(b) => b,
        }
    }
    pub fn describe(self) -> String {
        match self {
            Watermark::UsedPercent(p) => format!("{p:.0}%"),
            Watermark::FreeBytes(b) => format!("{} free", human_bytes(b)),
        }
    }
}

/// The cluster's disk watermarks in force (effective values of the settings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Watermarks {
    pub threshold_enabled: bool,
    pub low: Watermark,
    pub high: Watermark,
    pub flood_stage: Watermark,
    pub low_max_headroom: Option<u64>,
    pub high_max_headroom: Option<u64>,
    pub flood_stage_max_headroom: Option<u64>,
}

impl Default for Watermarks {
    /// Elasticsearch's own defaults (without the 8.5+ headroom, which the settings' defaults carry when it applies).
    fn default() -> Self {
        Self {
            threshold_enabled: true,
            low: Watermark::UsedPercent(85.0),
            high: Watermark::UsedPercent(90.0),
            flood_stage: Watermark::UsedPercent(95.0),
            low_max_headroom: None,
            high_max_headroom: None,
            flood_stage_max_headroom: None,
        }
    }
}

/// Where a node's disk stands against the watermarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DiskLevel {
    #[default]
    Ok,
    /// Above low: no new shards are allocated here.
    Low,
    /// Above high: shards are moved away.
    High,
    /// Above flood stage: indices with a shard here turn read-only.
    FloodStage,
    /// No disk numbers for this node.
    Unknown,
}

impl DiskLevel {
    pub fn label(self) -> &'static str {
        match self {
            DiskLevel::Ok => "ok",
            DiskLevel::Low => "over low watermark",
            DiskLevel::High => "over high watermark",
            DiskLevel::FloodStage => "over flood-stage watermark",
            DiskLevel::Unknown => "unknown",
        }
    }
}

/// Effective free-space thresholds reported per node by ES ≥ 8.14 (`fs.data[].*_watermark_free_space_in_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FreeSpaceThresholds {
    pub low: u64,
    pub high: u64,
    pub flood_stage: u64,
}

/// Which allocation setting scope a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Transient,
    Persistent,
    Default,
}

impl Scope {
    /// The key the console gives `key`'s row in `scope` (the settings view; alerts point at it).
    pub fn row_key(self, key: &str) -> String {
        format!("{}:{key}", self.as_str())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Transient => "transient",
            Scope::Persistent => "persistent",
            Scope::Default => "default",
        }
    }
}

/// The three scopes of `_cluster/settings`, flattened to dotted keys (lists joined with `,`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ClusterSettings {
    pub persistent: BTreeMap<String, String>,
    pub transient: BTreeMap<String, String>,
    pub defaults: BTreeMap<String, String>,
}

impl ClusterSettings {
    /// The value in force: transient, else persistent, else the default.
    pub fn effective(&self, key: &str) -> Option<(&str, Scope)> {
        self.transient
            .get(key)
            .map(|v| (v.as_str(), Scope::Transient))
            .or_else(|| self.persistent.get(key).map(|v| (v.as_str(), Scope::Persistent)))
            .or_else(|| self.defaults.get(key).map(|v| (v.as_str(), Scope::Default)))
    }
}

impl ClusterSettings {
    /// `key`'s own values in the two scopes a write can change (an empty value counts as unset).
    pub fn values_of(&self, key: &str) -> SettingValues {
        let set = |m: &BTreeMap<String, String>| m.get(key).filter(|v| !v.trim().is_empty()).cloned();
        SettingValues {
            key: key.to_string(),
            persistent: set(&self.persistent),
            transient: set(&self.transient),
        }
    }
}

/// One cluster setting as written in the persistent and transient scopes (`None`: not set there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingValues {
    pub key: String,
    pub persistent: Option<String>,
    pub transient: Option<String>,
}

impl SettingValues {
    /// The value in force, or what the cluster does without one (`enable` defaults to `all`; an
    /// unset filter filters nothing).
    pub fn in_force(&self) -> Option<&str> {
        let set = self.transient.as_deref().or(self.persistent.as_deref());
        match set {
            Some("all") if self.key == ENABLE_KEY => None,
            other => other,
        }
    }
}

/// A setting whose value in force differs from what it was before something changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingChange {
    pub before: SettingValues,
    pub now: SettingValues,
}

impl SettingChange {
    /// `cluster.routing.allocation.exclude.zone = spot (was unset)`.
    pub fn describe(&self) -> String {
        let shown = |v: &SettingValues| match (v.in_force(), v.key.as_str()) {
            (None, ENABLE_KEY) => "all".to_string(),
            (None, _) => "unset".to_string(),
            (Some(x), _) => x.to_string(),
        };
        format!("{} = {} (was {})", self.now.key, shown(&self.now), shown(&self.before))
    }
}

/// The settings of `before` whose value in force is no longer what it was.
pub fn settings_changed(before: &[SettingValues], now: &ClusterSettings) -> Vec<SettingChange> {
    before
        .iter()
        .map(|b| SettingChange {
            before: b.clone(),
            now: now.values_of(&b.key),
        })
        .filter(|c| c.before.in_force() != c.now.in_force())
        .collect()
}

pub const ENABLE_KEY: &str = "cluster.routing.allocation.enable";
pub const FILTER_PREFIX: &str = "cluster.routing.allocation.";

/// An allocation filter in force: `exclude._ip = 10.0.0.5` (transient), `exclude.zone = spot` ...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationFilter {
    /// `exclude`, `include` or `require`.
    pub kind: String,
    /// `_ip`, `_name`, `_host`, `_id`, or a node attribute such as `zone`.
    pub attribute: String,
    pub value: String,
    pub scope: Scope,
}

impl AllocationFilter {
    pub fn key(&self) -> String {
        format!("{FILTER_PREFIX}{}.{}", self.kind, self.attribute)
    }
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.value.split(',').map(str::trim).filter(|v| !v.is_empty())
    }
}

/// The allocation settings in force, with where each comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationSettings {
    pub enable: String,
    pub enable_scope: Scope,
    /// Only non-empty filters; a key set in both scopes appears once, with the transient value (it wins).
    pub filters: Vec<AllocationFilter>,
    /// Keys set in both scopes where the transient value hides a persistent one.
    pub shadowed: Vec<String>,
    pub awareness_attributes: String,
    pub watermarks: Watermarks,
}

impl Default for AllocationSettings {
    fn default() -> Self {
        Self {
            enable: "all".into(),
            enable_scope: Scope::Default,
            filters: Vec::new(),
            shadowed: Vec::new(),
            awareness_attributes: String::new(),
            watermarks: Watermarks::default(),
        }
    }
}

impl AllocationSettings {
    pub fn from_settings(s: &ClusterSettings) -> Self {
        let (enable, enable_scope) = s
            .effective(ENABLE_KEY)
            .map(|(v, sc)| (v.to_string(), sc))
            .unwrap_or_else(|| ("all".into(), Scope::Default));
        let mut filters = Vec::new();
        let mut shadowed = Vec::new();
        let mut keys: BTreeSet<&String> = s.persistent.keys().collect();
        keys.extend(s.transient.keys());
        for key in keys {
            let Some(rest) = key.strip_prefix(FILTER_PREFIX) else {
                continue;
            };
            let Some((kind, attribute)) = rest.split_once('.') else {
                continue;
            };
            if !matches!(kind, "exclude" | "include" | "require") {
                continue;
            }
            if s.transient.contains_key(key) && s.persistent.get(key).is_some_and(|p| !p.trim().is_empty()) {
                shadowed.push(key.clone());
            }
            if let Some((value, scope)) = s.effective(key)
                && !value.trim().is_empty()
            {
                filters.push(AllocationFilter {
                    kind: kind.into(),
                    attribute: attribute.into(),
                    value: value.into(),
                    scope,
                });
            }
        }
        let wm = |name: &str| s.effective(&format!("cluster.routing.allocation.disk.watermark.{name}"));
        let headroom = |name: &str| {
            wm(&format!("{name}.max_headroom")).and_then(|(v, _)| parse_size(v).filter(|_| v.trim() != "-1"))
        };
        let defaults = Watermarks::default();
        let watermarks = Watermarks {
            threshold_enabled: s
                .effective("cluster.routing.allocation.disk.threshold_enabled")
                .is_none_or(|(v, _)| v != "false"),
            low: wm("low").and_then(|(v, _)| parse_watermark(v)).unwrap_or(defaults.low),
            high: wm("high")
                .and_then(|(v, _)| parse_watermark(v))
                .unwrap_or(defaults.high),
            flood_stage: wm("flood_stage")
                .and_then(|(v, _)| parse_watermark(v))
                .unwrap_or(defaults.flood_stage),
            low_max_headroom: headroom("low"),
            high_max_headroom: headroom("high"),
            flood_stage_max_headroom: headroom("flood_stage"),
        };
        Self {
            enable,
            enable_scope,
            filters,
            shadowed,
            awareness_attributes: s
                .effective("cluster.routing.allocation.awareness.attributes")
                .map(|(v, _)| v.to_string())
                .unwrap_or_default(),
            watermarks,
        }
    }

    /// The filters excluding `node` (by name, ip, host, id or attribute; `*` wildcards), as `exclude._ip=…` labels.
    pub fn exclusions_of(&self, node: &EsNode) -> Vec<String> {
        self.filters
            .iter()
            .filter(|f| f.kind == "exclude")
            .filter(|f| {
                let have: Option<&str> = match f.attribute.as_str() {
                    "_name" => Some(&node.name),
                    "_ip" | "_host_ip" | "_publish_ip" => Some(&node.ip),
                    "_host" => Some(node.host.as_str()),
                    "_id" => Some(&node.id),
                    attr => node.attributes.get(attr).map(String::as_str),
                };
                have.is_some_and(|h| f.values().any(|pat| wildcard_match(pat, h)))
            })
            .map(|f| format!("exclude.{}={}", f.attribute, f.value))
            .collect()
    }
}

/// Elasticsearch's simple wildcard (`*` only), as its allocation filters use.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// One node, merged from `_nodes/stats`, `_cat/nodes` and `_cat/allocation`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct EsNode {
    pub id: String,
    pub name: String,
    /// Bare IP (a `host:port` answer has its port stripped): what `exclude._ip` matches.
    pub ip: String,
    pub host: String,
    pub roles: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub master: bool,
    pub disk_total: Option<u64>,
    pub disk_available: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_thresholds: Option<FreeSpaceThresholds>,
    pub heap_percent: Option<u32>,
    /// When the node's JVM started (epoch ms by the node's own clock: stats timestamp minus JVM
    /// uptime). A restarted node has a later one: that tells its new process from the old.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<u64>,
    /// Shards on the node according to `_cat/allocation`.
    pub shards: Option<u32>,
    // Derived in `EsState::build`:
    pub disk_level: DiskLevel,
    pub excluded_by: Vec<String>,
    /// Copies still naming this node in `_cat/shards` (as holder or relocation target).
    pub shard_rows: u32,
}

impl EsNode {
    pub fn disk_used_percent(&self) -> Option<f64> {
        match (self.disk_total, self.disk_available) {
            (Some(t), Some(a)) if t > 0 => Some((t.saturating_sub(a)) as f64 * 100.0 / t as f64),
            _ => None,
        }
    }
    pub fn zone(&self) -> Option<&str> {
        self.attributes.get("zone").map(String::as_str)
    }
    /// Roles as short text; `master`/`cluster_manager` and the data tiers collapse to one word each.
    pub fn roles_label(&self) -> String {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.roles {
            let short = match r.as_str() {
                "master" | "cluster_manager" => "master",
                r if r.starts_with("data") => "data",
                other => other,
            };
            if !out.contains(&short) {
                out.push(short);
            }
        }
        out.join(",")
    }

    /// Watermark level, from the node's own effective thresholds when it reports them (ES ≥ 8.14),
    /// else from the cluster settings.
    pub fn level_against(&self, w: &Watermarks) -> DiskLevel {
        let (Some(total), Some(avail)) = (self.disk_total, self.disk_available) else {
            return DiskLevel::Unknown;
        };
        let need = match self.effective_thresholds {
            Some(t) => [t.flood_stage, t.high, t.low],
            None => [
                w.flood_stage.required_free(total, w.flood_stage_max_headroom),
                w.high.required_free(total, w.high_max_headroom),
                w.low.required_free(total, w.low_max_headroom),
            ],
        };
        let levels = [DiskLevel::FloodStage, DiskLevel::High, DiskLevel::Low];
        need.iter()
            .zip(levels)
            .find(|(need, _)| avail < **need)
            .map_or(DiskLevel::Ok, |(_, l)| l)
    }
}

/// `_cat/allocation` row; the row named `UNASSIGNED` has no disk fields and counts unassigned shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationRow {
    pub node: String,
    pub ip: Option<String>,
    pub shards: u32,
    pub disk_used: Option<u64>,
    pub disk_avail: Option<u64>,
    pub disk_total: Option<u64>,
    pub disk_percent: Option<u32>,
}

/// An active recovery (`_cat/recovery?active_only=true`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovery {
    pub index: String,
    pub shard: u32,
    pub kind: String,
    pub stage: String,
    pub source_node: Option<String>,
    pub target_node: Option<String>,
    pub bytes_percent: f64,
    pub bytes_recovered: Option<u64>,
    pub bytes_total: Option<u64>,
    pub translog_percent: f64,
    pub time: String,
}

/// One node's verdict in an allocation explain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeDecision {
    pub node: String,
    pub decision: String,
    /// The first NO (or THROTTLE) decider with its explanation.
    pub decider: String,
    pub explanation: String,
}

/// `_cluster/allocation/explain` for one unassigned copy, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explain {
    pub index: String,
    pub shard: u32,
    pub primary: bool,
    pub current_state: String,
    pub can_allocate: Option<String>,
    pub explanation: String,
    pub unassigned_reason: Option<String>,
    pub last_allocation_status: Option<String>,
    pub nodes: Vec<NodeDecision>,
}

impl Explain {
    pub fn copy_key(&self) -> String {
        format!("{}/{}/{}", self.index, self.shard, if self.primary { "p" } else { "r" })
    }
}

/// What one poll returns: every answer of the batch, parsed.
#[derive(Debug, Clone, Default)]
pub struct EsPoll {
    pub distribution: Distribution,
    pub health: ClusterHealth,
    pub nodes: Vec<EsNode>,
    pub shards: Vec<ShardRow>,
    pub allocation: Vec<AllocationRow>,
    pub settings: ClusterSettings,
    pub recoveries: Vec<Recovery>,
    pub explains: Vec<Explain>,
    /// Requests of the batch that failed without failing the poll (explains), in words.
    pub notes: Vec<String>,
    /// Parts of the batch the cluster did not give (a read-only role, a managed service): the rest
    /// of the poll stands; these parts keep their last good values.
    pub refused: Vec<RefusedPart>,
}

/// A part of the poll batch that can fail on its own; health (and the version) cannot: without
/// them nothing else means anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EsPart {
    NodeStats,
    NodeList,
    Shards,
    Allocation,
    Settings,
    Recoveries,
}

impl EsPart {
    pub fn label(self) -> &'static str {
        match self {
            EsPart::NodeStats => "node stats",
            EsPart::NodeList => "node list",
            EsPart::Shards => "shards",
            EsPart::Allocation => "disk allocation",
            EsPart::Settings => "cluster settings",
            EsPart::Recoveries => "recoveries",
        }
    }

    /// What a person loses without this part.
    pub fn consequence(self) -> &'static str {
        match self {
            EsPart::NodeStats => "nodes, disk and heap",
            EsPart::NodeList => "node roles and addresses",
            EsPart::Shards => "the shard grid and unassigned copies",
            EsPart::Allocation => "shard counts per node",
            EsPart::Settings => "allocation settings and watermarks",
            EsPart::Recoveries => "recoveries in flight",
        }
    }
}

/// A part the last poll could not read, with the server's reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedPart {
    pub part: EsPart,
    pub reason: String,
    /// Whether the values shown for it are from an earlier poll (false: nothing is known yet).
    pub kept_from_earlier: bool,
}

/// Copies counted by state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ShardCounts {
    pub started: u32,
    pub relocating: u32,
    pub initializing: u32,
    pub unassigned: u32,
    pub other: u32,
    pub primaries: u32,
    pub replicas: u32,
}

/// A node seen in an earlier poll and absent since: shown greyed and alerted on until it rejoins or
/// the user acknowledges it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartedNode {
    /// The node as last seen.
    pub node: EsNode,
    #[serde(serialize_with = "opsdeck_core::time::serialize_rfc3339")]
    pub left_at: SystemTime,
    pub acknowledged: bool,
}

/// How many health samples to keep (status over time, for the header).
pub const HEALTH_HISTORY: usize = 120;

/// The cluster as the pane shows it; the `snapshot` JSON is this, serialized.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EsState {
    pub distribution: Distribution,
    pub health: ClusterHealth,
    pub nodes: Vec<EsNode>,
    pub shard_counts: ShardCounts,
    pub unassigned: Vec<ShardRow>,
    pub settings: AllocationSettings,
    pub recoveries: Vec<Recovery>,
    /// Unassigned copies per `_cat/allocation`'s `UNASSIGNED` row.
    pub unassigned_per_allocation: u32,
    pub explains: Vec<Explain>,
    pub notes: Vec<String>,
    /// Every copy (20k+ rows on big clusters: not in the snapshot JSON).
    #[serde(skip)]
    pub shards: Vec<ShardRow>,
    #[serde(skip)]
    pub raw_settings: ClusterSettings,
    /// Recent health statuses, oldest first.
    #[serde(skip)]
    pub health_history: Vec<HealthStatus>,
    /// Nodes that left the cluster since opsdeck saw them (by name), oldest departure first.
    pub departed: Vec<DepartedNode>,
    /// Parts of the last poll the cluster did not give.
    pub refused: Vec<RefusedPart>,
}

impl EsState {
    /// Builds the state from one poll (derived fields: disk levels, exclusions, counts).
    pub fn build(poll: EsPoll) -> EsState {
        let settings = AllocationSettings::from_settings(&poll.settings);
        let mut counts = ShardCounts::default();
        let mut per_node: foldhash::HashMap<&str, u32> = foldhash::HashMap::default();
        for s in &poll.shards {
            match s.state {
                ShardState::Started => counts.started += 1,
                ShardState::Relocating => counts.relocating += 1,
                ShardState::Initializing => counts.initializing += 1,
                ShardState::Unassigned => counts.unassigned += 1,
                ShardState::Other(_) => counts.other += 1,
            }
            if s.primary {
                counts.primaries += 1
            } else {
                counts.replicas += 1
            }
            if let Some(n) = &s.node {
                *per_node.entry(&**n).or_default() += 1;
            }
            if let Some(t) = &s.relocating_to {
                *per_node.entry(t.name.as_str()).or_default() += 1;
            }
        }
        let alloc: HashMap<&str, &AllocationRow> = poll.allocation.iter().map(|a| (a.node.as_str(), a)).collect();
        let mut nodes = poll.nodes.clone();
        for n in &mut nodes {
            if let Some(a) = alloc.get(n.name.as_str()) {
                n.shards = Some(a.shards);
                if n.disk_total.is_none() {
                    n.disk_total = a.disk_total;
                    n.disk_available = a.disk_avail;
                }
            }
            n.disk_level = n.level_against(&settings.watermarks);
            n.excluded_by = settings.exclusions_of(n);
            n.shard_rows = per_node.get(n.name.as_str()).copied().unwrap_or(0);
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let unassigned = poll
            .shards
            .iter()
            .filter(|s| s.state == ShardState::Unassigned)
            .cloned()
            .collect();
        EsState {
            distribution: poll.distribution,
            health: poll.health,
            nodes,
            shard_counts: counts,
            unassigned,
            settings,
            recoveries: poll.recoveries,
            unassigned_per_allocation: poll
                .allocation
                .iter()
                .find(|a| a.node == "UNASSIGNED")
                .map_or(0, |a| a.shards),
            explains: poll.explains,
            notes: poll.notes,
            shards: poll.shards,
            raw_settings: poll.settings,
            health_history: Vec::new(),
            departed: Vec::new(),
            refused: poll.refused,
        }
    }

    pub fn node_by_name(&self, name: &str) -> Option<&EsNode> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn explain_for(&self, copy_key: &str) -> Option<&Explain> {
        self.explains.iter().find(|e| e.copy_key() == copy_key)
    }

    /// Marks `name`'s departure as seen by the user: it no longer alerts (it stays listed, greyed).
    /// False when no departed node has that name.
    pub fn acknowledge_departure(&mut self, name: &str) -> bool {
        let found = self.departed.iter_mut().find(|d| d.node.name == name);
        found.map(|d| d.acknowledged = true).is_some()
    }

    /// Index names, sorted.
    pub fn indices(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.shards.iter().map(|s| &*s.index).collect();
        set.into_iter().collect()
    }
}

/// One poll as it reaches the app. A poll the cluster answered in full is built into the pane's
/// state in the poller's task: building 20,000 shard rows costs milliseconds that the loop drawing
/// the screen should not spend. A poll with refused parts needs the last state's parts, which only
/// the app has: it is built where it is absorbed.
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "an answer travels boxed (`EsAnswer::of`)")]
pub enum EsAnswer {
    Built(EsState),
    Partial(EsPoll),
}

impl EsAnswer {
    /// `poll`, built now when nothing in it was refused.
    pub fn of(poll: EsPoll) -> Box<Self> {
        Box::new(if poll.refused.is_empty() {
            Self::Built(EsState::build(poll))
        } else {
            Self::Partial(poll)
        })
    }
}

impl FeedData for EsState {
    /// Boxed: an answer is large and travels inside `SourceUpdate` with the other sources' small
    /// ones.
    type Poll = Box<EsAnswer>;
    fn absorb(current: &mut Option<Self>, answer: Self::Poll, at: SystemTime) {
        let mut previous = current.take();
        let mut next = match *answer {
            EsAnswer::Built(state) => state,
            EsAnswer::Partial(mut poll) => {
                if let Some(p) = &previous {
                    keep_refused_parts(&mut poll, p);
                }
                EsState::build(poll)
            }
        };
        let (mut history, departed) = match &mut previous {
            Some(p) => (std::mem::take(&mut p.health_history), departures(p, &next, at)),
            None => Default::default(),
        };
        history.push(next.health.status);
        if history.len() > HEALTH_HISTORY {
            history.drain(..history.len() - HEALTH_HISTORY);
        }
        next.health_history = history;
        next.departed = departed;
        *current = Some(next);
        // What is left of the previous answer (every shard row) is freed off the loop that draws.
        opsdeck_core::garbage::drop_elsewhere(previous);
    }
}

/// The parts `poll` could not read, taken from the state before it: a refused node-stats call must
/// not empty the node table (nor report every node as departed).
fn keep_refused_parts(poll: &mut EsPoll, previous: &EsState) {
    for r in &mut poll.refused {
        r.kept_from_earlier = match r.part {
            EsPart::NodeStats => {
                poll.nodes = previous.nodes.clone();
                !poll.nodes.is_empty()
            }
            EsPart::Shards => {
                poll.shards = previous.shards.clone();
                !poll.shards.is_empty()
            }
            EsPart::Settings => {
                poll.settings = previous.raw_settings.clone();
                true
            }
            EsPart::Recoveries => {
                poll.recoveries = previous.recoveries.clone();
                true
            }
            // Merged into the nodes kept above, or re-derived from them.
            EsPart::NodeList | EsPart::Allocation => !previous.nodes.is_empty(),
        };
    }
}

/// Nodes of `previous` (listed, or already departed) that `next` does not list: a node that leaves
/// is kept with the time it was first missed; one that rejoins (same name) is dropped.
fn departures(previous: &EsState, next: &EsState, at: SystemTime) -> Vec<DepartedNode> {
    let listed = |name: &str| next.nodes.iter().any(|n| n.name == name);
    let mut out: Vec<DepartedNode> = previous
        .departed
        .iter()
        .filter(|d| !listed(&d.node.name))
        .cloned()
        .collect();
    for n in previous.nodes.iter().filter(|n| !listed(&n.name)) {
        out.push(DepartedNode {
            node: n.clone(),
            left_at: at,
            acknowledged: false,
        });
    }
    out
}

/// The copies that exist ONLY on `nodes` (no STARTED/RELOCATING copy elsewhere): removing those nodes loses them.
/// Sorted by index, then shard. The copies on `nodes` (a small share) are keyed first, so the pass
/// over every other copy is a lookup each, not an insert into an ordered set; keyed with foldhash,
/// as the footer asks on every selection move (SipHash of 20,000 names was a third of it).
pub fn last_copies_on(shards: &[ShardRow], nodes: &[&EsNode]) -> Vec<String> {
    let on = |s: &ShardRow| nodes.iter().any(|n| s.node.as_deref() == Some(n.name.as_str()));
    let active = |s: &&ShardRow| matches!(s.state, ShardState::Started | ShardState::Relocating);
    // (index, shard) on `nodes` → whether an active copy exists elsewhere.
    let mut here: foldhash::HashMap<(&str, u32), bool> = shards
        .iter()
        .filter(active)
        .filter(|s| on(s))
        .map(|s| ((&*s.index, s.shard), false))
        .collect();
    if here.is_empty() {
        return Vec::new();
    }
    for s in shards.iter().filter(active).filter(|s| !on(s)) {
        if let Some(elsewhere) = here.get_mut(&(&*s.index, s.shard)) {
            *elsewhere = true;
        }
    }
    let mut last: Vec<(&str, u32)> = here
        .into_iter()
        .filter(|(_, elsewhere)| !elsewhere)
        .map(|(copy, _)| copy)
        .collect();
    last.sort_unstable();
    last.into_iter().map(|(i, n)| format!("{i}/{n}")).collect()
}

/// A watermark value: `85%`, a ratio `0.85`, or free bytes `500mb`. `None` when unreadable.
pub fn parse_watermark(s: &str) -> Option<Watermark> {
    let s = s.trim();
    if let Some(p) = s.strip_suffix('%') {
        return p.trim().parse::<f64>().ok().map(Watermark::UsedPercent);
    }
    if let Ok(r) = s.parse::<f64>() {
        // A bare number is a ratio; Elasticsearch rejects bare numbers above 1 (they are not bytes either).
        return (0.0..=1.0).contains(&r).then_some(Watermark::UsedPercent(r * 100.0));
    }
    parse_size(s).map(Watermark::FreeBytes)
}

/// A byte size as Elasticsearch writes it: `208b`, `36.4mb`, `200GB`, `1.5tb`, or a bare integer.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim() {
        "b" => 1.0,
        "k" | "kb" => 1024.0,
        "m" | "mb" => 1024f64.powi(2),
        "g" | "gb" => 1024f64.powi(3),
        "t" | "tb" => 1024f64.powi(4),
        "p" | "pb" => 1024f64.powi(5),
        _ => return None,
    };
    Some((num * mult) as u64)
}

/// `1.5 GiB`-style text for the UI.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_forms() {
        assert_eq!(parse_watermark("85%"), Some(Watermark::UsedPercent(85.0)));
        assert_eq!(parse_watermark("0.9"), Some(Watermark::UsedPercent(90.0)));
        assert_eq!(parse_watermark("500mb"), Some(Watermark::FreeBytes(500 * 1024 * 1024)));
        assert_eq!(parse_watermark("2gb"), Some(Watermark::FreeBytes(2 << 30)));
        assert_eq!(parse_watermark("85"), None);
        assert_eq!(parse_watermark("lots"), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("208b"), Some(208));
        assert_eq!(parse_size("36.4mb"), Some((36.4 * 1024.0 * 1024.0) as u64));
        assert_eq!(parse_size("200GB"), Some(200 << 30));
        assert_eq!(parse_size("12345"), Some(12345));
        assert_eq!(parse_size("-1"), None);
    }

    fn node(total: u64, avail: u64) -> EsNode {
        EsNode {
            name: "n".into(),
            disk_total: Some(total),
            disk_available: Some(avail),
            ..EsNode::default()
        }
    }

    #[test]
    fn levels_against_percent_and_absolute_watermarks() {
        let w = Watermarks::default();
        assert_eq!(node(100, 20).level_against(&w), DiskLevel::Ok);
        assert_eq!(node(100, 14).level_against(&w), DiskLevel::Low);
        assert_eq!(node(100, 9).level_against(&w), DiskLevel::High);
        assert_eq!(node(100, 4).level_against(&w), DiskLevel::FloodStage);
        let abs = Watermarks {
            low: Watermark::FreeBytes(50),
            high: Watermark::FreeBytes(30),
            flood_stage: Watermark::FreeBytes(10),
            ..Watermarks::default()
        };
        assert_eq!(node(1000, 40).level_against(&abs), DiskLevel::Low);
        assert_eq!(node(1000, 5).level_against(&abs), DiskLevel::FloodStage);
        // 8.5+ headroom: on a 10 TB disk 85% would demand 1.5 TB free; a 200 GB headroom caps it.
        let tb = 1u64 << 40;
        let head = Watermarks {
            low_max_headroom: Some(200 << 30),
            high_max_headroom: Some(150 << 30),
            flood_stage_max_headroom: Some(100 << 30),
            ..Watermarks::default()
        };
        assert_eq!(node(10 * tb, 300 << 30).level_against(&head), DiskLevel::Ok);
        assert_eq!(node(10 * tb, 180 << 30).level_against(&head), DiskLevel::Low);
        assert_eq!(node(10 * tb, 300 << 30).level_against(&w), DiskLevel::FloodStage);
        assert_eq!(EsNode::default().level_against(&w), DiskLevel::Unknown);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("10.0.*", "10.0.3.4"));
        assert!(wildcard_match("*-spot-*", "es-spot-3"));
        assert!(!wildcard_match("10.0.*", "10.1.0.1"));
        assert!(wildcard_match("a", "a"));
    }

    #[test]
    fn transient_wins_and_shadowing_is_reported() {
        let mut s = ClusterSettings::default();
        s.persistent.insert(ENABLE_KEY.into(), "all".into());
        s.transient.insert(ENABLE_KEY.into(), "none".into());
        s.persistent
            .insert("cluster.routing.allocation.exclude._ip".into(), "10.0.0.1".into());
        s.transient
            .insert("cluster.routing.allocation.exclude._ip".into(), "10.0.0.2".into());
        s.persistent
            .insert("cluster.routing.allocation.exclude.zone".into(), "".into());
        let a = AllocationSettings::from_settings(&s);
        assert_eq!((a.enable.as_str(), a.enable_scope), ("none", Scope::Transient));
        assert_eq!(a.filters.len(), 1);
        assert_eq!(a.filters[0].value, "10.0.0.2");
        assert_eq!(a.shadowed, vec!["cluster.routing.allocation.exclude._ip".to_string()]);
    }
}
