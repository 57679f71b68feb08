//! `opsdeck snapshot` and `opsdeck check` through the binary, on a mock Kafka (real sockets on
//! loopback) and a real Postgres checkpoint table.

use super::common::*;
use super::common::{HQ_TABLE, TempDb};
use rdkafka::mocking::MockCluster;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_json_and_check_exit_codes() {
    let (db, client) = TempDb::new().await;
    client.batch_execute(HQ_TABLE).await.unwrap();
    client
        .batch_execute(
            "INSERT INTO pillowtop_kafkacheckpoint (checkpoint_id, topic, \"partition\", \"offset\", last_modified) VALUES
             ('case-pillow-x', 'case-sql', 0, 10, now()), ('case-pillow-x', 'case-sql', 1, 7, now())",
        )
        .await
        .unwrap();
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("case-sql", 2, 1).unwrap();
    mock.create_topic("form-sql", 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    produce(&brokers, "case-sql", 0, 6_010, 10);
    produce(&brokers, "case-sql", 1, 7, 10);
    produce(&brokers, "form-sql", 0, 20, 10);
    commit(&brokers, "ucr", &[("form-sql", 0, 20)]);

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("opsdeck.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[general]
audit_log = "{audit}"
[pillows]
brokers = "{brokers}"
postgres = "{pg}"
timeout = "5s"
[[pillows.pillow]]
name = "case-pillow"
checkpoint_id = "case-pillow-x"
[[pillows.pillow]]
name = "ucr-pillow"
group = "ucr"
topics = ["form-sql"]
"#,
            audit = dir.path().join("audit.jsonl").display(),
            pg = db.conn()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_opsdeck");
    let out = tokio::task::spawn_blocking({
        let cfg = cfg.clone();
        move || {
            Command::new(bin)
                .args(["snapshot", "--config"])
                .arg(&cfg)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pillows = &json["pillows"];
    assert_eq!(pillows["status"], "ok", "{pillows}");
    let case = &pillows["pillows"][0];
    assert_eq!(case["name"], "case-pillow");
    assert_eq!(case["kind"], "postgres");
    assert_eq!(case["total_lag"], 6_000);
    let p0 = &case["partitions"][0];
    for (k, v) in [
        ("topic", serde_json::json!("case-sql")),
        ("partition", serde_json::json!(0)),
        ("committed", serde_json::json!(10)),
        ("log_start", serde_json::json!(0)),
        ("log_end", serde_json::json!(6_010)),
        ("lag", serde_json::json!(6_000)),
        ("status", serde_json::json!("ok")),
    ] {
        assert_eq!(p0[k], v, "{k} in {p0}");
    }
    assert!(
        case["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["severity"] == "critical" && v["message"].as_str().unwrap().contains("6,000 changes behind")),
        "{case}"
    );
    let ucr = &pillows["pillows"][1];
    assert_eq!(ucr["partitions"][0]["lag"], 0);
    assert_eq!(ucr["partitions"][0]["committed"], 20);

    // 6,000 behind is over the default critical threshold (5,000): check exits 2 and says why.
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(["check", "--config"])
            .arg(&cfg)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("case-pillow") && text.contains("6,000 changes behind"),
        "{text}"
    );
    drop(mock);
    drop(db);
}
