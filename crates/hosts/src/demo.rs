//! The demo fleet's hosts: three "machines" run through the real `local` transport, each a directory
//! under the sandbox with a simulated disk (df computed from a quota and the directory's apparent size),
//! a simulated supervisorctl (state files; restart gives a new pid), and logs being written.
//!
//! Life: a disk fills up until "logrotate" frees it, crash dumps (sparse `*.hprof` files, so gigabytes
//! cost nothing) appear on the ES host, a worker program dies now and then, and log lines keep coming.
//! Removing the dumps, restarting programs and tailing logs all work on it for real.

use crate::Hosts;
use crate::config::{HostConfig, TransportKind};
use opsdeck_core::demo::DemoCtx;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DF: &str = r#"#!/bin/sh
# opsdeck demo: df -PT for a simulated disk (KiB); the disk's usage is a base plus the apparent size
# of the host's disk directory, so sparse crash dumps "fill" it.
H="$(cd "$(dirname "$0")/.." && pwd)"
inodes=0
for a in "$@"; do [ "$a" = "-i" ] && inodes=1; done
size=$(cat "$H/quota_kib"); base=$(cat "$H/base_kib")
data=$(du -sk --apparent-size "$H/disk" | cut -f1)
used=$((base + data)); avail=$((size - used)); [ "$avail" -lt 0 ] && avail=0
pct=$(( (used * 100 + used + avail - 1) / (used + avail) ))
if [ "$inodes" = 1 ]; then
  files=$(find "$H/disk" | wc -l)
  echo "Filesystem     Type     Inodes   IUsed    IFree IUse% Mounted on"
  printf '/dev/nvme1n1 xfs 3276800 %s %s %s%% %s\n' $((120000 + files)) $((3276800 - 120000 - files)) 4 "$H/disk"
  echo "/dev/nvme0n1p1 ext4 524288 91000 433288 18% /"
  echo "tmpfs tmpfs 2029161 1 2029160 1% /dev/shm"
else
  echo "Filesystem     Type     1024-blocks      Used Available Capacity Mounted on"
  printf '/dev/nvme1n1 xfs %s %s %s %s%% %s\n' "$size" "$used" "$avail" "$pct" "$H/disk"
  echo "/dev/nvme0n1p1 ext4 8123456 4412000 3711456 55% /"
  echo "tmpfs tmpfs 8116644 0 8116644 0% /dev/shm"
fi
"#;

const SUPERVISORCTL: &str = r#"#!/bin/sh
# opsdeck demo: a supervisorctl over state files (RUNNING/STOPPED/FATAL, pid, start time).
H="$(cd "$(dirname "$0")/.." && pwd)"; S="$H/sup"
now=$(date +%s)
line() {
  p=$1; st=$(cat "$S/$p.state"); since=$(cat "$S/$p.started")
  case "$st" in
  RUNNING) up=$((now - since))
    printf '%-32s RUNNING   pid %s, uptime %d:%02d:%02d\n' "$p" "$(cat "$S/$p.pid")" $((up/3600)) $((up%3600/60)) $((up%60));;
  FATAL) printf '%-32s FATAL     Exited too quickly (process log may have details)\n' "$p";;
  *) printf '%-32s %-9s %s\n' "$p" "$st" "$(date -d "@$since" '+%b %d %I:%M %p')";;
  esac
}
known() { [ -f "$S/$1.state" ]; }
act=$1; [ $# -gt 0 ] && shift
case "$act" in
status)
  # As supervisorctl: every program without names; exit 3 when one shown is not RUNNING, 4 when unknown.
  if [ $# -eq 0 ]; then for f in "$S"/*.state; do set -- "$@" "$(basename "$f" .state)"; done; fi
  rc=0
  for p in "$@"; do
    if known "$p"; then line "$p"; grep -q RUNNING "$S/$p.state" || rc=3
    else echo "$p: ERROR (no such process)"; rc=4; fi
  done
  exit $rc;;
start|stop|restart)
  rc=0
  for p in "$@"; do
    if ! known "$p"; then echo "$p: ERROR (no such process)"; rc=1; continue; fi
    case "$act" in stop|restart) echo STOPPED > "$S/$p.state"; echo "$now" > "$S/$p.started"; echo "$p: stopped";; esac
    case "$act" in start|restart) sleep 1; echo $(( $$ * 7 % 60000 + 1000 )) > "$S/$p.pid"; date +%s > "$S/$p.started"
      echo RUNNING > "$S/$p.state"; echo "$p: started";; esac
  done
  exit $rc;;
*) echo "*** Unknown syntax: $act"; exit 2;;
esac
"#;

/// The demo's dumps and cache files are sparse (gigabytes that cost nothing): du counts what they
/// pretend to hold, as the simulated df does, so "du to find the culprit" finds it.
const DU: &str = r#"#!/bin/sh
# opsdeck demo: du by apparent size (the real du, found on the default PATH, not this wrapper).
PATH="$(command -p getconf PATH)"
exec du --apparent-size "$@"
"#;

struct DemoHost {
    name: &'static str,
    quota_gib: u64,
    base_gib: u64,
    programs: &'static [&'static str],
    logs: &'static [&'static str],
}

const HOSTS: &[DemoHost] = &[
    DemoHost {
        name: "web-1",
        quota_gib: 40,
        base_gib: 22,
        programs: &["gunicorn", "nginx"],
        logs: &["log/access.log"],
    },
    DemoHost {
        name: "es-data-1",
        quota_gib: 500,
        base_gib: 440,
        programs: &["elasticsearch"],
        logs: &["elasticsearch/es.log"],
    },
    DemoHost {
        name: "worker-1",
        quota_gib: 100,
        base_gib: 41,
        programs: &["tile-worker", "pillow-case", "pillow-form"],
        logs: &["log/tile-worker.log"],
    },
];

fn write_exec(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

fn set_program(dir: &Path, program: &str, state: &str, pid: u32) -> std::io::Result<()> {
    let sup = dir.join("sup");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    std::fs::write(sup.join(format!("{program}.state")), format!("{state}\n"))?;
    std::fs::write(sup.join(format!("{program}.pid")), format!("{pid}\n"))?;
    std::fs::write(sup.join(format!("{program}.started")), format!("{now}\n"))
}

/// Lays out one demo host under `root` and returns its config.
fn make_host(root: &Path, h: &DemoHost) -> std::io::Result<HostConfig> {
    let dir = root.join(h.name);
    for sub in ["bin", "sup", "disk/log", "disk/elasticsearch", "disk/cache"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    write_exec(&dir.join("bin/df"), DF)?;
    write_exec(&dir.join("bin/supervisorctl"), SUPERVISORCTL)?;
    write_exec(&dir.join("bin/du"), DU)?;
    std::fs::write(dir.join("quota_kib"), format!("{}\n", h.quota_gib << 20))?;
    std::fs::write(dir.join("base_kib"), format!("{}\n", h.base_gib << 20))?;
    for (i, p) in h.programs.iter().enumerate() {
        set_program(&dir, p, "RUNNING", 2000 + i as u32 * 37)?;
    }
    let disk = dir.join("disk");
    let logs = h
        .logs
        .iter()
        .map(|l| {
            let p = disk.join(l);
            std::fs::OpenOptions::new().create(true).append(true).open(&p)?;
            Ok(p.to_string_lossy().into_owned())
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    Ok(HostConfig {
        supervisor: true,
        junk_paths: vec![disk.to_string_lossy().into_owned()],
        logs,
        path_prepend: vec![dir.join("bin")],
        ..HostConfig::named(h.name, TransportKind::Local)
    })
}

/// Starts this part of the demo and adds its section to the demo config.
pub async fn start(demo: &mut DemoCtx<'_>) -> anyhow::Result<()> {
    let root = demo.sandbox.join("hosts");
    std::fs::create_dir_all(&root)?;
    let mut hosts = Vec::new();
    for h in HOSTS {
        hosts.push(make_host(&root, h)?);
    }
    let ssh = demo.config.of_mut::<Hosts>();
    ssh.hosts.extend(hosts);
    ssh.supervisor_command = "supervisorctl {action} {program}".into();
    ssh.refresh = Some(opsdeck_core::config::ConfigDuration::secs(3));
    ssh.command_timeout = opsdeck_core::config::ConfigDuration::secs(10);
    ssh.tail_lines = 20;
    let cancel = demo.cancel.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            n += 1;
            if let Err(e) = life(&root, n) {
                tracing::debug!(error = %e, "demo hosts: a step of life failed");
            }
        }
    });
    Ok(())
}

/// A cheap pseudo-random number from the tick (no RNG dependency for a demo).
fn jitter(n: u64, m: u64) -> u64 {
    (n.wrapping_mul(2_654_435_761) >> 7) % m.max(1)
}

fn append(path: &PathBuf, line: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(f, "{line}")
}

/// One half-second of life for the demo hosts.
fn life(root: &Path, n: u64) -> std::io::Result<()> {
    let stamp = opsdeck_core::time::rfc3339(std::time::SystemTime::now());
    // web-1: access log lines, now and then a burst of 5xx; its cache fills the disk until rotated.
    let web = root.join("web-1");
    let paths = ["/", "/api/cases", "/a/form/123", "/static/app.js", "/api/sync"];
    let status = if jitter(n, 17) == 0 { 502 } else { 200 };
    append(
        &web.join("disk/log/access.log"),
        &format!(
            "10.0.{}.{} - - [{stamp}] \"GET {} HTTP/1.1\" {status} {} {}ms",
            jitter(n, 4),
            jitter(n + 3, 250),
            paths[jitter(n, paths.len() as u64) as usize],
            512 + jitter(n, 20_000),
            3 + jitter(n, 400)
        ),
    )?;
    let cache = web.join("disk/cache/render.bin");
    let len = std::fs::metadata(&cache).map(|m| m.len()).unwrap_or(0);
    // +150 MiB a second; "logrotate" at 17 GiB brings it back (the disk goes 55% → 97% → 55%).
    let next = if len > 17 << 30 { 0 } else { len + (75 << 20) };
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&cache)?
        .set_len(next)?;

    // es-data-1: log lines; a crash dump (sparse, 6-9 GiB) every ~40 s, at most 4.
    let es = root.join("es-data-1");
    if n.is_multiple_of(3) {
        append(
            &es.join("disk/elasticsearch/es.log"),
            &format!("[{stamp}][INFO ][o.e.c.r.a.DiskThresholdMonitor] [es-data-1] low disk watermark check"),
        )?;
    }
    if n % 80 == 20 {
        let dumps = std::fs::read_dir(es.join("disk/elasticsearch"))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".hprof"))
            .count();
        if dumps < 4 {
            let f = es.join(format!("disk/elasticsearch/java_pid{}.hprof", 1000 + n));
            std::fs::File::create(&f)?.set_len((6 + jitter(n, 4)) << 30)?;
            append(
                &es.join("disk/elasticsearch/es.log"),
                &format!(
                    "[{stamp}][ERROR][o.e.b.ElasticsearchUncaughtExceptionHandler] java.lang.OutOfMemoryError: Java heap space; heap dumped to {}",
                    f.display()
                ),
            )?;
        }
    }

    // worker-1: work log; every ~50 s one program dies (FATAL) until someone restarts it.
    let worker = root.join("worker-1");
    append(
        &worker.join("disk/log/tile-worker.log"),
        &format!(
            "{stamp} INFO tile-worker processed batch {} ({} tiles)",
            n,
            10 + jitter(n, 90)
        ),
    )?;
    if n % 100 == 60 {
        let victim = ["tile-worker", "pillow-case", "pillow-form"][jitter(n, 3) as usize];
        std::fs::write(worker.join(format!("sup/{victim}.state")), "FATAL\n")?;
        append(
            &worker.join("disk/log/tile-worker.log"),
            &format!("{stamp} ERROR {victim} exited: status 1; not expected"),
        )?;
    }
    Ok(())
}
