//! Criterion benchmarks: Elasticsearch at scale — parse a `_cat/shards` answer of 20,000 copies over
//! 40 nodes, build the state, and check the capacity for a drain (drawing the grid and the nodes
//! table on fleet-XL: `goals`).

use criterion::{Criterion, criterion_group};
use opsdeck_elasticsearch::model::{EsNode, EsPoll, EsState};
use opsdeck_elasticsearch::source::parse;
use serde_json::json;
use std::hint::black_box;

const NODES: usize = 40;
const SHARDS: usize = 20_000;

/// A `_cat/shards?format=json&bytes=b` answer: 2,000 indices × 5 shards × (primary + replica),
/// with some relocating and unassigned copies, as the real API writes them (strings, nulls).
fn cat_shards() -> Vec<u8> {
    let mut rows = Vec::with_capacity(SHARDS);
    let mut i = 0usize;
    'outer: for index in 0.. {
        for shard in 0..5 {
            for copy in 0..2 {
                if rows.len() == SHARDS {
                    break 'outer;
                }
                i += 1;
                let node = (index * 7 + shard * 3 + copy) % NODES;
                let (state, cell) = match i % 400 {
                    0 => ("UNASSIGNED", None),
                    1 | 2 => (
                        "RELOCATING",
                        Some(format!(
                            "es-data-{node:02} -> 10.0.1.{t} nodeid{t:016} es-data-{t:02}",
                            t = (node + 1) % NODES
                        )),
                    ),
                    _ => ("STARTED", Some(format!("es-data-{node:02}"))),
                };
                rows.push(json!({
                    "index": format!("logs-2026.{:04}", index), "shard": shard.to_string(),
                    "prirep": if copy == 0 { "p" } else { "r" }, "state": state,
                    "docs": cell.as_ref().map(|_| "123456"), "store": cell.as_ref().map(|_| "73400320"),
                    "ip": cell.as_ref().map(|_| format!("10.0.1.{node}")), "id": cell.as_ref().map(|_| format!("nodeid{node:016}")),
                    "node": cell, "unassigned.reason": if state == "UNASSIGNED" { Some("NODE_LEFT") } else { None },
                }));
            }
        }
    }
    serde_json::to_vec(&rows).expect("json")
}

fn nodes() -> Vec<EsNode> {
    (0..NODES)
        .map(|n| EsNode {
            id: format!("nodeid{n:016}"),
            name: format!("es-data-{n:02}"),
            ip: format!("10.0.1.{n}"),
            roles: vec!["data".into(), "ingest".into()],
            disk_total: Some(2 << 40),
            disk_available: Some((2u64 << 40) / 100 * (5 + n as u64 % 30)),
            heap_percent: Some(50),
            ..EsNode::default()
        })
        .collect()
}

fn poll(body: &[u8]) -> EsPoll {
    EsPoll {
        shards: parse::parse_shards(body).expect("parse"),
        nodes: nodes(),
        ..EsPoll::default()
    }
}

fn bench(c: &mut Criterion) {
    let body = cat_shards();
    c.bench_function("es_parse_cat_shards_20k", |b| {
        b.iter(|| parse::parse_shards(black_box(&body)).expect("parse"))
    });
    c.bench_function("es_build_state_20k_40_nodes", |b| {
        b.iter_batched(|| poll(&body), EsState::build, criterion::BatchSize::LargeInput)
    });
    let state = EsState::build(poll(&body));
    c.bench_function("es_grid_table_20k_40_nodes", |b| {
        b.iter(|| {
            opsdeck_elasticsearch::views::grid_table(
                black_box(&state),
                opsdeck_elasticsearch::views::StateFilter::All,
                0,
            )
        })
    });
    // What the drain plan (and each procedure's) adds before it is offered: bytes to move against the
    // room under the low watermark on the other 39 nodes, same-shard rule included.
    c.bench_function("es_capacity_check_drain_20k_40_nodes", |b| {
        b.iter(|| opsdeck_elasticsearch::analysis::capacity_for_moving(black_box(&state), &["es-data-07"]))
    });
}

criterion_group!(benches, bench);
