//! The logs pane.

use crate::model::SourceKind;
use crate::ui::view::{NotBuilt, PaneAction, View};

/// Keymap actions this pane understands (bound in the keymap's `[logs]` mode).
pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(NotBuilt {
        pane: "logs",
        scope: "logs",
        source: Some(SourceKind::Logs),
        what: "remote log tails come with the hosts capability",
    })
}
