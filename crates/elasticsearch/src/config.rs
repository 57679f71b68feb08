//! Config section for the Elasticsearch (or OpenSearch) cluster.

use crate::Elasticsearch;
use opsdeck_core::config::{ConfigDuration, ConfigIssue, duration};
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::PaneConfigs;
use opsdeck_hosts::Hosts;
use opsdeck_hosts::config::{SshConfig, check_log_template, fill_placeholders, not_a_host};
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

/// Placeholders an Elasticsearch `log_file` may use.
const NODE_VARS: &[&str] = &["node", "cluster"];

/// What identifies a node to its host.
#[derive(Debug, Clone, Copy)]
pub struct NodeAddress<'a> {
    pub name: &'a str,
    pub ip: &'a str,
    pub host: &'a str,
}

/// The `[ssh]` host a node runs on: `elasticsearch.node_hosts`, else the host named like the node,
/// else the host whose address is the node's IP or host name.
pub fn node_host<'a>(config: &'a dyn PaneConfigs, node: NodeAddress<'_>) -> Option<&'a str> {
    if let Some(h) = config.of::<Elasticsearch>().node_hosts.get(node.name) {
        return Some(h);
    }
    let hosts = &config.of::<Hosts>().hosts;
    hosts
        .iter()
        .find(|h| h.name == node.name)
        .or_else(|| {
            hosts.iter().find(|h| {
                let d = h.destination();
                !d.is_empty() && (d == node.ip || d == node.host)
            })
        })
        .map(|h| h.name.as_str())
}

/// The log of an Elasticsearch node on its host.
pub fn node_log(config: &dyn PaneConfigs, cluster: &str, node: NodeAddress<'_>) -> Result<LogSource, String> {
    let es = config.of::<Elasticsearch>();
    let host = node_host(config, node).ok_or_else(|| {
        format!(
            "node {} runs on no [ssh] host: add a [[ssh.hosts]] entry named {:?} or with address {:?}, or map it in elasticsearch.node_hosts",
            node.name, node.name, node.ip
        )
    })?;
    if let Some(program) = &es.log_program {
        return Ok(LogSource::program(host, program));
    }
    let template = es.log_file.as_deref().unwrap_or(DEFAULT_LOG_FILE);
    Ok(LogSource::file(
        host,
        &fill_placeholders(template, &[("node", node.name), ("cluster", cluster)]),
    ))
}

/// The checks that tie nodes to the `[ssh]` hosts their logs and restarts go through, and the log
/// template.
pub fn validate_references(es: &EsConfig, ssh: &SshConfig, issues: &mut Vec<ConfigIssue>) {
    if es.log_file.is_some() && es.log_program.is_some() {
        issues.push(ConfigIssue::new(
            "elasticsearch.log_program",
            "set either log_file or log_program, not both",
        ));
    }
    if let Some(t) = &es.log_file
        && let Some(why) = check_log_template(t, NODE_VARS)
    {
        issues.push(ConfigIssue::new("elasticsearch.log_file", why));
    }
    for (key, program) in [
        ("log_program", &es.log_program),
        ("restart_program", &es.restart_program),
    ] {
        if let Some(p) = program
            && let Err(why) = opsdeck_hosts::source::supervisor::check_program(p)
        {
            issues.push(ConfigIssue::new(format!("elasticsearch.{key}"), why));
        }
    }
    for (node, host) in &es.node_hosts {
        if !ssh.knows(host) {
            issues.push(ConfigIssue::new(
                format!("elasticsearch.node_hosts.{node}"),
                not_a_host(host),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_core::logs::LogTarget;
    use opsdeck_core::pane::Sections;
    use opsdeck_hosts::config::HostConfig;

    fn host(name: &str, address: Option<&str>) -> HostConfig {
        HostConfig {
            address: address.map(String::from),
            ..HostConfig::named(name, opsdeck_hosts::config::TransportKind::Ssh)
        }
    }

    fn ssh() -> SshConfig {
        SshConfig {
            hosts: vec![
                host("pillow1", None),
                host("pillow2", None),
                host("es-data-1", Some("10.0.0.7")),
            ],
            ..SshConfig::default()
        }
    }

    fn config() -> Sections {
        Sections::default()
            .with::<Elasticsearch>(EsConfig::default())
            .with::<Hosts>(ssh())
    }

    #[test]
    fn a_node_finds_its_host_by_map_name_or_address() {
        let mut c = config();
        let node = |name| NodeAddress {
            name,
            ip: "10.0.0.7",
            host: "ip-10-0-0-7",
        };
        assert_eq!(node_host(&c, node("es-data-1")), Some("es-data-1"));
        assert_eq!(node_host(&c, node("renamed")), Some("es-data-1"), "by address");
        let stranger = NodeAddress {
            name: "es-9",
            ip: "10.9.9.9",
            host: "",
        };
        assert_eq!(node_host(&c, stranger), None);
        let err = node_log(&c, "prod", stranger).unwrap_err();
        assert!(err.contains("elasticsearch.node_hosts"), "{err}");
        c.of_mut::<Elasticsearch>()
            .node_hosts
            .insert("es-9".into(), "pillow1".into());
        assert_eq!(
            node_log(&c, "prod", stranger).unwrap(),
            LogSource::file("pillow1", "/var/log/elasticsearch/prod.log")
        );
        c.of_mut::<Elasticsearch>().log_file = Some("/data/logs/{node}-{cluster}.log".into());
        assert_eq!(
            node_log(&c, "prod", stranger).unwrap().target,
            LogTarget::File("/data/logs/es-9-prod.log".into())
        );
        c.of_mut::<Elasticsearch>().log_file = None;
        c.of_mut::<Elasticsearch>().log_program = Some("es".into());
        assert_eq!(
            node_log(&c, "prod", stranger).unwrap(),
            LogSource::program("pillow1", "es")
        );
    }

    #[test]
    fn templates_and_host_references_are_checked() {
        let mut c = EsConfig {
            log_file: Some("/x/{node".into()),
            log_program: Some("-es".into()),
            ..EsConfig::default()
        };
        c.node_hosts.insert("es-1".into(), "typo".into());
        let mut issues = Vec::new();
        validate_references(&c, &ssh(), &mut issues);
        let got: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect();
        let all = got.join("\n");
        for want in [
            "elasticsearch.log_program: set either log_file or log_program",
            "elasticsearch.log_file: has a '{' without its '}'",
            "elasticsearch.log_program: program name \"-es\" starts with '-'",
            "elasticsearch.node_hosts.es-1: \"typo\" is not a host in [ssh]",
        ] {
            assert!(all.contains(want), "missing {want:?} in:\n{all}");
        }
        assert_eq!(got.len(), 4, "{all}");
    }
}
