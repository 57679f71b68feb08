//! The overview pane: every source's state at a glance, then every alert, worst first.

use crate::analysis::{self, freshness};
use crate::model::fleet::SOURCES;
use opsdeck_core::alert::{Alert, AlertTarget, Severity};
use opsdeck_core::pane::PaneId;
use opsdeck_core::view::{Cell, Column, Memo, PaneAction, Row, Table, Tone, View, ViewCtx};
use std::collections::HashMap;

pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(Overview::default())
}

#[derive(Default)]
struct Overview {
    /// Every pane's alerts, for the header's counts and the table: once per change, not per frame.
    alerts: Memo<Vec<Alert>>,
}

impl Overview {
    fn alerts(&self, ctx: &ViewCtx) -> std::sync::Arc<Vec<Alert>> {
        self.alerts.get(ctx, || {
            let (fleet, config) = super::console(ctx);
            analysis::alerts(fleet, config)
        })
    }
}

impl View for Overview {
    fn crumb(&self) -> String {
        "overview".into()
    }
    fn scope(&self) -> &'static str {
        "overview"
    }
    fn source(&self) -> Option<PaneId> {
        None
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let (fleet, _) = super::console(ctx);
        let alerts = self.alerts(ctx);
        SOURCES
            .iter()
            .map(|kind| {
                let (fresh, tone) = freshness(fleet, *kind, ctx.now);
                let mine: Vec<_> = alerts.iter().filter(|a| a.source == *kind).collect();
                let crit = mine.iter().filter(|a| a.severity == Severity::Critical).count();
                let warn = mine.iter().filter(|a| a.severity == Severity::Warning).count();
                let (summary, tone) = match (crit, warn, tone) {
                    (_, _, Tone::Crit) => ("source failing".to_string(), Tone::Crit),
                    (0, 0, Tone::Muted) => (String::new(), Tone::Muted),
                    (0, 0, _) => ("all OK".to_string(), Tone::Ok),
                    (0, w, _) => (format!("{w} warning{}", plural(w)), Tone::Warn),
                    (c, 0, _) => (format!("{c} critical"), Tone::Crit),
                    (c, w, _) => (format!("{c} critical, {w} warning{}", plural(w)), Tone::Crit),
                };
                (format!(" {:<14} {:<28} {fresh}", kind.name(), summary), tone)
            })
            .collect()
    }

    fn goto(&self, ctx: &ViewCtx, row: &str) -> Option<AlertTarget> {
        keyed(self.alerts(ctx).iter().cloned())
            .find(|(key, _)| key == row)
            .and_then(|(_, a)| a.target)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = keyed(self.alerts(ctx).iter().cloned())
            .map(|(key, a)| Row {
                key,
                cells: vec![
                    Cell::num(a.severity.label(), a.severity as u8 as f64).tone(a.severity.into()),
                    Cell::text(a.source.name()),
                    Cell::text(a.subject),
                    Cell::text(a.message),
                ],
            })
            .collect();
        Table {
            columns: vec![
                Column::left("SEVERITY", 9).priority(9),
                Column::left("SOURCE", 7).max(14).priority(3),
                Column::left("SUBJECT", 16).max(60).priority(8),
                Column::left("VERDICT", 24).max(120).grow().priority(7),
            ],
            rows,
            default_sort: Some((0, true)),
            empty: "No problems found in the sources that answered.".into(),
        }
    }
}

/// Each alert with a key that stays its own while other alerts come and go: source, subject and
/// the row it points at, and a count for the rare subject with several alerts on one row.
fn keyed(alerts: impl Iterator<Item = Alert>) -> impl Iterator<Item = (String, Alert)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    alerts.map(move |a| {
        let row = a.target.as_ref().map(|t| t.row.as_str()).unwrap_or_default();
        let base = format!("{}/{}/{row}", a.source, a.subject);
        let n = seen.entry(base.clone()).or_default();
        *n += 1;
        let key = if *n == 1 { base } else { format!("{base}#{n}") };
        (key, a)
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
