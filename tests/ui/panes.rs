//! The real hosts and logs panes (not the fake), driven through the same keys and screen as the
//! flows: what each key does in each of their views.

use super::fake::*;
use opsdeck::app::screen::Screen;
use opsdeck::app::{App, Effect, Event};
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::model::hosts::{Filesystem, HostPoll};
use opsdeck::model::logs::{LogEvent, LogSource};
use opsdeck::sources::runner::Polled;
use opsdeck::sources::ssh::TailCommand;
use opsdeck::ui::panes::Tab;
use std::time::{Duration, SystemTime};

const CONFIG: &str = r#"
[[ssh.hosts]]
name = "web-1"
logs = ["/var/log/app.log", "/var/log/gc.log"]
"#;

/// The shared test app, with the real hosts pane in place of the fake one.
fn real_app() -> App {
    let config = opsdeck::config::parse_str(CONFIG, std::path::Path::new("t.toml")).unwrap();
    let mut app = app_with(config, false, default_rows());
    app.panes[Tab::Hosts.index()] = vec![Screen::new(Tab::Hosts.root())];
    app
}

fn poll(app: &mut App, update: SourceUpdate) {
    app.update(Event::Polled(Polled {
        at: SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
        update,
    }));
}

fn disk(mount: &str, use_percent: f64) -> Filesystem {
    let size_kib = 100 << 20;
    let used_kib = (size_kib as f64 * use_percent / 100.0) as u64;
    Filesystem {
        source: "/dev/sda1".into(),
        fstype: Some("ext4".into()),
        mount: mount.into(),
        size_kib,
        used_kib,
        avail_kib: size_kib - used_kib,
        use_percent,
        inodes: None,
    }
}

fn up(name: &str, disks: Vec<Filesystem>) -> HostPoll {
    HostPoll {
        reach: Ok(()),
        filesystems: Some(Ok(disks)),
        ..HostPoll::unreachable(name, "ssh", String::new())
    }
}

fn stops(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Logs(TailCommand::Stop { id }) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// Wide enough for the all-disks view's INODES column.
fn wide_screen(app: &App) -> String {
    opsdeck::ui::testing::screen_text(app, 140, 30)
}

/// The order `names` appear in on the screen.
fn order<'a>(s: &str, names: &[&'a str]) -> Vec<&'a str> {
    let mut found: Vec<(usize, &str)> = names.iter().filter_map(|n| s.find(n).map(|at| (at, *n))).collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

#[test]
fn stop_tail_in_a_tail_stops_the_tails_it_shows() {
    let app_log = LogSource::file("web-1", "/var/log/app.log").id();
    let gc_log = LogSource::file("web-1", "/var/log/gc.log").id();
    let mut app = real_app();
    key(&mut app, "6");
    key(&mut app, "enter"); // "(all)": both files merged
    assert_eq!(stops(&key(&mut app, "x")), [app_log.clone(), gc_log]);
    let s = screen(&app);
    assert!(s.contains("2 logs merged"), "the view stays, lines and all: {s}");
    assert!(s.contains("stopped"), "{s}");
    assert!(!s.contains("not available here"), "{s}");
    key(&mut app, "esc");
    key(&mut app, "down");
    key(&mut app, "enter"); // one file
    assert_eq!(stops(&key(&mut app, "x")), [app_log]);
}

#[test]
fn wrapped_long_lines_are_shown_to_their_last_character() {
    let id = LogSource::file("web-1", "/var/log/app.log").id();
    let mut app = real_app();
    key(&mut app, "6");
    key(&mut app, "down");
    key(&mut app, "enter");
    poll(
        &mut app,
        SourceUpdate::Logs(LogEvent::Started {
            source: LogSource::file("web-1", "/var/log/app.log"),
            run: 1,
            capacity: 100,
        }),
    );
    // Words too long for two to share a 100-column row: wrapping at spaces would take a row per
    // word, more rows than 223 / 100 rounded up.
    let mut words = ["alpha", "bravo", "charlie"].map(|w| format!("{w:x<55}")).to_vec();
    words.push(format!("{:x>55}", "THE-END"));
    let long = words.join(" ");
    poll(
        &mut app,
        SourceUpdate::Logs(LogEvent::Lines {
            id,
            run: 1,
            lines: vec!["before".into(), long.clone()],
        }),
    );
    key(&mut app, "w");
    let s = screen(&app);
    assert!(s.contains("wrap"), "{s}");
    assert!(s.contains("before"), "{s}");
    // Cut at the screen's width, every row of the line is on screen, the last one included.
    for row in long.as_bytes().chunks(100) {
        let row = std::str::from_utf8(row).unwrap();
        assert!(s.contains(row.trim_end()), "{row:?} missing: {s}");
    }
    assert!(s.contains("THE-END"), "{s}");
}

#[test]
fn unreachable_and_failed_hosts_sort_first_then_by_fullest_disk() {
    let mut app = real_app();
    poll(
        &mut app,
        SourceUpdate::Hosts(Ok(vec![
            up("aaa-full", vec![disk("/", 95.0)]),
            up("bbb-died", vec![disk("/", 10.0)]),
            up("ccc-calm", vec![disk("/", 30.0)]),
        ])),
    );
    poll(
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
    let s = screen(&app);
    assert_eq!(
        order(&s, &["aaa-full", "bbb-died", "ccc-calm", "ddd-nodf", "zzz-never"]),
        ["bbb-died", "ddd-nodf", "zzz-never", "aaa-full", "ccc-calm"],
        "{s}"
    );
}

#[test]
fn inodes_key_toggles_inode_usage_on_and_off() {
    let mut app = real_app();
    poll(
        &mut app,
        SourceUpdate::Hosts(Ok(vec![up("web-1", vec![disk("/", 40.0)])])),
    );
    key(&mut app, "5");
    // The host list has no inode column: `i` shows every disk with its inodes...
    key(&mut app, "i");
    let s = wide_screen(&app);
    assert!(s.contains("INODES") && s.contains("hosts (all disks)"), "{s}");
    // ...and `i` again hides them and goes back to where it came from.
    key(&mut app, "i");
    let s = wide_screen(&app);
    assert!(!s.contains("INODES") && !s.contains("all disks"), "{s}");
    // In the all-disks view chosen with `f`, `i` only shows and hides the column.
    key(&mut app, "f");
    key(&mut app, "i");
    assert!(wide_screen(&app).contains("INODES"));
    key(&mut app, "i");
    let s = wide_screen(&app);
    assert!(!s.contains("INODES") && s.contains("hosts (all disks)"), "{s}");
}

#[test]
fn flat_key_in_a_hosts_view_shows_every_disk_and_comes_back() {
    let mut app = real_app();
    poll(
        &mut app,
        SourceUpdate::Hosts(Ok(vec![
            up("db-1", vec![disk("/", 40.0), disk("/data", 70.0)]),
            up("web-1", vec![disk("/srv", 20.0)]),
        ])),
    );
    key(&mut app, "5");
    key(&mut app, "enter"); // db-1: fullest disk
    let s = screen(&app);
    assert!(s.contains("hosts › db-1") && !s.contains("/srv"), "{s}");
    key(&mut app, "f");
    let s = screen(&app);
    assert!(!s.contains("not available here"), "{s}");
    assert!(
        s.contains("all disks") && s.contains("/srv") && s.contains("/data"),
        "every host's disks: {s}"
    );
    // Enter on a disk opens its host, as from the host list's all-disks view.
    key(&mut app, "end"); // web-1's /srv: the emptiest
    key(&mut app, "enter");
    assert!(screen(&app).contains("› web-1"));
    key(&mut app, "esc");
    key(&mut app, "f");
    let s = screen(&app);
    assert!(
        s.contains("hosts › db-1") && !s.contains("/srv") && s.contains("/data"),
        "{s}"
    );
}
