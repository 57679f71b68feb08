//! Everything the console knows, one [`Feed`] per source, and the updates pollers send.

use super::audit::AuditEntry;
use super::elasticsearch::EsState;
use super::feed::Feed;
use super::hosts::HostsState;
use super::logs::{LogEvent, LogsState};
use super::pillows::PillowsState;
use super::queues::QueuesState;
use serde::Serialize;
use std::time::SystemTime;

/// A source's data type: how one poll's answer is folded into what the pane already shows.
pub trait FeedData: Sized {
    /// What one poll returns.
    type Poll: Send + 'static;
    /// Folds `poll` into `current` (keeping bounded histories, detecting rewinds, ...).
    fn absorb(current: &mut Option<Self>, poll: Self::Poll, at: SystemTime);
}

/// The sources opsdeck polls, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Pillows,
    Elasticsearch,
    Queues,
    Hosts,
    Logs,
}

impl SourceKind {
    pub const ALL: [SourceKind; 5] = [
        SourceKind::Pillows,
        SourceKind::Elasticsearch,
        SourceKind::Queues,
        SourceKind::Hosts,
        SourceKind::Logs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Pillows => "pillows",
            SourceKind::Elasticsearch => "elasticsearch",
            SourceKind::Queues => "queues",
            SourceKind::Hosts => "hosts",
            SourceKind::Logs => "logs",
        }
    }
}

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
    pub fn kind(&self) -> SourceKind {
        match self {
            SourceUpdate::Pillows(_) => SourceKind::Pillows,
            SourceUpdate::Elasticsearch(_) => SourceKind::Elasticsearch,
            SourceUpdate::Queues(_) => SourceKind::Queues,
            SourceUpdate::Hosts(_) => SourceKind::Hosts,
            SourceUpdate::Logs(_) => SourceKind::Logs,
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

fn apply_poll<T: FeedData>(feed: &mut Feed<T>, at: SystemTime, result: Result<T::Poll, String>) {
    match result {
        Ok(poll) => feed.succeed(at, |data| T::absorb(data, poll, at)),
        Err(error) => feed.fail(at, error),
    }
}

impl Fleet {
    /// Folds one poller update into the fleet.
    pub fn apply(&mut self, at: SystemTime, update: SourceUpdate) {
        match update {
            SourceUpdate::Pillows(r) => apply_poll(&mut self.pillows, at, r),
            SourceUpdate::Elasticsearch(r) => apply_poll(&mut self.elasticsearch, at, r),
            SourceUpdate::Queues(r) => apply_poll(&mut self.queues, at, r),
            SourceUpdate::Hosts(r) => apply_poll(&mut self.hosts, at, r),
            SourceUpdate::Logs(event) => self.logs.apply(at, event),
        }
    }

    /// Marks the feeds whose sources are configured as waiting for their first answer.
    pub fn enable(&mut self, kind: SourceKind) {
        match kind {
            SourceKind::Pillows => self.pillows = Feed::waiting(),
            SourceKind::Elasticsearch => self.elasticsearch = Feed::waiting(),
            SourceKind::Queues => self.queues = Feed::waiting(),
            SourceKind::Hosts => self.hosts = Feed::waiting(),
            SourceKind::Logs => self.logs.enabled = true,
        }
    }
}
