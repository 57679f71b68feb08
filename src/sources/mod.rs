//! Pollers: one async task per source, feeding the app over a channel. A slow or dead source only
//! ever delays its own pane.

pub mod aws;
pub mod elasticsearch;
pub mod pillows;
pub mod runner;
pub mod ssh;

use crate::config::Config;
use crate::model::fleet::SourceUpdate;
use crate::panes::{Elasticsearch, Hosts, Logs, Pillows, Queues};
use futures::future::BoxFuture;
use opsdeck_core::pane::{Pane, PaneBackends, PaneId};
use std::any::Any;
use std::time::Duration;

pub use runner::{poll_once, spawn_pollers};

/// Something that can be asked, again and again, for a fresh view of one source.
pub trait Poller: Send {
    fn kind(&self) -> PaneId;
    /// Time between polls while the source answers.
    fn interval(&self) -> Duration;
    /// Longest one poll may take before it counts as failed.
    fn timeout(&self) -> Duration;
    /// One poll; failures come back as the `Err` side of the update, never as a panic.
    fn poll(&mut self) -> BoxFuture<'_, SourceUpdate>;
}

/// Connected clients for every configured source, shared by pollers and actions.
#[derive(Debug, Clone, Default)]
pub struct Backends {
    pub pillows: Option<pillows::PillowsBackend>,
    pub elasticsearch: Option<elasticsearch::EsBackend>,
    pub aws: Option<aws::AwsBackend>,
    pub ssh: Option<ssh::SshBackend>,
}

/// A source that could not even be set up (bad CA file, unreadable key...): shown as that source's error.
#[derive(Debug, Clone)]
pub struct SetupError {
    pub kind: PaneId,
    pub error: String,
}

impl PaneBackends for Backends {
    fn backend(&self, pane: PaneId) -> Option<&dyn Any> {
        if pane == Pillows::ID {
            self.pillows.as_ref().map(|b| b as &dyn Any)
        } else if pane == Elasticsearch::ID {
            self.elasticsearch.as_ref().map(|b| b as &dyn Any)
        } else if pane == Queues::ID {
            self.aws.as_ref().map(|b| b as &dyn Any)
        } else if pane == Hosts::ID {
            self.ssh.as_ref().map(|b| b as &dyn Any)
        } else {
            None
        }
    }
}

impl Backends {
    /// Builds the clients for every enabled source. A source that cannot be set up is reported, not fatal.
    pub async fn connect(config: &Config) -> (Backends, Vec<SetupError>) {
        fn keep<T>(errors: &mut Vec<SetupError>, kind: PaneId, r: Result<Option<T>, String>) -> Option<T> {
            r.unwrap_or_else(|error| {
                errors.push(SetupError { kind, error });
                None
            })
        }
        let mut errors = Vec::new();
        let backends = Backends {
            pillows: keep(&mut errors, Pillows::ID, pillows::PillowsBackend::connect(config).await),
            elasticsearch: keep(
                &mut errors,
                Elasticsearch::ID,
                elasticsearch::EsBackend::connect(config).await,
            ),
            aws: keep(&mut errors, Queues::ID, aws::AwsBackend::connect(config).await),
            ssh: keep(&mut errors, Hosts::ID, ssh::SshBackend::connect(config).await),
        };
        (backends, errors)
    }

    /// Every poller of every connected source.
    pub fn pollers(&self, config: &Config) -> Vec<Box<dyn Poller>> {
        let mut all = Vec::new();
        if let Some(b) = &self.pillows {
            all.extend(b.pollers(config));
        }
        if let Some(b) = &self.elasticsearch {
            all.extend(b.pollers(config));
        }
        if let Some(b) = &self.aws {
            all.extend(b.pollers(config));
        }
        if let Some(b) = &self.ssh {
            all.extend(b.pollers(config));
        }
        all
    }
}

/// The sources a config enables, so their panes say "waiting" rather than "not configured".
pub fn enabled_sources(config: &Config) -> Vec<PaneId> {
    let mut kinds = Vec::new();
    if config.pillows.is_enabled() {
        kinds.push(Pillows::ID);
    }
    if config.elasticsearch.is_enabled() {
        kinds.push(Elasticsearch::ID);
    }
    if config.aws.is_enabled() {
        kinds.push(Queues::ID);
    }
    if config.ssh.is_enabled() {
        kinds.push(Hosts::ID);
        kinds.push(Logs::ID);
    }
    kinds
}
