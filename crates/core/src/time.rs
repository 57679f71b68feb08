//! Time helpers shared by panes, JSON output and the audit log.

use serde::Serializer;
use std::time::{Duration, SystemTime};

/// RFC 3339 in UTC with second precision, e.g. `2026-11-23T10:50:42Z`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn serialize_opt_rfc3339<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

pub fn serialize_rfc3339<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// Milliseconds since the epoch, as large buffers keep a time (8 bytes, not a `SystemTime`'s 16);
/// 0 before the epoch. [`from_unix_millis`] reads it back.
pub fn unix_millis(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The time [`unix_millis`] kept.
pub fn from_unix_millis(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

/// A short, human age: `4s`, `12m`, `3h`, `2d`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Age of `then` as seen at `now` ("12s ago"); a clock that went backwards reads as "just now".
pub fn age(now: SystemTime, then: SystemTime) -> String {
    match now.duration_since(then) {
        Ok(d) if d.as_secs() > 0 => format!("{} ago", short_duration(d)),
        _ => "just now".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_a_person_would_say_them() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000);
        assert_eq!(age(t + Duration::from_secs(12), t), "12s ago");
        assert_eq!(age(t + Duration::from_secs(125), t), "2m ago");
        assert_eq!(age(t + Duration::from_secs(7_300), t), "2h ago");
        assert_eq!(age(t, t + Duration::from_secs(3)), "just now");
        assert_eq!(rfc3339(t), "1970-01-01T02:46:40Z");
    }
}
