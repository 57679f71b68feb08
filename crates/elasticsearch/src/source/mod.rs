//! Source for Elasticsearch / OpenSearch: the client, the poller, and the translation of answers into model types.
//!
//! One poll is a fixed batch of requests sent concurrently (health, node stats, cat nodes, shards,
//! allocation, settings with defaults, active recoveries), then allocation explains for up to
//! `explain_max` unassigned copies. Explains are fetched by the poller rather than on Enter because
//! views do no I/O: the unassigned view then shows the answer the moment it opens, at a bounded cost.

pub mod client;
pub mod parse;

pub use client::{EsClient, EsError, EsRequest, Method};

use crate::Elasticsearch;
use crate::config::EsConfig;
use crate::model::{Distribution, EsAnswer, EsPart, EsPoll, RefusedPart, ShardRow, ShardState};
use futures::future::BoxFuture;
use opsdeck_core::config::GeneralConfig;
use opsdeck_core::demo::StandIns;
use opsdeck_core::pane::Pane;
use opsdeck_core::pane::Poller;
use opsdeck_core::source_error::SourceError;
use serde_json::json;
use std::time::Duration;

/// The requests of one poll, exactly as sent (tests and the demo server speak the same).
pub mod requests {
    use super::EsRequest;

    pub fn info() -> EsRequest {
        EsRequest::get("/")
    }
    pub fn health() -> EsRequest {
        EsRequest::get("/_cluster/health")
    }
    pub fn node_stats() -> EsRequest {
        EsRequest::get("/_nodes/stats/fs,jvm")
    }
    pub fn cat_nodes() -> EsRequest {
        // `master`, not `cluster_manager`: every flavour knows the old name (OpenSearch keeps it as an alias).
        EsRequest::get("/_cat/nodes")
            .query("format", "json")
            .query("full_id", "true")
            .query("h", "id,name,ip,node.role,master")
    }
    pub fn shards() -> EsRequest {
        EsRequest::get("/_cat/shards")
            .query("format", "json")
            .query("bytes", "b")
            .query("h", "index,shard,prirep,state,docs,store,ip,id,node,unassigned.reason")
    }
    pub fn allocation() -> EsRequest {
        EsRequest::get("/_cat/allocation")
            .query("format", "json")
            .query("bytes", "b")
            .query("h", "shards,disk.used,disk.avail,disk.total,disk.percent,ip,node")
    }
    pub fn settings() -> EsRequest {
        EsRequest::get("/_cluster/settings")
            .query("include_defaults", "true")
            .query("flat_settings", "true")
    }
    pub fn recovery() -> EsRequest {
        EsRequest::get("/_cat/recovery")
            .query("format", "json")
            .query("active_only", "true")
            .query("bytes", "b")
            .query(
                "h",
                "index,shard,time,type,stage,source_node,target_node,bytes_percent,bytes_recovered,bytes_total,translog_ops_percent",
            )
    }
}

/// The demo's word, handed over in code (`StandIns`), that its simulated cluster restarts a node
/// when asked (`POST /_sim/restart/{node}`): procedures then bounce nodes that way. No config can
/// say it.
#[derive(Debug, Clone, Copy)]
pub struct RestartsOnRequest;

/// Connected clients for elasticsearch, shared by pollers and actions.
#[derive(Debug, Clone)]
pub struct EsBackend {
    pub client: EsClient,
    pub config: EsConfig,
    /// The cluster is the demo's simulation, which restarts nodes on request ([`RestartsOnRequest`]).
    pub restarts_on_request: bool,
}

impl EsBackend {
    /// Builds the clients when the config enables this source (no network I/O happens here).
    pub async fn connect(config: &EsConfig) -> Result<Option<Self>, String> {
        Self::connect_with(config, &StandIns::default()).await
    }

    /// [`EsBackend::connect`] with the demo's stand-ins (see [`RestartsOnRequest`]).
    pub async fn connect_with(config: &EsConfig, stand_ins: &StandIns) -> Result<Option<Self>, String> {
        if !config.is_enabled() {
            return Ok(None);
        }
        Ok(Some(Self {
            client: EsClient::from_config(config)?,
            config: config.clone(),
            restarts_on_request: stand_ins.get::<Elasticsearch, RestartsOnRequest>().is_some(),
        }))
    }

    /// The pollers feeding this source's panes.
    pub fn pollers(&self, general: &GeneralConfig) -> Vec<Box<dyn Poller<<Elasticsearch as Pane>::Update>>> {
        let interval = self
            .config
            .refresh
            .map(|r| r.get())
            .unwrap_or_else(|| general.refresh.get());
        vec![Box::new(EsPoller {
            client: self.client.clone(),
            interval,
            // The batch runs concurrently, then explains: two request times plus slack.
            timeout: self
                .config
                .request_timeout
                .get()
                .saturating_mul(2)
                .saturating_add(Duration::from_secs(1)),
            explain_max: self.config.explain_max,
            distribution: None,
            restarts_on_request: self.restarts_on_request,
        })]
    }
}

/// Polls one cluster.
pub struct EsPoller {
    pub client: EsClient,
    pub interval: Duration,
    pub timeout: Duration,
    pub explain_max: usize,
    /// Detected once; detected again after a failed poll (the cluster may have been upgraded).
    pub distribution: Option<Distribution>,
    /// Said of the cluster in its distribution (see [`RestartsOnRequest`]).
    pub restarts_on_request: bool,
}

impl EsPoller {
    pub fn new(client: EsClient, explain_max: usize) -> Self {
        Self {
            client,
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            explain_max,
            distribution: None,
            restarts_on_request: false,
        }
    }

    /// One poll of the whole batch.
    pub async fn poll_cluster(&mut self) -> Result<EsPoll, SourceError> {
        let result = self.poll_inner().await;
        if result.is_err() {
            self.distribution = None;
        }
        result
    }

    async fn poll_inner(&mut self) -> Result<EsPoll, SourceError> {
        let c = &self.client;
        let distribution = match &self.distribution {
            Some(d) => d.clone(),
            None => {
                let d = Distribution {
                    restarts_on_request: self.restarts_on_request,
                    ..fetch(c, requests::info(), parse::parse_info)
                        .await
                        .map_err(SourceError::from)?
                };
                self.distribution = Some(d.clone());
                d
            }
        };
        let (health, stats, cat_nodes, shards, allocation, settings, recoveries) = tokio::join!(
            fetch(c, requests::health(), parse::parse_health),
            fetch(c, requests::node_stats(), parse::parse_node_stats),
            fetch(c, requests::cat_nodes(), parse::parse_cat_nodes),
            fetch(c, requests::shards(), parse::parse_shards),
            fetch(c, requests::allocation(), parse::parse_allocation),
            fetch(c, requests::settings(), parse::parse_settings),
            fetch(c, requests::recovery(), parse::parse_recovery),
        );
        // Health is the poll; each other part may be refused on its own (a read-only role without
        // `cluster:monitor/nodes/stats`, a managed service that does not serve an endpoint) and the
        // rest still shows. An answer that is not a refusal (too large, malformed, a timeout) fails
        // the poll as a whole: the pane keeps its last good data and says why.
        let health = health.map_err(SourceError::from)?;
        let mut refused = Vec::new();
        let mut nodes = part(&mut refused, EsPart::NodeStats, stats)?;
        parse::merge_cat_nodes(&mut nodes, &part(&mut refused, EsPart::NodeList, cat_nodes)?);
        let mut poll = EsPoll {
            distribution,
            health,
            nodes,
            shards: part(&mut refused, EsPart::Shards, shards)?,
            allocation: part(&mut refused, EsPart::Allocation, allocation)?,
            settings: part(&mut refused, EsPart::Settings, settings)?,
            recoveries: part(&mut refused, EsPart::Recoveries, recoveries)?,
            explains: Vec::new(),
            notes: Vec::new(),
            refused,
        };
        let wanted = explain_targets(&poll.shards, self.explain_max);
        let answers = futures::future::join_all(wanted.iter().map(|s| {
            let req = explain_request(s);
            async move { c.send(&req).await }
        }))
        .await;
        for (s, answer) in wanted.iter().zip(answers) {
            match answer.map_err(|e| e.to_string()).and_then(|b| parse::parse_explain(&b)) {
                Ok(e) => poll.explains.push(e),
                // An explain that fails (the copy got assigned meanwhile: 400) must not hide the cluster.
                Err(e) => poll.notes.push(format!("explain {}: {e}", s.copy_key())),
            }
        }
        Ok(poll)
    }
}

/// Why a request of the batch gave nothing.
#[derive(Debug)]
enum Unread {
    /// The server answered that it will not serve it (a privilege the role lacks, an endpoint the
    /// service does not have): the rest of the poll stands.
    Refused(SourceError),
    /// No usable answer (timeout, transport, server error, too large, malformed): the poll fails
    /// and the pane keeps its last good data.
    Failed(SourceError),
}

impl From<Unread> for SourceError {
    fn from(u: Unread) -> SourceError {
        match u {
            Unread::Refused(e) | Unread::Failed(e) => e,
        }
    }
}

/// The part's value; a refused part is its default with the refusal noted (the state keeps the last
/// good value), any other failure fails the poll.
fn part<T: Default>(refused: &mut Vec<RefusedPart>, part: EsPart, answer: Result<T, Unread>) -> Result<T, SourceError> {
    match answer {
        Ok(v) => Ok(v),
        Err(Unread::Refused(reason)) => {
            refused.push(RefusedPart {
                part,
                reason: reason.message,
                kept_from_earlier: false,
            });
            Ok(T::default())
        }
        Err(Unread::Failed(e)) => Err(e),
    }
}

/// Unassigned copies to explain: primaries first (they are why a cluster is red), at most `max`.
pub fn explain_targets(shards: &[ShardRow], max: usize) -> Vec<&ShardRow> {
    let mut un: Vec<&ShardRow> = shards.iter().filter(|s| s.state == ShardState::Unassigned).collect();
    un.sort_by_key(|s| (!s.primary, s.index.clone(), s.shard));
    un.truncate(max);
    un
}

/// The explain request for one copy (parameters in the body: every version accepts that).
pub fn explain_request(s: &ShardRow) -> EsRequest {
    EsRequest::post(
        "/_cluster/allocation/explain",
        Some(json!({"index": s.index, "shard": s.shard, "primary": s.primary})),
    )
}

async fn fetch<T>(c: &EsClient, req: EsRequest, parse: fn(&[u8]) -> Result<T, String>) -> Result<T, Unread> {
    let body = c.send(&req).await.map_err(|e| {
        let refused = matches!(
            e,
            // 401 is a login that failed (nothing will be read); 408 and 429 pass.
            EsError::Status {
                status: 400 | 403 | 404 | 405 | 501,
                ..
            }
        );
        let error = SourceError::from(e).context(format_args!("GET {}", req.path));
        if refused {
            Unread::Refused(error)
        } else {
            Unread::Failed(error)
        }
    })?;
    parse(&body).map_err(|e| {
        Unread::Failed(SourceError::bad_answer(format!(
            "GET {}: unreadable answer: {e}",
            req.path
        )))
    })
}

impl Poller<<Elasticsearch as Pane>::Update> for EsPoller {
    fn interval(&self) -> Duration {
        self.interval
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn poll(&mut self) -> BoxFuture<'_, <Elasticsearch as Pane>::Update> {
        // Built here, in the poller's task (see `EsAnswer`).
        Box::pin(async move { self.poll_cluster().await.map(EsAnswer::of) })
    }
}
