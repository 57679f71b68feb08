//! The built-in demo fleet: real protocols served on loopback where an embedded peer exists,
//! simulated where none does, with life (things break and recover) and reacting to actions.

pub mod xl;

use crate::config::Config;
use opsdeck_core::demo::{DemoCtx, StandIns, StoryClock};
use opsdeck_core::pane::Pane;
use opsdeck_core::registered::Demo;
use std::any::Any;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// A running demo fleet. Dropping it stops every server and simulation.
pub struct DemoFleet {
    /// The config pointing at the demo's loopback servers; each part adds its section.
    pub config: Config,
    /// A private scratch directory (sandbox hosts, logs, audit log).
    pub sandbox: PathBuf,
    /// Stops background tasks when the demo ends.
    pub cancel: CancellationToken,
    /// Whatever must live as long as the demo (servers, mock clusters, temp dirs).
    pub keep_alive: Vec<Box<dyn Any + Send>>,
    /// What the panes' clients use in place of real peers: `Backends::connect_with(&demo.config,
    /// &demo.stand_ins)`.
    pub stand_ins: StandIns,
    /// The storyline's clock (`OPSDECK_DEMO_SPEED` runs it faster; tests skip it ahead).
    pub story: StoryClock,
}

impl Drop for DemoFleet {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl DemoFleet {
    /// What one pane's part of the demo works in: this demo's sandbox, stop signal and config.
    pub fn ctx(&mut self) -> DemoCtx<'_> {
        DemoCtx {
            sandbox: &self.sandbox,
            cancel: self.cancel.clone(),
            config: &mut self.config,
            keep_alive: &mut self.keep_alive,
            stand_ins: &mut self.stand_ins,
            story: self.story.clone(),
        }
    }

    /// Starts every part of the demo in `sandbox`, its story at the speed `OPSDECK_DEMO_SPEED` asks for.
    pub async fn start(sandbox: PathBuf) -> anyhow::Result<DemoFleet> {
        let story = StoryClock::from_env().map_err(anyhow::Error::msg)?;
        Self::start_with(sandbox, story).await
    }

    /// Starts every part of the demo in `sandbox`, its story told by `story`, on a runtime of its own
    /// (threads `demo-peers`), as real peers run elsewhere: the console's runtime runs only the
    /// console, and each thread's CPU time says which side spent it.
    pub async fn start_with(sandbox: PathBuf, story: StoryClock) -> anyhow::Result<DemoFleet> {
        let cancel = CancellationToken::new();
        let (started, fleet) = tokio::sync::oneshot::channel();
        let runs = cancel.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("demo-peers")
            .enable_all()
            .build()?;
        std::thread::Builder::new().name("demo-peers".into()).spawn(move || {
            runtime.block_on(async move {
                let fleet = Self::start_here(sandbox, story, runs.clone()).await;
                let serving = fleet.is_ok();
                // Unwanted (the caller is gone), the fleet is dropped here, which cancels it.
                let _ = started.send(fleet);
                if serving {
                    // Serves until the fleet is dropped (its `cancel`).
                    runs.cancelled().await;
                }
            });
        })?;
        fleet
            .await
            .map_err(|_| anyhow::anyhow!("the demo's runtime ended while starting"))?
    }

    /// Starts every part on the current runtime.
    async fn start_here(sandbox: PathBuf, story: StoryClock, cancel: CancellationToken) -> anyhow::Result<DemoFleet> {
        std::fs::create_dir_all(&sandbox)?;
        let mut demo = DemoFleet {
            config: Config::default(),
            sandbox,
            cancel,
            keep_alive: Vec::new(),
            stand_ins: StandIns::default(),
            story,
        };
        demo.config.general.environment = "demo".into();
        demo.config.general.audit_log = Some(demo.sandbox.join("audit.jsonl"));
        demo.config.general.refresh = opsdeck_core::config::ConfigDuration::secs(2);
        start_every_part(&mut demo.ctx()).await?;
        // A custom action as a user would configure one: it goes through the same dialog and audit log.
        demo.config.actions.push(crate::config::CustomAction {
            name: "uptime".into(),
            key: "U".into(),
            scope: "hosts".into(),
            command: "uptime".into(),
            run_on: "{{host}}".into(),
            risk: opsdeck_core::action::Risk::Low,
            description: "load and uptime of the selected host (a custom [[actions]] entry)".into(),
            timeout: opsdeck_core::config::ConfigDuration::secs(20),
        });
        Ok(demo)
    }
}

macro_rules! demo_parts {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
        /// Starts every pane's part of the demo, in registry order (a later part may add to an
        /// earlier one's section: the pillows' host joins the hosts).
        async fn start_every_part(ctx: &mut DemoCtx<'_>) -> anyhow::Result<()> {
            $(
                <$ty as Demo>::start(ctx)
                    .await
                    .map_err(|e| anyhow::anyhow!("{} demo: {e}", <$ty as Pane>::ID))?;
            )+
            Ok(())
        }
    };
}
crate::registry::for_each_pane!(demo_parts);
