//! The pillows pane: Kafka change-feed consumers (CommCare HQ's pillows), their checkpoints
//! (PostgreSQL rows or consumer group offsets) against the log, lag verdicts joined with their
//! processes' supervisor state from the hosts pane, restarts and checkpoint moves.
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

use config::PillowsConfig;
use futures::future::BoxFuture;
use model::PillowsState;
use opsdeck_core::alert::Alert;
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::demo::StandIns;
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Source};
use opsdeck_core::pane::{PaneStates, Poller};
use opsdeck_core::registered::{Registered, RegisteredSource};
use opsdeck_core::view::{PaneAction, RowKind, View};
use opsdeck_hosts::Hosts;
use source::PillowsBackend;
use std::convert::Infallible;
use std::sync::Arc;

/// Pillow (Kafka change-feed consumer) lag.
pub struct Pillows;

impl Pane for Pillows {
    const ID: PaneId = PaneId::new("pillows");
    /// Folded in the poller's task (see `opsdeck_core::folding`): judging thousands of partitions
    /// against their histories stays off the loop that draws.
    type State = Feed<Arc<PillowsState>>;
    type Update = Result<Arc<PillowsState>, opsdeck_core::source_error::SourceError>;
    type Job = Infallible;
}

impl Source for Pillows {
    const SECTION: &'static str = "pillows";
    type Config = PillowsConfig;
    type Backend = PillowsBackend;

    fn validate(config: &PillowsConfig, all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
        config.validate(issues);
        config::validate_references(config, all.of::<Hosts>(), issues);
    }
}

impl Registered for Pillows {
    const ACTIONS: &'static [PaneAction] = views::ACTIONS;
    const ROW_KINDS: &'static [RowKind] = views::ROW_KINDS;

    fn root() -> Box<dyn View> {
        views::root()
    }
    opsdeck_core::feed_state!();
    fn alerts(state: &Self::State, fleet: &dyn PaneStates, config: &dyn PaneConfigs) -> Vec<Alert> {
        state
            .data
            .as_ref()
            .map(|s| analysis::alerts(s, fleet.of::<Hosts>().data.as_ref(), config))
            .unwrap_or_default()
    }

    opsdeck_core::no_commands_or_jobs!();
    opsdeck_core::no_leftovers!();
}

impl RegisteredSource for Pillows {
    fn is_enabled(config: &Self::Config) -> bool {
        config.is_enabled()
    }
    fn connect<'a>(
        config: &'a Self::Config,
        stand_ins: &'a StandIns,
    ) -> BoxFuture<'a, Result<Option<Self::Backend>, String>> {
        let store = stand_ins.get::<Pillows, Arc<dyn source::checkpoints::CheckpointStore>>();
        Box::pin(std::future::ready(PillowsBackend::connect_with(config, store.cloned())))
    }
    fn pollers(backend: &Self::Backend, general: &GeneralConfig) -> Vec<Box<dyn Poller<Self::Update>>> {
        backend.pollers(general)
    }
}

#[cfg(feature = "demo")]
opsdeck_core::demo_from!(Pillows, demo::start);
