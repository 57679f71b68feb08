//! Fleet-XL's names (pillows, hosts by role, log files) and the config that names them.

use super::queues::queue_name;
use super::{HISTORY, STEP_SECS, Size};
use crate::config::Config;
use opsdeck_core::config::ConfigDuration;
use opsdeck_hosts::config::{HostConfig, TransportKind};
use opsdeck_pillows::config::PillowConfig;

pub(super) const PILLOW_KINDS: [(&str, &str); 10] = [
    ("case-pillow", "case-sql"),
    ("xform-pillow", "form-sql"),
    ("user-pillow", "commcare-user"),
    ("group-pillow", "group"),
    ("ledger-pillow", "ledger"),
    ("location-pillow", "location"),
    ("sms-pillow", "sms"),
    ("app-submission-tracker", "form-sql"),
    ("kafka-ucr-main", "case-sql"),
    ("kafka-ucr-static", "form-sql"),
];
/// Processes per pillow (`--num-processes`).
pub(super) const PILLOW_PROCESSES: usize = 8;

/// Host roles, by share of the fleet (of 200: 40 web, 60 celery, 20 pillowtop, 40 es-data...).
pub(super) const ROLES: [(&str, usize); 9] = [
    ("web", 40),
    ("celery", 60),
    ("pillowtop", 20),
    ("es-data", 40),
    ("kafka", 10),
    ("pg", 10),
    ("couch", 10),
    ("redis", 4),
    ("proxy", 6),
];

/// How many hosts of each role a fleet of `n` hosts has, in `ROLES` order (the last roles get
/// fewer when the shares round up past `n`).
fn role_counts(n: usize) -> impl Iterator<Item = (&'static str, usize)> {
    let total: usize = ROLES.iter().map(|(_, k)| k).sum();
    let mut left = n;
    ROLES.into_iter().map(move |(role, share)| {
        let k = (share * n).div_ceil(total).min(left);
        left -= k;
        (role, k)
    })
}

/// The host names of a fleet of `n` hosts: `web-00`, `celery-17`, `pillowtop-03`...
pub fn host_names(n: usize) -> Vec<String> {
    role_counts(n)
        .flat_map(|(role, k)| (0..k).map(move |i| format!("{role}-{i:02}")))
        .collect()
}

pub(super) fn role(host: &str) -> &str {
    host.rsplit_once('-').map(|(r, _)| r).unwrap_or(host)
}

/// The name of pillow `i` (`case-pillow`, `case-pillow-2`...).
pub fn pillow_name(i: usize) -> String {
    let (base, _) = PILLOW_KINDS[i % PILLOW_KINDS.len()];
    match i / PILLOW_KINDS.len() {
        0 => base.to_string(),
        k => format!("{base}-{k}"),
    }
}

/// The pillowtop host that runs pillow `pillow` (round-robin; called per pillow per poll, so it
/// names the host without listing the fleet).
pub(super) fn pillow_host(size: &Size, pillow: usize) -> String {
    let pillowtops = role_counts(size.hosts)
        .find(|(role, _)| *role == "pillowtop")
        .map_or(0, |(_, k)| k);
    format!("pillowtop-{:02}", pillow % pillowtops.max(1))
}

pub(super) fn program(pillow: &str, n: usize) -> String {
    format!("commcare-hq-production-pillowtop-{pillow}-{n}")
}

/// The log files the generated tails fill (host, path).
pub(super) const LOG_FILES: [(&str, &str); 4] = [
    ("web-00", "/var/log/nginx/commcarehq.access.log"),
    ("web-01", "/var/log/nginx/commcarehq.access.log"),
    ("celery-00", "/home/cchq/www/production/log/celery_background_queue.log"),
    (
        "pillowtop-00",
        "/home/cchq/www/production/log/pillowtop-case-pillow-0.log",
    ),
];

/// The config naming the generated fleet: every pillow, queue and host, and an Elasticsearch URL
/// no client is made for (the demo connects nothing: the pollers are generated).
pub fn config(size: &Size) -> Config {
    let mut config = Config::default();
    config.general.environment = "demo XL (generated)".into();
    config.general.refresh = ConfigDuration::secs(STEP_SECS);
    config.pillows.history = HISTORY as usize;
    config.pillows.pillows = (0..size.pillows)
        .map(|i| {
            let name = pillow_name(i);
            PillowConfig {
                checkpoint_id: Some(format!("{name}-checkpoint")),
                group: None,
                topics: Vec::new(),
                processes: PILLOW_PROCESSES,
                dedicated_migration_process: false,
                hosts: vec![pillow_host(size, i)],
                program: format!("commcare-hq-production-pillowtop-{name}-{{n}}"),
                log_file: None,
                name,
            }
        })
        .collect();
    config.elasticsearch.url = "http://es-xl.generated.invalid:9200".into();
    config.aws.region = Some("us-east-1".into());
    config.aws.queues = (0..size.queues).map(queue_name).collect();
    config.ssh.log_buffer = size.log_lines.max(1);
    config.ssh.hosts = host_names(size.hosts)
        .into_iter()
        .map(|name| {
            let mut host = HostConfig::named(&name, TransportKind::Ssh);
            host.address = Some(format!("{name}.prod.generated.invalid"));
            host.supervisor = matches!(role(&name), "web" | "celery" | "pillowtop");
            host.logs = LOG_FILES
                .iter()
                .filter(|(h, _)| *h == name)
                .map(|(_, p)| p.to_string())
                .collect();
            host
        })
        .collect();
    config
}
