//! Remediation. Every mutating action is an [`ActionPlan`] first; only the executor runs plans,
//! and only after confirmation (see `app` for the confirm flow, `executor` for the rest).

pub mod audit;
pub mod command;
pub mod custom;
pub mod elasticsearch;
pub mod executor;
pub mod hosts;
pub mod pillows;
pub mod plan;
pub mod queues;

pub use plan::{ActionPlan, Outcome, OutcomeResult, Risk};

use crate::sources::Backends;
use tokio::sync::mpsc;

/// What the executor runs for a plan. Each capability owns its variant.
#[derive(Debug, Clone)]
pub enum Operation {
    /// A shell command from a template (custom `[[actions]]`), locally or over SSH.
    Command(command::CommandOp),
    Pillows(pillows::PillowsOp),
    Elasticsearch(elasticsearch::EsOp),
    Queues(queues::QueuesOp),
    Hosts(hosts::HostsOp),
}

/// A running action's progress, shown in the status line and the audit pane.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub message: String,
    /// 0.0..=1.0 when the action can tell.
    pub fraction: Option<f64>,
}

/// What an operation may use while it runs.
pub struct ActionCtx {
    pub backends: Backends,
    pub progress: mpsc::UnboundedSender<Progress>,
    /// For multi-step procedures: each step is recorded as an action of its own.
    pub audit: audit::AuditLog,
    /// Set when the user stops the action (long procedures check it between steps).
    pub cancel: tokio_util::sync::CancellationToken,
}

impl ActionCtx {
    /// Reports progress; a closed channel (the UI went away) is not an error for the action.
    pub fn report(&self, message: impl Into<String>, fraction: Option<f64>) {
        let _ = self.progress.send(Progress {
            message: message.into(),
            fraction,
        });
    }
}

/// Runs one operation to its end (execution and verification). Never panics on a failed call.
pub async fn run_operation(op: Operation, ctx: &ActionCtx) -> Outcome {
    match op {
        Operation::Command(op) => command::run(op, ctx).await,
        Operation::Pillows(op) => pillows::run(op, ctx).await,
        Operation::Elasticsearch(op) => elasticsearch::run(op, ctx).await,
        Operation::Queues(op) => queues::run(op, ctx).await,
        Operation::Hosts(op) => hosts::run(op, ctx).await,
    }
}
