//! `App::update`: the one place state changes. Returns effects; never does I/O.

use super::overlay::{self, Confirm, Input, Outcome, Overlay, Palette};
use super::screen::Screen;
use super::{App, Effect, Event, Running};
use crate::actions::executor::ActionEvent;
use crate::keymap::Resolution;
use crate::views::Tab;
use crossterm::event::{KeyEvent, KeyEventKind};
use opsdeck_core::action::{ActionPlan, OutcomeResult};
use opsdeck_core::keys::KeyCombo;
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::Pane;
use opsdeck_core::view::{ActionOffer, Tone, View, ViewCtx};
use opsdeck_hosts::Logs;
use opsdeck_hosts::source::TailCommand;
use opsdeck_hosts::views::logs::TailView;

/// Built-in actions valid in every pane, with their help text (and the registry's `tab_<pane>`
/// actions, [`crate::views::TAB_ACTIONS`]).
pub const GLOBAL_ACTIONS: &[(&str, &str)] = &[
    ("quit", "quit (asks first while actions run)"),
    ("help", "this help"),
    ("palette", "command palette: panes and actions by name"),
    ("refresh", "poll every source now"),
    ("next_tab", "next pane"),
    ("prev_tab", "previous pane"),
    ("back", "back: clear the filter, then up one level"),
    ("cancel_action", "stop the newest running action (between its steps)"),
    (
        "revert_settings",
        "put back the cluster settings a stopped procedure left changed",
    ),
];

/// Built-in actions of any table view.
pub const TABLE_ACTIONS: &[(&str, &str)] = &[
    ("down", "next row"),
    ("up", "previous row"),
    ("page_down", "next page"),
    ("page_up", "previous page"),
    ("top", "first row"),
    ("bottom", "last row"),
    ("drill", "open the selected row"),
    ("filter", "filter rows (regex; !x inverts)"),
    ("sort_next", "sort by the next column"),
    ("sort_reverse", "reverse the sort"),
    ("tail_log", "tail its log: a pillow's processes, ES node, host, program"),
    ("scroll_left", "scroll the columns left (when some are hidden)"),
    ("scroll_right", "scroll hidden columns into view"),
];

impl App {
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        // Rows of the current view may change with keys (filter, sort, tab, drill), with its
        // source's polls and with actions; the selection is pinned to its row after each.
        let settle = match &event {
            Event::Key(_) | Event::Action(_) => Some(false),
            Event::Polled(p) => {
                let kind = p.update.pane();
                match self.screen().view.source() {
                    Some(mine) if mine == kind => Some(true),
                    None if kind != Logs::ID => Some(true),
                    _ => None,
                }
            }
            _ => None,
        };
        if !matches!(event, Event::Polled(_)) {
            // Anything but a poll acts on the selection as the next frame would show it.
            self.settle();
        }
        self.tables_unchanged = false;
        let effects = self.apply(event);
        // What changed is in: tables cached before it are stale. Moving the selection changes no
        // table, so a burst of `j` costs one table build, not one per key; the clock changes none
        // either, so an idle console builds no table between polls.
        if !self.tables_unchanged {
            self.revision += 1;
            self.forget_hidden_tables();
        }
        match settle {
            Some(false) => self.settle_selection(false),
            Some(true) => self.unsettled = Some(true),
            None => {}
        }
        effects
    }

    /// Lets go of every table but the one shown: the revision moved past them, so each would be
    /// built again before it is next drawn, and kept until then, hidden tabs held the rows of 20k
    /// shards and 10k audit entries for nothing (a tab or drill-down change moves the revision too).
    fn forget_hidden_tables(&self) {
        let shown = self.tab.index();
        for (tab, stack) in self.panes.iter().enumerate() {
            for (depth, screen) in stack.iter().enumerate() {
                if tab != shown || depth + 1 != stack.len() {
                    screen.forget_rows();
                }
            }
        }
    }

    /// Pins the current view's selection after the polls folded in since it was last pinned (the
    /// loop calls this before it draws; any other event does it first).
    pub fn settle(&mut self) {
        if let Some(refreshed) = self.unsettled.take() {
            self.settle_selection(refreshed);
        }
    }

    /// Pins the current view's selection; when a refresh took the selected row away, says which
    /// row left and which one is selected now.
    fn settle_selection(&mut self, refreshed: bool) {
        let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
        let tab = self.tab.index();
        let screen = self.panes[tab].last_mut().expect("never empty");
        if let Some(gone) = screen.settle(&ctx)
            && refreshed
        {
            self.toast(
                format!("{} is gone from the table; selected {}", gone.left, gone.now),
                Tone::Warn,
            );
        }
    }

    fn apply(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Event::Key(_) => Vec::new(),
            Event::Resize { width, height } => {
                self.size = (width, height);
                Vec::new()
            }
            Event::Tick(now) => {
                self.tables_unchanged = true;
                self.now = now;
                self.toasts.retain(|t| t.until > now);
                Vec::new()
            }
            Event::Polled(p) => {
                self.fleet.apply(p.at, p.update);
                self.prune_touched();
                Vec::new()
            }
            Event::Action(a) => self.on_action_event(a),
            Event::Saved(Ok(path)) => {
                self.toast(format!("saved to {}", path.display()), Tone::Ok);
                Vec::new()
            }
            Event::Saved(Err(e)) => {
                self.toast(format!("could not save: {e}"), Tone::Crit);
                Vec::new()
            }
            Event::Capabilities(findings) => {
                self.capabilities = opsdeck_core::doctor::Capabilities::new(findings);
                Vec::new()
            }
        }
    }

    fn on_action_event(&mut self, event: ActionEvent) -> Vec<Effect> {
        match event {
            ActionEvent::Audited(entry) => {
                self.fleet.audit.push(entry);
                if self.fleet.audit.len() > 10_000 {
                    self.fleet.audit.remove(0);
                }
            }
            ActionEvent::Started { id } => {
                if let Some(title) = self.running.get(&id).map(|r| r.title.clone()) {
                    self.toast(format!("started: {title}"), Tone::Accent);
                }
            }
            ActionEvent::Progress { id, progress } => {
                if let Some(r) = self.running.get_mut(&id) {
                    r.progress = Some(progress);
                }
            }
            ActionEvent::Finished { id, outcome } => {
                let title = self.running.remove(&id).map(|r| r.title).unwrap_or_default();
                if outcome.result == OutcomeResult::Succeeded {
                    self.touched.retain(|t| t.action_id != id);
                }
                let tone = match outcome.result {
                    OutcomeResult::Succeeded => Tone::Ok,
                    OutcomeResult::Unverified | OutcomeResult::Stopped => Tone::Warn,
                    OutcomeResult::Failed => Tone::Crit,
                };
                self.toast(
                    format!("{title}: {} — {}", outcome.result.as_str(), outcome.summary),
                    tone,
                );
                // Show the effect right away rather than at the next poll.
                return vec![Effect::Refresh];
            }
        }
        Vec::new()
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(overlay) = self.overlay.take() {
            return self.overlay_key(overlay, key);
        }
        self.pending.push(KeyCombo::from_event(&key));
        let modes = self.modes();
        match self.env.keymap.resolve(&modes, &self.pending) {
            Resolution::Pending => {
                self.tables_unchanged = true;
                Vec::new()
            }
            Resolution::Unbound => {
                self.pending.clear();
                self.tables_unchanged = true;
                Vec::new()
            }
            Resolution::Action(action) => {
                self.pending.clear();
                self.dispatch(&action)
            }
        }
    }

    fn overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Vec<Effect> {
        let (overlay, outcome) = match overlay {
            Overlay::Help { scroll } => {
                use crossterm::event::KeyCode::*;
                match key.code {
                    Down | Char('j') => (
                        Some(Overlay::Help {
                            scroll: scroll.saturating_add(1),
                        }),
                        Outcome::Keep,
                    ),
                    Up | Char('k') => (
                        Some(Overlay::Help {
                            scroll: scroll.saturating_sub(1),
                        }),
                        Outcome::Keep,
                    ),
                    PageDown => (
                        Some(Overlay::Help {
                            scroll: scroll.saturating_add(10),
                        }),
                        Outcome::Keep,
                    ),
                    PageUp => (
                        Some(Overlay::Help {
                            scroll: scroll.saturating_sub(10),
                        }),
                        Outcome::Keep,
                    ),
                    _ => (None, Outcome::Close),
                }
            }
            Overlay::Filter => {
                use crossterm::event::KeyCode::*;
                let screen = self.screen_mut();
                match key.code {
                    Esc => {
                        screen.filter.clear();
                        screen.view.on_filter("");
                        (None, Outcome::Close)
                    }
                    Enter => (None, Outcome::Close),
                    _ => {
                        overlay::edit(&mut screen.filter, &key);
                        let text = screen.filter.clone();
                        screen.view.on_filter(&text);
                        (Some(Overlay::Filter), Outcome::Keep)
                    }
                }
            }
            Overlay::Confirm(mut c) => {
                let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
                let fit = super::confirm_layout::confirm_layout(&c, self.env.read_only, area, &self.env.theme).fit;
                let outcome = overlay::confirm_key(&mut c, &key, self.env.read_only, fit);
                if let Outcome::Run(plan) = outcome {
                    return self.run_checked(plan, c.origin.take());
                }
                (Some(Overlay::Confirm(c)), outcome)
            }
            Overlay::Input(mut i) => {
                let outcome = overlay::input_key(&mut i, &key);
                if let Outcome::Planned(plan) = outcome {
                    let typed = Some(i.value.trim().to_string());
                    let origin = i.origin.take().map(|o| overlay::Origin { input: typed, ..o });
                    self.confirm_from(plan, origin);
                    return Vec::new();
                }
                (Some(Overlay::Input(i)), outcome)
            }
            Overlay::QuitConfirm { mut focus } => {
                let can_revert = self.revert_plan().is_ok();
                let outcome = overlay::quit_key(&mut focus, &key, can_revert);
                (Some(Overlay::QuitConfirm { focus }), outcome)
            }
            Overlay::Palette(mut p) => {
                let entries = self.palette_entries();
                let outcome = overlay::palette_key(&mut p, &key, &entries);
                (Some(Overlay::Palette(p)), outcome)
            }
        };
        match outcome {
            Outcome::Keep => {
                self.overlay = overlay;
                Vec::new()
            }
            Outcome::Close => Vec::new(),
            Outcome::Quit => self.quit_now(),
            Outcome::Planned(plan) => {
                self.confirm(plan);
                Vec::new()
            }
            Outcome::Run(plan) => self.run(plan),
            Outcome::Command(name) => self.dispatch(&name),
        }
    }

    fn screen_mut(&mut self) -> &mut Screen {
        self.panes[self.tab.index()]
            .last_mut()
            .expect("pane stacks are never empty")
    }

    /// Runs a keymap action (or a palette command) by name.
    pub fn dispatch(&mut self, action: &str) -> Vec<Effect> {
        if let Some(tab) = action
            .strip_prefix("tab_")
            .and_then(|n| Tab::ALL.into_iter().find(|t| t.name() == n))
        {
            self.tab = tab;
            return Vec::new();
        }
        if let Some(tab) = Tab::ALL.into_iter().find(|t| t.name() == action) {
            self.tab = tab;
            return Vec::new();
        }
        match action {
            "quit" => {
                if self.running.is_empty() && self.left_changed().is_empty() {
                    return self.quit_now();
                }
                self.overlay = Some(Overlay::QuitConfirm {
                    focus: overlay::QuitFocus::Stay,
                });
                // The settings listed are re-read now, not taken from a poll a while ago.
                return vec![Effect::Refresh];
            }
            "revert_settings" => match self.revert_plan() {
                Ok(plan) => self.confirm(plan),
                Err(why) => self.toast(format!("revert_settings: {why}"), Tone::Warn),
            },
            "help" => self.overlay = Some(Overlay::Help { scroll: 0 }),
            "palette" => self.overlay = Some(Overlay::Palette(Palette::default())),
            "filter" => self.overlay = Some(Overlay::Filter),
            "refresh" => {
                self.toast("refreshing every source", Tone::Muted);
                return vec![Effect::Refresh];
            }
            "next_tab" => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            "prev_tab" => self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()],
            "back" => return self.back(),
            "cancel_action" => match self.running.iter().next_back() {
                Some((id, r)) => {
                    let id = *id;
                    self.toast(format!("asking {:?} to stop", r.title), Tone::Warn);
                    return vec![Effect::CancelAction { id }];
                }
                None => self.toast("no action is running", Tone::Muted),
            },
            "down" | "up" | "page_down" | "page_up" | "top" | "bottom" => {
                // A view with its own body (a log tail) scrolls itself; it has no rows, so it is not
                // told one (finding the selected row would cost a table build on every key).
                let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
                let tab = self.tab.index();
                if let Some(effects) = self.panes[tab]
                    .last_mut()
                    .expect("never empty")
                    .view
                    .handle(action, &ctx, None)
                {
                    return effects;
                }
                self.move_selection(action);
                self.tables_unchanged = true;
            }
            "tail_log" => return self.tail_log(),
            "scroll_left" | "scroll_right" => {
                let screen = self.screen();
                let at = screen.col_scroll.get();
                screen.col_scroll.set(if action == "scroll_left" {
                    at.saturating_sub(1)
                } else {
                    at + 1
                });
            }
            "drill" => return self.drill(),
            "sort_next" | "sort_reverse" => self.sort(action == "sort_next"),
            _ => {
                // A pane's command on its own state (the selected row's), else its views' actions.
                let row = self.screen().selected_key(&self.ctx());
                match self.fleet.command(action, row.as_deref()) {
                    Some(Err(why)) => self.toast(format!("{action}: {why}"), Tone::Muted),
                    Some(Ok(())) => {}
                    None => return self.pane_action(action),
                }
            }
        }
        Vec::new()
    }

    fn quit_now(&mut self) -> Vec<Effect> {
        self.quitting = true;
        vec![Effect::Quit]
    }

    fn back(&mut self) -> Vec<Effect> {
        let screen = self.screen_mut();
        if !screen.filter.is_empty() {
            screen.filter.clear();
            screen.view.on_filter("");
            return Vec::new();
        }
        let stack = &mut self.panes[self.tab.index()];
        if stack.len() > 1 {
            let mut left = stack.pop().expect("len > 1");
            return left.view.on_leave();
        }
        Vec::new()
    }

    fn move_selection(&mut self, how: &str) {
        let page = usize::from(self.size.1.saturating_sub(8)).max(1);
        let tab = self.tab.index();
        let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
        let screen = self.panes[tab].last_mut().expect("never empty");
        let visible = screen.visible(&ctx);
        let n = visible.table.rows.len();
        if n == 0 {
            return;
        }
        let cur = visible.selected.unwrap_or(0);
        let next = match how {
            "down" => (cur + 1).min(n - 1),
            "up" => cur.saturating_sub(1),
            "page_down" => (cur + page).min(n - 1),
            "page_up" => cur.saturating_sub(page),
            "top" => 0,
            _ => n - 1,
        };
        screen.select(&visible, next);
    }

    fn sort(&mut self, next_column: bool) {
        let tab = self.tab.index();
        let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
        let screen = self.panes[tab].last_mut().expect("never empty");
        let table = screen.view.table(&ctx);
        let columns = table.columns.len();
        if columns == 0 {
            return;
        }
        let (col, desc) = screen.sort.or(table.default_sort).unwrap_or((0, false));
        screen.sort = Some(if next_column {
            ((col + 1) % columns, desc)
        } else {
            (col, !desc)
        });
    }

    fn drill(&mut self) -> Vec<Effect> {
        let tab = self.tab.index();
        let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
        let screen = self.panes[tab].last().expect("never empty");
        let Some(row) = screen.selected_key(&ctx) else {
            return Vec::new();
        };
        if let Some(target) = screen.view.goto(&ctx, &row) {
            let about = screen.selected_label.clone();
            return self.land(&target, &about);
        }
        let Some(mut view) = screen.view.drill(&ctx, &row) else {
            return Vec::new();
        };
        let effects = view.on_enter(&ctx);
        self.panes[tab].push(Screen::new(view));
        effects
    }

    /// The offers of the current view on its selected row.
    fn offers(&self) -> Vec<ActionOffer> {
        let row = self.screen().selected_key(&self.ctx());
        self.offers_on(row.as_deref())
    }

    /// The current view's actions on `row`, those the credentials cannot perform made unavailable.
    /// The names of the current view's actions on `row` that have a plan now (the footer's hints):
    /// computed once per revision and row, not per frame (a drain's plan weighs every shard).
    pub fn planned_on(&self, row: Option<&str>) -> std::sync::Arc<Vec<&'static str>> {
        let key = (
            self.revision,
            self.tab.index(),
            self.stack().len(),
            row.map(str::to_string),
        );
        self.planned.keyed(Some(key), || {
            self.offers_on(row)
                .into_iter()
                .filter(|o| o.plan.is_ok())
                .map(|o| o.name)
                .collect()
        })
    }

    pub fn offers_on(&self, row: Option<&str>) -> Vec<ActionOffer> {
        let mut offers = self.screen().view.actions(&self.ctx(), row);
        self.capabilities.gate(&mut offers);
        offers
    }

    /// Custom `[[actions]]` whose scope covers the current view.
    fn custom_actions(&self) -> impl Iterator<Item = &crate::config::CustomAction> {
        let scope = self.screen().view.scope();
        self.env
            .config
            .actions
            .iter()
            .filter(move |a| crate::config::custom::in_scope(a, scope))
    }

    /// The plan of custom action `name` on the selected row.
    fn custom_plan(&self, name: &str) -> Result<ActionPlan, String> {
        let screen = self.screen();
        let row = screen.selected_key(&self.ctx()).ok_or("select a row first")?;
        self.custom_plan_on(screen, name, &row)
    }

    /// The plan of custom action `name` on `row` of `screen`, bound to the row's values.
    pub(super) fn custom_plan_on(&self, screen: &Screen, name: &str, row: &str) -> Result<ActionPlan, String> {
        let scope = screen.view.scope();
        let action = self
            .env
            .config
            .actions
            .iter()
            .find(|a| a.name == name && crate::config::custom::in_scope(a, scope))
            .ok_or_else(|| format!("the custom action {name:?} does not apply here"))?;
        let vars = screen.view.row_vars(&self.ctx(), row);
        let identity = vars
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        crate::actions::custom::plan(action, scope, &vars, &self.env.config.ssh).map(|p| p.bound_to(identity))
    }

    fn pane_action(&mut self, action: &str) -> Vec<Effect> {
        let tab = self.tab.index();
        let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
        let screen = self.panes[tab].last_mut().expect("never empty");
        let row = screen.selected_key(&ctx);
        if let Some(effects) = screen.view.handle(action, &ctx, row.as_deref()) {
            return effects;
        }
        if let Some(mut view) = screen.view.opens(action, &ctx) {
            let effects = view.on_enter(&ctx);
            self.panes[tab].push(Screen::new(view));
            return effects;
        }
        let screen = self.screen();
        let origin = overlay::Origin {
            tab: self.tab,
            depth: self.stack().len() - 1,
            crumb: screen.view.crumb(),
            row: screen.selected_key(&self.ctx()),
            action: action.to_string(),
            input: None,
        };
        if let Some(name) = action.strip_prefix("custom:") {
            match self.custom_plan(name) {
                Ok(plan) => self.confirm_from(plan, Some(origin)),
                Err(why) => self.toast(format!("{name}: {why}"), Tone::Warn),
            }
            return Vec::new();
        }
        let offers = self.offers();
        let Some(offer) = offers.into_iter().find(|o| o.name == action) else {
            self.toast(format!("{action}: not available here"), Tone::Muted);
            return Vec::new();
        };
        match (offer.plan, offer.input) {
            (Err(why), _) => self.toast(format!("{action}: {why}"), Tone::Warn),
            (Ok(_), Some(request)) => {
                self.overlay = Some(Overlay::Input(Input {
                    value: request.initial.clone(),
                    request,
                    error: None,
                    origin: Some(origin),
                }))
            }
            (Ok(plan), None) => self.confirm_from(plan, Some(origin)),
        }
        Vec::new()
    }

    /// "Tail its log": the selected row's logs, opened in the logs pane.
    fn tail_log(&mut self) -> Vec<Effect> {
        let ctx = self.ctx();
        let screen = self.screen();
        let row = screen.selected_key(&ctx);
        match screen.view.logs(&ctx, row.as_deref()) {
            Ok(sources) if !sources.is_empty() => self.open_logs(sources),
            Ok(_) => {
                self.toast("tail_log: no logs here", Tone::Muted);
                Vec::new()
            }
            Err(why) => {
                self.toast(format!("tail_log: {why}"), Tone::Warn);
                Vec::new()
            }
        }
    }

    /// Shows `sources` in the logs pane, merged when there are several. Whatever the pane showed is
    /// left (its tails stop), except tails the new view shows too: they keep running, history intact.
    pub fn open_logs(&mut self, sources: Vec<LogSource>) -> Vec<Effect> {
        let keep: Vec<String> = sources.iter().map(LogSource::id).collect();
        let stack = &mut self.panes[Tab::Logs.index()];
        let mut effects = Vec::new();
        while stack.len() > 1 {
            let mut left = stack.pop().expect("len > 1");
            effects.extend(left.view.on_leave());
        }
        effects.retain(|e| {
            !matches!(e, Effect::Job(job) if matches!(job.get::<Logs>(), Some(TailCommand::Stop { id }) if keep.contains(id)))
        });
        let mut view = TailView::new(sources);
        let ctx = super::ctx_of(&self.fleet, &self.env, self.now, self.revision);
        effects.extend(view.on_enter(&ctx));
        self.panes[Tab::Logs.index()].push(Screen::new(Box::new(view)));
        self.tab = Tab::Logs;
        effects
    }

    /// Opens the confirm dialog, unless an action already runs on the same target.
    pub fn confirm(&mut self, plan: ActionPlan) {
        self.confirm_from(plan, None);
    }

    /// As [`App::confirm`], remembering where the plan came from so Run can re-check its target.
    pub(super) fn confirm_from(&mut self, plan: ActionPlan, origin: Option<overlay::Origin>) {
        if let Some(r) = self.running_on(&plan.target) {
            let text = format!("{} is busy: {:?} is still running", plan.target, r.title);
            self.toast(text, Tone::Warn);
            return;
        }
        let mut dialog = Confirm::new(plan, self.env.read_only);
        dialog.origin = origin;
        self.overlay = Some(Overlay::Confirm(dialog));
    }

    /// Starts a confirmed plan, re-checking read-only and single-flight.
    pub(super) fn run(&mut self, plan: ActionPlan) -> Vec<Effect> {
        if self.env.read_only {
            self.toast("read-only mode: actions are disabled", Tone::Warn);
            return Vec::new();
        }
        if let Some(r) = self.running_on(&plan.target) {
            let text = format!("{} is busy: {:?} is still running", plan.target, r.title);
            self.toast(text, Tone::Warn);
            return Vec::new();
        }
        let id = self.next_id();
        self.running.insert(
            id,
            Running {
                title: plan.title.clone(),
                target: plan.target.clone(),
                started: self.now,
                progress: None,
            },
        );
        // "started:" comes when the executor has the intent on disk (`ActionEvent::Started`).
        self.remember_touched(id, &plan);
        vec![Effect::RunAction { id, plan }]
    }

    /// Palette entries: panes, built-in commands, then actions offered here.
    pub fn palette_entries(&self) -> Vec<(String, String)> {
        let mut entries: Vec<(String, String)> = Tab::ALL
            .iter()
            .map(|t| (t.name().to_string(), format!("go to the {} pane", t.name())))
            .collect();
        for (name, help) in [
            ("refresh", "poll every source now"),
            ("help", "key bindings"),
            ("quit", "quit opsdeck"),
        ] {
            entries.push((name.to_string(), help.to_string()));
        }
        for offer in self.offers() {
            let help = match &offer.plan {
                Ok(p) => p.title.clone(),
                Err(why) => format!("(unavailable: {why})"),
            };
            entries.push((offer.name.to_string(), help));
        }
        for action in self.custom_actions() {
            entries.push((format!("custom:{}", action.name), action.description.clone()));
        }
        entries
    }
}

/// A fresh `ViewCtx` from the app's parts, so callers can borrow other fields mutably.
pub(crate) fn view_ctx<'a>(
    fleet: &'a crate::model::Fleet,
    env: &'a super::Env,
    now: std::time::SystemTime,
    revision: u64,
) -> ViewCtx<'a> {
    ViewCtx {
        fleet,
        config: &*env.config,
        now,
        theme: &env.theme,
        read_only: env.read_only,
        revision: Some(revision),
    }
}
