//! Conclusions the analysis draws, as the overview pane and `opsdeck check` show them.

use crate::pane::PaneId;
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
    /// Which pane raised it (`pillows`, `elasticsearch`, ...).
    pub source: PaneId,
    /// What it concerns (`case-pillow`, `es-node-3:/data`, ...).
    pub subject: String,
    /// The verdict in words.
    pub message: String,
    /// Where in the console its subject is shown (`enter` on the alert goes there).
    #[serde(skip)]
    pub target: Option<AlertTarget>,
}

/// Where an alert's subject is in the console: a pane, one of its views, the rows to open on the
/// way, and the row itself, by the keys the panes give their rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertTarget {
    /// The pane: `pillows`, `elasticsearch`, `queues`, `hosts`.
    pub pane: PaneId,
    /// A view of the pane's top level (`tables`, `unassigned`, `settings`); empty for its default.
    pub view: &'static str,
    /// Row keys to open (`enter`), in order, down to the view that holds the row.
    pub drill: Vec<String>,
    /// The row's key there; empty when the alert is about the view as a whole.
    pub row: String,
}

impl AlertTarget {
    /// The row `row` of `pane`'s top level.
    pub fn row(pane: PaneId, row: impl Into<String>) -> Self {
        Self {
            pane,
            view: "",
            drill: Vec::new(),
            row: row.into(),
        }
    }
    /// In view `view` of the pane's top level.
    pub fn in_view(mut self, view: &'static str) -> Self {
        self.view = view;
        self
    }
    /// Reached by opening `rows` first, in order.
    pub fn through(mut self, rows: impl IntoIterator<Item = String>) -> Self {
        self.drill = rows.into_iter().collect();
        self
    }
}

impl Alert {
    pub fn new(severity: Severity, source: PaneId, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity,
            source,
            subject: subject.into(),
            message: message.into(),
            target: None,
        }
    }

    /// Where its subject is shown in the console.
    pub fn at(mut self, target: AlertTarget) -> Self {
        self.target = Some(target);
        self
    }
}

/// The worst severity among `alerts` (Ok when there are none).
pub fn worst(alerts: &[Alert]) -> Severity {
    alerts.iter().map(|a| a.severity).max().unwrap_or(Severity::Ok)
}
