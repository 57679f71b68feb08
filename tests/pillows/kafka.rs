//! Consumer-group pillows against librdkafka's mock cluster.

use super::common::*;
use opsdeck::model::Fleet;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck_core::action::OutcomeResult;
use opsdeck_core::feed::FeedStatus;
use opsdeck_core::pane::Pane;
use opsdeck_core::source_error::ErrorKind;
use opsdeck_pillows::Pillows;
use opsdeck_pillows::actions::plan_move_checkpoint;
use opsdeck_pillows::model::PartitionStatus;
use opsdeck_pillows::source::PillowsBackend;
use rdkafka::mocking::MockCluster;
use std::time::{Duration, Instant, SystemTime};

fn group_pillow(group: &str, topics: &[&str]) -> opsdeck_pillows::config::PillowConfig {
    opsdeck_pillows::config::PillowConfig {
        group: Some(group.into()),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        ..pillow("ucr-pillow")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn group_lag_is_log_end_minus_committed_and_a_rewind_is_named() {
    let mock = MockCluster::new(2).unwrap();
    mock.create_topic("case-sql", 3, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    produce(&brokers, "case-sql", 0, 100, 10);
    produce(&brokers, "case-sql", 1, 10, 10);
    commit(&brokers, "ucr", &[("case-sql", 0, 40), ("case-sql", 1, 10)]);

    let backend = PillowsBackend::new(&config(&brokers, vec![group_pillow("ucr", &["case-sql"])])).unwrap();
    let readings = backend.read(&backend.config.pillows).await.unwrap();
    let parts = readings[0].result.as_ref().unwrap();
    let p0 = &parts.iter().find(|p| p.partition == 0).unwrap();
    assert_eq!((p0.committed, p0.log_start, p0.log_end), (Some(40), Some(0), Some(100)));
    let p2 = &parts.iter().find(|p| p.partition == 2).unwrap();
    assert_eq!((p2.committed, p2.log_end), (None, Some(0)));

    let t0 = SystemTime::now();
    let mut state = None;
    poll_into(&backend, &mut state, t0).await;
    let pillow = &state.as_ref().unwrap().pillows[0];
    let lags: Vec<Option<i64>> = pillow.partitions.iter().map(|p| p.lag).collect();
    assert_eq!(lags, vec![Some(60), Some(0), Some(0)]);
    assert_eq!(pillow.total_lag, 60);
    assert_eq!(pillow.worst_partition.as_deref(), Some("case-sql:0"));

    // The group's offset goes backwards: Burrow's rewind rule.
    commit(&brokers, "ucr", &[("case-sql", 0, 20)]);
    poll_into(&backend, &mut state, t0 + Duration::from_secs(30)).await;
    let pillow = &state.as_ref().unwrap().pillows[0];
    assert_eq!(pillow.partitions[0].status, PartitionStatus::Rewind);
    assert!(
        pillow
            .verdicts
            .iter()
            .any(|v| v.message == "checkpoint rewound on case-sql:0 (from 40 to 20)"),
        "{:?}",
        pillow.verdicts
    );
    let json = serde_json::to_value(state.as_ref().unwrap()).unwrap();
    let p = &json["pillows"][0]["partitions"][0];
    assert_eq!(p["topic"], "case-sql");
    assert_eq!(p["partition"], 0);
    assert_eq!(p["committed"], 20);
    assert_eq!(p["log_start"], 0);
    assert_eq!(p["log_end"], 100);
    assert_eq!(p["lag"], 80);
    assert_eq!(p["status"], "rewind");
    drop(mock);
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoint_below_the_first_retained_offset_is_lost_and_moving_it_commits_log_end() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("form-sql", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    // The mock keeps 5 MiB per partition: 40 × 200 KiB pushes the first retained offset up.
    produce(&brokers, "form-sql", 0, 40, 200 * 1024);
    commit(&brokers, "ucr", &[("form-sql", 0, 3)]);

    let backend = PillowsBackend::new(&config(&brokers, vec![group_pillow("ucr", &["form-sql"])])).unwrap();
    let mut state = None;
    poll_into(&backend, &mut state, SystemTime::now()).await;
    let pillow = &state.as_ref().unwrap().pillows[0];
    let p = &pillow.partitions[0];
    let low = p.log_start.unwrap();
    assert!(low > 3, "the mock should have trimmed the log, log start {low}");
    assert_eq!(p.log_end, Some(40));
    assert_lost(pillow, "form-sql", 3, low);

    let plan = plan_move_checkpoint(&backend.config, &backend.config.pillows[0], pillow).unwrap();
    assert!(
        plan.description.contains("37 changes will be SKIPPED"),
        "{}",
        plan.description
    );
    assert_eq!(plan.call, "OffsetCommit group=ucr form-sql:0=40");
    let dir = tempfile::tempdir().unwrap();
    let outcome = run_plan(plan, &backend, dir.path()).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    let readings = backend.read(&backend.config.pillows).await.unwrap();
    assert_eq!(readings[0].result.as_ref().unwrap()[0].committed, Some(40));
    drop(mock);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consuming_pillow_refuses_the_checkpoint_move() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("case-sql", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    produce(&brokers, "case-sql", 0, 50, 10);
    commit(&brokers, "ucr", &[("case-sql", 0, 10)]);
    let backend = PillowsBackend::new(&config(&brokers, vec![group_pillow("ucr", &["case-sql"])])).unwrap();
    let t0 = SystemTime::now();
    let mut state = None;
    poll_into(&backend, &mut state, t0).await;
    commit(&brokers, "ucr", &[("case-sql", 0, 20)]);
    poll_into(&backend, &mut state, t0 + Duration::from_secs(30)).await;
    let pillow = &state.as_ref().unwrap().pillows[0];
    let err = plan_move_checkpoint(&backend.config, &backend.config.pillows[0], pillow).unwrap_err();
    assert!(err.contains("still consuming"), "{err}");
    drop(mock);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_broker_address_is_an_error_in_the_feed_not_a_crash() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = config(&format!("127.0.0.1:{port}"), vec![group_pillow("ucr", &["case-sql"])]);
    c.timeout = opsdeck_core::config::ConfigDuration::secs(2);
    let backend = PillowsBackend::new(&c).unwrap();
    let started = Instant::now();
    let err = backend.read(&backend.config.pillows).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("Kafka"), "{err}");
    // Refused connections: the runner backs off, check calls it critical.
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err}");
    let mut fleet = Fleet::default();
    fleet.enable(Pillows::ID);
    fleet.apply(SystemTime::now(), SourceUpdate::Pillows(Err(err.clone())));
    assert_eq!(fleet.pillows.status, FeedStatus::Error);
    assert_eq!(fleet.pillows.error.as_deref(), Some(err.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_topic_fails_only_its_pillow() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("case-sql", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let mut ok = group_pillow("ucr", &["case-sql"]);
    ok.name = "ok-pillow".into();
    let mut bad = group_pillow("other", &["no-such-topic"]);
    bad.name = "bad-pillow".into();
    let backend = PillowsBackend::new(&config(&brokers, vec![ok, bad])).unwrap();
    let readings = backend.read(&backend.config.pillows).await.unwrap();
    assert!(readings[0].result.is_ok());
    let err = readings[1].result.as_ref().unwrap_err();
    assert!(err.contains("no-such-topic") && err.contains("does not exist"), "{err}");
    drop(mock);
}

/// Counts the rebalances a real group member goes through.
struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);
impl rdkafka::ClientContext for Counting {}
impl rdkafka::consumer::ConsumerContext for Counting {
    fn post_rebalance(&self, _: &rdkafka::consumer::BaseConsumer<Self>, r: &rdkafka::consumer::Rebalance<'_>) {
        if matches!(r, rdkafka::consumer::Rebalance::Assign(_)) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

fn member(
    brokers: &str,
    group: &str,
) -> (
    std::thread::JoinHandle<()>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let consumer: BaseConsumer<Counting> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("heartbeat.interval.ms", "300")
        .set("session.timeout.ms", "6000")
        .create_with_context(Counting(count.clone()))
        .unwrap();
    consumer.subscribe(&["case-sql"]).unwrap();
    let s = stop.clone();
    let handle = std::thread::spawn(move || {
        while !s.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = consumer.poll(Duration::from_millis(50));
        }
    });
    (handle, count, stop)
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_group_offsets_never_joins_and_commits_to_a_live_group_are_refused() {
    use std::sync::atomic::Ordering::SeqCst;
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("case-sql", 2, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    produce(&brokers, "case-sql", 0, 10, 10);
    let (handle, rebalances, stop) = member(&brokers, "live");
    let deadline = Instant::now() + Duration::from_secs(30);
    while rebalances.load(SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the member never got its assignment");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = rebalances.load(SeqCst);

    let backend = PillowsBackend::new(&config(&brokers, vec![group_pillow("live", &["case-sql"])])).unwrap();
    for _ in 0..3 {
        backend.read(&backend.config.pillows).await.unwrap();
    }
    // Proving an absence takes a wait: a joining client makes the mock rebalance the group after
    // about 5 s (measured by the positive control below, which must see one within that bound).
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        rebalances.load(SeqCst),
        before,
        "opsdeck's reads made the group rebalance"
    );
    // Moving the checkpoint of a group with members: the mock cannot list members (no
    // DescribeGroups), so the broker's own refusal of a memberless commit is what stops it.
    assert_eq!(backend.kafka.group_members("live").await, Ok(None));
    let err = backend
        .kafka
        .commit("live", vec![("case-sql".into(), 0, 10)])
        .await
        .unwrap_err();
    assert!(err.contains("UnknownMemberId"), "{err}");

    let (h2, _, stop2) = member(&brokers, "live");
    let deadline = Instant::now() + Duration::from_secs(8);
    while rebalances.load(SeqCst) == before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        rebalances.load(SeqCst) > before,
        "control: a real second member must cause a rebalance within 8 s"
    );
    for (h, s) in [(handle, stop), (h2, stop2)] {
        s.store(true, SeqCst);
        h.join().unwrap();
    }
    drop(mock);
}

/// A client librdkafka will not build (`config check` refuses such a property in a file; a config
/// made in code still gets here) is the config's to fix: refused, not retried fast.
#[tokio::test(flavor = "multi_thread")]
async fn a_kafka_property_librdkafka_refuses_is_a_refused_config() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("case-sql", 1, 1).unwrap();
    let mut c = config(&mock.bootstrap_servers(), vec![group_pillow("ucr", &["case-sql"])]);
    c.kafka_properties
        .insert("socket.timeout.ms".into(), "not-a-number".into());
    let backend = PillowsBackend::new(&c).unwrap();
    let err = backend.read(&backend.config.pillows).await.unwrap_err();
    assert!(err.contains("Kafka client setup"), "{err}");
    assert_eq!(err.kind, ErrorKind::Refused, "{err}");
}

/// A TLS listener spoken to in plaintext hangs up on the first request. librdkafka logs why only at
/// info and raises no error event of it: the poll must still say it, not only "1/1 brokers are down".
#[tokio::test(flavor = "multi_thread")]
async fn a_listener_that_hangs_up_on_the_first_request_is_the_feeds_error_not_brokers_down() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            // Read the ApiVersions request, answer nothing, hang up (as a TLS server does on bytes
            // that are not a ClientHello).
            let mut request = [0u8; 512];
            let _ = stream.read(&mut request).await;
        }
    });
    let mut c = config(&address.to_string(), vec![group_pillow("ucr", &["case-sql"])]);
    c.timeout = opsdeck_core::config::ConfigDuration::secs(2);
    let backend = PillowsBackend::new(&c).unwrap();
    let err = backend.read(&backend.config.pillows).await.unwrap_err();
    assert!(err.contains("Disconnected: connection closed by peer"), "{err}");
    assert!(!err.contains("brokers are down"), "a cause was told: {err}");
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err}");
}
