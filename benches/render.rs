//! Criterion: drawing the console's shell panes at 200x60 over large synthetic state.
//! Cost must follow the screen, not the fleet: 10k audit lines draw about as fast as 100.

use criterion::{BenchmarkId, Criterion, criterion_group};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::keymap::Keymap;
use opsdeck::views::Tab;
use opsdeck_core::audit::{AuditEntry, AuditPhase};
use opsdeck_core::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn app_with_audit(entries: usize) -> App {
    let (keymap, _) = Keymap::load("default", None, &action_catalog());
    let env = Env {
        config: Arc::new(Config::default()),
        keymap,
        theme: Theme::builtin("default").unwrap(),
        read_only: false,
    };
    let (mut app, _) = App::new(env, SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000));
    app.fleet.audit = (0..entries)
        .map(|i| AuditEntry {
            time: format!("2026-11-23T10:{:02}:{:02}Z", (i / 60) % 60, i % 60),
            phase: if i % 2 == 0 {
                AuditPhase::Intent
            } else {
                AuditPhase::Outcome
            },
            action_id: format!("42-{}", i / 2),
            user: "oncall".into(),
            host: "jump-1".into(),
            action: "elasticsearch.drain_node".into(),
            target: format!("es-data-{}", i % 40),
            call: "PUT /_cluster/settings {\"persistent\":{\"cluster.routing.allocation.exclude._ip\":\"10.0.0.7\"}}"
                .into(),
            risk: "medium".into(),
            result: if i % 2 == 0 {
                "confirmed".into()
            } else {
                "succeeded".into()
            },
            detail: String::new(),
        })
        .collect();
    app.update(Event::Resize { width: 200, height: 60 });
    app
}

fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_200x60");
    for entries in [100usize, 10_000] {
        let mut app = app_with_audit(entries);
        app.tab = Tab::Audit;
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
        group.bench_with_input(BenchmarkId::new("audit", entries), &entries, |b, _| {
            b.iter(|| {
                terminal.draw(|f| opsdeck::ui::draw(f, &app)).unwrap();
            })
        });
    }
    for tab in Tab::ALL {
        let mut app = app_with_audit(1_000);
        app.tab = tab;
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
        group.bench_function(BenchmarkId::new("pane", tab.name()), |b| {
            b.iter(|| {
                terminal.draw(|f| opsdeck::ui::draw(f, &app)).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, render);
