//! Helpers: fixtures, a simulated cluster on loopback, a poll into a `Feed`, the executor with a temp audit log.

use opsdeck::actions::executor::{ActionEvent, execute};
use opsdeck::config::Config;
use opsdeck::sources::Backends;
use opsdeck_core::action::{ActionPlan, Outcome};
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_elasticsearch::demo::SimServer;
use opsdeck_elasticsearch::demo::sim::SimCluster;
use opsdeck_elasticsearch::model::EsState;
use opsdeck_elasticsearch::source::{EsBackend, EsClient, EsPoller};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/elasticsearch")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Four nodes (two `primary`, two `spot`), two indices with one replica, all started.
pub fn small_cluster() -> SimCluster {
    let mut sim = SimCluster::new(
        "test",
        &[
            ("core-1", "primary"),
            ("core-2", "primary"),
            ("spot-1", "spot"),
            ("spot-2", "spot"),
        ],
    );
    sim.add_index("logs", 4, 1, 1 << 30);
    sim.add_index("users", 2, 1, 1 << 29);
    sim
}

pub fn config_for(url: &str) -> Config {
    let mut c = Config::default();
    c.elasticsearch.url = url.into();
    c.elasticsearch.request_timeout = opsdeck_core::config::ConfigDuration(Duration::from_secs(5));
    c.elasticsearch.bounce_timeout = opsdeck_core::config::ConfigDuration(Duration::from_secs(30));
    c
}

pub async fn start(sim: SimCluster) -> SimServer {
    SimServer::start(sim).await.expect("bind 127.0.0.1:0")
}

pub fn poller(url: &str) -> EsPoller {
    EsPoller::new(EsClient::new(url, Duration::from_secs(5)).expect("client"), 5)
}

/// Polls once and builds the state (panics on error: use where the server is healthy).
pub async fn state_of(url: &str) -> EsState {
    EsState::build(poller(url).poll_cluster().await.expect("poll"))
}

pub struct Ran {
    pub outcome: Outcome,
    pub progress: Vec<String>,
    pub audit: PathBuf,
    _dir: tempfile::TempDir,
}

/// Runs `plan` through the real executor (audit intent/outcome, timeout), calling `each_progress` on
/// every progress message (tests play the operator there) and ticking the simulation meanwhile.
pub async fn run_plan(
    server: &SimServer,
    plan: ActionPlan,
    cancel: CancellationToken,
    mut each_progress: impl FnMut(&str, &SimServer),
) -> Ran {
    let dir = tempfile::tempdir().expect("tempdir");
    let audit_path = dir.path().join("audit.jsonl");
    let audit = AuditLog::new(
        audit_path.clone(),
        Identity {
            user: "tester".into(),
            host: "testhost".into(),
        },
    );
    let config = config_for(&server.url);
    let backends = Backends {
        elasticsearch: EsBackend::connect(&config.elasticsearch).await.expect("connect"),
        ..Backends::default()
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(execute(1, plan, backends, audit, tx, cancel));
    let mut progress = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(15));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut task = Some(task);
    let outcome = loop {
        tokio::select! {
            ev = rx.recv() => {
                if let Some(ActionEvent::Progress { progress: p, .. }) = ev {
                    each_progress(&p.message, server);
                    progress.push(p.message);
                }
            }
            _ = ticker.tick() => {
                server.sim.tick();
                if task.as_ref().is_some_and(|t| t.is_finished()) {
                    let out = task.take().expect("task").await.expect("join");
                    while let Ok(ev) = rx.try_recv() {
                        if let ActionEvent::Progress { progress: p, .. } = ev {
                            progress.push(p.message);
                        }
                    }
                    break out;
                }
                assert!(tokio::time::Instant::now() < deadline, "action did not end in 60 s; progress: {progress:#?}");
            }
        }
    };
    Ran {
        outcome,
        progress,
        audit: audit_path,
        _dir: dir,
    }
}

/// Ticks and polls until `done` holds (bounded), returning every state seen.
pub async fn tick_until(server: &SimServer, max_ticks: usize, done: impl Fn(&EsState) -> bool) -> Vec<EsState> {
    let mut seen = Vec::new();
    for _ in 0..max_ticks {
        let s = state_of(&server.url).await;
        let finished = done(&s);
        seen.push(s);
        if finished {
            return seen;
        }
        server.sim.tick();
    }
    panic!("condition not reached within {max_ticks} ticks");
}
