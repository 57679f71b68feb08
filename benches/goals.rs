//! Criterion benchmarks for issue 14's goals, on fleet-XL (`opsdeck::demo::xl`, the fleet
//! `opsdeck demo --fleet xl` shows): every pane's root view drawn at 200×60 and the drill-downs that
//! hold the most rows (`render_200x60/...`), the same with their rows built again first
//! (`rebuild_200x60/...`), one poll of each pane absorbed into a state with 120 polls
//! of history (`absorb/...`), 2,000 `j` then one draw (`key_burst_2000_j/...`), one key then one
//! draw (`key_to_frame/...`), and the same with a poll of every pane folded in before the draw
//! (`key_to_frame_polled/...`).

use criterion::{BatchSize, Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::demo::xl::{self, HISTORY, Size, XL};
use opsdeck::keymap::Keymap;
use opsdeck::model::Fleet;
use opsdeck::sources::runner::Polled;
use opsdeck::views::Tab;
use opsdeck_core::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::{Arc, LazyLock};

/// Keys in a burst. The smoke run of a debug build (`cargo test --benches`, CI) presses fewer:
/// unoptimised, 2,000 keys on the 20k-shard grid take minutes and prove no more than 50 do.
const BURST: usize = if cfg!(debug_assertions) { 50 } else { 2_000 };

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;

/// An app on fleet `size`'s config holding `fleet`, at 200×60, on `tab`, after `keys`.
fn app(size: &Size, fleet: Fleet, tab: Tab, keys: &[KeyCode]) -> App {
    let (keymap, _) = Keymap::load("default", None, &action_catalog());
    let env = Env {
        config: Arc::new(xl::config(size)),
        keymap,
        theme: Theme::builtin("default").expect("shipped"),
        read_only: false,
    };
    let (mut app, _) = App::new(env, xl::time(HISTORY));
    app.fleet = fleet;
    app.tab = tab;
    app.update(Event::Resize {
        width: WIDTH,
        height: HEIGHT,
    });
    for &k in keys {
        press(&mut app, k);
    }
    if keys.contains(&KeyCode::Enter) {
        assert_eq!(app.stack().len(), 2, "{tab:?}: Enter opens the first row");
    }
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::empty())));
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test backend")
}

/// A frame as the loop draws it: the selection pinned after what was folded in, then the draw.
fn draw(terminal: &mut Terminal<TestBackend>, app: &mut App) {
    app.settle();
    terminal.draw(|f| opsdeck::ui::draw(f, app)).expect("draw");
    // As the loop does: what the frame replaced is freed now, not while the next one is built.
    opsdeck_core::garbage::frame_drawn();
}

/// The views measured: (bench id, tab, keys that open the view from the tab's root).
fn scenes() -> Vec<(&'static str, Tab, Vec<KeyCode>)> {
    let mut scenes: Vec<(&'static str, Tab, Vec<KeyCode>)> =
        Tab::ALL.iter().map(|&t| (t.name(), t, Vec::new())).collect();
    scenes.extend([
        // A 64-partition pillow's partitions (the first row of the pillows table).
        ("pillows_partitions_64", Tab::Pillows, vec![KeyCode::Enter]),
        ("elasticsearch_shard_grid", Tab::Elasticsearch, vec![KeyCode::Char('v')]),
        ("hosts_all_disks", Tab::Hosts, vec![KeyCode::Char('f')]),
        // Every configured log merged: the 100k buffered lines.
        ("logs_100k_merged", Tab::Logs, vec![KeyCode::Enter]),
    ]);
    scenes
}

/// Fleet-XL after 120 polls of every pane, its audit entries and log lines, and the polls that go
/// on from there (made once: every group starts from a copy).
fn xl_history() -> (Fleet, xl::Polls) {
    static HISTORY_XL: LazyLock<(Fleet, xl::Polls)> = LazyLock::new(|| xl::history(&XL, HISTORY));
    HISTORY_XL.clone()
}

fn xl_fleet() -> Fleet {
    xl_history().0
}

fn render(c: &mut Criterion) {
    let fleet = xl_fleet();
    let mut group = c.benchmark_group("render_200x60");
    for (id, tab, keys) in scenes() {
        let mut app = app(&XL, fleet.clone(), tab, &keys);
        let mut terminal = terminal();
        group.bench_function(id, |b| b.iter(|| draw(&mut terminal, &mut app)));
    }
    // The grid goal at 100k shard copies (ES alone: nothing else changes with it).
    let big = XL.with_es_shards(100_000);
    let es = Size {
        pillows: 0,
        queues: 0,
        hosts: 0,
        audit_entries: 0,
        log_lines: 0,
        ..big
    };
    let mut app = app(&big, xl::fleet(&es, 2), Tab::Elasticsearch, &[KeyCode::Char('v')]);
    let mut terminal = terminal();
    group.bench_function("elasticsearch_shard_grid_100k", |b| {
        b.iter(|| draw(&mut terminal, &mut app))
    });
    group.finish();
}

/// The first frame after a change: the view's rows built again (filter, sort, widths), then drawn.
fn rebuild(c: &mut Criterion) {
    let fleet = xl_fleet();
    let mut rebuilt = c.benchmark_group("rebuild_200x60");
    for (id, tab, keys) in scenes() {
        let mut app = app(&XL, fleet.clone(), tab, &keys);
        let mut terminal = terminal();
        rebuilt.bench_function(id, |b| {
            b.iter(|| {
                app.revision += 1;
                draw(&mut terminal, &mut app)
            })
        });
    }
    rebuilt.finish();
}

fn absorb(c: &mut Criterion) {
    let (fleet, polls) = xl_history();
    let mut group = c.benchmark_group("absorb");
    for pane in xl::POLLED {
        // Each iteration folds the next poll into the full-history state; making the poll (the
        // poller's work, in its own task) is outside the timing.
        let (mut fleet, mut polls) = (fleet.clone(), polls.clone());
        let mut step = HISTORY;
        group.bench_function(pane.name(), |b| {
            b.iter_batched(
                || {
                    step += 1;
                    let at = xl::time(step);
                    (at, polls.update(pane, step, at).expect("polled pane"))
                },
                |(at, update)| fleet.apply(at, update),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// What the user waits for: a burst of keys, then the one frame that shows their effect.
fn keys(c: &mut Criterion) {
    let fleet = xl_fleet();
    let mut burst = c.benchmark_group("key_burst_2000_j");
    // An iteration is 2,000 updates: criterion's least number of samples keeps a run bounded.
    burst.sample_size(10);
    let scenes = scenes();
    for (id, tab, keys) in &scenes {
        let mut app = app(&XL, fleet.clone(), *tab, keys);
        let mut terminal = terminal();
        burst.bench_function(*id, |b| {
            b.iter(|| {
                // `j` of the vim keymap: the default keymap's ↓ (an unbound `j` would move nothing).
                for _ in 0..BURST {
                    press(&mut app, KeyCode::Down);
                }
                draw(&mut terminal, &mut app);
            })
        });
    }
    burst.finish();
    let mut one = c.benchmark_group("key_to_frame");
    for (id, tab, keys) in &scenes {
        let mut app = app(&XL, fleet.clone(), *tab, keys);
        let mut terminal = terminal();
        // Down then up: the selection stays put, each key still moves it and redraws.
        let mut down = true;
        one.bench_function(*id, |b| {
            b.iter(|| {
                press(&mut app, if down { KeyCode::Down } else { KeyCode::Up });
                down = !down;
                draw(&mut terminal, &mut app);
            })
        });
    }
    one.finish();
}

/// Key to frame while every poller delivers: one key, one poll of each generated pane folded in
/// (as the loop folds what is queued before it draws), one draw. Making the polls is the pollers'
/// work, outside the timing.
fn key_while_polled(c: &mut Criterion) {
    let (fleet, polls) = xl_history();
    let mut group = c.benchmark_group("key_to_frame_polled");
    let busy = [
        "overview",
        "pillows",
        "pillows_partitions_64",
        "elasticsearch_shard_grid",
        "queues",
        "hosts_all_disks",
    ];
    for (id, tab, keys) in scenes().into_iter().filter(|(id, _, _)| busy.contains(id)) {
        let mut app = app(&XL, fleet.clone(), tab, &keys);
        let mut polls = polls.clone();
        let mut terminal = terminal();
        let (mut step, mut down) = (HISTORY, true);
        group.bench_function(id, |b| {
            b.iter_batched(
                || {
                    step += 1;
                    let at = xl::time(step);
                    let updates: Vec<Polled> = xl::POLLED
                        .iter()
                        .filter_map(|&pane| polls.update(pane, step, at))
                        .map(|update| Polled { at, update })
                        .collect();
                    updates
                },
                |updates| {
                    press(&mut app, if down { KeyCode::Down } else { KeyCode::Up });
                    down = !down;
                    for p in updates {
                        app.update(Event::Polled(p));
                    }
                    draw(&mut terminal, &mut app);
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, render, rebuild, absorb, keys, key_while_polled);
