//! OpenSearch helpers: indices and settings that clean up after the test, one lock for the tests that
//! change the three-node cluster as a whole, the executor with its progress, and the pane on a real poll.

use opsdeck::actions::executor::{ActionEvent, execute};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::keymap::Keymap;
use opsdeck::sources::Backends;
use opsdeck_core::action::{ActionPlan, Outcome};
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::pane::Pane;
use opsdeck_core::theme::Theme;
use opsdeck_elasticsearch::Elasticsearch;
use opsdeck_elasticsearch::model::{EsAnswer, EsPoll, EsState};
use opsdeck_elasticsearch::source::{EsBackend, EsClient, EsPoller, EsRequest};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Tests that change the three-node cluster's allocation settings, or restart one of its nodes, take
/// it in turn (see [`exclusive`]).
static CLUSTER3: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The three-node cluster for this test alone, with `keys` put back to their defaults at the end.
pub struct Exclusive {
    // Fields drop in order: the settings are reset before the next test gets the cluster.
    _reset: ResetSettings,
    _lock: tokio::sync::MutexGuard<'static, ()>,
}

pub async fn exclusive(url: &str, keys: &[&'static str]) -> Exclusive {
    let lock = CLUSTER3.lock().await;
    Exclusive {
        _reset: ResetSettings {
            url: url.into(),
            keys: keys.to_vec(),
        },
        _lock: lock,
    }
}

pub fn client(url: &str) -> EsClient {
    EsClient::new(url, Duration::from_secs(30)).expect("client")
}

pub async fn send(url: &str, req: EsRequest) -> Value {
    let what = req.to_string();
    client(url).json(&req).await.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// One poll as the pane's poller makes it, explaining up to 100 unassigned copies.
pub async fn poll(url: &str) -> EsPoll {
    EsPoller::new(client(url), 100).poll_cluster().await.expect("poll")
}

pub async fn state(url: &str) -> EsState {
    EsState::build(poll(url).await)
}

/// `_cluster/health` once `params` hold (`wait_for_status=green` ...), failing the test if they do not
/// within 60 s.
pub async fn health(url: &str, params: &[(&str, &str)]) -> Value {
    let mut req = EsRequest::get("/_cluster/health").query("timeout", "60s");
    for (k, v) in params {
        req = req.query(k, v);
    }
    let h = send(url, req).await;
    assert_eq!(h["timed_out"], false, "{params:?}: {h}");
    h
}

/// An index of the test's own, deleted when the test ends (also when it fails).
pub struct Index {
    pub url: String,
    pub name: String,
}

impl Index {
    /// Creates it without waiting for any copy to start (allocation may be off on purpose).
    pub async fn create(url: &str, name: &str, shards: u32, replicas: u32) -> Index {
        let body = json!({"settings": {"number_of_shards": shards, "number_of_replicas": replicas}});
        send(
            url,
            EsRequest::put(&format!("/{name}"), body).query("wait_for_active_shards", "0"),
        )
        .await;
        Index {
            url: url.into(),
            name: name.into(),
        }
    }

    /// Indexes `n` small documents in one bulk request and refreshes.
    pub async fn fill(&self, n: usize) {
        let mut body = String::new();
        for i in 0..n {
            body.push_str(&format!(
                "{{\"index\":{{\"_index\":\"{}\",\"_id\":\"{i}\"}}}}\n{{\"n\":{i},\"text\":\"document {i} of the test\"}}\n",
                self.name
            ));
        }
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/_bulk?refresh=true", self.url))
            .header("content-type", "application/x-ndjson")
            .timeout(Duration::from_secs(60))
            .body(body)
            .send()
            .await
            .expect("bulk")
            .json()
            .await
            .expect("bulk answer");
        assert_eq!(answer["errors"], false, "{answer}");
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        cleanup(reqwest::Method::DELETE, format!("{}/{}", self.url, self.name), None);
    }
}

/// Puts these settings back to their defaults (persistent and transient) when dropped.
struct ResetSettings {
    url: String,
    keys: Vec<&'static str>,
}

impl Drop for ResetSettings {
    fn drop(&mut self) {
        let nulls: serde_json::Map<String, Value> = self.keys.iter().map(|k| (k.to_string(), Value::Null)).collect();
        let body = json!({"persistent": nulls.clone(), "transient": nulls});
        cleanup(
            reqwest::Method::PUT,
            format!("{}/_cluster/settings", self.url),
            Some(body),
        );
    }
}

/// One request sent from a `Drop` (the tests run on multi-thread runtimes); failures are printed.
fn cleanup(method: reqwest::Method, url: String, body: Option<Value>) {
    let mut req = reqwest::Client::new()
        .request(method.clone(), &url)
        .timeout(Duration::from_secs(30));
    if let Some(b) = &body {
        req = req.json(b);
    }
    let sent = tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(req.send()));
    match sent {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => eprintln!("cleanup {method} {url}: HTTP {}", r.status()),
        Err(e) => eprintln!("cleanup {method} {url}: {e}"),
    }
}

pub fn config_for(url: &str) -> Config {
    let mut c = Config::default();
    c.elasticsearch.url = url.into();
    c.elasticsearch.request_timeout = opsdeck_core::config::ConfigDuration::secs(30);
    c
}

pub struct Ran {
    pub outcome: Outcome,
    pub progress: Vec<String>,
    pub audit: String,
}

/// Runs `plan` through the real executor (audit intent and outcome, timeout, verification).
pub async fn run(plan: ActionPlan, backends: Backends) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit = AuditLog::new(audit_path.clone(), Identity::current());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(execute(
        1,
        plan,
        backends,
        audit,
        tx,
        tokio_util::sync::CancellationToken::new(),
    ));
    let mut progress = Vec::new();
    while let Some(event) = rx.recv().await {
        if let ActionEvent::Progress { progress: p, .. } = event {
            progress.push(p.message);
        }
    }
    let outcome = task.await.expect("executor");
    Ran {
        outcome,
        progress,
        audit: std::fs::read_to_string(&audit_path).unwrap_or_default(),
    }
}

pub async fn backends(config: &Config) -> Backends {
    Backends {
        elasticsearch: EsBackend::connect(&config.elasticsearch).await.expect("connect"),
        ..Backends::default()
    }
}

/// `opsdeck snapshot`'s JSON for a fleet that has just absorbed `poll`.
pub fn snapshot(config: &Config, poll: EsPoll) -> Value {
    let mut fleet = opsdeck::model::Fleet::default();
    fleet.enable(Elasticsearch::ID);
    fleet.apply(
        SystemTime::now(),
        opsdeck::model::fleet::SourceUpdate::Elasticsearch(Ok(EsAnswer::of(poll))),
    );
    opsdeck::snapshot::to_json(&fleet, config)
}

/// The Elasticsearch pane of the whole app (default keymap and theme) after `poll`, as text.
pub fn pane(config: &Config, poll: EsPoll, keys: &[&str]) -> String {
    let (keymap, problems) = Keymap::load("default", None, &action_catalog());
    assert!(problems.is_empty(), "{problems:?}");
    let env = Env {
        config: Arc::new(config.clone()),
        keymap,
        theme: Theme::builtin("mono").unwrap(),
        read_only: false,
    };
    let now = SystemTime::now();
    let (mut app, _) = App::new(env, now);
    app.fleet.elasticsearch.succeed(now, |d| {
        <EsState as opsdeck_core::feed::FeedData>::absorb(d, EsAnswer::of(poll), now)
    });
    app.update(Event::Resize { width: 200, height: 50 });
    for k in ["3"].iter().chain(keys) {
        opsdeck::ui::testing::press(&mut app, k);
    }
    opsdeck::ui::testing::screen_text(&app, 200, 50)
}
