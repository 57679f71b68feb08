//! The queues pane: SQS queues (with their dead-letter queues) and DynamoDB tables (with their
//! capacity), their CloudWatch history, trend and capacity verdicts; purges, redrives and capacity
//! raises.
//!
//! Inside, each module uses only those before it: `model` ← `config` ← `analysis` ← `source` ←
//! `actions` ← `views` (and `demo`, behind the `demo` feature).

pub mod actions;
pub mod analysis;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod doctor;
pub mod model;
pub mod source;
pub mod views;

use config::AwsConfig;
use futures::future::BoxFuture;
use model::{QueuesPoll, QueuesState};
use opsdeck_core::alert::Alert;
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::demo::StandIns;
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Source};
use opsdeck_core::pane::{PaneStates, Poller};
use opsdeck_core::registered::{Registered, RegisteredSource};
use opsdeck_core::view::{PaneAction, RowKind, View};
use source::AwsBackend;
use std::convert::Infallible;

/// SQS queues, DynamoDB tables and their CloudWatch metrics.
pub struct Queues;

impl Pane for Queues {
    const ID: PaneId = PaneId::new("queues");
    type State = Feed<QueuesState>;
    type Update = Result<QueuesPoll, opsdeck_core::source_error::SourceError>;
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

impl Registered for Queues {
    const ACTIONS: &'static [PaneAction] = views::ACTIONS;
    const ROW_KINDS: &'static [RowKind] = views::ROW_KINDS;

    fn root() -> Box<dyn View> {
        views::root()
    }
    opsdeck_core::feed_state!();
    fn alerts(state: &Self::State, _fleet: &dyn PaneStates, config: &dyn PaneConfigs) -> Vec<Alert> {
        state
            .data
            .as_ref()
            .map(|s| analysis::alerts(s, config))
            .unwrap_or_default()
    }

    opsdeck_core::no_commands_or_jobs!();
    opsdeck_core::no_leftovers!();
}

impl RegisteredSource for Queues {
    fn is_enabled(config: &Self::Config) -> bool {
        config.is_enabled()
    }
    fn connect<'a>(
        config: &'a Self::Config,
        _stand_ins: &'a StandIns,
    ) -> BoxFuture<'a, Result<Option<Self::Backend>, String>> {
        Box::pin(AwsBackend::connect(config))
    }
    fn pollers(backend: &Self::Backend, general: &GeneralConfig) -> Vec<Box<dyn Poller<Self::Update>>> {
        backend.pollers(general)
    }
}

#[cfg(feature = "demo")]
opsdeck_core::demo_from!(Queues, demo::start);
