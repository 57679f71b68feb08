//! Criterion: the hosts pane with 200 hosts × 20 filesystems (one row per host, and flat: 4 000 disks),
//! the logs pane over 100k buffered lines (draw, search, a burst of new lines), and df parsing.

use criterion::{BenchmarkId, Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::keymap::Keymap;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::sources::runner::Polled;
use opsdeck::views::Tab;
use opsdeck_core::theme::Theme;
use opsdeck_hosts::model::logs::LogEvent;
use opsdeck_hosts::model::{Filesystem, HostPoll, Program, ProgramState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const NOW: u64 = 1_795_000_000;

fn app(config: Config) -> App {
    let (keymap, _) = Keymap::load("default", None, &action_catalog());
    let env = Env {
        config: Arc::new(config),
        keymap,
        theme: Theme::builtin("default").unwrap(),
        read_only: false,
    };
    let (mut app, _) = App::new(env, SystemTime::UNIX_EPOCH + Duration::from_secs(NOW));
    app.update(Event::Resize { width: 200, height: 60 });
    app
}

fn key(app: &mut App, c: char) {
    app.update(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::empty())));
}

fn polled(app: &mut App, update: SourceUpdate) {
    app.update(Event::Polled(Polled {
        at: SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
        update,
    }));
}

fn fleet_poll(hosts: usize, disks: usize) -> SourceUpdate {
    let polls = (0..hosts)
        .map(|h| {
            let mut p = HostPoll::unreachable(&format!("host-{h:03}"), "ssh", String::new());
            if h % 50 != 7 {
                p.reach = Ok(());
            }
            p.load = Some([h as f64 / 100.0, 0.5, 0.4]);
            p.filesystems = Some(Ok((0..disks)
                .map(|d| {
                    let size = (1 + d as u64) << 20;
                    let pct = ((h * 7 + d * 13) % 100) as f64;
                    let used = (size as f64 * pct / 100.0) as u64;
                    Filesystem {
                        source: format!("/dev/nvme{d}n1"),
                        fstype: Some(if d % 5 == 4 { "tmpfs" } else { "xfs" }.into()),
                        mount: format!("/data/{d}"),
                        size_kib: size,
                        used_kib: used,
                        avail_kib: size - used,
                        use_percent: pct,
                        inodes: None,
                    }
                })
                .collect()));
            p.programs = Some(Ok((0..4)
                .map(|i| Program {
                    name: format!("worker-{i}"),
                    state: if (h + i) % 17 == 0 {
                        ProgramState::Fatal
                    } else {
                        ProgramState::Running
                    },
                    pid: Some(1000 + i as u32),
                    uptime_secs: Some(3600),
                    description: String::new(),
                })
                .collect()));
            p
        })
        .collect();
    SourceUpdate::Hosts(Ok(polls))
}

fn hosts_render(c: &mut Criterion) {
    let mut group = c.benchmark_group("hosts_200x20");
    let mut a = app(Config::default());
    polled(&mut a, fleet_poll(200, 20));
    a.tab = Tab::Hosts;
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    group.bench_function("render_hosts", |b| {
        b.iter(|| {
            terminal.draw(|f| opsdeck::ui::draw(f, &a)).unwrap();
        })
    });
    key(&mut a, 'f');
    group.bench_function("render_all_disks", |b| {
        b.iter(|| {
            terminal.draw(|f| opsdeck::ui::draw(f, &a)).unwrap();
        })
    });
    group.bench_function("poll_absorb", |b| b.iter(|| polled(&mut a, fleet_poll(200, 20))));
    group.finish();
}

fn logs(c: &mut Criterion) {
    let mut group = c.benchmark_group("logs_100k");
    let config: Config = opsdeck::config::parse_str(
        "[ssh]\nlog_buffer = 100000\n[[ssh.hosts]]\nname = \"web-1\"\nlogs = [\"/var/log/a.log\", \"/var/log/b.log\"]\n",
        std::path::Path::new("bench.toml"),
    )
    .unwrap();
    let mut a = app(config);
    a.tab = Tab::Logs;
    a.update(Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::empty())));
    for path in ["/var/log/a.log", "/var/log/b.log"] {
        polled(
            &mut a,
            SourceUpdate::Logs(LogEvent::Started {
                source: opsdeck_core::logs::LogSource::file("web-1", path),
                run: 1,
                capacity: 100_000,
            }),
        );
    }
    for chunk in 0..100 {
        let id = if chunk % 2 == 0 {
            "web-1:/var/log/a.log"
        } else {
            "web-1:/var/log/b.log"
        };
        let lines = (0..1000)
            .map(|i| {
                format!(
                    "10.0.0.{} - - \"GET /api/cases/{} HTTP/1.1\" 200 {}ms",
                    i % 250,
                    chunk * 1000 + i,
                    i % 400
                )
            })
            .collect();
        polled(
            &mut a,
            SourceUpdate::Logs(LogEvent::Lines {
                id: id.into(),
                run: 1,
                lines,
            }),
        );
    }
    // A needle near the top, so search walks most of the buffer.
    assert_eq!(a.fleet.logs.lines.len(), 100_000);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    group.bench_function("render_following", |b| {
        b.iter(|| {
            terminal.draw(|f| opsdeck::ui::draw(f, &a)).unwrap();
        })
    });
    key(&mut a, 'w');
    key(&mut a, 't');
    group.bench_function("render_wrap_timestamps", |b| {
        b.iter(|| {
            terminal.draw(|f| opsdeck::ui::draw(f, &a)).unwrap();
        })
    });
    key(&mut a, '/');
    for c in "cases/12345 ".trim().chars() {
        key(&mut a, c);
    }
    a.update(Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::empty())));
    group.bench_function("search_prev_and_next", |b| {
        b.iter(|| {
            key(&mut a, 'N');
            key(&mut a, 'n');
        })
    });
    group.bench_function("render_search_highlight", |b| {
        b.iter(|| {
            terminal.draw(|f| opsdeck::ui::draw(f, &a)).unwrap();
        })
    });
    group.bench_function("apply_burst_of_1000_lines", |b| {
        let lines: Vec<String> = (0..1000).map(|i| format!("burst line {i}")).collect();
        b.iter(|| {
            polled(
                &mut a,
                SourceUpdate::Logs(LogEvent::Lines {
                    id: "web-1:/var/log/a.log".into(),
                    run: 1,
                    lines: lines.clone(),
                }),
            )
        })
    });
    group.finish();
}

fn df_parse(c: &mut Criterion) {
    let mut text = String::from("Filesystem     Type     1024-blocks      Used Available Capacity Mounted on\n");
    for i in 0..200 {
        let _ = writeln!(text, "/dev/sd{i} xfs 104857600 52428800 52428800 50% /mnt/volume {i}");
    }
    c.bench_with_input(BenchmarkId::new("df_parse", 200), &text, |b, t| {
        b.iter(|| opsdeck_hosts::source::df::parse(t).unwrap())
    });
}

criterion_group!(benches, hosts_render, logs, df_parse);
