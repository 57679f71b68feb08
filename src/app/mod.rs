//! The app: all state, changed only by [`App::update`], which returns [`Effect`]s for the runtime to carry out.

pub mod confirm_layout;
mod land;
pub mod leftovers;
pub mod overlay;
mod recheck;
pub mod screen;
mod update;

pub(crate) use update::view_ctx as ctx_of;
pub use update::{GLOBAL_ACTIONS, TABLE_ACTIONS};

use crate::actions::executor::ActionEvent;
use crate::config::Config;
use crate::keymap::{ActionCatalog, GLOBAL, Keymap, TABLE};
use crate::model::Fleet;
use crate::sources::runner::Polled;
use crate::views::{TAB_ACTIONS, Tab};
use crossterm::event::KeyEvent;
use opsdeck_core::action::Progress;
use opsdeck_core::effect::Effect;
use opsdeck_core::keys::KeyCombo;
use opsdeck_core::theme::Theme;
use opsdeck_core::view::{Tone, ViewCtx};
use overlay::Overlay;
use screen::Screen;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Everything that can happen to the app.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock moved (ages, toasts).
    Tick(SystemTime),
    Polled(Polled),
    Action(ActionEvent),
    Saved(Result<PathBuf, String>),
    /// What the credentials can do, from the background doctor run (at start, on refresh).
    Capabilities(Vec<opsdeck_core::doctor::Finding>),
}

/// What a footer's planned actions depend on: the revision, the tab, the drill-down depth and the
/// selected row.
type PlannedKey = (u64, usize, usize, Option<String>);

/// The fixed parts: what the app was started with.
pub struct Env {
    pub config: Arc<Config>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub read_only: bool,
}

/// A message in the corner that goes away by itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub tone: Tone,
    pub until: SystemTime,
}

/// An action in flight.
#[derive(Debug, Clone)]
pub struct Running {
    pub title: String,
    pub target: String,
    pub started: SystemTime,
    pub progress: Option<Progress>,
}

pub struct App {
    pub env: Env,
    pub fleet: Fleet,
    pub now: SystemTime,
    /// Changes after anything a view's table may show could have changed (see
    /// `ViewCtx::revision`): every event but the clock and a key that only moves the selection.
    /// Code in `update` must not read a table after changing what it shows (the revision moves
    /// when the event is in).
    pub revision: u64,
    /// [`App::planned_on`]'s last answer.
    planned: opsdeck_core::view::Memo<Vec<&'static str>, PlannedKey>,
    /// The event being handled changes no table: it only moved a selection, or the clock
    /// (rows are as of their data; the ages outside tables follow the clock every frame).
    tables_unchanged: bool,
    /// Polls folded in since the selection was last pinned (`Some(true)` when one of them was the
    /// current view's source): pinned once before the next frame or the next other event, not
    /// once per poll, so a frame that folds in every pane's poll builds the table once.
    unsettled: Option<bool>,
    pub tab: Tab,
    /// One drill-down stack per tab, in `Tab::ALL` order; never empty.
    pub panes: Vec<Vec<Screen>>,
    pub overlay: Option<Overlay>,
    /// Keys of an unfinished sequence (`g` of `g g`).
    pub pending: Vec<KeyCombo>,
    pub toasts: Vec<Toast>,
    pub running: BTreeMap<u64, Running>,
    /// Procedures that changed cluster settings and may not have put them back.
    pub touched: Vec<leftovers::Touched>,
    next_action_id: u64,
    /// Terminal size, for paging.
    pub size: (u16, u16),
    pub quitting: bool,
    /// Actions the credentials cannot perform (`opsdeck doctor`'s checks): offered as unavailable.
    pub capabilities: opsdeck_core::doctor::Capabilities,
}

/// Every action name a keymap may bind, per mode (built-ins plus each pane's own).
pub fn action_catalog() -> ActionCatalog {
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut modes = vec![
        (
            GLOBAL.to_string(),
            names(
                update::GLOBAL_ACTIONS
                    .iter()
                    .chain(TAB_ACTIONS)
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .as_slice(),
            ),
        ),
        (
            TABLE.to_string(),
            names(
                update::TABLE_ACTIONS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .as_slice(),
            ),
        ),
    ];
    for tab in Tab::ALL {
        modes.push((
            tab.name().to_string(),
            tab.actions().iter().map(|a| a.name.to_string()).collect(),
        ));
    }
    ActionCatalog { modes }
}

/// The keymap mode a custom action's scope binds in (`hosts.filesystem` → `hosts`, `all` → `global`).
fn scope_mode(scope: &str) -> &str {
    match scope.split('.').next().unwrap_or(scope) {
        "all" => GLOBAL,
        pane => pane,
    }
}

impl App {
    /// A new app on `config`. Returns it with the effects its panes ask for at start, and any keymap
    /// problems (custom action keys that collide), which are also shown as toasts.
    pub fn new(env: Env, now: SystemTime) -> (App, Vec<Effect>) {
        let mut env = env;
        let mut problems = Vec::new();
        for action in env.config.actions.clone() {
            if let Err(e) = env
                .keymap
                .bind_custom(scope_mode(&action.scope), &action.key, &action.name)
            {
                problems.push(format!("custom action {:?}: {e}", action.name));
            }
        }
        let mut fleet = Fleet::default();
        for kind in crate::config::enabled_sources(&env.config) {
            fleet.enable(kind);
        }
        let panes = Tab::ALL.iter().map(|t| vec![Screen::new(t.root())]).collect();
        let mut app = App {
            env,
            fleet,
            now,
            revision: 0,
            tables_unchanged: false,
            unsettled: None,
            planned: Default::default(),
            tab: Tab::Overview,
            panes,
            overlay: None,
            pending: Vec::new(),
            toasts: Vec::new(),
            running: BTreeMap::new(),
            touched: Vec::new(),
            next_action_id: 1,
            size: (120, 40),
            quitting: false,
            capabilities: Default::default(),
        };
        for p in problems {
            app.toast(p, Tone::Warn);
        }
        let mut effects = Vec::new();
        for i in 0..app.panes.len() {
            let ctx = ctx_of(&app.fleet, &app.env, app.now, app.revision);
            effects.extend(app.panes[i][0].view.on_enter(&ctx));
        }
        (app, effects)
    }

    pub fn ctx(&self) -> ViewCtx<'_> {
        ctx_of(&self.fleet, &self.env, self.now, self.revision)
    }

    /// The active pane's drill-down stack.
    pub fn stack(&self) -> &[Screen] {
        &self.panes[self.tab.index()]
    }

    pub fn screen(&self) -> &Screen {
        self.stack().last().expect("pane stacks are never empty")
    }

    /// Keymap modes for the current pane, most specific first.
    pub fn modes(&self) -> [&'static str; 3] {
        [self.tab.name(), TABLE, GLOBAL]
    }

    pub fn toast(&mut self, text: impl Into<String>, tone: Tone) {
        // Toasts quote remote text (errors, command output): nothing in it may drive the terminal.
        let text = opsdeck_core::text::clean_owned(text.into());
        tracing::info!(toast = %text);
        let ttl = if tone == Tone::Crit { 10 } else { 5 };
        self.toasts.push(Toast {
            text,
            tone,
            until: self.now + Duration::from_secs(ttl),
        });
        if self.toasts.len() > 4 {
            self.toasts.remove(0);
        }
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_action_id;
        self.next_action_id += 1;
        id
    }

    /// Whether an action for `target` is in flight (single-flight).
    pub fn running_on(&self, target: &str) -> Option<&Running> {
        self.running.values().find(|r| r.target == target)
    }
}
