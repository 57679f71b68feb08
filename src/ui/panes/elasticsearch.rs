//! The elasticsearch pane.

use crate::model::SourceKind;
use crate::ui::view::{NotBuilt, PaneAction, View};

/// Keymap actions this pane understands (bound in the keymap's `[elasticsearch]` mode).
pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(NotBuilt {
        pane: "elasticsearch",
        scope: "elasticsearch",
        source: Some(SourceKind::Elasticsearch),
        what: "cluster health, nodes and shard allocation come with the Elasticsearch capability",
    })
}
