//! Plain types of the Redis pane: what one poll read (server facts, slow log, latency spikes,
//! queues), each part with its own error, and the state the pane keeps between polls (the previous
//! counters for rates, each queue's recent lengths). `Serialize` gives `snapshot`'s JSON.

use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// What went wrong talking to an instance, by kind, in words (the server's own for refusals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct RedisError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No answer in time.
    Timeout,
    /// Could not connect, or the connection dropped.
    Unreachable,
    /// The TLS handshake failed (certificate not trusted, wrong name, refused client certificate).
    Tls,
    /// The server refused our credentials or this user's permission (`NOAUTH`, `WRONGPASS`, `NOPERM`).
    Unauthorised,
    /// The server answered with an error (`WRONGTYPE`, `ERR Background save already in progress`).
    Rejected,
    /// The answer was not what the command returns (or broke a size limit).
    BadAnswer,
    /// Our side could not start: a password variable unset, a CA file unreadable.
    Setup,
}

/// Longest error text kept (a server's words, a TLS reason).
const MAX_ERROR: usize = 1000;

impl RedisError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let mut message = message.into();
        if message.len() > MAX_ERROR {
            let mut end = MAX_ERROR;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        Self { kind, message }
    }

    /// An error answer from the server, classified by its code.
    pub fn from_reply(text: &str) -> Self {
        let code = text.split_whitespace().next().unwrap_or("");
        let kind = match code {
            "NOAUTH" | "WRONGPASS" | "NOPERM" => ErrorKind::Unauthorised,
            // `requirepass` without ACL users answers a bad password this way.
            _ if text.contains("invalid password") || text.contains("invalid username-password") => {
                ErrorKind::Unauthorised
            }
            _ => ErrorKind::Rejected,
        };
        Self::new(kind, text)
    }

    pub fn bad_answer(what: impl fmt::Display) -> Self {
        Self::new(ErrorKind::BadAnswer, format!("bad answer: {what}"))
    }

    /// The same error, saying what we were doing.
    pub fn context(self, doing: impl fmt::Display) -> Self {
        Self::new(self.kind, format!("{doing}: {}", self.message))
    }
}

/// A Redis key: bytes (kombu's priority lists hold control characters). Shown and serialised the
/// way redis-cli reads it back (`"celery\x06\x163"`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub Vec<u8>);

impl Key {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn with_suffix(&self, suffix: &[u8]) -> Key {
        let mut k = self.0.clone();
        k.extend_from_slice(suffix);
        Key(k)
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key(s.as_bytes().to_vec())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&cli_word(&self.0))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One word as a person types it into redis-cli: plain words bare, others in double quotes with
/// `\"`, `\\`, `\n`, `\r`, `\t` and `\xHH` escapes (what redis-cli reads back).
pub fn cli_word(word: &[u8]) -> String {
    let plain = !word.is_empty()
        && word
            .iter()
            .all(|&b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'));
    if plain {
        return String::from_utf8_lossy(word).into_owned();
    }
    let mut s = String::from("\"");
    for &b in word {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b' '..=b'~' => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// Cumulative CPU seconds (`INFO cpu`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CpuTimes {
    pub sys: f64,
    pub user: f64,
    /// Redis 6.2+: the main thread alone (what saturates at one core with I/O threads on).
    pub sys_main_thread: Option<f64>,
    pub user_main_thread: Option<f64>,
}

impl CpuTimes {
    /// Seconds of the main thread when the server tells them, else of the whole process; and which.
    pub fn busiest(&self) -> (f64, CpuSource) {
        match (self.sys_main_thread, self.user_main_thread) {
            (Some(s), Some(u)) => (s + u, CpuSource::MainThread),
            _ => (self.sys + self.user, CpuSource::Process),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuSource {
    MainThread,
    Process,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Memory {
    pub used: u64,
    /// 0: no limit.
    pub maxmemory: u64,
    pub policy: String,
    pub rss: Option<u64>,
    pub total_system: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// The server's own estimate over its last ~1.6 s.
    pub instantaneous_ops_per_sec: u64,
    pub total_commands_processed: u64,
    pub evicted_keys: u64,
    pub expired_keys: u64,
    pub rejected_connections: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Clients {
    pub connected: u64,
    pub blocked: u64,
    pub maxclients: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Persistence {
    /// Loading the dataset at start: commands wait.
    pub loading: bool,
    /// Unix time of the last successful save.
    pub rdb_last_save_time: i64,
    pub rdb_bgsave_in_progress: bool,
    /// `ok` or `err`.
    pub rdb_last_bgsave_status: String,
    /// Redis 7+: saves since start (a save in the same second still counts).
    pub rdb_saves: Option<u64>,
    pub rdb_changes_since_last_save: u64,
    /// Seconds the running BGSAVE has taken (-1: none).
    pub rdb_current_bgsave_time_sec: i64,
    /// Redis 7+: keys written and to write by the running save.
    pub current_save_keys_processed: Option<u64>,
    pub current_save_keys_total: Option<u64>,
    pub aof_enabled: bool,
    pub aof_rewrite_in_progress: bool,
    pub aof_last_write_status: String,
    pub aof_last_bgrewrite_status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Master,
    Replica,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replica {
    pub ip: String,
    pub port: u16,
    /// `online`, `wait_bgsave`, `send_bulk`, ...
    pub state: String,
    pub offset: i64,
    /// Seconds since its last acknowledgement.
    pub lag: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    /// `up` or `down`.
    pub link_status: String,
    /// Seconds since the last interaction with the master (-1: never).
    pub last_io_seconds_ago: i64,
    pub sync_in_progress: bool,
    /// Seconds the link has been down, when it is.
    pub down_since_seconds: Option<u64>,
    pub offset: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Replication {
    pub role: Role,
    pub master_repl_offset: i64,
    pub replicas: Vec<Replica>,
    /// When this instance is a replica: its master.
    pub master: Option<MasterLink>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DbKeys {
    pub db: u32,
    pub keys: u64,
    pub expires: u64,
}

/// The facts `INFO` gives.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServerInfo {
    pub version: String,
    /// `standalone`, `cluster` or `sentinel`.
    pub mode: String,
    /// Changes when the server restarts: a plan made before acts on another server.
    pub run_id: String,
    pub uptime_secs: u64,
    /// The server's clock (microseconds), for rates between polls.
    pub server_time_usec: Option<u64>,
    pub cpu: CpuTimes,
    pub memory: Memory,
    pub stats: Stats,
    pub clients: Clients,
    pub persistence: Persistence,
    pub replication: Replication,
    pub cluster_enabled: bool,
    pub keyspace: Vec<DbKeys>,
}

impl ServerInfo {
    /// `(major, minor)` of the version, when it reads.
    pub fn version_at_least(&self, major: u32, minor: u32) -> bool {
        let mut parts = self.version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        have >= (major, minor)
    }
}

/// One `SLOWLOG GET` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlowEntry {
    pub id: i64,
    /// Unix time it ran.
    pub at: i64,
    pub duration_us: i64,
    /// Its words (the server cuts long ones: "... (N more bytes)").
    pub args: Vec<String>,
    pub client: String,
    pub client_name: String,
}

impl SlowEntry {
    /// A `KEYS` call: O(N) over the keyspace, the runbook-003 smell.
    pub fn is_keys(&self) -> bool {
        self.args.first().is_some_and(|c| c.eq_ignore_ascii_case("keys"))
    }

    pub fn command_line(&self) -> String {
        self.args.join(" ")
    }
}

/// One `LATENCY LATEST` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LatencyEvent {
    pub event: String,
    /// Unix time of the latest spike.
    pub at: i64,
    pub latest_ms: u64,
    pub max_ms: u64,
}

/// Which layout a queue follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// A Celery (kombu) queue: its list plus kombu's priority lists.
    Celery,
    Resque,
    /// Resque's failed jobs list.
    ResqueFailed,
    Sidekiq,
    /// A list named in the config, or matched by a pattern.
    List,
    /// A backup made by opsdeck (`KEY:opsdeck-backup:TIME`).
    Backup,
}

impl QueueKind {
    pub fn label(self) -> &'static str {
        match self {
            QueueKind::Celery => "celery",
            QueueKind::Resque => "resque",
            QueueKind::ResqueFailed => "resque failed",
            QueueKind::Sidekiq => "sidekiq",
            QueueKind::List => "list",
            QueueKind::Backup => "backup",
        }
    }
}

/// One list of a queue, as read this poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListReading {
    pub key: Key,
    /// What `TYPE` said: `list`, `none` (absent: an empty list does not exist), or another type.
    #[serde(rename = "type")]
    pub key_type: String,
    pub len: u64,
}

/// A queue as read this poll: its lists and their total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueReading {
    /// The name people use (`celery`, `default`, or the key).
    pub name: String,
    pub kind: QueueKind,
    /// The namespace (Resque, Sidekiq) it was found under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Which end producers push to: a re-queue pushes there.
    pub push_end: crate::config::End,
    pub lists: Vec<ListReading>,
    /// For a backup: the list it was moved from (where a re-queue returns it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Key>,
    /// Why it could not be read (a key of another type, a refused permission).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Found by a pattern (not named by the config or a layout): dropped when it is not a list.
    #[serde(skip)]
    pub matched: bool,
}

impl QueueReading {
    pub fn total(&self) -> u64 {
        self.lists.iter().map(|l| l.len).sum()
    }

    /// The row's identity in the pane (kind and name are unique per instance).
    pub fn id(&self) -> String {
        format!(
            "{}:{}:{}",
            self.kind.label(),
            self.namespace.as_deref().unwrap_or(""),
            self.name
        )
    }

    /// Lists holding items now.
    pub fn non_empty(&self) -> impl Iterator<Item = &ListReading> {
        self.lists.iter().filter(|l| l.len > 0)
    }
}

/// A part of a poll that failed while the others were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartError {
    /// What was being read (`SLOWLOG GET`, `resque set resque:queues`).
    pub part: String,
    pub error: RedisError,
}

/// One poll of one instance: each part succeeded or failed on its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstancePoll {
    /// Unix time (seconds) on our clock when the poll finished.
    pub polled_at: f64,
    pub info: Result<ServerInfo, RedisError>,
    pub slowlog: Result<Vec<SlowEntry>, RedisError>,
    pub latency: Result<Vec<LatencyEvent>, RedisError>,
    pub queues: Vec<QueueReading>,
    /// Discovery or reading steps that failed (the queues found otherwise are shown).
    pub queue_errors: Vec<PartError>,
}

/// The counters rates are made from, as of one poll.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Counters {
    /// Seconds, on the server's clock when it tells it, else ours.
    pub at: f64,
    pub cpu_secs: f64,
    pub cpu_source: CpuSource,
    pub commands: u64,
    pub evicted: u64,
    pub rejected: u64,
}

impl Counters {
    pub fn of(info: &ServerInfo, polled_at: f64) -> Self {
        let (cpu_secs, cpu_source) = info.cpu.busiest();
        Self {
            at: info.server_time_usec.map(|us| us as f64 / 1e6).unwrap_or(polled_at),
            cpu_secs,
            cpu_source,
            commands: info.stats.total_commands_processed,
            evicted: info.stats.evicted_keys,
            rejected: info.stats.rejected_connections,
        }
    }
}

/// A queue's length at one time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Unix seconds.
    pub at: f64,
    pub len: u64,
}

impl opsdeck_core::backlog::Backlog for Sample {
    fn at(&self) -> f64 {
        self.at
    }
    fn backlog(&self) -> u64 {
        self.len
    }
}

/// Most samples kept per queue (at a 1 s refresh, ten minutes and more).
pub const HISTORY: usize = 720;

/// A queue and its recent lengths.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueState {
    #[serde(flatten)]
    pub reading: QueueReading,
    #[serde(skip)]
    pub history: VecDeque<Sample>,
}

/// What the pane knows of one instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InstanceState {
    pub name: String,
    pub address: String,
    /// Unix time of the last poll that reached the server.
    pub polled_at: Option<f64>,
    /// Why the last poll failed as a whole (the data below is then from the last good one).
    pub error: Option<RedisError>,
    pub info: Option<ServerInfo>,
    pub info_error: Option<RedisError>,
    /// The counters of the poll before the last and of the last (rates come from the two).
    #[serde(skip)]
    pub counters: (Option<Counters>, Option<Counters>),
    pub slowlog: Vec<SlowEntry>,
    pub slowlog_error: Option<RedisError>,
    pub latency: Vec<LatencyEvent>,
    pub latency_error: Option<RedisError>,
    pub queues: Vec<QueueState>,
    pub queue_errors: Vec<PartError>,
}

impl InstanceState {
    pub fn new(name: &str, address: &str) -> Self {
        Self {
            name: name.into(),
            address: address.into(),
            ..Default::default()
        }
    }

    /// Takes in one poll: a failed poll keeps the last good data beside its error.
    pub fn apply(&mut self, poll: Result<InstancePoll, RedisError>) {
        let poll = match poll {
            Ok(p) => p,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        self.error = None;
        self.polled_at = Some(poll.polled_at);
        match poll.info {
            Ok(info) => {
                let now = Counters::of(&info, poll.polled_at);
                let restarted = self.info.as_ref().is_some_and(|old| old.run_id != info.run_id);
                let before = if restarted { None } else { self.counters.1 };
                self.counters = (before, Some(now));
                self.info = Some(info);
                self.info_error = None;
            }
            Err(e) => self.info_error = Some(e),
        }
        match poll.slowlog {
            Ok(s) => {
                self.slowlog = s;
                self.slowlog_error = None;
            }
            Err(e) => self.slowlog_error = Some(e),
        }
        match poll.latency {
            Ok(l) => {
                self.latency = l;
                self.latency_error = None;
            }
            Err(e) => self.latency_error = Some(e),
        }
        let mut old: BTreeMap<String, VecDeque<Sample>> = std::mem::take(&mut self.queues)
            .into_iter()
            .map(|q| (q.reading.id(), q.history))
            .collect();
        self.queues = poll
            .queues
            .into_iter()
            .map(|reading| {
                let mut history = old.remove(&reading.id()).unwrap_or_default();
                if reading.error.is_none() {
                    history.push_back(Sample {
                        at: poll.polled_at,
                        len: reading.total(),
                    });
                    while history.len() > HISTORY {
                        history.pop_front();
                    }
                }
                QueueState { reading, history }
            })
            .collect();
        self.queue_errors = poll.queue_errors;
    }

    pub fn queue(&self, id: &str) -> Option<&QueueState> {
        self.queues.iter().find(|q| q.reading.id() == id)
    }
}

/// What the pane knows of every instance, in config order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RedisState {
    pub instances: Vec<InstanceState>,
}

/// One instance's part of a poll.
#[derive(Debug, Clone)]
pub struct InstanceResult {
    pub name: String,
    /// As configured (`rediss://cache-1:6380`), never with a password.
    pub address: String,
    pub result: Result<InstancePoll, RedisError>,
}

/// One poll of every instance, in config order.
pub type RedisPoll = Vec<InstanceResult>;

impl RedisState {
    pub fn instance(&self, name: &str) -> Option<&InstanceState> {
        self.instances.iter().find(|i| i.name == name)
    }
}

impl opsdeck_core::feed::FeedData for RedisState {
    type Poll = RedisPoll;

    /// Each instance keeps its last good data beside its own error; instances no longer polled
    /// (taken out of the config) are dropped.
    fn absorb(current: &mut Option<Self>, poll: RedisPoll, _at: std::time::SystemTime) {
        let old = current.take().unwrap_or_default();
        let mut old: BTreeMap<String, InstanceState> = old.instances.into_iter().map(|i| (i.name.clone(), i)).collect();
        let instances = poll
            .into_iter()
            .map(|r| {
                let mut inst = old
                    .remove(&r.name)
                    .unwrap_or_else(|| InstanceState::new(&r.name, &r.address));
                inst.address = r.address;
                inst.apply(r.result);
                inst
            })
            .collect();
        *current = Some(RedisState { instances });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_json_shows_keys_as_redis_cli_reads_them_and_keeps_a_failed_part_beside_the_rest() {
        let mut st = InstanceState::new("broker", "redis://127.0.0.1:6379");
        st.apply(Ok(InstancePoll {
            polled_at: 10.0,
            info: Err(RedisError::from_reply(
                "NOPERM this user has no permissions to run the 'info' command",
            )),
            slowlog: Ok(vec![]),
            latency: Ok(vec![]),
            queues: vec![QueueReading {
                name: "celery".into(),
                kind: QueueKind::Celery,
                namespace: None,
                push_end: crate::config::End::Left,
                lists: vec![ListReading {
                    key: Key(b"celery\x06\x163".to_vec()),
                    key_type: "list".into(),
                    len: 7,
                }],
                origin: None,
                error: None,
                matched: false,
            }],
            queue_errors: vec![],
        }));
        let json = serde_json::to_value(&st).unwrap();
        assert_eq!(json["queues"][0]["lists"][0]["key"], r#""celery\x06\x163""#);
        assert_eq!(json["queues"][0]["lists"][0]["len"], 7);
        assert_eq!(json["queues"][0]["kind"], "celery");
        assert_eq!(json["info_error"]["kind"], "unauthorised");
        assert_eq!(st.queue("celery::celery").unwrap().history.len(), 1);
    }
}
