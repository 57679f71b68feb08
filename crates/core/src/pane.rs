//! What a pane is, to the layers above: its name, its state in the fleet, its config section and
//! its connected clients, each reachable by the pane's type from code that only knows the pane it
//! is about (`ctx.fleet.of::<Hosts>()`, `ctx.config.of::<Pillows>()`, `ctx.backends.of::<Hosts>()`).
//! The registry (the `opsdeck` package) holds one of each per pane and answers these lookups.

use crate::config::load::{self, ConfigError, ConfigRoot};
use crate::config::{ConfigIssue, GeneralConfig};
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A pane's name: its tab label, keymap mode and `:` command, the source of its alerts, its key in
/// `snapshot` JSON. Each pane has one constant ([`Pane::ID`]); comparing ids never compares text
/// someone typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PaneId(&'static str);

impl PaneId {
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    pub const fn name(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for PaneId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A pane: a tab of the console with state of its own in the fleet.
pub trait Pane: Sized + 'static {
    const ID: PaneId;
    /// What the console knows for it (the last good data of its source, its freshness, its error).
    type State: Default + Send + Sync + 'static;
    /// What reaches the app for it: a poll's result, or what its clients push (a tail's lines).
    type Update: Send + 'static;
    /// Work its views ask of its clients that is not an action (start or stop a log tail);
    /// `Infallible` when there is none.
    type Job: fmt::Debug + Send + 'static;
}

/// A pane with a `[section]` of the config file and clients of its own (pollers, actions).
pub trait Source: Pane {
    /// Its section's name in the config file (`ssh` for the hosts pane).
    const SECTION: &'static str;
    /// Its config section, deserialised on its own (unknown keys are mistakes).
    type Config: DeserializeOwned + Default + Clone + fmt::Debug + Send + Sync + 'static;
    /// Its connected clients, shared by its pollers and the actions that need them.
    type Backend: Clone + Send + Sync + 'static;

    /// What serde cannot check in its section (ranges, references to other sections: `all`), each
    /// issue named by its key (`ssh.max_sessions`).
    fn validate(config: &Self::Config, all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>);
}

/// Every pane's state, by pane (the app's fleet).
pub trait PaneStates: Any {
    /// The state of `pane`, when it is registered.
    fn state(&self, pane: PaneId) -> Option<&dyn Any>;
}

/// Every pane's config section, by pane, and the `[general]` section.
pub trait PaneConfigs: Any + Send + Sync {
    /// The section of `pane`, when it is registered and has one.
    fn section(&self, pane: PaneId) -> Option<&dyn Any>;
    /// The same, to fill in (the demo writes its sections).
    fn section_mut(&mut self, pane: PaneId) -> Option<&mut dyn Any>;
    fn general(&self) -> &GeneralConfig;
}

/// Every pane's connected clients, by pane.
pub trait PaneBackends: Any + Send + Sync {
    /// The clients of `pane`, when it is registered and configured.
    fn backend(&self, pane: PaneId) -> Option<&dyn Any>;
}

impl dyn PaneStates + '_ {
    /// Pane `P`'s state. Every pane is registered (the registry lists them all, and a pane reads
    /// only panes its crate depends on), so a missing one is a bug in the registry.
    pub fn of<P: Pane>(&self) -> &P::State {
        self.get::<P>().unwrap_or_else(|| unregistered(P::ID))
    }

    /// Pane `P`'s state when these states hold it: for a view that shows another pane's data
    /// only where there is some (a pane's own tests assemble only the panes they need).
    pub fn get<P: Pane>(&self) -> Option<&P::State> {
        self.state(P::ID).and_then(|s| s.downcast_ref())
    }
}

impl dyn PaneConfigs + '_ {
    /// Pane `P`'s config section (its default when the file has none).
    pub fn of<P: Source>(&self) -> &P::Config {
        self.section(P::ID)
            .and_then(|s| s.downcast_ref())
            .unwrap_or_else(|| unregistered(P::ID))
    }
}

impl dyn PaneConfigs + '_ {
    /// Pane `P`'s config section, to fill in.
    pub fn of_mut<P: Source>(&mut self) -> &mut P::Config {
        self.section_mut(P::ID)
            .and_then(|s| s.downcast_mut())
            .unwrap_or_else(|| unregistered(P::ID))
    }
}

impl dyn PaneBackends + '_ {
    /// Pane `P`'s clients; `None` when its source is not configured.
    pub fn of<P: Source>(&self) -> Option<&P::Backend> {
        self.backend(P::ID).and_then(|b| b.downcast_ref())
    }
}

fn unregistered(pane: PaneId) -> ! {
    panic!("pane {pane} is not in the registry (or registered with another type)")
}

/// Pane states assembled in code, by pane: [`PaneStates`] without the console's fleet (a pane's
/// own tests of views that read another pane).
#[derive(Default)]
pub struct States {
    states: Vec<(PaneId, Box<dyn Any + Send + Sync>)>,
}

impl States {
    /// These states and pane `P`'s.
    pub fn with<P: Pane>(mut self, state: P::State) -> Self {
        self.states.retain(|(pane, _)| *pane != P::ID);
        self.states.push((P::ID, Box::new(state)));
        self
    }

    /// Pane `P`'s state, to change (a test's next poll).
    pub fn of_mut<P: Pane>(&mut self) -> &mut P::State {
        self.states
            .iter_mut()
            .find(|(pane, _)| *pane == P::ID)
            .and_then(|(_, s)| s.downcast_mut())
            .unwrap_or_else(|| unregistered(P::ID))
    }
}

impl PaneStates for States {
    fn state(&self, pane: PaneId) -> Option<&dyn Any> {
        let (_, state) = self.states.iter().find(|(p, _)| *p == pane)?;
        Some(state.as_ref())
    }
}

/// Config sections assembled in code, by pane: [`PaneConfigs`] without the console's registry (a
/// pane's own tests, tools that read a few sections).
#[derive(Default)]
pub struct Sections {
    general: GeneralConfig,
    sections: Vec<(PaneId, Box<dyn Any + Send + Sync>)>,
}

impl Sections {
    /// These sections and pane `P`'s.
    pub fn with<P: Source>(mut self, config: P::Config) -> Self {
        self.sections.retain(|(pane, _)| *pane != P::ID);
        self.sections.push((P::ID, Box::new(config)));
        self
    }

    /// Pane `P`'s section, to change.
    pub fn of_mut<P: Source>(&mut self) -> &mut P::Config {
        (self as &mut dyn PaneConfigs).of_mut::<P>()
    }
}

impl PaneConfigs for Sections {
    fn section(&self, pane: PaneId) -> Option<&dyn Any> {
        let (_, section) = self.sections.iter().find(|(p, _)| *p == pane)?;
        Some(section.as_ref())
    }
    fn section_mut(&mut self, pane: PaneId) -> Option<&mut dyn Any> {
        let (_, section) = self.sections.iter_mut().find(|(p, _)| *p == pane)?;
        Some(section.as_mut())
    }
    fn general(&self) -> &GeneralConfig {
        &self.general
    }
}

/// Clients assembled in code, by pane: [`PaneBackends`] without the console's registry (a pane's
/// own tests, an action run on its own).
#[derive(Default)]
pub struct Clients {
    clients: Vec<(PaneId, Box<dyn Any + Send + Sync>)>,
}

impl Clients {
    /// These clients and pane `P`'s.
    pub fn with<P: Source>(mut self, backend: P::Backend) -> Self {
        self.clients.retain(|(pane, _)| *pane != P::ID);
        self.clients.push((P::ID, Box::new(backend)));
        self
    }
}

impl PaneBackends for Clients {
    fn backend(&self, pane: PaneId) -> Option<&dyn Any> {
        let (_, client) = self.clients.iter().find(|(p, _)| *p == pane)?;
        Some(client.as_ref())
    }
}

/// Something that can be asked, again and again, for a fresh view of one source.
pub trait Poller<U>: Send {
    /// Time between polls while the source answers.
    fn interval(&self) -> Duration;
    /// Longest one poll may take before it counts as failed.
    fn timeout(&self) -> Duration;
    /// One poll; failures come back inside the update, never as a panic.
    fn poll(&mut self) -> BoxFuture<'_, U>;
}

/// Where a pane's clients send what they push between polls (a tail's lines, its state): each
/// update reaches the app as its pane's. Sending waits while the app is behind; it answers false
/// once the app is gone.
pub struct Sink<U> {
    send: Arc<dyn Fn(U) -> BoxFuture<'static, bool> + Send + Sync>,
}

impl<U: Send + 'static> Sink<U> {
    /// A sink into `tx`, each update made into what `tx` carries by `wrap`.
    pub fn mapped<T: Send + 'static>(tx: mpsc::Sender<T>, wrap: impl Fn(U) -> T + Send + Sync + 'static) -> Self {
        Self {
            send: Arc::new(move |update| {
                let tx = tx.clone();
                let item = wrap(update);
                Box::pin(async move { tx.send(item).await.is_ok() })
            }),
        }
    }

    pub async fn send(&self, update: U) -> bool {
        (self.send)(update).await
    }
}

impl<U: Send + 'static> From<mpsc::Sender<U>> for Sink<U> {
    fn from(tx: mpsc::Sender<U>) -> Self {
        Self::mapped(tx, |u| u)
    }
}

impl<U> Clone for Sink<U> {
    fn clone(&self) -> Self {
        Self {
            send: self.send.clone(),
        }
    }
}

/// A config file holding pane `P`'s section only, parsed and checked as a whole file would be (each
/// mistake with its line): what a pane's own tests and tools read.
pub fn parse_section<P: Source>(text: &str, file: &Path) -> Result<P::Config, Vec<ConfigError>> {
    load::parse_str_with::<Single<P>>(text, file, &|_| Vec::new()).map(|s| s.section)
}

/// A config of one section (see [`parse_section`]).
struct Single<P: Source> {
    section: P::Config,
    general: GeneralConfig,
}

impl<'de, P: Source> serde::Deserialize<'de> for Single<P> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<P>(PhantomData<P>);
        impl<'de, P: Source> serde::de::Visitor<'de> for Visit<P> {
            type Value = Single<P>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a [{}] section", P::SECTION)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Single<P>, A::Error> {
                let mut section = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != P::SECTION {
                        return Err(serde::de::Error::unknown_field(&key, &[P::SECTION]));
                    }
                    section = Some(map.next_value()?);
                }
                Ok(Single {
                    section: section.unwrap_or_default(),
                    general: GeneralConfig::default(),
                })
            }
        }
        d.deserialize_map(Visit(PhantomData))
    }
}

impl<P: Source> PaneConfigs for Single<P> {
    fn section(&self, pane: PaneId) -> Option<&dyn Any> {
        (pane == P::ID).then_some(&self.section as &dyn Any)
    }
    fn section_mut(&mut self, pane: PaneId) -> Option<&mut dyn Any> {
        (pane == P::ID).then_some(&mut self.section as &mut dyn Any)
    }
    fn general(&self) -> &GeneralConfig {
        &self.general
    }
}

impl<P: Source> ConfigRoot for Single<P> {
    fn validate(&self) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        P::validate(&self.section, self, &mut issues);
        issues
    }
}
