//! The `[rabbitmq]` config section: the management APIs to watch (URL, CA, user, the password from a
//! variable or a file — never inline), timeouts, and which queues are the Celery app's.
//!
//! ```toml
//! [rabbitmq]
//! [[rabbitmq.instances]]
//! name = "celery-broker"
//! url = "https://rabbit-1.internal:15671"
//! ca_file = "/etc/opsdeck/rabbitmq-ca.pem"
//! user = "opsdeck_ro"
//! password_env = "OPSDECK_RABBITMQ_PASSWORD"
//! celery_queues = ["celery", "reminder_queue"]
//! ```

use opsdeck_core::config::ConfigIssue;
use opsdeck_core::config::duration::{self, ConfigDuration};
use opsdeck_core::config::file::read_regular;
use serde::Deserialize;
use std::path::PathBuf;

/// Largest secret file read (a password, not a key store).
const SECRET_CAP: u64 = 4096;
/// Most queues one instance may show (pages of `page_size` up to this).
pub const MAX_QUEUES: usize = 10_000;
/// The management API's own upper bound for `page_size`.
pub const MAX_PAGE_SIZE: u32 = 500;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RabbitmqConfig {
    pub instances: Vec<InstanceConfig>,
    /// Time between polls (default: `general.refresh`).
    pub refresh: Option<ConfigDuration>,
    /// A queue with more ready messages than this is a warning (0: never).
    pub backlog_warn: u64,
    /// Unacknowledged messages above this are a warning: workers took tasks and do not finish them.
    pub unacked_warn: u64,
    /// A queue growing faster than this many messages a minute is a warning.
    pub growth_warn_per_min: f64,
    /// Node memory used as a fraction of its high watermark: warning (the alarm itself is critical).
    pub memory_warn: f64,
    /// File descriptors used as a fraction of the limit: warning.
    pub fd_warn: f64,
}

impl Default for RabbitmqConfig {
    fn default() -> Self {
        Self {
            instances: Vec::new(),
            refresh: None,
            backlog_warn: 10_000,
            unacked_warn: 1_000,
            growth_warn_per_min: 100.0,
            memory_warn: 0.8,
            fd_warn: 0.8,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// Shown in the pane; unique.
    pub name: String,
    /// The management API: `http://HOST:15672` or `https://HOST:15671`.
    pub url: String,
    /// PEM file of the CA (or bundle) that signed the https certificate. Default: the system's.
    pub ca_file: Option<PathBuf>,
    pub user: String,
    /// The variable holding the password.
    pub password_env: Option<String>,
    /// A file holding the password (its first line).
    pub password_file: Option<PathBuf>,
    /// Longest connecting (TCP and TLS) may take.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: ConfigDuration,
    /// Longest one request (sent, answered and its body read) may take.
    #[serde(default = "default_request_timeout")]
    pub request_timeout: ConfigDuration,
    /// Largest answer body read, in bytes.
    #[serde(default = "default_body_cap")]
    pub body_cap: usize,
    /// Queues per page of `GET /api/queues` (big vhosts come in several pages).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Most queues shown.
    #[serde(default = "default_max_queues")]
    pub max_queues: usize,
    /// Only this vhost (default: every vhost the user may see).
    pub vhost: Option<String>,
    /// The Celery app's queues by exact name (Celery's default is `celery`).
    #[serde(default = "default_celery_queues")]
    pub celery_queues: Vec<String>,
    /// The Celery app's queues by name prefix.
    #[serde(default)]
    pub celery_prefixes: Vec<String>,
}

fn default_connect_timeout() -> ConfigDuration {
    ConfigDuration::secs(5)
}
fn default_request_timeout() -> ConfigDuration {
    ConfigDuration::secs(10)
}
fn default_body_cap() -> usize {
    16 << 20
}
fn default_page_size() -> u32 {
    100
}
fn default_max_queues() -> usize {
    1_000
}
fn default_celery_queues() -> Vec<String> {
    vec!["celery".into()]
}

impl RabbitmqConfig {
    /// Everything wrong with the section, each located by its key path.
    pub fn validate(&self) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        if let Some(r) = self.refresh {
            r.check("rabbitmq.refresh", &duration::POLL_INTERVAL, &mut issues);
        }
        for (key, v) in [("memory_warn", self.memory_warn), ("fd_warn", self.fd_warn)] {
            if !(v > 0.0 && v <= 1.0) {
                issues.push(ConfigIssue::new(
                    format!("rabbitmq.{key}"),
                    format!("{v} is not a fraction in (0, 1]"),
                ));
            }
        }
        if !(self.growth_warn_per_min.is_finite() && self.growth_warn_per_min >= 0.0) {
            issues.push(ConfigIssue::new("rabbitmq.growth_warn_per_min", "must be a number ≥ 0"));
        }
        let mut names = std::collections::HashSet::new();
        for (i, inst) in self.instances.iter().enumerate() {
            let at = |k: &str| format!("rabbitmq.instances[{i}].{k}");
            if inst.name.trim().is_empty() {
                issues.push(ConfigIssue::new(at("name"), "empty"));
            } else if !names.insert(inst.name.as_str()) {
                issues.push(ConfigIssue::new(at("name"), format!("{:?} is used twice", inst.name)));
            }
            if let Err(e) = inst.base_url() {
                issues.push(ConfigIssue::new(at("url"), e));
            }
            if inst.user.is_empty() {
                issues.push(ConfigIssue::new(at("user"), "empty"));
            }
            match (&inst.password_env, &inst.password_file) {
                (None, None) => issues.push(ConfigIssue::new(
                    at("password_env"),
                    "set password_env or password_file",
                )),
                (Some(_), Some(_)) => issues.push(ConfigIssue::new(
                    at("password_file"),
                    "set password_env or password_file, not both",
                )),
                _ => {}
            }
            inst.connect_timeout
                .check(&at("connect_timeout"), &duration::CALL_TIMEOUT, &mut issues);
            inst.request_timeout
                .check(&at("request_timeout"), &duration::CALL_TIMEOUT, &mut issues);
            if !(1..=MAX_PAGE_SIZE).contains(&inst.page_size) {
                issues.push(ConfigIssue::new(at("page_size"), format!("from 1 to {MAX_PAGE_SIZE}")));
            }
            if !(1..=MAX_QUEUES).contains(&inst.max_queues) {
                issues.push(ConfigIssue::new(at("max_queues"), format!("from 1 to {MAX_QUEUES}")));
            }
            if !(1024..=(256 << 20)).contains(&inst.body_cap) {
                issues.push(ConfigIssue::new(at("body_cap"), "from 1024 bytes to 256 MiB"));
            }
        }
        issues
    }
}

impl InstanceConfig {
    /// The URL without a trailing slash, checked to be http(s) with a host.
    pub fn base_url(&self) -> Result<String, String> {
        let url = self.url.trim().trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| {
                format!(
                    "{:?}: the management API's URL starts with http:// or https://",
                    self.url
                )
            })?;
        if rest.is_empty() || rest.starts_with(['/', ':']) {
            return Err(format!("{:?} has no host", self.url));
        }
        Ok(url.to_string())
    }

    /// The password, from the variable or the file (its first line).
    pub fn password(&self) -> Result<String, String> {
        if let Some(var) = &self.password_env {
            return std::env::var(var).map_err(|_| format!("the variable {var} (password_env) is not set"));
        }
        if let Some(path) = &self.password_file {
            let bytes = read_regular(path, SECRET_CAP).map_err(|e| format!("password_file {}: {e}", path.display()))?;
            let text = String::from_utf8(bytes).map_err(|_| format!("password_file {}: not UTF-8", path.display()))?;
            return Ok(text.lines().next().unwrap_or("").to_string());
        }
        Err("no password_env or password_file".into())
    }

    /// Whether a queue belongs to the configured Celery app.
    pub fn is_celery_queue(&self, name: &str) -> bool {
        self.celery_queues.iter().any(|q| q == name)
            || self.celery_prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RabbitmqConfig {
        #[derive(Deserialize)]
        struct Root {
            rabbitmq: RabbitmqConfig,
        }
        toml::from_str::<Root>(text).unwrap().rabbitmq
    }

    #[test]
    fn the_documented_example_is_valid() {
        let c = parse(
            r#"[rabbitmq]
[[rabbitmq.instances]]
name = "celery-broker"
url = "https://rabbit-1.internal:15671/"
ca_file = "/etc/opsdeck/rabbitmq-ca.pem"
user = "opsdeck_ro"
password_env = "OPSDECK_RABBITMQ_PASSWORD"
request_timeout = "3s"
celery_queues = ["celery", "reminder_queue"]
"#,
        );
        assert_eq!(c.validate(), vec![]);
        let i = &c.instances[0];
        assert_eq!(i.base_url().unwrap(), "https://rabbit-1.internal:15671");
        assert_eq!(i.request_timeout.get().as_secs(), 3);
        assert!(i.is_celery_queue("reminder_queue") && !i.is_celery_queue("other"));
    }

    #[test]
    fn bad_values_are_each_named_by_their_key() {
        let c = parse(
            r#"[rabbitmq]
memory_warn = 1.5
[[rabbitmq.instances]]
name = "a"
url = "amqp://x:5672"
user = "u"
page_size = 0
request_timeout = "2h"
[[rabbitmq.instances]]
name = "a"
url = "http://x"
user = "u"
password_env = "P"
password_file = "/p"
"#,
        );
        let keys: Vec<String> = c.validate().into_iter().map(|i| i.path).collect();
        assert_eq!(
            keys,
            [
                "rabbitmq.memory_warn",
                "rabbitmq.instances[0].url",
                "rabbitmq.instances[0].password_env",
                "rabbitmq.instances[0].request_timeout",
                "rabbitmq.instances[0].page_size",
                "rabbitmq.instances[1].name",
                "rabbitmq.instances[1].password_file",
            ]
        );
    }

    #[test]
    fn an_inline_password_is_not_a_key() {
        #[derive(Deserialize)]
        struct Root {
            #[allow(dead_code)]
            rabbitmq: RabbitmqConfig,
        }
        let err = toml::from_str::<Root>(
            "[rabbitmq]\n[[rabbitmq.instances]]\nname='a'\nurl='http://x'\nuser='u'\npassword='secret'\n",
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("unknown field `password`"), "{err}");
    }

    #[test]
    fn the_password_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\nignored\n").unwrap();
        let mut c = parse("[rabbitmq]\n[[rabbitmq.instances]]\nname='a'\nurl='http://x'\nuser='u'\n");
        c.instances[0].password_file = Some(path);
        assert_eq!(c.instances[0].password().unwrap(), "s3cret");
        c.instances[0].password_file = Some(dir.path().to_path_buf());
        assert!(c.instances[0].password().unwrap_err().contains("not a regular file"));
    }
}
