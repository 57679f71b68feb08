//! The terminal is given back whatever ends the console: every catchable terminating signal (the
//! ones the loop hears, and the ones handled in place: faults, abort, SIGRTMAX) and a panic
//! outside supervised tasks. A panic inside a poller is shown on its pane and the console goes on.
//! The real binary under tmux; "given back" means: normal screen, cursor shown, cooked mode.

use super::common::{Answer, EsStandIn, Tmux};
use std::path::Path;

/// A console with nothing to poll (or an Elasticsearch to poll), its files in `dir`.
fn config(dir: &Path, es: Option<&str>) -> String {
    let file = dir.join("c.toml");
    let mut text = format!(
        "[general]\nenvironment = \"tty\"\nrefresh = \"1s\"\naudit_log = \"{d}/audit.jsonl\"\nlog_file = \"{d}/opsdeck.log\"\n",
        d = dir.display()
    );
    if let Some(url) = es {
        text.push_str(&format!(
            "\n[elasticsearch]\nurl = \"{url}\"\nrequest_timeout = \"5s\"\n"
        ));
    }
    std::fs::write(&file, text).unwrap();
    file.display().to_string()
}

/// The console under tmux with nothing to poll, its files in `dir`, with `env` set.
fn console(dir: &Path, env: &[(&str, &str)]) -> Tmux {
    Tmux::start(&format!("--config {}", config(dir, None)), dir, env)
}

/// After opsdeck ended: the terminal as a shell needs it.
fn assert_given_back(t: &Tmux, why: &str) -> String {
    // The modes are printed after the marker: wait for their end, not their start.
    t.wait_for("STTY-END");
    let s = t.history();
    assert_eq!(
        t.flags(),
        "alternate=0 cursor=1",
        "{why}: terminal not given back:\n{s}"
    );
    let stty = s.split("STTY:").nth(1).unwrap_or_default();
    for mode in [" icanon", " echo ", " isig", " icrnl", " opost"] {
        let stty_one_line = stty.replace('\n', " ");
        assert!(stty_one_line.contains(mode), "{why}: {mode:?} not back on:\n{s}");
    }
    assert!(
        !s.contains("opsdeck · tty"),
        "{why}: the console is still on screen:\n{s}"
    );
    s
}

#[test]
fn every_catchable_terminating_signal_gives_the_terminal_back() {
    let signals: Vec<(&str, i32)> = vec![
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("ALRM", libc::SIGALRM),
        ("TERM", libc::SIGTERM),
        ("HUP", libc::SIGHUP),
        ("USR2", libc::SIGUSR2),
        ("PWR", libc::SIGPWR),
        ("XCPU", libc::SIGXCPU),
        ("RTMIN+3", libc::SIGRTMIN() + 3),
        ("RTMAX", libc::SIGRTMAX()),
        ("SEGV", libc::SIGSEGV),
        ("ABRT", libc::SIGABRT),
    ];
    let runs: Vec<_> = signals
        .into_iter()
        .map(|(name, sig)| {
            std::thread::spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                let t = console(dir.path(), &[]);
                t.wait_for("opsdeck · tty");
                assert_eq!(
                    t.flags(),
                    "alternate=1 cursor=0",
                    "SIG{name}: the console holds the terminal"
                );
                t.signal(sig);
                let s = assert_given_back(&t, &format!("SIG{name}"));
                // Then it ends as that signal would have ended it.
                assert!(s.contains(&format!("EXIT:{}", 128 + sig)), "SIG{name}:\n{s}");
            })
        })
        .collect();
    for run in runs {
        run.join().unwrap();
    }
}

/// A loop that cannot hear a terminating signal (crossterm loops in the loop's thread on the end of
/// file of a terminal that hung up: consoles left behind at 100 % of a core) is ended anyway,
/// a few seconds later, the terminal given back, as the signal would have ended it.
#[test]
fn a_stuck_loop_is_ended_by_a_terminating_signal_all_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let t = console(dir.path(), &[("OPSDECK_DEBUG_STUCK", "loop")]);
    t.wait_for("opsdeck · tty");
    t.signal(libc::SIGHUP);
    let s = assert_given_back(&t, "a stuck loop and SIGHUP");
    assert!(s.contains(&format!("EXIT:{}", 128 + libc::SIGHUP)), "{s}");
}

#[test]
fn a_panic_in_the_loop_gives_the_terminal_back_then_prints() {
    let dir = tempfile::tempdir().unwrap();
    let t = console(dir.path(), &[("OPSDECK_DEBUG_PANIC", "loop")]);
    let s = assert_given_back(&t, "a panic in the event loop");
    assert!(s.contains("injected panic (OPSDECK_DEBUG_PANIC=loop)"), "{s}");
    assert!(s.contains("EXIT:101"), "{s}");
}

#[test]
fn a_panic_in_an_unsupervised_task_gives_the_terminal_back_and_ends_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let t = console(dir.path(), &[("OPSDECK_DEBUG_PANIC", "task")]);
    let s = assert_given_back(&t, "a panic in a task");
    assert!(s.contains("injected panic (OPSDECK_DEBUG_PANIC=task)"), "{s}");
    assert!(s.contains("opsdeck stopped after an internal error"), "{s}");
    assert!(s.contains("EXIT:2"), "{s}");
}

#[test]
fn a_panic_in_a_poller_is_shown_on_its_pane_and_the_poller_starts_again() {
    let es = EsStandIn::start();
    es.answer(
        "/_cluster/health",
        Answer::Json(br#"{"cluster_name": "survivor", "status": "green", "number_of_nodes": 1}"#.to_vec()),
    );
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        &format!("--config {}", config(dir.path(), Some(&es.url))),
        dir.path(),
        &[("OPSDECK_DEBUG_PANIC", "poller")],
    );
    t.wait_for("opsdeck · tty");
    t.keys(&["3"]);
    let s = t.wait_for("internal error — see the log");
    assert_eq!(t.flags(), "alternate=1 cursor=0", "still drawing, raw:\n{s}");
    assert!(!s.contains("panicked at"), "nothing printed over the console:\n{s}");
    // The next poll (after its backoff) answers: the same pane, the cluster's data, no error.
    let s = t.wait_until("the cluster after the restart", |s| {
        s.contains("survivor") && !s.contains("internal error")
    });
    assert_eq!(t.flags(), "alternate=1 cursor=0", "{s}");
    let log = std::fs::read_to_string(dir.path().join("opsdeck.log")).unwrap();
    assert!(
        log.contains("panic: panicked at") && log.contains("injected panic (OPSDECK_DEBUG_PANIC=poller)"),
        "the panic is in the log:\n{log}"
    );
    t.keys(&["q"]);
    assert_given_back(&t, "quit");
}
