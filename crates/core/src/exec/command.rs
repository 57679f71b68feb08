//! Running a local process to its end: its whole process group killed at the timeout, its output
//! kept up to a cap ([`super::output`]). No shell in between: the words are the argv.

use std::process::Stdio;
use std::time::Duration;

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

/// A local command's process group, killed whole when dropped while armed. A shell or `timeout`
/// starts children of its own; killing only the first process (`kill_on_drop`) would orphan them.
/// Drop it before the `Child`: tokio reaps a dropped child in the background, and the group's id
/// must not be signalled once its processes may be gone and the id reused.
pub struct ProcessGroup(Option<i32>);

impl ProcessGroup {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(command: &mut tokio::process::Command) -> std::io::Result<(ProcessGroup, tokio::process::Child)> {
        let child = command.process_group(0).spawn()?;
        let group = ProcessGroup(child.id().and_then(|id| i32::try_from(id).ok()));
        Ok((group, child))
    }

    /// The leader was seen to exit: from here on the group is left alone.
    pub fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            // SAFETY: killpg only sends a signal. We are armed, so we never saw the leader exit and
            // our `Child` (dropped after us) has not been reaped: the id still names our group.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }
}

/// Runs `command` on this machine to completion within `timeout`; on timeout (or when the caller
/// stops waiting) its whole process group is killed.
pub async fn run_process(mut command: tokio::process::Command, timeout: Duration) -> Result<CommandOutput, String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (mut group, mut child) = ProcessGroup::spawn(&mut command)
        .map_err(|e| format!("cannot start {}: {e}", command.as_std().get_program().to_string_lossy()))?;
    // Output kept up to a cap (the rest read and dropped): a flood costs time, not memory.
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let wait = async {
        let (out, err) = tokio::try_join!(
            super::output::read_capped(stdout, super::output::STDOUT_CAP),
            super::output::read_capped(stderr, super::output::STDERR_CAP)
        )?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>(super::output::output(status.code(), out, err))
    };
    tokio::pin!(wait);
    match tokio::time::timeout(timeout, &mut wait).await {
        Err(_) => {
            // Kill while the child is still unreaped inside `wait`.
            drop(group);
            Err(format!("timed out after {}", humantime::format_duration(timeout)))
        }
        Ok(Ok(out)) => {
            group.disarm();
            Ok(out)
        }
        Ok(Err(e)) => {
            drop(group);
            Err(format!("command failed to run: {e}"))
        }
    }
}

/// Runs a fixed `script` (no value pasted into it) with `sh -c` on this machine, killed (with
/// everything it started) at `timeout`.
pub async fn run_local(script: &str, timeout: Duration) -> Result<CommandOutput, String> {
    run_argv(&["sh".to_string(), "-c".into(), script.into()], timeout).await
}

/// Runs `argv` on this machine without a shell, killed (with everything it started) at `timeout`.
pub async fn run_argv(argv: &[String], timeout: Duration) -> Result<CommandOutput, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let mut command = tokio::process::Command::new(program);
    command.args(args);
    run_process(command, timeout).await
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
    async fn local_command_is_killed_at_its_timeout_with_what_it_started() {
        assert!(
            std::path::Path::new("/proc/self/stat").exists(),
            "this test reads /proc"
        );
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        // The shell starts a child and waits: killing only the shell would leave the sleep behind.
        let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
        let err = run_local(&script, Duration::from_millis(500)).await.unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
        let gone = |pid: &str| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.split_whitespace().nth(2) == Some("Z"))
                .unwrap_or(true)
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !gone(&pid) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(gone(&pid), "the shell's child {pid} outlived the timeout");
    }
}
