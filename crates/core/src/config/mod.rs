//! Config infrastructure every section shares: finding the file, reading it (regular files only,
//! bounded), the loader that parses each section on its own and reports every mistake as
//! `FILE:LINE: key: what is wrong`, durations with ranges, and the issues a section's own checks find.

pub mod duration;
pub mod file;
pub mod load;

pub use duration::ConfigDuration;
pub use load::{ConfigError, ConfigRoot, ExtraChecks, Located, locate};

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
