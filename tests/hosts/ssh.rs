//! The SSH transport, pollers, supervisor actions and tails against a real sshd and supervisord.

use super::common::{remove_found_junk, state_of};
use super::harness::{Sshd, Supervisord, eventually, free_port, read};
use opsdeck::model::fleet::SourceUpdate;
use opsdeck_core::logs::LogSource;
use opsdeck_hosts::model::ProgramState;
use opsdeck_hosts::model::logs::{LogEvent, TailState};
use opsdeck_hosts::source::{SshBackend, SupervisorAction, SupervisorError, TailCommand};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A backend for one host, "worker-1" on `sshd`, whose supervisor is `sup`.
fn supervised(sshd: &Sshd, sup: &Supervisord) -> SshBackend {
    let mut host = sshd.host("worker-1");
    host.supervisor = true;
    let mut cfg = sshd.config(vec![host]);
    cfg.supervisor_command = sup.template();
    backend(&cfg)
}

fn backend(cfg: &opsdeck_hosts::config::SshConfig) -> SshBackend {
    SshBackend::new(cfg).expect("backend")
}

#[tokio::test(flavor = "multi_thread")]
async fn df_over_ssh_is_parsed_with_inodes_and_load() {
    let sshd = Sshd::start();
    let b = backend(&sshd.config(vec![sshd.host("web-1")]));
    let polls = b.poll_all().await;
    assert_eq!(polls.len(), 1);
    let p = &polls[0];
    assert!(p.reach.is_ok(), "{:?}", p.reach);
    assert!(p.load.is_some(), "load from /proc/loadavg");
    let fs = p.filesystems.as_ref().unwrap().as_ref().expect("df parsed");
    assert!(!fs.is_empty());
    assert!(fs.iter().all(|f| f.mount.starts_with('/')));
    assert!(fs.iter().any(|f| f.inodes.is_some()), "df -i joined by mount");
    assert!(fs.windows(2).all(|w| w[0].size_kib >= w[1].size_kib), "biggest first");
    // The same numbers df prints locally (same machine): the root filesystem's size matches.
    let local = std::process::Command::new("df").args(["-PT", "/"]).output().unwrap();
    let local = opsdeck_hosts::source::df::parse(&String::from_utf8_lossy(&local.stdout)).unwrap();
    let root = fs.iter().find(|f| f.mount == "/").expect("/ listed");
    assert_eq!(root.size_kib, local.rows[0].total);
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_changes_the_pid_and_comes_back_running() {
    let sshd = Sshd::start();
    let sup = Supervisord::start(&[("tile-worker", "/bin/sleep 3600"), ("other", "/bin/sleep 3600")]);
    let b = supervised(&sshd, &sup);
    let before = b.supervisor_status("worker-1").await.unwrap();
    let old = before.iter().find(|p| p.name == "tile-worker").unwrap();
    assert_eq!(old.state, ProgramState::Running);
    let old_pid = old.pid.unwrap();
    let other_pid = before.iter().find(|p| p.name == "other").unwrap().pid;

    let p = b
        .supervisor_verified(
            "worker-1",
            SupervisorAction::Restart,
            "tile-worker",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(p.state, ProgramState::Running);
    assert_ne!(p.pid, Some(old_pid));
    // Independently of our own verification: supervisorctl says the same.
    let after = b.supervisor_status("worker-1").await.unwrap();
    assert_eq!(after.iter().find(|p| p.name == "tile-worker").unwrap().pid, p.pid);
    assert_eq!(
        after.iter().find(|p| p.name == "other").unwrap().pid,
        other_pid,
        "only the one program"
    );

    // Stop then start, each verified.
    let p = b
        .supervisor_verified(
            "worker-1",
            SupervisorAction::Stop,
            "tile-worker",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(p.state, ProgramState::Stopped);
    let p = b
        .supervisor_verified(
            "worker-1",
            SupervisorAction::Start,
            "tile-worker",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(p.state, ProgramState::Running);

    // The poller reports the programs too.
    let polls = b.poll_all().await;
    let programs = polls[0].programs.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(programs.len(), 2);
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_program_is_a_clear_error() {
    let sshd = Sshd::start();
    let sup = Supervisord::start(&[("tile-worker", "/bin/sleep 3600")]);
    let b = supervised(&sshd, &sup);
    let err = b
        .supervisor_verified("worker-1", SupervisorAction::Restart, "nosuch", Duration::from_secs(10))
        .await
        .unwrap_err();
    let SupervisorError::NotDone(text) = err else {
        panic!("expected NotDone, got {err:?}")
    };
    assert!(text.contains("no program named \"nosuch\""), "{text}");
    assert!(text.contains("tile-worker"), "names the known programs: {text}");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn host_key_mismatch_is_refused_and_known_hosts_untouched() {
    let sshd = Sshd::start();
    // known_hosts pins another key for this host:port.
    let mut cfg = sshd.config(vec![sshd.host("impostor")]);
    cfg.known_hosts = Some(sshd.path("known_hosts_wrong"));
    let before = read(&sshd.path("known_hosts_wrong"));
    let b = backend(&cfg);
    let polls = b.poll_all().await;
    let err = polls[0].reach.as_ref().unwrap_err();
    assert!(
        err.to_lowercase().contains("host key") || err.contains("HOST IDENTIFICATION"),
        "error names the host key problem: {err}"
    );
    assert_eq!(read(&sshd.path("known_hosts_wrong")), before, "never rewritten");
    // A host that is not in known_hosts at all is refused too (never accept-new).
    let empty = sshd.path("known_hosts_empty");
    std::fs::write(&empty, "").unwrap();
    let mut cfg = sshd.config(vec![sshd.host("stranger")]);
    cfg.known_hosts = Some(empty.clone());
    let b = backend(&cfg);
    let polls = b.poll_all().await;
    let err = polls[0].reach.as_ref().unwrap_err();
    assert!(
        err.to_lowercase().contains("host key"),
        "refused for its unknown host key, not something else: {err}"
    );
    assert_eq!(read(&empty), "", "the unknown key was not added");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_command_times_out_and_is_gone_from_the_host() {
    let sshd = Sshd::start();
    let b = backend(&sshd.config(vec![sshd.host("h")]));
    b.run_command("h", "true", Duration::from_secs(10)).await.unwrap();
    // A hung command, with a marker to find it by on the "remote" side.
    let hung = format!("sleep 30.{}", std::process::id());
    let err = b
        .run_command("h", &format!("{hung}; echo never"), Duration::from_millis(1500))
        .await
        .unwrap_err();
    assert!(err.contains("timed out"), "{err}");
    // It was ended on the host as well: an abandoned channel would keep it running (and holding
    // one of sshd's sessions) for the full 30 s.
    assert!(
        eventually(Duration::from_secs(5), || async {
            super::harness::processes_matching(&hung).is_empty()
        })
        .await,
        "still running on the host: {:?}",
        super::harness::processes_matching(&hung)
    );
    let out = b
        .run_command("h", "echo still here", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(out.stdout.trim(), "still here");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_host_marks_only_its_own_row() {
    let sshd = Sshd::start();
    let mut dead = sshd.host("dead");
    dead.port = Some(free_port()); // nothing listens there
    let b = backend(&sshd.config(vec![sshd.host("alive"), dead]));
    let started = Instant::now();
    let polls = b.poll_all().await;
    assert!(started.elapsed() < Duration::from_secs(20));
    let alive = polls.iter().find(|p| p.name == "alive").unwrap();
    let dead = polls.iter().find(|p| p.name == "dead").unwrap();
    assert!(alive.reach.is_ok(), "{:?}", alive.reach);
    assert!(alive.filesystems.as_ref().unwrap().is_ok());
    let err = dead.reach.as_ref().unwrap_err();
    assert!(
        err.to_lowercase().contains("refused") || err.contains("connect"),
        "{err}"
    );
    // Folded into the model: one row unreachable, the other fine.
    let state = state_of(polls);
    assert!(state.host("alive").unwrap().reachable);
    assert!(!state.host("dead").unwrap().reachable);
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_beyond_max_sessions_queue_instead_of_failing() {
    let sshd = Sshd::start();
    let mut cfg = sshd.config(vec![sshd.host("h")]);
    cfg.max_sessions = 4;
    let b = backend(&cfg);
    // sshd allows 10 sessions; 16 concurrent commands only work because we queue per host.
    let runs = (0..16).map(|i| {
        let b = b.clone();
        async move {
            b.run_command("h", &format!("sleep 0.2; echo {i}"), Duration::from_secs(30))
                .await
        }
    });
    let results = futures::future::join_all(runs).await;
    for (i, r) in results.iter().enumerate() {
        let out = r.as_ref().unwrap_or_else(|e| panic!("command {i}: {e}"));
        assert_eq!(out.stdout.trim(), i.to_string());
    }
    b.shutdown().await;
}

async fn next_lines(rx: &mut mpsc::Receiver<LogEvent>, want: &[&str], limit: Duration) -> Vec<String> {
    let mut got = Vec::new();
    let end = Instant::now() + limit;
    while !want.iter().all(|w| got.iter().any(|g: &String| g == w)) {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(LogEvent::Lines { lines, .. })) => got.extend(lines),
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    got
}

fn remote_tails(marker: &str) -> usize {
    super::harness::processes_matching(marker).len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tail_streams_lines_and_its_remote_process_is_gone_after_cancel() {
    let sshd = Sshd::start();
    // A hostile file name: it must reach tail as one literal argument.
    let marker = format!("opsdeck-tail-{}", std::process::id());
    let log = sshd.dir.path().join(format!("{marker} it's; $(touch pwned).log"));
    std::fs::write(&log, "old line\n").unwrap();
    let b = backend(&sshd.config(vec![sshd.host("h")]));
    let (tx, mut rx) = mpsc::channel(64);
    let path = log.to_string_lossy().to_string();
    b.handle_tail(TailCommand::Start(LogSource::file("h", &path)), tx.clone().into());
    let got = next_lines(&mut rx, &["old line"], Duration::from_secs(10)).await;
    assert!(got.contains(&"old line".to_string()), "history first: {got:?}");
    assert!(eventually(Duration::from_secs(5), || async { remote_tails(&marker) > 0 }).await);
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(f, "new one\nnew two").unwrap();
    }
    let got = next_lines(&mut rx, &["new one", "new two"], Duration::from_secs(10)).await;
    assert!(got.contains(&"new two".to_string()), "streamed: {got:?}");
    assert!(
        !sshd.dir.path().join("pwned").exists(),
        "the name never ran as a command"
    );

    b.handle_tail(
        TailCommand::Stop {
            id: LogSource::file("h", &path).id(),
        },
        tx.into(),
    );
    assert!(
        eventually(Duration::from_secs(5), || async { remote_tails(&marker) == 0 }).await,
        "remote tail still running after stop: {} processes",
        remote_tails(&marker)
    );
    // The task reports that it stopped.
    let stopped = eventually(Duration::from_secs(5), || {
        let r = rx.try_recv();
        async move {
            matches!(
                r,
                Ok(LogEvent::State {
                    state: TailState::Stopped,
                    ..
                })
            )
        }
    })
    .await;
    assert!(stopped);
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_in_config_and_on_disk_never_reach_a_shell_unescaped() {
    let sshd = Sshd::start();
    let root = sshd.dir.path();
    // Relative: a name cannot hold '/'. Wherever a shell would run it (home, cwd), the file would appear.
    let canary_name = format!("opsdeck-pwned-{}", std::process::id());
    let evil = format!("$(touch {c}) `touch {c}`; touch {c} '\" x", c = canary_name);
    let canaries = [
        std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(&canary_name),
        std::env::current_dir().unwrap().join(&canary_name),
        root.join(&canary_name),
    ];
    // A junk directory and files whose names are shell syntax.
    let junk_dir = root.join(format!("dumps {evil}"));
    std::fs::create_dir_all(&junk_dir).unwrap();
    let names = [
        format!("java {evil}.hprof"),
        "-rf.hprof".to_string(),
        "new\nline.hprof".to_string(),
    ];
    for n in &names {
        std::fs::write(junk_dir.join(n), vec![0u8; 4096]).unwrap();
    }
    std::fs::write(junk_dir.join("keep.txt"), "not junk").unwrap();
    // The host's display name is hostile too (the address is what ssh connects to).
    let mut host = sshd.host(&format!("web {evil}"));
    host.junk_paths = vec![junk_dir.to_string_lossy().into_owned()];
    let cfg = sshd.config(vec![host.clone()]);
    let b = backend(&cfg);
    let polls = b.poll_all().await;
    let junk = polls[0].junk.as_ref().unwrap().as_ref().expect("find ran");
    let mut found: Vec<String> = junk.iter().map(|j| j.path.clone()).collect();
    found.sort();
    let mut want: Vec<String> = names
        .iter()
        .map(|n| junk_dir.join(n).to_string_lossy().into_owned())
        .collect();
    want.sort();
    assert_eq!(found, want, "discovered exactly, byte for byte");

    // Remove them through the action: exactly those files go, nothing runs. A name with a control
    // character could not be shown as it is in the dialog: it is left for a person to remove.
    let (_, out) = remove_found_junk(&cfg, &b, polls, root).await;
    assert_eq!(
        out.result,
        opsdeck_core::action::OutcomeResult::Succeeded,
        "{}",
        out.summary
    );
    for n in &names[..2] {
        assert!(!junk_dir.join(n).exists(), "{n:?} removed");
    }
    assert!(
        junk_dir.join(&names[2]).exists(),
        "the name with a newline is left alone"
    );
    assert!(junk_dir.join("keep.txt").exists(), "only the junk");

    // A script given a hostile value as its argument: the words are quoted once for the remote
    // shell, and the script's "$1" is the value, byte for byte.
    let script = opsdeck_core::exec::Cmd::argv(["sh", "-c", r#"printf %s "$1""#, "opsdeck", &evil]);
    let out = b.run(&host.name, &script, Duration::from_secs(10)).await.unwrap();
    assert_eq!(out.stdout, evil);
    for c in &canaries {
        assert!(!c.exists(), "nothing hostile was ever executed: {}", c.display());
    }
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn du_reports_progress_and_the_biggest_entries() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path().join("var log");
    for (name, kib) in [("big", 512), ("small", 8), ("mid dir", 64)] {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("f"), vec![1u8; kib * 1024]).unwrap();
    }
    let b = backend(&sshd.config(vec![sshd.host("h")]));
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |m: String, f: Option<f64>| seen.lock().unwrap().push((m, f));
    let report = b
        .du(
            "h",
            &dir.to_string_lossy(),
            Duration::from_secs(30),
            &progress,
            &tokio_util::sync::CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.entries[0].0, dir.join("big").to_string_lossy());
    assert!(report.entries[0].1 >= 512);
    assert_eq!(report.entries.len(), 3);
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(
        seen.iter().any(|(_, f)| f.is_some_and(|f| f > 0.5)),
        "fraction from the child count: {seen:?}"
    );
    // The next poll carries the finished scan to the pane.
    let polls = b.poll_all().await;
    assert_eq!(polls[0].du.len(), 1);
    assert!(!polls[0].du[0].running);
    b.shutdown().await;
}

fn masters(control_dir: &std::path::Path) -> Vec<u32> {
    super::harness::processes_matching(&format!("ssh -E {}", control_dir.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_master_is_replaced_and_commands_keep_working() {
    let sshd = Sshd::start();
    let cfg = sshd.config(vec![sshd.host("h")]);
    let ctl = cfg.control_dir.clone().unwrap();
    let b = backend(&cfg);
    b.run_command("h", "true", Duration::from_secs(10)).await.unwrap();
    let first = masters(&ctl);
    assert_eq!(first.len(), 1, "one multiplexed master per host");
    // Several commands later, still one master: polls and actions share it.
    for _ in 0..3 {
        b.run_command("h", "true", Duration::from_secs(10)).await.unwrap();
    }
    assert_eq!(masters(&ctl), first);
    // The master dies (network drop, killed): the next command reconnects.
    std::process::Command::new("kill")
        .arg(first[0].to_string())
        .status()
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || async { masters(&ctl).is_empty() }).await);
    let out = b.run_command("h", "echo back", Duration::from_secs(15)).await.unwrap();
    assert_eq!(out.stdout.trim(), "back");
    let second = masters(&ctl);
    assert_eq!(second.len(), 1);
    assert_ne!(second, first);
    b.shutdown().await;
    assert!(
        eventually(Duration::from_secs(5), || async { masters(&ctl).is_empty() }).await,
        "closed on shutdown"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_down_host_is_retried_with_backoff_not_hammered() {
    let sshd = Sshd::start();
    let mut dead = sshd.host("dead");
    dead.port = Some(free_port());
    let b = backend(&sshd.config(vec![dead]));
    let first = b.poll_all().await;
    assert!(first[0].reach.is_err());
    let started = Instant::now();
    let second = b.poll_all().await;
    let err = second[0].reach.as_ref().unwrap_err();
    assert!(err.contains("next attempt in"), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "no new connection attempt inside the backoff"
    );
}

/// The user's ssh_config with a `jumpbox` alias for this sshd, reached as `host_name`, plus `extra`.
fn write_jump_config(sshd: &Sshd, host_name: &str, extra: &str) {
    std::fs::write(
        sshd.path("ssh_config"),
        format!(
            "Host jumpbox\n  HostName {host_name}\n  AddressFamily inet\n  Port {}\n  User {}\n  IdentityFile {}\n  IdentitiesOnly yes\n{extra}",
            sshd.port,
            super::harness::whoami(),
            sshd.path("client_ed25519").display(),
        ),
    )
    .unwrap();
}

/// A backend for "behind-bastion" on `sshd`, reached through the `jumpbox` alias.
fn behind_jumpbox(sshd: &Sshd) -> SshBackend {
    let mut host = sshd.host("behind-bastion");
    host.jump = vec!["jumpbox".into()];
    backend(&sshd.config(vec![host]))
}

#[tokio::test(flavor = "multi_thread")]
async fn jump_hosts_come_from_the_ssh_config() {
    let sshd = Sshd::start();
    // The jump host is configured in the user's ssh_config (builder options do not apply to jump
    // hosts); opsdeck's own rules (strict keys against its known_hosts, batch mode) reach it too.
    write_jump_config(&sshd, "127.0.0.1", "");
    let b = behind_jumpbox(&sshd);
    let out = b
        .run_command("behind-bastion", "echo via jump", Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(out.stdout.trim(), "via jump");
    // sshd saw the jump connection forward to itself.
    let log = read(&sshd.path("sshd.log"));
    assert!(
        log.matches("Accepted publickey").count() >= 2,
        "two logins (jump, then target through it):\n{log}"
    );
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jump_hosts_unknown_key_is_refused_whatever_the_users_ssh_config_says() {
    let sshd = Sshd::start();
    // The user's ssh_config is permissive for the jump host (accept-new, its own known_hosts file),
    // and the jump host is reached as "localhost": a name opsdeck's known_hosts does not pin.
    let jump_known = sshd.path("jump_known_hosts");
    std::fs::write(&jump_known, "").unwrap();
    write_jump_config(
        &sshd,
        "localhost",
        &format!(
            "  UserKnownHostsFile {}\n  StrictHostKeyChecking accept-new\n",
            jump_known.display()
        ),
    );
    let known_before = read(&sshd.path("known_hosts"));
    let b = behind_jumpbox(&sshd);
    let err = b
        .run_command("behind-bastion", "echo should not run", Duration::from_secs(20))
        .await
        .unwrap_err();
    assert!(!err.is_empty());
    assert_eq!(read(&jump_known), "", "the jump host's key was not accepted");
    assert_eq!(
        read(&sshd.path("known_hosts")),
        known_before,
        "nor added to opsdeck's known_hosts"
    );
    b.shutdown().await;
    // Control: with the jump host's key pinned in opsdeck's known_hosts, the same setup works, so
    // the refusal above was the host key and nothing else.
    let host_key = read(&sshd.path("host_ed25519.pub"));
    let key: Vec<&str> = host_key.split_whitespace().take(2).collect();
    std::fs::write(
        sshd.path("known_hosts"),
        format!("{known_before}[localhost]:{} {}\n", sshd.port, key.join(" ")),
    )
    .unwrap();
    let b = behind_jumpbox(&sshd);
    let out = b
        .run_command("behind-bastion", "echo via jump", Duration::from_secs(20))
        .await
        .unwrap_or_else(|e| panic!("with the key pinned the jump works: {e}"));
    assert_eq!(out.stdout.trim(), "via jump");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tail_reconnects_when_its_connection_is_lost() {
    let sshd = Sshd::start();
    let log = sshd.dir.path().join("app.log");
    std::fs::write(&log, "before\n").unwrap();
    let cfg = sshd.config(vec![sshd.host("h")]);
    let ctl = cfg.control_dir.clone().unwrap();
    let b = backend(&cfg);
    let (tx, mut rx) = mpsc::channel(64);
    let path = log.to_string_lossy().to_string();
    b.handle_tail(TailCommand::Start(LogSource::file("h", &path)), tx.into());
    assert!(
        next_lines(&mut rx, &["before"], Duration::from_secs(10))
            .await
            .contains(&"before".to_string())
    );
    for pid in masters(&ctl) {
        std::process::Command::new("kill")
            .arg(pid.to_string())
            .status()
            .unwrap();
    }
    // The tail says it is reconnecting, then streams again on a new master.
    let mut saw_reconnecting = false;
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(LogEvent::State { state, .. })) => match state {
                TailState::Reconnecting(_) => saw_reconnecting = true,
                TailState::Streaming if saw_reconnecting => break,
                _ => {}
            },
            Ok(Some(_)) => {}
            _ => panic!("the tail did not come back (reconnecting seen: {saw_reconnecting})"),
        }
    }
    // The channel is open before the remote tail has opened the file (a slow login shell): keep
    // writing until a line comes through, with a deadline.
    let end = Instant::now() + Duration::from_secs(15);
    let mut got = Vec::new();
    while Instant::now() < end && !got.iter().any(|l: &String| l.starts_with("after reconnect")) {
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            writeln!(f, "after reconnect").unwrap();
        }
        got.extend(next_lines(&mut rx, &["after reconnect"], Duration::from_millis(500)).await);
    }
    assert!(got.contains(&"after reconnect".to_string()), "{got:?}");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_that_cannot_start_is_reported_not_claimed_restarted() {
    let sshd = Sshd::start();
    let sup = Supervisord::start_expecting(&[("ok", "/bin/sleep 3600"), ("crasher", "/bin/false")], 1);
    let b = supervised(&sshd, &sup);
    let err = b
        .supervisor_verified("worker-1", SupervisorAction::Restart, "crasher", Duration::from_secs(8))
        .await
        .unwrap_err();
    // supervisorctl itself says it could not start it (spawn error / abnormal termination), or the
    // status check finds it not RUNNING: never a success.
    let text = err.to_string();
    assert!(
        text.contains("ERROR") || text.contains("FATAL") || text.contains("BACKOFF") || text.contains("EXITED"),
        "{err:?}"
    );
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_programs_output_is_followed_through_supervisorctl_and_stops_with_the_tail() {
    let sshd = Sshd::start();
    let program = format!("ticker-{}", std::process::id());
    let sup = Supervisord::start(&[(
        &program,
        "/bin/sh -c 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'",
    )]);
    let b = supervised(&sshd, &sup);
    let (tx, mut rx) = mpsc::channel(64);
    let source = LogSource::program("worker-1", &program);
    b.handle_tail(TailCommand::Start(source.clone()), tx.clone().into());
    // Lines keep coming (new ones, not only supervisorctl's replay of the log's end).
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(15);
    while Instant::now() < end && got.iter().filter(|l: &&String| l.starts_with("tick ")).count() < 8 {
        got.extend(next_lines(&mut rx, &["never"], Duration::from_millis(500)).await);
    }
    assert!(got.iter().filter(|l| l.starts_with("tick ")).count() >= 8, "{got:?}");
    assert!(
        !got.iter().any(|l| l.contains("Press Ctrl-C")),
        "supervisorctl's banner is not part of the program's output: {got:?}"
    );
    let follower = format!("tail -f {program}");
    assert!(!super::harness::processes_matching(&follower).is_empty());
    b.handle_tail(TailCommand::Stop { id: source.id() }, tx.into());
    assert!(
        eventually(Duration::from_secs(5), || async {
            super::harness::processes_matching(&follower).is_empty()
        })
        .await,
        "supervisorctl tail -f still running after stop"
    );
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_never_answers_does_not_hold_back_the_others() {
    let sshd = Sshd::start();
    // Accepts TCP connections and never says a word (a blackholed or wedged host).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut stuck = sshd.host("stuck");
    stuck.port = Some(silent.local_addr().unwrap().port());
    let cfg = sshd.config(vec![stuck, sshd.host("alive")]);
    let b = backend(&cfg);
    let config = opsdeck::config::Config {
        ssh: cfg,
        ..Default::default()
    };
    let pollers = opsdeck::sources::Backends {
        ssh: Some(b.clone()),
        ..Default::default()
    }
    .pollers(&config);
    assert_eq!(pollers.len(), 2, "one poller per host");
    let (tx, mut rx) = mpsc::channel(16);
    let cancel = tokio_util::sync::CancellationToken::new();
    opsdeck::sources::spawn_pollers(pollers, tx, Default::default(), cancel.clone());
    // The first answer is the live host's, on its own: it does not wait for the stuck one.
    let first = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("an update")
        .expect("pollers running");
    match first.update {
        SourceUpdate::Hosts(Ok(polls)) => {
            assert_eq!(polls.len(), 1, "{polls:?}");
            assert_eq!(polls[0].name, "alive");
            assert!(polls[0].reach.is_ok(), "{:?}", polls[0].reach);
        }
        other => panic!("{other:?}"),
    }
    // The stuck host is reported on its own, unreachable, once its connect limit passes.
    let end = Instant::now() + Duration::from_secs(60);
    let stuck = loop {
        let left = end.saturating_duration_since(Instant::now());
        let p = tokio::time::timeout(left, rx.recv())
            .await
            .expect("the stuck host's update")
            .expect("pollers running");
        if let SourceUpdate::Hosts(Ok(polls)) = p.update
            && let Some(stuck) = polls.into_iter().find(|p| p.name == "stuck")
        {
            break stuck;
        }
    };
    assert!(stuck.reach.is_err(), "{:?}", stuck.reach);
    cancel.cancel();
    drop(silent);
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tail_beyond_max_tails_says_it_waits_then_streams_when_a_slot_frees() {
    let sshd = Sshd::start();
    let logs: Vec<String> = ["first.log", "second.log"]
        .iter()
        .map(|n| {
            let p = sshd.dir.path().join(n);
            std::fs::write(&p, format!("{n} line\n")).unwrap();
            p.to_string_lossy().into_owned()
        })
        .collect();
    let mut cfg = sshd.config(vec![sshd.host("h")]);
    cfg.max_tails = 1;
    let b = backend(&cfg);
    let (tx, mut rx) = mpsc::channel::<LogEvent>(64);
    let first = LogSource::file("h", &logs[0]);
    let second = LogSource::file("h", &logs[1]);
    let mut next_state = async |id: &str| loop {
        let p = tokio::time::timeout(Duration::from_secs(15), rx.recv())
            .await
            .expect("an event in time")
            .expect("tail events");
        if let LogEvent::State { id: got, state, .. } = p
            && got == id
        {
            return state;
        }
    };
    // The first tail holds the host's only tail slot once it streams.
    b.handle_tail(TailCommand::Start(first.clone()), tx.clone().into());
    assert_eq!(next_state(&first.id()).await, TailState::Streaming);
    b.handle_tail(TailCommand::Start(second.clone()), tx.clone().into());
    let waiting = next_state(&second.id()).await;
    assert!(
        matches!(&waiting, TailState::Waiting(why) if why.contains("max_tails")),
        "{waiting:?}"
    );
    b.handle_tail(TailCommand::Stop { id: first.id() }, tx.clone().into());
    assert_eq!(next_state(&second.id()).await, TailState::Streaming);
    b.shutdown().await;
}

#[test]
fn opsdecks_ssh_rules_win_over_a_permissive_users_config_for_every_host() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user_config");
    std::fs::write(
        &user,
        "Host jumpbox\n  HostName 10.1.1.1\n  User bob\n  StrictHostKeyChecking no\n  BatchMode no\n  UserKnownHostsFile /dev/null\n",
    )
    .unwrap();
    let known = dir.path().join("known_hosts");
    let cfg = opsdeck_hosts::config::SshConfig {
        known_hosts: Some(known.clone()),
        config_file: Some(user),
        ..Default::default()
    };
    let ours = dir.path().join("opsdeck.ssh_config");
    std::fs::write(&ours, opsdeck_hosts::source::transport::ssh_config_text(&cfg).unwrap()).unwrap();
    // What ssh itself makes of the file for the jump host (`ssh -G` prints the effective options).
    let out = std::process::Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(&ours)
        .arg("jumpbox")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("ssh (openssh-client) is installed");
    let effective = String::from_utf8_lossy(&out.stdout).to_lowercase();
    for want in [
        "stricthostkeychecking true".to_string(),
        "batchmode yes".to_string(),
        format!("userknownhostsfile {}", known.display()).to_lowercase(),
        // The user's own settings for the host still apply.
        "hostname 10.1.1.1".to_string(),
        "user bob".to_string(),
    ] {
        assert!(effective.lines().any(|l| l == want), "{want:?} not in:\n{effective}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follower_that_ends_at_once_fails_with_its_words_and_can_be_started_again() {
    let sshd = Sshd::start();
    let sup = Supervisord::start(&[("real", "/bin/sleep 3600")]);
    let b = supervised(&sshd, &sup);
    let (tx, mut rx) = mpsc::channel::<LogEvent>(64);
    let source = LogSource::program("worker-1", "nosuch");
    let failed = async |rx: &mut mpsc::Receiver<LogEvent>| loop {
        let p = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the tail gives up in time")
            .expect("tail events");
        if let LogEvent::State {
            state: TailState::Failed(why),
            ..
        } = p
        {
            return why;
        }
    };
    b.handle_tail(TailCommand::Start(source.clone()), tx.clone().into());
    let why = failed(&mut rx).await;
    // supervisorctl's own words: "…/logtail/nosuch/stdout Cannot read, status code 404".
    assert!(why.contains("nosuch") && why.contains("Cannot read"), "{why}");
    // Failed is final for that run; starting it again (L again) runs it again.
    b.handle_tail(TailCommand::Start(source.clone()), tx.clone().into());
    let again = loop {
        let p = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a new start")
            .expect("tail events");
        if let LogEvent::Started { source: s, .. } = p {
            break s;
        }
    };
    assert_eq!(again, source);
    b.shutdown().await;
}

/// `files_prefix` (`sudo -n` where dumps belong to another user) goes in front of every file
/// command — find, the removal script, du — as its own words, and only there.
#[tokio::test(flavor = "multi_thread")]
async fn file_commands_run_through_the_configured_prefix() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = Sshd::start();
    let root = sshd.dir.path();
    // A stand-in for sudo that notes which command it ran (its path has a space, for the quoting).
    let bin = root.join("fake bin");
    std::fs::create_dir_all(&bin).unwrap();
    let ran = root.join("ran-as-root.log");
    let sudo = bin.join("sudo");
    std::fs::write(
        &sudo,
        format!(
            "#!/bin/sh\n[ \"$1\" = -n ] || {{ echo 'expected -n' >&2; exit 9; }}\nshift\nprintf '%s\\n' \"$1\" >> '{}'\nexec \"$@\"\n",
            ran.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&sudo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dumps = root.join("es dumps");
    std::fs::create_dir_all(&dumps).unwrap();
    std::fs::write(dumps.join("java_pid1.hprof"), vec![0u8; 8192]).unwrap();
    let mut host = sshd.host("es-1");
    host.junk_paths = vec![dumps.to_string_lossy().into_owned()];
    let mut cfg = sshd.config(vec![host]);
    cfg.files_prefix = vec![sudo.to_string_lossy().into_owned(), "-n".into()];
    let b = backend(&cfg);
    let ran_words = || -> Vec<String> { read(&ran).lines().map(String::from).collect() };

    let polls = b.poll_all().await;
    assert_eq!(polls[0].junk.as_ref().unwrap().as_ref().unwrap().len(), 1);
    assert_eq!(
        ran_words(),
        ["find"],
        "only find went through the prefix (not df, not uptime)"
    );

    let (call, out) = remove_found_junk(&cfg, &b, polls, root).await;
    let shown = format!("'{}' -n sh -c ", sudo.display());
    assert!(call.contains(&shown), "the dialog shows the prefix: {call}");
    assert_eq!(
        out.result,
        opsdeck_core::action::OutcomeResult::Succeeded,
        "{}",
        out.summary
    );
    assert!(!dumps.join("java_pid1.hprof").exists());
    assert_eq!(
        ran_words()[1..],
        ["sh"],
        "the removal script, which checks each file again and removes it"
    );

    b.du(
        "es-1",
        &dumps.to_string_lossy(),
        Duration::from_secs(30),
        &|_, _| {},
        &tokio_util::sync::CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        ran_words()[2..],
        ["find", "timeout"],
        "du's child count, then du (under its timeout)"
    );
    b.shutdown().await;
}

/// A scan waiting for a slot (every one taken by tails) says so, can be stopped while it waits,
/// and its report ends either way.
#[tokio::test(flavor = "multi_thread")]
async fn a_du_waiting_for_a_slot_says_so_and_can_be_stopped() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path().join("scan me");
    std::fs::create_dir_all(&dir).unwrap();
    let log = sshd.dir.path().join("busy.log");
    std::fs::write(&log, "line\n").unwrap();
    let mut cfg = sshd.config(vec![sshd.host("me")]);
    cfg.max_tails = 1;
    let b = backend(&cfg);
    // The only slot: a tail, streaming.
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    b.handle_tail(
        TailCommand::Start(LogSource::file("me", &log.to_string_lossy())),
        tx.into(),
    );
    while let Some(p) = rx.recv().await {
        if let opsdeck_hosts::model::logs::LogEvent::Lines { .. } = p {
            break;
        }
    }
    let cancel = tokio_util::sync::CancellationToken::new();
    let (said_tx, mut said) = tokio::sync::mpsc::unbounded_channel();
    let scan = {
        let (b, cancel, dir) = (b.clone(), cancel.clone(), dir.to_string_lossy().into_owned());
        tokio::spawn(async move {
            let progress = move |m: String, _: Option<f64>| {
                let _ = said_tx.send(m);
            };
            b.du("me", &dir, Duration::from_secs(600), &progress, &cancel).await
        })
    };
    let waiting = said.recv().await.expect("progress");
    assert!(waiting.contains("waiting for a free slot on me"), "{waiting}");
    cancel.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(30), scan)
        .await
        .expect("a waiting scan ends when stopped")
        .unwrap()
        .expect_err("stopped while waiting");
    assert_eq!(stopped, "stopped by the user");
    let polls = b.poll_all().await;
    let report = &polls[0].du[0];
    assert!(!report.running, "{report:?}");
    assert_eq!(report.error.as_deref(), Some("stopped by the user"));
    b.shutdown().await;
}
