//! The executor and the audit log, on real commands: intent is on disk before the action starts,
//! the outcome follows, failures and timeouts are recorded as such.

use opsdeck::actions::executor::{ActionEvent, execute};
use opsdeck::sources::Backends;
use opsdeck_core::action::{ActionPlan, OutcomeResult, Risk};
use opsdeck_core::audit::{AuditEntry, AuditLog, AuditPhase, Identity};
use opsdeck_hosts::actions::command::{CommandOp, Transport};
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
        op: std::sync::Arc::new(CommandOp {
            transport: Transport::Local,
            argv: vec!["sh".into(), "-c".into(), command.into()],
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

async fn run(plan: ActionPlan, audit: &AuditLog) -> (opsdeck_core::action::Outcome, Vec<ActionEvent>) {
    run_with(plan, audit, Backends::default()).await
}

async fn run_with(
    plan: ActionPlan,
    audit: &AuditLog,
    backends: Backends,
) -> (opsdeck_core::action::Outcome, Vec<ActionEvent>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let outcome = execute(7, plan, backends, audit.clone(), tx, CancellationToken::new()).await;
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
        .outcome("p-1.1", &step, &opsdeck_core::action::Outcome::succeeded("ok"))
        .unwrap();
    let seen: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(seen, read(audit.path()));
    assert_eq!(seen.len(), 2);
}

/// The custom-action template renderer against a real `sh`: whatever a value holds, the command
/// receives it byte for byte as one argument, and the script never depends on the values.
mod template_renderer {
    use opsdeck_core::exec::run_argv;
    use opsdeck_core::exec::script::{RenderError, Template};
    use proptest::prelude::*;
    use std::time::Duration;

    /// Characters a shell gives meaning to, and any other character: mostly printable ones (a
    /// control character makes the whole value refused), sometimes not.
    fn value() -> impl Strategy<Value = String> {
        let special = prop::sample::select("'\"$`\\ ;()|&<>#*?[]{}~=!%-".chars().collect::<Vec<_>>());
        let printable = any::<char>().prop_filter("printable", |c| !c.is_control());
        prop::collection::vec(prop_oneof![8 => special, 8 => printable, 1 => any::<char>()], 0..24)
            .prop_map(String::from_iter)
    }

    /// The NUL-terminated words `sh -c SCRIPT opsdeck VALUE…` printed.
    fn printed(template: &str, vars: &[(String, String)]) -> Result<Vec<String>, RenderError> {
        let rendered = Template::parse(template).unwrap().render(vars)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt
            .block_on(run_argv(&rendered.argv(), Duration::from_secs(10)))
            .unwrap();
        assert_eq!(out.status, Some(0), "{}: {}", rendered.script, out.stderr);
        let mut words: Vec<String> = out.stdout.split('\0').map(String::from).collect();
        assert_eq!(words.pop().as_deref(), Some(""), "{:?}", out.stdout);
        Ok(words)
    }

    fn vars(a: &str, b: &str) -> Vec<(String, String)> {
        vec![("a".into(), a.into()), ("b".into(), b.into())]
    }

    proptest! {
        // A bounded run (CI runs it with every `cargo test`); a failure prints its minimal case.
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_value_reaches_the_command_as_one_exact_argument(a in value(), b in value()) {
            // A value the dialog could not show as it is never runs.
            if (a.clone() + &b).chars().any(char::is_control) {
                let refused = printed(r#"printf '%s\0' x{{a}} x{{b}}"#, &vars(&a, &b));
                prop_assert!(matches!(refused, Err(RenderError::Control { .. })), "{refused:?}");
                return Ok(());
            }
            // Inside double quotes, bare inside a word, inside $( … ), after --.
            let words = printed(
                r#"printf '%s\0' "<{{a}}>" x{{b}}y x"{{a}}"{{b}} "$(printf '%s.' x"{{b}}")" -- {{a}}"#,
                &vars(&a, &b),
            )
            .unwrap();
            let expected = vec![
                format!("<{a}>"),
                format!("x{b}y"),
                format!("x{a}{b}"),
                format!("x{b}."),
                "--".to_string(),
                a.clone(),
            ];
            prop_assert_eq!(words, expected);
            // Alone as an argument: the value, unless it would be an option.
            match printed(r#"printf '%s\0' {{a}}"#, &vars(&a, &b)) {
                Ok(words) => {
                    prop_assert!(!a.starts_with('-'));
                    prop_assert_eq!(words, vec![a]);
                }
                Err(RenderError::OptionLike(o)) => prop_assert!(o.value.starts_with('-') && o.name == "a"),
                Err(e) => prop_assert!(false, "{e:?}"),
            }
        }

        #[test]
        fn the_script_never_depends_on_the_values(
            pieces in prop::collection::vec(
                prop::sample::select(vec![
                    "{{a}}", "{{b}}", " ", "'", "\"", "$(", ")", "`", "\\", "$", "((", "{", "}", "<<", "#",
                    "\n", ";", "--", "-x", "echo", "x",
                ]),
                0..30,
            ),
            a1 in value(), b1 in value(), a2 in value(), b2 in value(),
        ) {
            let template: String = pieces.concat();
            // Whatever the text, reading it ends in a template or an error, never a panic.
            let Ok(t) = Template::parse(&template) else { return Ok(()) };
            let plain = |v: &str| v.trim_start_matches('-').replace(char::is_control, "");
            let one = t.render(&vars(&plain(&a1), &plain(&b1)));
            let two = t.render(&vars(&plain(&a2), &plain(&b2)));
            if let (Ok(one), Ok(two)) = (one, two) {
                prop_assert_eq!(one.script, two.script);
            }
        }
    }
}

/// `opsdeck config check` on custom actions: every template mistake with its file and line.
#[test]
fn config_check_reports_custom_action_templates_and_scopes_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("actions.toml");
    std::fs::write(
        &file,
        r#"[[actions]]
name = "record"
key = "A"
scope = "hosts.host"
command = "printf 'A3[%s]\n' '{{name}}' >> out.txt"

[[actions]]
name = "typo"
key = "B"
scope = "hosts.host"
command = "ls -- {{nmae}}"

[[actions]]
name = "nowhere"
key = "C"
scope = "hosts.filesystem"
command = "df -h"

[[actions]]
name = "fine"
key = "D"
scope = "hosts"
command = "printf '%s\n' \"{{name}}\" {{path}}"
"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["config", "check"])
        .arg(&file)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let f = file.display();
    for line in [
        format!("{f}:5: actions[0].command: {{{{name}}}} is inside single quotes"),
        format!("{f}:11: actions[1].command: {{{{nmae}}}} is not a value rows in scope \"hosts.host\" have"),
        format!("{f}:16: actions[2].scope: unknown scope \"hosts.filesystem\""),
    ] {
        assert!(err.contains(&line), "{line}\nnot in:\n{err}");
    }
    assert_eq!(
        err.lines().filter(|l| l.starts_with(&*f.to_string())).count(),
        3,
        "{err}"
    );
}

/// Every view's scope is a row kind custom actions know, and every value its rows offer is a
/// placeholder config check accepts for that kind: walked over the demo fleet (each pane polled
/// once), through drill-downs and view toggles. Config check and the console cannot disagree.
#[tokio::test(flavor = "multi_thread")]
async fn the_placeholders_config_check_accepts_are_the_values_views_offer() {
    use opsdeck::app::{App, Env, Event, action_catalog};
    use opsdeck::config::custom::ROW_KINDS;
    use opsdeck::sources::runner::Polled;
    use opsdeck::views::Tab;
    use opsdeck_core::view::{View, ViewCtx};
    use std::collections::BTreeSet;

    fn check(view: &dyn View, ctx: &ViewCtx, seen: &mut BTreeSet<&'static str>) {
        let scope = view.scope();
        let kind = ROW_KINDS
            .iter()
            .find(|k| k.scope == scope)
            .unwrap_or_else(|| panic!("{scope:?} ({}) is not in custom::ROW_KINDS", view.crumb()));
        seen.insert(scope);
        for row in view.table(ctx).rows {
            for (name, _) in view.row_vars(ctx, &row.key) {
                assert!(
                    kind.vars.iter().any(|(n, _)| *n == name),
                    "{scope}: row {:?} offers {{{{{name}}}}}, which ROW_KINDS does not list",
                    row.key
                );
            }
        }
    }

    fn walk(mut view: Box<dyn View>, tab: Tab, ctx: &ViewCtx, depth: usize, seen: &mut BTreeSet<&'static str>) {
        check(view.as_ref(), ctx, seen);
        if depth < 3 {
            for row in view.table(ctx).rows.iter().take(4) {
                if let Some(deeper) = view.drill(ctx, &row.key) {
                    walk(deeper, tab, ctx, depth + 1, seen);
                }
            }
        }
        // Every mode of the view: each toggle (or view switch) applied until it comes back round.
        for action in tab.actions().iter().map(|a| a.name) {
            if !(action.starts_with("toggle_") || action.ends_with("_view")) {
                continue;
            }
            if let Some(other) = view.opens(action, ctx) {
                walk(other, tab, ctx, depth + 1, seen);
                continue;
            }
            for _ in 0..6 {
                if view.handle(action, ctx, None).is_none() {
                    break;
                }
                check(view.as_ref(), ctx, seen);
                if depth < 3 {
                    for row in view.table(ctx).rows.iter().take(4) {
                        if let Some(deeper) = view.drill(ctx, &row.key) {
                            walk(deeper, tab, ctx, depth + 1, seen);
                        }
                    }
                }
            }
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let demo = opsdeck::demo::DemoFleet::start(dir.path().to_path_buf()).await.unwrap();
    let (backends, errors) = Backends::connect_with(&demo.config, &demo.stand_ins).await;
    assert!(errors.is_empty(), "{errors:?}");
    let (keymap, _) = opsdeck::keymap::Keymap::load("default", None, &action_catalog());
    let env = Env {
        config: std::sync::Arc::new(demo.config.clone()),
        keymap,
        theme: opsdeck_core::theme::Theme::builtin("default").unwrap(),
        read_only: false,
    };
    let (mut app, _) = App::new(env, std::time::SystemTime::now());
    for mut poller in backends.pollers(&demo.config) {
        let update = opsdeck::sources::poll_once(poller.as_mut()).await;
        app.update(Event::Polled(Polled {
            at: std::time::SystemTime::now(),
            update,
        }));
    }
    // One audited action, so the audit pane has an entry to drill into.
    let audit = AuditLog::new(dir.path().join("walk-audit.jsonl"), identity());
    let entry = audit.intent("walk-1", &plan("true", Duration::from_secs(1))).unwrap();
    app.update(Event::Action(ActionEvent::Audited(entry)));
    let ctx = app.ctx();
    let mut seen = BTreeSet::new();
    for tab in Tab::ALL {
        walk(tab.root(), tab, &ctx, 0, &mut seen);
    }
    let listed: BTreeSet<&str> = ROW_KINDS.iter().map(|k| k.scope).collect();
    let unseen: Vec<&&str> = listed.difference(&seen).collect();
    assert!(unseen.is_empty(), "row kinds no view has: {unseen:?}");
}

#[tokio::test]
async fn with_no_peer_behind_the_fleet_a_confirmed_action_is_audited_and_refused_unrun() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let touched = dir.path().join("ran");
    let audit = AuditLog::new(log.clone(), identity());
    let why = "not run: this is a generated fleet";
    let command = format!("touch {}", touched.display());
    let (outcome, _) = run_with(plan(&command, Duration::from_secs(10)), &audit, Backends::no_peers(why)).await;
    assert_eq!(outcome.result, OutcomeResult::Failed, "{outcome:?}");
    assert_eq!(outcome.summary, why);
    assert!(!touched.exists(), "the operation ran");
    let phases: Vec<(AuditPhase, String)> = read(&log).into_iter().map(|e| (e.phase, e.result)).collect();
    assert_eq!(
        phases,
        [
            (AuditPhase::Intent, "confirmed".to_string()),
            (AuditPhase::Outcome, "failed".to_string())
        ]
    );
}
