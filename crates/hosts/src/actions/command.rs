//! A custom action's command as an operation: its argument vector run locally (no shell in between)
//! or on a host over SSH (the words quoted once for the remote shell). The template arrives here as
//! `sh -c SCRIPT opsdeck VALUE…` (see `opsdeck_core::exec::script`): its values are arguments, never script.

use crate::Hosts;
use futures::future::BoxFuture;
use opsdeck_core::action::{ActionCtx, Operation, Outcome};
use opsdeck_core::exec::{Cmd, run_argv};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// On the machine opsdeck runs on.
    Local,
    /// On a configured host, through the SSH transport.
    Ssh { host: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOp {
    pub transport: Transport,
    /// The words to run: the program, then its arguments, each exactly as it reaches the program.
    pub argv: Vec<String>,
    pub timeout: Duration,
}

impl Operation for CommandOp {
    fn run<'a>(&'a self, ctx: &'a ActionCtx) -> BoxFuture<'a, Outcome> {
        Box::pin(run(self.clone(), ctx))
    }
}

async fn run(op: CommandOp, ctx: &ActionCtx) -> Outcome {
    ctx.report(format!("running {}", Cmd::Argv(op.argv.clone()).to_shell()), None);
    let result = match &op.transport {
        Transport::Local => run_argv(&op.argv, op.timeout).await,
        Transport::Ssh { host } => match ctx.backends.of::<Hosts>() {
            Some(ssh) => ssh.run(host, &Cmd::Argv(op.argv), op.timeout).await,
            None => Err(format!("no SSH transport is configured for host {host}")),
        },
    };
    match result {
        Ok(out) if out.success() => Outcome::succeeded(format!("exit 0 {}", out.last_line()).trim_end().to_string()),
        Ok(out) => Outcome::failed(match out.status {
            Some(code) => format!("exit {code}: {}", out.last_line()),
            None => format!("killed by a signal: {}", out.last_line()),
        }),
        Err(e) => Outcome::failed(e),
    }
}
