//! A SIMULATED server for `opsdeck demo`, behind the same [`PostgresSource`] trait as the real client (the
//! demo injects it; no config reaches it). Runbooks 001 and 004 in motion: a long `UPDATE` from a
//! management command holds a row lock, pillow writers queue behind it and their errors pile up in
//! `pillow_retry_pillowerror`; a web session idles in a transaction. Terminating (or cancelling) the
//! blocker frees the chain for good, and the retry queue then drains the errors. Numbers move meanwhile.

use crate::model::{
    BlockedSession, ClientCount, Connections, DatabaseSize, Identity, PillowErrorGroup, Replication, ServerInfo,
    ServerPoll, Session, Sessions, Signal, SignalAnswer, Standby, StateCount,
};
use crate::source::{PostgresSource, SourceError};
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Time since the demo began (a test drives its own).
pub type Clock = Arc<dyn Fn() -> Duration + Send + Sync>;

/// The pillow whose writers wait behind the blocker.
pub const STUCK_PILLOW: &str = "ucr-pillow";
/// The root blocker's pid.
pub const BLOCKER_PID: i32 = 4242;
/// The session idle in a transaction.
pub const IDLE_PID: i32 = 3877;

pub struct SimulatedSource {
    name: String,
    clock: Clock,
    /// Wall time at the demo's start: what the printed timestamps count from.
    began: SystemTime,
    sim: Mutex<Sim>,
}

impl std::fmt::Debug for SimulatedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedSource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

struct Sim {
    sessions: Vec<SimSession>,
    /// When the chain was freed (by a signal to its root), if it was.
    freed_at: Option<Duration>,
    /// Pillow errors of the stuck pillow when the chain was freed.
    errors_at_free: i64,
}

/// A session; times are seconds relative to the demo's start (negative: before it).
#[derive(Clone)]
struct SimSession {
    pid: i32,
    user: &'static str,
    application: &'static str,
    client: &'static str,
    state: &'static str,
    backend_start: f64,
    xact_start: Option<f64>,
    query_start: f64,
    state_change: f64,
    wait: Option<(&'static str, &'static str)>,
    blocked_by: Vec<i32>,
    query: &'static str,
}

/// Errors of the stuck pillow when the demo starts; one more every [`ERROR_EVERY_S`] while it is stuck.
const ERRORS_AT_START: i64 = 37;
const ERROR_EVERY_S: f64 = 3.0;
/// Once freed, the retry queue clears one error every this many seconds.
const RETRY_EVERY_S: f64 = 1.5;

impl SimulatedSource {
    /// The demo's server, on the wall clock.
    pub fn new(name: &str) -> Self {
        let start = std::time::Instant::now();
        Self::with_clock(name, Arc::new(move || start.elapsed()))
    }

    pub fn with_clock(name: &str, clock: Clock) -> Self {
        let s = |pid, application, state, ages: (f64, f64, f64), wait, blocked_by: &[i32], query| SimSession {
            pid,
            user: "commcarehq",
            application,
            client: "10.0.3.17",
            state,
            backend_start: -ages.0,
            xact_start: Some(-ages.1),
            query_start: -ages.2,
            state_change: -ages.2,
            wait,
            blocked_by: blocked_by.to_vec(),
            query,
        };
        let sessions = vec![
            s(
                BLOCKER_PID,
                "manage.py rebuild_case_search",
                "active",
                (1500.0, 840.0, 840.0),
                None,
                &[],
                "UPDATE form_processor_commcarecasesql SET server_modified_on = now() WHERE domain = 'demo-district' AND type = 'household'",
            ),
            s(
                5101,
                "pillowtop ucr-pillow",
                "active",
                (86_000.0, 361.0, 361.0),
                Some(("Lock", "transactionid")),
                &[BLOCKER_PID],
                "INSERT INTO ucr_static_household_cases (doc_id, owner_id, closed) VALUES ($1, $2, $3) ON CONFLICT (doc_id) DO UPDATE SET owner_id = EXCLUDED.owner_id",
            ),
            s(
                5102,
                "pillowtop ucr-pillow",
                "active",
                (86_000.0, 290.0, 290.0),
                Some(("Lock", "tuple")),
                &[5101],
                "INSERT INTO ucr_static_household_cases (doc_id, owner_id, closed) VALUES ($1, $2, $3) ON CONFLICT (doc_id) DO UPDATE SET owner_id = EXCLUDED.owner_id",
            ),
            s(
                5230,
                "celery case_search_queue",
                "active",
                (40_000.0, 95.0, 95.0),
                Some(("Lock", "tuple")),
                &[5101],
                "UPDATE form_processor_commcarecasesql SET closed = true WHERE case_id = $1",
            ),
            SimSession {
                client: "10.0.3.31",
                ..s(
                    IDLE_PID,
                    "django hq-web-2",
                    "idle in transaction",
                    (3_000.0, 250.0, 248.0),
                    Some(("Client", "ClientRead")),
                    &[],
                    "SELECT id, username FROM auth_user WHERE id = 81 FOR UPDATE",
                )
            },
        ];
        Self {
            name: name.to_string(),
            clock,
            began: SystemTime::now(),
            sim: Mutex::new(Sim {
                sessions,
                freed_at: None,
                errors_at_free: 0,
            }),
        }
    }

    fn now(&self) -> f64 {
        (self.clock)().as_secs_f64()
    }

    /// `2026-11-30 19:04:51.827496+00`, as PostgreSQL prints a timestamptz in UTC.
    fn timestamp(&self, at: f64) -> String {
        let t = if at >= 0.0 {
            self.began + Duration::from_secs_f64(at)
        } else {
            self.began - Duration::from_secs_f64(-at)
        };
        humantime::format_rfc3339_micros(t)
            .to_string()
            .replace('T', " ")
            .replace('Z', "+00")
    }

    fn row(&self, s: &SimSession, now: f64) -> Session {
        Session {
            pid: s.pid,
            database: Some("commcarehq".into()),
            user: Some(s.user.into()),
            application: Some(s.application.into()),
            client: Some(s.client.into()),
            state: Some(s.state.into()),
            wait_event_type: s.wait.map(|w| w.0.into()),
            wait_event: s.wait.map(|w| w.1.into()),
            backend_start: Some(self.timestamp(s.backend_start)),
            query_start: Some(self.timestamp(s.query_start)),
            xact_age_s: s.xact_start.map(|x| now - x),
            query_age_s: Some(now - s.query_start),
            state_age_s: Some(now - s.state_change),
            query: Some(s.query.into()),
        }
    }

    /// Errors of the stuck pillow at `now`: growing while it waits, draining once freed.
    fn stuck_errors(sim: &Sim, now: f64) -> i64 {
        match sim.freed_at {
            None => ERRORS_AT_START + (now / ERROR_EVERY_S) as i64,
            Some(freed) => {
                let drained = ((now - freed.as_secs_f64()) / RETRY_EVERY_S) as i64;
                (sim.errors_at_free - drained).max(0)
            }
        }
    }

    fn snapshot(&self) -> ServerPoll {
        let now = self.now();
        let Ok(sim) = self.sim.lock() else {
            return ServerPoll::failed(
                &self.name,
                crate::model::ReadError {
                    kind: crate::model::ErrorKind::BadAnswer,
                    message: "simulation poisoned".into(),
                },
                true,
            );
        };
        // Short queries come and go: two or three active at any time, seconds old.
        let wave = |period: f64, phase: f64| ((now / period + phase) * std::f64::consts::TAU).sin();
        let busy: Vec<Session> = (0..(2 + (wave(17.0, 0.0) > 0.3) as i32))
            .map(|i| {
                let age = (now + i as f64 * 1.7) % 2.5;
                let s = SimSession {
                    pid: 6000 + i,
                    user: "commcarehq",
                    application: "celery background_queue",
                    client: "10.0.3.22",
                    state: "active",
                    backend_start: -7200.0,
                    xact_start: Some(now - age),
                    query_start: now - age,
                    state_change: now - age,
                    wait: None,
                    blocked_by: Vec::new(),
                    query: "SELECT id, domain, doc_type FROM form_processor_xforminstancesql WHERE form_id = ANY($1)",
                };
                self.row(&s, now)
            })
            .collect();
        // Like the real read: sessions that are not idle (a cancelled one stays, idle, out of the list).
        let mut rows: Vec<Session> = sim
            .sessions
            .iter()
            .filter(|s| s.state != "idle")
            .map(|s| self.row(s, now))
            .collect();
        rows.extend(busy);
        rows.sort_by(|a, b| b.xact_age_s.unwrap_or(0.0).total_cmp(&a.xact_age_s.unwrap_or(0.0)));
        let active = rows.iter().filter(|r| r.is_active()).count() as i64;
        let idle_tx = rows.iter().filter(|r| r.is_idle_in_transaction()).count() as i64;
        let idle = 88 + (wave(23.0, 0.25) * 9.0) as i64;
        let total = active + idle_tx + idle;
        let blocking = sim
            .sessions
            .iter()
            .filter(|s| !s.blocked_by.is_empty())
            .map(|s| BlockedSession {
                pid: s.pid,
                blocked_by: s.blocked_by.clone(),
                waiting_s: Some(now - s.state_change),
            })
            .collect();
        let mut by_state = vec![
            StateCount {
                state: "idle".into(),
                count: idle,
            },
            StateCount {
                state: "active".into(),
                count: active,
            },
        ];
        if idle_tx > 0 {
            by_state.push(StateCount {
                state: "idle in transaction".into(),
                count: idle_tx,
            });
        }
        let client = |application: &str, count: i64| ClientCount {
            user: Some("commcarehq".into()),
            application: Some(application.into()),
            count,
        };
        let pillowtop = rows
            .iter()
            .filter(|r| r.application.as_deref().is_some_and(|a| a.starts_with("pillowtop")))
            .count() as i64;
        let by_client = vec![
            client("celery background_queue", 41 + (wave(23.0, 0.25) * 6.0) as i64),
            client("django hq-web-1", 22),
            client("django hq-web-2", 21 + idle_tx),
            client("pillowtop case-pillow", 6),
            client("pillowtop ucr-pillow", 4 + pillowtop),
        ];
        let stuck = Self::stuck_errors(&sim, now);
        let mut pillow_errors = Vec::new();
        if stuck > 0 {
            pillow_errors.push(PillowErrorGroup {
                pillow: STUCK_PILLOW.into(),
                error_type: Some("psycopg2.errors.LockNotAvailable".into()),
                errors: stuck,
                attempts: Some(stuck * 3),
                oldest: Some(self.timestamp(-1_800.0)),
                newest: Some(self.timestamp(sim.freed_at.map_or(now, |f| f.as_secs_f64()))),
                oldest_age_s: Some(now + 1_800.0),
                newest_age_s: Some(sim.freed_at.map_or(0.0, |f| now - f.as_secs_f64())),
            });
        }
        pillow_errors.push(PillowErrorGroup {
            pillow: "case-pillow".into(),
            error_type: Some("elasticsearch.exceptions.ConnectionTimeout".into()),
            errors: 3,
            attempts: Some(11),
            oldest: Some(self.timestamp(-26_000.0)),
            newest: Some(self.timestamp(-4_000.0)),
            oldest_age_s: Some(now + 26_000.0),
            newest_age_s: Some(now + 4_000.0),
        });
        ServerPoll {
            server: self.name.clone(),
            info: Ok(ServerInfo {
                version: "15.18 (simulated)".into(),
                version_num: 150018,
                in_recovery: false,
                user: "opsdeck".into(),
                superuser: false,
                sees_all_sessions: true,
                may_signal: true,
                uptime_s: 3_456_000.0 + now,
            }),
            connections: Ok(Connections {
                max_connections: 200,
                superuser_reserved: 3,
                total,
                hidden: 0,
                by_state,
                by_client,
            }),
            sessions: Ok(Sessions {
                matched: rows.len() as i64,
                hidden: 0,
                rows,
            }),
            blocking: Ok(blocking),
            replication: Ok(Replication {
                in_recovery: false,
                replay_delay_s: None,
                standbys: vec![Standby {
                    application: Some("hqdb1-standby".into()),
                    client: Some("10.0.3.21".into()),
                    state: Some("streaming".into()),
                    sync_state: Some("async".into()),
                    write_lag_s: Some(0.02 + 0.01 * wave(5.0, 0.0).abs()),
                    flush_lag_s: Some(0.05 + 0.02 * wave(5.0, 0.1).abs()),
                    replay_lag_s: Some(0.4 + 0.6 * wave(11.0, 0.0).abs()),
                    replay_lag_bytes: Some((180_000.0 + 150_000.0 * wave(11.0, 0.0)).max(0.0)),
                }],
            }),
            databases: Ok(vec![
                DatabaseSize {
                    name: "commcarehq".into(),
                    bytes: 442_381_000_000 + (now * 1_200_000.0) as i64,
                },
                DatabaseSize {
                    name: "commcarehq_ucr".into(),
                    bytes: 148_210_000_000 + (now * 300_000.0) as i64,
                },
                DatabaseSize {
                    name: "postgres".into(),
                    bytes: 7_634_279,
                },
            ]),
            pillow_errors: Some(Ok(pillow_errors)),
        }
    }
}

impl PostgresSource for SimulatedSource {
    fn server(&self) -> &str {
        &self.name
    }

    fn poll(&self) -> BoxFuture<'_, ServerPoll> {
        Box::pin(async move { self.snapshot() })
    }

    fn signal<'a>(&'a self, signal: Signal, target: &'a Identity) -> BoxFuture<'a, Result<SignalAnswer, SourceError>> {
        Box::pin(async move {
            let now = self.now();
            let mut sim = self.sim.lock().map_err(|_| SourceError::BadAnswer {
                what: "simulation".into(),
                detail: "poisoned".into(),
            })?;
            let Some(i) = sim.sessions.iter().position(|s| s.pid == target.pid) else {
                return Ok(SignalAnswer::Gone);
            };
            let s = &sim.sessions[i];
            let (backend_start, query_start) = (self.timestamp(s.backend_start), self.timestamp(s.query_start));
            if backend_start != target.backend_start || Some(&query_start) != target.query_start.as_ref() {
                return Ok(SignalAnswer::Changed {
                    backend_start: Some(backend_start),
                    query_start: Some(query_start),
                });
            }
            match (signal, s.state) {
                // Nothing runs in an idle transaction: the signal lands and changes nothing.
                (Signal::Cancel, "idle in transaction") => {}
                (Signal::Cancel, _) => {
                    // The client rolls back on the error: the session stays, idle, its locks released.
                    let s = &mut sim.sessions[i];
                    s.state = "idle";
                    s.xact_start = None;
                    s.state_change = now;
                    s.wait = None;
                    release(&mut sim, target.pid, now);
                }
                (Signal::Terminate, _) => {
                    sim.sessions.remove(i);
                    release(&mut sim, target.pid, now);
                }
            }
            Ok(SignalAnswer::Sent)
        })
    }

    fn session(&self, pid: i32) -> BoxFuture<'_, Result<Option<Session>, SourceError>> {
        Box::pin(async move {
            let now = self.now();
            let sim = self.sim.lock().map_err(|_| SourceError::BadAnswer {
                what: "simulation".into(),
                detail: "poisoned".into(),
            })?;
            Ok(sim.sessions.iter().find(|s| s.pid == pid).map(|s| self.row(s, now)))
        })
    }
}

/// What waited on `pid` gets its locks and finishes: the sessions behind it (all of the chain, since its
/// members wait on each other's turn) leave; once the root is gone the pillow stops failing.
fn release(sim: &mut Sim, pid: i32, now: f64) {
    let was_root = sim.sessions.iter().any(|s| s.blocked_by.contains(&pid)) || pid == BLOCKER_PID;
    if !was_root {
        return;
    }
    let mut freed = vec![pid];
    while let Some(p) = freed.pop() {
        let behind: Vec<i32> = sim
            .sessions
            .iter()
            .filter(|s| s.blocked_by.contains(&p))
            .map(|s| s.pid)
            .collect();
        sim.sessions.retain(|s| !behind.contains(&s.pid));
        freed.extend(behind);
    }
    if pid == BLOCKER_PID && sim.freed_at.is_none() {
        sim.errors_at_free = ERRORS_AT_START + (now / ERROR_EVERY_S) as i64;
        sim.freed_at = Some(Duration::from_secs_f64(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::{self, Outcome};
    use crate::analysis::{Row, Severity, blocking_chains, verdicts};
    use crate::config::Thresholds;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn demo() -> (SimulatedSource, Arc<AtomicU64>) {
        let ms = Arc::new(AtomicU64::new(0));
        let m = ms.clone();
        let clock: Clock = Arc::new(move || Duration::from_millis(m.load(Ordering::SeqCst)));
        (SimulatedSource::with_clock("hq-db", clock), ms)
    }

    fn stuck_errors(poll: &ServerPoll) -> i64 {
        let groups = poll.pillow_errors.as_ref().unwrap().as_ref().unwrap();
        groups
            .iter()
            .filter(|g| g.pillow == STUCK_PILLOW)
            .map(|g| g.errors)
            .sum()
    }

    fn session(poll: &ServerPoll, pid: i32) -> Session {
        poll.sessions
            .as_ref()
            .unwrap()
            .rows
            .iter()
            .find(|s| s.pid == pid)
            .unwrap()
            .clone()
    }

    #[tokio::test]
    async fn the_blocker_shows_as_a_chain_and_its_pillow_errors_pile_up() {
        let (src, ms) = demo();
        let first = src.poll().await;
        let chains = blocking_chains(first.blocking.as_ref().unwrap());
        assert_eq!(chains.len(), 1);
        assert_eq!((chains[0].root, chains[0].blocked), (BLOCKER_PID, 3));
        let v = verdicts(&first, &Thresholds::default());
        let crit: Vec<&str> = v
            .iter()
            .filter(|v| v.severity == Severity::Critical)
            .map(|v| v.message.as_str())
            .collect();
        assert!(
            crit.iter().any(|m| m.contains("running one query for 14m00s")),
            "{crit:#?}"
        );
        assert!(
            crit.iter()
                .any(|m| m
                    .starts_with("pid 4242 (commcarehq, manage.py rebuild_case_search), active, blocks 3 sessions")),
            "{crit:#?}"
        );
        assert!(v.iter().any(|v| v.row
            == Row::Pillow {
                pillow: STUCK_PILLOW.into()
            }));
        ms.store(30_000, Ordering::SeqCst);
        let later = src.poll().await;
        assert_eq!(stuck_errors(&later), stuck_errors(&first) + 10);
        // Numbers move: the databases grow.
        let size = |p: &ServerPoll| p.databases.as_ref().unwrap()[0].bytes;
        assert!(size(&later) > size(&first));
    }

    #[tokio::test]
    async fn terminating_the_blocker_frees_the_chain_for_good_and_the_errors_drain() {
        let (src, ms) = demo();
        ms.store(9_000, Ordering::SeqCst);
        let poll = src.poll().await;
        let plan = actions::plan("hq-db", Signal::Terminate, &session(&poll, BLOCKER_PID), None).unwrap();
        let outcome = actions::execute(&src, &plan, Duration::from_secs(1)).await;
        assert!(
            matches!(&outcome, Outcome::Succeeded(m) if m.starts_with("pid 4242 left pg_stat_activity")),
            "{outcome:?}"
        );
        let at_fix = stuck_errors(&src.poll().await);
        assert_eq!(at_fix, ERRORS_AT_START + 3);
        for later in [10_000, 15_000, 120_000] {
            ms.store(9_000 + later, Ordering::SeqCst);
            let poll = src.poll().await;
            assert!(poll.blocking.as_ref().unwrap().is_empty(), "the chain stays gone");
            assert!(stuck_errors(&poll) < at_fix);
        }
        let v = verdicts(&src.poll().await, &Thresholds::default());
        assert!(
            !v.iter().any(|v| v.row
                == Row::Pillow {
                    pillow: STUCK_PILLOW.into()
                }),
            "{v:#?}"
        );
        // The same plan again: the pid is gone.
        let again = actions::execute(&src, &plan, Duration::from_secs(1)).await;
        assert!(
            matches!(&again, Outcome::Failed(m) if m.contains("already left")),
            "{again:?}"
        );
    }

    #[tokio::test]
    async fn cancelling_the_blocker_also_frees_the_chain() {
        let (src, _) = demo();
        let poll = src.poll().await;
        let plan = actions::plan("hq-db", Signal::Cancel, &session(&poll, BLOCKER_PID), None).unwrap();
        let outcome = actions::execute(&src, &plan, Duration::from_secs(1)).await;
        assert!(
            matches!(&outcome, Outcome::Succeeded(m) if m.contains("cancelled")),
            "{outcome:?}"
        );
        assert!(src.poll().await.blocking.unwrap().is_empty());
    }

    #[tokio::test]
    async fn cancel_on_the_idle_transaction_is_unverified_terminate_ends_it() {
        let (src, _) = demo();
        let poll = src.poll().await;
        let idle = session(&poll, IDLE_PID);
        let cancel = actions::plan("hq-db", Signal::Cancel, &idle, None).unwrap();
        let outcome = actions::execute(&src, &cancel, Duration::from_millis(200)).await;
        assert!(matches!(outcome, Outcome::Unverified(_)), "{outcome:?}");
        let terminate = actions::plan("hq-db", Signal::Terminate, &idle, None).unwrap();
        let outcome = actions::execute(&src, &terminate, Duration::from_secs(1)).await;
        assert!(matches!(outcome, Outcome::Succeeded(_)), "{outcome:?}");
        // The blocker is untouched.
        assert_eq!(blocking_chains(src.poll().await.blocking.as_ref().unwrap()).len(), 1);
    }
}
