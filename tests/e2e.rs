//! The real binary in a real terminal (tmux): `opsdeck demo` starts, navigates, shows help and quits,
//! restoring the terminal; "tail its log" on a pillow shows that pillow's log, live.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    _home: tempfile::TempDir,
}

impl Tmux {
    fn start(args: &str) -> Tmux {
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
            .args(["-L", &socket, "new-session", "-d", "-x", "120", "-y", "36", &command])
            .status()
            .expect("tmux must be installed for the end-to-end test (apt-get install tmux; the test script does it)");
        assert!(status.success());
        Tmux { socket, _home: home }
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

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

#[test]
fn demo_starts_navigates_and_quits_cleanly() {
    let t = Tmux::start("demo");
    let s = t.wait_for("1 overview");
    assert!(s.contains("opsdeck · demo"), "{s}");
    for pane in ["pillows", "elasticsearch", "queues", "hosts", "logs", "audit"] {
        assert!(s.contains(pane), "tab {pane} missing:\n{s}");
    }
    t.keys(&["7"]);
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

#[test]
fn tail_log_on_a_pillow_shows_its_processes_log_live() {
    let t = Tmux::start("demo");
    t.wait_for("1 overview");
    t.keys(&["2"]);
    t.wait_for("case-pillow");
    // Select case-pillow whatever the sort order (by lag) is now.
    t.keys(&["/", "case-pillow", "Enter"]);
    t.wait_for(" /case-pillow ");
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
