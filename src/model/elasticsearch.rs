//! Model of the Elasticsearch cluster: health, nodes, shards, settings.
//! (Placeholder until its capability issue lands: the pane says so instead of showing numbers.)

use super::fleet::FeedData;
use serde::Serialize;
use std::time::SystemTime;

#[derive(Debug, Clone, Default, Serialize)]
pub struct EsState {}

impl FeedData for EsState {
    type Poll = EsState;
    fn absorb(current: &mut Option<Self>, poll: Self::Poll, _at: SystemTime) {
        *current = Some(poll);
    }
}
