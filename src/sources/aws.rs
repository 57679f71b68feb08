//! Source for aws: the client, its poller(s), and the translation of answers into model types.

use super::Poller;
use crate::config::Config;

/// Connected clients for aws, shared by pollers and actions.
#[derive(Debug, Clone)]
pub struct AwsBackend {}

impl AwsBackend {
    /// Builds the clients when the config enables this source (no network I/O happens here).
    pub async fn connect(_config: &Config) -> Result<Option<Self>, String> {
        Ok(None)
    }

    /// The pollers feeding this source's panes.
    pub fn pollers(&self, _config: &Config) -> Vec<Box<dyn Poller>> {
        Vec::new()
    }
}
