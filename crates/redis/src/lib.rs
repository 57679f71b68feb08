//! opsdeck's Redis pane: per instance CPU as cores used (Redis runs commands on one thread),
//! memory against `maxmemory`, evictions, ops/s, clients, persistence, replication, the slow log
//! (with `KEYS` calls flagged) and latency spikes; the queues kept in Redis lists (Celery, Resque,
//! Sidekiq, named keys) with their trend and time to drain; and confirmed, verified actions
//! (BGSAVE, move a queue to a backup key, clear it, re-queue from a backup).
//!
//! Layers, each using only those above it in this list: `config` ← `model` ← `analysis` ←
//! `source` ← `backend` ← `actions` ← `views` (and `demo`).

pub mod actions;
pub mod analysis;
pub mod backend;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod model;
pub mod source;
pub mod views;

use backend::RedisBackend;
use config::RedisConfig;
use futures::future::BoxFuture;
use model::{RedisPoll, RedisState};
use opsdeck_core::config::{ConfigIssue, GeneralConfig};
use opsdeck_core::demo::{DemoCtx, StandIns};
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Poller, Source};
use opsdeck_core::registered::{Registered, RegisteredSource};
use opsdeck_core::source_error::SourceError;
use opsdeck_core::view::{PaneAction, RowKind, View};
use std::convert::Infallible;

/// Redis instances: the server's health and the queues kept in its lists.
pub struct Redis;

impl Pane for Redis {
    const ID: PaneId = PaneId::new("redis");
    type State = Feed<RedisState>;
    type Update = Result<RedisPoll, SourceError>;
    type Job = Infallible;
}

impl Source for Redis {
    const SECTION: &'static str = "redis";
    type Config = RedisConfig;
    type Backend = RedisBackend;

    fn validate(config: &RedisConfig, _all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
        config.validate(issues);
    }
}

impl Registered for Redis {
    const ACTIONS: &'static [PaneAction] = views::ACTIONS;
    const ROW_KINDS: &'static [RowKind] = views::ROW_KINDS;

    fn root() -> Box<dyn View> {
        views::root()
    }
    opsdeck_core::feed_state!();
    opsdeck_core::feed_alerts!(views::alerts);
    opsdeck_core::no_commands_or_jobs!();
    opsdeck_core::no_leftovers!();
}

impl RegisteredSource for Redis {
    fn is_enabled(config: &Self::Config) -> bool {
        config.is_enabled()
    }
    fn connect<'a>(
        config: &'a Self::Config,
        _stand_ins: &'a StandIns,
    ) -> BoxFuture<'a, Result<Option<Self::Backend>, String>> {
        // Nothing to reach yet: each instance's login problems (an unset password variable, an
        // unreadable CA file) are said on its own row, the other instances polled all the same.
        Box::pin(async move { Ok(config.is_enabled().then(|| RedisBackend::new(config))) })
    }
    fn pollers(backend: &Self::Backend, general: &GeneralConfig) -> Vec<Box<dyn Poller<Self::Update>>> {
        backend.pollers(general)
    }
}

/// The demo's Redis: a loopback server with a Celery queue stuck behind wedged workers.
async fn start_demo(ctx: &mut DemoCtx<'_>) -> std::io::Result<()> {
    let server = demo::DemoRedis::start().await?;
    ctx.config.of_mut::<Redis>().instances.push(server.instance());
    ctx.keep_alive.push(Box::new(server));
    Ok(())
}

opsdeck_core::demo_from!(Redis, start_demo);
