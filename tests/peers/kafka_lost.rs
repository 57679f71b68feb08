//! Checkpoints joined with a real broker's log offsets: Postgres rows (CommCare HQ's
//! `pillowtop_kafkacheckpoint`) and consumer-group commits; DeleteRecords moving the log start past a
//! checkpoint is the "lost" verdict, and moving the checkpoint to the log end repairs it.

use super::env::{peer, unique};
use super::kafka::{create_topic, delete_records, served, wait_served};
use super::kafka_groups::group_pillow;
use crate::peers::pillows_common::*;
use opsdeck_core::action::{ActionPlan, OutcomeResult};
use opsdeck_pillows::actions::plan_move_checkpoint;
use opsdeck_pillows::config::PillowConfig;
use opsdeck_pillows::model::PartitionStatus;
use opsdeck_pillows::source::PillowsBackend;
use std::time::{Duration, SystemTime};

fn pg_pillow(checkpoint_id: &str, processes: usize) -> PillowConfig {
    PillowConfig {
        checkpoint_id: Some(checkpoint_id.into()),
        processes,
        ..pillow("case-pillow")
    }
}

async fn insert_row(
    client: &tokio_postgres::Client,
    id: &str,
    topic: &str,
    partition: i32,
    offset: i64,
    age: Duration,
) {
    let modified = SystemTime::now() - age;
    client
        .execute(
            "INSERT INTO pillowtop_kafkacheckpoint (checkpoint_id, topic, \"partition\", \"offset\", doc_modification_time, last_modified) VALUES ($1, $2, $3, $4, $5, $5)",
            &[&id, &topic, &partition, &offset, &modified],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoint_rows_join_the_brokers_log_offsets() {
    let brokers = peer!("OPSDECK_KAFKA");
    let topic = unique("case-sql");
    create_topic(&brokers, &topic, &[&[1], &[1], &[1]]).await;
    produce(&brokers, &topic, 0, 50, 10);
    produce(&brokers, &topic, 1, 5, 10);
    let (db, client) = TempDb::new().await;
    client.batch_execute(HQ_TABLE).await.unwrap();
    let id = unique("case-pillow");
    insert_row(&client, &id, &topic, 0, 30, Duration::from_secs(90)).await;
    insert_row(&client, &id, &topic, 1, 5, Duration::from_secs(3600)).await;

    let mut c = config(&brokers, vec![pg_pillow(&id, 2)]);
    c.postgres = Some(db.conn());
    let backend = PillowsBackend::new(&c).unwrap();
    let mut state = None;
    poll_into(&backend, &mut state, SystemTime::now()).await;
    let pillow = &state.as_ref().unwrap().pillows[0];
    assert_eq!(pillow.error, None);
    type Got = (i32, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<usize>);
    let got: Vec<Got> = pillow
        .partitions
        .iter()
        .map(|p| (p.partition, p.committed, p.log_start, p.log_end, p.lag, p.owner))
        .collect();
    // Partition 2 has no row and nothing in its log; HQ maps partition n to process n mod 2.
    assert_eq!(
        got,
        vec![
            (0, Some(30), Some(0), Some(50), Some(20), Some(0)),
            (1, Some(5), Some(0), Some(5), Some(0), Some(1)),
            (2, None, Some(0), Some(0), Some(0), Some(0)),
        ]
    );
    let time_lag = pillow.partitions[0].time_lag_seconds.unwrap();
    assert!(
        (89.0..150.0).contains(&time_lag),
        "time lag from doc_modification_time: {time_lag}"
    );
    assert_eq!(pillow.total_lag, 20);
    drop(db);
}

/// The scenario both kinds of checkpoint share: partition 0 of `topic` has 40 changes, its checkpoint
/// is at 3, and DeleteRecords moved its log start to 25. A poll says the changes in between were lost;
/// the move-checkpoint plan (checked by `check_plan`) runs through the executor; a poll an hour later
/// finds the checkpoint at the log end.
async fn lost_until_moved(backend: &PillowsBackend, topic: &str, check_plan: impl FnOnce(&ActionPlan)) {
    let t0 = SystemTime::now();
    let mut state = None;
    poll_into(backend, &mut state, t0).await;
    let pillow = &state.as_ref().unwrap().pillows[0];
    assert_eq!(pillow.partitions[0].log_end, Some(40));
    assert_lost(pillow, topic, 3, 25);

    let plan = plan_move_checkpoint(&backend.config, &backend.config.pillows[0], pillow).unwrap();
    assert!(
        plan.description.contains("37 changes will be SKIPPED"),
        "{}",
        plan.description
    );
    check_plan(&plan);
    let dir = tempfile::tempdir().unwrap();
    let outcome = run_plan(plan, backend, dir.path()).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    poll_into(backend, &mut state, t0 + Duration::from_secs(3600)).await;
    let p = &state.as_ref().unwrap().pillows[0].partitions[0];
    assert_eq!((p.committed, p.lag), (Some(40), Some(0)));
    assert_ne!(p.status, PartitionStatus::Lost);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_checkpoint_below_the_log_start_is_lost_until_moved_to_the_log_end() {
    let brokers = peer!("OPSDECK_KAFKA");
    let topic = unique("form-sql");
    create_topic(&brokers, &topic, &[&[1]]).await;
    produce(&brokers, &topic, 0, 40, 10);
    let (db, client) = TempDb::new().await;
    client.batch_execute(HQ_TABLE).await.unwrap();
    let id = unique("form-pillow");
    insert_row(&client, &id, &topic, 0, 3, Duration::from_secs(7200)).await;
    delete_records(&brokers, &topic, 0, 25).await;

    let mut c = config(&brokers, vec![pg_pillow(&id, 1)]);
    c.postgres = Some(db.conn());
    let backend = PillowsBackend::new(&c).unwrap();
    let update = format!(
        "UPDATE pillowtop_kafkacheckpoint SET \"offset\" = 40, last_modified = now() WHERE checkpoint_id = '{id}' AND topic = '{topic}' AND \"partition\" = 0 AND \"offset\" = 3;"
    );
    lost_until_moved(&backend, &topic, |plan| {
        assert!(plan.call.contains(&update), "{}", plan.call)
    })
    .await;
    let row = client
        .query_one(
            "SELECT \"offset\" FROM pillowtop_kafkacheckpoint WHERE checkpoint_id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 40);
    drop(db);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_commit_below_the_log_start_is_lost_until_moved_to_the_log_end() {
    let brokers = peer!("OPSDECK_KAFKA");
    let home = peer!("OPSDECK_KAFKA_HOME");
    let (topic, group) = (unique("case-sql"), unique("ucr"));
    create_topic(&brokers, &topic, &[&[1], &[1]]).await;
    produce(&brokers, &topic, 0, 40, 10);
    produce(&brokers, &topic, 1, 8, 10);
    commit(&brokers, &group, &[(&topic, 0, 3), (&topic, 1, 8)]);
    delete_records(&brokers, &topic, 0, 25).await;

    let backend = PillowsBackend::new(&config(&brokers, vec![group_pillow(&group, &topic)])).unwrap();
    let commit_call = format!("OffsetCommit group={group} {topic}:0=40");
    lost_until_moved(&backend, &topic, |plan| assert_eq!(plan.call, commit_call)).await;
    // The broker took the commit from outside the group (no generation), after opsdeck had seen the
    // group empty.
    let ours = |s: &super::kafka::Served| s.client() == "opsdeck" && s.api() == "OFFSET_COMMIT" && s.group() == group;
    wait_served(&home, "opsdeck's OffsetCommit", &ours).await;
    let commits: Vec<_> = served(&home).into_iter().filter(&ours).collect();
    assert_eq!(commits.len(), 1, "{commits:?}");
    let c = &commits[0];
    assert_eq!(c.request()["generationIdOrMemberEpoch"], -1);
    assert_eq!(c.request()["topics"][0]["partitions"][0]["committedOffset"], 40);
    assert_eq!(c.response()["topics"][0]["partitions"][0]["errorCode"], 0);
}
