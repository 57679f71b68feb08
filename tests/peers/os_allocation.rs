//! Three OpenSearch nodes, allocation changed through opsdeck's actions: a drain by `_ip` whose shards
//! really relocate (followed in the pane and the snapshot), allocation `enable` written persistent
//! with a transient value cleared, and absolute disk watermarks that the disk decider enforces.
//! Each test has the cluster to itself (`exclusive`) and puts its settings back when it ends.

use super::env::{peer, unique};
use super::opensearch::*;
use opsdeck_core::action::{OutcomeResult, Risk};
use opsdeck_elasticsearch::actions as act;
use opsdeck_elasticsearch::model::{DiskLevel, EsPoll, EsState, HealthStatus, Scope, ShardState, Watermark};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

const ENABLE: &str = "cluster.routing.allocation.enable";
const EXCLUDE_IP: &str = "cluster.routing.allocation.exclude._ip";
const RECOVERY_RATE: &str = "indices.recovery.max_bytes_per_sec";
const WATERMARKS: [&str; 3] = [
    "cluster.routing.allocation.disk.watermark.low",
    "cluster.routing.allocation.disk.watermark.high",
    "cluster.routing.allocation.disk.watermark.flood_stage",
];

async fn put_settings(url: &str, body: serde_json::Value) {
    send(
        url,
        opsdeck_elasticsearch::source::EsRequest::put("/_cluster/settings", body),
    )
    .await;
}

/// Polls until `done` holds for the poll (every 200 ms, at most `limit`), handing each poll to `each`.
async fn poll_until(
    url: &str,
    limit: Duration,
    mut each: impl FnMut(&EsPoll),
    done: impl Fn(&EsState) -> bool,
) -> EsState {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let p = poll(url).await;
        each(&p);
        let s = EsState::build(p);
        if done(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {limit:?}: {:?}",
            s.health
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn draining_a_node_by_ip_relocates_its_shards_while_the_pane_and_snapshot_follow() {
    let url = peer!("OPSDECK_OPENSEARCH3");
    let _cluster = exclusive(&url, &[EXCLUDE_IP, RECOVERY_RATE]).await;
    // Throttled recoveries: the copies are small, and polls should see them on their way.
    put_settings(&url, json!({"persistent": {RECOVERY_RATE: "2kb"}})).await;
    let index = Index::create(&url, &unique("drain"), 3, 1).await;
    index.fill(200).await;
    health(&url, &[("wait_for_status", "green")]).await;
    let config = config_for(&url);
    let before = state(&url).await;
    // "Drain complete" is about every copy on the node: the cluster must hold no index but ours.
    let others: BTreeSet<&str> = before
        .shards
        .iter()
        .map(|s| &*s.index)
        .filter(|i| *i != index.name)
        .collect();
    assert!(others.is_empty(), "the test cluster holds other indices: {others:?}");
    let held = before.node_by_name("node-3").expect("node-3").shard_rows;
    assert!(held > 0, "node-3 holds copies of {}", index.name);

    let plan = act::plan_drain_node(&before, &config.elasticsearch, "node-3").unwrap();
    assert_eq!(plan.risk, Risk::Medium, "every copy has another: {}", plan.description);
    assert_eq!(
        plan.call,
        r#"PUT /_cluster/settings {"persistent":{"cluster.routing.allocation.exclude._ip":"127.0.0.3"},"transient":{"cluster.routing.allocation.exclude._ip":null}}"#
    );
    let ran = run(plan, backends(&config).await).await;
    assert_eq!(ran.outcome.result, OutcomeResult::Succeeded, "{}", ran.outcome.summary);
    assert!(
        ran.outcome.summary.contains("exclusion in force"),
        "{}",
        ran.outcome.summary
    );

    // Follow the drain as the pane and `opsdeck snapshot` do, until no shard row names node-3.
    let (mut relocating_rows, mut recoveries) = (0, 0);
    let (mut pane_draining, mut grid_marks, mut snapshot_relocating) = (false, false, false);
    let node3 = |screen: &str| {
        screen
            .lines()
            .find(|l| l.starts_with("node-3 "))
            .unwrap_or("")
            .to_string()
    };
    let after = poll_until(
        &url,
        Duration::from_secs(180),
        |p| {
            let leaving = p
                .shards
                .iter()
                .filter(|s| {
                    *s.index == *index.name
                        && s.state == ShardState::Relocating
                        && s.node.as_deref() == Some("node-3")
                        && s.relocating_to
                            .as_ref()
                            .is_some_and(|t| t.name == "node-1" || t.name == "node-2")
                })
                .count();
            relocating_rows += leaving;
            recoveries += p
                .recoveries
                .iter()
                .filter(|r| r.index == index.name && r.kind == "peer" && r.source_node.as_deref() == Some("node-3"))
                .count();
            if leaving > 0 {
                pane_draining |= node3(&pane(&config, p.clone(), &[])).contains("draining, ");
                let grid = pane(&config, p.clone(), &["v"]);
                grid_marks |= grid.contains("r>") || grid.contains("P>");
                let doc = snapshot(&config, p.clone());
                snapshot_relocating |= doc["elasticsearch"]["shard_counts"]["relocating"].as_u64() > Some(0);
            }
        },
        |s| s.node_by_name("node-3").is_some_and(|n| n.shard_rows == 0),
    )
    .await;
    assert!(relocating_rows > 0, "no poll saw a copy leaving node-3");
    assert!(recoveries > 0, "no poll saw a peer recovery from node-3");
    assert!(pane_draining, "the pane never said node-3 was draining");
    assert!(grid_marks, "the grid never marked a relocation");
    assert!(snapshot_relocating, "the snapshot never counted a relocating shard");

    // Done: nothing names node-3, the pane says so, the snapshot shows the exclusion.
    let p = poll(&url).await;
    let screen = pane(&config, p, &[]);
    assert!(node3(&screen).contains("drain complete"), "{screen}");
    let doc = opsdeck::snapshot::to_json(&opsdeck::snapshot::collect(&config).await, &config);
    assert_eq!(doc["elasticsearch"]["shard_counts"]["relocating"], 0, "{doc:#}");
    let nodes = doc["elasticsearch"]["nodes"].as_array().unwrap();
    let n3 = nodes.iter().find(|n| n["name"] == "node-3").unwrap();
    assert_eq!(n3["excluded_by"], json!(["exclude._ip=127.0.0.3"]), "{n3:#}");
    assert!(
        after
            .shards
            .iter()
            .filter(|s| *s.index == *index.name)
            .all(|s| s.state == ShardState::Started)
    );
    health(&url, &[("wait_for_status", "green")]).await;

    // Undo it with opsdeck's own action: the exclusion is gone from both scopes.
    let clear = act::plan_clear_exclusions(&after, &config.elasticsearch).unwrap();
    let ran = run(clear, backends(&config).await).await;
    assert_eq!(ran.outcome.result, OutcomeResult::Succeeded, "{}", ran.outcome.summary);
    assert!(state(&url).await.settings.filters.is_empty());
}

/// The first node decision of the copy's explain that is not `same_shard` (the node holding the primary).
fn decision_of(poll: &EsPoll, index: &str, primary: bool) -> (String, String) {
    let e = poll
        .explains
        .iter()
        .find(|e| e.index == index && e.primary == primary)
        .unwrap_or_else(|| panic!("no explain of {index}: {:?}", poll.notes));
    assert_eq!(e.can_allocate.as_deref(), Some("no"), "{e:?}");
    let d = e
        .nodes
        .iter()
        .find(|d| d.decider != "same_shard")
        .unwrap_or_else(|| panic!("{e:?}"));
    (d.decider.clone(), d.explanation.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn allocation_enable_is_written_persistent_with_the_transient_value_cleared_and_takes_effect() {
    let url = peer!("OPSDECK_OPENSEARCH3");
    let _cluster = exclusive(&url, &[ENABLE]).await;
    let config = config_for(&url);
    // A transient value someone left behind: it would override any persistent one.
    put_settings(&url, json!({"transient": {ENABLE: "none"}})).await;
    let s = state(&url).await;
    assert_eq!(
        (s.settings.enable.as_str(), s.settings.enable_scope),
        ("none", Scope::Transient)
    );

    let set = |value: &'static str| {
        let config = config.clone();
        let url = url.clone();
        async move {
            let plan = act::plan_set_enable(&state(&url).await, &config.elasticsearch, value).unwrap();
            assert_eq!(
                plan.call,
                format!(
                    r#"PUT /_cluster/settings {{"persistent":{{"{ENABLE}":"{value}"}},"transient":{{"{ENABLE}":null}}}}"#
                )
            );
            let ran = run(plan, backends(&config).await).await;
            assert_eq!(ran.outcome.result, OutcomeResult::Succeeded, "{}", ran.outcome.summary);
            let s = state(&url).await;
            assert_eq!(
                (s.settings.enable.as_str(), s.settings.enable_scope),
                (value, Scope::Persistent)
            );
            assert!(
                !s.raw_settings.transient.contains_key(ENABLE),
                "{:?}",
                s.raw_settings.transient
            );
        }
    };

    // primaries: a new index gets its primary, not its replica.
    set("primaries").await;
    let p_index = Index::create(&url, &unique("primaries"), 1, 1).await;
    let p = poll_until_copy(&url, &p_index.name, true).await;
    let (decider, why) = decision_of(&p, &p_index.name, false);
    assert_eq!(decider, "enable");
    assert!(
        why.contains(
            "replica allocations are forbidden due to cluster setting [cluster.routing.allocation.enable=primaries]"
        ),
        "{why}"
    );
    // none: not even a new primary.
    set("none").await;
    let n_index = Index::create(&url, &unique("none"), 1, 0).await;
    let p = poll_until(
        &url,
        Duration::from_secs(30),
        |_| {},
        |s| s.unassigned.iter().any(|u| *u.index == *n_index.name),
    )
    .await;
    assert_eq!(p.health.status, HealthStatus::Red);
    let (decider, why) = decision_of(&poll(&url).await, &n_index.name, true);
    assert_eq!(decider, "enable");
    assert!(
        why.contains("no allocations are allowed due to cluster setting [cluster.routing.allocation.enable=none]"),
        "{why}"
    );
    // all: both indices complete.
    set("all").await;
    health(&url, &[("wait_for_status", "green"), ("index", &p_index.name)]).await;
    health(&url, &[("wait_for_status", "green")]).await;
}

/// Polls until `index`'s primary (`true`) or replica copy has started.
async fn poll_until_copy(url: &str, index: &str, primary: bool) -> EsPoll {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let p = poll(url).await;
        if p.shards
            .iter()
            .any(|s| *s.index == *index && s.primary == primary && s.state == ShardState::Started)
        {
            return p;
        }
        assert!(tokio::time::Instant::now() < deadline, "{index}: copy not started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn absolute_disk_watermarks_make_the_disk_decider_refuse_a_replica() {
    let url = peer!("OPSDECK_OPENSEARCH3");
    let _cluster = exclusive(&url, &WATERMARKS).await;
    let config = config_for(&url);
    let before = state(&url).await;
    // More free space than any node has: every node is over the low watermark. High and flood stage
    // stay out of reach (shards are not pushed away, indices stay writable).
    let most_free = before.nodes.iter().filter_map(|n| n.disk_available).max().unwrap();
    let low = most_free * 2;
    put_settings(
        &url,
        json!({"persistent": {WATERMARKS[0]: format!("{low}b"), WATERMARKS[1]: "2b", WATERMARKS[2]: "1b"}}),
    )
    .await;
    let s = state(&url).await;
    assert_eq!(s.settings.watermarks.low, Watermark::FreeBytes(low));
    assert!(s.nodes.iter().all(|n| n.disk_level == DiskLevel::Low), "{:?}", s.nodes);
    let alerts = opsdeck_elasticsearch::analysis::alerts(&s, &config);
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a.message.contains("over the low watermark"))
            .count(),
        3,
        "{alerts:?}"
    );

    // A new index: its primary may land (new primaries ignore the low watermark), its replica may not.
    let index = Index::create(&url, &unique("watermark"), 1, 1).await;
    let p = poll_until_copy(&url, &index.name, true).await;
    let (decider, why) = decision_of(&p, &index.name, false);
    assert_eq!(decider, "disk_threshold");
    assert!(
        why.contains(&format!(
            "the node is above the low watermark cluster setting [cluster.routing.allocation.disk.watermark.low={low}b]"
        )),
        "{why}"
    );
    let screen = pane(&config, p, &["v", "v", "enter"]);
    assert!(screen.contains("disk_threshold"), "{screen}");
    // The watermarks back to their defaults: the replica is assigned.
    put_settings(
        &url,
        json!({"persistent": {WATERMARKS[0]: null, WATERMARKS[1]: null, WATERMARKS[2]: null}}),
    )
    .await;
    health(&url, &[("wait_for_status", "green"), ("index", &index.name)]).await;
}
