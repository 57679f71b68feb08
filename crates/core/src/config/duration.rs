//! Durations in config files: `"30s"`, `"5m"`, `"1h 30m"` (humantime), or a bare number of seconds.
//! Every duration has a range: longer than a year is refused where it is read (a typo, and deadlines
//! and sums built from it would overflow), and each key checks its own sane range in `validate`.

use super::ConfigIssue;
use serde::{Deserialize, Deserializer};
use std::ops::RangeInclusive;
use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The longest duration any key accepts.
pub const MAX: Duration = Duration::from_secs(365 * DAY);

/// How often a source may be polled: not more than ten times a second, at least once a day.
pub const POLL_INTERVAL: RangeInclusive<Duration> = Duration::from_millis(100)..=Duration::from_secs(DAY);
/// One network call or remote command (an HTTP request, a Kafka or Postgres call, `df` on a host).
pub const CALL_TIMEOUT: RangeInclusive<Duration> = Duration::from_millis(1)..=Duration::from_secs(HOUR);
/// A whole procedure or a wait for a cluster to settle (a drain, a bounce, a restart verified).
pub const LONG_WAIT: RangeInclusive<Duration> = Duration::from_millis(1)..=Duration::from_secs(7 * DAY);
/// One custom action.
pub const ACTION_TIMEOUT: RangeInclusive<Duration> = Duration::from_millis(1)..=Duration::from_secs(DAY);

/// A `Duration` that reads human strings from config files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfigDuration(pub Duration);

impl ConfigDuration {
    pub const fn secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }
    pub fn get(self) -> Duration {
        self.0
    }

    /// Adds an issue for `key` unless the duration lies in `range`.
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

impl From<ConfigDuration> for Duration {
    fn from(d: ConfigDuration) -> Self {
        d.0
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
        if d > MAX {
            return Err(serde::de::Error::custom(format!(
                "duration {} is longer than a year",
                humantime::format_duration(d)
            )));
        }
        Ok(Self(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> Result<ConfigDuration, String> {
        #[derive(Deserialize)]
        struct T {
            d: ConfigDuration,
        }
        toml::from_str::<T>(&format!("d = {v}"))
            .map(|t| t.d)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn longer_than_a_year_is_refused_where_it_is_read() {
        assert_eq!(parse("\"1h 30m\"").unwrap().get(), Duration::from_secs(5400));
        assert_eq!(parse("30").unwrap().get(), Duration::from_secs(30));
        assert_eq!(parse("\"365d\"").unwrap().get(), MAX);
        for huge in ["\"500000000000y\"", "\"366d\"", "18446744073709551615"] {
            let e = parse(huge).unwrap_err();
            assert!(
                e.contains("longer than a year") || e.contains("bad duration"),
                "{huge}: {e}"
            );
        }
    }

    #[test]
    fn a_key_checks_its_own_range() {
        let mut issues = Vec::new();
        ConfigDuration::secs(2 * HOUR).check("x.timeout", &CALL_TIMEOUT, &mut issues);
        ConfigDuration::secs(0).check("x.refresh", &POLL_INTERVAL, &mut issues);
        ConfigDuration::secs(10).check("x.fine", &CALL_TIMEOUT, &mut issues);
        let text: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect();
        assert_eq!(
            text,
            [
                "x.timeout: 2h is out of range: from 1ms to 1h",
                "x.refresh: 0s is out of range: from 100ms to 1day"
            ]
        );
    }
}
