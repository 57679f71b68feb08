//! Runs confirmed plans off the event loop: audit intent (fsync'd) → operation with timeout →
//! audit outcome → result back to the app.

use crate::sources::Backends;
use opsdeck_core::action::{ActionCtx, ActionPlan, Outcome, OutcomeResult, Progress, run_operation};
use opsdeck_core::audit::{AuditEntry, AuditLog};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a running action tells the app.
#[derive(Debug, Clone)]
pub enum ActionEvent {
    /// An audit line was written (the intent, or the outcome).
    Audited(AuditEntry),
    /// The intent is on disk and the action is running (an action whose intent could not be
    /// written never sends this: it ends `Finished` without having started).
    Started {
        id: u64,
    },
    Progress {
        id: u64,
        progress: Progress,
    },
    Finished {
        id: u64,
        outcome: Outcome,
    },
}

/// Spawns the plan. The caller (the app's update) has already checked confirmation, read-only mode
/// and single-flight; this enforces the audit-before-run rule and the timeout. The task is
/// supervised: a panic in it ends the action `failed` ("internal error — see the log"), recorded
/// in the audit log, and the console goes on.
pub fn spawn(
    id: u64,
    plan: ActionPlan,
    backends: Backends,
    audit: AuditLog,
    events: mpsc::UnboundedSender<ActionEvent>,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        let run = execute(id, plan.clone(), backends, audit.clone(), events.clone(), cancel);
        let outcome = match crate::supervise::catch("action", run).await {
            Ok(outcome) => outcome,
            Err(crate::supervise::Panicked) => {
                let outcome = Outcome::failed(crate::supervise::INTERNAL_ERROR);
                let (written, outcome_line) = (outcome.clone(), action_id(id));
                let line = tokio::task::spawn_blocking(move || audit.outcome(&outcome_line, &plan, &written)).await;
                if let Ok(Ok(mut entry)) = line {
                    entry.clean();
                    let _ = events.send(ActionEvent::Audited(entry));
                }
                outcome
            }
        };
        let _ = events.send(ActionEvent::Finished { id, outcome });
    });
}

/// The id tying an action's audit lines together (unique across opsdeck processes on a host).
fn action_id(id: u64) -> String {
    format!("{}-{id}", std::process::id())
}

/// Runs one plan to its end; the returned outcome has already been written to the audit log.
pub async fn execute(
    id: u64,
    plan: ActionPlan,
    backends: Backends,
    audit: AuditLog,
    events: mpsc::UnboundedSender<ActionEvent>,
    cancel: CancellationToken,
) -> Outcome {
    let action_id = action_id(id);
    // Every line this action writes (its own and its procedure's sub-steps) reaches the audit pane.
    let audit = {
        let events = events.clone();
        audit.with_listener(move |entry| {
            let mut shown = entry.clone();
            shown.clean();
            let _ = events.send(ActionEvent::Audited(shown));
        })
    };
    // fsync takes milliseconds: keep it off the async workers.
    let intent = {
        let (audit, id, plan) = (audit.clone(), action_id.clone(), plan.clone());
        tokio::task::spawn_blocking(move || audit.intent(&id, &plan))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
    };
    match intent {
        Ok(_) => {
            let _ = events.send(ActionEvent::Started { id });
        }
        Err(e) => {
            // Nothing ran: an action we cannot record is an action we do not take.
            return Outcome::failed(format!(
                "not run: cannot write the audit log {}: {e}",
                audit.path().display()
            ));
        }
    }
    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel();
    let forward = {
        let events = events.clone();
        tokio::spawn(async move {
            while let Some(progress) = progress_rx.recv().await {
                let _ = events.send(ActionEvent::Progress { id, progress });
            }
        })
    };
    let refusal = backends.no_peers;
    let ctx = ActionCtx {
        backends: std::sync::Arc::new(backends),
        progress: progress_tx,
        audit: audit.clone(),
        cancel: cancel.clone(),
    };
    let outcome = match refusal {
        Some(why) => Outcome::failed(why),
        None => match tokio::time::timeout(plan.timeout, run_operation(plan.op.clone(), &ctx)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::failed(format!(
                "gave up after {}; the call may still complete on the far side: check before retrying",
                humantime::format_duration(plan.timeout)
            )),
        },
    };
    drop(ctx);
    // What the user stopped did not fail: its summary says where it stopped and what it left.
    let outcome = match outcome.result {
        OutcomeResult::Failed if cancel.is_cancelled() => Outcome {
            result: OutcomeResult::Stopped,
            ..outcome
        },
        _ => outcome,
    };
    let _ = forward.await;
    let written = {
        let (audit, outcome) = (audit.clone(), outcome.clone());
        tokio::task::spawn_blocking(move || audit.outcome(&action_id, &plan, &outcome))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
    };
    match written {
        Ok(_) => outcome,
        Err(e) => Outcome {
            summary: format!("{} (and the audit outcome could not be written: {e})", outcome.summary),
            ..outcome
        },
    }
}
