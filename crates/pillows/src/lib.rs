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
pub mod model;
pub mod source;
pub mod views;

use config::PillowsConfig;
use model::{PillowsPoll, PillowsState};
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Source};
use opsdeck_hosts::Hosts;
use source::PillowsBackend;
use std::convert::Infallible;

/// Pillow (Kafka change-feed consumer) lag.
pub struct Pillows;

impl Pane for Pillows {
    const ID: PaneId = PaneId::new("pillows");
    type State = Feed<PillowsState>;
    type Update = Result<PillowsPoll, String>;
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
