//! What a person would conclude from the hosts data: full disks, inode exhaustion, hosts that do not
//! answer, supervisor programs that are not RUNNING, crash dumps lying around.

use crate::Hosts;
use crate::config::SshConfig;
use crate::model::{HostsState, ProgramState, human_bytes, human_kib, row_key};
use opsdeck_core::alert::{Alert, AlertTarget, Severity};
use opsdeck_core::pane::Pane;

/// Severity of a usage percentage against (warn, crit) thresholds.
pub fn usage_severity(percent: f64, warn: f64, crit: f64) -> Severity {
    if percent >= crit {
        Severity::Critical
    } else if percent >= warn {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

/// How bad a program's state is: RUNNING is fine, a program on its way somewhere is a warning, a
/// program that gave up (FATAL, BACKOFF, EXITED) is critical.
pub fn program_severity(state: &ProgramState) -> Severity {
    match state {
        ProgramState::Running => Severity::Ok,
        ProgramState::Starting | ProgramState::Stopping | ProgramState::Stopped => Severity::Warning,
        ProgramState::Backoff | ProgramState::Exited | ProgramState::Fatal | ProgramState::Unknown => {
            Severity::Critical
        }
    }
}

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(state: &HostsState, c: &SshConfig) -> Vec<Alert> {
    let mut out = Vec::new();
    for h in &state.hosts {
        // The host's row, and rows of the host's own view (its disks, programs, dumps).
        let host_row = || AlertTarget::row(Hosts::ID, &h.name).in_view("hosts");
        let inside = |kind: &str, name: &str| {
            AlertTarget::row(Hosts::ID, row_key::of(kind, name))
                .in_view("hosts")
                .through([h.name.clone()])
        };
        if !h.reachable {
            out.push(
                Alert::new(
                    Severity::Critical,
                    Hosts::ID,
                    h.name.clone(),
                    format!("unreachable: {}", h.error.as_deref().unwrap_or("no answer")),
                )
                .at(host_row()),
            );
        }
        for f in h.disks(false) {
            let sev = usage_severity(f.use_percent, c.disk_warn, c.disk_crit);
            if sev > Severity::Ok {
                out.push(
                    Alert::new(
                        sev,
                        Hosts::ID,
                        format!("{}:{}", h.name, f.mount),
                        format!(
                            "disk {:.0}% full ({} free of {})",
                            f.use_percent,
                            human_kib(f.avail_kib),
                            human_kib(f.size_kib)
                        ),
                    )
                    .at(inside(row_key::FS, &f.mount)),
                );
            }
            if let Some(i) = &f.inodes
                && i.total > 0
            {
                let sev = usage_severity(i.use_percent, c.inode_warn, c.inode_crit);
                if sev > Severity::Ok {
                    out.push(
                        Alert::new(
                            sev,
                            Hosts::ID,
                            format!("{}:{}", h.name, f.mount),
                            format!("inodes {:.0}% used ({} free)", i.use_percent, i.free),
                        )
                        .at(inside(row_key::FS, &f.mount)),
                    );
                }
            }
        }
        if let Some(e) = &h.filesystems_error {
            out.push(
                Alert::new(Severity::Warning, Hosts::ID, h.name.clone(), format!("df failed: {e}")).at(host_row()),
            );
        }
        if let Some(e) = &h.programs_error {
            out.push(
                Alert::new(
                    Severity::Warning,
                    Hosts::ID,
                    h.name.clone(),
                    format!("supervisor status failed: {e}"),
                )
                .at(host_row()),
            );
        }
        for p in &h.programs {
            let sev = program_severity(&p.state);
            if sev > Severity::Ok {
                out.push(
                    Alert::new(
                        sev,
                        Hosts::ID,
                        format!("{}:{}", h.name, p.name),
                        format!("{} {}", p.state.as_str(), p.description).trim().to_string(),
                    )
                    .at(inside(row_key::PROG, &p.name)),
                );
            }
        }
        if let Some(first) = h.junk.first() {
            let total: u64 = h.junk.iter().map(|j| j.size_bytes).sum();
            out.push(
                Alert::new(
                    Severity::Warning,
                    Hosts::ID,
                    h.name.clone(),
                    format!("{} crash dump/junk file(s), {}", h.junk.len(), human_bytes(total)),
                )
                .at(inside(row_key::JUNK, &first.path)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Filesystem, HostStatus, Program};

    #[test]
    fn disks_programs_and_dead_hosts_become_alerts() {
        let config = SshConfig {
            disk_warn: 80.0,
            disk_crit: 90.0,
            ..SshConfig::default()
        };
        let fs = |mount: &str, pct: f64, kind: &str| Filesystem {
            source: "/dev/x".into(),
            fstype: Some(kind.into()),
            mount: mount.into(),
            size_kib: 1000,
            used_kib: 0,
            avail_kib: 10,
            use_percent: pct,
            inodes: None,
        };
        let prog = |name: &str, state: ProgramState| Program {
            name: name.into(),
            state,
            pid: None,
            uptime_secs: None,
            description: String::new(),
        };
        let state = HostsState {
            hosts: vec![
                HostStatus {
                    name: "a".into(),
                    reachable: true,
                    filesystems: vec![
                        fs("/", 95.0, "ext4"),
                        fs("/data", 85.0, "xfs"),
                        fs("/run", 99.0, "tmpfs"),
                    ],
                    programs: vec![prog("ok", ProgramState::Running), prog("bad", ProgramState::Fatal)],
                    ..HostStatus::default()
                },
                HostStatus {
                    name: "b".into(),
                    reachable: false,
                    error: Some("connection refused".into()),
                    ..HostStatus::default()
                },
            ],
        };
        let a = alerts(&state, &config);
        let find = |s: &str| a.iter().find(|x| x.subject == s).map(|x| x.severity);
        assert_eq!(find("a:/"), Some(Severity::Critical));
        assert_eq!(find("a:/data"), Some(Severity::Warning));
        assert_eq!(find("a:/run"), None, "tmpfs is not a disk");
        assert_eq!(find("a:bad"), Some(Severity::Critical));
        assert_eq!(find("a:ok"), None);
        assert_eq!(find("b"), Some(Severity::Critical));
    }
}
