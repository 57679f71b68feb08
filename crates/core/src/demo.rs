//! What a pane's part of the built-in demo fleet works with (`opsdeck demo`): a private sandbox
//! directory, a signal that stops its simulations, the config it fills in (its own section, and
//! another pane's where they meet: a demo host for the pillows' processes), and whatever must live as
//! long as the demo.

use crate::pane::PaneConfigs;
use std::any::Any;
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub struct DemoCtx<'a> {
    /// A private scratch directory (sandbox hosts, logs).
    pub sandbox: &'a Path,
    /// Stops background tasks when the demo ends.
    pub cancel: CancellationToken,
    /// Every pane's config section: `demo.config.of_mut::<Hosts>()`.
    pub config: &'a mut dyn PaneConfigs,
    /// Servers, mock clusters, temp dirs: dropped when the demo ends.
    pub keep_alive: &'a mut Vec<Box<dyn Any + Send>>,
}
