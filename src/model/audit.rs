//! One line of the audit log: written when an action is confirmed (intent) and when it ends (outcome).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditPhase {
    Intent,
    Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub time: String,
    pub phase: AuditPhase,
    /// Ties the intent line to its outcome line.
    pub action_id: String,
    pub user: String,
    /// The machine opsdeck runs on.
    pub host: String,
    pub action: String,
    pub target: String,
    /// The exact command or API call.
    pub call: String,
    pub risk: String,
    /// `confirmed` on intent lines; `succeeded`, `failed`, `unverified` or `stopped` on outcome lines.
    pub result: String,
    /// What happened, in words (empty on intent lines).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl AuditEntry {
    /// Makes every field safe to show: the log holds remote text (targets, command output) and a
    /// line may have been written by anyone who can write the file.
    pub fn clean(&mut self) {
        for field in [
            &mut self.time,
            &mut self.action_id,
            &mut self.user,
            &mut self.host,
            &mut self.action,
            &mut self.target,
            &mut self.call,
            &mut self.risk,
            &mut self.result,
            &mut self.detail,
        ] {
            opsdeck_core::text::clean_in_place(field);
        }
    }
}
