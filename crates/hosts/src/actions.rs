//! Remediation on hosts: supervisor start/stop/restart (verified by status), removing crash dumps
//! (verified by their absence, with the space freed measured by df), and `du` scans.
//!
//! Plans are built by pure functions from config and the last poll, so they are testable and the
//! confirm dialog shows exactly the command that will run.

pub mod command;

use crate::config::{SshConfig, TransportKind};
use crate::model::{Filesystem, HostStatus, JunkFile, human_bytes, human_kib};
use crate::source::{SshBackend, SupervisorAction, SupervisorError, df, files, supervisor};
use futures::future::BoxFuture;
use opsdeck_core::action::{ActionCtx, ActionPlan, Operation, Outcome, Risk};
use opsdeck_core::exec::shell_quote;
use opsdeck_core::text::clean;
use std::sync::Arc;
use std::time::Duration;

/// The hosts operations the executor can run.
#[derive(Debug, Clone, PartialEq)]
pub enum HostsOp {
    Supervisor {
        host: String,
        program: String,
        action: SupervisorAction,
        /// How long status may take to show the expected state.
        verify_within: Duration,
    },
    RemoveFiles {
        host: String,
        /// Each file as listed: re-checked on the host when it is removed.
        files: Vec<files::Removal>,
    },
    Du {
        host: String,
        path: String,
        timeout: Duration,
    },
}

fn host_config<'a>(ssh: &'a SshConfig, host: &str) -> Result<&'a crate::config::HostConfig, String> {
    ssh.host(host)
        .ok_or_else(|| format!("{host} is not in the [ssh] config"))
}

/// Whether commands for `host` run on this machine: its entry uses the local transport, or it is
/// `local` without an entry of its own.
pub fn runs_locally(ssh: &SshConfig, host: &str) -> bool {
    match ssh.host(host) {
        Some(h) => h.transport == TransportKind::Local,
        None => host == "local",
    }
}

/// Where a plan runs, for its description: "on es-1", "on this machine", "on demo-1 (this machine)".
pub fn on_host(ssh: &SshConfig, host: &str) -> String {
    match (runs_locally(ssh, host), host == "local") {
        (true, true) => "on this machine".into(),
        (true, false) => format!("on {host} (this machine)"),
        (false, _) => format!("on {host}"),
    }
}

/// The command line a person would type to run `command` (already quoted for a shell) on `host`:
/// `ssh [-J jump1,jump2] [-p PORT] [USER@]DESTINATION -- command`, every part shell-quoted, from the
/// host's config; just `command` when the host is this machine. (Options that only matter to the
/// transport, like known_hosts and the identity file, are left out.)
pub fn call_text(ssh: &SshConfig, host: &str, command: &str) -> String {
    if runs_locally(ssh, host) {
        return command.to_string();
    }
    let mut words = vec!["ssh".to_string()];
    match ssh.host(host) {
        Some(h) => {
            if !h.jump.is_empty() {
                words.push("-J".into());
                words.push(shell_quote(&h.jump.join(",")));
            }
            if let Some(port) = h.port {
                words.push("-p".into());
                words.push(port.to_string());
            }
            words.push(shell_quote(&match &h.user {
                Some(user) => format!("{user}@{}", h.destination()),
                None => h.destination().to_string(),
            }));
        }
        // Not in the config (the transport will refuse it): still named exactly.
        None => words.push(shell_quote(host)),
    }
    words.push("--".into());
    words.push(command.to_string());
    words.join(" ")
}

/// Why a file name from a host is not one the junk action passes on: it came as bytes that are not
/// UTF-8 and was decoded lossily (U+FFFD), so it names no real file; or it holds control
/// characters, so no dialog can show it as it is.
fn unusable_name(path: &str) -> Option<&'static str> {
    if path.contains('\u{FFFD}') {
        Some("name is not valid UTF-8; remove it by hand")
    } else if path.chars().any(char::is_control) {
        Some("name has control characters; remove it by hand")
    } else {
        None
    }
}

/// Why the junk action will not touch a file it was shown, if it will not: an unusable name, or no
/// device:inode to recognise it by at removal time.
fn left_alone(f: &JunkFile) -> Option<String> {
    let why =
        unusable_name(&f.path).or_else(|| f.id.is_none().then_some("listed without its device:inode; poll again"))?;
    Some(format!("{}: {why}", clean(&f.path)))
}

/// How long a start/stop/restart may take to show in supervisor's status, by default.
const SUPERVISOR_WITHIN: Duration = Duration::from_secs(30);

/// start/stop/restart of one supervisor program.
pub fn supervisor_plan(
    ssh: &SshConfig,
    host: &str,
    program: &str,
    action: SupervisorAction,
) -> Result<ActionPlan, String> {
    // The hosts pane offers the programs supervisorctl status listed: say so when one is refused.
    supervisor::check_name_from("program", program, &format!("supervisorctl status on {host}"))?;
    supervisor_plan_within(ssh, host, program, action, SUPERVISOR_WITHIN)
}

/// As [`supervisor_plan`], for a program that may take up to `within` (supervisorctl included) to
/// stop and start again: Elasticsearch can spend minutes shutting down.
pub fn supervisor_plan_within(
    ssh: &SshConfig,
    host: &str,
    program: &str,
    action: SupervisorAction,
    within: Duration,
) -> Result<ActionPlan, String> {
    let h = host_config(ssh, host)?;
    if !h.supervisor {
        return Err(format!("supervisor is not configured on {host}"));
    }
    let cmd = supervisor::command(ssh.supervisor_template(h), action, Some(program))?;
    let (risk, verify) = match action {
        SupervisorAction::Restart => (
            Risk::Medium,
            format!("supervisorctl status shows {program} RUNNING with a new pid"),
        ),
        SupervisorAction::Start => (Risk::Low, format!("supervisorctl status shows {program} RUNNING")),
        SupervisorAction::Stop => (Risk::Medium, format!("supervisorctl status shows {program} STOPPED")),
        SupervisorAction::Status | SupervisorAction::Tail => {
            return Err(format!("{} is not an action", action.as_str()));
        }
    };
    Ok(ActionPlan {
        action: format!("hosts.{}_program", action.as_str()),
        title: format!("{} {program} on {host}", capitalise(action.as_str())),
        target: format!("{host}:{program}"),
        description: format!(
            "{} the supervisor program {program} {}.",
            capitalise(action.as_str()),
            on_host(ssh, host)
        ),
        call: call_text(ssh, host, &cmd.to_shell()),
        risk,
        verify,
        timeout: within + ssh.command_timeout.get() * 3,
        op: Arc::new(HostsOp::Supervisor {
            host: host.to_string(),
            program: program.to_string(),
            action,
            verify_within: within,
        }),
        identity: String::new(),
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Removing the junk files found on `host` (all of `files`). High risk: the host's name must be typed.
pub fn remove_files_plan(ssh: &SshConfig, host: &HostStatus, junk: &[JunkFile]) -> Result<ActionPlan, String> {
    let h = host_config(ssh, &host.name)?;
    if junk.is_empty() {
        return Err(format!("no junk files found on {}", host.name));
    }
    let (junk, unreadable): (Vec<&JunkFile>, Vec<&JunkFile>) = junk.iter().partition(|f| left_alone(f).is_none());
    if junk.is_empty() {
        let why: Vec<String> = unreadable.iter().filter_map(|f| left_alone(f)).collect();
        return Err(why.join("; "));
    }
    let removals = junk
        .iter()
        .map(|f| {
            let id = f.id.ok_or_else(|| format!("{}: no device:inode", clean(&f.path)))?;
            files::removal(&f.path, id, f.size_bytes, &h.junk_paths)
        })
        .collect::<Result<Vec<_>, String>>()?;
    let total: u64 = junk.iter().map(|f| f.size_bytes).sum();
    let mut description = format!(
        "Delete these {} file(s), {} in total, {}:\n",
        junk.len(),
        human_bytes(total),
        on_host(ssh, &host.name)
    );
    for f in &junk {
        description.push_str(&format!("  {:>10}  {}\n", human_bytes(f.size_bytes), clean(&f.path)));
    }
    if !unreadable.is_empty() {
        description.push_str(&format!("Left alone, {} file(s):\n", unreadable.len()));
        for f in &unreadable {
            description.push_str(&format!("  {}\n", left_alone(f).unwrap_or_default()));
        }
    }
    description.push_str(
        "Each is checked on the host just before: the same regular file, no link on its path.\n\
         Then df runs again to show the space freed.",
    );
    Ok(ActionPlan {
        action: "hosts.remove_junk".into(),
        title: format!("Remove {} junk file(s) on {}", junk.len(), host.name),
        target: host.name.clone(),
        description,
        call: call_text(
            ssh,
            &host.name,
            &files::remove_command(&removals)
                .prefixed(ssh.files_prefix_of(&host.name))
                .to_shell(),
        ),
        risk: Risk::High,
        verify: "the host reports each file removed; df shows the space freed".into(),
        timeout: ssh.command_timeout.get() * 4,
        op: Arc::new(HostsOp::RemoveFiles {
            host: host.name.clone(),
            files: removals,
        }),
        identity: String::new(),
    })
}

/// A `du` scan of `path` on `host` (read-only, low risk, runs in the background with progress).
pub fn du_plan(ssh: &SshConfig, host: &str, path: &str) -> Result<ActionPlan, String> {
    host_config(ssh, host)?;
    let path = path.trim();
    if !path.starts_with('/') {
        return Err(format!("{path:?}: give an absolute directory path"));
    }
    if path.chars().any(char::is_control) {
        return Err("the path contains control characters".into());
    }
    let timeout = Duration::from_secs(600);
    Ok(ActionPlan {
        action: "hosts.du".into(),
        title: format!("du {path} on {host}"),
        target: format!("{host}:du:{path}"),
        description: format!(
            "Measure the size of each entry under {path} {} (du -x, one filesystem).",
            on_host(ssh, host)
        ),
        call: call_text(
            ssh,
            host,
            &files::du_command(path, timeout.as_secs())
                .prefixed(ssh.files_prefix_of(host))
                .to_shell(),
        ),
        risk: Risk::Low,
        verify: "du finishes; the biggest entries show under the host".into(),
        timeout: timeout + Duration::from_secs(30),
        op: Arc::new(HostsOp::Du {
            host: host.to_string(),
            path: path.to_string(),
            timeout,
        }),
        identity: String::new(),
    })
}

fn backend(ctx: &ActionCtx) -> Result<&SshBackend, Outcome> {
    ctx.backends
        .of::<crate::Hosts>()
        .ok_or_else(|| Outcome::failed("no SSH/local transport is configured"))
}

impl Operation for HostsOp {
    fn run<'a>(&'a self, ctx: &'a ActionCtx) -> BoxFuture<'a, Outcome> {
        Box::pin(run(self.clone(), ctx))
    }
}

pub async fn run(op: HostsOp, ctx: &ActionCtx) -> Outcome {
    let ssh = match backend(ctx) {
        Ok(b) => b,
        Err(o) => return o,
    };
    match op {
        HostsOp::Supervisor {
            host,
            program,
            action,
            verify_within,
        } => {
            ctx.report(format!("{} {program} on {host}", action.as_str()), None);
            match ssh.supervisor_verified(&host, action, &program, verify_within).await {
                Ok(p) => Outcome::succeeded(format!(
                    "{program} on {host} is {}{}",
                    p.state.as_str(),
                    p.pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
                )),
                Err(SupervisorError::NotDone(e)) => Outcome::failed(e),
                Err(SupervisorError::Unverified(e)) => Outcome::unverified(e),
            }
        }
        HostsOp::RemoveFiles { host, files } => remove_files(ssh, ctx, &host, &files).await,
        HostsOp::Du { host, path, timeout } => {
            let progress = |msg: String, fraction: Option<f64>| ctx.report(msg, fraction);
            match ssh.du(&host, &path, timeout, &progress, &ctx.cancel).await {
                Ok(r) => {
                    let top: Vec<String> = r
                        .entries
                        .iter()
                        .take(3)
                        .map(|(p, kib)| format!("{} {}", human_kib(*kib), p))
                        .collect();
                    let summary = format!("du {path}: {} entries; biggest: {}", r.scanned, top.join(", "));
                    match &r.error {
                        // Parts of the tree were unreadable: the sizes are lower bounds.
                        Some(note) => Outcome::unverified(format!("{summary}; {note}")),
                        None => Outcome::succeeded(summary),
                    }
                }
                Err(e) => Outcome::failed(e),
            }
        }
    }
}

async fn df_now(ssh: &SshBackend, host: &str, timeout: Duration) -> Option<Vec<Filesystem>> {
    let out = ssh.run(host, &df::command(false), timeout).await.ok()?;
    df::parse(&out.stdout).ok().map(|d| df::filesystems(&d, None))
}

/// The filesystem holding `path` (longest mount prefix).
fn mount_of<'a>(fs: &'a [Filesystem], path: &str) -> Option<&'a Filesystem> {
    fs.iter()
        .filter(|f| {
            let m = f.mount.trim_end_matches('/');
            path.starts_with(&format!("{m}/")) || f.mount == "/"
        })
        .max_by_key(|f| f.mount.len())
}

async fn remove_files(ssh: &SshBackend, ctx: &ActionCtx, host: &str, listed: &[files::Removal]) -> Outcome {
    // Plans leave such names out; an op built any other way must not count a name that matches no
    // file as "vanished", and so removed.
    let refused: Vec<String> = listed
        .iter()
        .filter_map(|r| unusable_name(&r.path).map(|why| format!("{}: {why}", clean(&r.path))))
        .collect();
    if !refused.is_empty() {
        return Outcome::failed(format!("nothing removed: {}", refused.join("; ")));
    }
    let timeout = ssh.config().command_timeout.get();
    let prefix = ssh.config().files_prefix_of(host);
    ctx.report(format!("df on {host} before removing"), Some(0.1));
    let before = df_now(ssh, host, timeout).await;
    ctx.report(format!("removing {} file(s) on {host}", listed.len()), Some(0.3));
    let out = match ssh
        .run(host, &files::remove_command(listed).prefixed(prefix), timeout)
        .await
    {
        Err(e) => return Outcome::failed(format!("nothing removed: the removal did not run: {e}")),
        Ok(out) => out,
    };
    let fates = files::parse_removal(&out.stdout, listed);
    if !out.success() {
        tracing::warn!(host, stderr = %out.stderr, "the removal script reported problems");
    }
    if fates.iter().all(|f| *f == files::Removed::Unknown) {
        return Outcome::failed(format!(
            "the removal script said nothing ({}): nothing is known to be removed",
            match out.status {
                Some(c) => format!("exit {c}: {}", clean(out.last_line())),
                None => format!("killed: {}", clean(out.last_line())),
            }
        ));
    }
    ctx.report(format!("df on {host} after removing"), Some(0.8));
    let after = df_now(ssh, host, timeout).await;
    removal_outcome(host, listed, &fates, before.as_deref(), after.as_deref())
}

/// The outcome of a removal, naming every file: what was removed and, for each file that was not,
/// why. Succeeded when every file is gone (removed, or already gone); failed when one was left
/// alone; unverified when the host said nothing about one.
fn removal_outcome(
    host: &str,
    listed: &[files::Removal],
    fates: &[files::Removed],
    before: Option<&[Filesystem]>,
    after: Option<&[Filesystem]>,
) -> Outcome {
    use files::Removed;
    let removed: Vec<&files::Removal> = listed
        .iter()
        .zip(fates)
        .filter(|(_, f)| **f == Removed::Removed)
        .map(|(r, _)| r)
        .collect();
    let bytes: u64 = removed.iter().map(|r| r.size_bytes).sum();
    let removed_paths: Vec<String> = removed.iter().map(|r| r.path.clone()).collect();
    let mut summary = format!(
        "removed {} of {} file(s), {} on {host}",
        removed.len(),
        listed.len(),
        human_bytes(bytes)
    );
    if !removed.is_empty() {
        let names: Vec<String> = removed_paths.iter().map(|p| clean(p).into_owned()).collect();
        summary.push_str(&format!(": {}", names.join(", ")));
    }
    let not_removed: Vec<String> = listed
        .iter()
        .zip(fates)
        .filter_map(|(r, fate)| {
            let why = match fate {
                Removed::Removed => return None,
                Removed::Vanished(why) => format!("vanished: {}", clean(why)),
                Removed::Changed(why) => format!("changed since planned, left alone: {}", clean(why)),
                Removed::Failed(why) => format!("could not be removed: {}", clean(why)),
                Removed::Unknown => "unknown: the host said nothing about it".into(),
            };
            Some(format!("{} ({why})", clean(&r.path)))
        })
        .collect();
    if !not_removed.is_empty() {
        summary.push_str(&format!("; not removed: {}", not_removed.join("; ")));
    }
    summary.push_str(&format!("; {}", freed_text(before, after, &removed_paths)));
    if fates
        .iter()
        .any(|f| matches!(f, Removed::Changed(_) | Removed::Failed(_)))
    {
        Outcome::failed(summary)
    } else if fates.contains(&Removed::Unknown) {
        Outcome::unverified(summary)
    } else {
        Outcome::succeeded(summary)
    }
}

/// "/data 95% → 61% (1.4 GiB freed)" for each filesystem that held a removed file.
pub fn freed_text(before: Option<&[Filesystem]>, after: Option<&[Filesystem]>, paths: &[String]) -> String {
    let (Some(before), Some(after)) = (before, after) else {
        return "df could not be read to measure the space freed".into();
    };
    let mut mounts: Vec<&str> = paths
        .iter()
        .filter_map(|p| mount_of(before, p).map(|f| f.mount.as_str()))
        .collect();
    mounts.sort();
    mounts.dedup();
    let parts: Vec<String> = mounts
        .iter()
        .filter_map(|m| {
            let b = before.iter().find(|f| f.mount == *m)?;
            let a = after.iter().find(|f| f.mount == *m)?;
            let freed = a.avail_kib.saturating_sub(b.avail_kib);
            Some(format!(
                "{m} {:.0}% → {:.0}% used ({} freed)",
                b.use_percent,
                a.use_percent,
                human_kib(freed)
            ))
        })
        .collect();
    if parts.is_empty() {
        "df shows no filesystem for these files".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileId;
    use opsdeck_core::pane::parse_section;

    fn config() -> SshConfig {
        parse_section::<crate::Hosts>(
            r#"
[ssh]
supervisor_command = "sudo -n supervisorctl {action} {program}"
[[ssh.hosts]]
name = "es 1"
supervisor = true
junk_paths = ["/data/es"]
"#,
            std::path::Path::new("test.toml"),
        )
        .unwrap()
    }

    #[test]
    fn restart_plan_shows_the_exact_quoted_command() {
        let p = supervisor_plan(&config(), "es 1", "pillows:case-pillow_0", SupervisorAction::Restart).unwrap();
        assert_eq!(
            p.call,
            "ssh 'es 1' -- sudo -n supervisorctl restart pillows:case-pillow_0"
        );
        assert_eq!(p.risk, Risk::Medium);
        assert_eq!(p.target, "es 1:pillows:case-pillow_0");
        assert!(supervisor_plan(&config(), "nope", "x", SupervisorAction::Restart).is_err());
        // A name no supervisor program has is refused, not quoted and sent.
        let e = supervisor_plan(&config(), "es 1", "pillow;$(reboot)", SupervisorAction::Restart).unwrap_err();
        assert!(
            e.starts_with("program name \"pillow;$(reboot)\" from supervisorctl status on es 1 has characters"),
            "{e}"
        );
    }

    fn fleet() -> SshConfig {
        parse_section::<crate::Hosts>(
            r#"
[[ssh.hosts]]
name = "es-1"
address = "10.0.0.7"
user = "ops man"
port = 2222
jump = ["bastion", "inner jump"]
supervisor = true
junk_paths = ["/data/es"]
[[ssh.hosts]]
name = "alias-only"
junk_paths = ["/data/es"]
[[ssh.hosts]]
name = "demo-1"
transport = "local"
supervisor = true
junk_paths = ["/data/es"]
"#,
            std::path::Path::new("test.toml"),
        )
        .unwrap()
    }

    #[test]
    fn call_text_is_the_ssh_command_line_of_the_hosts_config() {
        let c = fleet();
        assert_eq!(
            call_text(&c, "es-1", "df -k"),
            "ssh -J 'bastion,inner jump' -p 2222 'ops man@10.0.0.7' -- df -k"
        );
        assert_eq!(call_text(&c, "alias-only", "df -k"), "ssh alias-only -- df -k");
        // This machine: just the command.
        assert_eq!(call_text(&c, "demo-1", "df -k"), "df -k");
        assert_eq!(call_text(&c, "local", "df -k"), "df -k");
        assert_eq!(
            call_text(&c, "not configured", "df -k"),
            "ssh 'not configured' -- df -k"
        );
        let p = supervisor_plan(&c, "demo-1", "es", SupervisorAction::Stop).unwrap();
        assert_eq!(p.call, "sudo -n supervisorctl stop es");
        assert!(p.description.contains("on demo-1 (this machine)"), "{}", p.description);
        let p = du_plan(&c, "es-1", "/data").unwrap();
        assert!(
            p.call
                .starts_with("ssh -J 'bastion,inner jump' -p 2222 'ops man@10.0.0.7' -- timeout"),
            "{}",
            p.call
        );
        assert!(p.description.contains("on es-1 "), "{}", p.description);
    }

    fn junk(path: &str, size_bytes: u64, ino: u64) -> JunkFile {
        JunkFile {
            path: path.into(),
            size_bytes,
            modified: None,
            id: Some(FileId { dev: 1, ino }),
        }
    }

    #[test]
    fn remove_plan_leaves_out_names_it_cannot_show_or_recognise() {
        let host = HostStatus {
            name: "es 1".into(),
            ..HostStatus::default()
        };
        let lossy = junk("/data/es/java_pid\u{FFFD}.hprof", 1 << 30, 1);
        let no_id = JunkFile {
            id: None,
            ..junk("/data/es/core.1", 1 << 30, 0)
        };
        let escape = junk("/data/es/\u{1b}[2Jcore.2", 1 << 30, 3);
        let good = junk("/data/es/core", 1 << 20, 2);
        let e = remove_files_plan(&config(), &host, std::slice::from_ref(&lossy)).unwrap_err();
        assert!(
            e.contains("java_pid\u{FFFD}.hprof: name is not valid UTF-8; remove it by hand"),
            "{e}"
        );
        let p = remove_files_plan(&config(), &host, &[lossy, no_id, escape, good]).unwrap();
        assert!(p.call.ends_with("opsdeck-remove 1:2 /data/es core"), "{}", p.call);
        assert!(
            p.description.contains("Delete these 1 file(s), 1.0 MiB in total"),
            "{}",
            p.description
        );
        for why in [
            "name is not valid UTF-8; remove it by hand",
            "core.1: listed without its device:inode",
            "/data/es/\u{fffd}core.2: name has control characters; remove it by hand",
        ] {
            assert!(p.description.contains(why), "{}", p.description);
        }
        match p.op.downcast_ref::<HostsOp>() {
            Some(HostsOp::RemoveFiles { files, .. }) => {
                let listed: Vec<(&str, &str, u64)> = files
                    .iter()
                    .map(|f| (f.path.as_str(), f.root.as_str(), f.size_bytes))
                    .collect();
                assert_eq!(listed, [("/data/es/core", "/data/es", 1 << 20)]);
            }
            other => panic!("{other:?}"),
        }
    }

    fn local_ctx(dir: &std::path::Path) -> ActionCtx {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        ActionCtx {
            backends: Arc::new(
                opsdeck_core::pane::Clients::default()
                    .with::<crate::Hosts>(SshBackend::new(&SshConfig::default()).unwrap()),
            ),
            progress: tx,
            audit: opsdeck_core::audit::AuditLog::new(
                dir.join("audit.jsonl"),
                opsdeck_core::audit::Identity::current(),
            ),
            cancel: tokio_util::sync::CancellationToken::new(),
        }
    }

    /// A file's removal as a plan lists it, with its device:inode read now.
    fn listed(root: &std::path::Path, path: &std::path::Path) -> files::Removal {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(path).unwrap();
        let id = FileId {
            dev: m.dev(),
            ino: m.ino(),
        };
        files::removal(
            &path.to_string_lossy(),
            id,
            m.len(),
            &[root.to_string_lossy().into_owned()],
        )
        .unwrap()
    }

    #[tokio::test]
    async fn removing_takes_only_files_that_are_still_the_ones_listed() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let ctx = local_ctx(dir.path());
        let op = |files: Vec<files::Removal>| HostsOp::RemoveFiles {
            host: "local".into(),
            files,
        };
        // A name that is not UTF-8, as `find` reports it after lossy decoding: never "vanished".
        let real = dir.path().join(std::ffi::OsStr::from_bytes(b"java_pid\xff.hprof"));
        std::fs::write(&real, b"dump").unwrap();
        let lossy = listed(dir.path(), &real);
        assert!(lossy.path.contains('\u{FFFD}'));
        let o = run(op(vec![lossy]), &ctx).await;
        assert_eq!(o.result, opsdeck_core::action::OutcomeResult::Failed, "{}", o.summary);
        assert!(o.summary.contains("not valid UTF-8"), "{}", o.summary);
        assert!(real.exists());

        // Listed, then replaced: by a directory, by another file of the same name; one listed file
        // is gone already, one is as listed.
        let plain = dir.path().join("plain.hprof");
        let core = dir.path().join("core");
        let swapped = dir.path().join("swapped.hprof");
        let gone = dir.path().join("gone.hprof");
        for f in [&plain, &core, &swapped, &gone] {
            std::fs::write(f, b"dump").unwrap();
        }
        let plan: Vec<files::Removal> = [&plain, &core, &swapped, &gone]
            .iter()
            .map(|f| listed(dir.path(), f))
            .collect();
        std::fs::remove_file(&core).unwrap();
        std::fs::create_dir(&core).unwrap();
        std::fs::rename(&swapped, dir.path().join("kept.hprof")).unwrap();
        std::fs::write(&swapped, b"a new file under the old name").unwrap();
        std::fs::remove_file(&gone).unwrap();
        let o = run(op(plan), &ctx).await;
        assert_eq!(o.result, opsdeck_core::action::OutcomeResult::Failed, "{}", o.summary);
        let s = &o.summary;
        assert!(
            s.starts_with(&format!("removed 1 of 4 file(s), 4 B on local: {}", plain.display())),
            "{s}"
        );
        assert!(
            s.contains("core (changed since planned, left alone: it is not a regular file now)"),
            "{s}"
        );
        assert!(
            s.contains("swapped.hprof (changed since planned, left alone: it is another file now"),
            "{s}"
        );
        assert!(s.contains("gone.hprof (vanished: it is gone)"), "{s}");
        assert!(!plain.exists());
        assert!(core.is_dir() && swapped.exists() && dir.path().join("kept.hprof").exists());
    }

    #[test]
    fn remove_plan_lists_every_file_and_refuses_paths_outside_junk_dirs() {
        let host = HostStatus {
            name: "es 1".into(),
            ..HostStatus::default()
        };
        let files = vec![
            junk("/data/es/java_pid1.hprof", 2 << 30, 7),
            junk("/data/es/x'$(id).hprof", 1 << 20, 8),
        ];
        let p = remove_files_plan(&config(), &host, &files).unwrap();
        assert_eq!(p.risk, Risk::High);
        assert!(p.description.contains("2.0 GiB  /data/es/java_pid1.hprof"));
        assert!(p.description.contains("2.0 GiB in total"));
        assert!(
            p.call
                .ends_with(r#"opsdeck-remove 1:7 /data/es java_pid1.hprof 1:8 /data/es 'x'\''$(id).hprof'"#),
            "{}",
            p.call
        );
        assert!(remove_files_plan(&config(), &host, &[junk("/etc/passwd", 1, 9)]).is_err());
    }

    #[test]
    fn freed_space_is_reported_per_filesystem() {
        let fs = |avail: u64, pct: f64| Filesystem {
            source: "/dev/x".into(),
            fstype: None,
            mount: "/data".into(),
            size_kib: 100 << 20,
            used_kib: 0,
            avail_kib: avail,
            use_percent: pct,
            inodes: None,
        };
        let t = freed_text(
            Some(&[fs(5 << 20, 95.0)]),
            Some(&[fs(7 << 20, 93.0)]),
            &["/data/es/a.hprof".into()],
        );
        assert_eq!(t, "/data 95% → 93% used (2.0 GiB freed)");
    }
}
