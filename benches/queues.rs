//! Criterion benchmarks: queues. Fleet-XL's 300 queues with 120 backlog samples each: the trend /
//! time-to-drain analysis and the alerts (what every frame and `check` pay). Drawing the pane:
//! `goals` (`render_200x60/queues`).

use criterion::{Criterion, criterion_group};
use opsdeck::config::Config;
use opsdeck::demo::xl::{self, HISTORY, XL};
use opsdeck_core::feed::FeedData;
use opsdeck_queues::model::QueuesState;
use std::hint::black_box;

/// Fleet-XL's queues after 120 polls.
fn state() -> QueuesState {
    let mut state = None;
    for step in 0..HISTORY {
        QueuesState::absorb(&mut state, xl::queues(&XL, step), xl::time(step));
    }
    state.expect("polled")
}

fn analysis(c: &mut Criterion) {
    let state = state();
    let config = Config::default();
    c.bench_function("queues_trend_eta_300x120", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for q in &state.queues {
                let t = opsdeck_queues::analysis::trend(q.history.iter());
                n += matches!(t.drain, opsdeck_queues::analysis::Drain::Growing) as usize;
                n += opsdeck_queues::analysis::sparkline(&q.history, 16).len();
            }
            black_box(n)
        })
    });
    c.bench_function("queues_alerts_300x120", |b| {
        b.iter(|| black_box(opsdeck_queues::analysis::alerts(&state, &config)))
    });
}

criterion_group!(benches, analysis);
