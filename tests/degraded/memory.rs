//! A console left running: hours of polls, log lines, audit lines and toasts through the app's one
//! update loop, with frames drawn along the way. Every history and buffer stays bounded: the state
//! after three simulated hours holds no more than after one.
//!
//! (The demo's own growth was its embedded Kafka keeping every batch it was sent, and its
//! simulated Elasticsearch keeping every request: see `demo::pillows::SEND_EVERY` and
//! `demo::elasticsearch::REQUEST_LOG`, and the last test here.)

use super::common::fixture;
use opsdeck::actions::executor::ActionEvent;
use opsdeck::app::{App, Event};
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::sources::runner::Polled;
use opsdeck::ui::testing::{app_on, press, screen_text};
use opsdeck_core::audit::{AuditEntry, AuditPhase};
use opsdeck_core::folding::fold;
use opsdeck_core::logs::LogSource;
use opsdeck_elasticsearch::model::{EsAnswer, EsPoll};
use opsdeck_elasticsearch::source::parse;
use opsdeck_hosts::model::HostPoll;
use opsdeck_hosts::model::logs::LogEvent;
use opsdeck_pillows::model::{Assignment, CheckpointKind, EvalSettings, PartitionReading, PillowReading, PillowsPoll};
use opsdeck_queues::model::{QueueInfo, QueuesPoll};
use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

const REFRESH: Duration = Duration::from_secs(2);
const LOG_BUFFER: usize = 5_000;

fn app() -> App {
    let config = opsdeck::config::parse_str(
        &format!(
            r#"[general]
refresh = "2s"

[elasticsearch]
url = "http://127.0.0.1:9"

[aws]
endpoint_url = "http://127.0.0.1:9"
access_key_id = "x"
secret_access_key = "x"
queue_prefixes = ["ingest"]

[ssh]
log_buffer = {LOG_BUFFER}

[[ssh.hosts]]
name = "local-a"
transport = "local"
logs = ["/var/log/a.log"]

[pillows]
brokers = "127.0.0.1:9"
history = 120

[[pillows.pillow]]
name = "ucr-pillow"
group = "ucr-pillow"
topics = ["case-sql"]
"#
        ),
        Path::new("long-run.toml"),
    )
    .unwrap();
    app_on(config, SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000))
}

fn pillows(i: u64) -> PillowsPoll {
    let readings = (0..16)
        .map(|p| PartitionReading {
            topic: "case-sql".into(),
            partition: p,
            committed: Some((i * 40) as i64 - p as i64),
            log_start: Some(0),
            log_end: Some((i * 48) as i64),
            last_modified: None,
            doc_modification_time: None,
        })
        .collect();
    PillowsPoll {
        pillows: vec![PillowReading {
            name: "ucr-pillow".into(),
            kind: CheckpointKind::KafkaGroup,
            checkpoint: "ucr-pillow".into(),
            assignment: Assignment {
                processes: 0,
                dedicated_migration_process: false,
            },
            processes: Vec::new(),
            // Now and then a poll of the pillow fails: its error comes and goes.
            result: if i.is_multiple_of(97) {
                Err("broker gone".into())
            } else {
                Ok(readings)
            },
        }],
        settings: EvalSettings::default(),
    }
}

/// The real captures, parsed once; each poll differs in its health.
static ES: LazyLock<EsPoll> = LazyLock::new(|| EsPoll {
    distribution: parse::parse_info(&fixture("clusterinfo_7.13.1.json")).unwrap(),
    health: Default::default(),
    nodes: parse::parse_node_stats(&fixture("nodestats_7.13.1.json")).unwrap(),
    allocation: Vec::new(),
    settings: parse::parse_settings(&fixture("settings-7.3.0.json")).unwrap(),
    recoveries: Vec::new(),
    shards: parse::parse_shards(&fixture("shards_relocating_synthetic.json")).unwrap(),
    explains: Vec::new(),
    notes: Vec::new(),
    refused: Vec::new(),
});

fn elasticsearch(i: u64) -> EsPoll {
    let status = ["green", "yellow", "red"][(i / 50 % 3) as usize];
    EsPoll {
        health: parse::parse_health(format!(r#"{{"cluster_name":"c","status":"{status}"}}"#).as_bytes()).unwrap(),
        ..ES.clone()
    }
}

fn queues(i: u64) -> QueuesPoll {
    // Discovery by prefix: queues come and go (a new one every ten minutes, the old one gone).
    let rotating = format!("ingest-{}", i / 300);
    let queue = |name: &str| QueueInfo {
        name: name.into(),
        url: format!("http://sqs/1/{name}"),
        visible: i % 500,
        retention_secs: 345_600,
        ..QueueInfo::default()
    };
    QueuesPoll {
        queues: vec![queue("ingest"), queue(&rotating)],
        tables: Vec::new(),
        warnings: vec![format!("cloudwatch: throttled at poll {i}")],
    }
}

fn host(i: u64) -> Vec<HostPoll> {
    let mut p = HostPoll::unreachable("local-a", "local", String::new());
    p.reach = if i.is_multiple_of(10) {
        Err("timed out".into())
    } else {
        Ok(())
    };
    p.load = Some([1.0, 1.0, 1.0]);
    vec![p]
}

fn audit_line(i: u64) -> AuditEntry {
    AuditEntry {
        time: "2026-01-01T00:00:00Z".into(),
        phase: if i.is_multiple_of(2) {
            AuditPhase::Intent
        } else {
            AuditPhase::Outcome
        },
        action_id: format!("1-{i}"),
        user: "oncall".into(),
        host: "jump".into(),
        action: "test".into(),
        target: "t".into(),
        call: "true".into(),
        risk: "low".into(),
        result: "succeeded".into(),
        detail: String::new(),
    }
}

/// How much the app holds, collection by collection.
fn footprint(app: &App) -> Vec<(&'static str, usize)> {
    let f = &app.fleet;
    let pillows = f.pillows.data.as_ref().unwrap();
    let es = f.elasticsearch.data.as_ref().unwrap();
    let queues = f.queues.data.as_ref().unwrap();
    vec![
        ("pillows", pillows.pillows.len()),
        ("partitions", pillows.pillows.iter().map(|p| p.partitions.len()).sum()),
        (
            "partition samples",
            pillows
                .pillows
                .iter()
                .flat_map(|p| &p.partitions)
                .map(|p| p.sample_count())
                .sum(),
        ),
        ("lag samples", pillows.pillows.iter().map(|p| p.lag_history.len()).sum()),
        ("es health history", es.health_history.len()),
        ("es shards", es.shards.len()),
        ("queues", queues.queues.len()),
        ("queue samples", queues.queues.iter().map(|q| q.history.len()).sum()),
        ("queue warnings", queues.warnings.len()),
        ("hosts", f.hosts.data.as_ref().unwrap().hosts.len()),
        ("log lines", f.logs.lines.len()),
        ("tails", f.logs.tails.len()),
        ("toasts", app.toasts.len()),
        ("actions running", app.running.len()),
        ("screens", app.panes.iter().map(Vec::len).sum()),
    ]
}

#[test]
fn three_hours_of_polls_leave_every_history_and_buffer_bounded() {
    let mut app = app();
    let start = app.now;
    let log = LogSource::file("local-a", "/var/log/a.log");
    let polled = |at, update| Event::Polled(Polled { at, update });
    app.update(polled(
        start,
        SourceUpdate::Logs(LogEvent::Started {
            source: log.clone(),
            run: 1,
            capacity: LOG_BUFFER,
        }),
    ));
    let hour = 3600 / REFRESH.as_secs();
    let mut after_one_hour = Vec::new();
    for i in 1..=3 * hour {
        let now = start + REFRESH * i as u32;
        app.update(Event::Tick(now));
        // Folded as the poller's task folds it, from what the app shows.
        let folded = fold(&mut app.fleet.pillows.data.clone(), pillows(i), now);
        app.update(polled(now, SourceUpdate::Pillows(Ok(folded))));
        app.update(polled(
            now,
            SourceUpdate::Elasticsearch(Ok(EsAnswer::of(elasticsearch(i)))),
        ));
        app.update(polled(now, SourceUpdate::Queues(Ok(queues(i)))));
        app.update(polled(now, SourceUpdate::Hosts(Ok(host(i)))));
        app.update(polled(
            now,
            SourceUpdate::Logs(LogEvent::Lines {
                id: log.id(),
                run: 1,
                lines: (0..10)
                    .map(|n| format!("poll {i} line {n} \u{1b}[31mred\u{1b}[0m"))
                    .collect(),
            }),
        ));
        // An action's audit lines every minute, a toast every other minute.
        if i.is_multiple_of(30) {
            app.update(Event::Action(ActionEvent::Audited(audit_line(i))));
        }
        if i.is_multiple_of(60) {
            app.update(Event::Saved(Err(format!("disk full at {i}"))));
        }
        // Every ten minutes, a frame of each pane (their caches fill as they draw).
        if i.is_multiple_of(300) {
            for tab in ["1", "2", "3", "4", "5", "6", "9", "0"] {
                press(&mut app, tab);
                let _ = screen_text(&app, 160, 48);
            }
        }
        if i == hour {
            after_one_hour = footprint(&app);
        }
    }
    let after_three_hours = footprint(&app);
    assert_eq!(
        after_three_hours, after_one_hour,
        "something grew between hour 1 and hour 3"
    );
    let count = |name: &str| after_three_hours.iter().find(|(n, _)| *n == name).unwrap().1;
    assert_eq!(count("partition samples"), 16 * 120, "history = 120 per partition");
    assert_eq!(count("lag samples"), 120);
    assert_eq!(count("es health history"), opsdeck_elasticsearch::model::HEALTH_HISTORY);
    assert_eq!(count("queues"), 2, "queues gone from discovery are dropped");
    assert!(count("queue samples") <= 2 * opsdeck_queues::model::HISTORY);
    assert_eq!(count("log lines"), LOG_BUFFER);
    assert!(count("toasts") <= 4);
    assert_eq!(app.fleet.logs.dropped, 3 * hour * 10 - LOG_BUFFER as u64);
    // Audit lines are kept up to 10,000 (one a minute for three hours stays below that).
    assert_eq!(app.fleet.audit.len(), (3 * hour / 30) as usize);
}
