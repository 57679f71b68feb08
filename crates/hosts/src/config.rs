//! Config section for hosts over SSH: their disks, crash dumps, supervisor programs and log tails.
//!
//! ```toml
//! [ssh]
//! known_hosts = "~/.ssh/known_hosts"
//! [[ssh.hosts]]
//! name = "es-data-1"
//! logs = ["/var/log/elasticsearch/es.log"]
//! ```

use opsdeck_core::config::{ConfigDuration, ConfigIssue, duration};
use serde::Deserialize;
use std::path::PathBuf;

/// Most lines the logs pane may keep (each up to 4 KiB).
pub const MAX_LOG_BUFFER: usize = 1_000_000;
/// Most lines of history a tail may start with.
pub const MAX_TAIL_LINES: u32 = 100_000;
/// Deepest `find` may look under a junk path.
pub const MAX_JUNK_DEPTH: u32 = 32;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshConfig {
    /// The hosts to watch.
    pub hosts: Vec<HostConfig>,
    /// known_hosts file checked strictly (never auto-accepted). Default: ssh's own (`~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// An ssh_config file used instead of `~/.ssh/config` (`ssh -F`). Default: ssh's own.
    pub config_file: Option<PathBuf>,
    /// Where the multiplexed master sockets live (keep it short: unix sockets allow ~100 bytes).
    pub control_dir: Option<PathBuf>,
    /// Poll interval for hosts (default: general.refresh).
    pub refresh: Option<ConfigDuration>,
    /// Longest a single remote command may run (df, status, find).
    pub command_timeout: ConfigDuration,
    /// Longest connecting (including jump hosts) may take.
    pub connect_timeout: ConfigDuration,
    /// Concurrent commands per host; sshd's MaxSessions is 10 by default, so keep it below that.
    pub max_sessions: usize,
    /// Concurrent log tails and du scans per host (on top of `max_sessions`; together below sshd's 10).
    pub max_tails: usize,
    /// Supervisor command template; `{action}` and `{program}` are filled in (shell-escaped).
    pub supervisor_command: String,
    /// Words put in front of the file commands (`find` for junk, `du`, `rm` and its check), e.g.
    /// `["sudo", "-n"]` where crash dumps and data directories belong to another user. Default:
    /// none (the ssh user's own rights).
    pub files_prefix: Vec<String>,
    /// Junk patterns (find -name globs) looked for under each host's `junk_paths`.
    pub junk_patterns: Vec<String>,
    /// How deep `find` looks under each junk path.
    pub junk_depth: u32,
    /// Disk usage warning and critical thresholds, percent.
    pub disk_warn: f64,
    pub disk_crit: f64,
    /// Inode usage thresholds, percent.
    pub inode_warn: f64,
    pub inode_crit: f64,
    /// Lines the logs pane keeps (across every tail).
    pub log_buffer: usize,
    /// Lines of history each tail starts with.
    pub tail_lines: u32,
}

impl Default for SshConfig {
    fn default() -> Self {
        Self {
            hosts: Vec::new(),
            known_hosts: None,
            config_file: None,
            control_dir: None,
            refresh: None,
            command_timeout: ConfigDuration::secs(15),
            connect_timeout: ConfigDuration::secs(10),
            max_sessions: 6,
            max_tails: 3,
            supervisor_command: "sudo -n supervisorctl {action} {program}".into(),
            files_prefix: Vec::new(),
            junk_patterns: vec![
                "*.hprof".into(),
                "core".into(),
                "core.[0-9]*".into(),
                "hs_err_pid*.log".into(),
            ],
            junk_depth: 2,
            disk_warn: 80.0,
            disk_crit: 90.0,
            inode_warn: 80.0,
            inode_crit: 90.0,
            log_buffer: crate::model::logs::DEFAULT_CAPACITY,
            tail_lines: 50,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// Over SSH (the default).
    #[default]
    Ssh,
    /// Commands run on the machine opsdeck runs on.
    Local,
}

impl TransportKind {
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Ssh => "ssh",
            TransportKind::Local => "local",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Shown in the pane; also the ssh destination when `address` is not set (so ssh_config aliases work).
    pub name: String,
    #[serde(default)]
    pub transport: TransportKind,
    /// ssh destination (hostname, IP or ssh_config alias).
    pub address: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    /// Private key (unencrypted or in the agent: BatchMode allows no passphrase prompt).
    pub identity_file: Option<PathBuf>,
    /// Jump hosts (`ssh -J`), in order. They are configured in ssh_config, not here.
    #[serde(default)]
    pub jump: Vec<String>,
    /// Whether supervisor runs here (`supervisorctl status` is polled).
    #[serde(default)]
    pub supervisor: bool,
    /// Overrides `ssh.supervisor_command` for this host.
    pub supervisor_command: Option<String>,
    /// Overrides `ssh.files_prefix` for this host.
    pub files_prefix: Option<Vec<String>>,
    /// Directories searched for junk (`*.hprof` under the ES dir...).
    #[serde(default)]
    pub junk_paths: Vec<String>,
    /// Log files the logs pane can tail.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Local transport only: directories put in front of PATH (wrappers, the demo's simulated tools).
    #[serde(default)]
    pub path_prepend: Vec<PathBuf>,
}

impl HostConfig {
    /// A host with nothing but a name and a transport set (the rest as an empty config entry).
    pub fn named(name: &str, transport: TransportKind) -> Self {
        Self {
            name: name.into(),
            transport,
            address: None,
            user: None,
            port: None,
            identity_file: None,
            jump: Vec::new(),
            supervisor: false,
            supervisor_command: None,
            files_prefix: None,
            junk_paths: Vec::new(),
            logs: Vec::new(),
            path_prepend: Vec::new(),
        }
    }

    /// `local`: this machine, which needs no `[[ssh.hosts]]` entry.
    pub fn local() -> Self {
        Self::named("local", TransportKind::Local)
    }

    pub fn destination(&self) -> &str {
        self.address.as_deref().unwrap_or(&self.name)
    }
}

impl SshConfig {
    /// Whether the section configures anything to poll.
    pub fn is_enabled(&self) -> bool {
        !self.hosts.is_empty()
    }

    pub fn host(&self, name: &str) -> Option<&HostConfig> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// Whether commands and tails can reach `name`: a configured host, or `local` (this machine).
    pub fn knows(&self, name: &str) -> bool {
        name == "local" || self.host(name).is_some()
    }

    pub fn supervisor_template<'a>(&'a self, host: &'a HostConfig) -> &'a str {
        host.supervisor_command.as_deref().unwrap_or(&self.supervisor_command)
    }

    /// The words in front of `host`'s file commands (`sudo -n`, or none).
    pub fn files_prefix_of(&self, host: &str) -> &[String] {
        self.host(host)
            .and_then(|h| h.files_prefix.as_deref())
            .unwrap_or(&self.files_prefix)
    }

    /// Checks that serde cannot express (references between sections, value ranges).
    pub fn validate(&self, issues: &mut Vec<ConfigIssue>) {
        // Saturating: the sum of two values from the file must not overflow (it is only compared).
        let sessions = self.max_sessions.saturating_add(self.max_tails);
        if self.max_sessions == 0 {
            issues.push(ConfigIssue::new("ssh.max_sessions", "must be at least 1"));
        } else if sessions >= 10 {
            issues.push(ConfigIssue::new(
                "ssh.max_sessions",
                format!(
                    "max_sessions + max_tails = {sessions}: sshd allows 10 sessions per connection by default (MaxSessions); keep the sum below 10"
                ),
            ));
        }
        if self.max_tails == 0 {
            issues.push(ConfigIssue::new("ssh.max_tails", "must be at least 1"));
        }
        self.command_timeout
            .check("ssh.command_timeout", &duration::CALL_TIMEOUT, issues);
        self.connect_timeout
            .check("ssh.connect_timeout", &duration::CALL_TIMEOUT, issues);
        if let Some(r) = self.refresh {
            r.check("ssh.refresh", &duration::POLL_INTERVAL, issues);
        }
        check_thresholds("disk", self.disk_warn, self.disk_crit, issues);
        check_thresholds("inode", self.inode_warn, self.inode_crit, issues);
        check_prefix(&self.files_prefix, "ssh.files_prefix", issues);
        if !(1..=MAX_LOG_BUFFER).contains(&self.log_buffer) {
            issues.push(ConfigIssue::new(
                "ssh.log_buffer",
                format!("from 1 to {MAX_LOG_BUFFER} lines"),
            ));
        }
        if self.tail_lines > MAX_TAIL_LINES {
            issues.push(ConfigIssue::new(
                "ssh.tail_lines",
                format!("at most {MAX_TAIL_LINES} lines"),
            ));
        }
        if self.junk_depth > MAX_JUNK_DEPTH {
            issues.push(ConfigIssue::new(
                "ssh.junk_depth",
                format!("at most {MAX_JUNK_DEPTH} levels"),
            ));
        }
        check_template(&self.supervisor_command, "ssh.supervisor_command", issues);
        for (i, p) in self.junk_patterns.iter().enumerate() {
            if p.is_empty() || p.contains('/') {
                issues.push(ConfigIssue::new(
                    format!("ssh.junk_patterns[{i}]"),
                    "a file name pattern like \"*.hprof\" (no slashes)",
                ));
            }
        }
        for (i, h) in self.hosts.iter().enumerate() {
            let at = |k: &str| format!("ssh.hosts[{i}].{k}");
            if h.name.trim().is_empty() {
                issues.push(ConfigIssue::new(at("name"), "must not be empty"));
            }
            if h.name.chars().any(|c| c.is_control()) {
                issues.push(ConfigIssue::new(at("name"), "must not contain control characters"));
            }
            if self.hosts[..i].iter().any(|o| o.name == h.name) {
                issues.push(ConfigIssue::new(at("name"), format!("duplicate host {:?}", h.name)));
            }
            // A destination starting with '-' would be read by ssh as an option.
            if h.destination().starts_with('-') || h.jump.iter().any(|j| j.starts_with('-')) {
                issues.push(ConfigIssue::new(at("address"), "must not start with '-'"));
            }
            if let Some(t) = &h.supervisor_command {
                check_template(t, &at("supervisor_command"), issues);
            }
            if let Some(p) = &h.files_prefix {
                check_prefix(p, &at("files_prefix"), issues);
            }
            if h.transport == TransportKind::Ssh && !h.path_prepend.is_empty() {
                issues.push(ConfigIssue::new(
                    at("path_prepend"),
                    "only applies to the local transport",
                ));
            }
            for (j, p) in h.junk_paths.iter().chain(&h.logs).enumerate() {
                if !p.starts_with('/') {
                    let key = if j < h.junk_paths.len() {
                        format!("junk_paths[{j}]")
                    } else {
                        format!("logs[{}]", j - h.junk_paths.len())
                    };
                    issues.push(ConfigIssue::new(at(&key), "must be an absolute path"));
                }
            }
        }
    }
}

/// `ssh.{what}_warn` and `_crit`: percentages, warning not above critical.
fn check_thresholds(what: &str, warn: f64, crit: f64, issues: &mut Vec<ConfigIssue>) {
    let (warn_key, crit_key) = (format!("ssh.{what}_warn"), format!("ssh.{what}_crit"));
    let mut in_range = true;
    for (key, value) in [(&warn_key, warn), (&crit_key, crit)] {
        if !(0.0..=100.0).contains(&value) {
            issues.push(ConfigIssue::new(key.clone(), "a percentage (0-100)"));
            in_range = false;
        }
    }
    if in_range && warn > crit {
        issues.push(ConfigIssue::new(warn_key, format!("must not be above {crit_key}")));
    }
}

/// Prefix words each travel as their own (quoted) word, so no shell text is allowed or needed.
fn check_prefix(words: &[String], key: &str, issues: &mut Vec<ConfigIssue>) {
    if words.iter().any(|w| w.is_empty() || w.chars().any(char::is_control)) {
        issues.push(ConfigIssue::new(
            key,
            "words must be non-empty, without control characters",
        ));
    } else if words.first().is_some_and(|w| w.starts_with('-')) {
        issues.push(ConfigIssue::new(
            key,
            "must start with a command (like \"sudo\"), not an option",
        ));
    }
}

fn check_template(t: &str, key: &str, issues: &mut Vec<ConfigIssue>) {
    if !t.contains("{action}") || !t.contains("{program}") {
        issues.push(ConfigIssue::new(key, "must contain {action} and {program}"));
    }
}

/// A log file template (a pillow's or a node's `log_file`) with each `{name}` replaced by its value.
pub fn fill_placeholders(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(template.to_string(), |out, (name, value)| {
        out.replace(&format!("{{{name}}}"), value)
    })
}

/// Problems with a log file template: not absolute, or a placeholder outside `known`.
pub fn check_log_template(template: &str, known: &[&str]) -> Option<String> {
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

/// What a config key naming an unknown host is told.
pub fn not_a_host(host: &str) -> String {
    format!("{host:?} is not a host in [ssh] (add a [[ssh.hosts]] entry named {host:?}, or use \"local\")")
}

#[cfg(test)]
mod tests {
    use opsdeck_core::pane::parse_section;
    use std::path::Path;

    fn errors(text: &str) -> Vec<String> {
        match parse_section::<crate::Hosts>(text, Path::new("c.toml")) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn mistakes_are_reported_with_their_key_and_line() {
        let e = errors(
            "[ssh]\nmax_sessions = 9\nrefresh = \"0s\"\nsupervisor_command = \"supervisorctl restart\"\ninode_crit = 101\nfiles_prefix = [\"-n\"]\n\n[[ssh.hosts]]\nname = \"a\"\naddress = \"-oProxyCommand=x\"\nlogs = [\"relative.log\"]\nfiles_prefix = [\"sudo\", \"\"]\n[[ssh.hosts]]\nname = \"a\"\n",
        );
        let all = e.join("\n");
        for want in [
            "ssh.max_sessions",
            "ssh.refresh",
            "ssh.supervisor_command",
            "ssh.hosts[0].address",
            "ssh.hosts[0].logs[0]",
            "ssh.hosts[0].files_prefix",
            "ssh.hosts[1].name",
            "c.toml:5: ssh.inode_crit",
            "ssh.files_prefix",
        ] {
            assert!(all.contains(want), "{want} missing from:\n{all}");
        }
        assert!(all.contains("c.toml:2:"), "line numbers: {all}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = errors("[[ssh.hosts]]\nname = \"a\"\nhostname = \"typo\"\n");
        assert!(e.join("\n").contains("hostname"), "{e:?}");
    }
}
