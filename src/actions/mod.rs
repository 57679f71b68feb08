//! Remediation, per pane: plans (pure functions over the last polled state) and the operations that
//! carry them out. Every mutating action is an `ActionPlan` first; only the executor runs plans, and
//! only after confirmation (see `app` for the confirm flow, `executor` for the rest).

pub mod custom;
pub mod executor;
mod revert;
