//! Runbook 004, "kill long running queries": cancel a backend's query (`pg_cancel_backend`, medium risk) or
//! terminate the backend (`pg_terminate_backend`, high risk, its pid typed to confirm). A plan holds the
//! session's identity as the poll saw it; the server checks it in the statement that signals, so a pid that
//! now belongs to another session is never signalled. Each run is verified in `pg_stat_activity`.

use crate::analysis::{age, describe_session, query_line};
use crate::model::{Identity, ServerInfo, Session, Signal, SignalAnswer};
use crate::source::PostgresSource;
use serde::Serialize;
use std::time::Duration;

pub use opsdeck_core::action::Risk;

/// What the person must do to run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "confirm", content = "text", rename_all = "snake_case")]
pub enum Confirm {
    /// A yes/no dialog.
    YesNo,
    /// This text typed exactly (the pid).
    Typed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionPlan {
    pub server: String,
    pub signal: Signal,
    /// `Terminate backend pid 4242 (hq, celery) on hq-db`.
    pub title: String,
    /// The call as a person would type it in psql.
    pub call: String,
    pub risk: Risk,
    pub confirm: Confirm,
    /// The session as the plan saw it; signalled only if it is still that session (and query).
    pub target: Identity,
    /// Its state when planned (a cancel is verified by this changing).
    pub state: Option<String>,
    /// Lines describing the target: who, where from, state, age, query.
    pub details: Vec<String>,
    /// How the effect is checked.
    pub verify: String,
    /// Why this may not do what the person hopes.
    pub warnings: Vec<String>,
}

/// How a run ended, in words for the person and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "message", rename_all = "snake_case")]
pub enum Outcome {
    Succeeded(String),
    /// The signal was sent but its effect was not seen in time.
    Unverified(String),
    /// Nothing was signalled, or the server refused (its words).
    Failed(String),
}

/// The plan to send `signal` to `session` of `server`. `info` (the poll's) adds a warning when the role
/// lacks `pg_signal_backend`. A session this role cannot see has no identity to check: no plan.
pub fn plan(server: &str, signal: Signal, session: &Session, info: Option<&ServerInfo>) -> Result<ActionPlan, String> {
    let pid = session.pid;
    let backend_start = session.backend_start.clone().ok_or_else(|| {
        format!(
            "pid {pid}: this role cannot see the session (needs pg_monitor or pg_read_all_stats), so it cannot \
             be checked that a signal reaches that session and no other"
        )
    })?;
    let target = Identity {
        pid,
        backend_start,
        query_start: session.query_start.clone(),
    };
    let who = describe_session(session);
    let mut details = vec![who.clone()];
    let mut place = Vec::new();
    if let Some(d) = &session.database {
        place.push(format!("database {d}"));
    }
    if let Some(c) = &session.client {
        place.push(format!("from {c}"));
    }
    if !place.is_empty() {
        details.push(place.join(", "));
    }
    let state = session.state.as_deref().unwrap_or("unknown");
    let mut state_line = format!("state {state}");
    if let Some(a) = session.state_age_s {
        state_line.push_str(&format!(" for {}", age(a)));
    }
    if let Some(a) = session.xact_age_s {
        state_line.push_str(&format!(", transaction open {}", age(a)));
    }
    if let (Some(t), Some(w)) = (&session.wait_event_type, &session.wait_event) {
        state_line.push_str(&format!(", waiting on {t}/{w}"));
    }
    details.push(state_line);
    details.push(format!("query: {}", query_line(session, 200)));
    details.push(format!(
        "only if pid {pid} is still the session started {} (query started {})",
        target.backend_start,
        target.query_start.as_deref().unwrap_or("never")
    ));

    let mut warnings = Vec::new();
    if signal == Signal::Cancel && session.is_idle_in_transaction() {
        warnings.push(
            "no query is running: a cancel changes nothing here; terminate ends the session and rolls its \
             transaction back"
                .to_string(),
        );
    }
    if let Some(info) = info
        && !info.superuser
        && !info.may_signal
        && session.user.as_deref() != Some(info.user.as_str())
    {
        warnings.push(format!(
            "role {} is not a member of pg_signal_backend: the server will refuse to signal another role's backend",
            info.user
        ));
    }
    let (title, risk, confirm, verify) = match signal {
        Signal::Cancel => (
            format!("Cancel the query of {who} on {server}"),
            Risk::Medium,
            Confirm::YesNo,
            format!("pid {pid}'s query_start or state changes, or it leaves pg_stat_activity"),
        ),
        Signal::Terminate => (
            format!("Terminate backend {who} on {server}"),
            Risk::High,
            Confirm::Typed(pid.to_string()),
            format!("pid {pid} leaves pg_stat_activity (its open transaction is rolled back)"),
        ),
    };
    Ok(ActionPlan {
        server: server.to_string(),
        signal,
        title,
        call: format!("SELECT {}({pid});", signal.function()),
        risk,
        confirm,
        target,
        state: session.state.clone(),
        details,
        verify,
        warnings,
    })
}

/// Sends the plan's signal and waits up to `verify_timeout` for its effect in `pg_stat_activity`.
pub async fn execute(source: &dyn PostgresSource, plan: &ActionPlan, verify_timeout: Duration) -> Outcome {
    let pid = plan.target.pid;
    let call = &plan.call;
    let answer = match source.signal(plan.signal, &plan.target).await {
        Ok(a) => a,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    match answer {
        SignalAnswer::Sent => {}
        SignalAnswer::Gone => {
            return Outcome::Failed(format!(
                "pid {pid} had already left pg_stat_activity: nothing was signalled"
            ));
        }
        SignalAnswer::NotVisible => {
            return Outcome::Failed(format!(
                "this role cannot see pid {pid}'s session, so its identity cannot be checked: nothing was signalled"
            ));
        }
        SignalAnswer::Changed {
            backend_start,
            query_start,
        } => {
            let why = if backend_start.as_deref() != Some(plan.target.backend_start.as_str()) {
                format!(
                    "pid {pid} now belongs to another session (started {})",
                    backend_start.as_deref().unwrap_or("?")
                )
            } else {
                format!(
                    "pid {pid} runs another query now (started {})",
                    query_start.as_deref().unwrap_or("never")
                )
            };
            return Outcome::Failed(format!("{why}: nothing was signalled; plan it again"));
        }
        SignalAnswer::Declined { notices } => {
            let said = if notices.is_empty() {
                String::new()
            } else {
                format!(": {}", notices.join("; "))
            };
            return Outcome::Failed(format!("{call} returned false: the server did not signal it{said}"));
        }
    }
    verify(source, plan, verify_timeout).await
}

/// Polls the backend until the plan's effect shows or the deadline passes.
async fn verify(source: &dyn PostgresSource, plan: &ActionPlan, timeout: Duration) -> Outcome {
    let pid = plan.target.pid;
    let started = tokio::time::Instant::now();
    let mut last_seen: String;
    loop {
        match source.session(pid).await {
            Ok(None) => {
                return Outcome::Succeeded(format!(
                    "pid {pid} left pg_stat_activity ({} after the signal)",
                    humantime::format_duration(round_ms(started.elapsed()))
                ));
            }
            Ok(Some(s)) if s.backend_start.as_deref() != Some(plan.target.backend_start.as_str()) => {
                return Outcome::Succeeded(format!(
                    "pid {pid}'s session ended (the pid now belongs to a new session)"
                ));
            }
            Ok(Some(s)) => {
                let state = s.state.clone().unwrap_or_else(|| "unknown".into());
                if plan.signal == Signal::Cancel && (s.query_start != plan.target.query_start || s.state != plan.state)
                {
                    return Outcome::Succeeded(format!("pid {pid}'s query was cancelled: the session is now {state}"));
                }
                last_seen = format!("still {state}");
            }
            Err(e) => last_seen = format!("could not be read: {e}"),
        }
        if started.elapsed() >= timeout {
            return Outcome::Unverified(format!(
                "{} was sent, but after {} pid {pid} is {last_seen}",
                plan.call,
                humantime::format_duration(round_ms(started.elapsed()))
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

impl ActionPlan {
    /// The console's plan: the dialog shows it verbatim, the audit log records it, and it runs
    /// only while the session is the one planned (the pid, when it started, its query's start).
    /// `verify_timeout` is the section's: the action's own deadline adds time to connect and signal.
    pub fn into_action(self, verify_timeout: Duration) -> opsdeck_core::action::ActionPlan {
        let pid = self.target.pid;
        let mut description = self.details.clone();
        description.extend(self.warnings.iter().map(|w| format!("⚠ {w}")));
        opsdeck_core::action::ActionPlan {
            action: match self.signal {
                Signal::Cancel => "postgres.cancel_query".into(),
                Signal::Terminate => "postgres.terminate_backend".into(),
            },
            title: self.title.clone(),
            // What a terminate wants typed, and what single-flight keys on.
            target: pid.to_string(),
            description: description.join("\n"),
            call: self.call.clone(),
            risk: self.risk,
            verify: self.verify.clone(),
            timeout: verify_timeout + Duration::from_secs(30),
            identity: format!(
                "{} pid {pid}, session started {}, query started {}",
                self.server,
                self.target.backend_start,
                self.target.query_start.as_deref().unwrap_or("never")
            ),
            op: std::sync::Arc::new(PostgresOperation(self)),
        }
    }
}

/// A signal plan as the console runs it, on the server's source the console holds.
#[derive(Debug)]
pub struct PostgresOperation(pub ActionPlan);

impl opsdeck_core::action::Operation for PostgresOperation {
    fn run<'a>(
        &'a self,
        ctx: &'a opsdeck_core::action::ActionCtx,
    ) -> futures::future::BoxFuture<'a, opsdeck_core::action::Outcome> {
        use opsdeck_core::action::Outcome as Done;
        Box::pin(async move {
            let plan = &self.0;
            let Some(backend) = ctx.backends.of::<crate::Postgres>() else {
                return Done::failed("PostgreSQL is not configured in this opsdeck");
            };
            let Some(source) = backend.source(&plan.server) else {
                return Done::failed(format!("{} is not in the [postgres] section", plan.server));
            };
            match execute(source.as_ref(), plan, backend.config.verify_timeout.get()).await {
                Outcome::Succeeded(m) => Done::succeeded(m),
                Outcome::Unverified(m) => Done::unverified(m),
                Outcome::Failed(m) => Done::failed(m),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sessions;
    use crate::source::parse;

    fn fixture_sessions() -> Sessions {
        parse("sessions", include_str!("../tests/fixtures/sessions.ro.json")).unwrap()
    }

    #[test]
    fn terminate_wants_the_pid_typed_and_carries_the_identity() {
        let sessions = fixture_sessions();
        let s = &sessions.rows[0];
        let p = plan("hq-db", Signal::Terminate, s, None).unwrap();
        assert_eq!(p.call, format!("SELECT pg_terminate_backend({});", s.pid));
        assert_eq!(p.risk, Risk::High);
        assert_eq!(p.confirm, Confirm::Typed(s.pid.to_string()));
        assert_eq!(p.target.backend_start, s.backend_start.clone().unwrap());
        assert_eq!(p.target.query_start, s.query_start);
        assert!(p.details.iter().any(|d| d.contains("pg_sleep")), "{:?}", p.details);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn cancel_on_an_idle_transaction_warns_that_it_changes_nothing() {
        let sessions = fixture_sessions();
        let idle = sessions.rows.iter().find(|s| s.is_idle_in_transaction()).unwrap();
        let p = plan("hq-db", Signal::Cancel, idle, None).unwrap();
        assert_eq!((p.risk, &p.confirm), (Risk::Medium, &Confirm::YesNo));
        assert!(p.warnings[0].contains("a cancel changes nothing"), "{:?}", p.warnings);
    }

    #[test]
    fn a_role_without_pg_signal_backend_is_warned_before_running() {
        let info: ServerInfo = parse("info", include_str!("../tests/fixtures/info.ro.json")).unwrap();
        let sessions = fixture_sessions();
        let other = sessions
            .rows
            .iter()
            .find(|s| s.user.as_deref() != Some("opsdeck_ro"))
            .unwrap();
        let p = plan("hq-db", Signal::Cancel, other, Some(&info)).unwrap();
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("not a member of pg_signal_backend")),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn a_session_this_role_cannot_see_is_not_planned() {
        let mut s = fixture_sessions().rows[0].clone();
        s.backend_start = None;
        let e = plan("hq-db", Signal::Terminate, &s, None).unwrap_err();
        assert!(e.contains("cannot see the session"), "{e}");
    }
}
