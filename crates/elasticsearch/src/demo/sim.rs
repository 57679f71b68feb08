//! A simulated Elasticsearch cluster: nodes, shard copies, allocation settings and a simplified allocator
//! that moves shards over ticks (exclusions, `enable`, same-shard, disk watermarks, node loss, retries).
//!
//! Answers are shaped like the real ones (cat values as strings, nulls for unassigned copies, the
//! `"src -> ip id target"` node cell of relocating rows, the `UNASSIGNED` allocation row); the test
//! `sim_answers_have_fixture_shapes` checks them against real captures.

use crate::model::{Flavor, parse_watermark, wildcard_match};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct SimNode {
    pub id: String,
    pub name: String,
    pub ip: String,
    pub zone: String,
    pub disk_total: u64,
    /// Disk used by everything but shards.
    pub base_used: u64,
    pub up: bool,
    /// Ticks until a stopped node comes back by itself (`None`: stays down until started).
    pub back_in: Option<u32>,
    pub heap: u32,
    /// The tick its process started (its JVM uptime counts from there; one tick is a second).
    pub started_tick: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyState {
    Started,
    Initializing,
    Relocating,
    Unassigned,
}

#[derive(Debug, Clone)]
pub struct SimCopy {
    pub index: String,
    pub shard: u32,
    pub primary: bool,
    pub state: CopyState,
    pub node: Option<usize>,
    /// Relocation target.
    pub target: Option<usize>,
    /// 0..=100 of the running recovery (initializing or relocating).
    pub progress: u32,
    pub size: u64,
    pub docs: u64,
    pub reason: Option<String>,
    pub failed_attempts: u32,
    /// The node that held it before it became unassigned (a returning node gets its copy back first).
    pub last_node: Option<usize>,
}

/// Faults injected into every answer (tests and the demo's bad moments).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    Status(u16),
    Malformed,
    DelayMs(u64),
}

/// Credentials the simulated server accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Basic(String, String),
    /// The `encoded` API key, sent as `Authorization: ApiKey …`.
    ApiKey(String),
}

#[derive(Debug, Clone)]
pub struct SimCluster {
    pub name: String,
    pub flavor: Flavor,
    pub version: String,
    pub nodes: Vec<SimNode>,
    pub copies: Vec<SimCopy>,
    pub persistent: BTreeMap<String, String>,
    pub transient: BTreeMap<String, String>,
    pub ticks: u64,
    pub fault: Option<Fault>,
    /// Paths (prefixes) answered with an error status, as a role without the privilege or a managed
    /// service without the endpoint answers them; the rest is served.
    pub refused_paths: Vec<(String, u16)>,
    /// The credentials the server demands, if any.
    pub auth: Option<Auth>,
    /// With security on, the cluster privileges the user holds (`_has_privileges` answers from
    /// them); `None`: security off, the security API answers as a server without it does.
    pub granted: Option<Vec<String>>,
    /// Recovery progress per tick (percent).
    pub speed: u32,
    /// Every request served, as `METHOD path?query` (tests assert the batch).
    pub log: Vec<String>,
    /// What the nodes log about what happens to them, when recorded (`Some`): the demo takes the
    /// lines after each tick and appends them to each node's log file. `None` (the default): nothing
    /// is kept.
    pub node_log: Option<Vec<NodeLogLine>>,
}

/// One line a node logs (the writer adds the timestamp, as Elasticsearch's log4j pattern does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLogLine {
    pub node: String,
    /// `INFO`, `WARN`, `ERROR`.
    pub level: &'static str,
    /// The abbreviated logger, e.g. `o.e.n.Node`.
    pub logger: &'static str,
    pub message: String,
}

impl NodeLogLine {
    /// The line in Elasticsearch's format: `[time][LEVEL][logger] [node] message`.
    pub fn format(&self, time: &str) -> String {
        format!(
            "[{time}][{:<5}][{:<25}] [{}] {}",
            self.level, self.logger, self.node, self.message
        )
    }
}

const NODE: &str = "o.e.n.Node";
const ALLOCATION: &str = "o.e.c.r.a.AllocationService";
const RECOVERY: &str = "o.e.i.r.PeerRecoveryTargetService";
const SHARD: &str = "o.e.i.s.IndexShard";
const DISK: &str = "o.e.c.r.a.DiskThresholdMonitor";
const GC: &str = "o.e.m.j.JvmGcMonitorService";
const MASTER: &str = "o.e.c.s.MasterService";

pub const GB: u64 = 1 << 30;
const MAX_RETRIES: u32 = 5;

impl SimCluster {
    /// An empty cluster of `nodes` (name, zone) with 100 GB disks.
    pub fn new(name: &str, nodes: &[(&str, &str)]) -> Self {
        let nodes = nodes
            .iter()
            .enumerate()
            .map(|(i, (n, z))| SimNode {
                id: format!("{:X<22}", format!("sim{i}N")),
                name: n.to_string(),
                ip: format!("10.0.0.{}", i + 11),
                zone: z.to_string(),
                disk_total: 100 * GB,
                base_used: 20 * GB,
                up: true,
                back_in: None,
                heap: 40 + (i as u32 * 7) % 30,
                started_tick: 0,
            })
            .collect();
        Self {
            name: name.into(),
            flavor: Flavor::Elasticsearch,
            version: "8.15.0".into(),
            nodes,
            copies: Vec::new(),
            persistent: BTreeMap::new(),
            transient: BTreeMap::new(),
            ticks: 0,
            fault: None,
            refused_paths: Vec::new(),
            auth: None,
            granted: None,
            speed: 50,
            log: Vec::new(),
            node_log: None,
        }
    }

    /// Adds an index: primaries round-robin from `offset`, replicas on the following nodes; all STARTED.
    pub fn add_index(&mut self, index: &str, shards: u32, replicas: u32, size: u64) {
        let n = self.nodes.len();
        for s in 0..shards {
            for r in 0..=replicas {
                let node = (s as usize + r as usize + self.copies.len()) % n;
                self.copies.push(SimCopy {
                    index: index.into(),
                    shard: s,
                    primary: r == 0,
                    state: CopyState::Started,
                    node: Some(node),
                    target: None,
                    progress: 0,
                    size,
                    docs: size / 700,
                    reason: None,
                    failed_attempts: 0,
                    last_node: None,
                });
            }
        }
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    fn effective(&self, key: &str) -> Option<&str> {
        self.transient
            .get(key)
            .or_else(|| self.persistent.get(key))
            .map(String::as_str)
    }

    /// The effective `cluster.routing.allocation.enable`.
    pub fn enable(&self) -> &str {
        self.effective("cluster.routing.allocation.enable").unwrap_or("all")
    }

    /// Whether `node` matches an `exclude` filter; the matching filter as ES words it.
    /// The exclusion (`attr:"value"`) that keeps shards off `node`, if any.
    pub fn excluded(&self, node: usize) -> Option<String> {
        let n = &self.nodes[node];
        let mut keys: Vec<&String> = self.persistent.keys().chain(self.transient.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let Some(attr) = key.strip_prefix("cluster.routing.allocation.exclude.") else {
                continue;
            };
            let Some(value) = self.effective(key) else { continue };
            let have = match attr {
                "_name" => n.name.as_str(),
                "_ip" | "_host_ip" | "_publish_ip" | "_host" => n.ip.as_str(),
                "_id" => n.id.as_str(),
                "zone" => n.zone.as_str(),
                _ => continue,
            };
            if let Some(v) = value
                .split(',')
                .map(str::trim)
                .find(|v| !v.is_empty() && wildcard_match(v, have))
            {
                return Some(format!("{attr}:\"{v}\""));
            }
        }
        None
    }

    /// Bytes used on `node`'s disk: its base and the copies on it (or coming to it).
    pub fn disk_used(&self, node: usize) -> u64 {
        let shards: u64 = self
            .copies
            .iter()
            .filter(|c| c.node == Some(node) && c.state != CopyState::Unassigned || c.target == Some(node))
            .map(|c| c.size)
            .sum();
        self.nodes[node].base_used + shards
    }

    fn over_watermark(&self, node: usize, which: &str) -> bool {
        let default = match which {
            "low" => "85%",
            "high" => "90%",
            _ => "95%",
        };
        let key = format!("cluster.routing.allocation.disk.watermark.{which}");
        let w = self
            .effective(&key)
            .and_then(parse_watermark)
            .or_else(|| parse_watermark(default));
        let total = self.nodes[node].disk_total;
        let avail = total.saturating_sub(self.disk_used(node));
        w.is_some_and(|w| avail < w.required_free(total, None))
    }

    fn holds_shard(&self, node: usize, index: &str, shard: u32) -> bool {
        self.copies.iter().any(|c| {
            c.index == index
                && c.shard == shard
                && (c.node == Some(node) && c.state != CopyState::Unassigned || c.target == Some(node))
        })
    }

    /// Why `node` cannot take a copy of `index/shard`, as (decider, explanation); `None` when it can.
    fn cannot_allocate(&self, node: usize, copy: &SimCopy, relocation: bool) -> Option<(&'static str, String)> {
        let n = &self.nodes[node];
        if !n.up {
            return Some(("node_left", "the node is not part of the cluster".into()));
        }
        let enable = self.enable();
        let allowed = match enable {
            "all" => true,
            "primaries" => copy.primary,
            "new_primaries" => copy.primary && copy.reason.as_deref() == Some("INDEX_CREATED"),
            _ => false,
        };
        if !allowed {
            return Some((
                "enable",
                format!(
                    "{} allocations are allowed due to cluster setting [cluster.routing.allocation.enable={enable}]",
                    if enable == "none" { "no" } else { "replica" }
                ),
            ));
        }
        if let Some(f) = self.excluded(node) {
            return Some((
                "filter",
                format!("node matches cluster setting [cluster.routing.allocation.exclude] filters [{f}]"),
            ));
        }
        if self.holds_shard(node, &copy.index, copy.shard) {
            return Some((
                "same_shard",
                format!(
                    "a copy of this shard is already allocated to this node [[{}][{}]]",
                    copy.index, copy.shard
                ),
            ));
        }
        if !relocation && copy.failed_attempts >= MAX_RETRIES {
            return Some((
                "max_retry",
                format!(
                    "shard has exceeded the maximum number of retries [{MAX_RETRIES}] on failed allocation attempts - manually call [POST /_cluster/reroute?retry_failed] to retry"
                ),
            ));
        }
        if self.over_watermark(node, "low") {
            return Some((
                "disk_threshold",
                "the node is above the low watermark cluster setting [cluster.routing.allocation.disk.watermark.low]"
                    .into(),
            ));
        }
        None
    }

    fn incoming(&self, node: usize) -> usize {
        self.copies
            .iter()
            .filter(|c| c.target == Some(node) || (c.node == Some(node) && c.state == CopyState::Initializing))
            .count()
    }

    fn copies_on(&self, node: usize) -> usize {
        self.copies
            .iter()
            .filter(|c| c.node == Some(node) || c.target == Some(node))
            .count()
    }

    /// The eligible node with the fewest copies (and a free recovery slot).
    fn pick_target(&self, copy: &SimCopy, relocation: bool) -> Option<usize> {
        let mut candidates: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| self.cannot_allocate(n, copy, relocation).is_none() && self.incoming(n) < 2)
            .collect();
        if let Some(last) = copy.last_node.filter(|l| candidates.contains(l)) {
            return Some(last);
        }
        candidates.sort_by_key(|&n| (self.copies_on(n), n));
        candidates.first().copied()
    }

    // ---- node logs ----------------------------------------------------------------------------

    /// Records a line of `node`'s log (when node logs are recorded).
    fn note(&mut self, node: usize, level: &'static str, logger: &'static str, message: String) {
        let Some(lines) = self.node_log.as_mut() else { return };
        lines.push(NodeLogLine {
            node: self.nodes[node].name.clone(),
            level,
            logger,
            message,
        });
    }

    /// `{name}{id}{ip}{ip:9300}{dim}`, as ES names a node in its logs.
    fn node_ref(&self, node: usize) -> String {
        let n = &self.nodes[node];
        format!("{{{}}}{{{}}}{{{}}}{{{}:9300}}{{dim}}", n.name, n.id, n.ip, n.ip)
    }

    /// The elected master: the first node that is up.
    fn master(&self) -> Option<usize> {
        self.nodes.iter().position(|n| n.up)
    }

    fn note_started(&mut self, node: usize) {
        self.nodes[node].started_tick = self.ticks;
        let (ip, zone) = (self.nodes[node].ip.clone(), self.nodes[node].zone.clone());
        let pid = 1200 + node * 97 + (self.ticks % 500) as usize;
        let version = self.version.clone();
        self.note(
            node,
            "INFO",
            NODE,
            format!(
                "version[{version}], pid[{pid}], build[docker/1a77947f34deddb41af25e6f0ddb8e830159c179/2024-08-05T10:05:34.233336849Z], OS[Linux/6.1.0-28-cloud-amd64/amd64], JVM[Oracle Corporation/OpenJDK 64-Bit Server VM/22.0.1/22.0.1+8-16]"
            ),
        );
        self.note(node, "INFO", NODE, "initialized".into());
        self.note(node, "INFO", NODE, "starting ...".into());
        self.note(
            node,
            "INFO",
            "o.e.t.TransportService",
            format!("publish_address {{{ip}:9300}}, bound_addresses {{[::]:9300}}"),
        );
        if let Some(m) = self.master() {
            let message = if m == node {
                format!("elected-as-master ([1] nodes joined)[{}]", self.node_ref(node))
            } else {
                format!("master node changed {{previous [], current [{}]}}", self.node_ref(m))
            };
            self.note(node, "INFO", "o.e.c.s.ClusterApplierService", message);
            if m != node {
                let message = format!("node-join[{} joining], term: 3", self.node_ref(node));
                self.note(m, "INFO", MASTER, message);
            }
        }
        let message = format!("started {}{{zone={zone}, xpack.installed=true}}", self.node_ref(node));
        self.note(node, "INFO", NODE, message);
    }

    fn note_stopped(&mut self, node: usize) {
        for step in ["stopping ...", "stopped", "closing ...", "closed"] {
            self.note(node, "INFO", NODE, step.into());
        }
        // The master (another node, if this one was it) sees it leave.
        if let Some(m) = (0..self.nodes.len()).find(|&m| m != node && self.nodes[m].up) {
            let message = format!("node-left[{} reason: disconnected], term: 3", self.node_ref(node));
            self.note(m, "INFO", MASTER, message);
        }
    }

    /// The lines every node wrote before now: each started; a node that is down also stopped.
    pub fn boot_log(&mut self) {
        let down: Vec<usize> = (0..self.nodes.len()).filter(|&n| !self.nodes[n].up).collect();
        for n in 0..self.nodes.len() {
            self.note_started(n);
        }
        for n in down {
            self.note_stopped(n);
        }
    }

    /// Disk watermark warnings (every 30 ticks while a node is over one) and a GC overhead line
    /// now and then: what a node's log shows while nothing else happens.
    fn note_periodic(&mut self) {
        for n in 0..self.nodes.len() {
            if !self.nodes[n].up {
                continue;
            }
            if self.ticks % 30 == 1 {
                self.note_watermark(n);
            }
            if (self.ticks + n as u64 * 3).is_multiple_of(20) {
                let spent = 150 + (self.nodes[n].heap as u64 * 7 + self.ticks * 13) % 450;
                let message = format!(
                    "[gc][{}] overhead, spent [{spent}ms] collecting in the last [1s]",
                    self.ticks
                );
                self.note(n, "INFO", GC, message);
            }
        }
    }

    fn note_watermark(&mut self, node: usize) {
        let Some(which) = ["flood_stage", "high", "low"]
            .into_iter()
            .find(|w| self.over_watermark(node, w))
        else {
            return;
        };
        let key = format!("cluster.routing.allocation.disk.watermark.{which}");
        let default = match which {
            "low" => "85%",
            "high" => "90%",
            _ => "95%",
        };
        let setting = self.effective(&key).unwrap_or(default).to_string();
        let n = &self.nodes[node];
        let free = n.disk_total.saturating_sub(self.disk_used(node));
        let pct = free as f64 * 100.0 / n.disk_total.max(1) as f64;
        let free = format!("{:.1}gb[{pct:.1}%]", free as f64 / GB as f64);
        let place = format!("[{}][{}][/usr/share/elasticsearch/data]", n.id, n.name);
        let message = match which {
            "low" => format!(
                "low disk watermark [{setting}] exceeded on {place} free: {free}, replicas will not be assigned to this node"
            ),
            "high" => format!(
                "high disk watermark [{setting}] exceeded on {place} free: {free}, shards will be relocated away from this node; currently relocating away shards totalling [0b]"
            ),
            _ => format!(
                "flood stage disk watermark [{setting}] exceeded on {place} free: {free}, all indices on this node will be marked read-only"
            ),
        };
        self.note(node, "WARN", DISK, message);
    }

    /// One step of the allocator.
    pub fn tick(&mut self) {
        self.ticks += 1;
        // Nodes coming back by themselves.
        let mut back = Vec::new();
        for (i, n) in self.nodes.iter_mut().enumerate() {
            if let Some(t) = n.back_in.as_mut() {
                *t = t.saturating_sub(1);
                if *t == 0 {
                    n.up = true;
                    n.back_in = None;
                    back.push(i);
                }
            }
        }
        for n in back {
            self.note_started(n);
        }
        // Recoveries advance.
        let speed = self.speed.max(1);
        // (copy, node it came from when it relocated)
        let mut done = Vec::new();
        for (i, c) in self.copies.iter_mut().enumerate() {
            match c.state {
                CopyState::Relocating | CopyState::Initializing => {
                    c.progress = (c.progress + speed).min(100);
                    if c.progress == 100 {
                        let mut from = None;
                        if c.state == CopyState::Relocating {
                            from = c.node;
                            c.node = c.target.take();
                        }
                        done.push((i, from));
                        c.state = CopyState::Started;
                        c.progress = 0;
                        c.reason = None;
                    }
                }
                _ => {}
            }
        }
        if self.node_log.is_some() {
            for (i, from) in done {
                let c = &self.copies[i];
                let (shard, size) = (format!("[{}][{}]", c.index, c.shard), c.size);
                let Some(node) = c.node else { continue };
                let how = match from {
                    Some(f) => format!("relocated from [{}]", self.nodes[f].name),
                    None if c.primary => "recovered from existing store".to_string(),
                    None => "recovered from its primary".to_string(),
                };
                let size = format!("{:.1}gb", size as f64 / GB as f64);
                self.note(node, "INFO", SHARD, format!("{shard} shard started ({how}, {size})"));
                if let Some(f) = from {
                    let to = self.nodes[node].name.clone();
                    self.note(f, "INFO", SHARD, format!("{shard} relocated to [{to}], closing shard"));
                }
            }
        }
        // Copies that must leave their node (excluded, or above the high watermark) start relocating.
        for i in 0..self.copies.len() {
            let c = &self.copies[i];
            if c.state != CopyState::Started {
                continue;
            }
            let Some(node) = c.node else { continue };
            let must_leave = self.excluded(node).is_some() || self.over_watermark(node, "high");
            if !must_leave || self.outgoing(node) >= 2 {
                continue;
            }
            if let Some(t) = self.pick_target(&self.copies[i].clone(), true) {
                let why = match self.excluded(node) {
                    Some(f) => format!("matches [cluster.routing.allocation.exclude] filter [{f}]"),
                    None => "is above the high disk watermark".to_string(),
                };
                let c = &mut self.copies[i];
                c.state = CopyState::Relocating;
                c.target = Some(t);
                c.progress = 0;
                let shard = format!("[{}][{}]", c.index, c.shard);
                let (from, to) = (self.nodes[node].name.clone(), self.nodes[t].name.clone());
                self.note(
                    node,
                    "INFO",
                    ALLOCATION,
                    format!("{shard} relocating to [{to}]: this node {why}"),
                );
                self.note(
                    t,
                    "INFO",
                    RECOVERY,
                    format!("{shard} starting peer recovery from [{from}] (relocation)"),
                );
            }
        }
        // Unassigned copies: primaries first; a replica only once its primary is active.
        let mut order: Vec<usize> = (0..self.copies.len())
            .filter(|&i| self.copies[i].state == CopyState::Unassigned)
            .collect();
        order.sort_by_key(|&i| !self.copies[i].primary);
        for i in order {
            let c = self.copies[i].clone();
            if !c.primary && !self.primary_active(&c.index, c.shard) {
                continue;
            }
            if let Some(t) = self.pick_target(&c, false) {
                let source = (!c.primary)
                    .then(|| self.primary_node(&c.index, c.shard))
                    .flatten()
                    .map(|n| self.nodes[n].name.clone());
                let c = &mut self.copies[i];
                c.state = CopyState::Initializing;
                c.node = Some(t);
                c.progress = 0;
                let shard = format!("[{}][{}]", c.index, c.shard);
                let message = match source {
                    Some(from) => format!("{shard} starting peer recovery of a replica from [{from}]"),
                    None => format!("{shard} recovering primary from existing store"),
                };
                self.note(t, "INFO", RECOVERY, message);
            }
        }
        if self.node_log.is_some() {
            self.note_periodic();
        }
    }

    fn outgoing(&self, node: usize) -> usize {
        self.copies
            .iter()
            .filter(|c| c.node == Some(node) && c.state == CopyState::Relocating)
            .count()
    }

    fn primary_active(&self, index: &str, shard: u32) -> bool {
        self.copies.iter().any(|c| {
            c.index == index
                && c.shard == shard
                && c.primary
                && matches!(c.state, CopyState::Started | CopyState::Relocating)
        })
    }

    /// The node leaves (crash, bounce): its copies become unassigned, replicas get promoted.
    pub fn stop_node(&mut self, name: &str, back_in: Option<u32>) -> bool {
        let Some(n) = self.node_index(name) else { return false };
        if self.nodes[n].up {
            self.note_stopped(n);
        }
        self.nodes[n].up = false;
        self.nodes[n].back_in = back_in;
        for i in 0..self.copies.len() {
            let c = &mut self.copies[i];
            if c.target == Some(n) {
                // Relocation towards the lost node is cancelled; the source keeps its copy.
                c.target = None;
                c.state = CopyState::Started;
                c.progress = 0;
            }
            if c.node == Some(n) {
                c.node = None;
                c.target = None;
                c.state = CopyState::Unassigned;
                c.reason = Some("NODE_LEFT".into());
                c.last_node = Some(n);
                c.progress = 0;
                if c.primary {
                    let (index, shard) = (c.index.clone(), c.shard);
                    if let Some(j) = self.copies.iter().position(|r| {
                        r.index == index && r.shard == shard && !r.primary && r.state == CopyState::Started
                    }) {
                        self.copies[j].primary = true;
                        self.copies[i].primary = false;
                    }
                }
            }
        }
        true
    }

    pub fn start_node(&mut self, name: &str) -> bool {
        let Some(n) = self.node_index(name) else { return false };
        let was_up = self.nodes[n].up;
        self.nodes[n].up = true;
        self.nodes[n].back_in = None;
        if !was_up {
            self.note_started(n);
        }
        true
    }

    /// Makes `index/shard` replica fail allocation until `retry_failed` (the max-retry decider's case).
    pub fn fail_replica(&mut self, index: &str, shard: u32) {
        if let Some(c) = self
            .copies
            .iter_mut()
            .find(|c| c.index == index && c.shard == shard && !c.primary)
        {
            c.state = CopyState::Unassigned;
            c.node = None;
            c.target = None;
            c.reason = Some("ALLOCATION_FAILED".into());
            c.failed_attempts = MAX_RETRIES;
        }
    }

    // ---- answers ----------------------------------------------------------------------------

    /// `POST _security/user/_has_privileges` (Elasticsearch's answer shape): for each cluster
    /// privilege asked, whether the user holds it; without security, the error such a server gives.
    pub fn has_privileges(&self, body: Option<&Value>) -> Result<Value, (u16, Value)> {
        let Some(granted) = &self.granted else {
            let reason = "Security must be explicitly enabled when using a [basic] license. \
                          Enable security by setting [xpack.security.enabled] to [true] in the elasticsearch.yml file";
            return Err((500, error_body(500, "exception", reason)));
        };
        let asked: Vec<&str> = body
            .and_then(|b| b["cluster"].as_array())
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let cluster: Map<String, Value> = asked
            .iter()
            .map(|p| (p.to_string(), json!(granted.iter().any(|g| g == p))))
            .collect();
        let user = match &self.auth {
            Some(Auth::Basic(user, _)) => user.clone(),
            _ => "elastic".into(),
        };
        Ok(json!({
            "username": user,
            "has_all_requested": cluster.values().all(|v| v == &json!(true)),
            "cluster": cluster,
            "index": {},
            "application": {}
        }))
    }

    pub fn info(&self) -> Value {
        let mut version = json!({"number": self.version, "build_type": "docker", "lucene_version": "9.11.1"});
        match self.flavor {
            Flavor::Elasticsearch => version["build_flavor"] = json!("default"),
            Flavor::OpenSearch => version["distribution"] = json!("opensearch"),
        }
        let tagline = match self.flavor {
            Flavor::Elasticsearch => "You Know, for Search",
            Flavor::OpenSearch => "The OpenSearch Project: https://opensearch.org/",
        };
        json!({"name": self.nodes.first().map(|n| n.name.clone()), "cluster_name": self.name,
               "cluster_uuid": "sImClUsTeRuUiD000000aa", "version": version, "tagline": tagline})
    }

    pub fn health(&self) -> Value {
        let count = |st: CopyState| self.copies.iter().filter(|c| c.state == st).count();
        let unassigned_primary = self
            .copies
            .iter()
            .any(|c| c.primary && c.state == CopyState::Unassigned);
        let unassigned = count(CopyState::Unassigned);
        let initializing = count(CopyState::Initializing);
        let status = if unassigned_primary {
            "red"
        } else if unassigned + initializing > 0 {
            "yellow"
        } else {
            "green"
        };
        let active = count(CopyState::Started) + count(CopyState::Relocating);
        let active_primaries = self
            .copies
            .iter()
            .filter(|c| c.primary && matches!(c.state, CopyState::Started | CopyState::Relocating))
            .count();
        let up = self.nodes.iter().filter(|n| n.up).count();
        json!({
            "cluster_name": self.name, "status": status, "timed_out": false,
            "number_of_nodes": up, "number_of_data_nodes": up,
            "active_primary_shards": active_primaries, "active_shards": active,
            "relocating_shards": count(CopyState::Relocating), "initializing_shards": initializing,
            "unassigned_shards": unassigned, "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": 0, "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": if self.copies.is_empty() { 100.0 } else { active as f64 * 100.0 / self.copies.len() as f64 },
        })
    }

    pub fn node_stats(&self) -> Value {
        let mut nodes = Map::new();
        for (i, n) in self.nodes.iter().enumerate().filter(|(_, n)| n.up) {
            let avail = n.disk_total.saturating_sub(self.disk_used(i));
            nodes.insert(
                n.id.clone(),
                json!({
                    "timestamp": 1_700_000_000_000u64 + self.ticks * 1000,
                    "name": n.name, "transport_address": format!("{}:9300", n.ip), "host": n.ip,
                    "ip": format!("{}:9300", n.ip),
                    "roles": ["data", "data_content", "data_hot", "ingest", "master"],
                    "attributes": {"zone": n.zone, "xpack.installed": "true"},
                    "jvm": {"timestamp": 1_700_000_000_000u64 + self.ticks * 1000,
                            "uptime_in_millis": (self.ticks - n.started_tick) * 1000,
                            "mem": {"heap_used_in_bytes": n.heap as u64 * 1_000_000, "heap_used_percent": n.heap, "heap_max_in_bytes": 100_000_000u64}},
                    "fs": {"timestamp": 1_700_000_000_000u64, "total": {"total_in_bytes": n.disk_total, "free_in_bytes": avail, "available_in_bytes": avail},
                           "data": [{"path": "/usr/share/elasticsearch/data", "mount": "/ (overlay)", "type": "overlay",
                                     "total_in_bytes": n.disk_total, "free_in_bytes": avail, "available_in_bytes": avail}]},
                }),
            );
        }
        let total = nodes.len();
        json!({"_nodes": {"total": total, "successful": total, "failed": 0}, "cluster_name": self.name, "nodes": nodes})
    }

    pub fn cat_nodes(&self) -> Vec<Map<String, Value>> {
        let master_key = match self.flavor {
            Flavor::OpenSearch => "cluster_manager",
            Flavor::Elasticsearch => "master",
        };
        let master = self.nodes.iter().position(|n| n.up);
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.up)
            .map(|(i, n)| {
                let mut m = Map::new();
                m.insert("id".into(), json!(n.id));
                m.insert("name".into(), json!(n.name));
                m.insert("ip".into(), json!(n.ip));
                m.insert("node.role".into(), json!("dim"));
                m.insert(master_key.into(), json!(if Some(i) == master { "*" } else { "-" }));
                m
            })
            .collect()
    }

    pub fn cat_shards(&self) -> Vec<Map<String, Value>> {
        let mut rows: Vec<&SimCopy> = self.copies.iter().collect();
        rows.sort_by(|a, b| (&a.index, a.shard, !a.primary).cmp(&(&b.index, b.shard, !b.primary)));
        rows.into_iter()
            .map(|c| {
                let node = c.node.map(|n| &self.nodes[n]);
                let cell = node.map(|n| match c.target.map(|t| &self.nodes[t]) {
                    Some(t) if c.state == CopyState::Relocating => {
                        format!("{} -> {} {} {}", n.name, t.ip, t.id, t.name)
                    }
                    _ => n.name.clone(),
                });
                let assigned = c.state != CopyState::Unassigned;
                let mut m = Map::new();
                m.insert("index".into(), json!(c.index));
                m.insert("shard".into(), json!(c.shard.to_string()));
                m.insert("prirep".into(), json!(if c.primary { "p" } else { "r" }));
                m.insert("state".into(), json!(state_name(c.state)));
                m.insert(
                    "docs".into(),
                    if assigned {
                        json!(c.docs.to_string())
                    } else {
                        Value::Null
                    },
                );
                m.insert(
                    "store".into(),
                    if assigned {
                        json!(c.size.to_string())
                    } else {
                        Value::Null
                    },
                );
                m.insert("ip".into(), json!(node.map(|n| n.ip.clone())));
                m.insert("id".into(), json!(node.map(|n| n.id.clone())));
                m.insert("node".into(), json!(cell));
                m.insert(
                    "unassigned.reason".into(),
                    json!(c.reason.clone().filter(|_| !assigned)),
                );
                m
            })
            .collect()
    }

    pub fn cat_allocation(&self) -> Vec<Map<String, Value>> {
        let mut rows = Vec::new();
        for (i, n) in self.nodes.iter().enumerate().filter(|(_, n)| n.up) {
            let used = self.disk_used(i);
            let shards = self
                .copies
                .iter()
                .filter(|c| c.node == Some(i) && c.state != CopyState::Unassigned || c.target == Some(i))
                .count();
            let mut m = Map::new();
            m.insert("shards".into(), json!(shards.to_string()));
            m.insert("disk.indices".into(), json!((used - n.base_used).to_string()));
            m.insert("disk.used".into(), json!(used.to_string()));
            m.insert(
                "disk.avail".into(),
                json!(n.disk_total.saturating_sub(used).to_string()),
            );
            m.insert("disk.total".into(), json!(n.disk_total.to_string()));
            m.insert("disk.percent".into(), json!((used * 100 / n.disk_total).to_string()));
            m.insert("host".into(), json!(n.ip));
            m.insert("ip".into(), json!(n.ip));
            m.insert("node".into(), json!(n.name));
            rows.push(m);
        }
        let unassigned = self.copies.iter().filter(|c| c.state == CopyState::Unassigned).count();
        if unassigned > 0 {
            let mut m = Map::new();
            m.insert("shards".into(), json!(unassigned.to_string()));
            for k in [
                "disk.indices",
                "disk.used",
                "disk.avail",
                "disk.total",
                "disk.percent",
                "host",
                "ip",
            ] {
                m.insert(k.into(), Value::Null);
            }
            m.insert("node".into(), json!("UNASSIGNED"));
            rows.push(m);
        }
        rows
    }

    pub fn cat_recovery(&self) -> Vec<Map<String, Value>> {
        self.copies
            .iter()
            .filter(|c| matches!(c.state, CopyState::Relocating | CopyState::Initializing))
            .map(|c| {
                let (source, target, kind) = match c.state {
                    CopyState::Relocating => (c.node, c.target, "peer"),
                    _ if c.primary => (None, c.node, "existing_store"),
                    _ => (self.primary_node(&c.index, c.shard), c.node, "peer"),
                };
                let name = |n: Option<usize>| n.map_or("n/a".to_string(), |n| self.nodes[n].name.clone());
                let done = c.size * c.progress as u64 / 100;
                let mut m = Map::new();
                m.insert("index".into(), json!(c.index));
                m.insert("shard".into(), json!(c.shard.to_string()));
                m.insert("time".into(), json!(format!("{}s", c.progress / self.speed.max(1))));
                m.insert("type".into(), json!(kind));
                m.insert(
                    "stage".into(),
                    json!(if c.progress < 90 { "index" } else { "translog" }),
                );
                m.insert("source_node".into(), json!(name(source)));
                m.insert("target_node".into(), json!(name(target)));
                m.insert("bytes_percent".into(), json!(format!("{:.1}%", c.progress as f64)));
                m.insert("bytes_recovered".into(), json!(done.to_string()));
                m.insert("bytes_total".into(), json!(c.size.to_string()));
                m.insert("translog_ops_percent".into(), json!("100.0%"));
                m
            })
            .collect()
    }

    fn primary_node(&self, index: &str, shard: u32) -> Option<usize> {
        self.copies
            .iter()
            .find(|c| c.index == index && c.shard == shard && c.primary && c.state == CopyState::Started)
            .and_then(|c| c.node)
    }

    /// `_cluster/settings`: flat (`flat_settings=true`) or nested, with defaults when asked.
    pub fn settings(&self, include_defaults: bool, flat: bool) -> Value {
        let shape = |m: &BTreeMap<String, String>| -> Value {
            if flat {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
            } else {
                nest(m)
            }
        };
        let mut out = json!({"persistent": shape(&self.persistent), "transient": shape(&self.transient)});
        if include_defaults {
            let defaults: BTreeMap<String, String> = [
                ("cluster.routing.allocation.enable", "all"),
                ("cluster.routing.allocation.disk.threshold_enabled", "true"),
                ("cluster.routing.allocation.disk.watermark.low", "85%"),
                ("cluster.routing.allocation.disk.watermark.high", "90%"),
                ("cluster.routing.allocation.disk.watermark.flood_stage", "95%"),
                ("cluster.routing.allocation.node_concurrent_recoveries", "2"),
                ("cluster.routing.allocation.awareness.attributes", ""),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            out["defaults"] = shape(&defaults);
        }
        out
    }

    /// `PUT _cluster/settings`: values or `null` (reset) per scope, flat or nested keys.
    pub fn put_settings(&mut self, body: &Value) -> Result<Value, (u16, Value)> {
        let mut echo = json!({"acknowledged": true, "persistent": {}, "transient": {}});
        for scope in ["persistent", "transient"] {
            let Some(v) = body.get(scope) else { continue };
            let mut flat = BTreeMap::new();
            flatten_with_nulls("", v, &mut flat);
            for (k, value) in flat {
                if !k.starts_with("cluster.routing.") {
                    let reason = format!("{scope} setting [{k}], not recognized");
                    return Err((400, error_body(400, "illegal_argument_exception", &reason)));
                }
                let target = if scope == "persistent" {
                    &mut self.persistent
                } else {
                    &mut self.transient
                };
                match &value {
                    None => {
                        target.remove(&k);
                    }
                    Some(v) => {
                        target.insert(k.clone(), v.clone());
                    }
                }
                if let Some(v) = value {
                    echo[scope][k] = json!(v);
                }
            }
        }
        Ok(echo)
    }

    /// `POST _cluster/reroute?retry_failed=true`: failed copies may be tried again.
    pub fn retry_failed(&mut self) -> Value {
        for c in &mut self.copies {
            c.failed_attempts = 0;
        }
        json!({"acknowledged": true})
    }

    /// `_cluster/allocation/explain` for one copy (or the first unassigned one).
    pub fn explain(&self, req: Option<&Value>) -> Result<Value, (u16, Value)> {
        let pick = |c: &&SimCopy| match req {
            Some(r) => {
                r.get("index").and_then(Value::as_str) == Some(c.index.as_str())
                    && r.get("shard").and_then(Value::as_u64) == Some(c.shard as u64)
                    && r.get("primary").and_then(Value::as_bool).unwrap_or(false) == c.primary
            }
            None => c.state == CopyState::Unassigned,
        };
        let Some(copy) = self
            .copies
            .iter()
            .filter(|c| req.is_some() || c.state == CopyState::Unassigned)
            .find(pick)
        else {
            let reason = "There are no unassigned shards in this cluster. Specify an assigned shard in the request body to explain its allocation.";
            return Err((400, error_body(400, "illegal_argument_exception", reason)));
        };
        let decisions: Vec<Value> = (0..self.nodes.len())
            .filter(|&n| self.nodes[n].up)
            .map(|n| {
                let node = &self.nodes[n];
                let (decision, deciders) = match self.cannot_allocate(n, copy, false) {
                    Some((d, text)) => ("no", json!([{"decider": d, "decision": "NO", "explanation": text}])),
                    None => ("yes", json!([])),
                };
                json!({"node_id": node.id, "node_name": node.name, "transport_address": format!("{}:9300", node.ip),
                       "node_attributes": {"zone": node.zone}, "node_decision": decision, "deciders": deciders})
            })
            .collect();
        if copy.state != CopyState::Unassigned {
            let node = copy.node.map(|n| &self.nodes[n]);
            return Ok(
                json!({"index": copy.index, "shard": copy.shard, "primary": copy.primary,
                "current_state": state_name(copy.state).to_lowercase(),
                "current_node": node.map(|n| json!({"id": n.id, "name": n.name})),
                "can_remain_on_current_node": if copy.node.and_then(|n| self.excluded(n)).is_some() { "no" } else { "yes" },
                "node_allocation_decisions": decisions}),
            );
        }
        let any_yes = decisions.iter().any(|d| d["node_decision"] == "yes");
        let can = if any_yes { "yes" } else { "no" };
        let text = if any_yes {
            "Elasticsearch can allocate the shard."
        } else {
            "Elasticsearch isn't allowed to allocate this shard to any of the nodes in the cluster. Choose a node to which you expect this shard to be allocated, find this node in the node-by-node explanation, and address the reasons which prevent Elasticsearch from allocating this shard there."
        };
        Ok(
            json!({"index": copy.index, "shard": copy.shard, "primary": copy.primary, "current_state": "unassigned",
            "unassigned_info": {"reason": copy.reason.clone().unwrap_or_else(|| "INDEX_CREATED".into()),
                                "at": "2026-11-23T09:00:00.000Z", "last_allocation_status": "no"},
            "can_allocate": can, "allocate_explanation": text, "node_allocation_decisions": decisions}),
        )
    }
}

fn state_name(s: CopyState) -> &'static str {
    match s {
        CopyState::Started => "STARTED",
        CopyState::Initializing => "INITIALIZING",
        CopyState::Relocating => "RELOCATING",
        CopyState::Unassigned => "UNASSIGNED",
    }
}

/// Elasticsearch's error body.
pub fn error_body(status: u16, kind: &str, reason: &str) -> Value {
    json!({"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason}, "status": status})
}

fn nest(m: &BTreeMap<String, String>) -> Value {
    let mut root = Map::new();
    for (k, v) in m {
        let parts: Vec<&str> = k.split('.').collect();
        let mut cur = &mut root;
        for p in &parts[..parts.len() - 1] {
            let entry = cur.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            cur = entry.as_object_mut().expect("object");
        }
        cur.insert(parts[parts.len() - 1].to_string(), json!(v));
    }
    Value::Object(root)
}

fn flatten_with_nulls(prefix: &str, v: &Value, out: &mut BTreeMap<String, Option<String>>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_with_nulls(&key, v, out);
            }
        }
        Value::Null => {
            out.insert(prefix.into(), None);
        }
        Value::String(s) => {
            out.insert(prefix.into(), Some(s.clone()));
        }
        other => {
            out.insert(prefix.into(), Some(other.to_string()));
        }
    }
}

/// The demo's cluster: two core nodes, two on-demand and three spot nodes, yellow at start
/// (a spot node is away and one replica has exhausted its retries).
pub fn demo_cluster() -> SimCluster {
    let mut sim = SimCluster::new(
        "activedata-demo",
        &[
            ("es-core-1", "primary"),
            ("es-core-2", "primary"),
            ("es-core-3", "primary"),
            ("es-spot-1", "spot"),
            ("es-spot-2", "spot"),
            ("es-spot-3", "spot"),
            ("es-spot-4", "spot"),
        ],
    );
    sim.speed = 20;
    sim.add_index("unittest", 6, 1, 3 * GB);
    sim.add_index("coverage-2026.11", 4, 1, 4 * GB);
    sim.add_index("perf", 3, 1, 2 * GB);
    sim.add_index("repo", 1, 1, GB / 2);
    sim.add_index("saved_queries", 1, 1, GB / 10);
    // es-core-3 carries extra data: over the low watermark, so the nodes table has something to colour.
    sim.nodes[2].base_used = 75 * GB;
    sim.stop_node("es-spot-4", Some(8));
    sim.fail_replica("perf", 2);
    sim
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(sim: &SimCluster, node: &str, text: &str) -> bool {
        sim.node_log
            .iter()
            .flatten()
            .any(|l| l.node == node && l.message.contains(text))
    }

    #[test]
    fn node_logs_are_recorded_only_when_asked_and_follow_what_happens() {
        let mut quiet = demo_cluster();
        quiet.stop_node("es-spot-1", Some(2));
        quiet.tick();
        assert!(quiet.node_log.is_none());

        let mut sim = demo_cluster();
        sim.node_log = Some(Vec::new());
        sim.boot_log();
        assert!(said(&sim, "es-spot-4", "started {es-spot-4}"));
        assert!(said(&sim, "es-spot-4", "closed"), "es-spot-4 starts away");
        sim.stop_node("es-spot-1", Some(2));
        assert!(said(&sim, "es-spot-1", "stopping ..."));
        assert!(said(&sim, "es-core-1", "node-left[{es-spot-1}"));
        // Excluding a node makes its copies relocate: the source says where, the target recovers.
        sim.persistent
            .insert("cluster.routing.allocation.exclude._name".into(), "es-core-2".into());
        for _ in 0..30 {
            sim.tick();
        }
        assert!(said(&sim, "es-spot-1", "started {es-spot-1}"), "back after 2 ticks");
        assert!(said(&sim, "es-core-2", "relocating to ["));
        assert!(said(&sim, "es-core-2", "relocated to ["));
        let lines = sim.node_log.as_ref().unwrap();
        assert!(
            lines
                .iter()
                .any(|l| l.message.contains("shard started (relocated from [es-core-2]"))
        );
        assert!(lines.iter().any(|l| l.logger == GC));
        let warn = lines
            .iter()
            .find(|l| l.level == "WARN" && l.node == "es-core-3")
            .unwrap();
        assert_eq!(
            warn.format("2026-11-23T10:50:42,123"),
            format!(
                "[2026-11-23T10:50:42,123][WARN ][o.e.c.r.a.DiskThresholdMonitor] [es-core-3] {}",
                warn.message
            )
        );
        assert!(
            warn.message.starts_with("low disk watermark [85%] exceeded on ["),
            "{}",
            warn.message
        );
    }
}
