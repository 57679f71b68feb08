//! Conclusions the analysis draws, as the overview pane and `opsdeck check` show them.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Ok,
    Warning,
    Critical,
}

impl Severity {
    /// Nagios-style exit code: 0 ok, 1 warning, 2 critical.
    pub fn exit_code(self) -> i32 {
        match self {
            Severity::Ok => 0,
            Severity::Warning => 1,
            Severity::Critical => 2,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// One problem worth a person's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub severity: Severity,
    /// Which source raised it (`pillows`, `elasticsearch`, ...).
    pub source: &'static str,
    /// What it concerns (`case-pillow`, `es-node-3:/data`, ...).
    pub subject: String,
    /// The verdict in words.
    pub message: String,
}

impl Alert {
    pub fn new(
        severity: Severity,
        source: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            source,
            subject: subject.into(),
            message: message.into(),
        }
    }
}

/// The worst severity among `alerts` (Ok when there are none).
pub fn worst(alerts: &[Alert]) -> Severity {
    alerts.iter().map(|a| a.severity).max().unwrap_or(Severity::Ok)
}
