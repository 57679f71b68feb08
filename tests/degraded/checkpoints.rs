//! Kafka down and the checkpoint database broken too: the pillows error says both, so fixing Kafka
//! is not followed by a surprise. Needs PostgreSQL on 127.0.0.1:5432 (`./scripts/test` starts it).

use super::common::snapshot;
use std::net::TcpListener;

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `opsdeck snapshot` of a pillow whose checkpoints live in `postgres`, with Kafka down.
fn pillows_error(postgres: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        format!(
            r#"[general]
audit_log = "{d}/audit.jsonl"
log_file = "{d}/opsdeck.log"

[pillows]
brokers = "127.0.0.1:{kafka}"
postgres = "{postgres}"
checkpoint_table = "opsdeck_missing_{pid}"
timeout = "2s"

[[pillows.pillow]]
name = "case-pillow"
checkpoint_id = "case-pillow-checkpoint"
"#,
            d = dir.path().display(),
            kafka = closed_port(),
            pid = std::process::id(),
        ),
    )
    .unwrap();
    let (_, doc) = snapshot(&file, dir.path());
    assert_eq!(doc["pillows"]["status"], "error", "{}", doc["pillows"]);
    doc["pillows"]["error"].as_str().unwrap().to_string()
}

#[test]
fn with_kafka_down_a_missing_checkpoint_table_is_still_reported() {
    let e = pillows_error("host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=2");
    assert!(e.contains("Kafka") || e.contains("127.0.0.1"), "the Kafka part: {e}");
    assert!(
        e.contains(&format!(
            "checkpoints: Postgres reading opsdeck_missing_{}: relation \"opsdeck_missing_{}\" does not exist",
            std::process::id(),
            std::process::id()
        )),
        "{e}"
    );
}

#[test]
fn with_kafka_down_a_role_the_database_refuses_is_still_reported() {
    let e = pillows_error(
        "host=127.0.0.1 port=5432 user=opsdeck_no_such_role password=x dbname=postgres connect_timeout=2",
    );
    assert!(e.contains("checkpoints: Postgres "), "{e}");
    assert!(e.contains("opsdeck_no_such_role"), "{e}");
}
