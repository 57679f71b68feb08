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
pub mod model;
pub mod source;
pub mod views;

use config::SshConfig;
use model::HostsState;
use model::logs::{LogEvent, LogsState};
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Source};
use source::{SshBackend, TailCommand};
use std::convert::Infallible;

/// Machines over SSH (or this one): disks, crash dumps, supervisor programs.
pub struct Hosts;

impl Pane for Hosts {
    const ID: PaneId = PaneId::new("hosts");
    type State = Feed<HostsState>;
    type Update = Result<Vec<model::HostPoll>, String>;
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
