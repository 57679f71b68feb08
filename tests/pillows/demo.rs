//! The demo's pillows: its process dies, the pane says which and its host's supervisor status says
//! so, restarting it through the executor (simulated supervisorctl on the demo's pillow host, run
//! through the real local transport) makes its lag drain; the lost checkpoint can be moved. Each process writes its log, found through the config and tailed for real.

use super::common::*;
use opsdeck::config::Config;
use opsdeck::demo::DemoFleet;
use opsdeck::sources::Backends;
use opsdeck_core::action::OutcomeResult;
use opsdeck_core::demo::beats;
use opsdeck_core::feed::FeedData;
use opsdeck_core::logs::{LogSource, LogTarget};
use opsdeck_hosts::model::logs::{LogEvent, LogsState, TailState};
use opsdeck_hosts::model::{HostsState, ProgramState};
use opsdeck_hosts::source::{SshBackend, TailCommand};
use opsdeck_pillows::Pillows;
use opsdeck_pillows::actions::{plan_move_checkpoint, plan_restart};
use opsdeck_pillows::config::pillow_logs;
use opsdeck_pillows::demo::PILLOW_HOST;
use opsdeck_pillows::model::{PartitionStatus, PillowsState};
use opsdeck_pillows::source::PillowsBackend;
use opsdeck_pillows::source::checkpoints::CheckpointStore;
use std::sync::Arc;
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

/// The demo's checkpoint table is handed to the pillows' clients in code: a config naming it (by the
/// name the demo once registered it under, `simulated://demo-PID-SANDBOX`) reaches nothing.
#[tokio::test(flavor = "multi_thread")]
async fn no_config_reaches_the_demos_checkpoint_table() {
    let sandbox = tempfile::tempdir().unwrap();
    let demo = demo(&sandbox).await;
    let mut config = demo.config.pillows.clone();
    config.postgres = Some(format!(
        "simulated://demo-{}-{}",
        std::process::id(),
        demo.sandbox.display()
    ));
    let err = PillowsBackend::new(&config).expect_err("a connection string that names no database");
    assert!(err.contains("pillows.postgres"), "{err}");
    // The demo's own clients get it.
    assert!(demo.stand_ins.get::<Pillows, Arc<dyn CheckpointStore>>().is_some());
}

async fn demo(sandbox: &tempfile::TempDir) -> DemoFleet {
    let mut demo = DemoFleet {
        config: Config::default(),
        sandbox: sandbox.path().to_path_buf(),
        cancel: CancellationToken::new(),
        keep_alive: Vec::new(),
        stand_ins: Default::default(),
        story: Default::default(),
    };
    opsdeck_pillows::demo::start(&mut demo.ctx()).await.unwrap();
    demo
}

/// Where the demo keeps a file of the pillow host's root disk (`/home/...`).
fn on_pillow_host(sandbox: &tempfile::TempDir, path: &str) -> std::path::PathBuf {
    sandbox
        .path()
        .join("pillows/machine/fs/root")
        .join(path.trim_start_matches('/'))
}

/// The path of a file log.
fn path_of(source: &LogSource) -> &str {
    match &source.target {
        LogTarget::File(path) => path,
        LogTarget::Program(p) => panic!("the demo's pillows log to files, not program {p}"),
    }
}

/// Follows `sources` through the real local transport (`SshBackend::handle_tail`) until the lines
/// received satisfy `done`; fails after `limit`, showing what came. The tails must keep running
/// (a tail that ends and reconnects would only ever show history).
async fn tail_until(
    config: &Config,
    sources: &[LogSource],
    limit: Duration,
    what: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let b = SshBackend::new(&config.ssh).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    for s in sources {
        b.handle_tail(TailCommand::Start(s.clone()), tx.clone().into());
    }
    drop(tx);
    let mut logs = LogsState::default();
    let mut interrupted = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let texts = |logs: &LogsState| logs.lines.iter().map(|l| l.text.to_string()).collect::<Vec<_>>();
    while !done(&texts(&logs)) {
        let now = tokio::time::Instant::now();
        assert!(
            now < deadline,
            "{what}: not seen within {limit:?}; tails {:?}; interruptions {interrupted:?}; lines:\n{}",
            logs.tails,
            texts(&logs).join("\n")
        );
        match tokio::time::timeout(deadline - now, rx.recv()).await {
            Ok(Some(e)) => {
                if let LogEvent::State { id, state, .. } = &e
                    && matches!(state, TailState::Reconnecting(_) | TailState::Failed(_))
                {
                    interrupted.push(format!("{id}: {}", state.label()));
                }
                logs.apply(std::time::SystemTime::now(), e);
            }
            Ok(None) => panic!("{what}: every tail ended; tails {:?}", logs.tails),
            Err(_) => {}
        }
    }
    assert!(
        interrupted.is_empty(),
        "{what}: tails were interrupted: {interrupted:?}"
    );
    b.shutdown().await;
    texts(&logs)
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_pillow_logs_are_found_from_config_and_stream_through_the_local_transport() {
    let sandbox = tempfile::tempdir().unwrap();
    let demo = demo(&sandbox).await;
    assert!(demo.config.validate().is_empty(), "{:?}", demo.config.validate());
    let pillows = &demo.config.pillows.pillows;
    let case = pillows.iter().find(|p| p.name == "case-pillow").unwrap();
    let logs = pillow_logs(&demo.config, case).unwrap();
    assert_eq!(logs.len(), 3, "{logs:?}");
    // Where a server of the fleet keeps them, not in the demo's sandbox: the host's `tail` finds them.
    for (n, l) in logs.iter().enumerate() {
        assert_eq!(l.host, PILLOW_HOST);
        let want = format!("/home/cchq/www/demo/log/commcare-hq-demo-pillowtop-case-pillow-{n}.log");
        assert_eq!(path_of(l), want);
    }

    // A running process: it started, then reports progress and checkpoints as it goes.
    let lines = tail_until(
        &demo.config,
        &logs[..1],
        Duration::from_secs(60),
        "case-pillow process 0 starting, processing and checkpointing",
        |lines| {
            let has = |s: &str| lines.iter().any(|l| l.contains(s));
            has("pillowtop case-pillow[0]: starting pillow case-pillow (process 0 of 3")
                && has("pillowtop case-pillow[0]: processed ")
                && has("checkpoint case-pillow-hqcases_2026-11-01-case-search written: case-sql/")
        },
    )
    .await;
    let processed = lines.iter().find(|l| l.contains(": processed ")).unwrap();
    assert!(
        processed.contains(" changes from case-sql/") && processed.contains(" up to offset "),
        "{processed}"
    );
    // Python logging's timestamp: 2026-11-23 10:50:42,123 INFO …
    assert_eq!(processed.as_bytes()[10], b' ', "{processed}");
    assert_eq!(processed.as_bytes()[19], b',', "{processed}");

    // The consumer-group pillow commits offsets; the stopped one's log ends where it was stopped.
    let ucr = pillow_logs(&demo.config, pillows.iter().find(|p| p.name == "ucr-pillow").unwrap()).unwrap();
    let xform = pillow_logs(&demo.config, pillows.iter().find(|p| p.name == "xform-pillow").unwrap()).unwrap();
    let both = [ucr[1].clone(), xform[0].clone()];
    let lines = tail_until(
        &demo.config,
        &both,
        Duration::from_secs(60),
        "ucr and xform logs",
        |lines| {
            let has = |s: &str| lines.iter().any(|l| l.contains(s));
            has("ucr-pillow[1]: offsets committed for consumer group ucr-pillow: form-sql/")
                && has("xform-pillow[0]: received SIGTERM, stopping pillow xform-pillow")
        },
    )
    .await;
    let xform: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("pillowtop xform-pillow[0]"))
        .collect();
    assert_eq!(xform.len(), 4, "{xform:#?}");
    assert!(
        xform[3].contains("received SIGTERM"),
        "its log ends where it was stopped: {xform:#?}"
    );
    demo.cancel.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_process_dies_restart_drains_lag_and_lost_checkpoint_moves() {
    let sandbox = tempfile::tempdir().unwrap();
    let demo = demo(&sandbox).await;
    let issues = demo.config.pillows.clone();
    let mut v = Vec::new();
    issues.validate(&mut v);
    assert!(v.is_empty(), "demo config must validate: {v:?}");
    let store = demo.stand_ins.get::<Pillows, Arc<dyn CheckpointStore>>().cloned();
    let backend = PillowsBackend::new_with(&demo.config.pillows, store).unwrap();
    let mut state = None;

    // xform-pillow's checkpoint fell off the retained log.
    until(&backend, &mut state, Duration::from_secs(20), "lost checkpoint", |s| {
        s.pillow("xform-pillow")
            .is_some_and(|p| p.status == PartitionStatus::Lost)
    })
    .await;

    // The storyline's first beat: the OOM killer ends case-pillow's process 1; its partitions
    // stop and the verdict names it.
    demo.story.skip_to(beats::PILLOW_OOM);
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
    // Its log says how it died.
    let case_config = &demo.config.pillows.pillows[0];
    let log_1 = pillow_logs(&demo.config, case_config).unwrap()[1].clone();
    let read_log = || std::fs::read_to_string(on_pillow_host(&sandbox, path_of(&log_1))).unwrap();
    let died = read_log();
    assert!(
        died.contains("case-pillow[1]: error processing change from case-sql/")
            && died.contains("\nMemoryError\nKilled\n"),
        "{died}"
    );
    let s = state.as_ref().unwrap();
    let case = s.pillow("case-pillow").unwrap();
    let lag_before: i64 = case.partitions_of(1).filter_map(|p| p.lag).sum();
    assert!(
        lag_before > 1000,
        "process 1's partitions should lag by thousands: {lag_before}"
    );
    // Offsets and rates of a busy fleet: hundreds of changes a second on case-sql.
    let rate = case.produce_rate.unwrap_or_default();
    assert!(rate > 100.0, "case-sql's produce rate: {rate}");
    assert!(
        case.partitions
            .iter()
            .filter(|p| p.owner != Some(1))
            .all(|p| p.status == PartitionStatus::Ok),
        "only process 1's partitions stop"
    );

    // The pillow host's supervisor says the same: process 1 is not running, the others are.
    let ssh = SshBackend::new(&demo.config.ssh).unwrap();
    let program_state = async |name: &str| {
        let mut hosts = None;
        HostsState::absorb(&mut hosts, ssh.poll_all().await, SystemTime::now());
        let hosts = hosts.unwrap();
        let host = hosts.host(PILLOW_HOST).expect("the demo's pillow host is polled");
        host.program(name).map(|p| p.state.clone())
    };
    let dead = program_state("commcare-hq-demo-pillowtop-case-pillow-1").await;
    assert!(dead.as_ref().is_some_and(|s| *s != ProgramState::Running), "{dead:?}");
    assert_eq!(
        program_state("commcare-hq-demo-pillowtop-case-pillow-0").await,
        Some(ProgramState::Running)
    );

    let plan = plan_restart(
        &backend.config,
        &demo.config.ssh,
        &backend.config.pillows[0],
        case,
        Some(1),
    )
    .unwrap();
    assert_eq!(
        plan.call, "supervisorctl restart commcare-hq-demo-pillowtop-case-pillow-1",
        "runs on the pillow host, this machine"
    );
    let backends = Backends {
        pillows: Some(backend.clone()),
        ssh: Some(ssh.clone()),
        ..Backends::default()
    };
    let outcome = run_plan_with(plan, backends, sandbox.path()).await;
    let allowed = demo.config.pillows.thresholds.allowed_lag;
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
        Duration::from_secs(90),
        "lag draining after the restart",
        |s| {
            s.pillow("case-pillow")
                .is_some_and(|p| p.partitions_of(1).all(|p| p.lag.unwrap_or(i64::MAX) <= allowed))
        },
    )
    .await;
    // And it stays fixed: the rest of the storyline (an hour of it) does not kill it again.
    demo.story.skip(Duration::from_secs(3600));
    let settled = Instant::now() + Duration::from_secs(8);
    while Instant::now() < settled {
        tokio::time::sleep(Duration::from_millis(500)).await;
        poll_into(&backend, &mut state, SystemTime::now()).await;
        let case = state.as_ref().unwrap().pillow("case-pillow").unwrap();
        let lag: i64 = case.partitions_of(1).filter_map(|p| p.lag).sum();
        assert!(lag <= 3 * allowed, "process 1 fell behind again: {lag}");
    }
    assert_eq!(
        program_state("commcare-hq-demo-pillowtop-case-pillow-1").await,
        Some(ProgramState::Running),
        "restarted, it stays up"
    );
    // The restarted process says so, resuming from its checkpoint.
    let log = read_log();
    let killed = log.find("\nKilled\n").unwrap();
    assert!(
        log[killed..].contains("case-pillow[1]: starting pillow case-pillow (process 1 of 3, commcare-hq-demo-pillowtop-case-pillow-1): case-sql/"),
        "{log}"
    );

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
