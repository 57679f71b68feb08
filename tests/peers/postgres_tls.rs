//! Pillow checkpoints in a PostgreSQL that accepts TLS only (`scripts/peers up postgres-tls`: `hostssl`
//! lines only, a certificate for localhost/127.0.0.1 signed by the instance's CA, and a second
//! postmaster whose certificate names another host), read as the least-privileged role `opsdeck_ro`
//! with libpq's `sslmode` values, as a managed service (RDS for PostgreSQL 15+) requires.

use super::env::{peer, unique};
use opsdeck_core::source_error::ErrorKind;
use opsdeck_pillows::source::checkpoints::{CheckpointStore, PgCheckpointStore};
use std::process::Command;
use std::time::Duration;

/// Runs `sql` as the instance's superuser through `psql` (libpq's own TLS, not ours).
fn psql_admin(address: &str, ca: &str, sql: &str) {
    let (host, port) = address.rsplit_once(':').expect("HOST:PORT");
    let password = std::env::var("OPSDECK_POSTGRES_TLS_ADMIN_PASSWORD").expect("admin password");
    let out = Command::new("psql")
        .arg(format!(
            "host={host} port={port} user=postgres dbname=postgres sslmode=verify-full sslrootcert={ca}"
        ))
        .args(["-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .env("PGPASSWORD", password)
        .output()
        .expect("psql (Debian: postgresql-client)");
    assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
}

/// A checkpoint table of its own with two rows, readable by `opsdeck_ro`; dropped on drop.
struct Table {
    address: String,
    ca: String,
    name: String,
}

impl Table {
    fn new(address: &str, ca: &str) -> Table {
        let name = unique("ckpt").replace('-', "_");
        psql_admin(
            address,
            ca,
            &format!(
                "CREATE TABLE {name} (checkpoint_id varchar(126) NOT NULL, topic varchar(126) NOT NULL, \
                 \"partition\" integer NOT NULL, \"offset\" bigint NOT NULL, \
                 doc_modification_time timestamptz NULL, last_modified timestamptz NOT NULL); \
                 INSERT INTO {name} VALUES ('case-pillow', 'case-sql', 0, 41, NULL, now()), \
                 ('case-pillow', 'case-sql', 1, 7, NULL, now()); \
                 GRANT SELECT ON {name} TO opsdeck_ro;"
            ),
        );
        Table {
            address: address.to_string(),
            ca: ca.to_string(),
            name,
        }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        psql_admin(&self.address, &self.ca, &format!("DROP TABLE IF EXISTS {}", self.name));
    }
}

/// `opsdeck_ro`'s connection string to `address` with extra libpq words.
fn conn(address: &str, extra: &str) -> String {
    conn_as("opsdeck_ro", "OPSDECK_POSTGRES_TLS_RO_PASSWORD", address, extra)
}

fn conn_as(user: &str, password_var: &str, address: &str, extra: &str) -> String {
    let (host, port) = address.rsplit_once(':').expect("HOST:PORT");
    let password = std::env::var(password_var).unwrap_or_else(|_| panic!("{password_var} is not set"));
    format!("host={host} port={port} user={user} password='{password}' dbname=postgres {extra}")
}

async fn offsets(conn: &str, table: &str) -> Result<Vec<i64>, String> {
    let store = PgCheckpointStore::new(conn, table, Duration::from_secs(10))?;
    let rows = store.read(&["case-pillow".to_string()]).await?;
    Ok(rows.iter().map(|r| r.offset).collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoints_are_read_over_tls_with_each_sslmode() {
    let address = peer!("OPSDECK_POSTGRES_TLS");
    let ca = peer!("OPSDECK_POSTGRES_TLS_CA");
    let table = Table::new(&address, &ca);
    let read = |extra: String| {
        let (conn, name) = (conn(&address, &extra), table.name.clone());
        async move { offsets(&conn, &name).await }
    };

    // The CA and the host name checked, in both of libpq's syntaxes.
    assert_eq!(
        read(format!("sslmode=verify-full sslrootcert={ca}")).await,
        Ok(vec![41, 7])
    );
    let (host, port) = address.rsplit_once(':').unwrap();
    let password = std::env::var("OPSDECK_POSTGRES_TLS_RO_PASSWORD").unwrap();
    let url = format!("postgresql://opsdeck_ro:{password}@{host}:{port}/postgres?sslmode=verify-full&sslrootcert={ca}");
    assert_eq!(offsets(&url, &table.name).await, Ok(vec![41, 7]));
    // Encrypted without a CA (libpq's require and its default, prefer), and the chain alone.
    assert_eq!(read("sslmode=require".into()).await, Ok(vec![41, 7]));
    assert_eq!(read(String::new()).await, Ok(vec![41, 7]));
    assert_eq!(
        read(format!("sslmode=verify-ca sslrootcert={ca}")).await,
        Ok(vec![41, 7])
    );

    // The server takes no unencrypted session: the refusal is the server's own words.
    let err = read("sslmode=disable".into()).await.unwrap_err();
    assert!(err.contains("no encryption"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_for_another_host_or_from_another_ca_is_refused() {
    let address = peer!("OPSDECK_POSTGRES_TLS");
    let wrong_host = peer!("OPSDECK_POSTGRES_TLS_WRONG_HOST");
    let ca = peer!("OPSDECK_POSTGRES_TLS_CA");
    let table = Table::new(&address, &ca);

    // A second postmaster (a copy of the cluster made before its roles and tables, so only its
    // superuser) behind a certificate from the same CA naming wrong.opsdeck.invalid: verify-full
    // refuses it before logging in; verify-ca (the chain alone) logs in and reaches the database,
    // whose answer is that the table is not there.
    let (host, port) = wrong_host.rsplit_once(':').unwrap();
    let admin = std::env::var("OPSDECK_POSTGRES_TLS_ADMIN_PASSWORD").unwrap();
    let superuser = |mode: &str| {
        format!(
            "host={host} port={port} user=postgres password='{admin}' dbname=postgres sslmode={mode} sslrootcert={ca}"
        )
    };
    let err = offsets(&superuser("verify-full"), &table.name).await.unwrap_err();
    assert!(
        err.contains("certificate") && err.contains("not valid for name"),
        "{err}"
    );
    let err = offsets(&superuser("verify-ca"), &table.name).await.unwrap_err();
    assert!(
        err.contains(&format!("relation \"{}\" does not exist", table.name)),
        "{err}"
    );

    // A CA that did not sign the server's certificate: refused in both verify modes and in `require`
    // with a root certificate (libpq then checks the chain too).
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=not ours",
        ])
        .arg("-keyout")
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    for mode in ["verify-full", "verify-ca", "require"] {
        let extra = format!("sslmode={mode} sslrootcert={}", other_ca.display());
        let err = offsets(&conn(&address, &extra), &table.name).await.unwrap_err();
        assert!(
            err.contains("UnknownIssuer") || err.contains("unknown issuer"),
            "{mode}: {err}"
        );
    }
}

/// docs/least-privilege.md's recipe: `SELECT` to view, `UPDATE ("offset", last_modified)` to move.
#[tokio::test(flavor = "multi_thread")]
async fn moving_a_checkpoint_takes_the_update_grant_and_nothing_else() {
    let address = peer!("OPSDECK_POSTGRES_TLS");
    let ca = peer!("OPSDECK_POSTGRES_TLS_CA");
    let table = Table::new(&address, &ca);
    let tls = format!("sslmode=verify-full sslrootcert={ca}");
    let moves = [("case-sql".to_string(), 0, 41_i64, 50_i64)];

    let viewer = PgCheckpointStore::new(&conn(&address, &tls), &table.name, Duration::from_secs(10)).unwrap();
    let err = viewer.move_to("case-pillow", &moves).await.unwrap_err();
    assert!(
        err.contains(&format!("permission denied for table {}", table.name)),
        "{err}"
    );

    psql_admin(
        &address,
        &ca,
        &format!(
            "GRANT SELECT, UPDATE (\"offset\", last_modified) ON {} TO opsdeck_op",
            table.name
        ),
    );
    let op = conn_as("opsdeck_op", "OPSDECK_POSTGRES_TLS_OP_PASSWORD", &address, &tls);
    let operator = PgCheckpointStore::new(&op, &table.name, Duration::from_secs(10)).unwrap();
    assert_eq!(operator.move_to("case-pillow", &moves).await, Ok(1));
    assert_eq!(offsets(&conn(&address, &tls), &table.name).await, Ok(vec![50, 7]));
}

/// The source's error says what failed: a wrong password is a refused login (the runner asks again
/// slowly, `check` says "check credentials"), not a network failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_unauthorised() {
    let address = peer!("OPSDECK_POSTGRES_TLS");
    let ca = peer!("OPSDECK_POSTGRES_TLS_CA");
    let table = Table::new(&address, &ca);
    let (host, port) = address.rsplit_once(':').expect("HOST:PORT");
    let wrong = format!(
        "host={host} port={port} user=opsdeck_ro password='not-the-password' dbname=postgres \
         sslmode=verify-full sslrootcert={ca}"
    );
    let store = PgCheckpointStore::new(&wrong, &table.name, Duration::from_secs(10)).unwrap();
    let err = store.read(&["case-pillow".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorised, "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    // The right password reads (the refusal was the password's).
    let right = conn(&address, &format!("sslmode=verify-full sslrootcert={ca}"));
    assert_eq!(offsets(&right, &table.name).await.unwrap(), vec![41, 7]);
}

/// `opsdeck doctor` over TLS (verify-full): the viewing role reads but may not move, named by the
/// grant it lacks; the operating role may do both.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_names_the_missing_grant_over_tls() {
    use opsdeck_core::doctor::Verdict;
    let address = peer!("OPSDECK_POSTGRES_TLS");
    let ca = peer!("OPSDECK_POSTGRES_TLS_CA");
    let table = Table::new(&address, &ca);
    let tls = format!("sslmode=verify-full sslrootcert={ca}");
    let config = |conn: String| {
        let mut c = opsdeck::config::Config::default();
        let mut pillow = super::super::pillows_common::pillow("case");
        pillow.checkpoint_id = Some("case-pillow".into());
        c.pillows.pillows = vec![pillow];
        c.pillows.postgres = Some(conn);
        c.pillows.checkpoint_table = table.name.clone();
        // Kafka is not what this test is about: where nothing answers, briefly.
        c.pillows.brokers = format!("127.0.0.1:{}", super::super::harness::free_port());
        c.pillows.timeout = opsdeck_core::config::ConfigDuration(Duration::from_secs(2));
        c
    };
    let verdict = |found: &[opsdeck_core::doctor::Finding], capability: &str| {
        found
            .iter()
            .find(|f| f.capability == capability)
            .unwrap_or_else(|| panic!("no {capability}: {found:#?}"))
            .verdict
            .clone()
    };

    let found = opsdeck::doctor::findings(&config(conn(&address, &tls))).await;
    assert_eq!(verdict(&found, "connect"), Verdict::Ok("as opsdeck_ro".into()));
    assert_eq!(verdict(&found, "read checkpoints"), Verdict::Ok(String::new()));
    assert_eq!(
        verdict(&found, "move checkpoints"),
        Verdict::Missing(format!(
            "UPDATE (\"offset\", last_modified) on {} (role opsdeck_ro)",
            table.name
        ))
    );

    psql_admin(
        &address,
        &ca,
        &format!(
            "GRANT SELECT, UPDATE (\"offset\", last_modified) ON {} TO opsdeck_op",
            table.name
        ),
    );
    let op = conn_as("opsdeck_op", "OPSDECK_POSTGRES_TLS_OP_PASSWORD", &address, &tls);
    let found = opsdeck::doctor::findings(&config(op)).await;
    assert_eq!(verdict(&found, "move checkpoints"), Verdict::Ok(String::new()));
}
