//! Pollers: one async task per source, feeding the app over a channel. A slow or dead source only
//! ever delays its own pane. Which sources exist, their clients and pollers: the registry.

pub mod runner;

pub use crate::registry::{Backends, PanePoller, SetupError, enabled_sources};
pub use runner::{poll_once, spawn_pollers};
