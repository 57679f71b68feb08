//! The pillows pane: one row per pillow → its partitions → one partition's history and verdict.

use crate::Pillows;
use crate::actions::{plan_move_checkpoint, plan_restart};
pub use crate::analysis::count;
use crate::config::PillowConfig;
use crate::config::{pillow_logs, pillow_process_log};
use crate::model::{Partition, PartitionStatus, Pillow, PillowsState, Recovery};
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::time::short_duration;
use opsdeck_core::view::{ActionOffer, Cell, Column, HOST, PaneAction, Row, RowKind, Table, Tone, View, ViewCtx};
use opsdeck_core::widgets::text::sparkline;
use opsdeck_hosts::Hosts;
use opsdeck_hosts::model::Program;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph, Wrap};
use std::time::{Duration, SystemTime};

/// Keymap actions this pane understands (bound in the keymap's `[pillows]` mode).
pub const ACTIONS: &[PaneAction] = &[
    PaneAction {
        name: "restart_process",
        help: "restart the supervisor process owning the selected partition",
    },
    PaneAction {
        name: "restart_pillow",
        help: "restart every process of the selected pillow",
    },
    PaneAction {
        name: "move_checkpoint",
        help: "move a stopped pillow's checkpoint to the log end (skips changes)",
    },
];

pub fn root() -> Box<dyn View> {
    Box::new(PillowsView)
}

fn state<'a>(ctx: &'a ViewCtx) -> Option<&'a PillowsState> {
    ctx.fleet.of::<Pillows>().data.as_deref()
}

fn pillow<'a>(ctx: &'a ViewCtx, name: &str) -> Option<&'a Pillow> {
    state(ctx)?.pillow(name)
}

fn pillow_config<'a>(ctx: &'a ViewCtx, name: &str) -> Option<&'a PillowConfig> {
    ctx.config.of::<Pillows>().pillows.iter().find(|p| p.name == name)
}

fn opt_count(n: Option<i64>) -> Cell {
    match n {
        Some(n) => Cell::num(count(n), n as f64),
        None => Cell::num("—", -1.0).tone(Tone::Muted),
    }
}

fn rate(r: Option<f64>) -> Cell {
    match r {
        Some(r) => Cell::num(format!("{r:.1}/s"), r),
        None => Cell::num("—", -1.0).tone(Tone::Muted),
    }
}

fn secs(s: Option<f64>) -> Cell {
    match s {
        Some(s) => Cell::num(short_duration(Duration::from_secs_f64(s.max(0.0))), s),
        None => Cell::num("—", -1.0).tone(Tone::Muted),
    }
}

fn status_tone(s: PartitionStatus) -> Tone {
    match s {
        PartitionStatus::Unknown => Tone::Muted,
        other => other.severity().into(),
    }
}

/// Status with a symbol, so it reads without colour.
fn status_cell(s: PartitionStatus) -> Cell {
    let symbol = match s.severity() {
        opsdeck_core::alert::Severity::Ok => "✓",
        opsdeck_core::alert::Severity::Warning => "!",
        opsdeck_core::alert::Severity::Critical => "✗",
    };
    let text = if s == PartitionStatus::Unknown {
        "? unknown".to_string()
    } else {
        format!("{symbol} {}", s.label())
    };
    Cell {
        sort: opsdeck_core::view::SortKey::Number(s as u8 as f64),
        ..Cell::text(text)
    }
    .tone(status_tone(s))
}

/// Processes RUNNING out of configured, from supervisor programs as the hosts capability reports
/// them: `lookup(host, program)` says whether that program is RUNNING, `None` when it is not known.
/// Any unknown program makes the whole count unknown (a partial count would read as "some down").
pub fn count_running(pillow: &Pillow, lookup: impl Fn(&str, &str) -> Option<bool>) -> Option<(usize, usize)> {
    if pillow.processes.is_empty() {
        return None;
    }
    let mut up = 0;
    for p in &pillow.processes {
        if lookup(&p.host, &p.program)? {
            up += 1;
        }
    }
    Some((up, pillow.processes.len()))
}

/// A supervisor program as the hosts source reports it on `host` (plain or `group:name`); the outer
/// `None` when the host reported no programs (not polled, down), the inner when it has no such one.
fn supervisor_program<'a>(ctx: &'a ViewCtx, host: &str, program: &str) -> Option<Option<&'a Program>> {
    let status = ctx.fleet.of::<Hosts>().data.as_ref()?.host(host)?;
    if status.programs.is_empty() {
        return None;
    }
    Some(
        status
            .programs
            .iter()
            .find(|p| p.name == program || p.name.rsplit(':').next() == Some(program)),
    )
}

/// From the hosts source's supervisor status: a program is known once its host reported programs;
/// a host that is not polled, or down, leaves the count unknown.
fn running(ctx: &ViewCtx, pillow: &Pillow) -> Option<(usize, usize)> {
    count_running(pillow, |host, program| {
        let found = supervisor_program(ctx, host, program)?;
        Some(found.is_some_and(|p| p.state == opsdeck_hosts::model::ProgramState::Running))
    })
}

fn processes_cell(ctx: &ViewCtx, pillow: &Pillow) -> Cell {
    let n = pillow.processes.len().max(pillow.assignment.processes);
    match running(ctx, pillow) {
        _ if n == 0 => Cell::num("—", -1.0).tone(Tone::Muted),
        Some((up, all)) => {
            Cell::num(format!("{up}/{all}"), up as f64).tone(if up == all { Tone::Ok } else { Tone::Crit })
        }
        None => Cell::num(format!("unknown/{n}"), n as f64).tone(Tone::Muted),
    }
}

fn recovery_cell(r: Recovery) -> Cell {
    match r {
        Recovery::CaughtUp => Cell::num("caught up", 0.0).tone(Tone::Ok),
        Recovery::Eta(s) => Cell::num(format!("~{}", short_duration(Duration::from_secs_f64(s))), s),
        Recovery::NotRecovering => Cell::num("not recovering", f64::MAX).tone(Tone::Crit),
        Recovery::Unknown => Cell::num("—", -1.0).tone(Tone::Muted),
    }
}

/// Error and verdicts of `pillow` (joined with its processes' supervisor state), one line each;
/// `named` prefixes the pillow (top level only).
fn verdict_lines(ctx: &ViewCtx, pillow: &Pillow, max: usize, named: bool) -> Vec<(String, Tone)> {
    let name = if named {
        format!("{}: ", pillow.name)
    } else {
        String::new()
    };
    let mut out = Vec::new();
    if let Some(e) = &pillow.error {
        out.push((format!("✗ {name}{e}"), Tone::Crit));
    }
    let verdicts = crate::analysis::verdicts_with_processes(pillow, ctx.fleet.of::<Hosts>().data.as_ref(), |p| {
        crate::analysis::process_log(ctx.config, &pillow.name, p)
    });
    for v in verdicts.iter().take(max) {
        let mark = match v.severity {
            opsdeck_core::alert::Severity::Ok => "·",
            opsdeck_core::alert::Severity::Warning => "!",
            opsdeck_core::alert::Severity::Critical => "✗",
        };
        out.push((format!("{mark} {name}{}", v.message), v.severity.into()));
    }
    out
}

/// Errors of `pillow` waiting to retry in HQ's database (runbook 001: saved to PillowError and
/// retried by a Celery queue), as the PostgreSQL pane read `pillow_retry_pillowerror`; `None` when
/// no server's pillow errors were read.
fn pillow_errors(ctx: &ViewCtx, pillow: &str) -> Option<i64> {
    use opsdeck_postgres::Postgres;
    let pg = ctx.fleet.get::<Postgres>()?;
    let mut total = None;
    for server in &pg.data.as_ref()?.servers {
        if let Some(Ok(groups)) = &server.poll.pillow_errors {
            let errors: i64 = groups.iter().filter(|g| g.pillow == pillow).map(|g| g.errors).sum();
            *total.get_or_insert(0) += errors;
        }
    }
    total
}

fn pillow_errors_cell(errors: Option<i64>) -> Cell {
    match errors {
        Some(n) if n > 0 => Cell::num(n.to_string(), n as f64).tone(Tone::Warn),
        Some(_) => Cell::num("0", 0.0),
        None => Cell::num("—", -1.0).tone(Tone::Muted),
    }
}

/// Top level: one row per pillow.
pub struct PillowsView;

impl View for PillowsView {
    fn crumb(&self) -> String {
        "pillows".into()
    }
    fn scope(&self) -> &'static str {
        "pillows"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Pillows::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(s) = state(ctx) else { return Vec::new() };
        let mut lines: Vec<(String, Tone)> = s.pillows.iter().flat_map(|p| verdict_lines(ctx, p, 2, true)).collect();
        lines.sort_by_key(|(_, t)| match t {
            Tone::Crit => 0,
            Tone::Warn => 1,
            _ => 2,
        });
        lines.truncate(6);
        lines
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let columns = vec![
            Column::left("PILLOW", 12).max(32),
            Column::left("CHECKPOINT", 8).max(11).priority(2),
            Column::left("STATUS", 9).priority(9),
            Column::right("LAG", 9).priority(9),
            Column::right("LAGGING", 7).priority(6),
            Column::left("WORST", 10).max(18).priority(3),
            Column::right("CONSUME", 8).priority(4),
            Column::right("PRODUCE", 8).priority(3),
            Column::right("RECOVERY", 9).max(14).priority(8),
            Column::right("RUNNING", 7).max(10).priority(8),
            Column::left("LAG TREND", 12).priority(7),
            Column::right("ERRORS", 6).priority(5),
        ];
        let rows = state(ctx)
            .map(|s| {
                s.pillows
                    .iter()
                    .map(|p| {
                        let name = if p.error.is_some() {
                            Cell::text(format!("{} ✗ error", p.name)).tone(Tone::Crit)
                        } else {
                            Cell::text(&p.name)
                        };
                        Row {
                            key: p.name.clone(),
                            cells: vec![
                                name,
                                Cell::text(p.kind.label()),
                                status_cell(p.status),
                                Cell::num(count(p.total_lag), p.total_lag as f64),
                                Cell::num(
                                    format!("{}/{}", p.lagging_partitions, p.partitions.len()),
                                    p.lagging_partitions as f64,
                                )
                                .tone(if p.lagging_partitions > 0 {
                                    Tone::Warn
                                } else {
                                    Tone::Normal
                                }),
                                Cell::text(p.worst_partition.clone().unwrap_or_else(|| "—".into())),
                                rate(p.consume_rate),
                                rate(p.produce_rate),
                                recovery_cell(p.recovery),
                                processes_cell(ctx, p),
                                Cell::text(sparkline(
                                    &p.lag_history.iter().map(|(_, l)| *l as f64).collect::<Vec<_>>(),
                                    12,
                                ))
                                .tone(Tone::Accent),
                                pillow_errors_cell(pillow_errors(ctx, &p.name)),
                            ],
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Table {
            columns,
            rows,
            default_sort: Some((3, true)),
            empty: "no pillows yet (configure [[pillows.pillow]])".into(),
        }
    }

    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        pillow(ctx, row).map(|_| {
            Box::new(PartitionsView {
                pillow: row.to_string(),
            }) as Box<dyn View>
        })
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        row.map(|r| pillow_actions(ctx, r, None)).unwrap_or_default()
    }

    fn logs(&self, ctx: &ViewCtx, row: Option<&str>) -> Result<Vec<LogSource>, String> {
        process_logs(ctx, row.ok_or("select a pillow first")?, None)
    }

    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        pillow(ctx, row)
            .map(|p| {
                vec![
                    ("pillow".into(), p.name.clone()),
                    ("checkpoint".into(), p.checkpoint.clone()),
                ]
            })
            .unwrap_or_default()
    }
}

/// What a restart acts on: each process of the set (all, or process `only`) with its supervisor
/// pid as the hosts source last saw it. Another pid, or another set, is another target.
fn processes_identity(ctx: &ViewCtx, pillow: &Pillow, only: Option<usize>) -> String {
    let mut facts = vec![format!("pillow {}", pillow.name)];
    for p in pillow.processes.iter().filter(|p| only.is_none_or(|n| p.index == n)) {
        let pid = supervisor_program(ctx, &p.host, &p.program)
            .flatten()
            .map(|pr| match pr.pid {
                Some(pid) => format!("pid {pid}"),
                None => pr.state.as_str().to_string(),
            })
            .unwrap_or_else(|| "pid unknown".into());
        facts.push(format!("process {} {}:{} {pid}", p.index, p.host, p.program));
    }
    facts.join("; ")
}

/// What moving the checkpoint acts on: the checkpoint and each partition's committed offset.
fn checkpoint_identity(pillow: &Pillow) -> String {
    let mut facts = vec![format!("checkpoint {}", pillow.checkpoint)];
    facts.extend(pillow.partitions.iter().map(|p| {
        let at = p.committed.map(|c| c.to_string()).unwrap_or_else(|| "none".into());
        format!("{} at {at}", p.key())
    }));
    facts.join("; ")
}

fn pillow_actions(ctx: &ViewCtx, name: &str, partition: Option<&Partition>) -> Vec<ActionOffer> {
    let (Some(p), Some(pc)) = (pillow(ctx, name), pillow_config(ctx, name)) else {
        return Vec::new();
    };
    let cfg = ctx.config.of::<Pillows>();
    let restart = |only: Option<usize>| {
        plan_restart(cfg, ctx.config.of::<Hosts>(), pc, p, only)
            .map(|plan| plan.bound_to(processes_identity(ctx, p, only)))
    };
    let mut offers = vec![
        ActionOffer::new("restart_pillow", restart(None)),
        ActionOffer {
            // The log end in the call moves while the dialog is open; the move is a compare-and-set
            // on the committed offsets, which are the identity.
            call_drifts: true,
            ..ActionOffer::new(
                "move_checkpoint",
                plan_move_checkpoint(cfg, pc, p).map(|plan| plan.bound_to(checkpoint_identity(p))),
            )
        },
    ];
    if let Some(part) = partition {
        offers.insert(
            0,
            ActionOffer::new(
                "restart_process",
                match part.owner {
                    Some(n) => restart(Some(n)),
                    None => Err(format!("{} is not mapped to a process (set processes)", part.key())),
                },
            ),
        );
    }
    offers
}

/// The logs of the process owning `partition`, or of every process of the pillow (no partition, or
/// one not mapped to a process).
fn process_logs(ctx: &ViewCtx, name: &str, partition: Option<&Partition>) -> Result<Vec<LogSource>, String> {
    let pc = pillow_config(ctx, name).ok_or_else(|| format!("{name} is not in the config"))?;
    let owner = partition
        .and_then(|p| p.owner)
        .and_then(|n| pc.process_refs().into_iter().find(|r| r.index == n));
    match owner {
        Some(process) => Ok(vec![pillow_process_log(ctx.config, pc, &process)?]),
        None => pillow_logs(ctx.config, pc),
    }
}

/// A pillow's partitions.
pub struct PartitionsView {
    pub pillow: String,
}

fn split_key(row: &str) -> Option<(&str, i32)> {
    let (t, p) = row.rsplit_once(':')?;
    Some((t, p.parse().ok()?))
}

impl View for PartitionsView {
    fn crumb(&self) -> String {
        self.pillow.clone()
    }
    fn scope(&self) -> &'static str {
        "pillows.partition"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Pillows::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(p) = pillow(ctx, &self.pillow) else {
            return vec![(format!("{} is not in the last poll", self.pillow), Tone::Warn)];
        };
        let mut lines = vec![(
            format!(
                "{} · {} {} · {} partitions · lag {} · processes {}",
                p.name,
                p.kind.label(),
                p.checkpoint,
                p.partitions.len(),
                count(p.total_lag),
                p.assignment.processes
            ),
            Tone::Normal,
        )];
        lines.extend(verdict_lines(ctx, p, 5, false));
        lines
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = pillow(ctx, &self.pillow)
            .map(|p| p.partitions.iter().map(partition_row).collect())
            .unwrap_or_default();
        partitions_table(rows)
    }

    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        let (topic, partition) = split_key(row)?;
        pillow(ctx, &self.pillow)?.partition(topic, partition)?;
        Some(Box::new(PartitionView {
            pillow: self.pillow.clone(),
            topic: topic.to_string(),
            partition,
        }))
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let part = row
            .and_then(split_key)
            .and_then(|(t, n)| pillow(ctx, &self.pillow)?.partition(t, n));
        pillow_actions(ctx, &self.pillow, part)
    }

    fn logs(&self, ctx: &ViewCtx, row: Option<&str>) -> Result<Vec<LogSource>, String> {
        let part = row
            .and_then(split_key)
            .and_then(|(t, n)| pillow(ctx, &self.pillow)?.partition(t, n));
        process_logs(ctx, &self.pillow, part)
    }

    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        partition_vars(ctx, &self.pillow, row)
    }
}

fn partition_vars(ctx: &ViewCtx, name: &str, row: &str) -> Vec<(String, String)> {
    let mut vars = vec![("pillow".to_string(), name.to_string())];
    if let Some((t, n)) = split_key(row) {
        vars.push(("topic".into(), t.to_string()));
        vars.push(("partition".into(), n.to_string()));
        if let Some(proc_) = pillow(ctx, name).and_then(|p| {
            let owner = p.partition(t, n)?.owner?;
            p.processes.iter().find(|pr| pr.index == owner)
        }) {
            vars.push(("program".into(), proc_.program.clone()));
            vars.push(("host".into(), proc_.host.clone()));
        }
    }
    vars
}

/// The partitions table (public for the render benchmark).
pub fn partitions_table(rows: Vec<Row>) -> Table {
    Table {
        columns: vec![
            Column::left("PARTITION", 12).max(32),
            Column::right("COMMITTED", 10).max(12).priority(6),
            Column::right("LOG START", 10).max(12).priority(3),
            Column::right("LOG END", 10).max(12).priority(5),
            Column::right("LAG", 8).max(10).priority(9),
            Column::right("CKPT AGE", 8).priority(4),
            Column::right("PROCESS", 7).priority(6),
            Column::left("STATUS", 9).priority(9),
            Column::right("RATE", 8).max(10).priority(7),
            Column::right("TIME LAG", 8).priority(8),
        ],
        rows,
        default_sort: Some((4, true)),
        empty: "no partitions (the checkpoint has no rows, or Kafka did not answer)".into(),
    }
}

/// One partition's row (public for the render benchmark).
pub fn partition_row(p: &Partition) -> Row {
    Row {
        key: p.key(),
        cells: vec![
            Cell::text(p.key()),
            opt_count(p.committed),
            opt_count(p.log_start),
            opt_count(p.log_end),
            opt_count(p.lag).tone(if p.status >= PartitionStatus::Warn {
                status_tone(p.status)
            } else {
                Tone::Normal
            }),
            secs(p.checkpoint_age_seconds),
            match p.owner {
                Some(o) => Cell::num(o.to_string(), o as f64),
                None => Cell::num("—", -1.0).tone(Tone::Muted),
            },
            status_cell(p.status),
            rate(p.consume_rate),
            secs(p.time_lag_seconds),
        ],
    }
}

/// One partition: its history as a chart, rates, time lag, the verdict.
pub struct PartitionView {
    pub pillow: String,
    pub topic: String,
    pub partition: i32,
}

impl PartitionView {
    fn part<'a>(&self, ctx: &'a ViewCtx) -> Option<(&'a Pillow, &'a Partition)> {
        let p = pillow(ctx, &self.pillow)?;
        Some((p, p.partition(&self.topic, self.partition)?))
    }
}

/// A named line of (seconds before now, value) points and its style.
type Series<'a> = (&'a str, &'a Vec<(f64, f64)>, Style);

fn t_secs(now: SystemTime, at: SystemTime) -> f64 {
    -(now.duration_since(at).map(|d| d.as_secs_f64()).unwrap_or(0.0))
}

impl View for PartitionView {
    fn crumb(&self) -> String {
        format!("{}:{}", self.topic, self.partition)
    }
    fn scope(&self) -> &'static str {
        "pillows.partition"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Pillows::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some((_, p)) = self.part(ctx) else {
            return vec![("this partition is not in the last poll".into(), Tone::Warn)];
        };
        let verdict = if p.verdict.is_empty() {
            "no problem seen".to_string()
        } else {
            p.verdict.clone()
        };
        vec![(
            format!("{} {}", status_cell(p.status).text, verdict),
            status_tone(p.status),
        )]
    }

    fn table(&self, _ctx: &ViewCtx) -> Table {
        Table::default()
    }

    fn render_body(&self, frame: &mut Frame, area: Rect, ctx: &ViewCtx, _selected: Option<&str>) -> bool {
        let Some((pl, p)) = self.part(ctx) else {
            return false;
        };
        let [facts_area, lag_area, offsets_area] =
            Layout::vertical([Constraint::Length(6), Constraint::Percentage(45), Constraint::Min(5)]).areas(area);
        let text = ctx.theme.tone(Tone::Normal);
        let muted = ctx.theme.tone(Tone::Muted);
        let fmt_opt = |v: Option<i64>| v.map(count).unwrap_or_else(|| "—".into());
        let fmt_rate = |v: Option<f64>| v.map(|r| format!("{r:.1}/s")).unwrap_or_else(|| "—".into());
        let fmt_secs = |v: Option<f64>| {
            v.map(|s| short_duration(Duration::from_secs_f64(s.max(0.0))))
                .unwrap_or_else(|| "—".into())
        };
        let owner = p
            .owner
            .and_then(|o| {
                pl.processes
                    .iter()
                    .find(|pr| pr.index == o)
                    .map(|pr| format!("{o} ({} on {})", pr.program, pr.host))
                    .or(Some(o.to_string()))
            })
            .unwrap_or_else(|| "—".into());
        let time_lag_source = if p.doc_modification_time.is_some() {
            "from doc_modification_time"
        } else {
            "interpolated from sampled log ends"
        };
        let facts = vec![
            Line::from(vec![
                Span::styled("committed ", muted),
                Span::styled(fmt_opt(p.committed), text),
                Span::styled("  log start ", muted),
                Span::styled(fmt_opt(p.log_start), text),
                Span::styled("  log end ", muted),
                Span::styled(fmt_opt(p.log_end), text),
                Span::styled("  lag ", muted),
                Span::styled(fmt_opt(p.lag), ctx.theme.tone(status_tone(p.status))),
            ]),
            Line::from(vec![
                Span::styled("consume ", muted),
                Span::styled(fmt_rate(p.consume_rate), text),
                Span::styled("  produce ", muted),
                Span::styled(fmt_rate(p.produce_rate), text),
                Span::styled("  time to recovery ", muted),
                Span::styled(
                    match (p.eta_seconds, p.lag) {
                        (Some(e), _) => format!("~{}", fmt_secs(Some(e))),
                        (None, Some(l)) if l > ctx.config.of::<Pillows>().thresholds.allowed_lag => {
                            "not recovering".into()
                        }
                        _ => "—".into(),
                    },
                    text,
                ),
            ]),
            Line::from(vec![
                Span::styled("time lag ", muted),
                Span::styled(fmt_secs(p.time_lag_seconds), text),
                Span::styled(format!(" ({time_lag_source})"), muted),
                Span::styled("  checkpoint age ", muted),
                Span::styled(fmt_secs(p.checkpoint_age_seconds), text),
            ]),
            Line::from(vec![
                Span::styled("process ", muted),
                Span::styled(owner, text),
                Span::styled(format!("  · {} samples kept", p.sample_count()), muted),
            ]),
            Line::from(Span::styled(
                format!(
                    "{} {}",
                    status_cell(p.status).text,
                    if p.verdict.is_empty() {
                        "no problem seen"
                    } else {
                        &p.verdict
                    }
                ),
                ctx.theme.tone(status_tone(p.status)),
            )),
        ];
        frame.render_widget(Paragraph::new(facts).wrap(Wrap { trim: true }), facts_area);

        let now = ctx.now;
        // Read once: each read of a partition's samples builds them (see `Partition::samples`).
        let samples: Vec<crate::model::Sample> = p.samples().collect();
        let series = |get: &dyn Fn(&crate::model::Sample) -> Option<i64>| -> Vec<(f64, f64)> {
            samples
                .iter()
                .filter_map(|s| Some((t_secs(now, s.at), get(s)? as f64)))
                .collect()
        };
        let lag = series(&|s| s.lag());
        let committed = series(&|s| s.committed);
        let end = series(&|s| s.log_end);
        let start = series(&|s| s.log_start);
        let x_min = samples.first().map(|s| t_secs(now, s.at)).unwrap_or(-60.0).min(-1.0);
        let chart = |title: &str, sets: Vec<Series>, area: Rect, frame: &mut Frame| {
            let (lo, hi) = sets
                .iter()
                .flat_map(|(_, d, _)| d.iter().map(|(_, y)| *y))
                .fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
            let (lo, hi) = if lo > hi { (0.0, 1.0) } else { (lo.min(hi - 1.0), hi) };
            let datasets: Vec<Dataset> = sets
                .iter()
                .map(|(name, data, style)| {
                    Dataset::default()
                        .name(name.to_string())
                        .marker(Marker::Braille)
                        .graph_type(GraphType::Line)
                        .style(*style)
                        .data(data)
                })
                .collect();
            let widget = Chart::new(datasets)
                .block(
                    Block::default()
                        .borders(Borders::TOP)
                        .title(title.to_string())
                        .border_style(ctx.theme.style(opsdeck_core::theme::Slot::Border)),
                )
                .x_axis(
                    Axis::default()
                        .bounds([x_min, 0.0])
                        .labels([
                            short_duration(Duration::from_secs_f64(-x_min)) + " ago",
                            "now".to_string(),
                        ])
                        .style(muted),
                )
                .y_axis(
                    Axis::default()
                        .bounds([lo, hi])
                        .labels([count(lo as i64), count(hi as i64)])
                        .style(muted),
                );
            frame.render_widget(widget, area);
        };
        chart(
            "lag (changes) over the session",
            vec![("lag", &lag, ctx.theme.tone(Tone::Warn))],
            lag_area,
            frame,
        );
        chart(
            "offsets: ─ log end  ─ committed  ─ log start",
            vec![
                ("log end", &end, ctx.theme.tone(Tone::Accent)),
                ("committed", &committed, ctx.theme.tone(Tone::Ok)),
                ("log start", &start, muted),
            ],
            offsets_area,
            frame,
        );
        true
    }

    fn actions(&self, ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        let part = self.part(ctx).map(|(_, p)| p);
        pillow_actions(ctx, &self.pillow, part)
    }

    fn logs(&self, ctx: &ViewCtx, _row: Option<&str>) -> Result<Vec<LogSource>, String> {
        process_logs(ctx, &self.pillow, self.part(ctx).map(|(_, p)| p))
    }

    fn row_vars(&self, ctx: &ViewCtx, _row: &str) -> Vec<(String, String)> {
        partition_vars(ctx, &self.pillow, &format!("{}:{}", self.topic, self.partition))
    }
}

/// The row kinds of its views a custom action can be scoped to, and the `{{vars}}` they fill.
pub const ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "pillows",
        vars: &[
            ("pillow", ("pillow name", "the config")),
            ("checkpoint", ("checkpoint", "the config")),
        ],
    },
    RowKind {
        scope: "pillows.partition",
        vars: &[
            ("pillow", ("pillow name", "the config")),
            ("topic", ("topic name", "Kafka")),
            ("partition", ("partition number", "Kafka")),
            ("program", ("program name", "the config")),
            ("host", HOST),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_count_is_unknown_unless_every_program_is_known() {
        use crate::model::{Assignment, CheckpointKind, PillowReading, ProcessRef};
        let pillow = Pillow::new(&PillowReading {
            name: "case-pillow".into(),
            kind: CheckpointKind::Postgres,
            checkpoint: "c".into(),
            assignment: Assignment {
                processes: 2,
                dedicated_migration_process: false,
            },
            processes: (0..2)
                .map(|n| ProcessRef {
                    index: n,
                    host: "pillow1".into(),
                    program: format!("p-{n}"),
                })
                .collect(),
            result: Ok(Vec::new()),
        });
        assert_eq!(count_running(&pillow, |_, p| Some(p == "p-0")), Some((1, 2)));

        // Wired to the hosts source: group-prefixed supervisor names count, a host without programs is unknown.
        use opsdeck_hosts::model::{HostStatus, HostsState, Program, ProgramState};
        let program = |name: &str, state| Program {
            name: name.into(),
            state,
            pid: None,
            uptime_secs: None,
            description: String::new(),
        };
        let mut hosts = opsdeck_core::feed::Feed::<HostsState>::default();
        hosts.data = Some(HostsState {
            hosts: vec![HostStatus {
                name: "pillow1".into(),
                programs: vec![
                    program("pillows:p-0", ProgramState::Running),
                    program("p-1", ProgramState::Fatal),
                ],
                ..HostStatus::default()
            }],
        });
        let mut fleet = opsdeck_core::pane::States::default().with::<opsdeck_hosts::Hosts>(hosts);
        let config = opsdeck_core::pane::Sections::default();
        let theme = opsdeck_core::theme::Theme::builtin("default").unwrap();
        fn ctx<'a>(
            fleet: &'a opsdeck_core::pane::States,
            config: &'a opsdeck_core::pane::Sections,
            theme: &'a opsdeck_core::theme::Theme,
        ) -> ViewCtx<'a> {
            ViewCtx {
                fleet,
                config,
                now: std::time::SystemTime::UNIX_EPOCH,
                theme,
                read_only: false,
                revision: None,
            }
        }
        assert_eq!(running(&ctx(&fleet, &config, &theme), &pillow), Some((1, 2)));
        fleet.of_mut::<opsdeck_hosts::Hosts>().data.as_mut().unwrap().hosts[0]
            .programs
            .clear();
        assert_eq!(running(&ctx(&fleet, &config, &theme), &pillow), None);
        assert_eq!(count_running(&pillow, |_, p| (p == "p-0").then_some(true)), None);
    }

    #[test]
    fn counts_read_well() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-12), "-12");
    }
}
