//! opsdeck's PostgreSQL pane (runbooks 001 and 004).
//!
//! One-way layers: [`config`] ← [`model`] ← [`analysis`] ← [`source`] ← [`backend`] ← [`actions`] ←
//! [`views`] (and [`demo`]). Per server: connections against `max_connections`, long queries and
//! idle-in-transaction sessions, blocking chains, replication lag, database sizes, and CommCare HQ's
//! pillow errors; actions cancel a query or terminate a backend, each checked against the session the
//! plan saw and verified.

pub mod actions;
pub mod analysis;
pub mod backend;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod model;
pub mod source;
pub mod views;

use backend::{DemoServers, PostgresBackend};
use config::{PostgresConfig, ServerConfig, SslMode};
use futures::future::BoxFuture;
use model::{PostgresPoll, PostgresState};
use opsdeck_core::config::{ConfigIssue, GeneralConfig};
use opsdeck_core::demo::{DemoCtx, StandIns};
use opsdeck_core::feed::Feed;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Poller, Source};
use opsdeck_core::registered::{Registered, RegisteredSource};
use opsdeck_core::source_error::SourceError;
use opsdeck_core::view::{PaneAction, RowKind, View};
use std::convert::Infallible;
use std::sync::Arc;

/// PostgreSQL servers: sessions, locks, replication and the pillow errors HQ keeps there.
pub struct Postgres;

impl Pane for Postgres {
    const ID: PaneId = PaneId::new("postgres");
    type State = Feed<PostgresState>;
    type Update = Result<PostgresPoll, SourceError>;
    type Job = Infallible;
}

impl Source for Postgres {
    const SECTION: &'static str = "postgres";
    type Config = PostgresConfig;
    type Backend = PostgresBackend;

    fn validate(config: &PostgresConfig, _all: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
        config::validate(config, issues);
    }
}

impl Registered for Postgres {
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

impl RegisteredSource for Postgres {
    fn is_enabled(config: &Self::Config) -> bool {
        !config.servers.is_empty()
    }
    fn connect<'a>(
        config: &'a Self::Config,
        stand_ins: &'a StandIns,
    ) -> BoxFuture<'a, Result<Option<Self::Backend>, String>> {
        Box::pin(async move {
            if config.servers.is_empty() {
                return Ok(None);
            }
            PostgresBackend::new(config, stand_ins).map(Some)
        })
    }
    fn pollers(backend: &Self::Backend, general: &GeneralConfig) -> Vec<Box<dyn Poller<Self::Update>>> {
        backend.pollers(general)
    }
}

/// The demo's database server: a long rebuild blocking pillow writers, their errors piling up, an
/// idle transaction (simulated, handed to the pane's clients in code: no config can name it).
async fn start_demo(ctx: &mut DemoCtx<'_>) -> Result<(), Infallible> {
    const NAME: &str = "hq-db";
    let sim: Arc<dyn source::PostgresSource> = Arc::new(demo::SimulatedSource::new(NAME));
    ctx.stand_ins.insert::<Postgres, _>(DemoServers(vec![sim]));
    let section = ctx.config.of_mut::<Postgres>();
    section.servers.push(ServerConfig {
        name: NAME.into(),
        address: "hq-db.demo.internal:5432".into(),
        database: "commcarehq".into(),
        user: "opsdeck_op".into(),
        password_env: None,
        password_file: None,
        password: None,
        sslmode: SslMode::VerifyFull,
        sslrootcert: None,
        sslcert: None,
        sslkey: None,
        pillow_errors_database: Some("commcarehq".into()),
    });
    Ok(())
}

opsdeck_core::demo_from!(Postgres, start_demo);
