//! Criterion benchmarks: pillows at fleet scale — the evaluator over 3,200 partitions with 120
//! history samples each, one poll absorbed into that state, and the partitions table at 3,200 rows
//! (view → filter/sort → draw of the visible rows, the app's real path).

use criterion::{Criterion, criterion_group};
use opsdeck::app::screen::Screen;
use opsdeck::config::Config;
use opsdeck::model::Fleet;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck_core::feed::FeedData;
use opsdeck_core::pane::Pane;
use opsdeck_core::theme::Theme;
use opsdeck_core::view::ViewCtx;
use opsdeck_pillows::Pillows;
use opsdeck_pillows::config::PillowConfig;
use opsdeck_pillows::model::{
    Assignment, CheckpointKind, EvalSettings, PartitionReading, PillowReading, PillowsPoll, PillowsState,
};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const PARTITIONS: i32 = 3_200;
const SAMPLES: u64 = 120;

fn t(s: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
}

fn poll(step: u64, settings: &EvalSettings) -> PillowsPoll {
    let partitions = (0..PARTITIONS)
        .map(|p| {
            let end = 1_000_000 + step as i64 * 300 + p as i64;
            // A mix: most keep up, every 7th lags and recovers, every 31st stopped.
            let committed = match p {
                p if p % 31 == 0 => 900_000,
                p if p % 7 == 0 => end - 5_000 + step as i64 * 20,
                _ => end - 10,
            };
            PartitionReading {
                topic: format!("topic-{}", p / 100),
                partition: p % 100,
                committed: Some(committed),
                log_start: Some(0),
                log_end: Some(end),
                last_modified: Some(t(step * 30)),
                doc_modification_time: None,
            }
        })
        .collect();
    PillowsPoll {
        pillows: vec![PillowReading {
            name: "big-pillow".into(),
            kind: CheckpointKind::Postgres,
            checkpoint: "big-pillow".into(),
            assignment: Assignment {
                processes: 32,
                dedicated_migration_process: false,
            },
            processes: Vec::new(),
            result: Ok(partitions),
        }],
        settings: settings.clone(),
    }
}

fn state() -> (PillowsState, EvalSettings) {
    let settings = EvalSettings {
        history: SAMPLES as usize,
        ..EvalSettings::default()
    };
    let mut state = None;
    for step in 0..SAMPLES {
        PillowsState::absorb(&mut state, poll(step, &settings), t(step * 30));
    }
    (state.unwrap(), settings)
}

fn evaluation(c: &mut Criterion) {
    let (state, settings) = state();
    assert_eq!(state.pillows[0].partitions[0].history.len(), SAMPLES as usize);
    let now = t(SAMPLES * 30);
    c.bench_function("pillows/evaluate 3200 partitions x 120 samples", |b| {
        let mut pillow = state.pillows[0].clone();
        b.iter(|| {
            opsdeck_pillows::analysis::evaluate_pillow(&mut pillow, now, &settings);
            black_box(pillow.verdicts.len())
        })
    });
    let next = poll(SAMPLES, &settings);
    // What the app's loop does with a pillows poll: the poller's task folded it (below), the loop
    // swaps the result in and lets the previous go.
    c.bench_function("absorb/pillows (on the UI loop)", |b| {
        let mut fleet = Fleet::default();
        fleet.enable(Pillows::ID);
        let folded = Arc::new(state.clone());
        b.iter(|| {
            fleet.apply(now, SourceUpdate::Pillows(Ok(Arc::clone(&folded))));
            black_box(fleet.pillows.data.is_some())
        })
    });
    c.bench_function("pillows/absorb one poll of 3200 partitions (incl. poll clone)", |b| {
        // Steady state: every iteration is one more poll folded into a full-history state.
        let mut s = Some(state.clone());
        let mut k = 0u64;
        b.iter(|| {
            k += 1;
            PillowsState::absorb(&mut s, next.clone(), now + Duration::from_secs(30 * k));
            black_box(s.as_ref().map(|s| s.pillows.len()))
        })
    });
}

fn render(c: &mut Criterion) {
    let (state, settings) = state();
    let mut fleet = Fleet::default();
    fleet.enable(Pillows::ID);
    let mut data = Some(Arc::new(state));
    let folded = opsdeck_core::folding::fold(&mut data, poll(SAMPLES, &settings), t(SAMPLES * 30));
    fleet.apply(t(SAMPLES * 30), SourceUpdate::Pillows(Ok(folded)));
    let mut config = Config::default();
    config.pillows.pillows.push(PillowConfig {
        name: "big-pillow".into(),
        checkpoint_id: Some("big-pillow".into()),
        group: None,
        topics: Vec::new(),
        processes: 32,
        dedicated_migration_process: false,
        hosts: Vec::new(),
        program: String::new(),
        log_file: None,
    });
    let theme = Theme::builtin("default").expect("default theme");
    let ctx = ViewCtx {
        fleet: &fleet,
        config: &config,
        now: t(SAMPLES * 30),
        theme: &theme,
        read_only: false,
        revision: None,
    };
    let view = opsdeck_pillows::views::root()
        .drill(&ctx, "big-pillow")
        .expect("partitions view");
    let screen = Screen::new(view);
    let area = Rect::new(0, 0, 200, 50);
    c.bench_function("pillows/render partitions table, 3200 rows", |b| {
        let mut buf = Buffer::empty(area);
        b.iter(|| {
            let visible = screen.visible(&ctx);
            assert_eq!(visible.table.rows.len(), PARTITIONS as usize);
            opsdeck::ui::widgets::table::draw(
                &mut buf,
                area,
                &visible,
                None,
                &screen.offset,
                &screen.col_scroll,
                &theme,
            );
            black_box(&buf);
        })
    });
}

criterion_group!(benches, evaluation, render);
