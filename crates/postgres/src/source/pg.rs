//! The real server through tokio-postgres: every connection read-only, bounded by the server's
//! `statement_timeout` and a client-side timeout on every call; one poll = one connection (two with pillow
//! errors, which live in HQ's database) carrying independent reads pipelined at once.

use super::tls::{MakeRustls, connector};
use super::{PostgresSource, SourceError, parse, sql};
use crate::config::{PostgresConfig, ServerConfig};
use crate::model::{ErrorKind, Identity, ReadError, ServerPoll, Session, Signal, SignalAnswer};
use futures::StreamExt;
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Client};

/// At most this many server notices are kept per connection (what a declined signal reports).
const MAX_NOTICES: usize = 16;

#[derive(Clone)]
pub struct PgSource {
    name: String,
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    database: String,
    pillow_errors_database: Option<String>,
    tls: Option<MakeRustls>,
    timeout: Duration,
    max_rows: u32,
    query_chars: u32,
}

/// Without the password: a source may end up in a log line.
impl std::fmt::Debug for PgSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSource")
            .field("name", &self.name)
            .field("at", &self.describe())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// A connection and the notices (`WARNING: ...`) its server sent.
struct Connection {
    client: Client,
    notices: Arc<Mutex<Vec<String>>>,
}

impl PgSource {
    /// Reads the password and TLS files now: a mistake there is said at start, not at every poll.
    pub fn new(server: &ServerConfig, config: &PostgresConfig) -> Result<Self, String> {
        let (host, port) = server.host_port()?;
        Ok(Self {
            name: server.name.clone(),
            host,
            port,
            user: server.user.clone(),
            password: server.password()?,
            database: server.database.clone(),
            pillow_errors_database: server.pillow_errors_database.clone(),
            tls: connector(server)?,
            timeout: config.timeout.get(),
            max_rows: config.max_rows,
            query_chars: config.query_chars,
        })
    }

    /// Where it connects, for plans and errors (no password).
    pub fn describe(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.database)
    }

    async fn connect(&self, database: &str) -> Result<Connection, SourceError> {
        let what = format!("connecting to {}@{}:{}/{database}", self.user, self.host, self.port);
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(database)
            .application_name("opsdeck")
            .connect_timeout(self.timeout);
        if let Some(p) = &self.password {
            config.password(p);
        }
        // Read-only sessions (signalling is a SELECT), naive timestamps read as UTC (HQ keeps them so),
        // and the server stops anything of ours that overruns or waits on a lock: a little before the
        // client gives up, so what is said is the server's words (the client timeout is the backstop).
        let ms = (self.timeout.as_millis() * 9 / 10).max(1);
        config.options(format!(
            "-c default_transaction_read_only=on -c TimeZone=UTC -c statement_timeout={ms} -c lock_timeout={ms}"
        ));
        let notices = Arc::new(Mutex::new(Vec::new()));
        let client = match &self.tls {
            None => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                let (client, connection) = bounded(&what, self.timeout, config.connect(tokio_postgres::NoTls)).await?;
                drive(connection, notices.clone());
                client
            }
            Some(tls) => {
                config.ssl_mode(tokio_postgres::config::SslMode::Require);
                let (client, connection) = bounded(&what, self.timeout, config.connect(tls.clone())).await?;
                drive(connection, notices.clone());
                client
            }
        };
        Ok(Connection { client, notices })
    }

    /// One read: `template` run on `client`, its one JSON text parsed as `T`.
    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        client: &Client,
        what: &str,
        template: &str,
    ) -> Result<T, ReadError> {
        let text = sql::render(template, self.max_rows, self.query_chars);
        let row = bounded(what, self.timeout, client.query_one(&text, &[])).await?;
        let json: String = row.try_get(0).map_err(|e| SourceError::BadAnswer {
            what: what.to_string(),
            detail: e.to_string(),
        })?;
        Ok(parse(what, &json)?)
    }

    /// Database sizes. A database dropped between the catalog scan and its `pg_database_size` fails the
    /// whole statement ("database with OID … does not exist"): seen on the test peer, where other tests
    /// drop theirs; on servers where CI makes and drops databases too. One more read finds the catalog
    /// without it.
    async fn databases(&self, client: &Client) -> Result<Vec<crate::model::DatabaseSize>, ReadError> {
        match self.read(client, "databases", sql::DATABASES).await {
            Err(e) if e.kind == ErrorKind::Missing => {
                tracing::debug!("database sizes: {e}; reading once more");
                self.read(client, "databases", sql::DATABASES).await
            }
            other => other,
        }
    }

    async fn pillow_errors(&self, database: &str) -> Result<Vec<crate::model::PillowErrorGroup>, ReadError> {
        let conn = self.connect(database).await?;
        self.read(&conn.client, "pillow_errors", sql::PILLOW_ERRORS).await
    }
}

/// Runs the connection's I/O, keeping the server's notices (bounded).
fn drive<S, T>(mut connection: tokio_postgres::Connection<S, T>, notices: Arc<Mutex<Vec<String>>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notice(n)) => {
                    if let Ok(mut kept) = notices.lock()
                        && kept.len() < MAX_NOTICES
                    {
                        kept.push(format!("{}: {}", n.severity(), n.message()));
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!("postgres connection ended: {e}");
                    break;
                }
            }
        }
    });
}

/// `f` within `timeout`, its error classified.
async fn bounded<T>(
    what: &str,
    timeout: Duration,
    f: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, SourceError> {
    match tokio::time::timeout(timeout, f).await {
        Err(_) => Err(SourceError::Timeout {
            what: what.to_string(),
            after: timeout,
        }),
        Ok(r) => r.map_err(|e| classify(what, timeout, &e)),
    }
}

/// A tokio-postgres error as a [`SourceError`]: the server's own words (message, detail, hint) when it
/// sent an error, else the client's chain of causes.
pub fn classify(what: &str, timeout: Duration, e: &tokio_postgres::Error) -> SourceError {
    use tokio_postgres::error::SqlState;
    let what = what.to_string();
    if let Some(db) = e.as_db_error() {
        let mut message = db.message().to_string();
        if let Some(detail) = db.detail() {
            message = format!("{message} ({detail})");
        }
        if let Some(hint) = db.hint() {
            message = format!("{message}; hint: {hint}");
        }
        let code = db.code().clone();
        return if code == SqlState::QUERY_CANCELED || code == SqlState::LOCK_NOT_AVAILABLE {
            // The server's statement_timeout or lock_timeout (or someone cancelled our query).
            SourceError::Timeout {
                what: format!("{what} ({message})"),
                after: timeout,
            }
        } else if [
            SqlState::INSUFFICIENT_PRIVILEGE,
            SqlState::INVALID_PASSWORD,
            SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(&code)
        {
            SourceError::Refused {
                what,
                code: code.code().to_string(),
                message,
            }
        } else if [
            SqlState::UNDEFINED_TABLE,
            SqlState::INVALID_CATALOG_NAME,
            SqlState::UNDEFINED_COLUMN,
            SqlState::UNDEFINED_FUNCTION,
        ]
        .contains(&code)
        {
            SourceError::Missing { what, message }
        } else {
            SourceError::BadAnswer {
                what,
                detail: format!("{message} (SQLSTATE {})", code.code()),
            }
        };
    }
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        detail = format!("{detail}: {inner}");
        source = inner.source();
    }
    if detail.starts_with("error performing TLS handshake") {
        SourceError::Tls { what, detail }
    } else if detail.contains("password missing") {
        SourceError::Refused {
            what,
            code: String::new(),
            message: "the server asks for a password and none is configured (password_env or password_file)".into(),
        }
    } else if detail.starts_with("error connecting to server")
        || detail.starts_with("error communicating with the server")
        || detail.starts_with("connection closed")
        || detail.starts_with("timeout waiting for server")
    {
        SourceError::Unreachable { what, detail }
    } else {
        SourceError::BadAnswer { what, detail }
    }
}

impl PostgresSource for PgSource {
    fn server(&self) -> &str {
        &self.name
    }

    fn poll(&self) -> BoxFuture<'_, ServerPoll> {
        Box::pin(async move {
            let pillows = async {
                match &self.pillow_errors_database {
                    Some(db) => Some(self.pillow_errors(db).await),
                    None => None,
                }
            };
            let main = async {
                let conn = self.connect(&self.database).await?;
                let c = &conn.client;
                // Pipelined on one connection; each its own statement, so one refused leaves the others.
                Ok::<_, SourceError>(futures::join!(
                    self.read(c, "info", sql::INFO),
                    self.read(c, "connections", sql::CONNECTIONS),
                    self.read(c, "sessions", sql::SESSIONS),
                    self.read(c, "blocking", sql::BLOCKING),
                    self.read(c, "replication", sql::REPLICATION),
                    self.databases(c),
                ))
            };
            let (main, pillow_errors) = futures::join!(main, pillows);
            match main {
                Err(e) => ServerPoll {
                    pillow_errors,
                    ..ServerPoll::failed(&self.name, e.into(), false)
                },
                Ok((info, connections, sessions, blocking, replication, databases)) => ServerPoll {
                    server: self.name.clone(),
                    info,
                    connections,
                    sessions,
                    blocking,
                    replication,
                    databases,
                    pillow_errors,
                },
            }
        })
    }

    fn signal<'a>(&'a self, signal: Signal, target: &'a Identity) -> BoxFuture<'a, Result<SignalAnswer, SourceError>> {
        Box::pin(async move {
            let what = format!("{}({})", signal.function(), target.pid);
            let conn = self.connect(&self.database).await?;
            let statement = sql::signal(signal.function());
            let row = bounded(
                &what,
                self.timeout,
                conn.client
                    .query_opt(&statement, &[&target.pid, &target.backend_start, &target.query_start]),
            )
            .await?;
            let Some(row) = row else { return Ok(SignalAnswer::Gone) };
            let get = |i: usize| {
                row.try_get::<_, Option<String>>(i).map_err(|e| SourceError::BadAnswer {
                    what: what.clone(),
                    detail: e.to_string(),
                })
            };
            let (backend_start, query_start) = (get(0)?, get(1)?);
            let sent: Option<bool> = row.try_get(2).map_err(|e| SourceError::BadAnswer {
                what: what.clone(),
                detail: e.to_string(),
            })?;
            Ok(match (backend_start.is_some(), sent) {
                (false, _) => SignalAnswer::NotVisible,
                (true, None) => SignalAnswer::Changed {
                    backend_start,
                    query_start,
                },
                (true, Some(true)) => SignalAnswer::Sent,
                (true, Some(false)) => SignalAnswer::Declined {
                    notices: conn.notices.lock().map(|n| n.clone()).unwrap_or_default(),
                },
            })
        })
    }

    fn session(&self, pid: i32) -> BoxFuture<'_, Result<Option<Session>, SourceError>> {
        Box::pin(async move {
            let what = format!("pg_stat_activity pid {pid}");
            let conn = self.connect(&self.database).await?;
            let statement = sql::render(sql::SESSION, self.max_rows, self.query_chars);
            let row = bounded(&what, self.timeout, conn.client.query_opt(&statement, &[&pid])).await?;
            match row {
                None => Ok(None),
                Some(row) => {
                    let json: String = row.try_get(0).map_err(|e| SourceError::BadAnswer {
                        what: what.clone(),
                        detail: e.to_string(),
                    })?;
                    parse(&what, &json).map(Some)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_password() {
        let mut server: ServerConfig =
            serde_json::from_str(r#"{"name": "a", "address": "db:5433", "user": "u", "sslmode": "disable"}"#).unwrap();
        // Through a file: setting an env var while other tests' threads read theirs is a race.
        let file = std::env::temp_dir().join(format!("opsdeck-pg-debug-pw-{}", std::process::id()));
        std::fs::write(&file, "hunter2-secret\n").unwrap();
        server.password_file = Some(file.clone());
        let source = PgSource::new(&server, &PostgresConfig::default()).unwrap();
        std::fs::remove_file(file).unwrap();
        let shown = format!("{source:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("u@db:5433/postgres"), "{shown}");
    }
}
