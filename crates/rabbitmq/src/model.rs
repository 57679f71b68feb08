//! Plain types for what the management API said, as the pane shows them and `snapshot` prints them.
//! Field names follow the API's JSON so the answers deserialise straight into them.

use serde::{Deserialize, Serialize};

/// One queue, from a `GET /api/queues?columns=…` page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub vhost: String,
    pub name: String,
    /// Absent on a queue whose process is down (`state` then says why).
    #[serde(default)]
    pub messages_ready: u64,
    #[serde(default)]
    pub messages_unacknowledged: u64,
    #[serde(default)]
    pub consumers: u64,
    /// When the queue last saw a publish, delivery or ack (absent while it is busy).
    #[serde(default)]
    pub idle_since: Option<String>,
    #[serde(default)]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub arguments: serde_json::Map<String, serde_json::Value>,
    /// `classic`, `quorum`, `stream`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub node: Option<String>,
    /// Absent until the queue has seen traffic since the stats were reset.
    #[serde(default)]
    pub message_stats: Option<QueueStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Messages published into the queue since it was declared (or stats last reset).
    #[serde(default)]
    pub publish: Option<u64>,
    #[serde(default)]
    pub publish_details: Option<Rate>,
    #[serde(default)]
    pub deliver_get_details: Option<Rate>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub rate: f64,
}

impl Queue {
    /// Messages published per second, as the server last measured it.
    pub fn publish_rate(&self) -> Option<f64> {
        self.message_stats.as_ref()?.publish_details.map(|r| r.rate)
    }
    /// Messages delivered (or fetched) per second.
    pub fn deliver_rate(&self) -> Option<f64> {
        self.message_stats.as_ref()?.deliver_get_details.map(|r| r.rate)
    }
    pub fn key(&self) -> QueueKey {
        QueueKey {
            vhost: self.vhost.clone(),
            name: self.name.clone(),
        }
    }
    /// Celery's own bookkeeping: event queues (`celeryev.*`) and remote-control mailboxes (`*.pidbox`).
    pub fn is_housekeeping(&self) -> bool {
        self.name.starts_with("celeryev.") || self.name.ends_with(".pidbox")
    }
}

/// A queue's address: names are unique within a vhost only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct QueueKey {
    pub vhost: String,
    pub name: String,
}

/// One node, from `GET /api/nodes?columns=…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    #[serde(default)]
    pub running: bool,
    #[serde(default)]
    pub mem_used: u64,
    /// The memory high watermark: above it the node blocks publishers.
    #[serde(default)]
    pub mem_limit: u64,
    #[serde(default)]
    pub mem_alarm: bool,
    #[serde(default)]
    pub disk_free: u64,
    /// Below this much free disk the node blocks publishers.
    #[serde(default)]
    pub disk_free_limit: u64,
    #[serde(default)]
    pub disk_free_alarm: bool,
    #[serde(default)]
    pub fd_used: u64,
    #[serde(default)]
    pub fd_total: u64,
    /// Milliseconds since the node started.
    #[serde(default)]
    pub uptime: u64,
}

/// The cluster's totals, from `GET /api/overview?columns=…`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    #[serde(default)]
    pub rabbitmq_version: String,
    #[serde(default)]
    pub cluster_name: String,
    #[serde(default)]
    pub queue_totals: QueueTotals,
    #[serde(default)]
    pub object_totals: ObjectTotals,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueTotals {
    #[serde(default)]
    pub messages: u64,
    #[serde(default)]
    pub messages_ready: u64,
    #[serde(default)]
    pub messages_unacknowledged: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectTotals {
    #[serde(default)]
    pub queues: u64,
    #[serde(default)]
    pub consumers: u64,
    #[serde(default)]
    pub connections: u64,
    #[serde(default)]
    pub channels: u64,
}

/// One page of `GET /api/queues?page=…`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueuePage {
    pub items: Vec<Queue>,
    pub page: u32,
    pub page_count: u32,
    #[serde(default)]
    pub filtered_count: u64,
}

/// A part of a poll: what was read, or why not (in words fit for the pane).
pub type Part<T> = Result<T, String>;

/// One poll of one instance: each part succeeded or failed on its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub instance: String,
    /// Milliseconds since the Unix epoch when the poll started.
    pub at_ms: u64,
    #[serde(serialize_with = "part")]
    pub overview: Part<Overview>,
    #[serde(serialize_with = "part")]
    pub nodes: Part<Vec<Node>>,
    #[serde(serialize_with = "part")]
    pub queues: Part<Vec<Queue>>,
    /// More queues exist than `max_queues`: the list is cut.
    pub queues_cut: bool,
}

/// A part as snapshot JSON shows it: what was read, or `{"error": "..."}` in its place.
fn part<T: Serialize, S: serde::Serializer>(p: &Part<T>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Failed<'a> {
        error: &'a str,
    }
    match p {
        Ok(v) => v.serialize(s),
        Err(e) => Failed { error: e }.serialize(s),
    }
}

/// A queue's ready count at one time (its trend comes from these, by core's backlog rules).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Unix seconds.
    pub at: f64,
    pub ready: u64,
}

impl opsdeck_core::backlog::Backlog for Sample {
    fn at(&self) -> f64 {
        self.at
    }
    fn backlog(&self) -> u64 {
        self.ready
    }
}

/// Most samples kept per queue (at a 1 s refresh, ten minutes and more).
pub const HISTORY: usize = 720;

/// What the pane knows of one instance: its last poll (each part read or not) and each queue's
/// recent ready counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceState {
    pub name: String,
    /// The management API as configured.
    pub url: String,
    /// Why the instance could not be polled at all (an unset password variable, a bad CA file).
    pub error: Option<String>,
    pub snapshot: Option<Snapshot>,
    #[serde(skip)]
    pub history: std::collections::BTreeMap<QueueKey, std::collections::VecDeque<Sample>>,
}

impl InstanceState {
    /// Takes in one poll; a queue's history survives while the queue is listed.
    pub fn apply(&mut self, result: Result<Snapshot, String>) {
        let snap = match result {
            Ok(s) => s,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        self.error = None;
        if let Ok(queues) = &snap.queues {
            let at = snap.at_ms as f64 / 1000.0;
            let mut old = std::mem::take(&mut self.history);
            for q in queues {
                let mut h = old.remove(&q.key()).unwrap_or_default();
                h.push_back(Sample {
                    at,
                    ready: q.messages_ready,
                });
                while h.len() > HISTORY {
                    h.pop_front();
                }
                self.history.insert(q.key(), h);
            }
        }
        self.snapshot = Some(snap);
    }

    /// The queues of the last poll that read them (none when that part failed).
    pub fn queues(&self) -> &[Queue] {
        self.snapshot
            .as_ref()
            .and_then(|s| s.queues.as_ref().ok())
            .map_or(&[], Vec::as_slice)
    }

    pub fn nodes(&self) -> &[Node] {
        self.snapshot
            .as_ref()
            .and_then(|s| s.nodes.as_ref().ok())
            .map_or(&[], Vec::as_slice)
    }

    pub fn queue(&self, key: &QueueKey) -> Option<&Queue> {
        self.queues().iter().find(|q| q.key() == *key)
    }

    /// Each listed queue's trend, by core's backlog rules (the same NET/s and DRAIN as every pane).
    pub fn trends(&self) -> std::collections::HashMap<QueueKey, opsdeck_core::backlog::Trend> {
        self.history
            .iter()
            .map(|(k, h)| (k.clone(), opsdeck_core::backlog::trend(h.iter())))
            .collect()
    }
}

/// One instance's part of a poll.
#[derive(Debug, Clone)]
pub struct InstanceResult {
    pub name: String,
    pub url: String,
    pub result: Result<Snapshot, String>,
}

/// One poll of every instance, in config order.
pub type RabbitmqPoll = Vec<InstanceResult>;

/// What the pane knows of every instance, in config order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RabbitmqState {
    pub instances: Vec<InstanceState>,
}

impl RabbitmqState {
    pub fn instance(&self, name: &str) -> Option<&InstanceState> {
        self.instances.iter().find(|i| i.name == name)
    }
}

impl opsdeck_core::feed::FeedData for RabbitmqState {
    type Poll = RabbitmqPoll;

    /// Each instance keeps its last good data beside its own error; instances no longer polled
    /// are dropped.
    fn absorb(current: &mut Option<Self>, poll: RabbitmqPoll, _at: std::time::SystemTime) {
        let mut old: std::collections::BTreeMap<String, InstanceState> = current
            .take()
            .unwrap_or_default()
            .instances
            .into_iter()
            .map(|i| (i.name.clone(), i))
            .collect();
        let instances = poll
            .into_iter()
            .map(|r| {
                let mut inst = old.remove(&r.name).unwrap_or_else(|| InstanceState {
                    name: r.name.clone(),
                    url: r.url.clone(),
                    error: None,
                    snapshot: None,
                    history: Default::default(),
                });
                inst.url = r.url;
                inst.apply(r.result);
                inst
            })
            .collect();
        *current = Some(RabbitmqState { instances });
    }
}
