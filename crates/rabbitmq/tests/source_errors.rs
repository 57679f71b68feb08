//! How the client fails when the server does not answer as it should: each failure is its own kind
//! with words a person can act on, and a part of a poll that fails leaves the others.

use opsdeck_rabbitmq::config::InstanceConfig;
use opsdeck_rabbitmq::source::{ApiError, Client, poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn config(url: &str, dir: &tempfile::TempDir, extra: &str) -> InstanceConfig {
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "x\n").unwrap();
    toml::from_str(&format!(
        "name = 't'\nurl = '{url}'\nuser = 'opsdeck_ro'\npassword_file = '{}'\n{extra}",
        pw.display()
    ))
    .unwrap()
}

/// A loopback server that answers each connection with `reply(request line)` (None: never answers).
async fn server(reply: fn(&str) -> Option<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                match reply(head.lines().next().unwrap_or("")) {
                    Some(r) => {
                        let _ = s.write_all(r.as_bytes()).await;
                    }
                    None => {
                        let _ = s.read(&mut buf).await; // hold the connection open, silent
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn http(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_silent_server_is_a_timeout_within_the_request_timeout() {
    let url = server(|_| None).await;
    let dir = tempfile::tempdir().unwrap();
    let client = Client::from_config(&config(&url, &dir, "request_timeout = '300ms'")).unwrap();
    let started = Instant::now();
    let err = client.get::<serde_json::Value>("/api/overview").await.unwrap_err();
    assert_eq!(err, ApiError::Timeout("300ms".into()));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let client = Client::from_config(&config(&format!("http://127.0.0.1:{port}"), &dir, "")).unwrap();
    let err = client.get::<serde_json::Value>("/api/overview").await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Unreachable(w) if w.contains("onnection refused")),
        "{err}"
    );
}

#[tokio::test]
async fn an_answer_over_the_body_cap_is_a_bad_answer_not_a_big_allocation() {
    let url = server(|_| Some(http("200 OK", &format!("[{}0]", "0,".repeat(5000))))).await;
    let dir = tempfile::tempdir().unwrap();
    let client = Client::from_config(&config(&url, &dir, "body_cap = 2048")).unwrap();
    let err = client.get::<serde_json::Value>("/api/overview").await.unwrap_err();
    assert_eq!(
        err,
        ApiError::BadAnswer("answer larger than 2048 bytes (body_cap)".into())
    );
}

/// The refusal body captured from the real server (`tests/fixtures/purge_refused_ro.txt`) on the
/// nodes call only: the overview and the queues are still shown.
#[tokio::test]
async fn a_refused_part_of_a_poll_leaves_the_other_parts() {
    let url = server(|line| {
        let fixture = |name: &str| {
            std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
        };
        Some(if line.contains("/api/nodes") {
            let refused = fixture("purge_refused_ro.txt");
            http("401 Unauthorized", refused.lines().next().unwrap())
        } else if line.contains("/api/queues") {
            http("200 OK", &fixture("queues_page.json"))
        } else {
            http("200 OK", &fixture("overview.json"))
        })
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&url, &dir, "");
    let snap = poll(&Client::from_config(&cfg).unwrap(), &cfg).await;
    assert_eq!(
        snap.nodes.unwrap_err(),
        "the server refused user opsdeck_ro (401 not_authorised: Access refused.)"
    );
    assert_eq!(snap.queues.unwrap().len(), 4);
    assert_eq!(snap.overview.unwrap().rabbitmq_version, "3.10.8");
}

#[test]
fn a_ca_file_without_a_certificate_is_a_clear_error_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").unwrap();
    let mut cfg = config("https://127.0.0.1:1", &dir, "");
    cfg.ca_file = Some(ca.clone());
    let err = Client::from_config(&cfg).unwrap_err();
    assert_eq!(err, format!("ca_file {}: no PEM certificate in the file", ca.display()));
    cfg.ca_file = Some(dir.path().to_path_buf());
    let err = Client::from_config(&cfg).unwrap_err();
    assert!(err.contains("not a regular file"), "{err}");
}
