//! Postgres-checkpoint pillows (CommCare HQ's `pillowtop_kafkacheckpoint`) against the machine's
//! PostgreSQL, joined with Kafka offsets from the mock cluster. Each test makes and drops its own database.

use super::common::*;
use opsdeck_core::action::OutcomeResult;
use opsdeck_core::source_error::ErrorKind;
use opsdeck_pillows::actions::plan_move_checkpoint;
use opsdeck_pillows::config::PillowConfig;
use opsdeck_pillows::model::PartitionStatus;
use opsdeck_pillows::source::PillowsBackend;
use opsdeck_pillows::source::checkpoints::{CheckpointStore, PgCheckpointStore};
use rdkafka::mocking::MockCluster;
use std::time::{Duration, SystemTime};

fn pg_pillow(checkpoint_id: &str) -> PillowConfig {
    PillowConfig {
        checkpoint_id: Some(checkpoint_id.into()),
        processes: 2,
        ..pillow("case-pillow")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoint_rows_join_kafka_log_offsets() {
    let (db, client) = TempDb::new().await;
    client.batch_execute(HQ_TABLE).await.unwrap();
    client
        .batch_execute(
            "INSERT INTO pillowtop_kafkacheckpoint (checkpoint_id, topic, \"partition\", \"offset\", doc_modification_time, last_modified) VALUES
             ('case-pillow-x', 'case-sql', 0, 30, now() - interval '90 seconds', now()),
             ('case-pillow-x', 'case-sql', 1, 5, NULL, now() - interval '1 hour'),
             ('other-pillow', 'case-sql', 0, 1, NULL, now())",
        )
        .await
        .unwrap();
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("case-sql", 3, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    produce(&brokers, "case-sql", 0, 50, 10);
    produce(&brokers, "case-sql", 1, 5, 10);

    let mut c = config(&brokers, vec![pg_pillow("case-pillow-x")]);
    c.postgres = Some(db.conn());
    let backend = PillowsBackend::new(&c).unwrap();
    let mut state = None;
    poll_into(&backend, &mut state, SystemTime::now()).await;
    let pillow = &state.as_ref().unwrap().pillows[0];
    assert_eq!(pillow.error, None);
    type Got = (i32, Option<i64>, Option<i64>, Option<i64>, Option<usize>);
    let got: Vec<Got> = pillow
        .partitions
        .iter()
        .map(|p| (p.partition, p.committed, p.log_end, p.lag, p.owner))
        .collect();
    // Partition 2 has no row: everything retained (nothing) is still to do; HQ's process mapping n::2.
    assert_eq!(
        got,
        vec![
            (0, Some(30), Some(50), Some(20), Some(0)),
            (1, Some(5), Some(5), Some(0), Some(1)),
            (2, None, Some(0), Some(0), Some(0)),
        ]
    );
    let p0 = &pillow.partitions[0];
    let time_lag = p0.time_lag_seconds.unwrap();
    assert!(
        (89.0..120.0).contains(&time_lag),
        "time lag from doc_modification_time: {time_lag}"
    );
    let age = pillow.partitions[1].checkpoint_age_seconds.unwrap();
    assert!(
        (3590.0..3700.0).contains(&age),
        "checkpoint age from last_modified: {age}"
    );
    // Lagging and its row untouched past the grace period → stopped.
    let mut c2 = c.clone();
    c2.thresholds.checkpoint_grace = opsdeck_core::config::ConfigDuration::secs(60);
    let old = SystemTime::now() - Duration::from_secs(600);
    client
        .execute(
            "UPDATE pillowtop_kafkacheckpoint SET last_modified = $1 WHERE \"partition\" = 0",
            &[&old],
        )
        .await
        .unwrap();
    let backend2 = PillowsBackend::new(&c2).unwrap();
    let mut state2 = None;
    poll_into(&backend2, &mut state2, SystemTime::now()).await;
    assert_eq!(
        state2.as_ref().unwrap().pillows[0].partitions[0].status,
        PartitionStatus::Stop
    );
    drop(mock);
    drop(db);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_table_and_unknown_checkpoint_id_are_errors_of_the_pillow() {
    let (db, client) = TempDb::new().await;
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("case-sql", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let mut c = config(&brokers, vec![pg_pillow("case-pillow-x")]);
    c.postgres = Some(db.conn());
    let backend = PillowsBackend::new(&c).unwrap();

    let mut state = None;
    poll_into(&backend, &mut state, SystemTime::now()).await;
    let err = state.as_ref().unwrap().pillows[0].error.clone().unwrap();
    assert!(
        err.contains("pillowtop_kafkacheckpoint") && err.contains("does not exist"),
        "{err}"
    );
    let alerts = opsdeck_pillows::analysis::alerts(state.as_ref().unwrap(), None, &opsdeck::config::Config::default());
    assert!(
        alerts.iter().any(|a| a.message.contains("does not exist")),
        "{alerts:?}"
    );

    client.batch_execute(HQ_TABLE).await.unwrap();
    poll_into(&backend, &mut state, SystemTime::now()).await;
    let err = state.as_ref().unwrap().pillows[0].error.clone().unwrap();
    assert!(
        err.contains("no checkpoint rows for checkpoint_id \"case-pillow-x\""),
        "{err}"
    );
    drop(mock);
    drop(db);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_database_is_an_error_within_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = PgCheckpointStore::new(
        &format!("host=127.0.0.1 port={port} user=postgres"),
        "pillowtop_kafkacheckpoint",
        Duration::from_secs(2),
    )
    .unwrap();
    let err = store.read(&["x".to_string()]).await.unwrap_err();
    assert!(err.starts_with("Postgres 127.0.0.1/"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn moving_the_checkpoint_updates_rows_in_one_transaction() {
    let (db, client) = TempDb::new().await;
    client.batch_execute(HQ_TABLE).await.unwrap();
    let old = SystemTime::now() - Duration::from_secs(3_600);
    for (p, o) in [(0i32, 10i64), (1, 2)] {
        client
            .execute(
                "INSERT INTO pillowtop_kafkacheckpoint (checkpoint_id, topic, \"partition\", \"offset\", last_modified) VALUES ('case-pillow-x', 'case-sql', $1, $2, $3)",
                &[&p, &o, &old],
            )
            .await
            .unwrap();
    }
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("case-sql", 2, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    produce(&brokers, "case-sql", 0, 30, 10);
    produce(&brokers, "case-sql", 1, 12, 10);
    let mut c = config(&brokers, vec![pg_pillow("case-pillow-x")]);
    c.postgres = Some(db.conn());
    let backend = PillowsBackend::new(&c).unwrap();
    let mut state = None;
    poll_into(&backend, &mut state, SystemTime::now()).await;
    let pillow = &state.as_ref().unwrap().pillows[0];
    assert!(
        pillow.partitions.iter().all(|p| p.status == PartitionStatus::Stop),
        "{:?}",
        pillow.partitions
    );
    let plan = plan_move_checkpoint(&backend.config, &backend.config.pillows[0], pillow).unwrap();
    assert!(
        plan.description.contains("30 changes will be SKIPPED"),
        "{}",
        plan.description
    );
    assert!(
        plan.call.starts_with(&format!(
            "-- on 127.0.0.1/{} table pillowtop_kafkacheckpoint\nBEGIN;\nUPDATE pillowtop_kafkacheckpoint SET \"offset\" = 30",
            db.name
        )),
        "{}",
        plan.call
    );
    assert_eq!(plan.risk, opsdeck_core::action::Risk::High);

    // A process writes partition 1 after the plan was made: nothing may move.
    client
        .execute(
            "UPDATE pillowtop_kafkacheckpoint SET \"offset\" = 3 WHERE \"partition\" = 1",
            &[],
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outcome = run_plan(plan.clone(), &backend, dir.path()).await;
    assert_eq!(outcome.result, OutcomeResult::Failed, "{}", outcome.summary);
    let rows = client
        .query(
            "SELECT \"offset\" FROM pillowtop_kafkacheckpoint ORDER BY \"partition\"",
            &[],
        )
        .await
        .unwrap();
    let offsets: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(offsets, vec![10, 3], "the transaction must have rolled back");

    client
        .execute(
            "UPDATE pillowtop_kafkacheckpoint SET \"offset\" = 2 WHERE \"partition\" = 1",
            &[],
        )
        .await
        .unwrap();
    let outcome = run_plan(plan, &backend, dir.path()).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    let rows = client
        .query(
            "SELECT \"offset\" FROM pillowtop_kafkacheckpoint ORDER BY \"partition\"",
            &[],
        )
        .await
        .unwrap();
    let offsets: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(offsets, vec![30, 12]);
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("pillows.move_checkpoint"), "{audit}");
    drop(mock);
    drop(db);
}

/// What failed decides the kind of the source's error (and so its backoff and its alert): a wrong
/// password, a role that may not log in or may not read the table are unauthorised, a table that
/// is not there is refused, a port nobody listens on is unreachable.
#[tokio::test(flavor = "multi_thread")]
async fn checkpoint_errors_have_the_kind_of_what_failed() {
    let (db, client) = TempDb::new().await;
    client.batch_execute(HQ_TABLE).await.unwrap();
    let role = db.name.replace("opsdeck_pillows", "opsdeck_role");
    client
        .batch_execute(&format!(
            "CREATE ROLE {role}_nologin NOLOGIN PASSWORD 'right'; CREATE ROLE {role}_reader LOGIN PASSWORD 'right'"
        ))
        .await
        .unwrap();
    let read_as = |conn: String, table: &'static str| async move {
        let store = PgCheckpointStore::new(&conn, table, Duration::from_secs(5)).unwrap();
        store.read(&["x".to_string()]).await.unwrap_err()
    };
    // The test server trusts only `postgres` on loopback: every other role logs in with its password.
    let as_role = |user: &str, password: &str| format!("{} user={user} password={password}", db.conn());
    let table = "pillowtop_kafkacheckpoint";
    let err = read_as(as_role(&format!("{role}_reader"), "wrong"), table).await;
    assert_eq!(err.kind, ErrorKind::Unauthorised, "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    let err = read_as(as_role(&format!("{role}_nologin"), "right"), table).await;
    assert_eq!(err.kind, ErrorKind::Unauthorised, "{err}");
    assert!(err.contains("not permitted to log in"), "{err}");
    // The right password: in, but no grant on the table.
    let err = read_as(as_role(&format!("{role}_reader"), "right"), table).await;
    assert_eq!(err.kind, ErrorKind::Unauthorised, "{err}");
    assert!(err.contains("permission denied"), "{err}");
    let err = read_as(db.conn(), "no_such_table").await;
    assert_eq!(err.kind, ErrorKind::Refused, "{err}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = read_as(format!("host=127.0.0.1 port={port} user=postgres"), table).await;
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err}");
    client
        .batch_execute(&format!("DROP ROLE {role}_nologin; DROP ROLE {role}_reader"))
        .await
        .unwrap();
}
