//! The pane in the real app (default keymap and theme, `TestBackend`): header, nodes, grid, explain,
//! offers with their exact request, and an error shown over the last good data.

use super::common::*;
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::keymap::Keymap;
use opsdeck_core::feed::FeedData;
use opsdeck_core::source_error::SourceError;
use opsdeck_core::theme::Theme;
use opsdeck_elasticsearch::model::{EsAnswer, EsState};
use opsdeck_elasticsearch::views::{StateFilter, grid_table};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const W: u16 = 160;
const H: u16 = 40;

fn app_on(state: EsState) -> App {
    let (keymap, problems) = Keymap::load("default", None, &action_catalog());
    assert!(problems.is_empty(), "{problems:?}");
    let env = Env {
        config: Arc::new(config_for("http://127.0.0.1:9")),
        keymap,
        theme: Theme::builtin("default").unwrap(),
        read_only: false,
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let (mut app, _) = App::new(env, now);
    app.fleet
        .elasticsearch
        .succeed(now, |d| EsState::absorb(d, EsAnswer::of(poll_of(state)), now));
    app.update(Event::Resize { width: W, height: H });
    key(&mut app, "3");
    app
}

/// The poll that produced `state` (the app folds polls, not states).
fn poll_of(s: EsState) -> opsdeck_elasticsearch::model::EsPoll {
    opsdeck_elasticsearch::model::EsPoll {
        distribution: s.distribution,
        health: s.health,
        nodes: s.nodes,
        shards: s.shards,
        settings: s.raw_settings,
        recoveries: s.recoveries,
        explains: s.explains,
        ..Default::default()
    }
}

fn key(app: &mut App, k: &str) {
    opsdeck::ui::testing::press(app, k);
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(W, H)).unwrap();
    t.draw(|f| opsdeck::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn nodes_view_shows_health_allocation_and_drain_progress() {
    let server = start(small_cluster()).await;
    server
        .sim
        .lock()
        .put_settings(&serde_json::json!({"persistent": {"cluster.routing.allocation.exclude._ip": "10.0.0.13"}}))
        .unwrap();
    server.sim.tick();
    let app = app_on(state_of(&server.url).await);
    let s = screen(&app);
    assert!(s.contains("test · GREEN · Elasticsearch 8.15.0 · 4 nodes"), "{s}");
    assert!(s.contains("exclude._ip=10.0.0.13 (persistent)"), "{s}");
    assert!(s.contains("watermarks low 85% / high 90% / flood 95%"), "{s}");
    let spot = s.lines().find(|l| l.contains("spot-1 ")).unwrap();
    assert!(spot.contains("EXCLUDED _ip=10.0.0.13 · draining, "), "{spot}");
    assert!(!s.contains("drain complete"), "{s}");
    // After the drain: "drain complete" on the node's row.
    for _ in 0..40 {
        server.sim.tick();
    }
    let app = app_on(state_of(&server.url).await);
    let s = screen(&app);
    let spot = s.lines().find(|l| l.contains("spot-1 ")).unwrap();
    assert!(spot.contains("drain complete"), "{spot}");
}

#[tokio::test]
async fn grid_marks_primaries_replicas_and_both_ends_of_a_relocation() {
    let server = start(small_cluster()).await;
    server
        .sim
        .lock()
        .put_settings(&serde_json::json!({"persistent": {"cluster.routing.allocation.exclude._name": "spot-1"}}))
        .unwrap();
    server.sim.tick();
    let state = state_of(&server.url).await;
    let reloc = state
        .shards
        .iter()
        .find(|s| s.relocating_to.is_some())
        .expect("relocating")
        .clone();
    let t = grid_table(&state, StateFilter::All, 0);
    let row = t
        .rows
        .iter()
        .find(|r| r.key == format!("index:{}", reloc.index))
        .unwrap();
    let col = |name: &str| t.columns.iter().position(|c| c.title == name).unwrap();
    let kind = if reloc.primary { 'P' } else { 'r' };
    let src = &row.cells[col(reloc.node.as_deref().unwrap())].text;
    let dst = &row.cells[col(&reloc.relocating_to.as_ref().unwrap().name)].text;
    assert!(src.contains(&format!("{}{kind}>", reloc.shard)), "source cell {src:?}");
    assert!(dst.contains(&format!(">{}{kind}", reloc.shard)), "target cell {dst:?}");
    // Filtered to relocating copies: only indices with a relocation, only those copies.
    let only = grid_table(&state, StateFilter::Relocating, 0);
    assert!(only.rows.iter().all(|r| {
        r.cells
            .iter()
            .skip(3)
            .all(|c| c.text.is_empty() || c.text.contains('>'))
    }));
    // Through the app: v switches to the grid; the legend says how to read it without colour.
    let mut app = app_on(state);
    key(&mut app, "v");
    let s = screen(&app);
    assert!(s.contains("[shards]") && s.contains("P primary, r replica"), "{s}");
    assert!(s.contains("logs") && s.contains("0P"), "{s}");
}

#[tokio::test]
async fn unassigned_view_opens_the_explain_on_enter() {
    let mut sim = small_cluster();
    sim.fail_replica("users", 0);
    let server = start(sim).await;
    let mut app = app_on(state_of(&server.url).await);
    key(&mut app, "v");
    key(&mut app, "v");
    let s = screen(&app);
    assert!(s.contains("[unassigned(1)]"), "{s}");
    assert!(s.contains("ALLOCATION_FAILED"), "{s}");
    key(&mut app, "enter");
    let s = screen(&app);
    assert!(s.contains("explain users/0/r"), "{s}");
    assert!(s.contains("can allocate: no"), "{s}");
    assert!(s.contains("max_retry"), "{s}");
}

#[tokio::test]
async fn drain_offer_shows_the_exact_request_and_errors_keep_the_table() {
    let server = start(small_cluster()).await;
    let mut app = app_on(state_of(&server.url).await);
    // Select core-2 (second row) and ask to drain it.
    key(&mut app, "down");
    key(&mut app, "D");
    let s = screen(&app);
    assert!(s.contains("Drain node core-2"), "{s}");
    assert!(s.contains("PUT /_cluster/settings"), "{s}");
    assert!(s.contains("10.0.0.12"), "{s}");
    key(&mut app, "esc");
    // The source fails: the error is shown, the nodes stay.
    let now = app.now;
    app.fleet.elasticsearch.fail(
        now,
        SourceError::unreachable("GET /_cluster/health: HTTP 503 master_not_discovered_exception: Service Unavailable"),
    );
    let s = screen(&app);
    assert!(s.contains("503 master_not_discovered_exception"), "{s}");
    assert!(s.contains("core-1") && s.contains("spot-2"), "{s}");
}

/// Whole-screen snapshots of the nodes view and the grid during a drain (review these by eye).
#[tokio::test]
async fn snapshots_of_nodes_and_grid_during_a_drain() {
    let server = start(small_cluster()).await;
    server
        .sim
        .lock()
        .put_settings(&serde_json::json!({"persistent": {"cluster.routing.allocation.exclude._name": "spot-1"}}))
        .unwrap();
    server.sim.tick();
    let mut app = app_on(state_of(&server.url).await);
    insta::assert_snapshot!("es_nodes_draining", trimmed(&screen(&app)));
    key(&mut app, "v");
    insta::assert_snapshot!("es_grid_draining", trimmed(&screen(&app)));
}

fn trimmed(s: &str) -> String {
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}
