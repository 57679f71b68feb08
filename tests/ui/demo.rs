//! The demo fleet as the console sees it, for tests of the real panes: `opsdeck demo`'s servers are
//! started once, polled through the real pollers until they show what the tests need, and the
//! resulting state is kept; every test builds its own app on a copy of it.

use opsdeck::app::{App, Event};
use opsdeck::config::Config;
use opsdeck::demo::DemoFleet;
use opsdeck::model::Fleet;
use opsdeck::sources::runner::{Polled, poll_once};
use opsdeck::sources::{Backends, PanePoller};
use opsdeck_core::action::{ActionCtx, OutcomeResult};
use opsdeck_core::audit::{AuditLog, Identity};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

/// What the demo showed: its fleet state, the config pointing at it, and when it was polled.
pub struct Demo {
    pub fleet: Fleet,
    pub config: Config,
    pub now: SystemTime,
    /// The same fleet after real actions on the demo: allocation disabled and a node drained on
    /// the cluster, Redis's stuck queue moved to a backup (the actions that need such a state, a
    /// backup to re-queue, are offered there).
    pub changed: Fleet,
}

/// The demo's state, made once for all tests of this binary.
pub fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(observe())
    })
}

/// What every test needs the demo to show before it is kept, and what is still missing.
fn missing(f: &Fleet) -> Vec<&'static str> {
    let pillows = f.pillows.data.as_ref();
    let queues = f.queues.data.as_ref();
    let hosts = f.hosts.data.as_ref();
    let shown = [
        (
            "xform-pillow behind its retained log",
            pillows.is_some_and(|s| s.pillows.iter().any(|p| p.name == "xform-pillow" && p.total_lag > 0)),
        ),
        (
            "pillow rates (two polls)",
            pillows.is_some_and(|s| s.pillows.iter().all(|p| p.consume_rate.is_some())),
        ),
        (
            "dead letters in ingest-dlq",
            queues.is_some_and(|s| s.queue("ingest-dlq").is_some_and(|q| q.info.visible > 0)),
        ),
        (
            "reports-legacy and TileIndex",
            queues.is_some_and(|s| s.queue("reports-legacy").is_some() && s.table("TileIndex").is_some()),
        ),
        (
            "a crash dump on a host",
            hosts.is_some_and(|s| s.hosts.iter().any(|h| !h.junk.is_empty())),
        ),
        (
            "every host's programs",
            hosts.is_some_and(|s| s.hosts.iter().all(|h| h.reachable && !h.programs.is_empty())),
        ),
        (
            "the cluster's unassigned replica",
            f.elasticsearch.data.as_ref().is_some_and(|s| !s.unassigned.is_empty()),
        ),
        (
            "PostgreSQL's blocking chain",
            f.postgres.data.as_ref().is_some_and(|s| {
                s.servers
                    .iter()
                    .any(|srv| srv.poll.blocking.as_ref().is_ok_and(|b| !b.is_empty()))
            }),
        ),
        (
            "Redis's celery queue and CPU rate (two polls)",
            f.redis.data.as_ref().is_some_and(|s| {
                s.instances
                    .iter()
                    .any(|i| i.rates().is_some() && i.queues.iter().any(|q| q.reading.name == "celery"))
            }),
        ),
        (
            "RabbitMQ's celery queue nobody consumes, and its trend (two polls)",
            f.rabbitmq.data.as_ref().is_some_and(|s| {
                s.instances.iter().any(|i| {
                    i.queues()
                        .iter()
                        .any(|q| q.name == "celery" && q.consumers == 0 && q.messages_ready > 0)
                        && i.history.values().all(|h| h.len() >= 2)
                })
            }),
        ),
    ];
    shown.into_iter().filter(|(_, ok)| !ok).map(|(what, _)| what).collect()
}

async fn poll_all(app: &mut App, pollers: &mut [Box<dyn PanePoller>]) {
    for p in pollers.iter_mut() {
        let update = poll_once(p.as_mut()).await;
        app.update(Event::Polled(Polled {
            at: SystemTime::now(),
            update,
        }));
    }
}

async fn observe() -> Demo {
    let sandbox = tempfile::tempdir().expect("a temp dir");
    // Every incident of the storyline at once: the tests look at every alert the demo can raise.
    let story = opsdeck_core::demo::StoryClock::default();
    story.skip_to(opsdeck_core::demo::beats::CRASH_DUMPS);
    let demo = DemoFleet::start_with(sandbox.path().join("demo"), story)
        .await
        .expect("the demo starts");
    let (backends, errors) = Backends::connect_with(&demo.config, &demo.stand_ins).await;
    assert!(errors.is_empty(), "{errors:?}");
    let mut pollers = backends.pollers(&demo.config);
    let mut app = opsdeck::ui::testing::app(demo.config.clone(), "default", SystemTime::now());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        poll_all(&mut app, &mut pollers).await;
        let missing = missing(&app.fleet);
        if missing.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the demo never showed: {missing:?}");
        // The demo lives on its own clock; the next poll comes a little later, as it would.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let fleet = app.fleet.clone();
    let now = app.now;

    // The same cluster after real actions, for the actions only such a cluster offers.
    let es = fleet.elasticsearch.data.as_ref().expect("polled");
    let cfg = &demo.config.elasticsearch;
    let idle = es
        .nodes
        .iter()
        .min_by_key(|n| n.shard_rows)
        .expect("nodes")
        .name
        .clone();
    let actions = ActionCtx {
        backends: std::sync::Arc::new(backends.clone()),
        progress: tokio::sync::mpsc::unbounded_channel().0,
        audit: AuditLog::new(sandbox.path().join("audit.jsonl"), Identity::current()),
        cancel: CancellationToken::new(),
    };
    let redis = fleet.redis.data.as_ref().expect("polled");
    let broker = &redis.instances[0];
    let celery = broker
        .queues
        .iter()
        .find(|q| q.reading.name == "celery")
        .expect("the stuck queue")
        .reading
        .id();
    let move_celery = opsdeck_redis::actions::plan_move_to_backup(broker, &celery, 1_795_000_000)
        .map(|p| p.into_action(&broker.name));
    for plan in [
        opsdeck_elasticsearch::actions::plan_set_enable(es, cfg, "none"),
        opsdeck_elasticsearch::actions::plan_drain_node(es, cfg, &idle),
        move_celery,
    ] {
        let plan = plan.expect("the demo cluster offers it");
        let outcome = opsdeck_core::action::run_operation(plan.op, &actions).await;
        assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    }
    poll_all(&mut app, &mut pollers).await;
    // Then a node leaves (as the demo's spot nodes do now and then): its row offers the
    // acknowledgement.
    let leaving = es
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .filter(|n| *n != idle)
        .max()
        .expect("another node");
    demo.keep_alive
        .iter()
        .find_map(|k| k.downcast_ref::<opsdeck_elasticsearch::demo::SimServer>())
        .expect("the demo's cluster")
        .sim
        .lock()
        .stop_node(&leaving, None);
    poll_all(&mut app, &mut pollers).await;
    let changed = app.fleet.clone();
    drop(demo);
    Demo {
        fleet,
        config: app.env.config.as_ref().clone(),
        now,
        changed,
    }
}

/// An app on the demo's state (`fleet` of it), `width` x `height`, with keymap `keymap`.
pub fn demo_app_on(fleet: &Fleet, keymap: &str, width: u16, height: u16) -> App {
    let d = demo();
    let mut app = opsdeck::ui::testing::app(d.config.clone(), keymap, d.now);
    app.fleet = fleet.clone();
    app.update(Event::Resize { width, height });
    app
}

/// An app on the demo's state, `width` x `height`.
pub fn demo_app(width: u16, height: u16) -> App {
    demo_app_on(&demo().fleet, "default", width, height)
}

pub fn screen(app: &App) -> String {
    opsdeck::ui::testing::screen_text(app, app.size.0, app.size.1)
}

/// `opsdeck demo --snapshot` (the real binary) shows a fleet that looks like production: Kafka
/// offsets in the millions, and every demo host's disks mounted where servers mount them.
#[test]
fn the_demo_snapshot_has_offsets_in_the_millions_and_real_mounts() {
    let home = tempfile::tempdir().expect("a temp dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["demo", "--snapshot"])
        .env("HOME", home.path())
        .env_remove("OPSDECK_CONFIG")
        .output()
        .expect("opsdeck runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let partitions: Vec<&serde_json::Value> = snap["pillows"]["pillows"]
        .as_array()
        .expect("pillows")
        .iter()
        .flat_map(|p| p["partitions"].as_array().into_iter().flatten())
        .collect();
    assert!(partitions.len() >= 13, "{partitions:?}");
    for p in &partitions {
        let end = p["log_end"].as_i64().unwrap_or_default();
        assert!(end >= 1_000_000, "{}/{}: log end {end}", p["topic"], p["partition"]);
    }
    let sandbox = home.path().to_string_lossy().into_owned();
    let hosts = snap["hosts"]["hosts"].as_array().expect("hosts");
    assert!(hosts.len() >= 4, "{hosts:?}");
    for h in hosts {
        for f in h["filesystems"].as_array().expect("filesystems") {
            let mount = f["mount"].as_str().unwrap_or_default();
            assert!(
                ["/", "/data1", "/var/lib/elasticsearch", "/dev/shm"].contains(&mount),
                "{}: mounted at {mount}",
                h["name"]
            );
            assert!(!mount.contains(&sandbox), "{mount}");
        }
    }
}

/// The demo's peers run on a runtime of their own, as real peers run elsewhere: with the caller's
/// (single-threaded) runtime busy, the simulated Elasticsearch still answers, and its CPU time is
/// not the console's.
#[tokio::test(flavor = "current_thread")]
async fn the_demos_peers_answer_while_the_consoles_runtime_is_busy() {
    use std::io::{Read, Write};
    let sandbox = tempfile::tempdir().expect("a temp dir");
    let demo = DemoFleet::start(sandbox.path().join("demo"))
        .await
        .expect("the demo starts");
    let url = demo.config.elasticsearch.url.clone();
    let address = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    // Blocking calls on this runtime's only thread: nothing else of this runtime runs meanwhile.
    let mut stream = std::net::TcpStream::connect(&address).expect("the demo's Elasticsearch");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a timeout");
    write!(
        stream,
        "GET /_cluster/health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("a request");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"status\""), "{answer}");
}
