//! One module per pane. Each exposes `root()` (its top view) and `ACTIONS` (the keymap actions it understands).

pub mod audit;
pub mod elasticsearch;
pub mod overview;
pub mod queues;

use crate::config::Config;
use crate::model::Fleet;
use crate::panes::{Elasticsearch, Queues};
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::view::{PaneAction, ViewCtx};
use opsdeck_hosts::{Hosts, Logs};
use opsdeck_pillows::Pillows;
use std::any::Any;

/// The tabs along the top, in order (number keys 1..7 jump to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tab {
    Overview,
    Pillows,
    Elasticsearch,
    Queues,
    Hosts,
    Logs,
    Audit,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Pillows,
        Tab::Elasticsearch,
        Tab::Queues,
        Tab::Hosts,
        Tab::Logs,
        Tab::Audit,
    ];

    /// The pane's name: its tab label, its keymap mode and its `:` command.
    pub fn name(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Pillows => "pillows",
            Tab::Elasticsearch => "elasticsearch",
            Tab::Queues => "queues",
            Tab::Hosts => "hosts",
            Tab::Logs => "logs",
            Tab::Audit => "audit",
        }
    }

    /// The pane it shows; `None` for the overview and the audit log, which are the console's own.
    pub fn pane(self) -> Option<PaneId> {
        match self {
            Tab::Overview | Tab::Audit => None,
            Tab::Pillows => Some(Pillows::ID),
            Tab::Elasticsearch => Some(Elasticsearch::ID),
            Tab::Queues => Some(Queues::ID),
            Tab::Hosts => Some(Hosts::ID),
            Tab::Logs => Some(Logs::ID),
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn root(self) -> Box<dyn opsdeck_core::view::View> {
        match self {
            Tab::Overview => overview::root(),
            Tab::Pillows => opsdeck_pillows::views::root(),
            Tab::Elasticsearch => elasticsearch::root(),
            Tab::Queues => queues::root(),
            Tab::Hosts => opsdeck_hosts::views::hosts::root(),
            Tab::Logs => opsdeck_hosts::views::logs::root(),
            Tab::Audit => audit::root(),
        }
    }

    /// The pane-specific keymap actions it understands.
    pub fn actions(self) -> &'static [PaneAction] {
        match self {
            Tab::Overview => overview::ACTIONS,
            Tab::Pillows => opsdeck_pillows::views::ACTIONS,
            Tab::Elasticsearch => elasticsearch::ACTIONS,
            Tab::Queues => queues::ACTIONS,
            Tab::Hosts => opsdeck_hosts::views::hosts::ACTIONS,
            Tab::Logs => opsdeck_hosts::views::logs::ACTIONS,
            Tab::Audit => audit::ACTIONS,
        }
    }
}

/// The console's own fleet and config behind a view context: the overview and audit tabs are the
/// console's, not a pane's, and read everything (every pane's alerts, the audit log).
pub fn console<'a>(ctx: &ViewCtx<'a>) -> (&'a Fleet, &'a Config) {
    let fleet = (ctx.fleet as &dyn Any).downcast_ref::<Fleet>();
    let config = (ctx.config as &dyn Any).downcast_ref::<Config>();
    fleet
        .zip(config)
        .expect("the console builds every view context from its fleet and config")
}
