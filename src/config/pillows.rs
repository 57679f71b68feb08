//! Config section for pillows: Kafka consumer groups and Postgres checkpoint tables.

use super::ConfigIssue;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PillowsConfig {}

impl PillowsConfig {
    /// Whether the section configures anything to poll.
    pub fn is_enabled(&self) -> bool {
        false
    }

    /// Checks that serde cannot express (references between sections, value ranges).
    pub fn validate(&self, _issues: &mut Vec<ConfigIssue>) {}
}
