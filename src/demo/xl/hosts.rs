//! The hosts' polls: load, disks where servers mount them, supervisor programs, crash dumps.

use super::layout::{PILLOW_PROCESSES, host_names, pillow_host, pillow_name, program, role};
use super::pillows::down_since;
use super::{STEP_SECS, Size, mix, tide, unit};
use opsdeck_hosts::model::{Filesystem, HostPoll, JunkFile, Program, ProgramState};

/// Each host's disks, by role: (device, type, mount, size in GiB).
fn disks(host: &str, count: usize) -> Vec<(String, &'static str, String, u64)> {
    let data = match role(host) {
        "es-data" => "/var/lib/elasticsearch",
        "pg" => "/var/lib/postgresql",
        "kafka" => "/var/lib/kafka",
        "couch" => "/opt/data/couchdb",
        _ => "/opt/data",
    };
    let all = [
        ("/dev/nvme0n1p1", "ext4", "/", 100),
        ("/dev/nvme0n1p2", "ext4", "/boot", 1),
        ("/dev/nvme1n1", "xfs", data, 2_000),
        ("/dev/nvme2n1", "xfs", "/data1", 1_000),
        ("/dev/nvme3n1", "xfs", "/data2", 1_000),
        ("/dev/nvme0n1p3", "ext4", "/var/log", 200),
        ("/dev/nvme0n1p4", "ext4", "/home", 50),
        ("/dev/nvme4n1", "xfs", "/backup", 4_000),
    ];
    (0..count)
        .map(|d| {
            let (dev, fstype, mount, gib) = all[d % all.len()];
            if d < all.len() {
                (dev.to_string(), fstype, mount.to_string(), gib)
            } else {
                (
                    format!("/dev/nvme{}n1", d + 4),
                    "xfs",
                    format!("/data{}", d - all.len() + 3),
                    1_000,
                )
            }
        })
        .collect()
}

fn programs(size: &Size, host: &str, step: u64) -> Vec<Program> {
    let h = mix(&[host.len() as u64, host.bytes().map(u64::from).sum()]);
    let running = |name: String, k: u64| Program {
        pid: Some(1_000 + ((h + k * 7_919) % 60_000) as u32),
        uptime_secs: Some(86_400 + (h % 500_000) + step * STEP_SECS),
        name,
        state: ProgramState::Running,
        description: String::new(),
    };
    match role(host) {
        "web" => (0..4)
            .map(|k| running(format!("commcare-hq-production-django-{k}"), k))
            .collect(),
        "celery" => [
            "background_queue",
            "repeat_record_queue",
            "sms_queue",
            "async_restore_queue",
        ]
        .iter()
        .zip(0..)
        .map(|(q, k)| running(format!("commcare-hq-production-celery_{q}"), k))
        .collect(),
        "pillowtop" => (0..size.pillows)
            .filter(|&i| pillow_host(size, i) == host)
            .flat_map(|i| (0..PILLOW_PROCESSES).map(move |n| (i, n)))
            .map(|(i, n)| {
                let mut p = running(program(&pillow_name(i), n), (i * 8 + n) as u64);
                if down_since(i, n, step).is_some() {
                    p.state = ProgramState::Exited;
                    p.pid = None;
                    p.uptime_secs = None;
                    p.description = "Dec 01 03:12 AM (exit status 137; OOM-killed)".into();
                }
                p
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The hosts' poll `step`: each host with its own load, programs and PIDs, and `disks_per_host`
/// filesystems mounted where servers mount them, filling and draining at their own pace; ES hosts
/// collect heap dumps.
pub fn hosts(size: &Size, step: u64) -> Vec<HostPoll> {
    host_names(size.hosts)
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let mut poll = HostPoll::unreachable(&name, "ssh", String::new());
            poll.reach = Ok(());
            let busy = unit(&[i as u64, 5]);
            let load = |k: u64| ((busy * 8.0 + 2.0 * tide(step, 60, i as u64 + k * 10)) * 100.0).round() / 100.0;
            poll.load = Some([load(0), load(1), load(2)]);
            poll.filesystems = Some(Ok(disks(&name, size.disks_per_host)
                .into_iter()
                .enumerate()
                .map(|(d, (source, fstype, mount, gib))| {
                    let seed = [i as u64, d as u64];
                    let filling = tide(step, 300, mix(&seed) % 300);
                    // Most between 10 and 75 %; the data disk of one host in forty fills past 90 % and drains.
                    let pct = if i % 40 == 3 && d == 2 {
                        70.0 + 25.0 * filling
                    } else {
                        10.0 + 55.0 * unit(&seed) + 10.0 * filling
                    };
                    let size_kib = gib * 1024 * 1024;
                    let used_kib = (size_kib as f64 * pct / 100.0) as u64;
                    Filesystem {
                        source,
                        fstype: Some(fstype.into()),
                        mount,
                        size_kib,
                        used_kib,
                        avail_kib: size_kib - used_kib,
                        use_percent: pct.round(),
                        inodes: None,
                    }
                })
                .collect()));
            poll.programs = Some(Ok(programs(size, &name, step)));
            poll.junk = Some(Ok(if role(&name) == "es-data" && i % 5 == 0 {
                // Crash dumps pile up: one more every 100 steps.
                (0..=(step / 100) % 4)
                    .map(|k| JunkFile {
                        path: format!("/var/lib/elasticsearch/java_pid{}.hprof", 4_000 + i as u64 * 10 + k),
                        size_bytes: (8 + k) << 30,
                        modified: Some(1_795_000_000.0 - k as f64 * 3_600.0),
                        id: None,
                    })
                    .collect()
            } else {
                Vec::new()
            }));
            poll
        })
        .collect()
}
