//! `opsdeck doctor` for RabbitMQ: each instance's management API read once, changing nothing: can
//! we connect (https with the CA as configured) and log in, and may the user read each part the
//! pane shows (the overview, the nodes, the queues) — a part refused names the server's words.
//! Whether the user may purge is not asked: only a purge would tell.

use crate::Rabbitmq;
use crate::model::{Node, Overview, QueuePage};
use crate::source::ApiError;
use crate::source::poll::{nodes_path, overview_path, queues_path};
use futures::future::{BoxFuture, join_all};
use opsdeck_core::doctor::{Doctor, Finding, Verdict};
use opsdeck_core::pane::{Pane, PaneBackends, PaneConfigs};
use opsdeck_core::source_error::SourceError;

fn verdict<T>(r: Result<T, ApiError>, ok: impl FnOnce(T) -> String) -> Verdict {
    match r {
        Ok(v) => Verdict::Ok(ok(v)),
        Err(e) => SourceError::from(e).into(),
    }
}

impl Doctor for Rabbitmq {
    fn doctor<'a>(config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            let Some(backend) = backends.of::<Rabbitmq>() else {
                return Vec::new();
            };
            let cfg = config.of::<Rabbitmq>();
            let checks = cfg.instances.iter().map(|inst| async move {
                let line = |what: &str, v: Verdict| Finding::new(Rabbitmq::ID.name(), &inst.name, what, v);
                let client = match backend.client(&inst.name) {
                    Ok(c) => c,
                    Err(e) => return vec![line("set up the client", Verdict::Missing(e))],
                };
                let paths = (overview_path(), nodes_path(), queues_path(inst.vhost.as_deref(), 1, 1));
                let (overview, nodes, queues) = tokio::join!(
                    client.get::<Overview>(&paths.0),
                    client.get::<Vec<Node>>(&paths.1),
                    client.get::<QueuePage>(&paths.2),
                );
                vec![
                    line(
                        "read the overview",
                        verdict(overview, |o| format!("RabbitMQ {}", o.rabbitmq_version)),
                    ),
                    line("read the nodes", verdict(nodes, |n| format!("{} node(s)", n.len()))),
                    line(
                        "list the queues",
                        verdict(queues, |p| format!("{} queue(s)", p.filtered_count)),
                    ),
                    line(
                        "purge",
                        Verdict::NotChecked(format!(
                            "whether {} may purge (read permission on the queue) is not asked: only a purge would tell",
                            inst.user
                        )),
                    ),
                ]
            });
            join_all(checks).await.into_iter().flatten().collect()
        })
    }
}
