//! Against the real RabbitMQ from `scripts/peers up rabbitmq` (`eval "$(scripts/peers env)"`): each
//! test makes its own vhost (the read-only user gets the empty permissions a monitoring user needs to
//! list it), publishes real messages through the management API, and removes the vhost after.
//! Without the variables a test fails when `CI` or `OPSDECK_REQUIRE_PEERS=1` is set, and is skipped
//! (saying so) otherwise.

use opsdeck_core::action::OutcomeResult;
use opsdeck_core::alert::Severity;
use opsdeck_rabbitmq::actions::{execute_purge, plan_purge};
use opsdeck_rabbitmq::analysis::{Target, analyse};
use opsdeck_rabbitmq::config::{InstanceConfig, RabbitmqConfig};
use opsdeck_rabbitmq::model::Queue;
use opsdeck_rabbitmq::source::{ApiError, Client, poll, read_queue, segment};
use reqwest::Method;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn lookup(var: &str) -> Option<String> {
    if let Ok(v) = std::env::var(var)
        && !v.trim().is_empty()
    {
        return Some(v);
    }
    let hint = "start the peer (scripts/peers up rabbitmq; eval \"$(scripts/peers env)\"), or run ./scripts/test";
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    if set("CI") || set("OPSDECK_REQUIRE_PEERS") {
        panic!("{var} is not set: {hint}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED, no real peer: {var} is not set ({hint})");
    None
}

macro_rules! peer {
    () => {
        match lookup("OPSDECK_RABBITMQ_MANAGEMENT") {
            Some(_) => Peer::new().await,
            None => return,
        }
    };
}

fn instance(url: &str, role: &str, vhost: &str) -> InstanceConfig {
    let mut i: InstanceConfig = toml::from_str(&format!(
        "name = 'peer'\nurl = '{url}'\nuser = '{}'\npassword_env = 'OPSDECK_RABBITMQ_{role}_PASSWORD'\nrequest_timeout = '10s'",
        std::env::var(format!("OPSDECK_RABBITMQ_{role}_USER")).unwrap()
    ))
    .unwrap();
    i.vhost = Some(vhost.into());
    i
}

/// A vhost of the test's own, removed when dropped.
struct Peer {
    http: String,
    vhost: String,
    admin: Client,
}

impl Peer {
    async fn new() -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let vhost = format!(
            "opsdeck-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let http = std::env::var("OPSDECK_RABBITMQ_MANAGEMENT").unwrap();
        let admin = Client::from_config(&instance(&http, "ADMIN", &vhost)).unwrap();
        let v = segment(&vhost);
        admin
            .send_json(Method::PUT, &format!("/api/vhosts/{v}"), &json!({}))
            .await
            .unwrap();
        // A monitoring user lists only the vhosts it has permissions on: empty ones grant nothing else.
        let none = json!({"configure": "^$", "write": "^$", "read": "^$"});
        let all = json!({"configure": ".*", "write": ".*", "read": ".*"});
        for (user, perms) in [("RO", &none), ("OP", &all), ("ADMIN", &all)] {
            let user = std::env::var(format!("OPSDECK_RABBITMQ_{user}_USER")).unwrap();
            admin
                .send_json(Method::PUT, &format!("/api/permissions/{v}/{user}"), perms)
                .await
                .unwrap();
        }
        Self { http, vhost, admin }
    }

    fn client(&self, role: &str) -> Client {
        Client::from_config(&self.config(role)).unwrap()
    }

    fn config(&self, role: &str) -> InstanceConfig {
        instance(&self.http, role, &self.vhost)
    }

    async fn declare(&self, name: &str, arguments: serde_json::Value) {
        let path = format!("/api/queues/{}/{}", segment(&self.vhost), segment(name));
        let body = json!({"durable": true, "auto_delete": false, "arguments": arguments});
        self.admin.send_json(Method::PUT, &path, &body).await.unwrap();
    }

    async fn delete_queue(&self, name: &str) {
        let path = format!("/api/queues/{}/{}", segment(&self.vhost), segment(name));
        self.admin.delete(&path).await.unwrap();
    }

    async fn publish(&self, queue: &str, n: usize) {
        for i in 0..n {
            publish_one(&self.admin, &self.vhost, queue, &format!("{{\"task\": {i}}}")).await;
        }
    }

    /// The queue once `done` holds for it (the API's counts trail by the stats interval, 5 s).
    async fn queue_when(&self, name: &str, done: impl Fn(&Queue) -> bool) -> Queue {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let q = read_queue(&self.admin, &self.vhost, name).await.unwrap();
            if done(&q) {
                return q;
            }
            assert!(Instant::now() < deadline, "queue {name} never got there: {q:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// One message through the default exchange (`POST /api/exchanges/{vhost}/amq.default/publish`).
async fn publish_one(admin: &Client, vhost: &str, queue: &str, payload: &str) {
    let path = format!("/api/exchanges/{}/amq.default/publish", segment(vhost));
    let body = json!({"properties": {}, "routing_key": queue, "payload": payload, "payload_encoding": "string"});
    let answer = admin.send_json(Method::POST, &path, &body).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&answer), r#"{"routed":true}"#);
}

impl Drop for Peer {
    fn drop(&mut self) {
        let (admin, path) = (self.admin.clone(), format!("/api/vhosts/{}", segment(&self.vhost)));
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(admin.delete(&path))
        })
        .join();
    }
}

#[tokio::test]
async fn the_read_only_user_sees_a_queue_nobody_consumes_as_critical() {
    let peer = peer!();
    peer.declare("celery", json!({})).await;
    peer.declare("celeryev.abc", json!({})).await;
    peer.publish("celery", 7).await;
    peer.queue_when("celery", |q| q.messages_ready == 7).await;

    let cfg = peer.config("RO");
    let snap = poll(&peer.client("RO"), &cfg).await;
    let nodes = snap.nodes.as_ref().expect("a monitoring user reads the nodes");
    assert!(
        nodes
            .iter()
            .any(|n| n.name == std::env::var("OPSDECK_RABBITMQ_NODE").unwrap() && n.running)
    );
    assert!(!snap.overview.as_ref().unwrap().rabbitmq_version.is_empty());
    let names: Vec<&str> = snap.queues.as_ref().unwrap().iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["celery", "celeryev.abc"]);

    let verdicts = analyse(&RabbitmqConfig::default(), &snap, &Default::default());
    let celery: Vec<_> = verdicts
        .iter()
        .filter(|v| matches!(&v.target, Target::Queue(k) if k.name == "celery" && k.vhost == peer.vhost))
        .map(|v| (v.severity, v.message.as_str()))
        .collect();
    assert_eq!(
        celery,
        [(Severity::Critical, "nothing consumes it: 7 messages waiting")]
    );
}

#[tokio::test]
async fn queues_come_in_pages_up_to_max_queues() {
    let peer = peer!();
    for i in 0..5 {
        peer.declare(&format!("q{i}"), json!({})).await;
    }
    let mut cfg = peer.config("RO");
    cfg.page_size = 2;
    let snap = poll(&peer.client("RO"), &cfg).await;
    assert_eq!(snap.queues.as_ref().unwrap().len(), 5, "three pages read");
    assert!(!snap.queues_cut);
    cfg.max_queues = 3;
    let snap = poll(&peer.client("RO"), &cfg).await;
    assert_eq!(snap.queues.as_ref().unwrap().len(), 3);
    assert!(snap.queues_cut);
}

#[tokio::test]
async fn the_read_only_user_is_refused_a_purge_in_words_naming_user_and_permission() {
    let peer = peer!();
    peer.declare("celery", json!({})).await;
    peer.publish("celery", 4).await;
    peer.queue_when("celery", |q| q.messages_ready == 4).await;
    let ro = peer.client("RO");
    let plan = plan_purge(&ro, "peer", &peer.vhost, "celery").await.unwrap();
    assert_eq!(plan.ready, 4);
    let outcome = execute_purge(&ro, &plan, Duration::from_secs(10)).await;
    assert_eq!(outcome.result, OutcomeResult::Failed, "{}", outcome.summary);
    assert_eq!(
        outcome.summary,
        format!(
            "refused: user opsdeck_ro may not purge celery (401: Access refused.) — purging needs the read \
             permission on the queue in vhost {} (a monitoring-only user can view, not purge)",
            peer.vhost
        )
    );
    let q = read_queue(&peer.admin, &peer.vhost, "celery").await.unwrap();
    assert_eq!(q.messages_ready, 4, "nothing was purged");
}

#[tokio::test]
async fn a_purge_by_the_operator_is_verified_by_the_ready_count() {
    let peer = peer!();
    peer.declare("celery", json!({"x-max-priority": 10})).await;
    peer.publish("celery", 6).await;
    peer.queue_when("celery", |q| q.messages_ready == 6).await;
    let op = peer.client("OP");
    let plan = plan_purge(&op, "peer", &peer.vhost, "celery").await.unwrap();
    assert_eq!(
        (plan.ready, plan.consumers, plan.confirm_text.as_str()),
        (6, 0, "celery")
    );
    assert!(plan.call.starts_with("curl -u opsdeck_op -X DELETE http://127.0.0.1:"));
    assert!(
        plan.call
            .ends_with(&format!("/api/queues/{}/celery/contents", segment(&peer.vhost)))
    );
    let outcome = execute_purge(&op, &plan, Duration::from_secs(20)).await;
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    assert_eq!(outcome.summary, "purged celery: ready is 0 (was 6 at plan time)");
}

#[tokio::test]
async fn a_queue_deleted_and_declared_again_since_the_plan_is_not_purged() {
    let peer = peer!();
    peer.declare("celery", json!({})).await;
    peer.publish("celery", 3).await;
    peer.queue_when("celery", |q| {
        q.message_stats.as_ref().and_then(|s| s.publish) == Some(3)
    })
    .await;
    let op = peer.client("OP");
    let plan = plan_purge(&op, "peer", &peer.vhost, "celery").await.unwrap();
    peer.delete_queue("celery").await;
    peer.declare("celery", json!({})).await;
    peer.publish("celery", 1).await;
    let outcome = execute_purge(&op, &plan, Duration::from_secs(5)).await;
    assert_eq!(outcome.result, OutcomeResult::Failed, "{}", outcome.summary);
    assert!(
        outcome
            .summary
            .starts_with("celery is not the queue planned (its publish count"),
        "{}",
        outcome.summary
    );
    assert!(outcome.summary.ends_with("nothing purged, plan again"));
    peer.queue_when("celery", |q| q.messages_ready == 1).await;
}

#[tokio::test]
async fn https_with_the_peers_ca_polls_and_without_it_fails_on_the_certificate() {
    let peer = peer!();
    peer.declare("celery", json!({})).await;
    let url = std::env::var("OPSDECK_RABBITMQ_MANAGEMENT_TLS").unwrap();
    let mut cfg = instance(&url, "RO", &peer.vhost);
    cfg.ca_file = Some(PathBuf::from(std::env::var("OPSDECK_RABBITMQ_TLS_CA").unwrap()));
    let snap = poll(&Client::from_config(&cfg).unwrap(), &cfg).await;
    assert_eq!(snap.queues.as_ref().unwrap()[0].name, "celery");

    cfg.ca_file = None;
    let snap = poll(&Client::from_config(&cfg).unwrap(), &cfg).await;
    let err = snap.queues.unwrap_err();
    assert!(err.starts_with("unreachable: ") && err.contains("certificate"), "{err}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_in_the_servers_words() {
    let peer = peer!();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = peer.config("RO");
    cfg.password_env = None;
    cfg.password_file = Some(dir.path().join("pw"));
    std::fs::write(dir.path().join("pw"), "not-the-password\n").unwrap();
    let err = Client::from_config(&cfg)
        .unwrap()
        .get::<serde_json::Value>("/api/overview")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ApiError::Refused {
            user: "opsdeck_ro".into(),
            status: 401,
            error: "not_authorized".into(),
            reason: "Login failed".into()
        }
    );
}

#[tokio::test]
async fn a_purge_while_publishers_keep_publishing_is_verified_by_fewer_ready_and_says_so() {
    let peer = peer!();
    peer.declare("celery", json!({})).await;
    peer.publish("celery", 300).await;
    peer.queue_when("celery", |q| q.messages_ready == 300).await;
    let op = peer.client("OP");
    let plan = plan_purge(&op, "peer", &peer.vhost, "celery").await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publisher = {
        let (admin, vhost, stop) = (peer.admin.clone(), peer.vhost.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                publish_one(&admin, &vhost, "celery", "t").await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let outcome = execute_purge(&op, &plan, Duration::from_secs(12)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    publisher.await.unwrap();
    assert_eq!(outcome.result, OutcomeResult::Succeeded, "{}", outcome.summary);
    assert!(
        outcome.summary.starts_with("purged celery: ready fell from "),
        "{}",
        outcome.summary
    );
    assert!(
        outcome.summary.ends_with("; publishers keep publishing"),
        "{}",
        outcome.summary
    );
}
