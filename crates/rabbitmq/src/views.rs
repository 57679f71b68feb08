//! The RabbitMQ pane: the queues of every instance sorted by what needs attention (ready and
//! unacknowledged messages, consumers, rates, trend and time to drain; Celery's housekeeping queues
//! hidden until `h`), or (`t`) the nodes with their memory and disk alarms. `Enter` on a queue shows
//! its declaration, history and verdicts; `P` purges it.

use crate::Rabbitmq;
use crate::actions::purge_plan;
use crate::analysis::{Target, Verdict, analyse};
use crate::config::{InstanceConfig, RabbitmqConfig};
use crate::model::{InstanceState, Node, Queue, QueueKey, RabbitmqState};
use opsdeck_core::alert::{Alert, AlertTarget, Severity};
use opsdeck_core::backlog::{Trend, drain_cell, rate_cell, sparkline, trend};
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::text::human_bytes;
use opsdeck_core::time::short_duration;
use opsdeck_core::view::{ActionOffer, Cell, Column, PaneAction, Row, RowKind, Table, Tone, View, ViewCtx};
use std::time::Duration;

/// Keymap actions this pane understands (bound in the keymap's `[rabbitmq]` mode).
pub const ACTIONS: &[PaneAction] = &[
    PaneAction {
        name: "toggle_nodes",
        help: "switch between the queues and the RabbitMQ nodes",
    },
    PaneAction {
        name: "toggle_housekeeping",
        help: "show or hide Celery's housekeeping queues (celeryev.*, *.pidbox)",
    },
    PaneAction {
        name: "purge_queue",
        help: "purge the selected queue's ready messages (typed confirmation; they are lost)",
    },
];

pub const ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "rabbitmq",
        vars: &[
            ("name", ("queue name", "the management API")),
            ("queue", ("queue name", "the management API")),
            ("vhost", ("queue's vhost", "the management API")),
            ("instance", ("instance name", "the config")),
        ],
    },
    RowKind {
        scope: "rabbitmq.node",
        vars: &[
            ("name", ("node name", "the management API")),
            ("node", ("node name", "the management API")),
            ("instance", ("instance name", "the config")),
        ],
    },
];

pub fn root() -> Box<dyn View> {
    Box::new(RabbitmqView {
        nodes: false,
        housekeeping: false,
    })
}

fn state<'a>(ctx: &'a ViewCtx) -> Option<&'a RabbitmqState> {
    ctx.fleet.of::<Rabbitmq>().data.as_ref()
}

fn instance_config<'a>(cfg: &'a RabbitmqConfig, name: &str) -> Option<&'a InstanceConfig> {
    cfg.instances.iter().find(|i| i.name == name)
}

/// The key of a queue's row: unique across instances and vhosts.
pub fn queue_row_key(instance: &str, q: &QueueKey) -> String {
    format!("{instance} · {} · {}", q.vhost, q.name)
}

/// The key of a node's row.
pub fn node_row_key(instance: &str, node: &str) -> String {
    format!("{instance} · {node}")
}

fn find_queue<'a>(s: &'a RabbitmqState, key: &str) -> Option<(&'a InstanceState, &'a Queue)> {
    s.instances
        .iter()
        .flat_map(|i| i.queues().iter().map(move |q| (i, q)))
        .find(|(i, q)| queue_row_key(&i.name, &q.key()) == key)
}

fn find_node<'a>(s: &'a RabbitmqState, key: &str) -> Option<(&'a InstanceState, &'a Node)> {
    s.instances
        .iter()
        .flat_map(|i| i.nodes().iter().map(move |n| (i, n)))
        .find(|(i, n)| node_row_key(&i.name, &n.name) == key)
}

/// An instance's verdicts as of its last poll, worst first.
fn verdicts(inst: &InstanceState, cfg: &RabbitmqConfig) -> Vec<Verdict> {
    let mut out = Vec::new();
    if let Some(e) = &inst.error {
        out.push(Verdict {
            severity: Severity::Critical,
            target: Target::Instance,
            message: format!("not polled: {e}"),
        });
    }
    if let Some(snap) = &inst.snapshot {
        out.extend(analyse(cfg, snap, &inst.trends()));
    }
    out
}

fn worst<'a>(vs: impl IntoIterator<Item = &'a Verdict>) -> Severity {
    vs.into_iter().map(|v| v.severity).max().unwrap_or(Severity::Ok)
}

fn joined<'a>(vs: impl IntoIterator<Item = &'a Verdict>) -> String {
    vs.into_iter()
        .map(|v| v.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One alert per instance, node or queue (its verdicts joined), each landing on its row.
pub fn alerts(s: &RabbitmqState, cfg: &RabbitmqConfig) -> Vec<Alert> {
    let mut out = Vec::new();
    for inst in &s.instances {
        let vs = verdicts(inst, cfg);
        let mut subjects: Vec<&Target> = Vec::new();
        for v in &vs {
            if !subjects.contains(&&v.target) {
                subjects.push(&v.target);
            }
        }
        for t in subjects {
            let about: Vec<&Verdict> = vs.iter().filter(|v| &v.target == t).collect();
            let sev = worst(about.iter().copied());
            if sev == Severity::Ok {
                continue;
            }
            let words = joined(about.iter().copied());
            let alert = match t {
                Target::Instance => {
                    Alert::new(sev, Rabbitmq::ID, &inst.name, words)
                        .at(AlertTarget::row(Rabbitmq::ID, "").in_view("queues"))
                }
                Target::Node(n) => Alert::new(sev, Rabbitmq::ID, format!("{}/{n}", inst.name), words)
                    .at(AlertTarget::row(Rabbitmq::ID, node_row_key(&inst.name, n)).in_view("nodes")),
                Target::Queue(q) => Alert::new(sev, Rabbitmq::ID, format!("{}/{}", inst.name, q.name), words)
                    .at(AlertTarget::row(Rabbitmq::ID, queue_row_key(&inst.name, q)).in_view("queues")),
            };
            out.push(alert);
        }
    }
    out
}

fn rate(r: Option<f64>) -> Cell {
    match r {
        Some(r) => Cell::num(format!("{r:.1}"), r),
        None => Cell::muted("–"),
    }
}

/// What the queue is to the Celery app: one of its task queues, its housekeeping, or another's.
fn kind(q: &Queue, icfg: Option<&InstanceConfig>) -> &'static str {
    if q.is_housekeeping() {
        "housekeeping"
    } else if icfg.is_some_and(|c| c.is_celery_queue(&q.name)) {
        "celery"
    } else {
        "other"
    }
}

/// The purge of a queue, from the last poll (the plan re-reads the queue before it deletes).
fn purge_offer(inst: &InstanceState, q: &Queue, cfg: &RabbitmqConfig) -> ActionOffer {
    let plan = match instance_config(cfg, &inst.name) {
        None => Err(format!("{} is no longer in the [rabbitmq] section", inst.name)),
        Some(_) if q.messages_ready == 0 => Err(format!("{} has no ready messages: nothing to purge", q.name)),
        Some(icfg) => icfg
            .base_url()
            .map(|base| purge_plan(&inst.name, &icfg.user, &base, q).into_action(icfg.request_timeout.get())),
    };
    ActionOffer::new("purge_queue", plan)
}

/// The root view: queues, or (`t`) nodes.
struct RabbitmqView {
    nodes: bool,
    housekeeping: bool,
}

impl RabbitmqView {
    fn queue_row(inst: &InstanceState, q: &Queue, vs: &[Verdict], t: Option<&Trend>, ctx: &ViewCtx) -> Row {
        let cfg = ctx.config.of::<Rabbitmq>();
        let key = q.key();
        let about: Vec<&Verdict> = vs
            .iter()
            .filter(|v| matches!(&v.target, Target::Queue(k) if *k == key))
            .collect();
        let sev = worst(about.iter().copied());
        let verdict = if about.is_empty() {
            Cell::text("ok").tone(Tone::Ok)
        } else {
            Cell::text(joined(about.iter().copied())).tone(Tone::from(sev))
        };
        let consumers = if q.consumers == 0 && q.messages_ready > 0 {
            Cell::count(0).tone(Tone::Crit)
        } else {
            Cell::count(q.consumers)
        };
        let (net, drain) = match t {
            Some(t) => (rate_cell(t), drain_cell(t)),
            None => (Cell::muted("–"), Cell::muted("–")),
        };
        let idle = match &q.idle_since {
            Some(since) => Cell::text(since.clone()).tone(Tone::Muted),
            None => Cell::text("busy"),
        };
        Row {
            key: queue_row_key(&inst.name, &key),
            cells: vec![
                Cell::severity_then(sev, q.messages_ready as f64),
                Cell::text(&q.name),
                Cell::text(kind(q, instance_config(cfg, &inst.name))),
                Cell::text(&inst.name),
                Cell::text(&q.vhost),
                Cell::count(q.messages_ready),
                Cell::count(q.messages_unacknowledged),
                consumers,
                rate(q.publish_rate()),
                rate(q.deliver_rate()),
                net,
                drain,
                idle,
                verdict,
            ],
        }
    }

    fn node_row(inst: &InstanceState, n: &Node, vs: &[Verdict]) -> Row {
        let about: Vec<&Verdict> = vs
            .iter()
            .filter(|v| matches!(&v.target, Target::Node(name) if *name == n.name))
            .collect();
        let sev = worst(about.iter().copied());
        let verdict = if about.is_empty() {
            Cell::text("ok").tone(Tone::Ok)
        } else {
            Cell::text(joined(about.iter().copied())).tone(Tone::from(sev))
        };
        let used = if n.mem_limit > 0 {
            n.mem_used as f64 / n.mem_limit as f64
        } else {
            0.0
        };
        let mem_tone = if n.mem_alarm { Tone::Crit } else { Tone::Normal };
        let disk_tone = if n.disk_free_alarm { Tone::Crit } else { Tone::Normal };
        Row {
            key: node_row_key(&inst.name, &n.name),
            cells: vec![
                Cell::severity_then(sev, used),
                Cell::text(&n.name),
                Cell::text(&inst.name),
                if n.running {
                    Cell::text("running")
                } else {
                    Cell::text("down").tone(Tone::Crit)
                },
                // The share of the high watermark: the verdict says both sizes.
                Cell::num(format!("{} {:.0}%", human_bytes(n.mem_used), used * 100.0), used).tone(mem_tone),
                Cell::num(human_bytes(n.disk_free), n.disk_free as f64).tone(disk_tone),
                Cell::num(format!("{}/{}", n.fd_used, n.fd_total), n.fd_used as f64),
                Cell::num(short_duration(Duration::from_millis(n.uptime)), n.uptime as f64),
                verdict,
            ],
        }
    }
}

impl View for RabbitmqView {
    fn crumb(&self) -> String {
        if self.nodes { "nodes" } else { "queues" }.into()
    }
    fn scope(&self) -> &'static str {
        if self.nodes { "rabbitmq.node" } else { "rabbitmq" }
    }
    fn source(&self) -> Option<PaneId> {
        Some(Rabbitmq::ID)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let cfg = ctx.config.of::<Rabbitmq>();
        let s = state(ctx);
        if self.nodes {
            return Table {
                columns: vec![
                    Column::left("!", 2),
                    Column::left("NODE", 10).max(40).key(),
                    Column::left("INSTANCE", 8).max(24).priority(3),
                    Column::left("STATE", 7).priority(6),
                    Column::right("MEMORY", 12).max(16).priority(9),
                    Column::right("DISK FREE", 9).max(12).priority(8),
                    Column::right("FD", 9).max(14).priority(5),
                    Column::right("UP", 5).priority(4),
                    Column::left("VERDICT", 20).max(160).grow().priority(8),
                ],
                rows: s
                    .map(|s| {
                        s.instances
                            .iter()
                            .flat_map(|i| {
                                let vs = verdicts(i, cfg);
                                i.nodes()
                                    .iter()
                                    .map(move |n| Self::node_row(i, n, &vs))
                                    .collect::<Vec<_>>()
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                default_sort: Some((0, true)),
                empty: "no RabbitMQ nodes answered yet".into(),
            };
        }
        let rows = s
            .map(|s| {
                s.instances
                    .iter()
                    .flat_map(|i| {
                        let vs = verdicts(i, cfg);
                        let trends = i.trends();
                        i.queues()
                            .iter()
                            .filter(|q| self.housekeeping || !q.is_housekeeping())
                            .map(|q| Self::queue_row(i, q, &vs, trends.get(&q.key()), ctx))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            })
            .unwrap_or_default();
        Table {
            columns: vec![
                Column::left("!", 2),
                Column::left("QUEUE", 10).max(48).key(),
                Column::left("KIND", 6).max(12).priority(3),
                Column::left("INSTANCE", 8).max(24).priority(2),
                Column::left("VHOST", 5).max(16).priority(2),
                Column::right("READY", 7).priority(9),
                Column::right("UNACKED", 7).priority(7),
                Column::right("CONSUMERS", 9).priority(8),
                Column::right("PUB/s", 6).priority(5),
                Column::right("DELIV/s", 7).priority(5),
                Column::right("NET/s", 6).priority(6),
                Column::right("DRAIN", 7).priority(6),
                Column::left("IDLE SINCE", 10).max(20).priority(1),
                Column::left("VERDICT", 20).max(160).grow().priority(8),
            ],
            rows,
            default_sort: Some((0, true)),
            empty: "no queues answered yet (a user tagged monitoring lists a vhost's queues only with \
                    permissions on it)"
                .into(),
        }
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        let cfg = ctx.config.of::<Rabbitmq>();
        let mut lines = Vec::new();
        let mut hidden = 0;
        for inst in &s.instances {
            hidden += inst.queues().iter().filter(|q| q.is_housekeeping()).count();
            let line = match inst.snapshot.as_ref().and_then(|s| s.overview.as_ref().ok()) {
                Some(o) => format!(
                    "{}: RabbitMQ {} · {} queues · {} ready, {} unacked · {} consumers, {} connections",
                    inst.name,
                    o.rabbitmq_version,
                    o.object_totals.queues,
                    o.queue_totals.messages_ready,
                    o.queue_totals.messages_unacknowledged,
                    o.object_totals.consumers,
                    o.object_totals.connections
                ),
                None => format!("{}: no overview yet", inst.name),
            };
            lines.push((line, Tone::Normal));
        }
        let housekeeping = if self.housekeeping {
            "h: hide housekeeping".to_string()
        } else {
            format!("h: show {hidden} housekeeping queue(s)")
        };
        let keys = if self.nodes {
            "t: show queues".to_string()
        } else {
            format!("t: show nodes · {housekeeping} · P: purge")
        };
        lines.push((keys, Tone::Muted));
        for a in alerts(s, cfg)
            .iter()
            .filter(|a| a.severity == Severity::Critical)
            .take(2)
        {
            lines.push((format!("✖ {}: {}", a.subject, a.message), Tone::Crit));
        }
        lines
    }

    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        if self.nodes {
            return None;
        }
        let (_, q) = find_queue(state(ctx)?, row)?;
        Some(Box::new(QueueView {
            key: row.to_string(),
            name: q.name.clone(),
        }))
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let (Some(s), Some(row), false) = (state(ctx), row, self.nodes) else {
            return Vec::new();
        };
        find_queue(s, row)
            .map(|(i, q)| vec![purge_offer(i, q, ctx.config.of::<Rabbitmq>())])
            .unwrap_or_default()
    }

    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        if self.nodes {
            return match find_node(s, row) {
                Some((i, n)) => vec![
                    ("name".into(), n.name.clone()),
                    ("node".into(), n.name.clone()),
                    ("instance".into(), i.name.clone()),
                ],
                None => Vec::new(),
            };
        }
        match find_queue(s, row) {
            Some((i, q)) => vec![
                ("name".into(), q.name.clone()),
                ("queue".into(), q.name.clone()),
                ("vhost".into(), q.vhost.clone()),
                ("instance".into(), i.name.clone()),
            ],
            None => Vec::new(),
        }
    }

    fn handles(&self, name: &str, _ctx: &ViewCtx, _row: Option<&str>) -> bool {
        // Housekeeping queues are queues: the toggle acts only where queues are listed.
        name == "toggle_nodes" || (name == "toggle_housekeeping" && !self.nodes)
    }

    fn show(&mut self, name: &str) -> bool {
        match name {
            "queues" | "nodes" => {
                self.nodes = name == "nodes";
                true
            }
            _ => false,
        }
    }

    fn handle(
        &mut self,
        action: &str,
        _ctx: &ViewCtx,
        _row: Option<&str>,
    ) -> Option<Vec<opsdeck_core::effect::Effect>> {
        match action {
            "toggle_nodes" => self.nodes = !self.nodes,
            "toggle_housekeeping" if !self.nodes => self.housekeeping = !self.housekeeping,
            _ => return None,
        }
        Some(Vec::new())
    }
}

/// One queue: its declaration and recent ready counts above, its facts below.
struct QueueView {
    key: String,
    name: String,
}

impl View for QueueView {
    fn crumb(&self) -> String {
        self.name.clone()
    }
    fn scope(&self) -> &'static str {
        "rabbitmq"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Rabbitmq::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some((inst, q)) = state(ctx).and_then(|s| find_queue(s, &self.key)) else {
            return vec![("this queue is no longer listed".into(), Tone::Warn)];
        };
        let history = inst.history.get(&q.key());
        let t = history.map(|h| trend(h.iter()));
        let per_s = |r: Option<f64>| r.map_or("–".into(), |r| format!("{r:+.1}/s"));
        let mut lines = vec![(
            format!(
                "{} on {} (vhost {}) · {} ready, {} unacked, {} consumers · net {} now, {} over 10 min · drain {}",
                q.name,
                inst.name,
                q.vhost,
                q.messages_ready,
                q.messages_unacknowledged,
                q.consumers,
                per_s(t.and_then(|t| t.net_rate)),
                per_s(t.and_then(|t| t.trend_rate)),
                t.map_or("–".into(), |t| t.drain.text())
            ),
            Tone::Normal,
        )];
        if let Some(h) = history {
            lines.push((format!("{} ({} samples)", sparkline(h, 60), h.len()), Tone::Normal));
        }
        let key = q.key();
        for v in verdicts(inst, ctx.config.of::<Rabbitmq>())
            .iter()
            .filter(|v| matches!(&v.target, Target::Queue(k) if *k == key))
        {
            let mark = if v.severity == Severity::Critical { "✖" } else { "▲" };
            lines.push((format!("{mark} {}", v.message), Tone::from(v.severity)));
        }
        lines
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = state(ctx)
            .and_then(|s| find_queue(s, &self.key))
            .map(|(_, q)| {
                let mut facts = vec![
                    ("type", q.kind.clone().unwrap_or_else(|| "classic".into())),
                    ("durable", q.durable.to_string()),
                    ("auto_delete", q.auto_delete.to_string()),
                    ("state", q.state.clone().unwrap_or_else(|| "–".into())),
                    ("node", q.node.clone().unwrap_or_else(|| "–".into())),
                    ("idle since", q.idle_since.clone().unwrap_or_else(|| "busy".into())),
                    (
                        "published",
                        q.message_stats
                            .as_ref()
                            .and_then(|s| s.publish)
                            .map_or("–".into(), |n| n.to_string()),
                    ),
                ];
                facts.extend(q.arguments.iter().map(|(k, v)| ("argument", format!("{k} = {v}"))));
                facts
                    .into_iter()
                    .enumerate()
                    .map(|(i, (what, value))| Row {
                        key: format!("{i}"),
                        cells: vec![Cell::text(what), Cell::text(value)],
                    })
                    .collect()
            })
            .unwrap_or_default();
        Table {
            columns: vec![
                Column::left("FACT", 11).key(),
                Column::left("VALUE", 20).max(120).grow().priority(9),
            ],
            rows,
            default_sort: None,
            empty: "this queue is no longer listed".into(),
        }
    }

    fn actions(&self, ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        state(ctx)
            .and_then(|s| find_queue(s, &self.key))
            .map(|(i, q)| vec![purge_offer(i, q, ctx.config.of::<Rabbitmq>())])
            .unwrap_or_default()
    }
}
