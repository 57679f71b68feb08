//! Shell commands run from a template: locally (`sh -c`) or on a host over SSH.
//! The template is the config author's; every substituted value was shell-escaped by `custom`.

use super::{ActionCtx, Outcome};
use std::process::Stdio;
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
    /// The full command line, values already escaped.
    pub command: String,
    pub timeout: Duration,
}

/// Output of a finished command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CommandOutput {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// The last non-empty line of stderr, else of stdout: what a person wants to see in a toast.
    pub fn last_line(&self) -> &str {
        [&self.stderr, &self.stdout]
            .into_iter()
            .find_map(|s| s.lines().rev().find(|l| !l.trim().is_empty()))
            .unwrap_or("")
            .trim()
    }
}

/// Runs `command` with `sh -c` on this machine, killed at `timeout`.
pub async fn run_local(command: &str, timeout: Duration) -> Result<CommandOutput, String> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(format!("timed out after {}", humantime::format_duration(timeout))),
        Ok(Err(e)) => Err(format!("command failed to run: {e}")),
        Ok(Ok(out)) => Ok(CommandOutput {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }),
    }
}

pub async fn run(op: CommandOp, ctx: &ActionCtx) -> Outcome {
    ctx.report(format!("running {}", op.command), None);
    let result = match &op.transport {
        Transport::Local => run_local(&op.command, op.timeout).await,
        Transport::Ssh { host } => match &ctx.backends.ssh {
            Some(ssh) => ssh.run_command(host, &op.command, op.timeout).await,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_command_reports_status_and_output() {
        let out = run_local("echo hi; echo oops >&2; exit 3", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(out.status, Some(3));
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(out.last_line(), "oops");
    }

    #[tokio::test]
    async fn local_command_is_killed_at_its_timeout() {
        let err = run_local("sleep 30", Duration::from_millis(200)).await.unwrap_err();
        assert!(err.contains("timed out"), "{err}");
    }
}
