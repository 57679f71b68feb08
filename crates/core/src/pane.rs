//! What a pane is, to the layers above: its name, its state in the fleet, its config section and
//! its connected clients, each reachable by the pane's type from code that only knows the pane it
//! is about (`ctx.fleet.of::<Hosts>()`, `ctx.config.of::<Pillows>()`, `ctx.backends.of::<Hosts>()`).
//! The registry (the `opsdeck` package) holds one of each per pane and answers these lookups.

use crate::config::GeneralConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::fmt;

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

    pub fn name(self) -> &'static str {
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
    /// Work its views ask of its clients that is not an action (start or stop a log tail);
    /// `Infallible` when there is none.
    type Job: fmt::Debug + Send + 'static;
}

/// A pane with a `[section]` of the config file and clients of its own (pollers, actions).
pub trait Source: Pane {
    /// Its config section, deserialised on its own (unknown keys are mistakes).
    type Config: DeserializeOwned + Default + Clone + fmt::Debug + Send + Sync + 'static;
    /// Its connected clients, shared by its pollers and the actions that need them.
    type Backend: Clone + Send + Sync + 'static;
}

/// Every pane's state, by pane (the app's fleet).
pub trait PaneStates: Any {
    /// The state of `pane`, when it is registered.
    fn state(&self, pane: PaneId) -> Option<&dyn Any>;
}

/// Every pane's config section, by pane, and the `[general]` section.
pub trait PaneConfigs: Any {
    /// The section of `pane`, when it is registered and has one.
    fn section(&self, pane: PaneId) -> Option<&dyn Any>;
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
        self.state(P::ID)
            .and_then(|s| s.downcast_ref())
            .unwrap_or_else(|| unregistered(P::ID))
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

impl dyn PaneBackends + '_ {
    /// Pane `P`'s clients; `None` when its source is not configured.
    pub fn of<P: Source>(&self) -> Option<&P::Backend> {
        self.backend(P::ID).and_then(|b| b.downcast_ref())
    }
}

fn unregistered(pane: PaneId) -> ! {
    panic!("pane {pane} is not in the registry (or registered with another type)")
}
