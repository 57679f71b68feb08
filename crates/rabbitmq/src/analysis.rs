//! Verdicts from a snapshot (and the one before it, for trends): pure, no I/O.
//!
//! From the runbooks and the issue: a queue with messages and nobody consuming is critical (Celery's
//! workers died or lost the broker); unacknowledged messages piling up mean workers took tasks and do
//! not finish them; a memory or disk alarm blocks every publisher in the cluster; a backlog that only
//! grows needs a person (runbook 004: "clear the queue and unstick things by re-queuing").

use crate::config::RabbitmqConfig;
use crate::model::{Node, Queue, QueueKey, Snapshot};
use opsdeck_core::alert::Severity;
use opsdeck_core::backlog::{Drain, Trend};
use opsdeck_core::time::short_duration;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub severity: Severity,
    pub target: Target,
    pub message: String,
}

/// The row a verdict is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Instance,
    Node(String),
    Queue(QueueKey),
}

/// Every verdict for `now`, worst first. `trends` (from each queue's recent ready counts, by core's
/// backlog rules) tell growth and time to drain; a queue without one is judged on its counts.
pub fn analyse(cfg: &RabbitmqConfig, now: &Snapshot, trends: &HashMap<QueueKey, Trend>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for (what, err) in [
        ("the overview", now.overview.as_ref().err()),
        ("the nodes", now.nodes.as_ref().err()),
        ("the queues", now.queues.as_ref().err()),
    ] {
        if let Some(err) = err {
            out.push(Verdict {
                severity: Severity::Warning,
                target: Target::Instance,
                message: format!("{what} could not be read: {err}"),
            });
        }
    }
    if let Ok(nodes) = &now.nodes {
        for n in nodes {
            node_verdicts(cfg, n, &mut out);
        }
    }
    if let Ok(queues) = &now.queues {
        for q in queues.iter().filter(|q| !q.is_housekeeping()) {
            queue_verdicts(cfg, q, trends.get(&q.key()), &mut out);
        }
    }
    if now.queues_cut {
        out.push(Verdict {
            severity: Severity::Warning,
            target: Target::Instance,
            message: "more queues than max_queues: the list is cut (narrow it with vhost)".into(),
        });
    }
    out.sort_by_key(|v| std::cmp::Reverse(v.severity));
    out
}

fn node_verdicts(cfg: &RabbitmqConfig, n: &Node, out: &mut Vec<Verdict>) {
    let mut say = |severity, message: String| {
        out.push(Verdict {
            severity,
            target: Target::Node(n.name.clone()),
            message,
        })
    };
    if !n.running {
        say(Severity::Critical, "node is not running".into());
        return;
    }
    let mem = format!("{} of {}", mib(n.mem_used), mib(n.mem_limit));
    if n.mem_alarm {
        say(
            Severity::Critical,
            format!("memory alarm ({mem}): publishers are blocked"),
        );
    } else if n.mem_limit > 0 && n.mem_used as f64 >= cfg.memory_warn * n.mem_limit as f64 {
        say(
            Severity::Warning,
            format!("near the memory alarm that blocks publishers: {mem}"),
        );
    }
    if n.disk_free_alarm {
        say(
            Severity::Critical,
            format!(
                "disk alarm ({} free, limit {}): publishers are blocked",
                mib(n.disk_free),
                mib(n.disk_free_limit)
            ),
        );
    }
    if n.fd_total > 0 && n.fd_used as f64 >= cfg.fd_warn * n.fd_total as f64 {
        say(
            Severity::Warning,
            format!("file descriptors {} of {}", n.fd_used, n.fd_total),
        );
    }
}

fn queue_verdicts(cfg: &RabbitmqConfig, q: &Queue, t: Option<&Trend>, out: &mut Vec<Verdict>) {
    // Messages a minute, as the counts moved (not the server's 5-second rate samples).
    let per_min = t.and_then(|t| t.net_rate).map(|r| r * 60.0);
    let mut say = |severity, message: String| {
        out.push(Verdict {
            severity,
            target: Target::Queue(q.key()),
            message,
        })
    };
    if let Some(state) = q.state.as_deref().filter(|s| *s != "running" && *s != "idle") {
        say(Severity::Critical, format!("queue is {state}"));
    }
    if q.messages_ready > 0 && q.consumers == 0 {
        say(
            Severity::Critical,
            format!("nothing consumes it: {} messages waiting", q.messages_ready),
        );
    } else if q.messages_ready > 0 && q.deliver_rate().unwrap_or(0.0) == 0.0 && per_min.is_some_and(|m| m >= 0.0) {
        // Consumers attached yet nothing delivered over two polls: each holds its prefetch
        // unacknowledged and is stuck on it (runbook 004's "stuck state").
        say(
            Severity::Warning,
            format!(
                "{} consumers but nothing delivered: {} messages waiting (workers stuck?)",
                q.consumers, q.messages_ready
            ),
        );
    } else if cfg.backlog_warn > 0 && q.messages_ready > cfg.backlog_warn {
        let drain = match t.map(|t| t.drain) {
            Some(Drain::In(d)) => format!(", drains in ~{}", short_duration(d)),
            _ => String::new(),
        };
        say(
            Severity::Warning,
            format!("backlog of {} ready messages{drain}", q.messages_ready),
        );
    }
    if cfg.unacked_warn > 0 && q.messages_unacknowledged > cfg.unacked_warn {
        say(
            Severity::Warning,
            format!(
                "{} unacknowledged: workers took tasks and do not finish them",
                q.messages_unacknowledged
            ),
        );
    }
    if let Some(m) = per_min.filter(|m| cfg.growth_warn_per_min > 0.0 && *m > cfg.growth_warn_per_min) {
        say(Severity::Warning, format!("growing by {m:.0} messages a minute"));
    }
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{QueueStats, Rate, Sample};

    fn queue(ready: u64, unacked: u64, consumers: u64, publish: f64, deliver: f64) -> Queue {
        Queue {
            vhost: "/".into(),
            name: "celery".into(),
            messages_ready: ready,
            messages_unacknowledged: unacked,
            consumers,
            idle_since: None,
            durable: true,
            auto_delete: false,
            arguments: Default::default(),
            kind: None,
            state: Some("running".into()),
            node: None,
            message_stats: Some(QueueStats {
                publish: None,
                publish_details: Some(Rate { rate: publish }),
                deliver_get_details: Some(Rate { rate: deliver }),
            }),
        }
    }

    fn snap(queues: Vec<Queue>) -> Snapshot {
        Snapshot {
            instance: "t".into(),
            at_ms: 0,
            overview: Ok(Default::default()),
            nodes: Ok(vec![]),
            queues: Ok(queues),
            queues_cut: false,
        }
    }

    /// The verdicts on `now`, with the trend from `prev` a minute before it (core's backlog rules).
    fn messages(now: Vec<Queue>, prev: Option<Vec<Queue>>) -> Vec<(Severity, String)> {
        let mut trends = HashMap::new();
        if let Some(prev) = prev {
            for (p, n) in prev.iter().zip(&now) {
                let samples = [
                    Sample {
                        at: 0.0,
                        ready: p.messages_ready,
                    },
                    Sample {
                        at: 60.0,
                        ready: n.messages_ready,
                    },
                ];
                trends.insert(n.key(), opsdeck_core::backlog::trend(samples.iter()));
            }
        }
        analyse(&RabbitmqConfig::default(), &snap(now), &trends)
            .into_iter()
            .map(|v| (v.severity, v.message))
            .collect()
    }

    #[test]
    fn a_draining_backlog_says_when_it_empties() {
        let v = messages(
            vec![queue(20_000, 0, 8, 10.0, 30.0)],
            Some(vec![queue(21_000, 0, 8, 10.0, 30.0)]),
        );
        assert_eq!(
            v,
            [(
                Severity::Warning,
                "backlog of 20000 ready messages, drains in ~20m".into()
            )]
        );
    }

    #[test]
    fn a_queue_that_grew_since_the_last_poll_is_not_draining_whatever_the_rates_say() {
        let v = messages(
            vec![queue(20_000, 0, 8, 10.0, 30.0)],
            Some(vec![queue(19_000, 0, 8, 10.0, 30.0)]),
        );
        assert_eq!(
            v,
            [
                (Severity::Warning, "backlog of 20000 ready messages".into()),
                (Severity::Warning, "growing by 1000 messages a minute".into()),
            ]
        );
    }

    #[test]
    fn consumers_that_deliver_nothing_over_two_polls_are_stuck() {
        let stuck = || queue(40, 16, 4, 1.0, 0.0);
        let v = messages(vec![stuck()], Some(vec![stuck()]));
        assert_eq!(
            v,
            [(
                Severity::Warning,
                "4 consumers but nothing delivered: 40 messages waiting (workers stuck?)".into()
            )]
        );
        assert_eq!(
            messages(vec![stuck()], None),
            [],
            "one poll is not enough to call it stuck"
        );
        assert_eq!(messages(vec![queue(40, 16, 4, 1.0, 2.0)], Some(vec![stuck()])), []);
    }

    #[test]
    fn unacknowledged_messages_piling_up_are_a_warning() {
        let v = messages(vec![queue(0, 5_000, 4, 1.0, 0.0)], None);
        assert_eq!(
            v,
            [(
                Severity::Warning,
                "5000 unacknowledged: workers took tasks and do not finish them".into()
            )]
        );
    }

    #[test]
    fn disk_alarm_and_descriptors_on_a_node() {
        let mut s = snap(vec![]);
        s.nodes = Ok(vec![Node {
            name: "rabbit@a".into(),
            running: true,
            mem_used: 100 << 20,
            mem_limit: 1000 << 20,
            mem_alarm: false,
            disk_free: 10 << 20,
            disk_free_limit: 50 << 20,
            disk_free_alarm: true,
            fd_used: 900,
            fd_total: 1000,
            uptime: 0,
        }]);
        let v: Vec<_> = analyse(&RabbitmqConfig::default(), &s, &HashMap::new())
            .into_iter()
            .map(|v| (v.severity, v.message))
            .collect();
        assert_eq!(
            v,
            [
                (
                    Severity::Critical,
                    "disk alarm (10 MiB free, limit 50 MiB): publishers are blocked".into()
                ),
                (Severity::Warning, "file descriptors 900 of 1000".into()),
            ]
        );
    }
}
