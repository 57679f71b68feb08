//! The `[redis]` config section: the instances to watch (address, TLS, ACL user, the password from
//! a variable or a file — never inline), what counts as a problem, and which lists are queues.
//!
//! ```toml
//! [redis]
//! [[redis.instances]]
//! name = "broker"
//! address = "rediss://redis-1.internal:6380"
//! user = "opsdeck_ro"
//! password_env = "OPSDECK_REDIS_PASSWORD"
//! ca_file = "/etc/opsdeck/redis-ca.pem"
//! celery_queues = ["celery"]
//! ```

use opsdeck_core::config::file::read_regular;
use opsdeck_core::config::{ConfigDuration, ConfigIssue, duration};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Most entries `SLOWLOG GET` may ask for (Redis keeps 128 by default).
pub const MAX_SLOWLOG: u32 = 1024;
/// Most queues one instance may show.
pub const MAX_QUEUES: usize = 10_000;
/// Most `SCAN` calls per pattern per poll.
pub const MAX_SCAN_CALLS: u32 = 1_000;
/// Largest secret file read (a password, not a key store).
const SECRET_CAP: u64 = 4096;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    pub instances: Vec<InstanceConfig>,
    /// Time between polls (default: `general.refresh`).
    pub refresh: Option<ConfigDuration>,
    /// CPU in cores of the main thread (Redis runs commands on one): warning and critical.
    pub cpu_warn: f64,
    pub cpu_crit: f64,
    /// Memory used as a fraction of `maxmemory`: warning and critical.
    pub memory_warn: f64,
    pub memory_crit: f64,
    /// A replica further behind than this (seconds since its last acknowledgement) is a warning.
    pub replica_lag_warn: ConfigDuration,
    /// A queue longer than this is a warning (0: never).
    pub queue_warn: u64,
    /// A queue growing faster than this many items a minute is a warning.
    pub growth_warn_per_min: f64,
    /// `SLOWLOG GET` this many entries each poll.
    pub slowlog_entries: u32,
    /// A latency spike (`LATENCY LATEST`) at least this long, in the last 5 minutes, is a warning.
    pub latency_warn_ms: u64,
    /// Items moved per round trip by a re-queue (`LMOVE`s pipelined).
    pub requeue_batch: u32,
    /// How long a BGSAVE may take before its verification gives up.
    pub bgsave_timeout: ConfigDuration,
    /// How long a re-queue may take.
    pub requeue_timeout: ConfigDuration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            instances: Vec::new(),
            refresh: None,
            cpu_warn: 0.7,
            cpu_crit: 0.9,
            memory_warn: 0.8,
            memory_crit: 0.95,
            replica_lag_warn: ConfigDuration::secs(10),
            queue_warn: 10_000,
            growth_warn_per_min: 100.0,
            slowlog_entries: 32,
            latency_warn_ms: 100,
            requeue_batch: 100,
            bgsave_timeout: ConfigDuration::secs(600),
            requeue_timeout: ConfigDuration::secs(3600),
        }
    }
}

/// How a TLS server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TlsVerify {
    /// The chain up to a trusted CA and the host name of `address` (the default).
    #[default]
    Full,
    /// The chain only: for servers whose certificate names another host (behind a tunnel or an IP).
    CaOnly,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// Shown in the pane; unique.
    pub name: String,
    /// `redis://HOST:PORT`, `rediss://HOST:PORT` (TLS) or `HOST:PORT`.
    pub address: String,
    /// Database number (`SELECT`).
    #[serde(default)]
    pub db: u32,
    /// ACL user (Redis 6+). Without one, the password is `requirepass`'s.
    pub user: Option<String>,
    /// The variable holding the password.
    pub password_env: Option<String>,
    /// A file holding the password (its first line).
    pub password_file: Option<PathBuf>,
    /// PEM file of the CA (or bundle) that signed the server's certificate. Default: the system's.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and its unencrypted key (PEM), for servers that ask for one.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    #[serde(default)]
    pub tls_verify: TlsVerify,
    /// Longest connecting (TCP and TLS) may take.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: ConfigDuration,
    /// Longest one round trip (a command, or a pipeline of them) may take.
    #[serde(default = "default_command_timeout")]
    pub command_timeout: ConfigDuration,
    /// Cores of the machine Redis runs on: the CPU verdict then says what share of it a saturated
    /// Redis shows in host graphs.
    pub host_cpus: Option<u32>,
    /// Celery (kombu) queues by name: the list of that name plus kombu's priority lists.
    #[serde(default)]
    pub celery_queues: Vec<String>,
    /// Also find Celery queues in kombu's bindings (`_kombu.binding.*` sets).
    #[serde(default)]
    pub celery_discover: bool,
    /// Resque namespaces (usually `"resque"`): queues named by the set `NS:queues`, lists
    /// `NS:queue:NAME`, failures in `NS:failed`.
    #[serde(default)]
    pub resque_namespaces: Vec<String>,
    /// Sidekiq namespaces (`""` for none): queues named by the set `[NS:]queues`, lists `[NS:]queue:NAME`.
    #[serde(default)]
    pub sidekiq_namespaces: Vec<String>,
    /// Any other lists, by exact key.
    #[serde(default)]
    pub queue_keys: Vec<String>,
    /// Lists whose keys match these patterns (`SCAN ... MATCH`).
    #[serde(default)]
    pub queue_patterns: Vec<String>,
    /// Which end producers push to in `queue_keys` and `queue_patterns` lists (Celery and Sidekiq:
    /// left; Resque: right): a re-queue pushes there, oldest first.
    #[serde(default)]
    pub push_end: End,
    /// `SCAN`'s COUNT hint.
    #[serde(default = "default_scan_count")]
    pub scan_count: u32,
    /// Most `SCAN` calls per pattern each poll: a large keyspace is covered over several polls.
    #[serde(default = "default_scan_calls")]
    pub scan_calls: u32,
    /// Most queues shown.
    #[serde(default = "default_max_queues")]
    pub max_queues: usize,
}

/// An end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum End {
    #[default]
    Left,
    Right,
}

impl End {
    pub fn word(self) -> &'static str {
        match self {
            End::Left => "LEFT",
            End::Right => "RIGHT",
        }
    }
    pub fn other(self) -> End {
        match self {
            End::Left => End::Right,
            End::Right => End::Left,
        }
    }
}

fn default_connect_timeout() -> ConfigDuration {
    ConfigDuration::secs(5)
}
fn default_command_timeout() -> ConfigDuration {
    ConfigDuration::secs(5)
}
fn default_scan_count() -> u32 {
    1000
}
fn default_scan_calls() -> u32 {
    10
}
fn default_max_queues() -> usize {
    500
}

/// Where an instance is, from its `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "rediss" } else { "redis" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl Endpoint {
    /// Parses `redis://HOST:PORT`, `rediss://HOST:PORT` or `HOST:PORT` (`[v6]:PORT`). Credentials in
    /// the address are refused: they would end up in logs and audit lines.
    pub fn parse(address: &str) -> Result<Self, String> {
        let address = address.trim();
        let (tls, rest) = if let Some(r) = address.strip_prefix("rediss://") {
            (true, r)
        } else if let Some(r) = address.strip_prefix("redis://") {
            (false, r)
        } else if address.contains("://") {
            return Err(format!("{address:?}: the scheme must be redis:// or rediss://"));
        } else {
            (false, address)
        };
        if rest.contains('@') {
            return Err("no credentials in the address: use user and password_env or password_file".into());
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(format!("{address:?}: no path after HOST:PORT (the database is `db`)"));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, p) = v6
                .split_once("]:")
                .ok_or_else(|| format!("{address:?}: expected [IPv6]:PORT"))?;
            (h, p)
        } else {
            rest.rsplit_once(':')
                .ok_or_else(|| format!("{address:?}: expected HOST:PORT"))?
        };
        if host.is_empty() {
            return Err(format!("{address:?}: no host"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{address:?}: port {port:?} is not 1-65535"))?;
        Ok(Self {
            host: host.into(),
            port,
            tls,
        })
    }
}

impl InstanceConfig {
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        Endpoint::parse(&self.address)
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout.get()
    }

    pub fn command_timeout(&self) -> Duration {
        self.command_timeout.get()
    }

    /// The password, read now from its variable or file (`None` when none is configured).
    pub fn password(&self) -> Result<Option<String>, String> {
        if let Some(var) = &self.password_env {
            return match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Some(v)),
                Ok(_) => Err(format!("the variable {var} (password_env) is empty")),
                Err(_) => Err(format!("the variable {var} (password_env) is not set")),
            };
        }
        if let Some(path) = &self.password_file {
            let bytes = read_regular(path, SECRET_CAP).map_err(|e| format!("password_file {}: {e}", path.display()))?;
            let text = String::from_utf8(bytes).map_err(|_| format!("password_file {}: not UTF-8", path.display()))?;
            let first = text.lines().next().unwrap_or("").to_string();
            if first.is_empty() {
                return Err(format!("password_file {}: empty", path.display()));
            }
            return Ok(Some(first));
        }
        Ok(None)
    }
}

impl RedisConfig {
    pub fn is_enabled(&self) -> bool {
        !self.instances.is_empty()
    }

    /// What serde cannot check: addresses, ranges, names, TLS settings that need each other.
    pub fn validate(&self, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |path: String, msg: String| issues.push(ConfigIssue::new(path, msg));
        if let Some(r) = self.refresh
            && !duration::POLL_INTERVAL.contains(&r.get())
        {
            issue("redis.refresh".into(), range_text(r.get(), &duration::POLL_INTERVAL));
        }
        for (key, v, max) in [
            ("cpu_warn", self.cpu_warn, 64.0),
            ("cpu_crit", self.cpu_crit, 64.0),
            ("memory_warn", self.memory_warn, 1.0),
            ("memory_crit", self.memory_crit, 1.0),
        ] {
            if !(v > 0.0 && v <= max) {
                issue(format!("redis.{key}"), format!("{v} is not above 0 and at most {max}"));
            }
        }
        if self.cpu_warn > self.cpu_crit {
            issue("redis.cpu_warn".into(), "must not be above cpu_crit".into());
        }
        if self.memory_warn > self.memory_crit {
            issue("redis.memory_warn".into(), "must not be above memory_crit".into());
        }
        if !(self.growth_warn_per_min.is_finite() && self.growth_warn_per_min >= 0.0) {
            issue("redis.growth_warn_per_min".into(), "must be 0 or more".into());
        }
        if !(1..=MAX_SLOWLOG).contains(&self.slowlog_entries) {
            issue("redis.slowlog_entries".into(), format!("from 1 to {MAX_SLOWLOG}"));
        }
        if !(1..=10_000).contains(&self.requeue_batch) {
            issue("redis.requeue_batch".into(), "from 1 to 10000".into());
        }
        for (key, d) in [
            ("replica_lag_warn", self.replica_lag_warn),
            ("bgsave_timeout", self.bgsave_timeout),
            ("requeue_timeout", self.requeue_timeout),
        ] {
            if !duration::LONG_WAIT.contains(&d.get()) {
                issue(format!("redis.{key}"), range_text(d.get(), &duration::LONG_WAIT));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, inst) in self.instances.iter().enumerate() {
            let at = |key: &str| format!("redis.instances[{i}].{key}");
            if inst.name.trim().is_empty() {
                issue(at("name"), "must not be empty".into());
            } else if !names.insert(inst.name.clone()) {
                issue(at("name"), format!("{:?} is used by another instance", inst.name));
            }
            let endpoint = inst.endpoint();
            if let Err(e) = &endpoint {
                issue(at("address"), e.clone());
            }
            if inst.password_env.is_some() && inst.password_file.is_some() {
                issue(
                    at("password_file"),
                    "set either password_env or password_file, not both".into(),
                );
            }
            if inst.user.is_some() && inst.password_env.is_none() && inst.password_file.is_none() {
                issue(at("user"), "an ACL user needs password_env or password_file".into());
            }
            let tls = endpoint.as_ref().is_ok_and(|e| e.tls);
            for (key, set) in [
                ("ca_file", inst.ca_file.is_some()),
                ("client_cert", inst.client_cert.is_some()),
                ("client_key", inst.client_key.is_some()),
                ("tls_verify", inst.tls_verify != TlsVerify::Full),
            ] {
                if set && !tls {
                    issue(at(key), "only for TLS addresses (rediss://)".into());
                }
            }
            if inst.client_cert.is_some() != inst.client_key.is_some() {
                issue(at("client_key"), "client_cert and client_key go together".into());
            }
            for (key, d) in [
                ("connect_timeout", inst.connect_timeout),
                ("command_timeout", inst.command_timeout),
            ] {
                if !duration::CALL_TIMEOUT.contains(&d.get()) {
                    issue(at(key), range_text(d.get(), &duration::CALL_TIMEOUT));
                }
            }
            if inst.host_cpus == Some(0) {
                issue(at("host_cpus"), "at least 1".into());
            }
            if inst.db > 15_999 {
                issue(at("db"), "at most 15999".into());
            }
            if !(1..=1_000_000).contains(&inst.scan_count) {
                issue(at("scan_count"), "from 1 to 1000000".into());
            }
            if !(1..=MAX_SCAN_CALLS).contains(&inst.scan_calls) {
                issue(at("scan_calls"), format!("from 1 to {MAX_SCAN_CALLS}"));
            }
            if !(1..=MAX_QUEUES).contains(&inst.max_queues) {
                issue(at("max_queues"), format!("from 1 to {MAX_QUEUES}"));
            }
            for (key, list) in [
                ("celery_queues", &inst.celery_queues),
                ("queue_keys", &inst.queue_keys),
                ("queue_patterns", &inst.queue_patterns),
            ] {
                if list.iter().any(|n| n.is_empty()) {
                    issue(at(key), "names must not be empty".into());
                }
            }
        }
    }
}

fn range_text(d: Duration, range: &std::ops::RangeInclusive<Duration>) -> String {
    format!(
        "{} is out of range: from {} to {}",
        humantime::format_duration(d),
        humantime::format_duration(*range.start()),
        humantime::format_duration(*range.end())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RedisConfig {
        #[derive(Deserialize)]
        struct File {
            redis: RedisConfig,
        }
        toml::from_str::<File>(text).map(|f| f.redis).unwrap()
    }

    fn issues(cfg: &RedisConfig) -> Vec<String> {
        let mut out = Vec::new();
        cfg.validate(&mut out);
        out.into_iter().map(|i| format!("{}: {}", i.path, i.message)).collect()
    }

    #[test]
    fn addresses_parse_and_refuse_credentials() {
        let ok = |a: &str| Endpoint::parse(a).unwrap().to_string();
        assert_eq!(ok("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(ok("rediss://cache.internal:6380/"), "rediss://cache.internal:6380");
        assert_eq!(ok("localhost:7000"), "redis://localhost:7000");
        assert_eq!(ok("rediss://[::1]:6380"), "rediss://[::1]:6380");
        for (bad, why) in [
            ("redis://user:secret@host:6379", "no credentials"),
            ("http://host:6379", "scheme"),
            ("redis://host", "HOST:PORT"),
            ("redis://host:0", "not 1-65535"),
            ("redis://host:6379/2", "no path"),
        ] {
            let e = Endpoint::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_full_section_reads_and_passes() {
        let cfg = parse(
            r#"
            [redis]
            refresh = "5s"
            [[redis.instances]]
            name = "broker"
            address = "rediss://127.0.0.1:6380"
            user = "opsdeck_ro"
            password_env = "X"
            ca_file = "/ca.pem"
            client_cert = "/c.pem"
            client_key = "/k.pem"
            tls_verify = "ca-only"
            command_timeout = "2s"
            celery_queues = ["celery"]
            resque_namespaces = ["resque"]
            sidekiq_namespaces = [""]
            push_end = "right"
            "#,
        );
        assert_eq!(issues(&cfg), Vec::<String>::new());
        let inst = &cfg.instances[0];
        assert_eq!(inst.tls_verify, TlsVerify::CaOnly);
        assert_eq!(inst.command_timeout(), Duration::from_secs(2));
        assert_eq!(inst.push_end, End::Right);
    }

    #[test]
    fn mistakes_are_named_by_key() {
        let cfg = parse(
            r#"
            [redis]
            cpu_warn = 0.95
            slowlog_entries = 0
            [[redis.instances]]
            name = "a"
            address = "redis://h:1"
            user = "u"
            ca_file = "/ca.pem"
            command_timeout = "2h"
            [[redis.instances]]
            name = "a"
            address = "h"
            client_cert = "/c.pem"
            password_env = "A"
            password_file = "/p"
            "#,
        );
        let got = issues(&cfg);
        for want in [
            "redis.cpu_warn: must not be above cpu_crit",
            "redis.slowlog_entries: from 1 to 1024",
            "redis.instances[0].user: an ACL user needs password_env or password_file",
            "redis.instances[0].ca_file: only for TLS addresses",
            "redis.instances[0].command_timeout: 2h is out of range",
            "redis.instances[1].name: \"a\" is used by another instance",
            "redis.instances[1].address: \"h\": expected HOST:PORT",
            "redis.instances[1].password_file: set either",
            "redis.instances[1].client_key: client_cert and client_key go together",
        ] {
            assert!(got.iter().any(|g| g.starts_with(want)), "missing {want:?} in {got:#?}");
        }
    }

    #[test]
    fn passwords_come_from_a_variable_or_the_first_line_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\nignored\n").unwrap();
        let mut inst = parse("[redis]\n[[redis.instances]]\nname='a'\naddress='h:1'\n").instances[0].clone();
        inst.password_file = Some(file);
        assert_eq!(inst.password().unwrap().as_deref(), Some("s3cret"));
        inst.password_file = Some(dir.path().to_path_buf());
        assert!(inst.password().unwrap_err().contains("not a regular file"));
        inst.password_file = None;
        inst.password_env = Some("OPSDECK_REDIS_TEST_SURELY_UNSET".into());
        assert!(inst.password().unwrap_err().contains("is not set"));
    }
}
