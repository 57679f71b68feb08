//! Criterion benchmarks: pillows at fleet scale — the evaluator over 3,200 partitions with 120
//! history samples each, one poll absorbed into that state, and the partitions table at 3,200 rows
//! (view → filter/sort → draw of the visible rows, the app's real path).

use criterion::{Criterion, criterion_group};
use opsdeck::app::screen::Screen;
use opsdeck::demo::xl::{self, HISTORY, Size, XL};
use opsdeck::model::Fleet;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck_core::feed::FeedData;
use opsdeck_core::pane::Pane;
use opsdeck_core::theme::Theme;
use opsdeck_core::view::ViewCtx;
use opsdeck_pillows::Pillows;
use opsdeck_pillows::model::{EvalSettings, PillowsPoll, PillowsState};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

/// One pillow of 3,200 partitions (fleet-XL's 50 × 64 in one table), from the fleet-XL generator.
const ONE: Size = Size {
    pillows: 1,
    partitions_per_pillow: 3_200,
    ..XL
};
const PARTITIONS: usize = 3_200;
const SAMPLES: u64 = HISTORY;

fn poll(step: u64) -> PillowsPoll {
    xl::pillows(&ONE, step, xl::time(step))
}

fn state() -> (PillowsState, EvalSettings) {
    let mut state = None;
    for step in 0..SAMPLES {
        PillowsState::absorb(&mut state, poll(step), xl::time(step));
    }
    (state.expect("polled"), poll(0).settings)
}

fn evaluation(c: &mut Criterion) {
    let (state, settings) = state();
    assert_eq!(state.pillows[0].partitions[0].sample_count(), SAMPLES as usize);
    let now = xl::time(SAMPLES);
    c.bench_function("pillows/evaluate 3200 partitions x 120 samples", |b| {
        let mut pillow = state.pillows[0].clone();
        b.iter(|| {
            opsdeck_pillows::analysis::evaluate_pillow(&mut pillow, now, &settings);
            black_box(pillow.verdicts.len())
        })
    });
    let next = poll(SAMPLES);
    c.bench_function("pillows/absorb one poll of 3200 partitions (incl. poll clone)", |b| {
        // Steady state: every iteration is one more poll folded into a full-history state.
        let mut s = Some(state.clone());
        let mut k = 0u64;
        b.iter(|| {
            k += 1;
            PillowsState::absorb(&mut s, next.clone(), now + Duration::from_secs(xl::STEP_SECS * k));
            black_box(s.as_ref().map(|s| s.pillows.len()))
        })
    });
}

fn render(c: &mut Criterion) {
    let (state, _) = state();
    let mut fleet = Fleet::default();
    fleet.enable(Pillows::ID);
    let mut data = Some(Arc::new(state));
    let folded = opsdeck_core::folding::fold(&mut data, poll(SAMPLES), xl::time(SAMPLES));
    fleet.apply(xl::time(SAMPLES), SourceUpdate::Pillows(Ok(folded)));
    let config = xl::config(&ONE);
    let theme = Theme::builtin("default").expect("default theme");
    let ctx = ViewCtx {
        fleet: &fleet,
        config: &config,
        now: xl::time(SAMPLES),
        theme: &theme,
        read_only: false,
        revision: None,
    };
    let view = opsdeck_pillows::views::root()
        .drill(&ctx, &xl::pillow_name(0))
        .expect("partitions view");
    let screen = Screen::new(view);
    let area = Rect::new(0, 0, 200, 50);
    c.bench_function("pillows/render partitions table, 3200 rows", |b| {
        let mut buf = Buffer::empty(area);
        b.iter(|| {
            let visible = screen.visible(&ctx);
            assert_eq!(visible.table.rows.len(), PARTITIONS);
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
