//! Model of SQS queues and DynamoDB tables.
//! (Placeholder until its capability issue lands: the pane says so instead of showing numbers.)

use super::fleet::FeedData;
use serde::Serialize;
use std::time::SystemTime;

#[derive(Debug, Clone, Default, Serialize)]
pub struct QueuesState {}

impl FeedData for QueuesState {
    type Poll = QueuesState;
    fn absorb(current: &mut Option<Self>, poll: Self::Poll, _at: SystemTime) {
        *current = Some(poll);
    }
}
