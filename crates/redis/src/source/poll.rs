//! One instance's poller: a kept connection (opened again after it breaks), and a poll as a batch
//! of reads — `INFO`, `SLOWLOG GET`, `LATENCY LATEST` pipelined, then queue discovery and lengths —
//! each part succeeding or failing on its own. Only a connection that fails ends the poll.

use super::conn::{Connection, Settings};
use super::parse;
use super::queues::{Discovery, read_lengths};
use super::resp::Cmd;
use crate::config::{InstanceConfig, RedisConfig};
use crate::model::{InstancePoll, RedisError};
use std::time::{Duration, SystemTime};

pub struct InstanceSource {
    pub name: String,
    settings: Result<Settings, RedisError>,
    conn: Option<Connection>,
    discovery: Discovery,
    slowlog_entries: u32,
    poll_timeout: Duration,
}

impl InstanceSource {
    pub fn new(inst: &InstanceConfig, cfg: &RedisConfig) -> Self {
        Self {
            name: inst.name.clone(),
            settings: Settings::from_config(inst),
            conn: None,
            discovery: Discovery::new(inst),
            slowlog_entries: cfg.slowlog_entries,
            poll_timeout: Self::poll_timeout(inst),
        }
    }

    /// Longest one poll may take: connecting, then a handful of round trips (the discovery's
    /// pages count as one each).
    pub fn poll_timeout(inst: &InstanceConfig) -> Duration {
        inst.connect_timeout() + inst.command_timeout() * (4 + inst.scan_calls)
    }

    /// The connection, opened when there is none (or the last one broke).
    pub async fn connection(&mut self) -> Result<&mut Connection, RedisError> {
        if self.conn.as_ref().is_none_or(Connection::is_broken) {
            self.conn = None;
            let settings = self.settings.as_ref().map_err(Clone::clone)?;
            self.conn = Some(Connection::open(settings).await?);
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }

    /// One poll, within [`Self::poll_timeout`] as a whole (each round trip has its own too).
    pub async fn poll(&mut self) -> Result<InstancePoll, RedisError> {
        let limit = self.poll_timeout;
        let result = tokio::time::timeout(limit, self.poll_once()).await.unwrap_or_else(|_| {
            Err(RedisError::new(
                crate::model::ErrorKind::Timeout,
                format!("the poll took longer than {}", humantime::format_duration(limit)),
            ))
        });
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    async fn poll_once(&mut self) -> Result<InstancePoll, RedisError> {
        let slowlog_entries = self.slowlog_entries.to_string();
        let conn = self.connection().await?;
        let answers = conn
            .pipeline(&[
                Cmd::new("INFO"),
                Cmd::new("SLOWLOG").arg("GET").arg(&slowlog_entries),
                Cmd::new("LATENCY").arg("LATEST"),
            ])
            .await?;
        let mut answers = answers.into_iter();
        let mut next = || {
            answers
                .next()
                .unwrap_or_else(|| Err(RedisError::bad_answer("missing answer")))
        };
        let info = next().and_then(|a| parse::info(&a)).map_err(|e| e.context("INFO"));
        let slowlog = next()
            .and_then(|a| parse::slowlog(&a))
            .map_err(|e| e.context("SLOWLOG GET"));
        let latency = next()
            .and_then(|a| parse::latency_latest(&a))
            .map_err(|e| e.context("LATENCY LATEST"));

        let mut queue_errors = Vec::new();
        let conn = self.conn.as_mut().expect("connected above");
        self.discovery.advance(conn, &mut queue_errors).await?;
        let mut queues = self.discovery.queues(&mut queue_errors);
        read_lengths(conn, &mut queues).await?;
        Ok(InstancePoll {
            polled_at: unix_now(),
            info,
            slowlog,
            latency,
            queues,
            queue_errors,
        })
    }
}

/// Seconds since the Unix epoch, on our clock.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
