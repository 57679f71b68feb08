//! The config file: schema, where it is found, and validation that names file, line and key.

pub mod aws;
pub mod duration;
pub mod elasticsearch;
pub mod file;
pub mod load;
pub mod logs;
pub mod pg_conninfo;
pub mod pillows;
pub mod ssh;

pub use duration::ConfigDuration;
pub use load::{ConfigError, Located, load_file, load_file_with, locate, parse_str, parse_str_with};

use crate::actions::Risk;
use serde::Deserialize;
use std::path::PathBuf;

/// The whole config file. Every section is optional; an empty file is a console with nothing to poll.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub general: GeneralConfig,
    #[serde(default)]
    pub pillows: pillows::PillowsConfig,
    #[serde(default)]
    pub elasticsearch: elasticsearch::EsConfig,
    #[serde(default)]
    pub aws: aws::AwsConfig,
    #[serde(default)]
    pub ssh: ssh::SshConfig,
    /// Custom actions (like k9s plugins).
    #[serde(default)]
    pub actions: Vec<CustomAction>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneralConfig {
    /// Show action plans but refuse to run them.
    pub read_only: bool,
    /// Theme name (`default`, `mono`, `midnight`, or a file in the config dir's `themes/`).
    pub theme: String,
    /// Keymap name (`default`, `vim`, or a file in the config dir's `keymaps/`).
    pub keymap: String,
    /// Where the audit log goes (default: the XDG state dir).
    pub audit_log: Option<PathBuf>,
    /// Where opsdeck's own log goes (default: the XDG state dir).
    pub log_file: Option<PathBuf>,
    /// Default poll interval for sources that do not set their own.
    pub refresh: ConfigDuration,
    /// A label for the fleet, shown in the title bar (e.g. `production`).
    pub environment: String,
}

impl Default for GeneralConfig {
    fn default() -> Self {
        Self {
            read_only: false,
            theme: "default".into(),
            keymap: "default".into(),
            audit_log: None,
            log_file: None,
            refresh: ConfigDuration::secs(10),
            environment: String::new(),
        }
    }
}

/// A custom action bound to a key in a pane, run over SSH or locally.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomAction {
    pub name: String,
    /// Key string, e.g. `ctrl-t` or `T`.
    pub key: String,
    /// Where it applies: a pane (`hosts`) or a pane's row kind (`pillows.partition`); `all` for everywhere.
    pub scope: String,
    /// Shell command template; `{{var}}` values come from the selected row and are shell-escaped.
    pub command: String,
    /// `local`, or a host name from `[ssh]` config; `{{host}}` takes the row's host.
    #[serde(default = "default_run_on")]
    pub run_on: String,
    #[serde(default = "default_risk")]
    pub risk: Risk,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_action_timeout")]
    pub timeout: ConfigDuration,
}

fn default_run_on() -> String {
    "local".into()
}
fn default_risk() -> Risk {
    Risk::Medium
}
fn default_action_timeout() -> ConfigDuration {
    ConfigDuration::secs(60)
}

/// A problem found after parsing, located by its key path (`elasticsearch.url`, `actions[2].key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub path: String,
    pub message: String,
}

impl ConfigIssue {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Checks that serde cannot express. Each issue names the key it is about.
    pub fn validate(&self) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        self.general
            .refresh
            .check("general.refresh", &duration::POLL_INTERVAL, &mut issues);
        // A FIFO or a device (`/dev/full`) would block the start or swallow what is written.
        for (key, path) in [
            ("general.audit_log", &self.general.audit_log),
            ("general.log_file", &self.general.log_file),
        ] {
            if let Some(why) = path.as_deref().and_then(|p| file::regular_or_absent(p).err()) {
                issues.push(ConfigIssue::new(key, why));
            }
        }
        self.pillows.validate(&mut issues);
        self.elasticsearch.validate(&mut issues);
        self.aws.validate(&mut issues);
        self.ssh.validate(&mut issues);
        logs::validate(self, &mut issues);
        crate::actions::custom::validate(&self.actions, &self.ssh, &mut issues);
        for (i, a) in self.actions.iter().enumerate() {
            a.timeout
                .check(&format!("actions[{i}].timeout"), &duration::ACTION_TIMEOUT, &mut issues);
        }
        issues
    }
}
