//! Model of hosts over SSH: filesystems, crash dumps, supervisor programs.
//! (Placeholder until its capability issue lands: the pane says so instead of showing numbers.)

use super::fleet::FeedData;
use serde::Serialize;
use std::time::SystemTime;

#[derive(Debug, Clone, Default, Serialize)]
pub struct HostsState {}

impl FeedData for HostsState {
    type Poll = HostsState;
    fn absorb(current: &mut Option<Self>, poll: Self::Poll, _at: SystemTime) {
        *current = Some(poll);
    }
}
