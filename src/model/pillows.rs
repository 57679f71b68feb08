//! Model of pillow partitions and their checkpoints.
//! (Placeholder until its capability issue lands: the pane says so instead of showing numbers.)

use super::fleet::FeedData;
use serde::Serialize;
use std::time::SystemTime;

#[derive(Debug, Clone, Default, Serialize)]
pub struct PillowsState {}

impl FeedData for PillowsState {
    type Poll = PillowsState;
    fn absorb(current: &mut Option<Self>, poll: Self::Poll, _at: SystemTime) {
        *current = Some(poll);
    }
}
