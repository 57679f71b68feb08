//! Hostile input from hosts, against the real sh, sshd and supervisord, driven through the console
//! as a person would (keys in; the plan a confirm produces run by the executor, with its audit log):
//! names that are shell syntax reach a custom action as data, a program named like an option is
//! refused unless the template puts `--` before it, and junk removal never leaves its junk path
//! when a directory is swapped for a link between the listing and the confirm.

use super::harness::{Sshd, Supervisord, read};
use opsdeck::actions::executor::{ActionEvent, execute};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::{Config, CustomAction};
use opsdeck::keymap::Keymap;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::sources::Backends;
use opsdeck::sources::runner::Polled;
use opsdeck::ui::testing::{press, screen_text, type_text};
use opsdeck_core::action::{ActionPlan, Outcome, OutcomeResult, Risk};
use opsdeck_core::audit::{AuditEntry, AuditLog, AuditPhase, Identity};
use opsdeck_core::config::ConfigDuration;
use opsdeck_core::effect::Effect;
use opsdeck_core::theme::Theme;
use opsdeck_hosts::config::{HostConfig, SshConfig, TransportKind};
use opsdeck_hosts::source::SshBackend;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// File names the issue found running their commands through a custom action.
const HOSTILE_FILES: [&str; 3] = [
    "\"; touch pwned_dq; \".hprof",
    "`touch pwned_bt`.hprof",
    "$(touch${IFS}pwned).hprof",
];

/// Program names supervisord accepts that a shell would run (it refuses spaces).
const HOSTILE_PROGRAMS: [&str; 2] = ["$(touch${IFS}pwned)", "`touch${IFS}pwned_bt`"];

/// What any of those would have created.
const CANARIES: [&str; 3] = ["pwned", "pwned_dq", "pwned_bt"];

/// The console on `config`, its SSH/local transport, and the audit log its actions write.
struct Console {
    app: App,
    backend: SshBackend,
    audit: AuditLog,
}

impl Console {
    fn new(config: Config, dir: &Path) -> Console {
        let issues = config.validate();
        assert!(issues.is_empty(), "{issues:?}");
        let (keymap, problems) = Keymap::load("default", None, &action_catalog());
        assert!(problems.is_empty(), "{problems:?}");
        let backend = SshBackend::new(&config.ssh).unwrap();
        let env = Env {
            config: Arc::new(config),
            keymap,
            theme: Theme::builtin("default").unwrap(),
            read_only: false,
        };
        let (mut app, _) = App::new(env, SystemTime::now());
        let problems: Vec<&str> = app.toasts.iter().map(|t| t.text.as_str()).collect();
        assert!(problems.is_empty(), "{problems:?}");
        app.update(Event::Resize { width: 200, height: 50 });
        Console {
            app,
            backend,
            audit: AuditLog::new(dir.join("audit.jsonl"), Identity::current()),
        }
    }

    /// One real poll of every host, into the console.
    async fn poll(&mut self) {
        let polls = self.backend.poll_all().await;
        self.app.update(Event::Polled(Polled {
            at: SystemTime::now(),
            update: SourceUpdate::Hosts(Ok(polls)),
        }));
    }

    fn screen(&self) -> String {
        screen_text(&self.app, 200, 50)
    }

    /// Moves the selection to the first row whose key ends with `name`.
    fn select(&mut self, name: &str) {
        press(&mut self.app, "home");
        for _ in 0..100 {
            let selected = self.app.screen().selected_key(&self.app.ctx());
            if selected.is_some_and(|k| k.ends_with(name)) {
                return;
            }
            press(&mut self.app, "down");
        }
        panic!("no row {name:?} on\n{}", self.screen());
    }

    /// The hosts pane, then `host`'s own view.
    fn open_host(&mut self, host: &str) {
        press(&mut self.app, "5");
        self.select(host);
        press(&mut self.app, "enter");
        assert!(self.screen().contains(&format!("hosts › {host}")), "{}", self.screen());
    }

    /// Presses `key` on the selected row and confirms its dialog (typing the target for high risk):
    /// the action the console hands the executor.
    fn confirm(&mut self, key: &str) -> (u64, ActionPlan) {
        press(&mut self.app, key);
        let Some(opsdeck::app::overlay::Overlay::Confirm(dialog)) = &self.app.overlay else {
            let toasts: Vec<&str> = self.app.toasts.iter().map(|t| t.text.as_str()).collect();
            panic!("{key}: no dialog ({toasts:?}) on\n{}", self.screen());
        };
        let (risk, target) = (dialog.plan.risk, dialog.plan.target.clone());
        let effects = if risk == Risk::High {
            type_text(&mut self.app, &target);
            press(&mut self.app, "enter")
        } else {
            press(&mut self.app, "tab");
            press(&mut self.app, "enter")
        };
        let runs: Vec<(u64, ActionPlan)> = effects
            .into_iter()
            .filter_map(|e| match e {
                Effect::RunAction { id, plan } => Some((id, plan)),
                _ => None,
            })
            .collect();
        assert_eq!(runs.len(), 1, "{key}: {runs:?}");
        runs.into_iter().next().expect("one run")
    }

    /// Runs an action as the console does: through the executor (intent and outcome audited), its
    /// events back into the console.
    async fn run(&mut self, (id, plan): (u64, ActionPlan)) -> Outcome {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let backends = Backends {
            ssh: Some(self.backend.clone()),
            ..Backends::default()
        };
        let outcome = execute(
            id,
            plan,
            backends,
            self.audit.clone(),
            tx.clone(),
            CancellationToken::new(),
        )
        .await;
        // What `executor::spawn` sends when the run ends.
        let _ = tx.send(ActionEvent::Finished {
            id,
            outcome: outcome.clone(),
        });
        while let Ok(e) = rx.try_recv() {
            self.app.update(Event::Action(e));
        }
        outcome
    }

    fn audited_outcomes(&self) -> Vec<AuditEntry> {
        read(self.audit.path())
            .lines()
            .map(|l| serde_json::from_str::<AuditEntry>(l).unwrap())
            .filter(|e| e.phase == AuditPhase::Outcome)
            .collect()
    }
}

fn action(name: &str, key: &str, command: String) -> CustomAction {
    CustomAction {
        name: name.into(),
        key: key.into(),
        scope: "hosts.host".into(),
        command,
        run_on: "{{host}}".into(),
        risk: Risk::Medium,
        description: String::new(),
        timeout: ConfigDuration::secs(20),
    }
}

fn quoted(p: &Path) -> String {
    shlex::try_quote(&p.to_string_lossy()).unwrap().into_owned()
}

/// Where a command run by a shell on this machine could have created a file.
fn canary_places(dirs: &[&Path]) -> Vec<PathBuf> {
    let mut places: Vec<PathBuf> = vec![
        std::env::current_dir().unwrap(),
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default(),
    ];
    places.extend(dirs.iter().map(|d| d.to_path_buf()));
    places
        .iter()
        .flat_map(|d| CANARIES.iter().map(move |c| d.join(c)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn names_from_a_host_reach_custom_actions_as_data_and_options_need_dashdash() {
    let sshd = Sshd::start();
    let root = sshd.dir.path();
    let mut programs: Vec<(&str, &str)> = HOSTILE_PROGRAMS.iter().map(|p| (*p, "/bin/sleep 3600")).collect();
    programs.push(("--version", "/bin/sleep 3600"));
    let sup = Supervisord::start(&programs);
    let dumps = root.join("dumps");
    let out = root.join("out");
    std::fs::create_dir_all(&dumps).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    for f in HOSTILE_FILES {
        std::fs::write(dumps.join(f), "dump").unwrap();
    }
    let mut host = sshd.host("web-1");
    host.supervisor = true;
    host.junk_paths = vec![dumps.to_string_lossy().into_owned()];
    let mut ssh = sshd.config(vec![host]);
    ssh.supervisor_command = sup.template();
    let cd = format!("cd {} && ", quoted(&out));
    let config = Config {
        ssh,
        actions: vec![
            // The issue's templates: the value inside quotes the author wrote, and bare.
            action(
                "record",
                "A",
                format!(r#"{cd}printf 'A3[%s]\n' "{{{{name}}}}" >> out.txt"#),
            ),
            action(
                "record-bare",
                "B",
                format!(r#"{cd}printf 'A3[%s]\n' {{{{name}}}} >> out.txt"#),
            ),
            action("list", "O", "ls {{name}}".into()),
            action("list-operand", "P", "ls -- {{name}}".into()),
        ],
        ..Config::default()
    };
    let mut console = Console::new(config, root);
    console.poll().await;
    console.open_host("web-1");

    let mut expected = Vec::new();
    let names: Vec<String> = HOSTILE_FILES
        .iter()
        .map(|f| dumps.join(f).to_string_lossy().into_owned())
        .chain(HOSTILE_PROGRAMS.iter().map(|p| p.to_string()))
        .collect();
    for name in &names {
        for key in ["A", "B"] {
            console.select(name);
            let plan = console.confirm(key);
            let outcome = console.run(plan).await;
            assert_eq!(
                outcome.result,
                OutcomeResult::Succeeded,
                "{key} on {name}: {}",
                outcome.summary
            );
            expected.push(format!("A3[{name}]"));
        }
    }
    let written: Vec<String> = read(&out.join("out.txt")).lines().map(String::from).collect();
    assert_eq!(
        written, expected,
        "every name reached printf byte for byte, as one argument"
    );
    for c in canary_places(&[root, &out, &dumps]) {
        assert!(!c.exists(), "a name ran as a command: {}", c.display());
    }

    // `ls {{name}}` on a program named --version would run `ls --version`: refused, saying what
    // the value is and where it came from.
    console.select("--version");
    press(&mut console.app, "O");
    let s = console.screen();
    assert!(
        s.contains("program name '--version' from supervisorctl status on web-1 starts with '-'"),
        "{s}"
    );
    assert!(console.app.overlay.is_none(), "no dialog: {s}");
    // Nor does supervisorctl get it.
    press(&mut console.app, "r");
    let s = console.screen();
    assert!(
        s.contains(r#"restart_program: program name "--version" from supervisorctl status on web-1 starts with '-'"#),
        "{s}"
    );
    assert!(console.app.overlay.is_none(), "no dialog: {s}");
    // After `--` it is an operand: ls looks for a file of that name.
    let plan = console.confirm("P");
    let outcome = console.run(plan).await;
    assert_eq!(outcome.result, OutcomeResult::Failed, "{}", outcome.summary);
    assert!(
        outcome.summary.contains("cannot access '--version'"),
        "ls read --version as a file name: {}",
        outcome.summary
    );
    console.backend.shutdown().await;
}

/// The attack from the issue: `junk/sub/core` is listed, then `junk/sub` is moved away and a link
/// to another directory holding a `core` takes its place before the confirm; and a listed dump is
/// swapped for a link to a file elsewhere. Only the file that is still the one listed goes.
async fn swap_after_listing_removes_nothing_outside_the_junk_path(host: HostConfig, ssh: SshConfig, root: &Path) {
    let name = host.name.clone();
    let junk = root.join("junk");
    let elsewhere = root.join("elsewhere");
    std::fs::create_dir_all(junk.join("sub")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    for f in [junk.join("sub/core"), junk.join("a.hprof"), junk.join("link.hprof")] {
        std::fs::write(f, "dump").unwrap();
    }
    std::fs::write(elsewhere.join("core"), "precious").unwrap();
    std::fs::write(elsewhere.join("secret"), "precious").unwrap();
    let mut host = host;
    host.junk_paths = vec![junk.to_string_lossy().into_owned()];
    let config = Config {
        ssh: SshConfig {
            hosts: vec![host],
            ..ssh
        },
        ..Config::default()
    };
    let mut console = Console::new(config, root);
    console.poll().await;
    console.open_host(&name);
    let confirmed = console.confirm("X");
    for f in ["sub/core", "a.hprof", "link.hprof"] {
        let listed = format!("{}/{f}", junk.display());
        assert!(confirmed.1.description.contains(&listed), "{}", confirmed.1.description);
    }

    std::fs::rename(junk.join("sub"), junk.join("sub.orig")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, junk.join("sub")).unwrap();
    std::fs::remove_file(junk.join("link.hprof")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("secret"), junk.join("link.hprof")).unwrap();
    let outcome = console.run(confirmed).await;

    assert_eq!(
        read(&elsewhere.join("core")),
        "precious",
        "nothing outside the junk path is removed"
    );
    assert_eq!(read(&elsewhere.join("secret")), "precious");
    assert!(
        junk.join("sub.orig/core").exists(),
        "the listed file moved away is left alone too"
    );
    assert!(!junk.join("a.hprof").exists(), "the unchanged file is removed");
    assert_eq!(outcome.result, OutcomeResult::Failed, "{}", outcome.summary);
    let audited = console.audited_outcomes();
    assert_eq!(audited.len(), 1, "{audited:?}");
    let (result, detail) = (&audited[0].result, &audited[0].detail);
    assert_eq!(result, "failed");
    for said in [
        format!("removed 1 of 3 file(s), 4 B on {name}: {}/a.hprof", junk.display()),
        format!(
            "{}/sub/core (changed since planned, left alone: sub on its path is a symbolic link now)",
            junk.display()
        ),
        format!(
            "{}/link.hprof (changed since planned, left alone: it is a symbolic link now)",
            junk.display()
        ),
    ] {
        assert!(detail.contains(&said), "the audit says {said:?}: {detail}");
    }
    console.backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn junk_swapped_for_a_link_after_listing_is_left_alone_on_a_local_host() {
    let dir = tempfile::tempdir().unwrap();
    let host = HostConfig::named("box", TransportKind::Local);
    swap_after_listing_removes_nothing_outside_the_junk_path(host, SshConfig::default(), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn junk_swapped_for_a_link_after_listing_is_left_alone_over_ssh() {
    let sshd = Sshd::start();
    let root = sshd.dir.path().join("host files");
    std::fs::create_dir_all(&root).unwrap();
    let ssh = sshd.config(Vec::new());
    swap_after_listing_removes_nothing_outside_the_junk_path(sshd.host("es-1"), ssh, &root).await;
}
