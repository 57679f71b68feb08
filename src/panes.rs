//! The panes, as types: what each one keeps in the fleet, reads from the config and connects to.

use crate::config::aws::AwsConfig;
use crate::config::elasticsearch::EsConfig;
use crate::model::elasticsearch::{EsPoll, EsState};
use crate::model::queues::{QueuesPoll, QueuesState};
use crate::sources::aws::AwsBackend;
use crate::sources::elasticsearch::EsBackend;
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Source};
use std::convert::Infallible;

/// Elasticsearch (or OpenSearch) cluster health and shard allocation.
pub struct Elasticsearch;

impl Pane for Elasticsearch {
    const ID: PaneId = PaneId::new("elasticsearch");
    type State = Feed<EsState>;
    type Update = Result<Box<EsPoll>, String>;
    type Job = Infallible;
}

impl Source for Elasticsearch {
    const SECTION: &'static str = "elasticsearch";
    type Config = EsConfig;
    type Backend = EsBackend;

    fn validate(config: &EsConfig, _all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
        config.validate(issues);
    }
}

/// SQS queues, DynamoDB tables and their CloudWatch metrics.
pub struct Queues;

impl Pane for Queues {
    const ID: PaneId = PaneId::new("queues");
    type State = Feed<QueuesState>;
    type Update = Result<QueuesPoll, String>;
    type Job = Infallible;
}

impl Source for Queues {
    const SECTION: &'static str = "aws";
    type Config = AwsConfig;
    type Backend = AwsBackend;

    fn validate(config: &AwsConfig, _all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
        config.validate(issues);
    }
}
