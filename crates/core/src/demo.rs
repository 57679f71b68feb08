//! What a pane's part of the built-in demo fleet works with (`opsdeck demo`): a private sandbox
//! directory, a signal that stops its simulations, the config it fills in (its own section, and
//! another pane's where they meet: a demo host for the pillows' processes), and whatever must live as
//! long as the demo.

use crate::pane::{Pane, PaneConfigs, PaneId};
use std::any::Any;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub struct DemoCtx<'a> {
    /// A private scratch directory (sandbox hosts, logs).
    pub sandbox: &'a Path,
    /// Stops background tasks when the demo ends.
    pub cancel: CancellationToken,
    /// Every pane's config section: `demo.config.of_mut::<Hosts>()`.
    pub config: &'a mut dyn PaneConfigs,
    /// What its clients use in place of a real peer (the pillows' checkpoint table in memory).
    pub stand_ins: &'a mut StandIns,
    /// Servers, mock clusters, temp dirs: dropped when the demo ends.
    pub keep_alive: &'a mut Vec<Box<dyn Any + Send>>,
}

/// What the demo hands a pane's clients in place of a real peer, by pane (the pillows' checkpoint
/// table in memory). Only the demo makes them, in code: no config file can name one.
#[derive(Clone, Default)]
pub struct StandIns(Vec<(PaneId, Arc<dyn Any + Send + Sync>)>);

impl StandIns {
    /// Pane `P`'s stand-in is `value` (replacing one of the same type).
    pub fn insert<P: Pane, T: Any + Send + Sync>(&mut self, value: T) {
        self.0.retain(|(pane, v)| *pane != P::ID || !v.is::<T>());
        self.0.push((P::ID, Arc::new(value)));
    }

    /// Pane `P`'s stand-in of type `T`, if the demo made one.
    pub fn get<P: Pane, T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0
            .iter()
            .filter(|(pane, _)| *pane == P::ID)
            .find_map(|(_, v)| v.downcast_ref())
    }
}

impl fmt::Debug for StandIns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(pane, _)| pane)).finish()
    }
}
