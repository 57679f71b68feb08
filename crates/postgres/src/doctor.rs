//! `opsdeck doctor` for PostgreSQL: each server polled once (read-only sessions, changing
//! nothing): can we connect (TLS as configured) and log in, which parts the role may read, whether
//! it sees every session's query (`pg_monitor` / `pg_read_all_stats`) and may cancel and terminate
//! other roles' backends (`pg_signal_backend`), as the server itself says.

use crate::Postgres;
use crate::analysis::{part_errors, whole_poll_failure};
use crate::model::{ErrorKind, ReadError};
use futures::future::{BoxFuture, join_all};
use opsdeck_core::doctor::{Doctor, Finding, Verdict};
use opsdeck_core::pane::{Pane, PaneBackends, PaneConfigs};

fn verdict(e: &ReadError) -> Verdict {
    match e.kind {
        ErrorKind::Refused | ErrorKind::Missing => Verdict::Missing(e.message.clone()),
        _ => Verdict::Unreachable(e.message.clone()),
    }
}

impl Doctor for Postgres {
    fn doctor<'a>(_config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let Some(backend) = backends.of::<Postgres>() else {
                return Vec::new();
            };
            let checks = backend
                .config
                .servers
                .iter()
                .filter_map(|s| backend.source(&s.name))
                .map(|source| async move {
                    let name = source.server().to_string();
                    let line = |what: &str, v: Verdict| Finding::new(Postgres::ID.name(), &name, what, v);
                    let poll = source.poll().await;
                    if let Some(e) = whole_poll_failure(&poll) {
                        return vec![line("connect and log in", verdict(e))];
                    }
                    let mut found = vec![line("connect and log in", Verdict::Ok(String::new()))];
                    let failed = part_errors(&poll);
                    for part in [
                        "connections",
                        "sessions",
                        "blocking",
                        "replication",
                        "databases",
                        "pillow_errors",
                    ] {
                        if let Some((_, e)) = failed.iter().find(|(p, _)| *p == part) {
                            found.push(line(&format!("read {part}"), verdict(e)));
                        }
                    }
                    if failed.is_empty() {
                        found.push(line("read every part", Verdict::Ok(String::new())));
                    }
                    if let Ok(info) = &poll.info {
                        let role = &info.user;
                        found.push(line(
                            "see every session's query",
                            if info.superuser || info.sees_all_sessions {
                                Verdict::Ok(String::new())
                            } else {
                                Verdict::Missing(format!("pg_read_all_stats (through pg_monitor) for role {role}"))
                            },
                        ));
                        found.push(line(
                            "cancel and terminate backends",
                            if info.superuser || info.may_signal {
                                Verdict::Ok(String::new())
                            } else {
                                Verdict::Missing(format!(
                                    "pg_signal_backend for role {role} (its own sessions only without it)"
                                ))
                            },
                        ));
                    }
                    found
                });
            join_all(checks).await.into_iter().flatten().collect()
        })
    }
}
