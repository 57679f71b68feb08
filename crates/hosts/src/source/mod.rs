//! Hosts over SSH (or locally): disks, crash dumps, supervisor programs, log tails, and the command
//! transport actions use.
//!
//! # For other capabilities
//!
//! [`SshBackend`] is `ctx.backends.ssh` in actions. It is cheap to clone and shares one multiplexed
//! master connection per host with the pollers and tails.
//!
//! - [`SshBackend::run`]`(host, cmd, timeout)`: a [`Cmd`], the words the program gets. Values
//!   travel as words of their own (a script takes them as `"$1"`…: `sh -c SCRIPT NAME VALUE…`), never
//!   pasted into shell text. Custom `[[actions]]` run this way (`actions::custom::template`).
//! - Supervisor, with the host's configured template (`sudo -n supervisorctl {action} {program}` by
//!   default; every word shell-quoted):
//!   - [`SshBackend::supervisor_status`]`(host)` → every [`Program`] (name, state, pid, uptime);
//!   - [`SshBackend::supervisor_call`]`(host, action, program)` → the exact command text, for a plan's `call`;
//!   - [`SshBackend::supervisor_verified`]`(host, action, program, within)` → runs start/stop/restart, then
//!     polls `status` until the program is RUNNING with a new pid (restart), RUNNING (start) or stopped
//!     (stop); `Ok(program)` as last seen; `Err(SupervisorError::NotDone(why))` when nothing changed
//!     (unknown program: "no program named …", no connection, sudo refused) or
//!     `Err(SupervisorError::Unverified(why))` when it ran but status did not confirm in time.
//!     Map them to `Outcome::failed` / `Outcome::unverified` (as `actions::hosts` does).
//!   - Or build the whole plan: `actions::hosts::supervisor_plan(config, host, program, action)`
//!     (exact call text, risk, verification; `Operation::Hosts`), e.g. for a pillow's restart.
//! - Programs as last polled are in `fleet.hosts.data` ([`crate::model::HostsState`]):
//!   `state.host(h)?.program(name)` or `state.programs_named(name)` across hosts.
//! - Concurrency: at most `ssh.max_sessions` commands and `ssh.max_tails` tails per host at once
//!   (queued, not failed); every command has a timeout; masters reconnect with backoff.
//! - "Tail its log": a view returns the row's [`LogSource`]s from `View::logs`; the app opens them in
//!   the logs pane, which sends `Effect::Logs(TailCommand::Start(source))` here.
//! - `local` is always a host: commands and tails run on this machine, even when `[ssh]` lists no
//!   host of that name (pillow processes configured on `local`, the demo).

pub mod df;
mod du;
pub mod files;
pub mod lines;
pub mod supervisor;
pub mod tail;
pub mod transport;

use crate::Hosts;
use crate::config::{HostConfig, SshConfig, TransportKind};
use crate::model::logs::{LogEvent, TailState};
use crate::model::{DuReport, HostPoll, Program, ProgramState};
use futures::future::BoxFuture;
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::exec::{Cmd, CommandOutput};
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::{Pane, Poller, Sink};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
pub use supervisor::SupervisorAction;
use tokio_util::sync::CancellationToken;
use transport::HostTransport;

/// Why a supervisor action did not end as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupervisorError {
    /// Nothing changed (unknown program, no connection, supervisorctl refused).
    NotDone(String),
    /// The command ran but status did not show the expected state in time.
    Unverified(String),
}

impl std::fmt::Display for SupervisorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SupervisorError::NotDone(s) | SupervisorError::Unverified(s) => f.write_str(s),
        }
    }
}

/// Requests from the logs pane to the tail tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailCommand {
    /// Start following a log (no-op when that tail already runs).
    Start(LogSource),
    /// Stop a tail by id ([`LogSource::id`]); its remote process ends.
    Stop { id: String },
}

/// The host name that always means "this machine".
pub const LOCAL: &str = "local";

struct Inner {
    config: SshConfig,
    hosts: Vec<Arc<HostTransport>>,
    /// `local` when no configured host has that name.
    local: Arc<HostTransport>,
    tails: Mutex<HashMap<String, CancellationToken>>,
    /// Numbers the runs of tails (a tail started again is a new run).
    tail_runs: std::sync::atomic::AtomicU64,
    /// `du` scans per host, newest last (the poller reports them, so they reach the pane).
    du: Mutex<HashMap<String, Vec<DuReport>>>,
    control_dir: Option<PathBuf>,
    /// The ssh_config written for this run ([`transport::ssh_config_text`]).
    ssh_config: Option<PathBuf>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for token in self
            .tails
            .lock()
            .map(|t| t.values().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            token.cancel();
        }
        // Masters first: dropping a session sends `ssh -O exit` through its socket, which must still exist.
        for h in &self.hosts {
            drop(h.take_session());
        }
        if let Some(f) = &self.ssh_config {
            let _ = std::fs::remove_file(f);
        }
        // Not remove_dir_all: a session still held by a task removes its own socket dir when it goes.
        if let Some(d) = &self.control_dir {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// The SSH/local transport for every configured host, shared by pollers, actions and tails.
#[derive(Clone)]
pub struct SshBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SshBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshBackend")
            .field("hosts", &self.inner.hosts.iter().map(|h| &h.name).collect::<Vec<_>>())
            .finish()
    }
}

/// A private directory for master sockets: short (unix socket paths are limited to ~100 bytes) and ours.
fn make_control_dir(config: &SshConfig) -> Result<(PathBuf, bool), String> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(d) = &config.control_dir {
        let d = transport::expand_home(d);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .map_err(|e| format!("ssh.control_dir {}: {e}", d.display()))?;
        return Ok((d, false));
    }
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("opsdeck-ssh-{}-{nanos:x}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&d)
        .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    Ok((d, true))
}

/// Writes [`transport::ssh_config_text`] into `dir` (private to us: 0600 in a 0700 directory; ssh
/// refuses a config others can write). The name is unique so several opsdecks can share a control dir.
fn write_ssh_config(config: &SshConfig, dir: &std::path::Path) -> Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let text = transport::ssh_config_text(config)?;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let path = dir.join(format!("opsdeck-{}-{nanos:x}.ssh_config", std::process::id()));
    // ssh pastes this path unquoted into the command it runs for each ProxyJump hop.
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-".contains(c);
    if !path.to_string_lossy().chars().all(plain) {
        return Err(format!(
            "ssh control directory {}: use a path of letters, digits and / . _ - only (ssh.control_dir)",
            dir.display()
        ));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

impl SshBackend {
    /// Builds the transports (no network I/O happens here). Always built: `local` tails and commands
    /// work without any `[ssh]` host; hosts are polled only when some are configured.
    pub fn new(config: &SshConfig) -> Result<Self, String> {
        let needs_ssh = config.hosts.iter().any(|h| h.transport == TransportKind::Ssh);
        let (dir, owned, ssh_config) = if needs_ssh {
            let (d, owned) = make_control_dir(config)?;
            let file = write_ssh_config(config, &d)?;
            (Some(d), owned, Some(file))
        } else {
            (None, false, None)
        };
        let sock_dir = dir.clone().unwrap_or_else(std::env::temp_dir);
        let hosts = config
            .hosts
            .iter()
            .map(|h| Arc::new(HostTransport::new(config, h, &sock_dir, ssh_config.as_deref())))
            .collect();
        let local = Arc::new(HostTransport::new(config, &HostConfig::local(), &sock_dir, None));
        Ok(Self {
            inner: Arc::new(Inner {
                config: config.clone(),
                hosts,
                local,
                tails: Mutex::new(HashMap::new()),
                tail_runs: std::sync::atomic::AtomicU64::new(0),
                du: Mutex::new(HashMap::new()),
                control_dir: dir.filter(|_| owned),
                ssh_config,
            }),
        })
    }

    pub fn config(&self) -> &SshConfig {
        &self.inner.config
    }

    fn transport(&self, host: &str) -> Result<&Arc<HostTransport>, String> {
        match self.inner.hosts.iter().find(|h| h.name == host) {
            Some(t) => Ok(t),
            None if host == LOCAL => Ok(&self.inner.local),
            None => Err(format!("no host named {host:?} in [ssh] config")),
        }
    }

    /// The pollers feeding the hosts pane: one per host, so a host that answers slowly (or not at
    /// all) delays only its own row.
    pub fn pollers(&self, general: &GeneralConfig) -> Vec<Box<dyn Poller<<Hosts as Pane>::Update>>> {
        let interval = self
            .inner
            .config
            .refresh
            .map(|d| d.get())
            .unwrap_or(general.refresh.get());
        self.inner
            .hosts
            .iter()
            .map(|t| {
                Box::new(HostPoller {
                    backend: self.clone(),
                    host: t.clone(),
                    interval,
                }) as Box<dyn Poller<<Hosts as Pane>::Update>>
            })
            .collect()
    }

    /// Longest one host's poll may take: connecting, then the first command, then the others
    /// (which run concurrently).
    fn poll_limit(&self) -> Duration {
        let c = &self.inner.config;
        c.connect_timeout.get() + c.command_timeout.get() * 2 + Duration::from_secs(5)
    }

    /// One poll of one host, bounded by [`Self::poll_limit`].
    async fn poll_bounded(&self, t: Arc<HostTransport>) -> HostPoll {
        let limit = self.poll_limit();
        let name = t.name.clone();
        let kind = t.kind.name();
        match tokio::time::timeout(limit, self.poll_host(t)).await {
            Ok(p) => p,
            Err(_) => HostPoll::unreachable(&name, kind, format!("no answer within {}s", limit.as_secs())),
        }
    }

    /// Runs a fixed `script` (no value pasted into it: see [`Self::run`]) with `sh -c` on `host`
    /// through the host's multiplexed connection (or locally for a local host), killed at `timeout`.
    pub async fn run_command(&self, host: &str, script: &str, timeout: Duration) -> Result<CommandOutput, String> {
        self.transport(host)?
            .run(&Cmd::argv(["sh", "-c", script]), timeout)
            .await
    }

    /// Runs `cmd`'s words on `host` (quoted once for the remote shell; no shell locally).
    pub async fn run(&self, host: &str, cmd: &Cmd, timeout: Duration) -> Result<CommandOutput, String> {
        self.transport(host)?.run(cmd, timeout).await
    }

    /// Closes every master connection and stops every tail.
    pub async fn shutdown(&self) {
        for token in self
            .inner
            .tails
            .lock()
            .map(|mut t| t.drain().map(|(_, v)| v).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            token.cancel();
        }
        for h in &self.inner.hosts {
            h.close().await;
        }
    }

    // --- supervisor ---

    fn supervisor_cmd(&self, host: &str, action: SupervisorAction, program: Option<&str>) -> Result<Cmd, String> {
        let h = self
            .inner
            .config
            .host(host)
            .ok_or_else(|| format!("no host named {host:?} in [ssh] config"))?;
        supervisor::command(self.inner.config.supervisor_template(h), action, program)
    }

    /// The exact command `action` on `program` runs on `host` (for plans and the audit log).
    pub fn supervisor_call(&self, host: &str, action: SupervisorAction, program: &str) -> Result<String, String> {
        self.supervisor_cmd(host, action, Some(program)).map(|c| c.to_shell())
    }

    /// `supervisorctl status` on `host`: every program.
    pub async fn supervisor_status(&self, host: &str) -> Result<Vec<Program>, String> {
        let cmd = self.supervisor_cmd(host, SupervisorAction::Status, None)?;
        let t = self.transport(host)?;
        let out = t.run(&cmd, t.command_timeout).await?;
        supervisor::parse_status(&out)
    }

    /// Runs start/stop/restart on `program`, then verifies by status within `within`: RUNNING with a new
    /// pid after a restart, RUNNING after a start, STOPPED/EXITED after a stop.
    pub async fn supervisor_verified(
        &self,
        host: &str,
        action: SupervisorAction,
        program: &str,
        within: Duration,
    ) -> Result<Program, SupervisorError> {
        let before = self.supervisor_status(host).await.map_err(SupervisorError::NotDone)?;
        let old = before.iter().find(|p| p.name == program).ok_or_else(|| {
            let known: Vec<&str> = before.iter().map(|p| p.name.as_str()).collect();
            SupervisorError::NotDone(format!(
                "no program named {program:?} in supervisor on {host} (known: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        let old_pid = old.pid;
        let cmd = self
            .supervisor_cmd(host, action, Some(program))
            .map_err(SupervisorError::NotDone)?;
        let t = self.transport(host).map_err(SupervisorError::NotDone)?;
        let out = t
            .run(&cmd, within.max(t.command_timeout))
            .await
            .map_err(SupervisorError::NotDone)?;
        supervisor::check_action(&out, program).map_err(SupervisorError::NotDone)?;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let last;
            match self.supervisor_status(host).await {
                Ok(now) => match now.into_iter().find(|p| p.name == program) {
                    Some(p) => {
                        let done = match action {
                            SupervisorAction::Restart => {
                                p.state == ProgramState::Running && p.pid.is_some() && p.pid != old_pid
                            }
                            SupervisorAction::Start => p.state == ProgramState::Running,
                            SupervisorAction::Stop => matches!(p.state, ProgramState::Stopped | ProgramState::Exited),
                            SupervisorAction::Status | SupervisorAction::Tail => true,
                        };
                        if done {
                            return Ok(p);
                        }
                        last = format!("{} {}", p.state.as_str(), p.description);
                    }
                    None => last = format!("{program} disappeared from supervisor"),
                },
                Err(e) => last = e,
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(SupervisorError::Unverified(format!(
                    "{} ran, but {program} on {host} is {} {} later",
                    action.as_str(),
                    last.trim(),
                    humantime::format_duration(within)
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    // --- du jobs ---

    fn du_update(&self, host: &str, report: DuReport) {
        if let Ok(mut all) = self.inner.du.lock() {
            let list = all.entry(host.to_string()).or_default();
            list.retain(|r| r.path != report.path);
            list.push(report);
            if list.len() > 5 {
                list.remove(0);
            }
        }
    }

    fn du_reports(&self, host: &str) -> Vec<DuReport> {
        self.inner
            .du
            .lock()
            .map(|d| d.get(host).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    // --- polling ---

    async fn poll_host(&self, t: Arc<HostTransport>) -> HostPoll {
        let name = t.name.clone();
        let kind = t.kind.name();
        let cfg = &self.inner.config;
        let timeout = cfg.command_timeout.get();
        // The first command also (re)connects the master: if it cannot run, the host is unreachable.
        let load = match t.run(&Cmd::argv(["cat", "/proc/loadavg"]), timeout).await {
            Ok(out) => parse_loadavg(&out.stdout),
            Err(e) => return HostPoll::unreachable(&name, kind, e),
        };
        let host_cfg = cfg.host(&name);
        let df = async {
            let mut typed = true;
            loop {
                let sizes_cmd = df::command_with(typed, false);
                let inodes_cmd = df::command_with(typed, true);
                let (sizes, inodes) = futures::join!(t.run(&sizes_cmd, timeout), t.run(&inodes_cmd, timeout));
                let sizes = sizes?;
                match df::parse(&sizes.stdout) {
                    Ok(parsed) => {
                        let inodes = inodes.ok().and_then(|o| df::parse(&o.stdout).ok());
                        return Ok(df::filesystems(&parsed, inodes.as_ref()));
                    }
                    Err(_) if typed && df::refused_option(&sizes.stderr) => typed = false,
                    Err(e) => {
                        return Err(match sizes.last_line() {
                            "" => e,
                            said => format!("{e} ({said})"),
                        });
                    }
                }
            }
        };
        let programs = async {
            match host_cfg {
                Some(h) if h.supervisor => Some(self.supervisor_status(&name).await),
                _ => None,
            }
        };
        let junk = async {
            let h = host_cfg?;
            if h.junk_paths.is_empty() || cfg.junk_patterns.is_empty() {
                return None;
            }
            let cmd = files::find_command(&h.junk_paths, &cfg.junk_patterns, cfg.junk_depth)
                .prefixed(cfg.files_prefix_of(&h.name));
            Some(t.run(&cmd, timeout).await.and_then(|o| {
                let found = files::parse_find(&o.stdout)?;
                // find exits 1 when a configured path is missing; what it did find still counts.
                if found.is_empty() && !o.success() && !o.stderr.contains("No such file") {
                    return Err(format!("find exit {:?}: {}", o.status, o.last_line()));
                }
                Ok(found)
            }))
        };
        let (filesystems, programs, junk) = futures::join!(df, programs, junk);
        HostPoll {
            name: name.clone(),
            transport: kind.to_string(),
            reach: Ok(()),
            load,
            filesystems: Some(filesystems),
            programs,
            junk,
            du: self.du_reports(&name),
        }
    }

    /// One poll of every host, concurrently, each bounded as its poller's is (for tests and tools;
    /// the console, `snapshot` and `check` run the per-host pollers).
    pub async fn poll_all(&self) -> Vec<HostPoll> {
        let polls = self.inner.hosts.iter().map(|t| self.poll_bounded(t.clone()));
        futures::future::join_all(polls).await
    }

    // --- tails ---

    /// Carries out a logs-pane request (start/stop a tail); lines and states go to `updates`.
    pub fn handle_tail(&self, command: TailCommand, updates: Sink<LogEvent>) {
        match command {
            TailCommand::Start(source) => {
                let id = source.id();
                let token = {
                    let Ok(mut tails) = self.inner.tails.lock() else { return };
                    if tails.get(&id).is_some_and(|t| !t.is_cancelled()) {
                        return;
                    }
                    let token = CancellationToken::new();
                    tails.insert(id.clone(), token.clone());
                    token
                };
                let config = &self.inner.config;
                let follow = tail::Follow {
                    target: source.target.clone(),
                    history: config.tail_lines,
                    supervisor: config
                        .host(&source.host)
                        .map_or(config.supervisor_command.as_str(), |h| config.supervisor_template(h))
                        .to_string(),
                };
                let transport = self.transport(&source.host).cloned();
                let run = tail::Run {
                    id,
                    number: 1 + self.inner.tail_runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                };
                let started = LogEvent::Started {
                    source,
                    run: run.number,
                    capacity: config.log_buffer,
                };
                tokio::spawn(async move {
                    if !updates.send(started).await {
                        return;
                    }
                    let last = match transport {
                        Ok(t) => tail::run(t, run.clone(), follow, updates.clone(), token.clone()).await,
                        Err(e) => Some(TailState::Failed(e)),
                    };
                    // Ended (failed or stopped): marked so before anyone hears of it, so a Start
                    // sent in answer runs it again.
                    token.cancel();
                    if let Some(state) = last {
                        tail::send_state(&updates, &run, state).await;
                    }
                });
            }
            TailCommand::Stop { id } => {
                if let Some(token) = self.inner.tails.lock().ok().and_then(|mut t| t.remove(&id)) {
                    token.cancel();
                }
            }
        }
    }

    /// Ids of the tails running now.
    pub fn running_tails(&self) -> Vec<String> {
        self.inner
            .tails
            .lock()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }
}

fn parse_loadavg(s: &str) -> Option<[f64; 3]> {
    let mut it = s.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// Polls one host; its update carries that host only (the model merges hosts by name).
struct HostPoller {
    backend: SshBackend,
    host: Arc<HostTransport>,
    interval: Duration,
}

impl Poller<<Hosts as Pane>::Update> for HostPoller {
    fn interval(&self) -> Duration {
        self.interval
    }
    fn timeout(&self) -> Duration {
        // Never reached: the poll bounds itself and reports the host unreachable.
        self.backend.poll_limit() + Duration::from_secs(5)
    }
    fn poll(&mut self) -> BoxFuture<'_, <Hosts as Pane>::Update> {
        Box::pin(async move { Ok(vec![self.backend.poll_bounded(self.host.clone()).await]) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg() {
        assert_eq!(parse_loadavg("0.52 0.58 0.59 1/467 12345\n"), Some([0.52, 0.58, 0.59]));
        assert_eq!(parse_loadavg("garbage"), None);
    }
}
