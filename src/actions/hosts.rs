//! Remediation actions for hosts.

use super::{ActionCtx, Outcome};

/// The hosts operations the executor can run.
#[derive(Debug, Clone)]
pub enum HostsOp {}

pub async fn run(op: HostsOp, _ctx: &ActionCtx) -> Outcome {
    match op {}
}
