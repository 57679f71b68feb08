//! The SQL of each read: the server builds the answer as one JSON text, bounded by `LIMIT` and `left()`.
//! The fixtures in `tests/fixtures/` are these same files run by `capture.sh` against the real server.

pub const INFO: &str = include_str!("sql/info.sql");
pub const CONNECTIONS: &str = include_str!("sql/connections.sql");
pub const SESSIONS: &str = include_str!("sql/sessions.sql");
pub const BLOCKING: &str = include_str!("sql/blocking.sql");
pub const REPLICATION: &str = include_str!("sql/replication.sql");
pub const DATABASES: &str = include_str!("sql/databases.sql");
pub const PILLOW_ERRORS: &str = include_str!("sql/pillow_errors.sql");
/// One backend by pid (`$1`), in the shape of a `sessions` row: what actions verify against.
pub const SESSION: &str = include_str!("sql/session.sql");
/// Signals `$1` only if it is still the session of the plan (`$2` backend_start, `$3` query_start):
/// the check and the signal are one statement, so a pid reused in between is never signalled.
pub const SIGNAL: &str = include_str!("sql/signal.sql");

/// The columns of a session row, shared by `sessions` and `session`.
const SESSION_COLUMNS: &str = include_str!("sql/session_columns.sql");

/// `template` with its limits filled in (numbers from the validated config: nothing a user types as text).
pub fn render(template: &str, max_rows: u32, query_chars: u32) -> String {
    template
        .replace("{session_columns}", SESSION_COLUMNS)
        .replace("{max_rows}", &max_rows.to_string())
        .replace("{query_chars}", &query_chars.to_string())
}

/// The signal statement for `function` (one of two names this crate writes, never user text).
pub fn signal(function: &str) -> String {
    SIGNAL.replace("{function}", function)
}
