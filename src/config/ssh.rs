//! Config section for hosts over SSH, their disks, supervisor programs and log tails.

use super::ConfigIssue;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshConfig {}

impl SshConfig {
    /// Whether the section configures anything to poll.
    pub fn is_enabled(&self) -> bool {
        false
    }

    /// Checks that serde cannot express (references between sections, value ranges).
    pub fn validate(&self, _issues: &mut Vec<ConfigIssue>) {}
}
