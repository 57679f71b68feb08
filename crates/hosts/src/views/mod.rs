//! What the hosts and logs panes show and which keys they take.

pub mod hosts;
pub mod logs;
