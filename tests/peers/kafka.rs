//! Kafka helpers: topics laid out as a test needs them, a real group member, and the brokers' own
//! request logs (`scripts/peers` has each broker log the ListOffsets, offset and group requests it
//! served, request and response, as JSON lines in `$OPSDECK_KAFKA*_HOME/broker-N/requests.log`).

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

fn admin(brokers: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client")
}

fn options() -> AdminOptions {
    AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)))
}

/// Creates `topic`: `replicas[p]` are the brokers of partition `p`, the first one its preferred leader
/// (one broker: `&[&[1]; N]`). Returns once every partition has a leader in the metadata.
pub async fn create_topic(brokers: &str, topic: &str, replicas: &[&[i32]]) {
    let new = NewTopic::new(topic, replicas.len() as i32, TopicReplication::Variable(replicas));
    let result = admin(brokers)
        .create_topics([&new], &options())
        .await
        .expect("CreateTopics");
    for r in result {
        r.unwrap_or_else(|(t, e)| panic!("creating {t}: {e}"));
    }
    let probe = consumer(brokers, &super::env::unique("probe"));
    let led = || {
        probe
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .ok()
            .and_then(|md| {
                md.topics()
                    .first()
                    .map(|t| t.partitions().iter().map(|p| p.leader()).collect::<Vec<_>>())
            })
            .is_some_and(|leaders| leaders.len() == replicas.len() && leaders.iter().all(|l| *l >= 0))
    };
    assert!(
        crate::peers::harness::eventually(Duration::from_secs(30), || std::future::ready(led())).await,
        "{topic}: no leader for every partition"
    );
}

/// The leader of each partition of `topic`, by partition.
pub fn leaders(brokers: &str, topic: &str) -> Vec<i32> {
    let md = consumer(brokers, &super::env::unique("probe"))
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let mut ps: Vec<(i32, i32)> = md.topics()[0]
        .partitions()
        .iter()
        .map(|p| (p.id(), p.leader()))
        .collect();
    ps.sort_unstable();
    ps.into_iter().map(|(_, leader)| leader).collect()
}

/// DeleteRecords: moves the log start of `topic`/`partition` to `before` (what a retention policy
/// does to old segments, at an offset of the test's choosing).
pub async fn delete_records(brokers: &str, topic: &str, partition: i32, before: i64) {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Offset(before))
        .unwrap();
    let answer = admin(brokers)
        .delete_records(&tpl, &options())
        .await
        .expect("DeleteRecords");
    for el in answer.elements() {
        el.error()
            .unwrap_or_else(|e| panic!("DeleteRecords {topic}:{partition}: {e}"));
    }
}

fn consumer(brokers: &str, group: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .expect("consumer")
}

/// Counts what a member goes through: assignments and revocations.
#[derive(Default)]
pub struct Rebalances {
    pub assigned: AtomicUsize,
    pub revoked: AtomicUsize,
}

struct Counting(Arc<Rebalances>);
impl rdkafka::ClientContext for Counting {}
impl ConsumerContext for Counting {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, r: &Rebalance<'_>) {
        if matches!(r, Rebalance::Revoke(_)) {
            self.0.revoked.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn post_rebalance(&self, _: &BaseConsumer<Self>, r: &Rebalance<'_>) {
        if matches!(r, Rebalance::Assign(_)) {
            self.0.assigned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A real member of a consumer group (classic protocol, as pillow processes are), polling on a thread
/// of its own; it leaves the group when dropped.
pub struct Member {
    pub client_id: String,
    pub rebalances: Arc<Rebalances>,
    consumer: Arc<BaseConsumer<Counting>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Member {
    /// Joins `group` subscribed to `topic`; returns once it has its first assignment.
    pub async fn join(brokers: &str, group: &str, topic: &str) -> Member {
        let client_id = super::env::unique("member");
        let rebalances = Arc::new(Rebalances::default());
        let consumer: BaseConsumer<Counting> = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", group)
            .set("client.id", &client_id)
            .set("enable.auto.commit", "false")
            // Frequent heartbeats: a rebalance reaches the member within a fraction of a second.
            .set("heartbeat.interval.ms", "300")
            .set("session.timeout.ms", "6000")
            .create_with_context(Counting(rebalances.clone()))
            .expect("member");
        consumer.subscribe(&[topic]).expect("subscribe");
        let consumer = Arc::new(consumer);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (consumer, stop) = (consumer.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let _ = consumer.poll(Duration::from_millis(50));
                }
            })
        };
        let m = Member {
            client_id,
            rebalances,
            consumer,
            stop,
            thread: Some(thread),
        };
        let r = m.rebalances.clone();
        assert!(
            crate::peers::harness::eventually(Duration::from_secs(30), || {
                std::future::ready(r.assigned.load(Ordering::SeqCst) > 0)
            })
            .await,
            "{} never got an assignment in {group}",
            m.client_id
        );
        m
    }

    /// Commits `offsets` as this member (with its generation), as a pillow process does.
    pub fn commit(&self, topic: &str, offsets: &[(i32, i64)]) {
        let mut tpl = TopicPartitionList::new();
        for (p, o) in offsets {
            tpl.add_partition_offset(topic, *p, Offset::Offset(*o)).unwrap();
        }
        self.consumer
            .commit(&tpl, rdkafka::consumer::CommitMode::Sync)
            .expect("member commit");
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One request a broker served, as its request log recorded it.
#[derive(Debug, Clone)]
pub struct Served {
    pub broker: u32,
    pub json: Value,
}

impl Served {
    pub fn api(&self) -> &str {
        self.json["requestHeader"]["requestApiKeyName"].as_str().unwrap_or("")
    }
    pub fn client(&self) -> &str {
        self.json["requestHeader"]["clientId"].as_str().unwrap_or("")
    }
    pub fn request(&self) -> &Value {
        &self.json["request"]
    }
    pub fn response(&self) -> &Value {
        &self.json["response"]
    }
    pub fn group(&self) -> &str {
        self.request()["groupId"].as_str().unwrap_or("")
    }
    /// Whether the request names `topic` (ListOffsets, OffsetCommit, OffsetFetch v8+ with groups).
    pub fn names_topic(&self, topic: &str) -> bool {
        let r = self.request();
        let in_list = |topics: &Value| {
            topics
                .as_array()
                .is_some_and(|ts| ts.iter().any(|t| t["name"] == topic))
        };
        in_list(&r["topics"])
            || r["groups"]
                .as_array()
                .is_some_and(|gs| gs.iter().any(|g| in_list(&g["topics"])))
    }
}

/// Every request the brokers under `home` logged so far (a line still being written is skipped).
pub fn served(home: &str) -> Vec<Served> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(home)
        .unwrap_or_else(|e| panic!("{home}: {e}"))
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(broker) = name.strip_prefix("broker-").and_then(|n| n.parse().ok()) else {
            continue;
        };
        let text = std::fs::read_to_string(entry.path().join("requests.log")).unwrap_or_default();
        for line in text.lines() {
            if let Some(Ok(json)) = line
                .strip_prefix("Completed request:")
                .map(serde_json::from_str::<Value>)
            {
                out.push(Served { broker, json });
            }
        }
    }
    out
}

/// Waits until the brokers under `home` have logged a request matching `pred` (the log is written as
/// each response goes out, a moment after the client has it).
pub async fn wait_served(home: &str, what: &str, pred: impl Fn(&Served) -> bool) {
    assert!(
        crate::peers::harness::eventually(Duration::from_secs(20), || {
            std::future::ready(served(home).iter().any(&pred))
        })
        .await,
        "the brokers under {home} never logged {what}"
    );
}
