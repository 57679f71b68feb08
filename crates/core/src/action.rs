//! The vocabulary of actions every pane plans in. Every mutating action is an [`ActionPlan`] first:
//! what, where, exactly how, and how we will know it worked; only the executor runs plans, and only
//! after confirmation. A plan's [`Operation`] is its pane's own type behind a trait object.

use crate::audit::{AuditEntry, AuditLog, AuditPhase};
use crate::pane::PaneBackends;
use crate::time::rfc3339;
use futures::future::BoxFuture;
use serde::Serialize;
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Safe to repeat; confirmed with a yes/no dialog.
    Low,
    /// Changes the fleet; confirmed with a yes/no dialog.
    Medium,
    /// Loses data or capacity if wrong; the target's name must be typed.
    High,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        })
    }
}

/// Everything the confirm dialog shows and the executor runs.
#[derive(Debug, Clone)]
pub struct ActionPlan {
    /// Stable id of the kind of action, e.g. `elasticsearch.drain_node`.
    pub action: String,
    /// Short title for the dialog and toasts, e.g. "Drain node es-data-3".
    pub title: String,
    /// What the action acts on; single-flight keys on it, and high risk asks for it to be typed.
    pub target: String,
    /// What will happen, in words (may span lines).
    pub description: String,
    /// The exact command or API call, shown verbatim and written to the audit log.
    pub call: String,
    pub risk: Risk,
    /// How success is verified afterwards.
    pub verify: String,
    pub timeout: Duration,
    /// What the executor runs (one pane's operation type behind the trait).
    pub op: Arc<dyn Operation>,
    /// What the target resolved to when this plan was made (a node id behind a name, a queue's URL
    /// and creation time, a process set, a file list): a plan is run only while its target still
    /// resolves to the same thing. Empty when nothing was recorded.
    pub identity: String,
}

impl ActionPlan {
    /// This plan, bound to what its target resolves to now.
    pub fn bound_to(mut self, identity: impl Into<String>) -> Self {
        self.identity = identity.into();
        self
    }

    /// High-risk plans need the target's name typed before they run.
    pub fn needs_typed_confirmation(&self) -> bool {
        self.risk == Risk::High
    }
}

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: OutcomeResult,
    /// What happened, in words.
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeResult {
    /// Ran and its effect was verified.
    Succeeded,
    /// Ran, but verification did not confirm the effect (yet).
    Unverified,
    /// Did not run, or ran and failed.
    Failed,
    /// Stopped by the user (`ctrl-x`) before it finished; the summary says what it left changed.
    Stopped,
}

impl OutcomeResult {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeResult::Succeeded => "succeeded",
            OutcomeResult::Unverified => "unverified",
            OutcomeResult::Failed => "failed",
            OutcomeResult::Stopped => "stopped",
        }
    }
}

impl Outcome {
    pub fn succeeded(summary: impl Into<String>) -> Self {
        Self {
            result: OutcomeResult::Succeeded,
            summary: summary.into(),
        }
    }
    pub fn unverified(summary: impl Into<String>) -> Self {
        Self {
            result: OutcomeResult::Unverified,
            summary: summary.into(),
        }
    }
    pub fn failed(summary: impl Into<String>) -> Self {
        Self {
            result: OutcomeResult::Failed,
            summary: summary.into(),
        }
    }
    pub fn stopped(summary: impl Into<String>) -> Self {
        Self {
            result: OutcomeResult::Stopped,
            summary: summary.into(),
        }
    }
}

/// What the executor runs for a plan. Each pane implements it for its own operations.
pub trait Operation: fmt::Debug + Send + Sync + Any {
    /// Runs to its end (execution and verification). Never panics on a failed call.
    fn run<'a>(&'a self, ctx: &'a ActionCtx) -> BoxFuture<'a, Outcome>;

    /// What it may leave changed if it stops half-way, as it was before it ran (a procedure's
    /// cluster settings): the quit dialog asks its pane what of that is still in force.
    fn touches(&self) -> Option<Touched> {
        None
    }
}

impl dyn Operation {
    /// The operation as its concrete type (for the pane that made it, and for tests).
    pub fn downcast_ref<T: Operation>(&self) -> Option<&T> {
        (self as &dyn Any).downcast_ref()
    }
}

/// What an operation may leave changed, for its pane to compare with what it polls.
#[derive(Debug, Clone)]
pub struct Touched {
    pub pane: crate::pane::PaneId,
    /// The values before the operation, in the pane's own type.
    pub before: Arc<dyn Any + Send + Sync>,
}

/// Runs one operation to its end (execution and verification). Never panics on a failed call.
pub async fn run_operation(op: Arc<dyn Operation>, ctx: &ActionCtx) -> Outcome {
    op.run(ctx).await
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
    /// Every pane's connected clients, by pane (`ctx.backends.of::<Hosts>()`).
    pub backends: Arc<dyn PaneBackends>,
    pub progress: mpsc::UnboundedSender<Progress>,
    /// For multi-step procedures: each step is recorded as an action of its own.
    pub audit: AuditLog,
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

/// Plans and outcomes in the audit log (here, so the log itself knows nothing of actions).
impl AuditLog {
    fn entry(&self, phase: AuditPhase, action_id: &str, plan: &ActionPlan, result: &str, detail: &str) -> AuditEntry {
        AuditEntry {
            time: rfc3339(SystemTime::now()),
            phase,
            action_id: action_id.to_string(),
            user: self.identity.user.clone(),
            host: self.identity.host.clone(),
            action: plan.action.clone(),
            target: plan.target.clone(),
            call: plan.call.clone(),
            risk: plan.risk.to_string(),
            result: result.to_string(),
            detail: detail.to_string(),
        }
    }

    /// Records that `plan` was confirmed and is about to run. The action must not start if this fails.
    pub fn intent(&self, action_id: &str, plan: &ActionPlan) -> std::io::Result<AuditEntry> {
        let entry = self.entry(AuditPhase::Intent, action_id, plan, "confirmed", "");
        self.append(&entry)?;
        Ok(entry)
    }

    /// Records how `plan` ended.
    pub fn outcome(&self, action_id: &str, plan: &ActionPlan, outcome: &Outcome) -> std::io::Result<AuditEntry> {
        let entry = self.entry(
            AuditPhase::Outcome,
            action_id,
            plan,
            outcome.result.as_str(),
            &outcome.summary,
        );
        self.append(&entry)?;
        Ok(entry)
    }
}
