//! Parsers on the real captures (and the synthetic shapes noted in the fixtures' README).

use super::common::fixture;
use opsdeck_elasticsearch::model::*;
use opsdeck_elasticsearch::source::parse::*;

#[test]
fn health_6_and_7_captures() {
    for f in ["clusterhealth_6.8.8.json", "clusterhealth_7.13.1.json"] {
        let h = parse_health(&fixture(f)).unwrap();
        assert_eq!(h.cluster_name, "elasticsearch", "{f}");
        assert_eq!(h.status, HealthStatus::Yellow, "{f}");
        assert_eq!((h.active_shards, h.unassigned_shards), (30, 30), "{f}");
        assert_eq!(h.active_shards_percent, 50.0, "{f}");
    }
}

#[test]
fn info_detects_elasticsearch_and_opensearch() {
    let es = parse_info(&fixture("clusterinfo_7.13.1.json")).unwrap();
    assert_eq!(
        (es.flavor, es.version.as_str(), es.major),
        (Flavor::Elasticsearch, "7.13.1", 7)
    );
    let os = parse_info(&fixture("clusterinfo_opensearch2_synthetic.json")).unwrap();
    assert_eq!((os.flavor, os.major), (Flavor::OpenSearch, 2));
    assert_eq!(os.label(), "OpenSearch 2.11.1");
}

#[test]
fn node_stats_capture_strips_the_port_and_reads_disk_and_heap() {
    let nodes = parse_node_stats(&fixture("nodestats_7.13.1.json")).unwrap();
    assert_eq!(nodes.len(), 1);
    let n = &nodes[0];
    assert_eq!(n.name, "aaf5a8a0bceb");
    assert_eq!(
        n.ip, "172.17.0.2",
        "the capture says 172.17.0.2:9300; exclude._ip needs the bare IP"
    );
    assert_eq!(n.disk_total, Some(476630163456));
    assert_eq!(n.disk_available, Some(63425642496));
    assert_eq!(n.heap_percent, Some(19));
    // jvm.timestamp 1622732353200 minus jvm.uptime_in_millis 21844.
    assert_eq!(n.started_at_ms, Some(1_622_732_331_356));
    assert!(n.roles.contains(&"master".to_string()));
    assert_eq!(n.roles_label(), "data,ingest,master,ml,remote_cluster_client,transform");
    // 86.7% used: over the default low (85%) but under high (90%).
    assert_eq!(n.level_against(&Watermarks::default()), DiskLevel::Low);
}

#[test]
fn shards_capture_with_nulls_and_human_sizes() {
    let rows = parse_shards(&fixture("shards_7.15.0.json")).unwrap();
    assert_eq!(rows.len(), 5);
    let geo = &rows[0];
    assert_eq!((&*geo.index, geo.shard, geo.primary), (".geoip_databases", 0, true));
    assert_eq!(geo.store_bytes, Some((36.4 * 1024.0 * 1024.0) as u64));
    assert_eq!(geo.docs, Some(38));
    assert_eq!(geo.node.as_deref(), Some("35dfca79831a"));
    let un: Vec<_> = rows.iter().filter(|r| r.state == ShardState::Unassigned).collect();
    assert_eq!(un.len(), 2);
    assert!(
        un.iter()
            .all(|r| !r.primary && r.node.is_none() && r.ip.is_none() && r.store_bytes.is_none())
    );
    let state = EsState::build(EsPoll {
        shards: rows,
        ..EsPoll::default()
    });
    assert_eq!(state.shard_counts.unassigned, 2);
    assert_eq!(state.shard_counts.started, 3);
    assert_eq!(state.unassigned.len(), 2);
}

#[test]
fn relocating_rows_name_source_and_target() {
    let rows = parse_shards(&fixture("shards_relocating_synthetic.json")).unwrap();
    let r1 = &rows[0];
    assert_eq!(r1.state, ShardState::Relocating);
    assert_eq!(r1.node.as_deref(), Some("es-data-1"));
    let t = r1.relocating_to.as_ref().unwrap();
    assert_eq!(
        (t.ip.as_str(), t.id.as_str(), t.name.as_str()),
        ("10.56.2.33", "8DqGuLtrSNyMfE2EfKNDgg", "es-data-0")
    );
    assert_eq!(rows[1].relocating_to.as_ref().unwrap().name, "es data 0 with spaces");
    assert_eq!(rows[3].node, None, "an empty node cell is no node");
    // The target counts as named by both relocations (it receives them) and by its own started copy.
    let target = EsNode {
        name: "es-data-0".into(),
        id: "8DqGuLtrSNyMfE2EfKNDgg".into(),
        ..EsNode::default()
    };
    assert_eq!(rows.iter().filter(|r| r.names_node(&target)).count(), 3);
    assert_eq!(parse_node_cell("plain-node"), ("plain-node".to_string(), None));
}

#[test]
fn allocation_keeps_the_unassigned_row() {
    let rows = parse_allocation(&fixture("allocation_unassigned_synthetic.json")).unwrap();
    assert_eq!(rows.len(), 3);
    let un = rows.iter().find(|r| r.node == "UNASSIGNED").unwrap();
    assert_eq!(un.shards, 7);
    assert_eq!((un.disk_total, un.disk_avail, un.disk_percent), (None, None, None));
    assert_eq!(rows[0].disk_percent, Some(74));
    let state = EsState::build(EsPoll {
        allocation: rows,
        nodes: vec![EsNode {
            name: "es-data-1".into(),
            ..EsNode::default()
        }],
        ..EsPoll::default()
    });
    assert_eq!(state.unassigned_per_allocation, 7);
    // Disk comes from _cat/allocation when node stats had none.
    assert_eq!(state.nodes[0].disk_total, Some(1055699812352));
    assert_eq!(state.nodes[0].shards, Some(108));
}

#[test]
fn opensearch_cluster_manager_column_marks_the_master() {
    let cat = parse_cat_nodes(&fixture("catnodes_opensearch2_cluster_manager_synthetic.json")).unwrap();
    let mut nodes = Vec::new();
    merge_cat_nodes(&mut nodes, &cat);
    let master: Vec<_> = nodes.iter().filter(|n| n.master).map(|n| n.name.as_str()).collect();
    assert_eq!(master, vec!["os-2-node-1"]);
}

#[test]
fn settings_captures_nested_ratio_and_percent_watermarks() {
    let s73 = parse_settings(&fixture("settings-7.3.0.json")).unwrap();
    let a = AllocationSettings::from_settings(&s73);
    assert_eq!((a.enable.as_str(), a.enable_scope), ("all", Scope::Default));
    assert_eq!(a.watermarks.low, Watermark::UsedPercent(85.0));
    assert_eq!(a.watermarks.flood_stage, Watermark::UsedPercent(95.0));
    assert!(
        !a.watermarks.threshold_enabled,
        "this capture has threshold_enabled false"
    );
    assert!(a.filters.is_empty());

    let s89 = parse_settings(&fixture("settings-8.9.1-watermark.json")).unwrap();
    assert_eq!(
        s89.effective("cluster.routing.allocation.disk.watermark.high"),
        Some(("92%", Scope::Persistent))
    );
    let a = AllocationSettings::from_settings(&s89);
    assert_eq!(a.watermarks.low, Watermark::UsedPercent(88.0));
    assert_eq!(a.watermarks.high, Watermark::UsedPercent(92.0));
    assert_eq!(a.watermarks.flood_stage, Watermark::UsedPercent(96.0));
    assert_eq!(a.watermarks.low_max_headroom, None, "-1 means no headroom");
    assert!(a.watermarks.threshold_enabled);
}

#[test]
fn explain_summary_names_the_decider() {
    let e = parse_explain(&fixture("explain_unassigned_synthetic.json")).unwrap();
    assert_eq!(e.copy_key(), "my-index-000001/0/p");
    assert_eq!(e.can_allocate.as_deref(), Some("no"));
    assert_eq!(e.unassigned_reason.as_deref(), Some("INDEX_CREATED"));
    assert_eq!(e.nodes.len(), 1);
    assert_eq!(e.nodes[0].decider, "filter");
    assert!(e.nodes[0].explanation.contains("nonexistent_node"));
}

#[test]
fn malformed_answers_are_errors_not_panics() {
    assert!(parse_health(b"{\"cluster_name\": \"x\", \"sta").is_err());
    assert!(parse_shards(b"{}").is_err());
    assert!(parse_shards(br#"[{"index":"a","shard":"x"}]"#).is_err());
    assert!(parse_settings(b"[]").is_err());
    assert!(parse_node_stats(b"null").is_err());
}

#[test]
fn ports_are_stripped_from_any_address_form() {
    assert_eq!(strip_port("10.0.0.5:9300"), "10.0.0.5");
    assert_eq!(strip_port("10.0.0.5"), "10.0.0.5");
    assert_eq!(strip_port("[fe80::1]:9300"), "fe80::1");
    assert_eq!(strip_port("fe80::1"), "fe80::1");
}

#[test]
fn node_reported_effective_watermarks_win_over_the_settings() {
    // ES ≥ 8.14 reports the free space each watermark requires per data path (headroom included).
    let body = br#"{"nodes":{"abc":{"name":"n1","ip":"10.0.0.1:9300","roles":["data"],
        "fs":{"total":{"total_in_bytes":1000,"available_in_bytes":300},
              "data":[{"path":"/d","total_in_bytes":1000,"available_in_bytes":300,
                       "low_watermark_free_space_in_bytes":400,"high_watermark_free_space_in_bytes":200,
                       "flood_stage_free_space_in_bytes":100}]}}}}"#;
    let nodes = parse_node_stats(body).unwrap();
    let t = nodes[0].effective_thresholds.unwrap();
    assert_eq!((t.low, t.high, t.flood_stage), (400, 200, 100));
    // 70% used: fine against the 85% default, but the node's own thresholds say over low.
    assert_eq!(nodes[0].level_against(&Watermarks::default()), DiskLevel::Low);
}

#[test]
fn config_section_errors_name_file_line_and_key() {
    let text = "[elasticsearch]\nurl = \"ftp://es:9200\"\nusername = \"u\"\napi_key = \"k\"\nexplain_max = 99\n";
    let errs = opsdeck::config::parse_str(text, std::path::Path::new("es.toml")).unwrap_err();
    let all: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert!(
        all.iter()
            .any(|e| e.contains("es.toml:2") && e.contains("elasticsearch.url") && e.contains("ftp")),
        "{all:#?}"
    );
    assert!(all.iter().any(|e| e.contains("elasticsearch.explain_max")), "{all:#?}");
    assert!(all.iter().any(|e| e.contains("elasticsearch.api_key")), "{all:#?}");
    let ok = "[elasticsearch]\nurl = \"https://es:9200\"\nrefresh = \"15s\"\n";
    assert!(opsdeck::config::parse_str(ok, std::path::Path::new("es.toml")).is_ok());
}
