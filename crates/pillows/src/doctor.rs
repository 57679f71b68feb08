//! `opsdeck doctor` for pillows: the checkpoint table's grants (PostgreSQL, TLS as configured), the
//! Kafka reads the pane makes (metadata, log offsets, each group's committed offsets, with the
//! configured TLS/SASL), and whether sudo on each pillow host allows its restart command.

use crate::Pillows;
use crate::actions::render_command;
use crate::config::{PillowConfig, PillowsConfig};
use crate::model::CheckpointKind;
use crate::source::checkpoints::{CheckpointStore, PgCheckpointStore};
use crate::source::kafka::{KafkaOffsets, Tp};
use futures::future::BoxFuture;
use opsdeck_core::doctor::{Doctor, Finding, Verdict};
use opsdeck_core::pane::{Pane, PaneBackends, PaneConfigs};
use opsdeck_hosts::Hosts;
use opsdeck_hosts::source::SshBackend;
use std::collections::{BTreeMap, BTreeSet};

const PANE: &str = Pillows::ID.name();

impl Doctor for Pillows {
    fn doctor<'a>(config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let Some(backend) = backends.of::<Pillows>() else {
                return Vec::new();
            };
            let cfg = config.of::<Pillows>();
            let (table, restarts) = futures::join!(check_table(cfg), check_restarts(cfg, backends.of::<Hosts>()));
            let (mut found, topics) = table;
            found.extend(check_kafka(cfg, &backend.kafka, topics).await);
            found.extend(restarts);
            found
        })
    }
}

/// The checkpoint table's grants, and the topics its rows name (for the Kafka checks).
async fn check_table(cfg: &PillowsConfig) -> (Vec<Finding>, BTreeSet<String>) {
    let Some(conn) = &cfg.postgres else {
        return (Vec::new(), BTreeSet::new());
    };
    let pg_pillows: Vec<&PillowConfig> = cfg
        .pillows
        .iter()
        .filter(|p| p.kind() == CheckpointKind::Postgres)
        .collect();
    if pg_pillows.is_empty() {
        return (Vec::new(), BTreeSet::new());
    }
    let store = match PgCheckpointStore::new(conn, &cfg.checkpoint_table, cfg.timeout.get()) {
        Ok(s) => s,
        Err(e) => {
            return (
                vec![Finding::new(PANE, "postgres", "connect", Verdict::Unreachable(e))],
                BTreeSet::new(),
            );
        }
    };
    let source = store.describe();
    let line = |what: &str, v: Verdict| Finding::new(PANE, source.clone(), what, v);
    let grants = match store.grants().await {
        Ok(g) => g,
        Err(e) if e.contains("does not exist") => {
            return (vec![line("read checkpoints", Verdict::Missing(e))], BTreeSet::new());
        }
        Err(e) => return (vec![line("connect", Verdict::Unreachable(e))], BTreeSet::new()),
    };
    let table = store.table();
    let role = &grants.role;
    let mut found = vec![line("connect", Verdict::Ok(format!("as {role}")))];
    found.push(line(
        "read checkpoints",
        if grants.select {
            Verdict::Ok(String::new())
        } else {
            Verdict::Missing(format!("SELECT on {table} (role {role})"))
        },
    ));
    found.push(
        line(
            "move checkpoints",
            if grants.update {
                Verdict::Ok(String::new())
            } else {
                Verdict::Missing(format!("UPDATE (\"offset\", last_modified) on {table} (role {role})"))
            },
        )
        .gating(&["move_checkpoint"]),
    );
    let mut topics = BTreeSet::new();
    if grants.select {
        let ids: Vec<String> = pg_pillows.iter().filter_map(|p| p.checkpoint_id.clone()).collect();
        if let Ok(rows) = store.read(&ids).await {
            topics.extend(rows.into_iter().map(|r| r.topic));
        }
    }
    (found, topics)
}

/// Metadata, the log offsets of every topic the pillows read, and each group's committed offsets.
async fn check_kafka(cfg: &PillowsConfig, kafka: &KafkaOffsets, mut topics: BTreeSet<String>) -> Vec<Finding> {
    if cfg.brokers.trim().is_empty() {
        return Vec::new();
    }
    let brokers = cfg.brokers.as_str();
    for p in &cfg.pillows {
        topics.extend(p.topics.iter().cloned());
    }
    let line = |source: &str, what: &str, v: Verdict| Finding::new(PANE, source, what, v);
    let partitions = match kafka.partitions(topics.iter().cloned().collect()).await {
        Ok(p) => p,
        Err(e) => return vec![line(brokers, "read metadata", e.into())],
    };
    let mut found = vec![line(brokers, "read metadata", Verdict::Ok(String::new()))];
    let unknown: Vec<&String> = topics.iter().filter(|t| !partitions.contains_key(*t)).collect();
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().map(|t| t.as_str()).collect();
        found.push(line(
            brokers,
            "describe topics",
            Verdict::Missing(format!(
                "topic(s) {} not in the metadata: missing, or no Describe ACL on them",
                names.join(", ")
            )),
        ));
    }
    let tps_of = |names: &[String]| -> Vec<Tp> {
        names
            .iter()
            .filter_map(|t| partitions.get(t).map(|ps| (t, ps)))
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
            .collect()
    };
    let all: Vec<String> = partitions.keys().cloned().collect();
    let all_tps = tps_of(&all);
    if !all_tps.is_empty() {
        let v = match kafka.watermarks(all_tps).await {
            Ok(_) => Verdict::Ok(String::new()),
            Err(e) => e.into(),
        };
        found.push(line(brokers, "read log offsets", v));
    }
    for p in &cfg.pillows {
        let Some(group) = &p.group else { continue };
        let v = match kafka.committed(group, tps_of(&p.topics)).await {
            Ok(_) => Verdict::Ok(format!("group {group}")),
            Err(e) => Verdict::Missing(format!("{e} (Describe on group {group})")),
        };
        found.push(line(&p.name, "read group offsets", v));
    }
    found
}

/// Each pillow's restart command, asked of sudo on every host its processes run on.
async fn check_restarts(cfg: &PillowsConfig, ssh: Option<&SshBackend>) -> Vec<Finding> {
    let Some(ssh) = ssh else {
        return Vec::new();
    };
    let checks = cfg.pillows.iter().map(|p| async move {
        let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in p.process_refs() {
            by_host.entry(r.host).or_default().push(r.program);
        }
        if by_host.is_empty() {
            return None;
        }
        let mut verdicts = Vec::new();
        for (host, programs) in by_host {
            let v = match render_command(&cfg.restart_command, &programs) {
                Err(e) => Verdict::Missing(e),
                Ok(argv) => match opsdeck_hosts::doctor::sudo_allows(ssh, &host, &argv).await {
                    Some(v) => v,
                    None => Verdict::NotChecked(format!("no sudo in pillows.restart_command on {host}")),
                },
            };
            verdicts.push(v);
        }
        let verdict = verdicts
            .iter()
            .find(|v| v.is_problem())
            .or_else(|| verdicts.iter().find(|v| matches!(v, Verdict::NotChecked(_))))
            .cloned()
            .unwrap_or(Verdict::Ok(String::new()));
        Some(
            Finding::new(PANE, p.name.clone(), "restart", verdict)
                .gating_on_source(&["restart_pillow", "restart_process"]),
        )
    });
    futures::future::join_all(checks).await.into_iter().flatten().collect()
}
