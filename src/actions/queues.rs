//! Remediation actions for queues.

use super::{ActionCtx, Outcome};

/// The queues operations the executor can run.
#[derive(Debug, Clone)]
pub enum QueuesOp {}

pub async fn run(op: QueuesOp, _ctx: &ActionCtx) -> Outcome {
    match op {}
}
