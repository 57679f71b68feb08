//! Remediation actions for pillows: restart processes through supervisor (then verify RUNNING and that
//! their partitions advance), and move a stopped pillow's checkpoint to the log end.

use crate::config::{PillowConfig, PillowsConfig};
use crate::model::{CheckpointKind, Partition, PartitionStatus, Pillow, ProcessRef};
use crate::source::checkpoints::CheckpointMove;
use futures::future::BoxFuture;
use opsdeck_core::action::{ActionCtx, ActionPlan, Operation, Outcome, Risk};
use opsdeck_core::exec::{Cmd, CommandOutput, run_argv};
use opsdeck_hosts::actions::call_text;
use opsdeck_hosts::actions::command::{CommandOp, Transport};
use opsdeck_hosts::config::SshConfig;
use opsdeck_hosts::source::supervisor::{check_name, template_words};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The pillows operations the executor can run.
#[derive(Debug, Clone)]
pub enum PillowsOp {
    // Boxed: plans travel through the app's effects and overlays, which stay small.
    Restart(Box<RestartOp>),
    MoveCheckpoint(Box<MoveOp>),
}

#[derive(Debug, Clone)]
pub struct RestartOp {
    /// The plan's action id; each host's restart is audited as a sub-step of it.
    pub action: String,
    pub pillow: PillowConfig,
    pub processes: Vec<ProcessRef>,
    /// Per host: the exact restart command and the status command used to verify.
    pub commands: Vec<HostCommands>,
    /// Partitions that must advance afterwards: `(topic, partition, committed at plan time)`.
    pub watch: Vec<(String, i32, i64)>,
    /// Partitions whose checkpoint is lost: a restart cannot make them advance.
    pub lost: Vec<String>,
    pub verify_timeout: Duration,
    pub call_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCommands {
    pub host: String,
    pub programs: Vec<String>,
    /// The words run (no shell in between), from `pillows.restart_command`.
    pub restart: Vec<String>,
    pub status: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MoveOp {
    pub pillow: PillowConfig,
    pub moves: Vec<CheckpointMove>,
}

/// The words of `template` with `{program}` as one word per program (names checked with
/// [`check_name`], so they mean the same inside a `sh -c "…"` word). No shell parses the result.
pub fn render_command(template: &str, programs: &[String]) -> Result<Vec<String>, String> {
    for p in programs {
        check_name("program", p)?;
    }
    template_words(template, "pillows command", &[("{program}", programs)])
}

/// `argv` as shell text, for the call a dialog shows.
fn shell_text(argv: &[String]) -> String {
    Cmd::Argv(argv.to_vec()).to_shell()
}

/// The plan to restart `process` (or every process when `None`) of `pillow`; `ssh` says how each
/// host is reached, for the exact call shown.
pub fn plan_restart(
    cfg: &PillowsConfig,
    ssh: &SshConfig,
    pc: &PillowConfig,
    pillow: &Pillow,
    process: Option<usize>,
) -> Result<ActionPlan, String> {
    let processes: Vec<ProcessRef> = pillow
        .processes
        .iter()
        .filter(|p| process.is_none_or(|n| p.index == n))
        .cloned()
        .collect();
    if processes.is_empty() {
        return Err(match process {
            Some(n) => format!(
                "{} has no process {n} in the config (hosts/program/processes)",
                pillow.name
            ),
            None => format!(
                "{} has no processes in the config (set hosts, program and processes)",
                pillow.name
            ),
        });
    }
    let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &processes {
        // Names go into shell commands (quoted) and supervisor: refuse anything exotic outright.
        check_name("host", &p.host)?;
        check_name("program", &p.program)?;
        by_host.entry(p.host.clone()).or_default().push(p.program.clone());
    }
    let commands: Vec<HostCommands> = by_host
        .into_iter()
        .map(|(host, programs)| {
            Ok(HostCommands {
                restart: render_command(&cfg.restart_command, &programs)?,
                status: render_command(&cfg.status_command, &programs)?,
                host,
                programs,
            })
        })
        .collect::<Result<_, String>>()?;
    let indexes: Vec<usize> = processes.iter().map(|p| p.index).collect();
    let owned: Vec<&Partition> = pillow
        .partitions
        .iter()
        .filter(|p| p.owner.is_some_and(|o| indexes.contains(&o)) || pillow.assignment.processes == 0)
        .collect();
    // A lost checkpoint points below the retained log: a restart resumes from nothing, so those
    // partitions are neither promised nor watched.
    let lost: Vec<String> = owned
        .iter()
        .filter(|p| p.status == PartitionStatus::Lost)
        .map(|p| p.key())
        .collect();
    let watch: Vec<(String, i32, i64)> = owned
        .iter()
        .filter(|p| p.lag.unwrap_or(0) > 0 && p.status != PartitionStatus::Lost)
        .filter_map(|p| Some((p.topic.clone(), p.partition, p.committed?)))
        .collect();
    let (title, target) = match process {
        Some(n) => (
            format!("Restart process {n} of {}", pillow.name),
            format!("{}/{}", pillow.name, processes[0].program),
        ),
        None => (
            format!("Restart all {} processes of {}", processes.len(), pillow.name),
            pillow.name.clone(),
        ),
    };
    let call = commands
        .iter()
        .map(|c| call_text(ssh, &c.host, &shell_text(&c.restart)))
        .collect::<Vec<_>>()
        .join("\n");
    let mut description = format!(
        "supervisorctl restarts {} (the process re-reads its checkpoint and resumes from there).",
        processes
            .iter()
            .map(|p| p.program.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    );
    if !watch.is_empty() {
        description.push_str(&format!(
            "\n{} lagging partition(s) owned by {} should advance afterwards.",
            watch.len(),
            if indexes.len() == 1 { "it" } else { "them" }
        ));
    }
    if !lost.is_empty() {
        description.push_str(&format!(
            "\n{} partition(s) LOST their checkpoint ({}): it is below the first retained offset, so a restart \
             does NOT recover them. They stay LOST until the checkpoint is moved (move_checkpoint, after \
             reprocessing what was lost).",
            lost.len(),
            lost.iter().take(6).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let verify_timeout = cfg.verify_timeout.get();
    let action = if process.is_some() {
        "pillows.restart_process"
    } else {
        "pillows.restart_pillow"
    };
    Ok(ActionPlan {
        action: action.into(),
        title,
        target,
        description,
        call,
        risk: Risk::Medium,
        verify: if watch.is_empty() {
            format!(
                "`{}` shows RUNNING (within {}); no partition is expected to advance",
                commands.first().map(|c| shell_text(&c.status)).unwrap_or_default(),
                humantime::format_duration(verify_timeout)
            )
        } else {
            format!(
                "`{}` shows RUNNING, then the checkpoints of the lagging partitions advance (within {})",
                commands.first().map(|c| shell_text(&c.status)).unwrap_or_default(),
                humantime::format_duration(verify_timeout)
            )
        },
        timeout: verify_timeout + cfg.timeout.get() * 3,
        op: Arc::new(PillowsOp::Restart(Box::new(RestartOp {
            action: action.into(),
            pillow: pc.clone(),
            processes,
            commands,
            watch,
            lost,
            verify_timeout,
            call_timeout: cfg.timeout.get().max(Duration::from_secs(30)),
        }))),
        identity: String::new(),
    })
}

/// The plan to move a stopped pillow's checkpoints to the log end, skipping what lies between.
pub fn plan_move_checkpoint(cfg: &PillowsConfig, pc: &PillowConfig, pillow: &Pillow) -> Result<ActionPlan, String> {
    let moving: Vec<_> = pillow
        .partitions
        .iter()
        .filter(|p| p.lag.unwrap_or(0) > 0 && p.log_end.is_some())
        .collect();
    if moving.is_empty() {
        return Err(format!("{} has no lag: nothing to skip", pillow.name));
    }
    if let Some(p) = moving.iter().find(|p| {
        !matches!(
            p.status,
            PartitionStatus::Stop | PartitionStatus::Stall | PartitionStatus::Lost
        )
    }) {
        return Err(format!(
            "{} is still consuming ({} is {}): stop its processes first, or a running process overwrites the checkpoint",
            pillow.name,
            p.key(),
            p.status.label()
        ));
    }
    let mut moves: Vec<CheckpointMove> = Vec::new();
    let mut missing = Vec::new();
    for p in &moving {
        match (p.committed, p.log_end) {
            (Some(c), Some(end)) => moves.push((p.topic.clone(), p.partition, c, end)),
            (None, Some(_)) if pillow.kind == CheckpointKind::Postgres => missing.push(p.key()),
            (None, Some(end)) => moves.push((p.topic.clone(), p.partition, -1, end)),
            _ => {}
        }
    }
    if moves.is_empty() {
        return Err(format!("{} has no checkpoint rows to move", pillow.name));
    }
    let skipped: i64 = moves.iter().map(|(_, _, from, to)| to - from.max(&0)).sum();
    let call = match pillow.kind {
        CheckpointKind::Postgres => {
            let lines: Vec<String> = moves
                .iter()
                .map(|(t, p, from, to)| {
                    format!(
                        "UPDATE {} SET \"offset\" = {to}, last_modified = now() WHERE checkpoint_id = '{}' AND topic = '{}' AND \"partition\" = {p} AND \"offset\" = {from};",
                        cfg.checkpoint_table,
                        pillow.checkpoint.replace('\'', "''"),
                        t.replace('\'', "''")
                    )
                })
                .collect();
            let on =
                crate::source::checkpoints::describe_conn(cfg.postgres.as_deref().unwrap_or(""), &cfg.checkpoint_table);
            format!("-- on {on}\nBEGIN;\n{}\nCOMMIT;", lines.join("\n"))
        }
        CheckpointKind::KafkaGroup => format!(
            "OffsetCommit group={} {}",
            pillow.checkpoint,
            moves
                .iter()
                .map(|(t, p, _, to)| format!("{t}:{p}={to}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    let mut description = format!(
        "Moves the checkpoint of {} partition(s) to the log end: {skipped} changes will be SKIPPED and never processed.\n\
         Reprocess the affected documents afterwards if they matter.",
        moves.len()
    );
    if pillow.kind == CheckpointKind::KafkaGroup {
        description.push_str("\nRefused while the consumer group has members.");
    }
    if !missing.is_empty() {
        description.push_str(&format!("\nNo checkpoint row (left alone): {}", missing.join(", ")));
    }
    Ok(ActionPlan {
        action: "pillows.move_checkpoint".into(),
        title: format!(
            "Move {}'s checkpoint to the log end (skip {skipped} changes)",
            pillow.name
        ),
        target: pillow.name.clone(),
        description,
        call,
        risk: Risk::High,
        verify: "reading the checkpoints back shows the new offsets".into(),
        timeout: cfg.timeout.get() * 4,
        op: Arc::new(PillowsOp::MoveCheckpoint(Box::new(MoveOp {
            pillow: pc.clone(),
            moves,
        }))),
        identity: String::new(),
    })
}

static STEP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The audit record of one host's restart command within a restart action.
fn step_plan(action: &str, c: &HostCommands, timeout: Duration) -> ActionPlan {
    let transport = if c.host == "local" {
        Transport::Local
    } else {
        Transport::Ssh { host: c.host.clone() }
    };
    ActionPlan {
        action: format!("{action}.step"),
        title: format!("supervisorctl restart on {}", c.host),
        target: format!("{}:{}", c.host, c.programs.join(",")),
        description: String::new(),
        call: shell_text(&c.restart),
        risk: Risk::Medium,
        verify: String::new(),
        timeout,
        op: Arc::new(CommandOp {
            transport,
            argv: c.restart.clone(),
            timeout,
        }),
        identity: String::new(),
    }
}

async fn run_on(ctx: &ActionCtx, host: &str, argv: &[String], timeout: Duration) -> Result<CommandOutput, String> {
    match ctx.backends.of::<opsdeck_hosts::Hosts>() {
        Some(ssh) => ssh.run(host, &Cmd::Argv(argv.to_vec()), timeout).await,
        None if host == "local" => run_argv(argv, timeout).await,
        None => Err(format!("no SSH transport is configured for host {host}")),
    }
}

/// Whether `status` output (supervisorctl's `name STATE ...` lines) shows every program RUNNING.
pub fn all_running(output: &str, programs: &[String]) -> bool {
    programs.iter().all(|prog| {
        output.lines().any(|l| {
            let mut words = l.split_whitespace();
            // Programs in a supervisor group are listed as `group:name`.
            let name_matches = words
                .next()
                .is_some_and(|w| w == prog || w.rsplit_once(':').is_some_and(|(_, n)| n == prog));
            name_matches && words.next() == Some("RUNNING")
        })
    })
}

impl Operation for PillowsOp {
    fn run<'a>(&'a self, ctx: &'a ActionCtx) -> BoxFuture<'a, Outcome> {
        Box::pin(run(self.clone(), ctx))
    }
}

pub async fn run(op: PillowsOp, ctx: &ActionCtx) -> Outcome {
    match op {
        PillowsOp::Restart(op) => restart(*op, ctx).await,
        PillowsOp::MoveCheckpoint(op) => move_checkpoint(*op, ctx).await,
    }
}

async fn restart(op: RestartOp, ctx: &ActionCtx) -> Outcome {
    for (i, c) in op.commands.iter().enumerate() {
        ctx.report(
            format!("restarting {} on {}", c.programs.join(", "), c.host),
            Some(i as f64 / (op.commands.len() as f64 * 3.0)),
        );
        // Each host's command is its own audit record (intent before it runs, then its outcome), so a
        // restart spread over hosts shows exactly which commands ran where.
        let step = step_plan(&op.action, c, op.call_timeout);
        let step_id = format!(
            "{}-step-{}",
            std::process::id(),
            STEP.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        if let Err(e) = ctx.audit.intent(&step_id, &step) {
            return Outcome::failed(format!("not run on {}: cannot write the audit log: {e}", c.host));
        }
        let result = match run_on(ctx, &c.host, &c.restart, op.call_timeout).await {
            Ok(out) if out.success() => Ok(out.last_line().to_string()),
            Ok(out) => Err(format!("restart on {} failed: {}", c.host, out.last_line())),
            Err(e) => Err(format!("restart on {} failed: {e}", c.host)),
        };
        let step_outcome = match &result {
            Ok(line) => Outcome::succeeded(format!("exit 0 {line}").trim_end().to_string()),
            Err(e) => Outcome::failed(e.clone()),
        };
        let _ = ctx.audit.outcome(&step_id, &step, &step_outcome);
        if let Err(e) = result {
            return Outcome::failed(e);
        }
    }
    let deadline = tokio::time::Instant::now() + op.verify_timeout;
    // 1. Every program RUNNING again (supervisor shows STARTING for startsecs first).
    for c in &op.commands {
        loop {
            ctx.report(
                format!("waiting for {} to be RUNNING", c.programs.join(", ")),
                Some(0.4),
            );
            let last = match run_on(ctx, &c.host, &c.status, op.call_timeout).await {
                Ok(out) if all_running(&out.stdout, &c.programs) => break,
                Ok(out) => out.last_line().to_string(),
                Err(e) => e,
            };
            if tokio::time::Instant::now() >= deadline || ctx.cancel.is_cancelled() {
                return Outcome::unverified(format!(
                    "restarted, but {} is not RUNNING on {} yet: {last}",
                    c.programs.join(", "),
                    c.host
                ));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    // 2. The lagging partitions the processes own advance.
    if op.watch.is_empty() && !op.lost.is_empty() {
        return Outcome::succeeded(format!(
            "restarted; RUNNING again; {} LOST partition(s) still need their checkpoint moved ({})",
            op.lost.len(),
            op.lost.join(", ")
        ));
    }
    if op.watch.is_empty() {
        return Outcome::succeeded("restarted; RUNNING again (no lagging partitions to watch)");
    }
    let Some(backend) = ctx.backends.of::<crate::Pillows>() else {
        return Outcome::unverified("restarted and RUNNING; cannot read offsets to see partitions advance");
    };
    loop {
        ctx.report(
            format!("RUNNING; waiting for {} partition(s) to advance", op.watch.len()),
            Some(0.7),
        );
        let last_error = match backend.read(std::slice::from_ref(&op.pillow)).await {
            Ok(readings) => {
                let parts = readings.into_iter().next().map(|r| r.result);
                match parts {
                    Some(Ok(parts)) => {
                        let stuck: Vec<String> = op
                            .watch
                            .iter()
                            .filter(|(t, p, before)| {
                                !parts.iter().any(|r| {
                                    &r.topic == t && r.partition == *p && r.committed.is_some_and(|c| c > *before)
                                })
                            })
                            .map(|(t, p, _)| format!("{t}:{p}"))
                            .collect();
                        if stuck.is_empty() {
                            return Outcome::succeeded(format!(
                                "restarted; RUNNING again and all {} lagging partition(s) advance",
                                op.watch.len()
                            ));
                        }
                        format!("not advancing yet: {}", stuck.join(", "))
                    }
                    Some(Err(e)) => e,
                    None => "pillow missing from the answer".into(),
                }
            }
            Err(e) => e.message,
        };
        if tokio::time::Instant::now() >= deadline || ctx.cancel.is_cancelled() {
            return Outcome::unverified(format!(
                "restarted and RUNNING, but partitions have not advanced within {} ({last_error}); checkpoints may be \
                 written only every N changes or 5 minutes",
                humantime::format_duration(op.verify_timeout)
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn move_checkpoint(op: MoveOp, ctx: &ActionCtx) -> Outcome {
    let Some(backend) = ctx.backends.of::<crate::Pillows>() else {
        return Outcome::failed("the pillows source is not connected");
    };
    let id = op.pillow.checkpoint().to_string();
    match op.pillow.kind() {
        CheckpointKind::Postgres => {
            let Some(store) = &backend.store else {
                return Outcome::failed("no checkpoint database configured");
            };
            ctx.report(
                format!("updating {} row(s) of {id} in one transaction", op.moves.len()),
                Some(0.3),
            );
            if let Err(e) = store.move_to(&id, &op.moves).await {
                return Outcome::failed(e);
            }
        }
        CheckpointKind::KafkaGroup => {
            ctx.report(format!("checking that group {id} has no members"), Some(0.1));
            let note = match backend.kafka.group_members(&id).await {
                Ok(Some(0)) => "",
                Ok(Some(n)) => {
                    return Outcome::failed(format!(
                        "refused: group {id} has {n} active member(s); stop its consumers first"
                    ));
                }
                Ok(None) => " (the broker cannot list members; it refuses commits to an active group itself)",
                Err(e) => return Outcome::failed(format!("refused: cannot check the group's members: {e}")),
            };
            let offsets = op.moves.iter().map(|(t, p, _, to)| (t.clone(), *p, *to)).collect();
            ctx.report(format!("committing log-end offsets for group {id}{note}"), Some(0.3));
            if let Err(e) = backend.kafka.commit(&id, offsets).await {
                // Kafka rejects a memberless commit to a group that has members.
                if e.contains("UnknownMemberId") || e.contains("IllegalGeneration") {
                    return Outcome::failed(format!(
                        "refused: group {id} has active members, stop its consumers first ({e})"
                    ));
                }
                return Outcome::failed(e);
            }
        }
    }
    ctx.report("reading the checkpoints back", Some(0.7));
    match backend.read(std::slice::from_ref(&op.pillow)).await {
        Ok(readings) => match readings.into_iter().next().map(|r| r.result) {
            Some(Ok(parts)) => {
                let wrong: Vec<String> = op
                    .moves
                    .iter()
                    .filter(|(t, p, _, to)| {
                        !parts
                            .iter()
                            .any(|r| &r.topic == t && r.partition == *p && r.committed.is_some_and(|c| c >= *to))
                    })
                    .map(|(t, p, _, to)| format!("{t}:{p} (wanted {to})"))
                    .collect();
                let skipped: i64 = op.moves.iter().map(|(_, _, from, to)| to - from.max(&0)).sum();
                if wrong.is_empty() {
                    Outcome::succeeded(format!(
                        "moved {} checkpoint(s) of {} to the log end; {skipped} changes skipped",
                        op.moves.len(),
                        op.pillow.name
                    ))
                } else {
                    Outcome::unverified(format!("written, but reading back shows {}", wrong.join(", ")))
                }
            }
            Some(Err(e)) => Outcome::unverified(format!("written; reading back failed: {e}")),
            None => Outcome::unverified("written; the pillow is missing from the read-back"),
        },
        Err(e) => Outcome::unverified(format!("written; reading back failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_is_a_word_of_its_own_and_no_shell_reads_the_command() {
        let programs = [
            "commcare-hq-prod-pillowtop-case-pillow-0".to_string(),
            "group:p-1".into(),
        ];
        let cmd = render_command("sudo -n supervisorctl restart {program}", &programs).unwrap();
        assert_eq!(
            cmd,
            [
                "sudo",
                "-n",
                "supervisorctl",
                "restart",
                "commcare-hq-prod-pillowtop-case-pillow-0",
                "group:p-1"
            ]
        );
        let cmd = render_command("supervisorctl -c '/etc/my sup.conf' status {program}", &programs[..1]).unwrap();
        assert_eq!(
            shell_text(&cmd),
            "supervisorctl -c '/etc/my sup.conf' status commcare-hq-prod-pillowtop-case-pillow-0"
        );
        // Shell syntax in the template is a word like any other: nothing runs it.
        let cmd = render_command("supervisorctl restart {program}; touch pwned", &programs[..1]).unwrap();
        assert_eq!(
            cmd[2..],
            ["commcare-hq-prod-pillowtop-case-pillow-0;", "touch", "pwned"]
        );
        for bad in ["odd name;rm", "-all", "$(id)"] {
            let e = render_command("supervisorctl restart {program}", &[bad.to_string()]).unwrap_err();
            assert!(e.contains("program name"), "{bad}: {e}");
        }
    }

    #[test]
    fn restarting_a_lost_pillow_promises_nothing_a_restart_cannot_do() {
        use crate::model::{Assignment, PartitionReading, PillowReading, PillowsPoll, PillowsState};
        use opsdeck_core::feed::FeedData;
        let cfg = PillowsConfig::default();
        let pc = PillowConfig {
            name: "xform-pillow".into(),
            checkpoint_id: Some("xform".into()),
            group: None,
            topics: vec!["form-sql".into()],
            processes: 1,
            dedicated_migration_process: false,
            hosts: vec!["local".into()],
            program: "xform-pillow-{n}".into(),
            log_file: None,
        };
        // Partition 0's checkpoint (3) is below the first retained offset (1000): LOST. Partition 1 lags.
        let reading = |committed: [i64; 2]| PillowsPoll {
            pillows: vec![PillowReading {
                name: pc.name.clone(),
                kind: CheckpointKind::Postgres,
                checkpoint: "xform".into(),
                assignment: Assignment {
                    processes: 1,
                    dedicated_migration_process: false,
                },
                processes: pc.process_refs(),
                result: Ok((0..2)
                    .map(|p| PartitionReading {
                        topic: "form-sql".into(),
                        partition: p,
                        committed: Some(committed[p as usize]),
                        log_start: Some(1_000),
                        log_end: Some(9_000),
                        last_modified: None,
                        doc_modification_time: None,
                    })
                    .collect()),
            }],
            settings: Default::default(),
        };
        let mut state = None;
        PillowsState::absorb(&mut state, reading([3, 4_000]), std::time::SystemTime::now());
        let pillow = &state.as_ref().unwrap().pillows[0];
        assert_eq!(pillow.partitions[0].status, PartitionStatus::Lost);
        let plan = plan_restart(&cfg, &SshConfig::default(), &pc, pillow, None).unwrap();
        assert!(
            plan.description
                .contains("1 partition(s) LOST their checkpoint (form-sql:0): it is below the first retained offset, so a restart does NOT recover them"),
            "{}",
            plan.description
        );
        assert!(plan.description.contains("move_checkpoint"), "{}", plan.description);
        assert!(
            plan.description
                .contains("1 lagging partition(s) owned by it should advance"),
            "only the partition that can advance is promised: {}",
            plan.description
        );
        let Some(PillowsOp::Restart(op)) = plan.op.downcast_ref::<PillowsOp>() else {
            panic!("a restart plan runs a restart")
        };
        assert_eq!(op.watch, vec![("form-sql".to_string(), 1, 4_000)]);
        // Every lagging partition lost: nothing is promised to advance.
        let mut state = None;
        PillowsState::absorb(&mut state, reading([3, 5]), std::time::SystemTime::now());
        let plan = plan_restart(&cfg, &SshConfig::default(), &pc, &state.unwrap().pillows[0], None).unwrap();
        assert!(!plan.description.contains("should advance"), "{}", plan.description);
        assert!(
            plan.verify.contains("no partition is expected to advance"),
            "{}",
            plan.verify
        );
    }

    #[test]
    fn running_means_every_program_says_running() {
        let out = "case-0   RUNNING   pid 12, uptime 0:00:12\ncase-1   STARTING  \npillows:case-2 RUNNING pid 3\n";
        assert!(all_running(out, &["case-0".into()]));
        assert!(all_running(out, &["case-2".into()]));
        assert!(!all_running(out, &["case-0".into(), "case-1".into()]));
        assert!(!all_running(out, &["case".into()]));
    }
}
