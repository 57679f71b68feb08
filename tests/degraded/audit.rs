//! The audit log somewhere it cannot be: a FIFO or `/dev/full`. Reading it back never blocks the
//! start, an action whose intent cannot be written does not run and never says "started:", and
//! what the log holds is shown without its escape sequences.

use super::common::Tmux;
use opsdeck::actions::executor::{self, ActionEvent};
use opsdeck::app::{App, Event};
use opsdeck::config::Config;
use opsdeck::sources::Backends;
use opsdeck::ui::testing::{app_on, press};
use opsdeck_core::action::{ActionPlan, Risk};
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::effect::Effect;
use opsdeck_hosts::actions::command::{CommandOp, Transport};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn identity() -> Identity {
    Identity {
        user: "oncall".into(),
        host: "jump-1".into(),
    }
}

fn app() -> App {
    app_on(Config::default(), SystemTime::now())
}

fn touch_plan(marker: &Path) -> ActionPlan {
    let argv = vec!["touch".to_string(), marker.display().to_string()];
    ActionPlan {
        action: "test.touch".into(),
        title: "touch the marker".into(),
        target: "marker".into(),
        description: "test".into(),
        call: format!("touch {}", marker.display()),
        risk: Risk::Medium,
        verify: "exit 0".into(),
        timeout: Duration::from_secs(10),
        identity: String::new(),
        op: std::sync::Arc::new(CommandOp {
            transport: Transport::Local,
            argv,
            timeout: Duration::from_secs(10),
        }),
    }
}

/// Confirms `plan` in the app, runs it through the real executor with `audit`, and feeds every
/// event back into the app, as the console does. Returns the toasts' texts.
async fn confirm_and_run(app: &mut App, plan: ActionPlan, audit: AuditLog) -> Vec<String> {
    app.confirm(plan);
    press(app, "tab");
    let (id, plan) = match press(app, "enter").into_iter().next() {
        Some(Effect::RunAction { id, plan }) => (id, plan),
        other => panic!("{other:?}"),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    executor::spawn(id, plan, Backends::default(), audit, tx, CancellationToken::new());
    while let Some(event) = rx.recv().await {
        let done = matches!(event, ActionEvent::Finished { .. });
        app.update(Event::Action(event));
        if done {
            break;
        }
    }
    app.toasts.iter().map(|t| t.text.clone()).collect()
}

#[tokio::test]
async fn an_action_refused_by_the_audit_log_never_says_started() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let mut app = app();
    let toasts = confirm_and_run(
        &mut app,
        touch_plan(&marker),
        AuditLog::new("/dev/full".into(), identity()),
    )
    .await;
    assert!(!marker.exists(), "the action ran without its intent on disk");
    assert!(!toasts.iter().any(|t| t.starts_with("started:")), "{toasts:?}");
    assert!(
        toasts.iter().any(|t| t.contains(
            "failed — not run: cannot write the audit log /dev/full: not a regular file: a character device"
        )),
        "{toasts:?}"
    );

    // With a log it can write, the same action says it started, then that it succeeded.
    let mut app = self::app();
    let toasts = confirm_and_run(
        &mut app,
        touch_plan(&marker),
        AuditLog::new(dir.path().join("audit.jsonl"), identity()),
    )
    .await;
    assert!(marker.exists());
    assert_eq!(toasts[0], "started: touch the marker", "{toasts:?}");
    assert!(toasts[1].starts_with("touch the marker: succeeded"), "{toasts:?}");
}

#[test]
fn reading_the_log_back_never_waits_and_never_reads_without_end() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let started = Instant::now();
    let err = AuditLog::new(fifo, identity()).read_recent(10).unwrap_err();
    assert!(err.to_string().contains("named pipe"), "{err}");
    let err = AuditLog::new("/dev/zero".into(), identity())
        .read_recent(10)
        .unwrap_err();
    assert!(err.to_string().contains("character device"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A log larger than what is read back: its newest entries, each safe to show.
    let log = dir.path().join("audit.jsonl");
    let line = |n: usize, target: &str| {
        format!(
            r#"{{"time":"2026-01-01T00:00:00Z","phase":"outcome","action_id":"1-{n}","user":"u","host":"h","action":"a","target":"{target}","call":"c","risk":"low","result":"succeeded"}}"#
        ) + "\n"
    };
    let mut text = String::new();
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&line(text.len(), "old"));
    }
    text.push_str(&line(1, r"evil\u001b[2Jname\u0007"));
    std::fs::write(&log, text).unwrap();
    let entries = AuditLog::new(log, identity()).read_recent(5).unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[4].target, "evil\u{fffd}name\u{fffd}");
}

#[test]
fn the_console_starts_when_its_default_audit_log_is_a_fifo() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".local/state/opsdeck");
    std::fs::create_dir_all(&state).unwrap();
    mkfifo(&state.join("audit.jsonl"));
    let config = home.path().join("c.toml");
    std::fs::write(&config, "[general]\nenvironment = \"fifo\"\n").unwrap();
    let t = Tmux::start(&format!("--config {}", config.display()), home.path(), &[]);
    // The console is up (at 120 columns the title gives way to the nine full tab names).
    t.wait_for("1 overview");
    t.wait_for("cannot read the audit log");
    t.keys(&["q"]);
    t.wait_for("EXIT:0");
    // The toast in full, as the log has it.
    let log = std::fs::read_to_string(state.join("opsdeck.log")).unwrap();
    assert!(
        log.contains("audit.jsonl: not a regular file: a named pipe (FIFO)"),
        "{log}"
    );
}
