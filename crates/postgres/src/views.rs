//! The PostgreSQL pane: servers sorted by what needs attention (connections against
//! `max_connections`, long queries, idle transactions, blocking chains, replication, pillow
//! errors) and, toggled, every session worth a look across them, blocking roots first. `Enter` on a
//! server shows its facts, blocking chains, databases and sessions; runbook 004's cancel and
//! terminate act on the session selected.

use crate::Postgres;
use crate::actions::plan;
use crate::analysis::{Row as VerdictRow, Severity as Level, Verdict, age, blocking_chains, query_line, verdicts};
use crate::config::PostgresConfig;
use crate::model::{PostgresState, ServerState, Session, Signal};
use opsdeck_core::alert::{Alert, AlertTarget, Severity};
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::text::human_bytes;
use opsdeck_core::view::{ActionOffer, Cell, Column, Modes, PaneAction, Row, RowKind, Table, Tone, View, ViewCtx};

/// Keymap actions this pane understands (bound in the keymap's `[postgres]` mode).
pub const ACTIONS: &[PaneAction] = &[
    PaneAction {
        name: "toggle_sessions",
        help: "switch between PostgreSQL servers and their sessions",
    },
    PaneAction {
        name: "cancel_query",
        help: "cancel the selected session's query (pg_cancel_backend; the session stays)",
    },
    PaneAction {
        name: "terminate_backend",
        help: "terminate the selected session (pg_terminate_backend; its pid typed; its transaction rolls back)",
    },
];

pub const ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "postgres",
        vars: &[
            ("name", ("server name", "the config")),
            ("server", ("server name", "the config")),
        ],
    },
    RowKind {
        scope: "postgres.session",
        vars: &[
            ("pid", ("backend pid", "pg_stat_activity")),
            ("server", ("server name", "the config")),
        ],
    },
];

pub fn root() -> Box<dyn View> {
    Box::new(PostgresView {
        modes: Modes::new("toggle_sessions", "servers", "sessions"),
    })
}

fn state<'a>(ctx: &'a ViewCtx) -> Option<&'a PostgresState> {
    ctx.fleet.of::<Postgres>().data.as_ref()
}

/// The console's severity of a verdict (`Info` is worth knowing, not an alert).
fn severity(l: Level) -> Severity {
    match l {
        Level::Info => Severity::Ok,
        Level::Warning => Severity::Warning,
        Level::Critical => Severity::Critical,
    }
}

/// A server's verdicts, with a line for each part shown from an earlier poll.
fn server_verdicts(s: &ServerState, cfg: &PostgresConfig) -> Vec<Verdict> {
    let mut out = verdicts(&s.poll, &cfg.thresholds);
    for p in &s.stale {
        out.push(Verdict {
            severity: Level::Warning,
            server: s.poll.server.clone(),
            row: VerdictRow::Part { part: p.part },
            message: format!("{} not read now ({}): showing the last read", p.part, p.error),
        });
    }
    out.sort_by_key(|v| std::cmp::Reverse(v.severity));
    out
}

fn worst(vs: &[Verdict]) -> Severity {
    vs.iter().map(|v| severity(v.severity)).max().unwrap_or(Severity::Ok)
}

/// The key of a session's row: unique across servers.
pub fn session_key(server: &str, pid: i32) -> String {
    format!("{server} / {pid}")
}

fn find_session<'a>(s: &'a PostgresState, key: &str) -> Option<(&'a ServerState, &'a Session)> {
    s.servers.iter().find_map(|srv| {
        let sessions = srv.poll.sessions.as_ref().ok()?;
        sessions
            .rows
            .iter()
            .find(|x| session_key(&srv.poll.server, x.pid) == key)
            .map(|x| (srv, x))
    })
}

/// Each verdict as an alert landing on its row: a session's on the sessions view, the rest on the
/// server's row.
pub fn alerts(s: &PostgresState, cfg: &PostgresConfig) -> Vec<Alert> {
    let mut out = Vec::new();
    for srv in &s.servers {
        let name = &srv.poll.server;
        for v in server_verdicts(srv, cfg) {
            let sev = severity(v.severity);
            if sev == Severity::Ok {
                continue;
            }
            let (subject, target) = match &v.row {
                VerdictRow::Session { pid } => (
                    format!("{name} pid {pid}"),
                    AlertTarget::row(Postgres::ID, session_key(name, *pid)).in_view("sessions"),
                ),
                _ => (
                    name.clone(),
                    AlertTarget::row(Postgres::ID, name.clone()).in_view("servers"),
                ),
            };
            out.push(Alert::new(sev, Postgres::ID, subject, v.message).at(target));
        }
    }
    out
}

fn score(sev: Severity, then: f64) -> f64 {
    let base = match sev {
        Severity::Critical => 2e12,
        Severity::Warning => 1e12,
        Severity::Ok => 0.0,
    };
    base + then
}

fn secs_cell(s: Option<f64>) -> Cell {
    match s {
        Some(s) => Cell::num(age(s), s),
        None => Cell::num("–", -1.0).tone(Tone::Muted),
    }
}

fn offers(srv: &ServerState, session: &Session, cfg: &PostgresConfig) -> Vec<ActionOffer> {
    let info = srv.poll.info.as_ref().ok();
    [
        ("cancel_query", Signal::Cancel),
        ("terminate_backend", Signal::Terminate),
    ]
    .into_iter()
    .map(|(name, signal)| {
        ActionOffer::new(
            name,
            plan(&srv.poll.server, signal, session, info).map(|p| p.into_action(cfg.verify_timeout.get())),
        )
    })
    .collect()
}

/// The sessions worth a look across `servers`: blocking roots first, then by transaction age.
fn session_rows(servers: &[&ServerState], ctx: &ViewCtx) -> Vec<Row> {
    let cfg = ctx.config.of::<Postgres>();
    let mut rows = Vec::new();
    for srv in servers {
        let Ok(sessions) = &srv.poll.sessions else {
            continue;
        };
        let blocking = srv.poll.blocking.as_deref().unwrap_or_default();
        let chains = blocking_chains(blocking);
        let vs = server_verdicts(srv, cfg);
        for x in &sessions.rows {
            let behind = chains.iter().find(|c| c.root == x.pid).map(|c| c.blocked);
            let waits_on = blocking.iter().find(|b| b.pid == x.pid).map(|b| &b.blocked_by);
            let sev = vs
                .iter()
                .filter(|v| matches!(v.row, VerdictRow::Session { pid } if pid == x.pid))
                .map(|v| severity(v.severity))
                .max()
                .unwrap_or(Severity::Ok);
            let lock = match (behind, waits_on) {
                (Some(n), _) => Cell::num(format!("blocks {n}"), n as f64).tone(Tone::Crit),
                (None, Some(by)) => Cell::num(
                    format!(
                        "waits on {}",
                        by.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
                    ),
                    -0.5,
                )
                .tone(Tone::Warn),
                (None, None) => Cell::num("", -1.0),
            };
            let state = x.state.clone().unwrap_or_else(|| "(not visible)".into());
            let state_tone = if x.is_idle_in_transaction() {
                Tone::Warn
            } else {
                Tone::Normal
            };
            rows.push(Row {
                key: session_key(&srv.poll.server, x.pid),
                cells: vec![
                    Cell::severity(
                        sev,
                        score(sev, behind.unwrap_or(0) as f64 * 1e6 + x.xact_age_s.unwrap_or(0.0)),
                    ),
                    Cell::num(x.pid.to_string(), x.pid as f64),
                    Cell::text(&srv.poll.server),
                    Cell::text(x.user.as_deref().unwrap_or("?")),
                    Cell::text(x.application.as_deref().unwrap_or("")),
                    Cell::text(state).tone(state_tone),
                    secs_cell(x.query_age_s),
                    secs_cell(x.xact_age_s),
                    lock,
                    Cell::text(query_line(x, 400)),
                ],
            });
        }
    }
    rows
}

fn session_table(rows: Vec<Row>) -> Table {
    Table {
        columns: vec![
            Column::left("!", 2),
            Column::right("PID", 7).key(),
            Column::left("SERVER", 8).max(20).priority(5),
            Column::left("USER", 8).max(16).priority(6),
            Column::left("APPLICATION", 10).max(30).priority(4),
            Column::left("STATE", 8).max(20).priority(8),
            Column::right("QUERY AGE", 9).priority(9),
            Column::right("XACT AGE", 8).priority(7),
            Column::left("LOCKS", 9).max(20).priority(9),
            Column::left("QUERY", 20).max(400).grow().priority(7),
        ],
        rows,
        default_sort: Some((0, true)),
        empty: "no session is doing anything worth a look".into(),
    }
}

fn session_row_vars(s: &PostgresState, row: &str) -> Vec<(String, String)> {
    match find_session(s, row) {
        Some((srv, x)) => vec![
            ("pid".into(), x.pid.to_string()),
            ("server".into(), srv.poll.server.clone()),
        ],
        None => Vec::new(),
    }
}

/// The root view: servers, or (`t`) the sessions worth a look across them.
struct PostgresView {
    /// Servers, or (`t`) the sessions worth a look across them.
    modes: Modes,
}

impl PostgresView {
    fn server_row(srv: &ServerState, ctx: &ViewCtx) -> Row {
        let cfg = ctx.config.of::<Postgres>();
        let vs = server_verdicts(srv, cfg);
        let sev = worst(&vs);
        let p = &srv.poll;
        let headline = vs
            .iter()
            .find(|v| severity(v.severity) > Severity::Ok)
            .map(|v| Cell::text(&v.message).tone(Tone::from(severity(v.severity))))
            .unwrap_or_else(|| Cell::text("ok").tone(Tone::Ok));
        let role = match &p.info {
            Ok(i) if i.in_recovery => Cell::text("replica"),
            Ok(_) => Cell::text("primary"),
            Err(_) => Cell::text("?").tone(Tone::Muted),
        };
        let version = p.info.as_ref().map(|i| i.version.clone()).unwrap_or_default();
        let conns = match &p.connections {
            Ok(c) if c.max_connections > 0 => {
                let used = (c.total + c.hidden) as f64 / c.max_connections as f64;
                let t = &cfg.thresholds;
                let tone = if used >= t.connections_crit {
                    Tone::Crit
                } else if used >= t.connections_warn {
                    Tone::Warn
                } else {
                    Tone::Normal
                };
                Cell::num(
                    format!("{}/{} {:.0}%", c.total + c.hidden, c.max_connections, used * 100.0),
                    used,
                )
                .tone(tone)
            }
            _ => Cell::num("–", -1.0).tone(Tone::Muted),
        };
        let sessions = p.sessions.as_ref().ok();
        let longest = sessions.and_then(|s| {
            s.rows
                .iter()
                .filter(|x| x.is_active())
                .filter_map(|x| x.query_age_s)
                .reduce(f64::max)
        });
        let idle_tx = sessions.map_or(0, |s| s.rows.iter().filter(|x| x.is_idle_in_transaction()).count());
        let blocked = p.blocking.as_ref().map_or(0, Vec::len);
        let lag = match &p.replication {
            Ok(r) if r.in_recovery => r.replay_delay_s,
            Ok(r) => r.standbys.iter().filter_map(|s| s.replay_lag_s).reduce(f64::max),
            Err(_) => None,
        };
        Row {
            key: p.server.clone(),
            cells: vec![
                Cell::severity(sev, score(sev, blocked as f64)),
                Cell::text(&p.server),
                role,
                Cell::text(version),
                conns,
                secs_cell(longest),
                Cell::num(idle_tx.to_string(), idle_tx as f64),
                Cell::num(blocked.to_string(), blocked as f64).tone(if blocked > 0 {
                    Tone::Warn
                } else {
                    Tone::Normal
                }),
                secs_cell(lag),
                headline,
            ],
        }
    }
}

impl View for PostgresView {
    fn crumb(&self) -> String {
        if self.modes.second() {
            "sessions".into()
        } else {
            "servers".into()
        }
    }
    fn scope(&self) -> &'static str {
        if self.modes.second() {
            "postgres.session"
        } else {
            "postgres"
        }
    }
    fn source(&self) -> Option<PaneId> {
        Some(Postgres::ID)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let servers: Vec<&ServerState> = state(ctx).map(|s| s.servers.iter().collect()).unwrap_or_default();
        if self.modes.second() {
            return session_table(session_rows(&servers, ctx));
        }
        Table {
            columns: vec![
                Column::left("!", 2),
                Column::left("SERVER", 8).max(24).key(),
                Column::left("ROLE", 7).priority(5),
                Column::left("VERSION", 7).max(12).priority(2),
                Column::right("CONNECTIONS", 11).max(16).priority(9),
                Column::right("LONGEST Q", 9).priority(8),
                Column::right("IDLE TX", 7).priority(7),
                Column::right("BLOCKED", 7).priority(9),
                Column::right("REPL LAG", 8).priority(6),
                Column::left("VERDICT", 20).max(200).grow().priority(8),
            ],
            rows: servers.iter().map(|s| Self::server_row(s, ctx)).collect(),
            default_sort: Some((0, true)),
            empty: "no PostgreSQL server answered yet".into(),
        }
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        let cfg = ctx.config.of::<Postgres>();
        let blocked: usize = s
            .servers
            .iter()
            .map(|x| x.poll.blocking.as_ref().map_or(0, Vec::len))
            .sum();
        let mut lines = vec![(
            format!(
                "{} server(s) · {blocked} session(s) waiting on locks · t: show {}",
                s.servers.len(),
                if self.modes.second() { "servers" } else { "sessions" }
            ),
            Tone::Normal,
        )];
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
        let s = state(ctx)?;
        if self.modes.second() {
            find_session(s, row)?;
            return Some(Box::new(SessionView { key: row.to_string() }));
        }
        s.server(row)?;
        Some(Box::new(ServerView { name: row.to_string() }))
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        match (self.modes.second(), state(ctx), row) {
            (true, Some(s), Some(row)) => find_session(s, row)
                .map(|(srv, x)| offers(srv, x, ctx.config.of::<Postgres>()))
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        let Some(s) = state(ctx) else {
            return Vec::new();
        };
        if self.modes.second() {
            return session_row_vars(s, row);
        }
        match s.server(row) {
            Some(_) => vec![("name".into(), row.to_string()), ("server".into(), row.to_string())],
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

/// One server: its facts, verdicts, blocking chains, largest databases and pillow errors above,
/// its sessions below (cancel and terminate act on them).
struct ServerView {
    name: String,
}

impl ServerView {
    fn server<'a>(&self, ctx: &'a ViewCtx) -> Option<&'a ServerState> {
        state(ctx)?.server(&self.name)
    }
}

impl View for ServerView {
    fn crumb(&self) -> String {
        self.name.clone()
    }
    fn scope(&self) -> &'static str {
        "postgres.session"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Postgres::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let Some(srv) = self.server(ctx) else {
            return vec![(format!("{} is no longer polled", self.name), Tone::Warn)];
        };
        let p = &srv.poll;
        let mut lines = Vec::new();
        if let Ok(i) = &p.info {
            lines.push((
                format!(
                    "PostgreSQL {} · {} · up {} · as {}{}{}",
                    i.version,
                    if i.in_recovery { "replica" } else { "primary" },
                    age(i.uptime_s),
                    i.user,
                    if i.sees_all_sessions {
                        ""
                    } else {
                        " (sees only its own sessions' queries: grant pg_monitor)"
                    },
                    if i.may_signal || i.superuser {
                        ""
                    } else {
                        " (cannot signal others: grant pg_signal_backend)"
                    },
                ),
                Tone::Normal,
            ));
        }
        if let Ok(dbs) = &p.databases {
            let mut dbs: Vec<_> = dbs.iter().collect();
            dbs.sort_by_key(|d| std::cmp::Reverse(d.bytes));
            let top: Vec<String> = dbs
                .iter()
                .take(4)
                .map(|d| format!("{} {}", d.name, human_bytes(d.bytes.max(0) as u64)))
                .collect();
            if !top.is_empty() {
                lines.push((format!("largest databases: {}", top.join(", ")), Tone::Normal));
            }
        }
        if let Some(Ok(groups)) = &p.pillow_errors {
            let totals = crate::model::pillow_error_totals(groups);
            if !totals.is_empty() {
                let text: Vec<String> = totals
                    .iter()
                    .take(3)
                    .map(|t| format!("{} {}", t.pillow, t.errors))
                    .collect();
                lines.push((
                    format!("pillow errors waiting to retry: {}", text.join(", ")),
                    Tone::Warn,
                ));
            }
        }
        for chain in blocking_chains(p.blocking.as_deref().unwrap_or_default())
            .iter()
            .take(3)
        {
            lines.push((
                format!(
                    "blocking chain: pid {} blocks {} session(s){}{}",
                    chain.root,
                    chain.blocked,
                    chain
                        .longest_wait_s
                        .map(|w| format!(", the longest waiting {}", age(w)))
                        .unwrap_or_default(),
                    if chain.cycle { " (a wait cycle)" } else { "" }
                ),
                Tone::Crit,
            ));
        }
        for v in server_verdicts(srv, ctx.config.of::<Postgres>())
            .iter()
            .filter(|v| severity(v.severity) > Severity::Ok)
        {
            let mark = if v.severity == Level::Critical { "✖" } else { "▲" };
            lines.push((format!("{mark} {}", v.message), Tone::from(severity(v.severity))));
        }
        lines
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = self.server(ctx).map(|s| session_rows(&[s], ctx)).unwrap_or_default();
        let mut table = session_table(rows);
        if let Some(Err(e)) = self.server(ctx).map(|s| &s.poll.sessions) {
            table.empty = format!("sessions not read: {e}");
        }
        table
    }

    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        find_session(state(ctx)?, row)?;
        Some(Box::new(SessionView { key: row.to_string() }))
    }

    fn actions(&self, ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let (Some(s), Some(row)) = (state(ctx), row) else {
            return Vec::new();
        };
        find_session(s, row)
            .map(|(srv, x)| offers(srv, x, ctx.config.of::<Postgres>()))
            .unwrap_or_default()
    }

    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        state(ctx).map(|s| session_row_vars(s, row)).unwrap_or_default()
    }
}

/// One session in full: who, from where, its state and times, its whole query as read.
struct SessionView {
    key: String,
}

impl View for SessionView {
    fn crumb(&self) -> String {
        self.key
            .rsplit_once(" / ")
            .map_or(self.key.clone(), |(_, pid)| format!("pid {pid}"))
    }
    fn scope(&self) -> &'static str {
        "postgres.session"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Postgres::ID)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = state(ctx)
            .and_then(|s| find_session(s, &self.key))
            .map(|(srv, x)| {
                let field = |k: &str, v: String| Row {
                    key: k.to_string(),
                    cells: vec![Cell::text(k), Cell::text(v)],
                };
                let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
                vec![
                    field("server", srv.poll.server.clone()),
                    field("pid", x.pid.to_string()),
                    field("user", opt(&x.user)),
                    field("database", opt(&x.database)),
                    field("application", opt(&x.application)),
                    field("client", opt(&x.client)),
                    field("state", opt(&x.state)),
                    field(
                        "waiting on",
                        match (&x.wait_event_type, &x.wait_event) {
                            (Some(t), Some(w)) => format!("{t}/{w}"),
                            _ => "–".into(),
                        },
                    ),
                    field("session started", opt(&x.backend_start)),
                    field("query started", opt(&x.query_start)),
                    field("transaction age", x.xact_age_s.map(age).unwrap_or_else(|| "–".into())),
                    field("query", query_line(x, 4000)),
                ]
            })
            .unwrap_or_default();
        Table {
            columns: vec![
                Column::left("FIELD", 16).key(),
                Column::left("VALUE", 40).max(4000).grow().priority(9),
            ],
            rows,
            default_sort: None,
            empty: "this session has left pg_stat_activity".into(),
        }
    }

    fn actions(&self, ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        state(ctx)
            .and_then(|s| find_session(s, &self.key))
            .map(|(srv, x)| offers(srv, x, ctx.config.of::<Postgres>()))
            .unwrap_or_default()
    }
}
