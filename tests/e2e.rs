//! The real binary in a real terminal (tmux): `opsdeck demo` starts, navigates, shows help and quits,
//! restoring the terminal; "tail its log" on a pillow shows that pillow's log, live; the moment of
//! action: dialogs show their controls at any size, an alert lands on its row, read-only dialogs
//! close, hidden columns scroll into view; an action the credentials cannot perform (sudo refuses it)
//! says why instead of confirming.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    home: tempfile::TempDir,
}

impl Tmux {
    fn start(args: &str) -> Tmux {
        Tmux::start_sized(args, 120, 36)
    }

    /// The console in a `width` x `height` terminal.
    fn start_sized(args: &str, width: u16, height: u16) -> Tmux {
        let home = tempfile::tempdir().unwrap();
        let socket = format!(
            "opsdeck-e2e-{}-{}",
            std::process::id(),
            home.path().file_name().unwrap().to_string_lossy()
        );
        let command = format!(
            "HOME={} OPSDECK_CONFIG= {} {args}; echo OPSDECK-EXITED-$?; sleep 30",
            home.path().display(),
            env!("CARGO_BIN_EXE_opsdeck")
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                &command,
            ])
            .status()
            .expect("tmux must be installed for the end-to-end test (apt-get install tmux; the test script does it)");
        assert!(status.success());
        Tmux { socket, home }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits until the screen shows `text` (the console draws asynchronously).
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |screen| screen.contains(text))
    }

    /// Waits until the screen satisfies `done` (`what` names it when it never does).
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Tmux {
    /// Closes the open dialog with Escape, then quits and waits for a clean exit.
    fn close_dialog_and_quit(&self) {
        self.keys(&["Escape"]);
        self.wait_until("the dialog closed", |s| !s.contains("Confirm:"));
        self.keys(&["q"]);
        self.wait_for("OPSDECK-EXITED-0");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

#[test]
fn demo_starts_navigates_and_quits_cleanly() {
    // Wide enough for every tab's full name and the title beside them (the title gives way first).
    let t = Tmux::start_sized("demo", 140, 36);
    let s = t.wait_for("1 overview");
    assert!(s.contains("opsdeck · demo"), "{s}");
    for pane in [
        "pillows",
        "elasticsearch",
        "queues",
        "hosts",
        "redis",
        "rabbitmq",
        "logs",
        "audit",
    ] {
        assert!(s.contains(pane), "tab {pane} missing:\n{s}");
    }
    t.keys(&["0"]);
    t.wait_for("audit log:");
    t.keys(&["?"]);
    t.wait_for("this help");
    t.keys(&["Escape"]);
    // Escape must be read before the next key: ESC and ':' read together are Alt-':'.
    t.wait_until("help closed", |s| !s.contains("this help"));
    t.keys(&[":", "pill", "Enter"]);
    // The pane's title line (the tab bar says "pillows" all along).
    t.wait_until("the pillows pane", |s| {
        s.lines().nth(1).is_some_and(|l| l.starts_with(" pillows "))
    });
    // RUNNING comes from the pillow host's supervisor status (polled by the hosts source):
    // ucr-pillow's two processes never die in the demo.
    let s = t.wait_for("2/2");
    assert!(!s.contains("unknown/"), "{s}");
    t.keys(&["q"]);
    let s = t.wait_for("OPSDECK-EXITED-0");
    // The alternate screen is gone: the console's tab bar no longer shows.
    assert!(!s.contains("1 overview"), "terminal not restored:\n{s}");
}

/// The bottom line of the logs pane's body (the newest line while it follows): the screen's
/// second-to-last line, above the key hints.
fn newest_log_line(screen: &str) -> String {
    let lines: Vec<&str> = screen.trim_end_matches('\n').lines().collect();
    lines
        .len()
        .checked_sub(2)
        .map(|i| lines[i].to_string())
        .unwrap_or_default()
}

/// A table row named `name` is on screen (its first or second word, after a status glyph),
/// not only an alert or a title that mentions it.
fn has_row(screen: &str, name: &str) -> bool {
    screen.lines().any(|l| l.split_whitespace().take(2).any(|w| w == name))
}

#[test]
fn tail_log_on_a_pillow_shows_its_processes_log_live() {
    let t = Tmux::start("demo");
    t.wait_for("1 overview");
    t.keys(&["2"]);
    t.wait_for("case-pillow");
    // Select case-pillow whatever the sort order (by lag) is now.
    t.keys(&["/", "case-pillow", "Enter"]);
    t.wait_for(" /case-pillow ");
    // Its row, not only its name: alerts from the hosts poll name it before the pillows poll lists it,
    // and `L` with no row selected says so in a toast instead of opening the log.
    t.wait_until("the case-pillow row", |s| has_row(s, "case-pillow"));
    t.keys(&["L"]);
    // Its three processes' logs, merged: lines a pillow prints, from process 0's log file.
    let s = t.wait_for("pillowtop case-pillow[0]: processed ");
    assert!(s.contains("logs › 3 logs merged"), "{s}");
    // Each line names its process, short: what the three file names share is left out.
    assert!(s.contains("pillow-0 │ "), "{s}");
    assert!(!s.contains("commcare-hq-demo-pillowtop-case-pillow-0"), "{s}");
    // And it follows: newer lines keep arriving at the bottom.
    let newest = newest_log_line(&s);
    t.wait_until("a newer log line", |screen| {
        let now = newest_log_line(screen);
        now != newest && now.contains("pillowtop case-pillow[")
    });
    t.keys(&["q"]);
    t.wait_for("OPSDECK-EXITED-0");
}

#[test]
fn read_only_is_announced_in_the_title_bar() {
    let t = Tmux::start("demo --read-only");
    t.wait_for("READ-ONLY");
    t.keys(&["C-c"]);
    t.wait_for("OPSDECK-EXITED-0");
}

#[test]
fn sigterm_restores_the_terminal() {
    let t = Tmux::start("demo");
    t.wait_for("1 overview");
    // The pane's shell is this test's own; opsdeck is its child.
    let shell = Command::new("tmux")
        .args(["-L", &t.socket, "display", "-p", "#{pane_pid}"])
        .output()
        .unwrap();
    let shell = String::from_utf8_lossy(&shell.stdout).trim().to_string();
    let pid = Command::new("pgrep").args(["-P", &shell, "opsdeck"]).output().unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    assert!(!pid.is_empty());
    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    let s = t.wait_for("OPSDECK-EXITED-");
    assert!(!s.contains("1 overview"), "terminal not restored:\n{s}");
}

/// The pane's title line (the second line of the screen): its breadcrumbs.
fn crumbs(screen: &str) -> &str {
    screen.lines().nth(1).unwrap_or_default()
}

fn has_controls(s: &str) -> bool {
    s.contains("Verify") && s.contains("Cancel") && s.contains("Run ")
}

#[test]
fn confirm_dialogs_show_their_controls_at_any_size() {
    // The issue's repro: a pillow's partition, restart the pillow, at 200x50.
    let t = Tmux::start_sized("demo", 200, 50);
    t.wait_for("1 overview");
    t.keys(&["2"]);
    t.wait_for("case-pillow ");
    t.keys(&["Enter"]);
    t.wait_until("a pillow's partitions", |s| crumbs(s).contains(" › "));
    t.keys(&["Enter"]);
    t.wait_until("a partition", |s| crumbs(s).matches(" › ").count() == 2);
    t.keys(&["R"]);
    // Wait for the whole frame: tmux can be read while a frame is half written.
    t.wait_until("the restart dialog with its controls", |s| {
        s.contains("Confirm: Restart all") && has_controls(s)
    });
    t.close_dialog_and_quit();

    // 80x24: the bounce procedure is longer than the screen; its body scrolls, controls stay.
    let t = Tmux::start_sized("demo", 80, 24);
    t.wait_for("1 overview");
    t.keys(&["3"]);
    t.wait_for("es-core-1");
    t.keys(&["B"]);
    let s = t.wait_until("the bounce dialog with its controls and typed field", |s| {
        s.contains("Confirm: Controlled bounce") && has_controls(s) && s.contains("to confirm: [")
    });
    assert!(s.contains("↓") && s.contains("scroll"), "says it scrolls: {s}");
    for _ in 0..30 {
        t.keys(&["Down"]);
    }
    t.wait_until("the end of the call with the controls still shown", |s| {
        s.contains("↓ 0 more") && has_controls(s)
    });
    t.close_dialog_and_quit();
}

#[test]
fn enter_on_an_alert_lands_on_its_row() {
    let t = Tmux::start("demo");
    t.wait_for("reports-legacy");
    // Browse the queues pane first: its selection sits on another queue (the last row; the
    // critical reports-legacy sorts first).
    t.keys(&["4"]);
    t.wait_for("thumbnails");
    t.keys(&["End"]);
    t.keys(&["1"]);
    t.wait_until("the overview", |s| crumbs(s).starts_with(" overview"));
    t.keys(&["/", "reports-legacy", "Enter"]);
    t.wait_for(" /reports-legacy ");
    t.keys(&["Enter"]);
    t.wait_until("the queues pane", |s| crumbs(s).starts_with(" queues"));
    // What is selected is the alert's queue: Enter opens it.
    t.keys(&["Enter"]);
    let s = t.wait_until("the queue opened", |s| crumbs(s).contains(" › "));
    assert!(crumbs(&s).contains("queues › reports-legacy"), "{s}");
    t.keys(&["q"]);
    t.wait_for("OPSDECK-EXITED-0");
}

#[test]
fn read_only_high_risk_dialog_closes_with_enter() {
    let t = Tmux::start("demo --read-only");
    t.wait_for("READ-ONLY");
    t.keys(&["4"]);
    t.wait_for("reports-legacy");
    t.keys(&["/", "reports-legacy", "Enter"]);
    t.wait_for(" /reports-legacy ");
    t.wait_until("the reports-legacy row", |s| has_row(s, "reports-legacy"));
    t.keys(&["P"]);
    t.wait_for("READ-ONLY MODE");
    t.keys(&["Enter"]);
    t.wait_until("the dialog closed", |s| !s.contains("READ-ONLY MODE"));
    t.keys(&["C-c"]);
    t.wait_for("OPSDECK-EXITED-0");
}

#[test]
fn narrow_tables_count_hidden_columns_and_scroll_them_into_view() {
    let t = Tmux::start_sized("demo", 80, 24);
    t.wait_for("1 overview");
    assert!(
        // Ten tabs at 80 columns: the active one named, the others by their keys (audit's 0), and
        // which fleet this is.
        t.screen()
            .lines()
            .next()
            .is_some_and(|bar| bar.contains(" 0 ") && bar.contains("opsdeck · demo")),
        "{}",
        t.screen()
    );
    t.keys(&["2"]);
    let s = t.wait_for("more ▸");
    assert!(!s.contains("CHECKPOINT"), "{s}");
    for _ in 0..12 {
        t.keys(&["Right"]);
    }
    let s = t.wait_for("CHECKPOINT");
    assert!(s.contains("◂"), "{s}");
    t.keys(&["q"]);
    t.wait_for("OPSDECK-EXITED-0");
}

/// The demo's audit log is where `opsdeck paths` says, and what was done in the demo is still
/// there after it ends.
#[test]
fn the_demos_audit_log_is_where_paths_says_and_outlives_the_demo() {
    let t = Tmux::start("demo");
    let paths = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("paths")
        .env("HOME", t.home.path())
        .output()
        .unwrap();
    let paths = String::from_utf8_lossy(&paths.stdout).into_owned();
    let log = paths
        .lines()
        .find_map(|l| l.strip_prefix("demo audit log"))
        .unwrap_or_else(|| panic!("no demo audit log in `opsdeck paths`:\n{paths}"))
        .trim()
        .to_string();
    assert!(log.starts_with(&t.home.path().display().to_string()), "{log}");

    t.wait_for("1 overview");
    t.keys(&["0"]);
    t.wait_for(&format!("audit log: {log}"));
    // A custom action on a host leaves an audit line (Cancel has the focus: Tab to Run).
    t.keys(&["5"]);
    t.wait_for("RUNNING");
    t.keys(&["U"]);
    t.wait_for("Confirm:");
    t.keys(&["Tab"]);
    t.wait_for("▶ Run ◀");
    t.keys(&["Enter"]);
    // The outcome's toast lasts seconds, too short to count on under load: the audit tab keeps it.
    t.keys(&["0"]);
    t.wait_until("the uptime outcome in the audit tab", |s| {
        s.lines()
            .any(|l| l.contains("outcome") && l.contains("custom.uptime") && l.contains("succeeded"))
    });
    t.keys(&["q"]);
    t.wait_for("OPSDECK-EXITED-0");
    let written = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{log}: {e}"));
    assert!(
        written.contains("\"action\":\"custom.uptime\"") && written.contains("\"result\":\"succeeded\""),
        "{written}"
    );
}

#[path = "hosts/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "hosts/sudo_fleet.rs"]
mod sudo_fleet;

/// Issue 16: on a real fleet whose sudoers refuse `supervisorctl restart`, the console's
/// background capability checks (the same as `opsdeck doctor`'s) make the restart key say why
/// instead of opening a confirm dialog; `stop`, which sudo allows, still confirms.
#[test]
fn an_action_sudo_refuses_is_unavailable_with_the_reason() {
    let sshd = harness::Sshd::start();
    let sup = harness::Supervisord::start(&[("tile-worker", "/bin/sleep 3600")]);
    let sudo = sudo_fleet::stand_in_sudo(sshd.dir.path());
    std::fs::write(sshd.path("refused"), "*supervisorctl*restart*\n").unwrap();
    let config = sshd.path("opsdeck.toml");
    std::fs::write(
        &config,
        sudo_fleet::ssh_section(
            &sshd,
            &sudo_fleet::sudo_template(&sudo, &sup),
            &[("worker-1", "127.0.0.1")],
        ),
    )
    .unwrap();
    let t = Tmux::start(&format!("--config {}", config.display()));
    t.wait_for("1 overview");
    t.keys(&["5"]);
    t.wait_for("worker-1");
    t.keys(&["Enter"]);
    t.wait_for("tile-worker");
    t.keys(&["Down"]);
    // The footer offers only what can be done: once the checks are in, stop but not restart.
    let footer = |s: &str| {
        s.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .to_string()
    };
    t.wait_until("the footer without restart", |s| {
        footer(s).contains("stop program") && !footer(s).contains("restart program")
    });
    t.keys(&["r"]);
    let s = t.wait_for("restart_program: not permitted: sudo:");
    assert!(s.contains("not allowed to run"), "{s}");
    assert!(!s.contains("Confirm:"), "{s}");
    t.keys(&["-"]);
    t.wait_for("Confirm:");
    t.close_dialog_and_quit();
}

#[test]
fn the_xl_demo_runs_on_generated_polls_and_refuses_actions_with_the_reason() {
    let t = Tmux::start_sized("demo --fleet xl", 200, 50);
    let s = t.wait_for("demo XL (generated)");
    assert!(s.contains("1 overview"), "{s}");
    // Freshness comes from the generated pollers through the runner, as for real polls.
    t.wait_until("every generated pane polled", |s| s.matches("updated ").count() >= 4);
    t.keys(&["5"]);
    t.wait_for("200 host(s)");
    t.keys(&["/", "web-00", "Enter"]);
    t.wait_until("web-00 alone", |s| s.contains(" /web-00 ") && !s.contains("web-01"));
    t.keys(&["Enter"]);
    t.wait_for("hosts › web-00");
    t.keys(&["/", "django-1", "Enter"]);
    t.wait_for("commcare-hq-production-django-1");
    t.keys(&["r"]);
    t.wait_for("Confirm: Restart commcare-hq-production-django-1 on web-00");
    t.keys(&["Tab"]);
    t.wait_until("Run focused", |s| s.contains("▶ Run ◀") || s.contains("[ Cancel ]"));
    t.keys(&["Enter"]);
    t.wait_for("no peer behind its rows");
    // Confirmed and refused, both on record in the audit pane.
    t.keys(&["0"]);
    t.wait_until("the refusal in the audit pane", |s| {
        s.lines()
            .any(|l| l.contains("web-00:commcare-hq-production-django-1") && l.contains("failed"))
    });
    t.keys(&["q"]);
    t.wait_for("OPSDECK-EXITED-0");
}
