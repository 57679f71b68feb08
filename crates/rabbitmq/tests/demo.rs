//! The demo's management API, through the pane's own client, analysis and actions: the Celery queue
//! backs up with no consumer and the node nears its memory alarm; a purge fixes both, for good.

use opsdeck_core::action::OutcomeResult;
use opsdeck_core::alert::Severity;
use opsdeck_rabbitmq::actions::{execute_purge, plan_purge};
use opsdeck_rabbitmq::analysis::{Target, analyse};
use opsdeck_rabbitmq::config::{InstanceConfig, RabbitmqConfig};
use opsdeck_rabbitmq::demo::{DemoServer, NODE};
use opsdeck_rabbitmq::model::Snapshot;
use opsdeck_rabbitmq::source::{Client, poll};
use std::time::{Duration, Instant};

fn config(url: &str, dir: &tempfile::TempDir) -> InstanceConfig {
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "demo\n").unwrap();
    toml::from_str(&format!(
        "name = 'demo'\nurl = '{url}'\nuser = 'demo'\npassword_file = '{}'\npage_size = 2",
        pw.display()
    ))
    .unwrap()
}

fn verdicts(snap: &Snapshot) -> Vec<(Severity, String)> {
    analyse(&RabbitmqConfig::default(), snap, &Default::default())
        .into_iter()
        .map(|v| {
            let on = match v.target {
                Target::Queue(k) => k.name,
                Target::Node(n) => n,
                Target::Instance => "instance".into(),
            };
            (v.severity, format!("{on}: {}", v.message))
        })
        .collect()
}

#[tokio::test]
async fn the_demo_backs_up_until_a_purge_and_stays_fixed() {
    let server = DemoServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&server.url(), &dir);
    let client = Client::from_config(&cfg).unwrap();

    let before = poll(&client, &cfg).await;
    assert_eq!(before.queues.as_ref().unwrap().len(), 4, "two pages of two");
    let v = verdicts(&before);
    assert_eq!(v[0].0, Severity::Critical);
    assert!(v[0].1.starts_with("celery: nothing consumes it: 18"), "{v:?}");
    assert!(
        v.iter().any(|(s, m)| *s == Severity::Warning
            && m.starts_with(&format!("{NODE}: near the memory alarm"))
            && m.contains("near the memory alarm that blocks publishers")),
        "{v:?}"
    );

    let plan = plan_purge(&client, "demo", "/", "celery").await.unwrap();
    assert!(plan.ready >= 1800 && plan.consumers == 0);
    let outcome = execute_purge(&client, &plan, Duration::from_secs(5)).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    assert!(
        outcome.summary.starts_with("purged celery: ready is 0"),
        "{}",
        outcome.summary
    );

    // The workers consume again: across several polls nothing is critical and memory has fallen.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut polls = 0;
    while polls < 5 || Instant::now() < deadline {
        let after = poll(&client, &cfg).await;
        assert_eq!(verdicts(&after), vec![], "poll {polls} after the purge");
        polls += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_demo_refuses_unknown_queues() {
    let server = DemoServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = Client::from_config(&config(&server.url(), &dir)).unwrap();
    let err = plan_purge(&client, "demo", "/", "nope").await.unwrap_err();
    assert_eq!(err.to_string(), "not found: Not Found");
}
