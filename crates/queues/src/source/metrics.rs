//! CloudWatch metrics for queues and tables, batched: one GetMetricData call per 500 series.

use super::explain;
use crate::model::{Capacity, QueueInfo, TableInfo};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// CloudWatch's per-minute resolution for SQS and DynamoDB metrics.
pub const PERIOD_SECS: i32 = 60;
/// How far back to look for the latest datapoint (SQS publishes only while a queue is active).
const LOOKBACK: Duration = Duration::from_secs(15 * 60);
/// GetMetricData's limit of queries per call.
const MAX_QUERIES: usize = 500;

/// Which field a series fills.
#[derive(Debug, Clone, Copy)]
enum Target {
    QueueAge(usize),
    QueueSent(usize),
    QueueDeleted(usize),
    Table(usize, Option<usize>, Field),
}

#[derive(Debug, Clone, Copy)]
enum Field {
    ConsumedRcu,
    ConsumedWcu,
    ReadThrottled,
    WriteThrottled,
}

impl Field {
    const ALL: [Field; 4] = [
        Field::ConsumedRcu,
        Field::ConsumedWcu,
        Field::ReadThrottled,
        Field::WriteThrottled,
    ];
    fn metric(self) -> &'static str {
        match self {
            Field::ConsumedRcu => "ConsumedReadCapacityUnits",
            Field::ConsumedWcu => "ConsumedWriteCapacityUnits",
            Field::ReadThrottled => "ReadThrottleEvents",
            Field::WriteThrottled => "WriteThrottleEvents",
        }
    }
    fn set(self, c: &mut Capacity, v: f64) {
        match self {
            // Consumed units are a Sum per period: per second is what compares with provisioned.
            Field::ConsumedRcu => c.consumed_rcu = Some(v / PERIOD_SECS as f64),
            Field::ConsumedWcu => c.consumed_wcu = Some(v / PERIOD_SECS as f64),
            Field::ReadThrottled => c.read_throttled = Some(v),
            Field::WriteThrottled => c.write_throttled = Some(v),
        }
    }
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn query(id: String, namespace: &str, metric: &str, dims: Vec<Dimension>, stat: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
                        .metric_name(metric)
                        .set_dimensions(Some(dims))
                        .build(),
                )
                .period(PERIOD_SECS)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// Fills queue ages and table capacity/throttling from CloudWatch. Rows that could not be read are skipped.
pub async fn fill(
    cw: &aws_sdk_cloudwatch::Client,
    queues: &mut [QueueInfo],
    tables: &mut [TableInfo],
) -> Result<(), String> {
    let mut series: Vec<(MetricDataQuery, Target)> = Vec::new();
    for (i, q) in queues.iter().enumerate().filter(|(_, q)| q.error.is_none()) {
        series.push((
            query(
                format!("q{i}"),
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                vec![dim("QueueName", &q.name)],
                "Maximum",
            ),
            Target::QueueAge(i),
        ));
        // In vs out, to go with the net rate the pane estimates from its own samples.
        for (suffix, metric, target) in [
            ("s", "NumberOfMessagesSent", Target::QueueSent(i)),
            ("d", "NumberOfMessagesDeleted", Target::QueueDeleted(i)),
        ] {
            series.push((
                query(
                    format!("q{i}{suffix}"),
                    "AWS/SQS",
                    metric,
                    vec![dim("QueueName", &q.name)],
                    "Sum",
                ),
                target,
            ));
        }
    }
    for (i, t) in tables.iter().enumerate().filter(|(_, t)| t.error.is_none()) {
        for (f_i, f) in Field::ALL.iter().enumerate() {
            series.push((
                query(
                    format!("t{i}_{f_i}"),
                    "AWS/DynamoDB",
                    f.metric(),
                    vec![dim("TableName", &t.name)],
                    "Sum",
                ),
                Target::Table(i, None, *f),
            ));
            for (g_i, g) in t.gsis.iter().enumerate() {
                series.push((
                    query(
                        format!("t{i}_{f_i}_g{g_i}"),
                        "AWS/DynamoDB",
                        f.metric(),
                        vec![dim("TableName", &t.name), dim("GlobalSecondaryIndexName", &g.name)],
                        "Sum",
                    ),
                    Target::Table(i, Some(g_i), *f),
                ));
            }
        }
    }
    if series.is_empty() {
        return Ok(());
    }
    let end = SystemTime::now();
    let start = end - LOOKBACK;
    let mut targets: HashMap<String, Target> = HashMap::new();
    for chunk in series.chunks(MAX_QUERIES) {
        let mut latest: HashMap<String, (f64, f64)> = HashMap::new();
        let mut token: Option<String> = None;
        loop {
            let out = cw
                .get_metric_data()
                .set_metric_data_queries(Some(chunk.iter().map(|(q, _)| q.clone()).collect()))
                .start_time(DateTime::from(start))
                .end_time(DateTime::from(end))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| explain("GetMetricData", &e))?;
            for r in out.metric_data_results() {
                let Some(id) = r.id() else { continue };
                for (t, v) in r.timestamps().iter().zip(r.values()) {
                    let at = t.as_secs_f64();
                    let e = latest.entry(id.to_string()).or_insert((f64::MIN, 0.0));
                    if at >= e.0 {
                        *e = (at, *v);
                    }
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        targets.clear();
        for (q, t) in chunk {
            if let Some(id) = q.id() {
                targets.insert(id.to_string(), *t);
            }
        }
        for (id, (_, v)) in latest {
            match targets.get(&id) {
                Some(Target::QueueAge(i)) => queues[*i].oldest_age_secs = Some(v),
                Some(Target::QueueSent(i)) => queues[*i].sent_per_s = Some(v / PERIOD_SECS as f64),
                Some(Target::QueueDeleted(i)) => queues[*i].deleted_per_s = Some(v / PERIOD_SECS as f64),
                Some(Target::Table(i, None, f)) => f.set(&mut tables[*i].capacity, v),
                Some(Target::Table(i, Some(g), f)) => {
                    if let Some(gsi) = tables[*i].gsis.get_mut(*g) {
                        f.set(&mut gsi.capacity, v)
                    }
                }
                None => {}
            }
        }
    }
    Ok(())
}
