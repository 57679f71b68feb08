//! What a pane shows at one level of drill-down. Panes are stacks of views: the pane's root view,
//! then whatever `Enter` opened (breadcrumbs show the stack).

use crate::action::ActionPlan;
use crate::alert::AlertTarget;
use crate::effect::Effect;
use crate::logs::LogSource;
use crate::pane::{PaneConfigs, PaneId, PaneStates};
use crate::theme::Theme;
pub use crate::theme::Tone;

/// What a placeholder's value is and where it was read: ("program name", "supervisorctl status on {host}").
pub type VarSource = (&'static str, &'static str);

/// A placeholder that is another one's value under a second name (`name`): it comes from where that one does.
pub const SAME_AS_ANOTHER: VarSource = ("", "");
/// A host's name, from the config.
pub const HOST: VarSource = ("host name", "the config");

/// A row kind a custom action can be scoped to (a view's `scope()`), with the placeholders its rows
/// fill and where each value comes from. `{host}` in a source is the row's host; an empty entry
/// (`name`) is another placeholder's value under a second name: it comes from where that one does.
#[derive(Debug)]
pub struct RowKind {
    pub scope: &'static str,
    pub vars: &'static [(&'static str, VarSource)],
}
use ratatui::Frame;
use ratatui::layout::Rect;
use std::time::SystemTime;

/// A value a view derives from what it shows (every alert, for a header), computed once per app
/// revision instead of once per frame (see [`ViewCtx::revision`]), or once per any other key
/// ([`Memo::keyed`]). What it computes must not depend on `ctx.now`: the clock does not move the
/// revision.
pub struct Memo<T, K = u64>(std::sync::Mutex<Option<(K, std::sync::Arc<T>)>>);

impl<T, K> Default for Memo<T, K> {
    fn default() -> Self {
        Self(std::sync::Mutex::new(None))
    }
}

impl<T> Memo<T> {
    /// The value for `ctx`'s revision: the kept one, or `compute()` (kept when `ctx` has a revision).
    pub fn get(&self, ctx: &ViewCtx, compute: impl FnOnce() -> T) -> std::sync::Arc<T> {
        self.keyed(ctx.revision, compute)
    }
}

impl<T, K: PartialEq> Memo<T, K> {
    /// The value for `key`: the kept one when it was computed for the same key, else `compute()`
    /// (kept unless `key` is `None`).
    pub fn keyed(&self, key: Option<K>, compute: impl FnOnce() -> T) -> std::sync::Arc<T> {
        let Some(key) = key else {
            return std::sync::Arc::new(compute());
        };
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((kept, value)) = slot.as_ref()
            && *kept == key
        {
            return std::sync::Arc::clone(value);
        }
        let value = std::sync::Arc::new(compute());
        *slot = Some((key, std::sync::Arc::clone(&value)));
        value
    }
}

/// Everything a view may read while building rows or drawing. No I/O.
pub struct ViewCtx<'a> {
    /// Every pane's state: `ctx.fleet.of::<Pillows>()`.
    pub fleet: &'a dyn PaneStates,
    /// Every pane's config section: `ctx.config.of::<Hosts>()`.
    pub config: &'a dyn PaneConfigs,
    /// The clock, injected so snapshots do not drift.
    pub now: SystemTime,
    pub theme: &'a Theme,
    pub read_only: bool,
    /// The app's revision: it changes whenever anything a view's rows may show could have changed
    /// (a poll, an action, a key other than moving the selection; not the clock), so a view's table
    /// is the same while it is the same and caches key on it. `None` caches nothing (tests,
    /// one-shot renders).
    pub revision: Option<u64>,
}

/// How a cell sorts.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    /// By the cell's text, ignoring case.
    Text,
    Number(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub sort: SortKey,
    pub tone: Tone,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            sort: SortKey::Text,
            tone: Tone::Normal,
        }
    }
    /// A number shown as `text`, sorted by `value`.
    pub fn num(text: impl Into<String>, value: f64) -> Self {
        Self {
            text: text.into(),
            sort: SortKey::Number(value),
            tone: Tone::Normal,
        }
    }
    /// A verdict's mark (✖ ▲ ✓) in its colour, sorting by `score` (worst first when descending).
    pub fn severity(sev: crate::alert::Severity, score: f64) -> Self {
        let mark = match sev {
            crate::alert::Severity::Critical => "✖",
            crate::alert::Severity::Warning => "▲",
            crate::alert::Severity::Ok => "✓",
        };
        Self::num(mark, score).tone(Tone::from(sev))
    }
    /// A verdict's mark that sorts critical rows first, then warnings, each group by `then`.
    pub fn severity_then(sev: crate::alert::Severity, then: f64) -> Self {
        let base = match sev {
            crate::alert::Severity::Critical => 2e12,
            crate::alert::Severity::Warning => 1e12,
            crate::alert::Severity::Ok => 0.0,
        };
        Self::severity(sev, base + then)
    }
    /// A count, sorted by its value.
    pub fn count(n: u64) -> Self {
        Self::num(n.to_string(), n as f64)
    }
    /// A stand-in for a value not known ("–", "never"): muted, sorted below every value.
    pub fn muted(text: impl Into<String>) -> Self {
        Self::num(text, -1.0).tone(Tone::Muted)
    }

    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    /// Narrowest it is drawn, in cells.
    pub width: u16,
    /// Widest its content makes it before spare width is shared out (`grow` columns take what is
    /// left beyond that).
    pub max: u16,
    pub align: Align,
    pub grow: bool,
    /// At narrow widths the lowest priority goes first (the first column, and leading [`KEY`]
    /// columns, never go); hidden columns are scrolled into view with `←`/`→`.
    pub priority: u8,
}

/// Priority of a column nobody ranked.
pub const NORMAL: u8 = 5;
/// Priority of a leading column that names the row (with the first column, never dropped and never
/// scrolled away): a queue's name after its severity mark.
pub const KEY: u8 = u8::MAX;

impl Column {
    pub fn left(title: &str, width: u16) -> Self {
        Self {
            title: title.into(),
            width,
            max: 40.max(width),
            align: Align::Left,
            grow: false,
            priority: NORMAL,
        }
    }
    pub fn right(title: &str, width: u16) -> Self {
        Self {
            align: Align::Right,
            ..Self::left(title, width)
        }
    }
    pub fn grow(mut self) -> Self {
        self.grow = true;
        self
    }
    /// Widest the content makes it (at least its minimum).
    pub fn max(mut self, max: u16) -> Self {
        self.max = max.max(self.width);
        self
    }
    /// How long it stays at narrow widths: higher stays longer (default [`NORMAL`]).
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }
    /// A column that names the row: kept in view whatever the width and scroll (see [`KEY`]).
    pub fn key(self) -> Self {
        self.priority(KEY)
    }
}

/// One row; `key` identifies it across refreshes so the selection stays put.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: String,
    pub cells: Vec<Cell>,
}

/// A view's table: built from the model each frame, filtered and sorted by the app.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Column sorted by when the user has not chosen one, and whether descending.
    pub default_sort: Option<(usize, bool)>,
    /// What to say when there are no rows.
    pub empty: String,
}

/// An action a view offers on its selected row (or on the view itself).
#[derive(Clone)]
pub struct ActionOffer {
    /// The keymap action name that triggers it (e.g. `restart_process`).
    pub name: &'static str,
    /// The plan, or why this action cannot be taken on this row right now.
    pub plan: Result<ActionPlan, String>,
    /// When set, the user is asked for a value first and the plan is built from it
    /// (`plan` is then ignored unless it is an `Err`, which refuses the action outright).
    pub input: Option<InputRequest>,
    /// The exact call follows data that moves on its own (a log end) and the operation re-checks
    /// what matters when it runs (compare-and-set on the old offsets): at Run only the plan's
    /// identity must be unchanged, not its call. The plan confirmed is the one that runs.
    pub call_drifts: bool,
}

impl ActionOffer {
    pub fn new(name: &'static str, plan: Result<ActionPlan, String>) -> Self {
        Self {
            name,
            plan,
            input: None,
            call_drifts: false,
        }
    }
}

/// Builds a plan from what the user typed, or says what is wrong with it.
pub type PlanBuilder = std::sync::Arc<dyn Fn(&str) -> Result<ActionPlan, String> + Send + Sync>;

/// A value to ask for before an action can be planned (e.g. new read capacity).
#[derive(Clone)]
pub struct InputRequest {
    pub title: String,
    /// What to type, e.g. "new read capacity units (now 100)".
    pub prompt: String,
    /// Pre-filled text.
    pub initial: String,
    pub build: PlanBuilder,
}

impl std::fmt::Debug for ActionOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionOffer")
            .field("name", &self.name)
            .field("plan", &self.plan)
            .field("input", &self.input.as_ref().map(|i| &i.title))
            .finish()
    }
}

/// A keymap action a pane understands, for keymap validation and the help screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneAction {
    pub name: &'static str,
    pub help: &'static str,
}

/// A pane's top view in one of two named modes (`queues` / `tables`) that one keymap action
/// switches (`t`): what its `crumb`, `handles`, `show` and `handle` answer about the switch, so
/// every pane's toggle behaves alike and an alert can land in either mode by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    action: &'static str,
    names: [&'static str; 2],
    second: bool,
}

impl Modes {
    /// In mode `first`; `action` switches to `second` and back.
    pub const fn new(action: &'static str, first: &'static str, second: &'static str) -> Self {
        Self {
            action,
            names: [first, second],
            second: false,
        }
    }

    /// Whether the second mode is shown.
    pub fn second(&self) -> bool {
        self.second
    }

    /// The mode shown (the crumb).
    pub fn name(&self) -> &'static str {
        self.names[usize::from(self.second)]
    }

    /// Whether `action` is the switch.
    pub fn handles(&self, action: &str) -> bool {
        action == self.action
    }

    /// Shows the mode named `name`; false when there is none of that name.
    pub fn show(&mut self, name: &str) -> bool {
        match self.names.iter().position(|n| *n == name) {
            Some(i) => {
                self.second = i == 1;
                true
            }
            None => false,
        }
    }

    /// Switches on `action` (no effects); `None` when it is not the switch.
    pub fn handle(&mut self, action: &str) -> Option<Vec<Effect>> {
        self.handles(action).then(|| {
            self.second = !self.second;
            Vec::new()
        })
    }
}

pub trait View: Send {
    /// Breadcrumb label for this level.
    fn crumb(&self) -> String;

    /// The row kind, for custom-action scopes (`pillows`, `pillows.partition`, ...).
    fn scope(&self) -> &'static str;

    /// The pane whose freshness and error this view shows.
    fn source(&self) -> Option<PaneId>;

    /// Rows to show (a view with a custom body may return an empty table).
    fn table(&self, ctx: &ViewCtx) -> Table;

    /// Text above the table (summary, verdicts); one entry per line.
    fn header(&self, _ctx: &ViewCtx) -> Vec<(String, Tone)> {
        Vec::new()
    }

    /// Draws a custom body instead of the table; return `false` to get the table.
    fn render_body(&self, _frame: &mut Frame, _area: Rect, _ctx: &ViewCtx, _selected: Option<&str>) -> bool {
        false
    }

    /// `Enter` on a row that is about something another pane shows (an alert): where that is.
    /// Checked before `drill`.
    fn goto(&self, _ctx: &ViewCtx, _row: &str) -> Option<AlertTarget> {
        None
    }

    /// Switches this (top-level) view to its view named `name` (`tables`, `unassigned`); false when
    /// it has none of that name. Used to land on an alert's row.
    fn show(&mut self, name: &str) -> bool {
        self.modes_mut().is_some_and(|m| m.show(name))
    }

    /// Its two named modes and the key that switches them, when it has them: `show`, `handles` and
    /// `handle` answer for the switch unless the view says otherwise.
    fn modes(&self) -> Option<&Modes> {
        None
    }
    fn modes_mut(&mut self) -> Option<&mut Modes> {
        None
    }

    /// `Enter` on a row.
    fn drill(&self, _ctx: &ViewCtx, _row: &str) -> Option<Box<dyn View>> {
        None
    }

    /// Whether `Enter` on `row` opens something (the footer asks on every frame): a view whose
    /// `drill` costs more than a glance answers without building the view.
    fn drills(&self, ctx: &ViewCtx, row: &str) -> bool {
        self.drill(ctx, row).is_some()
    }

    /// A pane key that opens another view on top of this one (`Esc` comes back here).
    fn opens(&self, _action: &str, _ctx: &ViewCtx) -> Option<Box<dyn View>> {
        None
    }

    /// Actions offered on `row` (or on the view when `row` is `None`).
    fn actions(&self, _ctx: &ViewCtx, _row: Option<&str>) -> Vec<ActionOffer> {
        Vec::new()
    }

    /// Values a custom action's template may use on `row` (`host`, `name`, `process`, ...).
    fn row_vars(&self, _ctx: &ViewCtx, _row: &str) -> Vec<(String, String)> {
        Vec::new()
    }

    /// A pane-specific keymap action (`toggle_follow`, ...) on the selected `row`. `None` when not
    /// handled here.
    fn handle(&mut self, action: &str, _ctx: &ViewCtx, _row: Option<&str>) -> Option<Vec<Effect>> {
        self.modes_mut().and_then(|m| m.handle(action))
    }

    /// The logs of `row` (or of the view when `row` is `None`) for "tail its log": a pillow's
    /// processes, an Elasticsearch node, a host's files, a supervisor program. `Err` says why there
    /// is none, in words the person can act on.
    fn logs(&self, _ctx: &ViewCtx, _row: Option<&str>) -> Result<Vec<LogSource>, String> {
        Err("this view has no logs to tail".into())
    }

    /// The `/` text changed. Table views ignore it (the app filters their rows); a view with its own
    /// body uses it itself (the log tail searches and highlights).
    fn on_filter(&mut self, _text: &str) {}

    /// Called once when the view is opened (e.g. start a log tail).
    fn on_enter(&mut self, _ctx: &ViewCtx) -> Vec<Effect> {
        Vec::new()
    }

    /// Called once when the view is left for good (e.g. stop a log tail).
    fn on_leave(&mut self) -> Vec<Effect> {
        Vec::new()
    }

    /// Whether this view itself acts on the key action `name` on the selected `row` (a view
    /// switch, a toggle, a tail's keys, a row's own key; `filter` for a view with its own body that
    /// searches). With the actions it offers on the selected row, this is what the footer hints:
    /// keys that act here, no others (the help lists every key of the pane).
    fn handles(&self, name: &str, _ctx: &ViewCtx, _row: Option<&str>) -> bool {
        self.modes().is_some_and(|m| m.handles(name))
    }
}
