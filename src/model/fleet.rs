//! Everything the console knows, one [`Feed`] per source, and the updates pollers send.

use super::elasticsearch::EsState;
use super::queues::QueuesState;
use crate::panes::{Elasticsearch, Queues};
use opsdeck_core::audit::AuditEntry;
use opsdeck_core::feed::{Feed, FeedData, FeedInfo};
use opsdeck_core::pane::{Pane, PaneId, PaneStates};
use opsdeck_hosts::model::HostsState;
use opsdeck_hosts::model::logs::{LogEvent, LogsState};
use opsdeck_hosts::{Hosts, Logs};
use opsdeck_pillows::Pillows;
use opsdeck_pillows::model::PillowsState;
use serde::Serialize;
use std::any::Any;
use std::time::SystemTime;

/// One poll's result, as a poller sends it to the app.
#[derive(Debug)]
pub enum SourceUpdate {
    Pillows(Result<<PillowsState as FeedData>::Poll, String>),
    Elasticsearch(Result<<EsState as FeedData>::Poll, String>),
    Queues(Result<<QueuesState as FeedData>::Poll, String>),
    Hosts(Result<<HostsState as FeedData>::Poll, String>),
    Logs(LogEvent),
}

impl SourceUpdate {
    /// The pane it is for.
    pub fn pane(&self) -> PaneId {
        match self {
            SourceUpdate::Pillows(_) => Pillows::ID,
            SourceUpdate::Elasticsearch(_) => Elasticsearch::ID,
            SourceUpdate::Queues(_) => Queues::ID,
            SourceUpdate::Hosts(_) => Hosts::ID,
            SourceUpdate::Logs(_) => Logs::ID,
        }
    }
}

/// The whole fleet as last seen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fleet {
    pub pillows: Feed<PillowsState>,
    pub elasticsearch: Feed<EsState>,
    pub queues: Feed<QueuesState>,
    pub hosts: Feed<HostsState>,
    #[serde(skip)]
    pub logs: LogsState,
    #[serde(skip)]
    pub audit: Vec<AuditEntry>,
}

impl Fleet {
    /// Folds one poller update into the fleet.
    pub fn apply(&mut self, at: SystemTime, update: SourceUpdate) {
        match update {
            SourceUpdate::Pillows(r) => self.pillows.apply(at, r),
            SourceUpdate::Elasticsearch(r) => self.elasticsearch.apply(at, r),
            SourceUpdate::Queues(r) => self.queues.apply(at, r),
            SourceUpdate::Hosts(r) => self.hosts.apply(at, r),
            SourceUpdate::Logs(event) => self.logs.apply(at, event),
        }
    }

    /// Marks the feeds whose sources are configured as waiting for their first answer.
    pub fn enable(&mut self, pane: PaneId) {
        if pane == Pillows::ID {
            self.pillows = Feed::waiting();
        } else if pane == Elasticsearch::ID {
            self.elasticsearch = Feed::waiting();
        } else if pane == Queues::ID {
            self.queues = Feed::waiting();
        } else if pane == Hosts::ID {
            self.hosts = Feed::waiting();
        } else if pane == Logs::ID {
            self.logs.enabled = true;
        }
    }
}

impl Fleet {
    /// The freshness of `pane`'s feed; `None` for a pane without one (logs).
    pub fn feed(&self, pane: PaneId) -> Option<FeedInfo<'_>> {
        Some(if pane == Pillows::ID {
            self.pillows.info()
        } else if pane == Elasticsearch::ID {
            self.elasticsearch.info()
        } else if pane == Queues::ID {
            self.queues.info()
        } else if pane == Hosts::ID {
            self.hosts.info()
        } else {
            return None;
        })
    }
}

impl PaneStates for Fleet {
    fn state(&self, pane: PaneId) -> Option<&dyn Any> {
        Some(if pane == Pillows::ID {
            &self.pillows
        } else if pane == Elasticsearch::ID {
            &self.elasticsearch
        } else if pane == Queues::ID {
            &self.queues
        } else if pane == Hosts::ID {
            &self.hosts
        } else if pane == Logs::ID {
            &self.logs
        } else {
            return None;
        })
    }
}
