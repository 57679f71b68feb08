//! Criterion: the logs pane over 100k buffered lines (wrapped, searched, a burst of new lines), and df
//! parsing. The hosts pane at fleet-XL (200 hosts × 8 disks) is drawn and absorbed in `goals`.

use criterion::{BenchmarkId, Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::demo::xl::{self, Size, XL};
use opsdeck::keymap::Keymap;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::sources::runner::Polled;
use opsdeck::views::Tab;
use opsdeck_core::theme::Theme;
use opsdeck_hosts::model::logs::LogEvent;
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

fn logs(c: &mut Criterion) {
    let mut group = c.benchmark_group("logs_100k");
    // Fleet-XL's logs: 100k lines over its four configured files, all merged.
    let size = Size {
        pillows: 0,
        es_nodes: 0,
        es_shards: 0,
        queues: 0,
        audit_entries: 0,
        ..XL
    };
    let mut a = app(xl::config(&size));
    a.tab = Tab::Logs;
    a.update(Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::empty())));
    for event in xl::log_events(&size, xl::time(xl::HISTORY)) {
        polled(&mut a, SourceUpdate::Logs(event));
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
    for c in "case/v2/12345".chars() {
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
                    id: opsdeck_core::logs::LogSource::file("web-00", "/var/log/nginx/commcarehq.access.log").id(),
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

criterion_group!(benches, logs, df_parse);
