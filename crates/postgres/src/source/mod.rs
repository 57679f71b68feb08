//! Reading a server and signalling its backends: the trait the pane and its actions use, the real client
//! (tokio-postgres, [`pg::PgSource`]), and the typed errors both speak.

pub mod pg;
pub mod sql;
pub mod tls;

use crate::model::{ErrorKind, Identity, ReadError, ServerPoll, Session, Signal, SignalAnswer};
use futures::future::BoxFuture;
use std::time::Duration;

/// A PostgreSQL server as the pane sees it. The real one is [`pg::PgSource`]; the demo injects a
/// simulated one (never reachable from a user's config).
pub trait PostgresSource: Send + Sync + std::fmt::Debug {
    /// The server's name from the config.
    fn server(&self) -> &str;
    /// One poll: every part read on its own, so a refused part leaves the others.
    fn poll(&self) -> BoxFuture<'_, ServerPoll>;
    /// Sends `signal` to `target.pid` if it is still the session of `target` (checked by the server in the
    /// same statement).
    fn signal<'a>(&'a self, signal: Signal, target: &'a Identity) -> BoxFuture<'a, Result<SignalAnswer, SourceError>>;
    /// The backend with this pid now, if any (what verification looks at).
    fn session(&self, pid: i32) -> BoxFuture<'_, Result<Option<Session>, SourceError>>;
}

/// A failed call, by kind, with the server's words where it gave any.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("{what}: no answer within {}", humantime::format_duration(*.after))]
    Timeout { what: String, after: Duration },
    #[error("{what}: {detail}")]
    Unreachable { what: String, detail: String },
    #[error("{what}: TLS: {detail}")]
    Tls { what: String, detail: String },
    /// The server refused: authentication, `pg_hba.conf`, a privilege. `code` is the SQLSTATE.
    #[error("{what}: refused by the server: {message}")]
    Refused {
        what: String,
        code: String,
        message: String,
    },
    #[error("{what}: {message}")]
    Missing { what: String, message: String },
    #[error("{what}: unexpected answer: {detail}")]
    BadAnswer { what: String, detail: String },
}

impl SourceError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Unreachable { .. } => ErrorKind::Unreachable,
            Self::Tls { .. } => ErrorKind::Tls,
            Self::Refused { .. } => ErrorKind::Refused,
            Self::Missing { .. } => ErrorKind::Missing,
            Self::BadAnswer { .. } => ErrorKind::BadAnswer,
        }
    }
}

impl From<SourceError> for ReadError {
    fn from(e: SourceError) -> Self {
        ReadError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// The largest answer one read accepts (the SQL bounds rows and text; this bounds what a broken or
/// hostile server could send).
pub const MAX_ANSWER_BYTES: usize = 8 << 20;

/// Parses one JSON answer (`what` names the read in errors).
pub fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, SourceError> {
    if text.len() > MAX_ANSWER_BYTES {
        return Err(SourceError::BadAnswer {
            what: what.to_string(),
            detail: format!("{} bytes, more than the {MAX_ANSWER_BYTES} accepted", text.len()),
        });
    }
    serde_json::from_str(text).map_err(|e| SourceError::BadAnswer {
        what: what.to_string(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Connections, Sessions};

    #[test]
    fn a_bad_answer_names_the_read_and_the_problem() {
        let e = parse::<Sessions>("sessions", "{\"matched\": 1}").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadAnswer);
        assert!(
            e.to_string().starts_with("sessions: unexpected answer: missing field"),
            "{e}"
        );
        let huge = format!("\"{}\"", "x".repeat(MAX_ANSWER_BYTES));
        let e = parse::<Connections>("connections", &huge).unwrap_err();
        assert!(e.to_string().contains("more than the"), "{e}");
    }
}
