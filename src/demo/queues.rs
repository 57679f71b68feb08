//! The demo fleet's queues: served on loopback (or simulated) and reacting to actions.

use super::DemoFleet;

/// Starts this part of the demo and adds its section to the demo config.
pub async fn start(_demo: &mut DemoFleet) -> anyhow::Result<()> {
    Ok(())
}
