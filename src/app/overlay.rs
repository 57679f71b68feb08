//! Things drawn over a pane that take the keyboard: help, the `:` palette, the `/` filter, the confirm
//! dialog, value prompts. While one has focus, keys go to it: action keys are inert.

use crate::views::Tab;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck_core::action::ActionPlan;
use opsdeck_core::view::InputRequest;

pub enum Overlay {
    Help {
        scroll: u16,
    },
    Palette(Palette),
    /// Editing the current screen's filter (live).
    Filter,
    Confirm(Confirm),
    Input(Input),
    /// Quit while actions run or a procedure left settings changed: Stay is focused.
    QuitConfirm {
        focus: QuitFocus,
    },
}

/// The quit dialog's buttons, in order; Revert only while settings are left changed and no
/// procedure that changed them still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitFocus {
    Stay,
    Revert,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The text field where a high-risk target's name is typed.
    Typed,
    Cancel,
    Run,
}

pub struct Confirm {
    pub plan: ActionPlan,
    pub focus: Focus,
    pub typed: String,
    /// Shown under the buttons ("type X exactly", "read-only").
    pub hint: Option<String>,
    /// First row shown of the dialog's scrolling body (description and call).
    pub scroll: u16,
    /// Where the plan was made, so Run can make it again and refuse when the target changed.
    pub origin: Option<Origin>,
}

/// Where a plan came from: the view, its row and the action (and what was typed for it), so it can be
/// made again at the moment of Run and compared with the plan the person saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub tab: Tab,
    /// Position of the view in the pane's drill-down stack, and its breadcrumb then.
    pub depth: usize,
    pub crumb: String,
    pub row: Option<String>,
    /// The offer's action name, or `custom:NAME`.
    pub action: String,
    /// The value typed for an action that asks for one.
    pub input: Option<String>,
}

/// How the confirm dialog fits the terminal now (from `confirm_layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogFit {
    /// Title, target, risk, verify, the typed field and both buttons are all on screen.
    pub fits: bool,
    /// Rows the body can scroll, and rows it shows at once.
    pub max_scroll: u16,
    pub page: u16,
}

impl Confirm {
    pub fn new(plan: ActionPlan, read_only: bool) -> Self {
        // Cancel is focused by default; for high risk the typed field comes first and is itself the gate.
        // Read-only has no typed field: Cancel (Close) is the only control.
        let focus = if plan.needs_typed_confirmation() && !read_only {
            Focus::Typed
        } else {
            Focus::Cancel
        };
        Self {
            plan,
            focus,
            typed: String::new(),
            hint: None,
            scroll: 0,
            origin: None,
        }
    }

    /// Whether Run would run now (ignoring read-only, which the app checks).
    pub fn armed(&self) -> bool {
        !self.plan.needs_typed_confirmation() || self.typed == self.plan.target
    }

    fn focus_order(&self, read_only: bool) -> Vec<Focus> {
        match (read_only, self.plan.needs_typed_confirmation()) {
            (true, _) => vec![Focus::Cancel],
            (false, true) => vec![Focus::Typed, Focus::Cancel, Focus::Run],
            (false, false) => vec![Focus::Cancel, Focus::Run],
        }
    }

    fn move_focus(&mut self, read_only: bool, forward: bool) {
        let order = self.focus_order(read_only);
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward { (i + 1) % n } else { (i + n - 1) % n }];
    }
}

pub struct Input {
    pub request: InputRequest,
    pub value: String,
    pub error: Option<String>,
    /// Where the action was asked for (the value typed is added when it is planned).
    pub origin: Option<Origin>,
}

#[derive(Default)]
pub struct Palette {
    pub input: String,
    pub selected: usize,
}

/// What a key did to an overlay.
pub enum Outcome {
    Keep,
    Close,
    /// The confirm dialog's Run was pressed and armed.
    Run(ActionPlan),
    /// An input produced a plan: confirm it next.
    Planned(ActionPlan),
    /// Quit confirmed.
    Quit,
    /// A palette entry was chosen.
    Command(String),
}

/// Line editing shared by every text field. Returns whether the key was an edit.
pub fn edit(text: &mut String, key: &KeyEvent) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('u') if ctrl => text.clear(),
        KeyCode::Char('w') if ctrl => {
            let trimmed = text.trim_end().len();
            let cut = text[..trimmed].rfind(' ').map(|i| i + 1).unwrap_or(0);
            text.truncate(cut);
        }
        KeyCode::Char(c) if !ctrl => text.push(c),
        KeyCode::Backspace => {
            text.pop();
        }
        _ => return false,
    }
    true
}

pub fn confirm_key(c: &mut Confirm, key: &KeyEvent, read_only: bool, fit: DialogFit) -> Outcome {
    let scroll_to = |c: &mut Confirm, row: i64| c.scroll = row.clamp(0, i64::from(fit.max_scroll)) as u16;
    let (at, page) = (i64::from(c.scroll), i64::from(fit.page.max(2) - 1));
    match key.code {
        KeyCode::Esc => return Outcome::Close,
        KeyCode::Tab | KeyCode::Right => c.move_focus(read_only, true),
        KeyCode::BackTab | KeyCode::Left => c.move_focus(read_only, false),
        // The body scrolls; the buttons and the typed field never move.
        KeyCode::Down => scroll_to(c, at + 1),
        KeyCode::Up => scroll_to(c, at - 1),
        KeyCode::PageDown => scroll_to(c, at + page),
        KeyCode::PageUp => scroll_to(c, at - page),
        KeyCode::Home => scroll_to(c, 0),
        KeyCode::End => scroll_to(c, i64::from(fit.max_scroll)),
        KeyCode::Enter => match c.focus {
            Focus::Cancel => return Outcome::Close,
            Focus::Run | Focus::Typed if read_only => c.hint = Some("read-only mode: this action is disabled".into()),
            Focus::Run | Focus::Typed if !fit.fits => {
                c.hint = Some("enlarge the terminal to confirm: the whole plan must be on screen".into())
            }
            Focus::Run | Focus::Typed if c.armed() => return Outcome::Run(c.plan.clone()),
            Focus::Run | Focus::Typed => {
                c.hint = Some(format!("type {:?} exactly to confirm", c.plan.target));
                c.focus = Focus::Typed;
            }
        },
        _ if c.focus == Focus::Typed => {
            edit(&mut c.typed, key);
            c.hint = None;
        }
        _ => {}
    }
    Outcome::Keep
}

pub fn input_key(i: &mut Input, key: &KeyEvent) -> Outcome {
    match key.code {
        KeyCode::Esc => Outcome::Close,
        KeyCode::Enter => match (i.request.build)(i.value.trim()) {
            Ok(plan) => Outcome::Planned(plan),
            Err(e) => {
                i.error = Some(e);
                Outcome::Keep
            }
        },
        _ => {
            if edit(&mut i.value, key) {
                i.error = None;
            }
            Outcome::Keep
        }
    }
}

/// Keys of the quit dialog; `can_revert` says whether its Revert button is shown.
pub fn quit_key(focus: &mut QuitFocus, key: &KeyEvent, can_revert: bool) -> Outcome {
    let order: &[QuitFocus] = if can_revert {
        &[QuitFocus::Stay, QuitFocus::Revert, QuitFocus::Quit]
    } else {
        &[QuitFocus::Stay, QuitFocus::Quit]
    };
    let i = order.iter().position(|f| f == focus).unwrap_or(0);
    let n = order.len();
    match key.code {
        KeyCode::Esc => Outcome::Close,
        KeyCode::Tab | KeyCode::Right => {
            *focus = order[(i + 1) % n];
            Outcome::Keep
        }
        KeyCode::BackTab | KeyCode::Left => {
            *focus = order[(i + n - 1) % n];
            Outcome::Keep
        }
        // Stopping the procedure is what makes its settings revertible.
        KeyCode::Char('x') if key.modifiers.contains(KeyModifiers::CONTROL) => Outcome::Command("cancel_action".into()),
        KeyCode::Enter => match order[i] {
            QuitFocus::Quit => Outcome::Quit,
            QuitFocus::Revert => Outcome::Command("revert_settings".into()),
            QuitFocus::Stay => Outcome::Close,
        },
        _ => Outcome::Keep,
    }
}

/// Palette entries matching what was typed: prefix matches first, then substring matches.
pub fn palette_matches<'a>(input: &str, entries: &'a [(String, String)]) -> Vec<&'a (String, String)> {
    let q = input.trim().to_lowercase();
    let mut prefix: Vec<_> = entries.iter().filter(|(n, _)| n.starts_with(&q)).collect();
    let rest = entries.iter().filter(|(n, _)| !n.starts_with(&q) && n.contains(&q));
    prefix.extend(rest);
    prefix
}

pub fn palette_key(p: &mut Palette, key: &KeyEvent, entries: &[(String, String)]) -> Outcome {
    let matches = palette_matches(&p.input, entries);
    match key.code {
        KeyCode::Esc => Outcome::Close,
        KeyCode::Down => {
            p.selected = (p.selected + 1).min(matches.len().saturating_sub(1));
            Outcome::Keep
        }
        KeyCode::Up => {
            p.selected = p.selected.saturating_sub(1);
            Outcome::Keep
        }
        KeyCode::Tab => {
            if let Some((name, _)) = matches.get(p.selected) {
                p.input = name.clone();
                p.selected = 0;
            }
            Outcome::Keep
        }
        KeyCode::Enter => {
            let typed = p.input.trim();
            if let Some((name, _)) = entries.iter().find(|(n, _)| n == typed) {
                return Outcome::Command(name.clone());
            }
            match matches.get(p.selected) {
                Some((name, _)) => Outcome::Command(name.clone()),
                None => Outcome::Keep,
            }
        }
        _ => {
            if edit(&mut p.input, key) {
                p.selected = 0;
            }
            Outcome::Keep
        }
    }
}
