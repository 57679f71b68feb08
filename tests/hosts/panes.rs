//! The hosts and logs panes as a person drives them (keys in, screen text and effects out).

use opsdeck::app::{App, Effect, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::model::hosts::{Filesystem, HostPoll, Program, ProgramState};
use opsdeck::model::logs::LogEvent;
use opsdeck::sources::runner::Polled;
use opsdeck::sources::ssh::{TailCommand, tail_id};
use opsdeck::ui::keymap::Keymap;
use opsdeck::ui::theme::Theme;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const NOW: u64 = 1_795_000_000;

pub fn app(config: &str) -> App {
    let config: Config = opsdeck::config::parse_str(config, std::path::Path::new("t.toml")).unwrap();
    let (keymap, problems) = Keymap::load("default", None, &action_catalog());
    assert!(problems.is_empty(), "{problems:?}");
    let env = Env {
        config: Arc::new(config),
        keymap,
        theme: Theme::builtin("default").unwrap(),
        read_only: false,
    };
    let (mut app, _) = App::new(env, SystemTime::UNIX_EPOCH + Duration::from_secs(NOW));
    app.update(Event::Resize { width: 120, height: 30 });
    app
}

pub use opsdeck::ui::testing::{press as key, screen_text as screen, type_text};

fn fs(mount: &str, kind: &str, size: u64, pct: f64) -> Filesystem {
    let used = (size as f64 * pct / 100.0) as u64;
    Filesystem {
        source: format!("/dev/{kind}"),
        fstype: Some(kind.into()),
        mount: mount.into(),
        size_kib: size,
        used_kib: used,
        avail_kib: size - used,
        use_percent: pct,
        inodes: None,
    }
}

fn prog(name: &str, state: ProgramState, pid: Option<u32>) -> Program {
    Program {
        name: name.into(),
        state,
        pid,
        uptime_secs: pid.map(|_| 3_725),
        description: String::new(),
    }
}

const CONFIG: &str = r#"
[ssh]
supervisor_command = "sudo -n supervisorctl {action} {program}"
[[ssh.hosts]]
name = "es-data-1"
supervisor = true
junk_paths = ["/data/es"]
logs = ["/var/log/es/es.log", "/var/log/es/gc.log"]
[[ssh.hosts]]
name = "dead-1"
"#;

fn polled(app: &mut App, update: SourceUpdate) {
    app.update(Event::Polled(Polled {
        at: SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
        update,
    }));
}

fn hosts_poll() -> SourceUpdate {
    let mut es = HostPoll::unreachable("es-data-1", "ssh", String::new());
    es.reach = Ok(());
    es.load = Some([1.5, 1.2, 0.9]);
    es.filesystems = Some(Ok(vec![
        fs("/", "ext4", 10 << 20, 41.0),
        fs("/data es", "xfs", 500 << 20, 93.0),
        fs("/dev/shm", "tmpfs", 4 << 20, 99.0),
    ]));
    es.programs = Some(Ok(vec![
        prog("elasticsearch", ProgramState::Running, Some(4242)),
        prog("pillow;$(reboot)", ProgramState::Fatal, None),
    ]));
    es.junk = Some(Ok(vec![opsdeck::model::hosts::JunkFile {
        path: "/data/es/java_pid7.hprof".into(),
        size_bytes: 8 << 30,
        modified: None,
    }]));
    SourceUpdate::Hosts(Ok(vec![
        es,
        HostPoll::unreachable(
            "dead-1",
            "ssh",
            "ssh: connect to host dead-1 port 22: Connection refused".into(),
        ),
    ]))
}

#[test]
fn hosts_pane_shows_usage_bars_reachability_and_programs() {
    let mut app = app(CONFIG);
    polled(&mut app, hosts_poll());
    key(&mut app, "5");
    let s = screen(&app, 120, 30);
    assert!(s.contains("█████████░  93%"), "{s}");
    assert!(s.contains("/data es"), "mount with a space: {s}");
    assert!(
        s.contains("dead-1         ✖ ssh: connect to hos"),
        "the dead host's own row says why: {s}"
    );
    assert!(s.contains("es-data-1      ✔ up"), "{s}");
    assert!(s.contains("✖ 1/2 RUNNING"), "{s}");
    assert!(s.contains("1 · 8.0 GiB"), "junk summary: {s}");
    // Flat list of disks: tmpfs hidden until asked for.
    key(&mut app, "f");
    let s = screen(&app, 120, 30);
    assert!(!s.contains("/dev/shm"), "{s}");
    key(&mut app, "p");
    let s = screen(&app, 120, 30);
    assert!(s.contains("/dev/shm"), "{s}");
    key(&mut app, "p");
    key(&mut app, "f");
}

#[test]
fn a_host_lists_disks_dumps_programs_and_offers_verified_restarts() {
    let mut app = app(CONFIG);
    polled(&mut app, hosts_poll());
    key(&mut app, "5");
    key(&mut app, "enter"); // es-data-1 sorts first (fullest disk)
    let s = screen(&app, 120, 30);
    assert!(s.contains("hosts › es-data-1"), "{s}");
    assert!(s.contains("dump  /data/es/java_pid7.hprof"), "{s}");
    assert!(s.contains("✔ RUNNING"), "{s}");
    assert!(s.contains("4242"), "{s}");
    assert!(s.contains("up 1h"), "{s}");
    assert!(s.contains("✖ FATAL"), "{s}");
    // Go to the FATAL program and restart it: the dialog shows the exact, quoted command.
    for _ in 0..5 {
        key(&mut app, "down");
    }
    key(&mut app, "r");
    let s = screen(&app, 120, 30);
    assert!(
        s.contains(r#"ssh es-data-1 -- sudo -n supervisorctl restart 'pillow;$(reboot)'"#),
        "{s}"
    );
    assert!(s.contains("RUNNING with a new pid"), "{s}");
    key(&mut app, "esc");
    // Removing the junk is high risk: the target must be typed, every file is listed.
    key(&mut app, "X");
    let s = screen(&app, 120, 30);
    assert!(s.contains("Type es-data-1 to confirm"), "{s}");
    assert!(s.contains("8.0 GiB  /data/es/java_pid7.hprof"), "{s}");
    key(&mut app, "esc");
    // du asks for the directory, starting from the selected disk.
    key(&mut app, "home");
    key(&mut app, "u");
    let s = screen(&app, 120, 30);
    assert!(s.contains("directory to measure"), "{s}");
}

#[test]
fn tail_its_log_from_a_host_starts_the_configured_tails() {
    let mut app = app(CONFIG);
    polled(&mut app, hosts_poll());
    key(&mut app, "5");
    // On the host's row in the list (after a draw, as in the console)...
    screen(&app, 120, 30);
    let from_list = key(&mut app, "L");
    assert_eq!(from_list.len(), 2, "{from_list:?}");
    // The logs pane lists them; x stops the selected one.
    started(&mut app, "es-data-1", "/var/log/es/es.log", 100);
    key(&mut app, "6");
    key(&mut app, "down");
    screen(&app, 120, 30);
    let stop = key(&mut app, "x");
    assert!(
        matches!(stop.as_slice(), [Effect::Logs(TailCommand::Stop { id })] if id == &tail_id("es-data-1", "/var/log/es/es.log")),
        "{stop:?}"
    );
    // ...and inside the host.
    key(&mut app, "5");
    key(&mut app, "enter");
    let effects = key(&mut app, "L");
    let starts: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Logs(TailCommand::Start { host, path }) => Some((host.as_str(), path.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        starts,
        [("es-data-1", "/var/log/es/es.log"), ("es-data-1", "/var/log/es/gc.log")]
    );
}

fn lines(app: &mut App, id: &str, lines: Vec<String>) {
    polled(
        app,
        SourceUpdate::Logs(LogEvent::Lines {
            id: id.to_string(),
            lines,
        }),
    );
}

fn started(app: &mut App, host: &str, path: &str, capacity: usize) {
    polled(
        app,
        SourceUpdate::Logs(LogEvent::Started {
            id: tail_id(host, path),
            host: host.into(),
            path: path.into(),
            capacity,
        }),
    );
}

#[test]
fn logs_pane_tails_merges_searches_pauses_saves_and_stops_on_leave() {
    let mut app = app(CONFIG);
    key(&mut app, "6");
    let s = screen(&app, 120, 30);
    assert!(s.contains("every configured log, merged (2 files)"), "{s}");
    // Enter on "all": both files are tailed.
    let effects = key(&mut app, "enter");
    let n = effects
        .iter()
        .filter(|e| matches!(e, Effect::Logs(TailCommand::Start { .. })))
        .count();
    assert_eq!(n, 2);
    let es = tail_id("es-data-1", "/var/log/es/es.log");
    let gc = tail_id("es-data-1", "/var/log/es/gc.log");
    started(&mut app, "es-data-1", "/var/log/es/es.log", 1000);
    started(&mut app, "es-data-1", "/var/log/es/gc.log", 1000);
    lines(&mut app, &es, (0..500).map(|i| format!("es line {i}")).collect());
    lines(&mut app, &gc, vec!["gc pause NEEDLE 12ms".into()]);
    lines(&mut app, &es, (500..1200).map(|i| format!("es line {i}")).collect());
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("es-data-1:es.log │ es line 1199"),
        "merged with a prefix, newest at the bottom: {s}"
    );
    assert!(
        s.contains("dropped 201 line(s)"),
        "bounded buffer says what it dropped: {s}"
    );
    assert!(s.contains("▶ following"), "{s}");

    // Search: / then n/N jump to matches (older with N) and pause.
    key(&mut app, "/");
    type_text(&mut app, "needle");
    key(&mut app, "enter");
    key(&mut app, "N");
    let s = screen(&app, 120, 30);
    assert!(s.contains("es-data-1:gc.log │ gc pause NEEDLE 12ms"), "{s}");
    assert!(s.contains("⏸ PAUSED"), "{s}");
    // New lines do not move a paused view.
    lines(&mut app, &es, vec!["fresh line".into()]);
    let s = screen(&app, 120, 30);
    assert!(!s.contains("fresh line"), "{s}");
    // End follows again.
    key(&mut app, "end");
    let s = screen(&app, 120, 30);
    assert!(s.contains("fresh line"), "{s}");

    // Save: the buffered lines of this view go to a file.
    let effects = key(&mut app, "ctrl-s");
    match effects.as_slice() {
        [Effect::SaveFile { path, contents }] => {
            assert!(path.to_string_lossy().starts_with("opsdeck-merged-"));
            assert!(contents.contains("gc pause NEEDLE 12ms\n"));
            assert!(contents.ends_with("fresh line\n"));
        }
        other => panic!("{other:?}"),
    }
    // Leaving the tail (esc clears the search first) stops both remote tails.
    key(&mut app, "esc");
    let effects = key(&mut app, "esc");
    let stops: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Logs(TailCommand::Stop { id }) => Some(id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(stops, [es, gc]);
}

#[test]
fn a_hundred_thousand_buffered_lines_render_only_the_screen() {
    let mut app = app(CONFIG);
    key(&mut app, "6");
    key(&mut app, "down");
    key(&mut app, "enter");
    let id = tail_id("es-data-1", "/var/log/es/es.log");
    started(&mut app, "es-data-1", "/var/log/es/es.log", 100_000);
    for chunk in 0..10 {
        lines(
            &mut app,
            &id,
            (0..10_000)
                .map(|i| format!("line {} of the big log", chunk * 10_000 + i))
                .collect(),
        );
    }
    assert_eq!(app.fleet.logs.lines.len(), 100_000);
    let started = std::time::Instant::now();
    let s = screen(&app, 120, 30);
    let took = started.elapsed();
    assert!(s.contains("line 99999 of the big log"), "{s}");
    // Generous bound (debug build, shared CI box); the bench measures it properly.
    assert!(took < Duration::from_millis(500), "render took {took:?}");
    key(&mut app, "w");
    key(&mut app, "t");
    let s = screen(&app, 120, 30);
    assert!(s.contains("wrap · timestamps"), "{s}");
}

#[test]
fn hosts_screens_snapshot() {
    let mut app = app(CONFIG);
    polled(&mut app, hosts_poll());
    key(&mut app, "5");
    insta::assert_snapshot!("hosts_list", screen(&app, 110, 12));
    key(&mut app, "enter");
    insta::assert_snapshot!("host_detail", screen(&app, 110, 16));
}
