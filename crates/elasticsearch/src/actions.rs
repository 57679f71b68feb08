//! Remediation actions for Elasticsearch: allocation `enable`, exclusions (zone, node drain by `_ip`),
//! clearing exclusions, retrying failed allocations, and two guided procedures from the runbook
//! ("fix cluster / controlled bounce" and "change cluster config").
//!
//! Plans are built by pure functions over the last polled state; each carries the exact request(s).
//! Settings are written `persistent`, and the same keys are nulled in `transient` in the same request,
//! because a transient value would silently keep overriding the persistent one.

use crate::Elasticsearch;
use crate::analysis::{CapacityCheck, capacity_for_moving, preview};
use crate::config::EsConfig;
use crate::model::{
    Distribution, ENABLE_KEY, EsNode, EsState, HealthStatus, Scope, SettingChange, SettingValues, last_copies_on,
    settings_changed,
};
use crate::source::{EsClient, EsPoller, EsRequest};
use futures::future::BoxFuture;
use opsdeck_core::action::{ActionCtx, ActionPlan, Operation, Outcome, Risk};
use opsdeck_core::pane::PaneConfigs;
use opsdeck_hosts::Hosts;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The allocation `enable` values Elasticsearch accepts.
pub const ENABLE_VALUES: [&str; 4] = ["all", "primaries", "new_primaries", "none"];

/// How a node gets bounced during a procedure. Whatever restarts it, the procedure goes on only once
/// the node is back in the cluster.
#[derive(Debug, Clone)]
pub enum Bouncer {
    /// The user restarts the node; we watch it leave and rejoin.
    Manual,
    /// `elasticsearch.restart_program` restarted on the node's host through the SSH transport (the
    /// hosts pane's verified restart: new pid, RUNNING), audited as its own action; then we wait for
    /// the node to rejoin. (Its old process is gone once the restart is verified, so the node being
    /// listed afterwards means it rejoined.)
    Supervisor(Box<ActionPlan>),
    /// The demo's simulated cluster restarts the node when asked (`POST /_sim/restart/{node}`).
    DemoSim,
}

impl Bouncer {
    /// How a procedure on `node` of `cluster` bounces it: the demo's simulation, `restart_program`
    /// on the node's host when configured (an error when that host is unknown), else the user.
    pub fn for_node(
        config: &dyn PaneConfigs,
        cluster: &Distribution,
        kind: ProcedureKind,
        node: &EsNode,
    ) -> Result<Bouncer, String> {
        let es = config.of::<Elasticsearch>();
        if cluster.restarts_on_request {
            return Ok(Bouncer::DemoSim);
        }
        // Changing the config is the user's part of that procedure: they restart the node after it.
        let (Some(program), ProcedureKind::ControlledBounce) = (&es.restart_program, kind) else {
            return Ok(Bouncer::Manual);
        };
        let address = crate::config::NodeAddress {
            name: &node.name,
            ip: &node.ip,
            host: &node.host,
        };
        let host = crate::config::node_host(config, address).ok_or_else(|| {
            format!(
                "elasticsearch.restart_program is set but node {} runs on no [ssh] host: map it in elasticsearch.node_hosts",
                node.name
            )
        })?;
        // Shutting Elasticsearch down can take minutes: the restart gets the bounce's budget.
        let restart = opsdeck_hosts::actions::supervisor_plan_within(
            config.of::<Hosts>(),
            host,
            program,
            opsdeck_hosts::source::SupervisorAction::Restart,
            es.bounce_timeout.get(),
        )?;
        Ok(Bouncer::Supervisor(Box::new(restart)))
    }

    /// The bounce step as the confirm dialog lists it.
    fn describe(&self) -> String {
        match self {
            Bouncer::Manual => "you restart it; opsdeck waits for it to leave and rejoin".into(),
            Bouncer::Supervisor(restart) => format!(
                "opsdeck runs `{}` and verifies it, then waits for the node to rejoin",
                restart.call
            ),
            Bouncer::DemoSim => {
                "POST /_sim/restart on the demo cluster; opsdeck waits for it to leave and rejoin".into()
            }
        }
    }
}

/// The operations the executor can run.
#[derive(Debug, Clone)]
pub enum EsOp {
    /// One settings write; verified by reading the settings back.
    WriteSettings(Box<SettingsWrite>),
    RetryFailed(Box<EsRequest>),
    Procedure(Box<Procedure>),
    /// A procedure's check step, recorded in the audit log; never run on its own.
    Check(String),
}

/// One settings write and what must be in force afterwards.
#[derive(Debug, Clone)]
pub struct SettingsWrite {
    pub request: EsRequest,
    /// Effective values expected afterwards (`None`: no value / only the default).
    pub expect: Vec<(String, Option<String>)>,
    /// For a drain: the node whose shards must leave (reported, not awaited).
    pub drain: Option<String>,
}

/// A guided, multi-step procedure.
#[derive(Debug, Clone)]
pub struct Procedure {
    pub kind: ProcedureKind,
    pub node: String,
    pub ip: String,
    pub zone_attribute: String,
    pub spot_zone: String,
    /// The bounce override: go on although the node holds a last copy or the moved shards do not fit.
    pub allow_override: bool,
    /// The settings the procedure writes, as they were when it was planned: what "left changed" and
    /// "revert" compare against.
    pub before: Vec<SettingValues>,
    pub bouncer: Bouncer,
    pub bounce_timeout: Duration,
    pub poll_every: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcedureKind {
    /// Runbook "fixing cluster": exclude spot → wait empty → allocation none → bounce → all → re-include spot.
    ControlledBounce,
    /// Runbook "changing cluster config": drain node by IP → wait → none → change+restart → all → re-include.
    ChangeConfig,
}

fn timeout_for_request(cfg: &EsConfig) -> Duration {
    cfg.request_timeout.get() * 3 + Duration::from_secs(5)
}

/// `{"persistent":{k:v…},"transient":{k:null…}}` for the given keys.
pub fn settings_request(values: &[(&str, Option<&str>)]) -> EsRequest {
    let mut persistent = Map::new();
    let mut transient = Map::new();
    for (k, v) in values {
        persistent.insert(k.to_string(), v.map_or(Value::Null, |v| json!(v)));
        transient.insert(k.to_string(), Value::Null);
    }
    EsRequest::put(
        "/_cluster/settings",
        json!({"persistent": persistent, "transient": transient}),
    )
}

/// The comma list of a filter key across both scopes (we rewrite both as one persistent value).
fn current_list(state: &EsState, key: &str) -> Vec<String> {
    let s = &state.raw_settings;
    let mut out: Vec<String> = Vec::new();
    for v in [s.persistent.get(key), s.transient.get(key)].into_iter().flatten() {
        for item in v.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if !out.iter().any(|o| o == item) {
                out.push(item.to_string());
            }
        }
    }
    out
}

fn filter_key(attr: &str) -> String {
    format!("cluster.routing.allocation.exclude.{attr}")
}

#[allow(clippy::too_many_arguments)] // a plan has this many parts; a builder would only rename them
fn plan(
    action: &str,
    title: String,
    target: String,
    description: String,
    call: String,
    risk: Risk,
    verify: &str,
    timeout: Duration,
    op: EsOp,
) -> ActionPlan {
    ActionPlan {
        action: format!("elasticsearch.{action}"),
        title,
        target,
        description,
        call,
        risk,
        verify: verify.into(),
        timeout,
        op: Arc::new(op),
        identity: String::new(),
    }
}

/// Set `cluster.routing.allocation.enable`.
pub fn plan_set_enable(state: &EsState, cfg: &EsConfig, value: &str) -> Result<ActionPlan, String> {
    if !ENABLE_VALUES.contains(&value) {
        return Err(format!("{value:?} is not one of {}", ENABLE_VALUES.join(", ")));
    }
    let s = &state.settings;
    if s.enable == value && s.enable_scope != Scope::Transient {
        return Err(format!("allocation is already {value} ({})", s.enable_scope.as_str()));
    }
    let request = settings_request(&[(ENABLE_KEY, Some(value))]);
    let mut description = format!(
        "Set {ENABLE_KEY} = {value} (persistent; any transient value is cleared so it cannot override).\nNow: {} ({}).",
        s.enable,
        s.enable_scope.as_str()
    );
    if value != "all" && state.shard_counts.relocating > 0 {
        description.push_str(&format!(
            "\n{} shard(s) are relocating: with allocation {value}, shards stop leaving excluded nodes.",
            state.shard_counts.relocating
        ));
    }
    Ok(plan(
        &format!("allocation_{value}"),
        format!("Allocation enable = {value}"),
        state.health.cluster_name.clone(),
        description,
        request.to_string(),
        if value == "all" { Risk::Low } else { Risk::Medium },
        "the settings read back show the new value in force",
        timeout_for_request(cfg),
        EsOp::WriteSettings(Box::new(SettingsWrite {
            request,
            expect: vec![(ENABLE_KEY.into(), Some(value.into()))],
            drain: None,
        })),
    ))
}

/// Exclude every node whose `zone_attribute` is `zone` (runbook: `spot`).
pub fn plan_exclude_zone(state: &EsState, cfg: &EsConfig, zone: &str) -> Result<ActionPlan, String> {
    let attr = cfg.zone_attribute.as_str();
    let key = filter_key(attr);
    let mut list = current_list(state, &key);
    if list.iter().any(|z| z == zone) {
        return Err(format!("zone {zone} is already excluded"));
    }
    let members: Vec<&str> = state
        .nodes
        .iter()
        .filter(|n| n.attributes.get(attr).map(String::as_str) == Some(zone))
        .map(|n| n.name.as_str())
        .collect();
    if members.is_empty() {
        return Err(format!("no node has {attr}={zone}"));
    }
    let remaining = state.nodes.len() - members.len();
    if remaining == 0 {
        return Err(format!("every node is in zone {zone}: nowhere for shards to go"));
    }
    list.push(zone.to_string());
    let value = list.join(",");
    let request = settings_request(&[(&key, Some(&value))]);
    let target = format!("{attr}={zone}");
    let check = capacity_for_moving(state, &members);
    let mut description = format!(
        "Move every shard off the {} node(s) in {attr}={zone} ({}).\n{key}: {:?} → {value:?}\n{}",
        members.len(),
        members.join(", "),
        current_list(state, &key).join(","),
        check.describe()
    );
    let risk = typed_unless_fits(&check, &target, &mut description);
    Ok(plan(
        "exclude_zone",
        format!("Exclude zone {zone}"),
        target,
        description,
        request.to_string(),
        risk,
        "the exclusion is in force; the nodes table shows the shards leaving",
        timeout_for_request(cfg),
        EsOp::WriteSettings(Box::new(SettingsWrite {
            request,
            expect: vec![(key.clone(), Some(value))],
            drain: None,
        })),
    ))
}

/// Drain one node by its IP (ports stripped). Typed confirmation when it holds the last copy of a shard.
pub fn plan_drain_node(state: &EsState, cfg: &EsConfig, node_name: &str) -> Result<ActionPlan, String> {
    let node = state
        .node_by_name(node_name)
        .ok_or_else(|| format!("no node {node_name}"))?;
    if node.ip.is_empty() {
        return Err(format!("{node_name} has no known IP"));
    }
    let key = filter_key("_ip");
    let mut list = current_list(state, &key);
    if list.iter().any(|ip| ip == &node.ip) {
        return Err(format!("{node_name} ({}) is already excluded", node.ip));
    }
    let last = last_copies_on(&state.shards, &[node]);
    list.push(node.ip.clone());
    let value = list.join(",");
    let request = settings_request(&[(&key, Some(&value))]);
    let mut description = format!(
        "Move every shard off {node_name} by excluding its IP {}; {} copies name it now.\n{key}: {:?} → {value:?}",
        node.ip,
        node.shard_rows,
        current_list(state, &key).join(",")
    );
    let check = capacity_for_moving(state, &[node_name]);
    description.push('\n');
    description.push_str(&check.describe());
    let mut risk = typed_unless_fits(&check, node_name, &mut description);
    if !last.is_empty() {
        description.push_str(&format!(
            "\nPRE-FLIGHT: {node_name} holds the ONLY copy of {} shard(s): {}. Type the node name to override.",
            last.len(),
            preview(&last)
        ));
        risk = Risk::High;
    }
    Ok(plan(
        "drain_node",
        format!("Drain node {node_name}"),
        node_name.to_string(),
        description,
        request.to_string(),
        risk,
        "the exclusion is in force; \"drain complete\" shows once no shard row names the node",
        timeout_for_request(cfg),
        EsOp::WriteSettings(Box::new(SettingsWrite {
            request,
            expect: vec![(key.clone(), Some(value))],
            drain: Some(node_name.into()),
        })),
    ))
}

/// Medium risk when the moved shards fit under the low watermark; else the target must be typed,
/// and the description says so.
fn typed_unless_fits(check: &CapacityCheck, target: &str, description: &mut String) -> Risk {
    if check.fits() {
        return Risk::Medium;
    }
    description.push_str(&format!(
        "\nReceivers would cross the low watermark and copies stay where they are. Type {target} to override."
    ));
    Risk::High
}

/// Null every exclusion key set in either scope.
pub fn plan_clear_exclusions(state: &EsState, cfg: &EsConfig) -> Result<ActionPlan, String> {
    let s = &state.raw_settings;
    let mut keys: Vec<&String> = s
        .persistent
        .keys()
        .chain(s.transient.keys())
        .filter(|k| k.starts_with("cluster.routing.allocation.exclude."))
        .collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Err("no exclusions are set".into());
    }
    let values: Vec<(&str, Option<&str>)> = keys.iter().map(|k| (k.as_str(), None)).collect();
    let request = settings_request(&values);
    let now: Vec<String> = state
        .settings
        .filters
        .iter()
        .filter(|f| f.kind == "exclude")
        .map(|f| format!("{}={} ({})", f.key(), f.value, f.scope.as_str()))
        .collect();
    Ok(plan(
        "clear_exclusions",
        "Clear allocation exclusions".into(),
        state.health.cluster_name.clone(),
        format!(
            "Reset every exclusion in both scopes; shards may move back.\nNow: {}",
            if now.is_empty() {
                "only empty values".into()
            } else {
                now.join("; ")
            }
        ),
        request.to_string(),
        Risk::Medium,
        "the settings read back show no exclusion",
        timeout_for_request(cfg),
        EsOp::WriteSettings(Box::new(SettingsWrite {
            request,
            expect: keys.iter().map(|k| (k.to_string(), None)).collect(),
            drain: None,
        })),
    ))
}

/// Puts back the settings a procedure left changed, in both scopes, as they were before it.
pub fn plan_revert_settings(state: &EsState, cfg: &EsConfig, changes: &[SettingChange]) -> Result<ActionPlan, String> {
    if changes.is_empty() {
        return Err("no setting is left changed".into());
    }
    let mut persistent = Map::new();
    let mut transient = Map::new();
    for c in changes {
        let b = &c.before;
        persistent.insert(b.key.clone(), b.persistent.as_ref().map_or(Value::Null, |v| json!(v)));
        transient.insert(b.key.clone(), b.transient.as_ref().map_or(Value::Null, |v| json!(v)));
    }
    let request = EsRequest::put(
        "/_cluster/settings",
        json!({"persistent": persistent, "transient": transient}),
    );
    let list: Vec<String> = changes.iter().map(SettingChange::describe).collect();
    Ok(plan(
        "revert_settings",
        format!("Revert {} setting(s) a procedure left changed", changes.len()),
        state.health.cluster_name.clone(),
        format!("Put back the values from before the procedure:\n{}", list.join("\n")),
        request.to_string(),
        Risk::Medium,
        "the settings read back show the values from before the procedure",
        timeout_for_request(cfg),
        EsOp::WriteSettings(Box::new(SettingsWrite {
            request,
            expect: changes
                .iter()
                .map(|c| {
                    (
                        c.before.key.clone(),
                        c.before.transient.clone().or(c.before.persistent.clone()),
                    )
                })
                .collect(),
            drain: None,
        })),
    ))
}

/// The settings a procedure plan will write, as they were when it was planned (`None`: not a procedure).
pub fn settings_touched(plan: &ActionPlan) -> Option<&[SettingValues]> {
    match plan.op.downcast_ref::<EsOp>()? {
        EsOp::Procedure(p) => Some(&p.before),
        _ => None,
    }
}

/// Settings that `procedures` left changed, as `state` shows them; a key two procedures touched
/// is compared with its value before the first.
pub fn settings_left_changed(state: &EsState, procedures: &[&ActionPlan]) -> Vec<SettingChange> {
    let mut before: Vec<SettingValues> = Vec::new();
    for v in procedures.iter().filter_map(|p| settings_touched(p)).flatten() {
        if !before.iter().any(|b| b.key == v.key) {
            before.push(v.clone());
        }
    }
    settings_changed(&before, &state.raw_settings)
}

/// `POST /_cluster/reroute?retry_failed=true`.
pub fn plan_retry_failed(state: &EsState, cfg: &EsConfig) -> Result<ActionPlan, String> {
    let request = EsRequest::post("/_cluster/reroute", None).query("retry_failed", "true");
    let failed = state
        .unassigned
        .iter()
        .filter(|s| s.unassigned_reason.as_deref() == Some("ALLOCATION_FAILED"))
        .count();
    Ok(plan(
        "retry_failed",
        "Retry failed allocations".into(),
        state.health.cluster_name.clone(),
        format!(
            "Ask the cluster to try again the copies whose allocation failed too often ({failed} unassigned with ALLOCATION_FAILED)."
        ),
        request.to_string(),
        Risk::Low,
        "the cluster acknowledges; the unassigned view shows whether they move",
        timeout_for_request(cfg),
        EsOp::RetryFailed(Box::new(request)),
    ))
}

/// The guided procedures. `override_last_copy` lets a bounce proceed when the node holds the only copy of a shard.
pub fn plan_procedure(
    state: &EsState,
    config: &dyn PaneConfigs,
    kind: ProcedureKind,
    node_name: &str,
    override_last_copy: bool,
    poll_every: Duration,
) -> Result<ActionPlan, String> {
    let node = state
        .node_by_name(node_name)
        .ok_or_else(|| format!("no node {node_name}"))?;
    let last = last_copies_on(&state.shards, &[node]);
    if kind == ProcedureKind::ControlledBounce && !last.is_empty() && !override_last_copy {
        return Err(format!(
            "{node_name} holds the only copy of {} shard(s) ({}): drain it first (change config), or use the bounce override",
            last.len(),
            preview(&last)
        ));
    }
    let cfg = config.of::<Elasticsearch>();
    let attr = &cfg.zone_attribute;
    let check = procedure_capacity(state, kind, node, attr, &cfg.spot_zone);
    if !check.fits() && !override_last_copy {
        return Err(format!(
            "refused: {} does not fit under the low watermark on the other nodes ({} to move, {} free): \
             free disk or add nodes first, or use the bounce override",
            check.leaving.join(", "),
            crate::model::human_bytes(check.bytes_to_move),
            crate::model::human_bytes(check.room())
        ));
    }
    let bouncer = Bouncer::for_node(config, &state.distribution, kind, node)?;
    let steps = procedure_steps(kind, node, attr, &cfg.spot_zone, &bouncer);
    let (action, title) = match kind {
        ProcedureKind::ControlledBounce => ("bounce_node", format!("Controlled bounce of {node_name}")),
        ProcedureKind::ChangeConfig => (
            "change_config",
            format!("Change config of {node_name} (drain, restart, re-include)"),
        ),
    };
    let call = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n");
    let runbook = match kind {
        ProcedureKind::ControlledBounce => "the runbook's \"fixing cluster\"",
        ProcedureKind::ChangeConfig => "the runbook's \"changing cluster config\"",
    };
    let restart = match &bouncer {
        Bouncer::Manual => "you restart the node when asked".to_string(),
        Bouncer::Supervisor(r) => format!("opsdeck restarts the node: {}", r.title),
        Bouncer::DemoSim => "the demo cluster restarts the node itself".to_string(),
    };
    let mut description = format!(
        "{runbook}, step by step: each step is checked before the next and audited on its own; \
         ctrl-x stops between steps (settings already written stay). Settings are written persistent; {restart}."
    );
    if !check.leaving.is_empty() {
        description.push('\n');
        description.push_str(&check.describe());
    }
    if !check.fits() {
        description.push_str("\nOVERRIDE: the procedure goes on although the moved shards do not fit.");
    }
    if !last.is_empty() {
        description.push_str(&format!(
            "\nOVERRIDE: {node_name} holds the only copy of {} shard(s): {}",
            last.len(),
            preview(&last)
        ));
    }
    let touched = match kind {
        ProcedureKind::ControlledBounce => [ENABLE_KEY.to_string(), filter_key(attr)],
        ProcedureKind::ChangeConfig => [ENABLE_KEY.to_string(), filter_key("_ip")],
    };
    let before = touched.iter().map(|k| state.raw_settings.values_of(k)).collect();
    Ok(plan(
        action,
        title,
        node_name.into(),
        description,
        call,
        Risk::High,
        "each step is checked before the next; the last step waits for the node's shards to recover",
        cfg.procedure_timeout.get(),
        EsOp::Procedure(Box::new(Procedure {
            kind,
            node: node_name.into(),
            ip: node.ip.clone(),
            zone_attribute: attr.clone(),
            spot_zone: cfg.spot_zone.clone(),
            allow_override: override_last_copy,
            before,
            bouncer,
            bounce_timeout: cfg.bounce_timeout.get(),
            poll_every,
        })),
    ))
}

/// What a procedure moves before it bounces: the spot zone's shards (bounce), or the node's (change config).
fn procedure_capacity(state: &EsState, kind: ProcedureKind, node: &EsNode, attr: &str, spot: &str) -> CapacityCheck {
    let leaving: Vec<&str> = match kind {
        ProcedureKind::ControlledBounce => state
            .nodes
            .iter()
            .filter(|n| n.attributes.get(attr).map(String::as_str) == Some(spot))
            .map(|n| n.name.as_str())
            .collect(),
        ProcedureKind::ChangeConfig => vec![node.name.as_str()],
    };
    capacity_for_moving(state, &leaving)
}

/// The steps as the confirm dialog lists them (the requests are written when each step runs,
/// from the settings in force at that moment).
fn procedure_steps(kind: ProcedureKind, node: &EsNode, attr: &str, spot: &str, bouncer: &Bouncer) -> Vec<String> {
    let n = &node.name;
    let who = bouncer.describe();
    match kind {
        ProcedureKind::ControlledBounce => vec![
            format!(
                "exclude {attr}={spot}: PUT /_cluster/settings persistent cluster.routing.allocation.exclude.{attr} += {spot}"
            ),
            format!("wait until no shard is on a {spot} node"),
            format!(
                "check {n} holds no last copy; disable allocation: PUT /_cluster/settings persistent {ENABLE_KEY}=none"
            ),
            format!("bounce {n} ({who})"),
            format!("enable allocation: PUT /_cluster/settings persistent {ENABLE_KEY}=all"),
            "wait until the cluster is no longer red and nothing is initializing".into(),
            format!("re-include {attr}={spot}: remove it from cluster.routing.allocation.exclude.{attr}"),
        ],
        ProcedureKind::ChangeConfig => vec![
            format!(
                "drain {n}: PUT /_cluster/settings persistent cluster.routing.allocation.exclude._ip += {}",
                node.ip
            ),
            format!("wait until no shard row names {n}"),
            format!("disable allocation: PUT /_cluster/settings persistent {ENABLE_KEY}=none"),
            format!("change {n}'s config and restart it ({who})"),
            format!("enable allocation: PUT /_cluster/settings persistent {ENABLE_KEY}=all"),
            format!(
                "re-include {n}: remove {} from cluster.routing.allocation.exclude._ip",
                node.ip
            ),
            "wait until the cluster is no longer red and nothing is initializing".into(),
        ],
    }
}

/// Whether a node's JVM started at least a second after the one we knew (both times by the node's
/// own clock, so no skew): then it is a new process.
fn started_later(now: Option<u64>, before: Option<u64>) -> bool {
    matches!((now, before), (Some(now), Some(before)) if now >= before.saturating_add(1000))
}

// ---- execution ------------------------------------------------------------------------------

/// Reads the cluster now (the same batch as the poller, without explains).
pub async fn read_state(client: &EsClient) -> Result<EsState, String> {
    let mut p = EsPoller::new(client.clone(), 0);
    p.poll_cluster().await.map(EsState::build).map_err(|e| e.message)
}

fn expectations_met(state: &EsState, expect: &[(String, Option<String>)]) -> Result<(), String> {
    for (key, want) in expect {
        let have = state
            .raw_settings
            .effective(key)
            .filter(|(_, scope)| *scope != Scope::Default)
            .map(|(v, _)| v.to_string())
            .filter(|v| !v.is_empty());
        if have.as_deref() != want.as_deref() {
            return Err(format!(
                "{key} is {} (expected {})",
                have.as_deref().unwrap_or("unset"),
                want.as_deref().unwrap_or("unset")
            ));
        }
    }
    Ok(())
}

async fn write_and_verify(
    client: &EsClient,
    request: &EsRequest,
    expect: &[(String, Option<String>)],
) -> Result<EsState, String> {
    client.send(request).await.map_err(|e| format!("{request}: {e}"))?;
    let state = read_state(client)
        .await
        .map_err(|e| format!("written, but the check failed: {e}"))?;
    expectations_met(&state, expect).map_err(|e| format!("written, but {e}"))?;
    Ok(state)
}

impl Operation for EsOp {
    fn run<'a>(&'a self, ctx: &'a ActionCtx) -> BoxFuture<'a, Outcome> {
        Box::pin(run(self.clone(), ctx))
    }
}

pub async fn run(op: EsOp, ctx: &ActionCtx) -> Outcome {
    let Some(backend) = ctx.backends.of::<crate::Elasticsearch>() else {
        return Outcome::failed("elasticsearch is not configured");
    };
    let client = &backend.client;
    match op {
        EsOp::WriteSettings(w) => {
            let SettingsWrite { request, expect, drain } = *w;
            ctx.report(format!("{request}"), None);
            match write_and_verify(client, &request, &expect).await {
                Err(e) if e.starts_with("written") => Outcome::unverified(e),
                Err(e) => Outcome::failed(e),
                Ok(state) => match drain {
                    None => Outcome::succeeded("in force (read back from the cluster)"),
                    Some(name) => {
                        let left = state.node_by_name(&name).map_or(0, |n| n.shard_rows);
                        if left == 0 {
                            Outcome::succeeded(format!("exclusion in force; drain complete: no shard names {name}"))
                        } else {
                            Outcome::succeeded(format!(
                                "exclusion in force; {left} shard copies still name {name} and are leaving"
                            ))
                        }
                    }
                },
            }
        }
        EsOp::RetryFailed(request) => match client.json(&request).await {
            Ok(v) if v.get("acknowledged").and_then(Value::as_bool) == Some(true) => {
                Outcome::succeeded("acknowledged; failed copies will be tried again")
            }
            Ok(v) => Outcome::unverified(format!("answer without acknowledgement: {}", truncate(&v.to_string()))),
            Err(e) => Outcome::failed(format!("{request}: {e}")),
        },
        EsOp::Procedure(p) => run_procedure(*p, client, ctx).await,
        EsOp::Check(what) => Outcome::failed(format!("{what}: a procedure's check step does not run on its own")),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Runs the steps; every step is audited as its own action, progress is reported, and `cancel` stops it
/// between steps and during waits (settings already written stay written: the outcome says which).
async fn run_procedure(p: Procedure, client: &EsClient, ctx: &ActionCtx) -> Outcome {
    let mut run = ProcedureRun {
        p: &p,
        client,
        ctx,
        done: Vec::new(),
        step: 0,
        total: 7,
    };
    let result = match p.kind {
        ProcedureKind::ControlledBounce => run.controlled_bounce().await,
        ProcedureKind::ChangeConfig => run.change_config().await,
    };
    let e = match result {
        Ok(outcome) => return outcome,
        Err(e) => e,
    };
    let done = if run.done.is_empty() {
        "nothing was changed".to_string()
    } else {
        format!("done so far: {}", run.done.join("; "))
    };
    // What remains changed is read from the cluster, not remembered: a write may have landed
    // although its check failed, and someone may have put a value back meanwhile.
    let left = match read_state(client).await {
        Ok(state) => left_changed_text(&settings_changed(&p.before, &state.raw_settings)),
        Err(e) => format!("cannot read what it left changed: {e}"),
    };
    let stopped = e == STOPPED_BY_USER;
    let at = match run.step {
        0 => "before its first step".to_string(),
        n => format!("at step {n}"),
    };
    let summary = format!(
        "{} {at}: {e} ({done}); {left}",
        if stopped { "stopped" } else { "failed" }
    );
    if stopped {
        Outcome::stopped(summary)
    } else {
        Outcome::failed(summary)
    }
}

const STOPPED_BY_USER: &str = "stopped by the user";

/// `left changed: k = v (was w); …`, or that nothing was left changed.
pub fn left_changed_text(changes: &[SettingChange]) -> String {
    if changes.is_empty() {
        return "no setting left changed".into();
    }
    let list: Vec<String> = changes.iter().map(SettingChange::describe).collect();
    format!("left changed: {}", list.join("; "))
}

struct ProcedureRun<'a> {
    p: &'a Procedure,
    client: &'a EsClient,
    ctx: &'a ActionCtx,
    done: Vec<String>,
    step: usize,
    total: usize,
}

impl ProcedureRun<'_> {
    fn begin(&mut self, what: &str) -> Result<(), String> {
        if self.ctx.cancel.is_cancelled() {
            return Err(STOPPED_BY_USER.into());
        }
        self.step += 1;
        self.say(what);
        Ok(())
    }

    /// Progress within the current step.
    fn say(&self, text: &str) {
        self.ctx.report(
            format!("step {}/{}: {text}", self.step, self.total),
            Some((self.step - 1) as f64 / self.total as f64),
        );
    }

    /// One audited settings write, verified by reading back.
    async fn write(
        &mut self,
        action: &str,
        what: &str,
        request: EsRequest,
        expect: Vec<(String, Option<String>)>,
    ) -> Result<EsState, String> {
        self.begin(what)?;
        let sub = plan(
            action,
            format!("{what} (step {} of {})", self.step, self.total),
            self.p.node.clone(),
            what.into(),
            request.to_string(),
            Risk::Medium,
            "read back",
            Duration::from_secs(60),
            EsOp::WriteSettings(Box::new(SettingsWrite {
                request: request.clone(),
                expect: expect.clone(),
                drain: None,
            })),
        );
        let id = self.audit_id(action);
        self.ctx
            .audit
            .intent(&id, &sub)
            .map_err(|e| format!("cannot write the audit log: {e}"))?;
        let result = write_and_verify(self.client, &request, &expect).await;
        let outcome = match &result {
            Ok(_) => Outcome::succeeded("in force"),
            Err(e) => Outcome::failed(e.clone()),
        };
        let _ = self.ctx.audit.outcome(&id, &sub, &outcome);
        let state = result?;
        self.done.push(what.to_string());
        Ok(state)
    }

    /// Polls until `check` says done (its text is the progress), the deadline passes, or the user stops.
    async fn wait(
        &mut self,
        what: &str,
        limit: Duration,
        check: impl Fn(&EsState) -> (bool, String),
    ) -> Result<EsState, String> {
        self.begin(what)?;
        self.poll_until(what, limit, check).await
    }

    /// The polling part of [`Self::wait`], within the current step.
    async fn poll_until(
        &mut self,
        what: &str,
        limit: Duration,
        check: impl Fn(&EsState) -> (bool, String),
    ) -> Result<EsState, String> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut last = String::new();
        loop {
            match read_state(self.client).await {
                Ok(state) => {
                    let (ok, text) = check(&state);
                    if ok {
                        self.audit_check(what, &text, opsdeck_core::action::OutcomeResult::Succeeded);
                        return Ok(state);
                    }
                    if text != last {
                        self.say(&format!("{what}: {text}"));
                        last = text;
                    }
                }
                // A failed read is not the end (the master may be busy): the deadline decides.
                Err(e) => last = format!("cluster unreadable: {e}"),
            }
            if tokio::time::Instant::now() >= deadline {
                self.audit_check(what, &last, opsdeck_core::action::OutcomeResult::Failed);
                return Err(format!(
                    "{what}: gave up after {} ({last})",
                    humantime::format_duration(limit)
                ));
            }
            tokio::select! {
                _ = self.ctx.cancel.cancelled() => {
                    self.audit_check(what, STOPPED_BY_USER, opsdeck_core::action::OutcomeResult::Stopped);
                    return Err(STOPPED_BY_USER.into());
                }
                _ = tokio::time::sleep(self.p.poll_every) => {}
            }
        }
    }

    /// A check step in the audit log (intent + outcome, with no call).
    fn audit_check(&self, what: &str, detail: &str, result: opsdeck_core::action::OutcomeResult) {
        let sub = plan(
            "procedure_check",
            format!("{what} (step {} of {})", self.step, self.total),
            self.p.node.clone(),
            what.into(),
            format!("check: {what}"),
            Risk::Low,
            "",
            Duration::from_secs(1),
            EsOp::Check(what.into()),
        );
        let id = format!("{}-step{}-check", std::process::id(), self.step);
        let _ = self.ctx.audit.intent(&id, &sub);
        let outcome = Outcome {
            result,
            summary: detail.to_string(),
        };
        let _ = self.ctx.audit.outcome(&id, &sub, &outcome);
    }

    async fn set_enable(&mut self, value: &str) -> Result<EsState, String> {
        self.write(
            &format!("allocation_{value}"),
            &format!("allocation enable = {value}"),
            settings_request(&[(ENABLE_KEY, Some(value))]),
            vec![(ENABLE_KEY.into(), Some(value.into()))],
        )
        .await
    }

    /// Adds (`add`) or removes a value of an exclude list, rewriting it persistent and nulling transient.
    async fn edit_exclude(&mut self, attr: &str, value: &str, add: bool) -> Result<EsState, String> {
        let key = filter_key(attr);
        let state = read_state(self.client).await?;
        let mut list = current_list(&state, &key);
        if add && !list.iter().any(|v| v == value) {
            list.push(value.into());
        }
        if !add {
            list.retain(|v| v != value);
        }
        let joined = list.join(",");
        let new = (!list.is_empty()).then_some(joined.as_str());
        let what = if add {
            format!("exclude {attr}={value}")
        } else {
            format!("re-include {attr}={value}")
        };
        self.write(
            if add { "exclude" } else { "include" },
            &what,
            settings_request(&[(&key, new)]),
            vec![(key.clone(), new.map(String::from))],
        )
        .await
    }

    /// Restarts the node (or has the user do it) and waits until its new process is in the cluster.
    async fn bounce(&mut self, what: &str) -> Result<(), String> {
        let node = self.p.node.clone();
        // The process being replaced, known by when its JVM started: a node listed with a later
        // start is back, even if we never saw it gone.
        let old_start = read_state(self.client)
            .await
            .ok()
            .and_then(|s| s.node_by_name(&node)?.started_at_ms);
        let restarted = match &self.p.bouncer {
            Bouncer::Manual => {
                self.begin(&format!("{what}: restart {node} now"))?;
                None
            }
            Bouncer::Supervisor(restart) => {
                self.begin(what)?;
                self.say(&format!("{what}: {}", restart.call));
                // Boxed: a procedure is itself an operation, so this recursion needs a known size.
                let outcome = self
                    .audited(
                        restart,
                        Box::pin(opsdeck_core::action::run_operation(restart.op.clone(), self.ctx)),
                    )
                    .await?;
                if outcome.result != opsdeck_core::action::OutcomeResult::Succeeded {
                    return Err(format!("{}: {}", restart.title, outcome.summary));
                }
                Some(outcome.summary)
            }
            Bouncer::DemoSim => {
                self.begin(&format!("{what}: restart {node} now"))?;
                let request = EsRequest::post(&format!("/_sim/restart/{node}"), None);
                let sub = plan(
                    "demo_restart",
                    format!("restart {node} (demo)"),
                    node.clone(),
                    "the demo cluster restarts the node".into(),
                    request.to_string(),
                    Risk::Medium,
                    "the node leaves and rejoins",
                    Duration::from_secs(30),
                    EsOp::Check("demo restart".into()),
                );
                let send = async {
                    match self.client.send(&request).await {
                        Ok(_) => Outcome::succeeded("restart requested"),
                        Err(e) => Outcome::failed(format!("{request}: {e}")),
                    }
                };
                let outcome = self.audited(&sub, send).await?;
                if outcome.result != opsdeck_core::action::OutcomeResult::Succeeded {
                    return Err(outcome.summary);
                }
                None
            }
        };
        let left = std::sync::atomic::AtomicBool::new(false);
        let waiting_for_leave = match restarted {
            Some(_) => format!("{node} still shows its old process; waiting for the new one to join"),
            None => format!("waiting for {node} to leave the cluster (restart it now)"),
        };
        self.poll_until(what, self.p.bounce_timeout, |s| match s.node_by_name(&node) {
            None => {
                left.store(true, std::sync::atomic::Ordering::Relaxed);
                (false, format!("{node} is down; waiting for it to rejoin"))
            }
            Some(n) if left.load(std::sync::atomic::Ordering::Relaxed) || started_later(n.started_at_ms, old_start) => {
                (true, format!("{node} rejoined"))
            }
            Some(_) => (false, waiting_for_leave.clone()),
        })
        .await?;
        self.done.push(match restarted {
            Some(how) => format!("{node} restarted ({how}) and rejoined"),
            None => format!("{node} bounced"),
        });
        Ok(())
    }

    /// Runs `step` as an action of its own in the audit log (intent, then outcome).
    async fn audited(
        &self,
        sub: &ActionPlan,
        step: impl std::future::Future<Output = Outcome>,
    ) -> Result<Outcome, String> {
        let id = self.audit_id(&sub.action);
        self.ctx
            .audit
            .intent(&id, sub)
            .map_err(|e| format!("cannot write the audit log: {e}"))?;
        let outcome = step.await;
        let _ = self.ctx.audit.outcome(&id, sub, &outcome);
        Ok(outcome)
    }

    /// A sub-step's audit id: unique across procedures of one session (it pairs intent and outcome).
    fn audit_id(&self, what: &str) -> String {
        format!(
            "{}-step{}-{what}-{}",
            std::process::id(),
            self.step,
            opsdeck_core::time::rfc3339(std::time::SystemTime::now())
        )
    }

    fn recovered(baseline_unassigned: u32) -> impl Fn(&EsState) -> (bool, String) {
        move |s| {
            let h = &s.health;
            let ok = h.status != HealthStatus::Red
                && h.initializing_shards == 0
                && h.unassigned_shards <= baseline_unassigned;
            (
                ok,
                format!(
                    "{}: {} initializing, {} unassigned (was {baseline_unassigned})",
                    h.status.as_str(),
                    h.initializing_shards,
                    h.unassigned_shards
                ),
            )
        }
    }

    /// Refuses to move data that does not fit under the low watermark (unless overridden), checked
    /// on the cluster as it is now, right before the exclusion is written.
    fn preflight_capacity(&self, state: &EsState, node: &EsNode) -> Result<(), String> {
        let p = self.p;
        let check = procedure_capacity(state, p.kind, node, &p.zone_attribute, &p.spot_zone);
        if check.fits() || p.allow_override {
            return Ok(());
        }
        Err(format!(
            "pre-flight: {}",
            check.describe().lines().next().unwrap_or("the shards do not fit")
        ))
    }

    async fn controlled_bounce(&mut self) -> Result<Outcome, String> {
        let p = self.p;
        let attr = p.zone_attribute.clone();
        let spot = p.spot_zone.clone();
        let before = read_state(self.client).await?;
        let baseline = before.health.unassigned_shards;
        let is_spot = |n: &EsNode| n.attributes.get(&attr).map(String::as_str) == Some(spot.as_str());
        let node = before
            .node_by_name(&p.node)
            .ok_or_else(|| format!("{} is not in the cluster", p.node))?;
        self.preflight_capacity(&before, node)?;
        if before.nodes.iter().any(is_spot) {
            self.edit_exclude(&attr, &spot, true).await?;
        } else {
            self.begin(&format!("no node in {attr}={spot}: nothing to exclude"))?;
        }
        self.wait(
            &format!("wait until {attr}={spot} nodes hold no shard"),
            self.ctx_limit(),
            |s| {
                let left: u32 = s.nodes.iter().filter(|n| is_spot(n)).map(|n| n.shard_rows).sum();
                (left == 0, format!("{left} copies still on {spot} nodes"))
            },
        )
        .await?;
        let now = read_state(self.client).await?;
        let node = now
            .node_by_name(&p.node)
            .ok_or_else(|| format!("{} is not in the cluster", p.node))?;
        let last = last_copies_on(&now.shards, &[node]);
        if !last.is_empty() && !p.allow_override {
            return Err(format!(
                "pre-flight: {} holds the only copy of {} shard(s): {}",
                p.node,
                last.len(),
                preview(&last)
            ));
        }
        self.set_enable("none").await?;
        self.bounce("bounce").await?;
        self.set_enable("all").await?;
        self.wait(
            "wait for the shards to recover",
            self.ctx_limit(),
            Self::recovered(baseline),
        )
        .await?;
        if before.nodes.iter().any(is_spot) {
            self.edit_exclude(&attr, &spot, false).await?;
        } else {
            self.begin("nothing to re-include")?;
        }
        self.ctx.report("done", Some(1.0));
        let end = read_state(self.client).await?;
        let summary = format!(
            "{} bounced; allocation all; {attr}={spot} re-included; cluster {}",
            p.node,
            end.health.status.as_str()
        );
        // Re-included is not refilled: shards come back only as the balancer moves them.
        let spot_nodes: Vec<&EsNode> = end.nodes.iter().filter(|n| is_spot(n)).collect();
        let excluded: Vec<&str> = spot_nodes
            .iter()
            .filter(|n| !n.excluded_by.is_empty())
            .map(|n| n.name.as_str())
            .collect();
        let empty: Vec<&str> = spot_nodes
            .iter()
            .filter(|n| n.shard_rows == 0)
            .map(|n| n.name.as_str())
            .collect();
        Ok(if !excluded.is_empty() {
            Outcome::unverified(format!("{summary}; but still excluded: {}", excluded.join(", ")))
        } else if !empty.is_empty() {
            Outcome::unverified(format!(
                "{summary}; but {} hold no shard yet: until the balancer moves shards back, the other nodes carry them",
                empty.join(", ")
            ))
        } else {
            Outcome::succeeded(summary)
        })
    }

    async fn change_config(&mut self) -> Result<Outcome, String> {
        let p = self.p;
        let before = read_state(self.client).await?;
        let baseline = before.health.unassigned_shards;
        let node = before
            .node_by_name(&p.node)
            .ok_or_else(|| format!("{} is not in the cluster", p.node))?;
        self.preflight_capacity(&before, node)?;
        let ip = p.ip.clone();
        let name = p.node.clone();
        self.edit_exclude("_ip", &ip, true).await?;
        self.wait(
            &format!("wait until no shard row names {name}"),
            self.ctx_limit(),
            |s| {
                let left = s.node_by_name(&name).map_or(0, |n| n.shard_rows);
                (left == 0, format!("{left} copies still name {name}"))
            },
        )
        .await?;
        self.set_enable("none").await?;
        self.bounce("change the config and restart").await?;
        self.set_enable("all").await?;
        self.edit_exclude("_ip", &ip, false).await?;
        self.wait(
            "wait for the cluster to settle",
            self.ctx_limit(),
            Self::recovered(baseline),
        )
        .await?;
        self.ctx.report("done", Some(1.0));
        Ok(Outcome::succeeded(format!(
            "{name} drained, restarted and re-included; allocation all"
        )))
    }

    /// Waits are bounded by the executor's plan timeout; this only caps each single wait.
    fn ctx_limit(&self) -> Duration {
        Duration::from_secs(7 * 24 * 3600)
    }
}
