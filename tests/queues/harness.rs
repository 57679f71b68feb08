//! Starts moto's server on a free loopback port and builds clients and action contexts for tests.

use opsdeck::actions::executor::{self, ActionEvent};
use opsdeck::sources::Backends;
use opsdeck_core::action::{ActionPlan, Outcome};
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::config::ConfigDuration;
use opsdeck_queues::config::AwsConfig;
use opsdeck_queues::source::AwsBackend;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A moto server process; killed when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    _log: tempfile::NamedTempFile,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    pub async fn start() -> Moto {
        let bin = std::env::var("OPSDECK_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"));
        assert!(
            bin.exists(),
            "moto's server is not installed at {}: run `python3 -m venv .venv && .venv/bin/pip install 'moto[server]'` \
             in the repository, or point OPSDECK_MOTO_SERVER at a moto_server binary",
            bin.display()
        );
        let log = tempfile::NamedTempFile::new().unwrap();
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            _log: log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(format!("{}/moto-api/", moto.endpoint)).send().await
                && r.status().is_success()
            {
                return moto;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                let out = std::fs::read_to_string(moto._log.path()).unwrap_or_default();
                panic!("moto_server exited ({status}) before answering:\n{out}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on {} within 60 s",
                moto.endpoint
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// An `[aws]` section pointing at a local endpoint with static fake keys.
pub fn aws_config(endpoint: &str) -> AwsConfig {
    AwsConfig {
        endpoint_url: Some(endpoint.to_string()),
        region: Some("us-east-1".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        timeout: ConfigDuration::secs(10),
        ..Default::default()
    }
}

pub async fn backend(cfg: &AwsConfig) -> AwsBackend {
    AwsBackend::from_aws_config(cfg).await
}

/// Runs a plan through the real executor (audit log in a temp dir); returns the outcome and progress messages.
pub async fn execute(plan: ActionPlan, aws: &AwsBackend) -> (Outcome, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(
        dir.path().join("audit.jsonl"),
        Identity {
            user: "test".into(),
            host: "test".into(),
        },
    );
    let backends = Backends {
        aws: Some(aws.clone()),
        ..Default::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = executor::execute(1, plan, backends, audit, tx, CancellationToken::new()).await;
    let mut progress = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let ActionEvent::Progress { progress: p, .. } = ev {
            progress.push(p.message);
        }
    }
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2, "intent and outcome audited: {log}");
    (outcome, progress)
}

pub async fn create_queue(aws: &AwsBackend, name: &str, attrs: &[(&str, String)]) -> String {
    let mut req = aws.sqs.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(aws_sdk_sqs::types::QueueAttributeName::from(*k), v.clone());
    }
    req.send().await.unwrap().queue_url().unwrap().to_string()
}

pub async fn queue_arn(aws: &AwsBackend, url: &str) -> String {
    aws.queue_info(url.to_string()).await.arn
}

pub async fn send(aws: &AwsBackend, url: &str, body: &str) {
    aws.sqs
        .send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .unwrap();
}
