//! The Redis pane in the console against the real redis-server `scripts/peers up redis` starts, over
//! its TLS port (the peer's CA) as the least-privileged operator user: a queue filled with
//! `redis-cli` shows in the pane, and moving it to a backup and re-queuing it, confirmed in the
//! dialog and run by the real executor, change what `redis-cli` then reads.

use super::env::{peer, unique};
use opsdeck::actions::executor::execute;
use opsdeck::app::App;
use opsdeck::app::overlay::Overlay;
use opsdeck::sources::Backends;
use opsdeck::sources::runner::{Polled, poll_once};
use opsdeck::ui::testing::{planned, press, screen_text};
use opsdeck_core::action::{ActionPlan, OutcomeResult};
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::demo::StandIns;
use opsdeck_core::doctor::Verdict;
use std::process::Command;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// `redis-cli` as the peer's admin on its plain port (not our client): what the server holds.
fn redis_cli(address: &str, args: &[&str]) -> String {
    let password = std::env::var("OPSDECK_REDIS_ADMIN_PASSWORD").expect("scripts/peers env exports it");
    let out = Command::new("redis-cli")
        .args(["-u", address, "--no-auth-warning", "--raw"])
        .args(args)
        .env("REDISCLI_AUTH", password)
        .output()
        .expect("redis-cli (Debian: redis-tools)");
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn poll(app: &mut App, backends: &Backends) {
    for mut p in backends.pollers(&app.env.config) {
        let update = poll_once(p.as_mut()).await;
        app.update(opsdeck::app::Event::Polled(Polled {
            at: SystemTime::now(),
            update,
        }));
    }
}

/// Confirms the open dialog (Cancel has the focus: Tab to Run) and runs what it plans.
async fn confirm_and_run(app: &mut App, backends: &Backends, dir: &std::path::Path) -> String {
    assert!(
        matches!(app.overlay, Some(Overlay::Confirm(_))),
        "no dialog:\n{}",
        screen_text(app, 160, 40)
    );
    press(app, "tab");
    let effects = press(app, "enter");
    let plans: Vec<ActionPlan> = planned(&effects).into_iter().cloned().collect();
    assert_eq!(plans.len(), 1, "{}", screen_text(app, 160, 40));
    let audit = AuditLog::new(
        dir.join("audit.jsonl"),
        Identity {
            user: "test".into(),
            host: "test".into(),
        },
    );
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let plan = plans.into_iter().next().expect("one plan");
    let outcome = execute(1, plan, backends.clone(), audit, tx, CancellationToken::new()).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    outcome.summary
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queue_on_a_real_redis_over_tls_moves_to_a_backup_and_back_from_the_pane() {
    let tls = peer!("OPSDECK_REDIS_TLS");
    let plain = peer!("OPSDECK_REDIS");
    let ca = peer!("OPSDECK_REDIS_TLS_CA");
    let dir = tempfile::tempdir().unwrap();
    let key = unique("opsdeck-it-jobs");
    let items = ["job-1", "job-2", "job-3", "job-4", "job-5"];
    // Producers push left (Celery's way): job-1 is the oldest, at the right end.
    let mut push = vec!["LPUSH", key.as_str()];
    push.extend(items);
    redis_cli(&plain, &push);

    let text = format!(
        "[[redis.instances]]\nname = \"broker\"\naddress = \"{tls}\"\nuser = \"opsdeck_op\"\n\
         password_env = \"OPSDECK_REDIS_OP_PASSWORD\"\nca_file = \"{ca}\"\nqueue_keys = [\"{key}\"]\n"
    );
    let config = opsdeck::config::parse_str(&text, std::path::Path::new("redis-it.toml")).expect("a valid config");
    let (backends, errors) = Backends::connect_with(&config, &StandIns::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    let mut app = opsdeck::ui::testing::app(config, "default", SystemTime::now());
    app.update(opsdeck::app::Event::Resize { width: 160, height: 40 });
    poll(&mut app, &backends).await;

    press(&mut app, "6");
    let s = screen_text(&app, 160, 40);
    assert!(
        s.contains("broker") && s.contains("master"),
        "the instance over TLS:\n{s}"
    );
    press(&mut app, "t");
    let s = screen_text(&app, 160, 40);
    let row = s
        .lines()
        .find(|l| l.contains(&key))
        .unwrap_or_else(|| panic!("{key} missing:\n{s}"));
    assert!(row.contains(" 5 "), "five items: {row}");

    // Move it to a backup: the list is renamed, nothing is lost.
    press(&mut app, "M");
    let summary = confirm_and_run(&mut app, &backends, dir.path()).await;
    assert!(summary.contains("moved 5 items"), "{summary}");
    assert_eq!(redis_cli(&plain, &["LLEN", &key]), "0");
    let backups = redis_cli(&plain, &["--scan", "--pattern", &format!("{key}:opsdeck-backup:*")]);
    let backup = backups
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no backup key of {key}"));
    assert_eq!(redis_cli(&plain, &["LLEN", backup]), "5");

    // The next poll shows the backup, first (it holds items to re-queue); R returns them.
    poll(&mut app, &backends).await;
    press(&mut app, "home");
    let s = screen_text(&app, 160, 40);
    assert!(s.contains("parked in a backup"), "{s}");
    press(&mut app, "R");
    let summary = confirm_and_run(&mut app, &backends, dir.path()).await;
    assert!(summary.contains("re-queued 5 items"), "{summary}");
    // Back in order: the oldest still leaves first.
    assert_eq!(
        redis_cli(&plain, &["LRANGE", &key, "0", "-1"])
            .lines()
            .collect::<Vec<_>>(),
        {
            let mut newest_first = items.to_vec();
            newest_first.reverse();
            newest_first
        }
    );
    assert_eq!(redis_cli(&plain, &["EXISTS", backup]), "0");
    redis_cli(&plain, &["DEL", &key]);
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_reads_each_part_and_names_a_refused_login() {
    let tls = peer!("OPSDECK_REDIS_TLS");
    let ca = peer!("OPSDECK_REDIS_TLS_CA");
    // `password` names where the password is: `password_env = "…"` or `password_file = "…"`.
    let config = |password: String| {
        let text = format!(
            "[[redis.instances]]\nname = \"broker\"\naddress = \"{tls}\"\nuser = \"opsdeck_ro\"\n\
             {password}\nca_file = \"{ca}\"\n"
        );
        opsdeck::config::parse_str(&text, std::path::Path::new("redis-doctor.toml")).expect("a valid config")
    };
    let verdict = |found: &[opsdeck_core::doctor::Finding], capability: &str| {
        found
            .iter()
            .find(|f| f.pane == "redis" && f.capability == capability)
            .unwrap_or_else(|| panic!("no {capability}: {found:#?}"))
            .verdict
            .clone()
    };
    let ok = opsdeck::doctor::findings(&config("password_env = \"OPSDECK_REDIS_RO_PASSWORD\"".into())).await;
    assert_eq!(
        verdict(&ok, "connect and log in"),
        Verdict::Ok(String::new()),
        "{ok:#?}"
    );
    assert_eq!(verdict(&ok, "read INFO"), Verdict::Ok(String::new()), "{ok:#?}");
    // A password the server refuses: named as what is missing, the server's words.
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong-password");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    let refused = opsdeck::doctor::findings(&config(format!("password_file = \"{}\"", wrong.display()))).await;
    assert!(
        matches!(verdict(&refused, "log in"), Verdict::Missing(m) if m.contains("WRONGPASS") || m.contains("invalid")),
        "{refused:#?}"
    );
}
