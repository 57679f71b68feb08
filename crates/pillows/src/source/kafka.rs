//! Kafka offsets for pillows: partitions, log start/end offsets in batched requests, and consumer-group
//! committed offsets read without joining the group (no rebalance).
//!
//! rdkafka's calls for these are blocking, so each runs in `spawn_blocking` with its own timeout.

use opsdeck_core::source_error::{ErrorKind, SourceError};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::{ClientConfig, ClientContext};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A topic partition.
pub type Tp = (String, i32);

/// Log start (first retained offset) and log end (high watermark) of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Watermarks {
    pub log_start: Option<i64>,
    pub log_end: Option<i64>,
}

/// A client's context: remembers the last failures librdkafka reported outside any call. A wrong SASL
/// password or security protocol fails a call only as "broker transport failure"; the reasons come as
/// error events and as `FAIL` log lines, and go into the call's error message (see [`call`]).
#[derive(Default)]
struct Reasons(Mutex<VecDeque<Reason>>);

/// One distinct reason, as last reported.
struct Reason {
    at: Instant,
    text: String,
    /// From the error event's code; `None` for a log line, which has none.
    kind: Option<ErrorKind>,
    /// "1/1 brokers are down": what the failures add up to, said again after every one of them.
    consequence: bool,
}

/// What a client was told since a call began.
#[derive(Debug, PartialEq)]
struct Told {
    /// Distinct reasons, oldest first, `; `-separated: the causes, or when none came, the consequence.
    text: String,
    kinds: Vec<ErrorKind>,
    /// Whether a cause was told, not only that the brokers are down.
    cause: bool,
}

/// How many distinct reasons a client remembers.
const REASONS_KEPT: usize = 16;

impl Reasons {
    /// Keeps `text` once: said again, it moves to the back with its new time (librdkafka says "1/1
    /// brokers are down" after every failed connection; kept each time, it pushed the cause out).
    fn remember(&self, text: &str, kind: Option<ErrorKind>, consequence: bool) {
        // "[thrd:ssl://host:9093/bootstrap]: " starts a log line, not the error event of the same failure.
        let text = match text.strip_prefix("[thrd:") {
            Some(rest) => rest.split_once("]: ").map_or(text, |(_, t)| t),
            None => text,
        };
        // "… (after 302ms in state AUTH_REQ, 1 identical error(s) suppressed)": the same reason.
        let text = text.split(" (after ").next().unwrap_or(text);
        let Ok(mut recent) = self.0.lock() else { return };
        let mut kind = kind;
        if let Some(i) = recent.iter().position(|r| r.text == text) {
            let earlier = recent.remove(i).and_then(|r| r.kind);
            kind = kind.or(earlier);
        }
        if recent.len() == REASONS_KEPT {
            recent.pop_front();
        }
        recent.push_back(Reason {
            at: Instant::now(),
            text: text.to_string(),
            kind,
            consequence,
        });
    }

    /// What was told since `since`.
    fn since(&self, since: Instant) -> Option<Told> {
        let recent = self.0.lock().ok()?;
        let fresh = || recent.iter().filter(|r| r.at >= since);
        let cause = fresh().any(|r| !r.consequence);
        let told: Vec<&Reason> = fresh().filter(|r| r.consequence != cause).collect();
        (!told.is_empty()).then(|| Told {
            text: told.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("; "),
            kinds: told.iter().filter_map(|r| r.kind).collect(),
            cause,
        })
    }
}

impl ClientContext for Reasons {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        use RDKafkaLogLevel as L;
        match level {
            L::Emerg | L::Alert | L::Critical | L::Error => tracing::error!("librdkafka {facility}: {line}"),
            L::Warning => tracing::warn!("librdkafka {facility}: {line}"),
            L::Notice | L::Info => tracing::info!("librdkafka {facility}: {line}"),
            L::Debug => tracing::debug!("librdkafka {facility}: {line}"),
        }
        // A connection's end is logged as FAIL, and comes as an error event too only at error level.
        // A broker that hangs up on a request (a TLS listener spoken to in plaintext) is logged at
        // info: without the line, the call says only "1/1 brokers are down".
        if facility == "FAIL" && !matches!(level, L::Debug) {
            self.remember(line, None, false);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::error!("librdkafka: {error}: {reason}");
        let consequence = error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown);
        self.remember(reason, Some(kind_of(&error)), consequence);
    }
}

impl ConsumerContext for Reasons {}

type Client = BaseConsumer<Reasons>;

/// Probe clients for one Kafka cluster. Cheap to clone; clients are made on first use and reused.
#[derive(Clone)]
pub struct KafkaOffsets {
    brokers: String,
    properties: BTreeMap<String, String>,
    timeout: Duration,
    probe: Arc<Mutex<Option<Arc<Client>>>>,
    groups: Arc<Mutex<HashMap<String, Arc<Client>>>>,
}

impl std::fmt::Debug for KafkaOffsets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaOffsets")
            .field("brokers", &self.brokers)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn kafka_error(what: &str, e: KafkaError) -> SourceError {
    SourceError::new(kind_of(&e), format!("Kafka {what}: {e}"))
}

/// What a librdkafka error means for the poll, by its code.
fn kind_of(e: &KafkaError) -> ErrorKind {
    use RDKafkaErrorCode as C;
    match e.rdkafka_error_code() {
        Some(
            C::Authentication
            | C::SaslAuthenticationFailed
            | C::TopicAuthorizationFailed
            | C::GroupAuthorizationFailed
            | C::ClusterAuthorizationFailed
            | C::TransactionalIdAuthorizationFailed,
        ) => ErrorKind::Unauthorised,
        Some(C::OperationTimedOut | C::RequestTimedOut | C::MessageTimedOut) => ErrorKind::Timeout,
        Some(
            C::UnknownTopicOrPartition
            | C::UnknownTopic
            | C::UnknownPartition
            | C::UnsupportedFeature
            | C::UnsupportedVersion
            | C::InvalidArgument,
        ) => ErrorKind::Refused,
        Some(C::BadMessage | C::BadCompression | C::InvalidMessage) => ErrorKind::BadAnswer,
        // Transport failures, brokers down, names that do not resolve, and whatever else the
        // cluster side may recover from.
        _ => ErrorKind::Unreachable,
    }
}

/// How long to wait before asking again for a group whose coordinator is not ready.
const COORDINATOR_RETRY: Duration = Duration::from_millis(200);

/// Whether `e` is a group coordinator that is moving or loading: retriable, by Kafka's protocol.
fn coordinator_not_ready(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    matches!(
        e.rdkafka_error_code(),
        Some(Code::NotCoordinator | Code::CoordinatorLoadInProgress | Code::CoordinatorNotAvailable)
    )
}

/// How far back a reported reason still explains a failed call.
const REASON_LOOKBACK: Duration = Duration::from_secs(30);
/// How long a failed call waits for its reason.
const REASON_WAIT: Duration = Duration::from_millis(500);

/// Runs one librdkafka call on `client`, then serves the client's queue: librdkafka delivers its log
/// lines and error events only to a client that polls, and these clients never consume (unserved, the
/// queue would also grow for as long as the client lives). A failure carries the reason librdkafka gave
/// meanwhile: a refused SASL login says so, not just "broker transport failure".
fn call<T>(client: &Client, what: &str, f: impl FnOnce(&Client) -> KafkaResult<T>) -> Result<T, SourceError> {
    let asked = Instant::now();
    let result = f(client);
    // Each zero-timeout poll serves one pending event (never a message: nothing is subscribed); a
    // broker failing fast can queue dozens.
    for _ in 0..256 {
        let _ = client.poll(Duration::ZERO);
    }
    // The reason may have been served during an earlier call of this client (librdkafka reports a
    // failing connection once, then suppresses identical errors): recent ones still explain this one.
    let recent = asked.checked_sub(REASON_LOOKBACK).unwrap_or(asked);
    // A call can fail (no broker usable within its time) a moment before the broker thread queues
    // the reason (a refused TLS handshake): a failure waits briefly for a cause.
    if result.is_err() {
        let until = Instant::now() + REASON_WAIT;
        while !client.context().since(recent).is_some_and(|t| t.cause) && Instant::now() < until {
            let _ = client.poll(Duration::from_millis(20));
        }
    }
    result.map_err(|e| {
        let error = kafka_error(what, e);
        match client.context().since(recent) {
            Some(told) => {
                // A refused login fails the call only as "broker transport failure": the reason says
                // it was the credentials.
                let kind = if told.kinds.contains(&ErrorKind::Unauthorised) {
                    ErrorKind::Unauthorised
                } else {
                    error.kind
                };
                SourceError::new(kind, format!("{error}: {}", told.text))
            }
            None => error,
        }
    })
}

impl KafkaOffsets {
    pub fn new(brokers: &str, properties: BTreeMap<String, String>, timeout: Duration) -> Self {
        Self {
            brokers: brokers.to_string(),
            properties,
            timeout,
            probe: Arc::default(),
            groups: Arc::default(),
        }
    }

    pub fn brokers(&self) -> &str {
        &self.brokers
    }

    fn client(&self, group: &str) -> Result<Client, SourceError> {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", &self.brokers)
            .set("client.id", "opsdeck")
            // The probe reads offsets only: never commit on its own, never join.
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // HWM rather than the last stable offset.
            .set("isolation.level", "read_uncommitted")
            .set("socket.timeout.ms", self.timeout.as_millis().max(10).to_string())
            .set("group.id", group)
            // Info, whatever the log file's level: a broker hanging up on a request is reported
            // only at info (see `Reasons::log`).
            .set_log_level(RDKafkaLogLevel::Info);
        for (k, v) in &self.properties {
            cfg.set(k, v);
        }
        cfg.create_with_context(Reasons::default())
            // A property librdkafka does not take: the config's to fix.
            .map_err(|e| SourceError::refused(format!("Kafka client setup: {e}")))
    }

    fn probe(&self) -> Result<Arc<Client>, SourceError> {
        let mut slot = self
            .probe
            .lock()
            .map_err(|_| SourceError::internal("Kafka probe lock poisoned"))?;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        // A group id is required by librdkafka for some calls; this one is never joined or committed to.
        let c = Arc::new(self.client("opsdeck-probe")?);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// A client whose `group.id` is `group`: OffsetFetch/OffsetCommit only, it never subscribes, so the
    /// group sees no new member and does not rebalance.
    fn group_client(&self, group: &str) -> Result<Arc<Client>, SourceError> {
        let mut map = self
            .groups
            .lock()
            .map_err(|_| SourceError::internal("Kafka group lock poisoned"))?;
        if let Some(c) = map.get(group) {
            return Ok(c.clone());
        }
        let c = Arc::new(self.client(group)?);
        map.insert(group.to_string(), c.clone());
        Ok(c)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
    ) -> Result<T, SourceError> {
        // The rdkafka call has its own timeout; this one also bounds client creation and a stuck thread.
        let limit = self.timeout + Duration::from_secs(2);
        match tokio::time::timeout(limit, tokio::task::spawn_blocking(f)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(SourceError::internal(format!("Kafka {what}: worker failed: {e}"))),
            Err(_) => Err(SourceError::timeout(format!(
                "Kafka {what}: no answer from {} within {}",
                self.brokers,
                humantime::format_duration(limit)
            ))),
        }
    }

    /// Partitions of `topics` (one Metadata request for all topics; asking for all topics rather than
    /// each by name never auto-creates a topic). Topics Kafka does not know are left out.
    pub async fn partitions(&self, topics: Vec<String>) -> Result<BTreeMap<String, Vec<i32>>, SourceError> {
        let this = self.clone();
        self.blocking("metadata", move || {
            let probe = this.probe()?;
            let md = call(&probe, &format!("metadata from {}", this.brokers), |c| {
                c.fetch_metadata(None, this.timeout)
            })?;
            let mut out = BTreeMap::new();
            for topic in &topics {
                let Some(t) = md.topics().iter().find(|t| t.name() == topic && t.error().is_none()) else {
                    continue;
                };
                let mut ps: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
                ps.sort_unstable();
                out.insert(topic.clone(), ps);
            }
            Ok(out)
        })
        .await
    }

    /// Log start and end offsets of every partition in `tps`: one ListOffsets request per leader
    /// broker for the ends and one for the starts (`offsets_for_times` with LATEST/EARLIEST), not one
    /// per partition as `fetch_watermarks` would.
    pub async fn watermarks(&self, tps: Vec<Tp>) -> Result<HashMap<Tp, Watermarks>, SourceError> {
        if tps.is_empty() {
            return Ok(HashMap::new());
        }
        let this = self.clone();
        self.blocking("list offsets", move || {
            let probe = this.probe()?;
            let mut out: HashMap<Tp, Watermarks> = HashMap::with_capacity(tps.len());
            for (which, offset) in [("end", Offset::End), ("start", Offset::Beginning)] {
                let mut tpl = TopicPartitionList::with_capacity(tps.len());
                for (t, p) in &tps {
                    tpl.add_partition_offset(t, *p, offset)
                        .map_err(|e| kafka_error("offset list", e))?;
                }
                let answer = call(&probe, &format!("log {which} offsets from {}", this.brokers), |c| {
                    c.offsets_for_times(tpl, this.timeout)
                })?;
                for el in answer.elements() {
                    let value = match (el.error(), el.offset()) {
                        (Ok(()), Offset::Offset(o)) => Some(o),
                        _ => None,
                    };
                    let w = out.entry((el.topic().to_string(), el.partition())).or_default();
                    match which {
                        "end" => w.log_end = value,
                        _ => w.log_start = value,
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// Committed offsets of `group` for `tps` (FindCoordinator + OffsetFetch; never JoinGroup).
    /// `None` for a partition the group never committed.
    pub async fn committed(&self, group: &str, tps: Vec<Tp>) -> Result<HashMap<Tp, Option<i64>>, SourceError> {
        let this = self.clone();
        let group = group.to_string();
        self.blocking("offset fetch", move || {
            let client = this.group_client(&group)?;
            let mut tpl = TopicPartitionList::with_capacity(tps.len());
            for (t, p) in &tps {
                tpl.add_partition(t, *p);
            }
            let answer = call(&client, &format!("committed offsets of group {group:?}"), |c| {
                // A group the cluster has just heard of has no coordinator for a moment (Kafka's
                // own clients retry these): asked again, within the same time limit.
                let deadline = Instant::now() + this.timeout;
                loop {
                    match c.committed_offsets(tpl.clone(), this.timeout) {
                        Err(e) if coordinator_not_ready(&e) && Instant::now() + COORDINATOR_RETRY < deadline => {
                            std::thread::sleep(COORDINATOR_RETRY);
                        }
                        answer => return answer,
                    }
                }
            })?;
            Ok(answer
                .elements()
                .iter()
                .map(|el| {
                    let v = match el.offset() {
                        Offset::Offset(o) => Some(o),
                        _ => None,
                    };
                    ((el.topic().to_string(), el.partition()), v)
                })
                .collect())
        })
        .await
    }

    /// How many members `group` has; `Ok(None)` when the broker cannot say (librdkafka's mock cluster
    /// has no DescribeGroups).
    pub async fn group_members(&self, group: &str) -> Result<Option<usize>, SourceError> {
        let this = self.clone();
        let group = group.to_string();
        self.blocking("describe group", move || {
            let probe = this.probe()?;
            match probe.fetch_group_list(Some(&group), this.timeout) {
                Ok(list) => Ok(Some(
                    list.groups()
                        .iter()
                        .filter(|g| g.name() == group)
                        .map(|g| g.members().len())
                        .sum(),
                )),
                Err(KafkaError::GroupListFetch(RDKafkaErrorCode::UnsupportedFeature)) => Ok(None),
                Err(e) => Err(kafka_error(&format!("describe group {group:?}"), e)),
            }
        })
        .await
    }

    /// Commits `offsets` for `group` as a standalone (simple) commit. Kafka itself refuses such a
    /// commit while the group has active members, which backs up our own member check.
    pub async fn commit(&self, group: &str, offsets: Vec<(String, i32, i64)>) -> Result<(), SourceError> {
        let this = self.clone();
        let group = group.to_string();
        self.blocking("offset commit", move || {
            let client = this.group_client(&group)?;
            let mut tpl = TopicPartitionList::with_capacity(offsets.len());
            for (t, p, o) in &offsets {
                tpl.add_partition_offset(t, *p, Offset::Offset(*o))
                    .map_err(|e| kafka_error("offset list", e))?;
            }
            call(&client, &format!("commit for group {group:?}"), |c| {
                c.commit(&tpl, CommitMode::Sync)
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::{Reasons, Told, coordinator_not_ready};
    use opsdeck_core::source_error::ErrorKind;
    use std::time::Instant;

    const HANDSHAKE: &str = "ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: error:0A000086:SSL \
                             routines::certificate verify failed";

    #[test]
    fn brokers_down_said_after_every_failure_never_pushes_the_cause_out() {
        // As CI met it: librdkafka re-bootstraps, and says it again after each failed connection.
        let reasons = Reasons::default();
        let asked = Instant::now();
        reasons.remember(
            &format!("{HANDSHAKE} (after 3ms in state SSL_HANDSHAKE)"),
            Some(ErrorKind::Unreachable),
            false,
        );
        for _ in 0..100 {
            reasons.remember("1/1 brokers are down", Some(ErrorKind::Unreachable), true);
        }
        assert_eq!(
            reasons.since(asked),
            Some(Told {
                text: HANDSHAKE.to_string(),
                kinds: vec![ErrorKind::Unreachable],
                cause: true
            })
        );
    }

    #[test]
    fn brokers_down_is_told_when_nothing_says_why() {
        let reasons = Reasons::default();
        let asked = Instant::now();
        assert_eq!(reasons.since(asked), None);
        reasons.remember("1/1 brokers are down", Some(ErrorKind::Unreachable), true);
        let told = reasons.since(asked).unwrap();
        assert_eq!((told.text.as_str(), told.cause), ("1/1 brokers are down", false));
    }

    #[test]
    fn a_log_line_and_the_error_event_of_one_failure_are_one_reason_with_the_events_kind() {
        let reasons = Reasons::default();
        let asked = Instant::now();
        let refused = "sasl_ssl://127.0.0.1:9094/bootstrap: SASL authentication error: Authentication failed";
        reasons.remember(refused, Some(ErrorKind::Unauthorised), false);
        reasons.remember(
            &format!("[thrd:sasl_ssl://127.0.0.1:9094/bootstrap]: {refused}"),
            None,
            false,
        );
        let told = reasons.since(asked).unwrap();
        assert_eq!(told.text, refused);
        assert_eq!(told.kinds, vec![ErrorKind::Unauthorised]);
    }

    #[test]
    fn distinct_causes_are_kept_oldest_first_and_the_oldest_go_beyond_the_bound() {
        let reasons = Reasons::default();
        let asked = Instant::now();
        for i in 0..super::REASONS_KEPT + 2 {
            reasons.remember(&format!("cause {i}"), None, false);
        }
        let told = reasons.since(asked).unwrap();
        assert!(told.text.starts_with("cause 2; cause 3;"), "{}", told.text);
        assert!(
            told.text.ends_with(&format!("cause {}", super::REASONS_KEPT + 1)),
            "{}",
            told.text
        );
    }
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode as Code;

    #[test]
    fn a_coordinator_not_ready_is_asked_again_and_nothing_else_is() {
        // As CI's doctor run met it on a group created a moment before.
        assert!(coordinator_not_ready(&KafkaError::MetadataFetch(Code::NotCoordinator)));
        assert!(coordinator_not_ready(&KafkaError::MetadataFetch(
            Code::CoordinatorLoadInProgress
        )));
        assert!(!coordinator_not_ready(&KafkaError::MetadataFetch(
            Code::BrokerTransportFailure
        )));
        assert!(!coordinator_not_ready(&KafkaError::MetadataFetch(
            Code::GroupAuthorizationFailed
        )));
    }
}
