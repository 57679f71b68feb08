//! Phase A stand-ins for what `opsdeck-core` provides (config durations and issues, bounded file
//! reads, risk and outcome, severity, short durations). Same names and shapes as core's, so integrating the crate swaps this
//! module for `use opsdeck_core::...` and nothing else changes.

use serde::{Deserialize, Deserializer, Serialize};
use std::io::Read;
use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

/// A problem found after parsing, located by its key path (`rabbitmq.instances[0].url`).
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

pub mod duration {
    use std::ops::RangeInclusive;
    use std::time::Duration;

    const DAY: u64 = 24 * 3600;
    pub const MAX: Duration = Duration::from_secs(365 * DAY);
    pub const POLL_INTERVAL: RangeInclusive<Duration> = Duration::from_millis(100)..=Duration::from_secs(DAY);
    pub const CALL_TIMEOUT: RangeInclusive<Duration> = Duration::from_millis(1)..=Duration::from_secs(3600);
    pub const LONG_WAIT: RangeInclusive<Duration> = Duration::from_millis(1)..=Duration::from_secs(7 * DAY);
}

/// A `Duration` read from strings like `"5s"` or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfigDuration(pub Duration);

impl ConfigDuration {
    pub const fn secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }
    pub const fn millis(ms: u64) -> Self {
        Self(Duration::from_millis(ms))
    }
    pub fn get(self) -> Duration {
        self.0
    }

    pub fn check(self, key: &str, range: &RangeInclusive<Duration>, issues: &mut Vec<ConfigIssue>) {
        if !range.contains(&self.0) {
            issues.push(ConfigIssue::new(
                key,
                format!(
                    "{} is out of range: from {} to {}",
                    humantime::format_duration(self.0),
                    humantime::format_duration(*range.start()),
                    humantime::format_duration(*range.end())
                ),
            ));
        }
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        let d = match Raw::deserialize(d)
            .map_err(|_| serde::de::Error::custom("expected a duration like \"30s\", \"5m\" or a number of seconds"))?
        {
            Raw::Secs(s) => Duration::from_secs(s),
            Raw::Text(t) => humantime::parse_duration(t.trim()).map_err(|e| {
                serde::de::Error::custom(format!("bad duration {t:?}: {e} (try \"30s\", \"5m\", \"1h\")"))
            })?,
        };
        if d > duration::MAX {
            return Err(serde::de::Error::custom("duration longer than a year"));
        }
        Ok(Self(d))
    }
}

/// At most `cap` bytes of the regular file at `path` (a FIFO or a device is refused unread).
pub fn read_regular(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    // O_NONBLOCK: a path swapped for a FIFO between the check and the open cannot block us.
    let file = std::fs::OpenOptions::new().read(true).custom_flags(0o4000).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok(bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: OutcomeResult,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeResult {
    Succeeded,
    Unverified,
    Failed,
    Stopped,
}

impl Outcome {
    pub fn succeeded(summary: impl Into<String>) -> Self {
        Self {
            result: OutcomeResult::Succeeded,
            summary: summary.into(),
        }
    }
    pub fn unverified(summary: impl Into<String>) -> Self {
        Self {
            result: OutcomeResult::Unverified,
            summary: summary.into(),
        }
    }
    pub fn failed(summary: impl Into<String>) -> Self {
        Self {
            result: OutcomeResult::Failed,
            summary: summary.into(),
        }
    }
    pub fn stopped(summary: impl Into<String>) -> Self {
        Self {
            result: OutcomeResult::Stopped,
            summary: summary.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Ok,
    Warning,
    Critical,
}

/// A duration the way people say it on a dashboard ("12s", "5m", "3h", "2d").
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}
