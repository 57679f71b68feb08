//! Against the real TLS-only PostgreSQL of `scripts/peers up postgres-tls` (`eval "$(scripts/peers env)"`):
//! roles postgres (superuser, setup), opsdeck_ro (pg_monitor), opsdeck_op (pg_signal_backend), its CA, and
//! a postmaster whose certificate names another host. Each test makes its own database and REAL sessions:
//! a long query holding a row lock, writers queued behind it, an idle transaction. Without the variables a
//! test fails under CI (`CI` or `OPSDECK_REQUIRE_PEERS=1`) and is skipped, saying so, otherwise.

use opsdeck_postgres::actions::{self, Outcome};
use opsdeck_postgres::config::{ConfigDuration, PostgresConfig, ServerConfig, SslMode};
use opsdeck_postgres::model::{ErrorKind, ServerPoll, Session, Signal};
use opsdeck_postgres::source::PostgresSource;
use opsdeck_postgres::source::pg::PgSource;
use opsdeck_postgres::source::tls::connector;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

const DEADLINE: Duration = Duration::from_secs(20);

#[derive(Clone)]
struct Peer {
    address: String,
    wrong_host: String,
    ca: String,
}

/// The peer, or `None` (skipped loudly; a failure under CI).
fn peer() -> Option<Peer> {
    let var = "OPSDECK_POSTGRES_TLS";
    match std::env::var(var) {
        Ok(address) if !address.trim().is_empty() => Some(Peer {
            address,
            wrong_host: env("OPSDECK_POSTGRES_TLS_WRONG_HOST"),
            ca: env("OPSDECK_POSTGRES_TLS_CA"),
        }),
        _ => {
            let hint = "scripts/peers up postgres-tls; eval \"$(scripts/peers env)\"";
            let set = |n: &str| std::env::var(n).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
            if set("CI") || set("OPSDECK_REQUIRE_PEERS") {
                panic!("{var} is not set: {hint}");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED, no real peer: {var} is not set ({hint})");
            None
        }
    }
}

fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set (scripts/peers env exports it)"))
}

/// `prefix_PID_N`: a name no other test (or run) uses; lower case, a plain identifier.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() % 1_000_000_000)
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{micros}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A password in a file of its own (`password_file`), removed at the end of the test.
struct PasswordFile(std::path::PathBuf);

impl PasswordFile {
    fn new(password: &str) -> Self {
        let path = std::env::temp_dir().join(unique("opsdeck_t_password"));
        std::fs::write(&path, format!("{password}\n")).unwrap();
        Self(path)
    }
}

impl Drop for PasswordFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[derive(Clone, Copy)]
enum Role {
    Admin,
    Ro,
    Op,
}

impl Role {
    fn user(self) -> String {
        env(match self {
            Role::Admin => "OPSDECK_POSTGRES_TLS_ADMIN_USER",
            Role::Ro => "OPSDECK_POSTGRES_TLS_RO_USER",
            Role::Op => "OPSDECK_POSTGRES_TLS_OP_USER",
        })
    }
    fn password_var(self) -> &'static str {
        match self {
            Role::Admin => "OPSDECK_POSTGRES_TLS_ADMIN_PASSWORD",
            Role::Ro => "OPSDECK_POSTGRES_TLS_RO_PASSWORD",
            Role::Op => "OPSDECK_POSTGRES_TLS_OP_PASSWORD",
        }
    }
}

fn server(peer: &Peer, role: Role, database: &str) -> ServerConfig {
    ServerConfig {
        name: "peer".into(),
        address: peer.address.clone(),
        database: database.into(),
        user: role.user(),
        password_env: Some(role.password_var().into()),
        password_file: None,
        password: None,
        sslmode: SslMode::VerifyFull,
        sslrootcert: Some(peer.ca.clone().into()),
        sslcert: None,
        sslkey: None,
        pillow_errors_database: None,
    }
}

fn settings() -> PostgresConfig {
    PostgresConfig {
        timeout: ConfigDuration(Duration::from_secs(5)),
        ..PostgresConfig::default()
    }
}

fn source(server: &ServerConfig) -> PgSource {
    PgSource::new(server, &settings()).expect("source")
}

/// A plain client of the test's own (setup and the scene's sessions), as `user`/`password` over TLS.
async fn client_as(peer: &Peer, user: &str, password: &str, database: &str, app: &str) -> tokio_postgres::Client {
    let mut s = server(peer, Role::Admin, database);
    s.user = user.into();
    let (host, port) = s.host_port().unwrap();
    let tls = connector(&s).unwrap().unwrap();
    let mut config = tokio_postgres::Config::new();
    config
        .host(&host)
        .port(port)
        .user(user)
        .password(password)
        .dbname(database)
        .application_name(app)
        .connect_timeout(Duration::from_secs(5))
        .ssl_mode(tokio_postgres::config::SslMode::Require);
    let (client, connection) = config.connect(tls).await.expect("connect");
    tokio::spawn(connection);
    client
}

async fn client(peer: &Peer, role: Role, database: &str, app: &str) -> tokio_postgres::Client {
    client_as(peer, &role.user(), &env(role.password_var()), database, app).await
}

/// A database of the test's own with CommCare HQ's pillow-error table and a table to contend on; dropped
/// (its sessions ended first) when the guard goes.
struct Scene {
    peer: Peer,
    db: String,
    admin: tokio_postgres::Client,
    tasks: Vec<JoinHandle<SessionEnd>>,
}

impl Scene {
    async fn new(peer: &Peer) -> Scene {
        let db = unique("opsdeck_t");
        let admin = client(peer, Role::Admin, "postgres", "opsdeck-test-setup").await;
        admin.batch_execute(&format!("CREATE DATABASE {db}")).await.unwrap();
        let setup = client(peer, Role::Admin, &db, "opsdeck-test-setup").await;
        setup
            .batch_execute(
                "CREATE TABLE pillow_retry_pillowerror (
                   id serial PRIMARY KEY, doc_id varchar(255) NOT NULL, pillow varchar(255) NOT NULL,
                   date_created timestamp NOT NULL, date_last_attempt timestamp NOT NULL,
                   total_attempts integer NOT NULL, current_attempt integer NOT NULL, error_type varchar(255),
                   error_traceback text);
                 INSERT INTO pillow_retry_pillowerror
                   (doc_id, pillow, date_created, date_last_attempt, total_attempts, current_attempt, error_type)
                 SELECT 'doc-' || i, CASE WHEN i <= 7 THEN 'kafka-case-to-es' ELSE 'kafka-form-to-es' END,
                        (now() AT TIME ZONE 'UTC') - (i || ' hours')::interval,
                        (now() AT TIME ZONE 'UTC') - (i || ' minutes')::interval, 3, 1, 'ConnectionTimeout'
                 FROM generate_series(1, 9) i;
                 CREATE TABLE contended (id int PRIMARY KEY, v int);
                 INSERT INTO contended VALUES (1, 0);
                 GRANT SELECT, UPDATE ON contended TO PUBLIC;",
            )
            .await
            .unwrap();
        Scene {
            peer: peer.clone(),
            db,
            admin,
            tasks: Vec::new(),
        }
    }

    /// Runs `statements` on a new session of `role` named `app`, in the background (it may block). The
    /// session lives on after them while the handle (holding its client) does.
    async fn session(&mut self, peer: &Peer, role: Role, app: &str, statements: &str) -> JoinHandle<SessionEnd> {
        let c = client(peer, role, &self.db, app).await;
        let statements = statements.to_string();
        tokio::spawn(async move {
            let r = c.batch_execute(&statements).await.map_err(|e| match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => e.to_string(),
            });
            SessionEnd(r, c)
        })
    }

    /// The backend of the session named `app`, once `ready` holds for it.
    async fn wait_for(&self, app: &str, ready: &str) -> i32 {
        let sql =
            format!("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND ({ready})");
        let start = tokio::time::Instant::now();
        loop {
            if let Some(row) = self.admin.query_opt(&sql, &[&self.db, &app]).await.unwrap() {
                return row.get(0);
            }
            assert!(start.elapsed() < DEADLINE, "{app} never reached {ready}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Scene {
    /// On success and on a failed assertion alike: the scene's sessions end and its database goes (on a
    /// thread of its own: a destructor cannot await).
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        let (peer, db) = (self.peer.clone(), self.db.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let admin = client(&peer, Role::Admin, "postgres", "opsdeck-test-setup").await;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("could not drop {}: {dropped:?}", self.db);
        }
    }
}

/// What a scene's session ended with, and its client (dropping it ends the session).
struct SessionEnd(Result<(), String>, #[allow(dead_code)] tokio_postgres::Client);

/// A session's result once it has one.
async fn finished(handle: JoinHandle<SessionEnd>) -> Result<(), String> {
    tokio::time::timeout(DEADLINE, handle)
        .await
        .expect("the session ended in time")
        .unwrap()
        .0
}

/// The holder: an UPDATE holding row 1's lock, then a long sleep in the same transaction.
const HOLD: &str = "BEGIN; UPDATE contended SET v = v + 1 WHERE id = 1; SELECT pg_sleep(60);";
const WRITE: &str = "UPDATE contended SET v = 100 WHERE id = 1";

fn session_of(poll: &ServerPoll, pid: i32) -> Session {
    poll.sessions
        .as_ref()
        .expect("sessions")
        .rows
        .iter()
        .find(|s| s.pid == pid)
        .unwrap_or_else(|| panic!("pid {pid} not in {:#?}", poll.sessions))
        .clone()
}

#[tokio::test]
async fn a_pg_monitor_role_reads_every_part_over_verify_full() {
    let Some(peer) = peer() else { return };
    let mut scene = Scene::new(&peer).await;
    let holder = scene.session(&peer, Role::Admin, "t-holder", HOLD).await;
    let holder_pid = scene.wait_for("t-holder", "wait_event = 'PgSleep'").await;
    let w1 = scene.session(&peer, Role::Admin, "t-writer-1", WRITE).await;
    let w1_pid = scene.wait_for("t-writer-1", "wait_event_type = 'Lock'").await;
    let w2 = scene.session(&peer, Role::Op, "t-writer-2", WRITE).await;
    let w2_pid = scene.wait_for("t-writer-2", "wait_event_type = 'Lock'").await;

    let mut s = server(&peer, Role::Ro, "postgres");
    s.pillow_errors_database = Some(scene.db.clone());
    // The table is HQ's: the read-only role is granted SELECT on it, as on a real HQ database.
    let grant = client(&peer, Role::Admin, &scene.db, "opsdeck-test-setup").await;
    grant
        .batch_execute(&format!(
            "GRANT SELECT ON pillow_retry_pillowerror TO {}",
            Role::Ro.user()
        ))
        .await
        .unwrap();
    let poll = source(&s).poll().await;

    let info = poll.info.as_ref().unwrap();
    assert_eq!(info.user, "opsdeck_ro");
    assert!(info.sees_all_sessions && !info.may_signal && !info.superuser);
    let c = poll.connections.as_ref().unwrap();
    assert!(c.max_connections >= 10 && c.total >= 4 && c.hidden == 0, "{c:?}");
    let holder_row = session_of(&poll, holder_pid);
    assert_eq!(holder_row.state.as_deref(), Some("active"));
    assert_eq!(holder_row.query.as_deref(), Some(HOLD));
    assert!(holder_row.backend_start.is_some() && holder_row.query_start.is_some());
    assert_eq!(session_of(&poll, w2_pid).user.as_deref(), Some("opsdeck_op"));
    let chains = opsdeck_postgres::analysis::blocking_chains(poll.blocking.as_ref().unwrap());
    let chain = chains
        .iter()
        .find(|c| c.root == holder_pid)
        .expect("the holder roots a chain");
    let members: Vec<(i32, usize)> = chain.members.iter().map(|m| (m.pid, m.depth)).collect();
    assert_eq!(members, [(w1_pid, 1), (w2_pid, 2)]);
    assert!(!poll.replication.as_ref().unwrap().in_recovery);
    assert!(
        poll.databases
            .as_ref()
            .unwrap()
            .iter()
            .any(|d| d.name == scene.db && d.bytes > 0)
    );
    let groups = poll.pillow_errors.as_ref().unwrap().as_ref().unwrap();
    let counts: Vec<(&str, i64, Option<i64>)> = groups
        .iter()
        .map(|g| (g.pillow.as_str(), g.errors, g.attempts))
        .collect();
    assert_eq!(
        counts,
        [("kafka-case-to-es", 7, Some(21)), ("kafka-form-to-es", 2, Some(6))]
    );
    // HQ's naive UTC timestamps read as UTC: the oldest case error was made 7 hours ago.
    let oldest = groups[0].oldest_age_s.unwrap();
    assert!((oldest - 7.0 * 3600.0).abs() < 120.0, "{oldest}");

    // Reads are bounded by the server: rows by LIMIT (the rest counted), query text by left().
    let small = PostgresConfig {
        max_rows: 1,
        query_chars: 16,
        ..settings()
    };
    let poll = PgSource::new(&server(&peer, Role::Ro, "postgres"), &small)
        .unwrap()
        .poll()
        .await;
    let sessions = poll.sessions.unwrap();
    assert!(sessions.matched >= 3 && sessions.rows.len() == 1, "{sessions:?}");
    // The oldest transaction first: ours, or an older one of a test running beside this one on
    // the same server (the poll is server-wide); either way at least as old as ours was a moment ago.
    let oldest = &sessions.rows[0];
    let ours = holder_row.xact_age_s.expect("the holder is in a transaction");
    assert!(
        oldest.xact_age_s.is_some_and(|age| age >= ours),
        "the oldest transaction first: {oldest:?}, ours {ours} s old"
    );
    if oldest.pid == holder_pid {
        assert_eq!(oldest.query.as_deref(), Some(&HOLD[..16]));
    }
    assert!(
        oldest.query.as_ref().is_none_or(|q| q.chars().count() <= 16),
        "{oldest:?}"
    );
    assert_eq!(poll.databases.unwrap().len(), 1);

    scene.tasks.extend([holder, w1, w2]);
    drop(scene);
}

#[tokio::test]
async fn a_role_without_pg_monitor_gets_refusals_in_the_servers_words_and_the_rest_is_shown() {
    let Some(peer) = peer() else { return };
    let mut scene = Scene::new(&peer).await;
    let holder = scene.session(&peer, Role::Admin, "t-holder", HOLD).await;
    let holder_pid = scene.wait_for("t-holder", "wait_event = 'PgSleep'").await;

    let mut s = server(&peer, Role::Op, "postgres");
    s.pillow_errors_database = Some(scene.db.clone());
    let poll = source(&s).poll().await;
    let refused = poll.pillow_errors.as_ref().unwrap().as_ref().unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Refused);
    assert_eq!(
        refused.message,
        "pillow_errors: refused by the server: permission denied for table pillow_retry_pillowerror"
    );
    // Everything else still read: the other roles' sessions are counted as hidden, not shown as queries.
    let info = poll.info.as_ref().unwrap();
    assert!(!info.sees_all_sessions && info.may_signal);
    let sessions = poll.sessions.as_ref().unwrap();
    assert!(
        sessions.hidden >= 1 && sessions.rows.iter().all(|r| r.pid != holder_pid),
        "{sessions:?}"
    );
    assert!(poll.connections.is_ok(), "{:?}", poll.connections);
    assert!(poll.blocking.is_ok(), "{:?}", poll.blocking);
    assert!(poll.replication.is_ok(), "{:?}", poll.replication);
    assert!(poll.databases.is_ok(), "{:?}", poll.databases);
    let verdicts = opsdeck_postgres::analysis::verdicts(&poll, &settings().thresholds);
    assert!(verdicts.iter().any(|v| {
        v.message
            .contains("permission denied for table pillow_retry_pillowerror")
    }));

    // And a database without HQ's table says so plainly.
    let mut s = server(&peer, Role::Ro, "postgres");
    s.pillow_errors_database = Some("postgres".into());
    let poll = source(&s).poll().await;
    let missing = poll.pillow_errors.unwrap().unwrap_err();
    assert_eq!(missing.kind, ErrorKind::Missing);
    assert_eq!(
        missing.message,
        "pillow_errors: relation \"pillow_retry_pillowerror\" does not exist"
    );

    scene.tasks.push(holder);
    drop(scene);
}

#[tokio::test]
async fn a_read_waiting_on_a_lock_is_stopped_by_the_server_and_the_rest_is_shown() {
    let Some(peer) = peer() else { return };
    let mut scene = Scene::new(&peer).await;
    // A migration holding HQ's table: the pillow-error read waits on its lock until lock_timeout.
    let migration = scene
        .session(
            &peer,
            Role::Admin,
            "t-migration",
            "BEGIN; LOCK TABLE pillow_retry_pillowerror IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);",
        )
        .await;
    scene.wait_for("t-migration", "wait_event = 'PgSleep'").await;
    let mut s = server(&peer, Role::Admin, "postgres");
    s.pillow_errors_database = Some(scene.db.clone());
    let config = PostgresConfig {
        timeout: ConfigDuration(Duration::from_millis(800)),
        ..settings()
    };
    let poll = PgSource::new(&s, &config).unwrap().poll().await;
    let e = poll.pillow_errors.unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    // statement_timeout and lock_timeout are equal: whichever the server's timer meets first.
    assert!(
        e.message.starts_with("pillow_errors (canceling statement due to ")
            && e.message.ends_with(" timeout): no answer within 800ms"),
        "{e}"
    );
    assert!(poll.sessions.is_ok() && poll.info.is_ok());
    scene.tasks.push(migration);
    drop(scene);
}

#[tokio::test]
async fn terminating_the_root_blocker_ends_it_and_frees_the_chain() {
    let Some(peer) = peer() else { return };
    let mut scene = Scene::new(&peer).await;
    let holder = scene.session(&peer, Role::Admin, "t-holder", HOLD).await;
    let holder_pid = scene.wait_for("t-holder", "wait_event = 'PgSleep'").await;
    let writer = scene.session(&peer, Role::Admin, "t-writer", WRITE).await;
    scene.wait_for("t-writer", "wait_event_type = 'Lock'").await;

    let src = source(&server(&peer, Role::Admin, "postgres"));
    let poll = src.poll().await;
    let plan = actions::plan(
        "peer",
        Signal::Terminate,
        &session_of(&poll, holder_pid),
        poll.info.as_ref().ok(),
    )
    .unwrap();
    assert_eq!(plan.call, format!("SELECT pg_terminate_backend({holder_pid});"));
    let outcome = actions::execute(&src, &plan, Duration::from_secs(10)).await;
    assert!(
        matches!(&outcome, Outcome::Succeeded(m) if m.starts_with(&format!("pid {holder_pid} left pg_stat_activity"))),
        "{outcome:?}"
    );
    // The holder's client saw its session end; the writer got the row.
    assert!(finished(holder).await.is_err());
    assert_eq!(finished(writer).await, Ok(()));
    let after = src.poll().await;
    assert!(after.sessions.unwrap().rows.iter().all(|s| s.pid != holder_pid));
    drop(scene);
}

#[tokio::test]
async fn cancelling_a_query_stops_it_and_keeps_the_session() {
    let Some(peer) = peer() else { return };
    let mut scene = Scene::new(&peer).await;
    let sleeper = scene
        .session(&peer, Role::Admin, "t-sleeper", "SELECT pg_sleep(60)")
        .await;
    let pid = scene.wait_for("t-sleeper", "state = 'active'").await;
    let src = source(&server(&peer, Role::Admin, "postgres"));
    let poll = src.poll().await;
    let plan = actions::plan("peer", Signal::Cancel, &session_of(&poll, pid), None).unwrap();
    let outcome = actions::execute(&src, &plan, Duration::from_secs(10)).await;
    assert!(
        matches!(&outcome, Outcome::Succeeded(m) if m == &format!("pid {pid}'s query was cancelled: the session is now idle")),
        "{outcome:?}"
    );
    let e = finished(sleeper).await.unwrap_err();
    assert!(e.contains("canceling statement due to user request"), "{e}");
    drop(scene);
}

#[tokio::test]
async fn cancel_on_an_idle_transaction_is_unverified_and_says_why() {
    let Some(peer) = peer() else { return };
    let mut scene = Scene::new(&peer).await;
    let idle = scene
        .session(
            &peer,
            Role::Admin,
            "t-idle",
            "BEGIN; SELECT v FROM contended WHERE id = 1",
        )
        .await;
    let pid = scene.wait_for("t-idle", "state = 'idle in transaction'").await;
    let src = source(&server(&peer, Role::Admin, "postgres"));
    let poll = src.poll().await;
    let plan = actions::plan("peer", Signal::Cancel, &session_of(&poll, pid), None).unwrap();
    assert!(plan.warnings[0].contains("a cancel changes nothing"));
    let outcome = actions::execute(&src, &plan, Duration::from_millis(600)).await;
    assert!(
        matches!(&outcome, Outcome::Unverified(m) if m.contains(&format!("pid {pid} is still idle in transaction"))),
        "{outcome:?}"
    );
    scene.tasks.push(idle);
    drop(scene);
}

#[tokio::test]
async fn a_plan_whose_query_has_changed_signals_nothing() {
    let Some(peer) = peer() else { return };
    let scene = Scene::new(&peer).await;
    let sleeper = client(&peer, Role::Admin, &scene.db, "t-sleeper").await;
    let first = tokio::spawn(async move {
        let r = sleeper.batch_execute("SELECT pg_sleep(60)").await;
        (sleeper, r)
    });
    let pid = scene.wait_for("t-sleeper", "state = 'active'").await;
    let src = source(&server(&peer, Role::Admin, "postgres"));
    let poll = src.poll().await;
    let plan = actions::plan("peer", Signal::Terminate, &session_of(&poll, pid), None).unwrap();
    // The planned query ends and the same session starts another before the plan runs.
    scene
        .admin
        .execute("SELECT pg_cancel_backend($1)", &[&pid])
        .await
        .unwrap();
    let (sleeper, r) = tokio::time::timeout(DEADLINE, first).await.unwrap().unwrap();
    assert!(r.is_err());
    let second = tokio::spawn(async move {
        sleeper
            .batch_execute("SELECT pg_sleep(30)")
            .await
            .map_err(|e| e.to_string())
    });
    scene.wait_for("t-sleeper", "query = 'SELECT pg_sleep(30)'").await;
    let outcome = actions::execute(&src, &plan, Duration::from_secs(5)).await;
    assert!(
        matches!(&outcome, Outcome::Failed(m) if m.starts_with(&format!("pid {pid} runs another query now")) && m.ends_with("nothing was signalled; plan it again")),
        "{outcome:?}"
    );
    // The session lives on.
    assert!(src.session(pid).await.unwrap().is_some());
    second.abort();
    drop(scene);
}

#[tokio::test]
async fn signals_the_role_may_not_send_are_refused_in_the_servers_words() {
    let Some(peer) = peer() else { return };
    let mut scene = Scene::new(&peer).await;
    // A non-superuser's query (opsdeck_op) and a superuser's (postgres).
    let op_sleeper = scene
        .session(&peer, Role::Op, "t-op-sleeper", "SELECT pg_sleep(60)")
        .await;
    let op_pid = scene.wait_for("t-op-sleeper", "state = 'active'").await;
    let su_sleeper = scene
        .session(&peer, Role::Admin, "t-su-sleeper", "SELECT pg_sleep(60)")
        .await;
    let su_pid = scene.wait_for("t-su-sleeper", "state = 'active'").await;

    // opsdeck_ro sees everything (pg_monitor) but may not signal: the server refuses.
    let ro = source(&server(&peer, Role::Ro, "postgres"));
    let poll = ro.poll().await;
    let plan = actions::plan(
        "peer",
        Signal::Cancel,
        &session_of(&poll, op_pid),
        poll.info.as_ref().ok(),
    )
    .unwrap();
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("not a member of pg_signal_backend"))
    );
    let outcome = actions::execute(&ro, &plan, Duration::from_secs(5)).await;
    // PostgreSQL 16 reworded it ("permission denied to cancel query" with a detail); both name the role.
    assert!(
        matches!(&outcome, Outcome::Failed(m) if m.starts_with(&format!("pg_cancel_backend({op_pid}): refused by the server: "))
            && m.contains("pg_signal_backend")),
        "{outcome:?}"
    );

    // A role with pg_monitor and pg_signal_backend may end opsdeck_op's backend but not a superuser's.
    let signaller = unique("opsdeck_t_sig");
    let password = unique("pw");
    scene
        .admin
        .batch_execute(&format!(
            "CREATE ROLE {signaller} LOGIN PASSWORD '{password}' IN ROLE pg_monitor, pg_signal_backend"
        ))
        .await
        .unwrap();
    // The password through a file: setting an env var while other tests' threads read theirs is a race.
    let password_file = PasswordFile::new(&password);
    let mut s = server(&peer, Role::Admin, "postgres");
    s.user = signaller.clone();
    s.password_env = None;
    s.password_file = Some(password_file.0.clone());
    let sig = source(&s);
    let poll = sig.poll().await;
    let su_plan = actions::plan("peer", Signal::Terminate, &session_of(&poll, su_pid), None).unwrap();
    let outcome = actions::execute(&sig, &su_plan, Duration::from_secs(5)).await;
    assert!(
        matches!(&outcome, Outcome::Failed(m) if m.starts_with(&format!("pg_terminate_backend({su_pid}): refused by the server: "))
            && m.contains("superuser")),
        "{outcome:?}"
    );
    let op_plan = actions::plan("peer", Signal::Terminate, &session_of(&poll, op_pid), None).unwrap();
    let outcome = actions::execute(&sig, &op_plan, Duration::from_secs(10)).await;
    assert!(matches!(outcome, Outcome::Succeeded(_)), "{outcome:?}");
    assert!(finished(op_sleeper).await.is_err());

    // opsdeck_op (pg_signal_backend, no pg_monitor) cannot see the superuser's session, so it has no
    // identity to check: nothing is signalled.
    let op = source(&server(&peer, Role::Op, "postgres"));
    let outcome = actions::execute(&op, &su_plan, Duration::from_secs(5)).await;
    assert_eq!(
        outcome,
        Outcome::Failed(format!(
            "this role cannot see pid {su_pid}'s session, so its identity cannot be checked: nothing was signalled"
        ))
    );
    assert!(
        ro.session(su_pid).await.unwrap().is_some(),
        "the superuser's session lives on"
    );

    scene.tasks.push(su_sleeper);
    drop(scene);
    let admin = client(&peer, Role::Admin, "postgres", "opsdeck-test-setup").await;
    admin.batch_execute(&format!("DROP ROLE {signaller}")).await.unwrap();
}

#[tokio::test]
async fn a_signal_the_server_declines_is_a_failure_with_its_warning() {
    let Some(peer) = peer() else { return };
    // The checkpointer is in pg_stat_activity but is no backend: pg_cancel_backend returns false and
    // warns (a cancel, so that nothing happens to the peer even if a server disagreed).
    let src = source(&server(&peer, Role::Admin, "postgres"));
    let admin = client(&peer, Role::Admin, "postgres", "opsdeck-test-setup").await;
    let pid: i32 = admin
        .query_one(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let checkpointer = src.session(pid).await.unwrap().expect("the checkpointer is listed");
    let plan = actions::plan("peer", Signal::Cancel, &checkpointer, None).unwrap();
    let outcome = actions::execute(&src, &plan, Duration::from_secs(5)).await;
    assert_eq!(
        outcome,
        Outcome::Failed(format!(
            "SELECT pg_cancel_backend({pid}); returned false: the server did not signal it: WARNING: PID {pid} is \
             not a PostgreSQL backend process"
        ))
    );
}

#[tokio::test]
async fn tls_modes_against_the_tls_only_server() {
    let Some(peer) = peer() else { return };
    // The wrong-host postmaster has only the superuser (roles were made after its data was copied).
    let user = |mode: SslMode, address: &str| {
        let role = if address == peer.wrong_host {
            Role::Admin
        } else {
            Role::Ro
        };
        let mut s = server(&peer, role, "postgres");
        s.address = address.into();
        s.sslmode = mode;
        if mode == SslMode::Require || mode == SslMode::Disable {
            s.sslrootcert = None;
        }
        s
    };
    // require: encrypted, no CA needed.
    let poll = source(&user(SslMode::Require, &peer.address)).poll().await;
    assert_eq!(poll.info.unwrap().user, "opsdeck_ro");
    let poll = source(&user(SslMode::Require, &peer.wrong_host)).poll().await;
    assert!(poll.info.is_ok(), "{:?}", poll.info);
    // verify-full against the postmaster whose certificate names another host: refused by our check.
    let poll = source(&user(SslMode::VerifyFull, &peer.wrong_host)).poll().await;
    let e = poll.info.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Tls, "{e}");
    assert!(
        e.message.contains("certificate not valid for name \"127.0.0.1\""),
        "{e}"
    );
    // verify-ca checks only the chain: the same server passes.
    let poll = source(&user(SslMode::VerifyCa, &peer.wrong_host)).poll().await;
    assert!(poll.info.is_ok(), "{:?}", poll.info);
    // Plain text is refused by the server, in its words.
    let poll = source(&user(SslMode::Disable, &peer.address)).poll().await;
    let e = poll.info.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Refused, "{e}");
    assert!(
        e.message.ends_with(
            "refused by the server: pg_hba.conf rejects connection for host \"127.0.0.1\", user \"opsdeck_ro\", \
             database \"postgres\", no encryption"
        ),
        "{e}"
    );
    // A CA that did not sign the server's certificate.
    let other_ca = std::env::temp_dir().join(format!("{}.pem", unique("opsdeck_t_ca")));
    std::fs::write(&other_ca, OTHER_CA).unwrap();
    let mut s = user(SslMode::VerifyCa, &peer.address);
    s.sslrootcert = Some(other_ca.clone());
    let e = source(&s).poll().await.info.unwrap_err();
    // `require` with a root certificate checks the chain too (libpq's rule).
    let mut s = user(SslMode::Require, &peer.address);
    s.sslrootcert = Some(other_ca.clone());
    let e_require = source(&s).poll().await.info.unwrap_err();
    std::fs::remove_file(other_ca).unwrap();
    for e in [e, e_require] {
        assert_eq!(e.kind, ErrorKind::Tls, "{e}");
        assert!(e.message.contains("invalid peer certificate: UnknownIssuer"), "{e}");
    }
    // ... and not the name: the wrong-host server passes with the right CA.
    let mut s = user(SslMode::Require, &peer.wrong_host);
    s.sslrootcert = Some(peer.ca.clone().into());
    assert!(source(&s).poll().await.info.is_ok());
}

#[tokio::test]
async fn a_wrong_password_a_closed_port_and_a_silent_server() {
    let Some(peer) = peer() else { return };
    let wrong = PasswordFile::new("not-the-password");
    let mut s = server(&peer, Role::Ro, "postgres");
    s.password_env = None;
    s.password_file = Some(wrong.0.clone());
    let e = source(&s).poll().await.info.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Refused, "{e}");
    assert!(
        e.message
            .contains("password authentication failed for user \"opsdeck_ro\""),
        "{e}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let mut s = server(&peer, Role::Ro, "postgres");
    s.address = closed_address;
    let e = source(&s).poll().await.info.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");

    // Accepts the connection and never says a word: the client-side timeout ends it.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut s = server(&peer, Role::Ro, "postgres");
    s.address = silent.local_addr().unwrap().to_string();
    let held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            kept.push(c);
        }
    });
    let config = PostgresConfig {
        timeout: ConfigDuration(Duration::from_millis(500)),
        ..PostgresConfig::default()
    };
    let e = PgSource::new(&s, &config).unwrap().poll().await.info.unwrap_err();
    held.abort();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.message.ends_with("no answer within 500ms"), "{e}");
}

/// A CA of nobody's (made once with openssl for this test; it signed nothing the peer presents).
const OTHER_CA: &str = include_str!("fixtures/other-ca.pem");
