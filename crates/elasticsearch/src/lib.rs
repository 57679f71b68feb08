//! The Elasticsearch pane: cluster health, nodes, indices and shard allocation of Elasticsearch or
//! OpenSearch; allocation settings and exclusions; the runbook's guided procedures (a controlled
//! bounce, a config change), whose node restarts go through the hosts pane's verified restart.
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

use config::EsConfig;
use futures::future::BoxFuture;
use model::{EsAnswer, EsState};
use opsdeck_core::action::ActionPlan;
use opsdeck_core::alert::Alert;
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::demo::StandIns;
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Source};
use opsdeck_core::pane::{PaneBackends, PaneStates, Poller, Sink};
use opsdeck_core::registered::{Leftover, Registered, RegisteredSource};
use opsdeck_core::view::{PaneAction, RowKind, View};
use opsdeck_hosts::Hosts;
use source::EsBackend;
use std::convert::Infallible;

/// Elasticsearch (or OpenSearch) cluster health and shard allocation.
pub struct Elasticsearch;

impl Pane for Elasticsearch {
    const ID: PaneId = PaneId::new("elasticsearch");
    type State = Feed<EsState>;
    type Update = Result<Box<EsAnswer>, opsdeck_core::source_error::SourceError>;
    type Job = Infallible;
}

impl Source for Elasticsearch {
    const SECTION: &'static str = "elasticsearch";
    type Config = EsConfig;
    type Backend = EsBackend;

    fn validate(config: &EsConfig, all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
        config.validate(issues);
        config::validate_references(config, all.of::<Hosts>(), issues);
    }
}

impl Registered for Elasticsearch {
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

    fn command(state: &mut Self::State, action: &str, row: Option<&str>) -> Option<Result<(), String>> {
        (action == "acknowledge_departure").then(|| {
            let acknowledged = match (row, state.data.as_mut()) {
                (Some(row), Some(es)) => es.acknowledge_departure(row),
                _ => false,
            };
            if acknowledged {
                Ok(())
            } else {
                Err("select a node that left the cluster".into())
            }
        })
    }
    fn run_job(job: Self::Job, _backends: &dyn PaneBackends, _updates: Sink<Self::Update>) {
        match job {}
    }

    fn touches(plan: &ActionPlan) -> bool {
        actions::settings_touched(plan).is_some()
    }
    fn left_changed(state: &Self::State, procedures: &[&ActionPlan]) -> Vec<Leftover> {
        let Some(es) = state.data.as_ref() else {
            return Vec::new();
        };
        actions::settings_left_changed(es, procedures)
            .iter()
            .map(|c| Leftover {
                kind: "cluster setting",
                what: c.describe(),
            })
            .collect()
    }
    fn revert(
        state: &Self::State,
        config: &dyn PaneConfigs,
        procedures: &[&ActionPlan],
    ) -> Option<Result<ActionPlan, String>> {
        if !procedures.iter().any(|p| Self::touches(p)) {
            return None;
        }
        let Some(es) = state.data.as_ref() else {
            return Some(Err("the cluster has not answered yet".into()));
        };
        let changes = actions::settings_left_changed(es, procedures);
        Some(actions::plan_revert_settings(es, config.of::<Self>(), &changes))
    }
}

impl RegisteredSource for Elasticsearch {
    fn is_enabled(config: &Self::Config) -> bool {
        config.is_enabled()
    }
    fn connect<'a>(
        config: &'a Self::Config,
        stand_ins: &'a StandIns,
    ) -> BoxFuture<'a, Result<Option<Self::Backend>, String>> {
        Box::pin(EsBackend::connect_with(config, stand_ins))
    }
    fn pollers(backend: &Self::Backend, general: &GeneralConfig) -> Vec<Box<dyn Poller<Self::Update>>> {
        backend.pollers(general)
    }
}

#[cfg(feature = "demo")]
opsdeck_core::demo_from!(Elasticsearch, demo::start);
