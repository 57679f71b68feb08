//! The demo's pillows: its process dies, the pane says which, restarting it through the executor
//! (simulated supervisorctl, run as a real local command) makes its lag drain; the lost checkpoint
//! can be moved.

use super::common::*;
use opsdeck::actions::OutcomeResult;
use opsdeck::actions::pillows::{plan_move_checkpoint, plan_restart};
use opsdeck::config::Config;
use opsdeck::demo::DemoFleet;
use opsdeck::model::pillows::{PartitionStatus, PillowsState};
use opsdeck::sources::pillows::PillowsBackend;
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

async fn until(
    backend: &PillowsBackend,
    state: &mut Option<PillowsState>,
    limit: Duration,
    what: &str,
    done: impl Fn(&PillowsState) -> bool,
) {
    let deadline = Instant::now() + limit;
    loop {
        poll_into(backend, state, SystemTime::now()).await;
        if done(state.as_ref().unwrap()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {limit:?}: {:#?}",
            state
                .as_ref()
                .unwrap()
                .pillows
                .iter()
                .map(|p| (&p.name, &p.verdicts))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_process_dies_restart_drains_lag_and_lost_checkpoint_moves() {
    let sandbox = tempfile::tempdir().unwrap();
    let mut demo = DemoFleet {
        config: Config::default(),
        sandbox: sandbox.path().to_path_buf(),
        cancel: CancellationToken::new(),
        keep_alive: Vec::new(),
    };
    opsdeck::demo::pillows::start(&mut demo).await.unwrap();
    let issues = demo.config.pillows.clone();
    let mut v = Vec::new();
    issues.validate(&mut v);
    assert!(v.is_empty(), "demo config must validate: {v:?}");
    let backend = PillowsBackend::new(&demo.config.pillows).unwrap();
    let mut state = None;

    // xform-pillow's checkpoint fell off the retained log.
    until(&backend, &mut state, Duration::from_secs(20), "lost checkpoint", |s| {
        s.pillow("xform-pillow")
            .is_some_and(|p| p.status == PartitionStatus::Lost)
    })
    .await;

    // case-pillow's process 1 dies after 25 s; its partitions stop and the verdict names it.
    until(
        &backend,
        &mut state,
        Duration::from_secs(90),
        "process 1 stopping",
        |s| {
            s.pillow("case-pillow").is_some_and(|p| {
                p.verdicts
                    .iter()
                    .any(|v| v.message.starts_with("stopped: process 1 makes no progress"))
            })
        },
    )
    .await;
    let s = state.as_ref().unwrap();
    let case = s.pillow("case-pillow").unwrap();
    let lag_before: i64 = case.partitions_of(1).filter_map(|p| p.lag).sum();
    assert!(lag_before > 40, "process 1's partitions should lag: {lag_before}");
    assert!(
        case.partitions
            .iter()
            .filter(|p| p.owner != Some(1))
            .all(|p| p.status == PartitionStatus::Ok),
        "only process 1's partitions stop"
    );

    let plan = plan_restart(&backend.config, &backend.config.pillows[0], case, Some(1)).unwrap();
    assert!(
        plan.call.ends_with("restart commcare-hq-demo-pillowtop-case-pillow-1"),
        "{}",
        plan.call
    );
    let outcome = run_plan(plan, &backend, sandbox.path()).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    let audit = std::fs::read_to_string(sandbox.path().join("audit.jsonl")).unwrap();
    let steps: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("pillows.restart_process.step"))
        .collect();
    assert_eq!(steps.len(), 2, "intent and outcome of the host step: {audit}");
    assert!(steps[1].contains("\"result\":\"succeeded\""), "{}", steps[1]);

    until(
        &backend,
        &mut state,
        Duration::from_secs(60),
        "lag draining after the restart",
        |s| {
            s.pillow("case-pillow")
                .is_some_and(|p| p.partitions_of(1).all(|p| p.lag.unwrap_or(i64::MAX) <= 40))
        },
    )
    .await;

    // Moving the lost checkpoint to the log end clears the verdict.
    let s = state.as_ref().unwrap();
    let xform = s.pillow("xform-pillow").unwrap();
    let plan = plan_move_checkpoint(&backend.config, &backend.config.pillows[2], xform).unwrap();
    let outcome = run_plan(plan, &backend, sandbox.path()).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    poll_into(&backend, &mut state, SystemTime::now()).await;
    let xform = state.as_ref().unwrap().pillow("xform-pillow").unwrap();
    assert_eq!(xform.total_lag, 0);
    assert_ne!(xform.status, PartitionStatus::Lost);
    demo.cancel.cancel();
}
