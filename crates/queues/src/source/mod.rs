//! Source for AWS: SQS queues, DynamoDB tables and their CloudWatch metrics, read through the
//! official SDK clients (one shared config: credentials and region from the normal chain with the
//! `[aws]` overrides, and the SDK's own operation timeouts on every call).

mod metrics;

use crate::Queues;
use crate::config::AwsConfig;
use crate::model::{Capacity, DlqRef, GsiInfo, QueueInfo, QueuesPoll, TableInfo};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::QueueAttributeName;
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::pane::Pane;
use opsdeck_core::pane::Poller;
use opsdeck_core::source_error::{ErrorKind, SourceError};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Calls made at once per poll (queues and tables are read concurrently, politely).
const CONCURRENCY: usize = 8;

/// Connected clients for AWS, shared by pollers and actions.
#[derive(Debug, Clone)]
pub struct AwsBackend {
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub config: Arc<AwsConfig>,
}

impl AwsBackend {
    /// Builds the clients when the config enables this source. No AWS call is made here; note that
    /// without a configured region the SDK's region chain may ask the instance metadata service.
    pub async fn connect(config: &AwsConfig) -> Result<Option<Self>, String> {
        if !config.is_enabled() {
            return Ok(None);
        }
        Ok(Some(Self::from_aws_config(config).await))
    }

    /// Clients for one `[aws]` section (tests and the demo use this directly).
    pub async fn from_aws_config(cfg: &AwsConfig) -> Self {
        let timeout = cfg.timeout.get();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timeout.min(Duration::from_secs(3)))
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            )
            // One retry: a console must say "throttled" quickly rather than hide it behind backoff.
            .retry_config(RetryConfig::standard().with_max_attempts(2));
        if let Some(p) = &cfg.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &cfg.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        } else if cfg.endpoint_url.is_some() {
            // Local emulators accept any region; do not go looking for one in instance metadata.
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
        if let Some(e) = &cfg.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        if let (Some(k), Some(s)) = (&cfg.access_key_id, &cfg.secret_access_key) {
            loader = loader.credentials_provider(aws_sdk_sqs::config::Credentials::new(
                k,
                s,
                None,
                None,
                "opsdeck-config",
            ));
        }
        let shared = loader.load().await;
        Self {
            sqs: aws_sdk_sqs::Client::new(&shared),
            dynamodb: aws_sdk_dynamodb::Client::new(&shared),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&shared),
            config: Arc::new(cfg.clone()),
        }
    }

    /// The pollers feeding the queues pane.
    pub fn pollers(&self, general: &GeneralConfig) -> Vec<Box<dyn Poller<<Queues as Pane>::Update>>> {
        let interval = self.config.refresh.unwrap_or(general.refresh).get();
        vec![Box::new(AwsPoller {
            backend: self.clone(),
            interval,
            urls: HashMap::new(),
        })]
    }

    /// One full poll: queues, their DLQs, tables, and CloudWatch metrics for all of them.
    pub async fn poll(&self, urls: &mut HashMap<String, String>) -> Result<QueuesPoll, SourceError> {
        let cfg = &self.config;
        let mut warnings = Vec::new();
        let mut queues = self.read_queues(urls).await?;
        let mut tables = self.read_tables().await?;
        // Everything failed the same way (expired credentials, no network): that is the source's error.
        let errors: Vec<(&str, Option<ErrorKind>)> = queues
            .iter()
            .filter_map(|q| q.error.as_deref().map(|e| (e, q.error_kind)))
            .chain(
                tables
                    .iter()
                    .filter_map(|t| t.error.as_deref().map(|e| (e, t.error_kind))),
            )
            .collect();
        if !errors.is_empty() && errors.len() == queues.len() + tables.len() {
            let (message, kind) = errors[0];
            return Err(SourceError::new(kind.unwrap_or(ErrorKind::Internal), message));
        }
        if cfg.cloudwatch
            && let Err(e) = metrics::fill(&self.cloudwatch, &mut queues, &mut tables).await
        {
            warnings.push(format!("CloudWatch: {e}"));
        }
        Ok(QueuesPoll {
            queues,
            tables,
            warnings,
        })
    }

    /// Every configured or discovered queue plus the DLQs they name, sorted by name.
    async fn read_queues(&self, urls: &mut HashMap<String, String>) -> Result<Vec<QueueInfo>, SourceError> {
        let cfg = &self.config;
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        let mut missing = Vec::new();
        for q in &cfg.queues {
            if q.contains('/') {
                wanted.insert(q.clone());
            } else if let Some(u) = urls.get(q) {
                wanted.insert(u.clone());
            } else {
                match self.sqs.get_queue_url().queue_name(q).send().await {
                    Ok(out) => {
                        let u = out.queue_url().unwrap_or_default().to_string();
                        urls.insert(q.clone(), u.clone());
                        wanted.insert(u);
                    }
                    Err(e) => missing.push(QueueInfo {
                        name: q.clone(),
                        url: q.clone(),
                        error: Some(explain("GetQueueUrl", &e)),
                        error_kind: Some(failure("GetQueueUrl", &e).kind),
                        ..Default::default()
                    }),
                }
            }
        }
        for prefix in &cfg.queue_prefixes {
            wanted.extend(self.list_queues(prefix).await?);
        }
        let mut queues: Vec<QueueInfo> = stream::iter(wanted)
            .map(|url| self.queue_info(url))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        // Dead-letter queues named by RedrivePolicy but not configured: read them too.
        let known: BTreeSet<String> = queues.iter().map(|q| q.arn.clone()).collect();
        let extra: BTreeSet<(String, String)> = queues
            .iter()
            .filter_map(|q| q.dlq.as_ref())
            .filter(|d| !known.contains(&d.arn))
            .map(|d| (d.name.clone(), arn_account(&d.arn).to_string()))
            .collect();
        for (name, account) in extra {
            let mut req = self.sqs.get_queue_url().queue_name(&name);
            if !account.is_empty() {
                req = req.queue_owner_aws_account_id(account);
            }
            match req.send().await {
                Ok(out) => queues.push(self.queue_info(out.queue_url().unwrap_or_default().to_string()).await),
                Err(e) => queues.push(QueueInfo {
                    url: name.clone(),
                    name,
                    error: Some(explain("GetQueueUrl", &e)),
                    error_kind: Some(failure("GetQueueUrl", &e).kind),
                    ..Default::default()
                }),
            }
        }
        link_dlqs(&mut queues);
        queues.extend(missing);
        queues.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(queues)
    }

    async fn list_queues(&self, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut urls = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .sqs
                .list_queues()
                .queue_name_prefix(prefix)
                .max_results(1000)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| failure("ListQueues", &e))?;
            urls.extend(out.queue_urls().iter().cloned());
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(urls),
            }
        }
    }

    /// GetQueueAttributes(All) for one queue; failures land in the row's `error`.
    pub async fn queue_info(&self, url: String) -> QueueInfo {
        let name = url.rsplit('/').next().unwrap_or(&url).to_string();
        match self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
        {
            Ok(out) => {
                let empty = HashMap::new();
                let attrs = out.attributes().unwrap_or(&empty);
                queue_from_attributes(name, url, attrs)
            }
            Err(e) => QueueInfo {
                name,
                url,
                error: Some(explain("GetQueueAttributes", &e)),
                error_kind: Some(failure("GetQueueAttributes", &e).kind),
                ..Default::default()
            },
        }
    }

    async fn read_tables(&self) -> Result<Vec<TableInfo>, SourceError> {
        let cfg = &self.config;
        let mut names: BTreeSet<String> = cfg.tables.iter().cloned().collect();
        if !cfg.table_prefixes.is_empty() {
            for t in self.list_tables().await? {
                if cfg.table_prefixes.iter().any(|p| t.starts_with(p.as_str())) {
                    names.insert(t);
                }
            }
        }
        let mut tables: Vec<TableInfo> = stream::iter(names)
            .map(|n| self.table_info(n))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tables)
    }

    async fn list_tables(&self) -> Result<Vec<String>, SourceError> {
        let mut names = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = self
                .dynamodb
                .list_tables()
                .set_exclusive_start_table_name(start.take())
                .send()
                .await
                .map_err(|e| failure("ListTables", &e))?;
            names.extend(out.table_names().iter().cloned());
            match out.last_evaluated_table_name() {
                Some(t) => start = Some(t.to_string()),
                None => return Ok(names),
            }
        }
    }

    /// DescribeTable; failures land in the row's `error`.
    pub async fn table_info(&self, name: String) -> TableInfo {
        match self.dynamodb.describe_table().table_name(&name).send().await {
            Ok(out) => match out.table() {
                Some(t) => table_from_description(name, t),
                None => TableInfo {
                    name,
                    error: Some("DescribeTable returned no table".into()),
                    error_kind: Some(ErrorKind::BadAnswer),
                    ..Default::default()
                },
            },
            Err(e) => TableInfo {
                name,
                error: Some(explain("DescribeTable", &e)),
                error_kind: Some(failure("DescribeTable", &e).kind),
                ..Default::default()
            },
        }
    }
}

/// Builds a queue row from GetQueueAttributes' answer.
pub fn queue_from_attributes(name: String, url: String, attrs: &HashMap<QueueAttributeName, String>) -> QueueInfo {
    let num = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    QueueInfo {
        arn: attrs.get(&QueueAttributeName::QueueArn).cloned().unwrap_or_default(),
        created: attrs
            .get(&QueueAttributeName::CreatedTimestamp)
            .and_then(|v| v.parse().ok()),
        visible: num(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: num(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        delayed: num(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        retention_secs: attrs
            .get(&QueueAttributeName::MessageRetentionPeriod)
            .and_then(|v| v.parse().ok())
            .unwrap_or(345_600),
        dlq: attrs
            .get(&QueueAttributeName::RedrivePolicy)
            .and_then(|p| parse_redrive_policy(p)),
        name,
        url,
        ..Default::default()
    }
}

/// RedrivePolicy is JSON; `maxReceiveCount` comes as a number (moto, AWS) or a string (CLI input).
pub fn parse_redrive_policy(policy: &str) -> Option<DlqRef> {
    let v: serde_json::Value = serde_json::from_str(policy).ok()?;
    let arn = v.get("deadLetterTargetArn")?.as_str()?.to_string();
    let max = match v.get("maxReceiveCount") {
        Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    Some(DlqRef {
        name: arn.rsplit(':').next().unwrap_or(&arn).to_string(),
        arn,
        max_receive_count: max,
        depth: None,
    })
}

/// `arn:aws:sqs:region:ACCOUNT:name` → ACCOUNT.
fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// Fills each queue's DLQ depth and each DLQ's list of source queues.
pub fn link_dlqs(queues: &mut [QueueInfo]) {
    let by_arn: HashMap<String, (usize, u64, bool)> = queues
        .iter()
        .enumerate()
        .filter(|(_, q)| !q.arn.is_empty())
        .map(|(i, q)| (q.arn.clone(), (i, q.visible, q.error.is_none())))
        .collect();
    let mut sources: Vec<(usize, String)> = Vec::new();
    for q in queues.iter_mut() {
        if let Some(d) = &mut q.dlq
            && let Some((i, depth, ok)) = by_arn.get(&d.arn)
        {
            d.depth = ok.then_some(*depth);
            sources.push((*i, q.name.clone()));
        }
    }
    for (i, src) in sources {
        if !queues[i].dlq_of.contains(&src) {
            queues[i].dlq_of.push(src);
        }
    }
}

/// Builds a table row from DescribeTable's answer.
pub fn table_from_description(name: String, t: &aws_sdk_dynamodb::types::TableDescription) -> TableInfo {
    // Real AWS often omits BillingModeSummary for tables that were always provisioned.
    let billing_mode = t
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "PROVISIONED".into());
    let on_demand = billing_mode == "PAY_PER_REQUEST";
    let units = |p: Option<&aws_sdk_dynamodb::types::ProvisionedThroughputDescription>| {
        if on_demand {
            (None, None)
        } else {
            (
                p.and_then(|p| p.read_capacity_units()).map(|v| v.max(0) as u64),
                p.and_then(|p| p.write_capacity_units()).map(|v| v.max(0) as u64),
            )
        }
    };
    let (rcu, wcu) = units(t.provisioned_throughput());
    TableInfo {
        name,
        status: t.table_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        billing_mode,
        capacity: Capacity {
            rcu,
            wcu,
            ..Default::default()
        },
        gsis: t
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                let (rcu, wcu) = units(g.provisioned_throughput());
                GsiInfo {
                    name: g.index_name().unwrap_or_default().to_string(),
                    status: g.index_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    capacity: Capacity {
                        rcu,
                        wcu,
                        ..Default::default()
                    },
                }
            })
            .collect(),
        item_count: t.item_count(),
        decreases_today: t.provisioned_throughput().and_then(|p| p.number_of_decreases_today()),
        error: None,
        error_kind: None,
    }
}

/// An SDK error in words a person on call can act on.
pub fn explain<E, R>(call: &str, err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    failure(call, err).message
}

/// An SDK error as the source's error: its kind (decided here, where the SDK says what failed) and
/// its words.
pub fn failure<E, R>(call: &str, err: &SdkError<E, R>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("Unknown");
            let message = e.message().unwrap_or_default();
            let (kind, hint) = match code {
                "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => (
                    ErrorKind::Unauthorised,
                    "credentials expired: renew them (aws sso login, a fresh session token)",
                ),
                "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "SignatureDoesNotMatch"
                | "InvalidSignatureException" => (
                    ErrorKind::Unauthorised,
                    "credentials not accepted: check the profile and keys",
                ),
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError" => (
                    ErrorKind::Unauthorised,
                    "access denied: these credentials may not make this call",
                ),
                "QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue" => {
                    (ErrorKind::Refused, "no such queue")
                }
                "ResourceNotFoundException" => (ErrorKind::Refused, "not found"),
                "Throttling"
                | "ThrottlingException"
                | "RequestThrottled"
                | "TooManyRequestsException"
                | "RequestLimitExceeded" => (
                    ErrorKind::Unreachable,
                    "AWS throttled the API (will retry on the next poll)",
                ),
                "PurgeQueueInProgress" | "AWS.SimpleQueueService.PurgeQueueInProgress" => {
                    (ErrorKind::Refused, "a purge is already in progress (one per 60 s)")
                }
                // AWS's own failures pass.
                "InternalError" | "InternalFailure" | "ServiceUnavailable" => (ErrorKind::Unreachable, ""),
                // Any other refusal: the call, its parameters or the endpoint are not what AWS takes.
                _ => (ErrorKind::Refused, ""),
            };
            let mut s = format!("{call}: {code}");
            if !hint.is_empty() {
                s.push_str(&format!(" ({hint})"));
            }
            if !message.is_empty() {
                s.push_str(&format!(": {message}"));
            }
            SourceError::new(kind, s)
        }
        SdkError::TimeoutError(_) => SourceError::timeout(format!("{call}: no answer within the timeout")),
        SdkError::DispatchFailure(failure) => {
            let why = causes(err);
            if failure.is_timeout() {
                SourceError::timeout(format!("{call}: no answer within the timeout: {why}"))
            } else if failure.is_io() {
                SourceError::unreachable(format!("{call}: cannot reach AWS: {why}"))
            } else if why.contains("credentials") {
                // The SDK reports credentials it could not load as a failure to send, in words only.
                SourceError::unauthorised(format!(
                    "{call}: no usable AWS credentials (check the profile, environment, SSO login or instance role): {why}"
                ))
            } else {
                SourceError::unreachable(format!("{call}: cannot reach AWS: {why}"))
            }
        }
        SdkError::ResponseError(_) => SourceError::bad_answer(format!("{call}: {}", causes(err))),
        other => SourceError::internal(format!("{call}: {}", causes(other))),
    }
}

/// An error and its causes in one line ("dispatch failure: io error: ... Connection refused"),
/// without the Debug dumps `DisplayErrorContext` appends.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    if parts.is_empty() {
        DisplayErrorContext(err).to_string()
    } else {
        parts.join(": ")
    }
}

/// The SDK error code of a service error (`None` for transport failures).
pub fn error_code<E, R>(err: &SdkError<E, R>) -> Option<String>
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(se) => se.err().code().map(str::to_string),
        _ => None,
    }
}

struct AwsPoller {
    backend: AwsBackend,
    interval: Duration,
    /// Queue name → URL, resolved once (GetQueueUrl) and kept.
    urls: HashMap<String, String>,
}

impl Poller<<Queues as Pane>::Update> for AwsPoller {
    fn interval(&self) -> Duration {
        self.interval
    }
    fn timeout(&self) -> Duration {
        // Several rounds of calls, each bounded by the SDK timeout.
        self.backend.config.timeout.get() * 4
    }
    fn poll(&mut self) -> BoxFuture<'_, <Queues as Pane>::Update> {
        Box::pin(async move { self.backend.poll(&mut self.urls).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redrive_policy_accepts_numbers_and_strings() {
        let d = parse_redrive_policy(
            r#"{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:upload-dlq", "maxReceiveCount": 5}"#,
        )
        .unwrap();
        assert_eq!(d.name, "upload-dlq");
        assert_eq!(d.max_receive_count, 5);
        let d = parse_redrive_policy(r#"{"deadLetterTargetArn":"arn:aws:sqs:r:1:x","maxReceiveCount":"3"}"#).unwrap();
        assert_eq!(d.max_receive_count, 3);
        assert_eq!(arn_account(&d.arn), "1");
        assert!(parse_redrive_policy("not json").is_none());
    }

    #[test]
    fn dlqs_are_linked_both_ways() {
        let mut qs = vec![
            QueueInfo {
                name: "upload".into(),
                arn: "arn:aws:sqs:r:1:upload".into(),
                dlq: parse_redrive_policy(
                    r#"{"deadLetterTargetArn":"arn:aws:sqs:r:1:upload-dlq","maxReceiveCount":3}"#,
                ),
                ..Default::default()
            },
            QueueInfo {
                name: "upload-dlq".into(),
                arn: "arn:aws:sqs:r:1:upload-dlq".into(),
                visible: 7,
                ..Default::default()
            },
        ];
        link_dlqs(&mut qs);
        assert_eq!(qs[0].dlq.as_ref().unwrap().depth, Some(7));
        assert_eq!(qs[1].dlq_of, vec!["upload".to_string()]);
    }
}
