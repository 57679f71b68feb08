//! Fleet-XL: a generated fleet at the size issue 14 measures (50 pillows × 64 partitions, 40 ES
//! nodes × 20,000 shards, 300 queues, 200 hosts × 8 disks, 10k audit entries, 100k log lines),
//! for `opsdeck demo --fleet xl` and the benchmarks. Each pane's poll number `step` is the same
//! update type its real poller sends, deterministic, and moves believably from one step to the next
//! (offsets grow at each partition's rate, some lag and catch up, a disk fills, queues back up and
//! drain), so history-based columns fill in. Nothing here is reachable from a config file: only the
//! demo hands these pollers to the console.

use crate::config::Config;
use crate::model::Fleet;
use crate::model::fleet::SourceUpdate;
use crate::sources::PanePoller;
use crate::sources::runner::Polled;
use opsdeck_core::action::{ActionCtx, ActionPlan, Operation, Outcome};
use opsdeck_core::audit::{AuditEntry, AuditPhase};
use opsdeck_core::config::ConfigDuration;
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::{Pane, PaneId, Poller};
use opsdeck_core::source_error::SourceError;
use opsdeck_elasticsearch::Elasticsearch;
use opsdeck_elasticsearch::model::{
    AllocationRow, ClusterHealth, Distribution, EsNode, EsPoll, HealthStatus, RelocationTarget, ShardRow, ShardState,
};
use opsdeck_hosts::config::{HostConfig, TransportKind};
use opsdeck_hosts::model::logs::LogEvent;
use opsdeck_hosts::model::{Filesystem, HostPoll, JunkFile, Program, ProgramState};
use opsdeck_hosts::{Hosts, Logs};
use opsdeck_pillows::Pillows;
use opsdeck_pillows::config::PillowConfig;
use opsdeck_pillows::model::{Assignment, CheckpointKind, PartitionReading, PillowReading, PillowsPoll, ProcessRef};
use opsdeck_queues::Queues;
use opsdeck_queues::model::{DlqRef, QueueInfo, QueuesPoll};
use std::time::{Duration, SystemTime};

/// Seconds between two generated polls (the demo's refresh): rates are per second, so offsets and
/// depths move by rate × this per step.
pub const STEP_SECS: u64 = 2;

/// How big the generated fleet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub pillows: usize,
    pub partitions_per_pillow: usize,
    pub es_nodes: usize,
    pub es_shards: usize,
    pub queues: usize,
    pub hosts: usize,
    pub disks_per_host: usize,
    pub audit_entries: usize,
    pub log_lines: usize,
}

/// Issue 14's fleet-XL.
pub const XL: Size = Size {
    pillows: 50,
    partitions_per_pillow: 64,
    es_nodes: 40,
    es_shards: 20_000,
    queues: 300,
    hosts: 200,
    disks_per_host: 8,
    audit_entries: 10_000,
    log_lines: 100_000,
};

impl Size {
    /// The same fleet with `shards` shard copies in Elasticsearch (the 100k grid goal).
    pub const fn with_es_shards(self, shards: usize) -> Size {
        Size {
            es_shards: shards,
            ..self
        }
    }
}

/// Polls of history the benchmarks' states hold (and `pillows.history`, the samples kept).
pub const HISTORY: u64 = 120;

/// The wall-clock time of poll `step` in the benchmarks and tests (a fixed start, `STEP_SECS` apart).
pub fn time(step: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000 + step * STEP_SECS)
}

/// A deterministic pseudo-random number from a few seeds (splitmix64).
fn mix(seeds: &[u64]) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for s in seeds {
        x ^= s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
    }
    x
}

/// `mix` as a fraction in 0..1.
fn unit(seeds: &[u64]) -> f64 {
    (mix(seeds) >> 11) as f64 / (1u64 << 53) as f64
}

/// A triangle wave 0 → 1 → 0 over `period` steps, shifted by `phase`: fills then drains.
fn tide(step: u64, period: u64, phase: u64) -> f64 {
    let x = (step + phase) % period;
    let half = period / 2;
    if x < half {
        x as f64 / half as f64
    } else {
        (period - x) as f64 / half as f64
    }
}

// ---------------------------------------------------------------- config

const PILLOW_KINDS: [(&str, &str); 10] = [
    ("case-pillow", "case-sql"),
    ("xform-pillow", "form-sql"),
    ("user-pillow", "commcare-user"),
    ("group-pillow", "group"),
    ("ledger-pillow", "ledger"),
    ("location-pillow", "location"),
    ("sms-pillow", "sms"),
    ("app-submission-tracker", "form-sql"),
    ("kafka-ucr-main", "case-sql"),
    ("kafka-ucr-static", "form-sql"),
];
/// Processes per pillow (`--num-processes`).
const PILLOW_PROCESSES: usize = 8;

/// Host roles, by share of the fleet (of 200: 40 web, 60 celery, 20 pillowtop, 40 es-data...).
const ROLES: [(&str, usize); 9] = [
    ("web", 40),
    ("celery", 60),
    ("pillowtop", 20),
    ("es-data", 40),
    ("kafka", 10),
    ("pg", 10),
    ("couch", 10),
    ("redis", 4),
    ("proxy", 6),
];

/// The host names of a fleet of `n` hosts: `web-00`, `celery-17`, `pillowtop-03`...
pub fn host_names(n: usize) -> Vec<String> {
    let total: usize = ROLES.iter().map(|(_, k)| k).sum();
    let mut out = Vec::with_capacity(n);
    for (role, share) in ROLES {
        let k = (share * n).div_ceil(total);
        out.extend((0..k).map(|i| format!("{role}-{i:02}")));
    }
    out.truncate(n);
    out
}

fn role(host: &str) -> &str {
    host.rsplit_once('-').map(|(r, _)| r).unwrap_or(host)
}

/// The name of pillow `i` (`case-pillow`, `case-pillow-2`...).
pub fn pillow_name(i: usize) -> String {
    let (base, _) = PILLOW_KINDS[i % PILLOW_KINDS.len()];
    match i / PILLOW_KINDS.len() {
        0 => base.to_string(),
        k => format!("{base}-{k}"),
    }
}

fn pillow_host(size: &Size, pillow: usize) -> String {
    let pillowtops = host_names(size.hosts)
        .into_iter()
        .filter(|h| role(h) == "pillowtop")
        .collect::<Vec<_>>();
    pillowtops
        .get(pillow % pillowtops.len().max(1))
        .cloned()
        .unwrap_or_else(|| "pillowtop-00".into())
}

fn program(pillow: &str, n: usize) -> String {
    format!("commcare-hq-production-pillowtop-{pillow}-{n}")
}

/// The log files the generated tails fill (host, path).
const LOG_FILES: [(&str, &str); 4] = [
    ("web-00", "/var/log/nginx/commcarehq.access.log"),
    ("web-01", "/var/log/nginx/commcarehq.access.log"),
    ("celery-00", "/home/cchq/www/production/log/celery_background_queue.log"),
    (
        "pillowtop-00",
        "/home/cchq/www/production/log/pillowtop-case-pillow-0.log",
    ),
];

/// The config naming the generated fleet: every pillow, queue and host, and an Elasticsearch URL
/// no client is made for (the demo connects nothing: the pollers are generated).
pub fn config(size: &Size) -> Config {
    let mut config = Config::default();
    config.general.environment = "demo XL (generated)".into();
    config.general.refresh = ConfigDuration::secs(STEP_SECS);
    config.pillows.history = HISTORY as usize;
    config.pillows.pillows = (0..size.pillows)
        .map(|i| {
            let name = pillow_name(i);
            PillowConfig {
                checkpoint_id: Some(format!("{name}-checkpoint")),
                group: None,
                topics: Vec::new(),
                processes: PILLOW_PROCESSES,
                dedicated_migration_process: false,
                hosts: vec![pillow_host(size, i)],
                program: format!("commcare-hq-production-pillowtop-{name}-{{n}}"),
                log_file: None,
                name,
            }
        })
        .collect();
    config.elasticsearch.url = "http://es-xl.generated.invalid:9200".into();
    config.aws.region = Some("us-east-1".into());
    config.aws.queues = (0..size.queues).map(queue_name).collect();
    config.ssh.log_buffer = size.log_lines.max(1);
    config.ssh.hosts = host_names(size.hosts)
        .into_iter()
        .map(|name| {
            let mut host = HostConfig::named(&name, TransportKind::Ssh);
            host.address = Some(format!("{name}.prod.generated.invalid"));
            host.supervisor = matches!(role(&name), "web" | "celery" | "pillowtop");
            host.logs = LOG_FILES
                .iter()
                .filter(|(h, _)| *h == name)
                .map(|(_, p)| p.to_string())
                .collect();
            host
        })
        .collect();
    config
}

// ---------------------------------------------------------------- pillows

/// The pillows' poll `step`: every partition's log end grows at its own rate (20–400 msg/s); most
/// checkpoints follow within a second or two, a few partitions of some pillows fall thousands
/// behind and catch up, and one pillow's process 3 is dead for a while (its partitions stall).
pub fn pillows(size: &Size, step: u64, at: SystemTime) -> PillowsPoll {
    let settings = opsdeck_pillows::config::PillowsConfig {
        history: HISTORY as usize,
        ..Default::default()
    }
    .settings();
    let pillows = (0..size.pillows)
        .map(|i| {
            let name = pillow_name(i);
            let (_, topic) = PILLOW_KINDS[i % PILLOW_KINDS.len()];
            let host = pillow_host(size, i);
            let assignment = Assignment {
                processes: PILLOW_PROCESSES,
                dedicated_migration_process: false,
            };
            let partitions = (0..size.partitions_per_pillow)
                .map(|p| partition(i, p, topic, size.partitions_per_pillow, (step, at), assignment))
                .collect();
            PillowReading {
                kind: CheckpointKind::Postgres,
                checkpoint: format!("{name}-checkpoint"),
                assignment,
                processes: (0..PILLOW_PROCESSES)
                    .map(|n| ProcessRef {
                        index: n,
                        host: host.clone(),
                        program: program(&name, n),
                    })
                    .collect(),
                result: Ok(partitions),
                name,
            }
        })
        .collect();
    PillowsPoll { pillows, settings }
}

/// The step pillow `pillow`'s process `n` died at, while it is down at `step` (one process of one
/// pillow is OOM-killed for 90 of every 300 steps, then restarted).
fn down_since(pillow: usize, n: usize, step: u64) -> Option<u64> {
    let cycle = step % 300;
    (pillow == 3 && n == 3 && (150..240).contains(&cycle)).then(|| step - (cycle - 150))
}

/// Topics per pillow: the partitions are split over a topic and its high-priority twin.
const TOPICS: usize = 2;

fn partition(
    pillow: usize,
    p: usize,
    topic: &str,
    count: usize,
    (step, at): (u64, SystemTime),
    assignment: Assignment,
) -> PartitionReading {
    let seed = [pillow as u64, p as u64];
    let rate = 20.0 + 380.0 * unit(&seed);
    let base = 2_000_000 + (unit(&[seed[0], seed[1], 1]) * 80_000_000.0) as i64;
    let end_at = |s: u64| base + (rate * (s * STEP_SECS) as f64) as i64;
    let end = end_at(step);
    let stalled = down_since(pillow, assignment.owner(p).unwrap_or(0), step);
    let committed = match stalled {
        // Stalled where the process died: the lag grows at the partition's whole rate.
        Some(since) => end_at(since),
        // Behind and catching up: thousands of messages at the peak.
        None if pillow % 17 == 2 && p % 8 == 5 => end - (rate * 40.0 * tide(step, 200, (p as u64) * 13)) as i64,
        None => end - (rate * (0.5 + 1.5 * unit(&[seed[0], seed[1], step]))) as i64,
    };
    let per_topic = (count / TOPICS).max(1);
    PartitionReading {
        topic: if p < per_topic {
            topic.to_string()
        } else {
            format!("{topic}-high-priority")
        },
        partition: (p % per_topic) as i32,
        committed: Some(committed),
        log_start: Some(base / 4),
        log_end: Some(end),
        last_modified: Some(at - Duration::from_secs((step - stalled.unwrap_or(step)) * STEP_SECS)),
        doc_modification_time: None,
    }
}

// ---------------------------------------------------------------- elasticsearch

/// Primaries per index; each has one replica.
const ES_PRIMARIES: usize = 5;

/// The Elasticsearch poll `step`: `size.es_shards` copies of 5-primary, 1-replica indices over
/// `size.es_nodes` data nodes, a handful unassigned with their reasons, a few relocating (others
/// each step), stores growing slowly, and one node's disk climbing past the high watermark.
pub fn elasticsearch(size: &Size, step: u64) -> Box<EsPoll> {
    let nodes = size.es_nodes.max(2);
    let node_name = |n: usize| format!("es-data-{n:02}");
    let node_ip = |n: usize| format!("10.0.{}.{}", 2 + n / 250, 10 + n % 250);
    let node_id = |n: usize| {
        format!("{:016x}", mix(&[7, n as u64]) >> 4)
            .chars()
            .take(22)
            .collect::<String>()
    };
    let mut shards = Vec::with_capacity(size.es_shards);
    let mut per_node = vec![0u32; nodes];
    let (mut unassigned, mut relocating, mut primaries) = (0u32, 0u32, 0u32);
    let mut copy = 0usize;
    'indices: for index in 0.. {
        let (family, day) = match index % 4 {
            0 => ("logs-commcarehq", index / 4 % 30 + 1),
            1 => ("hqcases", index / 4 % 30 + 1),
            2 => ("forms", index / 4 % 30 + 1),
            _ => ("audit-events", index / 4 % 30 + 1),
        };
        let name = format!("{family}-2026.11.{day:02}-{:04}", index / 120);
        for shard in 0..ES_PRIMARIES {
            let primary_node = mix(&[index as u64, shard as u64]) as usize % nodes;
            for replica in 0..2 {
                if copy == size.es_shards {
                    break 'indices;
                }
                copy += 1;
                let node = (primary_node + replica * (1 + index % (nodes - 1))) % nodes;
                let docs = 50_000 + mix(&[index as u64, shard as u64, 3]) % 5_000_000;
                let store = docs * 900 + step * 4_096;
                let lost = replica == 1 && mix(&[index as u64, shard as u64, 9]).is_multiple_of(3_000);
                let moving =
                    !lost && (mix(&[index as u64, shard as u64, replica as u64]) + step / 15).is_multiple_of(2_500);
                let mut row = ShardRow {
                    index: name.clone(),
                    shard: shard as u32,
                    primary: replica == 0,
                    state: ShardState::Started,
                    docs: Some(docs),
                    store_bytes: Some(store),
                    ip: Some(node_ip(node)),
                    node_id: Some(node_id(node)),
                    node: Some(node_name(node)),
                    relocating_to: None,
                    unassigned_reason: None,
                };
                if lost {
                    const REASONS: [&str; 4] = ["NODE_LEFT", "ALLOCATION_FAILED", "REPLICA_ADDED", "INDEX_CREATED"];
                    row.state = ShardState::Unassigned;
                    row.unassigned_reason = Some(REASONS[index % REASONS.len()].into());
                    (row.ip, row.node_id, row.node, row.docs, row.store_bytes) = (None, None, None, None, None);
                    unassigned += 1;
                } else {
                    per_node[node] += 1;
                    if moving {
                        let to = (node + 1) % nodes;
                        row.state = ShardState::Relocating;
                        row.relocating_to = Some(RelocationTarget {
                            ip: node_ip(to),
                            id: node_id(to),
                            name: node_name(to),
                        });
                        relocating += 1;
                    }
                }
                primaries += u32::from(replica == 0);
                shards.push(row);
            }
        }
    }
    const TIB: u64 = 1 << 40;
    let mut es_nodes = Vec::with_capacity(nodes);
    let mut allocation = Vec::with_capacity(nodes);
    for (n, &shards) in per_node.iter().enumerate() {
        let total = 4 * TIB;
        // Most between 40 and 80 %; es-data-07 climbs from 78 % past the 90 % high watermark and back.
        let used_pct = if n == 7 {
            78.0 + 16.0 * tide(step, 400, 0)
        } else {
            40.0 + 40.0 * unit(&[n as u64, 11]) + 2.0 * tide(step, 120, n as u64 * 7)
        };
        let used = (total as f64 * used_pct / 100.0) as u64;
        es_nodes.push(EsNode {
            id: node_id(n),
            name: node_name(n),
            ip: node_ip(n),
            host: node_name(n),
            roles: vec!["data".into(), "ingest".into()],
            master: n == 0,
            disk_total: Some(total),
            disk_available: Some(total - used),
            heap_percent: Some(35 + (mix(&[n as u64, step / 5]) % 45) as u32),
            started_at_ms: Some(1_790_000_000_000 + n as u64 * 60_000),
            shards: Some(shards),
            ..EsNode::default()
        });
        allocation.push(AllocationRow {
            node: node_name(n),
            ip: Some(node_ip(n)),
            shards,
            disk_used: Some(used),
            disk_avail: Some(total - used),
            disk_total: Some(total),
            disk_percent: Some(used_pct as u32),
        });
    }
    let active = shards.len() as u32 - unassigned;
    Box::new(EsPoll {
        distribution: Distribution {
            version: "8.15.3".into(),
            major: 8,
            ..Distribution::default()
        },
        health: ClusterHealth {
            cluster_name: "hqes-production".into(),
            status: if unassigned > 0 {
                HealthStatus::Yellow
            } else {
                HealthStatus::Green
            },
            number_of_nodes: nodes as u32 + 3,
            number_of_data_nodes: nodes as u32,
            active_primary_shards: primaries,
            active_shards: active,
            relocating_shards: relocating,
            initializing_shards: 0,
            unassigned_shards: unassigned,
            delayed_unassigned_shards: 0,
            number_of_pending_tasks: (step % 4) as u32,
            active_shards_percent: 100.0 * active as f64 / shards.len().max(1) as f64,
        },
        nodes: es_nodes,
        shards,
        allocation,
        ..EsPoll::default()
    })
}

// ---------------------------------------------------------------- queues

const QUEUE_SERVICES: [&str; 10] = [
    "hq-sms-outbound",
    "hq-repeat-records",
    "hq-form-processing",
    "hq-case-import",
    "hq-export-jobs",
    "hq-email",
    "hq-async-restore",
    "hq-ucr-rebuild",
    "hq-analytics",
    "hq-notifications",
];

/// The name of queue `i`: every tenth is the dead-letter queue of the nine before it.
pub fn queue_name(i: usize) -> String {
    let service = QUEUE_SERVICES[(i / 10) % QUEUE_SERVICES.len()];
    let shard = i / 100;
    match i % 10 {
        9 => format!("{service}-{shard}-dlq"),
        k => format!("{service}-{shard}-p{k}"),
    }
}

/// The queues' poll `step`: most hover around their depth, some back up (consumers failing) and
/// drain again, every DLQ collects a few dead letters.
pub fn queues(size: &Size, step: u64) -> QueuesPoll {
    let queues = (0..size.queues)
        .map(|i| {
            let name = queue_name(i);
            let seed = i as u64;
            let produce = 2.0 + 60.0 * unit(&[seed, 1]);
            let (visible, consume) = match i % 10 {
                // A dead-letter queue: empty, but for a few collecting what their sources gave up on.
                9 if i % 50 == 9 => (3 + step / 30, 0.0),
                9 => (0, 0.0),
                // One queue in twenty backs up behind failing consumers, then drains.
                _ if i % 20 == 1 => {
                    let t = tide(step, 240, seed * 17);
                    ((produce * 600.0 * t) as u64 + 50, produce * (1.0 - t))
                }
                _ => {
                    let wobble = 1.0 + 0.05 * ((step as f64 / 20.0 + seed as f64).sin());
                    ((produce * 4.0 * wobble) as u64, produce)
                }
            };
            let dlq_index = i - i % 10 + 9;
            QueueInfo {
                url: format!("https://sqs.us-east-1.amazonaws.com/123456789012/{name}"),
                arn: format!("arn:aws:sqs:us-east-1:123456789012:{name}"),
                created: Some(1_700_000_000 + seed * 3_600),
                visible,
                in_flight: (consume * 3.0) as u64,
                delayed: 0,
                retention_secs: 4 * 86_400,
                oldest_age_secs: Some(visible as f64 / produce.max(0.1)),
                sent_per_s: Some(produce),
                deleted_per_s: Some(consume),
                dlq: (i % 10 != 9 && dlq_index < size.queues).then(|| DlqRef {
                    name: queue_name(dlq_index),
                    arn: format!("arn:aws:sqs:us-east-1:123456789012:{}", queue_name(dlq_index)),
                    max_receive_count: 5,
                    depth: None,
                }),
                dlq_of: if i % 10 == 9 {
                    (i - 9..i).map(queue_name).collect()
                } else {
                    Vec::new()
                },
                name,
                ..QueueInfo::default()
            }
        })
        .collect();
    QueuesPoll {
        queues,
        ..QueuesPoll::default()
    }
}

// ---------------------------------------------------------------- hosts

/// Each host's disks, by role: (device, type, mount, size in GiB).
fn disks(host: &str, count: usize) -> Vec<(String, &'static str, String, u64)> {
    let data = match role(host) {
        "es-data" => "/var/lib/elasticsearch",
        "pg" => "/var/lib/postgresql",
        "kafka" => "/var/lib/kafka",
        "couch" => "/opt/data/couchdb",
        _ => "/opt/data",
    };
    let all = [
        ("/dev/nvme0n1p1", "ext4", "/", 100),
        ("/dev/nvme0n1p2", "ext4", "/boot", 1),
        ("/dev/nvme1n1", "xfs", data, 2_000),
        ("/dev/nvme2n1", "xfs", "/data1", 1_000),
        ("/dev/nvme3n1", "xfs", "/data2", 1_000),
        ("/dev/nvme0n1p3", "ext4", "/var/log", 200),
        ("/dev/nvme0n1p4", "ext4", "/home", 50),
        ("/dev/nvme4n1", "xfs", "/backup", 4_000),
    ];
    (0..count)
        .map(|d| {
            let (dev, fstype, mount, gib) = all[d % all.len()];
            if d < all.len() {
                (dev.to_string(), fstype, mount.to_string(), gib)
            } else {
                (
                    format!("/dev/nvme{}n1", d + 4),
                    "xfs",
                    format!("/data{}", d - all.len() + 3),
                    1_000,
                )
            }
        })
        .collect()
}

fn programs(size: &Size, host: &str, step: u64) -> Vec<Program> {
    let h = mix(&[host.len() as u64, host.bytes().map(u64::from).sum()]);
    let running = |name: String, k: u64| Program {
        pid: Some(1_000 + ((h + k * 7_919) % 60_000) as u32),
        uptime_secs: Some(86_400 + (h % 500_000) + step * STEP_SECS),
        name,
        state: ProgramState::Running,
        description: String::new(),
    };
    match role(host) {
        "web" => (0..4)
            .map(|k| running(format!("commcare-hq-production-django-{k}"), k))
            .collect(),
        "celery" => [
            "background_queue",
            "repeat_record_queue",
            "sms_queue",
            "async_restore_queue",
        ]
        .iter()
        .zip(0..)
        .map(|(q, k)| running(format!("commcare-hq-production-celery_{q}"), k))
        .collect(),
        "pillowtop" => (0..size.pillows)
            .filter(|&i| pillow_host(size, i) == host)
            .flat_map(|i| (0..PILLOW_PROCESSES).map(move |n| (i, n)))
            .map(|(i, n)| {
                let mut p = running(program(&pillow_name(i), n), (i * 8 + n) as u64);
                if down_since(i, n, step).is_some() {
                    p.state = ProgramState::Exited;
                    p.pid = None;
                    p.uptime_secs = None;
                    p.description = "Dec 01 03:12 AM (exit status 137; OOM-killed)".into();
                }
                p
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The hosts' poll `step`: each host with its own load, programs and PIDs, and `disks_per_host`
/// filesystems mounted where servers mount them, filling and draining at their own pace; ES hosts
/// collect heap dumps.
pub fn hosts(size: &Size, step: u64) -> Vec<HostPoll> {
    host_names(size.hosts)
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let mut poll = HostPoll::unreachable(&name, "ssh", String::new());
            poll.reach = Ok(());
            let busy = unit(&[i as u64, 5]);
            let load = |k: u64| ((busy * 8.0 + 2.0 * tide(step, 60, i as u64 + k * 10)) * 100.0).round() / 100.0;
            poll.load = Some([load(0), load(1), load(2)]);
            poll.filesystems = Some(Ok(disks(&name, size.disks_per_host)
                .into_iter()
                .enumerate()
                .map(|(d, (source, fstype, mount, gib))| {
                    let seed = [i as u64, d as u64];
                    let filling = tide(step, 300, mix(&seed) % 300);
                    // Most between 10 and 75 %; the data disk of one host in forty fills past 90 % and drains.
                    let pct = if i % 40 == 3 && d == 2 {
                        70.0 + 25.0 * filling
                    } else {
                        10.0 + 55.0 * unit(&seed) + 10.0 * filling
                    };
                    let size_kib = gib * 1024 * 1024;
                    let used_kib = (size_kib as f64 * pct / 100.0) as u64;
                    Filesystem {
                        source,
                        fstype: Some(fstype.into()),
                        mount,
                        size_kib,
                        used_kib,
                        avail_kib: size_kib - used_kib,
                        use_percent: pct.round(),
                        inodes: None,
                    }
                })
                .collect()));
            poll.programs = Some(Ok(programs(size, &name, step)));
            poll.junk = Some(Ok(if role(&name) == "es-data" && i % 5 == 0 {
                // Crash dumps pile up: one more every 100 steps.
                (0..=(step / 100) % 4)
                    .map(|k| JunkFile {
                        path: format!("/var/lib/elasticsearch/java_pid{}.hprof", 4_000 + i as u64 * 10 + k),
                        size_bytes: (8 + k) << 30,
                        modified: Some(1_795_000_000.0 - k as f64 * 3_600.0),
                        id: None,
                    })
                    .collect()
            } else {
                Vec::new()
            }));
            poll
        })
        .collect()
}

// ---------------------------------------------------------------- audit and logs

/// `size.audit_entries` lines of a busy on-call month: intents and their outcomes, oldest first.
pub fn audit(size: &Size) -> Vec<AuditEntry> {
    const ACTIONS: [(&str, &str, &str); 5] = [
        (
            "elasticsearch.drain_node",
            "es-data-",
            "PUT /_cluster/settings {\"persistent\":{\"cluster.routing.allocation.exclude._name\":\"es-data-{}\"}}",
        ),
        (
            "hosts.restart_program",
            "pillowtop-",
            "supervisorctl restart commcare-hq-production-pillowtop-case-pillow-{}",
        ),
        (
            "queues.redrive_dlq",
            "hq-sms-outbound-",
            "sqs StartMessageMoveTask hq-sms-outbound-{}-dlq",
        ),
        (
            "hosts.remove_junk",
            "es-data-",
            "rm -f -- /var/lib/elasticsearch/java_pid{}.hprof",
        ),
        (
            "pillows.restart",
            "case-pillow-",
            "supervisorctl restart commcare-hq-production-pillowtop-case-pillow-{}",
        ),
    ];
    let start = 1_792_000_000u64;
    (0..size.audit_entries)
        .map(|i| {
            let n = i / 2;
            let (action, target, call) = ACTIONS[n % ACTIONS.len()];
            let k = (mix(&[n as u64]) % 40).to_string();
            let intent = i % 2 == 0;
            AuditEntry {
                time: opsdeck_core::time::rfc3339(
                    SystemTime::UNIX_EPOCH + Duration::from_secs(start + n as u64 * 257 + u64::from(!intent) * 4),
                ),
                phase: if intent {
                    AuditPhase::Intent
                } else {
                    AuditPhase::Outcome
                },
                action_id: format!("{}-{n}", 40_000 + n / 50),
                user: ["oncall", "skelly", "dmiller", "gherceg"][n % 4].into(),
                host: "jump-1".into(),
                action: action.into(),
                target: format!("{target}{k}"),
                call: call.replace("{}", &k),
                risk: if n % 5 == 0 { "high" } else { "medium" }.into(),
                result: match (intent, n % 23) {
                    (true, _) => "confirmed",
                    (false, 0) => "failed",
                    (false, 7) => "unverified",
                    _ => "succeeded",
                }
                .into(),
                detail: if intent {
                    String::new()
                } else {
                    "verified after 12s".into()
                },
            }
        })
        .collect()
}

/// The configured log files' first run and `size.log_lines` lines over them, as tails send them:
/// the last 40 lines a second up to `end`.
pub fn log_events(size: &Size, end: SystemTime) -> Vec<LogEvent> {
    const CHUNK: usize = 1_000;
    let mut events: Vec<LogEvent> = LOG_FILES
        .iter()
        .map(|(host, path)| LogEvent::Started {
            source: LogSource::file(host, path),
            run: 1,
            capacity: size.log_lines.max(1),
        })
        .collect();
    let mut line = 0usize;
    while line < size.log_lines {
        let file = (line / CHUNK) % LOG_FILES.len();
        let (host, path) = LOG_FILES[file];
        let lines = (line..(line + CHUNK).min(size.log_lines))
            .map(|n| log_line(file, n, end - Duration::from_millis((size.log_lines - n) as u64 * 25)))
            .collect();
        events.push(LogEvent::Lines {
            id: LogSource::file(host, path).id(),
            run: 1,
            lines,
        });
        line += CHUNK;
    }
    events
}

fn log_line(file: usize, n: usize, at: SystemTime) -> String {
    let at = opsdeck_core::time::rfc3339(at);
    let r = mix(&[n as u64]);
    match file {
        0 | 1 => format!(
            "10.0.{}.{} - - [{at}] \"{} /a/{}/api/case/v2/{} HTTP/1.1\" {} {} {}ms",
            r % 8,
            r % 250,
            if r.is_multiple_of(5) { "POST" } else { "GET" },
            ["icds", "ccs", "malawi", "demo"][(r % 4) as usize],
            r % 900_000,
            if r.is_multiple_of(97) { 502 } else { 200 },
            r % 40_000,
            r % 800
        ),
        2 => format!(
            "{at} INFO/ForkPoolWorker-{}] Task corehq.motech.repeaters.tasks.process_repeat_record[{:08x}] succeeded in {:.3}s",
            r % 16,
            r as u32,
            (r % 5_000) as f64 / 1000.0
        ),
        _ => format!(
            "{at} INFO pillowtop case-pillow: processed change {} (offset {}) in {}ms",
            r % 10_000_000,
            2_000_000 + n,
            r % 120
        ),
    }
}

// ---------------------------------------------------------------- the fleet

/// The panes a generated poller polls, in registry order.
pub const POLLED: [PaneId; 4] = [Pillows::ID, Elasticsearch::ID, Queues::ID, Hosts::ID];

/// Fleet `size`'s polls as they reach the app: what each pane's poller sends for its poll `step`.
/// It keeps what a pane's poller keeps between its polls, so one `Polls` per sequence of polls.
#[derive(Debug, Clone)]
pub struct Polls {
    size: Size,
}

impl Polls {
    pub fn new(size: Size) -> Polls {
        Polls { size }
    }

    /// Pane `pane`'s poll `step`, made at `at`; `None` for a pane the generator has no data for
    /// (Redis, PostgreSQL, RabbitMQ, logs).
    pub fn update(&mut self, pane: PaneId, step: u64, at: SystemTime) -> Option<SourceUpdate> {
        let size = &self.size;
        Some(match pane {
            p if p == Pillows::ID => SourceUpdate::Pillows(Ok(pillows(size, step, at))),
            p if p == Elasticsearch::ID => SourceUpdate::Elasticsearch(Ok(elasticsearch(size, step))),
            p if p == Queues::ID => SourceUpdate::Queues(Ok(queues(size, step))),
            p if p == Hosts::ID => SourceUpdate::Hosts(Ok(hosts(size, step))),
            _ => return None,
        })
    }
}

/// A fleet that has seen `steps` polls of every generated pane (at [`time`]), with the audit
/// entries and the log lines, and the polls that go on from there (their next is poll `steps`):
/// the state the benchmarks and the snapshot start from.
pub fn history(size: &Size, steps: u64) -> (Fleet, Polls) {
    let mut fleet = Fleet::default();
    for pane in POLLED {
        fleet.enable(pane);
    }
    fleet.enable(Logs::ID);
    let mut polls = Polls::new(*size);
    for step in 0..steps {
        for pane in POLLED {
            if let Some(u) = polls.update(pane, step, time(step)) {
                fleet.apply(time(step), u);
            }
        }
    }
    for e in log_events(size, time(steps)) {
        fleet.apply(time(steps), SourceUpdate::Logs(e));
    }
    fleet.audit = audit(size);
    (fleet, polls)
}

/// [`history`]'s fleet.
pub fn fleet(size: &Size, steps: u64) -> Fleet {
    history(size, steps).0
}

/// A generated fleet in place of connected clients (`opsdeck demo --fleet xl`): the pollers the
/// console runs, and what it knows before their first poll (some history, the audit entries, the
/// buffered log lines).
pub struct Generated {
    pub pollers: Vec<Box<dyn PanePoller>>,
    pub preload: Vec<Polled>,
    pub audit: Vec<AuditEntry>,
}

/// Why an action on a generated row is not run.
pub const NOTHING_BEHIND: &str =
    "not run: this is the generated XL demo fleet, there is no peer behind its rows to act on (try `opsdeck demo`)";

/// What an action on a generated row runs: nothing; it ends failed with [`NOTHING_BEHIND`].
#[derive(Debug)]
struct NothingBehind;

impl Operation for NothingBehind {
    fn run<'a>(&'a self, _ctx: &'a ActionCtx) -> futures::future::BoxFuture<'a, Outcome> {
        Box::pin(std::future::ready(Outcome::failed(NOTHING_BEHIND)))
    }
}

/// `plan` as the generated fleet runs it: through the executor (confirmed, audited) to a refusal,
/// since no client stands behind its target.
pub fn refused(plan: ActionPlan) -> ActionPlan {
    ActionPlan {
        op: std::sync::Arc::new(NothingBehind),
        ..plan
    }
}

/// Polls of history the demo starts with, so trends and sparklines are drawn from the first frame.
const PRELOAD: u64 = 20;

impl Generated {
    /// Fleet `size`, with `PRELOAD` polls of history ending now; the pollers go on from there.
    pub fn new(size: Size) -> Generated {
        let now = SystemTime::now();
        let mut preload = Vec::new();
        let mut pollers = Vec::new();
        for pane in POLLED {
            // Each pane's history and its poller are one sequence of polls.
            let mut polls = Polls::new(size);
            for step in 0..PRELOAD {
                let at = now - Duration::from_secs((PRELOAD - step) * STEP_SECS);
                preload.extend(polls.update(pane, step, at).map(|update| Polled { at, update }));
            }
            pollers.push(Box::new(GeneratedPoller {
                polls,
                pane,
                step: PRELOAD,
            }) as Box<dyn PanePoller>);
        }
        preload.extend(log_events(&size, now).into_iter().map(|e| Polled {
            at: now,
            update: SourceUpdate::Logs(e),
        }));
        Generated {
            pollers,
            preload,
            audit: audit(&size),
        }
    }
}

/// One pane's generated poller: poll `step`, then the next, on the refresh interval.
struct GeneratedPoller {
    polls: Polls,
    pane: PaneId,
    step: u64,
}

impl Poller<SourceUpdate> for GeneratedPoller {
    fn interval(&self) -> Duration {
        Duration::from_secs(STEP_SECS)
    }
    fn timeout(&self) -> Duration {
        Duration::from_secs(10)
    }
    fn poll(&mut self) -> futures::future::BoxFuture<'_, SourceUpdate> {
        let update = self
            .polls
            .update(self.pane, self.step, SystemTime::now())
            .expect("generated panes only");
        self.step += 1;
        Box::pin(std::future::ready(update))
    }
}

impl PanePoller for GeneratedPoller {
    fn pane(&self) -> PaneId {
        self.pane
    }
    fn failed(&self, error: SourceError) -> SourceUpdate {
        SourceUpdate::failed(self.pane, error).expect("a polled pane")
    }
}
