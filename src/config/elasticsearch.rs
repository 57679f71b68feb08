//! Config section for the Elasticsearch (or OpenSearch) cluster.

use opsdeck_core::config::{ConfigDuration, ConfigIssue, duration};
use serde::Deserialize;
use std::path::PathBuf;

/// Default of `max_answer_mib`.
pub const DEFAULT_MAX_ANSWER_MIB: u64 = 256;
/// Most `max_answer_mib` may be.
pub const MAX_ANSWER_MIB: u64 = 4096;

/// Where Elasticsearch's deb and rpm packages write a node's log.
pub const DEFAULT_LOG_FILE: &str = "/var/log/elasticsearch/{cluster}.log";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EsConfig {
    /// Base URL of any node (or the coordinator / load balancer), e.g. `http://localhost:9200`.
    pub url: String,
    /// Basic auth user; the password comes from `password` or, better, the variable named by `password_env`.
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    /// API key (the base64 `id:key` form Elasticsearch returns as `encoded`), inline or from a variable.
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    /// PEM file with the CA (or bundle) that signed the cluster's certificate.
    pub ca_file: Option<PathBuf>,
    /// Time between polls (default: `general.refresh`).
    pub refresh: Option<ConfigDuration>,
    /// Limit for each HTTP request.
    pub request_timeout: ConfigDuration,
    /// Largest answer read, in MiB: a larger one fails that poll (the last good data stays shown)
    /// instead of being held in memory. `_cat/shards` of 100,000 copies is about 20 MiB.
    pub max_answer_mib: u64,
    /// How many unassigned copies get an allocation explain per poll (0 = none).
    pub explain_max: usize,
    /// The node attribute naming zones (`node.attr.zone`), and the zone of the unreliable (spot) nodes.
    pub zone_attribute: String,
    pub spot_zone: String,
    /// How long a guided procedure or a drain wait may run before it gives up.
    pub procedure_timeout: ConfigDuration,
    /// How long to wait for a node to leave and rejoin while the user bounces it.
    pub bounce_timeout: ConfigDuration,
    /// Each node's log file on its host, for "tail its log": `{node}` and `{cluster}` are filled in.
    /// Default: [`DEFAULT_LOG_FILE`] (where the deb/rpm packages write it).
    pub log_file: Option<String>,
    /// Instead of a file: the supervisor program running Elasticsearch on each node (its output is
    /// followed with `supervisorctl tail -f`, as the ActiveData runbook does with `es`).
    pub log_program: Option<String>,
    /// The supervisor program running Elasticsearch on each node's host. When set, a controlled
    /// bounce restarts it there (`ssh.supervisor_command`, verified: new pid, RUNNING) and waits for
    /// the node to rejoin, instead of asking you to restart the node.
    pub restart_program: Option<String>,
    /// Which `[ssh]` host each node runs on, by node name. Unlisted nodes: the host named like the
    /// node, or whose address is the node's IP or host name.
    pub node_hosts: std::collections::BTreeMap<String, String>,
    /// Set by the demo only (never read from a file): procedures ask the simulated cluster to restart nodes.
    #[serde(skip)]
    pub demo_bounce: bool,
}

impl Default for EsConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            username: None,
            password: None,
            password_env: None,
            api_key: None,
            api_key_env: None,
            ca_file: None,
            refresh: None,
            request_timeout: ConfigDuration::secs(10),
            max_answer_mib: DEFAULT_MAX_ANSWER_MIB,
            explain_max: 5,
            zone_attribute: "zone".into(),
            spot_zone: "spot".into(),
            procedure_timeout: ConfigDuration::secs(6 * 3600),
            bounce_timeout: ConfigDuration::secs(30 * 60),
            log_file: None,
            log_program: None,
            restart_program: None,
            node_hosts: Default::default(),
            demo_bounce: false,
        }
    }
}

impl EsConfig {
    /// Whether the section configures anything to poll.
    pub fn is_enabled(&self) -> bool {
        !self.url.trim().is_empty()
    }

    /// Checks that serde cannot express (references between sections, value ranges).
    pub fn validate(&self, issues: &mut Vec<ConfigIssue>) {
        if !self.is_enabled() {
            return;
        }
        match reqwest::Url::parse(self.url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            Ok(u) => issues.push(ConfigIssue::new(
                "elasticsearch.url",
                format!("scheme {:?} is not http or https", u.scheme()),
            )),
            Err(e) => issues.push(ConfigIssue::new("elasticsearch.url", format!("not a URL: {e}"))),
        }
        if self.password.is_some() && self.password_env.is_some() {
            issues.push(ConfigIssue::new(
                "elasticsearch.password_env",
                "set either password or password_env, not both",
            ));
        }
        if self.api_key.is_some() && self.api_key_env.is_some() {
            issues.push(ConfigIssue::new(
                "elasticsearch.api_key_env",
                "set either api_key or api_key_env, not both",
            ));
        }
        if self.username.is_some() && (self.api_key.is_some() || self.api_key_env.is_some()) {
            issues.push(ConfigIssue::new(
                "elasticsearch.api_key",
                "set either username (basic auth) or an API key, not both",
            ));
        }
        if (self.password.is_some() || self.password_env.is_some()) && self.username.is_none() {
            issues.push(ConfigIssue::new(
                "elasticsearch.username",
                "a password needs a username",
            ));
        }
        self.request_timeout
            .check("elasticsearch.request_timeout", &duration::CALL_TIMEOUT, issues);
        self.procedure_timeout
            .check("elasticsearch.procedure_timeout", &duration::LONG_WAIT, issues);
        self.bounce_timeout
            .check("elasticsearch.bounce_timeout", &duration::LONG_WAIT, issues);
        if let Some(r) = self.refresh {
            r.check("elasticsearch.refresh", &duration::POLL_INTERVAL, issues);
        }
        if !(1..=MAX_ANSWER_MIB).contains(&self.max_answer_mib) {
            issues.push(ConfigIssue::new(
                "elasticsearch.max_answer_mib",
                format!("from 1 to {MAX_ANSWER_MIB} (MiB)"),
            ));
        }
        if self.explain_max > 50 {
            issues.push(ConfigIssue::new(
                "elasticsearch.explain_max",
                "at most 50 (each is one request per poll)",
            ));
        }
        if self.zone_attribute.trim().is_empty() {
            issues.push(ConfigIssue::new("elasticsearch.zone_attribute", "must not be empty"));
        }
    }
}
