//! `enter` on an alert: open its pane, the view and the rows on the way down to the row it is
//! about, and select that row; when the row is gone, say so.

use super::screen::Screen;
use super::{App, Effect};
use crate::views::Tab;
use opsdeck_core::alert::AlertTarget;
use opsdeck_core::view::Tone;

impl App {
    /// Goes to `target`: its pane from the top, its view, each row on the way opened, the row
    /// selected. `about` names the alert's subject in messages.
    pub(super) fn land(&mut self, target: &AlertTarget, about: &str) -> Vec<Effect> {
        let Some(tab) = Tab::ALL.into_iter().find(|t| t.pane() == Some(target.pane)) else {
            self.toast(format!("{about}: no pane {:?}", target.pane), Tone::Warn);
            return Vec::new();
        };
        self.tab = tab;
        let stack = &mut self.panes[tab.index()];
        let mut effects = Vec::new();
        while stack.len() > 1 {
            let mut left = stack.pop().expect("len > 1");
            effects.extend(left.view.on_leave());
        }
        if !target.view.is_empty() && !stack[0].view.show(target.view) {
            tracing::warn!(
                pane = %target.pane,
                view = target.view,
                "alert names a view the pane lacks"
            );
        }
        for step in &target.drill {
            if !self.reveal(tab, step) {
                self.toast(
                    format!("{about}: {} is no longer listed", printable_key(step)),
                    Tone::Warn,
                );
                return effects;
            }
            let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
            let stack = &mut self.panes[tab.index()];
            let Some(mut view) = stack.last().expect("never empty").view.drill(&ctx, step) else {
                self.toast(format!("{about}: {} cannot be opened", printable_key(step)), Tone::Warn);
                return effects;
            };
            effects.extend(view.on_enter(&ctx));
            stack.push(Screen::new(view));
        }
        if !target.row.is_empty() && !self.reveal(tab, &target.row) {
            self.toast(
                format!("{about} is no longer in the {} pane's table", target.pane),
                Tone::Warn,
            );
        }
        effects
    }

    /// Selects `key` in the top view of `tab`, clearing a filter that hides it; false when no row
    /// has that key.
    fn reveal(&mut self, tab: Tab, key: &str) -> bool {
        let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
        let screen = self.panes[tab.index()].last_mut().expect("never empty");
        if screen.select_key(&ctx, key) {
            return true;
        }
        if screen.filter.is_empty() {
            return false;
        }
        let filter = std::mem::take(&mut screen.filter);
        screen.view.on_filter("");
        if screen.select_key(&ctx, key) {
            self.toast(format!("filter /{filter} cleared to show the row"), Tone::Muted);
            return true;
        }
        let screen = self.panes[tab.index()].last_mut().expect("never empty");
        screen.filter = filter;
        let text = screen.filter.clone();
        screen.view.on_filter(&text);
        false
    }
}

/// A row key as a person reads it: the parts joined by spaces (keys may hold NULs).
fn printable_key(key: &str) -> String {
    key.replace('\u{0}', " ")
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::panes::Queues;
    use crate::views::Tab;
    use opsdeck_core::alert::AlertTarget;
    use opsdeck_core::pane::Pane;
    use opsdeck_hosts::Hosts;
    use std::time::SystemTime;

    #[test]
    fn an_alert_whose_row_is_gone_opens_its_pane_and_says_so() {
        let mut app = crate::ui::testing::app(Config::default(), "default", SystemTime::UNIX_EPOCH);
        let gone = AlertTarget::row(Queues::ID, "https://sqs/000/reports-legacy").in_view("tables");
        app.land(&gone, "reports-legacy");
        assert_eq!(app.tab, Tab::Queues);
        assert_eq!(app.screen().view.crumb(), "tables", "the view the alert names");
        let said = app.toasts.last().map(|t| t.text.as_str()).unwrap_or_default();
        assert_eq!(said, "reports-legacy is no longer in the queues pane's table");
        let through = AlertTarget::row(Hosts::ID, "prog\u{0}x").through(["es-9".to_string()]);
        app.land(&through, "es-9:x");
        assert_eq!(app.tab, Tab::Hosts);
        let said = app.toasts.last().map(|t| t.text.as_str()).unwrap_or_default();
        assert_eq!(said, "es-9:x: es-9 is no longer listed");
    }
}
