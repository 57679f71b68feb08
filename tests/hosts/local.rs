//! The local transport with stand-in tools on PATH: df without `-T` (busybox), df that hangs (NFS), df
//! that prints garbage. Each failure stays in its own part of its own host.

use opsdeck_core::logs::LogSource;
use opsdeck_hosts::config::{HostConfig, SshConfig, TransportKind};
use opsdeck_hosts::source::{SshBackend, TailCommand};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

fn host(dir: &std::path::Path, name: &str, df_script: &str) -> HostConfig {
    let bin = dir.join(name);
    std::fs::create_dir_all(&bin).unwrap();
    let df = bin.join("df");
    std::fs::write(&df, format!("#!/bin/sh\n{df_script}\n")).unwrap();
    std::fs::set_permissions(&df, std::fs::Permissions::from_mode(0o755)).unwrap();
    HostConfig {
        path_prepend: vec![bin],
        ..HostConfig::named(name, TransportKind::Local)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn df_failures_stay_in_their_own_host_and_part() {
    let dir = tempfile::tempdir().unwrap();
    let busybox = r#"case "$1" in *T*) echo "df: invalid option -- 'T'" >&2; exit 1;; esac
echo "Filesystem 1024-blocks Used Available Capacity Mounted on"
echo "/dev/root 1000 900 100 90% /""#;
    let cfg = SshConfig {
        hosts: vec![
            host(dir.path(), "busybox", busybox),
            host(dir.path(), "nfs-hung", "sleep 60"),
            host(
                dir.path(),
                "garbage",
                "echo 'Segmentation fault'; head -c 300 /dev/urandom",
            ),
        ],
        command_timeout: opsdeck_core::config::ConfigDuration::secs(4),
        ..SshConfig::default()
    };
    let b = SshBackend::new(&cfg).unwrap();
    let started = Instant::now();
    let polls = b.poll_all().await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the hung df is killed remotely: {:?}",
        started.elapsed()
    );
    let by = |n: &str| polls.iter().find(|p| p.name == n).unwrap();
    let bb = by("busybox");
    let fs = bb.filesystems.as_ref().unwrap().as_ref().expect("fell back to df -P");
    assert_eq!(fs[0].mount, "/");
    assert_eq!(fs[0].fstype, None);
    for name in ["nfs-hung", "garbage"] {
        let p = by(name);
        assert!(p.reach.is_ok(), "{name}: df failing does not make the host unreachable");
        assert!(p.load.is_some(), "{name}: the rest of the poll is there");
        let err = p.filesystems.as_ref().unwrap().as_ref().unwrap_err();
        assert!(!err.is_empty(), "{name}");
    }
}

#[test]
fn quitting_mid_tail_leaves_no_tail_behind() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("quit-tail-{}.log", std::process::id());
    let log = dir.path().join(&marker);
    std::fs::write(&log, "one\n").unwrap();
    let mut h = host(dir.path(), "me", "exit 1");
    h.logs = vec![log.to_string_lossy().into_owned()];
    let cfg = SshConfig {
        hosts: vec![h],
        ..SshConfig::default()
    };
    // Its own runtime, dropped like opsdeck's is at quit: tasks are dropped, never told to stop.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let b = rt.block_on(async { SshBackend::new(&cfg).unwrap() });
    rt.block_on(async {
        b.handle_tail(
            TailCommand::Start(LogSource::file("me", &log.to_string_lossy())),
            tx.into(),
        );
        loop {
            let p = rx.recv().await.expect("tail events");
            if let opsdeck_hosts::model::logs::LogEvent::Lines { .. } = p {
                break;
            }
        }
    });
    assert!(!super::harness::processes_matching(&marker).is_empty(), "tail running");
    drop(rx);
    rt.shutdown_timeout(Duration::from_millis(200));
    drop(b);
    let end = Instant::now() + Duration::from_secs(5);
    while !super::harness::processes_matching(&marker).is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        super::harness::processes_matching(&marker).is_empty(),
        "tail processes left behind: {:?}",
        super::harness::processes_matching(&marker)
    );
}

/// Esc then L again at once, through the real backend: each run reports under its own number, and
/// the view ends on the new run streaming, whichever order the two runs' events arrive in. (Which
/// order that is depends on scheduling; the model's unit test pins the late-"stopped" case.)
#[tokio::test(flavor = "multi_thread")]
async fn a_tail_stopped_and_started_again_at_once_shows_the_new_run() {
    use opsdeck_hosts::model::logs::{LogEvent, LogsState, TailState};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("quiet.log");
    std::fs::write(&log, "only line\n").unwrap();
    let cfg = SshConfig {
        hosts: vec![host(dir.path(), "me", "exit 1")],
        ..SshConfig::default()
    };
    let b = SshBackend::new(&cfg).unwrap();
    let source = LogSource::file("me", &log.to_string_lossy());
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    b.handle_tail(TailCommand::Start(source.clone()), tx.clone().into());
    b.handle_tail(TailCommand::Stop { id: source.id() }, tx.clone().into());
    b.handle_tail(TailCommand::Start(source.clone()), tx.clone().into());
    let mut logs = LogsState::default();
    let (mut first_stopped, mut second_streaming) = (false, false);
    while !(first_stopped && second_streaming) {
        let p = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("both runs report")
            .expect("tail events");
        let e = p;
        if let LogEvent::State { run, state, .. } = &e {
            first_stopped |= *run == 1 && *state == TailState::Stopped;
            second_streaming |= *run == 2 && *state == TailState::Streaming;
        }
        logs.apply(std::time::SystemTime::now(), e);
    }
    let tail = logs.tail(&source.id()).unwrap();
    assert_eq!((tail.run, &tail.state), (2, &TailState::Streaming));
    b.shutdown().await;
}

/// du on a tree it can only partly read: its complaints (far more than a pipe holds) are read as
/// they come, what it measured counts, and the report says what it could not read; a du that
/// measured nothing fails with its own words.
#[tokio::test(flavor = "multi_thread")]
async fn du_that_cannot_read_everything_reports_what_it_measured_and_its_complaints() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let du = bin.join("du");
    // 200 KiB of complaints before any output: more than a pipe buffers.
    let script = r#"#!/bin/sh
for a in "$@"; do dir="$a"; done
if [ -e "$dir/.broken" ]; then echo "du: cannot read directory '$dir': Permission denied" >&2; exit 1; fi
i=0; while [ $i -lt 3000 ]; do echo "du: cannot read directory '$dir/secret/$i': Permission denied" >&2; i=$((i+1)); done
printf '512\t%s/big\n8\t%s/small\n520\t%s\n' "$dir" "$dir" "$dir"
exit 1
"#;
    std::fs::write(&du, script).unwrap();
    std::fs::set_permissions(&du, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = SshConfig {
        hosts: vec![HostConfig {
            path_prepend: vec![bin],
            ..HostConfig::named("me", TransportKind::Local)
        }],
        ..SshConfig::default()
    };
    let b = SshBackend::new(&cfg).unwrap();
    let scan = dir.path().join("data");
    std::fs::create_dir_all(&scan).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let du = async || {
        let progress = |_: String, _: Option<f64>| {};
        b.du(
            "me",
            &scan.to_string_lossy(),
            Duration::from_secs(60),
            &progress,
            &cancel,
        )
        .await
    };
    let report = du().await.expect("what du measured counts");
    assert_eq!(report.entries.len(), 2, "{report:?}");
    assert!(report.entries[0].0.ends_with("/big"));
    let note = report.error.as_deref().unwrap_or_default();
    assert!(
        note.contains("could not read 3000 item(s)") && note.contains("secret/2999"),
        "{note}"
    );

    std::fs::write(scan.join(".broken"), "").unwrap();
    let failed = du().await.expect_err("nothing measured");
    assert!(failed.contains("Permission denied"), "{failed}");
    b.shutdown().await;
}

/// A du scan is a long-running stream like a tail: it takes a tail slot, so with every command slot
/// (here the only one) free for polls, the host keeps being polled while a scan runs.
#[tokio::test(flavor = "multi_thread")]
async fn polls_go_on_while_a_du_scan_runs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut h = host(
        dir.path(),
        "me",
        "echo 'Filesystem Type 1024-blocks Used Available Capacity Mounted on'; echo '/dev/sda1 ext4 1000 500 500 50% /'",
    );
    // A du that reports one entry and then takes its time (until the scan is stopped).
    let du = h.path_prepend[0].join("du");
    std::fs::write(&du, "#!/bin/sh\nprintf '4\\t/data/a\\n'\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&du, std::fs::Permissions::from_mode(0o755)).unwrap();
    h.supervisor = false;
    let cfg = SshConfig {
        hosts: vec![h],
        max_sessions: 1,
        ..SshConfig::default()
    };
    let b = SshBackend::new(&cfg).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let scan = {
        let (b, cancel) = (b.clone(), cancel.clone());
        tokio::spawn(async move {
            let progress = move |m: String, _: Option<f64>| {
                let _ = seen_tx.send(m);
            };
            b.du("me", "/data", Duration::from_secs(600), &progress, &cancel).await
        })
    };
    // The scan is under way once it reported its first entry.
    while let Some(m) = seen.recv().await {
        if m.contains("/data/a") {
            break;
        }
    }
    let polls = tokio::time::timeout(Duration::from_secs(30), b.poll_all())
        .await
        .expect("the poll does not wait for the scan");
    let fs = polls[0].filesystems.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(fs[0].mount, "/");
    cancel.cancel();
    let stopped = scan.await.unwrap().expect_err("stopped by the user");
    assert!(stopped.contains("stopped"), "{stopped}");
    b.shutdown().await;
}
