//! What a person would conclude from the queues data.

use crate::config::Config;
use crate::model::Alert;
use crate::model::queues::QueuesState;

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(_state: &QueuesState, _config: &Config) -> Vec<Alert> {
    Vec::new()
}
