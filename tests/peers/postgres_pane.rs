//! The PostgreSQL pane in the console against the real TLS-only PostgreSQL of `scripts/peers up
//! postgres-tls` (verify-full with the peer's CA): a session `psql` keeps busy shows in the pane and
//! is terminated through the dialog (its pid typed) and the real executor; `opsdeck doctor` says
//! what each least-privileged role may do, as the server says it.

use super::env::{peer, unique};
use opsdeck::actions::executor::execute;
use opsdeck::app::overlay::Overlay;
use opsdeck::sources::Backends;
use opsdeck::sources::runner::{Polled, poll_once};
use opsdeck::ui::testing::{planned, press, screen_text, type_text};
use opsdeck_core::action::{ActionPlan, OutcomeResult};
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::demo::StandIns;
use opsdeck_core::doctor::Verdict;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

fn config(address: &str, ca: &str, user: &str, password_var: &str) -> opsdeck::config::Config {
    let text = format!(
        "[[postgres.servers]]\nname = \"tls-peer\"\naddress = \"{address}\"\ndatabase = \"postgres\"\n\
         user = \"{user}\"\npassword_env = \"{password_var}\"\nsslmode = \"verify-full\"\nsslrootcert = \"{ca}\"\n"
    );
    opsdeck::config::parse_str(&text, std::path::Path::new("postgres-it.toml")).expect("a valid config")
}

/// `psql` (libpq's own TLS, not ours) as `opsdeck_op`, asleep in a query until terminated.
struct Sleeper(std::process::Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_on_a_real_postgres_over_tls_is_terminated_from_the_pane() {
    let address = peer!("OPSDECK_POSTGRES_TLS");
    let ca = peer!("OPSDECK_POSTGRES_TLS_CA");
    let password = peer!("OPSDECK_POSTGRES_TLS_OP_PASSWORD");
    let app_name = unique("opsdeck-it-sleeper");
    let (host, port) = address.rsplit_once(':').expect("HOST:PORT");
    let mut sleeper = Sleeper(
        Command::new("psql")
            .arg(format!(
                "host={host} port={port} user=opsdeck_op dbname=postgres sslmode=verify-full sslrootcert={ca} \
                 application_name={app_name}"
            ))
            .args(["-qAtc", "SELECT pg_sleep(600)"])
            .env("PGPASSWORD", password)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("psql (Debian: postgresql-client)"),
    );

    let config = config(&address, &ca, "opsdeck_op", "OPSDECK_POSTGRES_TLS_OP_PASSWORD");
    let (backends, errors) = Backends::connect_with(&config, &StandIns::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    let mut app = opsdeck::ui::testing::app(config.clone(), "default", SystemTime::now());
    app.update(opsdeck::app::Event::Resize { width: 200, height: 40 });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        for mut p in backends.pollers(&config) {
            let update = poll_once(p.as_mut()).await;
            app.update(opsdeck::app::Event::Polled(Polled {
                at: SystemTime::now(),
                update,
            }));
        }
        press(&mut app, "7");
        press(&mut app, "t");
        let shown = screen_text(&app, 200, 40).contains(&app_name[..20]);
        press(&mut app, "t");
        if shown {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sleeping session never showed:\n{}",
            screen_text(&app, 200, 40)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    press(&mut app, "t");
    press(&mut app, "/");
    type_text(&mut app, &app_name);
    press(&mut app, "enter");
    press(&mut app, "K");
    let Some(Overlay::Confirm(_)) = &app.overlay else {
        panic!("no dialog:\n{}", screen_text(&app, 200, 40));
    };
    let dialog = screen_text(&app, 200, 40);
    assert!(
        dialog.contains("pg_terminate_backend(") && dialog.contains("pg_sleep(600)"),
        "{dialog}"
    );
    let pid = dialog
        .split("pg_terminate_backend(")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("the pid in the call")
        .to_string();
    type_text(&mut app, &pid);
    let effects = press(&mut app, "enter");
    let plans: Vec<ActionPlan> = planned(&effects).into_iter().cloned().collect();
    assert_eq!(plans.len(), 1, "{}", screen_text(&app, 200, 40));
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(
        dir.path().join("audit.jsonl"),
        Identity {
            user: "test".into(),
            host: "test".into(),
        },
    );
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let plan = plans.into_iter().next().expect("one plan");
    let outcome = execute(1, plan, backends.clone(), audit, tx, CancellationToken::new()).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    // psql itself saw its connection end.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = sleeper.0.try_wait().expect("psql") {
            break s;
        }
        assert!(Instant::now() < deadline, "psql still runs after the terminate");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success(), "terminated, psql fails");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_says_what_each_role_may_do_as_the_server_says() {
    let address = peer!("OPSDECK_POSTGRES_TLS");
    let ca = peer!("OPSDECK_POSTGRES_TLS_CA");
    let verdict = |found: &[opsdeck_core::doctor::Finding], capability: &str| {
        found
            .iter()
            .find(|f| f.pane == "postgres" && f.capability == capability)
            .unwrap_or_else(|| panic!("no {capability}: {found:#?}"))
            .verdict
            .clone()
    };
    // opsdeck_ro: pg_monitor only — sees every query, may not signal another role's backend.
    let ro = opsdeck::doctor::findings(&config(&address, &ca, "opsdeck_ro", "OPSDECK_POSTGRES_TLS_RO_PASSWORD")).await;
    assert_eq!(verdict(&ro, "connect and log in"), Verdict::Ok(String::new()));
    assert_eq!(verdict(&ro, "see every session's query"), Verdict::Ok(String::new()));
    assert!(
        matches!(verdict(&ro, "cancel and terminate backends"), Verdict::Missing(m) if m.contains("pg_signal_backend")),
        "{ro:#?}"
    );
    // opsdeck_op: pg_signal_backend only — may signal, sees only its own sessions' queries.
    let op = opsdeck::doctor::findings(&config(&address, &ca, "opsdeck_op", "OPSDECK_POSTGRES_TLS_OP_PASSWORD")).await;
    assert_eq!(
        verdict(&op, "cancel and terminate backends"),
        Verdict::Ok(String::new())
    );
    assert!(
        matches!(verdict(&op, "see every session's query"), Verdict::Missing(m) if m.contains("pg_read_all_stats")),
        "{op:#?}"
    );
}
