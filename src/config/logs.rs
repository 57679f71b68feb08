//! Which log belongs to a pillow process or an Elasticsearch node: what "tail its log" needs that no
//! source reports, worked out from the config. Also the config checks that tie pillows and nodes to
//! the `[ssh]` hosts their logs and commands go through.

use super::elasticsearch::DEFAULT_LOG_FILE;
use super::pillows::PillowConfig;
use crate::model::pillows::ProcessRef;
use crate::panes::{Elasticsearch, Pillows};
use opsdeck_core::config::ConfigIssue;
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::PaneConfigs;
use opsdeck_hosts::Hosts;

/// Placeholders a pillow's `log_file` may use.
const PILLOW_VARS: &[&str] = &["pillow", "n", "program"];
/// Placeholders an Elasticsearch `log_file` may use.
const NODE_VARS: &[&str] = &["node", "cluster"];

/// `template` with each `{name}` replaced by its value.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(template.to_string(), |out, (name, value)| {
        out.replace(&format!("{{{name}}}"), value)
    })
}

/// Problems with a log file template: not absolute, or a placeholder outside `known`.
fn check_template(template: &str, known: &[&str]) -> Option<String> {
    if !template.starts_with('/') {
        return Some("must be an absolute path".into());
    }
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Some("has a '{' without its '}'".into());
        };
        let name = &after[..end];
        if !known.contains(&name) {
            return Some(format!(
                "unknown placeholder {{{name}}} (known: {})",
                known.iter().map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", ")
            ));
        }
        rest = &after[end + 1..];
    }
    None
}

fn unknown_host(host: &str) -> String {
    format!("{host:?} is not a host in [ssh] (add a [[ssh.hosts]] entry named {host:?}, or use \"local\")")
}

/// The log of one pillow process: its `log_file` on the process's host, else the supervisor
/// program's output there.
pub fn pillow_process_log(
    config: &dyn PaneConfigs,
    pillow: &PillowConfig,
    process: &ProcessRef,
) -> Result<LogSource, String> {
    if !config.of::<Hosts>().knows(&process.host) {
        return Err(format!(
            "{} process {}: {}",
            pillow.name,
            process.index,
            unknown_host(&process.host)
        ));
    }
    let template = pillow.log_file.as_ref().or(config.of::<Pillows>().log_file.as_ref());
    Ok(match template {
        Some(t) => {
            let n = process.index.to_string();
            let path = fill(t, &[("pillow", &pillow.name), ("n", &n), ("program", &process.program)]);
            LogSource::file(&process.host, &path)
        }
        None => LogSource::program(&process.host, &process.program),
    })
}

/// Every process log of a pillow, in process order.
pub fn pillow_logs(config: &dyn PaneConfigs, pillow: &PillowConfig) -> Result<Vec<LogSource>, String> {
    let processes = pillow.process_refs();
    if processes.is_empty() {
        return Err(format!(
            "{} has no processes configured (processes, hosts and program in its [[pillows.pillow]] entry)",
            pillow.name
        ));
    }
    processes
        .iter()
        .map(|p| pillow_process_log(config, pillow, p))
        .collect()
}

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
        &fill(template, &[("node", node.name), ("cluster", cluster)]),
    ))
}

/// Config checks across sections: hosts named by pillows and nodes exist, log templates are sound.
pub fn validate(config: &dyn PaneConfigs, issues: &mut Vec<ConfigIssue>) {
    let ssh = config.of::<Hosts>();
    if let Some(t) = &config.of::<Pillows>().log_file
        && let Some(why) = check_template(t, PILLOW_VARS)
    {
        issues.push(ConfigIssue::new("pillows.log_file", why));
    }
    for (i, p) in config.of::<Pillows>().pillows.iter().enumerate() {
        if let Some(t) = &p.log_file
            && let Some(why) = check_template(t, PILLOW_VARS)
        {
            issues.push(ConfigIssue::new(format!("pillows.pillow[{i}].log_file"), why));
        }
        for (j, h) in p.hosts.iter().enumerate() {
            if !ssh.knows(h) {
                issues.push(ConfigIssue::new(
                    format!("pillows.pillow[{i}].hosts[{j}]"),
                    unknown_host(h),
                ));
            }
        }
    }
    let es = config.of::<Elasticsearch>();
    if es.log_file.is_some() && es.log_program.is_some() {
        issues.push(ConfigIssue::new(
            "elasticsearch.log_program",
            "set either log_file or log_program, not both",
        ));
    }
    if let Some(t) = &es.log_file
        && let Some(why) = check_template(t, NODE_VARS)
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
                unknown_host(host),
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

    fn pillow() -> PillowConfig {
        PillowConfig {
            name: "case-pillow".into(),
            checkpoint_id: Some("c".into()),
            group: None,
            topics: Vec::new(),
            processes: 2,
            dedicated_migration_process: false,
            hosts: vec!["pillow1".into(), "pillow2".into()],
            program: "hq-pillowtop-case-pillow-{n}".into(),
            log_file: None,
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
    fn a_pillow_process_log_is_its_program_unless_a_file_is_configured() {
        let mut c = config();
        let p = pillow();
        let logs = pillow_logs(&c, &p).unwrap();
        assert_eq!(
            logs,
            [
                LogSource::program("pillow1", "hq-pillowtop-case-pillow-0"),
                LogSource::program("pillow2", "hq-pillowtop-case-pillow-1"),
            ]
        );
        c.pillows.log_file = Some("/var/log/{pillow}/{n}-{program}.log".into());
        let logs = pillow_logs(&c, &p).unwrap();
        assert_eq!(
            logs[1],
            LogSource::file("pillow2", "/var/log/case-pillow/1-hq-pillowtop-case-pillow-1.log")
        );
        // The pillow's own file wins over the section's.
        let own = PillowConfig {
            log_file: Some("/srv/{pillow}.log".into()),
            ..pillow()
        };
        assert_eq!(
            pillow_logs(&c, &own).unwrap()[0].target,
            LogTarget::File("/srv/case-pillow.log".into())
        );
    }

    #[test]
    fn a_pillow_without_processes_or_hosts_says_what_is_missing() {
        let c = config();
        let none = PillowConfig {
            processes: 0,
            ..pillow()
        };
        assert!(pillow_logs(&c, &none).unwrap_err().contains("no processes configured"));
        let elsewhere = PillowConfig {
            hosts: vec!["nowhere".into()],
            ..pillow()
        };
        assert!(
            pillow_logs(&c, &elsewhere)
                .unwrap_err()
                .contains("\"nowhere\" is not a host in [ssh]")
        );
        let local = PillowConfig {
            hosts: vec!["local".into()],
            ..pillow()
        };
        assert_eq!(pillow_logs(&c, &local).unwrap()[0].host, "local");
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
        c.pillows.log_file = Some("logs/{pillow}.log".into());
        c.pillows.pillows = vec![PillowConfig {
            log_file: Some("/x/{proces}.log".into()),
            hosts: vec!["pillow1".into(), "pilow2".into()],
            ..pillow()
        }];
        c.elasticsearch.log_file = Some("/x/{node".into());
        c.elasticsearch.log_program = Some("-es".into());
        c.elasticsearch.node_hosts.insert("es-1".into(), "typo".into());
        let mut issues = Vec::new();
        validate(&c, &mut issues);
        let got: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect();
        let all = got.join("\n");
        for want in [
            "pillows.log_file: must be an absolute path",
            "pillows.pillow[0].log_file: unknown placeholder {proces}",
            "pillows.pillow[0].hosts[1]: \"pilow2\" is not a host in [ssh]",
            "elasticsearch.log_program: set either log_file or log_program",
            "elasticsearch.log_file: has a '{' without its '}'",
            "elasticsearch.log_program: program name \"-es\" starts with '-'",
            "elasticsearch.node_hosts.es-1: \"typo\" is not a host in [ssh]",
        ] {
            assert!(all.contains(want), "missing {want:?} in:\n{all}");
        }
        assert_eq!(got.len(), 7, "{all}");
    }
}
