//! `opsdeck doctor` for hosts and logs: log in (BatchMode, known host keys only), read supervisor's
//! programs, and ask sudo — without running anything — whether each command the console would run
//! through it is allowed (`sudo -n -l COMMAND…`, which answers for the exact words). Other panes
//! whose actions run on these hosts (a pillow's restart) use [`sudo_allows`] too.

use crate::Hosts;
use crate::config::HostConfig;
use crate::source::{SshBackend, SupervisorAction, files, supervisor};
use futures::future::BoxFuture;
use opsdeck_core::doctor::{Doctor, Finding, Verdict};
use opsdeck_core::exec::Cmd;
use opsdeck_core::pane::{Pane, PaneBackends, PaneConfigs};

const HOSTS: &str = Hosts::ID.name();
const LOGS: &str = crate::Logs::ID.name();

impl Doctor for Hosts {
    fn doctor<'a>(_config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let Some(ssh) = backends.of::<Hosts>() else {
                return Vec::new();
            };
            let hosts = ssh.config().hosts.iter().map(|h| check_host(ssh, h));
            futures::future::join_all(hosts).await.into_iter().flatten().collect()
        })
    }
}

/// Whether `host` can be logged into: `Ok` or the reason, in words a person acts on.
pub async fn login(ssh: &SshBackend, host: &str) -> Result<(), String> {
    let limit = ssh.config().connect_timeout.get() + ssh.config().command_timeout.get();
    match ssh.run(host, &Cmd::argv(["true"]), limit).await {
        Ok(out) if out.success() => Ok(()),
        Ok(out) => Err(format!("`true` exited {:?}: {}", out.status, out.last_line())),
        Err(e) => Err(login_failure(&e)),
    }
}

/// ssh's refusal, said as what to do about it (the host key is never accepted on its own).
fn login_failure(error: &str) -> String {
    if error.contains("IDENTIFICATION HAS CHANGED") || error.contains("host key for") && error.contains("has changed") {
        format!("host key does not match known_hosts (never replaced automatically): {error}")
    } else if error.contains("Host key verification failed") || error.contains("host key is known") {
        format!("host key not known: add the host to known_hosts (never accepted automatically): {error}")
    } else {
        error.to_string()
    }
}

/// Whether sudo on `host` lets the ssh user run `argv` (a command starting with `sudo`, as the
/// config writes it) without a password: `sudo -n -l` with the same options and the exact words.
/// `None` when `argv` does not go through sudo.
pub async fn sudo_allows(ssh: &SshBackend, host: &str, argv: &[String]) -> Option<Verdict> {
    let (sudo, options, command) = split_sudo(argv)?;
    let mut ask = vec![sudo.to_string()];
    ask.extend(options.iter().cloned());
    if !options.iter().any(|o| o == "-n") {
        ask.push("-n".into());
    }
    ask.push("-l".into());
    ask.extend(command.iter().cloned());
    let shown = Cmd::argv(command.to_vec()).to_shell();
    let limit = ssh.config().command_timeout.get();
    Some(match ssh.run(host, &Cmd::Argv(ask), limit).await {
        Ok(out) if out.success() => Verdict::Ok(String::new()),
        Ok(out) if out.status == Some(127) => Verdict::Missing(format!("sudo: not found on {host}")),
        Ok(out) => {
            let user = ssh.config().host(host).and_then(|h| h.user.as_deref());
            let who = user
                .map(|u| format!("{u} is"))
                .unwrap_or_else(|| "the ssh user is".into());
            let said = match out.last_line() {
                "" => String::new(),
                line => format!(" ({line})"),
            };
            Verdict::Missing(format!(
                "sudo: {who} not allowed to run {shown} without a password on {host}{said}"
            ))
        }
        Err(e) => Verdict::Unreachable(e),
    })
}

/// `sudo`, its options (`-n`, `-u USER`...) and the command it runs; `None` when `argv[0]` is not sudo.
fn split_sudo(argv: &[String]) -> Option<(&str, &[String], &[String])> {
    let first = argv.first()?;
    if std::path::Path::new(first).file_name()? != "sudo" {
        return None;
    }
    let mut i = 1;
    while i < argv.len() && argv[i].starts_with('-') {
        // Options that take a value as the next word.
        let takes_value = matches!(
            argv[i].as_str(),
            "-u" | "-g" | "-h" | "-p" | "-C" | "-D" | "-r" | "-t" | "-U"
        );
        if argv[i] == "--" {
            i += 1;
            break;
        }
        i += if takes_value { 2 } else { 1 };
    }
    let i = i.min(argv.len());
    Some((first, &argv[1..i], &argv[i..]))
}

async fn check_host(ssh: &SshBackend, host: &HostConfig) -> Vec<Finding> {
    let name = host.name.as_str();
    let line = |pane: &'static str, what: &str, v: Verdict| Finding::new(pane, name, what, v);
    // Everything else goes through the same login: a host that is down costs its timeout once.
    if let Err(why) = login(ssh, name).await {
        return vec![line(HOSTS, "login", Verdict::Unreachable(why)).gating_on_source(HOST_ACTIONS)];
    }
    let mut found = vec![line(HOSTS, "login", Verdict::Ok(String::new()))];
    let (programs, files, logs) = futures::join!(
        check_supervisor(ssh, host),
        check_files(ssh, host),
        check_logs(ssh, host)
    );
    found.extend(programs);
    found.extend(files);
    found.extend(logs.into_iter().map(|(what, v)| line(LOGS, &what, v)));
    found
}

/// The programs' status (what the pane polls), then each action on every program, asked of sudo.
async fn check_supervisor(ssh: &SshBackend, host: &HostConfig) -> Vec<Finding> {
    let name = host.name.as_str();
    if !host.supervisor {
        return Vec::new();
    }
    let line = |what: &str, v: Verdict| Finding::new(HOSTS, name, what, v);
    let programs = match ssh.supervisor_status(name).await {
        Ok(p) => p,
        Err(e) => {
            let mut found = vec![line("read programs", Verdict::Missing(e))];
            for (action, gated) in PROGRAM_ACTIONS {
                found.push(
                    line(
                        &format!("{} programs", action.as_str()),
                        Verdict::NotChecked("supervisor's status could not be read".into()),
                    )
                    .gating_on_source(&[gated]),
                );
            }
            return found;
        }
    };
    let mut found = vec![line(
        "read programs",
        Verdict::Ok(format!("{} program(s)", programs.len())),
    )];
    let template = ssh.config().supervisor_template(host);
    for (action, gated) in PROGRAM_ACTIONS {
        let what = format!("{} programs", action.as_str());
        let asks = programs.iter().filter_map(|p| {
            let argv = supervisor::argv(template, action, Some(&p.name)).ok()?;
            Some(async move { (p.name.clone(), sudo_allows(ssh, name, &argv).await) })
        });
        let answers = futures::future::join_all(asks).await;
        let verdict = if answers.is_empty() {
            Verdict::NotChecked("supervisor runs no program".into())
        } else if answers.iter().all(|(_, v)| v.is_none()) {
            // supervisorctl without sudo: its socket lets whoever may ask for status control programs too.
            Verdict::Ok("no sudo in the supervisor command; status was read with the same rights".into())
        } else {
            worst(answers.into_iter().filter_map(|(_, v)| v))
        };
        found.push(line(&what, verdict).gating_on_source(&[gated]));
    }
    found
}

/// Every action on a host (each runs over its login).
const HOST_ACTIONS: &[&str] = &["restart_program", "start_program", "stop_program", "remove_junk", "du"];

const PROGRAM_ACTIONS: [(SupervisorAction, &str); 3] = [
    (SupervisorAction::Restart, "restart_program"),
    (SupervisorAction::Start, "start_program"),
    (SupervisorAction::Stop, "stop_program"),
];

/// The first problem among `verdicts` (and how many more there are), else ok.
fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    let problems: Vec<Verdict> = verdicts.into_iter().filter(Verdict::is_problem).collect();
    match problems.split_first() {
        None => Verdict::Ok(String::new()),
        Some((first, [])) => first.clone(),
        Some((Verdict::Missing(why), rest)) => Verdict::Missing(format!("{why}; and {} more", rest.len())),
        Some((Verdict::Unreachable(why), rest)) => Verdict::Unreachable(format!("{why}; and {} more", rest.len())),
        Some((first, _)) => first.clone(),
    }
}

/// The file commands (find for junk, the removal script, du) when they go through sudo; without
/// it, whether the ssh user may write the junk directories (removing a file needs that).
async fn check_files(ssh: &SshBackend, host: &HostConfig) -> Vec<Finding> {
    let name = host.name.as_str();
    let cfg = ssh.config();
    if host.junk_paths.is_empty() {
        return Vec::new();
    }
    let prefix = cfg.files_prefix_of(name);
    let find = files::find_command(&host.junk_paths, &cfg.junk_patterns, cfg.junk_depth).prefixed(prefix);
    let remove = files::remove_command(&[]).prefixed(prefix);
    let du = files::du_command(&host.junk_paths[0], 600).prefixed(prefix);
    let checks = [
        ("find junk", find, &[][..]),
        ("remove junk", remove, &["remove_junk"][..]),
        ("du", du, &["du"][..]),
    ];
    let mut found = Vec::new();
    for (what, cmd, gated) in checks {
        let verdict = match sudo_allows(ssh, name, cmd.words()).await {
            Some(v) => v,
            None if what == "remove junk" => dirs_allow(ssh, name, &host.junk_paths, "-w", "write").await,
            None => dirs_allow(ssh, name, &host.junk_paths, "-r", "read").await,
        };
        found.push(Finding::new(HOSTS, name, what, verdict).gating_on_source(gated));
    }
    found
}

/// Whether the ssh user may `verb` each of `dirs` on `host` (`test FLAG DIR`, one per directory).
async fn dirs_allow(ssh: &SshBackend, host: &str, dirs: &[String], flag: &str, verb: &str) -> Verdict {
    let limit = ssh.config().command_timeout.get();
    let tests = dirs.iter().map(|d| async move {
        match ssh.run(host, &Cmd::argv(["test", flag, d.as_str()]), limit).await {
            Ok(o) if o.success() => Verdict::Ok(String::new()),
            Ok(_) => Verdict::Missing(format!("the ssh user cannot {verb} {d} on {host} (or it is missing)")),
            Err(e) => Verdict::Unreachable(e),
        }
    });
    worst(futures::future::join_all(tests).await)
}

/// Each configured log file is readable (`test -r`): what the logs pane tails.
async fn check_logs(ssh: &SshBackend, host: &HostConfig) -> Vec<(String, Verdict)> {
    let limit = ssh.config().command_timeout.get();
    let name = host.name.as_str();
    let reads = host.logs.iter().map(|file| async move {
        let v = match ssh.run(name, &Cmd::argv(["test", "-r", file.as_str()]), limit).await {
            Ok(o) if o.success() => Verdict::Ok(String::new()),
            Ok(_) => Verdict::Missing(format!("{file} is missing or not readable by the ssh user on {name}")),
            Err(e) => Verdict::Unreachable(e),
        };
        (format!("read {file}"), v)
    });
    futures::future::join_all(reads).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn sudo_options_are_kept_apart_from_the_command() {
        let argv = words("/usr/bin/sudo -n -u root supervisorctl restart web");
        let (sudo, options, command) = split_sudo(&argv).unwrap();
        assert_eq!(sudo, "/usr/bin/sudo");
        assert_eq!(options, words("-n -u root"));
        assert_eq!(command, words("supervisorctl restart web"));
        assert!(split_sudo(&words("supervisorctl status")).is_none());
        assert!(split_sudo(&words("pseudo -n ls")).is_none());
    }

    #[test]
    fn an_unknown_host_key_is_said_as_such() {
        let said = login_failure(
            "failed to connect: No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking. Host key verification failed.",
        );
        assert!(said.starts_with("host key not known"), "{said}");
    }
}
