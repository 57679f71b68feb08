//! The demo's loopback AWS server through the real SDK clients: polls see its queues, tables and
//! metrics, and purge, redrive (move task) and raise capacity work on it.

use super::harness::*;
use opsdeck_core::action::OutcomeResult;
use opsdeck_core::feed::FeedData;
use opsdeck_queues::actions::{purge_plan, raise_capacity_plan, redrive_plan};
use opsdeck_queues::demo::{Sim, demo_config, serve};
use opsdeck_queues::model::QueuesState;
use std::collections::HashMap;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn demo_server_speaks_the_sdk_protocols_and_reacts_to_actions() {
    let cancel = CancellationToken::new();
    let mut sim = Sim::new();
    for _ in 0..150 {
        sim.tick(1.0); // into the ingest stall: dead letters waiting
    }
    let demo = serve(sim, cancel.clone()).await.unwrap();
    let cfg = demo_config(&demo.endpoint);
    let aws = backend(&cfg).await;
    let poll = aws.poll(&mut HashMap::new()).await.expect("poll");
    assert!(poll.warnings.is_empty(), "{:?}", poll.warnings);
    let names: Vec<&str> = poll.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(
        names,
        ["ingest", "ingest-dlq", "reports-legacy", "thumbnails", "upload"]
    );
    let legacy = poll.queues.iter().find(|q| q.name == "reports-legacy").unwrap();
    assert!(
        legacy.oldest_age_secs.unwrap() > 12.0 * 86_400.0,
        "age via CloudWatch query protocol"
    );
    let upload = poll.queues.iter().find(|q| q.name == "upload").unwrap();
    assert!(
        upload.sent_per_s.unwrap() > 0.0 && upload.deleted_per_s.unwrap() > 0.0,
        "{upload:?}"
    );
    let tile = poll.tables.iter().find(|t| t.name == "TileIndex").unwrap();
    assert!(tile.capacity.write_throttled.unwrap() > 0.0, "{tile:?}");
    assert_eq!(tile.gsis.len(), 1);
    assert!(
        poll.tables.iter().any(|t| t.name == "sessions"),
        "table prefix discovery"
    );
    let mut state = None;
    QueuesState::absorb(&mut state, poll, SystemTime::now());
    let state = state.unwrap();

    let (o, _) = execute(purge_plan(&state.queue("reports-legacy").unwrap().info).unwrap(), &aws).await;
    assert_eq!(o.result, OutcomeResult::Succeeded, "{}", o.summary);

    let dlq = &state.queue("ingest-dlq").unwrap().info;
    assert!(dlq.visible > 0);
    let mut plan = redrive_plan(&state, dlq, 500).unwrap();
    if let Some(opsdeck_queues::actions::QueuesOp::Redrive(r)) = plan.op.downcast_ref() {
        let mut r = r.clone();
        r.rate = 500; // finish within a couple of simulated seconds
        plan.op = std::sync::Arc::new(opsdeck_queues::actions::QueuesOp::Redrive(r));
    }
    let (o, progress) = execute(plan, &aws).await;
    assert!(
        o.summary.contains("via StartMessageMoveTask"),
        "{} {progress:?}",
        o.summary
    );
    assert_ne!(o.result, OutcomeResult::Failed, "{}", o.summary);

    let tile = state.table("TileIndex").unwrap();
    let (o, _) = execute(raise_capacity_plan(tile, None, 400, 400).unwrap(), &aws).await;
    assert_eq!(o.result, OutcomeResult::Succeeded, "{}", o.summary);
    assert_eq!(aws.table_info("TileIndex".into()).await.capacity.wcu, Some(400));
    cancel.cancel();
}

/// The storyline's queue beat: poison messages make ingest's consumers fail, the queue backs up and
/// dead letters arrive; purging ingest through the real executor ends it for the rest of the run.
#[tokio::test]
async fn demo_ingest_backs_up_at_its_beat_and_stays_drained_once_purged() {
    use opsdeck_queues::analysis::queue_verdict;
    let cancel = CancellationToken::new();
    let sim = Sim::new();
    let story = sim.story.clone();
    let demo = serve(sim, cancel.clone()).await.unwrap();
    let cfg = demo_config(&demo.endpoint);
    let aws = backend(&cfg).await;
    let tick = |n: usize| {
        let mut s = demo.sim.lock().unwrap();
        for _ in 0..n {
            s.tick(1.0);
        }
    };
    let polled = async || {
        let mut state = None;
        QueuesState::absorb(
            &mut state,
            aws.poll(&mut HashMap::new()).await.expect("poll"),
            SystemTime::now(),
        );
        state.unwrap()
    };
    tick(120);
    let calm = polled().await;
    let ingest = calm.queue("ingest").unwrap();
    assert_eq!(ingest.info.visible, 0, "its consumers keep up before the beat");
    let dead_before = calm.queue("ingest-dlq").unwrap().info.visible;

    story.skip_to(opsdeck_core::demo::beats::QUEUE_BACKLOG);
    tick(120);
    let backed_up = polled().await;
    let ingest = backed_up.queue("ingest").unwrap();
    let (_, why) = queue_verdict(ingest, &cfg);
    assert!(ingest.info.visible > 500, "{:?}", ingest.info);
    assert!(why.iter().any(|w| w.contains("backlog growing")), "{why:?}");
    assert!(backed_up.queue("ingest-dlq").unwrap().info.visible > dead_before + 100);

    let (o, _) = execute(purge_plan(&ingest.info).unwrap(), &aws).await;
    assert_eq!(o.result, OutcomeResult::Succeeded, "{}", o.summary);
    // The rest of the story: it stays drained.
    story.skip(std::time::Duration::from_secs(3600));
    tick(600);
    let after = polled().await;
    let ingest = after.queue("ingest").unwrap();
    assert_eq!(ingest.info.visible, 0, "{:?}", ingest.info);
    assert!(
        queue_verdict(ingest, &cfg).1.is_empty(),
        "{:?}",
        queue_verdict(ingest, &cfg)
    );
    cancel.cancel();
}
