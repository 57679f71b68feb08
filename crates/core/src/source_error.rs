//! Why a poll of a source failed, typed at the place the cause is known (an HTTP status, a driver's
//! error code, a refused connection), so the runner's backoff and the alert's severity are decided
//! by kind. The human message travels with it and is only shown at the edge (the pane's error line,
//! `check`).

use serde::Serialize;
use std::fmt;

/// What a failed poll means for retrying it and for the person on call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No answer within the poll's time limit.
    Timeout,
    /// Nothing to talk to: connection refused or reset, no route, a name that does not resolve, a
    /// server error on the far side.
    Unreachable,
    /// The peer answered and would not let us in: a wrong password or key, a role without the
    /// right (HTTP 401/403, an authentication failure).
    Unauthorised,
    /// The peer does not serve what we asked (HTTP 400/404/405, an unknown topic or table): the
    /// config or the peer's version, not the network.
    Refused,
    /// An answer we cannot use: malformed, or larger than allowed.
    BadAnswer,
    /// Our own fault (a panic in the poller, a worker thread that failed).
    Internal,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Unauthorised => "unauthorised",
            ErrorKind::Refused => "refused",
            ErrorKind::BadAnswer => "bad answer",
            ErrorKind::Internal => "internal",
        }
    }
}

/// A failed poll: its kind and what to tell a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub kind: ErrorKind,
    pub message: String,
}

impl SourceError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unreachable, message)
    }
    pub fn unauthorised(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorised, message)
    }
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused, message)
    }
    pub fn bad_answer(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadAnswer, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// The same kind, its message after `context` ("GET /_cat/shards: …").
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self {
            message: format!("{context}: {}", self.message),
            ..self
        }
    }

    /// The HTTP status's kind: 401/403 unauthorised, 400/404/405/501 refused, 408 a timeout, any
    /// other the far side failing (unreachable, for now).
    pub fn http_status_kind(status: u16) -> ErrorKind {
        match status {
            401 | 403 => ErrorKind::Unauthorised,
            400 | 404 | 405 | 501 => ErrorKind::Refused,
            408 => ErrorKind::Timeout,
            _ => ErrorKind::Unreachable,
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceError {}

/// Read as its words (`err.contains(…)`, `err.as_str()`): callers past the boundary that only show
/// it need not unwrap it.
impl std::ops::Deref for SourceError {
    type Target = String;
    fn deref(&self) -> &String {
        &self.message
    }
}

/// Tests and callers that only want the words compare the message.
impl PartialEq<&str> for SourceError {
    fn eq(&self, other: &&str) -> bool {
        self.message == *other
    }
}

/// Past the source boundary (an action's outcome, a pillow's own error line) only the words count.
impl From<SourceError> for String {
    fn from(e: SourceError) -> String {
        e.message
    }
}
