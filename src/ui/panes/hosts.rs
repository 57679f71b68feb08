//! The hosts pane.

use crate::model::SourceKind;
use crate::ui::view::{NotBuilt, PaneAction, View};

/// Keymap actions this pane understands (bound in the keymap's `[hosts]` mode).
pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(NotBuilt {
        pane: "hosts",
        scope: "hosts",
        source: Some(SourceKind::Hosts),
        what: "disks, crash dumps and supervisor programs come with the hosts capability",
    })
}
