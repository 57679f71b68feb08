//! Model of SQS queues and DynamoDB tables: what one poll saw, plus a bounded history of backlog
//! samples per queue (for trends and time to drain, see `analysis::queues`).

use opsdeck_core::feed::FeedData;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

/// Backlog samples kept per queue: 120 polls (20 minutes at the default 10 s refresh).
pub const HISTORY: usize = 120;

/// One queue as one poll saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueInfo {
    pub name: String,
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub arn: String,
    /// CreatedTimestamp (seconds since the epoch): a queue deleted and made again under the same
    /// URL has another one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// ApproximateNumberOfMessages.
    pub visible: u64,
    /// ApproximateNumberOfMessagesNotVisible: received, not yet deleted.
    pub in_flight: u64,
    /// ApproximateNumberOfMessagesDelayed.
    pub delayed: u64,
    /// MessageRetentionPeriod: messages older than this are deleted by SQS.
    pub retention_secs: u64,
    /// CloudWatch ApproximateAgeOfOldestMessage (latest datapoint); `None` when CloudWatch had none.
    pub oldest_age_secs: Option<f64>,
    /// CloudWatch NumberOfMessagesSent per second (latest minute): what producers add.
    pub sent_per_s: Option<f64>,
    /// CloudWatch NumberOfMessagesDeleted per second (latest minute): what consumers finish.
    pub deleted_per_s: Option<f64>,
    /// The dead-letter queue named by this queue's RedrivePolicy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dlq: Option<DlqRef>,
    /// Queues whose RedrivePolicy sends their dead letters here (this queue is a DLQ).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dlq_of: Vec<String>,
    /// Why this queue could not be read this poll (unknown queue, access denied...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The kind of `error` (when every row failed, the source's error is the first one's).
    #[serde(skip)]
    pub error_kind: Option<opsdeck_core::source_error::ErrorKind>,
}

impl QueueInfo {
    /// Messages SQS holds for this queue, whatever their state.
    pub fn backlog(&self) -> u64 {
        self.visible + self.in_flight + self.delayed
    }
    pub fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }
}

/// A queue's dead-letter queue, from its RedrivePolicy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DlqRef {
    pub name: String,
    pub arn: String,
    pub max_receive_count: u64,
    /// Visible messages in the DLQ, when it could be read.
    pub depth: Option<u64>,
}

/// One backlog sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Seconds since the Unix epoch.
    pub at: f64,
    pub visible: u64,
    pub in_flight: u64,
}

impl opsdeck_core::backlog::Backlog for Sample {
    fn at(&self) -> f64 {
        self.at
    }
    fn backlog(&self) -> u64 {
        self.visible + self.in_flight
    }
}

/// A queue with its history.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueState {
    #[serde(flatten)]
    pub info: QueueInfo,
    /// Oldest first, at most [`HISTORY`] entries. Not in snapshot JSON (one poll has one sample).
    #[serde(skip)]
    pub history: VecDeque<Sample>,
}

/// A global secondary index of a table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GsiInfo {
    pub name: String,
    pub status: String,
    #[serde(flatten)]
    pub capacity: Capacity,
}

/// Provisioned and consumed capacity, and throttling, of a table or index.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Capacity {
    /// Provisioned read capacity units (`None` when on demand).
    pub rcu: Option<u64>,
    pub wcu: Option<u64>,
    /// Consumed units per second over the latest CloudWatch period.
    pub consumed_rcu: Option<f64>,
    pub consumed_wcu: Option<f64>,
    /// Read and write throttle events in the latest CloudWatch period.
    pub read_throttled: Option<f64>,
    pub write_throttled: Option<f64>,
}

impl Capacity {
    pub fn throttled(&self) -> Option<f64> {
        match (self.read_throttled, self.write_throttled) {
            (None, None) => None,
            (r, w) => Some(r.unwrap_or(0.0) + w.unwrap_or(0.0)),
        }
    }
}

/// One DynamoDB table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableInfo {
    pub name: String,
    /// ACTIVE, UPDATING, CREATING...
    pub status: String,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: String,
    #[serde(flatten)]
    pub capacity: Capacity,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gsis: Vec<GsiInfo>,
    pub item_count: Option<i64>,
    /// Provisioned decreases used today (AWS limits them per UTC day; increases are unlimited).
    pub decreases_today: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The kind of `error` (when every row failed, the source's error is the first one's).
    #[serde(skip)]
    pub error_kind: Option<opsdeck_core::source_error::ErrorKind>,
}

impl TableInfo {
    pub fn on_demand(&self) -> bool {
        self.billing_mode == "PAY_PER_REQUEST"
    }
}

/// What one poll returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueuesPoll {
    pub queues: Vec<QueueInfo>,
    pub tables: Vec<TableInfo>,
    /// Parts of the poll that failed while the rest worked (CloudWatch denied, a table missing...).
    pub warnings: Vec<String>,
}

/// SQS queues and DynamoDB tables as last seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueuesState {
    pub queues: Vec<QueueState>,
    pub tables: Vec<TableInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl QueuesState {
    pub fn queue(&self, name: &str) -> Option<&QueueState> {
        self.queues.iter().find(|q| q.info.name == name)
    }
    pub fn table(&self, name: &str) -> Option<&TableInfo> {
        self.tables.iter().find(|t| t.name == name)
    }
}

fn epoch_secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl FeedData for QueuesState {
    type Poll = QueuesPoll;

    fn absorb(current: &mut Option<Self>, poll: QueuesPoll, at: SystemTime) {
        let mut old: HashMap<String, VecDeque<Sample>> = current
            .take()
            .map(|s| s.queues.into_iter().map(|q| (q.info.url.clone(), q.history)).collect())
            .unwrap_or_default();
        let at = epoch_secs(at);
        let queues = poll
            .queues
            .into_iter()
            .map(|info| {
                let mut history = old.remove(&info.url).unwrap_or_default();
                // A queue that could not be read this poll keeps its history without a made-up sample.
                if info.error.is_none() {
                    if history.len() >= HISTORY {
                        history.pop_front();
                    }
                    history.push_back(Sample {
                        at,
                        visible: info.visible,
                        in_flight: info.in_flight,
                    });
                }
                QueueState { info, history }
            })
            .collect();
        *current = Some(QueuesState {
            queues,
            tables: poll.tables,
            warnings: poll.warnings,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn poll(visible: u64) -> QueuesPoll {
        QueuesPoll {
            queues: vec![QueueInfo {
                name: "upload".into(),
                url: "http://x/1/upload".into(),
                visible,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn history_is_bounded_and_follows_the_queue() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut state = None;
        for i in 0..(HISTORY as u64 + 5) {
            QueuesState::absorb(&mut state, poll(i), t0 + Duration::from_secs(i * 10));
        }
        let q = &state.as_ref().unwrap().queues[0];
        assert_eq!(q.history.len(), HISTORY);
        assert_eq!(q.history.back().unwrap().visible, HISTORY as u64 + 4);
        assert_eq!(q.history.front().unwrap().visible, 5);
        let mut failed = poll(0);
        failed.queues[0].error = Some("access denied".into());
        QueuesState::absorb(&mut state, failed, t0 + Duration::from_secs(5_000));
        let q = &state.as_ref().unwrap().queues[0];
        assert_eq!(q.history.len(), HISTORY, "a failed read adds no sample");
        assert_eq!(q.history.back().unwrap().visible, HISTORY as u64 + 4);
    }
}
