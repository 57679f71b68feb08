//! `opsdeck snapshot` JSON and `opsdeck check` on the test server: health, nodes, shard counts,
//! unassigned list and settings; yellow → warning (1), red or a disk over the high watermark → critical (2).

use super::common::*;
use opsdeck::snapshot::{check_report, collect, to_json};

#[tokio::test]
async fn snapshot_carries_health_nodes_counts_unassigned_and_settings() {
    let mut sim = small_cluster();
    sim.stop_node("spot-1", None);
    sim.put_settings(&serde_json::json!({"persistent": {"cluster.routing.allocation.exclude.zone": "spot"}}))
        .unwrap();
    let server = start(sim).await;
    let config = config_for(&server.url);
    let fleet = collect(&config).await;
    let doc = to_json(&fleet, &config);
    let es = &doc["elasticsearch"];
    assert_eq!(es["status"], "ok", "{es:#}");
    assert!(es["polled_at"].is_string());
    assert_eq!(es["health"]["cluster_name"], "test");
    assert_eq!(es["health"]["status"], "yellow");
    assert_eq!(es["nodes"].as_array().unwrap().len(), 3);
    let n = &es["nodes"][0];
    for k in [
        "name",
        "ip",
        "roles",
        "attributes",
        "disk_total",
        "disk_available",
        "disk_level",
        "excluded_by",
        "heap_percent",
    ] {
        assert!(n.get(k).is_some(), "node field {k}: {n:#}");
    }
    let unassigned = es["shard_counts"]["unassigned"].as_u64().unwrap();
    assert!(unassigned > 0);
    assert_eq!(es["unassigned"].as_array().unwrap().len() as u64, unassigned);
    assert!(es["unassigned"][0]["index"].is_string() && es["unassigned"][0]["unassigned_reason"] == "NODE_LEFT");
    assert_eq!(es["settings"]["enable"], "all");
    assert_eq!(es["settings"]["filters"][0]["attribute"], "zone");
    assert_eq!(es["settings"]["filters"][0]["scope"], "persistent");
    assert!(
        es.get("shards").is_none(),
        "the full shard list stays out of the snapshot"
    );
    let (lines, code) = check_report(&fleet, &config);
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("WARNING elasticsearch test: yellow")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn check_is_critical_when_red_or_over_the_high_watermark() {
    let mut sim = small_cluster();
    // Both copies of some shards gone: red.
    sim.stop_node("core-1", None);
    sim.stop_node("spot-1", None);
    let server = start(sim).await;
    let config = config_for(&server.url);
    let (lines, code) = check_report(&collect(&config).await, &config);
    assert_eq!(code, 2, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("CRITICAL elasticsearch test: red")),
        "{lines:?}"
    );

    let mut sim = small_cluster();
    sim.nodes[3].base_used = 92 << 30; // spot-2: over 90% of 100 GB
    let server = start(sim).await;
    let config = config_for(&server.url);
    let (lines, code) = check_report(&collect(&config).await, &config);
    assert_eq!(code, 2, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("spot-2:disk") && l.contains("high watermark 90%")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn an_unreachable_cluster_is_an_error_in_the_snapshot() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = config_for(&format!("http://127.0.0.1:{port}"));
    let fleet = collect(&config).await;
    let doc = to_json(&fleet, &config);
    assert_eq!(doc["elasticsearch"]["status"], "error");
    assert!(
        doc["elasticsearch"]["error"].as_str().unwrap().contains("GET /"),
        "{doc:#}"
    );
    let (_, code) = check_report(&fleet, &config);
    assert_eq!(code, 2);
}

/// `check` says how bad a source that cannot be polled is by what failed: refused credentials are
/// critical and say what to check; a cluster too slow to answer is a warning (it is retried).
#[tokio::test]
async fn check_rates_a_failing_source_by_what_failed() {
    let mut sim = small_cluster();
    sim.auth = Some(opsdeck_elasticsearch::demo::sim::Auth::Basic(
        "opsdeck".into(),
        "right".into(),
    ));
    let server = start(sim).await;
    let mut config = config_for(&server.url);
    config.elasticsearch.username = Some("opsdeck".into());
    config.elasticsearch.password = Some("wrong".into());
    let fleet = collect(&config).await;
    assert_eq!(to_json(&fleet, &config)["elasticsearch"]["error_kind"], "unauthorised");
    let (lines, code) = check_report(&fleet, &config);
    assert_eq!(code, 2, "{lines:?}");
    assert!(
        lines[0].starts_with("CRITICAL elasticsearch elasticsearch: cannot poll: GET /: HTTP 401")
            && lines[0].ends_with("— check credentials"),
        "{lines:?}"
    );

    let server = start(small_cluster()).await;
    server
        .sim
        .set_fault(Some(opsdeck_elasticsearch::demo::sim::Fault::DelayMs(1_500)));
    let mut config = config_for(&server.url);
    config.elasticsearch.request_timeout = opsdeck_core::config::ConfigDuration(std::time::Duration::from_millis(300));
    let (lines, code) = check_report(&collect(&config).await, &config);
    assert_eq!(code, 1, "{lines:?}");
    assert!(
        lines[0].starts_with("WARNING elasticsearch elasticsearch: cannot poll: ")
            && lines[0].contains("no answer within"),
        "{lines:?}"
    );
}

/// A source whose clients cannot even be set up (a CA file that is not a certificate) is the
/// config's to fix: critical, and `check` says so.
#[tokio::test]
async fn check_says_to_fix_the_config_when_the_clients_cannot_be_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate").unwrap();
    let mut config = config_for("https://127.0.0.1:9");
    config.elasticsearch.ca_file = Some(ca);
    let fleet = collect(&config).await;
    assert_eq!(to_json(&fleet, &config)["elasticsearch"]["error_kind"], "refused");
    let (lines, code) = check_report(&fleet, &config);
    assert_eq!(code, 2, "{lines:?}");
    assert!(
        lines[0].contains("ca_file") && lines[0].ends_with("— check the config"),
        "{lines:?}"
    );
}
