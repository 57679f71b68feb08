//! The controlled bounce of one node of the three-node cluster, with a real restart: the node's JVM is
//! a program of the peers' supervisord, and `elasticsearch.restart_program` restarts it over the local
//! transport. The node leaves, comes back as a new process, and the procedure completes.

use super::env::{peer, unique};
use super::opensearch::*;
use opsdeck_core::action::OutcomeResult;
use opsdeck_elasticsearch::actions::{self as act, ProcedureKind};
use opsdeck_elasticsearch::model::{HealthStatus, Scope};
use opsdeck_hosts::config::{HostConfig, TransportKind};
use opsdeck_hosts::source::SshBackend;
use std::time::Duration;

/// The pid supervisor has for `program` of the peers' supervisord.
fn supervisor_pid(conf: &str, program: &str) -> String {
    let out = std::process::Command::new("supervisorctl")
        .args(["-c", conf, "pid", program])
        .output()
        .expect("supervisorctl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_controlled_bounce_restarts_a_node_through_supervisor_and_waits_for_it_to_rejoin() {
    let url = peer!("OPSDECK_OPENSEARCH3");
    let home = peer!("OPSDECK_OPENSEARCH3_HOME");
    let _cluster = exclusive(&url, &["cluster.routing.allocation.enable"]).await;
    let index = Index::create(&url, &unique("bounce"), 3, 1).await;
    index.fill(50).await;
    health(&url, &[("wait_for_status", "green")]).await;

    // node-3 runs on this machine ("local" transport), as supervisor program node-3 of the peers.
    let conf = format!("{home}/supervisord.conf");
    let mut config = config_for(&url);
    let mut host = HostConfig::named("opensearch-peers", TransportKind::Local);
    host.supervisor = true;
    config.ssh.hosts = vec![host];
    config.ssh.supervisor_command = format!(
        "supervisorctl -c {} {{action}} {{program}}",
        shlex::try_quote(&conf).unwrap()
    );
    config.elasticsearch.restart_program = Some("node-3".into());
    config
        .elasticsearch
        .node_hosts
        .insert("node-3".into(), "opensearch-peers".into());
    config.elasticsearch.bounce_timeout = opsdeck_core::config::ConfigDuration::secs(180);
    assert!(config.validate().is_empty(), "{:?}", config.validate());
    let pid_before = supervisor_pid(&conf, "node-3");
    let before = state(&url).await;
    let started_before = before.node_by_name("node-3").unwrap().started_at_ms.unwrap();

    let plan = act::plan_procedure(
        &before,
        &config,
        ProcedureKind::ControlledBounce,
        "node-3",
        false,
        Duration::from_millis(300),
    )
    .unwrap();
    assert!(
        plan.call.contains("4. bounce node-3 (opsdeck runs `supervisorctl -c ")
            && plan.call.contains(" restart node-3`"),
        "{}",
        plan.call
    );
    let ssh = SshBackend::new(&config.ssh).unwrap();
    let mut backends = backends(&config).await;
    backends.ssh = Some(ssh.clone());
    let ran = tokio::time::timeout(Duration::from_secs(300), run(plan, backends))
        .await
        .expect("the procedure ends within 5 minutes");
    assert_eq!(
        ran.outcome.result,
        OutcomeResult::Succeeded,
        "{}\n{:#?}",
        ran.outcome.summary,
        ran.progress
    );

    // A real restart: a new process, seen gone from the cluster and then back.
    let pid_after = supervisor_pid(&conf, "node-3");
    assert_ne!(pid_after, pid_before, "supervisor restarted node-3");
    assert!(
        ran.progress
            .iter()
            .any(|p| p.contains("node-3 is down; waiting for it to rejoin")),
        "the procedure saw the node leave: {:#?}",
        ran.progress
    );
    let end = state(&url).await;
    let node = end.node_by_name("node-3").expect("node-3 is back");
    assert!(node.started_at_ms.unwrap() > started_before, "a new JVM");
    assert_eq!(
        (end.settings.enable.as_str(), end.settings.enable_scope),
        ("all", Scope::Persistent)
    );
    assert_ne!(end.health.status, HealthStatus::Red);
    // The audit log: the restart as its own action, then the rejoin check, then allocation back on.
    let restart: Vec<&str> = ran
        .audit
        .lines()
        .filter(|l| l.contains("\"action\":\"hosts.restart_program\""))
        .collect();
    assert_eq!(restart.len(), 2, "intent and outcome: {}", ran.audit);
    assert!(restart[1].contains("\"result\":\"succeeded\""), "{}", restart[1]);
    let order = [
        "elasticsearch.allocation_none",
        "hosts.restart_program",
        "node-3 rejoined",
        "elasticsearch.allocation_all",
    ];
    let lines: Vec<Option<usize>> = order
        .iter()
        .map(|text| ran.audit.lines().position(|l| l.contains(text)))
        .collect();
    assert!(
        lines.iter().all(Option::is_some) && lines.windows(2).all(|w| w[0] < w[1]),
        "{order:?} at lines {lines:?} of the audit log:\n{}",
        ran.audit
    );
    health(&url, &[("wait_for_status", "green")]).await;
    ssh.shutdown().await;
}
