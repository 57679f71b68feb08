//! The stand-in for `opsdeck demo`: a loopback HTTP server speaking the subset of the management
//! API the pane uses. Its story: the Celery workers died, so the `celery` queue backs up with no
//! consumer and the node's memory climbs toward the alarm that would block every publisher. Purging
//! the queue (the backlog was what wedged the workers) lets the restarted workers consume again: the
//! queue stays near empty and the memory falls back.

use crate::config::InstanceConfig;
use crate::model::{Node, ObjectTotals, Overview, Queue, QueuePage, QueueStats, QueueTotals, Rate};
use opsdeck_core::config::duration::ConfigDuration;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Largest request head read.
const HEAD_CAP: usize = 16 << 10;
const MIB: u64 = 1 << 20;
/// Tasks published per second into `celery`.
const PUBLISH_RATE: f64 = 4.0;
/// The backlog the demo starts with.
const START_BACKLOG: u64 = 1_800;
pub const NODE: &str = "rabbit@demo";

struct World {
    started: Instant,
    /// When `celery` was purged; from then on its workers consume.
    purged_at: Option<Instant>,
}

pub struct DemoServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl DemoServer {
    /// Binds 127.0.0.1 on a free port and serves until dropped.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let world = Arc::new(Mutex::new(World {
            started: Instant::now(),
            purged_at: None,
        }));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let world = world.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(stream, world).await {
                        tracing::debug!("demo rabbitmq connection: {e}");
                    }
                });
            }
        });
        Ok(Self { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One request per connection (answered with `Connection: close`).
async fn serve(mut stream: TcpStream, world: Arc<Mutex<World>>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > HEAD_CAP {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, body) = answer(&world, method, target);
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

fn answer(world: &Mutex<World>, method: &str, target: &str) -> (&'static str, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segments: Vec<String> = path.trim_start_matches('/').split('/').map(decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut w = world.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    let queues = queues(&w, now);
    match (method, segments.as_slice()) {
        ("GET", ["api", "overview"]) => ok(&overview(&queues)),
        ("GET", ["api", "nodes"]) => ok(&[node(&queues)]),
        ("GET", ["api", "queues"]) => ok(&page(queues, query)),
        ("GET", ["api", "queues", vhost]) => {
            ok(&page(queues.into_iter().filter(|q| q.vhost == *vhost).collect(), query))
        }
        ("GET", ["api", "queues", vhost, name]) => {
            match queues.into_iter().find(|q| q.vhost == *vhost && q.name == *name) {
                Some(q) => ok(&q),
                None => not_found(),
            }
        }
        ("DELETE", ["api", "queues", "/", "celery", "contents"]) => {
            w.purged_at = Some(now);
            ("204 No Content", String::new())
        }
        ("DELETE", ["api", "queues", vhost, name, "contents"]) => {
            // The others hold next to nothing: purging them changes nothing a person would see.
            if queues.iter().any(|q| q.vhost == *vhost && q.name == *name) {
                ("204 No Content", String::new())
            } else {
                not_found()
            }
        }
        _ => not_found(),
    }
}

fn ok<T: Serialize + ?Sized>(v: &T) -> (&'static str, String) {
    ("200 OK", serde_json::to_string(v).unwrap_or_default())
}

fn not_found() -> (&'static str, String) {
    (
        "404 Not Found",
        r#"{"error":"Object Not Found","reason":"Not Found"}"#.into(),
    )
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn page(all: Vec<Queue>, query: &str) -> QueuePage {
    let param = |k: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let size = param("page_size").unwrap_or(100).clamp(1, 500);
    let page = param("page").unwrap_or(1).max(1);
    let count = all.len().div_ceil(size).max(1);
    QueuePage {
        filtered_count: all.len() as u64,
        items: all.into_iter().skip((page - 1) * size).take(size).collect(),
        page: page as u32,
        page_count: count as u32,
    }
}

fn queue(name: &str, ready: u64, unacked: u64, consumers: u64, publish: f64, deliver: f64, published: u64) -> Queue {
    Queue {
        vhost: "/".into(),
        name: name.into(),
        messages_ready: ready,
        messages_unacknowledged: unacked,
        consumers,
        idle_since: None,
        durable: true,
        auto_delete: false,
        arguments: Default::default(),
        kind: Some("classic".into()),
        state: Some("running".into()),
        node: Some(NODE.into()),
        message_stats: Some(QueueStats {
            publish: Some(published),
            publish_details: Some(Rate { rate: publish }),
            deliver_get_details: Some(Rate { rate: deliver }),
        }),
    }
}

/// The queues as they stand at `now`: counts follow from the time since start and since the purge.
fn queues(w: &World, now: Instant) -> Vec<Queue> {
    let t = now.duration_since(w.started).as_secs_f64();
    let published = 50_000 + (t * PUBLISH_RATE) as u64;
    let wobble = ((t / 3.0).sin() * 4.0 + 5.0) as u64;
    let celery = match w.purged_at {
        None => queue(
            "celery",
            START_BACKLOG + (t * PUBLISH_RATE) as u64,
            0,
            0,
            PUBLISH_RATE,
            0.0,
            published,
        ),
        // Restarted workers keep up: a few tasks in flight, none left waiting.
        Some(_) => queue("celery", 0, wobble, 4, PUBLISH_RATE, PUBLISH_RATE, published),
    };
    vec![
        celery,
        queue("reminder_queue", wobble, 1, 2, 0.5, 0.5, 9_000 + (t * 0.5) as u64),
        queue("celeryev.5f0c1d2e", 0, 0, 1, 2.0, 2.0, 20_000 + (t * 2.0) as u64),
        queue("celery@worker1.celery.pidbox", 0, 0, 1, 0.0, 0.0, 12),
    ]
}

/// Memory follows the backlog: near the high watermark while `celery` backs up.
fn node(queues: &[Queue]) -> Node {
    let ready: u64 = queues.iter().map(|q| q.messages_ready).sum();
    Node {
        name: NODE.into(),
        running: true,
        mem_used: (420 * MIB + ready * 240 * 1024).min(1020 * MIB),
        mem_limit: 1024 * MIB,
        mem_alarm: false,
        disk_free: 40 * 1024 * MIB,
        disk_free_limit: 50_000_000,
        disk_free_alarm: false,
        fd_used: 120 + queues.iter().map(|q| q.consumers).sum::<u64>() * 3,
        fd_total: 65_536,
        uptime: 3_600_000,
    }
}

fn overview(queues: &[Queue]) -> Overview {
    let sum = |f: fn(&Queue) -> u64| queues.iter().map(f).sum::<u64>();
    Overview {
        rabbitmq_version: "3.10.8".into(),
        cluster_name: "rabbit@demo".into(),
        queue_totals: QueueTotals {
            messages: sum(|q| q.messages_ready + q.messages_unacknowledged),
            messages_ready: sum(|q| q.messages_ready),
            messages_unacknowledged: sum(|q| q.messages_unacknowledged),
        },
        object_totals: ObjectTotals {
            queues: queues.len() as u64,
            consumers: sum(|q| q.consumers),
            connections: 6,
            channels: 12,
        },
    }
}

impl DemoServer {
    /// The `[[rabbitmq.instances]]` entry for this server. It checks no credentials (loopback,
    /// made-up data), but the config asks for a password as for a real one: a file in `sandbox`.
    pub fn instance(&self, sandbox: &std::path::Path) -> std::io::Result<InstanceConfig> {
        let password_file = sandbox.join("rabbitmq-demo-password");
        std::fs::write(&password_file, "demo\n")?;
        Ok(InstanceConfig {
            name: "celery-broker".into(),
            url: self.url(),
            ca_file: None,
            user: "opsdeck_op".into(),
            password_env: None,
            password_file: Some(password_file),
            connect_timeout: ConfigDuration::secs(2),
            request_timeout: ConfigDuration::secs(5),
            body_cap: 1 << 20,
            page_size: 100,
            max_queues: 1_000,
            vhost: None,
            celery_queues: vec!["celery".into(), "reminder_queue".into()],
            celery_prefixes: Vec::new(),
        })
    }
}
