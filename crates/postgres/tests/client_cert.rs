//! A client certificate (`sslcert`/`sslkey`) against a real PostgreSQL that logs in by certificate only:
//! `tests/cert-server.sh` makes the CA, the certificates and the cluster on a free loopback port. Needs
//! Debian's PostgreSQL and openssl; without them the test fails under CI (`CI` or `OPSDECK_REQUIRE_PEERS=1`)
//! and is skipped, saying so, otherwise.

use opsdeck_postgres::config::{PostgresConfig, ServerConfig, SslMode};
use opsdeck_postgres::model::ErrorKind;
use opsdeck_postgres::source::PostgresSource;
use opsdeck_postgres::source::pg::PgSource;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The server's dir; `down` when the test ends, passed or not.
struct CertServer {
    dir: PathBuf,
    port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cert-server.sh")
}

impl CertServer {
    fn up() -> Option<CertServer> {
        let have = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.flatten().any(|v| v.path().join("bin/initdb").exists()))
            .unwrap_or(false);
        if !have {
            let set = |n: &str| std::env::var(n).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
            let why = "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)";
            if set("CI") || set("OPSDECK_REQUIRE_PEERS") {
                panic!("{why}");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "opsdeck-pg-cert-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros())
                .unwrap_or(0)
        ));
        let out = Command::new("bash")
            .arg(script())
            .arg("up")
            .arg(&dir)
            .output()
            .expect("bash");
        let mut server = CertServer { dir, port: 0 };
        assert!(
            out.status.success(),
            "cert-server.sh up: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server.port = String::from_utf8_lossy(&out.stdout).trim().parse().expect("a port");
        Some(server)
    }

    fn config(&self, with_cert: bool) -> ServerConfig {
        let tls = self.dir.join("tls");
        ServerConfig {
            name: "cert".into(),
            address: format!("127.0.0.1:{}", self.port),
            database: "postgres".into(),
            user: "opsdeck_cert".into(),
            password_env: None,
            password_file: None,
            password: None,
            sslmode: SslMode::VerifyFull,
            sslrootcert: Some(tls.join("ca.crt")),
            sslcert: with_cert.then(|| tls.join("client.crt")),
            sslkey: with_cert.then(|| tls.join("client.key")),
            pillow_errors_database: None,
        }
    }
}

impl Drop for CertServer {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("down").arg(&self.dir).output();
    }
}

#[tokio::test]
async fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let Some(server) = CertServer::up() else { return };
    let settings = PostgresConfig::default();
    let poll = PgSource::new(&server.config(true), &settings).unwrap().poll().await;
    let info = poll.info.expect("logged in by certificate");
    assert_eq!(info.user, "opsdeck_cert");
    assert!(poll.sessions.is_ok());

    // Without it the server refuses, in its words.
    let e = PgSource::new(&server.config(false), &settings)
        .unwrap()
        .poll()
        .await
        .info
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Refused, "{e}");
    assert!(
        e.message.contains("connection requires a valid client certificate"),
        "{e}"
    );
}
