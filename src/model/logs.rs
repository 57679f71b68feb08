//! Model of remote log tails. (Placeholder until the hosts issue lands.)

use std::time::SystemTime;

#[derive(Debug, Clone, Default)]
pub struct LogsState {
    pub enabled: bool,
}

/// Lines or state changes from one tail.
#[derive(Debug, Clone)]
pub enum LogEvent {}

impl LogsState {
    pub fn apply(&mut self, _at: SystemTime, event: LogEvent) {
        match event {}
    }
}
