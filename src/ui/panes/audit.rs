//! The audit pane.

use crate::ui::view::{NotBuilt, PaneAction, View};

pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(NotBuilt {
        pane: "audit",
        scope: "audit",
        source: None,
        what: "coming with the foundation",
    })
}
