//! CloudWatch against moto (query protocol, client pinned at 1.99): metrics put with PutMetricData
//! come back through the poller as queue ages, consumed capacity and throttling, and become alerts.

use super::harness::*;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use opsdeck::config::Config;
use opsdeck_core::alert::Severity;
use opsdeck_core::feed::FeedData;
use opsdeck_queues::model::QueuesState;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

fn datum(name: &str, dims: &[(&str, &str)], value: f64, ago: Duration) -> MetricDatum {
    let mut d = MetricDatum::builder()
        .metric_name(name)
        .value(value)
        .unit(StandardUnit::None)
        .timestamp(DateTime::from(SystemTime::now() - ago));
    for (k, v) in dims {
        d = d.dimensions(Dimension::builder().name(*k).value(*v).build());
    }
    d.build()
}

#[tokio::test]
async fn metrics_put_are_read_back_and_judged() {
    let moto = Moto::start().await;
    let mut cfg = aws_config(&moto.endpoint);
    cfg.queues = vec!["ingest".into()];
    cfg.tables = vec!["TileIndex".into()];
    let aws = backend(&cfg).await;
    create_queue(&aws, "ingest", &[("MessageRetentionPeriod", "1209600".into())]).await;
    super::dynamodb::create_tables(&aws).await;
    // One point per period (moto does not aggregate by period); the latest one must win.
    let day = 86_400.0;
    aws.cloudwatch
        .put_metric_data()
        .namespace("AWS/SQS")
        .metric_data(datum(
            "ApproximateAgeOfOldestMessage",
            &[("QueueName", "ingest")],
            2.0 * day,
            Duration::from_secs(200),
        ))
        .metric_data(datum(
            "ApproximateAgeOfOldestMessage",
            &[("QueueName", "ingest")],
            12.0 * day,
            Duration::from_secs(30),
        ))
        .metric_data(datum(
            "NumberOfMessagesSent",
            &[("QueueName", "ingest")],
            1_200.0,
            Duration::from_secs(30),
        ))
        .metric_data(datum(
            "NumberOfMessagesDeleted",
            &[("QueueName", "ingest")],
            300.0,
            Duration::from_secs(30),
        ))
        .send()
        .await
        .unwrap();
    aws.cloudwatch
        .put_metric_data()
        .namespace("AWS/DynamoDB")
        .metric_data(datum(
            "ConsumedWriteCapacityUnits",
            &[("TableName", "TileIndex")],
            300.0,
            Duration::from_secs(30),
        ))
        .metric_data(datum(
            "WriteThrottleEvents",
            &[("TableName", "TileIndex")],
            42.0,
            Duration::from_secs(30),
        ))
        .send()
        .await
        .unwrap();
    let poll = aws.poll(&mut HashMap::new()).await.expect("poll");
    assert!(poll.warnings.is_empty(), "{:?}", poll.warnings);
    assert_eq!(poll.queues[0].oldest_age_secs, Some(12.0 * day));
    assert_eq!(
        (poll.queues[0].sent_per_s, poll.queues[0].deleted_per_s),
        (Some(20.0), Some(5.0)),
        "Sums per minute become per second"
    );
    let t = poll.tables.iter().find(|t| t.name == "TileIndex").unwrap();
    assert_eq!(t.capacity.consumed_wcu, Some(5.0), "300 units in a 60 s period = 5/s");
    assert_eq!(t.capacity.write_throttled, Some(42.0));

    let mut state = None;
    QueuesState::absorb(&mut state, poll, SystemTime::now());
    let config = Config {
        aws: cfg,
        ..Default::default()
    };
    let alerts = opsdeck_queues::analysis::alerts(state.as_ref().unwrap(), &config);
    let age = alerts.iter().find(|a| a.subject == "ingest").expect("age alert");
    assert_eq!(age.severity, Severity::Critical);
    assert!(age.message.contains("12d old of 14d retention"), "{}", age.message);
    let thr = alerts
        .iter()
        .find(|a| a.subject == "table TileIndex")
        .expect("throttle alert");
    assert_eq!(thr.severity, Severity::Warning);
    assert!(thr.message.contains("42 throttled"), "{}", thr.message);
}
