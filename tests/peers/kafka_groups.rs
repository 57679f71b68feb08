//! Consumer-group pillows against a real broker while a real member of the group consumes: opsdeck
//! reads the group's offsets without joining it (the member is never rebalanced), and refuses to move
//! the checkpoint of a group that has members.

use super::env::{peer, unique};
use super::kafka::{Member, Served, create_topic, served, wait_served};
use crate::peers::pillows_common::*;
use opsdeck_core::action::OutcomeResult;
use opsdeck_pillows::actions::plan_move_checkpoint;
use opsdeck_pillows::config::PillowConfig;
use opsdeck_pillows::model::PartitionStatus;
use opsdeck_pillows::source::PillowsBackend;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, SystemTime};

pub fn group_pillow(group: &str, topic: &str) -> PillowConfig {
    PillowConfig {
        group: Some(group.into()),
        topics: vec![topic.into()],
        ..pillow("ucr-pillow")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_group_is_read_without_joining_and_its_member_is_never_rebalanced() {
    let brokers = peer!("OPSDECK_KAFKA");
    let home = peer!("OPSDECK_KAFKA_HOME");
    let (topic, group) = (unique("case-sql"), unique("ucr"));
    create_topic(&brokers, &topic, &[&[1], &[1]]).await;
    produce(&brokers, &topic, 0, 10, 10);
    produce(&brokers, &topic, 1, 5, 10);
    let member = Member::join(&brokers, &group, &topic).await;
    member.commit(&topic, &[(0, 4), (1, 2)]);
    let heartbeats = |h: &str| -> Vec<Served> {
        served(h)
            .into_iter()
            .filter(|s| s.api() == "HEARTBEAT" && s.client() == member.client_id)
            .collect()
    };
    let before = heartbeats(&home).len();

    let mut c = config(&brokers, vec![group_pillow(&group, &topic)]);
    c.thresholds.checkpoint_grace = opsdeck_core::config::ConfigDuration::secs(60);
    let backend = PillowsBackend::new(&c).unwrap();
    let t0 = SystemTime::now();
    let mut state = None;
    for i in 0..3 {
        poll_into(&backend, &mut state, t0 + Duration::from_secs(120 * i)).await;
    }
    let pillow = &state.as_ref().unwrap().pillows[0];
    let got: Vec<(Option<i64>, Option<i64>, Option<i64>)> = pillow
        .partitions
        .iter()
        .map(|p| (p.committed, p.log_end, p.lag))
        .collect();
    assert_eq!(got, vec![(Some(4), Some(10), Some(6)), (Some(2), Some(5), Some(3))]);
    // A real broker lists the group's members (librdkafka's mock cluster could not).
    assert_eq!(backend.kafka.group_members(&group).await, Ok(Some(1)));

    // Unchanged for longer than the grace period: stopped, so a checkpoint move can be planned...
    assert!(
        pillow.partitions.iter().all(|p| p.status == PartitionStatus::Stop),
        "{:?}",
        pillow.partitions
    );
    let plan = plan_move_checkpoint(&backend.config, &backend.config.pillows[0], pillow).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outcome = run_plan(plan, &backend, dir.path()).await;
    // ...but opsdeck refuses it: the group has a member, which would overwrite the checkpoint.
    assert_eq!(outcome.result, OutcomeResult::Failed, "{}", outcome.summary);
    assert!(
        outcome.summary.contains("has 1 active member(s)"),
        "{}",
        outcome.summary
    );
    // Kafka itself refuses a commit from outside a group that has members.
    let err = backend
        .kafka
        .commit(&group, vec![(topic.clone(), 0, 10)])
        .await
        .unwrap_err();
    assert!(err.contains("UnknownMemberId"), "{err}");

    // The member's side: it has heartbeated three times since opsdeck's reads, each answered "no
    // rebalance" (a join would have made the coordinator answer REBALANCE_IN_PROGRESS at once), and
    // its consumer saw one assignment and no revocation.
    assert!(
        crate::peers::harness::eventually(Duration::from_secs(20), || std::future::ready(
            heartbeats(&home).len() >= before + 3
        ))
        .await,
        "the member stopped heartbeating"
    );
    let beats: Vec<(i64, i64)> = heartbeats(&home)
        .iter()
        .map(|b| {
            let field = |v: &serde_json::Value| v.as_i64().unwrap_or(-1);
            (field(&b.request()["generationId"]), field(&b.response()["errorCode"]))
        })
        .collect();
    assert!(
        beats.iter().all(|&(generation, error)| generation == 1 && error == 0),
        "the member's heartbeats (generation, error code; 27 is REBALANCE_IN_PROGRESS): {beats:?}"
    );
    assert_eq!(
        (
            member.rebalances.assigned.load(SeqCst),
            member.rebalances.revoked.load(SeqCst)
        ),
        (1, 0),
        "the member was rebalanced"
    );
    // The broker's side: opsdeck fetched the group's offsets and never took part in the group
    // (the member's own JoinGroup shows what taking part looks like in the log).
    let log = served(&home);
    let membership = |s: &&Served| {
        s.group() == group && matches!(s.api(), "JOIN_GROUP" | "SYNC_GROUP" | "HEARTBEAT" | "LEAVE_GROUP")
    };
    assert!(
        log.iter()
            .filter(membership)
            .any(|s| s.client() == member.client_id && s.api() == "JOIN_GROUP")
    );
    let joined: Vec<&str> = log
        .iter()
        .filter(membership)
        .filter(|s| s.client() == "opsdeck")
        .map(Served::api)
        .collect();
    assert!(joined.is_empty(), "opsdeck took part in the group: {joined:?}");
    let fetches = log
        .iter()
        .filter(|s| {
            s.client() == "opsdeck"
                && s.api() == "OFFSET_FETCH"
                && s.request()["groups"]
                    .as_array()
                    .is_some_and(|gs| gs.iter().any(|g| g["groupId"] == group.as_str()))
        })
        .count();
    assert!(fetches >= 3, "one OffsetFetch per read, saw {fetches}");

    // Control: a second member joining is a rebalance, and the first member sees it.
    let second = Member::join(&brokers, &group, &topic).await;
    wait_served(&home, "a heartbeat told to rebalance", |s| {
        s.api() == "HEARTBEAT" && s.client() == member.client_id && s.response()["errorCode"] == 27
    })
    .await;
    assert!(member.rebalances.revoked.load(SeqCst) >= 1);
    drop(second);
    drop(member);
}
