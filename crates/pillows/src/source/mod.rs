//! Source for pillows: checkpoints (Postgres rows or Kafka group offsets) joined with Kafka log
//! offsets, once per cycle for every configured pillow.

pub mod checkpoints;
pub mod kafka;

use crate::Pillows;
use crate::config::{PillowConfig, PillowsConfig};
use crate::model::{CheckpointKind, PartitionReading, PillowReading, PillowsPoll, PillowsState};
use checkpoints::{CheckpointRow, CheckpointStore};
use futures::future::BoxFuture;
use kafka::{KafkaOffsets, Tp};
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::folding::Folding;
use opsdeck_core::pane::{Pane, Poller};
use opsdeck_core::source_error::SourceError;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Connected clients for pillows, shared by pollers and actions.
#[derive(Debug, Clone)]
pub struct PillowsBackend {
    pub kafka: KafkaOffsets,
    /// The checkpoint table, when any pillow keeps Postgres checkpoints.
    pub store: Option<Arc<dyn CheckpointStore>>,
    pub config: Arc<PillowsConfig>,
}

impl PillowsBackend {
    /// Builds the clients when the section configures any pillow (no network I/O happens here).
    pub fn connect(c: &PillowsConfig) -> Result<Option<Self>, String> {
        Self::connect_with(c, None)
    }

    /// [`Self::connect`], the checkpoint table being `store` when given (the demo's, in memory).
    pub fn connect_with(c: &PillowsConfig, store: Option<Arc<dyn CheckpointStore>>) -> Result<Option<Self>, String> {
        if !c.is_enabled() {
            return Ok(None);
        }
        Self::new_with(c, store).map(Some)
    }

    /// Builds the clients (no network I/O happens here).
    pub fn new(c: &PillowsConfig) -> Result<Self, String> {
        Self::new_with(c, None)
    }

    /// [`Self::new`], the checkpoint table being `store` when given (the demo's, in memory).
    pub fn new_with(c: &PillowsConfig, store: Option<Arc<dyn CheckpointStore>>) -> Result<Self, String> {
        let timeout = c.timeout.get();
        let store = match (store, &c.postgres) {
            (Some(store), _) => Some(store),
            (None, Some(conn)) => Some(checkpoints::open_store(conn, &c.checkpoint_table, timeout)?),
            (None, None) => None,
        };
        Ok(Self {
            kafka: KafkaOffsets::new(&c.brokers, c.kafka_properties.clone(), timeout),
            store,
            config: Arc::new(c.clone()),
        })
    }

    /// The pollers feeding this source's panes.
    pub fn pollers(&self, general: &GeneralConfig) -> Vec<Box<dyn Poller<<Pillows as Pane>::Update>>> {
        let c = &self.config;
        let interval = c.interval(general.refresh.get());
        let poller = PillowsPoller {
            backend: self.clone(),
            interval,
            // A cycle makes a handful of sequential calls, each bounded by `timeout`.
            timeout: c.timeout.get().saturating_mul(5),
        };
        vec![Box::new(Folding::<PillowsState>::new(Box::new(poller)))]
    }

    /// Reads every pillow in `pillows`. Kafka failing fails the whole cycle (no pillow has lag
    /// without log offsets); a missing table or checkpoint id fails only the pillows concerned.
    pub async fn read(&self, pillows: &[PillowConfig]) -> Result<Vec<PillowReading>, SourceError> {
        // 1. Postgres checkpoints, one query for all checkpoint ids.
        let ids: Vec<String> = pillows.iter().filter_map(|p| p.checkpoint_id.clone()).collect();
        let rows: Result<Vec<CheckpointRow>, SourceError> = match (&self.store, ids.is_empty()) {
            (_, true) => Ok(Vec::new()),
            (Some(store), false) => store.read(&ids).await,
            (None, false) => Err(SourceError::refused(
                "no checkpoint database configured (pillows.postgres)",
            )),
        };
        let mut by_id: HashMap<&str, Vec<&CheckpointRow>> = HashMap::new();
        if let Ok(rows) = &rows {
            for r in rows {
                by_id.entry(r.checkpoint_id.as_str()).or_default().push(r);
            }
        }
        // 2. Every topic any pillow reads, one Metadata request.
        let mut topics: BTreeSet<String> = BTreeSet::new();
        for p in pillows {
            topics.extend(p.topics.iter().cloned());
            if let Some(id) = &p.checkpoint_id {
                topics.extend(by_id.get(id.as_str()).into_iter().flatten().map(|r| r.topic.clone()));
            }
        }
        // Kafka failing fails the cycle; a checkpoint database failing too must still be said
        // (a missing table or role is a second thing to fix, not hidden behind the first).
        let with_rows_error = |kafka: SourceError| match &rows {
            Err(store) => SourceError {
                message: format!("{kafka}; checkpoints: {store}"),
                ..kafka
            },
            Ok(_) => kafka,
        };
        let partitions = self
            .kafka
            .partitions(topics.iter().cloned().collect())
            .await
            .map_err(with_rows_error)?;
        // 3. Log start/end for all of them, batched.
        let all: Vec<Tp> = partitions
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
            .collect();
        let marks = self.kafka.watermarks(all).await.map_err(with_rows_error)?;
        // 4. Per pillow: its partitions with checkpoints.
        let mut out = Vec::with_capacity(pillows.len());
        for p in pillows {
            let result = match p.kind() {
                CheckpointKind::Postgres => match &rows {
                    Err(e) => Err(e.message.clone()),
                    Ok(_) => self.postgres_pillow(
                        p,
                        by_id.get(p.checkpoint()).map(Vec::as_slice).unwrap_or(&[]),
                        &partitions,
                        &marks,
                    ),
                },
                CheckpointKind::KafkaGroup => self.group_pillow(p, &partitions, &marks).await,
            };
            out.push(PillowReading {
                name: p.name.clone(),
                kind: p.kind(),
                checkpoint: p.checkpoint().to_string(),
                assignment: p.assignment(),
                processes: p.process_refs(),
                result,
            });
        }
        Ok(out)
    }

    fn topics_exist<'a>(
        &self,
        mut topics: impl Iterator<Item = &'a str>,
        partitions: &BTreeMap<String, Vec<i32>>,
    ) -> Result<(), String> {
        match topics.find(|t| !partitions.contains_key(*t)) {
            Some(t) => Err(format!("Kafka topic {t:?} does not exist on {}", self.kafka.brokers())),
            None => Ok(()),
        }
    }

    fn postgres_pillow(
        &self,
        p: &PillowConfig,
        rows: &[&CheckpointRow],
        partitions: &BTreeMap<String, Vec<i32>>,
        marks: &HashMap<Tp, kafka::Watermarks>,
    ) -> Result<Vec<PartitionReading>, String> {
        if rows.is_empty() {
            let where_ = self.store.as_ref().map(|s| s.describe()).unwrap_or_default();
            return Err(format!(
                "no checkpoint rows for checkpoint_id {:?} in {where_} (see run_ptop --list-checkpoints)",
                p.checkpoint()
            ));
        }
        let topics: BTreeSet<&str> = rows.iter().map(|r| r.topic.as_str()).collect();
        self.topics_exist(topics.iter().copied(), partitions)?;
        let mut out = Vec::new();
        for topic in topics {
            for &partition in partitions.get(topic).map(Vec::as_slice).unwrap_or(&[]) {
                let row = rows.iter().find(|r| r.topic == topic && r.partition == partition);
                let w = marks.get(&(topic.to_string(), partition)).copied().unwrap_or_default();
                out.push(PartitionReading {
                    topic: topic.to_string(),
                    partition,
                    committed: row.map(|r| r.offset),
                    log_start: w.log_start,
                    log_end: w.log_end,
                    last_modified: row.and_then(|r| r.last_modified),
                    doc_modification_time: row.and_then(|r| r.doc_modification_time),
                });
            }
        }
        Ok(out)
    }

    async fn group_pillow(
        &self,
        p: &PillowConfig,
        partitions: &BTreeMap<String, Vec<i32>>,
        marks: &HashMap<Tp, kafka::Watermarks>,
    ) -> Result<Vec<PartitionReading>, String> {
        self.topics_exist(p.topics.iter().map(String::as_str), partitions)?;
        let tps: Vec<Tp> = p
            .topics
            .iter()
            .flat_map(|t| partitions.get(t).into_iter().flatten().map(move |n| (t.clone(), *n)))
            .collect();
        let committed = self.kafka.committed(p.checkpoint(), tps.clone()).await?;
        Ok(tps
            .into_iter()
            .map(|tp| {
                let w = marks.get(&tp).copied().unwrap_or_default();
                PartitionReading {
                    committed: committed.get(&tp).copied().flatten(),
                    topic: tp.0,
                    partition: tp.1,
                    log_start: w.log_start,
                    log_end: w.log_end,
                    last_modified: None,
                    doc_modification_time: None,
                }
            })
            .collect())
    }
}

struct PillowsPoller {
    backend: PillowsBackend,
    interval: Duration,
    timeout: Duration,
}

impl Poller<Result<PillowsPoll, SourceError>> for PillowsPoller {
    fn interval(&self) -> Duration {
        self.interval
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn poll(&mut self) -> BoxFuture<'_, Result<PillowsPoll, SourceError>> {
        Box::pin(async move {
            let config = self.backend.config.clone();
            self.backend.read(&config.pillows).await.map(|pillows| PillowsPoll {
                pillows,
                settings: config.settings(),
            })
        })
    }
}
