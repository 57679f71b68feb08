//! Three brokers: log start and end offsets of a topic whose partitions are led by different brokers
//! come from one ListOffsets request per broker for the ends and one for the starts, counted in the
//! brokers' own request logs.

use super::env::{peer, unique};
use super::kafka::{Served, create_topic, leaders, served, wait_served};
use super::kafka_groups::group_pillow;
use crate::peers::pillows_common::*;
use opsdeck_pillows::source::PillowsBackend;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn log_offsets_take_one_list_offsets_request_per_broker_for_each_end() {
    let brokers = peer!("OPSDECK_KAFKA3");
    let home = peer!("OPSDECK_KAFKA3_HOME");
    let topic = unique("case-sql");
    // Six partitions on all three brokers, each broker the preferred leader of two.
    create_topic(
        &brokers,
        &topic,
        &[&[1, 2, 3], &[2, 3, 1], &[3, 1, 2], &[1, 3, 2], &[2, 1, 3], &[3, 2, 1]],
    )
    .await;
    let leaders = leaders(&brokers, &topic);
    assert_eq!(leaders, vec![1, 2, 3, 1, 2, 3], "partitions led by different brokers");
    for p in 0..6 {
        produce(&brokers, &topic, p, p as usize + 1, 10);
    }

    let backend = PillowsBackend::new(&config(&brokers, vec![group_pillow(&unique("ucr"), &topic)])).unwrap();
    let readings = backend.read(&backend.config.pillows).await.unwrap();
    let parts = readings[0].result.as_ref().unwrap();
    let got: Vec<(i32, Option<i64>, Option<i64>)> =
        parts.iter().map(|p| (p.partition, p.log_start, p.log_end)).collect();
    let want: Vec<(i32, Option<i64>, Option<i64>)> = (0..6).map(|p| (p, Some(0), Some(p as i64 + 1))).collect();
    assert_eq!(got, want);

    // A barrier: the test's own ListOffsets, sent after opsdeck had every answer, logged by each broker.
    let barrier_id = unique("barrier");
    let barrier: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("client.id", &barrier_id)
        .set("group.id", &barrier_id)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..6 {
        tpl.add_partition_offset(&topic, p, Offset::End).unwrap();
    }
    barrier.offsets_for_times(tpl, Duration::from_secs(10)).unwrap();
    for b in 1..=3 {
        wait_served(&home, &format!("the barrier on broker {b}"), |s| {
            s.broker == b && s.client() == barrier_id
        })
        .await;
    }

    let ours: Vec<Served> = served(&home)
        .into_iter()
        .filter(|s| s.client() == "opsdeck" && s.api() == "LIST_OFFSETS" && s.names_topic(&topic))
        .collect();
    let mut per_broker: BTreeMap<u32, Vec<ListOffsets>> = BTreeMap::new();
    for s in &ours {
        per_broker.entry(s.broker).or_default().push(ListOffsets::of(s));
    }
    assert_eq!(
        per_broker.keys().copied().collect::<Vec<_>>(),
        vec![1, 2, 3],
        "{ours:?}"
    );
    for (broker, mut requests) in per_broker {
        requests.sort_by_key(|r| r.timestamp);
        let led: BTreeSet<i64> = (0..6).filter(|p| leaders[*p as usize] == broker as i32).collect();
        let stamps: Vec<i64> = requests.iter().map(|r| r.timestamp).collect();
        // -2: the earliest offset (log start), -1: the latest (log end).
        assert_eq!(
            stamps,
            vec![-2, -1],
            "broker {broker}: one request for the starts, one for the ends"
        );
        for r in requests {
            assert_eq!(
                r.partitions, led,
                "broker {broker} is asked for all the partitions it leads, at once"
            );
            for (p, offset) in r.answered {
                let expected = if r.timestamp == -1 { p + 1 } else { 0 };
                assert_eq!(
                    offset, expected,
                    "broker {broker} partition {p} timestamp {}",
                    r.timestamp
                );
            }
        }
    }
}

/// One ListOffsets request of the test's topic as a broker logged it.
struct ListOffsets {
    /// The one timestamp asked for every partition (-2 earliest, -1 latest).
    timestamp: i64,
    partitions: BTreeSet<i64>,
    /// Offset answered, by partition.
    answered: BTreeMap<i64, i64>,
}

impl ListOffsets {
    fn of(s: &Served) -> ListOffsets {
        let int = |v: &serde_json::Value| v.as_i64().unwrap_or_else(|| panic!("not a number in {:?}", s.json));
        let asked = s.request()["topics"][0]["partitions"].as_array().unwrap();
        let stamps: BTreeSet<i64> = asked.iter().map(|p| int(&p["timestamp"])).collect();
        assert_eq!(stamps.len(), 1, "one kind of offset per request: {:?}", s.json);
        ListOffsets {
            timestamp: *stamps.first().unwrap(),
            partitions: asked.iter().map(|p| int(&p["partitionIndex"])).collect(),
            answered: s.response()["topics"][0]["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (int(&p["partitionIndex"]), int(&p["offset"])))
                .collect(),
        }
    }
}
