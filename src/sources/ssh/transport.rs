//! How commands reach a host: one multiplexed OpenSSH master per host (the `openssh` crate,
//! native-mux), or the machine opsdeck runs on (`local`).
//!
//! Rules kept here so nothing else has to: every command has a timeout; at most `max_sessions`
//! commands run at once per host (sshd's `MaxSessions` defaults to 10 channels per connection); a
//! dead master is dropped and reconnected with backoff; the host key is checked strictly against
//! known_hosts (`StrictHostKeyChecking=yes`, `BatchMode=yes`, never accept-new).

use crate::actions::command::CommandOutput;
use crate::actions::custom::shell_quote;
use crate::config::ssh::{HostConfig, SshConfig, TransportKind};
use openssh::{KnownHosts, Session, SessionBuilder};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

/// A command for a host. `Argv` words are each shell-quoted on the way to a remote shell and run
/// without any shell locally; `Script` is a shell script WE built, every variable part escaped with
/// [`shell_quote`] (never text from config or from a host pasted raw).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Argv(Vec<String>),
    Script(String),
}

impl Cmd {
    pub fn argv<I: IntoIterator<Item = S>, S: Into<String>>(words: I) -> Self {
        Cmd::Argv(words.into_iter().map(Into::into).collect())
    }

    /// The text a remote shell receives.
    pub fn to_shell(&self) -> String {
        match self {
            Cmd::Argv(words) => words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" "),
            Cmd::Script(s) => s.clone(),
        }
    }

    fn to_local(&self, path_prepend: &[PathBuf], kill_on_drop: bool) -> tokio::process::Command {
        let mut c = match self {
            Cmd::Argv(words) => {
                let mut c = tokio::process::Command::new(words.first().map(String::as_str).unwrap_or("true"));
                c.args(words.iter().skip(1));
                c
            }
            Cmd::Script(s) => {
                let mut c = tokio::process::Command::new("sh");
                c.arg("-c").arg(s);
                c
            }
        };
        if !path_prepend.is_empty() {
            let mut parts: Vec<PathBuf> = path_prepend.to_vec();
            if let Some(p) = std::env::var_os("PATH") {
                parts.extend(std::env::split_paths(&p));
            }
            if let Ok(joined) = std::env::join_paths(parts) {
                c.env("PATH", joined);
            }
        }
        c.kill_on_drop(kill_on_drop);
        c
    }
}

/// Turns an `openssh` error into one line with its cause (the cause carries ssh's own words:
/// "Host key verification failed", "Connection refused").
pub fn describe(e: &openssh::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let line = s.to_string();
        if !line.is_empty() && !text.contains(&line) {
            text.push_str(": ");
            text.push_str(line.trim());
        }
        source = s.source();
    }
    text
}

/// Connection state of one SSH host.
struct Master {
    session: Option<Arc<Session>>,
    failures: u32,
    /// No new connection attempt before this (backoff while the host is down).
    retry_at: Option<Instant>,
    last_error: Option<String>,
}

/// One host's way of running commands, shared by pollers, actions and tails.
pub struct HostTransport {
    pub name: String,
    pub kind: TransportKind,
    destination: String,
    builder: Option<SessionBuilder>,
    master: Mutex<Master>,
    permits: Arc<Semaphore>,
    /// Tails have their own slots: a screen full of tails must not starve the polls.
    tail_permits: Arc<Semaphore>,
    path_prepend: Vec<PathBuf>,
    pub command_timeout: Duration,
    connect_timeout: Duration,
}

impl std::fmt::Debug for HostTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostTransport")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("destination", &self.destination)
            .finish()
    }
}

/// Backoff after `failures` consecutive failed connects: 1 s, 2 s, 4 s ... capped at 60 s.
pub fn reconnect_backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

impl HostTransport {
    pub fn new(config: &SshConfig, host: &HostConfig, control_dir: &std::path::Path) -> Self {
        let builder = (host.transport == TransportKind::Ssh).then(|| {
            let mut b = SessionBuilder::default();
            b.known_hosts_check(KnownHosts::Strict)
                .connect_timeout(config.connect_timeout.get())
                .server_alive_interval(Duration::from_secs(15))
                .control_directory(control_dir);
            // Not clean_history_control_directory: it deletes the sockets of masters connecting right now.
            if let Some(k) = &config.known_hosts {
                b.user_known_hosts_file(expand_home(k));
            }
            if let Some(f) = &config.config_file {
                b.config_file(expand_home(f));
            }
            if let Some(u) = &host.user {
                b.user(u.clone());
            }
            if let Some(p) = host.port {
                b.port(p);
            }
            if let Some(k) = &host.identity_file {
                b.keyfile(expand_home(k));
            }
            if !host.jump.is_empty() {
                b.jump_hosts(&host.jump);
            }
            b
        });
        Self {
            name: host.name.clone(),
            kind: host.transport,
            destination: host.destination().to_string(),
            builder,
            master: Mutex::new(Master {
                session: None,
                failures: 0,
                retry_at: None,
                last_error: None,
            }),
            permits: Arc::new(Semaphore::new(config.max_sessions.max(1))),
            tail_permits: Arc::new(Semaphore::new(config.max_tails.max(1))),
            path_prepend: host.path_prepend.clone(),
            command_timeout: config.command_timeout.get(),
            connect_timeout: config.connect_timeout.get(),
        }
    }

    /// The host's master connection, connecting (once, shared) when there is none.
    async fn session(&self) -> Result<Arc<Session>, String> {
        let builder = self.builder.as_ref().ok_or("not an SSH host")?;
        let mut m = self.master.lock().await;
        if let Some(s) = &m.session {
            return Ok(s.clone());
        }
        if let Some(at) = m.retry_at
            && Instant::now() < at
        {
            let wait = at.saturating_duration_since(Instant::now());
            return Err(format!(
                "{} (next attempt in {}s)",
                m.last_error.clone().unwrap_or_else(|| "not connected".into()),
                wait.as_secs().max(1)
            ));
        }
        // ConnectTimeout bounds TCP only; a stuck jump host or key exchange needs its own limit.
        let limit = self.connect_timeout + Duration::from_secs(5);
        let result = match tokio::time::timeout(limit, builder.connect_mux(&self.destination)).await {
            Ok(Ok(s)) => Ok(Arc::new(s)),
            Ok(Err(e)) => Err(describe(&e)),
            Err(_) => Err(format!("connecting took longer than {}s", limit.as_secs())),
        };
        match result {
            Ok(s) => {
                tracing::info!(host = %self.name, "ssh master connected");
                m.session = Some(s.clone());
                m.failures = 0;
                m.retry_at = None;
                m.last_error = None;
                Ok(s)
            }
            Err(e) => {
                m.failures = m.failures.saturating_add(1);
                m.retry_at = Some(Instant::now() + reconnect_backoff(m.failures));
                m.last_error = Some(e.clone());
                tracing::warn!(host = %self.name, error = %e, "ssh connect failed");
                Err(e)
            }
        }
    }

    /// Drops a master that stopped working, so the next command reconnects.
    async fn forget(&self, dead: &Arc<Session>) {
        let mut m = self.master.lock().await;
        if m.session.as_ref().is_some_and(|s| Arc::ptr_eq(s, dead)) {
            tracing::warn!(host = %self.name, "ssh master lost; reconnecting on next use");
            if let Some(s) = m.session.take() {
                close_in_background(s);
            }
        }
    }

    /// After an ssh-level error: is the master still usable? If not, forget it (and say so).
    async fn check_after_error(&self, session: &Arc<Session>) -> bool {
        let ok = tokio::time::timeout(Duration::from_secs(5), session.check())
            .await
            .is_ok_and(|r| r.is_ok());
        if !ok {
            self.forget(session).await;
        }
        ok
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, String> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| "transport closed".to_string())
    }

    /// Runs `cmd` to completion within `timeout` (connect and queueing included).
    pub async fn run(&self, cmd: &Cmd, timeout: Duration) -> Result<CommandOutput, String> {
        match tokio::time::timeout(timeout, self.run_inner(cmd)).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "timed out after {} on {}",
                humantime::format_duration(timeout),
                self.name
            )),
        }
    }

    async fn run_inner(&self, cmd: &Cmd) -> Result<CommandOutput, String> {
        let _permit = self.permit().await?;
        match self.kind {
            TransportKind::Local => {
                let out = cmd
                    .to_local(&self.path_prepend, true)
                    .stdin(Stdio::null())
                    .output()
                    .await
                    .map_err(|e| format!("cannot run {}: {e}", cmd.to_shell()))?;
                Ok(output(out))
            }
            TransportKind::Ssh => {
                let mut retried = false;
                loop {
                    let session = self.session().await?;
                    let result = session
                        .raw_command(cmd.to_shell())
                        .stdin(openssh::Stdio::null())
                        .output()
                        .await;
                    match result {
                        Ok(out) => return Ok(output(out)),
                        // Remote exit 127 comes back as an error: still a finished command.
                        Err(openssh::Error::Remote(e)) => {
                            return Ok(CommandOutput {
                                status: Some(127),
                                stdout: String::new(),
                                stderr: format!("command not found on {}: {e}", self.name),
                            });
                        }
                        Err(e) => {
                            let text = describe(&e);
                            let alive = self.check_after_error(&session).await;
                            // The master was gone (its mux socket refused us, or it hung up at once):
                            // reconnect once right away rather than fail a whole poll. A master that
                            // died mid-command is rare and our commands verify their effect anyway.
                            if !alive
                                && !retried
                                && matches!(e, openssh::Error::SshMux(_) | openssh::Error::Disconnected)
                            {
                                retried = true;
                                tracing::info!(host = %self.name, error = %text, "master gone; reconnecting");
                                continue;
                            }
                            return Err(format!("{}: {text}", self.name));
                        }
                    }
                }
            }
        }
    }

    /// Starts a long-running command with piped stdin/stdout. A `tail` takes one of the host's tail
    /// slots (`ssh.max_tails`), anything else a command slot. Closing stdin must end a tail: run it
    /// under [`super::tail::watchdog`].
    pub async fn spawn(&self, cmd: &Cmd, tail: bool) -> Result<Streaming, String> {
        let permit = if tail {
            self.tail_permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| "transport closed".to_string())?
        } else {
            self.permit().await?
        };
        match self.kind {
            TransportKind::Local => {
                let mut child = cmd
                    // A tail's watchdog ends it when stdin closes (also when we are dropped);
                    // SIGKILL on drop would kill only the shell and orphan the tail.
                    .to_local(&self.path_prepend, !tail)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("cannot run {}: {e}", cmd.to_shell()))?;
                let stdin = child.stdin.take().map(|s| Box::new(s) as BoxWrite);
                let stdout = child.stdout.take().map(|s| Box::new(s) as BoxRead);
                let stderr = child.stderr.take().map(|s| Box::new(s) as BoxRead);
                Ok(Streaming {
                    stdin,
                    stdout,
                    stderr,
                    child: ChildKind::Local(child),
                    _permit: permit,
                })
            }
            TransportKind::Ssh => {
                let session = tokio::time::timeout(self.connect_timeout + Duration::from_secs(5), self.session())
                    .await
                    .map_err(|_| format!("connecting to {} timed out", self.name))??;
                let spawned = session
                    .clone()
                    .arc_raw_command(cmd.to_shell())
                    .stdin(openssh::Stdio::piped())
                    .stdout(openssh::Stdio::piped())
                    .stderr(openssh::Stdio::piped())
                    .spawn()
                    .await;
                match spawned {
                    Ok(mut child) => {
                        let stdin = child.stdin().take().map(|s| Box::new(s) as BoxWrite);
                        let stdout = child.stdout().take().map(|s| Box::new(s) as BoxRead);
                        let stderr = child.stderr().take().map(|s| Box::new(s) as BoxRead);
                        Ok(Streaming {
                            stdin,
                            stdout,
                            stderr,
                            child: ChildKind::Ssh(child),
                            _permit: permit,
                        })
                    }
                    Err(e) => {
                        let text = describe(&e);
                        self.check_after_error(&session).await;
                        Err(format!("{}: {text}", self.name))
                    }
                }
            }
        }
    }

    /// Takes the master out without waiting (for `Drop`); dropping it closes it with `ssh -O exit`.
    pub fn take_session(&self) -> Option<Arc<Session>> {
        self.master.try_lock().ok().and_then(|mut m| m.session.take())
    }

    /// Closes the master (the last user's drop would otherwise block in `ssh -O exit`).
    pub async fn close(&self) {
        let mut m = self.master.lock().await;
        if let Some(s) = m.session.take() {
            match Arc::try_unwrap(s) {
                Ok(s) => {
                    let _ = s.close().await;
                }
                Err(s) => close_in_background(s),
            }
        }
    }
}

fn close_in_background(s: Arc<Session>) {
    // Session's Drop runs `ssh -O exit` with a blocking std::process: keep it off the runtime threads.
    std::thread::spawn(move || drop(s));
}

fn output(out: std::process::Output) -> CommandOutput {
    CommandOutput {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub type BoxRead = Box<dyn tokio::io::AsyncRead + Send + Unpin>;
pub type BoxWrite = Box<dyn tokio::io::AsyncWrite + Send + Unpin>;

enum ChildKind {
    Local(tokio::process::Child),
    Ssh(openssh::Child<Arc<Session>>),
}

/// A running command with its pipes. Dropping stdin (closing it) is how a tail is told to stop.
pub struct Streaming {
    pub stdin: Option<BoxWrite>,
    pub stdout: Option<BoxRead>,
    pub stderr: Option<BoxRead>,
    child: ChildKind,
    _permit: OwnedSemaphorePermit,
}

impl Streaming {
    /// Closes stdin (the remote watchdog then kills the command) and lets go of the channel.
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        match self.child {
            ChildKind::Local(mut c) => {
                if tokio::time::timeout(Duration::from_secs(2), c.wait()).await.is_err() {
                    let _ = c.kill().await;
                }
            }
            ChildKind::Ssh(c) => {
                drop(self.stdout.take());
                drop(self.stderr.take());
                // Give the watchdog a moment to see EOF and report; then drop the channel either way.
                if tokio::time::timeout(Duration::from_secs(2), c.wait()).await.is_err() {
                    tracing::debug!("remote tail did not exit within 2s of stdin closing");
                }
            }
        }
    }
}

/// `~/x` → `$HOME/x` (ssh's own options expand `~`, ours come from a TOML file).
pub fn expand_home(p: &std::path::Path) -> PathBuf {
    match p.strip_prefix("~") {
        Ok(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| p.to_path_buf()),
        Err(_) => p.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_words_are_quoted_for_the_remote_shell() {
        let c = Cmd::argv(["ls", "-l", "a b", "$(id)", "x'y"]);
        assert_eq!(c.to_shell(), r#"ls -l 'a b' '$(id)' 'x'\''y'"#);
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(reconnect_backoff(1), Duration::from_secs(1));
        assert_eq!(reconnect_backoff(2), Duration::from_secs(2));
        assert_eq!(reconnect_backoff(4), Duration::from_secs(8));
        assert_eq!(reconnect_backoff(40), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn local_argv_runs_without_a_shell() {
        let cfg = SshConfig::default();
        let host: HostConfig = toml::from_str("name = \"me\"\ntransport = \"local\"").unwrap();
        let t = HostTransport::new(&cfg, &host, std::path::Path::new("/tmp"));
        let out = t
            .run(
                &Cmd::argv(["printf", "%s", "a; echo pwned $(id)"]),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        assert_eq!(out.stdout, "a; echo pwned $(id)");
    }
}
