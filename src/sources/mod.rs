//! Pollers: one async task per source, feeding the app over a channel. A slow or dead source only
//! ever delays its own pane.

pub mod aws;
pub mod elasticsearch;
pub mod runner;

use crate::config::Config;
use crate::model::fleet::SourceUpdate;
use crate::panes::{Elasticsearch, Queues};
use futures::future::BoxFuture;
use opsdeck_core::pane::{Pane, PaneBackends, PaneId, Poller};
use opsdeck_hosts::{Hosts, Logs};
use opsdeck_pillows::Pillows;
use std::any::Any;
use std::time::Duration;

pub use runner::{poll_once, spawn_pollers};

/// A pane's poller as the runner drives it: its polls come back as its pane's [`SourceUpdate`].
pub trait PanePoller: Poller<SourceUpdate> {
    fn pane(&self) -> PaneId;
}

/// A pane's own poller, its updates wrapped into the pane's [`SourceUpdate`] variant.
struct Wrapped<P: Pane> {
    inner: Box<dyn Poller<P::Update>>,
    wrap: fn(P::Update) -> SourceUpdate,
}

impl<P: Pane> Poller<SourceUpdate> for Wrapped<P> {
    fn interval(&self) -> Duration {
        self.inner.interval()
    }
    fn timeout(&self) -> Duration {
        self.inner.timeout()
    }
    fn poll(&mut self) -> BoxFuture<'_, SourceUpdate> {
        Box::pin(async move { (self.wrap)(self.inner.poll().await) })
    }
}

impl<P: Pane> PanePoller for Wrapped<P> {
    fn pane(&self) -> PaneId {
        P::ID
    }
}

fn wrapped<P: Pane>(
    pollers: Vec<Box<dyn Poller<P::Update>>>,
    wrap: fn(P::Update) -> SourceUpdate,
) -> Vec<Box<dyn PanePoller>> {
    pollers
        .into_iter()
        .map(|inner| Box::new(Wrapped::<P> { inner, wrap }) as Box<dyn PanePoller>)
        .collect()
}

/// Connected clients for every configured source, shared by pollers and actions.
#[derive(Debug, Clone, Default)]
pub struct Backends {
    pub pillows: Option<opsdeck_pillows::source::PillowsBackend>,
    pub elasticsearch: Option<elasticsearch::EsBackend>,
    pub aws: Option<aws::AwsBackend>,
    pub ssh: Option<opsdeck_hosts::source::SshBackend>,
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
            pillows: keep(
                &mut errors,
                Pillows::ID,
                opsdeck_pillows::source::PillowsBackend::connect(&config.pillows),
            ),
            elasticsearch: keep(
                &mut errors,
                Elasticsearch::ID,
                elasticsearch::EsBackend::connect(config).await,
            ),
            aws: keep(&mut errors, Queues::ID, aws::AwsBackend::connect(config).await),
            ssh: keep(
                &mut errors,
                Hosts::ID,
                opsdeck_hosts::source::SshBackend::new(&config.ssh).map(Some),
            ),
        };
        (backends, errors)
    }

    /// Every poller of every connected source.
    pub fn pollers(&self, config: &Config) -> Vec<Box<dyn PanePoller>> {
        let mut all = Vec::new();
        if let Some(b) = &self.pillows {
            all.extend(wrapped::<Pillows>(b.pollers(&config.general), SourceUpdate::Pillows));
        }
        if let Some(b) = &self.elasticsearch {
            all.extend(wrapped::<Elasticsearch>(b.pollers(config), SourceUpdate::Elasticsearch));
        }
        if let Some(b) = &self.aws {
            all.extend(wrapped::<Queues>(b.pollers(config), SourceUpdate::Queues));
        }
        if let Some(b) = &self.ssh {
            all.extend(wrapped::<Hosts>(b.pollers(&config.general), SourceUpdate::Hosts));
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
