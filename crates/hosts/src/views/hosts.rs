//! The hosts pane: every host with reachability, load, its fullest disk, supervisor programs and junk;
//! `f` flattens it into every disk of every host (duf-like bars, biggest first). Enter opens a host:
//! its filesystems, crash dumps, supervisor programs and du scans, with the actions on them. Hosts
//! that are down or whose disks cannot be read sort first.

use crate::Hosts;
use crate::actions::{du_plan, remove_files_plan, supervisor_plan};
use crate::analysis::{program_severity, usage_severity};
use crate::model::{Filesystem, HostStatus, HostsState, ProgramState, human_bytes, human_kib};
use crate::source::SupervisorAction;
use opsdeck_core::effect::Effect;
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::text::clean;
use opsdeck_core::time::short_duration;
use opsdeck_core::view::{
    ActionOffer, Cell, Column, HOST, InputRequest, PaneAction, Row, RowKind, SAME_AS_ANOTHER, SortKey, Table, Tone,
    View, ViewCtx,
};
use opsdeck_core::widgets::text::bar;
use std::sync::Arc;
use std::time::Duration;

/// Keymap actions this pane understands (bound in the keymap's `[hosts]` mode).
pub const ACTIONS: &[PaneAction] = &[
    PaneAction {
        name: "restart_program",
        help: "restart the selected supervisor program (verified: RUNNING with a new pid)",
    },
    PaneAction {
        name: "start_program",
        help: "start the selected supervisor program",
    },
    PaneAction {
        name: "stop_program",
        help: "stop the selected supervisor program",
    },
    PaneAction {
        name: "remove_junk",
        help: "remove the crash dumps/junk found on this host (lists every file; df after)",
    },
    PaneAction {
        name: "du",
        help: "measure a directory with du (background job with progress)",
    },
    PaneAction {
        name: "toggle_inodes",
        help: "show or hide inode usage (from the host list: every disk)",
    },
    PaneAction {
        name: "toggle_pseudo",
        help: "show tmpfs, overlay and other pseudo filesystems",
    },
    PaneAction {
        name: "toggle_flat",
        help: "list every disk of every host (again: one row per host)",
    },
];

pub fn root() -> Box<dyn View> {
    Box::new(HostsRoot::default())
}

const BAR: usize = 10;

fn hosts<'a>(ctx: &'a ViewCtx) -> &'a [HostStatus] {
    ctx.fleet
        .of::<Hosts>()
        .data
        .as_ref()
        .map(|s: &HostsState| s.hosts.as_slice())
        .unwrap_or(&[])
}

fn usage_cell(f: &Filesystem, ctx: &ViewCtx) -> Cell {
    let sev = usage_severity(
        f.use_percent,
        ctx.config.of::<Hosts>().disk_warn,
        ctx.config.of::<Hosts>().disk_crit,
    );
    Cell::num(
        format!("{} {:>3.0}%", bar(f.use_percent / 100.0, BAR), f.use_percent),
        f.use_percent,
    )
    .tone(sev.into())
}

fn inode_cell(f: &Filesystem, ctx: &ViewCtx) -> Cell {
    match &f.inodes {
        Some(i) if i.total > 0 => {
            let sev = usage_severity(
                i.use_percent,
                ctx.config.of::<Hosts>().inode_warn,
                ctx.config.of::<Hosts>().inode_crit,
            );
            Cell::num(format!("{:>3.0}% of {}", i.use_percent, i.total), i.use_percent).tone(sev.into())
        }
        _ => Cell::num("-", -1.0).tone(Tone::Muted),
    }
}

/// "3d old" for a file modified at `mtime` (seconds since the epoch); None for an mtime that is no
/// time at all (inf, NaN, beyond what a Duration holds).
fn junk_age(now: std::time::SystemTime, mtime: f64) -> Option<String> {
    if !mtime.is_finite() {
        return None;
    }
    let now = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    let age = Duration::try_from_secs_f64((now - mtime).max(0.0)).ok()?;
    Some(format!("{} old", short_duration(age)))
}

fn programs_cell(h: &HostStatus) -> Cell {
    if h.programs.is_empty() {
        return match &h.programs_error {
            Some(e) => Cell::num(format!("✖ {e}"), -1.0).tone(Tone::Crit),
            None => Cell::num("-", -1.0).tone(Tone::Muted),
        };
    }
    let running = h.programs.iter().filter(|p| p.state == ProgramState::Running).count();
    let worst = h
        .programs
        .iter()
        .map(|p| program_severity(&p.state))
        .max()
        .unwrap_or(opsdeck_core::alert::Severity::Ok);
    let mark = if running == h.programs.len() { "✔" } else { "✖" };
    Cell::num(
        format!("{mark} {running}/{} RUNNING", h.programs.len()),
        running as f64 - h.programs.len() as f64,
    )
    .tone(worst.into())
}

fn state_cell(h: &HostStatus) -> Cell {
    if h.reachable {
        Cell::text("✔ up").tone(Tone::Ok)
    } else if h.polled_at.is_none() {
        Cell::text("… waiting").tone(Tone::Muted)
    } else {
        Cell::text(format!("✖ {}", h.error.as_deref().unwrap_or("down"))).tone(Tone::Crit)
    }
}

/// Sort value of a host's fullest-disk cell. A host that is down or whose `df` fails has no current
/// disk numbers, yet is the first thing on-call must see: it ranks above every percentage (then by
/// its last known fullest disk). A host not polled yet ranks last.
fn fullest_disk_rank(h: &HostStatus, fullest: Option<&Filesystem>) -> f64 {
    const ABOVE_ANY_PERCENT: f64 = 1000.0;
    let failed = (!h.reachable && h.polled_at.is_some()) || h.filesystems_error.is_some();
    match (failed, fullest) {
        (true, f) => ABOVE_ANY_PERCENT + f.map_or(0.0, |f| f.use_percent),
        (false, Some(f)) => f.use_percent,
        (false, None) => -1.0,
    }
}

/// The hosts pane's top level.
#[derive(Default)]
pub struct HostsRoot {
    /// One row per disk of every host.
    pub flat: bool,
    pub pseudo: bool,
    pub inodes: bool,
    /// The all-disks view was opened by `i` (the host list has no inode column), so hiding the
    /// inodes goes back to the host list.
    flat_for_inodes: bool,
}

impl HostsRoot {
    fn host_table(&self, ctx: &ViewCtx) -> Table {
        let rows = hosts(ctx)
            .iter()
            .map(|h| {
                let worst = h
                    .disks(self.pseudo)
                    .max_by(|a, b| a.use_percent.total_cmp(&b.use_percent));
                let junk: u64 = h.junk.iter().map(|j| j.size_bytes).sum();
                let mut fullest = match worst {
                    Some(f) => usage_cell(f, ctx),
                    None => Cell::num(
                        h.filesystems_error
                            .clone()
                            .map(|e| format!("✖ {e}"))
                            .unwrap_or("-".into()),
                        -1.0,
                    )
                    .tone(if h.filesystems_error.is_some() {
                        Tone::Crit
                    } else {
                        Tone::Muted
                    }),
                };
                fullest.sort = SortKey::Number(fullest_disk_rank(h, worst));
                Row {
                    key: h.name.clone(),
                    cells: vec![
                        Cell::text(h.name.clone()),
                        state_cell(h),
                        match h.load {
                            Some(l) => Cell::num(format!("{:.2}", l[0]), l[0]),
                            None => Cell::num("-", -1.0).tone(Tone::Muted),
                        },
                        fullest,
                        Cell::text(worst.map(|f| f.mount.clone()).unwrap_or_default()),
                        Cell::num(
                            h.disks(self.pseudo).count().to_string(),
                            h.disks(self.pseudo).count() as f64,
                        ),
                        programs_cell(h),
                        if h.junk.is_empty() {
                            Cell::num("-", 0.0).tone(Tone::Muted)
                        } else {
                            Cell::num(format!("{} · {}", h.junk.len(), human_bytes(junk)), junk as f64).tone(Tone::Warn)
                        },
                    ],
                }
            })
            .collect();
        Table {
            columns: vec![
                Column::left("HOST", 10).max(24),
                Column::left("STATE", 6).max(30).priority(9),
                Column::right("LOAD", 6).priority(6),
                Column::left("FULLEST DISK", BAR as u16 + 5).priority(9),
                Column::left("MOUNT", 8).max(30).priority(4),
                Column::right("DISKS", 5).priority(2),
                Column::left("PROGRAMS", 10).max(16).priority(8),
                Column::right("JUNK", 8).max(16).priority(8),
            ],
            rows,
            default_sort: Some((3, true)),
            empty: "No hosts configured ([[ssh.hosts]] in the config).".into(),
        }
    }

    fn disk_table(&self, ctx: &ViewCtx) -> Table {
        let mut rows = Vec::new();
        for h in hosts(ctx) {
            for f in h.disks(self.pseudo) {
                let mut cells = vec![
                    Cell::text(h.name.clone()).tone(if h.reachable { Tone::Normal } else { Tone::Crit }),
                    Cell::text(f.mount.clone()),
                    usage_cell(f, ctx),
                    Cell::num(human_kib(f.used_kib), f.used_kib as f64),
                    Cell::num(human_kib(f.size_kib), f.size_kib as f64),
                    Cell::num(human_kib(f.avail_kib), f.avail_kib as f64),
                    Cell::text(f.fstype.clone().unwrap_or_default()).tone(Tone::Muted),
                ];
                if self.inodes {
                    cells.push(inode_cell(f, ctx));
                }
                rows.push(Row {
                    key: format!("{}\u{0}{}", h.name, f.mount),
                    cells,
                });
            }
        }
        let mut columns = vec![
            Column::left("HOST", 10).max(24),
            Column::left("MOUNT", 10).max(40).key(),
            Column::left("USAGE", BAR as u16 + 5).priority(9),
            Column::right("USED", 9).priority(6),
            Column::right("SIZE", 9).priority(5),
            Column::right("AVAIL", 9).priority(8),
            Column::left("TYPE", 8).priority(2),
        ];
        if self.inodes {
            columns.push(Column::right("INODES", 18).priority(7));
        }
        Table {
            columns,
            rows,
            default_sort: Some((2, true)),
            empty: "No filesystems reported yet.".into(),
        }
    }
}

fn host_of(row: &str) -> &str {
    row.split('\u{0}').next().unwrap_or(row)
}

/// A host's configured log files.
fn host_logs(ctx: &ViewCtx, host: &str) -> Result<Vec<LogSource>, String> {
    let files: Vec<LogSource> = ctx
        .config
        .of::<Hosts>()
        .host(host)
        .map(|h| h.logs.iter().map(|p| LogSource::file(host, p)).collect())
        .unwrap_or_default();
    if files.is_empty() {
        return Err(format!(
            "no log files configured for {host} (logs = [...] in its [[ssh.hosts]] entry); a supervisor program's output can be tailed from the host's own view (Enter)"
        ));
    }
    Ok(files)
}

impl View for HostsRoot {
    fn crumb(&self) -> String {
        if self.flat {
            "hosts (all disks)".into()
        } else {
            "hosts".into()
        }
    }
    fn scope(&self) -> &'static str {
        "hosts"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Hosts::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let all = hosts(ctx);
        if all.is_empty() {
            return Vec::new();
        }
        let down = all.iter().filter(|h| !h.reachable && h.polled_at.is_some()).count();
        let c = ctx.config.of::<Hosts>();
        let (mut warn, mut crit) = (0, 0);
        for f in all.iter().flat_map(|h| h.disks(false)) {
            match usage_severity(f.use_percent, c.disk_warn, c.disk_crit) {
                opsdeck_core::alert::Severity::Critical => crit += 1,
                opsdeck_core::alert::Severity::Warning => warn += 1,
                _ => {}
            }
        }
        let programs: Vec<_> = all.iter().flat_map(|h| &h.programs).collect();
        let running = programs.iter().filter(|p| p.state == ProgramState::Running).count();
        let tone = if down > 0 || crit > 0 || running < programs.len() {
            Tone::Crit
        } else if warn > 0 {
            Tone::Warn
        } else {
            Tone::Ok
        };
        vec![(
            format!(
                " {} host(s), {down} unreachable · disks: {crit} ≥{:.0}%, {warn} ≥{:.0}% · programs {running}/{} RUNNING{}{}",
                all.len(),
                c.disk_crit,
                c.disk_warn,
                programs.len(),
                if self.pseudo {
                    " · showing pseudo filesystems"
                } else {
                    ""
                },
                if self.inodes && self.flat { " · inodes" } else { "" },
            ),
            tone,
        )]
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        if self.flat {
            self.disk_table(ctx)
        } else {
            self.host_table(ctx)
        }
    }

    fn drill(&self, _ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        Some(Box::new(HostView {
            host: host_of(row).to_string(),
            pseudo: self.pseudo,
            inodes: self.inodes,
        }))
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        match row {
            Some(r) => host_actions(ctx, host_of(r), None),
            None => Vec::new(),
        }
    }

    fn row_vars(&self, _ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        let host = host_of(row);
        let mut v = vec![
            ("host".to_string(), host.to_string()),
            ("name".to_string(), host.to_string()),
        ];
        if let Some((_, mount)) = row.split_once('\u{0}') {
            v.push(("mount".into(), mount.to_string()));
            v.push(("path".into(), mount.to_string()));
        }
        v
    }

    fn logs(&self, ctx: &ViewCtx, row: Option<&str>) -> Result<Vec<LogSource>, String> {
        host_logs(ctx, host_of(row.ok_or("select a host first")?))
    }

    fn handles(&self, name: &str, _ctx: &ViewCtx, _row: Option<&str>) -> bool {
        matches!(name, "toggle_flat" | "toggle_pseudo" | "toggle_inodes")
    }

    /// `hosts`: one row per host; `disks`: every disk of every host.
    fn show(&mut self, name: &str) -> bool {
        match name {
            "hosts" | "disks" => {
                self.flat = name == "disks";
                self.flat_for_inodes = false;
                true
            }
            _ => false,
        }
    }

    fn handle(&mut self, action: &str, _ctx: &ViewCtx, _row: Option<&str>) -> Option<Vec<Effect>> {
        match action {
            "toggle_flat" => {
                self.flat = !self.flat;
                self.flat_for_inodes = false;
            }
            "toggle_pseudo" => self.pseudo = !self.pseudo,
            // Inodes are a per-disk column: from the host list, showing them opens every disk.
            "toggle_inodes" if !self.flat => {
                self.inodes = true;
                self.flat = true;
                self.flat_for_inodes = true;
            }
            "toggle_inodes" => {
                self.inodes = !self.inodes;
                if !self.inodes && self.flat_for_inodes {
                    self.flat = false;
                    self.flat_for_inodes = false;
                }
            }
            _ => return None,
        }
        Some(Vec::new())
    }
}

/// What a program action acts on: the program and the process supervisor runs for it now.
fn program_identity(h: &HostStatus, program: &str) -> String {
    let now = match h.programs.iter().find(|p| p.name == program) {
        Some(p) => match p.pid {
            Some(pid) => format!("pid {pid}"),
            None => p.state.as_str().to_string(),
        },
        None => "not listed".into(),
    };
    format!("{}:{program}; {now}", h.name)
}

/// What removing the junk acts on: each file as found (path, size, modification time).
fn junk_identity(h: &HostStatus) -> String {
    let mut facts = vec![format!("host {}", h.name)];
    facts.extend(h.junk.iter().map(|j| {
        let mtime = j.modified.map(|m| format!("{m:.0}")).unwrap_or_else(|| "?".into());
        format!("{} {} bytes mtime {mtime}", clean(&j.path), j.size_bytes)
    }));
    facts.join("; ")
}

/// Actions on a host, given the selected row kind (`Some(program)` on a program row).
fn host_actions(ctx: &ViewCtx, host: &str, program: Option<&str>) -> Vec<ActionOffer> {
    let Some(h) = hosts(ctx).iter().find(|h| h.name == host) else {
        return Vec::new();
    };
    let mut offers = Vec::new();
    for (name, action) in [
        ("restart_program", SupervisorAction::Restart),
        ("start_program", SupervisorAction::Start),
        ("stop_program", SupervisorAction::Stop),
    ] {
        let plan = match program {
            Some(p) => supervisor_plan(ctx.config.of::<Hosts>(), host, p, action)
                .map(|plan| plan.bound_to(program_identity(h, p))),
            None => Err("select a supervisor program first (Enter on the host)".into()),
        };
        offers.push(ActionOffer::new(name, plan));
    }
    offers.push(ActionOffer::new(
        "remove_junk",
        remove_files_plan(ctx.config.of::<Hosts>(), h, &h.junk).map(|plan| plan.bound_to(junk_identity(h))),
    ));
    let ssh = Arc::new(ctx.config.of::<Hosts>().clone());
    let host_name = host.to_string();
    let initial = h
        .disks(false)
        .max_by(|a, b| a.use_percent.total_cmp(&b.use_percent))
        .map(|f| f.mount.clone())
        .unwrap_or_else(|| "/".into());
    offers.push(ActionOffer {
        call_drifts: false,
        name: "du",
        plan: du_plan(&ssh, host, &initial),
        input: Some(InputRequest {
            title: format!("du on {host}"),
            prompt: "directory to measure (absolute path)".into(),
            initial,
            build: Arc::new(move |text: &str| du_plan(&ssh, &host_name, text)),
        }),
    });
    offers
}

/// One host: filesystems, junk, programs, du scans.
pub struct HostView {
    pub host: String,
    pub pseudo: bool,
    pub inodes: bool,
}

/// Row kinds in the host view (the key's first part).
use crate::model::row_key::{DU, FS, JUNK, PROG, of as key};

fn split_key(row: &str) -> (&str, &str) {
    row.split_once('\u{0}').unwrap_or(("", row))
}

impl View for HostView {
    fn crumb(&self) -> String {
        self.host.clone()
    }
    fn scope(&self) -> &'static str {
        "hosts.host"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Hosts::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(h) = hosts(ctx).iter().find(|h| h.name == self.host) else {
            return vec![(format!(" {} has not been polled yet", self.host), Tone::Muted)];
        };
        let mut lines = Vec::new();
        let state = if h.reachable {
            ("✔ reachable".to_string(), Tone::Ok)
        } else {
            (
                format!(
                    "✖ unreachable: {} — {}",
                    h.error.as_deref().unwrap_or("no answer"),
                    h.last_ok
                        .map(|t| format!("showing data from {}", opsdeck_core::time::age(ctx.now, t)))
                        .unwrap_or_else(|| "never reached".into())
                ),
                Tone::Crit,
            )
        };
        let load = h
            .load
            .map(|l| format!(" · load {:.2} {:.2} {:.2}", l[0], l[1], l[2]))
            .unwrap_or_default();
        lines.push((format!(" {} ({}) {}{load}", h.name, h.transport, state.0), state.1));
        for (what, e) in [
            ("df", &h.filesystems_error),
            ("supervisor", &h.programs_error),
            ("junk search", &h.junk_error),
        ] {
            if let Some(e) = e {
                lines.push((format!(" ✖ {what}: {e}"), Tone::Crit));
            }
        }
        if !h.junk.is_empty() {
            let total: u64 = h.junk.iter().map(|j| j.size_bytes).sum();
            lines.push((
                format!(
                    " {} junk file(s), {} — remove them all with the remove_junk action",
                    h.junk.len(),
                    human_bytes(total)
                ),
                Tone::Warn,
            ));
        }
        lines
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let mut columns = vec![
            Column::left("KIND", 5),
            Column::left("NAME", 16).max(60).key(),
            Column::left("USAGE / STATE", BAR as u16 + 5).priority(9),
            Column::right("USED", 9).priority(7),
            Column::right("SIZE", 9).priority(5),
            Column::right("AVAIL / PID", 11).priority(8),
            Column::left("INFO", 10).max(40).priority(4),
        ];
        if self.inodes {
            columns.push(Column::right("INODES", 18).priority(6));
        }
        let mut table = Table {
            columns,
            rows: Vec::new(),
            default_sort: None,
            empty: format!("Nothing known about {} yet.", self.host),
        };
        let Some(h) = hosts(ctx).iter().find(|h| h.name == self.host) else {
            return table;
        };
        let blank = || Cell::text("");
        for f in h.disks(self.pseudo) {
            let mut cells = vec![
                Cell::text("disk"),
                Cell::text(f.mount.clone()),
                usage_cell(f, ctx),
                Cell::num(human_kib(f.used_kib), f.used_kib as f64),
                Cell::num(human_kib(f.size_kib), f.size_kib as f64),
                Cell::num(human_kib(f.avail_kib), f.avail_kib as f64),
                Cell::text(
                    format!("{} {}", f.fstype.as_deref().unwrap_or(""), f.source)
                        .trim()
                        .to_string(),
                )
                .tone(Tone::Muted),
            ];
            if self.inodes {
                cells.push(inode_cell(f, ctx));
            }
            table.rows.push(Row {
                key: key(FS, &f.mount),
                cells,
            });
        }
        for j in &h.junk {
            let age = j.modified.and_then(|m| junk_age(ctx.now, m)).unwrap_or_default();
            table.rows.push(Row {
                key: key(JUNK, &j.path),
                cells: vec![
                    Cell::text("dump").tone(Tone::Warn),
                    Cell::text(clean(&j.path)),
                    blank(),
                    Cell::num(human_bytes(j.size_bytes), j.size_bytes as f64).tone(Tone::Warn),
                    blank(),
                    blank(),
                    Cell::text(age).tone(Tone::Muted),
                ],
            });
        }
        for p in &h.programs {
            let sev = program_severity(&p.state);
            let mark = if p.state == ProgramState::Running { "✔" } else { "✖" };
            table.rows.push(Row {
                key: key(PROG, &p.name),
                cells: vec![
                    Cell::text("proc"),
                    Cell::text(p.name.clone()),
                    Cell::text(format!("{mark} {}", p.state.as_str())).tone(sev.into()),
                    blank(),
                    blank(),
                    Cell::num(
                        p.pid.map(|p| p.to_string()).unwrap_or("-".into()),
                        p.pid.unwrap_or(0) as f64,
                    ),
                    Cell::text(match p.uptime_secs {
                        Some(u) => format!("up {}", short_duration(Duration::from_secs(u))),
                        None => p.description.clone(),
                    })
                    .tone(Tone::Muted),
                ],
            });
        }
        for d in &h.du {
            let status = if d.running {
                format!("⟳ {} scanned", d.scanned)
            } else if let Some(e) = &d.error {
                format!("✖ {e}")
            } else {
                format!("✔ {} entries", d.scanned)
            };
            table.rows.push(Row {
                key: key(DU, &d.path),
                cells: vec![
                    Cell::text("du").tone(Tone::Accent),
                    Cell::text(d.path.clone()),
                    Cell::text(status).tone(if d.error.is_some() { Tone::Crit } else { Tone::Accent }),
                    Cell::num(
                        human_kib(d.entries.iter().map(|e| e.1).sum()),
                        d.entries.iter().map(|e| e.1).sum::<u64>() as f64,
                    ),
                    blank(),
                    blank(),
                    blank(),
                ],
            });
            let biggest = d.entries.first().map(|e| e.1).unwrap_or(0).max(1);
            for (path, kib) in d.entries.iter().take(15) {
                table.rows.push(Row {
                    key: key(DU, &format!("{}\u{0}{path}", d.path)),
                    cells: vec![
                        Cell::text(""),
                        Cell::text(format!("  {}", clean(path))),
                        Cell::num(bar(*kib as f64 / biggest as f64, BAR), *kib as f64).tone(Tone::Muted),
                        Cell::num(human_kib(*kib), *kib as f64),
                        blank(),
                        blank(),
                        blank(),
                    ],
                });
            }
        }
        table
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let program = row.and_then(|r| match split_key(r) {
            (PROG, name) => Some(name),
            _ => None,
        });
        let mut offers = host_actions(ctx, &self.host, program);
        // du starts from the selected disk or directory.
        if let Some(r) = row
            && let (FS | DU, name) = split_key(r)
        {
            let dir = name.rsplit('\u{0}').next().unwrap_or(name).to_string();
            if let Some(o) = offers.iter_mut().find(|o| o.name == "du")
                && let Some(input) = o.input.as_mut()
            {
                input.initial = dir.clone();
                o.plan = du_plan(ctx.config.of::<Hosts>(), &self.host, &dir);
            }
        }
        offers
    }

    fn row_vars(&self, _ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        let (kind, name) = split_key(row);
        let mut v = vec![("host".to_string(), self.host.clone())];
        match kind {
            PROG => {
                v.push(("name".into(), name.to_string()));
                v.push(("process".into(), name.to_string()));
            }
            FS => {
                v.push(("name".into(), name.to_string()));
                v.push(("mount".into(), name.to_string()));
                v.push(("path".into(), name.to_string()));
            }
            _ => {
                let path = name.rsplit('\u{0}').next().unwrap_or(name);
                v.push(("name".into(), path.to_string()));
                v.push(("path".into(), path.to_string()));
            }
        }
        v
    }

    /// A program row: that program's output (supervisorctl tail -f); any other row: the host's files.
    fn logs(&self, ctx: &ViewCtx, row: Option<&str>) -> Result<Vec<LogSource>, String> {
        match row.map(split_key) {
            Some((PROG, program)) => Ok(vec![LogSource::program(&self.host, program)]),
            _ => host_logs(ctx, &self.host),
        }
    }

    /// `f`: every disk of every host, on top of this host (`Esc` comes back).
    fn opens(&self, action: &str, _ctx: &ViewCtx) -> Option<Box<dyn View>> {
        (action == "toggle_flat").then(|| {
            Box::new(HostsRoot {
                flat: true,
                pseudo: self.pseudo,
                inodes: self.inodes,
                ..HostsRoot::default()
            }) as Box<dyn View>
        })
    }

    fn handles(&self, name: &str, _ctx: &ViewCtx, _row: Option<&str>) -> bool {
        matches!(name, "toggle_flat" | "toggle_pseudo" | "toggle_inodes")
    }

    fn handle(&mut self, action: &str, _ctx: &ViewCtx, _row: Option<&str>) -> Option<Vec<Effect>> {
        match action {
            "toggle_pseudo" => self.pseudo = !self.pseudo,
            "toggle_inodes" => self.inodes = !self.inodes,
            _ => return None,
        }
        Some(Vec::new())
    }
}

/// The row kinds of its views a custom action can be scoped to, and the `{{vars}}` they fill.
pub const ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "hosts",
        vars: &[
            ("host", HOST),
            ("name", SAME_AS_ANOTHER),
            ("mount", ("mount point", "df on {host}")),
            ("path", ("mount point", "df on {host}")),
        ],
    },
    RowKind {
        scope: "hosts.host",
        vars: &[
            ("host", HOST),
            ("name", SAME_AS_ANOTHER),
            ("process", ("program name", "supervisorctl status on {host}")),
            ("mount", ("mount point", "df on {host}")),
            ("path", ("file name", "find or du on {host}")),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::junk_age;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn junk_age_of_any_mtime_never_panics() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(junk_age(now, 1_795_000_000.0 - 7_200.0).as_deref(), Some("2h old"));
        assert_eq!(junk_age(now, 1e300).as_deref(), Some("0s old"), "future: no age");
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e300] {
            assert_eq!(junk_age(now, bad), None, "{bad}");
        }
    }
}
