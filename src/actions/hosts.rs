//! Remediation on hosts: supervisor start/stop/restart (verified by status), removing crash dumps
//! (verified by their absence, with the space freed measured by df), and `du` scans.
//!
//! Plans are built by pure functions from config and the last poll, so they are testable and the
//! confirm dialog shows exactly the command that will run.

use super::custom::shell_quote;
use super::{ActionCtx, ActionPlan, Operation, Outcome, Risk};
use crate::config::Config;
use crate::config::ssh::{SshConfig, TransportKind};
use crate::model::hosts::{Filesystem, HostStatus, JunkFile, human_bytes, human_kib, printable};
use crate::sources::ssh::{SshBackend, SupervisorAction, SupervisorError, df, files, supervisor};
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
        files: Vec<String>,
        total_bytes: u64,
    },
    Du {
        host: String,
        path: String,
        timeout: Duration,
    },
}

fn host_config<'a>(config: &'a Config, host: &str) -> Result<&'a crate::config::ssh::HostConfig, String> {
    config
        .ssh
        .host(host)
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

/// What the junk action says about a file it will not touch: its name came from the host as bytes
/// that are not UTF-8 and was decoded lossily (U+FFFD), so it names no real file.
fn unreadable_name(path: &str) -> Option<String> {
    path.contains('\u{FFFD}')
        .then(|| format!("{}: name is not valid UTF-8; remove it by hand", printable(path)))
}

/// How long a start/stop/restart may take to show in supervisor's status, by default.
const SUPERVISOR_WITHIN: Duration = Duration::from_secs(30);

/// start/stop/restart of one supervisor program.
pub fn supervisor_plan(
    config: &Config,
    host: &str,
    program: &str,
    action: SupervisorAction,
) -> Result<ActionPlan, String> {
    supervisor_plan_within(config, host, program, action, SUPERVISOR_WITHIN)
}

/// As [`supervisor_plan`], for a program that may take up to `within` (supervisorctl included) to
/// stop and start again: Elasticsearch can spend minutes shutting down.
pub fn supervisor_plan_within(
    config: &Config,
    host: &str,
    program: &str,
    action: SupervisorAction,
    within: Duration,
) -> Result<ActionPlan, String> {
    let h = host_config(config, host)?;
    if !h.supervisor {
        return Err(format!("supervisor is not configured on {host}"));
    }
    let cmd = supervisor::command(config.ssh.supervisor_template(h), action, Some(program))?;
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
            on_host(&config.ssh, host)
        ),
        call: call_text(&config.ssh, host, &cmd.to_shell()),
        risk,
        verify,
        timeout: within + config.ssh.command_timeout.get() * 3,
        op: Operation::Hosts(HostsOp::Supervisor {
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
pub fn remove_files_plan(config: &Config, host: &HostStatus, junk: &[JunkFile]) -> Result<ActionPlan, String> {
    let h = host_config(config, &host.name)?;
    if junk.is_empty() {
        return Err(format!("no junk files found on {}", host.name));
    }
    // A lossily decoded name is not the file's name: rm would miss it and the check would pass.
    let (junk, unreadable): (Vec<&JunkFile>, Vec<&JunkFile>) =
        junk.iter().partition(|f| unreadable_name(&f.path).is_none());
    if junk.is_empty() {
        let why: Vec<String> = unreadable.iter().filter_map(|f| unreadable_name(&f.path)).collect();
        return Err(why.join("; "));
    }
    let paths: Vec<String> = junk.iter().map(|f| f.path.clone()).collect();
    for p in &paths {
        files::check_removable(p, &h.junk_paths)?;
    }
    let total: u64 = junk.iter().map(|f| f.size_bytes).sum();
    let mut description = format!(
        "Delete these {} file(s), {} in total, {}:\n",
        junk.len(),
        human_bytes(total),
        on_host(&config.ssh, &host.name)
    );
    for f in &junk {
        description.push_str(&format!(
            "  {:>10}  {}\n",
            human_bytes(f.size_bytes),
            printable(&f.path)
        ));
    }
    if !unreadable.is_empty() {
        description.push_str(&format!("Left alone, {} file(s):\n", unreadable.len()));
        for f in &unreadable {
            description.push_str(&format!("  {}\n", unreadable_name(&f.path).unwrap_or_default()));
        }
    }
    description.push_str("Then df runs again to show the space freed.");
    Ok(ActionPlan {
        action: "hosts.remove_junk".into(),
        title: format!("Remove {} junk file(s) on {}", junk.len(), host.name),
        target: host.name.clone(),
        description,
        call: call_text(
            &config.ssh,
            &host.name,
            &files::remove_command(&paths)
                .prefixed(config.ssh.files_prefix_of(&host.name))
                .to_shell(),
        ),
        risk: Risk::High,
        verify: "none of the files exists afterwards; df shows the space freed".into(),
        timeout: config.ssh.command_timeout.get() * 4,
        op: Operation::Hosts(HostsOp::RemoveFiles {
            host: host.name.clone(),
            files: paths,
            total_bytes: total,
        }),
        identity: String::new(),
    })
}

/// A `du` scan of `path` on `host` (read-only, low risk, runs in the background with progress).
pub fn du_plan(config: &Config, host: &str, path: &str) -> Result<ActionPlan, String> {
    host_config(config, host)?;
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
            on_host(&config.ssh, host)
        ),
        call: call_text(
            &config.ssh,
            host,
            &files::du_command(path, timeout.as_secs())
                .prefixed(config.ssh.files_prefix_of(host))
                .to_shell(),
        ),
        risk: Risk::Low,
        verify: "du finishes; the biggest entries show under the host".into(),
        timeout: timeout + Duration::from_secs(30),
        op: Operation::Hosts(HostsOp::Du {
            host: host.to_string(),
            path: path.to_string(),
            timeout,
        }),
        identity: String::new(),
    })
}

fn backend(ctx: &ActionCtx) -> Result<&SshBackend, Outcome> {
    ctx.backends
        .ssh
        .as_ref()
        .ok_or_else(|| Outcome::failed("no SSH/local transport is configured"))
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
        HostsOp::RemoveFiles {
            host,
            files: paths,
            total_bytes,
        } => remove_files(ssh, ctx, &host, &paths, total_bytes).await,
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

async fn remove_files(ssh: &SshBackend, ctx: &ActionCtx, host: &str, paths: &[String], total: u64) -> Outcome {
    // Plans leave such names out; an op built any other way must not "succeed" on a name that
    // matches no file (rm -f is silent about it, and the check finds nothing there).
    let unreadable: Vec<String> = paths.iter().filter_map(|p| unreadable_name(p)).collect();
    if !unreadable.is_empty() {
        return Outcome::failed(format!("nothing removed: {}", unreadable.join("; ")));
    }
    let timeout = ssh.config().command_timeout.get();
    let prefix = ssh.config().files_prefix_of(host);
    ctx.report(format!("df on {host} before removing"), Some(0.1));
    let before = df_now(ssh, host, timeout).await;
    ctx.report(format!("removing {} file(s) on {host}", paths.len()), Some(0.3));
    let rm_said = match ssh
        .run(host, &files::remove_command(paths).prefixed(prefix), timeout)
        .await
    {
        Err(e) => return Outcome::failed(format!("rm did not run: {e}")),
        Ok(out) if !out.success() => {
            tracing::warn!(host, stderr = %out.stderr, "rm reported problems");
            Some(match out.status {
                Some(c) => format!("rm exit {c}: {}", printable(out.last_line())),
                None => format!("rm killed: {}", printable(out.last_line())),
            })
        }
        Ok(_) => None,
    };
    ctx.report("checking the files are gone", Some(0.6));
    let still = match ssh
        .run(host, &files::still_there_command(paths).prefixed(prefix), timeout)
        .await
    {
        // Only a check that ran to its end says anything: an empty answer from a failed one is no proof.
        Ok(out) if out.success() => out
            .stdout
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect::<Vec<_>>(),
        Ok(out) => {
            return Outcome::unverified(format!(
                "rm ran; could not check the files are gone: {}",
                match out.status {
                    Some(c) => format!("exit {c}: {}", printable(out.last_line())),
                    None => format!("killed: {}", printable(out.last_line())),
                }
            ));
        }
        Err(e) => return Outcome::unverified(format!("rm ran; could not check the files are gone: {e}")),
    };
    ctx.report(format!("df on {host} after removing"), Some(0.8));
    let after = df_now(ssh, host, timeout).await;
    let freed = freed_text(before.as_deref(), after.as_deref(), paths);
    if !still.is_empty() {
        return Outcome::failed(format!(
            "{} of {} file(s) are still there ({}); {freed}",
            still.len(),
            paths.len(),
            still.iter().map(|s| printable(s)).collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(said) = rm_said {
        // rm -f only fails for a file it could not remove: gone or not, something is off.
        return Outcome::unverified(format!(
            "{said}; none of the {} file(s) is there now; {freed}",
            paths.len()
        ));
    }
    Outcome::succeeded(format!(
        "removed {} file(s), {} on {host}; {freed}",
        paths.len(),
        human_bytes(total)
    ))
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

    fn config() -> Config {
        crate::config::parse_str(
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
        assert!(e.contains("program name \"pillow;$(reboot)\""), "{e}");
    }

    fn fleet() -> Config {
        crate::config::parse_str(
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
            call_text(&c.ssh, "es-1", "df -k"),
            "ssh -J 'bastion,inner jump' -p 2222 'ops man@10.0.0.7' -- df -k"
        );
        assert_eq!(call_text(&c.ssh, "alias-only", "df -k"), "ssh alias-only -- df -k");
        // This machine: just the command.
        assert_eq!(call_text(&c.ssh, "demo-1", "df -k"), "df -k");
        assert_eq!(call_text(&c.ssh, "local", "df -k"), "df -k");
        assert_eq!(
            call_text(&c.ssh, "not configured", "df -k"),
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

    #[test]
    fn remove_plan_leaves_out_names_that_are_not_utf8() {
        let host = HostStatus {
            name: "es 1".into(),
            ..HostStatus::default()
        };
        let lossy = JunkFile {
            path: "/data/es/java_pid\u{FFFD}.hprof".into(),
            size_bytes: 1 << 30,
            modified: None,
        };
        let good = JunkFile {
            path: "/data/es/core".into(),
            size_bytes: 1 << 20,
            modified: None,
        };
        let e = remove_files_plan(&config(), &host, std::slice::from_ref(&lossy)).unwrap_err();
        assert!(
            e.contains("java_pid\u{FFFD}.hprof: name is not valid UTF-8; remove it by hand"),
            "{e}"
        );
        let p = remove_files_plan(&config(), &host, &[lossy, good]).unwrap();
        assert!(p.call.ends_with("rm -f -- /data/es/core"), "{}", p.call);
        assert!(
            p.description.contains("Delete these 1 file(s), 1.0 MiB in total"),
            "{}",
            p.description
        );
        assert!(
            p.description.contains("name is not valid UTF-8; remove it by hand"),
            "{}",
            p.description
        );
        match p.op {
            Operation::Hosts(HostsOp::RemoveFiles { files, total_bytes, .. }) => {
                assert_eq!(files, ["/data/es/core"]);
                assert_eq!(total_bytes, 1 << 20);
            }
            other => panic!("{other:?}"),
        }
    }

    fn local_ctx(dir: &std::path::Path) -> ActionCtx {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        ActionCtx {
            backends: crate::sources::Backends {
                ssh: Some(SshBackend::new(&SshConfig::default()).unwrap()),
                ..Default::default()
            },
            progress: tx,
            audit: crate::actions::audit::AuditLog::new(
                dir.join("audit.jsonl"),
                crate::actions::audit::Identity::current(),
            ),
            cancel: tokio_util::sync::CancellationToken::new(),
        }
    }

    #[tokio::test]
    async fn removing_never_succeeds_while_a_listed_file_is_still_there() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let ctx = local_ctx(dir.path());
        let d = dir.path().to_str().unwrap();
        // A name that is not UTF-8, as `find` reports it after lossy decoding.
        let real = dir.path().join(std::ffi::OsStr::from_bytes(b"java_pid\xff.hprof"));
        std::fs::write(&real, b"dump").unwrap();
        let lossy = format!("{d}/{}", real.file_name().unwrap().to_string_lossy());
        assert!(lossy.contains('\u{FFFD}'));
        let op = |files: Vec<String>| HostsOp::RemoveFiles {
            host: "local".into(),
            files,
            total_bytes: 4,
        };
        let o = run(op(vec![lossy]), &ctx).await;
        assert_ne!(o.result, crate::actions::OutcomeResult::Succeeded, "{}", o.summary);
        assert!(o.summary.contains("not valid UTF-8"), "{}", o.summary);
        assert!(real.exists());
        // A file rm cannot remove (a directory) is reported as still there.
        std::fs::create_dir(dir.path().join("core")).unwrap();
        let plain = format!("{d}/plain.hprof");
        std::fs::write(&plain, b"dump").unwrap();
        let o = run(op(vec![plain.clone(), format!("{d}/core")]), &ctx).await;
        assert_eq!(o.result, crate::actions::OutcomeResult::Failed, "{}", o.summary);
        assert!(o.summary.contains("1 of 2 file(s) are still there"), "{}", o.summary);
        assert!(!std::path::Path::new(&plain).exists());
    }

    #[test]
    fn remove_plan_lists_every_file_and_refuses_paths_outside_junk_dirs() {
        let host = HostStatus {
            name: "es 1".into(),
            ..HostStatus::default()
        };
        let junk = vec![
            JunkFile {
                path: "/data/es/java_pid1.hprof".into(),
                size_bytes: 2 << 30,
                modified: None,
            },
            JunkFile {
                path: "/data/es/x'$(id).hprof".into(),
                size_bytes: 1 << 20,
                modified: None,
            },
        ];
        let p = remove_files_plan(&config(), &host, &junk).unwrap();
        assert_eq!(p.risk, Risk::High);
        assert!(p.description.contains("2.0 GiB  /data/es/java_pid1.hprof"));
        assert!(p.description.contains("2.0 GiB in total"));
        assert!(
            p.call
                .ends_with(r#"rm -f -- /data/es/java_pid1.hprof '/data/es/x'\''$(id).hprof'"#),
            "{}",
            p.call
        );
        let bad = vec![JunkFile {
            path: "/etc/passwd".into(),
            size_bytes: 1,
            modified: None,
        }];
        assert!(remove_files_plan(&config(), &host, &bad).is_err());
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
