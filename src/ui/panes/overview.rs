//! The overview pane: every source's state at a glance, then every alert, worst first.

use crate::analysis;
use crate::model::{Severity, SourceKind};
use crate::ui::render::freshness;
use crate::ui::view::{Cell, Column, PaneAction, Row, Table, Tone, View, ViewCtx};

pub const ACTIONS: &[PaneAction] = &[];

pub fn root() -> Box<dyn View> {
    Box::new(Overview)
}

struct Overview;

const SOURCES: [SourceKind; 4] = [
    SourceKind::Pillows,
    SourceKind::Elasticsearch,
    SourceKind::Queues,
    SourceKind::Hosts,
];

impl View for Overview {
    fn crumb(&self) -> String {
        "overview".into()
    }
    fn scope(&self) -> &'static str {
        "overview"
    }
    fn source(&self) -> Option<SourceKind> {
        None
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let alerts = analysis::alerts(ctx.fleet, ctx.config);
        SOURCES
            .iter()
            .map(|kind| {
                let (fresh, tone) = freshness(ctx.fleet, *kind, ctx.now);
                let mine: Vec<_> = alerts.iter().filter(|a| a.source == kind.name()).collect();
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

    fn goto(&self, ctx: &ViewCtx, row: &str) -> Option<&'static str> {
        let source = row.split('/').next()?;
        let pane = match source {
            "pillows" | "elasticsearch" | "queues" | "hosts" => source,
            _ => return None,
        };
        let _ = ctx;
        crate::ui::panes::Tab::ALL
            .into_iter()
            .map(|t| t.name())
            .find(|n| *n == pane)
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let rows = analysis::alerts(ctx.fleet, ctx.config)
            .into_iter()
            .enumerate()
            .map(|(i, a)| Row {
                key: format!("{}/{}/{i}", a.source, a.subject),
                cells: vec![
                    Cell::num(a.severity.label(), a.severity as u8 as f64).tone(a.severity.into()),
                    Cell::text(a.source),
                    Cell::text(a.subject),
                    Cell::text(a.message),
                ],
            })
            .collect();
        Table {
            columns: vec![
                Column::left("SEVERITY", 9),
                Column::left("SOURCE", 14),
                Column::left("SUBJECT", 24),
                Column::left("VERDICT", 30).grow(),
            ],
            rows,
            default_sort: Some((0, true)),
            empty: "No problems found in the sources that answered.".into(),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
