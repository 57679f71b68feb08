//! Verdicts on answers captured from the real server (tests/fixtures, see capture.sh there): a long
//! query holding a row lock, two sessions queued behind it, one idle in transaction, pillow errors.

use super::*;
use crate::config::{ConfigDuration, Thresholds};
use crate::model::{Connections, Replication, ServerInfo, Sessions};
use crate::source::parse;

macro_rules! fixture {
    ($what:literal, $file:literal) => {
        parse($what, include_str!(concat!("../../tests/fixtures/", $file))).unwrap()
    };
}

fn captured_poll() -> ServerPoll {
    ServerPoll {
        server: "hq-db".into(),
        info: Ok(fixture!("info", "info.ro.json")),
        connections: Ok(fixture!("connections", "connections.ro.json")),
        sessions: Ok(fixture!("sessions", "sessions.ro.json")),
        blocking: Ok(fixture!("blocking", "blocking.ro.json")),
        replication: Ok(fixture!("replication", "replication.ro.json")),
        databases: Ok(fixture!("databases", "databases.ro.json")),
        pillow_errors: Some(Ok(fixture!("pillow_errors", "pillow_errors.admin.json"))),
    }
}

/// Thresholds low enough for the seconds-old scene of the capture.
fn tight() -> Thresholds {
    Thresholds {
        connections_warn: 0.04,
        connections_crit: 0.5,
        long_query_warn: ConfigDuration(Duration::from_secs(1)),
        long_query_crit: ConfigDuration(Duration::from_secs(3600)),
        idle_in_transaction_warn: ConfigDuration(Duration::from_secs(1)),
        idle_in_transaction_crit: ConfigDuration(Duration::from_secs(2)),
        blocked_warn: ConfigDuration(Duration::from_secs(1)),
        blocked_crit: ConfigDuration(Duration::from_secs(3600)),
        pillow_errors_warn: 5,
        pillow_errors_crit: 50,
        ..Thresholds::default()
    }
}

#[test]
fn the_captured_chain_has_the_long_query_at_its_root() {
    let poll = captured_poll();
    let sessions = poll.sessions.as_ref().unwrap();
    let sleeper = sessions
        .rows
        .iter()
        .find(|s| s.query.as_deref() == Some("SELECT pg_sleep(120)"))
        .unwrap();
    let chains = blocking_chains(poll.blocking.as_ref().unwrap());
    assert_eq!(chains.len(), 1, "{chains:#?}");
    let chain = &chains[0];
    assert_eq!(chain.root, sleeper.pid);
    assert!(!chain.cycle);
    // The second writer waits on the first (the tuple lock queue), so the chain is two deep.
    assert_eq!(chain.blocked, 2);
    assert_eq!(chain.members.iter().map(|m| m.depth).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(chain.members[1].blocked_by, [chain.members[0].pid]);
}

#[test]
fn verdicts_on_the_captured_scene_worst_first() {
    let poll = captured_poll();
    let v = verdicts(&poll, &tight());
    let text: Vec<String> = v.iter().map(|v| format!("{:?} {}", v.severity, v.message)).collect();
    let sessions = poll.sessions.as_ref().unwrap();
    let root = sessions.rows[0].pid;
    let idle = sessions.rows.iter().find(|s| s.is_idle_in_transaction()).unwrap().pid;
    let expect = [
        format!("Critical pid {idle} (postgres, django-web) idle in transaction for"),
        "Critical pillow kafka-case-to-elasticsearch: 50 errors waiting for retry, the oldest 40m".to_string(),
        "Warning 5 of 100 connections in use (5%)".to_string(),
        format!("Warning pid {root} (postgres, pillow-case-to-es) running one query for"),
        format!("Warning pid {root} (postgres, pillow-case-to-es), active, blocks 2 sessions, the longest waiting"),
        "Warning pillow kafka-xform-to-elasticsearch: 5 errors waiting for retry".to_string(),
        format!(
            "Warning pid {} (opsdeck_op, celery-worker) waiting on a lock for",
            sessions.rows[1].pid
        ),
    ];
    for e in &expect {
        assert!(
            text.iter().any(|t| t.starts_with(e.as_str())),
            "missing {e:?} in {text:#?}"
        );
    }
    let severities: Vec<Severity> = v.iter().map(|v| v.severity).collect();
    assert!(severities.windows(2).all(|w| w[0] >= w[1]), "{text:#?}");
    assert!(v.iter().any(|v| v.row
        == Row::Pillow {
            pillow: "kafka-case-to-elasticsearch".into()
        }));
    assert!(v.iter().any(|v| v.row == Row::Session { pid: root }));
}

#[test]
fn defaults_stay_quiet_on_a_seconds_old_scene() {
    let poll = captured_poll();
    let v = verdicts(&poll, &Thresholds::default());
    let text: Vec<String> = v.iter().map(|v| format!("{:?} {}", v.severity, v.message)).collect();
    // Only the pillow errors (any error waiting is worth a warning) and the seconds-old chain (info).
    assert!(
        v.iter()
            .all(|v| matches!(v.row, Row::Pillow { .. }) || v.severity == Severity::Info),
        "{text:#?}"
    );
}

#[test]
fn a_role_without_pg_monitor_sees_only_its_own_sessions_and_is_told() {
    let poll = ServerPoll {
        info: Ok(fixture!("info", "info.op.json")),
        connections: Ok(fixture!("connections", "connections.op.json")),
        sessions: Ok(fixture!("sessions", "sessions.op.json")),
        ..captured_poll()
    };
    let sessions: &Sessions = poll.sessions.as_ref().unwrap();
    assert_eq!(sessions.matched, 1);
    assert!(sessions.hidden > 0);
    let c: &Connections = poll.connections.as_ref().unwrap();
    let v = verdicts(
        &poll,
        &Thresholds {
            connections_warn: 0.01,
            ..tight()
        },
    );
    assert!(
        v.iter()
            .any(|v| v.severity == Severity::Info && v.message.contains("role opsdeck_op sees only its own sessions")),
        "{v:#?}"
    );
    let hidden = format!("(and {} backends this role may not see)", c.hidden);
    assert!(v.iter().any(|v| v.message.contains(&hidden)), "{v:#?}");
}

#[test]
fn a_refused_part_is_one_warning_and_the_rest_still_judged() {
    let server_words = include_str!("../../tests/fixtures/pillow_errors.ro.err");
    let poll = ServerPoll {
        pillow_errors: Some(Err(ReadError {
            kind: ErrorKind::Refused,
            // As the source words it (tests/peer.rs proves that against the server).
            message: format!(
                "pillow_errors: refused by the server: {}",
                server_words.trim().trim_start_matches("ERROR:").trim()
            ),
        })),
        ..captured_poll()
    };
    let v = verdicts(&poll, &tight());
    let refused: Vec<&Verdict> = v
        .iter()
        .filter(|v| v.row == Row::Part { part: "pillow_errors" })
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].severity, Severity::Warning);
    assert_eq!(
        refused[0].message,
        "pillow_errors: refused by the server: permission denied for table pillow_retry_pillowerror"
    );
    assert!(v.iter().any(|v| v.message.contains("blocks 2 sessions")));
}

#[test]
fn an_unreachable_server_is_one_critical_verdict() {
    let e = ReadError {
        kind: ErrorKind::Unreachable,
        message: "connecting: connection refused".into(),
    };
    let v = verdicts(&ServerPoll::failed("hq-db", e, true), &tight());
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].severity, Severity::Critical);
    assert_eq!(
        v[0].message,
        "cannot be read: unreachable: connecting: connection refused"
    );
}

#[test]
fn replication_lag_from_the_standby_or_the_replica() {
    let mut r: Replication = fixture!("replication", "replication.ro.json");
    assert!(!r.in_recovery && r.standbys.is_empty());
    r.replay_delay_s = Some(400.0);
    let poll = ServerPoll {
        replication: Ok(r),
        ..captured_poll()
    };
    let v = verdicts(&poll, &Thresholds::default());
    assert!(
        v.iter()
            .any(|v| v.severity == Severity::Critical && v.message == "replica: last replayed transaction 6m40s ago"),
        "{v:#?}"
    );
}

#[test]
fn chains_roots_first_and_cycles() {
    let b = |pid, by: &[i32], w| BlockedSession {
        pid,
        blocked_by: by.to_vec(),
        waiting_s: Some(w),
    };
    // 1 blocks 2 and 3; 3 blocks 4; 10 blocks 11; 20 and 21 wait on each other.
    let chains = blocking_chains(&[
        b(2, &[1], 5.0),
        b(3, &[1], 9.0),
        b(4, &[3], 1.0),
        b(11, &[10], 50.0),
        b(20, &[21], 2.0),
        b(21, &[20], 3.0),
    ]);
    let summary: Vec<(i32, usize, bool)> = chains.iter().map(|c| (c.root, c.blocked, c.cycle)).collect();
    assert_eq!(summary, [(1, 3, false), (10, 1, false), (20, 1, true)]);
    assert_eq!(
        chains[0].members.iter().map(|m| (m.pid, m.depth)).collect::<Vec<_>>(),
        [(2, 1), (3, 1), (4, 2)]
    );
    assert_eq!(chains[0].longest_wait_s, Some(9.0));
}

#[test]
fn hidden_queries_are_said_to_be_hidden() {
    let mut s = fixture!("sessions", "sessions.ro.json");
    let s: &mut Sessions = &mut s;
    let row = &mut s.rows[0];
    row.query = Some(crate::model::INSUFFICIENT_PRIVILEGE.into());
    assert_eq!(row.query_text(), QueryText::Hidden);
    assert!(query_line(row, 80).starts_with("(hidden:"));
    row.query = Some("SELECT\n  1,\t\u{1b}[31m 2".into());
    assert_eq!(query_line(row, 80), "SELECT 1, [31m 2");
    assert_eq!(query_line(row, 5), "SELE…");
}

#[test]
fn ages_are_compact() {
    assert_eq!(age(42.9), "42s");
    assert_eq!(age(725.0), "12m05s");
    assert_eq!(age(3.0 * 3600.0 + 720.0), "3h12m");
    assert_eq!(age(2.0 * 86400.0 + 4.0 * 3600.0), "2d04h");
    assert_eq!(age(f64::NAN), "0s");
}

#[test]
fn server_info_reads_what_the_role_may_do() {
    let ro: ServerInfo = fixture!("info", "info.ro.json");
    let op: ServerInfo = fixture!("info", "info.op.json");
    assert!(ro.sees_all_sessions && !ro.may_signal);
    assert!(!op.sees_all_sessions && op.may_signal);
}

#[test]
fn replication_read_from_a_real_streaming_pair() {
    let primary: Replication = fixture!("replication", "replication.primary.json");
    let standby: Replication = fixture!("replication", "replication.standby.json");
    assert!(!primary.in_recovery && primary.replay_delay_s.is_none());
    let s = &primary.standbys[0];
    assert_eq!(
        (s.state.as_deref(), s.sync_state.as_deref()),
        (Some("streaming"), Some("async"))
    );
    assert!(s.replay_lag_s.is_some() && s.replay_lag_bytes.is_some());
    assert!(standby.in_recovery && standby.standbys.is_empty());
    let delay = standby.replay_delay_s.unwrap();

    let tiny = Thresholds {
        replication_lag_warn: ConfigDuration(Duration::from_micros(1)),
        replication_lag_crit: ConfigDuration(Duration::from_secs(60)),
        ..Thresholds::default()
    };
    let on = |replication| {
        let poll = ServerPoll {
            replication: Ok(replication),
            pillow_errors: None,
            ..captured_poll()
        };
        verdicts(&poll, &tiny)
            .into_iter()
            .filter(|v| v.severity == Severity::Warning)
            .map(|v| (v.row, v.message))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        on(primary.clone()),
        [(
            Row::Standby {
                application: "walreceiver".into()
            },
            format!("standby walreceiver: replay lag {}", age(s.replay_lag_s.unwrap()))
        )]
    );
    assert_eq!(
        on(standby),
        [(
            Row::Server,
            format!("replica: last replayed transaction {} ago", age(delay))
        )]
    );
    // With the defaults a sub-second lag says nothing.
    let poll = ServerPoll {
        replication: Ok(primary),
        ..captured_poll()
    };
    assert!(
        !verdicts(&poll, &Thresholds::default())
            .iter()
            .any(|v| matches!(v.row, Row::Standby { .. }))
    );
}
