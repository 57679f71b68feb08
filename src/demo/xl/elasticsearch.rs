//! The Elasticsearch cluster's polls: nodes, shard copies, allocation.

use super::{Size, mix, tide, unit};
use opsdeck_elasticsearch::model::{
    AllocationRow, ClusterHealth, Distribution, EsNode, EsPoll, HealthStatus, RelocationTarget, ShardRow, ShardState,
};
use std::sync::Arc;

/// Primaries per index; each has one replica.
const ES_PRIMARIES: usize = 5;

/// The Elasticsearch poll `step`: `size.es_shards` copies of 5-primary, 1-replica indices over
/// `size.es_nodes` data nodes, a handful unassigned with their reasons, a few relocating (others
/// each step), stores growing slowly, and one node's disk climbing past the high watermark.
pub fn elasticsearch(size: &Size, step: u64) -> EsPoll {
    let nodes = size.es_nodes.max(2);
    let node_name = |n: usize| format!("es-data-{n:02}");
    let node_ip = |n: usize| format!("10.0.{}.{}", 2 + n / 250, 10 + n % 250);
    let node_id = |n: usize| {
        format!("{:016x}", mix(&[7, n as u64]) >> 4)
            .chars()
            .take(22)
            .collect::<String>()
    };
    // Shared by the rows that name them, as the parser of `_cat/shards` shares them.
    let shared = |name: &dyn Fn(usize) -> String| (0..nodes).map(|n| Arc::<str>::from(name(n))).collect::<Vec<_>>();
    let (names, ips, ids) = (shared(&node_name), shared(&node_ip), shared(&node_id));
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
        let name: Arc<str> = Arc::from(format!("{family}-2026.11.{day:02}-{:04}", index / 120));
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
                    index: Arc::clone(&name),
                    shard: shard as u32,
                    primary: replica == 0,
                    state: ShardState::Started,
                    docs: Some(docs),
                    store_bytes: Some(store),
                    ip: Some(Arc::clone(&ips[node])),
                    node_id: Some(Arc::clone(&ids[node])),
                    node: Some(Arc::clone(&names[node])),
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
    EsPoll {
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
    }
}
