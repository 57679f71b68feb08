//! The demo fleet's queues and tables: an axum server on 127.0.0.1:0 speaking the wire protocols
//! the real SDK clients use (SQS and DynamoDB: AWS JSON 1.0 with `X-Amz-Target`; CloudWatch: the
//! query protocol with XML answers), over a small simulation with life: busy queues whose consumers
//! keep up, a forgotten queue whose oldest message nears the 14-day retention, a TileIndex table
//! whose write demand outgrows its capacity, and the storyline's queue beat
//! ([`beats::QUEUE_BACKLOG`]): poison messages arrive on `ingest`, its consumers fail on them, the
//! queue backs up and dead letters pile up in `ingest-dlq`. Purging `ingest` clears the poison (the
//! consumers recover, for the rest of the run); redriving the DLQ then puts the dead letters back.
//! Purge, redrive (StartMessageMoveTask) and UpdateTable work.

use crate::Queues;
use crate::config::AwsConfig;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opsdeck_core::demo::{DemoCtx, StoryClock, beats};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";
const DAY: f64 = 86_400.0;

/// One simulated queue.
#[derive(Debug, Clone)]
pub struct SimQueue {
    pub name: String,
    pub visible: f64,
    pub in_flight: f64,
    pub delayed: f64,
    pub retention: u64,
    pub oldest_age: f64,
    pub dlq: Option<String>,
    /// Seconds since the last purge started (SQS allows one per 60 s).
    pub purged_ago: Option<f64>,
    /// Messages per second sent and deleted in the last tick (CloudWatch's Sent/Deleted).
    pub flow: (f64, f64),
}

#[derive(Debug, Clone)]
pub struct SimIndex {
    pub name: String,
    pub rcu: u64,
    pub wcu: u64,
    pub status: &'static str,
}

/// One simulated table; demand is in units per second.
#[derive(Debug, Clone)]
pub struct SimTable {
    pub name: String,
    pub on_demand: bool,
    pub rcu: u64,
    pub wcu: u64,
    pub read_demand: f64,
    pub write_demand: f64,
    pub status: &'static str,
    pub gsis: Vec<SimIndex>,
    /// Seconds left until an update finishes (UPDATING → ACTIVE).
    pub updating: f64,
    pub pending: Option<(Option<String>, u64, u64)>,
    pub items: i64,
}

#[derive(Debug, Clone)]
pub struct MoveTask {
    pub handle: String,
    pub source: String,
    pub dest: String,
    pub rate: f64,
    pub moved: f64,
    pub to_move: f64,
    pub status: &'static str,
    pub started: i64,
}

/// The whole simulated account.
#[derive(Debug, Clone)]
pub struct Sim {
    pub clock: f64,
    pub queues: Vec<SimQueue>,
    pub tables: Vec<SimTable>,
    pub tasks: Vec<MoveTask>,
    /// The storyline's clock: when the poison messages arrive on `ingest`.
    pub story: StoryClock,
    /// Whether `ingest` was purged after they did (its consumers recover, for good).
    pub poison_purged: bool,
}

fn queue(name: &str, visible: f64, age: f64, dlq: Option<&str>) -> SimQueue {
    SimQueue {
        name: name.into(),
        visible,
        in_flight: 0.0,
        delayed: 0.0,
        retention: 14 * 86_400,
        oldest_age: age,
        dlq: dlq.map(str::to_string),
        purged_ago: None,
        flow: (0.0, 0.0),
    }
}

impl Default for Sim {
    fn default() -> Self {
        Self::new()
    }
}

impl Sim {
    pub fn new() -> Self {
        Sim {
            clock: 0.0,
            queues: vec![
                queue("upload", 400.0, 30.0, None),
                queue("ingest", 0.0, 0.0, Some("ingest-dlq")),
                queue("ingest-dlq", 14.0, 2.0 * DAY, None),
                queue("thumbnails", 6_000.0, 3_600.0, None),
                queue("reports-legacy", 820.0, 12.6 * DAY, None),
            ],
            tables: vec![
                SimTable {
                    name: "TileIndex".into(),
                    on_demand: false,
                    rcu: 100,
                    wcu: 50,
                    read_demand: 60.0,
                    write_demand: 70.0,
                    status: "ACTIVE",
                    gsis: vec![SimIndex {
                        name: "by-chunk".into(),
                        rcu: 50,
                        wcu: 50,
                        status: "ACTIVE",
                    }],
                    updating: 0.0,
                    pending: None,
                    items: 48_200_113,
                },
                SimTable {
                    name: "idIndex".into(),
                    on_demand: true,
                    rcu: 0,
                    wcu: 0,
                    read_demand: 35.0,
                    write_demand: 12.0,
                    status: "ACTIVE",
                    gsis: vec![],
                    updating: 0.0,
                    pending: None,
                    items: 9_120_554,
                },
                SimTable {
                    name: "sessions".into(),
                    on_demand: false,
                    rcu: 25,
                    wcu: 10,
                    read_demand: 8.0,
                    write_demand: 3.0,
                    status: "ACTIVE",
                    gsis: vec![],
                    updating: 0.0,
                    pending: None,
                    items: 1_442,
                },
            ],
            tasks: Vec::new(),
            story: StoryClock::default(),
            poison_purged: false,
        }
    }

    /// Whether `ingest`'s consumers are failing on poison messages (from the storyline's beat until
    /// the queue is purged).
    pub fn consumers_failing(&self) -> bool {
        self.story.reached(beats::QUEUE_BACKLOG) && !self.poison_purged
    }

    fn q(&mut self, name: &str) -> Option<&mut SimQueue> {
        self.queues.iter_mut().find(|q| q.name == name)
    }

    /// Advances the simulation by `dt` seconds.
    pub fn tick(&mut self, dt: f64) {
        self.clock += dt;
        let t = self.clock;
        // From the storyline's beat ingest's consumers fail on poison messages: nothing is deleted,
        // what was received too often goes to the DLQ, the queue backs up.
        let stalled = self.consumers_failing();
        for q in &mut self.queues {
            if let Some(p) = &mut q.purged_ago {
                *p += dt;
            }
            let (inflow, outflow) = match q.name.as_str() {
                // Busy, its consumers keeping up with a 4-minute swell.
                "upload" => (44.0 + 0.9 * (t / 240.0 * std::f64::consts::TAU).sin(), 45.0),
                "ingest" if stalled => (8.0, 1.5),
                "ingest" => (8.0, 14.0),
                "ingest-dlq" if stalled => (1.5, 0.0),
                // Last night's batch, draining.
                "thumbnails" => (18.0, 20.0),
                _ => (0.0, 0.0),
            };
            let before = q.visible;
            q.visible = (q.visible + (inflow - outflow) * dt).max(0.0);
            q.flow = (inflow, (before + inflow * dt - q.visible) / dt);
            q.in_flight = if q.visible > 0.0 {
                outflow.min(q.visible) * 2.0
            } else {
                0.0
            }
            .round();
            q.delayed = if q.name == "upload" { 5.0 } else { 0.0 };
            q.oldest_age = if q.visible <= 0.0 {
                0.0
            } else if before <= 0.0 {
                dt
            } else if outflow > 0.0 {
                // Roughly: FIFO-ish consumption keeps the oldest about backlog/outflow old.
                (q.visible / outflow).min(q.oldest_age + dt)
            } else {
                q.oldest_age + dt
            };
        }
        for task in self.tasks.iter_mut().filter(|t| t.status == "RUNNING") {
            let step = (task.rate * dt).min(task.to_move - task.moved);
            task.moved += step;
            let source = self.queues.iter_mut().find(|q| q.name == task.source);
            let step = match source {
                Some(s) => {
                    let step = step.min(s.visible);
                    s.visible -= step;
                    if s.visible <= 0.0 {
                        s.oldest_age = 0.0;
                    }
                    step
                }
                None => 0.0,
            };
            if let Some(d) = self.queues.iter_mut().find(|q| q.name == task.dest) {
                d.visible += step;
            }
            if task.moved >= task.to_move || step <= 0.0 {
                task.status = "COMPLETED";
            }
        }
        for table in &mut self.tables {
            // Write demand for TileIndex creeps up: what was enough yesterday is not today.
            if table.name == "TileIndex" {
                table.write_demand = 70.0 + 30.0 * (t / 300.0 * std::f64::consts::TAU).sin().abs() + t / 60.0;
            }
            if table.updating > 0.0 {
                table.updating -= dt;
                if table.updating <= 0.0 {
                    table.status = "ACTIVE";
                    if let Some((gsi, r, w)) = table.pending.take() {
                        match gsi {
                            None => (table.rcu, table.wcu) = (r, w),
                            Some(g) => {
                                if let Some(i) = table.gsis.iter_mut().find(|i| i.name == g) {
                                    (i.rcu, i.wcu, i.status) = (r, w, "ACTIVE");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Consumed and throttled per minute for a table or index: (consumed read, consumed write,
    /// read throttle events, write throttle events), each a per-minute Sum as CloudWatch reports it.
    pub fn table_metrics(&self, table: &str, gsi: Option<&str>) -> Option<[f64; 4]> {
        let t = self.tables.iter().find(|x| x.name == table)?;
        let (rd, wd) = (t.read_demand, t.write_demand);
        let (rcu, wcu) = match gsi {
            None if t.on_demand => (f64::MAX, f64::MAX),
            None => (t.rcu as f64, t.wcu as f64),
            Some(g) => {
                let i = t.gsis.iter().find(|i| i.name == g)?;
                (i.rcu as f64, i.wcu as f64)
            }
        };
        // Throttle events per minute: a few per unit of unmet demand.
        Some([
            rd.min(rcu) * 60.0,
            wd.min(wcu) * 60.0,
            ((rd - rcu).max(0.0) * 6.0).round(),
            ((wd - wcu).max(0.0) * 6.0).round(),
        ])
    }
}

type Shared = Arc<Mutex<Sim>>;

fn url(endpoint: &str, name: &str) -> String {
    format!("{endpoint}/{ACCOUNT}/{name}")
}
fn arn(name: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")
}
fn name_of(url_or_arn: &str) -> &str {
    url_or_arn.rsplit(['/', ':']).next().unwrap_or(url_or_arn)
}

fn json_answer(status: StatusCode, v: Value) -> Response {
    (status, [("content-type", "application/x-amz-json-1.0")], v.to_string()).into_response()
}

fn json_error(service: &str, code: &str, message: &str) -> Response {
    json_answer(
        StatusCode::BAD_REQUEST,
        json!({ "__type": format!("{service}#{code}"), "message": message }),
    )
}

fn sqs(sim: &mut Sim, endpoint: &str, op: &str, body: &Value) -> Response {
    let no_queue = || {
        json_error(
            "com.amazonaws.sqs",
            "QueueDoesNotExist",
            "The specified queue does not exist.",
        )
    };
    let queue_name = body["QueueUrl"].as_str().map(name_of).unwrap_or_default().to_string();
    match op {
        "ListQueues" => {
            let prefix = body["QueueNamePrefix"].as_str().unwrap_or_default();
            let urls: Vec<String> = sim
                .queues
                .iter()
                .filter(|q| q.name.starts_with(prefix))
                .map(|q| url(endpoint, &q.name))
                .collect();
            json_answer(StatusCode::OK, json!({ "QueueUrls": urls }))
        }
        "GetQueueUrl" => {
            let name = body["QueueName"].as_str().unwrap_or_default();
            if sim.q(name).is_some() {
                json_answer(StatusCode::OK, json!({ "QueueUrl": url(endpoint, name) }))
            } else {
                no_queue()
            }
        }
        "GetQueueAttributes" => {
            let Some(q) = sim.q(&queue_name) else {
                return no_queue();
            };
            let mut attrs = json!({
                "QueueArn": arn(&q.name),
                "ApproximateNumberOfMessages": (q.visible.round() as u64).to_string(),
                "ApproximateNumberOfMessagesNotVisible": (q.in_flight as u64).to_string(),
                "ApproximateNumberOfMessagesDelayed": (q.delayed as u64).to_string(),
                "MessageRetentionPeriod": q.retention.to_string(),
                "VisibilityTimeout": "30",
                // Every demo queue was made when the demo's account was (2026-01-01).
                "CreatedTimestamp": "1767225600",
            });
            if let Some(d) = &q.dlq {
                attrs["RedrivePolicy"] =
                    json!(format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":5}}"#, arn(d)));
            }
            json_answer(StatusCode::OK, json!({ "Attributes": attrs }))
        }
        "PurgeQueue" => {
            let Some(q) = sim.q(&queue_name) else {
                return no_queue();
            };
            if q.purged_ago.is_some_and(|a| a < 60.0) {
                return json_error(
                    "com.amazonaws.sqs",
                    "PurgeQueueInProgress",
                    "Only one PurgeQueue operation on a queue is allowed every 60 seconds.",
                );
            }
            (q.visible, q.in_flight, q.delayed, q.oldest_age) = (0.0, 0.0, 0.0, 0.0);
            q.purged_ago = Some(0.0);
            if queue_name == "ingest" && sim.story.reached(beats::QUEUE_BACKLOG) {
                sim.poison_purged = true;
            }
            json_answer(StatusCode::OK, json!({}))
        }
        "StartMessageMoveTask" => {
            let source = name_of(body["SourceArn"].as_str().unwrap_or_default()).to_string();
            let dest = body["DestinationArn"]
                .as_str()
                .map(|a| name_of(a).to_string())
                .or_else(|| {
                    sim.queues
                        .iter()
                        .find(|q| q.dlq.as_deref() == Some(source.as_str()))
                        .map(|q| q.name.clone())
                })
                .unwrap_or_default();
            let Some(to_move) = sim.q(&source).map(|q| q.visible.round()) else {
                return no_queue();
            };
            if sim.tasks.iter().any(|t| t.source == source && t.status == "RUNNING") {
                return json_error(
                    "com.amazonaws.sqs",
                    "UnsupportedOperation",
                    "There is already a task running. Only one active task is allowed for a source queue.",
                );
            }
            let handle = format!("demo-task-{}", sim.tasks.len() + 1);
            sim.tasks.push(MoveTask {
                handle: handle.clone(),
                source,
                dest,
                rate: body["MaxNumberOfMessagesPerSecond"].as_f64().unwrap_or(10.0),
                moved: 0.0,
                to_move,
                status: "RUNNING",
                started: sim.clock as i64,
            });
            json_answer(StatusCode::OK, json!({ "TaskHandle": handle }))
        }
        "ListMessageMoveTasks" => {
            let source = name_of(body["SourceArn"].as_str().unwrap_or_default());
            let results: Vec<Value> = sim
                .tasks
                .iter()
                .rev()
                .filter(|t| t.source == source)
                .take(body["MaxResults"].as_u64().unwrap_or(1) as usize)
                .map(|t| {
                    json!({
                        "TaskHandle": t.handle, "Status": t.status, "SourceArn": arn(&t.source),
                        "DestinationArn": arn(&t.dest), "MaxNumberOfMessagesPerSecond": t.rate as i64,
                        "ApproximateNumberOfMessagesMoved": t.moved as i64,
                        "ApproximateNumberOfMessagesToMove": t.to_move as i64, "StartedTimestamp": t.started,
                    })
                })
                .collect();
            json_answer(StatusCode::OK, json!({ "Results": results }))
        }
        "CancelMessageMoveTask" => {
            let handle = body["TaskHandle"].as_str().unwrap_or_default();
            match sim.tasks.iter_mut().find(|t| t.handle == handle) {
                Some(t) => {
                    t.status = "CANCELLED";
                    json_answer(
                        StatusCode::OK,
                        json!({ "ApproximateNumberOfMessagesMoved": t.moved as i64 }),
                    )
                }
                None => json_error("com.amazonaws.sqs", "ResourceNotFoundException", "no such task"),
            }
        }
        other => json_error(
            "com.amazonaws.sqs",
            "InvalidAction",
            &format!("the demo does not implement {other}"),
        ),
    }
}

fn describe(t: &SimTable) -> Value {
    let throughput =
        |r: u64, w: u64| json!({ "ReadCapacityUnits": r, "WriteCapacityUnits": w, "NumberOfDecreasesToday": 0 });
    let mut v = json!({
        "TableName": t.name,
        "TableStatus": t.status,
        "TableArn": format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}", t.name),
        "ItemCount": t.items,
        "BillingModeSummary": { "BillingMode": if t.on_demand { "PAY_PER_REQUEST" } else { "PROVISIONED" } },
        "ProvisionedThroughput": throughput(t.rcu, t.wcu),
    });
    if !t.gsis.is_empty() {
        v["GlobalSecondaryIndexes"] = t
            .gsis
            .iter()
            .map(|g| json!({ "IndexName": g.name, "IndexStatus": g.status, "ProvisionedThroughput": throughput(g.rcu, g.wcu) }))
            .collect();
    }
    v
}

fn dynamodb(sim: &mut Sim, op: &str, body: &Value) -> Response {
    const SVC: &str = "com.amazonaws.dynamodb.v20120810";
    let name = body["TableName"].as_str().unwrap_or_default().to_string();
    let not_found = || json_error(SVC, "ResourceNotFoundException", "Requested resource not found");
    match op {
        "ListTables" => {
            let names: Vec<&str> = sim.tables.iter().map(|t| t.name.as_str()).collect();
            json_answer(StatusCode::OK, json!({ "TableNames": names }))
        }
        "DescribeTable" => match sim.tables.iter().find(|t| t.name == name) {
            Some(t) => json_answer(StatusCode::OK, json!({ "Table": describe(t) })),
            None => not_found(),
        },
        "UpdateTable" => {
            let Some(t) = sim.tables.iter_mut().find(|t| t.name == name) else {
                return not_found();
            };
            if t.on_demand {
                return json_error(
                    SVC,
                    "ValidationException",
                    "One or more parameter values were invalid: ProvisionedThroughput cannot be specified for a PAY_PER_REQUEST table",
                );
            }
            if t.status != "ACTIVE" {
                return json_error(SVC, "ResourceInUseException", "Table is being updated");
            }
            let units = |p: &Value| (p["ReadCapacityUnits"].as_u64(), p["WriteCapacityUnits"].as_u64());
            let pending = if let (Some(r), Some(w)) = units(&body["ProvisionedThroughput"]) {
                Some((None, r, w))
            } else {
                let u = &body["GlobalSecondaryIndexUpdates"][0]["Update"];
                match (u["IndexName"].as_str(), units(&u["ProvisionedThroughput"])) {
                    (Some(g), (Some(r), Some(w))) if t.gsis.iter().any(|i| i.name == g) => {
                        if let Some(i) = t.gsis.iter_mut().find(|i| i.name == g) {
                            i.status = "UPDATING";
                        }
                        Some((Some(g.to_string()), r, w))
                    }
                    _ => None,
                }
            };
            let Some(pending) = pending else {
                return json_error(SVC, "ValidationException", "nothing to update");
            };
            t.pending = Some(pending);
            t.status = "UPDATING";
            t.updating = 4.0;
            json_answer(StatusCode::OK, json!({ "TableDescription": describe(t) }))
        }
        other => json_error(
            SVC,
            "UnknownOperationException",
            &format!("the demo does not implement {other}"),
        ),
    }
}

/// `a=b&c=d` with percent-decoding and `+` as space.
fn parse_form(body: &str) -> HashMap<String, String> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match std::str::from_utf8(&bytes[i + 1..i + 3])
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// CloudWatch GetMetricData (query protocol): the latest value of each asked series.
fn cloudwatch(sim: &Sim, form: &HashMap<String, String>) -> Response {
    let xml = |status: StatusCode, body: String| (status, [("content-type", "text/xml")], body).into_response();
    if form.get("Action").map(String::as_str) != Some("GetMetricData") {
        return xml(
            StatusCode::BAD_REQUEST,
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the demo only answers GetMetricData</Message></Error><RequestId>demo</RequestId></ErrorResponse>".into(),
        );
    }
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let mut members = String::new();
    for i in 1.. {
        let p = format!("MetricDataQueries.member.{i}.");
        let Some(id) = form.get(&format!("{p}Id")) else { break };
        let m = format!("{p}MetricStat.Metric.");
        let metric = form
            .get(&format!("{m}MetricName"))
            .map(String::as_str)
            .unwrap_or_default();
        let mut dims: HashMap<&str, &str> = HashMap::new();
        for d in 1.. {
            let (Some(n), Some(v)) = (
                form.get(&format!("{m}Dimensions.member.{d}.Name")),
                form.get(&format!("{m}Dimensions.member.{d}.Value")),
            ) else {
                break;
            };
            dims.insert(n, v);
        }
        let value = match metric {
            "ApproximateAgeOfOldestMessage" => dims
                .get("QueueName")
                .and_then(|n| sim.queues.iter().find(|q| q.name == *n))
                .filter(|q| q.visible > 0.0)
                .map(|q| q.oldest_age.round()),
            "NumberOfMessagesSent" | "NumberOfMessagesDeleted" => dims
                .get("QueueName")
                .and_then(|n| sim.queues.iter().find(|q| q.name == *n))
                .map(|q| {
                    let per_s = if metric == "NumberOfMessagesSent" {
                        q.flow.0
                    } else {
                        q.flow.1
                    };
                    (per_s * 60.0).round()
                }),
            _ => dims.get("TableName").and_then(|t| {
                let m = sim.table_metrics(t, dims.get("GlobalSecondaryIndexName").copied())?;
                match metric {
                    "ConsumedReadCapacityUnits" => Some(m[0]),
                    "ConsumedWriteCapacityUnits" => Some(m[1]),
                    "ReadThrottleEvents" => Some(m[2]),
                    "WriteThrottleEvents" => Some(m[3]),
                    _ => None,
                }
            }),
        };
        let (ts, vs) = match value {
            Some(v) => (format!("<member>{now}</member>"), format!("<member>{v}</member>")),
            None => (String::new(), String::new()),
        };
        members.push_str(&format!(
            "<member><Id>{}</Id><Label>{}</Label><StatusCode>Complete</StatusCode><Timestamps>{ts}</Timestamps><Values>{vs}</Values></member>",
            xml_escape(id),
            xml_escape(metric)
        ));
    }
    xml(
        StatusCode::OK,
        format!(
            "<GetMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><GetMetricDataResult>\
             <MetricDataResults>{members}</MetricDataResults><Messages/></GetMetricDataResult>\
             <ResponseMetadata><RequestId>demo</RequestId></ResponseMetadata></GetMetricDataResponse>"
        ),
    )
}

/// Routes one request by protocol: `X-Amz-Target` (SQS or DynamoDB JSON) or a query-protocol form.
fn answer(sim: &Shared, endpoint: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let mut sim = sim.lock().unwrap_or_else(|p| p.into_inner());
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some((service, op)) = target.split_once('.') {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        return match service {
            "AmazonSQS" => sqs(&mut sim, endpoint, op, &body),
            s if s.starts_with("DynamoDB") => dynamodb(&mut sim, op, &body),
            _ => json_error("demo", "UnknownService", target),
        };
    }
    cloudwatch(&sim, &parse_form(&String::from_utf8_lossy(body)))
}

/// A running demo AWS server.
pub struct DemoAws {
    pub endpoint: String,
    pub sim: Shared,
}

/// Serves the simulation on 127.0.0.1:0 until `cancel`; the clock advances every second.
pub async fn serve(sim: Sim, cancel: tokio_util::sync::CancellationToken) -> anyhow::Result<DemoAws> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let shared: Shared = Arc::new(Mutex::new(sim));
    let (s, e) = (shared.clone(), endpoint.clone());
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let (s, e) = (s.clone(), e.clone());
        async move { answer(&s, &e, &headers, &body) }
    });
    let stop = cancel.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
    });
    let ticking = shared.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = every.tick() => ticking.lock().unwrap_or_else(|p| p.into_inner()).tick(1.0),
            }
        }
    });
    Ok(DemoAws { endpoint, sim: shared })
}

/// The `[aws]` section for a demo server at `endpoint` (static fake keys, loopback only).
pub fn demo_config(endpoint: &str) -> AwsConfig {
    AwsConfig {
        endpoint_url: Some(endpoint.to_string()),
        region: Some(REGION.into()),
        access_key_id: Some("demo".into()),
        secret_access_key: Some("demo".into()),
        queues: vec!["upload".into(), "ingest".into()],
        queue_prefixes: vec!["thumb".into(), "reports".into()],
        tables: vec!["TileIndex".into(), "idIndex".into()],
        table_prefixes: vec!["sess".into()],
        timeout: opsdeck_core::config::ConfigDuration::secs(3),
        redrive_rate: 2,
        ..Default::default()
    }
}

/// Starts this part of the demo and adds its section to the demo config.
pub async fn start(demo: &mut DemoCtx<'_>) -> anyhow::Result<()> {
    let mut sim = Sim {
        story: demo.story.clone(),
        ..Sim::new()
    };
    // A minute of history so the first screen already shows movement.
    for _ in 0..60 {
        sim.tick(1.0);
    }
    let aws = serve(sim, demo.cancel.clone()).await?;
    *demo.config.of_mut::<Queues>() = demo_config(&aws.endpoint);
    demo.keep_alive.push(Box::new(aws.sim));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulation_has_life() {
        let mut sim = Sim::new();
        let mut seen_dead_letters = false;
        let mut ingest_backed_up = false;
        sim.story.skip_to(beats::QUEUE_BACKLOG);
        for _ in 0..200 {
            sim.tick(1.0);
            let ingest = sim.queues.iter().find(|q| q.name == "ingest").unwrap().visible;
            ingest_backed_up |= ingest > 50.0;
            seen_dead_letters |= sim.queues.iter().find(|q| q.name == "ingest-dlq").unwrap().visible > 14.0;
        }
        assert!(ingest_backed_up && seen_dead_letters);
        let m = sim.table_metrics("TileIndex", None).unwrap();
        assert!(m[3] > 0.0, "TileIndex throttles writes: {m:?}");
        assert_eq!(
            sim.table_metrics("idIndex", None).unwrap()[3],
            0.0,
            "on-demand does not throttle"
        );
    }

    #[test]
    fn form_decoding() {
        let f = parse_form("Action=GetMetricData&A.member.1.Value=AWS%2FSQS&b=x+y");
        assert_eq!(f["A.member.1.Value"], "AWS/SQS");
        assert_eq!(f["b"], "x y");
    }
}
