//! What a person would conclude from the pillows data.

use crate::config::Config;
use crate::model::Alert;
use crate::model::pillows::PillowsState;

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(_state: &PillowsState, _config: &Config) -> Vec<Alert> {
    Vec::new()
}
