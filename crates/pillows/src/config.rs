//! Config section for pillows: Kafka consumer groups and Postgres checkpoint tables.

use crate::Pillows;
use crate::model::{Assignment, CheckpointKind, EvalSettings, ProcessRef};
use opsdeck_core::config::{ConfigDuration, ConfigIssue, duration};
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::PaneConfigs;
use opsdeck_hosts::Hosts;
use opsdeck_hosts::config::{SshConfig, check_log_template, fill_placeholders, not_a_host};
use serde::Deserialize;
use std::time::Duration;

/// Most samples kept per partition (each pillow's partitions keep this many).
pub const MAX_HISTORY: usize = 10_000;
/// Most supervisor processes one pillow may have.
pub const MAX_PROCESSES: usize = 1_024;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PillowsConfig {
    /// Kafka bootstrap servers, `host:port,host:port`.
    pub brokers: String,
    /// Extra librdkafka properties for the probe clients (e.g. `security.protocol`).
    pub kafka_properties: std::collections::BTreeMap<String, String>,
    /// Postgres connection string for `pillowtop_kafkacheckpoint` (libpq style or URL); use a
    /// read-only role unless you want the move-checkpoint action.
    pub postgres: Option<String>,
    /// The checkpoint table (CommCare HQ: `pillowtop_kafkacheckpoint`).
    pub checkpoint_table: String,
    /// Time between polls (default: `general.refresh`).
    pub interval: Option<ConfigDuration>,
    /// Longest a single network call (Kafka request, Postgres connect or statement) may take.
    pub timeout: ConfigDuration,
    /// Samples kept per partition (the drill-down chart's span is this × interval).
    pub history: usize,
    /// Restart supervisor programs: split into words like a shell would (no shell runs it); a
    /// `{program}` word becomes one word per program.
    pub restart_command: String,
    /// Ask a program's state; its output must contain `RUNNING` when it runs.
    pub status_command: String,
    /// How long a restart waits to see the process RUNNING and its partitions advance.
    pub verify_timeout: ConfigDuration,
    /// Log file of every pillow process, for "tail its log": `{pillow}`, `{n}` and `{program}` are
    /// filled in. Unset: the supervisor program's own output (`supervisorctl tail -f`).
    pub log_file: Option<String>,
    pub thresholds: PillowThresholds,
    #[serde(rename = "pillow")]
    pub pillows: Vec<PillowConfig>,
}

impl Default for PillowsConfig {
    fn default() -> Self {
        Self {
            brokers: String::new(),
            kafka_properties: Default::default(),
            postgres: None,
            checkpoint_table: "pillowtop_kafkacheckpoint".into(),
            interval: None,
            timeout: ConfigDuration::secs(10),
            history: 120,
            restart_command: "sudo -n supervisorctl restart {program}".into(),
            status_command: "sudo -n supervisorctl status {program}".into(),
            verify_timeout: ConfigDuration::secs(120),
            log_file: None,
            thresholds: PillowThresholds::default(),
            pillows: Vec::new(),
        }
    }
}

/// Thresholds of the evaluator (defaults from HQ's colour bands and Datadog monitors).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PillowThresholds {
    /// A partition counts as lagging above this many changes.
    pub allowed_lag: i64,
    /// Total lag of a pillow for a warning / critical (HQ's `pillow_behind` monitor: 2500 / 5000).
    pub lag_warning: i64,
    pub lag_critical: i64,
    /// Time lag for a warning / critical (HQ's `pillow_lag` monitor: 10m / 1h).
    pub time_lag_warning: ConfigDuration,
    pub time_lag_critical: ConfigDuration,
    /// A checkpoint unchanged for longer than this while lagging is stopped (HQ writes at least every 5m).
    pub checkpoint_grace: ConfigDuration,
    /// Window for consume/produce rates.
    pub rate_window: ConfigDuration,
    /// Share of partitions lagging that reads as "all partitions" (0..1).
    pub all_partitions_fraction: f64,
}

impl Default for PillowThresholds {
    fn default() -> Self {
        let d = EvalSettings::default();
        Self {
            allowed_lag: d.allowed_lag,
            lag_warning: d.lag_warning,
            lag_critical: d.lag_critical,
            time_lag_warning: ConfigDuration::secs(d.time_lag_warning as u64),
            time_lag_critical: ConfigDuration::secs(d.time_lag_critical as u64),
            checkpoint_grace: ConfigDuration(d.checkpoint_grace),
            rate_window: ConfigDuration(d.rate_window),
            all_partitions_fraction: d.all_fraction,
        }
    }
}

/// One pillow: a process group and where it keeps its checkpoints (exactly one of `checkpoint_id`, `group`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PillowConfig {
    pub name: String,
    /// Rows of the checkpoint table with this `checkpoint_id` (HQ: `run_ptop --list-checkpoints`).
    pub checkpoint_id: Option<String>,
    /// A Kafka consumer group whose committed offsets are the checkpoints.
    pub group: Option<String>,
    /// Topics of a consumer-group pillow (Postgres pillows take theirs from the rows).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Supervisor processes (`--num-processes`); 0 when opsdeck should not map partitions to processes.
    #[serde(default)]
    pub processes: usize,
    /// HQ's `--dedicated-migration-process`: process 0 owns no partitions.
    #[serde(default)]
    pub dedicated_migration_process: bool,
    /// Hosts running the processes: one for all, or one per process (`local` runs on this machine).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Supervisor program name; `{n}` is the process number.
    #[serde(default)]
    pub program: String,
    /// This pillow's log file (overrides `pillows.log_file`; same placeholders).
    pub log_file: Option<String>,
}

impl PillowConfig {
    pub fn kind(&self) -> CheckpointKind {
        if self.group.is_some() {
            CheckpointKind::KafkaGroup
        } else {
            CheckpointKind::Postgres
        }
    }

    /// The checkpoint id or group name.
    pub fn checkpoint(&self) -> &str {
        self.checkpoint_id.as_deref().or(self.group.as_deref()).unwrap_or("")
    }

    pub fn assignment(&self) -> Assignment {
        Assignment {
            processes: self.processes,
            dedicated_migration_process: self.dedicated_migration_process,
        }
    }

    /// The supervisor programs, process 0..N, each on its host.
    pub fn process_refs(&self) -> Vec<ProcessRef> {
        if self.program.is_empty() || self.hosts.is_empty() {
            return Vec::new();
        }
        (0..self.processes)
            .map(|n| ProcessRef {
                index: n,
                host: if self.hosts.len() == 1 {
                    self.hosts[0].clone()
                } else {
                    self.hosts.get(n).cloned().unwrap_or_default()
                },
                program: self.program.replace("{n}", &n.to_string()),
            })
            .collect()
    }
}

impl PillowsConfig {
    /// Whether the section configures anything to poll.
    pub fn is_enabled(&self) -> bool {
        !self.pillows.is_empty()
    }

    pub fn interval(&self, general: Duration) -> Duration {
        self.interval.map(ConfigDuration::get).unwrap_or(general)
    }

    pub fn settings(&self) -> EvalSettings {
        let t = &self.thresholds;
        EvalSettings {
            allowed_lag: t.allowed_lag,
            lag_warning: t.lag_warning,
            lag_critical: t.lag_critical,
            time_lag_warning: t.time_lag_warning.get().as_secs_f64(),
            time_lag_critical: t.time_lag_critical.get().as_secs_f64(),
            checkpoint_grace: t.checkpoint_grace.get(),
            rate_window: t.rate_window.get(),
            history: self.history,
            all_fraction: t.all_partitions_fraction,
        }
    }

    /// Checks that serde cannot express (references between sections, value ranges).
    pub fn validate(&self, issues: &mut Vec<ConfigIssue>) {
        if !self.is_enabled() {
            return;
        }
        if self.brokers.trim().is_empty() {
            issues.push(ConfigIssue::new(
                "pillows.brokers",
                "needed to read log offsets (host:port,...)",
            ));
        }
        check_kafka_properties(&self.kafka_properties, issues);
        if let Some(conn) = &self.postgres {
            check_postgres_conn(conn, issues);
        }
        self.timeout.check("pillows.timeout", &duration::CALL_TIMEOUT, issues);
        self.verify_timeout
            .check("pillows.verify_timeout", &duration::LONG_WAIT, issues);
        if let Some(i) = self.interval {
            i.check("pillows.interval", &duration::POLL_INTERVAL, issues);
        }
        if !(2..=MAX_HISTORY).contains(&self.history) {
            issues.push(ConfigIssue::new(
                "pillows.history",
                format!("keep from 2 to {MAX_HISTORY} samples"),
            ));
        }
        if !self
            .checkpoint_table
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            issues.push(ConfigIssue::new(
                "pillows.checkpoint_table",
                "must be a plain table name (letters, digits, _; optionally schema.table)",
            ));
        }
        for (key, template) in [
            ("pillows.restart_command", &self.restart_command),
            ("pillows.status_command", &self.status_command),
        ] {
            if !template.contains("{program}") {
                issues.push(ConfigIssue::new(key, "must contain {program}"));
            } else if shlex::split(template).is_none() {
                issues.push(ConfigIssue::new(key, "unbalanced quotes"));
            }
        }
        let t = &self.thresholds;
        for (key, value) in [
            ("allowed_lag", t.allowed_lag),
            ("lag_warning", t.lag_warning),
            ("lag_critical", t.lag_critical),
        ] {
            if value < 0 {
                issues.push(ConfigIssue::new(
                    format!("pillows.thresholds.{key}"),
                    "must not be negative",
                ));
            }
        }
        if t.lag_warning > t.lag_critical {
            issues.push(ConfigIssue::new(
                "pillows.thresholds.lag_warning",
                "must not exceed lag_critical",
            ));
        }
        if !(0.0..=1.0).contains(&t.all_partitions_fraction) {
            issues.push(ConfigIssue::new(
                "pillows.thresholds.all_partitions_fraction",
                "must be between 0 and 1",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.pillows.iter().enumerate() {
            let at = |k: &str| format!("pillows.pillow[{i}].{k}");
            if p.name.trim().is_empty() {
                issues.push(ConfigIssue::new(at("name"), "must not be empty"));
            } else if !seen.insert(p.name.clone()) {
                issues.push(ConfigIssue::new(at("name"), format!("{:?} appears twice", p.name)));
            }
            match (&p.checkpoint_id, &p.group) {
                (Some(_), Some(_)) | (None, None) => issues.push(ConfigIssue::new(
                    at("checkpoint_id"),
                    "set exactly one of checkpoint_id (Postgres checkpoints) or group (Kafka consumer group)",
                )),
                (Some(_), None) if self.postgres.is_none() => issues.push(ConfigIssue::new(
                    at("checkpoint_id"),
                    "needs pillows.postgres (the database holding the checkpoint table)",
                )),
                (None, Some(_)) if p.topics.is_empty() => issues.push(ConfigIssue::new(
                    at("group"),
                    "a consumer-group pillow needs its topics (topics = [\"...\"])",
                )),
                _ => {}
            }
            if !p.hosts.is_empty() && p.hosts.len() != 1 && p.hosts.len() != p.processes {
                issues.push(ConfigIssue::new(
                    at("hosts"),
                    format!("give one host for all processes or one per process ({})", p.processes),
                ));
            }
            if !p.program.is_empty() && p.processes > 1 && !p.program.contains("{n}") {
                issues.push(ConfigIssue::new(
                    at("program"),
                    "must contain {n} (the process number) when there are several processes",
                ));
            }
            if !p.program.is_empty() && p.hosts.is_empty() {
                issues.push(ConfigIssue::new(at("hosts"), "needed to restart the program"));
            }
            if p.processes > MAX_PROCESSES {
                issues.push(ConfigIssue::new(
                    at("processes"),
                    format!("at most {MAX_PROCESSES} processes"),
                ));
            }
            if p.dedicated_migration_process && p.processes < 2 {
                issues.push(ConfigIssue::new(
                    at("dedicated_migration_process"),
                    "needs at least 2 processes",
                ));
            }
        }
    }
}

/// Placeholders a pillow's `log_file` may use.
const PILLOW_VARS: &[&str] = &["pillow", "n", "program"];

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
            not_a_host(&process.host)
        ));
    }
    let template = pillow.log_file.as_ref().or(config.of::<Pillows>().log_file.as_ref());
    Ok(match template {
        Some(t) => {
            let n = process.index.to_string();
            let path = fill_placeholders(t, &[("pillow", &pillow.name), ("n", &n), ("program", &process.program)]);
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

/// The checks that tie pillows to the `[ssh]` hosts their processes run on, and their log templates.
pub fn validate_references(config: &PillowsConfig, ssh: &SshConfig, issues: &mut Vec<ConfigIssue>) {
    if let Some(t) = &config.log_file
        && let Some(why) = check_log_template(t, PILLOW_VARS)
    {
        issues.push(ConfigIssue::new("pillows.log_file", why));
    }
    for (i, p) in config.pillows.iter().enumerate() {
        if let Some(t) = &p.log_file
            && let Some(why) = check_log_template(t, PILLOW_VARS)
        {
            issues.push(ConfigIssue::new(format!("pillows.pillow[{i}].log_file"), why));
        }
        for (j, h) in p.hosts.iter().enumerate() {
            if !ssh.knows(h) {
                issues.push(ConfigIssue::new(
                    format!("pillows.pillow[{i}].hosts[{j}]"),
                    not_a_host(h),
                ));
            }
        }
    }
}

/// A connection string this build can honour, naming TLS files that can be read.
fn check_postgres_conn(conn: &str, issues: &mut Vec<ConfigIssue>) {
    let tls = match opsdeck_pg::conninfo::split_tls(conn) {
        Ok((rest, tls)) => match rest.parse::<tokio_postgres::Config>() {
            Ok(_) => tls,
            Err(e) => return issues.push(ConfigIssue::new("pillows.postgres", format!("cannot parse: {e}"))),
        },
        Err(e) => return issues.push(ConfigIssue::new("pillows.postgres", e)),
    };
    let roots = match &tls.root_certs {
        Some(opsdeck_pg::conninfo::RootCerts::File(path)) => Some(("sslrootcert", path)),
        _ => None,
    };
    let client = tls
        .client_cert
        .iter()
        .flat_map(|(cert, key)| [("sslcert", cert), ("sslkey", key)]);
    for (key, path) in roots.into_iter().chain(client) {
        if let Err(e) = opsdeck_core::config::file::open_regular(path) {
            issues.push(ConfigIssue::new(
                "pillows.postgres",
                format!("{key} {}: {e}", path.display()),
            ));
        }
    }
}

/// Properties librdkafka accepts in this build: each is set on a native configuration (no client,
/// no network), which is where librdkafka refuses unknown names, bad values and features left out
/// of the build; Kerberos is refused by name because librdkafka only finds out when connecting.
fn check_kafka_properties(properties: &std::collections::BTreeMap<String, String>, issues: &mut Vec<ConfigIssue>) {
    for (key, value) in properties {
        let at = format!("pillows.kafka_properties.\"{key}\"");
        let mechanisms = matches!(key.as_str(), "sasl.mechanisms" | "sasl.mechanism");
        if mechanisms && value.split(',').any(|m| m.trim().eq_ignore_ascii_case("GSSAPI")) {
            issues.push(ConfigIssue::new(
                at,
                "GSSAPI (Kerberos) is not built into this opsdeck; PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER are",
            ));
            continue;
        }
        let mut one = rdkafka::ClientConfig::new();
        one.set(key, value);
        if let Err(e) = one.create_native_config() {
            let why = match e {
                rdkafka::error::KafkaError::ClientConfig(_, why, _, _) => why,
                other => other.to_string(),
            };
            issues.push(ConfigIssue::new(at, opsdeck_core::text::clean(&why)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_core::logs::LogTarget;
    use opsdeck_core::pane::Sections;
    use opsdeck_hosts::config::{HostConfig, TransportKind};

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

    fn ssh() -> SshConfig {
        SshConfig {
            hosts: vec![
                HostConfig::named("pillow1", TransportKind::Ssh),
                HostConfig::named("pillow2", TransportKind::Ssh),
            ],
            ..SshConfig::default()
        }
    }

    fn configs(pillows: PillowsConfig) -> Sections {
        Sections::default().with::<Pillows>(pillows).with::<Hosts>(ssh())
    }

    #[test]
    fn a_pillow_process_log_is_its_program_unless_a_file_is_configured() {
        let p = pillow();
        let logs = pillow_logs(&configs(PillowsConfig::default()), &p).unwrap();
        assert_eq!(
            logs,
            [
                LogSource::program("pillow1", "hq-pillowtop-case-pillow-0"),
                LogSource::program("pillow2", "hq-pillowtop-case-pillow-1"),
            ]
        );
        let c = configs(PillowsConfig {
            log_file: Some("/var/log/{pillow}/{n}-{program}.log".into()),
            ..PillowsConfig::default()
        });
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
        let c = configs(PillowsConfig::default());
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
    fn log_templates_and_process_hosts_are_checked() {
        let c = PillowsConfig {
            log_file: Some("logs/{pillow}.log".into()),
            pillows: vec![PillowConfig {
                log_file: Some("/x/{proces}.log".into()),
                hosts: vec!["pillow1".into(), "pilow2".into()],
                ..pillow()
            }],
            ..PillowsConfig::default()
        };
        let mut issues = Vec::new();
        validate_references(&c, &ssh(), &mut issues);
        let got: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect();
        let all = got.join("\n");
        for want in [
            "pillows.log_file: must be an absolute path",
            "pillows.pillow[0].log_file: unknown placeholder {proces}",
            "pillows.pillow[0].hosts[1]: \"pilow2\" is not a host in [ssh]",
        ] {
            assert!(all.contains(want), "missing {want:?} in:\n{all}");
        }
        assert_eq!(got.len(), 3, "{all}");
    }
}
