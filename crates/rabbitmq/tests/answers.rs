//! Parsers and verdicts on answers captured from a real RabbitMQ 3.10.8 (`scripts/peers up
//! rabbitmq`): 25 messages published to `celery` with no consumer, 3 to `reminder_queue`, and
//! Celery's housekeeping queues declared; read as `opsdeck_ro` (tag monitoring).

use opsdeck_core::alert::Severity;
use opsdeck_rabbitmq::analysis::{Target, analyse};
use opsdeck_rabbitmq::config::RabbitmqConfig;
use opsdeck_rabbitmq::model::{Node, Overview, QueuePage, Snapshot};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn snapshot() -> Snapshot {
    let page: QueuePage = serde_json::from_str(&fixture("queues_page.json")).unwrap();
    Snapshot {
        instance: "peer".into(),
        at_ms: 0,
        overview: Ok(serde_json::from_str::<Overview>(&fixture("overview.json")).unwrap()),
        nodes: Ok(serde_json::from_str::<Vec<Node>>(&fixture("nodes.json")).unwrap()),
        queues: Ok(page.items),
        queues_cut: false,
    }
}

#[test]
fn a_queue_page_parses_with_counts_rates_and_declaration() {
    let page: QueuePage = serde_json::from_str(&fixture("queues_page.json")).unwrap();
    assert_eq!((page.page, page.page_count, page.filtered_count), (1, 1, 4));
    let celery = page.items.iter().find(|q| q.name == "celery").unwrap();
    assert_eq!(
        (celery.vhost.as_str(), celery.messages_ready, celery.consumers),
        ("/", 25, 0)
    );
    assert_eq!(celery.publish_rate(), Some(0.0));
    assert_eq!(celery.deliver_rate(), None, "no delivery yet: the column is absent");
    assert!(celery.durable && !celery.auto_delete && celery.kind.as_deref() == Some("classic"));
    let hidden: Vec<&str> = page
        .items
        .iter()
        .filter(|q| q.is_housekeeping())
        .map(|q| q.name.as_str())
        .collect();
    assert_eq!(hidden, ["celeryev.0a1b2c3d", "worker1@host.celery.pidbox"]);
}

#[test]
fn a_partial_page_says_more_pages_follow() {
    let page: QueuePage = serde_json::from_str(&fixture("queues_page_1of2.json")).unwrap();
    assert_eq!((page.items.len(), page.page, page.page_count), (2, 1, 2));
}

#[test]
fn nodes_and_overview_parse() {
    let nodes: Vec<Node> = serde_json::from_str(&fixture("nodes.json")).unwrap();
    assert!(nodes[0].running && !nodes[0].mem_alarm && !nodes[0].disk_free_alarm);
    assert!(nodes[0].mem_limit > nodes[0].mem_used && nodes[0].fd_total == 20_000);
    let o: Overview = serde_json::from_str(&fixture("overview.json")).unwrap();
    assert_eq!(o.rabbitmq_version, "3.10.8");
    assert_eq!((o.queue_totals.messages_ready, o.object_totals.queues), (28, 4));
}

#[test]
fn queues_with_messages_and_no_consumer_are_critical_and_housekeeping_is_not_judged() {
    let verdicts = analyse(&RabbitmqConfig::default(), &snapshot(), &Default::default());
    let lines: Vec<(Severity, String, String)> = verdicts
        .iter()
        .map(|v| match &v.target {
            Target::Queue(k) => (v.severity, k.name.clone(), v.message.clone()),
            other => panic!("unexpected verdict on {other:?}: {}", v.message),
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                Severity::Critical,
                "celery".into(),
                "nothing consumes it: 25 messages waiting".into()
            ),
            (
                Severity::Critical,
                "reminder_queue".into(),
                "nothing consumes it: 3 messages waiting".into()
            ),
        ]
    );
}

#[test]
fn a_memory_alarm_on_the_captured_node_is_critical() {
    let mut s = snapshot();
    let nodes = s.nodes.as_mut().unwrap();
    nodes[0].mem_alarm = true;
    let v = analyse(&RabbitmqConfig::default(), &s, &Default::default());
    let node = v.iter().find(|v| matches!(v.target, Target::Node(_))).unwrap();
    assert_eq!(node.severity, Severity::Critical);
    assert!(node.message.contains("memory alarm") && node.message.contains("publishers are blocked"));
}

#[test]
fn a_refused_part_is_its_own_verdict_beside_the_others() {
    let mut s = snapshot();
    s.nodes = Err("the server refused user opsdeck_ro (401 not_authorised: Access refused.)".into());
    let v = analyse(&RabbitmqConfig::default(), &s, &Default::default());
    assert!(
        v.iter()
            .any(|v| v.target == Target::Instance && v.message.starts_with("the nodes could not be read"))
    );
    assert_eq!(v.iter().filter(|v| matches!(v.target, Target::Queue(_))).count(), 2);
}

#[test]
fn snapshot_json_shows_each_part_or_its_error_in_place() {
    let mut s = snapshot();
    s.queues = Err("no answer within 10s".into());
    let json: serde_json::Value = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(json["nodes"][0]["mem_alarm"], false);
    assert_eq!(json["overview"]["rabbitmq_version"], "3.10.8");
    assert_eq!(json["queues"], serde_json::json!({"error": "no answer within 10s"}));
}

/// The whole queue object (`GET /api/queues/%2F/celery`), as a purge plan reads it.
#[test]
fn a_whole_queue_object_gives_the_plans_identity() {
    let q: opsdeck_rabbitmq::model::Queue = serde_json::from_str(&fixture("queue_one.json")).unwrap();
    let id = opsdeck_rabbitmq::actions::QueueIdentity::of(&q);
    assert_eq!((q.messages_ready, q.consumers), (25, 0));
    assert_eq!(
        (id.durable, id.auto_delete, id.kind.as_deref(), id.published),
        (true, false, Some("classic"), Some(25))
    );
}
