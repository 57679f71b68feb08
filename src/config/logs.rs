//! Which log belongs to a pillow process or an Elasticsearch node: what "tail its log" needs that no
//! source reports, worked out from the config. Also the config checks that tie pillows and nodes to
//! the `[ssh]` hosts their logs and commands go through.

use super::elasticsearch::DEFAULT_LOG_FILE;
use crate::panes::Elasticsearch;
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::PaneConfigs;
use opsdeck_hosts::Hosts;
use opsdeck_hosts::config::{check_log_template, fill_placeholders, not_a_host};

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

/// Config checks across sections: hosts named by pillows and nodes exist, log templates are sound.
pub fn validate(config: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
    let ssh = config.of::<Hosts>();
    let es = config.of::<Elasticsearch>();
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
    use crate::config::Config;
    use opsdeck_core::logs::LogTarget;
    use opsdeck_hosts::config::HostConfig;

    fn host(name: &str, address: Option<&str>) -> HostConfig {
        HostConfig {
            address: address.map(String::from),
            ..HostConfig::named(name, opsdeck_hosts::config::TransportKind::Ssh)
        }
    }

    fn config() -> Config {
        let mut c = Config::default();
        c.ssh.hosts = vec![
            host("pillow1", None),
            host("pillow2", None),
            host("es-data-1", Some("10.0.0.7")),
        ];
        c
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
        c.elasticsearch.node_hosts.insert("es-9".into(), "pillow1".into());
        assert_eq!(
            node_log(&c, "prod", stranger).unwrap(),
            LogSource::file("pillow1", "/var/log/elasticsearch/prod.log")
        );
        c.elasticsearch.log_file = Some("/data/logs/{node}-{cluster}.log".into());
        assert_eq!(
            node_log(&c, "prod", stranger).unwrap().target,
            LogTarget::File("/data/logs/es-9-prod.log".into())
        );
        c.elasticsearch.log_file = None;
        c.elasticsearch.log_program = Some("es".into());
        assert_eq!(
            node_log(&c, "prod", stranger).unwrap(),
            LogSource::program("pillow1", "es")
        );
    }

    #[test]
    fn templates_and_host_references_are_checked() {
        let mut c = config();
        c.elasticsearch.log_file = Some("/x/{node".into());
        c.elasticsearch.log_program = Some("-es".into());
        c.elasticsearch.node_hosts.insert("es-1".into(), "typo".into());
        let mut issues = Vec::new();
        validate(&c, &mut issues);
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
