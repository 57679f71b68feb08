//! What a person would conclude from the elasticsearch data.

use crate::config::Config;
use crate::model::Alert;
use crate::model::elasticsearch::EsState;

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(_state: &EsState, _config: &Config) -> Vec<Alert> {
    Vec::new()
}
