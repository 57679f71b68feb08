//! The pane's clients as the console holds them: each configured instance's login settings
//! (resolved once, so an unset password variable is said on every poll rather than panicking) and
//! one poller that reads every instance at once, each succeeding or failing on its own.

use crate::Redis;
use crate::config::RedisConfig;
use crate::model::{InstanceResult, RedisError};
use crate::source::conn::Settings;
use crate::source::poll::InstanceSource;
use futures::future::{BoxFuture, join_all};
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::pane::{Pane, Poller};
use std::time::Duration;

/// The configured instances, ready to poll and to run actions on.
#[derive(Debug, Clone)]
pub struct RedisBackend {
    pub config: RedisConfig,
    /// Each instance's login, by name, in config order.
    settings: Vec<(String, Result<Settings, RedisError>)>,
}

impl RedisBackend {
    pub fn new(config: &RedisConfig) -> Self {
        Self {
            config: config.clone(),
            settings: config
                .instances
                .iter()
                .map(|i| (i.name.clone(), Settings::from_config(i)))
                .collect(),
        }
    }

    /// How to log into `instance` (an action opens its own connection with it).
    pub fn settings(&self, instance: &str) -> Result<&Settings, String> {
        match self.settings.iter().find(|(name, _)| name == instance) {
            Some((_, Ok(s))) => Ok(s),
            Some((_, Err(e))) => Err(format!("{instance}: {e}")),
            None => Err(format!("{instance} is not in the [redis] section")),
        }
    }

    pub fn pollers(&self, general: &GeneralConfig) -> Vec<Box<dyn Poller<<Redis as Pane>::Update>>> {
        let interval = self.config.refresh.unwrap_or(general.refresh).get();
        let sources = self
            .config
            .instances
            .iter()
            .map(|i| (InstanceSource::new(i, &self.config), i.address.clone()))
            .collect();
        // Instances are read concurrently: the poll as a whole takes the slowest one's time.
        let timeout = self
            .config
            .instances
            .iter()
            .map(InstanceSource::poll_timeout)
            .max()
            .unwrap_or(Duration::from_secs(10))
            + Duration::from_secs(1);
        vec![Box::new(RedisPoller {
            sources,
            interval,
            timeout,
        })]
    }
}

struct RedisPoller {
    /// Each instance's source and its address as configured.
    sources: Vec<(InstanceSource, String)>,
    interval: Duration,
    timeout: Duration,
}

impl Poller<<Redis as Pane>::Update> for RedisPoller {
    fn interval(&self) -> Duration {
        self.interval
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn poll(&mut self) -> BoxFuture<'_, <Redis as Pane>::Update> {
        Box::pin(async move {
            // Each instance's poll is bounded by its own timeout: a dead one fails alone.
            let polls = join_all(self.sources.iter_mut().map(|(source, address)| async move {
                let result = source.poll().await;
                InstanceResult {
                    name: source.name.clone(),
                    address: address.clone(),
                    result,
                }
            }))
            .await;
            Ok(polls)
        })
    }
}
