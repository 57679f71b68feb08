//! `opsdeck doctor` for Redis: each instance polled once, changing nothing: can we connect (TLS as
//! configured), log in, and read each part the pane shows (`INFO`, the slow log, latency, queue
//! discovery) — a part the ACL user may not run names the server's refusal. Whether the user may
//! run the actions is not asked: `ACL DRYRUN` itself needs a right a viewer should not have.

use crate::Redis;
use crate::model::ErrorKind;
use crate::source::poll::InstanceSource;
use futures::future::{BoxFuture, join_all};
use opsdeck_core::doctor::{Doctor, Finding, Verdict};
use opsdeck_core::pane::{Pane, PaneBackends, PaneConfigs};

impl Doctor for Redis {
    fn doctor<'a>(config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            if backends.of::<Redis>().is_none() {
                return Vec::new();
            }
            let cfg = config.of::<Redis>();
            let checks = cfg.instances.iter().map(|inst| async move {
                let line = |what: &str, v: Verdict| Finding::new(Redis::ID.name(), &inst.name, what, v);
                let poll = InstanceSource::new(inst, cfg).poll().await;
                let poll = match poll {
                    Ok(p) => p,
                    Err(e) if e.kind == ErrorKind::Unauthorised => {
                        return vec![line("log in", Verdict::Missing(e.message))];
                    }
                    Err(e) => return vec![line("connect", Verdict::Unreachable(e.message))],
                };
                let mut found = vec![line("connect and log in", Verdict::Ok(String::new()))];
                let part = |what: &str, r: Option<&crate::model::RedisError>| match r {
                    None => line(what, Verdict::Ok(String::new())),
                    Some(e) if e.kind == ErrorKind::Unauthorised => line(what, Verdict::Missing(e.message.clone())),
                    Some(e) => line(what, Verdict::Unreachable(e.message.clone())),
                };
                found.push(part("read INFO", poll.info.as_ref().err()));
                found.push(part("read the slow log", poll.slowlog.as_ref().err()));
                found.push(part("read latency", poll.latency.as_ref().err()));
                if poll.queue_errors.is_empty() {
                    found.push(line("find queues", Verdict::Ok(format!("{} found", poll.queues.len()))));
                }
                for e in &poll.queue_errors {
                    found.push(part(&format!("find queues: {}", e.part), Some(&e.error)));
                }
                found.push(line(
                    "actions",
                    Verdict::NotChecked("the ACL user's rights to BGSAVE, RENAME, LMOVE, UNLINK are not asked".into()),
                ));
                found
            });
            join_all(checks).await.into_iter().flatten().collect()
        })
    }
}
