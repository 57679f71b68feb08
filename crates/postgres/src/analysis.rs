//! Pure verdicts on one poll: what is wrong, how badly, and which row it is about. Blocking chains are
//! built here from `pg_blocking_pids` (root blockers first).

use crate::config::Thresholds;
use crate::model::{
    BlockedSession, ErrorKind, Part, PillowErrorGroup, QueryText, ReadError, ServerPoll, Session, pillow_error_totals,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing, not an alert.
    Info,
    Warning,
    Critical,
}

/// Which row of the pane a verdict is about (its drill-down target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Row {
    Server,
    /// A part of the poll that could not be read (`sessions`, `pillow_errors`, ...).
    Part {
        part: &'static str,
    },
    Session {
        pid: i32,
    },
    Standby {
        application: String,
    },
    Pillow {
        pillow: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub severity: Severity,
    pub server: String,
    pub row: Row,
    pub message: String,
}

/// Every verdict on `poll`, the worst first (stable within a severity: the order the checks run).
pub fn verdicts(poll: &ServerPoll, t: &Thresholds) -> Vec<Verdict> {
    let mut out = Vec::new();
    let mut say = |severity, row, message: String| {
        out.push(Verdict {
            severity,
            server: poll.server.clone(),
            row,
            message,
        })
    };
    if let Some(e) = whole_poll_failure(poll) {
        say(Severity::Critical, Row::Server, format!("cannot be read: {e}"));
        return out;
    }
    for (part, error) in part_errors(poll) {
        let severity = if part == "pillow_errors" && error.kind == ErrorKind::Missing {
            Severity::Warning
        } else if matches!(error.kind, ErrorKind::Unreachable | ErrorKind::Tls) {
            Severity::Critical
        } else {
            Severity::Warning
        };
        // The message already names the read (`pillow_errors: relation … does not exist`).
        say(severity, Row::Part { part }, error.message.clone());
    }
    if let Ok(info) = &poll.info
        && !info.sees_all_sessions
        && !info.superuser
    {
        say(
            Severity::Info,
            Row::Server,
            format!(
                "role {} sees only its own sessions: grant it pg_monitor to see every query",
                info.user
            ),
        );
    }
    if let Ok(c) = &poll.connections
        && c.max_connections > 0
    {
        let used = c.total as f64 / c.max_connections as f64;
        let severity = level(used, t.connections_warn, t.connections_crit);
        if let Some(severity) = severity {
            let hidden = if c.hidden > 0 {
                format!(" (and {} backends this role may not see)", c.hidden)
            } else {
                String::new()
            };
            say(
                severity,
                Row::Server,
                format!(
                    "{} of {} connections in use ({:.0}%){hidden}",
                    c.total,
                    c.max_connections,
                    used * 100.0
                ),
            );
        }
    }
    if let Ok(sessions) = &poll.sessions {
        for s in &sessions.rows {
            if let Some((severity, message)) = session_verdict(s, t) {
                say(severity, Row::Session { pid: s.pid }, message);
            }
        }
    }
    if let Ok(blocked) = &poll.blocking {
        let sessions = poll.sessions.as_ref().ok().map(|s| s.rows.as_slice()).unwrap_or(&[]);
        for chain in blocking_chains(blocked) {
            let wait = chain.longest_wait_s.unwrap_or(0.0);
            let severity = level_age(wait, t.blocked_warn.get(), t.blocked_crit.get()).unwrap_or(Severity::Info);
            // The root's state says what to do: an idle transaction holds its locks until it ends.
            let who = sessions
                .iter()
                .find(|s| s.pid == chain.root)
                .map(|s| match &s.state {
                    Some(state) => format!("{}, {state},", describe_session(s)),
                    None => describe_session(s),
                })
                .unwrap_or_else(|| format!("pid {}", chain.root));
            say(
                severity,
                Row::Session { pid: chain.root },
                format!(
                    "{who} blocks {} session{}, the longest waiting {}",
                    chain.blocked,
                    plural(chain.blocked),
                    age(wait)
                ),
            );
        }
    }
    if let Ok(r) = &poll.replication {
        if let Some(delay) = r.replay_delay_s
            && let Some(severity) = level_age(delay, t.replication_lag_warn.get(), t.replication_lag_crit.get())
        {
            say(
                severity,
                Row::Server,
                format!("replica: last replayed transaction {} ago", age(delay)),
            );
        }
        for s in &r.standbys {
            let name = s.application.clone().or_else(|| s.client.clone()).unwrap_or_default();
            if let Some(lag) = s.replay_lag_s
                && let Some(severity) = level_age(lag, t.replication_lag_warn.get(), t.replication_lag_crit.get())
            {
                say(
                    severity,
                    Row::Standby {
                        application: name.clone(),
                    },
                    format!("standby {name}: replay lag {}", age(lag)),
                );
            }
            if s.state.as_deref().is_some_and(|st| st != "streaming") {
                say(
                    Severity::Warning,
                    Row::Standby {
                        application: name.clone(),
                    },
                    format!("standby {name} is {}, not streaming", s.state.as_deref().unwrap_or("?")),
                );
            }
        }
    }
    if let Some(Ok(groups)) = &poll.pillow_errors {
        out_pillow_errors(groups, t, &mut say);
    }
    out.sort_by_key(|v| std::cmp::Reverse(v.severity));
    out
}

fn out_pillow_errors(groups: &[PillowErrorGroup], t: &Thresholds, say: &mut impl FnMut(Severity, Row, String)) {
    for total in pillow_error_totals(groups) {
        let errors = total.errors.max(0) as u64;
        let severity = if errors >= t.pillow_errors_crit {
            Severity::Critical
        } else if errors >= t.pillow_errors_warn {
            Severity::Warning
        } else {
            continue;
        };
        let oldest = total
            .oldest_age_s
            .map(|a| format!(", the oldest {} old", age(a)))
            .unwrap_or_default();
        say(
            severity,
            Row::Pillow {
                pillow: total.pillow.clone(),
            },
            format!(
                "pillow {}: {} error{} waiting for retry{oldest}",
                total.pillow,
                total.errors,
                plural(errors as usize)
            ),
        );
    }
}

/// The error every part shares when the poll failed before reading anything (no connection).
pub fn whole_poll_failure(poll: &ServerPoll) -> Option<&ReadError> {
    let first = poll.info.as_ref().err()?;
    let all = [
        poll.connections.as_ref().err(),
        poll.sessions.as_ref().err(),
        poll.blocking.as_ref().err(),
        poll.replication.as_ref().err(),
        poll.databases.as_ref().err(),
    ];
    all.iter().all(|e| *e == Some(first)).then_some(first)
}

/// The parts that failed, by name.
pub fn part_errors(poll: &ServerPoll) -> Vec<(&'static str, &ReadError)> {
    fn err<T>(p: &Part<T>) -> Option<&ReadError> {
        p.as_ref().err()
    }
    let mut out = Vec::new();
    let parts = [
        ("info", err(&poll.info)),
        ("connections", err(&poll.connections)),
        ("sessions", err(&poll.sessions)),
        ("blocking", err(&poll.blocking)),
        ("replication", err(&poll.replication)),
        ("databases", err(&poll.databases)),
        ("pillow_errors", poll.pillow_errors.as_ref().and_then(err)),
    ];
    for (name, e) in parts {
        if let Some(e) = e {
            out.push((name, e));
        }
    }
    out
}

fn session_verdict(s: &Session, t: &Thresholds) -> Option<(Severity, String)> {
    if s.is_active() {
        let a = s.query_age_s?;
        let severity = level_age(a, t.long_query_warn.get(), t.long_query_crit.get())?;
        // A query queued behind a lock is not slow itself: its blocker is (the chain's verdict names it).
        let doing = if s.wait_event_type.as_deref() == Some("Lock") {
            "waiting on a lock"
        } else {
            "running one query"
        };
        return Some((
            severity,
            format!("{} {doing} for {}: {}", describe_session(s), age(a), query_line(s, 60)),
        ));
    }
    if s.is_idle_in_transaction() {
        let a = s.state_age_s?;
        let severity = level_age(a, t.idle_in_transaction_warn.get(), t.idle_in_transaction_crit.get())?;
        return Some((
            severity,
            format!(
                "{} {} for {} (holds its locks; last query: {})",
                describe_session(s),
                s.state.as_deref().unwrap_or("idle in transaction"),
                age(a),
                query_line(s, 40)
            ),
        ));
    }
    None
}

/// `pid 123 (alice, celery)`.
pub fn describe_session(s: &Session) -> String {
    // Names come from the server (a role may be named anything): no control characters pass.
    let who: Vec<String> = [s.user.as_deref(), s.application.as_deref()]
        .into_iter()
        .flatten()
        .map(|x| x.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|x| !x.is_empty())
        .collect();
    if who.is_empty() {
        format!("pid {}", s.pid)
    } else {
        format!("pid {} ({})", s.pid, who.join(", "))
    }
}

/// The query on one line, at most `max` characters; a hidden query is said to be hidden.
pub fn query_line(s: &Session, max: usize) -> String {
    match s.query_text() {
        QueryText::Hidden => "(hidden: this role lacks pg_read_all_stats / pg_monitor)".to_string(),
        QueryText::None => "(no query)".to_string(),
        QueryText::Text(q) => {
            let one_line: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
            let one_line: String = one_line.chars().filter(|c| !c.is_control()).collect();
            if one_line.chars().count() > max {
                let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
                format!("{cut}…")
            } else {
                one_line
            }
        }
    }
}

/// A root blocker and everything waiting behind it, transitively.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockingChain {
    pub root: i32,
    /// Who waits behind the root, in chain order (breadth first), each with its depth (1 = waits on root).
    pub members: Vec<ChainMember>,
    /// Sessions waiting behind the root (`members.len()`).
    pub blocked: usize,
    pub longest_wait_s: Option<f64>,
    /// The server reported a wait cycle (a deadlock it has not broken yet): the root is its lowest pid.
    pub cycle: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainMember {
    pub pid: i32,
    pub depth: usize,
    pub blocked_by: Vec<i32>,
    pub waiting_s: Option<f64>,
}

/// Chains from `pg_blocking_pids`: roots (blocking others, waiting on nobody) first, the longest chains
/// first. A session waiting on two blockers appears under the first root that reaches it.
pub fn blocking_chains(blocked: &[BlockedSession]) -> Vec<BlockingChain> {
    let waits: HashMap<i32, &BlockedSession> = blocked.iter().map(|b| (b.pid, b)).collect();
    let mut behind: BTreeMap<i32, BTreeSet<i32>> = BTreeMap::new();
    for b in blocked {
        for blocker in &b.blocked_by {
            behind.entry(*blocker).or_default().insert(b.pid);
        }
    }
    let mut roots: Vec<(i32, bool)> = behind
        .keys()
        .filter(|p| !waits.contains_key(p))
        .map(|p| (*p, false))
        .collect();
    let mut reached: BTreeSet<i32> = BTreeSet::new();
    let mut chains = Vec::new();
    let walk = |root: i32, cycle: bool, reached: &mut BTreeSet<i32>| {
        let mut members = Vec::new();
        let mut frontier = vec![root];
        reached.insert(root);
        let mut depth = 0;
        while !frontier.is_empty() {
            depth += 1;
            let mut next = Vec::new();
            for pid in frontier {
                for waiter in behind.get(&pid).into_iter().flatten() {
                    if reached.insert(*waiter) {
                        let b = waits.get(waiter);
                        members.push(ChainMember {
                            pid: *waiter,
                            depth,
                            blocked_by: b.map(|b| b.blocked_by.clone()).unwrap_or_default(),
                            waiting_s: b.and_then(|b| b.waiting_s),
                        });
                        next.push(*waiter);
                    }
                }
            }
            frontier = next;
        }
        let longest_wait_s = members.iter().filter_map(|m| m.waiting_s).reduce(f64::max);
        BlockingChain {
            root,
            blocked: members.len(),
            members,
            longest_wait_s,
            cycle,
        }
    };
    for (root, cycle) in roots.drain(..) {
        chains.push(walk(root, cycle, &mut reached));
    }
    // What no root reached waits in a cycle: start from its lowest pid.
    let mut left: Vec<i32> = waits.keys().copied().filter(|p| !reached.contains(p)).collect();
    left.sort_unstable();
    for pid in left {
        if !reached.contains(&pid) {
            chains.push(walk(pid, true, &mut reached));
        }
    }
    chains.sort_by(|a, b| {
        b.blocked
            .cmp(&a.blocked)
            .then_with(|| {
                b.longest_wait_s
                    .unwrap_or(0.0)
                    .total_cmp(&a.longest_wait_s.unwrap_or(0.0))
            })
            .then_with(|| a.root.cmp(&b.root))
    });
    chains
}

fn level(value: f64, warn: f64, crit: f64) -> Option<Severity> {
    if value >= crit {
        Some(Severity::Critical)
    } else if value >= warn {
        Some(Severity::Warning)
    } else {
        None
    }
}

fn level_age(secs: f64, warn: Duration, crit: Duration) -> Option<Severity> {
    level(secs, warn.as_secs_f64(), crit.as_secs_f64())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A compact age: `42s`, `12m03s`, `3h12m`, `2d04h`.
pub fn age(secs: f64) -> String {
    let s = if secs.is_finite() && secs > 0.0 { secs as u64 } else { 0 };
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m{:02}s", s / 60, s % 60),
        3_600..86_400 => format!("{}h{:02}m", s / 3_600, s % 3_600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3_600),
    }
}

#[cfg(test)]
mod tests;
