//! Source for ssh: the client, its poller(s), and the translation of answers into model types.

use super::Poller;
use crate::config::Config;

/// Connected clients for ssh, shared by pollers and actions.
#[derive(Debug, Clone)]
pub struct SshBackend {}

impl SshBackend {
    /// Builds the clients when the config enables this source (no network I/O happens here).
    pub async fn connect(_config: &Config) -> Result<Option<Self>, String> {
        Ok(None)
    }

    /// The pollers feeding this source's panes.
    pub fn pollers(&self, _config: &Config) -> Vec<Box<dyn Poller>> {
        Vec::new()
    }
}

impl SshBackend {
    /// Runs `command` (already shell-escaped) on `host` through the host's multiplexed connection.
    pub async fn run_command(
        &self,
        host: &str,
        _command: &str,
        _timeout: std::time::Duration,
    ) -> Result<crate::actions::command::CommandOutput, String> {
        Err(format!("SSH transport to {host} is not built yet"))
    }
}

/// Requests from the logs pane to the tail tasks.
#[derive(Debug, Clone)]
pub enum TailCommand {}

impl SshBackend {
    /// Carries out a logs-pane request (start/stop/pause a tail); lines go to `updates` as
    /// `SourceUpdate::Logs` events.
    pub fn handle_tail(&self, command: TailCommand, _updates: tokio::sync::mpsc::Sender<super::runner::Polled>) {
        match command {}
    }
}
