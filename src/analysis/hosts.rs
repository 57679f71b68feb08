//! What a person would conclude from the hosts data.

use crate::config::Config;
use crate::model::Alert;
use crate::model::hosts::HostsState;

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(_state: &HostsState, _config: &Config) -> Vec<Alert> {
    Vec::new()
}
