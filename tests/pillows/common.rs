//! Helpers shared by the pillows tests.

use opsdeck::actions::executor::execute;
use opsdeck::sources::Backends;
use opsdeck_core::action::{ActionPlan, Outcome};
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::config::ConfigDuration;
use opsdeck_core::feed::FeedData;
use opsdeck_pillows::config::{PillowConfig, PillowsConfig};
use opsdeck_pillows::model::{PartitionStatus, Pillow, PillowsState};
use opsdeck_pillows::source::PillowsBackend;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};
use tokio_postgres::NoTls;

pub fn pillow(name: &str) -> PillowConfig {
    PillowConfig {
        name: name.into(),
        checkpoint_id: None,
        group: None,
        topics: Vec::new(),
        processes: 0,
        dedicated_migration_process: false,
        hosts: Vec::new(),
        program: String::new(),
        log_file: None,
    }
}

pub fn config(brokers: &str, pillows: Vec<PillowConfig>) -> PillowsConfig {
    let mut c = PillowsConfig {
        brokers: brokers.into(),
        timeout: ConfigDuration::secs(5),
        pillows,
        ..PillowsConfig::default()
    };
    c.thresholds.allowed_lag = 0;
    c
}

/// Produces `n` messages of `size` bytes to one partition and waits for delivery.
pub fn produce(brokers: &str, topic: &str, partition: i32, n: usize, size: usize) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "0")
        .create()
        .expect("producer");
    let payload = vec![b'x'; size];
    for _ in 0..n {
        let mut record = BaseRecord::<(), [u8]>::to(topic).partition(partition).payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(10));
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(10)).expect("flush");
}

/// A standalone commit (the client never joins the group).
pub fn commit(brokers: &str, group: &str, offsets: &[(&str, i32, i64)]) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in offsets {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o)).unwrap();
    }
    consumer.commit(&tpl, CommitMode::Sync).expect("commit");
}

/// Asserts that partition 0 of `topic` is lost in `pillow`: its checkpoint `needed` lies below the first
/// retained offset `first`, and the verdict says so in the words the pane shows.
pub fn assert_lost(pillow: &Pillow, topic: &str, needed: i64, first: i64) {
    let p = &pillow.partitions[0];
    assert_eq!(
        (p.committed, p.log_start, p.status),
        (Some(needed), Some(first), PartitionStatus::Lost)
    );
    let lost = format!(
        "checkpoint on {topic}:0 is below the first retained offset (needed {needed}, first available {first}): changes were lost — reprocess, then move the checkpoint"
    );
    assert!(
        pillow.verdicts.iter().any(|v| v.message == lost),
        "{:?}",
        pillow.verdicts
    );
}

/// One poll of `backend` folded into `state` as if it happened at `at`.
pub async fn poll_into(backend: &PillowsBackend, state: &mut Option<PillowsState>, at: SystemTime) {
    let cfg = backend.config.clone();
    let pillows = backend.read(&cfg.pillows).await.expect("poll");
    let poll = opsdeck_pillows::model::PillowsPoll {
        pillows,
        settings: cfg.settings(),
    };
    PillowsState::absorb(state, poll, at);
}

/// Runs `plan` through the executor (audit intent, run, verify, audit outcome).
pub async fn run_plan(plan: ActionPlan, backend: &PillowsBackend, dir: &std::path::Path) -> Outcome {
    let backends = Backends {
        pillows: Some(backend.clone()),
        ..Backends::default()
    };
    run_plan_with(plan, backends, dir).await
}

/// Runs `plan` through the executor with these backends.
pub async fn run_plan_with(plan: ActionPlan, backends: Backends, dir: &std::path::Path) -> Outcome {
    let audit = AuditLog::new(dir.join("audit.jsonl"), Identity::current());
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    execute(1, plan, backends, audit, tx, tokio_util::sync::CancellationToken::new()).await
}

/// libpq-style connection to the server (without a database name).
fn server() -> String {
    std::env::var("OPSDECK_TEST_POSTGRES").unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres".into())
}

/// A database of its own, dropped when the test ends (also when it fails).
pub struct TempDb {
    pub name: String,
}

impl TempDb {
    pub async fn new() -> (TempDb, tokio_postgres::Client) {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "opsdeck_pillows_{}_{}_{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_micros(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let admin = connect(&server()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("CREATE DATABASE");
        let client = connect(&format!("{} dbname={name}", server())).await;
        (TempDb { name }, client)
    }

    pub fn conn(&self) -> String {
        format!("{} dbname={}", server(), self.name)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((c, conn)) = tokio_postgres::connect(&server(), NoTls).await {
                    tokio::spawn(conn);
                    let _ = c
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

async fn connect(conn: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(conn, NoTls).await.unwrap_or_else(|e| {
        panic!(
            "these tests need PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres \
             (apt-get install postgresql; or set OPSDECK_TEST_POSTGRES): {e}"
        )
    });
    tokio::spawn(connection);
    client
}

/// HQ's table as Django creates it (pillowtop migrations 0003..0005).
pub const HQ_TABLE: &str = r#"
CREATE TABLE pillowtop_kafkacheckpoint (
    id serial PRIMARY KEY,
    checkpoint_id varchar(126) NOT NULL,
    topic varchar(126) NOT NULL,
    "partition" integer NOT NULL,
    "offset" bigint NOT NULL,
    doc_modification_time timestamp with time zone NULL,
    last_modified timestamp with time zone NOT NULL,
    UNIQUE (checkpoint_id, topic, "partition")
);
CREATE INDEX ON pillowtop_kafkacheckpoint (checkpoint_id);
"#;
