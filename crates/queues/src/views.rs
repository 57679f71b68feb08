//! The queues pane: SQS backlogs sorted by what needs attention, and (toggle) DynamoDB tables with
//! capacity and throttling; `Enter` on a table shows it with its indexes.

use crate::Queues;
use crate::actions::{doubled, parse_capacity, purge_plan, raise_capacity_plan, redrive_plan};
use crate::analysis::{attention, capacity_verdict, queue_verdict, sparkline, table_verdict, trend};
use crate::model::{Capacity, QueueInfo, QueueState, QueuesState, TableInfo};
use opsdeck_core::action::ActionPlan;
use opsdeck_core::alert::Severity;
use opsdeck_core::backlog::{drain_cell, rate_cell};
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::time::short_duration;
use opsdeck_core::view::{
    ActionOffer, Cell, Column, InputRequest, Modes, PaneAction, Row, RowKind, Table, Tone, View, ViewCtx,
};
use std::time::Duration;

/// Keymap actions this pane understands (bound in the keymap's `[queues]` mode).
pub const ACTIONS: &[PaneAction] = &[
    PaneAction {
        name: "toggle_tables",
        help: "switch between SQS queues and DynamoDB tables",
    },
    PaneAction {
        name: "purge_queue",
        help: "purge the selected queue (typed confirmation; messages are lost)",
    },
    PaneAction {
        name: "redrive_dlq",
        help: "move the selected dead-letter queue's messages back to their source",
    },
    PaneAction {
        name: "raise_capacity",
        help: "raise the selected table's or index's provisioned RCU/WCU (asks for the new units)",
    },
];

/// Sparkline width in samples.
const SPARK: usize = 16;

pub fn root() -> Box<dyn View> {
    Box::new(QueuesView {
        modes: Modes::new("toggle_tables", "queues", "tables"),
    })
}

fn offer(name: &'static str, plan: Result<ActionPlan, String>) -> ActionOffer {
    ActionOffer::new(name, plan)
}

/// What a queue action acts on: the queue behind the URL (a queue deleted and created again under
/// the same name has another creation time) and, for a dead-letter queue, where its messages go.
fn queue_identity(q: &QueueInfo) -> String {
    let created = q.created.map(|c| c.to_string()).unwrap_or_else(|| "unknown".into());
    let mut facts = vec![
        format!("queue {}", q.url),
        format!("arn {}", q.arn),
        format!("created {created}"),
    ];
    facts.extend(q.dlq_of.iter().map(|s| format!("dead letters of {s}")));
    facts.join("; ")
}

/// Purge and redrive on a queue, bound to it.
fn queue_offers(s: &QueuesState, q: &QueueInfo, ctx: &ViewCtx) -> Vec<ActionOffer> {
    let bind = |plan: Result<ActionPlan, String>| plan.map(|p| p.bound_to(queue_identity(q)));
    vec![
        offer("purge_queue", bind(purge_plan(q))),
        offer(
            "redrive_dlq",
            bind(redrive_plan(s, q, ctx.config.of::<Queues>().redrive_rate)),
        ),
    ]
}

/// What raising capacity acts on: the table (or index) and the capacity it has now; units changed
/// by someone else meanwhile make the planned change another change.
fn capacity_identity(t: &TableInfo, gsi: Option<&str>) -> String {
    let cap = match gsi {
        None => Some(&t.capacity),
        Some(g) => t.gsis.iter().find(|i| i.name == g).map(|i| &i.capacity),
    };
    let units = |u: Option<u64>| u.map(|u| u.to_string()).unwrap_or_else(|| "on-demand".into());
    format!(
        "table {}{}; provisioned {}/{}",
        t.name,
        gsi.map(|g| format!(" index {g}")).unwrap_or_default(),
        units(cap.and_then(|c| c.rcu)),
        units(cap.and_then(|c| c.wcu))
    )
}

fn state<'a>(ctx: &'a ViewCtx) -> Option<&'a QueuesState> {
    ctx.fleet.of::<Queues>().data.as_ref()
}

fn count(n: u64) -> Cell {
    Cell::num(n.to_string(), n as f64)
}

fn units(consumed: Option<f64>, provisioned: Option<u64>) -> Cell {
    let used = consumed.map(|c| format!("{c:.1}")).unwrap_or_else(|| "–".into());
    match provisioned {
        Some(p) => {
            let ratio = consumed.unwrap_or(0.0) / (p.max(1) as f64);
            let tone = if ratio >= 1.0 {
                Tone::Crit
            } else if ratio >= 0.8 {
                Tone::Warn
            } else {
                Tone::Normal
            };
            Cell::num(format!("{used}/{p}"), ratio).tone(tone)
        }
        None => Cell::num(format!("{used}/on-demand"), consumed.unwrap_or(0.0)),
    }
}

fn throttled_cell(c: &Capacity, ctx: &ViewCtx) -> Cell {
    match c.throttled() {
        None => Cell::num("–", -1.0).tone(Tone::Muted),
        Some(t) => {
            let tone = capacity_verdict(c, ctx.config.of::<Queues>())
                .map(|(s, _)| Tone::from(s))
                .unwrap_or(Tone::Normal);
            Cell::num(format!("{t:.0}/min"), t).tone(tone)
        }
    }
}

/// Pane root: queues, or tables after `toggle_tables`.
pub struct QueuesView {
    /// SQS queues, or (`t`) DynamoDB tables.
    modes: Modes,
}

impl QueuesView {
    fn queue_row(q: &QueueState, ctx: &ViewCtx) -> Row {
        let cfg = ctx.config.of::<Queues>();
        let (sev, why) = queue_verdict(q, cfg);
        let i = &q.info;
        if let Some(e) = &i.error {
            return Row {
                key: i.url.clone(),
                cells: vec![
                    Cell::severity(Severity::Warning, attention(q, cfg)),
                    Cell::text(&i.name),
                    Cell::text(format!("error: {e}")).tone(Tone::Warn),
                    Cell::num("", 0.0),
                    Cell::num("", 0.0),
                    Cell::num("", 0.0),
                    Cell::text(""),
                    Cell::text(""),
                    Cell::num("", 0.0),
                    Cell::text(""),
                ],
            };
        }
        let age = match i.oldest_age_secs {
            Some(a) => {
                let pct = if i.retention_secs > 0 {
                    format!(" {:.0}%", a / i.retention_secs as f64 * 100.0)
                } else {
                    String::new()
                };
                let tone = if why.iter().any(|w| w.contains("retention")) {
                    Tone::from(sev)
                } else {
                    Tone::Normal
                };
                Cell::num(format!("{}{pct}", short_duration(Duration::from_secs_f64(a))), a).tone(tone)
            }
            None => Cell::num("–", -1.0).tone(Tone::Muted),
        };
        let dlq = match (&i.dlq, i.dlq_of.is_empty()) {
            (Some(d), _) => {
                let depth = d.depth.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
                let tone = if d.depth.unwrap_or(0) > 0 {
                    Tone::Warn
                } else {
                    Tone::Normal
                };
                Cell::text(format!("{} ({depth})", d.name)).tone(tone)
            }
            (None, false) => Cell::text(format!("DLQ of {}", i.dlq_of.join(","))).tone(Tone::Muted),
            (None, true) => Cell::text("–").tone(Tone::Muted),
        };
        let t = trend(q.history.iter());
        Row {
            key: i.url.clone(),
            cells: vec![
                Cell::severity(sev, attention(q, cfg)),
                Cell::text(&i.name),
                count(i.visible),
                count(i.in_flight),
                count(i.delayed),
                age,
                dlq,
                Cell::text(sparkline(&q.history, SPARK)),
                rate_cell(&t),
                drain_cell(&t),
            ],
        }
    }

    fn table_row(t: &TableInfo, ctx: &ViewCtx) -> Row {
        let cfg = ctx.config.of::<Queues>();
        let (sev, _) = table_verdict(t, cfg);
        let score = match sev {
            Severity::Critical => 2e6,
            Severity::Warning => 1e6,
            Severity::Ok => 0.0,
        } + t.capacity.throttled().unwrap_or(0.0);
        if let Some(e) = &t.error {
            return Row {
                key: t.name.clone(),
                cells: vec![
                    Cell::severity(sev, score),
                    Cell::text(&t.name),
                    Cell::text(format!("error: {e}")).tone(Tone::Warn),
                    Cell::text(""),
                    Cell::num("", 0.0),
                    Cell::num("", 0.0),
                    Cell::num("", 0.0),
                    Cell::text(""),
                ],
            };
        }
        let gsis = if t.gsis.is_empty() {
            Cell::text("–").tone(Tone::Muted)
        } else {
            let worst = t
                .gsis
                .iter()
                .filter_map(|g| capacity_verdict(&g.capacity, cfg).map(|(s, _)| s))
                .max()
                .unwrap_or(Severity::Ok);
            let not_active = t.gsis.iter().filter(|g| g.status != "ACTIVE").count();
            let text = if not_active > 0 {
                format!("{} ({not_active} not active)", t.gsis.len())
            } else {
                t.gsis.len().to_string()
            };
            Cell::text(text).tone(if not_active > 0 { Tone::Warn } else { Tone::from(worst) })
        };
        let status_tone = if t.status == "ACTIVE" { Tone::Ok } else { Tone::Warn };
        Row {
            key: t.name.clone(),
            cells: vec![
                Cell::severity(sev, score),
                Cell::text(&t.name),
                Cell::text(&t.status).tone(status_tone),
                Cell::text(if t.on_demand() { "on-demand" } else { "provisioned" }),
                units(t.capacity.consumed_rcu, t.capacity.rcu),
                units(t.capacity.consumed_wcu, t.capacity.wcu),
                throttled_cell(&t.capacity, ctx),
                gsis,
            ],
        }
    }
}

impl View for QueuesView {
    fn crumb(&self) -> String {
        self.modes.name().into()
    }
    fn scope(&self) -> &'static str {
        if self.modes.second() { "queues.table" } else { "queues" }
    }
    fn source(&self) -> Option<PaneId> {
        Some(Queues::ID)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let s = state(ctx);
        if self.modes.second() {
            return Table {
                columns: vec![
                    Column::left("!", 2),
                    Column::left("TABLE", 12).max(40).key(),
                    Column::left("STATUS", 9).priority(7),
                    Column::left("BILLING", 11).priority(3),
                    Column::right("READ used/prov", 14).max(16).priority(8),
                    Column::right("WRITE used/prov", 14).max(16).priority(8),
                    Column::right("THROTTLED", 10).priority(9),
                    Column::left("GSIS", 6).max(20).priority(5),
                ],
                rows: s
                    .map(|s| s.tables.iter().map(|t| Self::table_row(t, ctx)).collect())
                    .unwrap_or_default(),
                default_sort: Some((0, true)),
                empty: "no DynamoDB tables configured ([aws] tables / table_prefixes)".into(),
            };
        }
        Table {
            columns: vec![
                Column::left("!", 2),
                Column::left("QUEUE", 12).max(40).key(),
                Column::right("VISIBLE", 8).priority(9),
                Column::right("IN FLIGHT", 9).priority(6),
                Column::right("DELAYED", 7).priority(2),
                Column::right("OLDEST", 9).max(12).priority(8),
                Column::left("DLQ (depth)", 11).max(30).priority(4),
                Column::left("TREND", SPARK as u16).priority(5),
                Column::right("NET/s", 7).priority(8),
                Column::right("DRAIN", 8).max(12).priority(9),
            ],
            rows: s
                .map(|s| s.queues.iter().map(|q| Self::queue_row(q, ctx)).collect())
                .unwrap_or_default(),
            default_sort: Some((0, true)),
            empty: "no SQS queues configured ([aws] queues / queue_prefixes)".into(),
        }
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        let cfg = ctx.config.of::<Queues>();
        let mut lines = Vec::new();
        let waiting: u64 = s.queues.iter().map(|q| q.info.backlog()).sum();
        let growing = s
            .queues
            .iter()
            .filter(|q| matches!(trend(q.history.iter()).drain, crate::analysis::Drain::Growing))
            .count();
        let throttled = s
            .tables
            .iter()
            .filter(|t| table_verdict(t, cfg).0 > Severity::Ok)
            .count();
        lines.push((
            format!(
                "{} queues, {waiting} messages, {growing} growing · {} tables, {throttled} need attention · {}",
                s.queues.len(),
                s.tables.len(),
                if self.modes.second() {
                    "t: show queues"
                } else {
                    "t: show tables"
                }
            ),
            Tone::Normal,
        ));
        let worst = crate::analysis::alerts(s, ctx.config);
        for a in worst.iter().filter(|a| a.severity == Severity::Critical).take(2) {
            lines.push((format!("✖ {}: {}", a.subject, a.message), Tone::Crit));
        }
        for w in &s.warnings {
            lines.push((format!("▲ {w}"), Tone::Warn));
        }
        lines
    }

    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        if self.modes.second() {
            state(ctx)?.table(row)?;
            return Some(Box::new(TableView { table: row.to_string() }));
        }
        state(ctx)?.queues.iter().find(|q| q.info.url == row)?;
        Some(Box::new(QueueView { url: row.to_string() }))
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        let Some(row) = row else {
            return Vec::new();
        };
        if self.modes.second() {
            let Some(t) = s.table(row) else {
                return Vec::new();
            };
            return vec![raise_offer(t, None)];
        }
        let Some(q) = s.queues.iter().find(|q| q.info.url == row) else {
            return Vec::new();
        };
        queue_offers(s, &q.info, ctx)
    }

    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        if self.modes.second() {
            return vec![("table".into(), row.to_string()), ("name".into(), row.to_string())];
        }
        match s.queues.iter().find(|q| q.info.url == row) {
            Some(q) => vec![
                ("name".into(), q.info.name.clone()),
                ("queue".into(), q.info.name.clone()),
                ("url".into(), q.info.url.clone()),
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

/// The raise action on a table (gsi `None`) or one of its indexes: asks for the new units,
/// pre-filled with double the current ones; refused outright when the plan cannot exist.
fn raise_offer(t: &TableInfo, gsi: Option<&str>) -> ActionOffer {
    let cap = match gsi {
        None => Some(&t.capacity),
        Some(g) => t.gsis.iter().find(|i| i.name == g).map(|i| &i.capacity),
    };
    let identity = capacity_identity(t, gsi);
    let Some((r, w)) = cap.and_then(|c| c.rcu.zip(c.wcu)) else {
        return offer("raise_capacity", raise_capacity_plan(t, gsi, 1, 1));
    };
    let (r2, w2) = doubled(r, w);
    let preset = raise_capacity_plan(t, gsi, r2, w2).map(|p| p.bound_to(identity.clone()));
    let what = gsi.map(|g| format!("{}/{g}", t.name)).unwrap_or_else(|| t.name.clone());
    let (table, index) = (t.clone(), gsi.map(str::to_string));
    ActionOffer {
        input: preset.is_ok().then(|| InputRequest {
            title: format!("Raise capacity of {what}"),
            prompt: format!("new read/write capacity units (now {r}/{w}), or a factor like x2"),
            initial: format!("{r2}/{w2}"),
            build: std::sync::Arc::new(move |text: &str| {
                let (nr, nw) = parse_capacity(text, r, w)?;
                raise_capacity_plan(&table, index.as_deref(), nr, nw).map(|p| p.bound_to(identity.clone()))
            }),
        }),
        ..offer("raise_capacity", preset)
    }
}

/// One table and its global secondary indexes.
pub struct TableView {
    table: String,
}

impl View for TableView {
    fn crumb(&self) -> String {
        self.table.clone()
    }
    fn scope(&self) -> &'static str {
        "queues.index"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Queues::ID)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let mut rows = Vec::new();
        if let Some(t) = state(ctx).and_then(|s| s.table(&self.table)) {
            let row = |key: String, name: String, status: &str, c: &Capacity| Row {
                key,
                cells: vec![
                    Cell::text(name),
                    Cell::text(status).tone(if status == "ACTIVE" { Tone::Ok } else { Tone::Warn }),
                    units(c.consumed_rcu, c.rcu),
                    units(c.consumed_wcu, c.wcu),
                    Cell::num(
                        c.read_throttled
                            .map(|v| format!("{v:.0}"))
                            .unwrap_or_else(|| "–".into()),
                        c.read_throttled.unwrap_or(0.0),
                    ),
                    throttled_cell(c, ctx),
                ],
            };
            rows.push(row(
                String::new(),
                format!("{} (table)", t.name),
                &t.status,
                &t.capacity,
            ));
            for g in &t.gsis {
                rows.push(row(g.name.clone(), format!("index {}", g.name), &g.status, &g.capacity));
            }
        }
        Table {
            columns: vec![
                Column::left("TABLE / INDEX", 16).max(40),
                Column::left("STATUS", 9).priority(7),
                Column::right("READ used/prov", 14).max(16).priority(8),
                Column::right("WRITE used/prov", 14).max(16).priority(8),
                Column::right("READ THR", 9).priority(4),
                Column::right("THROTTLED", 10).priority(9),
            ],
            rows,
            default_sort: None,
            empty: format!("table {} is not in the last poll", self.table),
        }
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(t) = state(ctx).and_then(|s| s.table(&self.table)) else {
            return Vec::new();
        };
        let (sev, why) = table_verdict(t, ctx.config.of::<Queues>());
        let mut lines = vec![(
            format!(
                "{} · {} · {} items · {}",
                t.name,
                if t.on_demand() {
                    "on-demand (PAY_PER_REQUEST)"
                } else {
                    "provisioned"
                },
                t.item_count.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
                t.decreases_today
                    .map(|d| format!("{d} capacity decreases used today"))
                    .unwrap_or_default()
            ),
            Tone::Normal,
        )];
        for w in why {
            lines.push((w, Tone::from(sev)));
        }
        lines
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let Some(t) = state(ctx).and_then(|s| s.table(&self.table)) else {
            return Vec::new();
        };
        let gsi = row.filter(|r| !r.is_empty());
        vec![raise_offer(t, gsi)]
    }

    fn row_vars(&self, _ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        vec![("table".into(), self.table.clone()), ("index".into(), row.to_string())]
    }
}

/// One queue in detail: why it needs attention, its numbers, its dead-letter queue, its trend.
pub struct QueueView {
    url: String,
}

impl QueueView {
    fn queue<'a>(&self, ctx: &'a ViewCtx) -> Option<&'a QueueState> {
        state(ctx)?.queues.iter().find(|q| q.info.url == self.url)
    }
}

impl View for QueueView {
    fn crumb(&self) -> String {
        self.url.rsplit('/').next().unwrap_or(&self.url).to_string()
    }
    fn scope(&self) -> &'static str {
        "queues.queue"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Queues::ID)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let mut rows = Vec::new();
        if let Some(q) = self.queue(ctx) {
            let i = &q.info;
            let t = trend(q.history.iter());
            let mut kv = |k: &str, v: String, tone: Tone| {
                rows.push(Row {
                    key: format!("{:02}", rows.len()),
                    cells: vec![Cell::text(k), Cell::text(v).tone(tone)],
                })
            };
            let (sev, why) = queue_verdict(q, ctx.config.of::<Queues>());
            for w in &why {
                kv("attention", w.clone(), Tone::from(sev));
            }
            kv("url", i.url.clone(), Tone::Normal);
            kv("visible", i.visible.to_string(), Tone::Normal);
            kv("in flight", i.in_flight.to_string(), Tone::Normal);
            kv("delayed", i.delayed.to_string(), Tone::Normal);
            let retention = short_duration(Duration::from_secs(i.retention_secs));
            let age = i
                .oldest_age_secs
                .map(|a| {
                    format!(
                        "{} (SQS deletes at {retention})",
                        short_duration(Duration::from_secs_f64(a))
                    )
                })
                .unwrap_or_else(|| format!("no CloudWatch datapoint (retention {retention})"));
            kv("oldest message", age, Tone::Normal);
            if let Some(d) = &i.dlq {
                let depth = d.depth.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
                kv(
                    "dead-letter queue",
                    format!("{} after {} receives, {depth} waiting", d.name, d.max_receive_count),
                    Tone::Normal,
                );
            }
            if !i.dlq_of.is_empty() {
                kv("dead letters of", i.dlq_of.join(", "), Tone::Normal);
            }
            let per_s = |r: Option<f64>| r.map(|r| format!("{r:+.2} messages/s")).unwrap_or_else(|| "–".into());
            kv("net rate (last 30 s)", per_s(t.net_rate), Tone::Normal);
            kv("trend (10 minutes)", per_s(t.trend_rate), Tone::Normal);
            if let (Some(sent), Some(deleted)) = (i.sent_per_s, i.deleted_per_s) {
                kv(
                    "in / out (CloudWatch)",
                    format!("{sent:.1} sent/s, {deleted:.1} deleted/s"),
                    Tone::Normal,
                );
            }
            kv("time to drain", t.drain.text(), Tone::Normal);
            kv(
                "backlog",
                format!("{} ({} samples)", sparkline(&q.history, 60), q.history.len()),
                Tone::Normal,
            );
        }
        Table {
            columns: vec![Column::left("", 14).max(22), Column::left("", 30).max(200).grow()],
            rows,
            default_sort: None,
            empty: "this queue is not in the last poll".into(),
        }
    }

    fn actions(&self, ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        let (Some(s), Some(q)) = (state(ctx), self.queue(ctx)) else {
            return Vec::new();
        };
        queue_offers(s, &q.info, ctx)
    }
}

/// The row kinds of its views a custom action can be scoped to, and the `{{vars}}` they fill.
pub const ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "queues",
        vars: &[
            ("name", ("queue name", "SQS")),
            ("queue", ("queue name", "SQS")),
            ("url", ("queue URL", "SQS")),
        ],
    },
    RowKind {
        scope: "queues.table",
        vars: &[
            ("table", ("table name", "DynamoDB")),
            ("name", ("table name", "DynamoDB")),
        ],
    },
    RowKind {
        scope: "queues.index",
        vars: &[
            ("table", ("table name", "DynamoDB")),
            ("index", ("index name", "DynamoDB")),
        ],
    },
    RowKind {
        scope: "queues.queue",
        vars: &[],
    },
];
