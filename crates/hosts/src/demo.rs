//! The demo fleet's hosts: three "machines" run through the real `local` transport, each a directory
//! under the sandbox with simulated disks mounted where servers mount them (`/`, `/data1`,
//! `/var/lib/elasticsearch`: df computed from a size and the apparent size of the mount's directory;
//! du looks a mount's paths up there), its own load (`/proc/loadavg`) and pids, a simulated
//! supervisorctl (state files; restart gives a new pid), and logs being written.
//!
//! Life: caches and merges fill disks and are freed, well below the thresholds; at the storyline's
//! crash-dump beat tile-worker on worker-1 starts leaving heap dumps (sparse `*.hprof` files, so
//! gigabytes cost nothing) that fill `/data1` until removed, and none come after. Removing the dumps,
//! restarting programs and tailing logs all work on it for real.

use crate::Hosts;
use crate::config::{HostConfig, TransportKind};
use opsdeck_core::demo::{DemoCtx, StoryClock, beats};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The host's simulated mounts, one a line: device, type, size and base usage (KiB), the directory
/// under `<host>/fs/` that holds its files, and where a server mounts it.
const MOUNTS: &str = "mounts";

/// The start of every shim: `$H`, the host's directory (the shim runs by its full path from PATH as
/// `<host>/bin/NAME`: found without a process), and the real tools on PATH, not these shims.
macro_rules! shim_prelude {
    () => {
        r#"#!/bin/sh
case $0 in /*/bin/*) H=${0%/bin/*};; *) H="$(cd "$(dirname "$0")/.." && pwd)";; esac
PATH=/usr/bin:/bin
"#
    };
}

/// Shell functions of the shims that take a path: `on_host PATH` finds the host's file for a path
/// on one of its mounts (`/var/log/nginx/access.log` on `/`), setting `$mount`, `$here` (the
/// mount's directory under `<host>/fs/`) and `$mapped`; it fails for a path on none of them.
macro_rules! shim_paths {
    () => {
        r#"on_host() {
  mount=; dir=
  while read -r _ _ _ _ d m; do
    case "$1" in "$m"|"${m%/}"/*) if [ ${#m} -gt ${#mount} ]; then mount=$m; dir=$d; fi;; esac
  done < "$H/mounts"
  [ -n "$mount" ] || return 1
  here="$H/fs/$dir"; rest=${1#"$mount"}; rest=${rest#/}; mapped="$here${rest:+/$rest}"
}
"#
    };
}

/// Sets `$last` to the last argument, then drops it from `"$@"`.
macro_rules! shim_pop_last {
    () => {
        r#"last=
for last in "$@"; do :; done
n=$#; i=0
for a in "$@"; do i=$((i + 1)); shift; [ "$i" -lt "$n" ] && set -- "$@" "$a"; done
"#
    };
}

const DF: &str = concat!(
    shim_prelude!(),
    r#"# opsdeck demo: df -PT over the host's simulated mounts (KiB): each mount's usage is a base plus
# the apparent size of its directory under <host>/fs/, so sparse crash dumps "fill" it.
inodes=0
for a in "$@"; do [ "$a" = "-i" ] && inodes=1; done
if [ "$inodes" = 1 ]; then
  echo "Filesystem     Type     Inodes   IUsed    IFree IUse% Mounted on"
else
  echo "Filesystem     Type     1024-blocks      Used Available Capacity Mounted on"
fi
while read -r dev type size base dir mount; do
  if [ "$inodes" = 1 ]; then
    files=$(find "$H/fs/$dir" | wc -l); total=$((size / 64)); iused=$((total / 30 + files))
    printf '%s %s %s %s %s %s%% %s\n' "$dev" "$type" "$total" "$iused" $((total - iused)) $(( (iused * 100 + total - 1) / total )) "$mount"
  else
    data=$(du -sk --apparent-size "$H/fs/$dir"); data=${data%%[[:space:]]*}
    used=$((base + data)); avail=$((size - used)); [ "$avail" -lt 0 ] && avail=0
    printf '%s %s %s %s %s %s%% %s\n' "$dev" "$type" "$size" "$used" "$avail" $(( (used * 100 + used + avail - 1) / (used + avail) )) "$mount"
  fi
done < "$H/mounts"
if [ "$inodes" = 1 ]; then echo "tmpfs tmpfs 2029161 1 2029160 1% /dev/shm"
else echo "tmpfs tmpfs 8116644 0 8116644 0% /dev/shm"; fi
"#
);

/// `cat`, but `/proc/loadavg` is the host's own (the simulation writes it); anything else is the
/// real file.
const CAT: &str = concat!(
    shim_prelude!(),
    r#"# opsdeck demo: cat, with the host's own /proc/loadavg.
if [ $# -eq 1 ] && [ "$1" = /proc/loadavg ]; then exec cat "$H/proc/loadavg"; fi
exec cat "$@"
"#
);

/// A tool whose last argument is a path, that path on one of the host's mounts read from the
/// host's directory for that mount (a sandbox path or no argument: as given).
macro_rules! last_path_on_host {
    ($tool:literal) => {
        concat!(
            shim_prelude!(),
            "# opsdeck demo: ",
            $tool,
            ", its last argument (a path) on the host's simulated mounts.\n",
            shim_paths!(),
            shim_pop_last!(),
            "case \"${last:-}\" in \"$H\"/*|\"\") exec ",
            $tool,
            " \"$@\" ${last:+\"$last\"};; esac\non_host \"$last\" || exec ",
            $tool,
            " \"$@\" \"$last\"\nexec ",
            $tool,
            " \"$@\" \"$mapped\"\n"
        )
    };
}

/// `tail -F -- /var/log/nginx/access.log`: the logs the demo configures are where a server keeps
/// them.
const TAIL: &str = last_path_on_host!("tail");

/// `test -w /data1/crash`, `test -r /var/log/...`: what the console's checks ask before offering
/// the junk removal and the tails.
const TEST: &str = last_path_on_host!("test");

const SUPERVISORCTL: &str = concat!(
    shim_prelude!(),
    r#"# opsdeck demo: a supervisorctl over state files (RUNNING/STOPPED/FATAL, pid, start time).
S="$H/sup"
now=$(date +%s)
line() {
  # Builtins, not a cat each: a status of every program runs every few seconds.
  p=$1; read -r st < "$S/$p.state"; read -r since < "$S/$p.started"
  case "$st" in
  RUNNING) up=$((now - since))
    read -r pid < "$S/$p.pid"
    printf '%-32s RUNNING   pid %s, uptime %d:%02d:%02d\n' "$p" "$pid" $((up/3600)) $((up%3600/60)) $((up%60));;
  FATAL) printf '%-32s FATAL     Exited too quickly (process log may have details)\n' "$p";;
  *) printf '%-32s %-9s %s\n' "$p" "$st" "$(date -d "@$since" '+%b %d %I:%M %p')";;
  esac
}
known() { [ -f "$S/$1.state" ]; }
act=$1; [ $# -gt 0 ] && shift
case "$act" in
status)
  # As supervisorctl: every program without names; exit 3 when one shown is not RUNNING, 4 when unknown.
  if [ $# -eq 0 ]; then for f in "$S"/*.state; do f=${f##*/}; set -- "$@" "${f%.state}"; done; fi
  rc=0
  for p in "$@"; do
    if known "$p"; then line "$p"; [ "$st" = RUNNING ] || rc=3
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
"#
);

/// `find`, its starting points on the host's mounts (`/data1/crash`) searched in the host's
/// directories for them and the paths it prints named as the host names them: the junk paths the
/// demo configures are where a server keeps its crash dumps.
const FIND: &str = concat!(
    shim_prelude!(),
    "# opsdeck demo: find, over the host's simulated mounts.\n",
    shim_paths!(),
    r#"# The starting points come first (after -H, -L or -P), up to the first word of the expression.
back=; starts=1; i=0
for a in "$@"; do
  i=$((i + 1)); shift
  if [ -n "$starts" ]; then
    case "$a" in
    -H|-L|-P) ;;
    -*|"("|"!"|")") starts= ;;
    "$H"/*) ;;
    /*) if on_host "$a"; then
          back="${back}s|$here/|${mount%/}/|g
s|$here\$|$mount|
"; a=$mapped; fi;;
    esac
  fi
  set -- "$@" "$a"
done
[ -n "$back" ] || exec find "$@"
# find's status, through the pipe that renames what it prints (NUL-terminated records or lines).
exec 3>&1
rc=$( { { find "$@"; echo $? >&4; } | sed -z "$back" >&3; } 4>&1 )
exit "$rc"
"#
);

/// `sh`, with the junk removal script's paths (the junk path, every third argument after its name)
/// in the host's directories for them; any other use is the real `sh`, its PATH untouched (the
/// tools it runs are the host's).
const SH: &str = concat!(
    r#"#!/bin/sh
case $0 in /*/bin/*) H=${0%/bin/*};; *) H="$(cd "$(dirname "$0")/.." && pwd)";; esac
# opsdeck demo: sh, for the junk removal on the host's simulated mounts.
[ "${1:-}" = -c ] && [ "${3:-}" = opsdeck-remove ] || exec /bin/sh "$@"
"#,
    shim_paths!(),
    r#"script=$2; name=$3; shift 3
i=0
for a in "$@"; do
  i=$((i + 1)); shift
  if [ $((i % 3)) -eq 2 ] && on_host "$a"; then a=$mapped; fi
  set -- "$@" "$a"
done
exec /bin/sh -c "$script" "$name" "$@"
"#
);

/// The demo's dumps and cache files are sparse (gigabytes that cost nothing): du counts what they
/// pretend to hold, as the simulated df does, so "du to find the culprit" finds it. A path on one of
/// the host's mounts (`/data1/crash`) is looked up in the host's directory for that mount, and the
/// answer printed with the host's paths.
const DU: &str = concat!(
    shim_prelude!(),
    "# opsdeck demo: du by apparent size, over the host's simulated mounts.\n",
    shim_paths!(),
    shim_pop_last!(),
    r#"# The host's own directories (as its junk paths name them) are what they are.
case "${last:-}" in "$H"/*|"") exec du --apparent-size "$@" ${last:+"$last"};; esac
on_host "$last" || exec du --apparent-size "$@" "$last"
out=$(du --apparent-size "$@" "$mapped"); rc=$?
tab=$(printf '\t')
printf '%s\n' "$out" | sed -e "s|$tab$here/|$tab${mount%/}/|" -e "s|$tab$here\$|$tab$mount|"
exit $rc
"#
);

/// One simulated filesystem of a demo host.
pub struct Mount {
    pub device: &'static str,
    pub fstype: &'static str,
    pub size_gib: u64,
    /// What the disk holds besides the files the demo writes.
    pub base_gib: u64,
    /// Its directory under `<host>/fs/`.
    pub dir: &'static str,
    /// Where a server mounts it.
    pub at: &'static str,
}

struct DemoHost {
    name: &'static str,
    mounts: &'static [Mount],
    programs: &'static [&'static str],
    /// Its first program's pid (the others follow): each host its own.
    pid_base: u32,
    /// Its usual one-minute load.
    load: f64,
    /// Logs and the crash-dump directory, under `<host>/fs/` (the config names the logs where the
    /// server keeps them: [`server_path`]).
    logs: &'static [&'static str],
    junk: &'static str,
}

/// The directory under `<host>/fs/` that holds a host's root filesystem.
const ROOT_DIR: &str = "root";

/// A root filesystem of `size_gib`, `base_gib` of it used.
pub const fn root(size_gib: u64, base_gib: u64) -> Mount {
    Mount {
        device: "/dev/nvme0n1p1",
        fstype: "ext4",
        size_gib,
        base_gib,
        dir: ROOT_DIR,
        at: "/",
    }
}

const HOSTS: &[DemoHost] = &[
    DemoHost {
        name: "web-1",
        mounts: &[root(40, 22)],
        programs: &["gunicorn", "nginx"],
        pid_base: 1184,
        load: 1.8,
        logs: &["root/var/log/nginx/access.log"],
        junk: "root/var/crash",
    },
    DemoHost {
        name: "es-data-1",
        mounts: &[
            root(20, 9),
            Mount {
                device: "/dev/nvme1n1",
                fstype: "xfs",
                size_gib: 500,
                base_gib: 300,
                dir: "es",
                at: "/var/lib/elasticsearch",
            },
        ],
        programs: &["elasticsearch"],
        pid_base: 2731,
        load: 3.2,
        logs: &["root/var/log/elasticsearch/es.log"],
        junk: "es",
    },
    DemoHost {
        name: "worker-1",
        mounts: &[
            root(30, 12),
            Mount {
                device: "/dev/nvme1n1",
                fstype: "xfs",
                size_gib: 100,
                base_gib: 41,
                dir: "data1",
                at: "/data1",
            },
        ],
        programs: &["tile-worker", "pillow-case", "pillow-form"],
        pid_base: 9412,
        load: 5.1,
        logs: &["data1/log/tile-worker.log"],
        junk: "data1/crash",
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

/// Lays out a simulated machine in `dir`: its mounts (`fs/<dir>` each, with `df` and `du` that
/// answer for them) and its load (`cat /proc/loadavg`). A host whose `path_prepend` has `dir/bin`
/// is that machine to the console (another pane's demo host too: the pillows' `pillow-1`).
pub fn lay_out_machine(dir: &Path, mounts: &[Mount], load: f64) -> std::io::Result<()> {
    for sub in ["bin", "proc"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let fs = dir.join("fs");
    let mut lines = String::new();
    for m in mounts {
        std::fs::create_dir_all(fs.join(m.dir))?;
        lines.push_str(&format!(
            "{} {} {} {} {} {}\n",
            m.device,
            m.fstype,
            m.size_gib << 20,
            m.base_gib << 20,
            m.dir,
            m.at
        ));
    }
    std::fs::write(dir.join(MOUNTS), lines)?;
    write_exec(&dir.join("bin/df"), DF)?;
    write_exec(&dir.join("bin/du"), DU)?;
    write_exec(&dir.join("bin/cat"), CAT)?;
    write_exec(&dir.join("bin/tail"), TAIL)?;
    write_exec(&dir.join("bin/test"), TEST)?;
    write_exec(&dir.join("bin/find"), FIND)?;
    write_exec(&dir.join("bin/sh"), SH)?;
    write_load(dir, load)
}

/// Lays out one demo host under `root` and returns its config.
fn make_host(root: &Path, h: &DemoHost) -> std::io::Result<HostConfig> {
    let dir = root.join(h.name);
    lay_out_machine(&dir, h.mounts, h.load)?;
    std::fs::create_dir_all(dir.join("sup"))?;
    let fs = dir.join("fs");
    std::fs::create_dir_all(fs.join(h.junk))?;
    write_exec(&dir.join("bin/supervisorctl"), SUPERVISORCTL)?;
    for (i, p) in h.programs.iter().enumerate() {
        set_program(&dir, p, "RUNNING", h.pid_base + i as u32 * 113)?;
    }
    let logs = h
        .logs
        .iter()
        .map(|l| {
            let p = fs.join(l);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::OpenOptions::new().create(true).append(true).open(&p)?;
            Ok(server_path(h.mounts, l))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    Ok(HostConfig {
        supervisor: true,
        // Where a server keeps them: the host's `find` and `sh` list and remove them in the host's
        // directory for that mount, which is where the demo writes them.
        junk_paths: vec![server_path(h.mounts, h.junk)],
        logs,
        path_prepend: vec![dir.join("bin")],
        ..HostConfig::named(h.name, TransportKind::Local)
    })
}

/// Where the demo hosts are laid out in the sandbox.
fn hosts_dir(sandbox: &Path) -> PathBuf {
    sandbox.join("hosts")
}

/// Where the demo writes what demo host `host` keeps at `server_dir` on its root filesystem
/// (`/var/log/elasticsearch`): another part of the demo puts its files on a host through it, and the
/// host's shims read them back at `server_dir`.
pub fn on_root_of(sandbox: &Path, host: &str, server_dir: &str) -> PathBuf {
    hosts_dir(sandbox)
        .join(host)
        .join("fs")
        .join(ROOT_DIR)
        .join(server_dir.trim_start_matches('/'))
}

/// Where a server keeps `on_fs` (a path under `<host>/fs/`): `root/var/log/x.log` on the mount
/// at `/` is `/var/log/x.log`. The host's shims read it back from there.
pub fn server_path(mounts: &[Mount], on_fs: &str) -> String {
    let (dir, rest) = on_fs.split_once('/').unwrap_or((on_fs, ""));
    let at = mounts.iter().find(|m| m.dir == dir).map_or("/", |m| m.at);
    match (at.trim_end_matches('/'), rest) {
        (at, "") if !at.is_empty() => at.to_string(),
        (at, rest) => format!("{at}/{rest}"),
    }
}

/// The host's `/proc/loadavg` (what its `cat` shim shows).
fn write_load(dir: &Path, one: f64) -> std::io::Result<()> {
    let text = format!(
        "{one:.2} {:.2} {:.2} 3/{} 48213\n",
        one * 0.92,
        one * 0.85,
        300 + (one * 40.0) as u32
    );
    std::fs::write(dir.join("proc/loadavg"), text)
}

/// Starts this part of the demo and adds its section to the demo config.
pub async fn start(demo: &mut DemoCtx<'_>) -> anyhow::Result<()> {
    let root = hosts_dir(demo.sandbox);
    std::fs::create_dir_all(&root)?;
    let mut hosts = Vec::new();
    for h in HOSTS {
        hosts.push(make_host(&root, h)?);
    }
    let ssh = demo.config.of_mut::<Hosts>();
    ssh.hosts.extend(hosts);
    ssh.supervisor_command = "supervisorctl {action} {program}".into();
    ssh.command_timeout = opsdeck_core::config::ConfigDuration::secs(10);
    ssh.tail_lines = 20;
    let cancel = demo.cancel.clone();
    let mut life = Life {
        root,
        story: demo.story.clone(),
        n: 0,
        dumps_made: 0,
        dumps_cleared: false,
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = life.step() {
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

/// A sparse file that grows by `step` a call and is freed past `limit` (a cache evicted, a merge
/// finished): its disk fills and drains, never near a threshold.
fn swell(path: &Path, step: u64, limit: u64) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let next = if len >= limit { 0 } else { len + step };
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?
        .set_len(next)
}

/// The demo hosts' life, a step each half second of wall time; the storyline's crash dumps come at
/// [`beats::CRASH_DUMPS`] of story time.
struct Life {
    root: PathBuf,
    story: StoryClock,
    n: u64,
    /// Crash dumps written so far, and whether someone removed them (then no more come this run).
    dumps_made: usize,
    dumps_cleared: bool,
}

/// How many crash dumps pile up at most (about 40 GiB: /data1 goes past 90%).
const MAX_DUMPS: usize = 5;

impl Life {
    fn step(&mut self) -> std::io::Result<()> {
        self.n += 1;
        let n = self.n;
        let root = &self.root;
        let stamp = opsdeck_core::time::rfc3339(std::time::SystemTime::now());
        let wave = |period: f64| (n as f64 / 2.0 / period * std::f64::consts::TAU).sin();
        // web-1: access log lines, now and then a 502; its render cache fills / to ~75% and is evicted.
        let web = root.join("web-1");
        let paths = ["/", "/api/cases", "/a/form/123", "/static/app.js", "/api/sync"];
        let status = if jitter(n, 17) == 0 { 502 } else { 200 };
        append(
            &web.join("fs/root/var/log/nginx/access.log"),
            &format!(
                "10.0.{}.{} - - [{stamp}] \"GET {} HTTP/1.1\" {status} {} {}ms",
                jitter(n, 4),
                jitter(n + 3, 250),
                paths[jitter(n, paths.len() as u64) as usize],
                512 + jitter(n, 20_000),
                3 + jitter(n, 400)
            ),
        )?;
        swell(&web.join("fs/root/var/cache/nginx/render.bin"), 20 << 20, 8 << 30)?;
        write_load(&web, 1.8 + 0.6 * wave(90.0))?;

        // es-data-1: log lines; a segment merge takes up to 60 GiB of its data disk, then frees it.
        let es = root.join("es-data-1");
        if n.is_multiple_of(3) {
            append(
                &es.join("fs/root/var/log/elasticsearch/es.log"),
                &format!(
                    "[{stamp}][INFO ][o.e.i.e.Engine] [es-data-1] merged segments of [cases_2026-11][{}]",
                    jitter(n, 6)
                ),
            )?;
        }
        swell(&es.join("fs/es/nodes/0/merge.tmp"), 150 << 20, 60 << 30)?;
        write_load(&es, 3.2 + 0.9 * wave(150.0))?;

        // worker-1: work log; its tile cache on /data1 fills and is evicted; from the storyline's
        // crash-dump beat, tile-worker runs out of heap and leaves a dump every ~20 s until someone
        // removes them (then it has been fixed: no more this run).
        let worker = root.join("worker-1");
        append(
            &worker.join("fs/data1/log/tile-worker.log"),
            &format!(
                "{stamp} INFO tile-worker processed batch {} ({} tiles)",
                n,
                10 + jitter(n, 90)
            ),
        )?;
        swell(&worker.join("fs/data1/tiles/cache.bin"), 30 << 20, 12 << 30)?;
        let crash = worker.join("fs/data1/crash");
        let dumps = std::fs::read_dir(&crash)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".hprof"))
            .count();
        if dumps < self.dumps_made.min(MAX_DUMPS) {
            self.dumps_cleared = true;
        }
        // One dump when the beat comes, then one every 20 s of story time, up to MAX_DUMPS.
        let due = self
            .story
            .now()
            .checked_sub(beats::CRASH_DUMPS)
            .map_or(0, |since| (since.as_secs() / 20 + 1) as usize)
            .min(MAX_DUMPS);
        let dumping = due > 0 && !self.dumps_cleared;
        write_load(&worker, if dumping { 11.5 } else { 5.1 } + 0.8 * wave(120.0))?;
        if dumping && self.dumps_made < due {
            let pid = 9412 + 1000 * self.dumps_made as u64 + jitter(n, 900);
            let f = crash.join(format!("java_pid{pid}.hprof"));
            std::fs::File::create(&f)?.set_len((7 + jitter(n, 3)) << 30)?;
            self.dumps_made += 1;
            append(
                &worker.join("fs/data1/log/tile-worker.log"),
                &format!(
                    "{stamp} ERROR tile-worker java.lang.OutOfMemoryError: Java heap space; heap dumped to {}",
                    f.display()
                ),
            )?;
        }
        Ok(())
    }
}
