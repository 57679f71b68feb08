//! One OpenSearch node, read as the pane reads it: detection, health, nodes, shards, allocation,
//! settings and recoveries, and a replica that cannot be assigned with the cluster's own explain.

use super::env::{peer, unique};
use super::opensearch::{Index, config_for, health, pane, poll};
use opsdeck_elasticsearch::model::{EsState, Flavor, HealthStatus, ShardState, Watermark};

#[tokio::test(flavor = "multi_thread")]
async fn a_single_node_is_read_as_opensearch_and_its_unassigned_replicas_are_explained() {
    let url = peer!("OPSDECK_OPENSEARCH");
    let index = Index::create(&url, &unique("logs"), 2, 1).await;
    index.fill(30).await;
    health(
        &url,
        &[
            ("wait_for_status", "yellow"),
            ("wait_for_no_initializing_shards", "true"),
        ],
    )
    .await;

    let poll = poll(&url).await;
    // Detection: `GET /` says OpenSearch and its version.
    assert_eq!(poll.distribution.flavor, Flavor::OpenSearch);
    assert!(
        poll.distribution.version.starts_with("2.19."),
        "{:?}",
        poll.distribution
    );
    assert_eq!(poll.distribution.major, 2);
    // Health: one node; our replicas have nowhere to go.
    assert_eq!(poll.health.cluster_name, "opsdeck-peers-opensearch");
    assert_eq!(poll.health.status, HealthStatus::Yellow);
    assert_eq!((poll.health.number_of_nodes, poll.health.number_of_data_nodes), (1, 1));
    assert!(poll.health.unassigned_shards >= 2, "{:?}", poll.health);
    // Nodes: `_nodes/stats` merged with `_cat/nodes` (OpenSearch's cluster-manager is our `master`).
    assert_eq!(poll.nodes.len(), 1, "{:?}", poll.nodes);
    let node = &poll.nodes[0];
    assert_eq!(
        (node.name.as_str(), node.ip.as_str(), node.master),
        ("node-1", "127.0.0.1", true)
    );
    assert!(node.roles.iter().any(|r| r == "data"), "{:?}", node.roles);
    assert!(node.roles.iter().any(|r| r == "cluster_manager"), "{:?}", node.roles);
    let (total, avail) = (node.disk_total.unwrap(), node.disk_available.unwrap());
    assert!(total > avail && avail > 0, "disk {avail} of {total}");
    assert!(node.heap_percent.is_some_and(|h| h <= 100));
    assert!(node.started_at_ms.is_some(), "JVM start from uptime and timestamp");
    // Shards: two primaries on node-1 holding the 30 documents, two replicas unassigned.
    let ours: Vec<_> = poll.shards.iter().filter(|s| *s.index == *index.name).collect();
    assert_eq!(ours.len(), 4, "{ours:?}");
    let primaries: Vec<_> = ours.iter().filter(|s| s.primary).collect();
    assert!(
        primaries
            .iter()
            .all(|s| s.state == ShardState::Started && s.node.as_deref() == Some("node-1"))
    );
    assert!(
        primaries
            .iter()
            .all(|s| s.ip.as_deref() == Some("127.0.0.1") && s.store_bytes.is_some())
    );
    assert_eq!(primaries.iter().map(|s| s.docs.unwrap()).sum::<u64>(), 30);
    for r in ours.iter().filter(|s| !s.primary) {
        assert_eq!(r.state, ShardState::Unassigned);
        assert_eq!(
            (r.node.as_deref(), r.unassigned_reason.as_deref()),
            (None, Some("INDEX_CREATED"))
        );
    }
    // Allocation: the node's disk as the allocator sees it, and the UNASSIGNED row.
    let row = poll.allocation.iter().find(|a| a.node == "node-1").expect("node-1 row");
    assert!(row.shards >= 2 && row.disk_total == Some(total), "{row:?}");
    assert!(row.disk_percent.is_some_and(|p| p <= 100));
    assert!(
        poll.allocation.iter().any(|a| a.node == "UNASSIGNED"),
        "{:?}",
        poll.allocation
    );
    // Settings with defaults: allocation on, and the watermarks scripts/peers configured.
    assert_eq!(
        poll.settings
            .defaults
            .get("cluster.routing.allocation.enable")
            .map(String::as_str),
        Some("all")
    );
    let state = EsState::build(poll.clone());
    assert_eq!(state.settings.watermarks.low, Watermark::FreeBytes(500 << 20));
    assert_eq!(state.settings.watermarks.flood_stage, Watermark::FreeBytes(200 << 20));
    // Recoveries: none active once the index is started (the three-node drain sees them).
    assert!(
        poll.recoveries.iter().all(|r| r.index != index.name),
        "{:?}",
        poll.recoveries
    );
    // Explain: the cluster's own reason, per node.
    for shard in [0, 1] {
        let explain = poll
            .explains
            .iter()
            .find(|e| e.index == index.name && e.shard == shard && !e.primary)
            .unwrap_or_else(|| panic!("no explain of {}/{shard}/r: {:?}", index.name, poll.notes));
        assert_eq!(explain.can_allocate.as_deref(), Some("no"));
        assert_eq!(explain.unassigned_reason.as_deref(), Some("INDEX_CREATED"));
        assert_eq!(explain.nodes.len(), 1);
        let d = &explain.nodes[0];
        assert_eq!(
            (d.node.as_str(), d.decision.as_str(), d.decider.as_str()),
            ("node-1", "no", "same_shard")
        );
        assert!(
            d.explanation
                .contains("a copy of this shard is already allocated to this node"),
            "{}",
            d.explanation
        );
    }

    // The pane: its header names the cluster and the distribution; the unassigned view opens the explain.
    let config = config_for(&url);
    let screen = pane(&config, poll.clone(), &[]);
    assert!(
        screen.contains("opsdeck-peers-opensearch · YELLOW · OpenSearch 2.19."),
        "{screen}"
    );
    assert!(screen.contains("node-1"), "{screen}");
    let screen = pane(&config, poll, &["v", "v", "enter"]);
    assert!(screen.contains("can allocate: no"), "{screen}");
    assert!(screen.contains("same_shard"), "{screen}");
    // `opsdeck snapshot`: the same cluster as one JSON document.
    let doc = opsdeck::snapshot::to_json(&opsdeck::snapshot::collect(&config).await, &config);
    let es = &doc["elasticsearch"];
    assert_eq!(
        (es["status"].as_str(), es["health"]["status"].as_str()),
        (Some("ok"), Some("yellow")),
        "{es:#}"
    );
    assert!(
        es["unassigned"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["index"] == index.name.as_str()),
        "{es:#}"
    );
}
