//! The audit pane: every action's intent and outcome lines, newest first; Enter shows one in full.

use opsdeck_core::audit::{AuditEntry, AuditPhase};
use opsdeck_core::pane::PaneId;
use opsdeck_core::view::{Cell, Column, PaneAction, Row, Table, Tone, View, ViewCtx};

pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(AuditList)
}

struct AuditList;

fn key(e: &AuditEntry) -> String {
    format!("{}/{:?}", e.action_id, e.phase)
}

/// Whether `row` is `e`'s key. The footer asks on every frame whether the selected row opens, so
/// the key is built only for entries of the row's action, not for each of 10,000 entries.
fn is_key(e: &AuditEntry, row: &str) -> bool {
    row.rsplit_once('/').is_some_and(|(id, _)| id == e.action_id) && key(e) == row
}

fn result_tone(result: &str) -> Tone {
    match result {
        "succeeded" => Tone::Ok,
        "unverified" => Tone::Warn,
        "failed" => Tone::Crit,
        "stopped" => Tone::Warn,
        _ => Tone::Accent,
    }
}

impl View for AuditList {
    fn crumb(&self) -> String {
        "audit".into()
    }
    fn scope(&self) -> &'static str {
        "audit"
    }
    fn source(&self) -> Option<PaneId> {
        None
    }
    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let path = ctx
            .config
            .general()
            .audit_log
            .clone()
            .unwrap_or_else(opsdeck_core::paths::default_audit_log);
        vec![(format!(" audit log: {}", path.display()), Tone::Muted)]
    }
    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = super::console(ctx)
            .0
            .audit
            .iter()
            .enumerate()
            .map(|(i, e)| Row {
                key: key(e),
                cells: vec![
                    Cell::num(e.time.clone(), i as f64),
                    Cell::text(match e.phase {
                        AuditPhase::Intent => "intent",
                        AuditPhase::Outcome => "outcome",
                    }),
                    Cell::text(e.user.clone()),
                    Cell::text(e.action.clone()),
                    Cell::text(e.target.clone()),
                    Cell::text(e.result.clone()).tone(result_tone(&e.result)),
                    Cell::text(if e.detail.is_empty() {
                        e.call.clone()
                    } else {
                        e.detail.clone()
                    }),
                ],
            })
            .collect();
        Table {
            columns: vec![
                Column::left("TIME", 20),
                Column::left("PHASE", 7).priority(6),
                Column::left("USER", 8).max(16).priority(3),
                Column::left("ACTION", 16).max(32).priority(9),
                Column::left("TARGET", 12).max(40).priority(9),
                Column::left("RESULT", 10).priority(9),
                Column::left("DETAIL / CALL", 20).max(200).grow().priority(5),
            ],
            rows,
            default_sort: Some((0, true)),
            empty: "No actions recorded yet. Actions you confirm are written here (intent, then outcome).".into(),
        }
    }
    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        super::console(ctx)
            .0
            .audit
            .iter()
            .rfind(|e| is_key(e, row))
            .map(|e| Box::new(AuditDetail(e.clone())) as Box<dyn View>)
    }
    /// Every entry opens in full (without looking for it among 10,000 on every frame).
    fn drills(&self, _ctx: &ViewCtx, _row: &str) -> bool {
        true
    }
}

/// One audit line in full.
struct AuditDetail(AuditEntry);

impl View for AuditDetail {
    fn crumb(&self) -> String {
        format!("{} {}", self.0.action, self.0.target)
    }
    fn scope(&self) -> &'static str {
        "audit.entry"
    }
    fn source(&self) -> Option<PaneId> {
        None
    }
    fn table(&self, _ctx: &ViewCtx) -> Table {
        let e = &self.0;
        let fields = [
            ("time", e.time.clone()),
            ("phase", format!("{:?}", e.phase).to_lowercase()),
            ("action id", e.action_id.clone()),
            ("user", e.user.clone()),
            ("host", e.host.clone()),
            ("action", e.action.clone()),
            ("target", e.target.clone()),
            ("risk", e.risk.clone()),
            ("call", e.call.clone()),
            ("result", e.result.clone()),
            ("detail", e.detail.clone()),
        ];
        Table {
            columns: vec![Column::left("FIELD", 10), Column::left("VALUE", 30).max(400).grow()],
            rows: fields
                .into_iter()
                .map(|(k, v)| Row {
                    key: k.to_string(),
                    cells: vec![Cell::text(k).tone(Tone::Muted), Cell::text(v)],
                })
                .collect(),
            default_sort: None,
            empty: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_core::audit::AuditPhase;

    fn entry(action_id: &str, phase: AuditPhase) -> AuditEntry {
        AuditEntry {
            time: "2026-12-01T16:00:00Z".into(),
            phase,
            action_id: action_id.into(),
            user: "oncall".into(),
            host: "jump-1".into(),
            action: "restart".into(),
            target: "worker-1".into(),
            call: "supervisorctl restart x".into(),
            risk: "disruptive".into(),
            result: "confirmed".into(),
            detail: String::new(),
        }
    }

    #[test]
    fn a_row_is_the_key_of_its_own_entry_only() {
        let intent = entry("1764-7/a", AuditPhase::Intent);
        let outcome = entry("1764-7/a", AuditPhase::Outcome);
        let other = entry("1764-8", AuditPhase::Intent);
        let row = key(&intent);
        assert!(is_key(&intent, &row), "an action id may hold a '/': {row}");
        assert!(!is_key(&outcome, &row), "same action, other phase");
        assert!(!is_key(&other, &row));
        assert!(!is_key(&intent, "1764-7/a"), "not a key");
    }
}
