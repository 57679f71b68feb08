//! A LOCAL DOUBLE of SQS's JSON API, for what moto cannot do: the DLQ move-task calls
//! (StartMessageMoveTask / ListMessageMoveTasks) and error answers (expired credentials, access
//! denied, throttling). It speaks the same wire protocol as SQS (AWS JSON 1.0, `X-Amz-Target`), so
//! the real SDK client is exercised; it is not a model of SQS.

use super::harness::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use opsdeck_core::action::OutcomeResult;
use opsdeck_queues::actions::redrive_plan;
use opsdeck_queues::model::{QueueInfo, QueueState, QueuesState};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

pub type Answer = Arc<dyn Fn(&str, &Value) -> (u16, Value) + Send + Sync>;

/// A running double: every request is recorded as (operation, body).
pub struct Double {
    pub endpoint: String,
    pub calls: Arc<Mutex<Vec<(String, Value)>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn start(answer: Answer) -> Double {
    let calls: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let rec = calls.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let rec = rec.clone();
        let answer = answer.clone();
        async move {
            let target = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            rec.lock().unwrap().push((target.clone(), body.clone()));
            let (status, out) = answer(&target, &body);
            // Status 0 means "hang": answer far later than any client timeout.
            if status == 0 {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            }
            let status = if status == 0 { 200 } else { status };
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/x-amz-json-1.0")],
                out.to_string(),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Double {
        endpoint,
        calls,
        _stop: stop,
    }
}

pub fn error(code: &str, message: &str) -> (u16, Value) {
    (
        400,
        json!({ "__type": format!("com.amazonaws.sqs#{code}"), "message": message }),
    )
}

#[tokio::test]
async fn redrive_uses_start_message_move_task_and_follows_its_progress() {
    let lists = Arc::new(Mutex::new(0u32));
    let l = lists.clone();
    let double = start(Arc::new(move |op: &str, _body: &Value| match op {
        "StartMessageMoveTask" => (200, json!({ "TaskHandle": "task-1" })),
        "ListMessageMoveTasks" => {
            let mut n = l.lock().unwrap();
            *n += 1;
            let (status, moved) = if *n == 1 { ("RUNNING", 2) } else { ("COMPLETED", 5) };
            (
                200,
                json!({ "Results": [{ "TaskHandle": "task-1", "Status": status,
                    "SourceArn": "arn:aws:sqs:us-east-1:1:tiles-dlq",
                    "ApproximateNumberOfMessagesMoved": moved, "ApproximateNumberOfMessagesToMove": 5 }] }),
            )
        }
        "GetQueueAttributes" => (
            200,
            json!({ "Attributes": { "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0" } }),
        ),
        other => error("InvalidAction", &format!("the double does not do {other}")),
    }))
    .await;
    let aws = backend(&aws_config(&double.endpoint)).await;
    let q = |name: &str, visible, dlq_of: Vec<String>| QueueState {
        info: QueueInfo {
            name: name.into(),
            url: format!("{}/1/{name}", double.endpoint),
            arn: format!("arn:aws:sqs:us-east-1:1:{name}"),
            visible,
            dlq_of,
            ..Default::default()
        },
        ..Default::default()
    };
    let state = QueuesState {
        queues: vec![q("tiles", 0, vec![]), q("tiles-dlq", 5, vec!["tiles".into()])],
        ..Default::default()
    };
    let plan = redrive_plan(&state, &state.queues[1].info, 25).unwrap();
    let (outcome, progress) = execute(plan, &aws).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    assert!(
        outcome.summary.contains("via StartMessageMoveTask"),
        "{}",
        outcome.summary
    );
    assert!(
        progress.iter().any(|p| p == "move task RUNNING: 2/5 moved"),
        "{progress:?}"
    );
    assert!(
        progress.iter().any(|p| p == "move task COMPLETED: 5/5 moved"),
        "{progress:?}"
    );
    let calls = double.calls.lock().unwrap();
    let start = calls
        .iter()
        .find(|(op, _)| op == "StartMessageMoveTask")
        .expect("move task started");
    assert_eq!(start.1["SourceArn"], "arn:aws:sqs:us-east-1:1:tiles-dlq");
    assert_eq!(start.1["DestinationArn"], "arn:aws:sqs:us-east-1:1:tiles");
    assert_eq!(start.1["MaxNumberOfMessagesPerSecond"], 25);
    assert!(
        !calls
            .iter()
            .any(|(op, _)| op == "ReceiveMessage" || op == "DeleteMessage"),
        "no fallback"
    );
}
