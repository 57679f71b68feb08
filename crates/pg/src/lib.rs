//! PostgreSQL connections as libpq users know them: a connection string's TLS options
//! ([`conninfo`]: `sslmode`, `sslrootcert`, `sslcert`, `sslkey`, which tokio-postgres does not parse)
//! and the rustls connector that gives each `sslmode` libpq's meaning ([`tls`]). One TLS stack for
//! every PostgreSQL client of the console: the pillows' checkpoint stores and the PostgreSQL pane.

pub mod conninfo;
pub mod tls;
