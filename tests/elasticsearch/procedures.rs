//! Actions through the real executor against the test server: drain, pre-flight, settings writes,
//! and the guided procedures end to end (the test plays the operator who restarts the node).

use super::common::*;
use opsdeck_core::action::{OutcomeResult, Risk};
use opsdeck_core::audit::{AuditEntry, AuditPhase};
use opsdeck_elasticsearch::actions::{self as act, ProcedureKind};
use opsdeck_elasticsearch::model::{EsState, HealthStatus, Scope};
use serde_json::json;
use std::time::Duration;

fn audit_lines(path: &std::path::Path) -> Vec<AuditEntry> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn drain_a_node_and_watch_its_shards_leave() {
    let server = start(small_cluster()).await;
    let state = state_of(&server.url).await;
    let cfg = config_for(&server.url).elasticsearch;
    let before = state.node_by_name("core-2").unwrap().shard_rows;
    assert!(before > 0);
    let plan = act::plan_drain_node(&state, &cfg, "core-2").unwrap();
    assert_eq!(plan.risk, Risk::Medium, "every shard has a copy elsewhere");
    assert_eq!(
        plan.call,
        r#"PUT /_cluster/settings {"persistent":{"cluster.routing.allocation.exclude._ip":"10.0.0.12"},"transient":{"cluster.routing.allocation.exclude._ip":null}}"#
    );
    let ran = run_plan(&server, plan, Default::default(), |_, _| {}).await;
    assert_eq!(ran.outcome.result, OutcomeResult::Succeeded, "{}", ran.outcome.summary);
    assert!(
        ran.outcome.summary.contains("exclusion in force"),
        "{}",
        ran.outcome.summary
    );
    let lines = audit_lines(&ran.audit);
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0].phase, lines[1].phase),
        (AuditPhase::Intent, AuditPhase::Outcome)
    );
    assert!(lines[0].call.contains("exclude._ip"));

    // The node empties over ticks: its count never grows, and "drain complete" only once no row names it.
    let seen = tick_until(&server, 60, |s| s.node_by_name("core-2").unwrap().shard_rows == 0).await;
    let counts: Vec<u32> = seen
        .iter()
        .map(|s| s.node_by_name("core-2").unwrap().shard_rows)
        .collect();
    assert!(counts.windows(2).all(|w| w[1] <= w[0]), "{counts:?}");
    assert!(
        counts.iter().any(|c| *c > 0 && *c < before) || counts.len() > 2,
        "{counts:?}"
    );
    let last = seen.last().unwrap();
    let node = last.node_by_name("core-2").unwrap();
    assert_eq!(node.excluded_by, vec!["exclude._ip=10.0.0.12".to_string()]);
    assert!(last.shards.iter().all(|s| !s.names_node(node)));
    // While it drained, relocating rows named it as source: some poll saw one.
    assert!(seen.iter().any(|s| {
        s.shards
            .iter()
            .any(|r| r.relocating_to.is_some() && r.node.as_deref() == Some("core-2"))
    }));
    // A second drain of the same node is refused: nothing to do.
    assert!(
        act::plan_drain_node(last, &cfg, "core-2")
            .unwrap_err()
            .contains("already excluded")
    );
}

#[tokio::test]
async fn last_copies_need_a_typed_override() {
    let mut sim = small_cluster();
    sim.add_index("single", 1, 0, 1 << 20);
    let server = start(sim).await;
    let state = state_of(&server.url).await;
    let config = config_for(&server.url);
    let cfg = &config.elasticsearch;
    let holder = state
        .shards
        .iter()
        .find(|s| &*s.index == "single")
        .and_then(|s| s.node.as_deref().map(str::to_string))
        .unwrap();
    let drain = act::plan_drain_node(&state, cfg, &holder).unwrap();
    assert_eq!(
        drain.risk,
        Risk::High,
        "typed confirmation when the node holds a last copy"
    );
    assert!(drain.needs_typed_confirmation());
    assert!(
        drain.description.contains("ONLY copy of 1 shard(s): single/0"),
        "{}",
        drain.description
    );
    let every = Duration::from_millis(20);
    let refused =
        act::plan_procedure(&state, &config, ProcedureKind::ControlledBounce, &holder, false, every).unwrap_err();
    assert!(refused.contains("only copy"), "{refused}");
    let forced = act::plan_procedure(&state, &config, ProcedureKind::ControlledBounce, &holder, true, every).unwrap();
    assert!(forced.description.contains("OVERRIDE"));
    assert_eq!(forced.target, holder);
}

#[tokio::test]
async fn settings_are_written_persistent_and_transient_values_cleared() {
    let mut sim = small_cluster();
    sim.put_settings(&json!({"transient": {"cluster.routing.allocation.enable": "none",
                                         "cluster.routing.allocation.exclude._name": "spot-1"}}))
        .unwrap();
    let server = start(sim).await;
    let state = state_of(&server.url).await;
    assert_eq!(
        (state.settings.enable.as_str(), state.settings.enable_scope),
        ("none", Scope::Transient)
    );
    let cfg = config_for(&server.url).elasticsearch;
    let plan = act::plan_set_enable(&state, &cfg, "all").unwrap();
    let ran = run_plan(&server, plan, Default::default(), |_, _| {}).await;
    assert_eq!(ran.outcome.result, OutcomeResult::Succeeded, "{}", ran.outcome.summary);
    let state = state_of(&server.url).await;
    assert_eq!(
        (state.settings.enable.as_str(), state.settings.enable_scope),
        ("all", Scope::Persistent)
    );
    assert!(
        !state
            .raw_settings
            .transient
            .contains_key("cluster.routing.allocation.enable")
    );

    let clear = act::plan_clear_exclusions(&state, &cfg).unwrap();
    assert!(
        clear
            .call
            .contains(r#""persistent":{"cluster.routing.allocation.exclude._name":null}"#),
        "{}",
        clear.call
    );
    assert!(
        clear
            .call
            .contains(r#""transient":{"cluster.routing.allocation.exclude._name":null}"#),
        "{}",
        clear.call
    );
    let ran = run_plan(&server, clear, Default::default(), |_, _| {}).await;
    assert_eq!(ran.outcome.result, OutcomeResult::Succeeded, "{}", ran.outcome.summary);
    let state = state_of(&server.url).await;
    assert!(state.settings.filters.is_empty());
    assert!(act::plan_clear_exclusions(&state, &cfg).is_err());
}

/// The controlled bounce of core-1 as the pane plans it (no override), polling every 20 ms.
fn bounce_core_1(state: &EsState, config: &opsdeck::config::Config) -> opsdeck_core::action::ActionPlan {
    act::plan_procedure(
        state,
        config,
        ProcedureKind::ControlledBounce,
        "core-1",
        false,
        Duration::from_millis(20),
    )
    .unwrap()
}

/// The operator: when asked to restart `node`, stop it; a few ticks later, start it again.
fn operator(node: &'static str) -> impl FnMut(&str, &opsdeck_elasticsearch::demo::SimServer) {
    let mut stopped = false;
    move |msg: &str, server| {
        if !stopped && msg.contains(&format!("restart {node} now")) {
            stopped = true;
            server.sim.lock().stop_node(node, Some(4));
        }
    }
}

#[tokio::test]
async fn controlled_bounce_end_to_end() {
    let server = start(small_cluster()).await;
    let state = state_of(&server.url).await;
    let config = config_for(&server.url);
    let plan = bounce_core_1(&state, &config);
    assert_eq!(plan.risk, Risk::High);
    assert!(plan.call.contains("1. exclude zone=spot") && plan.call.contains("4. bounce core-1 (you restart it"));
    let ran = run_plan(&server, plan, Default::default(), operator("core-1")).await;
    // Every step worked, but the spot nodes are empty: re-included is not refilled, so it is not
    // reported as succeeded.
    assert_eq!(
        ran.outcome.result,
        OutcomeResult::Unverified,
        "{}\n{:#?}",
        ran.outcome.summary,
        ran.progress
    );
    assert!(
        ran.outcome
            .summary
            .contains("zone=spot re-included; cluster green; but spot-1, spot-2 hold no shard yet"),
        "{}",
        ran.outcome.summary
    );
    // Steps in order, each reported.
    let order = [
        "exclude zone=spot",
        "nodes hold no shard",
        "allocation enable = none",
        "restart core-1 now",
        "allocation enable = all",
        "recover",
        "re-include zone=spot",
    ];
    let mut at = 0;
    for step in order {
        let pos = ran.progress[at..]
            .iter()
            .position(|p| p.contains(step))
            .unwrap_or_else(|| panic!("step {step:?} missing after #{at}: {:#?}", ran.progress));
        at += pos;
    }
    // Each step is an action of its own in the audit log (intent + outcome), inside the procedure's own pair.
    let lines = audit_lines(&ran.audit);
    let actions: Vec<&str> = lines
        .iter()
        .filter(|l| l.phase == AuditPhase::Outcome)
        .map(|l| l.action.as_str())
        .collect();
    assert_eq!(actions.first(), Some(&"elasticsearch.exclude"), "{actions:?}");
    assert_eq!(actions.last(), Some(&"elasticsearch.bounce_node"), "{actions:?}");
    for a in [
        "elasticsearch.allocation_none",
        "elasticsearch.allocation_all",
        "elasticsearch.include",
        "elasticsearch.procedure_check",
    ] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    assert!(lines.iter().all(|l| l.result != "failed"), "{lines:#?}");
    assert_eq!(lines.last().map(|l| l.result.as_str()), Some("unverified"));
    // The end state: allocation all (persistent), no exclusion left, the node back.
    let end = state_of(&server.url).await;
    assert_eq!(
        (end.settings.enable.as_str(), end.settings.enable_scope),
        ("all", Scope::Persistent)
    );
    assert!(end.settings.filters.is_empty(), "{:?}", end.settings.filters);
    assert!(end.node_by_name("core-1").is_some());
    assert_ne!(end.health.status, HealthStatus::Red);
}

#[tokio::test]
async fn change_config_drains_then_waits_for_the_restart() {
    let server = start(small_cluster()).await;
    let state = state_of(&server.url).await;
    let config = config_for(&server.url);
    let plan = act::plan_procedure(
        &state,
        &config,
        ProcedureKind::ChangeConfig,
        "core-2",
        false,
        Duration::from_millis(20),
    )
    .unwrap();
    let mut seen_empty_at_restart = None;
    let ran = run_plan(&server, plan, Default::default(), {
        let mut op = operator("core-2");
        move |msg, server| {
            if msg.contains("restart core-2 now") && seen_empty_at_restart.is_none() {
                // The drain finished before we were asked to restart: no copy names core-2.
                let rows = server.sim.lock().cat_shards();
                seen_empty_at_restart = Some(
                    rows.iter()
                        .all(|r| !r["node"].as_str().unwrap_or("").contains("core-2")),
                );
                assert_eq!(seen_empty_at_restart, Some(true));
            }
            op(msg, server)
        }
    })
    .await;
    assert_eq!(
        ran.outcome.result,
        OutcomeResult::Succeeded,
        "{}\n{:#?}",
        ran.outcome.summary,
        ran.progress
    );
    let end = state_of(&server.url).await;
    assert!(
        end.settings.filters.is_empty(),
        "re-included: {:?}",
        end.settings.filters
    );
    assert_eq!(end.settings.enable, "all");
}

#[tokio::test]
async fn a_procedure_stops_when_asked_and_says_what_it_changed() {
    let server = start(small_cluster()).await;
    let state = state_of(&server.url).await;
    let config = config_for(&server.url);
    let plan = bounce_core_1(&state, &config);
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    // Nobody restarts the node: stop the procedure while it waits for the bounce.
    let ran = run_plan(&server, plan, cancel, move |msg, _| {
        if msg.contains("restart core-1 now") {
            stop.cancel();
        }
    })
    .await;
    // Stopped, not failed: in the outcome, the audit log, and with what it left changed.
    assert_eq!(ran.outcome.result, OutcomeResult::Stopped, "{}", ran.outcome.summary);
    assert!(
        ran.outcome.summary.contains("stopped by the user"),
        "{}",
        ran.outcome.summary
    );
    assert!(
        ran.outcome.summary.contains("allocation enable = none"),
        "{}",
        ran.outcome.summary
    );
    assert!(
        ran.outcome.summary.ends_with(
            "left changed: cluster.routing.allocation.enable = none (was all); \
             cluster.routing.allocation.exclude.zone = spot (was unset)"
        ),
        "{}",
        ran.outcome.summary
    );
    let lines = audit_lines(&ran.audit);
    let last = lines.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.phase, last.result.as_str()),
        ("elasticsearch.bounce_node", AuditPhase::Outcome, "stopped")
    );
    // The wait it was stopped in is recorded as stopped too; nothing failed.
    assert!(lines.iter().all(|l| l.result != "failed"), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.action == "elasticsearch.procedure_check" && l.result == "stopped"),
        "{lines:#?}"
    );
    // Allocation stays disabled (as the summary says): the next step would have been the user's.
    let s: EsState = state_of(&server.url).await;
    assert_eq!(s.settings.enable, "none");
}

/// The small cluster with its core nodes nearly full: the spot zone's copies do not fit on them.
fn crowded_cluster() -> opsdeck_elasticsearch::demo::sim::SimCluster {
    let mut sim = small_cluster();
    // 100 GiB disks, low watermark 85%: core-1 keeps a few GiB of room, core-2 is over low already.
    sim.nodes[0].base_used = 78 << 30;
    sim.nodes[1].base_used = 84 << 30;
    sim
}

#[tokio::test]
async fn moving_data_that_does_not_fit_needs_a_typed_override_or_is_refused() {
    let server = start(crowded_cluster()).await;
    let state = state_of(&server.url).await;
    let config = config_for(&server.url);
    let cfg = &config.elasticsearch;
    let zone = act::plan_exclude_zone(&state, cfg, "spot").unwrap();
    assert_eq!(zone.risk, Risk::High, "{}", zone.description);
    assert!(zone.needs_typed_confirmation());
    assert!(zone.description.contains("DOES NOT FIT: "), "{}", zone.description);
    assert!(
        zone.description
            .contains("move off spot-1, spot-2; the receivers have 4.5 GiB free"),
        "{}",
        zone.description
    );
    assert!(
        zone.description
            .contains("  core-2 (disk 86%, over the low watermark): takes nothing"),
        "{}",
        zone.description
    );
    let core1 = zone
        .description
        .lines()
        .find(|l| l.starts_with("  core-1: disk "))
        .unwrap_or_else(|| panic!("no projection for core-1: {}", zone.description));
    assert!(core1.contains("% → ") && core1.contains("(+"), "{core1}");
    assert!(
        zone.description.contains("Type zone=spot to override."),
        "{}",
        zone.description
    );

    // Draining a spot node moves less: its copies fit on core-1.
    let drain = act::plan_drain_node(&state, cfg, "spot-1").unwrap();
    assert!(drain.description.contains("CAPACITY: "), "{}", drain.description);

    // The controlled bounce would exclude the whole zone: refused, unless overridden (typed).
    let every = Duration::from_millis(20);
    let refused =
        act::plan_procedure(&state, &config, ProcedureKind::ControlledBounce, "core-1", false, every).unwrap_err();
    assert!(
        refused.starts_with("refused: spot-1, spot-2 does not fit under the low watermark"),
        "{refused}"
    );
    let forced = act::plan_procedure(&state, &config, ProcedureKind::ControlledBounce, "core-1", true, every).unwrap();
    assert!(forced.description.contains("DOES NOT FIT"), "{}", forced.description);
    assert!(
        forced.description.contains("OVERRIDE: the procedure goes on"),
        "{}",
        forced.description
    );
}

#[tokio::test]
async fn a_bounce_checks_capacity_again_before_it_excludes_anything() {
    let server = start(small_cluster()).await;
    let state = state_of(&server.url).await;
    let config = config_for(&server.url);
    let plan = bounce_core_1(&state, &config);
    assert!(plan.description.contains("CAPACITY: "), "{}", plan.description);
    assert!(plan.description.contains("it fits."), "{}", plan.description);
    // Between plan and run the core nodes fill up.
    {
        let mut sim = server.sim.lock();
        sim.nodes[0].base_used = 78 << 30;
        sim.nodes[1].base_used = 84 << 30;
    }
    let ran = run_plan(&server, plan, Default::default(), |_, _| {}).await;
    assert_eq!(ran.outcome.result, OutcomeResult::Failed, "{}", ran.outcome.summary);
    assert!(
        ran.outcome
            .summary
            .ends_with("(nothing was changed); no setting left changed"),
        "{}",
        ran.outcome.summary
    );
    assert!(
        ran.outcome
            .summary
            .starts_with("failed before its first step: pre-flight: DOES NOT FIT"),
        "{}",
        ran.outcome.summary
    );
    let end = state_of(&server.url).await;
    assert!(end.settings.filters.is_empty(), "{:?}", end.settings.filters);
}
