//! Checkpoint tables: CommCare HQ's `pillowtop_kafkacheckpoint` in PostgreSQL (tokio-postgres), and a
//! the trait the demo's in-memory table (its `demo` module) implements too.

use futures::future::BoxFuture;
use opsdeck_core::source_error::{ErrorKind, SourceError};
use opsdeck_pg::conninfo::{SslMode, split_tls};
use opsdeck_pg::tls::{MakeRustls, connector, wire_mode};

use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_postgres::error::SqlState;

/// One row of the checkpoint table. `offset` is the next offset to read.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRow {
    pub checkpoint_id: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub doc_modification_time: Option<SystemTime>,
    pub last_modified: Option<SystemTime>,
}

/// A checkpoint to move: `(topic, partition, expected current offset, new offset)`. The expected
/// offset guards against a process that wrote the row after the plan was made.
pub type CheckpointMove = (String, i32, i64, i64);

/// Where pillows keep checkpoint rows.
pub trait CheckpointStore: Send + Sync + std::fmt::Debug {
    /// Rows for `ids`, ordered by checkpoint id, topic, partition.
    fn read<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<CheckpointRow>, SourceError>>;
    /// Sets the offsets of `id` in one transaction; fails (changing nothing) if any row is missing or
    /// no longer at its expected offset. Returns the number of rows updated.
    fn move_to<'a>(&'a self, id: &'a str, moves: &'a [CheckpointMove]) -> BoxFuture<'a, Result<u64, String>>;
    /// Where the rows live, for plans and errors (no password).
    fn describe(&self) -> String;
}

/// The real store: a PostgreSQL table read and written with tokio-postgres.
#[derive(Clone)]
pub struct PgCheckpointStore {
    config: tokio_postgres::Config,
    /// `None` for `sslmode=disable`.
    tls: Option<MakeRustls>,
    table: String,
    timeout: Duration,
}

impl std::fmt::Debug for PgCheckpointStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCheckpointStore")
            .field("at", &self.describe())
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl PgCheckpointStore {
    /// Parses the connection string and reads the TLS files it names (no network). `table` was
    /// validated as a plain identifier.
    pub fn new(conn: &str, table: &str, timeout: Duration) -> Result<Self, String> {
        let (conn, tls) = split_tls(conn).map_err(|e| format!("pillows.postgres: {e}"))?;
        let mut config: tokio_postgres::Config = conn
            .parse()
            .map_err(|e| format!("pillows.postgres: cannot parse the connection string: {e}"))?;
        config.ssl_mode(wire_mode(tls.mode));
        let tls = match tls.mode {
            SslMode::Disable => None,
            _ => Some(connector(&tls).map_err(|e| format!("pillows.postgres: {e}"))?),
        };
        config.connect_timeout(timeout);
        // The server stops any statement that overruns, so a slow query cannot hold locks behind us.
        let ms = timeout.as_millis().max(1);
        config.options(format!("-c statement_timeout={ms} -c lock_timeout={ms}"));
        config.application_name("opsdeck");
        Ok(Self {
            config,
            tls,
            table: table.to_string(),
            timeout,
        })
    }

    fn quoted_table(&self) -> String {
        self.table
            .split('.')
            .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(".")
    }

    async fn connect(&self) -> Result<tokio_postgres::Client, SourceError> {
        match &self.tls {
            None => self.connect_with(tokio_postgres::NoTls).await,
            Some(tls) => self.connect_with(tls.clone()).await,
        }
    }

    async fn connect_with<T>(&self, tls: T) -> Result<tokio_postgres::Client, SourceError>
    where
        T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
        T::Stream: Send + 'static,
    {
        let (client, connection) = tokio::time::timeout(self.timeout, self.config.connect(tls))
            .await
            .map_err(|_| {
                SourceError::timeout(format!(
                    "Postgres {}: no connection within {:?}",
                    self.describe(),
                    self.timeout
                ))
            })?
            .map_err(|e| pg_error(&e).context(format_args!("Postgres {}", self.describe())))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("postgres connection ended: {e}");
            }
        });
        Ok(client)
    }

    async fn bounded<T>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, SourceError> {
        tokio::time::timeout(self.timeout, f)
            .await
            .map_err(|_| SourceError::timeout(format!("Postgres {what}: no answer within {:?}", self.timeout)))?
            .map_err(|e| pg_error(&e).context(format_args!("Postgres {what}")))
    }
}

/// What the connected role may do with the checkpoint table (`opsdeck doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableGrants {
    /// The role the connection string logs in as.
    pub role: String,
    /// `SELECT` on the table: what the pane reads.
    pub select: bool,
    /// `UPDATE` of the columns a checkpoint move writes (`"offset"`, `last_modified`).
    pub update: bool,
}

impl PgCheckpointStore {
    /// The table this store reads.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Connects (TLS as configured) and asks the server what the role may do with the table,
    /// changing nothing: `has_table_privilege` and `has_column_privilege` (the operating grant is
    /// per column). A table that does not exist is an error saying so.
    pub async fn grants(&self) -> Result<TableGrants, String> {
        let client = self.connect().await?;
        let sql = "SELECT current_user::text, has_table_privilege($1::text, 'SELECT'), \
                   has_column_privilege($1::text, 'offset', 'UPDATE') AND has_column_privilege($1::text, 'last_modified', 'UPDATE')";
        let row = self
            .bounded(
                &format!("privileges on {}", self.table),
                client.query_one(sql, &[&self.quoted_table()]),
            )
            .await?;
        Ok(TableGrants {
            role: row.try_get(0).map_err(|e| format!("current_user: {e}"))?,
            select: row.try_get(1).map_err(|e| format!("has_table_privilege: {e}"))?,
            update: row.try_get(2).map_err(|e| format!("has_column_privilege: {e}"))?,
        })
    }
}

/// The server's message when there is one ("relation … does not exist"), else the client's; its
/// kind from the server's SQLSTATE (a refused login, a missing table) or the connection's failure.
fn pg_error(e: &tokio_postgres::Error) -> SourceError {
    match e.as_db_error() {
        Some(db) => SourceError::new(sqlstate_kind(db.code()), db.message()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s = format!("{s}: {inner}");
                src = inner.source();
            }
            // No answer from a server: the connection failed (refused, reset, no route, TLS).
            SourceError::unreachable(s)
        }
    }
}

/// What a server's SQLSTATE means for the poll.
fn sqlstate_kind(code: &SqlState) -> ErrorKind {
    let class = &code.code()[..2];
    if class == "28" || *code == SqlState::INSUFFICIENT_PRIVILEGE {
        // Class 28 is a refused login (a wrong password, no pg_hba entry); 42501 a missing grant.
        ErrorKind::Unauthorised
    } else if class == "42" || *code == SqlState::INVALID_CATALOG_NAME {
        // A missing table or column, SQL this server does not take, a database that does not exist.
        ErrorKind::Refused
    } else if *code == SqlState::QUERY_CANCELED {
        // Our statement_timeout stopped the query.
        ErrorKind::Timeout
    } else {
        // Connection (08), resources (53), shutting down (57): the server side may recover.
        ErrorKind::Unreachable
    }
}

/// A row whose column does not read as its type: the table is not the one we know.
fn bad_column(column: &str, e: tokio_postgres::Error) -> SourceError {
    SourceError::bad_answer(format!("{column}: {e}"))
}

impl CheckpointStore for PgCheckpointStore {
    fn read<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<CheckpointRow>, SourceError>> {
        Box::pin(async move {
            let client = self.connect().await?;
            let sql = format!(
                "SELECT checkpoint_id, topic, \"partition\", \"offset\", doc_modification_time, last_modified \
                 FROM {} WHERE checkpoint_id = ANY($1) ORDER BY checkpoint_id, topic, \"partition\"",
                self.quoted_table()
            );
            let rows = self
                .bounded(&format!("reading {}", self.table), client.query(&sql, &[&ids]))
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(CheckpointRow {
                        checkpoint_id: r.try_get(0).map_err(|e| bad_column("checkpoint_id", e))?,
                        topic: r.try_get(1).map_err(|e| bad_column("topic", e))?,
                        partition: r.try_get(2).map_err(|e| bad_column("partition", e))?,
                        offset: r.try_get(3).map_err(|e| bad_column("offset", e))?,
                        doc_modification_time: r.try_get(4).map_err(|e| bad_column("doc_modification_time", e))?,
                        last_modified: r.try_get(5).map_err(|e| bad_column("last_modified", e))?,
                    })
                })
                .collect()
        })
    }

    fn move_to<'a>(&'a self, id: &'a str, moves: &'a [CheckpointMove]) -> BoxFuture<'a, Result<u64, String>> {
        Box::pin(async move {
            let mut client = self.connect().await?;
            let tx = self.bounded("begin", client.transaction()).await?;
            let sql = format!(
                "UPDATE {} SET \"offset\" = $1, last_modified = now() \
                 WHERE checkpoint_id = $2 AND topic = $3 AND \"partition\" = $4 AND \"offset\" = $5",
                self.quoted_table()
            );
            let stmt = self.bounded("prepare", tx.prepare(&sql)).await?;
            let mut updated = 0;
            for (topic, partition, expected, new) in moves {
                let n = self
                    .bounded("update", tx.execute(&stmt, &[new, &id, topic, partition, expected]))
                    .await?;
                if n != 1 {
                    // Dropping the transaction rolls it back: nothing moves unless everything does.
                    return Err(format!(
                        "checkpoint {id} {topic}:{partition} is no longer at offset {expected} (a process may still \
                         be running); nothing was changed"
                    ));
                }
                updated += n;
            }
            self.bounded("commit", tx.commit()).await?;
            Ok(updated)
        })
    }

    fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        format!(
            "{}/{} table {}",
            hosts.join(","),
            self.config.get_dbname().unwrap_or("postgres"),
            self.table
        )
    }
}

/// Where a `pillows.postgres` value points, without credentials (for plans), parsed without I/O.
pub fn describe_conn(conn: &str, table: &str) -> String {
    match PgCheckpointStore::new(conn, table, Duration::from_secs(1)) {
        Ok(store) => store.describe(),
        Err(_) => format!("table {table}"),
    }
}

/// The store a `pillows.postgres` value names.
pub fn open_store(conn: &str, table: &str, timeout: Duration) -> Result<Arc<dyn CheckpointStore>, String> {
    Ok(Arc::new(PgCheckpointStore::new(conn, table, timeout)?))
}
