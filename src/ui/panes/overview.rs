//! The overview pane.

use crate::ui::view::{NotBuilt, PaneAction, View};

pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(NotBuilt {
        pane: "overview",
        scope: "overview",
        source: None,
        what: "coming with the foundation",
    })
}
