//! SQS against moto: discovery, attributes, DLQ links, purge, and the client-side redrive fallback.

use super::harness::*;
use opsdeck_core::action::OutcomeResult;
use opsdeck_core::feed::FeedData;
use opsdeck_queues::actions::{purge_plan, redrive_plan};
use opsdeck_queues::model::QueuesState;
use std::collections::{BTreeSet, HashMap};
use std::time::SystemTime;

fn redrive_policy(dlq_arn: &str, max: u32) -> String {
    format!(r#"{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": {max}}}"#)
}

async fn poll_state(aws: &opsdeck_queues::source::AwsBackend) -> QueuesState {
    let poll = aws.poll(&mut HashMap::new()).await.expect("poll");
    let mut state = None;
    QueuesState::absorb(&mut state, poll, SystemTime::now());
    state.unwrap()
}

#[tokio::test]
async fn discovery_attributes_and_dlq_links() {
    let moto = Moto::start().await;
    let mut cfg = aws_config(&moto.endpoint);
    let aws = backend(&cfg).await;
    let dlq = create_queue(&aws, "dead-uploads", &[]).await;
    let dlq_arn = queue_arn(&aws, &dlq).await;
    let up1 = create_queue(
        &aws,
        "upload-1",
        &[
            ("RedrivePolicy", redrive_policy(&dlq_arn, 3)),
            ("MessageRetentionPeriod", "1209600".into()),
        ],
    )
    .await;
    create_queue(&aws, "upload-2", &[]).await;
    create_queue(&aws, "unrelated", &[]).await;
    let ingest = create_queue(&aws, "ingest", &[]).await;
    for i in 0..4 {
        send(&aws, &up1, &format!("m{i}")).await;
    }
    aws.sqs
        .send_message()
        .queue_url(&up1)
        .message_body("later")
        .delay_seconds(300)
        .send()
        .await
        .unwrap();
    let got = aws
        .sqs
        .receive_message()
        .queue_url(&up1)
        .max_number_of_messages(2)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages().len(), 2);
    send(&aws, &dlq, "dead").await;
    send(&aws, &ingest, "i").await;

    cfg.queue_prefixes = vec!["upload-".into()];
    cfg.queues = vec!["ingest".into(), "no-such-queue".into()];
    let aws = backend(&cfg).await;
    let state = poll_state(&aws).await;
    let names: Vec<&str> = state.queues.iter().map(|q| q.info.name.as_str()).collect();
    assert_eq!(
        names,
        ["dead-uploads", "ingest", "no-such-queue", "upload-1", "upload-2"]
    );
    let q = &state.queue("upload-1").unwrap().info;
    assert_eq!((q.visible, q.in_flight, q.delayed), (2, 2, 1));
    assert_eq!(q.retention_secs, 1_209_600);
    let d = q.dlq.as_ref().expect("RedrivePolicy read");
    assert_eq!(
        (d.name.as_str(), d.max_receive_count, d.depth),
        ("dead-uploads", 3, Some(1))
    );
    assert_eq!(
        state.queue("dead-uploads").unwrap().info.dlq_of,
        vec!["upload-1".to_string()]
    );
    assert_eq!(state.queue("ingest").unwrap().info.visible, 1);
    let missing = state.queue("no-such-queue").unwrap().info.error.clone().unwrap();
    assert!(missing.contains("no such queue"), "{missing}");

    // Snapshot JSON names the fields as the issue does.
    let json = serde_json::to_value(&state).unwrap();
    let up = json["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "upload-1")
        .unwrap();
    assert_eq!(up["in_flight"], 2);
    assert_eq!(up["dlq"]["depth"], 1);
}

#[tokio::test]
async fn purge_loses_what_the_plan_said_and_handles_purge_in_progress() {
    let moto = Moto::start().await;
    let cfg = aws_config(&moto.endpoint);
    let aws = backend(&cfg).await;
    let url = create_queue(&aws, "stuck-jobs", &[]).await;
    for i in 0..7 {
        send(&aws, &url, &format!("job {i}")).await;
    }
    let info = aws.queue_info(url.clone()).await;
    let plan = purge_plan(&info).unwrap();
    assert!(plan.description.contains("about 7 messages"), "{}", plan.description);
    let (outcome, _) = execute(plan.clone(), &aws).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    assert_eq!(aws.queue_info(url.clone()).await.visible, 0);
    // A second purge within 60 s: SQS (and moto) answer PurgeQueueInProgress.
    let (outcome, progress) = execute(plan, &aws).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    assert!(outcome.summary.contains("already in progress"), "{}", outcome.summary);
    assert!(
        progress.iter().any(|p| p.contains("already in progress")),
        "{progress:?}"
    );
}

#[tokio::test]
async fn dlq_fallback_redrive_moves_every_message_without_loss() {
    let moto = Moto::start().await;
    let mut cfg = aws_config(&moto.endpoint);
    let aws = backend(&cfg).await;
    let dlq = create_queue(&aws, "tiles-dlq", &[]).await;
    let dlq_arn = queue_arn(&aws, &dlq).await;
    let src = create_queue(&aws, "tiles", &[("RedrivePolicy", redrive_policy(&dlq_arn, 1))]).await;
    let sent: BTreeSet<String> = (0..23).map(|i| format!("tile-{i}")).collect();
    for b in &sent {
        send(&aws, &dlq, b).await;
    }
    cfg.queues = vec!["tiles".into()];
    let aws = backend(&cfg).await;
    let state = poll_state(&aws).await;
    let dlq_info = &state.queue("tiles-dlq").expect("DLQ found via RedrivePolicy").info;
    assert_eq!(dlq_info.visible, 23);
    let plan = redrive_plan(&state, dlq_info, 500).unwrap();
    let (outcome, progress) = execute(plan, &aws).await;
    assert_eq!(
        outcome.result,
        OutcomeResult::Succeeded,
        "{} / {progress:?}",
        outcome.summary
    );
    assert!(
        outcome.summary.contains("ReceiveMessage/SendMessage/DeleteMessage"),
        "{}",
        outcome.summary
    );
    assert!(
        progress.iter().any(|p| p.contains("move-task API unavailable")),
        "{progress:?}"
    );
    let after = aws.queue_info(dlq.clone()).await;
    assert_eq!(after.visible + after.in_flight, 0);
    // Every message arrived exactly once.
    let mut got = Vec::new();
    loop {
        let r = aws
            .sqs
            .receive_message()
            .queue_url(&src)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if r.messages().is_empty() {
            break;
        }
        for m in r.messages() {
            got.push(m.body().unwrap().to_string());
            aws.sqs
                .delete_message()
                .queue_url(&src)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    got.sort();
    assert_eq!(got.len(), 23, "no duplicates: {got:?}");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), sent);
}

#[tokio::test]
async fn fallback_redrive_never_deletes_when_the_send_fails() {
    let moto = Moto::start().await;
    let mut cfg = aws_config(&moto.endpoint);
    let aws = backend(&cfg).await;
    let dlq = create_queue(&aws, "orders-dlq", &[]).await;
    let dlq_arn = queue_arn(&aws, &dlq).await;
    let src = create_queue(&aws, "orders", &[("RedrivePolicy", redrive_policy(&dlq_arn, 1))]).await;
    for i in 0..5 {
        send(&aws, &dlq, &format!("order-{i}")).await;
    }
    cfg.queues = vec!["orders".into()];
    let aws = backend(&cfg).await;
    let state = poll_state(&aws).await;
    let plan = redrive_plan(&state, &state.queue("orders-dlq").unwrap().info, 100).unwrap();
    // The destination disappears between plan and run: every send fails.
    aws.sqs.delete_queue().queue_url(&src).send().await.unwrap();
    let (outcome, _) = execute(plan, &aws).await;
    assert_eq!(outcome.result, OutcomeResult::Failed, "{}", outcome.summary);
    assert!(outcome.summary.contains("stays in the DLQ"), "{}", outcome.summary);
    let after = aws.queue_info(dlq).await;
    assert_eq!(after.visible + after.in_flight, 5, "nothing deleted: {after:?}");
}
