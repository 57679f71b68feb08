//! The panes, as types: what each one keeps in the fleet, reads from the config and connects to.

use crate::config::aws::AwsConfig;
use crate::config::elasticsearch::EsConfig;
use crate::config::pillows::PillowsConfig;
use crate::config::ssh::SshConfig;
use crate::model::elasticsearch::EsState;
use crate::model::hosts::HostsState;
use crate::model::logs::LogsState;
use crate::model::pillows::PillowsState;
use crate::model::queues::QueuesState;
use crate::sources::aws::AwsBackend;
use crate::sources::elasticsearch::EsBackend;
use crate::sources::pillows::PillowsBackend;
use crate::sources::ssh::{SshBackend, TailCommand};
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneId, Source};
use std::convert::Infallible;

/// Pillow (Kafka change-feed consumer) lag.
pub struct Pillows;

impl Pane for Pillows {
    const ID: PaneId = PaneId::new("pillows");
    type State = Feed<PillowsState>;
    type Job = Infallible;
}

impl Source for Pillows {
    type Config = PillowsConfig;
    type Backend = PillowsBackend;
}

/// Elasticsearch (or OpenSearch) cluster health and shard allocation.
pub struct Elasticsearch;

impl Pane for Elasticsearch {
    const ID: PaneId = PaneId::new("elasticsearch");
    type State = Feed<EsState>;
    type Job = Infallible;
}

impl Source for Elasticsearch {
    type Config = EsConfig;
    type Backend = EsBackend;
}

/// SQS queues, DynamoDB tables and their CloudWatch metrics.
pub struct Queues;

impl Pane for Queues {
    const ID: PaneId = PaneId::new("queues");
    type State = Feed<QueuesState>;
    type Job = Infallible;
}

impl Source for Queues {
    type Config = AwsConfig;
    type Backend = AwsBackend;
}

/// Machines over SSH (or this one): disks, crash dumps, supervisor programs.
pub struct Hosts;

impl Pane for Hosts {
    const ID: PaneId = PaneId::new("hosts");
    type State = Feed<HostsState>;
    type Job = Infallible;
}

impl Source for Hosts {
    type Config = SshConfig;
    type Backend = SshBackend;
}

/// Remote log tails, through the hosts' transport.
pub struct Logs;

impl Pane for Logs {
    const ID: PaneId = PaneId::new("logs");
    type State = LogsState;
    type Job = TailCommand;
}
