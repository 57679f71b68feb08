//! What a person would conclude: pure functions over the model.

pub mod elasticsearch;
pub mod queues;

use crate::config::Config;
use crate::model::Fleet;
use opsdeck_core::alert::Alert;

/// Every alert across the fleet, worst first.
pub fn alerts(fleet: &Fleet, config: &Config) -> Vec<Alert> {
    let mut all = Vec::new();
    if let Some(s) = &fleet.pillows.data {
        all.extend(opsdeck_pillows::analysis::alerts(s, fleet.hosts.data.as_ref(), config));
    }
    if let Some(s) = &fleet.elasticsearch.data {
        all.extend(elasticsearch::alerts(s, config));
    }
    if let Some(s) = &fleet.queues.data {
        all.extend(queues::alerts(s, config));
    }
    if let Some(s) = &fleet.hosts.data {
        all.extend(opsdeck_hosts::analysis::alerts(s, &config.ssh));
    }
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    all
}
