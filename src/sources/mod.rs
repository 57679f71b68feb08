//! Pollers: one async task per source, feeding the app over a channel. A slow or dead source only
//! ever delays its own pane. Which sources exist: the registry; their clients and pollers: `clients`.

mod clients;
pub mod runner;

pub use clients::{Backends, PanePoller, SetupError, run_job};
pub use runner::{poll_once, spawn_pollers};
