//! Remediation on hosts: supervisor start/stop/restart (verified by status), removing crash dumps
//! (verified by their absence, with the space freed measured by df), and `du` scans.
//!
//! Plans are built by pure functions from config and the last poll, so they are testable and the
//! confirm dialog shows exactly the command that will run.

use super::{ActionCtx, ActionPlan, Operation, Outcome, Risk};
use crate::config::Config;
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

fn via(config: &Config, host: &str, command: &str) -> String {
    match config.ssh.host(host).map(|h| h.transport) {
        Some(crate::config::ssh::TransportKind::Local) => format!("(local) {command}"),
        _ => format!("ssh {host} -- {command}"),
    }
}

/// start/stop/restart of one supervisor program.
pub fn supervisor_plan(
    config: &Config,
    host: &str,
    program: &str,
    action: SupervisorAction,
) -> Result<ActionPlan, String> {
    let h = host_config(config, host)?;
    if !h.supervisor {
        return Err(format!("supervisor is not configured on {host}"));
    }
    let cmd = supervisor::command(config.ssh.supervisor_template(h), action, Some(program))?;
    let (risk, verify, within) = match action {
        SupervisorAction::Restart => (
            Risk::Medium,
            format!("supervisorctl status shows {program} RUNNING with a new pid"),
            Duration::from_secs(30),
        ),
        SupervisorAction::Start => (
            Risk::Low,
            format!("supervisorctl status shows {program} RUNNING"),
            Duration::from_secs(30),
        ),
        SupervisorAction::Stop => (
            Risk::Medium,
            format!("supervisorctl status shows {program} STOPPED"),
            Duration::from_secs(30),
        ),
        SupervisorAction::Status => return Err("status is not an action".into()),
    };
    Ok(ActionPlan {
        action: format!("hosts.{}_program", action.as_str()),
        title: format!("{} {program} on {host}", capitalise(action.as_str())),
        target: format!("{host}:{program}"),
        description: format!(
            "{} the supervisor program {program} on {host}.",
            capitalise(action.as_str())
        ),
        call: via(config, host, &cmd.to_shell()),
        risk,
        verify,
        timeout: within + config.ssh.command_timeout.get() * 3,
        op: Operation::Hosts(HostsOp::Supervisor {
            host: host.to_string(),
            program: program.to_string(),
            action,
            verify_within: within,
        }),
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
    let paths: Vec<String> = junk.iter().map(|f| f.path.clone()).collect();
    for p in &paths {
        files::check_removable(p, &h.junk_paths)?;
    }
    let total: u64 = junk.iter().map(|f| f.size_bytes).sum();
    let mut description = format!(
        "Delete these {} file(s), {} in total, on {}:\n",
        junk.len(),
        human_bytes(total),
        host.name
    );
    for f in junk {
        description.push_str(&format!(
            "  {:>10}  {}\n",
            human_bytes(f.size_bytes),
            printable(&f.path)
        ));
    }
    description.push_str("Then df runs again to show the space freed.");
    Ok(ActionPlan {
        action: "hosts.remove_junk".into(),
        title: format!("Remove {} junk file(s) on {}", junk.len(), host.name),
        target: host.name.clone(),
        description,
        call: via(config, &host.name, &files::remove_command(&paths).to_shell()),
        risk: Risk::High,
        verify: "none of the files exists afterwards; df shows the space freed".into(),
        timeout: config.ssh.command_timeout.get() * 4,
        op: Operation::Hosts(HostsOp::RemoveFiles {
            host: host.name.clone(),
            files: paths,
            total_bytes: total,
        }),
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
        description: format!("Measure the size of each entry under {path} on {host} (du -x, one filesystem)."),
        call: via(config, host, &files::du_command(path, timeout.as_secs()).to_shell()),
        risk: Risk::Low,
        verify: "du finishes; the biggest entries show under the host".into(),
        timeout: timeout + Duration::from_secs(30),
        op: Operation::Hosts(HostsOp::Du {
            host: host.to_string(),
            path: path.to_string(),
            timeout,
        }),
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
                    Outcome::succeeded(format!("du {path}: {} entries; biggest: {}", r.scanned, top.join(", ")))
                }
                Err(e) => Outcome::failed(e),
            }
        }
    }
}

async fn df_now(ssh: &SshBackend, host: &str, timeout: Duration) -> Option<Vec<Filesystem>> {
    let out = ssh
        .run(host, &df::command(false, timeout.as_secs().max(2) - 1), timeout)
        .await
        .ok()?;
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
    let timeout = ssh.config().command_timeout.get();
    ctx.report(format!("df on {host} before removing"), Some(0.1));
    let before = df_now(ssh, host, timeout).await;
    ctx.report(format!("removing {} file(s) on {host}", paths.len()), Some(0.3));
    match ssh.run(host, &files::remove_command(paths), timeout).await {
        Err(e) => return Outcome::failed(format!("rm did not run: {e}")),
        Ok(out) if !out.success() => {
            tracing::warn!(host, stderr = %out.stderr, "rm reported problems");
        }
        Ok(_) => {}
    }
    ctx.report("checking the files are gone", Some(0.6));
    let still = match ssh.run(host, &files::still_there_command(paths), timeout).await {
        Ok(out) => out
            .stdout
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect::<Vec<_>>(),
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
        let p = supervisor_plan(&config(), "es 1", "pillow;$(reboot)", SupervisorAction::Restart).unwrap();
        assert_eq!(p.call, "ssh es 1 -- sudo -n supervisorctl restart 'pillow;$(reboot)'");
        assert_eq!(p.risk, Risk::Medium);
        assert_eq!(p.target, "es 1:pillow;$(reboot)");
        assert!(supervisor_plan(&config(), "nope", "x", SupervisorAction::Restart).is_err());
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
