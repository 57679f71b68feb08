//! The views the app shows that are the console's own (every pane's are in its crate), and the
//! tabs that hold them all. Each of the console's views exposes `root()` (its top view) and
//! `ACTIONS` (the keymap actions it understands).

pub mod audit;
pub mod overview;
mod tabs;

use crate::config::Config;
use crate::model::Fleet;
use opsdeck_core::view::ViewCtx;
use std::any::Any;

pub use tabs::{TAB_ACTIONS, Tab};

/// The console's own fleet and config behind a view context: the overview and audit tabs are the
/// console's, not a pane's, and read everything (every pane's alerts, the audit log).
pub fn console<'a>(ctx: &ViewCtx<'a>) -> (&'a Fleet, &'a Config) {
    let fleet = (ctx.fleet as &dyn Any).downcast_ref::<Fleet>();
    let config = (ctx.config as &dyn Any).downcast_ref::<Config>();
    fleet
        .zip(config)
        .expect("the console builds every view context from its fleet and config")
}
