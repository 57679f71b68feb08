//! The pane's clients as the console holds them: each configured instance's management-API client
//! (made once: an unset password variable or a bad CA file is said on that instance's row, the
//! others polled all the same) and one poller that reads every instance at once.

use crate::Rabbitmq;
use crate::config::{InstanceConfig, RabbitmqConfig};
use crate::model::InstanceResult;
use crate::source::{Client, poll};
use futures::future::{BoxFuture, join_all};
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::pane::{Pane, Poller};
use std::time::Duration;

/// The configured instances, ready to poll and to run actions on.
#[derive(Debug, Clone)]
pub struct RabbitmqBackend {
    pub config: RabbitmqConfig,
    /// Each instance's client, in config order.
    clients: Vec<(InstanceConfig, Result<Client, String>)>,
}

impl RabbitmqBackend {
    pub fn new(config: &RabbitmqConfig) -> Self {
        Self {
            config: config.clone(),
            clients: config
                .instances
                .iter()
                .map(|i| (i.clone(), Client::from_config(i)))
                .collect(),
        }
    }

    /// The client of `instance` (an action calls the API with it).
    pub fn client(&self, instance: &str) -> Result<&Client, String> {
        match self.clients.iter().find(|(i, _)| i.name == instance) {
            Some((_, Ok(c))) => Ok(c),
            Some((_, Err(e))) => Err(format!("{instance}: {e}")),
            None => Err(format!("{instance} is not in the [rabbitmq] section")),
        }
    }

    pub fn pollers(&self, general: &GeneralConfig) -> Vec<Box<dyn Poller<<Rabbitmq as Pane>::Update>>> {
        let interval = self.config.refresh.unwrap_or(general.refresh).get();
        // Instances are read side by side: the poll as a whole takes the slowest one's time.
        let timeout = self
            .clients
            .iter()
            .map(|(i, _)| poll_timeout(i))
            .max()
            .unwrap_or(Duration::from_secs(10))
            + Duration::from_secs(1);
        vec![Box::new(RabbitmqPoller {
            clients: self.clients.clone(),
            interval,
            timeout,
        })]
    }
}

/// The longest one instance's poll may take: connecting, then its calls one after another at worst
/// (the overview and nodes beside every page of queues).
fn poll_timeout(i: &InstanceConfig) -> Duration {
    let pages = i.max_queues.div_ceil(i.page_size.max(1) as usize) as u32;
    i.connect_timeout.get() + i.request_timeout.get() * (pages + 2)
}

struct RabbitmqPoller {
    clients: Vec<(InstanceConfig, Result<Client, String>)>,
    interval: Duration,
    timeout: Duration,
}

impl Poller<<Rabbitmq as Pane>::Update> for RabbitmqPoller {
    fn interval(&self) -> Duration {
        self.interval
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn poll(&mut self) -> BoxFuture<'_, <Rabbitmq as Pane>::Update> {
        Box::pin(async move {
            let polls = join_all(self.clients.iter().map(|(inst, client)| async move {
                let result = match client {
                    Ok(c) => Ok(poll(c, inst).await),
                    Err(e) => Err(e.clone()),
                };
                InstanceResult {
                    name: inst.name.clone(),
                    url: inst.url.clone(),
                    result,
                }
            }))
            .await;
            Ok(polls)
        })
    }
}
