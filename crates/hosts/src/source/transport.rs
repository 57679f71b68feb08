//! How commands reach a host: one multiplexed OpenSSH master per host (the `openssh` crate,
//! native-mux), or the machine opsdeck runs on (`local`).
//!
//! Rules kept here so nothing else has to: every command has a timeout; at most `max_sessions`
//! commands run at once per host (sshd's `MaxSessions` defaults to 10 channels per connection); a
//! dead master is dropped and reconnected with backoff; the host key is checked strictly against
//! known_hosts (`StrictHostKeyChecking=yes`, `BatchMode=yes`, never accept-new).

use crate::config::{HostConfig, SshConfig, TransportKind};
use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder};
use opsdeck_core::exec::{Cmd, CommandOutput, quote_words};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

/// The words that really run for `cmd`. Always the C locale: ssh forwards the user's LANG, and a
/// German `df` header ("Dateisystem") must not break the parser. With a `limit`, `timeout` on the
/// host ends the command there too, a little before we give up on it: a channel we merely abandon
/// leaves the command running and holding one of sshd's sessions.
pub fn bounded(cmd: &Cmd, limit: Option<Duration>) -> Vec<String> {
    let mut words: Vec<String> = vec!["env".into(), "LC_ALL=C".into()];
    if let Some(limit) = limit {
        let secs = limit.saturating_sub(REMOTE_GRACE).as_secs().max(1);
        words.extend(["timeout".into(), "-k".into(), "2".into(), secs.to_string()]);
    }
    words.extend(cmd.words().iter().cloned());
    words
}

/// How much earlier than us a command's own `timeout` fires, so its exit (124) reaches us first.
const REMOTE_GRACE: Duration = Duration::from_secs(1);

/// How long an SSH master with no command or tail through it stays up (ssh's ControlPersist).
const MASTER_IDLE_LIMIT: std::num::NonZeroUsize = std::num::NonZeroUsize::new(600).expect("not zero");

/// Tails at once on this machine (the local transport): sshd's session limit does not apply.
const LOCAL_TAILS: usize = 64;

/// `timeout`'s exit status when it stopped the command, and when it had to kill it.
const TIMED_OUT: i32 = 124;
const KILLED: i32 = 137;

/// A local command for `words`, with `path_prepend` in front of PATH.
fn local_command(words: &[String], path_prepend: &[PathBuf]) -> tokio::process::Command {
    let program = words.first().map(String::as_str).unwrap_or("true");
    if path_prepend.is_empty() {
        let mut c = tokio::process::Command::new(program);
        c.args(words.iter().skip(1));
        return c;
    }
    let mut parts: Vec<PathBuf> = path_prepend.to_vec();
    if let Some(p) = std::env::var_os("PATH") {
        parts.extend(std::env::split_paths(&p));
    }
    // Found here rather than by the child: a command whose environment changes PATH and whose
    // program is a bare name is started by fork and exec (copying the console's page tables, most
    // of the demo's idle CPU), one whose program is a path by posix_spawn.
    let mut c = match find_program(program, &parts) {
        Some(path) => {
            let mut c = tokio::process::Command::new(path);
            c.arg0(program);
            c
        }
        None => tokio::process::Command::new(program),
    };
    c.args(words.iter().skip(1));
    if let Ok(joined) = std::env::join_paths(parts) {
        c.env("PATH", joined);
    }
    c
}

/// Where `program` is found on `path` (the first executable file of that name), as `execvp` finds
/// it; a name with a `/` is not looked up.
fn find_program(program: &str, path: &[PathBuf]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.is_empty() || program.contains('/') {
        return None;
    }
    path.iter().map(|dir| dir.join(program)).find(|candidate| {
        std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
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
    tail_limit: usize,
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
    /// `ssh_config` is the file opsdeck writes ([`ssh_config_text`]); `None` only for local hosts.
    pub fn new(
        config: &SshConfig,
        host: &HostConfig,
        control_dir: &std::path::Path,
        ssh_config: Option<&std::path::Path>,
    ) -> Self {
        let builder = (host.transport == TransportKind::Ssh).then(|| {
            let mut b = SessionBuilder::default();
            b.known_hosts_check(KnownHosts::Strict)
                .connect_timeout(config.connect_timeout.get())
                .server_alive_interval(Duration::from_secs(15))
                // Not forever (the crate's default): a console that ends without closing its masters
                // (killed, or ended from a stuck loop) would leave authenticated sockets to every host
                // behind for good. Polls and tails keep a master busy; an idle one is reconnected.
                .control_persist(ControlPersist::IdleFor(MASTER_IDLE_LIMIT))
                .control_directory(control_dir);
            // Not clean_history_control_directory: it deletes the sockets of masters connecting right now.
            if let Some(k) = &config.known_hosts {
                b.user_known_hosts_file(expand_home(k));
            }
            if let Some(f) = ssh_config {
                b.config_file(f);
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
        let tail_limit = match host.transport {
            TransportKind::Ssh => config.max_tails.max(1),
            // No sshd session limit here; enough for every log on a screen.
            TransportKind::Local => LOCAL_TAILS,
        };
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
            tail_permits: Arc::new(Semaphore::new(tail_limit)),
            tail_limit,
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

    fn timed_out(&self, timeout: Duration) -> String {
        format!(
            "timed out after {} on {}",
            humantime::format_duration(timeout),
            self.name
        )
    }

    /// Runs `cmd` to completion. Waiting for a free session and running each get `timeout`;
    /// connecting has its own limit (`connect_timeout`), so a slow login is never cut off half-way
    /// (it would leave no error, no backoff and an orphaned ssh). The command is also bounded on the
    /// host itself ([`bounded`]).
    pub async fn run(&self, cmd: &Cmd, timeout: Duration) -> Result<CommandOutput, String> {
        let _permit = tokio::time::timeout(timeout, self.permit()).await.map_err(|_| {
            format!(
                "no free session on {} within {}",
                self.name,
                humantime::format_duration(timeout)
            )
        })??;
        let words = bounded(cmd, Some(timeout));
        let started = Instant::now();
        let out = match self.kind {
            TransportKind::Local => opsdeck_core::exec::run_process(local_command(&words, &self.path_prepend), timeout)
                .await
                .map_err(|e| format!("{e} on {}", self.name))?,
            TransportKind::Ssh => self.run_remote(&quote_words(&words), timeout).await?,
        };
        // `timeout` stopped it (124, or 137 when it had to KILL): unless the command itself exited
        // with that status well before the limit.
        let near_limit = started.elapsed() + REMOTE_GRACE * 2 >= timeout;
        if near_limit && matches!(out.status, Some(TIMED_OUT | KILLED)) {
            return Err(self.timed_out(timeout));
        }
        Ok(out)
    }

    async fn run_remote(&self, text: &str, timeout: Duration) -> Result<CommandOutput, String> {
        let mut retried = false;
        loop {
            let session = self.session().await?;
            let result = tokio::time::timeout(timeout, bounded_output(&session, text))
                .await
                .map_err(|_| self.timed_out(timeout))?;
            match result {
                Ok(out) => return Ok(out),
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
                    if !alive && !retried && matches!(e, openssh::Error::SshMux(_) | openssh::Error::Disconnected) {
                        retried = true;
                        tracing::info!(host = %self.name, error = %text, "master gone; reconnecting");
                        continue;
                    }
                    return Err(format!("{}: {text}", self.name));
                }
            }
        }
    }

    /// Whether a tail could start now without waiting for a free tail slot (`ssh.max_tails`).
    pub fn tail_slot_free(&self) -> bool {
        self.tail_permits.available_permits() > 0
    }

    /// Tails at once on this host.
    pub fn tail_limit(&self) -> usize {
        self.tail_limit
    }

    /// Starts a long-running command with piped stdin/stdout (in the C locale, see [`bounded`]).
    /// A `long_running` stream (a tail, a du scan) takes one of the host's tail slots
    /// (`ssh.max_tails`), so it never holds a slot the polls need; anything else a command slot.
    /// Closing stdin must end it: run it under [`super::tail::watchdog`].
    pub async fn spawn(&self, cmd: &Cmd, long_running: bool) -> Result<Streaming, String> {
        let permit = if long_running {
            self.tail_permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| "transport closed".to_string())?
        } else {
            self.permit().await?
        };
        let words = bounded(cmd, None);
        match self.kind {
            TransportKind::Local => {
                let mut command = local_command(&words, &self.path_prepend);
                command
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let (group, mut child) = opsdeck_core::exec::ProcessGroup::spawn(&mut command)
                    .map_err(|e| format!("cannot run {}: {e}", quote_words(&words)))?;
                let stdin = child.stdin.take().map(|s| Box::new(s) as BoxWrite);
                let stdout = child.stdout.take().map(|s| Box::new(s) as BoxRead);
                let stderr = child.stderr.take().map(|s| Box::new(s) as BoxRead);
                Ok(Streaming {
                    stdin,
                    stdout,
                    stderr,
                    child: ChildKind::Local(group, child),
                    _permit: permit,
                })
            }
            TransportKind::Ssh => {
                let session = tokio::time::timeout(self.connect_timeout + Duration::from_secs(5), self.session())
                    .await
                    .map_err(|_| format!("connecting to {} timed out", self.name))??;
                // Opening the channel is one round trip; a master that stopped answering must not
                // leave the tail "connecting" for ever.
                let spawned = tokio::time::timeout(
                    self.connect_timeout,
                    session
                        .clone()
                        .arc_raw_command(quote_words(&words))
                        .stdin(openssh::Stdio::piped())
                        .stdout(openssh::Stdio::piped())
                        .stderr(openssh::Stdio::piped())
                        .spawn(),
                )
                .await
                .map_err(|_| format!("{}: opening a channel timed out", self.name))?;
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

/// Runs `text` on the host; its output is kept up to a cap (see `actions::output`), the rest
/// read and dropped so the remote side never blocks on a full channel.
async fn bounded_output(session: &Session, text: &str) -> Result<CommandOutput, openssh::Error> {
    use opsdeck_core::exec::output::{STDERR_CAP, STDOUT_CAP, output, read_capped};
    let mut child = session
        .raw_command(text)
        .stdin(openssh::Stdio::null())
        .stdout(openssh::Stdio::piped())
        .stderr(openssh::Stdio::piped())
        .spawn()
        .await?;
    let (stdout, stderr) = (child.stdout().take(), child.stderr().take());
    let (out, err) = tokio::try_join!(read_capped(stdout, STDOUT_CAP), read_capped(stderr, STDERR_CAP))
        .map_err(openssh::Error::ChildIo)?;
    let status = child.wait().await?;
    Ok(output(status.code(), out, err))
}

pub type BoxRead = Box<dyn tokio::io::AsyncRead + Send + Unpin>;
pub type BoxWrite = Box<dyn tokio::io::AsyncWrite + Send + Unpin>;

enum ChildKind {
    /// The group first: it is dropped (killed) before the child can be reaped.
    Local(opsdeck_core::exec::ProcessGroup, tokio::process::Child),
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
    /// Returns the command's exit code when it exited (a command that ended by itself — its output
    /// ended — exits with its own status).
    pub async fn stop(mut self) -> Option<i32> {
        drop(self.stdin.take());
        match self.child {
            ChildKind::Local(mut group, mut c) => {
                // The watchdog ends the group; if it does not within 2 s, the group's drop kills it.
                let status = tokio::time::timeout(Duration::from_secs(2), c.wait()).await;
                if let Ok(Ok(_)) = status {
                    group.disarm();
                }
                drop(group);
                status.ok()?.ok()?.code()
            }
            ChildKind::Ssh(c) => {
                drop(self.stdout.take());
                drop(self.stderr.take());
                // Give the watchdog a moment to see EOF and report; then drop the channel either way.
                match tokio::time::timeout(Duration::from_secs(2), c.wait()).await {
                    Ok(status) => status.ok()?.code(),
                    Err(_) => {
                        tracing::debug!("remote command did not exit within 2s of stdin closing");
                        None
                    }
                }
            }
        }
    }
}

/// The ssh_config opsdeck gives ssh with `-F`: its own rules first (ssh keeps the first value it
/// reads for an option), then the user's file: `ssh.config_file` alone when set (as `ssh -F` would
/// read it), else `~/.ssh/config` and the system's `/etc/ssh/ssh_config` (as plain `ssh` would).
/// `-F` is the one option ssh passes on to the ssh it starts for each ProxyJump hop: jump hosts are
/// held to the same rules (never a prompt, never a host key accepted) instead of whatever the
/// user's file says for them. (Included files get ssh's usual owner and permission check.)
pub fn ssh_config_text(config: &SshConfig) -> Result<String, String> {
    fn quoted(p: &std::path::Path, key: &str) -> Result<String, String> {
        let text = p.to_string_lossy();
        // `%` would be read as one of ssh's tokens (%d, %h...).
        if text.contains(['"', '%']) || text.chars().any(char::is_control) {
            return Err(format!(
                "{key} {text:?}: ssh_config cannot name a path with quotes, '%' or control characters"
            ));
        }
        Ok(format!("\"{text}\""))
    }
    let mut out = String::from(
        "# Written by opsdeck for one run (removed when it exits): its rules first, then yours.\n\
         Host *\n    BatchMode yes\n    StrictHostKeyChecking yes\n",
    );
    if let Some(k) = &config.known_hosts {
        out.push_str(&format!(
            "    UserKnownHostsFile {}\n",
            quoted(&expand_home(k), "ssh.known_hosts")?
        ));
    }
    match &config.config_file {
        Some(f) => {
            // An Include of a missing file is silently nothing; the user named this one on purpose.
            let f = expand_home(f);
            if !f.is_file() {
                return Err(format!("ssh.config_file {}: no such file", f.display()));
            }
            out.push_str(&format!("    Include {}\n", quoted(&f, "ssh.config_file")?));
        }
        None => {
            let user = expand_home(std::path::Path::new("~/.ssh/config"));
            out.push_str(&format!("    Include {}\n", quoted(&user, "~/.ssh/config")?));
            out.push_str("    Include /etc/ssh/ssh_config\n");
        }
    }
    Ok(out)
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
    #[test]
    fn a_program_is_found_on_the_path_in_order_as_execvp_would() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        for d in [&first, &second] {
            std::fs::create_dir(d).unwrap();
        }
        let file = |path: std::path::PathBuf, mode: u32| {
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        file(first.join("df"), 0o644);
        file(second.join("df"), 0o755);
        file(first.join("du"), 0o755);
        let path = [first.clone(), second.clone()];
        // Not executable: skipped, as execvp skips it.
        assert_eq!(super::find_program("df", &path), Some(second.join("df")));
        assert_eq!(super::find_program("du", &path), Some(first.join("du")));
        assert_eq!(super::find_program("cat", &path), None);
        assert_eq!(super::find_program("./du", &path), None);
        assert_eq!(super::find_program("", &path), None);
    }

    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(reconnect_backoff(1), Duration::from_secs(1));
        assert_eq!(reconnect_backoff(2), Duration::from_secs(2));
        assert_eq!(reconnect_backoff(4), Duration::from_secs(8));
        assert_eq!(reconnect_backoff(40), Duration::from_secs(60));
    }

    #[test]
    fn commands_run_in_the_c_locale_and_bounded_on_the_host() {
        let c = Cmd::argv(["df", "-P"]);
        assert_eq!(bounded(&c, None), ["env", "LC_ALL=C", "df", "-P"]);
        assert_eq!(
            quote_words(&bounded(&c, Some(Duration::from_secs(15)))),
            "env LC_ALL=C timeout -k 2 14 df -P"
        );
        let script = Cmd::argv(["sh", "-c", "uptime; echo 'a b'"]);
        assert_eq!(
            quote_words(&bounded(&script, Some(Duration::from_millis(300)))),
            r#"env LC_ALL=C timeout -k 2 1 sh -c 'uptime; echo '\''a b'\'''"#
        );
    }

    #[test]
    fn the_generated_ssh_config_puts_our_rules_before_the_users() {
        let dir = tempfile::tempdir().unwrap();
        let user_file = dir.path().join("ops config");
        let mut cfg = SshConfig {
            known_hosts: Some("/etc/opsdeck/known_hosts".into()),
            config_file: Some(user_file.clone()),
            ..SshConfig::default()
        };
        assert!(ssh_config_text(&cfg).unwrap_err().contains("no such file"));
        std::fs::write(&user_file, "").unwrap();
        let text = ssh_config_text(&cfg).unwrap();
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle:?} missing:\n{text}"))
        };
        assert!(at("StrictHostKeyChecking yes") < at(&format!("Include \"{}\"", user_file.display())));
        assert!(at("BatchMode yes") < at("Include"));
        assert!(at("UserKnownHostsFile \"/etc/opsdeck/known_hosts\"") < at("Include"));
        assert!(
            !text.contains("/etc/ssh/ssh_config"),
            "ssh -F FILE reads no system file: {text}"
        );
        cfg.config_file = None;
        let text = ssh_config_text(&cfg).unwrap();
        assert!(
            text.contains(".ssh/config\"\n    Include /etc/ssh/ssh_config"),
            "{text}"
        );
        cfg.known_hosts = Some("/tmp/a\"b".into());
        assert!(ssh_config_text(&cfg).unwrap_err().contains("ssh.known_hosts"));
        cfg.known_hosts = Some("/tmp/known_%h".into());
        assert!(ssh_config_text(&cfg).unwrap_err().contains("'%'"));
    }

    #[tokio::test]
    async fn local_argv_runs_without_a_shell() {
        let cfg = SshConfig::default();
        let host: HostConfig = toml::from_str("name = \"me\"\ntransport = \"local\"").unwrap();
        let t = HostTransport::new(&cfg, &host, std::path::Path::new("/tmp"), None);
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
