//! The executor and the audit log, on real commands: intent is on disk before the action starts,
//! the outcome follows, failures and timeouts are recorded as such.

use opsdeck::actions::audit::{AuditLog, Identity};
use opsdeck::actions::command::{CommandOp, Transport};
use opsdeck::actions::executor::{ActionEvent, execute};
use opsdeck::actions::{ActionPlan, Operation, OutcomeResult, Risk};
use opsdeck::model::audit::{AuditEntry, AuditPhase};
use opsdeck::sources::Backends;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn plan(command: &str, timeout: Duration) -> ActionPlan {
    ActionPlan {
        action: "test.command".into(),
        title: "run a test command".into(),
        target: "localhost".into(),
        description: "test".into(),
        call: command.into(),
        risk: Risk::Medium,
        verify: "exit 0".into(),
        timeout,
        op: Operation::Command(CommandOp {
            transport: Transport::Local,
            command: command.into(),
            timeout,
        }),
        identity: String::new(),
    }
}

fn identity() -> Identity {
    Identity {
        user: "oncall".into(),
        host: "jump-1".into(),
    }
}

fn read(path: &Path) -> Vec<AuditEntry> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

async fn run(plan: ActionPlan, audit: &AuditLog) -> (opsdeck::actions::Outcome, Vec<ActionEvent>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let outcome = execute(
        7,
        plan,
        Backends::default(),
        audit.clone(),
        tx,
        CancellationToken::new(),
    )
    .await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (outcome, events)
}

#[tokio::test]
async fn intent_is_on_disk_before_the_action_runs_and_outcome_follows() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("state/audit.jsonl");
    let seen = dir.path().join("seen");
    let audit = AuditLog::new(log.clone(), identity());
    // The command itself reads the audit log: the intent line must already be there.
    let command = format!("grep -c '\"phase\":\"intent\"' {} > {}", log.display(), seen.display());
    let (outcome, events) = run(plan(&command, Duration::from_secs(10)), &audit).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{outcome:?}");
    assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), "1");

    let entries = read(&log);
    assert_eq!(entries.len(), 2);
    let (intent, done) = (&entries[0], &entries[1]);
    assert_eq!(intent.phase, AuditPhase::Intent);
    assert_eq!(intent.result, "confirmed");
    assert_eq!(done.phase, AuditPhase::Outcome);
    assert_eq!(done.result, "succeeded");
    for e in &entries {
        assert_eq!(e.user, "oncall");
        assert_eq!(e.host, "jump-1");
        assert_eq!(e.action, "test.command");
        assert_eq!(e.target, "localhost");
        assert_eq!(e.call, command, "the exact call is recorded");
        assert_eq!(e.risk, "medium");
        assert!(e.time.ends_with('Z') && e.time.len() == 20, "{}", e.time);
    }
    assert_eq!(intent.action_id, done.action_id);
    let audited = events.iter().filter(|e| matches!(e, ActionEvent::Audited(_))).count();
    assert_eq!(audited, 2, "the app is told about both lines");
    assert_eq!(audit.read_recent(10).unwrap(), entries);
}

#[tokio::test]
async fn a_failing_command_is_recorded_as_failed_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("a.jsonl"), identity());
    let (outcome, _) = run(
        plan(
            "echo 'supervisor: ERROR (no such process)' >&2; exit 7",
            Duration::from_secs(10),
        ),
        &audit,
    )
    .await;
    assert_eq!(outcome.result, OutcomeResult::Failed);
    assert_eq!(outcome.summary, "exit 7: supervisor: ERROR (no such process)");
    let entries = read(audit.path());
    assert_eq!(entries[1].result, "failed");
    assert_eq!(entries[1].detail, "exit 7: supervisor: ERROR (no such process)");
}

#[tokio::test]
async fn an_action_that_cannot_be_audited_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let audit = AuditLog::new(blocker.join("audit.jsonl"), identity());
    let marker = dir.path().join("ran");
    let (outcome, events) = run(
        plan(&format!("touch {}", marker.display()), Duration::from_secs(10)),
        &audit,
    )
    .await;
    assert_eq!(outcome.result, OutcomeResult::Failed);
    assert!(
        outcome.summary.starts_with("not run: cannot write the audit log"),
        "{}",
        outcome.summary
    );
    assert!(!marker.exists(), "the command must not have run");
    assert!(events.is_empty());
}

#[tokio::test]
async fn the_plan_timeout_bounds_the_action() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("a.jsonl"), identity());
    let mut p = plan("sleep 30", Duration::from_secs(30));
    p.timeout = Duration::from_millis(300);
    let (outcome, _) = run(p, &audit).await;
    assert_eq!(outcome.result, OutcomeResult::Failed);
    assert!(
        outcome.summary.starts_with("gave up after 300ms"),
        "{}",
        outcome.summary
    );
    assert_eq!(read(audit.path())[1].result, "failed");
}

#[test]
fn two_writers_never_interleave_half_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let p = plan(&"x".repeat(5_000), Duration::from_secs(1));
    std::thread::scope(|s| {
        for w in 0..4 {
            let audit = AuditLog::new(path.clone(), identity());
            let p = p.clone();
            s.spawn(move || {
                for i in 0..25 {
                    audit.intent(&format!("{w}-{i}"), &p).unwrap();
                }
            });
        }
    });
    let entries = read(&path);
    assert_eq!(entries.len(), 100);
}

#[tokio::test]
async fn sub_steps_written_by_an_operation_reach_the_app_too() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(dir.path().join("a.jsonl"), identity());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let listening = audit.with_listener(move |e| {
        let _ = tx.send(e.clone());
    });
    // What a procedure does for each step through `ctx.audit`.
    let step = plan("echo step", Duration::from_secs(1));
    listening.intent("p-1.1", &step).unwrap();
    listening
        .outcome("p-1.1", &step, &opsdeck::actions::Outcome::succeeded("ok"))
        .unwrap();
    let seen: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(seen, read(audit.path()));
    assert_eq!(seen.len(), 2);
}
