//! Every backend down: the console still starts, every pane says what failed, `check` is critical
//! and `snapshot` still answers (exit 0) with each source's error.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn dead_fleet(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("dead.toml");
    let text = format!(
        r#"
[general]
environment = "dead"
audit_log = "{dir}/audit.jsonl"
log_file = "{dir}/opsdeck.log"

[elasticsearch]
url = "http://127.0.0.1:{es}"
request_timeout = "2s"

[pillows]
brokers = "127.0.0.1:{kafka}"
postgres = "host=127.0.0.1 port={pg} user=postgres dbname=nothing connect_timeout=2"
timeout = "4s"

[[pillows.pillow]]
name = "case-pillow"
checkpoint_id = "case-pillow-checkpoint"
topics = ["case-sql"]

[aws]
endpoint_url = "http://127.0.0.1:{aws}"
region = "us-east-1"
access_key_id = "test"
secret_access_key = "test"
queues = ["ingest"]
timeout = "3s"

[[ssh.hosts]]
name = "dead-host"
address = "127.0.0.1"
port = {ssh}
"#,
        dir = dir.display(),
        es = closed_port(),
        kafka = closed_port(),
        pg = closed_port(),
        aws = closed_port(),
        ssh = closed_port(),
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn check_is_critical_and_snapshot_reports_each_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dead_fleet(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("check")
        .arg("--config")
        .arg(&file)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for source in ["elasticsearch", "pillows", "queues"] {
        assert!(
            stdout.contains(&format!("CRITICAL {source}")),
            "{source} missing:\n{stdout}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["snapshot", "--format", "json", "--config"])
        .arg(&file)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a dead source is data, not a failure to run"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for source in ["elasticsearch", "pillows", "queues"] {
        assert_eq!(doc[source]["status"], "error", "{source}: {}", doc[source]);
        assert!(
            doc[source]["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{source}: {}",
            doc[source]
        );
    }
}

#[test]
fn the_console_starts_and_shows_every_failure_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dead_fleet(dir.path());
    let socket = format!("opsdeck-dead-{}", std::process::id());
    let command = format!(
        "HOME={} {} --config {}; sleep 30",
        dir.path().display(),
        env!("CARGO_BIN_EXE_opsdeck"),
        file.display()
    );
    assert!(
        Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x", "140", "-y", "40", &command])
            .status()
            .unwrap()
            .success()
    );
    let screen = || {
        String::from_utf8_lossy(
            &Command::new("tmux")
                .args(["-L", &socket, "capture-pane", "-p"])
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    let s = loop {
        let s = screen();
        if s.matches("source failing").count() >= 3 {
            break s;
        }
        if Instant::now() > deadline {
            let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).status();
            panic!("the overview never showed the failing sources:\n{s}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(s.contains("opsdeck · dead"), "{s}");
    // The ES pane shows its error in place.
    let _ = Command::new("tmux").args(["-L", &socket, "send-keys", "3"]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = screen();
        if s.contains("✖") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no error shown in the elasticsearch pane:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("tmux").args(["-L", &socket, "send-keys", "q"]).status();
    let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).status();
}
