//! Answers of Elasticsearch / OpenSearch, parsed into model types. Tolerant of what versions differ in:
//! cat values are strings and may be null, unknown enum values are kept, nested or flat settings,
//! `ip` with or without a port, `master` or OpenSearch's `cluster_manager`.

use crate::model::*;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type R<T> = Result<T, String>;

/// The answer as `T`, every string in it (keys too) made safe to show: names, reasons and
/// explanations come from the cluster and end up on a terminal. Answers that cannot hold such a
/// character (nearly all) are decoded straight into `T`; the others through a `Value` cleaned first.
fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> R<T> {
    if !may_hold_unsafe_text(body) {
        return serde_json::from_slice(body).map_err(|e| e.to_string());
    }
    let mut v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    clean_json(&mut v);
    T::deserialize(v).map_err(|e| e.to_string())
}

/// Whether a JSON text could decode to a string with a character a terminal would act on. Raw C0
/// bytes are not valid inside JSON strings, so such a character comes as an escape (`\u…`, `\b`,
/// `\f`, `\n`, `\r`, `\t`), or raw as DEL, a C1 control (UTF-8 `C2 80`..`C2 9F`) or a bidi
/// control (`D8 9C`, `E2 80 8E`/`8F`/`AA`..`AE`, `E2 81 A6`..`A9`). Errs on the safe side: any such
/// escape counts, whatever it encodes.
fn may_hold_unsafe_text(body: &[u8]) -> bool {
    let at = |i: usize| body.get(i).copied().unwrap_or(0);
    body.iter().enumerate().any(|(i, &b)| match b {
        b'\\' => matches!(at(i + 1), b'u' | b'b' | b'f' | b'n' | b'r' | b't'),
        0x7f => true,
        0xc2 => (0x80..=0x9f).contains(&at(i + 1)),
        0xd8 => at(i + 1) == 0x9c,
        0xe2 => matches!(
            (at(i + 1), at(i + 2)),
            (0x80, 0x8e | 0x8f | 0xaa..=0xae) | (0x81, 0xa6..=0xa9)
        ),
        _ => false,
    })
}

/// Replaces what a terminal would act on in every string and key of `v`.
pub fn clean_json(v: &mut Value) {
    use opsdeck_core::text::{clean, clean_in_place};
    match v {
        Value::String(s) => clean_in_place(s),
        Value::Array(items) => items.iter_mut().for_each(clean_json),
        Value::Object(map) => {
            if map.keys().any(|k| matches!(clean(k), std::borrow::Cow::Owned(_))) {
                let old = std::mem::take(map);
                map.extend(old.into_iter().map(|(k, v)| (clean(&k).into_owned(), v)));
            }
            map.values_mut().for_each(clean_json);
        }
        _ => {}
    }
}

/// `GET /`: Elasticsearch or OpenSearch, and which version.
pub fn parse_info(body: &[u8]) -> R<Distribution> {
    #[derive(Deserialize)]
    struct Info {
        version: Version,
    }
    #[derive(Deserialize)]
    struct Version {
        number: String,
        distribution: Option<String>,
    }
    let info: Info = decode(body)?;
    let flavor = if info.version.distribution.as_deref() == Some("opensearch") {
        Flavor::OpenSearch
    } else {
        Flavor::Elasticsearch
    };
    let major = info
        .version
        .number
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    Ok(Distribution {
        flavor,
        version: info.version.number,
        major,
        restarts_on_request: false,
    })
}

/// `GET /_cluster/health`.
pub fn parse_health(body: &[u8]) -> R<ClusterHealth> {
    #[derive(Deserialize)]
    struct H {
        cluster_name: String,
        status: String,
        #[serde(default)]
        number_of_nodes: u32,
        #[serde(default)]
        number_of_data_nodes: u32,
        #[serde(default)]
        active_primary_shards: u32,
        #[serde(default)]
        active_shards: u32,
        #[serde(default)]
        relocating_shards: u32,
        #[serde(default)]
        initializing_shards: u32,
        #[serde(default)]
        unassigned_shards: u32,
        #[serde(default)]
        delayed_unassigned_shards: u32,
        #[serde(default)]
        number_of_pending_tasks: u32,
        #[serde(default)]
        active_shards_percent_as_number: f64,
    }
    let h: H = decode(body)?;
    Ok(ClusterHealth {
        cluster_name: h.cluster_name,
        status: HealthStatus::parse(&h.status),
        number_of_nodes: h.number_of_nodes,
        number_of_data_nodes: h.number_of_data_nodes,
        active_primary_shards: h.active_primary_shards,
        active_shards: h.active_shards,
        relocating_shards: h.relocating_shards,
        initializing_shards: h.initializing_shards,
        unassigned_shards: h.unassigned_shards,
        delayed_unassigned_shards: h.delayed_unassigned_shards,
        number_of_pending_tasks: h.number_of_pending_tasks,
        active_shards_percent: h.active_shards_percent_as_number,
    })
}

/// `10.0.0.5:9300` → `10.0.0.5`, `[::1]:9300` → `::1`; a bare address is returned as is.
pub fn strip_port(addr: &str) -> String {
    let a = addr.trim();
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match a.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address.
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => host.to_string(),
        _ => a.to_string(),
    }
}

/// `GET /_nodes/stats/fs,jvm`: nodes keyed by id, with disk and heap.
pub fn parse_node_stats(body: &[u8]) -> R<Vec<EsNode>> {
    #[derive(Deserialize)]
    struct Stats {
        nodes: HashMap<String, N>,
    }
    #[derive(Deserialize)]
    struct N {
        name: String,
        #[serde(default)]
        host: Option<String>,
        #[serde(default)]
        ip: Option<Value>,
        #[serde(default)]
        transport_address: Option<String>,
        #[serde(default)]
        roles: Vec<String>,
        #[serde(default)]
        attributes: BTreeMap<String, String>,
        #[serde(default)]
        fs: Option<Fs>,
        #[serde(default)]
        jvm: Option<Jvm>,
        /// When the node took these stats (epoch ms, the node's clock).
        #[serde(default)]
        timestamp: Option<u64>,
    }
    #[derive(Deserialize)]
    struct Fs {
        total: Option<FsTotal>,
        #[serde(default)]
        data: Vec<FsData>,
    }
    #[derive(Deserialize)]
    struct FsTotal {
        total_in_bytes: Option<u64>,
        available_in_bytes: Option<u64>,
    }
    #[derive(Deserialize)]
    struct FsData {
        low_watermark_free_space_in_bytes: Option<u64>,
        high_watermark_free_space_in_bytes: Option<u64>,
        flood_stage_free_space_in_bytes: Option<u64>,
    }
    #[derive(Deserialize)]
    struct Jvm {
        mem: Option<Mem>,
        #[serde(default)]
        uptime_in_millis: Option<u64>,
        /// When the JVM stats were taken (epoch ms, the node's clock).
        #[serde(default)]
        timestamp: Option<u64>,
    }
    #[derive(Deserialize)]
    struct Mem {
        heap_used_percent: Option<u32>,
    }
    let s: Stats = decode(body)?;
    let mut out = Vec::with_capacity(s.nodes.len());
    for (id, n) in s.nodes {
        let ip = match &n.ip {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(String::from),
            _ => None,
        }
        .or(n.transport_address.clone())
        .map(|s| strip_port(&s))
        .unwrap_or_default();
        let thresholds = n.fs.as_ref().and_then(|fs| {
            // Several data paths: the tightest one decides.
            fs.data
                .iter()
                .filter_map(|d| {
                    Some(FreeSpaceThresholds {
                        low: d.low_watermark_free_space_in_bytes?,
                        high: d.high_watermark_free_space_in_bytes?,
                        flood_stage: d.flood_stage_free_space_in_bytes?,
                    })
                })
                .max_by_key(|t| t.low)
        });
        out.push(EsNode {
            id,
            name: n.name,
            ip,
            host: n.host.unwrap_or_default(),
            roles: n.roles,
            attributes: n.attributes,
            disk_total: n.fs.as_ref().and_then(|f| f.total.as_ref()?.total_in_bytes),
            disk_available: n.fs.as_ref().and_then(|f| f.total.as_ref()?.available_in_bytes),
            effective_thresholds: thresholds,
            started_at_ms: n.jvm.as_ref().and_then(|j| {
                let at = j.timestamp.or(n.timestamp)?;
                at.checked_sub(j.uptime_in_millis?)
            }),
            heap_percent: n.jvm.and_then(|j| j.mem?.heap_used_percent),
            ..EsNode::default()
        });
    }
    Ok(out)
}

/// One `_cat/nodes` row (`h=id,name,ip,node.role,master`). OpenSearch 2 may answer `cluster_manager`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatNode {
    pub id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<String>,
    #[serde(rename = "node.role")]
    pub role: Option<String>,
    #[serde(alias = "cluster_manager")]
    pub master: Option<String>,
}

pub fn parse_cat_nodes(body: &[u8]) -> R<Vec<CatNode>> {
    decode(body)
}

/// Marks the elected master and fills nodes `_nodes/stats` did not describe.
pub fn merge_cat_nodes(nodes: &mut Vec<EsNode>, cat: &[CatNode]) {
    for c in cat {
        let found = nodes
            .iter_mut()
            .find(|n| c.id.as_deref().is_some_and(|id| id == n.id) || c.name.as_deref().is_some_and(|nm| nm == n.name));
        let is_master = c.master.as_deref() == Some("*");
        match found {
            Some(n) => n.master = is_master,
            None => nodes.push(EsNode {
                id: c.id.clone().unwrap_or_default(),
                name: c.name.clone().unwrap_or_default(),
                ip: c.ip.as_deref().map(strip_port).unwrap_or_default(),
                roles: c.role.iter().cloned().collect(),
                master: is_master,
                ..EsNode::default()
            }),
        }
    }
}

/// The `node` cell of a RELOCATING row: `"src -> 10.0.0.7 nodeId target name"` (names may contain spaces).
pub fn parse_node_cell(cell: &str) -> (String, Option<RelocationTarget>) {
    match cell.split_once(" -> ") {
        None => (cell.trim().to_string(), None),
        Some((src, rest)) => {
            let mut parts = rest.trim().splitn(3, ' ');
            let ip = parts.next().unwrap_or_default().to_string();
            let id = parts.next().unwrap_or_default().to_string();
            let name = parts.next().unwrap_or_default().trim().to_string();
            (
                src.trim().to_string(),
                Some(RelocationTarget {
                    ip: strip_port(&ip),
                    id,
                    name,
                }),
            )
        }
    }
}

fn num<T: std::str::FromStr>(v: &Option<String>) -> Option<T> {
    v.as_deref().and_then(|s| s.trim().parse().ok())
}

fn size(v: &Option<String>) -> Option<u64> {
    v.as_deref().and_then(parse_size)
}

/// One shared copy of each index, node and address name a `_cat/shards` answer repeats.
#[derive(Default)]
struct Names(std::collections::HashSet<Arc<str>>);

impl Names {
    fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(kept) = self.0.get(name) {
            return Arc::clone(kept);
        }
        let kept: Arc<str> = Arc::from(name);
        self.0.insert(Arc::clone(&kept));
        kept
    }
}

/// `GET /_cat/shards?format=json&bytes=b&h=...` (also accepts human sizes, as in the 7.15 capture).
pub fn parse_shards(body: &[u8]) -> R<Vec<ShardRow>> {
    #[derive(Deserialize)]
    struct S {
        index: Option<String>,
        shard: Option<String>,
        prirep: Option<String>,
        state: Option<String>,
        docs: Option<String>,
        store: Option<String>,
        ip: Option<String>,
        id: Option<String>,
        node: Option<String>,
        #[serde(rename = "unassigned.reason")]
        reason: Option<String>,
    }
    let rows: Vec<S> = decode(body)?;
    let mut names = Names::default();
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        let (Some(index), Some(shard)) = (r.index.as_deref().map(|i| names.get(i)), num::<u32>(&r.shard)) else {
            return Err(format!("row {i}: no index or shard number"));
        };
        let (node, relocating_to) = match r.node.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(cell) => {
                let (n, t) = parse_node_cell(cell);
                (Some(names.get(&n)), t)
            }
            None => (None, None),
        };
        out.push(ShardRow {
            index,
            shard,
            primary: matches!(r.prirep.as_deref(), Some("p" | "primary")),
            state: ShardState::parse(r.state.as_deref().unwrap_or("UNKNOWN")),
            docs: num(&r.docs),
            store_bytes: size(&r.store),
            ip: r.ip.as_deref().map(|ip| names.get(ip)),
            node_id: r.id.as_deref().map(|id| names.get(id)),
            node,
            relocating_to,
            unassigned_reason: r.reason,
        });
    }
    Ok(out)
}

/// `GET /_cat/allocation?format=json&bytes=b`; keeps the `UNASSIGNED` pseudo-row (all disk fields null).
pub fn parse_allocation(body: &[u8]) -> R<Vec<AllocationRow>> {
    #[derive(Deserialize)]
    struct A {
        shards: Option<String>,
        #[serde(rename = "disk.used")]
        used: Option<String>,
        #[serde(rename = "disk.avail")]
        avail: Option<String>,
        #[serde(rename = "disk.total")]
        total: Option<String>,
        #[serde(rename = "disk.percent")]
        percent: Option<String>,
        ip: Option<String>,
        node: Option<String>,
    }
    let rows: Vec<A> = decode(body)?;
    Ok(rows
        .into_iter()
        .filter_map(|a| {
            Some(AllocationRow {
                node: a.node?,
                ip: a.ip,
                shards: num(&a.shards).unwrap_or(0),
                disk_used: size(&a.used),
                disk_avail: size(&a.avail),
                disk_total: size(&a.total),
                disk_percent: num(&a.percent),
            })
        })
        .collect())
}

/// Flattens nested settings (`{"cluster":{"routing":…}}`) or flat ones into dotted keys; lists join with `,`.
pub fn flatten_settings(v: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Array(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                out.insert(prefix.to_string(), parts.join(","));
            }
            Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            Value::Null => {}
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out);
    out
}

/// `GET /_cluster/settings?include_defaults=true&flat_settings=true` (nested answers work too).
pub fn parse_settings(body: &[u8]) -> R<ClusterSettings> {
    let v: Value = decode(body)?;
    if !v.is_object() || v.get("persistent").is_none() {
        return Err("no persistent settings in the answer".into());
    }
    let scope = |k: &str| v.get(k).map(flatten_settings).unwrap_or_default();
    Ok(ClusterSettings {
        persistent: scope("persistent"),
        transient: scope("transient"),
        defaults: scope("defaults"),
    })
}

fn percent(v: &Option<String>) -> f64 {
    v.as_deref()
        .and_then(|s| s.trim().trim_end_matches('%').parse().ok())
        .unwrap_or(0.0)
}

/// `GET /_cat/recovery?active_only=true&format=json&bytes=b&h=...`.
pub fn parse_recovery(body: &[u8]) -> R<Vec<Recovery>> {
    #[derive(Deserialize)]
    struct Rec {
        index: Option<String>,
        shard: Option<String>,
        time: Option<String>,
        #[serde(rename = "type")]
        kind: Option<String>,
        stage: Option<String>,
        source_node: Option<String>,
        target_node: Option<String>,
        bytes_percent: Option<String>,
        bytes_recovered: Option<String>,
        bytes_total: Option<String>,
        translog_ops_percent: Option<String>,
    }
    let rows: Vec<Rec> = decode(body)?;
    Ok(rows
        .into_iter()
        .map(|r| Recovery {
            shard: num(&r.shard).unwrap_or(0),
            index: r.index.unwrap_or_default(),
            kind: r.kind.unwrap_or_default(),
            stage: r.stage.unwrap_or_default(),
            source_node: r.source_node.filter(|s| s != "n/a"),
            target_node: r.target_node,
            bytes_percent: percent(&r.bytes_percent),
            bytes_recovered: size(&r.bytes_recovered),
            bytes_total: size(&r.bytes_total),
            translog_percent: percent(&r.translog_ops_percent),
            time: r.time.unwrap_or_default(),
        })
        .collect())
}

/// `POST /_cluster/allocation/explain` for one copy, summarised: per node the first NO/THROTTLE decider.
pub fn parse_explain(body: &[u8]) -> R<Explain> {
    let v: Value = decode(body)?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let index = s(&v, "index").ok_or("no index in the explain answer")?;
    let shard = v.get("shard").and_then(Value::as_u64).unwrap_or(0) as u32;
    let nodes = v
        .get("node_allocation_decisions")
        .and_then(Value::as_array)
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    let deciders = d.get("deciders").and_then(Value::as_array);
                    let first = deciders.and_then(|ds| {
                        ds.iter()
                            .find(|x| s(x, "decision").is_some_and(|d| d != "YES"))
                            .or_else(|| ds.first())
                    });
                    NodeDecision {
                        node: s(d, "node_name").unwrap_or_default(),
                        decision: s(d, "node_decision").unwrap_or_default(),
                        decider: first.and_then(|f| s(f, "decider")).unwrap_or_default(),
                        explanation: first.and_then(|f| s(f, "explanation")).unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let unassigned = v.get("unassigned_info");
    Ok(Explain {
        index,
        shard,
        primary: v.get("primary").and_then(Value::as_bool).unwrap_or(false),
        current_state: s(&v, "current_state").unwrap_or_default(),
        can_allocate: s(&v, "can_allocate"),
        explanation: s(&v, "allocate_explanation")
            .or_else(|| s(&v, "explanation"))
            .unwrap_or_default(),
        unassigned_reason: unassigned.and_then(|u| s(u, "reason")),
        last_allocation_status: unassigned.and_then(|u| s(u, "last_allocation_status")),
        nodes,
    })
}
