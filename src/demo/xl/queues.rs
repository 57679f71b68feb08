//! The SQS queues' polls: depths, rates, dead-letter queues.

use super::{Size, tide, unit};
use opsdeck_queues::model::{DlqRef, QueueInfo, QueuesPoll};

const QUEUE_SERVICES: [&str; 10] = [
    "hq-sms-outbound",
    "hq-repeat-records",
    "hq-form-processing",
    "hq-case-import",
    "hq-export-jobs",
    "hq-email",
    "hq-async-restore",
    "hq-ucr-rebuild",
    "hq-analytics",
    "hq-notifications",
];

/// The name of queue `i`: every tenth is the dead-letter queue of the nine before it.
pub fn queue_name(i: usize) -> String {
    let service = QUEUE_SERVICES[(i / 10) % QUEUE_SERVICES.len()];
    let shard = i / 100;
    match i % 10 {
        9 => format!("{service}-{shard}-dlq"),
        k => format!("{service}-{shard}-p{k}"),
    }
}

/// The queues' poll `step`: most hover around their depth, some back up (consumers failing) and
/// drain again, every DLQ collects a few dead letters.
pub fn queues(size: &Size, step: u64) -> QueuesPoll {
    let queues = (0..size.queues)
        .map(|i| {
            let name = queue_name(i);
            let seed = i as u64;
            let produce = 2.0 + 60.0 * unit(&[seed, 1]);
            let (visible, consume) = match i % 10 {
                // A dead-letter queue: empty, but for a few collecting what their sources gave up on.
                9 if i % 50 == 9 => (3 + step / 30, 0.0),
                9 => (0, 0.0),
                // One queue in twenty backs up behind failing consumers, then drains.
                _ if i % 20 == 1 => {
                    let t = tide(step, 240, seed * 17);
                    ((produce * 600.0 * t) as u64 + 50, produce * (1.0 - t))
                }
                _ => {
                    let wobble = 1.0 + 0.05 * ((step as f64 / 20.0 + seed as f64).sin());
                    ((produce * 4.0 * wobble) as u64, produce)
                }
            };
            let dlq_index = i - i % 10 + 9;
            QueueInfo {
                url: format!("https://sqs.us-east-1.amazonaws.com/123456789012/{name}"),
                arn: format!("arn:aws:sqs:us-east-1:123456789012:{name}"),
                created: Some(1_700_000_000 + seed * 3_600),
                visible,
                in_flight: (consume * 3.0) as u64,
                delayed: 0,
                retention_secs: 4 * 86_400,
                oldest_age_secs: Some(visible as f64 / produce.max(0.1)),
                sent_per_s: Some(produce),
                deleted_per_s: Some(consume),
                dlq: (i % 10 != 9 && dlq_index < size.queues).then(|| DlqRef {
                    name: queue_name(dlq_index),
                    arn: format!("arn:aws:sqs:us-east-1:123456789012:{}", queue_name(dlq_index)),
                    max_receive_count: 5,
                    depth: None,
                }),
                dlq_of: if i % 10 == 9 {
                    (i - 9..i).map(queue_name).collect()
                } else {
                    Vec::new()
                },
                name,
                ..QueueInfo::default()
            }
        })
        .collect();
    QueuesPoll {
        queues,
        ..QueuesPoll::default()
    }
}
