//! The demo's cluster through the real client: yellow at start, shards move when exclusions change,
//! and the guided bounce completes on its own (the demo restarts the node when asked).

use super::common::*;
use opsdeck::actions::OutcomeResult;
use opsdeck::actions::elasticsearch::{self as act, ProcedureKind};
use opsdeck::config::Config;
use opsdeck::demo::DemoFleet;
use opsdeck::model::elasticsearch::{EsState, HealthStatus};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn demo() -> (DemoFleet, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = DemoFleet {
        config: Config::default(),
        sandbox: dir.path().to_path_buf(),
        cancel: CancellationToken::new(),
        keep_alive: Vec::new(),
    };
    opsdeck::demo::elasticsearch::start(&mut demo).await.unwrap();
    (demo, dir)
}

/// Polls the demo (which ticks by itself, once a second) until `done` holds or `limit` passes.
async fn poll_until(url: &str, limit: Duration, done: impl Fn(&EsState) -> bool) -> EsState {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let s = state_of(url).await;
        if done(&s) {
            return s;
        }
        assert!(tokio::time::Instant::now() < deadline, "not reached within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn demo_cluster_starts_yellow_and_is_served_over_http() {
    let (demo, _dir) = demo().await;
    let url = demo.config.elasticsearch.url.clone();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(demo.config.validate().is_empty());
    let s = state_of(&url).await;
    assert_eq!(s.health.status, HealthStatus::Yellow);
    assert!(
        s.unassigned
            .iter()
            .any(|u| u.unassigned_reason.as_deref() == Some("ALLOCATION_FAILED"))
    );
    assert!(
        s.nodes
            .iter()
            .any(|n| n.disk_level != opsdeck::model::elasticsearch::DiskLevel::Ok),
        "a node over a watermark"
    );
    assert!(!s.explains.is_empty());
}

#[tokio::test]
async fn demo_bounce_procedure_completes_by_itself() {
    let (demo, _dir) = demo().await;
    let url = demo.config.elasticsearch.url.clone();
    // The demo ticks once a second; tick faster here so the test takes seconds, not a minute.
    let sim = demo.keep_alive[0]
        .downcast_ref::<opsdeck::demo::elasticsearch::SimServer>()
        .expect("the ES demo keeps its server")
        .sim
        .clone();
    let fast = CancellationToken::new();
    let stop = fast.clone();
    tokio::spawn(async move {
        while !stop.is_cancelled() {
            sim.tick();
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    });
    let _stop_ticking = fast.drop_guard();
    // Wait for the spot node that starts away to be back, so the start is settled.
    let s = poll_until(&url, Duration::from_secs(20), |s| {
        s.nodes.len() == 7 && s.health.initializing_shards == 0
    })
    .await;
    // A node holding no last copy (the demo's failed replica leaves one primary alone).
    let node = s
        .nodes
        .iter()
        .filter(|n| n.zone() == Some("primary"))
        .find(|n| opsdeck::model::elasticsearch::last_copies_on(&s.shards, &[*n]).is_empty())
        .expect("a core node without last copies")
        .name
        .clone();
    let mut cfg = demo.config.elasticsearch.clone();
    cfg.bounce_timeout = opsdeck::config::ConfigDuration(Duration::from_secs(30));
    let plan = act::plan_procedure(
        &s,
        &cfg,
        ProcedureKind::ControlledBounce,
        &node,
        false,
        Duration::from_millis(100),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit = opsdeck::actions::audit::AuditLog::new(
        dir.path().join("audit.jsonl"),
        opsdeck::actions::audit::Identity {
            user: "t".into(),
            host: "h".into(),
        },
    );
    let backends = opsdeck::sources::Backends::connect(&demo.config).await.0;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let out = tokio::time::timeout(
        Duration::from_secs(90),
        opsdeck::actions::executor::execute(1, plan, backends, audit, tx, CancellationToken::new()),
    )
    .await
    .expect("the demo bounce ends within 90 s");
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(log.contains(&format!("/_sim/restart/{node}")), "the restart is audited");
}
