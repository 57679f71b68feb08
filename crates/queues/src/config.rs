//! Config section for AWS: SQS queues and DynamoDB tables (the queues pane).

use opsdeck_core::config::{ConfigDuration, ConfigIssue, duration};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AwsConfig {
    /// Named profile from ~/.aws/config (otherwise the normal chain: env, profile, SSO, instance role).
    pub profile: Option<String>,
    /// Region override (otherwise from the chain).
    pub region: Option<String>,
    /// Endpoint for every AWS call, for local testing (moto, the demo). Never set in production.
    pub endpoint_url: Option<String>,
    /// Static keys, only accepted together with `endpoint_url` (local emulators take any key).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Queues by name or URL.
    pub queues: Vec<String>,
    /// Queues discovered by name prefix (ListQueues) on every poll.
    pub queue_prefixes: Vec<String>,
    /// DynamoDB tables by name.
    pub tables: Vec<String>,
    /// Tables discovered by name prefix (ListTables) on every poll.
    pub table_prefixes: Vec<String>,
    /// Read CloudWatch (age of oldest message, consumed capacity, throttling).
    pub cloudwatch: bool,
    /// Poll interval (default: `general.refresh`).
    pub refresh: Option<ConfigDuration>,
    /// Longest any single AWS call may take (the SDK's operation timeout).
    pub timeout: ConfigDuration,
    /// Warn when the oldest message reaches this fraction of the queue's retention period.
    pub age_warn_fraction: f64,
    /// Critical when the oldest message reaches this fraction of the retention period (data loss is near).
    pub age_crit_fraction: f64,
    /// Warn when the backlog grows faster than this many messages per minute.
    pub growth_warn_per_min: f64,
    /// Warn when a queue holds more than this many messages (0: never).
    pub backlog_warn: u64,
    /// Warn when a dead-letter queue holds messages.
    pub dlq_warn: bool,
    /// Throttle events per CloudWatch period (1 minute) at which a table warns / is critical.
    pub throttle_warn: f64,
    pub throttle_crit: f64,
    /// Messages per second for redrives (StartMessageMoveTask's MaxNumberOfMessagesPerSecond).
    pub redrive_rate: u32,
}

impl Default for AwsConfig {
    fn default() -> Self {
        Self {
            profile: None,
            region: None,
            endpoint_url: None,
            access_key_id: None,
            secret_access_key: None,
            queues: Vec::new(),
            queue_prefixes: Vec::new(),
            tables: Vec::new(),
            table_prefixes: Vec::new(),
            cloudwatch: true,
            refresh: None,
            timeout: ConfigDuration::secs(10),
            age_warn_fraction: 0.5,
            age_crit_fraction: 0.8,
            growth_warn_per_min: 60.0,
            backlog_warn: 0,
            dlq_warn: true,
            throttle_warn: 1.0,
            throttle_crit: 100.0,
            redrive_rate: 50,
        }
    }
}

impl AwsConfig {
    /// Whether the section configures anything to poll.
    pub fn is_enabled(&self) -> bool {
        !(self.queues.is_empty()
            && self.queue_prefixes.is_empty()
            && self.tables.is_empty()
            && self.table_prefixes.is_empty())
    }

    /// Checks that serde cannot express (references between sections, value ranges).
    pub fn validate(&self, issues: &mut Vec<ConfigIssue>) {
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            issues.push(ConfigIssue::new(
                "aws.endpoint_url",
                "must start with http:// or https://",
            ));
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            issues.push(ConfigIssue::new(
                "aws.access_key_id",
                "access_key_id and secret_access_key go together",
            ));
        }
        if self.access_key_id.is_some() && self.endpoint_url.is_none() {
            issues.push(ConfigIssue::new(
                "aws.access_key_id",
                "static keys are only for local endpoints (set endpoint_url); use a profile or the environment for AWS",
            ));
        }
        if self.profile.as_deref() == Some("") {
            issues.push(ConfigIssue::new("aws.profile", "must not be empty"));
        }
        for (i, q) in self.queues.iter().enumerate() {
            if q.trim().is_empty() {
                issues.push(ConfigIssue::new(format!("aws.queues[{i}]"), "must not be empty"));
            } else if !q.contains('/') && !valid_queue_name(q) {
                issues.push(ConfigIssue::new(
                    format!("aws.queues[{i}]"),
                    "a queue name has 1-80 letters, digits, '-' or '_' (and '.fifo' at the end), or give its URL",
                ));
            }
        }
        for (i, t) in self.tables.iter().enumerate() {
            if !valid_table_name(t) {
                issues.push(ConfigIssue::new(
                    format!("aws.tables[{i}]"),
                    "a table name has 3-255 letters, digits, '_', '-' or '.'",
                ));
            }
        }
        self.timeout.check("aws.timeout", &duration::CALL_TIMEOUT, issues);
        if let Some(r) = self.refresh {
            r.check("aws.refresh", &duration::POLL_INTERVAL, issues);
        }
        if !(0.0..=1.0).contains(&self.age_warn_fraction) || !(0.0..=1.0).contains(&self.age_crit_fraction) {
            issues.push(ConfigIssue::new("aws.age_warn_fraction", "fractions go from 0 to 1"));
        } else if self.age_warn_fraction > self.age_crit_fraction {
            issues.push(ConfigIssue::new(
                "aws.age_warn_fraction",
                "must not be above age_crit_fraction",
            ));
        }
        for (key, value) in [
            ("growth_warn_per_min", self.growth_warn_per_min),
            ("throttle_warn", self.throttle_warn),
            ("throttle_crit", self.throttle_crit),
        ] {
            if !value.is_finite() || value < 0.0 {
                issues.push(ConfigIssue::new(
                    format!("aws.{key}"),
                    "a number from 0 up (not nan or inf)",
                ));
            }
        }
        if self.throttle_warn > self.throttle_crit {
            issues.push(ConfigIssue::new("aws.throttle_warn", "must not be above throttle_crit"));
        }
        if self.redrive_rate == 0 || self.redrive_rate > 500 {
            issues.push(ConfigIssue::new(
                "aws.redrive_rate",
                "SQS accepts 1 to 500 messages per second",
            ));
        }
    }
}

/// SQS queue names: 1-80 of `[A-Za-z0-9_-]`, FIFO queues end in `.fifo`.
pub fn valid_queue_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    !base.is_empty() && name.len() <= 80 && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// DynamoDB table (and index) names: 3-255 of `[A-Za-z0-9_.-]`.
pub fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(cfg: &AwsConfig) -> Vec<String> {
        let mut v = Vec::new();
        cfg.validate(&mut v);
        v.into_iter().map(|i| format!("{}: {}", i.path, i.message)).collect()
    }

    #[test]
    fn static_keys_need_a_local_endpoint_and_names_are_checked() {
        let cfg = AwsConfig {
            access_key_id: Some("a".into()),
            secret_access_key: Some("b".into()),
            queues: vec!["ok-queue".into(), "bad queue".into(), "https://sqs/1/x".into()],
            tables: vec!["T".into()],
            ..Default::default()
        };
        let found = issues(&cfg);
        assert!(
            found.iter().any(|i| i.starts_with("aws.access_key_id: static keys")),
            "{found:?}"
        );
        assert!(found.iter().any(|i| i.starts_with("aws.queues[1]")), "{found:?}");
        assert!(!found.iter().any(|i| i.starts_with("aws.queues[2]")), "{found:?}");
        assert!(found.iter().any(|i| i.starts_with("aws.tables[0]")), "{found:?}");
        assert!(cfg.is_enabled());
        assert!(!AwsConfig::default().is_enabled());
        assert!(issues(&AwsConfig::default()).is_empty());
    }
}
