//! What one poll of one server found: plain types, `Deserialize` from the JSON the server builds
//! (`json_agg`/`json_build_object`, see `source/sql/`), `Serialize` for snapshot JSON. Each part is read on
//! its own and may fail on its own (a refused view leaves the others shown).

use serde::{Deserialize, Serialize};

/// What went wrong reading a part, by kind, with the server's or client's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No answer in time (client-side timeout, or the server's `statement_timeout`).
    Timeout,
    /// No connection: refused, reset, no route, DNS.
    Unreachable,
    /// The TLS handshake failed: certificate not trusted, wrong name, server without TLS.
    Tls,
    /// The server said no: authentication, `pg_hba.conf`, a privilege.
    Refused,
    /// What was asked for is not there: a database, a table.
    Missing,
    /// An answer this code cannot read.
    BadAnswer,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::Tls => "tls",
            Self::Refused => "refused",
            Self::Missing => "missing",
            Self::BadAnswer => "bad answer",
        }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

pub type Part<T> = Result<T, ReadError>;

/// One poll of one server. In snapshot JSON a part that was read is its value, one that failed is
/// `{"error": {"kind": ..., "message": ...}}`, pillow errors not configured are `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerPoll {
    pub server: String,
    /// The whole poll failed before any part could be read (no connection): every part carries it too.
    #[serde(serialize_with = "part")]
    pub info: Part<ServerInfo>,
    #[serde(serialize_with = "part")]
    pub connections: Part<Connections>,
    #[serde(serialize_with = "part")]
    pub sessions: Part<Sessions>,
    #[serde(serialize_with = "part")]
    pub blocking: Part<Vec<BlockedSession>>,
    #[serde(serialize_with = "part")]
    pub replication: Part<Replication>,
    #[serde(serialize_with = "part")]
    pub databases: Part<Vec<DatabaseSize>>,
    /// `None` when no `pillow_errors_database` is configured.
    #[serde(serialize_with = "optional_part")]
    pub pillow_errors: Option<Part<Vec<PillowErrorGroup>>>,
}

fn part<T: Serialize, S: serde::Serializer>(p: &Part<T>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Failed<'a> {
        error: &'a ReadError,
    }
    match p {
        Ok(v) => v.serialize(s),
        Err(error) => Failed { error }.serialize(s),
    }
}

fn optional_part<T: Serialize, S: serde::Serializer>(p: &Option<Part<T>>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        None => s.serialize_none(),
        Some(p) => part(p, s),
    }
}

impl ServerPoll {
    /// A poll where nothing could be read: each part says why.
    pub fn failed(server: &str, error: ReadError, pillow_errors: bool) -> Self {
        Self {
            server: server.to_string(),
            info: Err(error.clone()),
            connections: Err(error.clone()),
            sessions: Err(error.clone()),
            blocking: Err(error.clone()),
            replication: Err(error.clone()),
            databases: Err(error.clone()),
            pillow_errors: pillow_errors.then_some(Err(error)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub version: String,
    pub version_num: i32,
    pub in_recovery: bool,
    pub user: String,
    pub superuser: bool,
    /// Member of `pg_read_all_stats` (through `pg_monitor`): sees every session's query.
    pub sees_all_sessions: bool,
    /// Member of `pg_signal_backend`: may cancel and terminate other roles' (non-superuser) backends.
    pub may_signal: bool,
    pub uptime_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connections {
    pub max_connections: i64,
    pub superuser_reserved: i64,
    /// Client backends now (that this role sees).
    pub total: i64,
    /// Backends this role may not see at all (without `pg_read_all_stats`, e.g. through `pg_monitor`).
    pub hidden: i64,
    pub by_state: Vec<StateCount>,
    /// Busiest user/application pairs first (bounded).
    pub by_client: Vec<ClientCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateCount {
    /// `active`, `idle`, `idle in transaction`, ...; `unknown` when this role may not see it.
    pub state: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientCount {
    pub user: Option<String>,
    pub application: Option<String>,
    pub count: i64,
}

/// Sessions that are not idle (and those this role may not see), oldest transaction first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sessions {
    /// How many matched; `rows` holds at most `max_rows` of them.
    pub matched: i64,
    /// Backends this role may not see at all (not counted in `matched`).
    pub hidden: i64,
    pub rows: Vec<Session>,
}

/// What `pg_stat_activity` said of one backend. Ages are in seconds, measured by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub pid: i32,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: Option<String>,
    pub client: Option<String>,
    /// `None` when this role may not see the session.
    pub state: Option<String>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    /// Identity: with the pid, what tells this session from a later one that got the same pid.
    pub backend_start: Option<String>,
    pub query_start: Option<String>,
    pub xact_age_s: Option<f64>,
    pub query_age_s: Option<f64>,
    pub state_age_s: Option<f64>,
    /// Cut by the server to `query_chars`.
    pub query: Option<String>,
}

/// How a session's query reads on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryText<'a> {
    /// This role may not see it (`<insufficient privilege>`): said as such, never shown as a query.
    Hidden,
    None,
    Text(&'a str),
}

pub const INSUFFICIENT_PRIVILEGE: &str = "<insufficient privilege>";

impl Session {
    pub fn query_text(&self) -> QueryText<'_> {
        match self.query.as_deref() {
            Some(INSUFFICIENT_PRIVILEGE) => QueryText::Hidden,
            Some(q) if !q.trim().is_empty() => QueryText::Text(q),
            _ => QueryText::None,
        }
    }

    /// Whether this role sees the session (its state, its times, its query).
    pub fn visible(&self) -> bool {
        self.query_text() != QueryText::Hidden && self.backend_start.is_some()
    }

    pub fn is_active(&self) -> bool {
        self.state.as_deref() == Some("active")
    }

    pub fn is_idle_in_transaction(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| s.starts_with("idle in transaction"))
    }
}

/// A backend waiting for locks, and the backends it waits for (`pg_blocking_pids`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockedSession {
    pub pid: i32,
    pub blocked_by: Vec<i32>,
    /// How long it has been in its current (waiting) state.
    pub waiting_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    pub in_recovery: bool,
    /// On a replica: now − the last replayed transaction's commit time (`None`: nothing replayed yet).
    pub replay_delay_s: Option<f64>,
    /// On a primary: its standbys (`pg_stat_replication`).
    pub standbys: Vec<Standby>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standby {
    pub application: Option<String>,
    pub client: Option<String>,
    pub state: Option<String>,
    pub sync_state: Option<String>,
    pub write_lag_s: Option<f64>,
    pub flush_lag_s: Option<f64>,
    pub replay_lag_s: Option<f64>,
    /// WAL bytes the standby has still to replay.
    pub replay_lag_bytes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSize {
    pub name: String,
    pub bytes: i64,
}

/// Pillow errors of one pillow and error type, waiting in `pillow_retry_pillowerror` for the retry queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillowErrorGroup {
    pub pillow: String,
    pub error_type: Option<String>,
    pub errors: i64,
    pub attempts: Option<i64>,
    pub oldest: Option<String>,
    pub newest: Option<String>,
    pub oldest_age_s: Option<f64>,
    pub newest_age_s: Option<f64>,
}

/// Pillow errors summed per pillow (what the pillows pane shows beside each pillow).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PillowErrorTotal {
    pub pillow: String,
    pub errors: i64,
    pub error_types: usize,
    pub oldest_age_s: Option<f64>,
    pub newest_age_s: Option<f64>,
}

/// Totals per pillow, most errors first.
pub fn pillow_error_totals(groups: &[PillowErrorGroup]) -> Vec<PillowErrorTotal> {
    let mut totals: Vec<PillowErrorTotal> = Vec::new();
    for g in groups {
        let total = match totals.iter_mut().position(|t| t.pillow == g.pillow) {
            Some(i) => &mut totals[i],
            None => {
                totals.push(PillowErrorTotal {
                    pillow: g.pillow.clone(),
                    errors: 0,
                    error_types: 0,
                    oldest_age_s: None,
                    newest_age_s: None,
                });
                totals.last_mut().expect("just pushed")
            }
        };
        total.errors += g.errors;
        total.error_types += 1;
        total.oldest_age_s = max_opt(total.oldest_age_s, g.oldest_age_s);
        total.newest_age_s = match (total.newest_age_s, g.newest_age_s) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    totals.sort_by(|a, b| b.errors.cmp(&a.errors).then_with(|| a.pillow.cmp(&b.pillow)));
    totals
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Which signal an action sends to a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// `pg_cancel_backend`: stop the running query, keep the session.
    Cancel,
    /// `pg_terminate_backend`: end the session (its open transaction rolls back).
    Terminate,
}

impl Signal {
    pub fn function(self) -> &'static str {
        match self {
            Self::Cancel => "pg_cancel_backend",
            Self::Terminate => "pg_terminate_backend",
        }
    }
}

/// What tells a backend from a later one that got the same pid: taken when the action is planned, checked
/// by the server in the same statement that sends the signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub pid: i32,
    /// `backend_start` as the server printed it (exact: compared as a timestamp by the server).
    pub backend_start: String,
    /// `query_start` of the query the plan was about (`None`: the session never ran one).
    pub query_start: Option<String>,
}

/// What the server did with a signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum SignalAnswer {
    /// The function returned true: the signal was sent.
    Sent,
    /// The function returned false (with the server's warnings, e.g. "PID 7 is not a PostgreSQL backend process").
    Declined { notices: Vec<String> },
    /// No backend has that pid any more: nothing was signalled.
    Gone,
    /// This role cannot see the backend's details, so its identity cannot be checked: nothing was signalled.
    NotVisible,
    /// The pid now belongs to another session, or its query changed: nothing was signalled.
    Changed {
        backend_start: Option<String>,
        query_start: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pillow_errors_sum_per_pillow_for_the_pillows_pane() {
        let groups: Vec<PillowErrorGroup> =
            serde_json::from_str(include_str!("../tests/fixtures/pillow_errors.admin.json")).unwrap();
        let totals = pillow_error_totals(&groups);
        let summary: Vec<(&str, i64, usize)> = totals
            .iter()
            .map(|t| (t.pillow.as_str(), t.errors, t.error_types))
            .collect();
        assert_eq!(
            summary,
            [
                ("kafka-case-to-elasticsearch", 50, 2),
                ("kafka-xform-to-elasticsearch", 5, 1),
                ("UpdateUserSyncHistoryPillow", 2, 1),
            ]
        );
        // The newest of the case pillow's two groups is the seconds-old one; the oldest the older of both.
        assert!(totals[0].newest_age_s.unwrap() < 60.0);
        assert!(totals[0].oldest_age_s.unwrap() > 2_000.0);
    }

    #[test]
    fn snapshot_json_shows_a_failed_part_as_its_error() {
        let databases: Vec<DatabaseSize> =
            serde_json::from_str(include_str!("../tests/fixtures/databases.ro.json")).unwrap();
        let refused = ReadError {
            kind: ErrorKind::Refused,
            message: "pillow_errors: refused by the server: permission denied for table pillow_retry_pillowerror"
                .into(),
        };
        let poll = ServerPoll {
            databases: Ok(databases),
            pillow_errors: Some(Err(refused.clone())),
            ..ServerPoll::failed("hq-db", refused, false)
        };
        let json = serde_json::to_value(&poll).unwrap();
        assert_eq!(json["databases"][0]["name"], "opsdeck_fixture");
        assert_eq!(json["pillow_errors"]["error"]["kind"], "refused");
        assert_eq!(
            json["pillow_errors"]["error"]["message"],
            "pillow_errors: refused by the server: permission denied for table pillow_retry_pillowerror"
        );
        let none = ServerPoll {
            pillow_errors: None,
            ..poll
        };
        assert!(serde_json::to_value(&none).unwrap()["pillow_errors"].is_null());
    }
}

/// A part that failed in the last poll while an earlier one was read: the pane keeps showing the
/// earlier value and says this.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StalePart {
    pub part: &'static str,
    pub error: ReadError,
}

/// What the pane keeps of one server: its parts as last read (a part that failed this time keeps
/// the value read before it, if any) and which parts that is true of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerState {
    #[serde(flatten)]
    pub poll: ServerPoll,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<StalePart>,
}

impl ServerState {
    /// Takes in one poll of this server.
    fn absorb(previous: Option<ServerState>, mut poll: ServerPoll) -> ServerState {
        let mut stale = Vec::new();
        if let Some(old) = previous.map(|s| s.poll) {
            /// A failed part keeps its last good value; the failure is said beside it.
            fn keep<T>(new: &mut Part<T>, old: Part<T>, part: &'static str, stale: &mut Vec<StalePart>) {
                if let (Err(error), Ok(value)) = (&*new, old) {
                    stale.push(StalePart {
                        part,
                        error: error.clone(),
                    });
                    *new = Ok(value);
                }
            }
            keep(&mut poll.info, old.info, "info", &mut stale);
            keep(&mut poll.connections, old.connections, "connections", &mut stale);
            keep(&mut poll.sessions, old.sessions, "sessions", &mut stale);
            keep(&mut poll.blocking, old.blocking, "blocking", &mut stale);
            keep(&mut poll.replication, old.replication, "replication", &mut stale);
            keep(&mut poll.databases, old.databases, "databases", &mut stale);
            if let (Some(new), Some(old)) = (poll.pillow_errors.as_mut(), old.pillow_errors) {
                keep(new, old, "pillow_errors", &mut stale);
            }
        }
        ServerState { poll, stale }
    }
}

/// What the pane knows of every server, in config order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PostgresState {
    pub servers: Vec<ServerState>,
}

impl PostgresState {
    pub fn server(&self, name: &str) -> Option<&ServerState> {
        self.servers.iter().find(|s| s.poll.server == name)
    }
}

/// One poll of every server, in config order.
pub type PostgresPoll = Vec<ServerPoll>;

impl opsdeck_core::feed::FeedData for PostgresState {
    type Poll = PostgresPoll;

    fn absorb(current: &mut Option<Self>, polls: PostgresPoll, _at: std::time::SystemTime) {
        let mut old: Vec<ServerState> = current.take().map(|s| s.servers).unwrap_or_default();
        let servers = polls
            .into_iter()
            .map(|poll| {
                let previous = old
                    .iter()
                    .position(|s| s.poll.server == poll.server)
                    .map(|i| old.swap_remove(i));
                ServerState::absorb(previous, poll)
            })
            .collect();
        *current = Some(PostgresState { servers });
    }
}
