//! The demo fleet's pillows, on an embedded Kafka (librdkafka's mock cluster, real Kafka protocol on
//! loopback) with a producer writing changes and simulated pillow processes consuming them. Every
//! partition starts with weeks of history (a million and more changes, see `history`), so offsets,
//! lags and rates are a busy fleet's: case-sql takes ~320 changes a second.
//!
//! - `case-pillow` keeps HQ-style checkpoint rows in a SIMULATED checkpoint table (the demo must run
//!   without PostgreSQL); at the storyline's first beat ([`beats::PILLOW_OOM`]) the OOM killer ends
//!   its process 1, so its partitions fall behind by thousands while the others keep up. Restarting
//!   it (through a simulated `supervisorctl`) makes the lag drain, and it stays up: nothing kills it
//!   again in the same run.
//! - `ucr-pillow` is a Kafka consumer group committing offsets; its load swells and ebbs within
//!   what its processes can take.
//! - `xform-pillow` was stopped long ago: its checkpoint fell below the first retained offset (the
//!   mock keeps 5 MiB per partition), so changes were lost; moving its checkpoint clears that.
//!
//! Each process writes the log a pillow prints (`/home/cchq/www/demo/log/<program>.log` on the pillow
//! host, the config's `pillows.log_file`): changes processed per partition, checkpoints, its death
//! and its restarts.

mod history;

use crate::Pillows;
use crate::config::{PillowConfig, PillowThresholds, PillowsConfig};
use crate::model::Assignment;
use crate::source::checkpoints::{CheckpointMove, CheckpointRow, CheckpointStore};
use futures::future::BoxFuture;
use opsdeck_core::config::ConfigDuration;
use opsdeck_core::demo::{DemoCtx, StoryClock, beats};
use opsdeck_core::source_error::SourceError;
use opsdeck_hosts::Hosts;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

const CASE_TOPIC: &str = "case-sql";
const FORM_TOPIC: &str = "form-sql";
const ARCHIVE_TOPIC: &str = "form-archive";
const CASE_CHECKPOINT: &str = "case-pillow-hqcases_2026-11-01-case-search";
const XFORM_CHECKPOINT: &str = "xform-pillow-hqforms_2026-11-01";
const UCR_GROUP: &str = "ucr-pillow";

/// The demo host the pillow processes run on (through the local transport).
pub const PILLOW_HOST: &str = "pillow-1";

/// A simulated `supervisorctl` on the pillow host: talks to the demo's pillow processes through
/// files next to it (`state/` written by the simulation, `requests/` read by it).
const SUPERVISORCTL: &str = r#"#!/bin/sh
# opsdeck demo: a simulated supervisorctl for the demo's pillow processes (no supervisord runs).
# Run by its full path from PATH as <host>/bin/supervisorctl: the host's directory without a process.
case $0 in /*/bin/*) dir=${0%/bin/*};; *) dir=$(cd "$(dirname "$0")/.." && pwd);; esac
cmd=$1; [ $# -gt 0 ] && shift
# Builtins, not a cat each: a status of every program runs every few seconds. The simulation writes
# a state without a newline, so `read` meets the end of the file (status 1) after reading it.
line() { IFS= read -r st < "$dir/state/$1"; printf '%-44s %s\n' "$1" "$st"; }
known() { [ -f "$dir/state/$1" ]; }
case "$cmd" in
status)
  # As supervisorctl: every program without names; exit 3 when one shown is not RUNNING, 4 when unknown.
  if [ $# -eq 0 ]; then for f in "$dir/state"/*; do [ -e "$f" ] && set -- "$@" "${f##*/}"; done; fi
  rc=0
  for p in "$@"; do
    if known "$p"; then line "$p"; case $st in RUNNING*) ;; *) rc=3;; esac
    else echo "$p: ERROR (no such process)"; rc=4; fi
  done
  exit $rc;;
start|stop|restart)
  rc=0
  for p in "$@"; do
    if ! known "$p"; then echo "$p: ERROR (no such process)"; rc=1; continue; fi
    # Written aside, then moved in: the simulation never reads a half-written request.
    echo "$cmd" > "$dir/tmp/$p.$$" && mv "$dir/tmp/$p.$$" "$dir/requests/$p"
    case "$cmd" in stop|restart) echo "$p: stopped";; esac
    case "$cmd" in start|restart) echo "$p: started";; esac
  done
  exit $rc;;
*) echo "*** Unknown syntax: $cmd"; exit 2;;
esac
"#;

fn program(pillow: &str, n: usize) -> String {
    format!("commcare-hq-demo-pillowtop-{pillow}-{n}")
}

/// Where the pillow host keeps its processes' logs, as a server of the fleet does.
pub const LOG_DIR: &str = "/home/cchq/www/demo/log";

/// The demo's `pillows.log_file` (`{program}`: the supervisor program).
fn log_template() -> String {
    format!("{LOG_DIR}/{{program}}.log")
}

/// Where the processes write [`LOG_DIR`]: on the pillow host's root disk, where its `tail` finds it.
fn log_dir(dir: &Path) -> PathBuf {
    dir.join("machine/fs/root").join(LOG_DIR.trim_start_matches('/'))
}

/// A timestamp as Python's logging prints it: `2026-11-23 10:50:42,123` (UTC here).
fn py_stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t)
        .to_string()
        .trim_end_matches('Z')
        .replacen('T', " ", 1)
        .replacen('.', ",", 1)
}

/// Appends `lines` to a process log (best effort: a demo log that cannot be written is no reason to stop).
fn append_log(path: &Path, lines: &[String]) {
    use std::io::Write;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        f.write_all(text.as_bytes())
    };
    if let Err(e) = write() {
        tracing::debug!("demo pillow log {}: {e}", path.display());
    }
}

/// Starts this part of the demo and adds its section to the demo config.
pub async fn start(demo: &mut DemoCtx<'_>) -> anyhow::Result<()> {
    let dir = demo.sandbox.join("pillows");
    std::fs::create_dir_all(dir.join("requests"))?;
    std::fs::create_dir_all(dir.join("tmp"))?;
    std::fs::create_dir_all(dir.join("state"))?;
    std::fs::create_dir_all(dir.join("bin"))?;
    // The machine: its own disks and load, as the demo's other hosts have them.
    opsdeck_hosts::demo::lay_out_machine(&dir.join("machine"), &[opsdeck_hosts::demo::root(60, 21)], 2.6)?;
    std::fs::create_dir_all(log_dir(&dir))?;
    let script = supervisorctl_path(demo.sandbox);
    std::fs::write(&script, SUPERVISORCTL)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    }
    let store = Arc::new(SimulatedCheckpointStore::default());
    demo.stand_ins
        .insert::<Pillows, Arc<dyn CheckpointStore>>(store.clone());

    let (tx, rx) = tokio::sync::oneshot::channel();
    let cancel = demo.cancel.clone();
    let sim_dir = dir.clone();
    let sim_store = store.clone();
    let story = demo.story.clone();
    let handle = std::thread::Builder::new()
        .name("demo-pillows".into())
        .spawn(move || run_cluster(tx, cancel, sim_dir, sim_store, story))?;
    let brokers = rx
        .await
        .map_err(|_| anyhow::anyhow!("the demo Kafka thread ended before starting"))?
        .map_err(|e| anyhow::anyhow!("demo Kafka: {e}"))?;
    demo.keep_alive.push(Box::new(handle));

    let pillows = demo.config.of_mut::<Pillows>();
    *pillows = demo_config(&brokers, SIMULATED_STORE);
    // Every process writes its own log on its host ("tail its log" on a pillow follows it).
    pillows.log_file = Some(log_template());
    // The pillow host: its supervisor status feeds the pillows pane's RUNNING column, and the
    // restart action runs its supervisorctl.
    demo.config
        .of_mut::<Hosts>()
        .hosts
        .push(opsdeck_hosts::config::HostConfig {
            supervisor: true,
            supervisor_command: Some("supervisorctl {action} {program}".into()),
            path_prepend: vec![dir.join("bin"), dir.join("machine/bin")],
            ..opsdeck_hosts::config::HostConfig::named(PILLOW_HOST, opsdeck_hosts::config::TransportKind::Local)
        });
    Ok(())
}

/// The demo's `pillows.postgres`: a well-formed connection string for its plans to name, though the
/// table is the in-memory stand-in the demo hands the pillows' clients (no connection string
/// reaches that).
pub const SIMULATED_STORE: &str = "host=demo dbname=in-memory";

/// The demo's pillows section (shortened grace and windows so the demo shows life within a minute).
pub fn demo_config(brokers: &str, store: &str) -> PillowsConfig {
    let on_host = |pillow: &str, processes: usize| PillowConfig {
        name: pillow.to_string(),
        checkpoint_id: None,
        group: None,
        topics: Vec::new(),
        processes,
        dedicated_migration_process: false,
        hosts: vec![PILLOW_HOST.into()],
        program: format!("commcare-hq-demo-pillowtop-{pillow}-{{n}}"),
        log_file: None,
    };
    PillowsConfig {
        brokers: brokers.to_string(),
        postgres: Some(store.to_string()),
        interval: None,
        timeout: ConfigDuration::secs(5),
        history: 150,
        restart_command: "supervisorctl restart {program}".into(),
        status_command: "supervisorctl status {program}".into(),
        verify_timeout: ConfigDuration::secs(60),
        // Lags as a busy fleet has them: a healthy partition is up to a few seconds of its changes
        // behind (a checkpoint every few seconds); a stopped process's partitions pass the warning
        // within half a minute and the critical mark within two.
        thresholds: PillowThresholds {
            allowed_lag: 400,
            lag_warning: 3000,
            lag_critical: 15000,
            time_lag_warning: ConfigDuration::secs(30),
            time_lag_critical: ConfigDuration::secs(120),
            checkpoint_grace: ConfigDuration::secs(15),
            rate_window: ConfigDuration::secs(20),
            all_partitions_fraction: 0.8,
        },
        pillows: vec![
            PillowConfig {
                checkpoint_id: Some(CASE_CHECKPOINT.into()),
                ..on_host("case-pillow", 3)
            },
            PillowConfig {
                group: Some(UCR_GROUP.into()),
                topics: vec![FORM_TOPIC.into()],
                ..on_host("ucr-pillow", 2)
            },
            PillowConfig {
                checkpoint_id: Some(XFORM_CHECKPOINT.into()),
                ..on_host("xform-pillow", 1)
            },
        ],
        ..PillowsConfig::default()
    }
}

/// One simulated pillow process.
struct Process {
    pillow: &'static str,
    /// Its number among the pillow's processes, and how many there are.
    index: usize,
    of: usize,
    program: String,
    /// The log file it writes.
    log: PathBuf,
    /// Changes processed per owned partition since that partition was last reported in the log.
    unreported: Vec<i64>,
    /// The owned partition the next "processed" line is about (round robin), and when the last was written.
    next_report: usize,
    last_report: Instant,
    /// Partitions it owns: (topic, partition).
    owns: Vec<(&'static str, i32)>,
    /// Next offset to read per owned partition (in memory, as HQ's KafkaChangeFeed keeps it).
    offsets: Vec<i64>,
    running: bool,
    /// Its pid (a new one each start).
    pid: u32,
    started: Instant,
    /// Changes per second it can process, and what it takes while catching up after a restart.
    capacity: f64,
    catch_up: f64,
    since_checkpoint: i64,
    last_checkpoint: Instant,
    /// When, in story time, the OOM killer ends it (the storyline's first beat; once).
    dies_at: Option<Duration>,
    budget: f64,
}

struct Pillow {
    name: &'static str,
    checkpoint: Checkpoint,
    processes: Vec<Process>,
}

enum Checkpoint {
    Table(&'static str),
    Group(BaseConsumer),
}

impl Process {
    /// One log line as the pillow prints it.
    fn line(&self, at: SystemTime, level: &str, text: &str) -> String {
        format!(
            "{} {level} pillowtop {}[{}]: {text}",
            py_stamp(at),
            self.pillow,
            self.index
        )
    }

    fn say(&self, level: &str, text: &str) {
        append_log(&self.log, &[self.line(SystemTime::now(), level, text)]);
    }

    /// What it prints when it starts: what it owns and where it resumes.
    fn starting(&self) -> String {
        let from: Vec<String> = self
            .owns
            .iter()
            .zip(&self.offsets)
            .map(|((t, p), o)| format!("{t}/{p} from offset {o}"))
            .collect();
        format!(
            "starting pillow {} (process {} of {}, {}): {}",
            self.pillow,
            self.index,
            self.of,
            self.program,
            from.join(", ")
        )
    }

    /// The offsets it just saved, `topic/partition=offset, …`.
    fn positions(&self) -> String {
        self.owns
            .iter()
            .zip(&self.offsets)
            .map(|((t, p), o)| format!("{t}/{p}={o}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// At most one "processed" line a second, about the next owned partition with news.
    fn report(&mut self, now: Instant) {
        if now.duration_since(self.last_report) < Duration::from_secs(1) || self.owns.is_empty() {
            return;
        }
        let n = self.owns.len();
        let Some(i) = (0..n)
            .map(|k| (self.next_report + k) % n)
            .find(|&i| self.unreported[i] > 0)
        else {
            return;
        };
        let (topic, partition) = self.owns[i];
        let text = format!(
            "processed {} changes from {topic}/{partition} up to offset {}",
            self.unreported[i], self.offsets[i]
        );
        self.say("INFO", &text);
        self.unreported[i] = 0;
        self.next_report = (i + 1) % n;
        self.last_report = now;
    }

    /// What the log shows when the kernel's OOM killer ends it.
    fn died(&self) {
        let (topic, partition) = self.owns.first().copied().unwrap_or((CASE_TOPIC, 0));
        let offset = self.offsets.first().copied().unwrap_or(0);
        let text = format!("error processing change from {topic}/{partition} at offset {offset}: MemoryError");
        append_log(
            &self.log,
            &[
                self.line(SystemTime::now(), "ERROR", &text),
                "Traceback (most recent call last):".into(),
                "  File \"/home/cchq/www/demo/current/corehq/ex-submodules/pillowtop/pillow/interface.py\", line 249, in process_with_error_handling".into(),
                "    self.process_change(change)".into(),
                "MemoryError".into(),
                "Killed".into(),
            ],
        );
    }
}

fn topic_partitions(topic: &'static str, n: i32) -> Vec<(&'static str, i32)> {
    (0..n).map(|p| (topic, p)).collect()
}

fn split(all: &[(&'static str, i32)], processes: usize) -> Vec<Vec<(&'static str, i32)>> {
    let a = Assignment {
        processes,
        dedicated_migration_process: false,
    };
    (0..processes)
        .map(|n| {
            all.iter()
                .enumerate()
                .filter(|(i, _)| a.owner(*i) == Some(n))
                .map(|(_, tp)| *tp)
                .collect()
        })
        .collect()
}

struct Sim {
    dir: PathBuf,
    store: Arc<SimulatedCheckpointStore>,
    producer: BaseProducer,
    /// Log end per (topic, partition) as produced (the mock is in-process and does not lose messages).
    produced: std::collections::HashMap<(&'static str, i32), i64>,
    /// Changes made since the last send, per (topic, partition): sent once a second, one batch each.
    pending: std::collections::BTreeMap<(&'static str, i32), usize>,
    last_send: Instant,
    pillows: Vec<Pillow>,
    t0: Instant,
    story: StoryClock,
}

/// Changes a second on each case-sql partition (eight of them): lags of thousands within a minute
/// of a process dying.
const CASE_RATE: f64 = 40.0;
/// form-sql's changes a second at the top of its swell (over four partitions).
const FORM_PEAK: f64 = 60.0;

/// Changes in a partition's history when the demo starts (a little different for each).
fn history_of(topic: &str, partition: i32) -> i32 {
    match topic {
        CASE_TOPIC => 1_180_000 + partition * 23_417,
        FORM_TOPIC => 1_040_000 + partition * 51_113,
        _ => 1_204_000,
    }
}

/// Where xform-pillow's checkpoint stopped 40 days ago: before what the log still keeps.
const XFORM_STOPPED_AT: i64 = 1_143_207;

/// How often the made changes are sent. The mock keeps every batch it is sent (up to 5 MiB of
/// them per partition, each with its own bookkeeping): one compressed batch per partition a second
/// instead of one or two changes per batch four times a second keeps the demo's memory growth
/// about ten times slower, and its level far lower for hours.
const SEND_EVERY: Duration = Duration::from_secs(1);

fn run_cluster(
    ready: tokio::sync::oneshot::Sender<Result<String, String>>,
    cancel: CancellationToken,
    dir: PathBuf,
    store: Arc<SimulatedCheckpointStore>,
    story: StoryClock,
) {
    let (mock, mut sim) = match start_sim(&dir, store, story) {
        Ok(v) => v,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(mock.bootstrap_servers()));
    let tick = Duration::from_millis(250);
    while !cancel.is_cancelled() {
        sim.step(tick);
        std::thread::sleep(tick);
    }
    drop(sim);
    drop(mock);
}

/// The mock cluster, its topics and the simulation's processes, ready to step.
fn start_sim(
    dir: &Path,
    store: Arc<SimulatedCheckpointStore>,
    story: StoryClock,
) -> Result<(MockCluster<'static, rdkafka::producer::DefaultProducerContext>, Sim), String> {
    {
        let mock = MockCluster::new(3).map_err(|e| e.to_string())?;
        for (topic, n) in [(CASE_TOPIC, 8), (FORM_TOPIC, 4), (ARCHIVE_TOPIC, 1)] {
            mock.create_topic(topic, n, 1).map_err(|e| e.to_string())?;
        }
        let brokers = mock.bootstrap_servers();
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("linger.ms", "5")
            .set("compression.type", "lz4")
            // Delivery reports wait in a queue until polled, and one poll serves one: reports of
            // successes (all we would get) are not asked for, so none piles up.
            .set("delivery.report.only.error", "true")
            .create()
            .map_err(|e| e.to_string())?;
        let group: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("group.id", UCR_GROUP)
            .set("enable.auto.commit", "false")
            .create()
            .map_err(|e| e.to_string())?;
        let now = Instant::now();
        let process =
            // `capacity`: changes a second it takes per partition it owns.
            |pillow: &'static str, n: usize, of: usize, owns: Vec<(&'static str, i32)>, capacity: f64| Process {
                capacity: capacity * owns.len() as f64,
                catch_up: capacity * owns.len() as f64 * 2.5,
                pillow,
                index: n,
                of,
                program: program(pillow, n),
                log: log_dir(dir).join(format!("{}.log", program(pillow, n))),
                unreported: vec![0; owns.len()],
                next_report: 0,
                last_report: now,
                offsets: vec![0; owns.len()],
                owns,
                running: true,
                pid: 21_000 + pillow.len() as u32 * 977 + n as u32 * 131,
                started: now,
                since_checkpoint: 0,
                last_checkpoint: now,
                dies_at: None,
                budget: 0.0,
            };
        let case = split(&topic_partitions(CASE_TOPIC, 8), 3);
        let form = split(&topic_partitions(FORM_TOPIC, 4), 2);
        let mut case_procs: Vec<Process> = case
            .into_iter()
            .enumerate()
            .map(|(n, owns)| process("case-pillow", n, 3, owns, CASE_RATE * 1.6))
            .collect();
        case_procs[1].dies_at = Some(beats::PILLOW_OOM);
        let form_procs = form
            .into_iter()
            .enumerate()
            .map(|(n, owns)| process("ucr-pillow", n, 2, owns, FORM_PEAK / 4.0 * 1.3))
            .collect();
        let mut xform = process("xform-pillow", 0, 1, vec![(ARCHIVE_TOPIC, 0)], 10.0);
        xform.running = false;
        let mut sim = Sim {
            dir: dir.to_path_buf(),
            store: store.clone(),
            producer,
            produced: Default::default(),
            pending: Default::default(),
            last_send: now,
            pillows: vec![
                Pillow {
                    name: "case-pillow",
                    checkpoint: Checkpoint::Table(CASE_CHECKPOINT),
                    processes: case_procs,
                },
                Pillow {
                    name: "ucr-pillow",
                    checkpoint: Checkpoint::Group(group),
                    processes: form_procs,
                },
                Pillow {
                    name: "xform-pillow",
                    checkpoint: Checkpoint::Table(XFORM_CHECKPOINT),
                    processes: vec![xform],
                },
            ],
            t0: now,
            story,
        };
        sim.seed_history()?;
        sim.first_logs();
        Ok((mock, sim))
    }
}

impl Sim {
    fn send(&mut self, topic: &'static str, partition: i32, payload: &[u8]) {
        let record = BaseRecord::<(), [u8]>::to(topic).partition(partition).payload(payload);
        match self.producer.send(record) {
            Ok(()) => *self.produced.entry((topic, partition)).or_default() += 1,
            Err((e, _)) => tracing::debug!("demo producer: {e}"),
        }
    }

    /// Every partition's history: weeks of changes, a million and more a partition, so offsets are
    /// where a busy fleet has them; running processes start at the log end, their checkpoints with them.
    fn seed_history(&mut self) -> Result<(), String> {
        let partitions: Vec<(&'static str, i32)> = [(CASE_TOPIC, 8), (FORM_TOPIC, 4), (ARCHIVE_TOPIC, 1)]
            .into_iter()
            .flat_map(|(t, n)| topic_partitions(t, n))
            .collect();
        let Some(client) = self.pillows.iter().find_map(|p| match &p.checkpoint {
            Checkpoint::Group(c) => Some(c),
            Checkpoint::Table(_) => None,
        }) else {
            return Err("no Kafka client to write the history with".into());
        };
        let ends: Vec<Result<i64, String>> = partitions
            .iter()
            .map(|&(t, p)| history::append(client, t, p, history_of(t, p), b""))
            .collect();
        for (tp, end) in partitions.iter().zip(ends) {
            self.produced.insert(*tp, end?);
        }
        for pillow in &mut self.pillows {
            for proc_ in pillow.processes.iter_mut().filter(|p| p.running) {
                for (i, tp) in proc_.owns.iter().enumerate() {
                    proc_.offsets[i] = self.produced.get(tp).copied().unwrap_or(0);
                }
            }
        }
        self.seed_archive()
    }

    /// xform-pillow's topic: more than the mock's 5 MiB per partition, so the first retained offset
    /// moves past the pillow's old checkpoint: changes lost, as after a month-long stop.
    fn seed_archive(&mut self) -> Result<(), String> {
        // Noise, not one byte repeated: the producer compresses, and what the mock keeps is
        // counted compressed.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let big: Vec<u8> = (0..200 * 1024)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        for _ in 0..40 {
            self.send(ARCHIVE_TOPIC, 0, &big);
            self.producer.poll(Duration::ZERO);
        }
        self.producer
            .flush(Duration::from_secs(10))
            .map_err(|e| e.to_string())?;
        let old = SystemTime::now() - Duration::from_secs(40 * 86_400);
        self.store.upsert(CheckpointRow {
            checkpoint_id: XFORM_CHECKPOINT.into(),
            topic: ARCHIVE_TOPIC.into(),
            partition: 0,
            offset: XFORM_STOPPED_AT,
            doc_modification_time: Some(old),
            last_modified: Some(old),
        });
        if let Some(p) = self.pillows.iter_mut().find(|p| p.name == "xform-pillow") {
            p.processes[0].offsets[0] = XFORM_STOPPED_AT;
        }
        for pillow in &self.pillows {
            for p in &pillow.processes {
                let state = if p.running {
                    &format!("RUNNING   pid {}, uptime 0:00:01", p.pid)
                } else {
                    "EXITED    Oct 14 03:12 AM"
                };
                let _ = std::fs::write(self.dir.join("state").join(&p.program), state);
            }
        }
        // case-pillow's rows exist from the start, as HQ creates them for every partition.
        for (topic, n) in topic_partitions(CASE_TOPIC, 8) {
            self.store.upsert(CheckpointRow {
                checkpoint_id: CASE_CHECKPOINT.into(),
                topic: topic.into(),
                partition: n,
                offset: self.produced.get(&(topic, n)).copied().unwrap_or(0),
                doc_modification_time: None,
                last_modified: Some(SystemTime::now()),
            });
        }
        Ok(())
    }

    /// The logs as the demo finds them: running processes have just started; xform-pillow's one
    /// process last wrote something 40 days ago, when it was stopped.
    fn first_logs(&self) {
        let old = SystemTime::now() - Duration::from_secs(40 * 86_400);
        for p in self.pillows.iter().flat_map(|p| &p.processes) {
            if p.running {
                p.say("INFO", &p.starting());
                continue;
            }
            let at = |s: u64| old + Duration::from_secs(s);
            let (topic, partition) = p.owns[0];
            append_log(
                &p.log,
                &[
                    p.line(
                        at(0),
                        "INFO",
                        &p.starting().replace(
                            &format!("from offset {XFORM_STOPPED_AT}"),
                            &format!("from offset {}", XFORM_STOPPED_AT - 3),
                        ),
                    ),
                    p.line(
                        at(2),
                        "INFO",
                        &format!("processed 3 changes from {topic}/{partition} up to offset {XFORM_STOPPED_AT}"),
                    ),
                    p.line(
                        at(3),
                        "INFO",
                        &format!("checkpoint {XFORM_CHECKPOINT} written: {}", p.positions()),
                    ),
                    p.line(
                        at(60),
                        "WARNING",
                        &format!("received SIGTERM, stopping pillow {} (process {})", p.pillow, p.index),
                    ),
                ],
            );
        }
    }

    fn step(&mut self, dt: Duration) {
        let t = self.t0.elapsed().as_secs_f64();
        // Production: case-sql steady, form-sql swelling and ebbing over 4 minutes, never past what
        // ucr-pillow's processes take (a swell is no incident: a fixed pillow stays fixed).
        let swell = (t / 240.0 * std::f64::consts::TAU).sin() * 0.5 + 0.5;
        let form_rate = FORM_PEAK * (0.45 + 0.55 * swell);
        let case_n = (CASE_RATE * 8.0 * dt.as_secs_f64()).round() as usize;
        let form_n = (form_rate * dt.as_secs_f64()).round() as usize;
        let tick = (t * 4.0) as i32;
        for i in 0..case_n {
            let p = (tick.wrapping_mul(7) + i as i32).rem_euclid(8);
            *self.pending.entry((CASE_TOPIC, p)).or_default() += 1;
        }
        for i in 0..form_n {
            let p = (tick.wrapping_mul(3) + i as i32).rem_euclid(4);
            *self.pending.entry((FORM_TOPIC, p)).or_default() += 1;
        }
        if self.last_send.elapsed() >= SEND_EVERY {
            self.last_send = Instant::now();
            for ((topic, p), n) in std::mem::take(&mut self.pending) {
                let doc: &[u8] = if topic == CASE_TOPIC {
                    br#"{"doc_type":"CommCareCase","domain":"demo"}"#
                } else {
                    br#"{"doc_type":"XFormInstance","domain":"demo"}"#
                };
                for _ in 0..n {
                    self.send(topic, p, doc);
                }
            }
        }
        self.producer.poll(Duration::ZERO);
        self.handle_requests();
        let now = Instant::now();
        let story_now = self.story.now();
        let produced = self.produced.clone();
        let store = self.store.clone();
        for pillow in &mut self.pillows {
            for proc_ in &mut pillow.processes {
                if proc_.dies_at.is_some_and(|d| story_now >= d) {
                    proc_.running = false;
                    proc_.dies_at = None;
                    proc_.died();
                    let _ = std::fs::write(
                        self.dir.join("state").join(&proc_.program),
                        "EXITED    (killed: out of memory)",
                    );
                }
                if !proc_.running {
                    continue;
                }
                let uptime = now.duration_since(proc_.started).as_secs();
                let state = if uptime < 2 {
                    "STARTING".to_string()
                } else {
                    format!(
                        "RUNNING   pid {}, uptime 0:{:02}:{:02}",
                        proc_.pid,
                        uptime / 60 % 60,
                        uptime % 60
                    )
                };
                let _ = std::fs::write(self.dir.join("state").join(&proc_.program), state);
                if uptime < 2 {
                    continue;
                }
                // Share the capacity over owned partitions that have work.
                proc_.budget += proc_.capacity * dt.as_secs_f64();
                let mut budget = proc_.budget.floor() as i64;
                proc_.budget -= budget as f64;
                // Interleaved over the partitions, as a consumer fetching from all of them: an equal
                // share each, then what a caught-up partition left to the others.
                for _ in 0..2 {
                    let share = (budget / proc_.owns.len().max(1) as i64).max(1);
                    for (i, tp) in proc_.owns.iter().enumerate() {
                        let end = produced.get(tp).copied().unwrap_or(0);
                        let take = (end - proc_.offsets[i]).clamp(0, share.min(budget));
                        proc_.offsets[i] += take;
                        proc_.unreported[i] += take;
                        proc_.since_checkpoint += take;
                        budget -= take;
                    }
                }
                proc_.report(now);
                // HQ writes a checkpoint every N changes or after a delay (here 100 changes or 3 s).
                if proc_.since_checkpoint >= 100 || now.duration_since(proc_.last_checkpoint) >= Duration::from_secs(3)
                {
                    proc_.since_checkpoint = 0;
                    proc_.last_checkpoint = now;
                    let saved = match &pillow.checkpoint {
                        Checkpoint::Table(id) => format!("checkpoint {id} written: {}", proc_.positions()),
                        Checkpoint::Group(_) => {
                            format!(
                                "offsets committed for consumer group {UCR_GROUP}: {}",
                                proc_.positions()
                            )
                        }
                    };
                    match &pillow.checkpoint {
                        Checkpoint::Table(id) => {
                            for (i, (topic, n)) in proc_.owns.iter().enumerate() {
                                store.upsert(CheckpointRow {
                                    checkpoint_id: id.to_string(),
                                    topic: topic.to_string(),
                                    partition: *n,
                                    offset: proc_.offsets[i],
                                    // Left empty: the pane then interpolates time lag from sampled log ends.
                                    doc_modification_time: None,
                                    last_modified: Some(SystemTime::now()),
                                });
                            }
                        }
                        Checkpoint::Group(consumer) => {
                            let mut tpl = TopicPartitionList::new();
                            for (i, (topic, n)) in proc_.owns.iter().enumerate() {
                                let _ = tpl.add_partition_offset(topic, *n, Offset::Offset(proc_.offsets[i]));
                            }
                            if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
                                tracing::debug!("demo commit: {e}");
                            }
                        }
                    }
                    proc_.say("INFO", &saved);
                }
            }
        }
    }

    /// Requests from the simulated supervisorctl: stop, or (re)start — the process restarts and
    /// re-reads its checkpoint (a moved checkpoint takes effect), with extra capacity while catching up.
    fn handle_requests(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.dir.join("requests")) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let stop = std::fs::read_to_string(entry.path()).is_ok_and(|r| r.trim() == "stop");
            let _ = std::fs::remove_file(entry.path());
            for pillow in &mut self.pillows {
                let checkpoint = match &pillow.checkpoint {
                    Checkpoint::Table(id) => Some(*id),
                    Checkpoint::Group(_) => None,
                };
                for proc_ in pillow.processes.iter_mut().filter(|p| p.program == name) {
                    if proc_.running {
                        proc_.say(
                            "WARNING",
                            &format!(
                                "received SIGTERM, stopping pillow {} (process {})",
                                proc_.pillow, proc_.index
                            ),
                        );
                    }
                    if stop {
                        proc_.running = false;
                        proc_.dies_at = None;
                        let _ = std::fs::write(self.dir.join("state").join(&proc_.program), "STOPPED   (by request)");
                        continue;
                    }
                    proc_.running = true;
                    proc_.pid = 20_000 + (proc_.pid * 7 + 13) % 40_000;
                    proc_.started = Instant::now();
                    // Catching up, it takes what a fetch gives it: more than its steady load.
                    proc_.capacity = proc_.catch_up;
                    // Restarted, it stays up: a fixed problem does not come back in the same run.
                    proc_.dies_at = None;
                    if let Some(id) = checkpoint {
                        reload(&self.store, id, proc_);
                    }
                    proc_.unreported.iter_mut().for_each(|u| *u = 0);
                    proc_.last_report = Instant::now();
                    proc_.say("INFO", &proc_.starting());
                }
            }
        }
    }
}

fn reload(store: &SimulatedCheckpointStore, id: &str, proc_: &mut Process) {
    let ids = [id.to_string()];
    let rows = futures::executor::block_on(store.read(&ids)).unwrap_or_default();
    for (i, (topic, n)) in proc_.owns.iter().enumerate() {
        if let Some(r) = rows.iter().find(|r| r.topic == *topic && r.partition == *n) {
            proc_.offsets[i] = r.offset;
        }
    }
}

/// Where the demo's simulated supervisorctl lives (for tests).
pub fn supervisorctl_path(sandbox: &Path) -> PathBuf {
    sandbox.join("pillows").join("bin").join("supervisorctl")
}

/// A SIMULATED checkpoint table, in memory, for the demo fleet (which must run without PostgreSQL):
/// handed to the pillows' clients as the demo's stand-in (no config can name it).
#[derive(Debug, Default)]
pub struct SimulatedCheckpointStore {
    pub rows: Mutex<Vec<CheckpointRow>>,
}

impl SimulatedCheckpointStore {
    /// Writes a row as a pillow process does (`update_or_create`).
    pub fn upsert(&self, row: CheckpointRow) {
        let Ok(mut rows) = self.rows.lock() else { return };
        match rows
            .iter_mut()
            .find(|r| r.checkpoint_id == row.checkpoint_id && r.topic == row.topic && r.partition == row.partition)
        {
            Some(r) => *r = row,
            None => rows.push(row),
        }
    }
}

impl CheckpointStore for SimulatedCheckpointStore {
    fn read<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<CheckpointRow>, SourceError>> {
        Box::pin(async move {
            let rows = self
                .rows
                .lock()
                .map_err(|_| SourceError::internal("simulated store poisoned"))?;
            let mut out: Vec<CheckpointRow> = rows
                .iter()
                .filter(|r| ids.contains(&r.checkpoint_id))
                .cloned()
                .collect();
            out.sort_by(|a, b| {
                (&a.checkpoint_id, &a.topic, a.partition).cmp(&(&b.checkpoint_id, &b.topic, b.partition))
            });
            Ok(out)
        })
    }

    fn move_to<'a>(&'a self, id: &'a str, moves: &'a [CheckpointMove]) -> BoxFuture<'a, Result<u64, String>> {
        Box::pin(async move {
            let mut rows = self.rows.lock().map_err(|_| "simulated store poisoned".to_string())?;
            for (topic, partition, expected, _) in moves {
                let ok = rows.iter().any(|r| {
                    r.checkpoint_id == id && &r.topic == topic && r.partition == *partition && r.offset == *expected
                });
                if !ok {
                    return Err(format!(
                        "checkpoint {id} {topic}:{partition} is no longer at offset {expected}; nothing was changed"
                    ));
                }
            }
            let now = SystemTime::now();
            for (topic, partition, _, new) in moves {
                if let Some(r) = rows
                    .iter_mut()
                    .find(|r| r.checkpoint_id == id && &r.topic == topic && r.partition == *partition)
                {
                    r.offset = *new;
                    r.last_modified = Some(now);
                }
            }
            Ok(moves.len() as u64)
        })
    }

    fn describe(&self) -> String {
        "simulated checkpoint table (demo)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's memory grew ~2 MB a minute: every produced change left a delivery report
    /// waiting in the producer's queue (one poll a tick served one report of a dozen). Whatever
    /// the producer holds is now only what the mock has not acknowledged yet.
    #[test]
    fn the_producer_holds_nothing_once_the_mock_has_its_changes() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["requests", "tmp", "state", "log"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let (_mock, mut sim) = start_sim(dir.path(), Arc::default(), StoryClock::default()).unwrap();
        let history: i64 = sim.produced.values().sum();
        // Ten minutes of changes, sent each step (as each second would).
        for _ in 0..600 {
            sim.last_send = Instant::now() - SEND_EVERY;
            sim.step(Duration::from_secs(1));
        }
        let produced: i64 = sim.produced.values().sum::<i64>() - history;
        assert!(produced > 30_000, "{produced}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            sim.producer.poll(Duration::ZERO);
            let held = sim.producer.in_flight_count();
            if held == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the producer still holds {held} of {produced} changes"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
