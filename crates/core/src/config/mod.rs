//! Config infrastructure every section shares: finding the file, reading it (regular files only,
//! bounded), the loader that parses each section on its own and reports every mistake as
//! `FILE:LINE: key: what is wrong`, durations with ranges, and the issues a section's own checks find.

pub mod duration;
pub mod file;
pub mod load;

pub use duration::ConfigDuration;

pub use load::{ConfigError, ConfigRoot, ExtraChecks, Located, locate};
use serde::Deserialize;
use std::path::PathBuf;

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

/// The `[general]` section: what every pane and the console itself read.
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
