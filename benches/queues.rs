//! Criterion benchmarks: queues. 300 queues with 120 backlog samples each: the trend / time-to-drain
//! analysis (what every frame and `check` pay), and drawing the whole queues pane.

use criterion::{Criterion, criterion_group};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::keymap::Keymap;
use opsdeck::model::Fleet;
use opsdeck::views::Tab;
use opsdeck_core::feed::Feed;
use opsdeck_core::feed::FeedData;
use opsdeck_core::theme::Theme;
use opsdeck_queues::model::{DlqRef, QueueInfo, QueuesPoll, QueuesState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const QUEUES: usize = 300;
const SAMPLES: u64 = 120;
const T0: u64 = 1_795_000_000;

/// 300 queues, each polled 120 times 10 s apart: some fill, some drain, some are flat or old.
fn state() -> QueuesState {
    let mut state = None;
    for s in 0..SAMPLES {
        let queues = (0..QUEUES)
            .map(|i| {
                let slope = (i % 7) as i64 - 3;
                let visible = (5_000 + slope * s as i64 * (i as i64 % 13 + 1)).max(0) as u64;
                QueueInfo {
                    name: format!("queue-{i:03}"),
                    url: format!("https://sqs.us-east-1.amazonaws.com/123456789012/queue-{i:03}"),
                    arn: format!("arn:aws:sqs:us-east-1:123456789012:queue-{i:03}"),
                    visible,
                    in_flight: (i % 50) as u64,
                    delayed: 0,
                    retention_secs: 14 * 86_400,
                    oldest_age_secs: Some((i as f64) * 3_000.0 + s as f64 * 10.0),
                    dlq: (i % 10 == 0).then(|| DlqRef {
                        name: format!("queue-{i:03}-dlq"),
                        arn: String::new(),
                        max_receive_count: 5,
                        depth: Some(i as u64),
                    }),
                    ..Default::default()
                }
            })
            .collect();
        QueuesState::absorb(
            &mut state,
            QueuesPoll {
                queues,
                ..Default::default()
            },
            SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + s * 10),
        );
    }
    state.unwrap()
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

fn render(c: &mut Criterion) {
    let (keymap, _) = Keymap::load("default", None, &action_catalog());
    let env = Env {
        config: Arc::new(Config::default()),
        keymap,
        theme: Theme::builtin("default").unwrap(),
        read_only: false,
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + SAMPLES * 10);
    let (mut app, _) = App::new(env, now);
    let mut fleet = Fleet {
        queues: Feed::waiting(),
        ..Default::default()
    };
    fleet.queues.succeed(now, |d| *d = Some(state()));
    app.fleet = fleet;
    app.tab = Tab::Queues;
    app.update(Event::Resize { width: 200, height: 60 });
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("queues_pane_render_300x120", |b| {
        b.iter(|| {
            terminal.draw(|f| opsdeck::ui::draw(f, &app)).unwrap();
        })
    });
}

criterion_group!(benches, analysis, render);
