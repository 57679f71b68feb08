//! The elasticsearch pane: a cluster header over one of five views (nodes, shard grid, unassigned,
//! recovery, settings; `next_view` cycles them), with drill-downs to a node's or an index's copies and
//! to the allocation explain of an unassigned copy.
//!
//! The shard grid is a table (rows = indices, columns = a window of nodes that `grid_left`/`grid_right`
//! moves), so the app's filter (`/` index pattern), sort and visible-rows-only drawing apply to it.
//! Cells name copies in text: `3P` primary, `3r` replica, `3P>` relocating away, `>3r` arriving,
//! `3r+` initializing, `3r?` unassigned — legible without colour.

use crate::Elasticsearch;
use crate::actions::{self as act, ProcedureKind};
use crate::config::EsConfig;
use crate::config::{NodeAddress, node_log};
use crate::model::{DiskLevel, EsNode, EsState, HealthStatus, ShardRow, ShardState, human_bytes};
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId};
use opsdeck_core::view::{ActionOffer, Cell, Column, PaneAction, Row, RowKind, SortKey, Table, Tone, View, ViewCtx};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Keymap actions this pane understands (bound in the keymap's `[elasticsearch]` mode).
pub const ACTIONS: &[PaneAction] = &[
    PaneAction {
        name: "next_view",
        help: "next view: nodes → shards → unassigned → recovery → settings",
    },
    PaneAction {
        name: "prev_view",
        help: "previous view",
    },
    PaneAction {
        name: "cycle_state_filter",
        help: "shard grid: show all / unassigned / relocating / initializing copies",
    },
    PaneAction {
        name: "grid_left",
        help: "shard grid: scroll the node columns left",
    },
    PaneAction {
        name: "grid_right",
        help: "shard grid: scroll the node columns right",
    },
    PaneAction {
        name: "allocation_all",
        help: "set cluster.routing.allocation.enable = all",
    },
    PaneAction {
        name: "allocation_primaries",
        help: "set cluster.routing.allocation.enable = primaries",
    },
    PaneAction {
        name: "allocation_new_primaries",
        help: "set cluster.routing.allocation.enable = new_primaries",
    },
    PaneAction {
        name: "allocation_none",
        help: "set cluster.routing.allocation.enable = none",
    },
    PaneAction {
        name: "exclude_spot",
        help: "exclude the spot zone (move its shards away)",
    },
    PaneAction {
        name: "drain_node",
        help: "drain the selected node (exclude its IP)",
    },
    PaneAction {
        name: "clear_exclusions",
        help: "clear every allocation exclusion (both scopes)",
    },
    PaneAction {
        name: "retry_failed",
        help: "retry failed shard allocations",
    },
    PaneAction {
        name: "bounce_node",
        help: "guided controlled bounce of the selected node",
    },
    PaneAction {
        name: "bounce_node_override",
        help: "controlled bounce even though the node holds a last copy",
    },
    PaneAction {
        name: "acknowledge_departure",
        help: "acknowledge that the selected node left the cluster (its alert goes; the row stays greyed)",
    },
    PaneAction {
        name: "change_config",
        help: "guided drain → restart → re-include of the selected node",
    },
];

/// Suggested bindings for `keymaps/default.toml`'s `[elasticsearch]` section.
pub const DEFAULT_KEYS: &[(&str, &str)] = &[
    ("v", "next_view"),
    ("V", "prev_view"),
    ("f", "cycle_state_filter"),
    ("[", "grid_left"),
    ("]", "grid_right"),
    ("A", "allocation_all"),
    ("P", "allocation_primaries"),
    ("W", "allocation_new_primaries"),
    ("X", "allocation_none"),
    ("Z", "exclude_spot"),
    ("D", "drain_node"),
    ("C", "clear_exclusions"),
    ("R", "retry_failed"),
    ("B", "bounce_node"),
    ("alt-b", "bounce_node_override"),
    ("M", "change_config"),
    ("a", "acknowledge_departure"),
];

pub fn root() -> Box<dyn View> {
    Box::new(EsPane::default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Nodes,
    Shards,
    Unassigned,
    Recovery,
    Settings,
}

impl Mode {
    const ALL: [Mode; 5] = [
        Mode::Nodes,
        Mode::Shards,
        Mode::Unassigned,
        Mode::Recovery,
        Mode::Settings,
    ];
    fn name(self) -> &'static str {
        match self {
            Mode::Nodes => "nodes",
            Mode::Shards => "shards",
            Mode::Unassigned => "unassigned",
            Mode::Recovery => "recovery",
            Mode::Settings => "settings",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    #[default]
    All,
    Unassigned,
    Relocating,
    Initializing,
}

impl StateFilter {
    fn next(self) -> Self {
        match self {
            Self::All => Self::Unassigned,
            Self::Unassigned => Self::Relocating,
            Self::Relocating => Self::Initializing,
            Self::Initializing => Self::All,
        }
    }
    fn admits(self, s: &ShardState) -> bool {
        match self {
            Self::All => true,
            Self::Unassigned => *s == ShardState::Unassigned,
            Self::Relocating => *s == ShardState::Relocating,
            Self::Initializing => *s == ShardState::Initializing,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Unassigned => "unassigned",
            Self::Relocating => "relocating",
            Self::Initializing => "initializing",
        }
    }
}

/// Node columns the grid shows at once (the table drops what does not fit the width anyway).
pub const GRID_WINDOW: usize = 16;

#[derive(Debug, Default)]
pub struct EsPane {
    pub mode: Mode,
    pub filter: StateFilter,
    pub node_offset: usize,
}

fn state<'a>(ctx: &'a ViewCtx) -> Option<&'a EsState> {
    ctx.fleet.of::<Elasticsearch>().data.as_ref()
}

fn waiting(ctx: &ViewCtx) -> Table {
    let empty = match &ctx.fleet.of::<Elasticsearch>().error {
        Some(e) => format!("no answer from the cluster yet: {e}"),
        None if !ctx.config.of::<Elasticsearch>().is_enabled() => {
            "elasticsearch is not configured (set [elasticsearch] url in the config)".into()
        }
        None => "waiting for the first answer from the cluster".into(),
    };
    Table {
        empty,
        ..Table::default()
    }
}

fn health_tone(h: HealthStatus) -> Tone {
    match h {
        HealthStatus::Green => Tone::Ok,
        HealthStatus::Yellow => Tone::Warn,
        HealthStatus::Red => Tone::Crit,
        HealthStatus::Unknown => Tone::Muted,
    }
}

fn disk_tone(l: DiskLevel) -> Tone {
    match l {
        DiskLevel::Ok => Tone::Ok,
        DiskLevel::Low => Tone::Warn,
        DiskLevel::High | DiskLevel::FloodStage => Tone::Crit,
        DiskLevel::Unknown => Tone::Muted,
    }
}

/// The lines above every view: health, shard counts, allocation settings in force.
pub fn cluster_header(s: &EsState) -> Vec<(String, Tone)> {
    let h = &s.health;
    let master = s.nodes.iter().find(|n| n.master).map_or("?", |n| n.name.as_str());
    let mut out = vec![(
        format!(
            "{} · {} · {} · {} nodes ({} data) · master {master}",
            h.cluster_name,
            h.status.as_str().to_uppercase(),
            s.distribution.label(),
            h.number_of_nodes,
            h.number_of_data_nodes
        ),
        health_tone(h.status),
    )];
    out.push((
        format!(
            "shards: {} active ({} primaries) · {} relocating · {} initializing · {} unassigned ({} delayed) · {:.1}% active · {} pending tasks",
            h.active_shards,
            h.active_primary_shards,
            h.relocating_shards,
            h.initializing_shards,
            h.unassigned_shards,
            h.delayed_unassigned_shards,
            h.active_shards_percent,
            h.number_of_pending_tasks
        ),
        if h.unassigned_shards > 0 { Tone::Warn } else { Tone::Normal },
    ));
    let a = &s.settings;
    let mut alloc = format!("allocation: enable={} ({})", a.enable, a.enable_scope.as_str());
    for f in &a.filters {
        alloc.push_str(&format!(
            " · {}.{}={} ({})",
            f.kind,
            f.attribute,
            f.value,
            f.scope.as_str()
        ));
    }
    if !a.awareness_attributes.is_empty() {
        alloc.push_str(&format!(" · awareness {}", a.awareness_attributes));
    }
    let w = &a.watermarks;
    alloc.push_str(&format!(
        " · watermarks low {} / high {} / flood {}{}",
        w.low.describe(),
        w.high.describe(),
        w.flood_stage.describe(),
        if w.threshold_enabled {
            ""
        } else {
            " (disk threshold disabled)"
        }
    ));
    let tone = if a.enable != "all" || !a.filters.is_empty() {
        Tone::Warn
    } else {
        Tone::Normal
    };
    out.push((alloc, tone));
    for r in &s.refused {
        let shown = if r.kept_from_earlier {
            "shown as last read"
        } else {
            "not known"
        };
        out.push((
            format!("{} not read ({shown}): {}", r.part.label(), r.reason),
            Tone::Warn,
        ));
    }
    if let Some(first) = s.notes.first() {
        out.push((
            format!("{} request(s) of the last poll failed: {first}", s.notes.len()),
            Tone::Muted,
        ));
    }
    for key in &a.shadowed {
        out.push((
            format!("transient {key} hides its persistent value (transient wins until cleared)"),
            Tone::Warn,
        ));
    }
    out
}

fn bar(percent: f64, width: usize) -> String {
    let p = percent.clamp(0.0, 100.0);
    let full = ((p / 100.0) * width as f64).round() as usize;
    format!("{}{} {p:5.1}%", "█".repeat(full), "░".repeat(width - full))
}

/// "excluded (exclude._ip=…) · draining, 12 copies left" / "drain complete"; master mark.
fn node_status(n: &EsNode) -> (String, Tone) {
    let mut parts = Vec::new();
    if n.master {
        parts.push("* master".to_string());
    }
    let mut tone = Tone::Normal;
    if !n.excluded_by.is_empty() {
        let by: Vec<&str> = n
            .excluded_by
            .iter()
            .map(|e| e.strip_prefix("exclude.").unwrap_or(e))
            .collect();
        parts.push(format!("EXCLUDED {}", by.join(", ")));
        if n.shard_rows == 0 {
            parts.push("drain complete".into());
            tone = Tone::Ok;
        } else {
            parts.push(format!("draining, {} left", n.shard_rows));
            tone = Tone::Warn;
        }
    }
    (parts.join(" · "), tone)
}

/// A node's attributes worth showing (`zone=spot`), without the ones every node of a kind carries.
fn attributes(n: &EsNode) -> String {
    let attrs: Vec<String> = n
        .attributes
        .iter()
        .filter(|(k, _)| !k.starts_with("ml.") && !k.starts_with("xpack.") && !k.starts_with("transform."))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    attrs.join(" ")
}

/// A node that left the cluster: greyed, with when it left, until it rejoins or is acknowledged.
fn departed_row(d: &crate::model::DepartedNode) -> Row {
    let n = &d.node;
    let status = format!(
        "LEFT at {}{}",
        crate::analysis::clock(d.left_at),
        if d.acknowledged { " · acknowledged" } else { "" }
    );
    let muted = |c: Cell| c.tone(Tone::Muted);
    Row {
        key: n.name.clone(),
        cells: vec![
            muted(Cell::text(&n.name)),
            muted(Cell::text(&n.ip)),
            muted(Cell::text(n.roles_label())),
            muted(Cell::text(attributes(n))),
            muted(Cell::num("—", -1.0)),
            muted(Cell::num("—", -1.0)),
            muted(Cell::num("—", -1.0)),
            muted(Cell::num("—", -1.0)),
            Cell::text(status).tone(if d.acknowledged { Tone::Muted } else { Tone::Warn }),
        ],
    }
}

fn nodes_table(s: &EsState) -> Table {
    let departed = s.departed.iter().map(departed_row);
    let rows = s
        .nodes
        .iter()
        .map(|n| {
            let attrs = attributes(n);
            let disk = match (n.disk_total, n.disk_available) {
                (Some(t), Some(a)) => format!("{} / {}", human_bytes(t.saturating_sub(a)), human_bytes(t)),
                _ => "?".into(),
            };
            let pct = n.disk_used_percent();
            let level = match n.disk_level {
                DiskLevel::Ok | DiskLevel::Unknown => String::new(),
                DiskLevel::Low => " >low".into(),
                DiskLevel::High => " >HIGH".into(),
                DiskLevel::FloodStage => " >FLOOD".into(),
            };
            let (status, tone) = node_status(n);
            Row {
                key: n.name.clone(),
                cells: vec![
                    Cell::text(&n.name),
                    Cell::text(&n.ip),
                    Cell::text(n.roles_label()),
                    Cell::text(attrs),
                    Cell::num(
                        disk,
                        n.disk_total.unwrap_or(0).saturating_sub(n.disk_available.unwrap_or(0)) as f64,
                    ),
                    Cell::num(
                        pct.map_or("?".into(), |p| format!("{p:.0}%{level}")),
                        pct.unwrap_or(-1.0),
                    )
                    .tone(disk_tone(n.disk_level)),
                    Cell::num(
                        n.heap_percent.map_or("?".into(), |h| format!("{h}%")),
                        n.heap_percent.map_or(-1.0, f64::from),
                    ),
                    Cell::num(n.shard_rows.to_string(), n.shard_rows as f64),
                    Cell::text(status).tone(tone),
                ],
            }
        })
        .chain(departed)
        .collect();
    Table {
        columns: vec![
            Column::left("node", 10).max(24),
            Column::left("ip", 15).priority(3),
            Column::left("roles", 6).max(18).priority(2),
            Column::left("attributes", 8).max(30).priority(1),
            Column::right("disk used", 12).max(20).priority(5),
            Column::right("disk%", 6).max(11).priority(9),
            Column::right("heap", 5).priority(8),
            Column::right("shards", 6).priority(8),
            Column::left("status", 10).max(40).priority(9),
        ],
        rows,
        default_sort: None,
        empty: "no nodes answered".into(),
    }
}

/// Counts a copy into its node's grid cell: its glyph appended, its count (the cell's sort value)
/// raised, the cell in the accent colour when the copy is moving.
fn add_copy(cell: &mut Cell, s: &ShardRow, incoming: bool, moving: bool) {
    push_glyph(&mut cell.text, s, incoming);
    if let SortKey::Number(n) = &mut cell.sort {
        *n += 1.0;
    }
    if moving {
        cell.tone = Tone::Accent;
    }
}

/// Appends a copy's grid glyph (see the module doc) to `out`, space-separated.
fn push_glyph(out: &mut String, s: &ShardRow, incoming: bool) {
    if !out.is_empty() {
        out.push(' ');
    }
    if incoming {
        out.push('>');
    }
    push_number(out, s.shard);
    out.push(if s.primary { 'P' } else { 'r' });
    match (&s.state, incoming) {
        (_, true) => {}
        (ShardState::Relocating, false) => out.push('>'),
        (ShardState::Initializing, _) => out.push('+'),
        (ShardState::Unassigned, _) => out.push('?'),
        _ => {}
    }
}

/// `n` in decimal, without the formatting machinery (a glyph per shard copy, 20,000 a build).
fn push_number(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// The shard grid: one row per index, one column per node of the window, plus the unassigned copies.
/// Node cells sort by how many copies they hold. Built in one pass over the copies, writing each
/// glyph straight into its cell (this runs every frame; 20k copies must stay well under a frame).
pub fn grid_table(s: &EsState, filter: StateFilter, node_offset: usize) -> Table {
    let offset = node_offset.min(s.nodes.len().saturating_sub(1));
    let window: Vec<&EsNode> = s.nodes.iter().skip(offset).take(GRID_WINDOW).collect();
    let col_of: HashMap<&str, usize> = window.iter().enumerate().map(|(i, n)| (n.name.as_str(), i)).collect();
    /// An index's row as it is built: its cells are the row's, filled in place (the first three,
    /// index, copies and unassigned, once all its copies are counted).
    struct Acc<'a> {
        index: &'a str,
        cells: Vec<Cell>,
        unassigned: String,
        unassigned_n: u32,
        copies: u32,
        primaries: u32,
        worst: Tone,
    }
    const NODE_CELLS: usize = 3;
    // An index's copies come together: the changes of index bound how many there are.
    let index_runs = 1 + s
        .shards
        .windows(2)
        .filter(|w| !Arc::ptr_eq(&w[0].index, &w[1].index))
        .count();
    let mut slot: foldhash::HashMap<&str, usize> =
        foldhash::HashMap::with_capacity_and_hasher(index_runs, Default::default());
    let mut accs: Vec<Acc> = Vec::with_capacity(index_runs);
    // The names in an answer are shared (one `Arc` per node and per index): the last index and
    // each node's column are found by pointer, not by hashing the name for every copy.
    let mut last_index: Option<(&Arc<str>, usize)> = None;
    let mut node_cols: Vec<(&Arc<str>, Option<usize>)> = Vec::with_capacity(s.nodes.len());
    for sh in &s.shards {
        if !filter.admits(&sh.state) {
            continue;
        }
        let i = match last_index {
            Some((index, i)) if Arc::ptr_eq(index, &sh.index) => i,
            _ => *slot.entry(&*sh.index).or_insert_with(|| {
                let mut cells = Vec::with_capacity(NODE_CELLS + window.len());
                cells.resize_with(NODE_CELLS + window.len(), || Cell::num(String::new(), 0.0));
                accs.push(Acc {
                    index: &sh.index,
                    cells,
                    unassigned: String::new(),
                    unassigned_n: 0,
                    copies: 0,
                    primaries: 0,
                    worst: Tone::Normal,
                });
                accs.len() - 1
            }),
        };
        last_index = Some((&sh.index, i));
        let acc = &mut accs[i];
        acc.copies += 1;
        if sh.primary {
            acc.primaries += 1;
        }
        match sh.state {
            ShardState::Unassigned => {
                push_glyph(&mut acc.unassigned, sh, false);
                acc.unassigned_n += 1;
                acc.worst = if sh.primary || acc.worst == Tone::Crit {
                    Tone::Crit
                } else {
                    Tone::Warn
                };
            }
            ShardState::Relocating | ShardState::Initializing if acc.worst == Tone::Normal => acc.worst = Tone::Accent,
            _ => {}
        }
        let moving = matches!(sh.state, ShardState::Relocating | ShardState::Initializing);
        let column =
            sh.node.as_ref().and_then(
                |node| match node_cols.iter().find(|(seen, _)| Arc::ptr_eq(seen, node)) {
                    Some(&(_, c)) => c,
                    None => {
                        let c = col_of.get(&**node).copied();
                        node_cols.push((node, c));
                        c
                    }
                },
            );
        if let Some(c) = column {
            add_copy(&mut acc.cells[NODE_CELLS + c], sh, false, moving);
        }
        if let Some(&c) = sh.relocating_to.as_ref().and_then(|t| col_of.get(t.name.as_str())) {
            add_copy(&mut acc.cells[NODE_CELLS + c], sh, true, true);
        }
    }
    let mut columns = vec![
        Column::left("index", 12).max(30),
        Column::right("copies", 7).priority(8),
        Column::left("unassigned", 10).max(20).priority(9),
    ];
    for n in &window {
        columns.push(Column::left(&n.name, 9).max(24));
    }
    let rows = accs
        .into_iter()
        .map(|acc| {
            let mut cells = acc.cells;
            cells[0] = Cell::text(acc.index).tone(acc.worst);
            let mut copies = String::with_capacity(8);
            push_number(&mut copies, acc.primaries);
            copies.push_str("p/");
            push_number(&mut copies, acc.copies);
            cells[1] = Cell::num(copies, acc.copies as f64);
            let un_tone = if acc.unassigned_n == 0 { Tone::Normal } else { acc.worst };
            cells[2] = Cell::num(acc.unassigned, acc.unassigned_n as f64).tone(un_tone);
            let mut key = String::with_capacity("index:".len() + acc.index.len());
            key.push_str("index:");
            key.push_str(acc.index);
            Row { key, cells }
        })
        .collect();
    Table {
        columns,
        rows,
        default_sort: Some((0, false)),
        empty: format!("no {} shard copies", filter.name()),
    }
}

fn explain_summary(s: &EsState, sh: &ShardRow) -> (String, String) {
    match s.explain_for(&sh.copy_key()) {
        Some(e) => {
            // same_shard only says where a copy already is; another decider says why nowhere else works.
            let refusals = || e.nodes.iter().filter(|d| d.decision != "yes");
            let why = refusals()
                .find(|d| d.decider != "same_shard")
                .or_else(|| refusals().next())
                .map(|d| format!("{}: {}", d.decider, d.explanation))
                .unwrap_or_default();
            (e.can_allocate.clone().unwrap_or_else(|| e.current_state.clone()), why)
        }
        None => ("-".into(), String::new()),
    }
}

fn copies_table(s: &EsState, copies: Vec<&ShardRow>, empty: &str) -> Table {
    let rows = copies
        .into_iter()
        .map(|sh| {
            let (can, why) = explain_summary(s, sh);
            let node = match (&sh.node, &sh.relocating_to) {
                (Some(n), Some(t)) => format!("{n} -> {}", t.name),
                (Some(n), None) => n.to_string(),
                (None, _) => String::new(),
            };
            let tone = match sh.state {
                ShardState::Unassigned if sh.primary => Tone::Crit,
                ShardState::Unassigned => Tone::Warn,
                ShardState::Relocating | ShardState::Initializing => Tone::Accent,
                _ => Tone::Normal,
            };
            Row {
                key: sh.copy_key(),
                cells: vec![
                    Cell::text(&*sh.index),
                    Cell::num(sh.shard.to_string(), sh.shard as f64),
                    Cell::text(if sh.primary { "primary" } else { "replica" }),
                    Cell::text(sh.state.as_str()).tone(tone),
                    Cell::text(node),
                    Cell::num(
                        sh.store_bytes.map(human_bytes).unwrap_or_default(),
                        sh.store_bytes.unwrap_or(0) as f64,
                    ),
                    Cell::text(sh.unassigned_reason.clone().unwrap_or_default()),
                    Cell::text(can),
                    Cell::text(why),
                ],
            }
        })
        .collect();
    Table {
        columns: vec![
            Column::left("index", 12).max(30),
            Column::right("shard", 5).key(),
            Column::left("copy", 7).priority(8),
            Column::left("state", 12).priority(9),
            Column::left("node", 10).max(30).priority(7),
            Column::right("size", 9).priority(5),
            Column::left("reason", 10).max(24).priority(4),
            Column::left("can allocate", 12).priority(6),
            Column::left("why (first decider)", 16).max(120).grow().priority(3),
        ],
        rows,
        default_sort: None,
        empty: empty.into(),
    }
}

fn recovery_table(s: &EsState) -> Table {
    let rows = s
        .recoveries
        .iter()
        .map(|r| Row {
            key: format!("{}/{}/{}", r.index, r.shard, r.target_node.clone().unwrap_or_default()),
            cells: vec![
                Cell::text(&r.index),
                Cell::num(r.shard.to_string(), r.shard as f64),
                Cell::text(&r.kind),
                Cell::text(&r.stage),
                Cell::text(format!(
                    "{} -> {}",
                    r.source_node.as_deref().unwrap_or("(store)"),
                    r.target_node.as_deref().unwrap_or("?")
                )),
                Cell::num(bar(r.bytes_percent, 20), r.bytes_percent).tone(Tone::Accent),
                Cell::text(match (r.bytes_recovered, r.bytes_total) {
                    (Some(d), Some(t)) => format!("{} / {}", human_bytes(d), human_bytes(t)),
                    _ => String::new(),
                }),
                Cell::text(&r.time),
            ],
        })
        .collect();
    Table {
        columns: vec![
            Column::left("index", 12).max(30),
            Column::right("shard", 5).key(),
            Column::left("type", 8).max(14).priority(3),
            Column::left("stage", 9).priority(8),
            Column::left("from -> to", 16).max(40).priority(7),
            Column::left("bytes", 27).priority(9),
            Column::left("recovered", 12).max(21).priority(5),
            Column::left("time", 8).priority(6),
        ],
        rows,
        default_sort: None,
        empty: "no active recoveries".into(),
    }
}

fn settings_table(s: &EsState) -> Table {
    let raw = &s.raw_settings;
    let mut rows = Vec::new();
    let mut push = |key: &str, value: &str, scope: &str, note: String, tone: Tone| {
        rows.push(Row {
            key: format!("{scope}:{key}"),
            cells: vec![
                Cell::text(key),
                Cell::text(value).tone(tone),
                Cell::text(scope),
                Cell::text(note),
            ],
        });
    };
    for (scope, map) in [("transient", &raw.transient), ("persistent", &raw.persistent)] {
        for (k, v) in map.iter().filter(|(k, _)| k.starts_with("cluster.routing.")) {
            let in_force = raw.effective(k).is_some_and(|(_, sc)| sc.as_str() == scope);
            let note = if in_force {
                "in force".to_string()
            } else {
                "hidden by the transient value".to_string()
            };
            push(k, v, scope, note, if in_force { Tone::Normal } else { Tone::Muted });
        }
    }
    for k in [
        crate::model::ENABLE_KEY,
        "cluster.routing.allocation.disk.threshold_enabled",
        "cluster.routing.allocation.disk.watermark.low",
        "cluster.routing.allocation.disk.watermark.high",
        "cluster.routing.allocation.disk.watermark.flood_stage",
        "cluster.routing.allocation.awareness.attributes",
        "cluster.routing.allocation.node_concurrent_recoveries",
    ] {
        if let Some((v, sc)) = raw.effective(k)
            && sc == crate::model::Scope::Default
        {
            push(k, v, "default", "in force".into(), Tone::Muted);
        }
    }
    Table {
        columns: vec![
            Column::left("setting", 30).max(56),
            Column::left("value", 10).max(40).priority(9),
            Column::left("scope", 10).priority(8),
            Column::left("", 10).max(40).priority(5),
        ],
        rows,
        default_sort: None,
        empty: "no allocation settings".into(),
    }
}

fn poll_every(cfg: &dyn PaneConfigs) -> Duration {
    cfg.of::<Elasticsearch>()
        .refresh
        .map(|r| r.get())
        .unwrap_or_else(|| cfg.general().refresh.get())
        .min(Duration::from_secs(10))
}

/// A node's log on its host ("tail its log").
fn node_logs(ctx: &ViewCtx, name: &str) -> Result<Vec<LogSource>, String> {
    let s = state(ctx).ok_or("no answer from the cluster yet")?;
    let node = s
        .node_by_name(name)
        .ok_or_else(|| format!("{name} is not in the cluster now"))?;
    let address = NodeAddress {
        name: &node.name,
        ip: &node.ip,
        host: &node.host,
    };
    Ok(vec![node_log(ctx.config, &s.health.cluster_name, address)?])
}

/// What a node action acts on: the node behind the name (its id) and the address it is excluded by.
fn node_identity(s: &EsState, name: &str) -> String {
    match s.node_by_name(name) {
        Some(n) => format!("node {name}; id {}; ip {}", n.id, n.ip),
        None => format!("node {name}; not in the cluster"),
    }
}

/// What a cluster-wide action acts on: the cluster, the exclusions in force and the spot zone's
/// members (excluding a zone moves what is on those nodes; clearing lifts those exclusions).
fn cluster_identity(s: &EsState, cfg: &EsConfig) -> String {
    let mut facts = vec![format!("cluster {}", s.health.cluster_name)];
    facts.extend(
        s.settings
            .filters
            .iter()
            .map(|f| format!("{}.{}={} ({})", f.kind, f.attribute, f.value, f.scope.as_str())),
    );
    facts.extend(
        s.nodes
            .iter()
            .filter(|n| n.attributes.get(&cfg.zone_attribute) == Some(&cfg.spot_zone))
            .map(|n| format!("{} node {} id {}", cfg.spot_zone, n.name, n.id)),
    );
    facts.join("; ")
}

/// The actions on a selected node (nodes view), then on the cluster (any view).
fn offers(s: &EsState, ctx: &ViewCtx, node: Option<&str>) -> Vec<ActionOffer> {
    let cfg: &EsConfig = ctx.config.of::<Elasticsearch>();
    let cluster = cluster_identity(s, cfg);
    let on_cluster = |name: &'static str, plan: Result<opsdeck_core::action::ActionPlan, String>| {
        ActionOffer::new(name, plan.map(|p| p.bound_to(cluster.clone())))
    };
    let cluster_offers = vec![
        on_cluster("allocation_all", act::plan_set_enable(s, cfg, "all")),
        on_cluster("allocation_primaries", act::plan_set_enable(s, cfg, "primaries")),
        on_cluster(
            "allocation_new_primaries",
            act::plan_set_enable(s, cfg, "new_primaries"),
        ),
        on_cluster("allocation_none", act::plan_set_enable(s, cfg, "none")),
        on_cluster("exclude_spot", act::plan_exclude_zone(s, cfg, &cfg.spot_zone)),
        on_cluster("clear_exclusions", act::plan_clear_exclusions(s, cfg)),
        on_cluster("retry_failed", act::plan_retry_failed(s, cfg)),
    ];
    let every = poll_every(ctx.config);
    let need = || Err::<opsdeck_core::action::ActionPlan, String>("select a node in the nodes view first".into());
    let mut out = Vec::new();
    match node {
        Some(n) => {
            let on_node = |name: &'static str, plan: Result<opsdeck_core::action::ActionPlan, String>| {
                ActionOffer::new(name, plan.map(|p| p.bound_to(node_identity(s, n))))
            };
            let procedure =
                |kind, override_last_copy| act::plan_procedure(s, ctx.config, kind, n, override_last_copy, every);
            out.push(on_node("drain_node", act::plan_drain_node(s, cfg, n)));
            out.push(on_node(
                "bounce_node",
                procedure(ProcedureKind::ControlledBounce, false),
            ));
            out.push(on_node(
                "bounce_node_override",
                procedure(ProcedureKind::ControlledBounce, true),
            ));
            out.push(on_node("change_config", procedure(ProcedureKind::ChangeConfig, false)));
        }
        None => {
            for name in ["drain_node", "bounce_node", "bounce_node_override", "change_config"] {
                out.push(ActionOffer::new(name, need()));
            }
        }
    }
    out.extend(cluster_offers);
    out
}

impl View for EsPane {
    fn crumb(&self) -> String {
        match self.mode {
            Mode::Nodes => "elasticsearch".into(),
            m => format!("elasticsearch: {}", m.name()),
        }
    }
    fn scope(&self) -> &'static str {
        match self.mode {
            Mode::Nodes => "elasticsearch.node",
            Mode::Shards => "elasticsearch.index",
            Mode::Unassigned => "elasticsearch.shard",
            Mode::Recovery => "elasticsearch.recovery",
            Mode::Settings => "elasticsearch.setting",
        }
    }
    fn source(&self) -> Option<PaneId> {
        Some(Elasticsearch::ID)
    }
    fn table(&self, ctx: &ViewCtx) -> Table {
        let Some(s) = state(ctx) else { return waiting(ctx) };
        match self.mode {
            Mode::Nodes => nodes_table(s),
            Mode::Shards => grid_table(s, self.filter, self.node_offset),
            Mode::Unassigned => copies_table(s, s.unassigned.iter().collect(), "no unassigned shards"),
            Mode::Recovery => recovery_table(s),
            Mode::Settings => settings_table(s),
        }
    }
    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(s) = state(ctx) else { return Vec::new() };
        let mut out = cluster_header(s);
        let views: Vec<String> = Mode::ALL
            .iter()
            .map(|m| {
                let n = match m {
                    Mode::Unassigned => format!("{}({})", m.name(), s.unassigned.len()),
                    Mode::Recovery => format!("{}({})", m.name(), s.recoveries.len()),
                    _ => m.name().to_string(),
                };
                if *m == self.mode { format!("[{n}]") } else { n }
            })
            .collect();
        let mut line = format!("view: {}", views.join(" "));
        if self.mode == Mode::Shards {
            line.push_str(&format!(
                " · copies: {} · nodes {}-{} of {} · P primary, r replica, > moving, + initializing, ? unassigned",
                self.filter.name(),
                (self.node_offset + 1).min(s.nodes.len()),
                (self.node_offset + GRID_WINDOW).min(s.nodes.len()),
                s.nodes.len()
            ));
        }
        out.push((line, Tone::Muted));
        out
    }
    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        let s = state(ctx)?;
        match self.mode {
            Mode::Nodes => s
                .node_by_name(row)
                .map(|n| Box::new(CopiesView::Node(n.name.clone())) as Box<dyn View>),
            Mode::Shards => row
                .strip_prefix("index:")
                .map(|i| Box::new(CopiesView::Index(i.to_string())) as Box<dyn View>),
            Mode::Unassigned => Some(Box::new(ExplainView { copy: row.to_string() })),
            Mode::Recovery | Mode::Settings => None,
        }
    }
    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let Some(s) = state(ctx) else { return Vec::new() };
        let node = if self.mode == Mode::Nodes { row } else { None };
        offers(s, ctx, node)
    }
    fn logs(&self, ctx: &ViewCtx, row: Option<&str>) -> Result<Vec<LogSource>, String> {
        match (self.mode, row) {
            (Mode::Nodes, Some(node)) => node_logs(ctx, node),
            _ => Err("select a node (nodes view, or Enter on an index and pick a copy)".into()),
        }
    }
    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        let Some(s) = state(ctx) else { return Vec::new() };
        match self.mode {
            Mode::Nodes => s
                .node_by_name(row)
                .map(|n| {
                    vec![
                        ("node".into(), n.name.clone()),
                        ("name".into(), n.name.clone()),
                        ("ip".into(), n.ip.clone()),
                        (
                            "host".into(),
                            if n.host.is_empty() {
                                n.ip.clone()
                            } else {
                                n.host.clone()
                            },
                        ),
                    ]
                })
                .unwrap_or_default(),
            Mode::Shards => row
                .strip_prefix("index:")
                .map(|i| vec![("index".into(), i.to_string())])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
    fn show(&mut self, name: &str) -> bool {
        match Mode::ALL.into_iter().find(|m| m.name() == name) {
            Some(mode) => {
                self.mode = mode;
                true
            }
            None => false,
        }
    }
    fn handles(&self, name: &str, ctx: &ViewCtx, row: Option<&str>) -> bool {
        match name {
            "next_view" | "prev_view" => true,
            "cycle_state_filter" | "grid_left" | "grid_right" => self.mode == Mode::Shards,
            // Departed nodes are rows of the nodes list (the pane acknowledges the selected one):
            // offered on such a row only, while its departure still alerts.
            "acknowledge_departure" => {
                self.mode == Mode::Nodes
                    && row.is_some_and(|row| {
                        let state = ctx.fleet.of::<Elasticsearch>().data.as_ref();
                        state.is_some_and(|s| s.departed.iter().any(|d| d.node.name == row && !d.acknowledged))
                    })
            }
            _ => false,
        }
    }
    fn handle(&mut self, action: &str, ctx: &ViewCtx, _row: Option<&str>) -> Option<Vec<opsdeck_core::effect::Effect>> {
        let pos = Mode::ALL.iter().position(|m| *m == self.mode).unwrap_or(0);
        match action {
            "next_view" => self.mode = Mode::ALL[(pos + 1) % Mode::ALL.len()],
            "prev_view" => self.mode = Mode::ALL[(pos + Mode::ALL.len() - 1) % Mode::ALL.len()],
            "cycle_state_filter" => self.filter = self.filter.next(),
            "grid_left" => self.node_offset = self.node_offset.saturating_sub(GRID_WINDOW / 2),
            "grid_right" => {
                let n = state(ctx).map_or(0, |s| s.nodes.len());
                self.node_offset = (self.node_offset + GRID_WINDOW / 2).min(n.saturating_sub(1));
            }
            _ => return None,
        }
        Some(Vec::new())
    }
}

/// A node's or an index's copies; Enter on an unassigned copy opens its explain.
pub enum CopiesView {
    Node(String),
    Index(String),
}

impl View for CopiesView {
    fn crumb(&self) -> String {
        match self {
            CopiesView::Node(n) => format!("node {n}"),
            CopiesView::Index(i) => format!("index {i}"),
        }
    }
    fn scope(&self) -> &'static str {
        "elasticsearch.shard"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Elasticsearch::ID)
    }
    fn table(&self, ctx: &ViewCtx) -> Table {
        let Some(s) = state(ctx) else { return waiting(ctx) };
        let copies: Vec<&ShardRow> = match self {
            CopiesView::Node(n) => s
                .shards
                .iter()
                .filter(|sh| sh.node.as_deref() == Some(n) || sh.relocating_to.as_ref().is_some_and(|t| &t.name == n))
                .collect(),
            CopiesView::Index(i) => s.shards.iter().filter(|sh| *sh.index == **i).collect(),
        };
        copies_table(s, copies, "no shard copies here")
    }
    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(s) = state(ctx) else { return Vec::new() };
        match self {
            CopiesView::Node(n) => match s.node_by_name(n) {
                Some(node) => {
                    let (status, tone) = node_status(node);
                    vec![(
                        format!(
                            "{n} · {} · {} copies name this node · disk {}{}",
                            node.ip,
                            node.shard_rows,
                            node.disk_level.label(),
                            if status.is_empty() {
                                String::new()
                            } else {
                                format!(" · {status}")
                            }
                        ),
                        tone,
                    )]
                }
                None => vec![(format!("{n} is no longer in the cluster"), Tone::Warn)],
            },
            CopiesView::Index(i) => vec![(format!("index {i}"), Tone::Normal)],
        }
    }
    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        let s = state(ctx)?;
        s.unassigned
            .iter()
            .any(|u| u.copy_key() == row)
            .then(|| Box::new(ExplainView { copy: row.to_string() }) as Box<dyn View>)
    }
    /// The cluster's actions here too; on a node's copies, that node's.
    fn actions(&self, ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        let Some(s) = state(ctx) else { return Vec::new() };
        match self {
            CopiesView::Node(n) => offers(s, ctx, Some(n)),
            CopiesView::Index(_) => offers(s, ctx, None),
        }
    }
    /// The node's log; in an index, the log of the node holding the selected copy.
    fn logs(&self, ctx: &ViewCtx, row: Option<&str>) -> Result<Vec<LogSource>, String> {
        match self {
            CopiesView::Node(n) => node_logs(ctx, n),
            CopiesView::Index(_) => {
                let s = state(ctx).ok_or("no answer from the cluster yet")?;
                let row = row.ok_or("select a copy")?;
                let node = s
                    .shards
                    .iter()
                    .find(|sh| sh.copy_key() == row)
                    .and_then(|sh| sh.node.as_deref())
                    .ok_or_else(|| format!("{row} is on no node (unassigned)"))?;
                node_logs(ctx, node)
            }
        }
    }
}

/// The allocation explain of one unassigned copy, as the poller last fetched it.
pub struct ExplainView {
    pub copy: String,
}

impl View for ExplainView {
    fn crumb(&self) -> String {
        format!("explain {}", self.copy)
    }
    fn scope(&self) -> &'static str {
        "elasticsearch.explain"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Elasticsearch::ID)
    }
    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(s) = state(ctx) else { return Vec::new() };
        match s.explain_for(&self.copy) {
            Some(e) => vec![
                (
                    format!(
                        "{} · {} · can allocate: {} · reason {} · last allocation {}",
                        self.copy,
                        e.current_state,
                        e.can_allocate.as_deref().unwrap_or("?"),
                        e.unassigned_reason.as_deref().unwrap_or("?"),
                        e.last_allocation_status.as_deref().unwrap_or("?")
                    ),
                    if e.can_allocate.as_deref() == Some("yes") {
                        Tone::Ok
                    } else {
                        Tone::Warn
                    },
                ),
                (e.explanation.clone(), Tone::Normal),
            ],
            None if s.unassigned.iter().any(|u| u.copy_key() == self.copy) => vec![(
                format!(
                    "{}: no explain yet (the poller explains up to {} unassigned copies per poll, primaries first: elasticsearch.explain_max)",
                    self.copy,
                    ctx.config.of::<Elasticsearch>().explain_max
                ),
                Tone::Muted,
            )],
            None => vec![(format!("{} is no longer unassigned", self.copy), Tone::Ok)],
        }
    }
    fn table(&self, ctx: &ViewCtx) -> Table {
        let Some(s) = state(ctx) else { return waiting(ctx) };
        let rows = s
            .explain_for(&self.copy)
            .map(|e| {
                e.nodes
                    .iter()
                    .map(|d| Row {
                        key: d.node.clone(),
                        cells: vec![
                            Cell::text(&d.node),
                            Cell::text(&d.decision).tone(if d.decision == "yes" { Tone::Ok } else { Tone::Warn }),
                            Cell::text(&d.decider),
                            Cell::text(&d.explanation),
                        ],
                    })
                    .collect()
            })
            .unwrap_or_default();
        Table {
            columns: vec![
                Column::left("node", 10).max(24),
                Column::left("decision", 9).priority(9),
                Column::left("decider", 10).max(24).priority(7),
                Column::left("explanation", 20).max(200).grow().priority(8),
            ],
            rows,
            default_sort: None,
            empty: "no per-node decisions".into(),
        }
    }
    /// The cluster's actions, retrying failed allocations first: the explain often says to (`R`).
    fn actions(&self, ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        let mut all = state(ctx).map(|s| offers(s, ctx, None)).unwrap_or_default();
        all.sort_by_key(|o| o.name != "retry_failed");
        all
    }
    /// The selected node's log (it may say why it refused the copy).
    fn logs(&self, ctx: &ViewCtx, row: Option<&str>) -> Result<Vec<LogSource>, String> {
        node_logs(ctx, row.ok_or("select a node")?)
    }
}

/// The row kinds of its views a custom action can be scoped to, and the `{{vars}}` they fill.
pub const ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "elasticsearch.node",
        vars: &[
            ("node", ("node name", "Elasticsearch")),
            ("name", ("node name", "Elasticsearch")),
            ("ip", ("node address", "Elasticsearch")),
            ("host", ("node host", "Elasticsearch")),
        ],
    },
    RowKind {
        scope: "elasticsearch.index",
        vars: &[("index", ("index name", "Elasticsearch"))],
    },
    RowKind {
        scope: "elasticsearch.shard",
        vars: &[],
    },
    RowKind {
        scope: "elasticsearch.recovery",
        vars: &[],
    },
    RowKind {
        scope: "elasticsearch.setting",
        vars: &[],
    },
    RowKind {
        scope: "elasticsearch.explain",
        vars: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyphs_say_number_kind_and_movement() {
        let copy = |shard: u32, primary: bool, state: ShardState| ShardRow {
            index: "logs".into(),
            shard,
            primary,
            state,
            docs: None,
            store_bytes: None,
            ip: None,
            node_id: None,
            node: None,
            relocating_to: None,
            unassigned_reason: None,
        };
        let mut out = String::new();
        for (row, incoming) in [
            (copy(0, true, ShardState::Started), false),
            (copy(12, false, ShardState::Relocating), false),
            (copy(12, false, ShardState::Relocating), true),
            (copy(7, true, ShardState::Initializing), false),
            (copy(u32::MAX, false, ShardState::Unassigned), false),
            (copy(3, false, ShardState::Other("CLOSED".into())), false),
        ] {
            push_glyph(&mut out, &row, incoming);
        }
        assert_eq!(out, "0P 12r> >12r 7P+ 4294967295r? 3r");
    }
}
