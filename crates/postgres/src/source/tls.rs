//! The pane's TLS: a server section's libpq options (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`)
//! handed to the console's one PostgreSQL connector (`opsdeck-pg`, which the pillows' checkpoint
//! stores use too), so both mean by each `sslmode` what libpq does.

use crate::config::{ServerConfig, SslMode};
use opsdeck_pg::conninfo::{RootCerts, SslMode as Libpq, TlsOptions};
pub use opsdeck_pg::tls::MakeRustls;

/// The connector for `server` (`None` for `sslmode = "disable"`). Reads the PEM files now, so a
/// missing or bad file is an error at start, not at the first poll.
pub fn connector(server: &ServerConfig) -> Result<Option<MakeRustls>, String> {
    let mode = match server.sslmode {
        SslMode::Disable => return Ok(None),
        SslMode::Require => Libpq::Require,
        SslMode::VerifyCa => Libpq::VerifyCa,
        SslMode::VerifyFull => Libpq::VerifyFull,
    };
    let options = TlsOptions {
        mode,
        root_certs: server.sslrootcert.clone().map(|p| {
            if p.as_os_str() == crate::config::SYSTEM_ROOTS {
                RootCerts::System
            } else {
                RootCerts::File(p)
            }
        }),
        client_cert: server.sslcert.clone().zip(server.sslkey.clone()),
    };
    opsdeck_pg::tls::connector(&options).map(Some)
}
