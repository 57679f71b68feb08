//! What a person would conclude: pure functions over the model.

use crate::config::Config;
use crate::model::Fleet;
use opsdeck_core::alert::Alert;

/// Every alert across the fleet, worst first.
pub fn alerts(fleet: &Fleet, config: &Config) -> Vec<Alert> {
    let mut all = fleet.pane_alerts(config);
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    all
}
