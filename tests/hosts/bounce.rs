//! A controlled bounce with `elasticsearch.restart_program`: the procedure restarts the node's
//! Elasticsearch through supervisor over SSH (real sshd and supervisord), verified by a new pid, and
//! goes on once the node is back in the cluster (the stateful Elasticsearch test server).

use super::harness::{Sshd, Supervisord, read};
use crate::hosts::es_common::{config_for, small_cluster, start};
use opsdeck::actions::executor::{ActionEvent, execute};
use opsdeck::sources::Backends;
use opsdeck_core::action::OutcomeResult;
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_elasticsearch::actions::{self as act, ProcedureKind, read_state};
use opsdeck_elasticsearch::source::EsBackend;
use opsdeck_hosts::source::SshBackend;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the stand-in Elasticsearch leaves in its directory.
struct FakeEs {
    script: String,
    /// Created by the test once supervisor runs it: only then does a start restart the node.
    armed: std::path::PathBuf,
    /// Created by the test when the node may leave the cluster (a real node takes its time).
    leave: std::path::PathBuf,
    /// One line per armed start.
    starts: std::path::PathBuf,
}

/// Stands in for Elasticsearch under supervisor: once armed, each start waits for `leave`, then
/// tells the test cluster that node `core-1` restarts (it leaves and rejoins), then runs until stopped.
fn fake_elasticsearch(dir: &std::path::Path, url: &str) -> FakeEs {
    let (armed, leave, starts) = (dir.join("armed"), dir.join("leave"), dir.join("starts.log"));
    let script = dir.join("elasticsearch.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh
if [ -f '{armed}' ]; then
  echo start >> '{starts}'
  while [ ! -f '{leave}' ]; do sleep 0.1; done
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method=\"POST\"), timeout=5)' '{url}/_sim/restart/core-1'
fi
exec sleep 3600
",
            armed = armed.display(),
            leave = leave.display(),
            starts = starts.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    FakeEs {
        script: script.to_string_lossy().into_owned(),
        armed,
        leave,
        starts,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_controlled_bounce_restarts_the_node_through_supervisor_and_waits_for_it() {
    let server = start(small_cluster()).await;
    server.spawn_ticker(Duration::from_millis(20), |_| {});

    let work = tempfile::tempdir().unwrap();
    let es_process = fake_elasticsearch(work.path(), &server.url);
    let sup = Supervisord::start(&[("elasticsearch", &es_process.script)]);
    std::fs::write(&es_process.armed, "").unwrap();
    let sshd = Sshd::start();
    // The ssh host is named like the node, so the node's host is found without node_hosts.
    let mut host = sshd.host("core-1");
    host.supervisor = true;
    let mut config = config_for(&server.url);
    config.ssh = sshd.config(vec![host]);
    config.ssh.supervisor_command = sup.template();
    config.elasticsearch.restart_program = Some("elasticsearch".into());
    config.elasticsearch.bounce_timeout = opsdeck_core::config::ConfigDuration::secs(60);
    assert!(config.validate().is_empty(), "{:?}", config.validate());

    let es = EsBackend::connect(&config.elasticsearch)
        .await
        .unwrap()
        .expect("configured");
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
    let events = async {
        while let Some(event) = rx.recv().await {
            if let ActionEvent::Progress { progress: p, .. } = event {
                // Supervisor says RUNNING at once, but the node is still listed with its old
                // process: the procedure must wait for the new one. Only now does the node leave.
                if p.message.contains("core-1 still shows its old process") {
                    std::fs::write(&es_process.leave, "").unwrap();
                }
                progress.push(p.message);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), events)
        .await
        .unwrap_or_else(|_| panic!("the procedure ends; progress so far: {progress:#?}"));
    let outcome = run.await.unwrap();
    // Every step worked; the spot nodes it emptied stay empty until the balancer refills them, so
    // the procedure does not call that succeeded.
    assert_eq!(
        outcome.result,
        OutcomeResult::Unverified,
        "{}\n{progress:#?}",
        outcome.summary
    );
    assert!(
        outcome.summary.contains("spot-1, spot-2 hold no shard yet"),
        "{}",
        outcome.summary
    );

    // Supervisor really restarted it (once), and the procedure waited for the node to rejoin.
    assert_eq!(read(&es_process.starts).lines().count(), 1, "one restart");
    assert!(
        es_process.leave.exists(),
        "it waited for the new process: {progress:#?}"
    );
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
    let es = EsBackend::connect(&config.elasticsearch)
        .await
        .unwrap()
        .expect("configured");
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
