//! The demo fleet's Elasticsearch: a simulated cluster served over HTTP on loopback, speaking the
//! endpoints `EsClient` uses. Shards really move over ticks when exclusions or `enable` change, a spot
//! node away at start comes back, one replica waits for `retry_failed`, and at the storyline's
//! watermark beat a data node's disk fills past the high watermark until drained ([`HotSpot`]).
//! Nothing breaks again on a timer: an incident dealt with stays dealt with.
//!
//! Each node writes its own log, `/var/log/elasticsearch/<node>.log` on the demo host [`LOG_HOST`]
//! (the config's `elasticsearch.log_file` and `node_hosts`): starts and stops, shards relocating and
//! starting on it, disk watermark warnings, GC overhead now and then.

pub mod sim;

use crate::Elasticsearch;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use opsdeck_core::demo::{DemoCtx, StoryClock, beats};
use serde_json::{Map, Value, json};
use sim::{Fault, SimCluster};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Shared handle on a simulated cluster (tests steer it: ticks, faults, node stops).
#[derive(Debug, Clone)]
pub struct SimHandle(Arc<Mutex<SimCluster>>);

impl SimHandle {
    pub fn new(sim: SimCluster) -> Self {
        Self(Arc::new(Mutex::new(sim)))
    }
    /// Locks the simulation; a panic elsewhere (poisoning) does not make the state unreadable.
    pub fn lock(&self) -> MutexGuard<'_, SimCluster> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub fn tick(&self) {
        self.lock().tick();
    }
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().fault = fault;
    }
}

/// A running simulated cluster on `127.0.0.1:<free port>`; stops when `cancel` fires or this is dropped.
pub struct SimServer {
    pub url: String,
    pub addr: SocketAddr,
    pub sim: SimHandle,
    cancel: CancellationToken,
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl SimServer {
    pub async fn start(sim: SimCluster) -> std::io::Result<SimServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let handle = SimHandle::new(sim);
        let cancel = CancellationToken::new();
        let app = axum::Router::new().fallback(serve).with_state(handle.clone());
        let stop = cancel.clone();
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await });
            if let Err(e) = server.await {
                tracing::warn!("demo elasticsearch server stopped: {e}");
            }
        });
        Ok(SimServer {
            url: format!("http://{addr}"),
            addr,
            sim: handle,
            cancel,
        })
    }

    /// Ticks the simulation every `every` until stopped; `life` runs after each tick (the demo's events).
    pub fn spawn_ticker(&self, every: Duration, mut life: impl FnMut(&mut SimCluster) + Send + 'static) {
        let sim = self.sim.clone();
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = interval.tick() => {
                        let mut s = sim.lock();
                        s.tick();
                        life(&mut s);
                    }
                }
            }
        });
    }
}

/// The data node whose disk crosses the high watermark at the storyline's beat.
pub const HOT_NODE: &str = "es-core-3";

/// The storyline's watermark beat on the demo cluster, after the runbook's rolling restart: at
/// [`beats::ES_HIGH_WATERMARK`] allocation is left at `primaries` (as step one of a restart sets it,
/// and nobody set it back), while indexing grows the shards on [`HOT_NODE`]. Its disk crosses the
/// high watermark; its primaries may leave, its replicas cannot, so it stays there. Setting
/// allocation back to `all` lets the replicas move off and its disk come down; then the indexing has
/// spread over the cluster and allocation stays as the person left it: the hot spot does not return
/// this run.
#[derive(Debug)]
pub struct HotSpot {
    story: StoryClock,
    /// Whether the beat came (allocation left at `primaries`), and whether it is over.
    began: bool,
    done: bool,
}

impl HotSpot {
    pub fn new(story: StoryClock) -> Self {
        HotSpot {
            story,
            began: false,
            done: false,
        }
    }

    /// One tick of the hot spot on `s`.
    pub fn step(&mut self, s: &mut SimCluster) {
        let Some(node) = s.node_index(HOT_NODE) else { return };
        if self.done || !self.story.reached(beats::ES_HIGH_WATERMARK) {
            return;
        }
        if !self.began {
            self.began = true;
            let left = json!({"transient": {"cluster.routing.allocation.enable": "primaries"}});
            if let Err((code, e)) = s.put_settings(&left) {
                tracing::debug!("demo hot spot: settings refused ({code}): {e}");
            }
            return;
        }
        if s.enable() == "all" {
            self.done = true;
            return;
        }
        // Indexing grows its shards half a gigabyte a second, up to 93% of its disk.
        let total = s.nodes[node].disk_total;
        if s.disk_used(node) >= total / 100 * 93 {
            return;
        }
        let on_it: Vec<usize> = (0..s.copies.len())
            .filter(|&i| s.copies[i].node == Some(node) && s.copies[i].state == sim::CopyState::Started)
            .collect();
        let each = sim::GB / 2 / on_it.len().max(1) as u64;
        for i in on_it {
            s.copies[i].size += each;
        }
    }
}

/// A timestamp as Elasticsearch's log4j pattern prints it: `2026-11-23T10:50:42,123` (UTC here).
fn es_stamp(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t)
        .to_string()
        .trim_end_matches('Z')
        .replacen('.', ",", 1)
}

/// Appends what the nodes logged since the last call to `<dir>/<node>.log`.
fn write_node_logs(sim: &SimHandle, dir: &Path) {
    let lines = match sim.lock().node_log.as_mut() {
        Some(lines) => std::mem::take(lines),
        None => return,
    };
    if lines.is_empty() {
        return;
    }
    let stamp = es_stamp(std::time::SystemTime::now());
    let mut by_node: BTreeMap<&str, String> = BTreeMap::new();
    for l in &lines {
        let text = by_node.entry(l.node.as_str()).or_default();
        text.push_str(&l.format(&stamp));
        text.push('\n');
    }
    for (node, text) in by_node {
        let path = dir.join(format!("{node}.log"));
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = written {
            tracing::debug!("demo node log {}: {e}", path.display());
        }
    }
}

/// The demo host the nodes' logs are read from (the hosts pane's Elasticsearch machine), and where
/// on it: where the packages write them.
pub const LOG_HOST: &str = "es-data-1";
const LOG_DIR: &str = "/var/log/elasticsearch";

/// Starts this part of the demo and adds its section to the demo config.
pub async fn start(demo: &mut DemoCtx<'_>) -> anyhow::Result<()> {
    let log_dir = opsdeck_hosts::demo::on_root_of(demo.sandbox, LOG_HOST, LOG_DIR);
    std::fs::create_dir_all(&log_dir)?;
    let mut cluster = sim::demo_cluster();
    cluster.node_log = Some(Vec::new());
    cluster.boot_log();
    let nodes: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    let server = SimServer::start(cluster).await?;
    let mut hot_spot = HotSpot::new(demo.story.clone());
    server.spawn_ticker(Duration::from_secs(1), move |s| hot_spot.step(s));
    // The node logs: written from what the simulation recorded, twice a second.
    write_node_logs(&server.sim, &log_dir);
    let (sim, stop, dir) = (server.sim.clone(), server.cancel.clone(), log_dir.clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = every.tick() => write_node_logs(&sim, &dir),
            }
        }
    });
    let es = demo.config.of_mut::<Elasticsearch>();
    es.log_file = Some(format!("{LOG_DIR}/{{node}}.log"));
    es.node_hosts = nodes.into_iter().map(|n| (n, LOG_HOST.to_string())).collect();
    es.url = server.url.clone();
    es.bounce_timeout = opsdeck_core::config::ConfigDuration::secs(600);
    let stop = demo.cancel.clone();
    let cancel = server.cancel.clone();
    tokio::spawn(async move {
        stop.cancelled().await;
        cancel.cancel();
    });
    demo.stand_ins
        .insert::<Elasticsearch, _>(crate::source::RestartsOnRequest);
    demo.keep_alive.push(Box::new(server));
    Ok(())
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

fn basic(user: &str, pass: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{pass}");
    let mut out = String::from("Basic ");
    for chunk in input.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Keeps the requested `h=` columns (with OpenSearch's `cluster_manager` standing in for `master`).
fn columns(rows: Vec<Map<String, Value>>, h: Option<&String>) -> Value {
    let Some(h) = h else {
        return Value::Array(rows.into_iter().map(Value::Object).collect());
    };
    let wanted: Vec<&str> = h.split(',').map(str::trim).collect();
    Value::Array(
        rows.into_iter()
            .map(|row| {
                let mut m = Map::new();
                for c in &wanted {
                    if let Some(v) = row.get(*c) {
                        m.insert(c.to_string(), v.clone());
                    } else if *c == "master"
                        && let Some(v) = row.get("cluster_manager")
                    {
                        m.insert("cluster_manager".into(), v.clone());
                    }
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// Requests the simulated cluster remembers (tests read what a poll asked for).
pub const REQUEST_LOG: usize = 10_000;

/// Adds a request to the log, forgetting the oldest half when it is full: a demo left running
/// must not grow without end.
fn remember(log: &mut Vec<String>, request: String) {
    if log.len() >= REQUEST_LOG {
        log.drain(..REQUEST_LOG / 2);
    }
    log.push(request);
}

/// The error a real cluster gives for a path it will not serve: a role without the privilege (403,
/// Elasticsearch's wording), a request the server does not support (400), no such endpoint (404).
fn refusal_body(code: u16, path: &str) -> Value {
    match code {
        403 => {
            let action = if path.starts_with("/_nodes/stats") {
                "cluster:monitor/nodes/stats"
            } else if path.starts_with("/_cluster/settings") {
                "cluster:monitor/settings"
            } else {
                "indices:monitor/stats"
            };
            let reason = format!("action [{action}] is unauthorized for user [ops-ro] with effective roles [viewer]");
            sim::error_body(403, "security_exception", &reason)
        }
        404 => sim::error_body(
            404,
            "resource_not_found_exception",
            &format!("no handler found for uri [{path}] and method [GET]"),
        ),
        _ => sim::error_body(
            code,
            "illegal_argument_exception",
            &format!("request [{path}] is not supported by this service"),
        ),
    }
}

async fn serve(
    State(sim): State<SimHandle>,
    method: Method,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fault, auth, refusal) = {
        let mut s = sim.lock();
        remember(&mut s.log, format!("{method} {uri}"));
        let refusal = s
            .refused_paths
            .iter()
            .find(|(p, _)| uri.path().starts_with(p.as_str()))
            .map(|(_, code)| *code);
        (s.fault.clone(), s.auth.clone(), refusal)
    };
    if let Some(code) = refusal {
        return json_response(code, &refusal_body(code, uri.path()));
    }
    match fault {
        Some(Fault::DelayMs(ms)) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(Fault::Malformed) => {
            return (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"cluster_name\": \"x\", \"sta",
            )
                .into_response();
        }
        Some(Fault::Status(401)) => {
            let reason = format!("missing authentication credentials for REST request [{}]", uri.path());
            return json_response(401, &sim::error_body(401, "security_exception", &reason));
        }
        Some(Fault::Status(code)) => {
            return json_response(code, &sim::error_body(code, "master_not_discovered_exception", ""));
        }
        None => {}
    }
    if let Some(expected) = auth {
        let expected = match expected {
            sim::Auth::Basic(user, pass) => basic(&user, &pass),
            sim::Auth::ApiKey(key) => format!("ApiKey {key}"),
        };
        let got = headers.get("authorization").and_then(|v| v.to_str().ok());
        if got != Some(expected.as_str()) {
            let reason = format!("missing authentication credentials for REST request [{}]", uri.path());
            return json_response(401, &sim::error_body(401, "security_exception", &reason));
        }
    }
    let flag = |k: &str| q.get(k).is_some_and(|v| v.is_empty() || v == "true");
    let body_json: Option<Value> = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                return json_response(400, &sim::error_body(400, "parse_exception", &e.to_string()));
            }
        }
    };
    let mut s = sim.lock();
    let path = uri.path().trim_end_matches('/');
    let answer: Result<Value, (u16, Value)> = match (&method, path) {
        (&Method::GET, "") => Ok(s.info()),
        (&Method::GET, "/_cluster/health") => Ok(s.health()),
        (&Method::GET, p) if p.starts_with("/_nodes/stats") => Ok(s.node_stats()),
        (&Method::GET, "/_cat/nodes") => Ok(columns(s.cat_nodes(), q.get("h"))),
        (&Method::GET, "/_cat/shards") => Ok(columns(s.cat_shards(), q.get("h"))),
        (&Method::GET, "/_cat/allocation") => Ok(columns(s.cat_allocation(), q.get("h"))),
        (&Method::GET, "/_cat/recovery") => Ok(columns(s.cat_recovery(), q.get("h"))),
        (&Method::GET, "/_cluster/settings") => Ok(s.settings(flag("include_defaults"), flag("flat_settings"))),
        (&Method::PUT, "/_cluster/settings") => match &body_json {
            Some(b) => s.put_settings(b),
            None => Err((
                400,
                sim::error_body(400, "action_request_validation_exception", "request body is required"),
            )),
        },
        (&Method::POST, "/_cluster/reroute") if flag("retry_failed") => Ok(s.retry_failed()),
        (&Method::POST, "/_cluster/reroute") => Ok(json!({"acknowledged": true})),
        // The demo's stand-in for an operator restarting a node (never used against a real cluster).
        (&Method::POST, p) if p.starts_with("/_sim/restart/") => {
            let name = p.trim_start_matches("/_sim/restart/");
            if s.stop_node(name, Some(5)) {
                Ok(json!({"acknowledged": true, "node": name}))
            } else {
                Err((
                    404,
                    sim::error_body(404, "resource_not_found_exception", &format!("no node {name}")),
                ))
            }
        }
        (&Method::GET | &Method::POST, "/_cluster/allocation/explain") => s.explain(body_json.as_ref()),
        (&Method::POST, "/_security/user/_has_privileges") => s.has_privileges(body_json.as_ref()),
        _ => Err((
            404,
            sim::error_body(
                404,
                "resource_not_found_exception",
                &format!("no handler for {method} {path}"),
            ),
        )),
    };
    match answer {
        Ok(v) => json_response(200, &v),
        Err((code, v)) => json_response(code, &v),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_request_log_keeps_the_newest_requests_only() {
        let mut log = Vec::new();
        for i in 0..3 * super::REQUEST_LOG {
            super::remember(&mut log, format!("GET /{i}"));
        }
        assert!(log.len() <= super::REQUEST_LOG);
        let newest = format!("GET /{}", 3 * super::REQUEST_LOG - 1);
        assert_eq!(log.last(), Some(&newest));
    }

    #[test]
    fn basic_auth_header_encodes_like_rfc7617() {
        assert_eq!(
            super::basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(super::basic("a", "b"), "Basic YTpi");
    }
}
