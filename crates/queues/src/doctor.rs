//! `opsdeck doctor` for the queues pane: the read calls the pane makes (ListQueues/GetQueueUrl,
//! GetQueueAttributes, DescribeTable, GetMetricData), each queue and table on its own line. Whether
//! purge, redrive and UpdateTable are allowed cannot be known without IAM's policy simulator, which
//! opsdeck does not call: those lines say "not checked", neither ok nor a problem.

use crate::Queues;
use crate::source::{AwsBackend, explain};
use aws_sdk_sqs::error::SdkError;
use futures::future::BoxFuture;
use opsdeck_core::doctor::{Doctor, Finding, Verdict};
use opsdeck_core::pane::{Pane, PaneBackends, PaneConfigs};
use std::collections::HashMap;

const PANE: &str = Queues::ID.name();
const NOT_QUERIED: &str = "IAM is not queried";

impl Doctor for Queues {
    fn doctor<'a>(_config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>> {
        Box::pin(async move {
            match backends.of::<Queues>() {
                Some(aws) => check(aws).await,
                None => Vec::new(),
            }
        })
    }
}

async fn check(aws: &AwsBackend) -> Vec<Finding> {
    let cfg = &aws.config;
    let endpoint = cfg
        .endpoint_url
        .clone()
        .or_else(|| cfg.region.clone())
        .unwrap_or_else(|| "aws".into());
    let line = |source: &str, what: &str, v: Verdict| Finding::new(PANE, source, what, v);
    // One cheap call first: an endpoint that does not answer costs its timeout once, not per queue.
    if let Err(e @ (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_))) =
        aws.sqs.list_queues().max_results(1).send().await
    {
        return vec![line(
            &endpoint,
            "reach",
            Verdict::Unreachable(explain("ListQueues", &e)),
        )];
    }
    let poll = match aws.poll(&mut HashMap::new()).await {
        Ok(p) => p,
        Err(e) => return vec![line(&endpoint, "read queues and tables", e.into())],
    };
    let mut found = vec![line(&endpoint, "reach", Verdict::Ok(String::new()))];
    for q in &poll.queues {
        let v = match &q.error {
            None => Verdict::Ok(String::new()),
            Some(e) => Verdict::Missing(e.clone()),
        };
        found.push(line(&q.name, "read queue", v));
    }
    for t in &poll.tables {
        let v = match &t.error {
            None => Verdict::Ok(String::new()),
            Some(e) => Verdict::Missing(e.clone()),
        };
        found.push(line(&t.name, "describe table", v));
    }
    if cfg.cloudwatch {
        let refused: Vec<&String> = poll.warnings.iter().filter(|w| w.starts_with("CloudWatch")).collect();
        let v = match refused.first() {
            None => Verdict::Ok(String::new()),
            Some(w) => Verdict::Missing((*w).clone()),
        };
        found.push(line(&endpoint, "read metrics", v));
    }
    if !poll.queues.is_empty() {
        found.push(
            line(&endpoint, "purge, redrive", Verdict::NotChecked(NOT_QUERIED.into()))
                .gating(&["purge_queue", "redrive_dlq"]),
        );
    }
    if !poll.tables.is_empty() {
        found.push(
            line(&endpoint, "raise capacity", Verdict::NotChecked(NOT_QUERIED.into())).gating(&["raise_capacity"]),
        );
    }
    found
}
