//! Everything the console knows, one state per pane, and the updates pollers send (both derived
//! from the registry).

pub use crate::registry::{Fleet, SourceUpdate};
