//! The pane's clients as the console holds them: one source per configured server (the real
//! client, or in the demo the simulated server the demo hands over in code) and one poller that reads
//! every server at once, each failing alone.

use crate::Postgres;
use crate::config::PostgresConfig;
use crate::source::PostgresSource;
use crate::source::pg::PgSource;
use futures::future::{BoxFuture, join_all};
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::demo::StandIns;
use opsdeck_core::pane::{Pane, Poller};
use std::sync::Arc;
use std::time::Duration;

/// The demo's servers, by name, in place of real ones: only the demo makes them, in code.
#[derive(Clone, Default)]
pub struct DemoServers(pub Vec<Arc<dyn PostgresSource>>);

#[derive(Debug, Clone)]
pub struct PostgresBackend {
    pub config: PostgresConfig,
    sources: Vec<Arc<dyn PostgresSource>>,
}

impl PostgresBackend {
    /// The sources of `config`'s servers. Reads passwords and TLS files now: a mistake there is
    /// said at start, naming the server.
    pub fn new(config: &PostgresConfig, stand_ins: &StandIns) -> Result<Self, String> {
        let demo = stand_ins.get::<Postgres, DemoServers>();
        let sources = config
            .servers
            .iter()
            .map(|server| {
                if let Some(s) = demo.and_then(|d| d.0.iter().find(|s| s.server() == server.name)) {
                    return Ok(s.clone());
                }
                PgSource::new(server, config)
                    .map(|s| Arc::new(s) as Arc<dyn PostgresSource>)
                    .map_err(|e| format!("postgres server {}: {e}", server.name))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            config: config.clone(),
            sources,
        })
    }

    /// The source of server `name`.
    pub fn source(&self, name: &str) -> Option<&Arc<dyn PostgresSource>> {
        self.sources.iter().find(|s| s.server() == name)
    }

    pub fn pollers(&self, general: &GeneralConfig) -> Vec<Box<dyn Poller<<Postgres as Pane>::Update>>> {
        vec![Box::new(PostgresPoller {
            sources: self.sources.clone(),
            interval: self.config.refresh.unwrap_or(general.refresh).get(),
            // A poll is a connection and a handful of reads, each bounded by `timeout`.
            timeout: self.config.timeout.get() * 10 + Duration::from_secs(1),
        })]
    }
}

struct PostgresPoller {
    sources: Vec<Arc<dyn PostgresSource>>,
    interval: Duration,
    timeout: Duration,
}

impl Poller<<Postgres as Pane>::Update> for PostgresPoller {
    fn interval(&self) -> Duration {
        self.interval
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn poll(&mut self) -> BoxFuture<'_, <Postgres as Pane>::Update> {
        Box::pin(async move { Ok(join_all(self.sources.iter().map(|s| s.poll())).await) })
    }
}
