//! What a person would conclude from one instance: CPU as cores used against the one core Redis
//! runs commands on (runbook 003: "3 %" of a 40-core box is a saturated Redis), memory against
//! `maxmemory`, evictions, persistence, replication, `KEYS` calls in the slow log, latency spikes,
//! and each queue's trend and time to drain. Pure functions of the model: no I/O, no clock.

use crate::config::{InstanceConfig, RedisConfig};
use crate::model::{Counters, CpuSource, InstanceState, QueueKind, QueueState, Role};
use opsdeck_core::alert::Severity;
pub use opsdeck_core::backlog::{Drain, Trend, sparkline, trend};
use opsdeck_core::text::human_bytes;
use opsdeck_core::time::short_duration;
use serde::Serialize;
use std::time::Duration;

/// Which row of the pane a verdict is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "row", content = "id")]
pub enum Row {
    Instance,
    /// A queue, by [`crate::model::QueueReading::id`].
    Queue(String),
    /// A replica of this instance, by `ip:port`.
    Replica(String),
    /// A slow log entry, by its id.
    SlowEntry(i64),
}

/// One conclusion: how bad, in words, about which row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub severity: Severity,
    pub message: String,
    #[serde(flatten)]
    pub row: Row,
}

impl Verdict {
    fn new(severity: Severity, row: Row, message: impl Into<String>) -> Self {
        Self {
            severity,
            message: message.into(),
            row,
        }
    }
}

/// The worst severity among verdicts (`Ok` when there are none).
pub fn worst(verdicts: &[Verdict]) -> Severity {
    verdicts.iter().map(|v| v.severity).max().unwrap_or(Severity::Ok)
}

/// Rates between the last two polls of one server.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    /// CPU seconds per second: cores used (of the main thread when the server tells it).
    pub cpu_cores: f64,
    pub cpu_source: CpuSource,
    pub ops_per_sec: f64,
    pub evicted_per_sec: f64,
    pub rejected_per_sec: f64,
}

/// Rates from two polls' counters; `None` without two polls of the same run or with no time between.
pub fn rates(before: &Counters, now: &Counters) -> Option<Rates> {
    let dt = now.at - before.at;
    if dt <= 0.0 || before.cpu_source != now.cpu_source {
        return None;
    }
    let per_sec = |a: u64, b: u64| b.saturating_sub(a) as f64 / dt;
    Some(Rates {
        cpu_cores: ((now.cpu_secs - before.cpu_secs) / dt).max(0.0),
        cpu_source: now.cpu_source,
        ops_per_sec: per_sec(before.commands, now.commands),
        evicted_per_sec: per_sec(before.evicted, now.evicted),
        rejected_per_sec: per_sec(before.rejected, now.rejected),
    })
}

impl InstanceState {
    /// Rates between the last two polls that read INFO.
    pub fn rates(&self) -> Option<Rates> {
        let (before, now) = &self.counters;
        rates(before.as_ref()?, now.as_ref()?)
    }
}

/// How the CPU reads in words: cores used, and on a host of `host_cpus` cores what share of the
/// machine that is (the number host graphs show, which looks harmless when Redis is saturated).
pub fn cpu_text(cores: f64, host_cpus: Option<u32>) -> String {
    match host_cpus {
        Some(n) if n > 1 => format!(
            "{cores:.2} of 1 core ({:.1} % of the {n}-core host)",
            cores / n as f64 * 100.0
        ),
        _ => format!("{cores:.2} of 1 core"),
    }
}

/// A latency spike older than this is history, not a verdict.
const LATENCY_RECENT_SECS: i64 = 300;

/// The verdicts on one instance (its queues included), worst first. `now` is Unix seconds.
pub fn instance_verdicts(inst: &InstanceState, icfg: &InstanceConfig, cfg: &RedisConfig, now: f64) -> Vec<Verdict> {
    let mut out = Vec::new();
    let mut add = |s: Severity, row: Row, m: String| out.push(Verdict::new(s, row, m));
    if let Some(e) = &inst.error {
        add(Severity::Critical, Row::Instance, format!("not polled: {e}"));
    }
    // A part that failed is said beside the parts that were read.
    for e in [&inst.info_error, &inst.slowlog_error, &inst.latency_error]
        .into_iter()
        .flatten()
    {
        add(Severity::Warning, Row::Instance, e.to_string());
    }
    for e in &inst.queue_errors {
        add(Severity::Warning, Row::Instance, format!("{}: {}", e.part, e.error));
    }
    if let Some(rates) = inst.rates() {
        let whose = match rates.cpu_source {
            CpuSource::MainThread => "main thread",
            CpuSource::Process => "CPU",
        };
        let text = cpu_text(rates.cpu_cores, icfg.host_cpus);
        if rates.cpu_cores >= cfg.cpu_crit {
            add(
                Severity::Critical,
                Row::Instance,
                format!(
                    "{whose} at {text}: Redis runs commands on one core, so it is saturated and every client waits"
                ),
            );
        } else if rates.cpu_cores >= cfg.cpu_warn {
            add(
                Severity::Warning,
                Row::Instance,
                format!("{whose} at {text}: near the one core Redis runs commands on"),
            );
        }
        if rates.evicted_per_sec > 0.0 {
            let policy = inst.info.as_ref().map(|i| i.memory.policy.as_str()).unwrap_or("");
            add(
                Severity::Warning,
                Row::Instance,
                format!(
                    "evicting {:.1} keys/s ({policy}): data is being dropped to fit maxmemory",
                    rates.evicted_per_sec
                ),
            );
        }
        if rates.rejected_per_sec > 0.0 {
            add(
                Severity::Warning,
                Row::Instance,
                format!(
                    "refusing {:.1} connections/s (maxclients reached)",
                    rates.rejected_per_sec
                ),
            );
        }
    }
    if let Some(info) = &inst.info {
        let mem = &info.memory;
        if mem.maxmemory > 0 {
            let used = mem.used as f64 / mem.maxmemory as f64;
            let full = mem.policy == "noeviction";
            let text = format!(
                "memory {:.0} % of maxmemory {} ({})",
                used * 100.0,
                human_bytes(mem.maxmemory),
                mem.policy
            );
            if used >= cfg.memory_crit {
                let then = if full {
                    "writes fail with OOM once full"
                } else {
                    "keys are evicted to make room"
                };
                add(Severity::Critical, Row::Instance, format!("{text}: {then}"));
            } else if used >= cfg.memory_warn {
                add(Severity::Warning, Row::Instance, text);
            }
        }
        let p = &info.persistence;
        if p.loading {
            add(
                Severity::Warning,
                Row::Instance,
                "loading its dataset: commands wait".into(),
            );
        }
        if p.rdb_last_bgsave_status == "err" {
            add(
                Severity::Critical,
                Row::Instance,
                "the last BGSAVE failed: nothing newer than the last good save is on disk (see the server's log)"
                    .into(),
            );
        }
        if p.aof_enabled && p.aof_last_write_status == "err" {
            add(Severity::Critical, Row::Instance, "writing the AOF failed".into());
        }
        let repl = &info.replication;
        if let (Role::Replica, Some(link)) = (repl.role, &repl.master)
            && link.link_status != "up"
        {
            let since = link
                .down_since_seconds
                .map(|s| format!(" for {}", short_duration(Duration::from_secs(s))))
                .unwrap_or_default();
            add(
                Severity::Critical,
                Row::Instance,
                format!("replica: link to master {}:{} down{since}", link.host, link.port),
            );
        }
        for r in &repl.replicas {
            let id = format!("{}:{}", r.ip, r.port);
            if r.state != "online" {
                add(
                    Severity::Warning,
                    Row::Replica(id.clone()),
                    format!("replica {id} is {}", r.state),
                );
            }
            if let Some(lag) = r.lag
                && Duration::from_secs(lag) > cfg.replica_lag_warn.get()
            {
                add(
                    Severity::Warning,
                    Row::Replica(id.clone()),
                    format!(
                        "replica {id} last acknowledged {} ago",
                        short_duration(Duration::from_secs(lag))
                    ),
                );
            }
        }
    }
    let keys: Vec<_> = inst.slowlog.iter().filter(|e| e.is_keys()).collect();
    if let Some(latest) = keys.iter().max_by_key(|e| e.at) {
        let by = if latest.client_name.is_empty() {
            latest.client.clone()
        } else {
            format!("{} ({})", latest.client_name, latest.client)
        };
        add(
            Severity::Warning,
            Row::SlowEntry(latest.id),
            format!(
                "{} KEYS call{} in the slow log, latest `{}` by {by} took {} ms: KEYS walks every key on the one thread (use SCAN)",
                keys.len(),
                if keys.len() == 1 { "" } else { "s" },
                latest.command_line(),
                latest.duration_us / 1000
            ),
        );
    }
    for e in &inst.latency {
        if e.latest_ms >= cfg.latency_warn_ms && (now as i64 - e.at) <= LATENCY_RECENT_SECS {
            add(
                Severity::Warning,
                Row::Instance,
                format!(
                    "latency spike: {} took {} ms (max {} ms)",
                    e.event, e.latest_ms, e.max_ms
                ),
            );
        }
    }
    for q in &inst.queues {
        out.extend(queue_verdicts(q, cfg));
    }
    out.sort_by_key(|v| std::cmp::Reverse(v.severity));
    out
}

/// The verdicts on one queue.
pub fn queue_verdicts(q: &QueueState, cfg: &RedisConfig) -> Vec<Verdict> {
    let row = || Row::Queue(q.reading.id());
    let mut out = Vec::new();
    if let Some(e) = &q.reading.error {
        out.push(Verdict::new(Severity::Warning, row(), e.clone()));
        return out;
    }
    let total = q.reading.total();
    if q.reading.kind == QueueKind::Backup {
        if total > 0 {
            let to = q
                .reading
                .origin
                .as_ref()
                .map(|o| format!(" to {o}"))
                .unwrap_or_default();
            out.push(Verdict::new(
                Severity::Warning,
                row(),
                format!("{total} items parked in a backup: re-queue them{to} once the workers are fixed"),
            ));
        }
        return out;
    }
    let trend = trend(q.history.iter());
    if let Some(r) = trend.net_rate
        && total > 0
        && r * 60.0 > cfg.growth_warn_per_min
    {
        out.push(Verdict::new(
            Severity::Warning,
            row(),
            format!("{} growing {:.0}/min", q.reading.name, r * 60.0),
        ));
    }
    if cfg.queue_warn > 0 && total > cfg.queue_warn {
        out.push(Verdict::new(
            Severity::Warning,
            row(),
            format!("{} holds {total} items (threshold {})", q.reading.name, cfg.queue_warn),
        ));
    }
    if q.reading.kind == QueueKind::ResqueFailed && total > 0 {
        out.push(Verdict::new(
            Severity::Warning,
            row(),
            format!("{total} failed Resque jobs"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::End;
    use crate::model::{
        CpuTimes, InstancePoll, Key, ListReading, Persistence, QueueReading, RedisError, Sample, ServerInfo, SlowEntry,
        Stats,
    };

    fn cfg() -> (InstanceConfig, RedisConfig) {
        let inst: InstanceConfig = toml::from_str("name='a'\naddress='h:1'\nhost_cpus = 40\n").unwrap();
        (inst, RedisConfig::default())
    }

    fn info(at_usec: u64, cpu_main: f64, commands: u64, evicted: u64) -> ServerInfo {
        ServerInfo {
            version: "7.0.15".into(),
            run_id: "r1".into(),
            server_time_usec: Some(at_usec),
            cpu: CpuTimes {
                sys: cpu_main * 2.0,
                user: cpu_main * 2.0,
                sys_main_thread: Some(cpu_main / 2.0),
                user_main_thread: Some(cpu_main / 2.0),
            },
            stats: Stats {
                total_commands_processed: commands,
                evicted_keys: evicted,
                ..Default::default()
            },
            persistence: Persistence {
                rdb_last_bgsave_status: "ok".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn poll(at: f64, info: ServerInfo) -> Result<InstancePoll, RedisError> {
        Ok(InstancePoll {
            polled_at: at,
            info: Ok(info),
            slowlog: Ok(vec![]),
            latency: Ok(vec![]),
            queues: vec![],
            queue_errors: vec![],
        })
    }

    #[test]
    fn a_saturated_main_thread_is_critical_in_the_runbooks_words() {
        let (icfg, cfg) = cfg();
        let mut st = InstanceState::new("a", "h:1");
        st.apply(poll(100.0, info(100_000_000, 10.0, 1000, 0)));
        // 9.7 CPU seconds of the main thread in 10 s on the server's clock (the process used
        // four times more: I/O threads, which do not saturate at one core).
        st.apply(poll(110.0, info(110_000_000, 19.7, 51_000, 0)));
        let r = st.rates().unwrap();
        assert!((r.cpu_cores - 0.97).abs() < 1e-9, "{r:?}");
        assert_eq!(r.cpu_source, CpuSource::MainThread);
        assert!((r.ops_per_sec - 5000.0).abs() < 1e-9);
        let v = instance_verdicts(&st, &icfg, &cfg, 110.0);
        assert_eq!(v[0].severity, Severity::Critical);
        assert_eq!(
            v[0].message,
            "main thread at 0.97 of 1 core (2.4 % of the 40-core host): Redis runs commands on one core, so it is saturated and every client waits"
        );
    }

    #[test]
    fn a_restart_does_not_make_a_rate_from_two_runs() {
        let mut st = InstanceState::new("a", "h:1");
        st.apply(poll(100.0, info(100_000_000, 50.0, 1000, 0)));
        let mut restarted = info(110_000_000, 0.5, 10, 0);
        restarted.run_id = "r2".into();
        st.apply(poll(110.0, restarted));
        assert_eq!(st.rates(), None);
    }

    #[test]
    fn evictions_memory_failed_saves_and_keys_calls_are_named() {
        let (icfg, cfg) = cfg();
        let mut st = InstanceState::new("a", "h:1");
        let mut a = info(0, 0.0, 0, 0);
        let mut b = info(10_000_000, 0.1, 10, 50);
        for i in [&mut a, &mut b] {
            i.memory.maxmemory = 100 * 1024 * 1024;
            i.memory.used = 97 * 1024 * 1024;
            i.memory.policy = "noeviction".into();
            i.persistence.rdb_last_bgsave_status = "err".into();
        }
        st.apply(poll(0.0, a));
        st.apply(poll(10.0, b));
        st.slowlog = vec![SlowEntry {
            id: 7,
            at: 5,
            duration_us: 12_345,
            args: vec!["KEYS".into(), "celery*".into()],
            client: "127.0.0.1:5000".into(),
            client_name: "report-builder".into(),
        }];
        let v = instance_verdicts(&st, &icfg, &cfg, 10.0);
        let text: Vec<_> = v.iter().map(|v| (v.severity, v.message.as_str())).collect();
        assert!(
            text.contains(&(
                Severity::Critical,
                "memory 97 % of maxmemory 100 MiB (noeviction): writes fail with OOM once full"
            )),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|(s, m)| *s == Severity::Warning && m.starts_with("evicting 5.0 keys/s"))
        );
        assert!(
            text.iter()
                .any(|(s, m)| *s == Severity::Critical && m.starts_with("the last BGSAVE failed"))
        );
        let keys = v.iter().find(|v| v.row == Row::SlowEntry(7)).unwrap();
        assert_eq!(
            keys.message,
            "1 KEYS call in the slow log, latest `KEYS celery*` by report-builder (127.0.0.1:5000) took 12 ms: KEYS walks every key on the one thread (use SCAN)"
        );
    }

    #[test]
    fn replicas_behind_or_offline_and_a_broken_master_link_are_named() {
        use crate::model::{MasterLink, Replica, Replication};
        let (icfg, cfg) = cfg();
        let mut st = InstanceState::new("a", "h:1");
        let mut i = info(0, 0.0, 0, 0);
        i.replication = Replication {
            role: Role::Master,
            master_repl_offset: 100,
            replicas: vec![
                Replica {
                    ip: "10.0.0.2".into(),
                    port: 6379,
                    state: "online".into(),
                    offset: 90,
                    lag: Some(42),
                },
                Replica {
                    ip: "10.0.0.3".into(),
                    port: 6379,
                    state: "wait_bgsave".into(),
                    offset: 0,
                    lag: Some(0),
                },
            ],
            master: None,
        };
        st.apply(poll(0.0, i.clone()));
        let v = instance_verdicts(&st, &icfg, &cfg, 0.0);
        let rows: Vec<_> = v.iter().map(|v| (v.row.clone(), v.message.as_str())).collect();
        assert!(
            rows.contains(&(
                Row::Replica("10.0.0.2:6379".into()),
                "replica 10.0.0.2:6379 last acknowledged 42s ago"
            )),
            "{rows:#?}"
        );
        assert!(
            rows.contains(&(
                Row::Replica("10.0.0.3:6379".into()),
                "replica 10.0.0.3:6379 is wait_bgsave"
            )),
            "{rows:#?}"
        );
        i.replication = Replication {
            role: Role::Replica,
            master_repl_offset: 0,
            replicas: vec![],
            master: Some(MasterLink {
                host: "10.0.0.1".into(),
                port: 6379,
                link_status: "down".into(),
                last_io_seconds_ago: -1,
                sync_in_progress: false,
                down_since_seconds: Some(125),
                offset: 0,
            }),
        };
        st.apply(poll(1.0, i));
        let v = instance_verdicts(&st, &icfg, &cfg, 1.0);
        assert_eq!(
            (v[0].severity, v[0].message.as_str()),
            (Severity::Critical, "replica: link to master 10.0.0.1:6379 down for 2m")
        );
    }

    #[test]
    fn parts_that_failed_are_said_beside_what_was_read() {
        use crate::model::{ErrorKind, PartError};
        let (icfg, cfg) = cfg();
        let mut st = InstanceState::new("a", "h:1");
        let mut p = poll(0.0, info(0, 0.0, 0, 0)).unwrap();
        p.slowlog = Err(
            RedisError::from_reply("NOPERM this user has no permissions to run the 'slowlog|get' command")
                .context("SLOWLOG GET"),
        );
        p.queue_errors = vec![PartError {
            part: "SSCAN queues 0 COUNT 1000".into(),
            error: RedisError::from_reply("NOPERM this user has no permissions to run the 'sscan' command"),
        }];
        st.apply(Ok(p));
        assert!(st.info.is_some());
        assert_eq!(st.slowlog_error.as_ref().unwrap().kind, ErrorKind::Unauthorised);
        let v: Vec<_> = instance_verdicts(&st, &icfg, &cfg, 0.0)
            .into_iter()
            .map(|v| v.message)
            .collect();
        assert_eq!(
            v,
            [
                "SLOWLOG GET: NOPERM this user has no permissions to run the 'slowlog|get' command",
                "SSCAN queues 0 COUNT 1000: NOPERM this user has no permissions to run the 'sscan' command"
            ]
        );
    }

    fn queue(samples: &[(f64, u64)]) -> QueueState {
        QueueState {
            reading: QueueReading {
                name: "celery".into(),
                kind: QueueKind::Celery,
                namespace: None,
                push_end: End::Left,
                lists: vec![ListReading {
                    key: Key::from("celery"),
                    key_type: "list".into(),
                    len: samples.last().unwrap().1,
                }],
                origin: None,
                error: None,
                matched: false,
            },
            history: samples.iter().map(|&(at, len)| Sample { at, len }).collect(),
        }
    }

    #[test]
    fn queue_trends_follow_the_counts() {
        let growing = queue(&[(0.0, 100), (10.0, 200), (20.0, 300)]);
        let t = trend(growing.history.iter());
        assert_eq!(t.drain, Drain::Growing);
        assert!((t.net_rate.unwrap() - 10.0).abs() < 1e-9);
        let v = queue_verdicts(&growing, &RedisConfig::default());
        assert_eq!(v[0].message, "celery growing 600/min");
        assert_eq!(v[0].row, Row::Queue("celery::celery".into()));
        // Long shrinking, then a turn up: "now" says growing, the trend line still falls.
        let turned = queue(&[(0.0, 1000), (100.0, 500), (200.0, 100), (210.0, 120)]);
        let t = trend(turned.history.iter());
        assert_eq!(t.drain, Drain::Growing);
        assert!(t.trend_rate.unwrap() < 0.0);
        let draining = queue(&[(0.0, 300), (10.0, 200)]);
        assert_eq!(trend(draining.history.iter()).drain, Drain::In(Duration::from_secs(20)));
        assert_eq!(trend(queue(&[(0.0, 0)]).history.iter()).drain, Drain::Empty);
        assert_eq!(trend(queue(&[(0.0, 5)]).history.iter()).drain, Drain::Unknown);
    }

    #[test]
    fn a_backup_holding_items_says_where_they_go_back() {
        let mut q = queue(&[(0.0, 42)]);
        q.reading.kind = QueueKind::Backup;
        q.reading.origin = Some(Key::from("celery"));
        let v = queue_verdicts(&q, &RedisConfig::default());
        assert_eq!(
            v[0].message,
            "42 items parked in a backup: re-queue them to celery once the workers are fixed"
        );
    }
}
