//! A controlled bounce with `elasticsearch.restart_program`: the procedure restarts the node's
//! Elasticsearch through supervisor over SSH (real sshd and supervisord), verified by a new pid, and
//! goes on once the node is back in the cluster (the stateful Elasticsearch test server).

use super::harness::{Sshd, Supervisord, read};
use crate::es_common::{config_for, small_cluster, start};
use opsdeck::actions::OutcomeResult;
use opsdeck::actions::audit::{AuditLog, Identity};
use opsdeck::actions::elasticsearch::{self as act, ProcedureKind, read_state};
use opsdeck::actions::executor::{ActionEvent, execute};
use opsdeck::sources::Backends;
use opsdeck::sources::elasticsearch::EsBackend;
use opsdeck::sources::ssh::SshBackend;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Stands in for Elasticsearch under supervisor: once armed, each start tells the test cluster
/// that node `core-1` restarts (it leaves and rejoins), then runs until stopped.
fn fake_elasticsearch(dir: &std::path::Path, url: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let armed = dir.join("armed");
    let starts = dir.join("starts.log");
    let script = dir.join("elasticsearch.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ -f '{armed}' ]; then\n  echo start >> '{starts}'\n  python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method=\"POST\"), timeout=5)' '{url}/_sim/restart/core-1'\nfi\nexec sleep 3600\n",
            armed = armed.display(),
            starts = starts.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("script-path"), script.to_string_lossy().as_bytes()).unwrap();
    (armed, starts)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_controlled_bounce_restarts_the_node_through_supervisor_and_waits_for_it() {
    let server = start(small_cluster()).await;
    server.spawn_ticker(Duration::from_millis(20), |_| {});

    let work = tempfile::tempdir().unwrap();
    let (armed, starts) = fake_elasticsearch(work.path(), &server.url);
    let script = read(&work.path().join("script-path"));
    let sup = Supervisord::start(&[("elasticsearch", &script)]);
    std::fs::write(&armed, "").unwrap();
    let sshd = Sshd::start();
    // The ssh host is named like the node, so the node's host is found without node_hosts.
    let mut host = sshd.host("core-1");
    host.supervisor = true;
    let mut config = config_for(&server.url);
    config.ssh = sshd.config(vec![host]);
    config.ssh.supervisor_command = sup.template();
    config.elasticsearch.restart_program = Some("elasticsearch".into());
    config.elasticsearch.bounce_timeout = opsdeck::config::ConfigDuration::secs(60);
    assert!(config.validate().is_empty(), "{:?}", config.validate());

    let es = EsBackend::connect(&config).await.unwrap().expect("configured");
    let state = read_state(&es.client).await.unwrap();
    let plan = act::plan_procedure(
        &state,
        &config,
        ProcedureKind::ControlledBounce,
        "core-1",
        false,
        Duration::from_millis(50),
    )
    .unwrap();
    // The dialog shows the exact restart command, run on the node's host.
    assert!(
        plan.call.contains("bounce core-1 (opsdeck runs `ssh ") && plan.call.contains(" restart elasticsearch"),
        "{}",
        plan.call
    );

    let ssh = SshBackend::new(&config.ssh).unwrap();
    let backends = Backends {
        elasticsearch: Some(es.clone()),
        ssh: Some(ssh.clone()),
        ..Backends::default()
    };
    let audit_path = work.path().join("audit.jsonl");
    let audit = AuditLog::new(audit_path.clone(), Identity::current());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn(execute(1, plan, backends, audit, tx, CancellationToken::new()));
    let mut progress = Vec::new();
    while let Some(event) = rx.recv().await {
        if let ActionEvent::Progress { progress: p, .. } = event {
            progress.push(p.message);
        }
    }
    let outcome = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the procedure ends")
        .unwrap();
    assert_eq!(
        outcome.result,
        OutcomeResult::Succeeded,
        "{}\n{progress:#?}",
        outcome.summary
    );

    // Supervisor really restarted it (once), and the procedure waited for the node to rejoin.
    assert_eq!(read(&starts).lines().count(), 1, "one restart");
    // In the audit log, inside the procedure's pair: the restart as its own action, then the check
    // that the node rejoined, then allocation back on.
    let audit = read(&audit_path);
    let at = |text: &str| {
        audit
            .lines()
            .position(|l| l.contains(text))
            .unwrap_or_else(|| panic!("{text:?} not in {audit}"))
    };
    let restart: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"action\":\"hosts.restart_program\""))
        .collect();
    assert_eq!(restart.len(), 2, "intent and outcome: {audit}");
    assert!(restart[1].contains("\"result\":\"succeeded\""), "{}", restart[1]);
    assert!(
        restart[1].contains("restart elasticsearch"),
        "the exact call: {}",
        restart[1]
    );
    assert!(
        at("\"action\":\"hosts.restart_program\"") < at("core-1 rejoined"),
        "{audit}"
    );
    assert!(at("core-1 rejoined") < at("elasticsearch.allocation_all"), "{audit}");
    let end = read_state(&es.client).await.unwrap();
    assert!(end.node_by_name("core-1").is_some());
    assert!(end.settings.filters.is_empty(), "{:?}", end.settings.filters);
    ssh.shutdown().await;
}

/// Without a host for the node, the bounce cannot be planned: the offer says where to map it.
#[tokio::test]
async fn a_restart_program_without_a_host_for_the_node_is_a_clear_error() {
    let server = start(small_cluster()).await;
    let mut config = config_for(&server.url);
    config.elasticsearch.restart_program = Some("elasticsearch".into());
    let es = EsBackend::connect(&config).await.unwrap().expect("configured");
    let state = read_state(&es.client).await.unwrap();
    let why = act::plan_procedure(
        &state,
        &config,
        ProcedureKind::ControlledBounce,
        "core-1",
        true,
        Duration::from_millis(50),
    )
    .unwrap_err();
    assert!(why.contains("node_hosts"), "{why}");
    // The config-change procedure leaves the restart to the user, so it needs no host.
    assert!(
        act::plan_procedure(
            &state,
            &config,
            ProcedureKind::ChangeConfig,
            "core-1",
            false,
            Duration::from_millis(50)
        )
        .is_ok()
    );
}
