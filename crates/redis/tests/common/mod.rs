//! What the tests share: the peer's variables (skip or fail without them), a database of each
//! test's own on the shared peer, redis-servers of a test's own, and the captured fixtures.
#![allow(dead_code)]

use opsdeck_redis::config::{Endpoint, InstanceConfig, RedisConfig};
use opsdeck_redis::source::conn::{Connection, Settings};
use opsdeck_redis::source::resp::{Cmd, Limits, ReadError, Value, read_value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The value of `var` (`scripts/peers env`). Without it the test fails when peers are required
/// (`CI` or `OPSDECK_REQUIRE_PEERS=1`) and is skipped, saying so on the terminal, otherwise.
pub fn lookup(var: &str) -> Option<String> {
    if let Ok(v) = std::env::var(var)
        && !v.trim().is_empty()
    {
        return Some(v);
    }
    let hint = "start the peer (scripts/peers up redis; eval \"$(scripts/peers env)\"), or run ./scripts/test";
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    if set("CI") || set("OPSDECK_REQUIRE_PEERS") {
        panic!("{var} is not set: {hint}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED, no real peer: {var} is not set ({hint})");
    None
}

/// `peer!("VAR")`: the variable's value, or return from the test (see [`lookup`]).
#[macro_export]
macro_rules! peer {
    ($var:literal) => {
        match $crate::common::lookup($var) {
            Some(v) => v,
            None => return,
        }
    };
}

pub fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set (scripts/peers env exports it)"))
}

/// `prefix-PID-N`: unique in this run and across runs.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() % 1_000_000_000)
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{micros}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Which peer user a test logs in as.
#[derive(Clone, Copy, Debug)]
pub enum User {
    Admin,
    ReadOnly,
    Operator,
}

impl User {
    fn vars(self) -> (&'static str, &'static str) {
        match self {
            User::Admin => ("OPSDECK_REDIS_ADMIN_USER", "OPSDECK_REDIS_ADMIN_PASSWORD"),
            User::ReadOnly => ("OPSDECK_REDIS_RO_USER", "OPSDECK_REDIS_RO_PASSWORD"),
            User::Operator => ("OPSDECK_REDIS_OP_USER", "OPSDECK_REDIS_OP_PASSWORD"),
        }
    }
}

/// Databases of the shared peer handed out to tests (0 is left alone); each test empties its own.
pub fn own_db() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let db = NEXT.fetch_add(1, Ordering::SeqCst);
    assert!(
        db < 16,
        "more tests than the peer's 16 databases: give this binary fewer peer tests"
    );
    db
}

/// An instance section for the peer at `address` as `user`, on database `db`: the password
/// variable is the one `scripts/peers env` exports.
pub fn instance(address: &str, user: User, db: u32) -> InstanceConfig {
    let (user_var, password_var) = user.vars();
    let text = format!(
        "name = 'peer'\naddress = '{address}'\ndb = {db}\nuser = '{}'\npassword_env = '{password_var}'\n",
        env(user_var)
    );
    toml::from_str(&text).unwrap()
}

pub fn section(instances: Vec<InstanceConfig>) -> RedisConfig {
    RedisConfig {
        instances,
        ..RedisConfig::default()
    }
}

pub async fn connect(inst: &InstanceConfig) -> Connection {
    Connection::open(&Settings::from_config(inst).unwrap()).await.unwrap()
}

/// A connection to the plain peer as the admin, on `db`, emptied.
pub async fn admin_on_fresh_db(db: u32) -> Connection {
    let mut c = connect(&instance(&env("OPSDECK_REDIS"), User::Admin, db)).await;
    c.call(&Cmd::new("FLUSHDB")).await.unwrap();
    c
}

pub async fn call(c: &mut Connection, words: &[&str]) -> Value {
    let mut cmd = Cmd::new(words[0]);
    for w in &words[1..] {
        cmd = cmd.arg(w);
    }
    c.call(&cmd).await.unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Every value in a captured answer file.
pub fn fixture_values(name: &str) -> Vec<Value> {
    let bytes = std::fs::read(fixture_path(name)).unwrap();
    let name = name.to_string();
    // On a thread of its own: async tests call this from inside their runtime.
    std::thread::spawn(move || read_values(&name, bytes)).join().unwrap()
}

fn read_values(name: &str, bytes: Vec<u8>) -> Vec<Value> {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut r = tokio::io::BufReader::new(bytes.as_slice());
        let mut out = Vec::new();
        loop {
            match read_value(&mut r, &Limits::default()).await {
                Ok(v) => out.push(v),
                Err(ReadError::Closed) => return out,
                Err(e) => panic!("{name}: {e}"),
            }
        }
    })
}

/// The one answer in a captured file.
pub fn fixture(name: &str) -> Value {
    let mut v = fixture_values(name);
    assert_eq!(v.len(), 1, "{name} holds {} answers", v.len());
    v.pop().unwrap()
}

/// Recreates in `c`'s database the keys real clients wrote (kombu, Sidekiq, pyres), byte for
/// byte, from `DUMP`s captured off a real server.
pub async fn restore_layout(c: &mut Connection) {
    let values = fixture_values("layout.resp");
    for chunk in values.chunks(3) {
        let [key, _type, dump] = chunk else {
            panic!("layout.resp is KEY, TYPE, DUMP triples")
        };
        let key = key.array().unwrap()[1].as_bytes().unwrap().to_vec();
        let dump = dump.as_bytes().unwrap();
        c.call(&Cmd::new("RESTORE").arg(&key).arg("0").arg(dump).arg("REPLACE"))
            .await
            .unwrap();
    }
}

/// Waits until `f` holds, or fails the test after `limit`.
pub async fn until<F, Fut>(limit: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A redis-server of the test's own: loopback, a free port, a temp dir, no persistence unless
/// asked; killed when dropped.
pub struct OwnRedis {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl OwnRedis {
    pub async fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut conf = format!(
            "bind 127.0.0.1\nport {port}\ndir {}\nsave \"\"\nappendonly no\nlogfile {}/log\n",
            dir.path().display(),
            dir.path().display()
        );
        for line in extra {
            conf.push_str(line);
            conf.push('\n');
        }
        let path = dir.path().join("redis.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new("redis-server")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let me = Self { child, dir, port };
        let settings = me.settings();
        until(Duration::from_secs(20), "redis-server to answer", || {
            let s = settings.clone();
            async move {
                match Connection::open(&s).await {
                    Ok(mut c) => c.call(&Cmd::new("PING")).await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await;
        me
    }

    pub fn address(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn settings(&self) -> Settings {
        Settings::plain(Endpoint::parse(&self.address()).unwrap(), Duration::from_secs(5))
    }

    pub fn instance(&self) -> InstanceConfig {
        toml::from_str(&format!("name = 'own'\naddress = '{}'\n", self.address())).unwrap()
    }

    pub async fn connect(&self) -> Connection {
        Connection::open(&self.settings()).await.unwrap()
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
