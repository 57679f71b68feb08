//! Remediation actions for elasticsearch.

use super::{ActionCtx, Outcome};

/// The elasticsearch operations the executor can run.
#[derive(Debug, Clone)]
pub enum EsOp {}

pub async fn run(op: EsOp, _ctx: &ActionCtx) -> Outcome {
    match op {}
}
