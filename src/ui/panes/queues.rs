//! The queues pane.

use crate::model::SourceKind;
use crate::ui::view::{NotBuilt, PaneAction, View};

/// Keymap actions this pane understands (bound in the keymap's `[queues]` mode).
pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(NotBuilt {
        pane: "queues",
        scope: "queues",
        source: Some(SourceKind::Queues),
        what: "SQS backlogs and DynamoDB capacity come with the queues capability",
    })
}
