//! Remediation for queues and tables: purge a queue, redrive a dead-letter queue to its source,
//! raise a table's or index's provisioned capacity. Plans are built by pure functions; `run`
//! executes and then verifies against a fresh read.

use crate::model::{QueueInfo, QueuesState, TableInfo};
use crate::source::{AwsBackend, error_code, explain};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use futures::future::BoxFuture;
use opsdeck_core::action::{ActionCtx, ActionPlan, Operation, Outcome, Risk};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The queues operations the executor can run.
#[derive(Debug, Clone, PartialEq)]
pub enum QueuesOp {
    Purge {
        queue_url: String,
        queue_name: String,
        /// Messages the plan said would be lost (visible + delayed when planned).
        expected: u64,
    },
    /// Boxed: six strings would make every `Operation` (and so every plan) this big.
    Redrive(Box<RedriveOp>),
    RaiseCapacity(Box<RaiseOp>),
}

/// New provisioned capacity for a table (`gsi: None`) or one of its indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct RaiseOp {
    pub table: String,
    pub gsi: Option<String>,
    pub old_rcu: u64,
    pub old_wcu: u64,
    pub new_rcu: u64,
    pub new_wcu: u64,
}

/// A DLQ and the queue its messages go back to.
#[derive(Debug, Clone, PartialEq)]
pub struct RedriveOp {
    pub dlq_url: String,
    pub dlq_arn: String,
    pub dlq_name: String,
    pub source_url: String,
    pub source_arn: String,
    pub source_name: String,
    /// Messages per second.
    pub rate: u32,
}

/// Purge: deletes every message in the queue. High risk: the name must be typed.
pub fn purge_plan(q: &QueueInfo) -> Result<ActionPlan, String> {
    if let Some(e) = &q.error {
        return Err(format!("{} cannot be read right now: {e}", q.name));
    }
    let lost = q.visible + q.delayed;
    let call = format!("SQS PurgeQueue {}", json!({ "QueueUrl": q.url }));
    Ok(ActionPlan {
        action: "queues.purge".into(),
        title: format!("Purge queue {}", q.name),
        target: q.name.clone(),
        description: format!(
            "Deletes every message in {}: about {lost} messages ({} visible, {} delayed) are LOST, \
             and {} in flight are deleted when their receivers finish or give up.\n\
             Messages sent during the purge may be deleted too. SQS allows one purge per 60 s; \
             it can take up to 60 s to complete.",
            q.name, q.visible, q.delayed, q.in_flight
        ),
        call,
        risk: Risk::High,
        verify: "GetQueueAttributes until visible and delayed messages reach 0 (up to 70 s)".into(),
        timeout: Duration::from_secs(90),
        op: Arc::new(QueuesOp::Purge {
            queue_url: q.url.clone(),
            queue_name: q.name.clone(),
            expected: lost,
        }),
        identity: String::new(),
    })
}

/// Redrive: moves a DLQ's messages back to the queue they came from.
pub fn redrive_plan(state: &QueuesState, dlq: &QueueInfo, rate: u32) -> Result<ActionPlan, String> {
    if dlq.dlq_of.is_empty() {
        return Err(format!(
            "{} is not a dead-letter queue of any queue shown here",
            dlq.name
        ));
    }
    if dlq.dlq_of.len() > 1 {
        return Err(format!(
            "{} collects dead letters from {}: redrive each from the AWS console",
            dlq.name,
            dlq.dlq_of.join(", ")
        ));
    }
    if dlq.visible == 0 {
        return Err(format!("{} has no visible messages to redrive", dlq.name));
    }
    let source = state
        .queue(&dlq.dlq_of[0])
        .ok_or_else(|| format!("source queue {} is not loaded", dlq.dlq_of[0]))?;
    let rate = rate.clamp(1, 500);
    let call = format!(
        "SQS StartMessageMoveTask {}",
        json!({ "SourceArn": dlq.arn, "DestinationArn": source.info.arn, "MaxNumberOfMessagesPerSecond": rate })
    );
    Ok(ActionPlan {
        action: "queues.redrive".into(),
        title: format!("Redrive {} → {}", dlq.name, source.info.name),
        target: dlq.name.clone(),
        description: format!(
            "Moves the {} messages in {} back to {} at up to {rate} messages/s. \
             Progress from ListMessageMoveTasks. Where the move-task API is unavailable (local emulators), \
             falls back to ReceiveMessage → SendMessage → DeleteMessage, deleting each message only after \
             its copy was sent.",
            dlq.visible, dlq.name, source.info.name
        ),
        call,
        risk: Risk::Medium,
        verify: format!(
            "{} empty afterwards; {} received the messages",
            dlq.name, source.info.name
        ),
        timeout: Duration::from_secs(30 * 60),
        op: Arc::new(QueuesOp::Redrive(Box::new(RedriveOp {
            dlq_url: dlq.url.clone(),
            dlq_arn: dlq.arn.clone(),
            dlq_name: dlq.name.clone(),
            source_url: source.info.url.clone(),
            source_arn: source.info.arn.clone(),
            source_name: source.info.name.clone(),
            rate,
        }))),
        identity: String::new(),
    })
}

/// Raise the provisioned capacity of `table` (or of its index `gsi`) to `new_rcu`/`new_wcu`.
/// Refused for on-demand tables and for decreases (AWS limits those per day; this is "raise").
pub fn raise_capacity_plan(
    table: &TableInfo,
    gsi: Option<&str>,
    new_rcu: u64,
    new_wcu: u64,
) -> Result<ActionPlan, String> {
    if table.on_demand() {
        return Err(format!(
            "{} is on-demand (PAY_PER_REQUEST): it has no provisioned capacity to raise",
            table.name
        ));
    }
    if let Some(e) = &table.error {
        return Err(format!("{} cannot be read right now: {e}", table.name));
    }
    let (what, cap, status) = match gsi {
        None => (format!("table {}", table.name), &table.capacity, table.status.as_str()),
        Some(g) => {
            let idx = table
                .gsis
                .iter()
                .find(|i| i.name == g)
                .ok_or_else(|| format!("{} has no index {g}", table.name))?;
            (
                format!("index {g} of {}", table.name),
                &idx.capacity,
                idx.status.as_str(),
            )
        }
    };
    let (Some(old_rcu), Some(old_wcu)) = (cap.rcu, cap.wcu) else {
        return Err(format!("{what} shows no provisioned capacity"));
    };
    if new_rcu == 0 || new_wcu == 0 {
        return Err("capacity units must be at least 1".into());
    }
    if new_rcu < old_rcu || new_wcu < old_wcu {
        return Err(format!(
            "{new_rcu}/{new_wcu} is below the current {old_rcu}/{old_wcu}: decreases are limited per day and are not a raise"
        ));
    }
    if new_rcu == old_rcu && new_wcu == old_wcu {
        return Err(format!("{what} already has {old_rcu} RCU / {old_wcu} WCU"));
    }
    if status != "ACTIVE" && !status.is_empty() {
        return Err(format!("{what} is {status}; wait until it is ACTIVE"));
    }
    let throughput = json!({ "ReadCapacityUnits": new_rcu, "WriteCapacityUnits": new_wcu });
    let request = match gsi {
        None => json!({ "TableName": table.name, "ProvisionedThroughput": throughput }),
        Some(g) => json!({
            "TableName": table.name,
            "GlobalSecondaryIndexUpdates": [{ "Update": { "IndexName": g, "ProvisionedThroughput": throughput } }]
        }),
    };
    let target = match gsi {
        None => table.name.clone(),
        Some(g) => format!("{}/{g}", table.name),
    };
    Ok(ActionPlan {
        action: "queues.raise_capacity".into(),
        title: format!("Raise capacity of {what}"),
        target,
        description: format!(
            "Read capacity {old_rcu} -> {new_rcu} RCU, write capacity {old_wcu} -> {new_wcu} WCU on {what}.\n\
             Raising costs money from now on; lowering it again is limited per UTC day{}.",
            table
                .decreases_today
                .map(|d| format!(" ({d} decreases used today)"))
                .unwrap_or_default()
        ),
        call: format!("DynamoDB UpdateTable {request}"),
        risk: Risk::Medium,
        verify: "DescribeTable until the new capacity shows and the status is ACTIVE".into(),
        timeout: Duration::from_secs(15 * 60),
        op: Arc::new(QueuesOp::RaiseCapacity(Box::new(RaiseOp {
            table: table.name.clone(),
            gsi: gsi.map(str::to_string),
            old_rcu,
            old_wcu,
            new_rcu,
            new_wcu,
        }))),
        identity: String::new(),
    })
}

/// Preset for pane keys while no input dialog exists: double both units (at least +1).
pub fn doubled(rcu: u64, wcu: u64) -> (u64, u64) {
    (rcu.saturating_mul(2).max(rcu + 1), wcu.saturating_mul(2).max(wcu + 1))
}

/// What a person types for new capacity: `RCU/WCU` (`200/100`, `200 100`), or a factor (`x2`, `×1.5`).
pub fn parse_capacity(text: &str, old_rcu: u64, old_wcu: u64) -> Result<(u64, u64), String> {
    let t = text.trim();
    if let Some(f) = t.strip_prefix(['x', 'X', '×', '*']) {
        let f: f64 = f
            .trim()
            .parse()
            .map_err(|_| format!("{t:?}: a factor looks like x2 or x1.5"))?;
        if !(f > 1.0 && f <= 100.0) {
            return Err("the factor must be above 1 (this raises capacity) and at most 100".into());
        }
        return Ok(((old_rcu as f64 * f).ceil() as u64, (old_wcu as f64 * f).ceil() as u64));
    }
    let parts: Vec<&str> = t.split(['/', ' ', ',']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [r, w] => match (r.parse::<u64>(), w.parse::<u64>()) {
            (Ok(r), Ok(w)) => Ok((r, w)),
            _ => Err(format!(
                "{t:?}: type read/write units like 200/100, or a factor like x2"
            )),
        },
        _ => Err(format!(
            "{t:?}: type read/write units like 200/100, or a factor like x2"
        )),
    }
}

impl Operation for QueuesOp {
    fn run<'a>(&'a self, ctx: &'a ActionCtx) -> BoxFuture<'a, Outcome> {
        Box::pin(run(self.clone(), ctx))
    }
}

pub async fn run(op: QueuesOp, ctx: &ActionCtx) -> Outcome {
    let Some(aws) = ctx.backends.of::<crate::Queues>().cloned() else {
        return Outcome::failed("AWS is not configured in this opsdeck");
    };
    run_with(op, &aws, ctx).await
}

/// Runs `op` against `aws` (tests call this with clients pointed at moto or a local double).
pub async fn run_with(op: QueuesOp, aws: &AwsBackend, ctx: &ActionCtx) -> Outcome {
    match op {
        QueuesOp::Purge {
            queue_url,
            queue_name,
            expected,
        } => purge(aws, ctx, &queue_url, &queue_name, expected).await,
        QueuesOp::Redrive(r) => redrive(aws, ctx, &r).await,
        QueuesOp::RaiseCapacity(r) => raise(aws, ctx, &r.table, r.gsi.as_deref(), r.new_rcu, r.new_wcu).await,
    }
}

async fn purge(aws: &AwsBackend, ctx: &ActionCtx, url: &str, name: &str, expected: u64) -> Outcome {
    let mut note = String::new();
    if let Err(e) = aws.sqs.purge_queue().queue_url(url).send().await {
        let code = error_code(&e).unwrap_or_default();
        if code.contains("PurgeQueueInProgress") {
            // The effect we want is already under way: verify it rather than fail.
            note = " (a purge was already in progress; SQS allows one per 60 s)".into();
            ctx.report(format!("{name}: a purge is already in progress, waiting for it"), None);
        } else {
            return Outcome::failed(explain("PurgeQueue", &e));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(70);
    let mut last = None;
    loop {
        let q = aws.queue_info(url.to_string()).await;
        if let Some(e) = &q.error {
            ctx.report(format!("verify: {e}"), None);
        } else {
            let left = q.visible + q.delayed;
            last = Some(left);
            if left == 0 {
                return Outcome::succeeded(format!("purged {name}: about {expected} messages deleted{note}"));
            }
            ctx.report(format!("{name}: {left} messages left"), None);
        }
        if Instant::now() >= deadline || ctx.cancel.is_cancelled() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    match last {
        Some(left) if left < expected => Outcome::succeeded(format!(
            "purged {name}{note}; {left} messages arrived since (producers are still sending)"
        )),
        Some(left) => Outcome::unverified(format!("purge of {name} requested{note}, but {left} messages remain")),
        None => Outcome::unverified(format!(
            "purge of {name} requested{note}; could not read the queue since"
        )),
    }
}

/// Whether an error means "this endpoint has no move-task API" (moto answers 500 with HTML).
fn move_task_unavailable(code: Option<&str>) -> bool {
    match code {
        None => true,
        Some(c) => matches!(
            c,
            "InternalFailure" | "InternalError" | "NotImplemented" | "UnknownOperationException" | "InvalidAction"
        ),
    }
}

async fn redrive(aws: &AwsBackend, ctx: &ActionCtx, op: &RedriveOp) -> Outcome {
    let RedriveOp {
        dlq_url,
        dlq_arn,
        dlq_name,
        source_url,
        source_arn,
        source_name,
        rate,
    } = op;
    let before = aws.queue_info(dlq_url.clone()).await;
    let started = aws
        .sqs
        .start_message_move_task()
        .source_arn(dlq_arn)
        .destination_arn(source_arn)
        .max_number_of_messages_per_second(*rate as i32)
        .send()
        .await;
    let moved_by = match started {
        Ok(out) => {
            let handle = out.task_handle().unwrap_or_default().to_string();
            ctx.report(format!("move task started: {handle}"), Some(0.0));
            if let Some(failure) = follow_move_task(aws, ctx, dlq_arn, &handle).await {
                return failure;
            }
            "StartMessageMoveTask"
        }
        Err(e) if move_task_unavailable(error_code(&e).as_deref()) => {
            ctx.report(
                "move-task API unavailable here: moving messages one by one (receive → send → delete)",
                None,
            );
            let total = before.visible.max(1);
            match fallback_redrive(aws, ctx, dlq_url, source_url, *rate, total).await {
                Ok(_) => "ReceiveMessage/SendMessage/DeleteMessage",
                Err(o) => return o,
            }
        }
        Err(e) => return Outcome::failed(explain("StartMessageMoveTask", &e)),
    };
    // Verify with fresh counts (approximate in SQS; in flight counts as not yet moved).
    let after = aws.queue_info(dlq_url.clone()).await;
    let dest = aws.queue_info(source_url.clone()).await;
    let left = after.visible + after.in_flight;
    let summary = format!(
        "redrive {dlq_name} → {source_name} via {moved_by}: DLQ had {}, now {left}; {source_name} now holds {}",
        before.visible,
        dest.backlog()
    );
    if after.error.is_none() && left == 0 {
        Outcome::succeeded(summary)
    } else {
        Outcome::unverified(summary)
    }
}

/// Polls ListMessageMoveTasks until the task ends. `Some(outcome)` when it did not complete.
async fn follow_move_task(aws: &AwsBackend, ctx: &ActionCtx, dlq_arn: &str, handle: &str) -> Option<Outcome> {
    loop {
        if ctx.cancel.is_cancelled() {
            let r = aws.sqs.cancel_message_move_task().task_handle(handle).send().await;
            return Some(Outcome::failed(match r {
                Ok(out) => format!(
                    "stopped: move task cancelled after {} messages",
                    out.approximate_number_of_messages_moved()
                ),
                Err(e) => explain("CancelMessageMoveTask", &e),
            }));
        }
        match aws
            .sqs
            .list_message_move_tasks()
            .source_arn(dlq_arn)
            .max_results(1)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(t) = out.results().first() {
                    let moved = t.approximate_number_of_messages_moved();
                    let total = t.approximate_number_of_messages_to_move();
                    let fraction = total.filter(|n| *n > 0).map(|n| (moved as f64 / n as f64).min(1.0));
                    let status = t.status().unwrap_or("UNKNOWN");
                    ctx.report(
                        format!(
                            "move task {status}: {moved}/{} moved",
                            total.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
                        ),
                        fraction,
                    );
                    match status {
                        "COMPLETED" => return None,
                        "FAILED" | "CANCELLED" => {
                            return Some(Outcome::failed(format!(
                                "move task {status} after {moved} messages: {}",
                                t.failure_reason().unwrap_or("no reason given")
                            )));
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => ctx.report(explain("ListMessageMoveTasks", &e), None),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Client-side redrive: each message is deleted from the DLQ only after its copy was sent.
/// A failed send leaves the message in the DLQ (visible again after its visibility timeout).
async fn fallback_redrive(
    aws: &AwsBackend,
    ctx: &ActionCtx,
    dlq_url: &str,
    source_url: &str,
    rate: u32,
    total: u64,
) -> Result<u64, Outcome> {
    let fifo = source_url.ends_with(".fifo");
    let started = Instant::now();
    let mut moved: u64 = 0;
    let mut empty_rounds = 0;
    while empty_rounds < 2 {
        if ctx.cancel.is_cancelled() {
            return Err(Outcome::failed(format!(
                "stopped after moving {moved} messages; the rest stay in the DLQ"
            )));
        }
        let got = aws
            .sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| Outcome::failed(format!("after moving {moved}: {}", explain("ReceiveMessage", &e))))?;
        let messages = got.messages();
        if messages.is_empty() {
            empty_rounds += 1;
            continue;
        }
        empty_rounds = 0;
        for m in messages {
            let mut send = aws
                .sqs
                .send_message()
                .queue_url(source_url)
                .message_body(m.body().unwrap_or_default())
                .set_message_attributes(m.message_attributes().cloned());
            if fifo {
                let attrs = m.attributes();
                let group = attrs
                    .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                    .cloned()
                    .unwrap_or_else(|| "redrive".into());
                send = send
                    .message_group_id(group)
                    .message_deduplication_id(m.message_id().unwrap_or_default());
            }
            if let Err(e) = send.send().await {
                // Not deleted: the message stays in the DLQ and nothing is lost.
                return Err(Outcome::failed(format!(
                    "moved {moved}, then stopped: {} (the message stays in the DLQ)",
                    explain("SendMessage", &e)
                )));
            }
            if let Some(receipt) = m.receipt_handle()
                && let Err(e) = aws
                    .sqs
                    .delete_message()
                    .queue_url(dlq_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
            {
                // Sent but not deleted: it will be redriven twice rather than lost.
                return Err(Outcome::unverified(format!(
                    "moved {moved}; one message was sent but could not be deleted from the DLQ \
                     (it will appear again there): {}",
                    explain("DeleteMessage", &e)
                )));
            }
            moved += 1;
        }
        ctx.report(
            format!("{moved}/{total} messages moved"),
            Some((moved as f64 / total as f64).min(1.0)),
        );
        // Hold the rate: never faster than `rate` messages per second overall.
        let due = Duration::from_secs_f64(moved as f64 / rate as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    Ok(moved)
}

async fn raise(aws: &AwsBackend, ctx: &ActionCtx, table: &str, gsi: Option<&str>, rcu: u64, wcu: u64) -> Outcome {
    use aws_sdk_dynamodb::types::{
        GlobalSecondaryIndexUpdate, ProvisionedThroughput, UpdateGlobalSecondaryIndexAction,
    };
    let throughput = match ProvisionedThroughput::builder()
        .read_capacity_units(rcu as i64)
        .write_capacity_units(wcu as i64)
        .build()
    {
        Ok(t) => t,
        Err(e) => return Outcome::failed(format!("bad throughput: {e}")),
    };
    let mut req = aws.dynamodb.update_table().table_name(table);
    req = match gsi {
        None => req.provisioned_throughput(throughput),
        Some(g) => match UpdateGlobalSecondaryIndexAction::builder()
            .index_name(g)
            .provisioned_throughput(throughput)
            .build()
        {
            Ok(a) => req.global_secondary_index_updates(GlobalSecondaryIndexUpdate::builder().update(a).build()),
            Err(e) => return Outcome::failed(format!("bad index update: {e}")),
        },
    };
    if let Err(e) = req.send().await {
        return Outcome::failed(explain("UpdateTable", &e));
    }
    let what = gsi.map(|g| format!("{table}/{g}")).unwrap_or_else(|| table.to_string());
    let deadline = Instant::now() + Duration::from_secs(14 * 60);
    loop {
        let t = aws.table_info(table.to_string()).await;
        let (cap, status) = match gsi {
            None => (Some(&t.capacity), t.status.as_str()),
            Some(g) => match t.gsis.iter().find(|i| i.name == g) {
                Some(i) => (Some(&i.capacity), i.status.as_str()),
                None => (None, ""),
            },
        };
        if let Some(c) = cap
            && c.rcu == Some(rcu)
            && c.wcu == Some(wcu)
        {
            if status == "ACTIVE" {
                return Outcome::succeeded(format!("{what} now has {rcu} RCU / {wcu} WCU"));
            }
            ctx.report(format!("{what}: {status}"), None);
        } else if let Some(e) = &t.error {
            ctx.report(format!("verify: {e}"), None);
        }
        if Instant::now() >= deadline || ctx.cancel.is_cancelled() {
            return Outcome::unverified(format!(
                "UpdateTable accepted for {what}; the new capacity does not show yet"
            ));
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Capacity, GsiInfo, QueueState};

    fn table(billing: &str) -> TableInfo {
        TableInfo {
            name: "TileIndex".into(),
            status: "ACTIVE".into(),
            billing_mode: billing.into(),
            capacity: Capacity {
                rcu: Some(100),
                wcu: Some(50),
                ..Default::default()
            },
            gsis: vec![GsiInfo {
                name: "by-chunk".into(),
                status: "ACTIVE".into(),
                capacity: Capacity {
                    rcu: Some(10),
                    wcu: Some(20),
                    ..Default::default()
                },
            }],
            ..Default::default()
        }
    }

    #[test]
    fn raise_plan_shows_old_to_new_and_refuses_on_demand_and_decreases() {
        let p = raise_capacity_plan(&table("PROVISIONED"), None, 200, 100).unwrap();
        assert!(p.description.contains("100 -> 200 RCU"), "{}", p.description);
        assert!(p.description.contains("50 -> 100 WCU"), "{}", p.description);
        assert_eq!(
            p.call,
            r#"DynamoDB UpdateTable {"ProvisionedThroughput":{"ReadCapacityUnits":200,"WriteCapacityUnits":100},"TableName":"TileIndex"}"#
        );
        let g = raise_capacity_plan(&table("PROVISIONED"), Some("by-chunk"), 10, 40).unwrap();
        assert_eq!(g.target, "TileIndex/by-chunk");
        assert!(g.call.contains(r#""IndexName":"by-chunk""#));
        assert!(g.description.contains("20 -> 40 WCU"));
        let e = raise_capacity_plan(&table("PAY_PER_REQUEST"), None, 200, 100).unwrap_err();
        assert!(e.contains("on-demand"), "{e}");
        assert!(
            raise_capacity_plan(&table("PROVISIONED"), None, 50, 100)
                .unwrap_err()
                .contains("below")
        );
        assert!(raise_capacity_plan(&table("PROVISIONED"), Some("nope"), 50, 100).is_err());
        assert!(
            raise_capacity_plan(&table("PROVISIONED"), None, 100, 50)
                .unwrap_err()
                .contains("already")
        );
        assert_eq!(doubled(100, 0), (200, 1));
        assert_eq!(parse_capacity("200/100", 1, 1), Ok((200, 100)));
        assert_eq!(parse_capacity(" 300 150 ", 1, 1), Ok((300, 150)));
        assert_eq!(parse_capacity("x1.5", 100, 5), Ok((150, 8)));
        assert!(parse_capacity("x0.5", 100, 5).is_err());
        assert!(parse_capacity("lots", 100, 5).is_err());
    }

    #[test]
    fn purge_is_high_risk_and_states_the_loss() {
        let q = QueueInfo {
            name: "ingest".into(),
            url: "http://x/1/ingest".into(),
            visible: 40,
            delayed: 2,
            ..Default::default()
        };
        let p = purge_plan(&q).unwrap();
        assert_eq!(p.risk, Risk::High);
        assert!(p.needs_typed_confirmation());
        assert!(p.description.contains("about 42 messages"), "{}", p.description);
        assert_eq!(p.call, r#"SQS PurgeQueue {"QueueUrl":"http://x/1/ingest"}"#);
    }

    #[test]
    fn redrive_needs_one_known_source() {
        let src = QueueInfo {
            name: "upload".into(),
            arn: "arn:aws:sqs:r:1:upload".into(),
            ..Default::default()
        };
        let mut dlq = QueueInfo {
            name: "upload-dlq".into(),
            arn: "arn:aws:sqs:r:1:upload-dlq".into(),
            visible: 5,
            dlq_of: vec!["upload".into()],
            ..Default::default()
        };
        let state = QueuesState {
            queues: vec![
                QueueState {
                    info: src,
                    ..Default::default()
                },
                QueueState {
                    info: dlq.clone(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let p = redrive_plan(&state, &dlq, 900).unwrap();
        assert!(p.call.contains(r#""MaxNumberOfMessagesPerSecond":500"#), "{}", p.call);
        assert!(p.call.contains(r#""DestinationArn":"arn:aws:sqs:r:1:upload""#));
        dlq.visible = 0;
        assert!(redrive_plan(&state, &dlq, 10).is_err());
        dlq.visible = 3;
        dlq.dlq_of.clear();
        assert!(redrive_plan(&state, &dlq, 10).is_err());
    }
}
