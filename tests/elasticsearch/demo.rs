//! The demo's cluster through the real client: yellow at start, shards move when exclusions change,
//! and the guided bounce completes on its own (the demo restarts the node when asked). Each node
//! writes its log, found through the config and tailed for real.

use super::common::*;
use opsdeck::config::Config;
use opsdeck::demo::DemoFleet;
use opsdeck_core::feed::FeedData;
use opsdeck_elasticsearch::actions::{self as act, ProcedureKind};
use opsdeck_elasticsearch::config::{NodeAddress, node_log};
use opsdeck_elasticsearch::demo::LOG_HOST;
use opsdeck_elasticsearch::model::{EsState, HealthStatus};

use opsdeck_core::action::OutcomeResult;
use opsdeck_core::logs::LogSource;
use opsdeck_hosts::model::logs::{LogEvent, LogsState, TailState};
use opsdeck_hosts::source::{SshBackend, TailCommand};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn demo() -> (DemoFleet, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = DemoFleet {
        config: Config::default(),
        sandbox: dir.path().to_path_buf(),
        cancel: CancellationToken::new(),
        keep_alive: Vec::new(),
        stand_ins: Default::default(),
        story: Default::default(),
    };
    // With the hosts, as `opsdeck demo` starts it: the nodes' logs are on one of them.
    opsdeck_hosts::demo::start(&mut demo.ctx()).await.unwrap();
    opsdeck_elasticsearch::demo::start(&mut demo.ctx()).await.unwrap();
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
            .any(|n| n.disk_level != opsdeck_elasticsearch::model::DiskLevel::Ok),
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
        .downcast_ref::<opsdeck_elasticsearch::demo::SimServer>()
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
        .find(|n| opsdeck_elasticsearch::model::last_copies_on(&s.shards, &[*n]).is_empty())
        .expect("a core node without last copies")
        .name
        .clone();
    let mut config = demo.config.clone();
    config.elasticsearch.bounce_timeout = opsdeck_core::config::ConfigDuration(Duration::from_secs(30));
    let plan_on = |s: &EsState| {
        act::plan_procedure(
            s,
            &config,
            ProcedureKind::ControlledBounce,
            &node,
            false,
            Duration::from_millis(100),
        )
        .unwrap()
    };
    // Polled as any config would poll it, the demo cluster is one whose nodes a person restarts:
    // nothing in its answers or its config section makes it the simulation.
    assert!(!plan_on(&s).call.contains("/_sim/restart"), "{}", plan_on(&s).call);
    // Polled through the clients the demo hands its stand-ins to (as the console does), the
    // procedure asks the simulation to restart the node.
    let es = opsdeck_elasticsearch::source::EsBackend::connect_with(&demo.config.elasticsearch, &demo.stand_ins)
        .await
        .unwrap()
        .unwrap();
    let mut pollers = es.pollers(&demo.config.general);
    let mut s = None;
    EsState::absorb(&mut s, pollers[0].poll().await.unwrap(), std::time::SystemTime::now());
    let s = s.expect("absorbed");
    let plan = plan_on(&s);
    assert!(plan.call.contains("/_sim/restart"), "{}", plan.call);
    let dir = tempfile::tempdir().unwrap();
    let audit = opsdeck_core::audit::AuditLog::new(
        dir.path().join("audit.jsonl"),
        opsdeck_core::audit::Identity {
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
    // Every step is done, but the spot nodes it emptied are still empty (the demo has no balancer to
    // move shards back): that is not "succeeded".
    assert_eq!(out.result, OutcomeResult::Unverified, "{}", out.summary);
    assert!(
        out.summary.contains("zone=spot re-included") && out.summary.contains("hold no shard yet"),
        "{}",
        out.summary
    );
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(log.contains(&format!("/_sim/restart/{node}")), "the restart is audited");
}

/// The demo's simulation, to steer it (ticks, node stops).
fn sim_of(demo: &DemoFleet) -> opsdeck_elasticsearch::demo::SimHandle {
    demo.keep_alive[0]
        .downcast_ref::<opsdeck_elasticsearch::demo::SimServer>()
        .expect("the ES demo keeps its server")
        .sim
        .clone()
}

/// Receives tail updates into `logs` until `done` holds; fails after `limit`, showing what came, and
/// when a tail ended and reconnected (it would then only ever show history).
async fn receive_until(
    rx: &mut tokio::sync::mpsc::Receiver<LogEvent>,
    logs: &mut LogsState,
    limit: Duration,
    what: &str,
    done: impl Fn(&[&str]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let lines: Vec<&str> = logs.lines.iter().map(|l| &*l.text).collect();
        if done(&lines) {
            return;
        }
        let now = tokio::time::Instant::now();
        assert!(
            now < deadline,
            "{what}: not seen within {limit:?}; tails {:?}; lines:\n{}",
            logs.tails,
            lines.join("\n")
        );
        match tokio::time::timeout(deadline - now, rx.recv()).await {
            Ok(Some(e)) => {
                if let LogEvent::State { id, state, .. } = &e {
                    assert!(
                        !matches!(state, TailState::Reconnecting(_) | TailState::Failed(_)),
                        "{what}: tail {id} interrupted: {}",
                        state.label()
                    );
                }
                logs.apply(std::time::SystemTime::now(), e);
            }
            Ok(None) => panic!("{what}: every tail ended; tails {:?}", logs.tails),
            Err(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_node_logs_are_found_from_config_and_stream_from_the_demo_host_es_data_1() {
    let (demo, _dir) = demo().await;
    let url = demo.config.elasticsearch.url.clone();
    let s = state_of(&url).await;
    let cluster = s.health.cluster_name.clone();
    // Every node maps to the demo host es-data-1 and its own file where a server keeps it: found by
    // name and address as the cluster reports them, or by name alone for the node that starts away.
    let names = [
        "es-core-1",
        "es-core-2",
        "es-core-3",
        "es-spot-1",
        "es-spot-2",
        "es-spot-3",
        "es-spot-4",
    ];
    assert!(s.nodes.len() >= 6, "{:?}", s.nodes);
    let mut sources: Vec<LogSource> = Vec::new();
    for name in names {
        let address = match s.node_by_name(name) {
            Some(n) => NodeAddress {
                name: &n.name,
                ip: &n.ip,
                host: &n.host,
            },
            None => NodeAddress { name, ip: "", host: "" },
        };
        let source = node_log(&demo.config, &cluster, address).unwrap();
        let want = format!("/var/log/elasticsearch/{name}.log");
        assert_eq!(source, LogSource::file(LOG_HOST, &want), "{name}");
        sources.push(source);
    }

    // Every node's log at once, read by es-data-1's shims from its directory in the sandbox (a demo
    // host runs locally: sshd's session limit, max_tails, does not apply).
    let b = SshBackend::new(&demo.config.ssh).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    for source in &sources {
        b.handle_tail(TailCommand::Start(source.clone()), tx.clone().into());
    }
    let mut logs = LogsState::default();
    let has = |lines: &[&str], s: &str| lines.iter().any(|l| l.contains(s));
    // What the nodes wrote so far: each started; es-spot-4 stopped; es-core-3 is over the low watermark.
    receive_until(
        &mut rx,
        &mut logs,
        Duration::from_secs(60),
        "the nodes' logs so far",
        |lines| {
            names.iter().all(|n| has(lines, &format!("] [{n}] started {{{n}}}")))
                && has(lines, "] [es-spot-4] closed")
                && has(
                    lines,
                    "[WARN ][o.e.c.r.a.DiskThresholdMonitor] [es-core-3] low disk watermark [85%] exceeded on [",
                )
        },
    )
    .await;
    let started = logs.lines.iter().find(|l| l.text.contains("] started {")).unwrap();
    // Elasticsearch's log4j pattern: [2026-11-23T10:50:42,123][INFO ][o.e.n.Node               ] [node] …
    assert!(
        started.text.starts_with('[') && started.text.as_bytes()[11] == b'T' && started.text.as_bytes()[20] == b',',
        "{}",
        started.text
    );

    // What happens from now on streams in: a spot node leaves and comes back, shards recover on
    // other nodes, GC runs.
    let spot = {
        let sim = sim_of(&demo);
        let mut sim = sim.lock();
        let spot = ["es-spot-1", "es-spot-2", "es-spot-3"]
            .into_iter()
            .find(|n| sim.node_index(n).is_some_and(|i| sim.nodes[i].up))
            .expect("a spot node is up");
        assert!(sim.stop_node(spot, Some(3)));
        spot
    };
    receive_until(
        &mut rx,
        &mut logs,
        Duration::from_secs(60),
        "a spot node leaving and coming back",
        |lines| {
            let left = lines
                .iter()
                .position(|l| l.contains(&format!("] [{spot}] stopping ...")));
            let back = lines
                .iter()
                .rposition(|l| l.contains(&format!("] [{spot}] started {{{spot}}}")));
            left.zip(back).is_some_and(|(l, b)| b > l)
                && has(lines, &format!("] [{spot}] closed"))
                && has(lines, &format!("] [es-core-1] node-left[{{{spot}}}"))
                && has(lines, " shard started (")
                && has(lines, "[o.e.m.j.JvmGcMonitorService] [")
        },
    )
    .await;
    b.shutdown().await;
}

/// The storyline's watermark beat: allocation is left at `primaries` (a rolling restart's first
/// step) while es-core-3's shards grow; its disk crosses the high watermark (the overview's critical
/// alert) and its replicas cannot leave. Setting allocation back to `all` through the real executor
/// brings it down, and it stays down for the rest of the run.
#[tokio::test(flavor = "multi_thread")]
async fn demo_node_crosses_the_high_watermark_at_its_beat_and_stays_fixed_once_allocation_is_back() {
    use opsdeck_elasticsearch::demo::{HOT_NODE, SimServer};
    use opsdeck_elasticsearch::model::DiskLevel;
    let (demo, _dir) = demo().await;
    let url = demo.config.elasticsearch.url.clone();
    let server = demo.keep_alive[0]
        .downcast_ref::<SimServer>()
        .expect("the ES demo keeps its server");
    let high = |s: &EsState| {
        s.nodes
            .iter()
            .find(|n| n.name == HOT_NODE)
            .is_some_and(|n| matches!(n.disk_level, DiskLevel::High | DiskLevel::FloodStage))
    };
    assert!(!high(&state_of(&url).await), "not before its beat");
    demo.story.skip_to(opsdeck_core::demo::beats::ES_HIGH_WATERMARK);
    let s = poll_until(&url, Duration::from_secs(60), high).await;
    let alerts = opsdeck_elasticsearch::analysis::alerts(&s, &demo.config);
    assert!(
        alerts.iter().any(|a| a.subject == format!("{HOT_NODE}:disk")
            && a.severity == opsdeck_core::alert::Severity::Critical
            && a.message.contains("high watermark")),
        "{alerts:?}"
    );
    // Its replicas stay: allocation only lets primaries move.
    let s = poll_until(&url, Duration::from_secs(30), |s| {
        high(s) && s.health.relocating_shards == 0
    })
    .await;
    assert!(high(&s), "still over the high watermark with nothing moving");
    let plan = act::plan_set_enable(&s, &demo.config.elasticsearch, "all").unwrap();
    let ran = run_plan(server, plan, CancellationToken::new(), |_, _| {}).await;
    assert_eq!(ran.outcome.result, OutcomeResult::Succeeded, "{}", ran.outcome.summary);
    let below = |s: &EsState| {
        s.nodes
            .iter()
            .find(|n| n.name == HOT_NODE)
            .is_some_and(|n| matches!(n.disk_level, DiskLevel::Ok | DiskLevel::Low))
    };
    poll_until(&url, Duration::from_secs(90), below).await;
    // The rest of the story: it does not come back.
    demo.story.skip(Duration::from_secs(3600));
    let settled = tokio::time::Instant::now() + Duration::from_secs(8);
    while tokio::time::Instant::now() < settled {
        let s = state_of(&url).await;
        assert!(!high(&s), "{HOT_NODE} over the high watermark again");
        assert_eq!(s.settings.enable, "all", "allocation stays as it was left");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
