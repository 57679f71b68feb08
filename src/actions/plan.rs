//! An action, fully resolved before anyone confirms it: what, where, exactly how, and how we will know it worked.

use super::Operation;
pub use opsdeck_core::action::Risk;
use serde::Serialize;
use std::time::Duration;

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
    pub op: Operation,
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
