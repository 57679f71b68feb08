//! Remediation actions for pillows.

use super::{ActionCtx, Outcome};

/// The pillows operations the executor can run.
#[derive(Debug, Clone)]
pub enum PillowsOp {}

pub async fn run(op: PillowsOp, _ctx: &ActionCtx) -> Outcome {
    match op {}
}
