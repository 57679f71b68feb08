//! The demo's hosts through the real local transport: df, programs, junk, and actions that work.

use super::common::{action_ctx, polled_state};
use opsdeck::config::Config;
use opsdeck::demo::DemoFleet;
use opsdeck_core::action::{OutcomeResult, run_operation};
use opsdeck_core::logs::LogSource;
use opsdeck_hosts::actions::{remove_files_plan, supervisor_plan};
use opsdeck_hosts::model::ProgramState;
use opsdeck_hosts::source::{SshBackend, SupervisorAction, TailCommand};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn demo() -> (DemoFleet, tempfile::TempDir) {
    demo_with(CancellationToken::new()).await
}

/// The demo hosts as laid out at start, without their life: `hosts::start` ties its only
/// background task, the "life" ticker (caches filling, crash dumps at the storyline's beat, log
/// lines), to the demo's `cancel`; started with `cancel` already fired, that ticker ends at once
/// (at most its first, uneventful step runs). Nothing then changes the hosts but the test itself,
/// however slow the machine.
async fn still_demo() -> (DemoFleet, tempfile::TempDir) {
    let cancel = CancellationToken::new();
    cancel.cancel();
    demo_with(cancel).await
}

async fn demo_with(cancel: CancellationToken) -> (DemoFleet, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = DemoFleet {
        config: Config::default(),
        sandbox: dir.path().to_path_buf(),
        cancel,
        keep_alive: Vec::new(),
        stand_ins: Default::default(),
        story: Default::default(),
    };
    opsdeck_hosts::demo::start(&mut demo.ctx()).await.unwrap();
    (demo, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_hosts_poll_and_their_actions_visibly_work() {
    // The demo's clock would race the assertions below (its dumps and FATAL program come on their
    // own time): without it, what this test sees is only what the test did.
    let (demo, dir) = still_demo().await;
    assert!(demo.config.validate().is_empty(), "{:?}", demo.config.validate());
    let b = SshBackend::new(&demo.config.ssh).unwrap();
    let s = polled_state(&b).await;
    assert_eq!(s.hosts.len(), 3);
    for h in &s.hosts {
        assert!(h.reachable, "{}: {:?}", h.name, h.error);
        assert!(h.filesystems_error.is_none(), "{}: {:?}", h.name, h.filesystems_error);
        assert!(h.disks(false).count() >= 1, "{}: {:?}", h.name, h.filesystems);
        // Mounted where servers mount them, not where the sandbox is.
        for f in h.disks(false) {
            assert!(
                ["/", "/data1", "/var/lib/elasticsearch"].contains(&f.mount.as_str()),
                "{}: {}",
                h.name,
                f.mount
            );
        }
        assert!(h.load.is_some(), "{}: its own load", h.name);
        assert!(
            h.programs.iter().all(|p| p.state == ProgramState::Running),
            "{:?}",
            h.programs
        );
    }

    // Restart: a new pid, RUNNING, verified.
    let worker = s.host("worker-1").unwrap();
    let old = worker.program("tile-worker").unwrap().pid;
    let plan = supervisor_plan(&demo.config.ssh, "worker-1", "tile-worker", SupervisorAction::Restart).unwrap();
    let out = run_operation(plan.op, &action_ctx(b.clone(), dir.path())).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    let s = polled_state(&b).await;
    let p = s.host("worker-1").unwrap().program("tile-worker").unwrap();
    assert_eq!(p.state, ProgramState::Running);
    assert_ne!(p.pid, old);

    // Crash dumps appear (sparse, gigabytes) and the disk fills; removing them frees the space.
    let es_dir = dir.path().join("hosts/es-data-1/fs/es/nodes");
    std::fs::create_dir_all(&es_dir).unwrap();
    for i in 0..2 {
        std::fs::File::create(es_dir.join(format!("java_pid{i} it's $(x).hprof")))
            .unwrap()
            .set_len(8 << 30)
            .unwrap();
    }
    let s = polled_state(&b).await;
    let es = s.host("es-data-1").unwrap();
    assert!(es.junk.len() >= 2, "{:?} {:?}", es.junk, es.junk_error);
    let before = es.disks(false).map(|f| f.use_percent).fold(0.0, f64::max);
    // du finds the culprit as df sees it (the dumps are sparse; the demo's du counts their size),
    // on the mount as df names it.
    let du = b
        .du(
            "es-data-1",
            "/var/lib/elasticsearch",
            Duration::from_secs(30),
            &|_, _| {},
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(du.entries[0].0, "/var/lib/elasticsearch/nodes", "{:?}", du.entries);
    assert!(du.entries[0].1 >= 16 << 20, "two 8 GiB dumps: {:?}", du.entries);
    let plan = remove_files_plan(&demo.config.ssh, es, &es.junk).unwrap();
    assert!(plan.description.contains("it's $(x).hprof"));
    let out = run_operation(plan.op, &action_ctx(b.clone(), dir.path())).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    assert!(out.summary.contains("freed"), "{}", out.summary);
    let s = polled_state(&b).await;
    let es = s.host("es-data-1").unwrap();
    assert!(es.junk.is_empty(), "{:?}", es.junk);
    let after = es.disks(false).map(|f| f.use_percent).fold(0.0, f64::max);
    assert!(after < before, "df shows space freed: {before} -> {after}");
    demo.cancel.cancel();
}

/// The storyline's crash dumps: from their beat tile-worker leaves heap dumps on worker-1's /data1
/// until the disk alerts; removed through the real action, none come back for the rest of the run.
#[tokio::test(flavor = "multi_thread")]
async fn demo_crash_dumps_pile_up_at_their_beat_and_stay_gone_once_removed() {
    let (demo, dir) = demo().await;
    let b = SshBackend::new(&demo.config.ssh).unwrap();
    let worker_junk = |s: &opsdeck_hosts::model::HostsState| s.host("worker-1").unwrap().junk.len();
    let data1_percent = |s: &opsdeck_hosts::model::HostsState| {
        let worker = s.host("worker-1").unwrap();
        let data1 = worker.disks(false).find(|f| f.mount == "/data1");
        data1.map(|f| f.use_percent).unwrap_or_default()
    };
    // Before the beat: no dumps anywhere.
    let s = polled_state(&b).await;
    assert!(s.hosts.iter().all(|h| h.junk.is_empty()), "no dumps before their beat");
    // A hundred seconds into the beat: a dump every 20 s, five so far.
    demo.story
        .skip_to(opsdeck_core::demo::beats::CRASH_DUMPS + Duration::from_secs(100));
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let s = loop {
        let s = polled_state(&b).await;
        let data1 = data1_percent(&s);
        if worker_junk(&s) >= 2 && data1 >= demo.config.ssh.disk_warn {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dumps did not pile up: {} dumps, /data1 {data1}%",
            worker_junk(&s)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let worker = s.host("worker-1").unwrap();
    // Listed where a server keeps them, not in the demo's sandbox (the host's `find` and `sh` look
    // in its directory for that mount).
    assert!(
        worker
            .junk
            .iter()
            .all(|f| f.path.starts_with("/data1/crash/java_pid") && f.path.ends_with(".hprof")),
        "{:?}",
        worker.junk
    );
    let plan = remove_files_plan(&demo.config.ssh, worker, &worker.junk).unwrap();
    let out = run_operation(plan.op, &action_ctx(b.clone(), dir.path())).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    // The rest of the story (an hour of it, a dump's interval many times over): none comes back.
    demo.story.skip(Duration::from_secs(3600));
    let settled = std::time::Instant::now() + Duration::from_secs(6);
    while std::time::Instant::now() < settled {
        let s = polled_state(&b).await;
        assert_eq!(worker_junk(&s), 0, "{:?}", s.host("worker-1").unwrap().junk);
        let data1 = data1_percent(&s);
        assert!(data1 < demo.config.ssh.disk_warn, "/data1 drained: {data1}%");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    demo.cancel.cancel();
}

/// What the console checks before offering the hosts' actions (`doctor`): at the server paths the
/// demo names, every one of them checks out, junk removal and log tails included.
#[tokio::test(flavor = "multi_thread")]
async fn every_demo_host_capability_checks_out_at_the_paths_it_names() {
    let (demo, _dir) = still_demo().await;
    let findings = opsdeck::doctor::findings(&demo.config).await;
    let hosts: Vec<_> = findings
        .iter()
        .filter(|f| f.pane == "hosts" || f.pane == "logs")
        .collect();
    for (host, capability) in [
        ("worker-1", "remove junk"),
        ("web-1", "read /var/log/nginx/access.log"),
        ("worker-1", "read /data1/log/tile-worker.log"),
    ] {
        assert!(
            hosts.iter().any(|f| f.source == host && f.capability == capability),
            "{host} {capability} not checked: {hosts:#?}"
        );
    }
    let problems: Vec<_> = hosts.iter().filter(|f| f.verdict.is_problem()).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    demo.cancel.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_logs_are_written_and_tailed_through_the_local_transport() {
    let (demo, _dir) = demo().await;
    let b = SshBackend::new(&demo.config.ssh).unwrap();
    let host = &demo.config.ssh.hosts[0];
    // Named where a server keeps it, not in the demo's sandbox: the host's `tail` finds it.
    assert_eq!(host.logs[0], "/var/log/nginx/access.log");
    let worker = demo.config.ssh.hosts.iter().find(|h| h.name == "worker-1").unwrap();
    assert_eq!(worker.logs, ["/data1/log/tile-worker.log"]);
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    b.handle_tail(
        TailCommand::Start(LogSource::file(&host.name, &host.logs[0])),
        tx.into(),
    );
    let mut logs = opsdeck_hosts::model::logs::LogsState::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while logs.lines.len() < 3 && tokio::time::Instant::now() < deadline {
        if let Ok(Some(p)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await
            && let e = p
        {
            logs.apply(std::time::SystemTime::now(), e);
        }
    }
    assert!(logs.lines.len() >= 3, "the demo writes its log continuously");
    assert!(logs.lines.iter().any(|l| l.text.contains("HTTP/1.1")));
    b.shutdown().await;
    demo.cancel.cancel();
}
