//! `opsdeck demo`'s Redis: a small server on loopback speaking RESP (the commands the pane sends:
//! AUTH, SELECT, PING, INFO, SLOWLOG GET, LATENCY LATEST, SCAN, SSCAN, TYPE, LLEN, EXISTS, RENAME,
//! LMOVE, RPOPLPUSH, DEL, UNLINK, LPUSH, LRANGE, BGSAVE), with life: a Celery queue backing up
//! behind wedged workers (runbook 004's stuck state) while the main thread burns near one core
//! and the slow log holds the `KEYS *` runbook 003 blames. Moving the queue to a backup key lets
//! the workers resume (they re-subscribe to an empty queue); re-queuing the backup then drains.

use crate::config::InstanceConfig;
use crate::source::queues::glob_match;
use crate::source::resp::{Limits, ReadError, Value, read_value};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Tasks published per second to `celery`.
const PUBLISH_PER_SEC: f64 = 20.0;
/// Tasks the workers take per second once they run.
const CONSUME_PER_SEC: f64 = 400.0;
/// The backlog at start.
const BACKLOG: usize = 4000;
/// The main thread's cores while the workers spin on the stuck queue, and after.
const CPU_STUCK: f64 = 0.96;
const CPU_OK: f64 = 0.18;
/// How long a BGSAVE takes here.
const BGSAVE_SECS: f64 = 2.0;

enum Entry {
    List(VecDeque<Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
}

struct World {
    started: Instant,
    start_unix: f64,
    /// Simulated up to this many seconds after start.
    at: f64,
    keys: BTreeMap<Vec<u8>, Entry>,
    workers_stuck: bool,
    cpu_secs: f64,
    commands: u64,
    published: u64,
    publish_carry: f64,
    consume_carry: f64,
    bgsave_until: Option<f64>,
    last_save: i64,
    saves: u64,
}

fn task(n: u64) -> Vec<u8> {
    format!("{{\"id\":\"{n:08x}\",\"task\":\"corehq.apps.sms.tasks.send_sms\",\"retries\":0}}").into_bytes()
}

impl World {
    fn new() -> Self {
        let start_unix = now_unix();
        let mut w = Self {
            started: Instant::now(),
            start_unix,
            at: 0.0,
            keys: BTreeMap::new(),
            workers_stuck: true,
            cpu_secs: 1200.0,
            commands: 9_000_000,
            published: 0,
            publish_carry: 0.0,
            consume_carry: 0.0,
            bgsave_until: None,
            last_save: start_unix as i64 - 3 * 3600,
            saves: 0,
        };
        let celery: VecDeque<Vec<u8>> = (0..BACKLOG as u64).rev().map(task).collect();
        w.published = BACKLOG as u64;
        w.keys.insert(b"celery".to_vec(), Entry::List(celery));
        w.keys.insert(
            b"celery\x06\x169".to_vec(),
            Entry::List((0..3).map(|i| task(1_000_000 + i)).collect()),
        );
        w.keys.insert(
            b"_kombu.binding.celery".to_vec(),
            Entry::Set([b"celery\x06\x16\x06\x16celery".to_vec()].into()),
        );
        w.keys
            .insert(b"resque:queues".to_vec(), Entry::Set([b"mailers".to_vec()].into()));
        w.keys.insert(
            b"resque:queue:mailers".to_vec(),
            Entry::List(
                (0..12)
                    .map(|i| format!("{{\"class\":\"Mailer\",\"args\":[{i}]}}").into_bytes())
                    .collect(),
            ),
        );
        w
    }

    /// Moves the simulation to now: tasks published, taken by the workers when they run, CPU used.
    fn advance(&mut self) {
        let now = self.started.elapsed().as_secs_f64();
        let dt = (now - self.at).max(0.0);
        self.at = now;
        self.cpu_secs += dt * if self.workers_stuck { CPU_STUCK } else { CPU_OK };
        self.commands += (dt * if self.workers_stuck { 48_000.0 } else { 9_000.0 }) as u64;
        self.publish_carry += dt * PUBLISH_PER_SEC;
        let new = self.publish_carry.floor() as u64;
        self.publish_carry -= new as f64;
        for _ in 0..new {
            self.published += 1;
            let t = task(self.published);
            match self
                .keys
                .entry(b"celery".to_vec())
                .or_insert_with(|| Entry::List(VecDeque::new()))
            {
                Entry::List(l) => l.push_front(t),
                Entry::Set(_) => {}
            }
        }
        if !self.workers_stuck {
            self.consume_carry += dt * CONSUME_PER_SEC;
            let want = self.consume_carry.floor() as usize;
            self.consume_carry -= want as f64;
            if let Some(Entry::List(l)) = self.keys.get_mut(b"celery".as_slice()) {
                let take = want.min(l.len());
                l.truncate(l.len() - take);
            }
        }
        self.keys.retain(|_, e| !matches!(e, Entry::List(l) if l.is_empty()));
        if let Some(until) = self.bgsave_until
            && now >= until
        {
            self.bgsave_until = None;
            self.last_save = (self.start_unix + now) as i64;
        }
    }

    fn list(&mut self, key: &[u8]) -> Result<Option<&mut VecDeque<Vec<u8>>>, Value> {
        match self.keys.get_mut(key) {
            None => Ok(None),
            Some(Entry::List(l)) => Ok(Some(l)),
            Some(_) => Err(wrongtype()),
        }
    }

    fn info(&self) -> String {
        let now = self.start_unix + self.at;
        let stuck = self.workers_stuck;
        let mut s = String::new();
        let mut line = |k: &str, v: String| {
            s.push_str(k);
            s.push(':');
            s.push_str(&v);
            s.push_str("\r\n");
        };
        line("redis_version", "7.0.15".into());
        line("redis_mode", "standalone".into());
        line("run_id", "0d3m0d3m0d3m0d3m0d3m0d3m0d3m0d3m0d3m0d3m".into());
        line("uptime_in_seconds", (86_400.0 * 12.0 + self.at).round().to_string());
        line("server_time_usec", ((now * 1e6) as u64).to_string());
        line("connected_clients", if stuck { "212" } else { "64" }.into());
        line("blocked_clients", if stuck { "0" } else { "48" }.into());
        line("maxclients", "10000".into());
        let used: u64 = 1_400_000_000 + self.len(b"celery") as u64 * 180;
        line("used_memory", used.to_string());
        line("used_memory_rss", (used + 90_000_000).to_string());
        line("maxmemory", "4294967296".into());
        line("maxmemory_policy", "noeviction".into());
        line("total_system_memory", "270000000000".into());
        line("loading", "0".into());
        line("rdb_changes_since_last_save", (self.published * 2).to_string());
        line(
            "rdb_bgsave_in_progress",
            u8::from(self.bgsave_until.is_some()).to_string(),
        );
        line("rdb_last_save_time", self.last_save.to_string());
        line("rdb_last_bgsave_status", "ok".into());
        line("rdb_saves", self.saves.to_string());
        line(
            "rdb_current_bgsave_time_sec",
            self.bgsave_until
                .map_or(-1, |u| (BGSAVE_SECS - (u - self.at)).max(0.0) as i64)
                .to_string(),
        );
        line("aof_enabled", "0".into());
        line("aof_rewrite_in_progress", "0".into());
        line("aof_last_write_status", "ok".into());
        line("aof_last_bgrewrite_status", "ok".into());
        // Numbers that move: the server's own estimate wobbles around the rate commands are counted at.
        let base = if stuck { 48_000.0 } else { 9_000.0 };
        line(
            "instantaneous_ops_per_sec",
            ((base * (1.0 + 0.05 * (self.at / 7.0).sin())) as u64).to_string(),
        );
        line("total_commands_processed", self.commands.to_string());
        line("evicted_keys", "0".into());
        line("expired_keys", "1200".into());
        line("rejected_connections", "0".into());
        line("role", "master".into());
        line("connected_slaves", "1".into());
        line(
            "slave0",
            format!("ip=10.0.4.12,port=6379,state=online,offset={},lag=0", self.commands),
        );
        line("master_repl_offset", self.commands.to_string());
        // Redis counts the whole process; the main thread is what saturates at one core.
        line("used_cpu_sys", format!("{:.6}", self.cpu_secs * 0.7));
        line("used_cpu_user", format!("{:.6}", self.cpu_secs * 0.6));
        line("used_cpu_sys_main_thread", format!("{:.6}", self.cpu_secs * 0.45));
        line("used_cpu_user_main_thread", format!("{:.6}", self.cpu_secs * 0.55));
        line("cluster_enabled", "0".into());
        line("db0", format!("keys={},expires=0,avg_ttl=0", self.keys.len() + 18_000));
        s
    }

    fn len(&self, key: &[u8]) -> usize {
        match self.keys.get(key) {
            Some(Entry::List(l)) => l.len(),
            Some(Entry::Set(s)) => s.len(),
            None => 0,
        }
    }

    fn slowlog(&self) -> Value {
        // Logged just before the demo started: they age like real entries.
        let now = self.start_unix as i64;
        let entry = |id: i64, ago: i64, us: i64, args: &[&str], client: &str, name: &str| {
            Value::Array(vec![
                Value::Int(id),
                Value::Int(now - ago),
                Value::Int(us),
                Value::Array(args.iter().map(|a| Value::Bulk(a.as_bytes().to_vec())).collect()),
                Value::Bulk(client.as_bytes().to_vec()),
                Value::Bulk(name.as_bytes().to_vec()),
            ])
        };
        Value::Array(vec![
            entry(412, 40, 812_331, &["KEYS", "*"], "10.0.3.7:51522", "report-builder"),
            entry(
                411,
                95,
                23_004,
                &["LRANGE", "celery", "0", "-1"],
                "10.0.3.9:40110",
                "flower",
            ),
        ])
    }

    fn bgsave(&mut self) -> Value {
        if self.bgsave_until.is_some() {
            return Value::Error("ERR Background save already in progress".into());
        }
        self.bgsave_until = Some(self.at + BGSAVE_SECS);
        self.saves += 1;
        Value::Simple("Background saving started".into())
    }
}

fn wrongtype() -> Value {
    Value::Error("WRONGTYPE Operation against a key holding the wrong kind of value".into())
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn ok() -> Value {
    Value::Simple("OK".into())
}

fn bulk(b: &[u8]) -> Value {
    Value::Bulk(b.to_vec())
}

fn arity() -> Value {
    Value::Error("ERR wrong number of arguments".into())
}

fn number(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// A page of a cursor walk over `items`: the cursor is the index of the next one.
fn page(items: Vec<Vec<u8>>, args: &[Vec<u8>]) -> Value {
    let Some(cursor) = args.first().and_then(|c| number(c)) else {
        return Value::Error("ERR invalid cursor".into());
    };
    let mut pattern: Option<&[u8]> = None;
    let mut count = 10;
    let mut rest = args[1..].chunks(2);
    for opt in rest.by_ref() {
        match (opt[0].to_ascii_uppercase().as_slice(), opt.get(1)) {
            (b"MATCH", Some(p)) => pattern = Some(p),
            (b"COUNT", Some(n)) => count = number(n).unwrap_or(10).clamp(1, 100_000) as usize,
            _ => return Value::Error("ERR syntax error".into()),
        }
    }
    let start = (cursor as usize).min(items.len());
    let end = (start + count).min(items.len());
    let found = items[start..end]
        .iter()
        .filter(|k| pattern.is_none_or(|p| glob_match(p, k)))
        .map(|k| bulk(k))
        .collect();
    let next = if end >= items.len() { 0 } else { end };
    Value::Array(vec![bulk(next.to_string().as_bytes()), Value::Array(found)])
}

fn dispatch(w: &mut World, words: &[Vec<u8>]) -> Value {
    w.advance();
    w.commands += 1;
    let Some((name, args)) = words.split_first() else {
        return Value::Error("ERR empty command".into());
    };
    let name = String::from_utf8_lossy(name).to_ascii_uppercase();
    let key = || args.first().map(Vec::as_slice).unwrap_or(b"");
    match (name.as_str(), args.len()) {
        ("PING", _) => Value::Simple("PONG".into()),
        ("AUTH", 1 | 2) | ("SELECT", 1) => ok(),
        ("INFO", _) => Value::Bulk(w.info().into_bytes()),
        ("SLOWLOG", _) => {
            let n = args.get(1).and_then(|n| number(n)).unwrap_or(10) as usize;
            match w.slowlog() {
                Value::Array(mut entries) => {
                    entries.truncate(n);
                    Value::Array(entries)
                }
                other => other,
            }
        }
        ("LATENCY", _) => {
            let now = w.start_unix as i64;
            Value::Array(vec![Value::Array(vec![
                bulk(b"command"),
                Value::Int(now - 40),
                Value::Int(812),
                Value::Int(812),
            ])])
        }
        ("BGSAVE", 0) => w.bgsave(),
        ("SCAN", n) if n >= 1 => page(w.keys.keys().cloned().collect(), args),
        ("SSCAN", n) if n >= 2 => match w.keys.get(key()) {
            Some(Entry::Set(s)) => page(s.iter().cloned().collect(), &args[1..]),
            None => page(Vec::new(), &args[1..]),
            Some(_) => wrongtype(),
        },
        ("TYPE", 1) => Value::Simple(
            match w.keys.get(key()) {
                Some(Entry::List(_)) => "list",
                Some(Entry::Set(_)) => "set",
                None => "none",
            }
            .into(),
        ),
        ("LLEN", 1) => match w.list(key()) {
            Ok(l) => Value::Int(l.map_or(0, |l| l.len() as i64)),
            Err(e) => e,
        },
        ("EXISTS", n) if n >= 1 => Value::Int(args.iter().filter(|k| w.keys.contains_key(*k)).count() as i64),
        ("DEL" | "UNLINK", n) if n >= 1 => {
            Value::Int(args.iter().filter(|k| w.keys.remove(*k).is_some()).count() as i64)
        }
        ("RENAME", 2) => match w.keys.remove(key()) {
            None => Value::Error("ERR no such key".into()),
            Some(e) => {
                // The workers block on the queue's key: moved away, they take up new work again.
                if key() == b"celery" {
                    w.workers_stuck = false;
                }
                w.keys.insert(args[1].clone(), e);
                ok()
            }
        },
        ("LPUSH", n) if n >= 2 => {
            if let Err(e) = w.list(key()) {
                return e;
            }
            let Entry::List(l) = w
                .keys
                .entry(key().to_vec())
                .or_insert_with(|| Entry::List(VecDeque::new()))
            else {
                return wrongtype();
            };
            for v in &args[1..] {
                l.push_front(v.clone());
            }
            Value::Int(l.len() as i64)
        }
        ("LRANGE", 3) => match w.list(key()) {
            Err(e) => e,
            Ok(None) => Value::Array(vec![]),
            Ok(Some(l)) => {
                let len = l.len() as i64;
                let at = |b: &[u8]| {
                    let i: i64 = std::str::from_utf8(b).ok().and_then(|t| t.parse().ok()).unwrap_or(0);
                    if i < 0 { (len + i).max(0) } else { i.min(len) }
                };
                let (from, to) = (at(&args[1]), (at(&args[2]) + 1).min(len));
                Value::Array(
                    l.iter()
                        .skip(from as usize)
                        .take((to - from).max(0) as usize)
                        .map(|v| bulk(v))
                        .collect(),
                )
            }
        },
        ("LMOVE", 4) | ("RPOPLPUSH", 2) => {
            let (from_left, to_left) = if name == "LMOVE" {
                (
                    args[2].eq_ignore_ascii_case(b"LEFT"),
                    args[3].eq_ignore_ascii_case(b"LEFT"),
                )
            } else {
                (false, true)
            };
            if let Err(e) = w.list(&args[1]) {
                return e;
            }
            let item = match w.list(key()) {
                Err(e) => return e,
                Ok(None) => return Value::Nil,
                Ok(Some(l)) => {
                    if from_left {
                        l.pop_front()
                    } else {
                        l.pop_back()
                    }
                }
            };
            let Some(item) = item else { return Value::Nil };
            if let Entry::List(l) = w
                .keys
                .entry(args[1].clone())
                .or_insert_with(|| Entry::List(VecDeque::new()))
            {
                if to_left {
                    l.push_front(item.clone());
                } else {
                    l.push_back(item.clone());
                }
            }
            w.keys.retain(|_, e| !matches!(e, Entry::List(l) if l.is_empty()));
            bulk(&item)
        }
        (
            "LMOVE" | "RPOPLPUSH" | "RENAME" | "TYPE" | "LLEN" | "SCAN" | "SSCAN" | "LRANGE" | "LPUSH" | "AUTH"
            | "SELECT" | "BGSAVE" | "EXISTS" | "DEL" | "UNLINK",
            _,
        ) => arity(),
        _ => Value::Error(format!(
            "ERR unknown command '{}' (opsdeck's demo Redis answers what the pane sends)",
            name.to_lowercase()
        )),
    }
}

/// The demo server: listening on 127.0.0.1 (a free port) until dropped.
pub struct DemoRedis {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DemoRedis {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DemoRedis {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let world = Arc::new(Mutex::new(World::new()));
        let task = tokio::spawn(async move {
            let mut clients = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let world = world.clone();
                // Answers go out one by one: without NODELAY a pipeline waits on delayed ACKs.
                let _ = stream.set_nodelay(true);
                clients.spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut read = BufReader::new(read);
                    let limits = Limits::answer_of(1024 * 1024);
                    loop {
                        let words: Vec<Vec<u8>> = match read_value(&mut read, &limits).await {
                            Ok(Value::Array(words)) => {
                                words.iter().filter_map(|w| w.as_bytes().map(<[u8]>::to_vec)).collect()
                            }
                            Ok(_) | Err(ReadError::Protocol(_)) => {
                                let _ = write.write_all(b"-ERR Protocol error\r\n").await;
                                return;
                            }
                            Err(_) => return,
                        };
                        let answer = dispatch(&mut world.lock().expect("demo world"), &words);
                        let mut out = Vec::new();
                        answer.encode(&mut out);
                        if write.write_all(&out).await.is_err() {
                            return;
                        }
                    }
                });
                while clients.try_join_next().is_some() {}
            }
        });
        Ok(Self { addr, task })
    }

    /// The section entry the demo fleet watches it with.
    pub fn instance(&self) -> InstanceConfig {
        InstanceConfig {
            name: "broker".into(),
            address: format!("redis://{}", self.addr),
            db: 0,
            user: None,
            password_env: None,
            password_file: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            tls_verify: Default::default(),
            connect_timeout: opsdeck_core::config::ConfigDuration::secs(2),
            command_timeout: opsdeck_core::config::ConfigDuration::secs(2),
            host_cpus: Some(40),
            celery_queues: Vec::new(),
            celery_discover: true,
            resque_namespaces: vec!["resque".into()],
            sidekiq_namespaces: Vec::new(),
            queue_keys: Vec::new(),
            queue_patterns: Vec::new(),
            push_end: Default::default(),
            scan_count: 1000,
            scan_calls: 10,
            max_queues: 500,
        }
    }
}
