//! opsdeck's Celery-on-RabbitMQ pane, through the management HTTP API: per queue the ready and
//! unacknowledged messages, consumers, publish and deliver rates and idle time (Celery's
//! housekeeping queues told apart); per node the memory and disk alarms, file descriptors and
//! whether it runs; the cluster's totals; and a confirmed, verified purge.
//!
//! Layers, each using only those above it in this list: `config` ← `model` ← `analysis` ←
//! `source` ← `backend` ← `actions` ← `views` (and `demo`, `doctor`).

pub mod actions;
pub mod analysis;
pub mod backend;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod model;
pub mod source;
pub mod views;

use backend::RabbitmqBackend;
use config::RabbitmqConfig;
use futures::future::BoxFuture;
use model::{RabbitmqPoll, RabbitmqState};
use opsdeck_core::config::{ConfigIssue, GeneralConfig};
use opsdeck_core::demo::{DemoCtx, StandIns};
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Poller, Source};
use opsdeck_core::registered::{Registered, RegisteredSource};
use opsdeck_core::source_error::SourceError;
use opsdeck_core::view::{PaneAction, RowKind, View};
use std::convert::Infallible;

/// RabbitMQ brokers (Celery's): their queues and nodes.
pub struct Rabbitmq;

impl Pane for Rabbitmq {
    const ID: PaneId = PaneId::new("rabbitmq");
    type State = Feed<RabbitmqState>;
    type Update = Result<RabbitmqPoll, SourceError>;
    type Job = Infallible;
}

impl Source for Rabbitmq {
    const SECTION: &'static str = "rabbitmq";
    type Config = RabbitmqConfig;
    type Backend = RabbitmqBackend;

    fn validate(config: &RabbitmqConfig, _all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
        issues.extend(config.validate());
    }
}

impl Registered for Rabbitmq {
    const ACTIONS: &'static [PaneAction] = views::ACTIONS;
    const ROW_KINDS: &'static [RowKind] = views::ROW_KINDS;

    fn root() -> Box<dyn View> {
        views::root()
    }
    opsdeck_core::feed_state!();
    opsdeck_core::feed_alerts!(views::alerts);
    opsdeck_core::no_commands_or_jobs!();
    opsdeck_core::no_leftovers!();
}

impl RegisteredSource for Rabbitmq {
    fn is_enabled(config: &Self::Config) -> bool {
        !config.instances.is_empty()
    }
    fn connect<'a>(
        config: &'a Self::Config,
        _stand_ins: &'a StandIns,
    ) -> BoxFuture<'a, Result<Option<Self::Backend>, String>> {
        // Nothing to reach yet: each instance's setup problems (an unset password variable, an
        // unreadable CA file) are said on its own rows, the other instances polled all the same.
        Box::pin(async move { Ok((!config.instances.is_empty()).then(|| RabbitmqBackend::new(config))) })
    }
    fn pollers(backend: &Self::Backend, general: &GeneralConfig) -> Vec<Box<dyn Poller<Self::Update>>> {
        backend.pollers(general)
    }
}

/// The demo's RabbitMQ: a loopback management API whose Celery workers died.
async fn start_demo(ctx: &mut DemoCtx<'_>) -> std::io::Result<()> {
    let server = demo::DemoServer::start().await?;
    let instance = server.instance(ctx.sandbox)?;
    ctx.config.of_mut::<Rabbitmq>().instances.push(instance);
    ctx.keep_alive.push(Box::new(server));
    Ok(())
}

opsdeck_core::demo_from!(Rabbitmq, start_demo);
