//! The test server shares the demo's simulation; this checks the simulation answers in the shapes of
//! the real captures (same keys, same JSON types), so tests against it mean something for real clusters.

use super::common::{fixture, small_cluster};
use opsdeck_elasticsearch::source::parse;
use serde_json::Value;
use std::collections::BTreeSet;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// Every key of `real` is in `sim` with the same JSON type (recursively for objects).
fn same_shape(real: &Value, sim: &Value, path: &str) {
    assert_eq!(
        kind(real),
        kind(sim),
        "{path}: real is {}, simulated is {}",
        kind(real),
        kind(sim)
    );
    if let (Some(r), Some(s)) = (real.as_object(), sim.as_object()) {
        for (k, rv) in r {
            let sv = s
                .get(k)
                .unwrap_or_else(|| panic!("{path}.{k}: missing in the simulated answer"));
            same_shape(rv, sv, &format!("{path}.{k}"));
        }
    }
}

fn real(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

#[test]
fn sim_answers_have_fixture_shapes() {
    let mut sim = small_cluster();
    sim.stop_node("spot-2", None);
    // Health: every field of the 7.13 capture, same types.
    same_shape(&real("clusterhealth_7.13.1.json"), &sim.health(), "health");
    // GET /: name, cluster_name, version.number, tagline...
    let info = real("clusterinfo_7.13.1.json");
    for k in ["name", "cluster_name", "cluster_uuid", "tagline"] {
        same_shape(&info[k], &sim.info()[k], k);
    }
    same_shape(
        &info["version"]["number"],
        &sim.info()["version"]["number"],
        "version.number",
    );

    // _cat/shards: the capture's columns, strings for started copies, nulls for unassigned ones.
    let shards = real("shards_7.15.0.json");
    let sim_shards: Vec<Value> = sim.cat_shards().into_iter().map(Value::Object).collect();
    let started = sim_shards.iter().find(|r| r["state"] == "STARTED").unwrap();
    let unassigned = sim_shards.iter().find(|r| r["state"] == "UNASSIGNED").unwrap();
    for row in shards.as_array().unwrap() {
        let model = if row["state"] == "UNASSIGNED" {
            unassigned
        } else {
            started
        };
        same_shape(row, model, &format!("shards[{}]", row["index"]));
    }

    // _nodes/stats: the fields we read, same types and the same `ip:port` form.
    let ns = real("nodestats_7.13.1.json");
    let real_node = ns["nodes"].as_object().unwrap().values().next().unwrap();
    let sim_ns = sim.node_stats();
    let sim_node = sim_ns["nodes"].as_object().unwrap().values().next().unwrap();
    for k in ["name", "host", "ip", "transport_address", "roles"] {
        same_shape(&real_node[k], &sim_node[k], k);
    }
    // Attributes differ per node (ml.*, zone...): same type, string values.
    assert_eq!(kind(&real_node["attributes"]), kind(&sim_node["attributes"]));
    assert!(
        sim_node["attributes"]
            .as_object()
            .unwrap()
            .values()
            .all(Value::is_string)
    );
    same_shape(&real_node["fs"]["total"], &sim_node["fs"]["total"], "fs.total");
    same_shape(
        &real_node["jvm"]["mem"]["heap_used_percent"],
        &sim_node["jvm"]["mem"]["heap_used_percent"],
        "heap",
    );
    assert!(
        sim_node["ip"].as_str().unwrap().contains(':'),
        "node stats ip carries a port, as captured"
    );
    assert_eq!(keys(&sim_ns), keys(&ns), "top level of _nodes/stats");

    // _cluster/settings (nested, with defaults): same scopes, and the watermark keys the captures hold.
    let s73 = real("settings-7.3.0.json");
    let sim_settings = sim.settings(true, false);
    assert_eq!(keys(&s73), keys(&sim_settings));
    let flat_real = parse::flatten_settings(&s73["defaults"]);
    let flat_sim = parse::flatten_settings(&sim_settings["defaults"]);
    for k in [
        "cluster.routing.allocation.enable",
        "cluster.routing.allocation.disk.watermark.low",
        "cluster.routing.allocation.disk.watermark.high",
        "cluster.routing.allocation.disk.watermark.flood_stage",
        "cluster.routing.allocation.disk.threshold_enabled",
    ] {
        assert!(flat_real.contains_key(k) && flat_sim.contains_key(k), "{k}");
    }
    // Every simulated answer goes through the same parsers as the real ones.
    parse::parse_health(sim.health().to_string().as_bytes()).unwrap();
    parse::parse_node_stats(sim_ns.to_string().as_bytes()).unwrap();
    parse::parse_settings(sim_settings.to_string().as_bytes()).unwrap();
}

#[test]
fn sim_relocating_rows_and_allocation_rows_have_the_documented_forms() {
    let mut sim = small_cluster();
    sim.put_settings(&serde_json::json!({"persistent": {"cluster.routing.allocation.exclude.zone": "spot"}}))
        .unwrap();
    sim.stop_node("core-2", None);
    sim.tick();
    let rows: Vec<Value> = sim.cat_shards().into_iter().map(Value::Object).collect();
    let reloc = rows
        .iter()
        .find(|r| r["state"] == "RELOCATING")
        .expect("a relocation after excluding spot");
    let cell = reloc["node"].as_str().unwrap();
    let (src, target) = parse::parse_node_cell(cell);
    let target = target.expect("src -> ip id name");
    assert!(src.starts_with("spot-"), "{cell}");
    assert_eq!(target.id.len(), 22, "node ids are 22 characters, as Elasticsearch's");
    let relocating_synthetic = real("shards_relocating_synthetic.json");
    assert_eq!(keys(&relocating_synthetic[0]), keys(reloc));
    let alloc: Vec<Value> = sim.cat_allocation().into_iter().map(Value::Object).collect();
    let synthetic = real("allocation_unassigned_synthetic.json");
    let un = alloc
        .iter()
        .find(|r| r["node"] == "UNASSIGNED")
        .expect("UNASSIGNED row while core-2 is away");
    same_shape(&synthetic[2], un, "allocation UNASSIGNED");
    same_shape(&synthetic[0], &alloc[0], "allocation node row");
}
