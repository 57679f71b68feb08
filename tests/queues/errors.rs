//! AWS errors become words in the pane (over the last good data), never crashes.

use super::harness::*;
use super::move_task_double::{error, start};
use opsdeck::config::Config;
use opsdeck::model::Fleet;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck_core::feed::FeedStatus;
use opsdeck_core::source_error::ErrorKind;
use opsdeck_core::theme::Theme;
use opsdeck_core::view::ViewCtx;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

fn cells(fleet: &Fleet, config: &Config) -> Vec<String> {
    let theme = Theme::builtin("mono").unwrap();
    let ctx = ViewCtx {
        fleet,
        config,
        now: SystemTime::now(),
        theme: &theme,
        read_only: false,
        revision: None,
    };
    let view = opsdeck_queues::views::root();
    view.table(&ctx)
        .rows
        .iter()
        .flat_map(|r| r.cells.iter().map(|c| c.text.clone()))
        .collect()
}

#[tokio::test]
async fn expired_credentials_access_denied_and_throttling_are_explained() {
    // What the double answers, switchable while the poller keeps its clients.
    let mode = Arc::new(Mutex::new("ok"));
    let m = mode.clone();
    let double = start(Arc::new(move |op: &str, body: &Value| {
        let mode = *m.lock().unwrap();
        match (mode, op) {
            ("expired", _) => error("ExpiredToken", "The security token included in the request is expired"),
            ("throttled", _) => error("ThrottlingException", "Rate exceeded"),
            ("hang", _) => (0, json!({})),
            (_, "GetQueueAttributes") if body["QueueUrl"].as_str().unwrap_or("").ends_with("/secret") => {
                error("AccessDenied", "not authorized to perform sqs:GetQueueAttributes")
            }
            (_, "GetQueueAttributes") => (
                200,
                json!({ "Attributes": { "ApproximateNumberOfMessages": "12", "QueueArn": "arn:aws:sqs:us-east-1:1:jobs" } }),
            ),
            _ => error("InvalidAction", op),
        }
    }))
    .await;
    let mut cfg = aws_config(&double.endpoint);
    cfg.cloudwatch = false;
    cfg.queues = vec![
        format!("{}/1/jobs", double.endpoint),
        format!("{}/1/secret", double.endpoint),
    ];
    let config = Config {
        aws: cfg.clone(),
        ..Default::default()
    };
    let aws = backend(&cfg).await;
    let mut urls = HashMap::new();
    let mut fleet = Fleet::default();

    // One queue denied, one fine: the denied one shows its error in its row.
    let poll = aws.poll(&mut urls).await;
    fleet.apply(SystemTime::now(), SourceUpdate::Queues(poll));
    assert_eq!(fleet.queues.status, FeedStatus::Ok);
    let shown = cells(&fleet, &config);
    assert!(shown.iter().any(|c| c == "12"), "{shown:?}");
    assert!(
        shown
            .iter()
            .any(|c| c.starts_with("error: GetQueueAttributes: AccessDenied (access denied")),
        "{shown:?}"
    );

    // Expired credentials: the whole source fails, the last good data stays.
    *mode.lock().unwrap() = "expired";
    let poll = aws.poll(&mut urls).await;
    let err = poll.as_ref().unwrap_err().clone();
    assert!(err.contains("ExpiredToken (credentials expired"), "{err}");
    fleet.apply(SystemTime::now(), SourceUpdate::Queues(poll));
    assert_eq!(fleet.queues.status, FeedStatus::Error);
    assert_eq!(fleet.queues.error.as_deref(), Some(err.as_str()));
    assert!(cells(&fleet, &config).iter().any(|c| c == "12"), "last good data kept");

    // Throttled API.
    *mode.lock().unwrap() = "throttled";
    let err = aws.poll(&mut urls).await.unwrap_err();
    assert!(err.contains("ThrottlingException (AWS throttled the API"), "{err}");

    // A hung endpoint: every call ends at the SDK's operation timeout, not never.
    *mode.lock().unwrap() = "hang";
    let mut quick = cfg.clone();
    quick.timeout = opsdeck_core::config::ConfigDuration::secs(1);
    let aws = backend(&quick).await;
    let started = std::time::Instant::now();
    let err = aws.poll(&mut urls).await.unwrap_err();
    assert!(err.contains("no answer within the timeout"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_one_readable_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = aws_config(&format!("http://127.0.0.1:{port}"));
    cfg.queues = vec!["upload".into()];
    let err = backend(&cfg).await.poll(&mut HashMap::new()).await.unwrap_err();
    assert!(err.starts_with("GetQueueUrl: cannot reach AWS: "), "{err}");
    assert!(err.contains("Connection refused"), "{err}");
    assert!(!err.contains("DispatchFailure {"), "no Debug dumps: {err}");
}

/// The source's error has the kind of what AWS said, so the runner and `check` act on it: refused
/// credentials are unauthorised, throttling and a closed port pass (unreachable), a hung endpoint
/// is a timeout, a queue that does not exist is refused.
#[tokio::test]
async fn each_aws_failure_has_its_kind() {
    let mode = Arc::new(Mutex::new("expired"));
    let m = mode.clone();
    let double = start(Arc::new(move |op: &str, _body: &Value| match *m.lock().unwrap() {
        "expired" => error("ExpiredToken", "The security token included in the request is expired"),
        "denied" => error("AccessDenied", "not authorized"),
        "throttled" => error("ThrottlingException", "Rate exceeded"),
        "missing" => error(
            "AWS.SimpleQueueService.NonExistentQueue",
            "The specified queue does not exist",
        ),
        "hang" => (0, json!({})),
        _ => error("InvalidAction", op),
    }))
    .await;
    let mut cfg = aws_config(&double.endpoint);
    cfg.cloudwatch = false;
    cfg.queues = vec![format!("{}/1/jobs", double.endpoint)];
    let aws = backend(&cfg).await;
    for (answer, kind) in [
        ("expired", ErrorKind::Unauthorised),
        ("denied", ErrorKind::Unauthorised),
        ("throttled", ErrorKind::Unreachable),
        ("missing", ErrorKind::Refused),
    ] {
        *mode.lock().unwrap() = answer;
        let err = aws.poll(&mut HashMap::new()).await.unwrap_err();
        assert_eq!(err.kind, kind, "{answer}: {err}");
    }
    *mode.lock().unwrap() = "hang";
    let mut quick = cfg.clone();
    quick.timeout = opsdeck_core::config::ConfigDuration::secs(1);
    let err = backend(&quick).await.poll(&mut HashMap::new()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut closed = aws_config(&format!("http://127.0.0.1:{port}"));
    closed.queues = vec!["upload".into()];
    let err = backend(&closed).await.poll(&mut HashMap::new()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err}");
}
