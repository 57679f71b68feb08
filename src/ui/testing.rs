//! Driving the whole app from tests: key strings in, screen text and planned actions out. Built
//! for the crate's unit tests and, through the `testing` feature, for the integration tests only.

use crate::app::{App, Env, Event, action_catalog};
use crate::config::Config;
use crate::keymap::Keymap;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck_core::action::ActionPlan;
use opsdeck_core::effect::Effect;
use opsdeck_core::keys::KeyCombo;
use opsdeck_core::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// An app on `config` at `now` with the shipped keymap `keymap` (its problems fail the test) and the
/// default theme; nothing polled yet.
pub fn app(config: Config, keymap: &str, now: std::time::SystemTime) -> App {
    let (keymap, problems) = Keymap::load(keymap, None, &action_catalog());
    assert!(problems.is_empty(), "{problems:?}");
    let env = Env {
        config: std::sync::Arc::new(config),
        keymap,
        theme: Theme::builtin("default").expect("shipped"),
        read_only: false,
    };
    App::new(env, now).0
}

/// An app on any `config` a user could write, with the keymap it names (shipped or the config dir's;
/// its problems are the app's toasts, as in the console) and the default theme, at `now`.
pub fn app_on(config: Config, now: std::time::SystemTime) -> App {
    let (keymap, _problems) = Keymap::load(&config.general.keymap, None, &action_catalog());
    let env = Env {
        config: std::sync::Arc::new(config),
        keymap,
        theme: Theme::builtin("default").expect("shipped"),
        read_only: false,
    };
    App::new(env, now).0
}

/// Presses one key given as a key string (`q`, `G`, `ctrl-u`, `shift-tab`, `enter`), as a terminal sends it.
pub fn press(app: &mut App, key: &str) -> Vec<Effect> {
    let combo = KeyCombo::parse(key).unwrap_or_else(|e| panic!("{e}"));
    let mut mods = KeyModifiers::empty();
    if combo.ctrl {
        mods |= KeyModifiers::CONTROL;
    }
    if combo.alt {
        mods |= KeyModifiers::ALT;
    }
    if matches!(combo.code, KeyCode::Char(c) if c.is_ascii_uppercase()) || combo.code == KeyCode::BackTab {
        mods |= KeyModifiers::SHIFT;
    }
    app.update(Event::Key(KeyEvent::new(combo.code, mods)))
}

/// Types `text` into whatever has focus, one character at a time.
pub fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(app.update(Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::empty()))));
    }
    effects
}

/// The screen as text, `width` x `height`, each line with trailing blanks trimmed.
pub fn screen_text(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal.draw(|f| crate::ui::draw(f, app)).expect("test backend draws");
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The plans among `effects` that the app asked to run.
pub fn planned(effects: &[Effect]) -> Vec<&ActionPlan> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::RunAction { plan, .. } => Some(plan),
            _ => None,
        })
        .collect()
}
