//! Purging a queue (runbook 004: "clear the queue and unstick things"): a plan that says exactly what
//! will be sent, to which queue (identified well enough that a deleted-and-recreated queue of the
//! same name is re-planned), and how the effect is checked; and the run that checks it.

use crate::model::{Queue, QueueKey};
use crate::source::{ApiError, Client, read_queue, segment};
use futures::future::BoxFuture;
use opsdeck_core::action::{ActionCtx, ActionPlan, Operation, Outcome, Risk};
use opsdeck_core::exec::shell_quote;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What makes a queue the same queue: its declaration, and a publish count that only grows while
/// it lives (a queue deleted and declared again starts from nothing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueIdentity {
    pub durable: bool,
    pub auto_delete: bool,
    pub kind: Option<String>,
    pub arguments: serde_json::Map<String, serde_json::Value>,
    pub published: Option<u64>,
}

impl QueueIdentity {
    pub fn of(q: &Queue) -> Self {
        Self {
            durable: q.durable,
            auto_delete: q.auto_delete,
            kind: q.kind.clone(),
            arguments: q.arguments.clone(),
            published: q.message_stats.as_ref().and_then(|s| s.publish),
        }
    }

    /// The facts that make it the same queue, as the console binds a plan to them (`; `-separated):
    /// its declaration, not its counts, so a queue that keeps receiving while the dialog is open is
    /// still the queue confirmed. (The publish counter is re-checked when the purge runs.)
    pub fn facts(&self, q: &QueueKey) -> String {
        format!(
            "vhost {}; queue {}; durable {}; auto_delete {}; type {}; arguments {}",
            q.vhost,
            q.name,
            self.durable,
            self.auto_delete,
            self.kind.as_deref().unwrap_or("classic"),
            serde_json::Value::Object(self.arguments.clone())
        )
    }

    /// Why `now` is not the planned queue, if it is not.
    fn differs(&self, now: &QueueIdentity) -> Option<String> {
        if (&self.durable, &self.auto_delete, &self.kind, &self.arguments)
            != (&now.durable, &now.auto_delete, &now.kind, &now.arguments)
        {
            return Some("its declaration (durable, auto_delete, type or arguments) changed".into());
        }
        match (self.published, now.published) {
            (Some(then), Some(n)) if n < then => Some(format!("its publish count went back from {then} to {n}")),
            (Some(then), None) => Some(format!("its publish count ({then}) is gone")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PurgePlan {
    pub instance: String,
    pub queue: QueueKey,
    pub identity: QueueIdentity,
    /// Ready messages at plan time: what the confirmation shows.
    pub ready: u64,
    pub consumers: u64,
    pub risk: Risk,
    /// What a person types to confirm.
    pub confirm_text: String,
    /// The call as a person would type it.
    pub call: String,
    pub verify: String,
}

impl PurgePlan {
    /// The question the confirmation dialog asks.
    pub fn prompt(&self) -> String {
        format!(
            "Purge {} ready messages from {} (vhost {})? They are deleted, not moved. Type the queue's name to confirm.",
            self.ready, self.queue.name, self.queue.vhost
        )
    }
}

fn contents_path(q: &QueueKey) -> String {
    format!("/api/queues/{}/{}/contents", segment(&q.vhost), segment(&q.name))
}

/// Reads the queue now and plans its purge.
pub async fn plan_purge(client: &Client, instance: &str, vhost: &str, name: &str) -> Result<PurgePlan, ApiError> {
    let q = read_queue(client, vhost, name).await?;
    Ok(purge_plan(instance, client.user(), client.base_url(), &q))
}

/// The purge of `q` as the last poll saw it, run as `user` against the API at `base_url`.
pub fn purge_plan(instance: &str, user: &str, base_url: &str, q: &Queue) -> PurgePlan {
    let key = q.key();
    PurgePlan {
        instance: instance.to_string(),
        identity: QueueIdentity::of(q),
        ready: q.messages_ready,
        consumers: q.consumers,
        risk: Risk::High,
        confirm_text: key.name.clone(),
        call: format!(
            "curl -u {} -X DELETE {}",
            shell_quote(user),
            shell_quote(&format!("{base_url}{}", contents_path(&key)))
        ),
        verify: format!(
            "ready messages of {} read again until 0 (or fewer than {} if publishers keep publishing)",
            key.name, q.messages_ready
        ),
        queue: key,
    }
}

/// Re-checks the queue is the planned one, purges it, and reads it again until the ready count
/// shows the purge (the API's counts lag by its statistics interval, 5 s by default) or
/// `verify_timeout` passes.
pub async fn execute_purge(client: &Client, plan: &PurgePlan, verify_timeout: Duration) -> Outcome {
    let q = &plan.queue;
    let before = match read_queue(client, &q.vhost, &q.name).await {
        Ok(now) => now,
        Err(ApiError::NotFound(_)) => return Outcome::failed(format!("{} is gone: nothing purged", q.name)),
        Err(e) => return Outcome::failed(format!("could not re-read {} before purging: {e}", q.name)),
    };
    if let Some(why) = plan.identity.differs(&QueueIdentity::of(&before)) {
        return Outcome::failed(format!(
            "{} is not the queue planned ({why}): nothing purged, plan again",
            q.name
        ));
    }
    if let Err(e) = client.delete(&contents_path(q)).await {
        return Outcome::failed(refusal_words(e, q));
    }
    let deadline = Instant::now() + verify_timeout;
    let mut last = None;
    loop {
        match read_queue(client, &q.vhost, &q.name).await {
            Ok(now) if now.messages_ready == 0 => {
                return Outcome::succeeded(format!(
                    "purged {}: ready is 0 (was {} at plan time)",
                    q.name, plan.ready
                ));
            }
            Ok(now) => last = Some(now.messages_ready),
            Err(e) => tracing::debug!(queue = %q.name, "verify read failed: {e}"),
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250).min(deadline - Instant::now())).await;
    }
    match last {
        Some(n) if n < before.messages_ready => Outcome::succeeded(format!(
            "purged {}: ready fell from {} to {n}; publishers keep publishing",
            q.name, before.messages_ready
        )),
        Some(n) => Outcome::unverified(format!(
            "purge of {} sent, but ready is still {n} after {}",
            q.name,
            humantime::format_duration(verify_timeout)
        )),
        None => Outcome::unverified(format!("purge of {} sent, but it could not be read again", q.name)),
    }
}

/// A refusal names the user and what they lack; other errors keep their words.
fn refusal_words(e: ApiError, q: &QueueKey) -> String {
    match e {
        ApiError::Refused {
            user, status, reason, ..
        } => format!(
            "refused: user {user} may not purge {} ({status}: {reason}) — purging needs the read permission \
             on the queue in vhost {} (a monitoring-only user can view, not purge)",
            q.name, q.vhost
        ),
        other => format!("purge of {} failed: {other}", q.name),
    }
}

/// Longest a purge waits for the management API's counts to show it (they lag by the server's
/// statistics interval, 5 s by default).
pub const VERIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// A purge as the console runs it: on the instance it was planned for, with the client the console
/// holds for it.
#[derive(Debug, Clone)]
pub struct RabbitmqOperation {
    pub plan: PurgePlan,
}

impl PurgePlan {
    /// The console's plan: the count and the exact call shown in the confirm dialog and written to
    /// the audit log, the queue's name typed to confirm, bound to what makes it the same queue.
    pub fn into_action(self, request_timeout: Duration) -> ActionPlan {
        let q = &self.queue;
        let consumers = match self.consumers {
            0 => "nothing consumes it".to_string(),
            n => format!("{n} consumers attached"),
        };
        ActionPlan {
            action: "rabbitmq.purge_queue".into(),
            title: format!("Purge {} — delete {} ready messages", q.name, self.ready),
            target: self.confirm_text.clone(),
            description: format!(
                "Delete the {} ready messages of {} (vhost {}, on {}) for good; {consumers}. \
                 Messages workers hold unacknowledged are not touched.",
                self.ready, q.name, q.vhost, self.instance
            ),
            call: self.call.clone(),
            risk: self.risk,
            verify: self.verify.clone(),
            // Re-read, purge, then reads until the counts show it.
            timeout: VERIFY_TIMEOUT + request_timeout * 3,
            identity: self.identity.facts(q),
            op: Arc::new(RabbitmqOperation { plan: self }),
        }
    }
}

impl Operation for RabbitmqOperation {
    fn run<'a>(&'a self, ctx: &'a ActionCtx) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(backend) = ctx.backends.of::<crate::Rabbitmq>() else {
                return Outcome::failed("RabbitMQ is not configured in this opsdeck");
            };
            match backend.client(&self.plan.instance) {
                Ok(client) => execute_purge(client, &self.plan, VERIFY_TIMEOUT).await,
                Err(e) => Outcome::failed(format!("not run: {e}")),
            }
        })
    }
}
