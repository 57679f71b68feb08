//! The pillows pane.

use crate::model::SourceKind;
use crate::ui::view::{NotBuilt, PaneAction, View};

/// Keymap actions this pane understands (bound in the keymap's `[pillows]` mode).
pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(NotBuilt {
        pane: "pillows",
        scope: "pillows",
        source: Some(SourceKind::Pillows),
        what: "partition lag from Kafka and checkpoint tables comes with the pillows capability",
    })
}
