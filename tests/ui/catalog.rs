//! Every action the panes can offer, in its confirm dialog, at 80x24, 100x30 and 200x50: the exact
//! call is on screen (scrolled to when it is long), with the Verify line, the typed field for high
//! risk, and both buttons. The list is found, not written down: every view of every pane (each of
//! its modes, and each view Enter opens below it), every row, every action with a plan, and the
//! custom actions. A pane action that no view offers a plan for fails the test, so a new action
//! cannot skip it.

use super::demo::{demo, demo_app_on, screen};
use opsdeck::app::App;
use opsdeck::ui::testing::press;
use opsdeck::views::Tab;
use opsdeck_core::action::ActionPlan;
use opsdeck_core::view::{View, ViewCtx};
use std::collections::BTreeSet;
use unicode_width::UnicodeWidthChar;

/// One plan a view offers.
struct Offered {
    /// `pane/scope action`, for messages.
    place: String,
    name: String,
    plan: ActionPlan,
}

#[derive(Default)]
struct Catalog {
    offered: Vec<Offered>,
    /// Pane actions some view takes as its own key (view switches, toggles): not plans.
    view_keys: BTreeSet<&'static str>,
}

impl Catalog {
    fn add(&mut self, tab: Tab, view: &dyn View, name: &str, plan: ActionPlan) {
        let place = format!("{}/{} {name}", tab.name(), view.scope());
        if !self.offered.iter().any(|o| o.place == place) {
            self.offered.push(Offered {
                place,
                name: name.to_string(),
                plan,
            });
        }
    }

    /// The plans `view` offers on each of its rows (or on itself when it has none), then the same
    /// for every view Enter opens from it, `depth` levels down.
    fn walk(&mut self, app: &App, tab: Tab, view: &dyn View, ctx: &ViewCtx, depth: usize) {
        let table = view.table(ctx);
        let rows: Vec<Option<String>> = if table.rows.is_empty() {
            vec![None]
        } else {
            table.rows.iter().map(|r| Some(r.key.clone())).collect()
        };
        for row in &rows {
            for a in tab.actions() {
                if view.handles(a.name, ctx, row.as_deref()) {
                    self.view_keys.insert(a.name);
                }
            }
            for offer in view.actions(ctx, row.as_deref()) {
                let plan = match (offer.plan, &offer.input) {
                    (Ok(_), Some(ask)) => (ask.build)(&ask.initial),
                    (plan, _) => plan,
                };
                if let Ok(plan) = plan {
                    self.add(tab, view, offer.name, plan);
                }
            }
            for custom in &app.env.config.actions {
                if let Some(row) = row
                    && opsdeck::config::custom::in_scope(custom, view.scope())
                {
                    let vars = view.row_vars(ctx, row);
                    if let Ok(plan) = opsdeck::actions::custom::plan(custom, view.scope(), &vars, &app.env.config.ssh) {
                        self.add(tab, view, &format!("custom:{}", custom.name), plan);
                    }
                }
            }
        }
        if depth == 0 {
            return;
        }
        for row in rows.iter().flatten() {
            if let Some(child) = view.drill(ctx, row) {
                self.walk(app, tab, child.as_ref(), ctx, depth - 1);
            }
        }
    }

    /// Every pane's top level in each of its modes (its own keys pressed 0 to 5 times), walked down.
    fn of(&mut self, app: &App) {
        let ctx = app.ctx();
        for tab in Tab::ALL {
            let mut seen = BTreeSet::new();
            let keys: Vec<&str> = tab
                .actions()
                .iter()
                .map(|a| a.name)
                .filter(|n| tab.root().handles(n, &ctx, None))
                .collect();
            for key in keys.iter().copied().map(Some).chain([None]) {
                for times in 0..=5 {
                    let mut root = tab.root();
                    for _ in 0..times {
                        if let Some(key) = key {
                            root.handle(key, &ctx, None);
                        }
                    }
                    if seen.insert((root.crumb(), root.scope())) {
                        self.walk(app, tab, root.as_ref(), &ctx, 3);
                    }
                }
            }
        }
    }
}

/// `line` cut into rows of `width` columns, as a dialog cuts a call (by characters, never losing one).
fn rows_of(line: &str, width: usize) -> Vec<String> {
    let mut rows = vec![String::new()];
    let mut used = 0;
    for c in line.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width && used > 0 {
            rows.push(String::new());
            used = 0;
        }
        rows.last_mut().expect("one row").push(c);
        used += w;
    }
    rows
}

/// The inner width of the confirm dialog on `screen`.
fn dialog_width(screen: &str) -> Option<usize> {
    let top = screen.lines().find(|l| l.contains("┌ Confirm: "))?;
    let chars: Vec<char> = top.chars().collect();
    let left = chars.iter().position(|c| *c == '┌')?;
    let right = chars.iter().rposition(|c| *c == '┐')?;
    Some(right - left - 1)
}

/// Opens `plan`'s dialog on `app` and checks it shows everything, scrolling through its body.
fn check(app: &mut App, o: &Offered) {
    let (w, h) = app.size;
    let plan = &o.plan;
    let what = format!("{} at {w}x{h}", o.place);
    app.confirm(plan.clone());
    let first = screen(app);
    let width = dialog_width(&first).unwrap_or_else(|| panic!("{what}: no dialog\n{first}"));
    for part in ["Verify", "Cancel ", "Target", "Risk"] {
        assert!(first.contains(part), "{what}: no {part:?} without scrolling\n{first}");
    }
    assert!(
        first.contains("[ Run ]") || first.contains("▶ Run ◀"),
        "{what}: no Run button\n{first}"
    );
    if plan.needs_typed_confirmation() {
        assert!(first.contains("to confirm: ["), "{what}: no typed field\n{first}");
    }
    // The body scrolls: everything it shows at any position, top to bottom.
    let mut seen = first.clone();
    let mut last = first;
    for _ in 0..500 {
        press(app, "down");
        let now = screen(app);
        if now == last {
            break;
        }
        seen.push_str(&now);
        last = now;
    }
    for line in plan.call.lines() {
        for row in rows_of(line, width - 2) {
            let row = row.trim_end();
            assert!(
                row.is_empty() || seen.contains(&format!("  {row}")),
                "{what}: the call's {row:?} is never on screen\n{last}"
            );
        }
    }
    press(app, "esc");
    assert!(app.overlay.is_none(), "{what}: esc closes");
}

#[test]
fn every_offered_action_shows_its_whole_plan_and_controls_at_every_size() {
    let d = demo();
    let mut catalog = Catalog::default();
    for fleet in [&d.fleet, &d.changed] {
        catalog.of(&demo_app_on(fleet, "default", 200, 50));
    }
    // Every pane action is either a view's own key or offered with a plan somewhere.
    let names: BTreeSet<&str> = catalog.offered.iter().map(|o| o.name.as_str()).collect();
    for tab in Tab::ALL {
        for a in tab.actions() {
            assert!(
                catalog.view_keys.contains(a.name) || names.contains(a.name),
                "[{}] {} is never offered with a plan in the demo: add the state that offers it",
                tab.name(),
                a.name
            );
        }
    }
    assert!(
        names.iter().any(|n| n.starts_with("custom:")),
        "a custom action is in the catalog: {names:?}"
    );
    for (w, h) in [(80, 24), (100, 30), (200, 50)] {
        for o in &catalog.offered {
            check(&mut demo_app_on(&d.fleet, "default", w, h), o);
        }
    }
    eprintln!(
        "{} plans checked: {}",
        catalog.offered.len(),
        catalog
            .offered
            .iter()
            .map(|o| o.place.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
}
