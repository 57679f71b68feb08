//! The RabbitMQ pane in the console against the real RabbitMQ `scripts/peers up rabbitmq` starts,
//! over its https management API (the peer's CA): messages published through the API show in the
//! pane; the operator's purge, confirmed by typing the queue's name and run by the real executor,
//! empties the queue as the API then reads it; the monitoring user's purge is refused with words.
//! Each test makes its own vhost (removed after) and its queue in it.

use super::env::{peer, unique};
use opsdeck::actions::executor::execute;
use opsdeck::app::App;
use opsdeck::app::overlay::Overlay;
use opsdeck::sources::Backends;
use opsdeck::sources::runner::{Polled, poll_once};
use opsdeck::ui::testing::{planned, press, screen_text, type_text};
use opsdeck_core::action::{ActionPlan, Outcome};
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::demo::StandIns;
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

/// The peer's admin on the management API, through plain reqwest (not the pane's client): what the
/// server holds.
struct Admin {
    http: reqwest::Client,
    base: String,
    user: String,
    password: String,
    vhost: String,
}

impl Admin {
    /// A vhost of the test's own: the operator may do anything in it, the monitoring user gets the
    /// empty permissions it needs to list its queues.
    async fn with_vhost(base: &str, ca: &str) -> Self {
        let pem = std::fs::read(ca).expect("the peer's CA");
        let certs = reqwest::Certificate::from_pem_bundle(&pem).expect("a PEM CA");
        let http = reqwest::Client::builder()
            .tls_certs_merge(certs)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a client");
        let env = |v: &str| std::env::var(v).unwrap_or_else(|_| panic!("scripts/peers env exports {v}"));
        let admin = Self {
            http,
            base: base.trim_end_matches('/').into(),
            user: env("OPSDECK_RABBITMQ_ADMIN_USER"),
            password: env("OPSDECK_RABBITMQ_ADMIN_PASSWORD"),
            vhost: unique("opsdeck-it"),
        };
        admin
            .call(reqwest::Method::PUT, &format!("/api/vhosts/{}", admin.vhost), None)
            .await;
        let all = json!({"configure": ".*", "write": ".*", "read": ".*"});
        let none = json!({"configure": "^$", "write": "^$", "read": "^$"});
        for (user, perms) in [
            (admin.user.clone(), &all),
            (env("OPSDECK_RABBITMQ_OP_USER"), &all),
            (env("OPSDECK_RABBITMQ_RO_USER"), &none),
        ] {
            let path = format!("/api/permissions/{}/{user}", admin.vhost);
            admin.call(reqwest::Method::PUT, &path, Some(perms.clone())).await;
        }
        admin
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut rb = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.password));
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        let resp = rb.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A durable queue with `n` messages published through the default exchange, once the API's
    /// counts (which trail by the statistics interval) show them.
    async fn queue_with(&self, name: &str, n: u64) {
        let queue = format!("/api/queues/{}/{name}", self.vhost);
        let body = json!({"durable": true, "auto_delete": false, "arguments": {}});
        self.call(reqwest::Method::PUT, &queue, Some(body)).await;
        let publish = format!("/api/exchanges/{}/amq.default/publish", self.vhost);
        for i in 0..n {
            let body = json!({"properties": {}, "routing_key": name, "payload": format!("task {i}"), "payload_encoding": "string"});
            let routed = self.call(reqwest::Method::POST, &publish, Some(body)).await;
            assert_eq!(routed["routed"], true, "{routed}");
        }
        self.ready_when(name, |r| r == n).await;
    }

    /// The queue's ready count once `done` holds for it.
    async fn ready_when(&self, name: &str, done: impl Fn(u64) -> bool) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        let path = format!("/api/queues/{}/{name}", self.vhost);
        loop {
            let q = self.call(reqwest::Method::GET, &path, None).await;
            let ready = q["messages_ready"].as_u64();
            if let Some(r) = ready.filter(|r| done(*r)) {
                return r;
            }
            assert!(Instant::now() < deadline, "{name} never got there: {q}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn remove(&self) {
        self.call(reqwest::Method::DELETE, &format!("/api/vhosts/{}", self.vhost), None)
            .await;
    }
}

async fn poll(app: &mut App, backends: &Backends) {
    for mut p in backends.pollers(&app.env.config) {
        let update = poll_once(p.as_mut()).await;
        app.update(opsdeck::app::Event::Polled(Polled {
            at: SystemTime::now(),
            update,
        }));
    }
}

/// The peer's https API as `role` (OP or RO), in `vhost`.
fn config(url: &str, ca: &str, role: &str, vhost: &str) -> opsdeck::config::Config {
    let user = std::env::var(format!("OPSDECK_RABBITMQ_{role}_USER")).expect("scripts/peers env exports it");
    let text = format!(
        "[[rabbitmq.instances]]\nname = \"broker\"\nurl = \"{url}\"\nca_file = \"{ca}\"\nuser = \"{user}\"\n\
         password_env = \"OPSDECK_RABBITMQ_{role}_PASSWORD\"\nvhost = \"{vhost}\"\n"
    );
    opsdeck::config::parse_str(&text, std::path::Path::new("rabbitmq-it.toml")).expect("a valid config")
}

/// The console on the pane's tab, polled once, as `role` (OP or RO) on the https API in `vhost`.
/// The console on the pane, polled until its queues list shows `celery`: the management API lists
/// a queue just declared (and a permission just granted) once its statistics have caught up.
async fn console(url: &str, ca: &str, role: &str, vhost: &str) -> (App, Backends) {
    let config = config(url, ca, role, vhost);
    let (backends, errors) = Backends::connect_with(&config, &StandIns::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    let mut app = opsdeck::ui::testing::app(config, "default", SystemTime::now());
    app.update(opsdeck::app::Event::Resize { width: 160, height: 40 });
    press(&mut app, "8");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        poll(&mut app, &backends).await;
        let s = screen_text(&app, 160, 40);
        if s.lines()
            .any(|l| l.contains("celery") && l.contains("nothing consumes it"))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "celery never listed:\n{s}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    (app, backends)
}

/// `P` on the selected queue, its name typed, and the plan confirmed run by the real executor.
async fn purge_from_the_pane(app: &mut App, backends: &Backends, name: &str) -> Outcome {
    press(app, "P");
    assert!(
        matches!(app.overlay, Some(Overlay::Confirm(_))),
        "no dialog:\n{}",
        screen_text(app, 160, 40)
    );
    type_text(app, name);
    let effects = press(app, "enter");
    let plans: Vec<ActionPlan> = planned(&effects).into_iter().cloned().collect();
    assert_eq!(plans.len(), 1, "{}", screen_text(app, 160, 40));
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(
        dir.path().join("audit.jsonl"),
        Identity {
            user: "test".into(),
            host: "test".into(),
        },
    );
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let plan = plans.into_iter().next().expect("one plan");
    execute(1, plan, backends.clone(), audit, tx, CancellationToken::new()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queue_nobody_consumes_on_a_real_rabbitmq_over_https_is_purged_from_the_pane() {
    let url = peer!("OPSDECK_RABBITMQ_MANAGEMENT_TLS");
    let ca = peer!("OPSDECK_RABBITMQ_TLS_CA");
    let admin = Admin::with_vhost(&url, &ca).await;
    admin.queue_with("celery", 5).await;

    let (mut app, backends) = console(&url, &ca, "OP", &admin.vhost).await;
    let s = screen_text(&app, 160, 40);
    let row = s
        .lines()
        .find(|l| l.contains("celery"))
        .unwrap_or_else(|| panic!("the queue missing:\n{s}"));
    assert!(row.contains("nothing consumes it: 5 messages waiting"), "{row}");

    let outcome = purge_from_the_pane(&mut app, &backends, "celery").await;
    assert_eq!(
        outcome.result,
        opsdeck_core::action::OutcomeResult::Succeeded,
        "{}",
        outcome.summary
    );
    assert!(outcome.summary.contains("ready is 0"), "{}", outcome.summary);
    assert_eq!(admin.ready_when("celery", |r| r == 0).await, 0);
    admin.remove().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_monitoring_user_sees_the_queue_but_its_purge_is_refused_with_words() {
    let url = peer!("OPSDECK_RABBITMQ_MANAGEMENT_TLS");
    let ca = peer!("OPSDECK_RABBITMQ_TLS_CA");
    let admin = Admin::with_vhost(&url, &ca).await;
    admin.queue_with("celery", 3).await;

    let (mut app, backends) = console(&url, &ca, "RO", &admin.vhost).await;
    let s = screen_text(&app, 160, 40);
    assert!(s.contains("nothing consumes it: 3 messages waiting"), "{s}");

    let outcome = purge_from_the_pane(&mut app, &backends, "celery").await;
    assert_eq!(
        outcome.result,
        opsdeck_core::action::OutcomeResult::Failed,
        "{}",
        outcome.summary
    );
    let user = std::env::var("OPSDECK_RABBITMQ_RO_USER").unwrap();
    assert!(
        outcome
            .summary
            .contains(&format!("refused: user {user} may not purge celery"))
            && outcome.summary.contains("needs the read permission"),
        "{}",
        outcome.summary
    );
    // Nothing was deleted.
    assert_eq!(admin.ready_when("celery", |_| true).await, 3);
    admin.remove().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_reads_each_part_as_each_user_and_names_what_the_operator_may_not_read() {
    use opsdeck_core::doctor::Verdict;
    let url = peer!("OPSDECK_RABBITMQ_MANAGEMENT_TLS");
    let ca = peer!("OPSDECK_RABBITMQ_TLS_CA");
    let admin = Admin::with_vhost(&url, &ca).await;
    admin.queue_with("celery", 1).await;
    let verdict = |found: &[opsdeck_core::doctor::Finding], capability: &str| {
        found
            .iter()
            .find(|f| f.pane == "rabbitmq" && f.capability == capability)
            .unwrap_or_else(|| panic!("no {capability}: {found:#?}"))
            .verdict
            .clone()
    };
    // The monitoring user reads everything the pane shows.
    let found = opsdeck::doctor::findings(&config(&url, &ca, "RO", &admin.vhost)).await;
    assert!(matches!(verdict(&found, "read the overview"), Verdict::Ok(v) if v.starts_with("RabbitMQ 3.")));
    assert!(
        matches!(verdict(&found, "read the nodes"), Verdict::Ok(_)),
        "{found:#?}"
    );
    assert_eq!(verdict(&found, "list the queues"), Verdict::Ok("1 queue(s)".into()));
    assert!(matches!(verdict(&found, "purge"), Verdict::NotChecked(_)));
    // The operator (tag management) may purge but not read the nodes: said with the server's words.
    let found = opsdeck::doctor::findings(&config(&url, &ca, "OP", &admin.vhost)).await;
    let user = std::env::var("OPSDECK_RABBITMQ_OP_USER").unwrap();
    assert!(
        matches!(verdict(&found, "read the nodes"), Verdict::Missing(m) if m.contains(&format!("refused user {user}"))),
        "{found:#?}"
    );
    assert_eq!(verdict(&found, "list the queues"), Verdict::Ok("1 queue(s)".into()));
    admin.remove().await;
}
