//! The Redis pane: instances sorted by what needs attention (CPU as cores of the one command
//! thread, memory against `maxmemory`, saves, replication) and, toggled, every queue kept in their
//! lists with its trend and time to drain. `Enter` on an instance shows its facts, verdicts and slow
//! log; on a queue, its lists and history.

use crate::Redis;
use crate::actions::{plan_bgsave, plan_clear, plan_move_to_backup, plan_requeue};
use crate::analysis::{Row as VerdictRow, Verdict, cpu_text, instance_verdicts, worst};
use crate::config::{InstanceConfig, RedisConfig};
use crate::model::{InstanceState, QueueKind, QueueState, RedisState, Role};
use opsdeck_core::alert::{Alert, AlertTarget, Severity};
use opsdeck_core::backlog::{drain_cell, rate_cell, sparkline, trend};
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::text::human_bytes;
use opsdeck_core::time::short_duration;
use opsdeck_core::view::{ActionOffer, Cell, Column, Modes, PaneAction, Row, RowKind, Table, Tone, View, ViewCtx};
use std::time::{Duration, SystemTime};

/// Keymap actions this pane understands (bound in the keymap's `[redis]` mode).
pub const ACTIONS: &[PaneAction] = &[
    PaneAction {
        name: "toggle_queues",
        help: "switch between Redis instances and the queues in their lists",
    },
    PaneAction {
        name: "bgsave",
        help: "BGSAVE the selected instance (a snapshot to disk, verified)",
    },
    PaneAction {
        name: "move_to_backup",
        help: "move the selected queue to a backup key (workers see it empty; nothing is lost)",
    },
    PaneAction {
        name: "clear_queue",
        help: "delete the selected queue's items (typed confirmation; they are lost)",
    },
    PaneAction {
        name: "requeue_backup",
        help: "return the selected backup's items to the queue they came from",
    },
];

pub const ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "redis",
        vars: &[
            ("name", ("instance name", "the config")),
            ("instance", ("instance name", "the config")),
            ("address", ("instance address", "the config")),
        ],
    },
    RowKind {
        scope: "redis.slowlog",
        vars: &[
            ("instance", ("instance name", "the config")),
            ("id", ("slow log entry id", "SLOWLOG GET")),
        ],
    },
    RowKind {
        scope: "redis.queue",
        vars: &[
            ("name", ("queue name", "the instance's keys")),
            ("queue", ("queue name", "the instance's keys")),
            ("instance", ("instance name", "the config")),
        ],
    },
];

/// Sparkline width in samples.
const SPARK: usize = 16;

pub fn root() -> Box<dyn View> {
    Box::new(RedisView {
        modes: Modes::new("toggle_queues", "instances", "queues"),
    })
}

fn state<'a>(ctx: &'a ViewCtx) -> Option<&'a RedisState> {
    ctx.fleet.of::<Redis>().data.as_ref()
}

fn instance_config<'a>(cfg: &'a RedisConfig, name: &str) -> Option<&'a InstanceConfig> {
    cfg.instances.iter().find(|i| i.name == name)
}

/// Unix seconds of a time.
fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// An instance's verdicts as of its last poll (an instance no longer configured has none).
fn verdicts(inst: &InstanceState, cfg: &RedisConfig) -> Vec<Verdict> {
    match instance_config(cfg, &inst.name) {
        Some(icfg) => instance_verdicts(inst, icfg, cfg, inst.polled_at.unwrap_or(0.0)),
        None => Vec::new(),
    }
}

/// The key of a queue's row: unique across instances (a queue's id is unique within one).
pub fn queue_row_key(inst: &InstanceState, q: &QueueState) -> String {
    format!("{} / {}", inst.name, q.reading.id())
}

/// The instance and queue behind a queue row's key.
fn find_queue<'a>(s: &'a RedisState, key: &str) -> Option<(&'a InstanceState, &'a QueueState)> {
    s.instances
        .iter()
        .flat_map(|i| i.queues.iter().map(move |q| (i, q)))
        .find(|(i, q)| queue_row_key(i, q) == key)
}

/// What a person would conclude, one alert per instance or queue (its verdicts joined), each
/// landing on its row.
pub fn alerts(s: &RedisState, cfg: &RedisConfig) -> Vec<Alert> {
    let mut out = Vec::new();
    for inst in &s.instances {
        let vs = verdicts(inst, cfg);
        let own: Vec<&Verdict> = vs.iter().filter(|v| !matches!(v.row, VerdictRow::Queue(_))).collect();
        if let Some(sev) = own.iter().map(|v| v.severity).max().filter(|s| *s > Severity::Ok) {
            let words: Vec<&str> = own.iter().map(|v| v.message.as_str()).collect();
            out.push(
                Alert::new(sev, Redis::ID, &inst.name, words.join("; "))
                    .at(AlertTarget::row(Redis::ID, &inst.name).in_view("instances")),
            );
        }
        for q in &inst.queues {
            let id = q.reading.id();
            let about: Vec<&Verdict> = vs
                .iter()
                .filter(|v| matches!(&v.row, VerdictRow::Queue(r) if *r == id))
                .collect();
            if let Some(sev) = about.iter().map(|v| v.severity).max().filter(|s| *s > Severity::Ok) {
                let words: Vec<&str> = about.iter().map(|v| v.message.as_str()).collect();
                out.push(
                    Alert::new(
                        sev,
                        Redis::ID,
                        format!("{}/{}", inst.name, q.reading.name),
                        words.join("; "),
                    )
                    .at(AlertTarget::row(Redis::ID, queue_row_key(inst, q)).in_view("queues")),
                );
            }
        }
    }
    out
}

/// Orders rows: critical first, then warnings, each by `then`.
fn score(sev: Severity, then: f64) -> f64 {
    let base = match sev {
        Severity::Critical => 2e12,
        Severity::Warning => 1e12,
        Severity::Ok => 0.0,
    };
    base + then
}

fn count(n: u64) -> Cell {
    Cell::num(n.to_string(), n as f64)
}

fn muted(text: &str) -> Cell {
    Cell::num(text, -1.0).tone(Tone::Muted)
}

/// BGSAVE and the queue actions, on the rows they act on.
fn bgsave_offer(inst: &InstanceState, cfg: &RedisConfig) -> ActionOffer {
    ActionOffer::new("bgsave", plan_bgsave(inst, cfg).map(|p| p.into_action(&inst.name)))
}

fn queue_offers(inst: &InstanceState, q: &QueueState, ctx: &ViewCtx) -> Vec<ActionOffer> {
    let cfg = ctx.config.of::<Redis>();
    let id = q.reading.id();
    let backup_only = |what: &str| Err(format!("{} is not a backup: {what}", q.reading.name));
    let requeue = if q.reading.kind == QueueKind::Backup {
        plan_requeue(inst, &id, cfg)
    } else {
        backup_only("re-queue applies to a backup opsdeck made (move it to a backup first)")
    };
    // A move's backup keys carry the time and its item count moves with the queue: the plan
    // confirmed runs if the server and the keys' types are unchanged (the operation re-checks them).
    let mut move_offer = ActionOffer::new(
        "move_to_backup",
        plan_move_to_backup(inst, &id, unix(ctx.now) as i64).map(|p| p.into_action(&inst.name)),
    );
    move_offer.call_drifts = true;
    vec![
        move_offer,
        ActionOffer::new("clear_queue", plan_clear(inst, &id).map(|p| p.into_action(&inst.name))),
        ActionOffer::new("requeue_backup", requeue.map(|p| p.into_action(&inst.name))),
    ]
}

/// The root view: instances, or (`t`) the queues in their lists.
struct RedisView {
    /// Instances, or (`t`) the queues in their lists.
    modes: Modes,
}

impl RedisView {
    fn instance_row(inst: &InstanceState, ctx: &ViewCtx) -> Row {
        let cfg = ctx.config.of::<Redis>();
        let vs = verdicts(inst, cfg);
        let sev = worst(&vs);
        let headline = vs
            .first()
            .filter(|v| v.severity > Severity::Ok)
            .map(|v| Cell::text(&v.message).tone(Tone::from(v.severity)))
            .unwrap_or_else(|| Cell::text("ok").tone(Tone::Ok));
        let queued: u64 = inst
            .queues
            .iter()
            .filter(|q| q.reading.kind != QueueKind::Backup)
            .map(|q| q.reading.total())
            .sum();
        let host_cpus = instance_config(cfg, &inst.name).and_then(|i| i.host_cpus);
        let rates = inst.rates();
        let cpu = match rates {
            Some(r) => {
                let tone = if r.cpu_cores >= cfg.cpu_crit {
                    Tone::Crit
                } else if r.cpu_cores >= cfg.cpu_warn {
                    Tone::Warn
                } else {
                    Tone::Normal
                };
                let host = host_cpus
                    .filter(|n| *n > 1)
                    .map(|n| format!(" ({:.1}% of {n})", r.cpu_cores / n as f64 * 100.0))
                    .unwrap_or_default();
                Cell::num(format!("{:.2}{host}", r.cpu_cores), r.cpu_cores).tone(tone)
            }
            None => muted("–"),
        };
        let Some(info) = &inst.info else {
            let why = inst
                .error
                .as_ref()
                .or(inst.info_error.as_ref())
                .map(|e| e.to_string())
                .unwrap_or_else(|| "waiting for the first answer".into());
            let mut cells = vec![Cell::severity(sev, score(sev, 0.0)), Cell::text(&inst.name)];
            cells.extend(std::iter::repeat_with(|| muted("–")).take(8));
            cells.push(Cell::text(why).tone(Tone::from(sev.max(Severity::Warning))));
            return Row {
                key: inst.name.clone(),
                cells,
            };
        };
        let mem = &info.memory;
        let memory = if mem.maxmemory > 0 {
            let used = mem.used as f64 / mem.maxmemory as f64;
            let tone = if used >= cfg.memory_crit {
                Tone::Crit
            } else if used >= cfg.memory_warn {
                Tone::Warn
            } else {
                Tone::Normal
            };
            Cell::num(format!("{} {:.0}%", human_bytes(mem.used), used * 100.0), used).tone(tone)
        } else {
            Cell::num(format!("{} (no max)", human_bytes(mem.used)), 0.0)
        };
        let role = match info.replication.role {
            Role::Master => format!("master ({} repl)", info.replication.replicas.len()),
            Role::Replica => "replica".into(),
            _ => "?".into(),
        };
        let p = &info.persistence;
        let saved = if p.rdb_bgsave_in_progress {
            Cell::text("saving…").tone(Tone::Warn)
        } else if p.rdb_last_save_time > 0 {
            let age = (unix(ctx.now) - p.rdb_last_save_time as f64).max(0.0);
            let tone = if p.rdb_last_bgsave_status == "err" {
                Tone::Crit
            } else {
                Tone::Normal
            };
            Cell::num(format!("{} ago", short_duration(Duration::from_secs_f64(age))), age).tone(tone)
        } else {
            muted("never")
        };
        let ops = rates
            .map(|r| Cell::num(format!("{:.0}", r.ops_per_sec), r.ops_per_sec))
            .unwrap_or_else(|| count(info.stats.instantaneous_ops_per_sec));
        let evicted = match rates {
            Some(r) if r.evicted_per_sec > 0.0 => {
                Cell::num(format!("{:.1}", r.evicted_per_sec), r.evicted_per_sec).tone(Tone::Warn)
            }
            Some(_) => Cell::num("0", 0.0),
            None => muted("–"),
        };
        Row {
            key: inst.name.clone(),
            cells: vec![
                Cell::severity(sev, score(sev, rates.map_or(0.0, |r| r.cpu_cores))),
                Cell::text(&inst.name),
                Cell::text(role),
                Cell::text(&info.version),
                cpu,
                memory,
                ops,
                count(info.clients.connected),
                evicted,
                saved,
                count(queued),
                headline,
            ],
        }
    }

    fn queue_row(inst: &InstanceState, q: &QueueState, ctx: &ViewCtx) -> Row {
        let cfg = ctx.config.of::<Redis>();
        let vs = crate::analysis::queue_verdicts(q, cfg);
        let sev = worst(&vs);
        let total = q.reading.total();
        let t = trend(q.history.iter());
        let verdict = match (&q.reading.error, vs.first()) {
            (Some(e), _) => Cell::text(e).tone(Tone::Warn),
            (None, Some(v)) => Cell::text(&v.message).tone(Tone::from(v.severity)),
            (None, None) => Cell::text("ok").tone(Tone::Ok),
        };
        let kind = match (&q.reading.namespace, q.reading.kind) {
            (Some(ns), kind) if !ns.is_empty() => format!("{} ({ns})", kind.label()),
            (_, kind) => kind.label().to_string(),
        };
        Row {
            key: queue_row_key(inst, q),
            cells: vec![
                Cell::severity(sev, score(sev, total as f64)),
                Cell::text(&q.reading.name),
                Cell::text(&inst.name),
                Cell::text(kind),
                count(total),
                Cell::text(sparkline(&q.history, SPARK)),
                rate_cell(&t),
                drain_cell(&t),
                verdict,
            ],
        }
    }
}

impl View for RedisView {
    fn crumb(&self) -> String {
        if self.modes.second() {
            "queues".into()
        } else {
            "instances".into()
        }
    }
    fn scope(&self) -> &'static str {
        if self.modes.second() { "redis.queue" } else { "redis" }
    }
    fn source(&self) -> Option<PaneId> {
        Some(Redis::ID)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let s = state(ctx);
        if self.modes.second() {
            return Table {
                columns: vec![
                    Column::left("!", 2),
                    Column::left("QUEUE", 10).max(40).key(),
                    Column::left("INSTANCE", 10).max(24).priority(7),
                    Column::left("KIND", 8).max(20).priority(4),
                    Column::right("ITEMS", 8).priority(9),
                    Column::left("TREND", SPARK as u16).priority(5),
                    Column::right("NET/s", 7).priority(8),
                    Column::right("DRAIN", 8).max(12).priority(9),
                    Column::left("VERDICT", 20).max(120).grow().priority(6),
                ],
                rows: s
                    .map(|s| {
                        s.instances
                            .iter()
                            .flat_map(|i| i.queues.iter().map(move |q| (i, q)))
                            .map(|(i, q)| Self::queue_row(i, q, ctx))
                            .collect()
                    })
                    .unwrap_or_default(),
                default_sort: Some((0, true)),
                empty: "no queues found: name them in [[redis.instances]] (celery_queues, resque_namespaces, \
                        sidekiq_namespaces, queue_keys, queue_patterns)"
                    .into(),
            };
        }
        Table {
            columns: vec![
                Column::left("!", 2),
                Column::left("INSTANCE", 10).max(24).key(),
                Column::left("ROLE", 8).max(16).priority(4),
                Column::left("VERSION", 7).max(10).priority(2),
                Column::right("CPU cores", 9).max(20).priority(9),
                Column::right("MEMORY", 9).max(16).priority(8),
                Column::right("OPS/s", 7).priority(6),
                Column::right("CLIENTS", 7).priority(5),
                Column::right("EVICT/s", 7).priority(6),
                Column::right("SAVED", 9).max(12).priority(5),
                Column::right("QUEUED", 7).priority(7),
                Column::left("VERDICT", 20).max(160).grow().priority(8),
            ],
            rows: s
                .map(|s| s.instances.iter().map(|i| Self::instance_row(i, ctx)).collect())
                .unwrap_or_default(),
            default_sort: Some((0, true)),
            empty: "no Redis instances answered yet".into(),
        }
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        let cfg = ctx.config.of::<Redis>();
        let down = s.instances.iter().filter(|i| i.error.is_some()).count();
        let queues = s.instances.iter().flat_map(|i| &i.queues);
        let waiting: u64 = queues
            .clone()
            .filter(|q| q.reading.kind != QueueKind::Backup)
            .map(|q| q.reading.total())
            .sum();
        let growing = queues
            .clone()
            .filter(|q| matches!(trend(q.history.iter()).drain, opsdeck_core::backlog::Drain::Growing))
            .count();
        let parked: u64 = queues
            .filter(|q| q.reading.kind == QueueKind::Backup)
            .map(|q| q.reading.total())
            .sum();
        let mut lines = vec![(
            format!(
                "{} instance(s), {down} not answering · {waiting} items queued, {growing} queue(s) growing{} · t: show {}",
                s.instances.len(),
                if parked > 0 {
                    format!(", {parked} parked in backups")
                } else {
                    String::new()
                },
                if self.modes.second() { "instances" } else { "queues" }
            ),
            Tone::Normal,
        )];
        let alerts = alerts(s, cfg);
        for a in alerts.iter().filter(|a| a.severity == Severity::Critical).take(2) {
            lines.push((format!("✖ {}: {}", a.subject, a.message), Tone::Crit));
        }
        lines
    }

    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        let s = state(ctx)?;
        if self.modes.second() {
            let (_, q) = find_queue(s, row)?;
            return Some(Box::new(QueueView {
                key: row.to_string(),
                name: q.reading.name.clone(),
            }));
        }
        s.instance(row)?;
        Some(Box::new(InstanceView { name: row.to_string() }))
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let (Some(s), Some(row)) = (state(ctx), row) else {
            return Vec::new();
        };
        if self.modes.second() {
            return find_queue(s, row)
                .map(|(i, q)| queue_offers(i, q, ctx))
                .unwrap_or_default();
        }
        s.instance(row)
            .map(|i| vec![bgsave_offer(i, ctx.config.of::<Redis>())])
            .unwrap_or_default()
    }

    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        if self.modes.second() {
            return match find_queue(s, row) {
                Some((i, q)) => vec![
                    ("name".into(), q.reading.name.clone()),
                    ("queue".into(), q.reading.name.clone()),
                    ("instance".into(), i.name.clone()),
                ],
                None => Vec::new(),
            };
        }
        match s.instance(row) {
            Some(i) => vec![
                ("name".into(), i.name.clone()),
                ("instance".into(), i.name.clone()),
                ("address".into(), i.address.clone()),
            ],
            None => Vec::new(),
        }
    }

    fn modes(&self) -> Option<&Modes> {
        Some(&self.modes)
    }
    fn modes_mut(&mut self) -> Option<&mut Modes> {
        Some(&mut self.modes)
    }
}

/// One instance: its facts and verdicts above, its slow log below (`KEYS` calls marked).
struct InstanceView {
    name: String,
}

impl InstanceView {
    fn instance<'a>(&self, ctx: &'a ViewCtx) -> Option<&'a InstanceState> {
        state(ctx)?.instance(&self.name)
    }
}

impl View for InstanceView {
    fn crumb(&self) -> String {
        self.name.clone()
    }
    fn scope(&self) -> &'static str {
        "redis.slowlog"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Redis::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(inst) = self.instance(ctx) else {
            return vec![(format!("{} is no longer polled", self.name), Tone::Warn)];
        };
        let cfg = ctx.config.of::<Redis>();
        let mut lines = Vec::new();
        if let Some(info) = &inst.info {
            let host_cpus = instance_config(cfg, &inst.name).and_then(|i| i.host_cpus);
            let cpu = inst
                .rates()
                .map(|r| cpu_text(r.cpu_cores, host_cpus))
                .unwrap_or_else(|| "CPU: after the next poll".into());
            lines.push((
                format!(
                    "{} · Redis {} {} · up {} · {cpu}",
                    inst.address,
                    info.version,
                    info.mode,
                    short_duration(Duration::from_secs(info.uptime_secs))
                ),
                Tone::Normal,
            ));
            let mem = &info.memory;
            let keys: u64 = info.keyspace.iter().map(|d| d.keys).sum();
            lines.push((
                format!(
                    "memory {} of {} ({}) · {} clients ({} blocked) · {keys} keys",
                    human_bytes(mem.used),
                    if mem.maxmemory > 0 {
                        human_bytes(mem.maxmemory)
                    } else {
                        "no maxmemory".into()
                    },
                    mem.policy,
                    info.clients.connected,
                    info.clients.blocked
                ),
                Tone::Normal,
            ));
            let repl = &info.replication;
            let repl_text = match (repl.role, &repl.master) {
                (Role::Replica, Some(m)) => format!("replica of {}:{} (link {})", m.host, m.port, m.link_status),
                _ if repl.replicas.is_empty() => "master, no replicas".into(),
                _ => format!(
                    "master of {}",
                    repl.replicas
                        .iter()
                        .map(|r| format!(
                            "{}:{} {} lag {}",
                            r.ip,
                            r.port,
                            r.state,
                            r.lag.map_or("?".into(), |l| format!("{l}s"))
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let p = &info.persistence;
            lines.push((
                format!(
                    "{repl_text} · last save {} ({}), {} changes since",
                    if p.rdb_last_save_time > 0 {
                        format!(
                            "{} ago",
                            short_duration(Duration::from_secs_f64(
                                (unix(ctx.now) - p.rdb_last_save_time as f64).max(0.0)
                            ))
                        )
                    } else {
                        "never".into()
                    },
                    p.rdb_last_bgsave_status,
                    p.rdb_changes_since_last_save
                ),
                Tone::Normal,
            ));
        }
        for v in verdicts(inst, cfg)
            .iter()
            .filter(|v| v.severity > Severity::Ok && !matches!(v.row, VerdictRow::Queue(_)))
        {
            let mark = if v.severity == Severity::Critical { "✖" } else { "▲" };
            lines.push((format!("{mark} {}", v.message), Tone::from(v.severity)));
        }
        lines.push(("slow log, newest first (KEYS calls marked ✖):".into(), Tone::Muted));
        lines
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = self
            .instance(ctx)
            .map(|inst| {
                inst.slowlog
                    .iter()
                    .map(|e| {
                        let age = (unix(ctx.now) - e.at as f64).max(0.0);
                        let ms = e.duration_us as f64 / 1000.0;
                        let by = if e.client_name.is_empty() {
                            e.client.clone()
                        } else {
                            format!("{} ({})", e.client_name, e.client)
                        };
                        Row {
                            key: e.id.to_string(),
                            cells: vec![
                                if e.is_keys() {
                                    Cell::num("✖", 1.0).tone(Tone::Crit)
                                } else {
                                    Cell::num(" ", 0.0)
                                },
                                Cell::num(e.id.to_string(), e.id as f64),
                                Cell::num(format!("{} ago", short_duration(Duration::from_secs_f64(age))), -age),
                                Cell::num(format!("{ms:.1}"), ms),
                                Cell::text(e.command_line()),
                                Cell::text(by),
                            ],
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let empty = match self.instance(ctx).and_then(|i| i.slowlog_error.as_ref()) {
            Some(e) => format!("slow log not read: {e}"),
            None => "the slow log is empty".into(),
        };
        Table {
            columns: vec![
                Column::left("!", 2),
                Column::right("ID", 6).priority(3),
                Column::right("WHEN", 9).priority(7),
                Column::right("ms", 8).priority(9),
                Column::left("COMMAND", 20).max(120).grow().priority(9),
                Column::left("CLIENT", 16).max(40).priority(5),
            ],
            rows,
            default_sort: Some((1, true)),
            empty,
        }
    }

    fn actions(&self, ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        self.instance(ctx)
            .map(|i| vec![bgsave_offer(i, ctx.config.of::<Redis>())])
            .unwrap_or_default()
    }

    fn row_vars(&self, _ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        vec![("instance".into(), self.name.clone()), ("id".into(), row.to_string())]
    }
}

/// One queue: its lists (a Celery queue has a list per priority) and its recent history.
struct QueueView {
    key: String,
    name: String,
}

impl View for QueueView {
    fn crumb(&self) -> String {
        self.name.clone()
    }
    fn scope(&self) -> &'static str {
        "redis.queue"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Redis::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some((inst, q)) = state(ctx).and_then(|s| find_queue(s, &self.key)) else {
            return vec![("this queue is no longer found".into(), Tone::Warn)];
        };
        let t = trend(q.history.iter());
        let rate = |r: Option<f64>| r.map_or("–".into(), |r| format!("{:+.1}/s", r));
        let mut lines = vec![(
            format!(
                "{} on {} · {} items · net {} now, {} over 10 min · drain {}",
                q.reading.kind.label(),
                inst.name,
                q.reading.total(),
                rate(t.net_rate),
                rate(t.trend_rate),
                t.drain.text()
            ),
            Tone::Normal,
        )];
        if let Some(origin) = &q.reading.origin {
            lines.push((format!("a backup of {origin}: R re-queues it there"), Tone::Warn));
        }
        lines.push((
            format!("{} ({} samples)", sparkline(&q.history, 60), q.history.len()),
            Tone::Normal,
        ));
        for v in crate::analysis::queue_verdicts(q, ctx.config.of::<Redis>()) {
            lines.push((format!("▲ {}", v.message), Tone::from(v.severity)));
        }
        lines
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = state(ctx)
            .and_then(|s| find_queue(s, &self.key))
            .map(|(_, q)| {
                q.reading
                    .lists
                    .iter()
                    .map(|l| Row {
                        key: l.key.to_string(),
                        cells: vec![Cell::text(l.key.to_string()), Cell::text(&l.key_type), count(l.len)],
                    })
                    .collect()
            })
            .unwrap_or_default();
        Table {
            columns: vec![
                Column::left("KEY", 20).max(80).grow().key(),
                Column::left("TYPE", 6).priority(5),
                Column::right("LENGTH", 9).priority(9),
            ],
            rows,
            default_sort: Some((2, true)),
            empty: "no lists".into(),
        }
    }

    fn actions(&self, ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        state(ctx)
            .and_then(|s| find_queue(s, &self.key))
            .map(|(i, q)| queue_offers(i, q, ctx))
            .unwrap_or_default()
    }
}
