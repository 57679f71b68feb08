//! The hosts and logs panes: machines reached over SSH (or this one, `local`), their disks, crash
//! dumps and supervisor programs, and remote log tails. Other panes use its transport (a pillow's
//! restart, an Elasticsearch node's bounce) and its programs' state.
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

use config::SshConfig;
use futures::future::BoxFuture;
use model::HostsState;
use model::logs::{LogEvent, LogsState};
use opsdeck_core::alert::Alert;
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::demo::StandIns;
use opsdeck_core::feed::Feed;
use opsdeck_core::feed::FeedInfo;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Source};
use opsdeck_core::pane::{PaneBackends, PaneStates, Poller, Sink};
use opsdeck_core::registered::{Registered, RegisteredSource};
use opsdeck_core::view::{PaneAction, RowKind, View};
use source::{SshBackend, TailCommand};
use std::convert::Infallible;
use std::time::SystemTime;

/// Machines over SSH (or this one): disks, crash dumps, supervisor programs.
pub struct Hosts;

impl Pane for Hosts {
    const ID: PaneId = PaneId::new("hosts");
    type State = Feed<HostsState>;
    type Update = Result<Vec<model::HostPoll>, opsdeck_core::source_error::SourceError>;
    type Job = Infallible;
}

impl Source for Hosts {
    const SECTION: &'static str = "ssh";
    type Config = SshConfig;
    type Backend = SshBackend;

    fn validate(config: &SshConfig, _all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
        config.validate(issues);
    }
}

/// Remote log tails, through the hosts' transport.
pub struct Logs;

impl Pane for Logs {
    const ID: PaneId = PaneId::new("logs");
    type State = LogsState;
    type Update = LogEvent;
    type Job = TailCommand;
}

impl Registered for Hosts {
    const ACTIONS: &'static [PaneAction] = views::hosts::ACTIONS;
    const ROW_KINDS: &'static [RowKind] = views::hosts::ROW_KINDS;

    fn root() -> Box<dyn View> {
        views::hosts::root()
    }
    opsdeck_core::feed_state!();
    fn alerts(state: &Self::State, _fleet: &dyn PaneStates, config: &dyn PaneConfigs) -> Vec<Alert> {
        state
            .data
            .as_ref()
            .map(|s| analysis::alerts(s, config.of::<Hosts>()))
            .unwrap_or_default()
    }

    opsdeck_core::no_commands_or_jobs!();
    opsdeck_core::no_leftovers!();
}

impl RegisteredSource for Hosts {
    fn is_enabled(config: &Self::Config) -> bool {
        config.is_enabled()
    }
    fn connect<'a>(
        config: &'a Self::Config,
        _stand_ins: &'a StandIns,
    ) -> BoxFuture<'a, Result<Option<Self::Backend>, String>> {
        // The hosts' clients exist even without hosts: `local` needs none, and the logs pane uses them.
        Box::pin(std::future::ready(SshBackend::new(config).map(Some)))
    }
    fn pollers(backend: &Self::Backend, general: &GeneralConfig) -> Vec<Box<dyn Poller<Self::Update>>> {
        backend.pollers(general)
    }
}

#[cfg(feature = "demo")]
opsdeck_core::demo_from!(Hosts, demo::start);

impl Registered for Logs {
    const ACTIONS: &'static [PaneAction] = views::logs::ACTIONS;
    const ROW_KINDS: &'static [RowKind] = views::logs::ROW_KINDS;

    fn root() -> Box<dyn View> {
        views::logs::root()
    }
    fn enable(state: &mut Self::State) {
        state.enabled = true;
    }
    fn apply(state: &mut Self::State, at: SystemTime, update: Self::Update) {
        state.apply(at, update);
    }
    fn feed(_state: &Self::State) -> Option<FeedInfo<'_>> {
        None
    }
    fn alerts(_state: &Self::State, _fleet: &dyn PaneStates, _config: &dyn PaneConfigs) -> Vec<Alert> {
        Vec::new()
    }
    fn command(_state: &mut Self::State, _action: &str, _row: Option<&str>) -> Option<Result<(), String>> {
        None
    }
    /// Tails run on the hosts' transport.
    fn run_job(job: TailCommand, backends: &dyn PaneBackends, updates: Sink<LogEvent>) {
        match backends.of::<Hosts>() {
            Some(ssh) => ssh.handle_tail(job, updates),
            None => tracing::warn!("log tail requested but no SSH/local transport is configured"),
        }
    }
    opsdeck_core::no_leftovers!();
}
