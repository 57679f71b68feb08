//! The hosts and logs panes as a person drives them (keys in, screen text and effects out).

use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::keymap::Keymap;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::sources::runner::Polled;
use opsdeck_core::effect::Effect;
use opsdeck_core::logs::LogSource;
use opsdeck_core::theme::Theme;
use opsdeck_hosts::Logs;
use opsdeck_hosts::model::logs::LogEvent;
use opsdeck_hosts::model::{Filesystem, HostPoll, Program, ProgramState};
use opsdeck_hosts::source::TailCommand;
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
    es.junk = Some(Ok(vec![opsdeck_hosts::model::JunkFile {
        path: "/data/es/java_pid7.hprof".into(),
        size_bytes: 8 << 30,
        modified: None,
        id: Some(opsdeck_hosts::model::FileId { dev: 2049, ino: 7 }),
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
        s.lines()
            .any(|l| l.starts_with("dead-1 ") && l.contains("✖ ssh: connect to host dead-1")),
        "the dead host's own row says why: {s}"
    );
    assert!(
        s.lines().any(|l| l.starts_with("es-data-1 ") && l.contains(" ✔ up ")),
        "{s}"
    );
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
    // The dead host sorts first (an on-call user must see it), then es-data-1 (fullest disk).
    key(&mut app, "down");
    key(&mut app, "enter");
    let s = screen(&app, 120, 30);
    assert!(s.contains("hosts › es-data-1"), "{s}");
    assert!(s.contains("dump  /data/es/java_pid7.hprof"), "{s}");
    assert!(s.contains("✔ RUNNING"), "{s}");
    assert!(s.contains("4242"), "{s}");
    assert!(s.contains("up 1h"), "{s}");
    assert!(s.contains("✖ FATAL"), "{s}");
    // Go to the FATAL program and restart it: no supervisor program has that name, so the restart
    // is refused, saying why, instead of sending it anywhere.
    for _ in 0..5 {
        key(&mut app, "down");
    }
    key(&mut app, "r");
    let s = screen(&app, 120, 30);
    assert!(s.contains(r#"restart_program: program name "pillow;$(reboot)""#), "{s}");
    assert!(!s.contains("RUNNING with a new pid"), "no dialog: {s}");
    // The program above it restarts: the dialog shows the exact command.
    key(&mut app, "up");
    key(&mut app, "r");
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("ssh es-data-1 -- sudo -n supervisorctl restart elasticsearch"),
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

fn starts(effects: &[Effect]) -> Vec<LogSource> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Job(job) => match job.get::<Logs>() {
                Some(TailCommand::Start(source)) => Some(source.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn stops(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Job(job) => match job.get::<Logs>() {
                Some(TailCommand::Stop { id }) => Some(id.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn tail_its_log_opens_the_hosts_files_or_a_programs_output_in_the_logs_pane() {
    let es_log = LogSource::file("es-data-1", "/var/log/es/es.log");
    let gc_log = LogSource::file("es-data-1", "/var/log/es/gc.log");
    let mut app = app(CONFIG);
    polled(&mut app, hosts_poll());
    key(&mut app, "5");
    // Below the dead host, the fullest: es-data-1. L opens its two files, merged, in the logs pane.
    key(&mut app, "down");
    let effects = key(&mut app, "L");
    assert_eq!(starts(&effects), [es_log.clone(), gc_log.clone()]);
    assert_eq!(app.tab.name(), "logs");
    let s = screen(&app, 120, 30);
    assert!(s.contains("2 logs merged"), "{s}");
    // Back in the hosts pane, on the host's FATAL program: L follows that program's output instead,
    // and the files' tails stop (the logs pane shows one tail view at a time).
    key(&mut app, "5");
    key(&mut app, "enter");
    for _ in 0..5 {
        key(&mut app, "down");
    }
    let effects = key(&mut app, "L");
    assert_eq!(starts(&effects), [LogSource::program("es-data-1", "pillow;$(reboot)")]);
    assert_eq!(stops(&effects), [es_log.id(), gc_log.id()]);
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("es-data-1:program pillow;$(reboot)"),
        "breadcrumb names the program: {s}"
    );
    // Esc leaves the tail: its remote process is stopped.
    let effects = key(&mut app, "esc");
    assert_eq!(
        stops(&effects),
        [LogSource::program("es-data-1", "pillow;$(reboot)").id()]
    );
    // A host without configured logs says so and where to add them; nothing starts.
    key(&mut app, "5");
    key(&mut app, "esc");
    key(&mut app, "home");
    let effects = key(&mut app, "L");
    assert!(starts(&effects).is_empty(), "{effects:?}");
    assert_eq!(app.tab.name(), "hosts");
    let s = screen(&app, 120, 30);
    assert!(s.contains("no log files configured for dead-1"), "{s}");
}

#[test]
fn opening_logs_again_keeps_tails_both_views_show() {
    let mut app = app(CONFIG);
    polled(&mut app, hosts_poll());
    key(&mut app, "5");
    key(&mut app, "down");
    key(&mut app, "L");
    // The same host again: the running tails are kept (no stop, so no restart and no history replay).
    key(&mut app, "5");
    let effects = key(&mut app, "L");
    assert!(stops(&effects).is_empty(), "{effects:?}");
    assert_eq!(
        starts(&effects).len(),
        2,
        "starting a running tail is a no-op in the transport"
    );
}

#[test]
fn the_logs_pane_stops_the_selected_tail() {
    let mut app = app(CONFIG);
    started(&mut app, "es-data-1", "/var/log/es/es.log", 100);
    key(&mut app, "9");
    key(&mut app, "down");
    let stop = key(&mut app, "x");
    assert_eq!(stops(&stop), [LogSource::file("es-data-1", "/var/log/es/es.log").id()]);
    // On "(all)": every tail.
    key(&mut app, "home");
    let stop = key(&mut app, "x");
    assert_eq!(stops(&stop).len(), 1);
}

/// The status bar hints the keys that work where you are: the list only stops tails; a tail
/// follows, searches, wraps and saves.
#[test]
fn the_logs_status_bar_hints_what_works_in_the_view() {
    let mut app = app(CONFIG);
    key(&mut app, "9");
    let bar = |app: &App| screen(app, 200, 20).lines().last().unwrap_or_default().to_string();
    let list = bar(&app);
    assert!(list.contains("stop tail"), "{list}");
    assert!(!list.contains("toggle follow") && !list.contains("save log"), "{list}");
    key(&mut app, "enter");
    let tail = bar(&app);
    assert!(tail.contains("toggle follow") && tail.contains("save log"), "{tail}");
}

fn lines(app: &mut App, id: &str, lines: Vec<String>) {
    polled(
        app,
        SourceUpdate::Logs(LogEvent::Lines {
            id: id.to_string(),
            run: 1,
            lines,
        }),
    );
}

fn started(app: &mut App, host: &str, path: &str, capacity: usize) {
    polled(
        app,
        SourceUpdate::Logs(LogEvent::Started {
            source: LogSource::file(host, path),
            run: 1,
            capacity,
        }),
    );
}

#[test]
fn logs_pane_tails_merges_searches_pauses_saves_and_stops_on_leave() {
    let mut app = app(CONFIG);
    key(&mut app, "9");
    let s = screen(&app, 120, 30);
    assert!(s.contains("every configured log, merged (2 files)"), "{s}");
    // Enter on "all": both files are tailed.
    let effects = key(&mut app, "enter");
    assert_eq!(starts(&effects).len(), 2);
    let es = LogSource::file("es-data-1", "/var/log/es/es.log").id();
    let gc = LogSource::file("es-data-1", "/var/log/es/gc.log").id();
    started(&mut app, "es-data-1", "/var/log/es/es.log", 1000);
    started(&mut app, "es-data-1", "/var/log/es/gc.log", 1000);
    lines(&mut app, &es, (0..500).map(|i| format!("es line {i}")).collect());
    lines(&mut app, &gc, vec!["gc pause NEEDLE 12ms".into()]);
    lines(&mut app, &es, (500..1200).map(|i| format!("es line {i}")).collect());
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("es │ es line 1199"),
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
    assert!(s.contains("gc │ gc pause NEEDLE 12ms"), "{s}");
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
    assert_eq!(stops(&effects), [es, gc]);
}

#[test]
fn a_hundred_thousand_buffered_lines_render_only_the_screen() {
    let mut app = app(CONFIG);
    key(&mut app, "9");
    key(&mut app, "down");
    key(&mut app, "enter");
    let id = LogSource::file("es-data-1", "/var/log/es/es.log").id();
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
    // Only the screen is drawn (how fast is the bench's to measure: benches/hosts.rs).
    let s = screen(&app, 120, 30);
    assert!(s.contains("line 99999 of the big log"), "{s}");
    assert!(!s.contains("line 99970 of the big log"), "{s}");
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
    key(&mut app, "down");
    key(&mut app, "enter");
    insta::assert_snapshot!("host_detail", screen(&app, 110, 16));
}

#[test]
fn the_inodes_toggle_shows_each_disks_inode_usage() {
    let mut app = app(CONFIG);
    let mut es = HostPoll::unreachable("es-data-1", "ssh", String::new());
    es.reach = Ok(());
    let mut data = fs("/data", "xfs", 500 << 20, 50.0);
    data.inodes = Some(opsdeck_hosts::model::Inodes {
        total: 1_000_000,
        used: 870_000,
        free: 130_000,
        use_percent: 87.0,
    });
    es.filesystems = Some(Ok(vec![fs("/", "ext4", 10 << 20, 41.0), data]));
    polled(&mut app, SourceUpdate::Hosts(Ok(vec![es])));
    key(&mut app, "5");
    let s = screen(&app, 120, 30);
    assert!(!s.contains("INODES"), "hidden until asked for: {s}");
    key(&mut app, "i");
    let s = screen(&app, 120, 30);
    assert!(s.contains("INODES"), "{s}");
    assert!(s.contains("87% of 1000000"), "{s}");
    // A disk df gave no inode numbers for shows a dash, not a made-up value.
    let root = s.lines().find(|l| l.contains("ext4")).unwrap_or_default();
    assert!(root.trim_end().ends_with('-'), "{s}");
    // And the host's own view has the same toggle.
    key(&mut app, "i");
    key(&mut app, "enter");
    key(&mut app, "i");
    let s = screen(&app, 120, 30);
    assert!(s.contains("INODES") && s.contains("87% of 1000000"), "{s}");
}

/// A host that answered, with these disks.
fn up(name: &str, disks: Vec<Filesystem>) -> HostPoll {
    HostPoll {
        reach: Ok(()),
        filesystems: Some(Ok(disks)),
        ..HostPoll::unreachable(name, "ssh", String::new())
    }
}

#[test]
fn stop_tail_in_a_tail_stops_the_tails_it_shows() {
    let es_log = LogSource::file("es-data-1", "/var/log/es/es.log").id();
    let gc_log = LogSource::file("es-data-1", "/var/log/es/gc.log").id();
    let mut app = app(CONFIG);
    key(&mut app, "9");
    key(&mut app, "enter"); // "(all)": both files merged
    assert_eq!(stops(&key(&mut app, "x")), [es_log.clone(), gc_log]);
    let s = screen(&app, 120, 30);
    assert!(s.contains("2 logs merged"), "the view stays, lines and all: {s}");
    assert!(s.contains("stopped"), "{s}");
    assert!(!s.contains("not available here"), "{s}");
    // Already stopped: leaving stops nothing (the log may be tailed anew elsewhere by then).
    assert!(stops(&key(&mut app, "esc")).is_empty());
    key(&mut app, "down");
    key(&mut app, "enter"); // one file
    assert_eq!(stops(&key(&mut app, "x")), [es_log]);
}

#[test]
fn wrapped_long_lines_are_shown_to_their_last_character() {
    let id = LogSource::file("es-data-1", "/var/log/es/es.log").id();
    let mut app = app(CONFIG);
    key(&mut app, "9");
    key(&mut app, "down");
    key(&mut app, "enter");
    started(&mut app, "es-data-1", "/var/log/es/es.log", 100);
    // Words too long for two to share a 120-column row: wrapping at spaces would take a row per
    // word, more rows than 263 / 120 rounded up.
    let mut words = ["alpha", "bravo", "charlie"].map(|w| format!("{w:x<65}")).to_vec();
    words.push(format!("{:x>65}", "THE-END"));
    let long = words.join(" ");
    lines(&mut app, &id, vec!["before".into(), long.clone()]);
    key(&mut app, "w");
    let s = screen(&app, 120, 30);
    assert!(s.contains("wrap"), "{s}");
    assert!(s.contains("before"), "{s}");
    // Cut at the screen's width, every row of the line is on screen, the last one included.
    for row in long.as_bytes().chunks(120) {
        let row = std::str::from_utf8(row).unwrap();
        assert!(s.contains(row.trim_end()), "{row:?} missing: {s}");
    }
    assert!(s.contains("THE-END"), "{s}");
}

#[test]
fn unreachable_and_failed_hosts_sort_first_then_by_fullest_disk() {
    let mut app = app(CONFIG);
    let disk = |pct| vec![fs("/", "ext4", 100 << 20, pct)];
    polled(
        &mut app,
        SourceUpdate::Hosts(Ok(vec![
            up("aaa-full", disk(95.0)),
            up("bbb-died", disk(10.0)),
            up("ccc-calm", disk(30.0)),
        ])),
    );
    polled(
        &mut app,
        SourceUpdate::Hosts(Ok(vec![
            // Answered before, not now: its disks are last known, it is down.
            HostPoll::unreachable("bbb-died", "ssh", "connection timed out".into()),
            // Never answered at all.
            HostPoll::unreachable("zzz-never", "ssh", "connection refused".into()),
            // Up, but df fails: nothing known about its disks.
            HostPoll {
                filesystems: Some(Err("df: timed out".into())),
                ..up("ddd-nodf", Vec::new())
            },
        ])),
    );
    key(&mut app, "5");
    let s = screen(&app, 120, 30);
    let names = ["aaa-full", "bbb-died", "ccc-calm", "ddd-nodf", "zzz-never"];
    let mut shown: Vec<(usize, &str)> = names.iter().filter_map(|n| s.find(n).map(|at| (at, *n))).collect();
    shown.sort();
    assert_eq!(
        shown.into_iter().map(|(_, n)| n).collect::<Vec<_>>(),
        ["bbb-died", "ddd-nodf", "zzz-never", "aaa-full", "ccc-calm"],
        "{s}"
    );
}

#[test]
fn inodes_key_toggles_inode_usage_on_and_off() {
    let mut app = app(CONFIG);
    polled(
        &mut app,
        SourceUpdate::Hosts(Ok(vec![up("es-data-1", vec![fs("/", "ext4", 100 << 20, 40.0)])])),
    );
    key(&mut app, "5");
    // The host list has no inode column: `i` shows every disk with its inodes...
    key(&mut app, "i");
    let s = screen(&app, 120, 30);
    assert!(s.contains("INODES") && s.contains("hosts (all disks)"), "{s}");
    // ...and `i` again hides them and goes back to where it came from.
    key(&mut app, "i");
    let s = screen(&app, 120, 30);
    assert!(!s.contains("INODES") && !s.contains("all disks"), "{s}");
    // In the all-disks view chosen with `f`, `i` only shows and hides the column.
    key(&mut app, "f");
    key(&mut app, "i");
    assert!(screen(&app, 120, 30).contains("INODES"));
    key(&mut app, "i");
    let s = screen(&app, 120, 30);
    assert!(!s.contains("INODES") && s.contains("hosts (all disks)"), "{s}");
}

#[test]
fn flat_key_in_a_hosts_view_opens_every_disk_and_esc_comes_back() {
    let mut app = app(CONFIG);
    let disk = |mount, pct| fs(mount, "ext4", 100 << 20, pct);
    polled(
        &mut app,
        SourceUpdate::Hosts(Ok(vec![
            up("db-1", vec![disk("/", 40.0), disk("/data", 70.0)]),
            up("web-1", vec![disk("/srv", 20.0)]),
        ])),
    );
    key(&mut app, "5");
    key(&mut app, "enter"); // db-1: fullest disk
    let s = screen(&app, 120, 30);
    assert!(s.contains("hosts › db-1") && !s.contains("/srv"), "{s}");
    key(&mut app, "f");
    let s = screen(&app, 120, 30);
    assert!(!s.contains("not available here"), "{s}");
    assert!(
        s.contains("all disks") && s.contains("/srv") && s.contains("/data"),
        "every host's disks: {s}"
    );
    // Enter on a disk opens its host, as from the host list's all-disks view.
    key(&mut app, "end"); // web-1's /srv: the emptiest
    key(&mut app, "enter");
    assert!(screen(&app, 120, 30).contains("› web-1"));
    // Esc goes back the way it came: to every disk, then to db-1.
    key(&mut app, "esc");
    assert!(screen(&app, 120, 30).contains("hosts › db-1 › hosts (all disks)"));
    key(&mut app, "esc");
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("hosts › db-1 ") && !s.contains("all disks") && !s.contains("/srv") && s.contains("/data"),
        "{s}"
    );
}
