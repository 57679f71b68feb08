//! Key strings (`ctrl-r`, `shift-tab`, `G`, `g g`) and keymaps.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// One key press, normalised: `shift-g` and `G` are the same combo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyCombo {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        "minus" => KeyCode::Char('-'),
        "plus" => KeyCode::Char('+'),
        _ => {
            let n = name
                .strip_prefix('f')?
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=24).contains(n))?;
            KeyCode::F(n)
        }
    })
}

impl KeyCombo {
    /// Parses one combo: `q`, `G`, `ctrl-r`, `alt-enter`, `shift-tab`, `f5`, `?`.
    pub fn parse(s: &str) -> Result<KeyCombo, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty key".into());
        }
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let stripped = ["ctrl-", "alt-", "shift-"]
                .into_iter()
                .find(|p| lower.starts_with(p) && rest.len() > p.len());
            match stripped {
                Some("ctrl-") => ctrl = true,
                Some("alt-") => alt = true,
                Some(_) => shift = true,
                None => break,
            }
            rest = &rest[stripped.map(str::len).unwrap_or(0)..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => named_key(&rest.to_ascii_lowercase()).ok_or_else(|| format!("unknown key {s:?}"))?,
        };
        Ok(KeyCombo { code, ctrl, alt, shift }.normalised())
    }

    /// `shift-g` → `G`, `shift-tab` → backtab; shift on other characters is implied by the character.
    fn normalised(mut self) -> Self {
        match self.code {
            KeyCode::Char(c) if self.shift && c.is_ascii_lowercase() => {
                self.code = KeyCode::Char(c.to_ascii_uppercase());
                self.shift = false;
            }
            KeyCode::Char(_) => self.shift = false,
            KeyCode::Tab if self.shift => {
                self.code = KeyCode::BackTab;
                self.shift = false;
            }
            KeyCode::BackTab => self.shift = false,
            _ => {}
        }
        self
    }

    pub fn from_event(ev: &KeyEvent) -> KeyCombo {
        KeyCombo {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
            shift: ev.modifiers.contains(KeyModifiers::SHIFT),
        }
        .normalised()
    }
}

impl fmt::Display for KeyCombo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A key sequence: one combo, or several separated by spaces (`g g`).
pub fn parse_sequence(s: &str) -> Result<Vec<KeyCombo>, String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.is_empty() {
        return Err("empty key".into());
    }
    if parts.len() > 3 {
        return Err(format!("key sequence {s:?} is longer than 3 keys"));
    }
    parts.into_iter().map(KeyCombo::parse).collect()
}

/// One binding: a key sequence and the action it triggers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<KeyCombo>,
    /// The key string as written (for help and messages).
    pub key_text: String,
    pub action: String,
}

/// Keymaps shipped in `keymaps/`, compiled in.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

/// Modes, most specific first: a pane's own mode (`pillows`), then `table`, then `global`.
pub const GLOBAL: &str = "global";
pub const TABLE: &str = "table";

/// Bindings per mode, merged from the compiled-in default, the chosen keymap and the user's files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keymap {
    pub name: String,
    modes: std::collections::BTreeMap<String, Vec<Binding>>,
}

/// What a key press means, given the keys pressed before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A complete binding.
    Action(String),
    /// The start of a longer sequence: wait for the next key.
    Pending,
    /// Bound to nothing here.
    Unbound,
}

/// The actions a keymap may name, per mode (everything else is reported at load).
pub struct ActionCatalog {
    /// (mode, action names valid in it); `global` and `table` actions are valid in every mode.
    pub modes: Vec<(String, Vec<String>)>,
}

impl ActionCatalog {
    fn knows(&self, mode: &str, action: &str) -> bool {
        let valid_in = |m: &str| {
            self.modes
                .iter()
                .any(|(name, actions)| name == m && actions.iter().any(|a| a == action))
        };
        valid_in(GLOBAL) || valid_in(TABLE) || valid_in(mode) || action.starts_with("custom:")
    }
    fn has_mode(&self, mode: &str) -> bool {
        self.modes.iter().any(|(m, _)| m == mode)
    }
}

impl Keymap {
    /// Parses one keymap file and merges it over `self`: a key bound again replaces the old binding,
    /// `"none"` unbinds. Problems (unknown keys, modes, actions, one key bound twice) are all returned.
    pub fn merge_file(&mut self, source: &str, text: &str, catalog: &ActionCatalog) -> Vec<String> {
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => return vec![format!("{source}: {}", e.to_string().trim())],
        };
        let mut problems = Vec::new();
        for (mode, entries) in &table {
            if mode == "description" {
                continue;
            }
            if !catalog.has_mode(mode) {
                problems.push(format!("{source}: [{mode}]: unknown mode"));
                continue;
            }
            let Some(entries) = entries.as_table() else {
                problems.push(format!("{source}: [{mode}]: expected a table of \"key\" = \"action\""));
                continue;
            };
            let mut seen: Vec<(Vec<KeyCombo>, &str)> = Vec::new();
            for (key_text, action) in entries {
                let Some(action) = action.as_str() else {
                    problems.push(format!("{source}: [{mode}] {key_text:?}: the action must be a string"));
                    continue;
                };
                let keys = match parse_sequence(key_text) {
                    Ok(k) => k,
                    Err(e) => {
                        problems.push(format!("{source}: [{mode}] {key_text:?}: {e}"));
                        continue;
                    }
                };
                if let Some((_, first)) = seen.iter().find(|(k, _)| *k == keys) {
                    problems.push(format!(
                        "{source}: [{mode}] {key_text:?}: the same key as {first:?} in this mode"
                    ));
                    continue;
                }
                seen.push((keys.clone(), key_text));
                let bindings = self.modes.entry(mode.clone()).or_default();
                bindings.retain(|b| b.keys != keys);
                if action == "none" {
                    continue;
                }
                if !catalog.knows(mode, action) {
                    problems.push(format!("{source}: [{mode}] {key_text:?}: unknown action {action:?}"));
                    continue;
                }
                bindings.push(Binding {
                    keys,
                    key_text: key_text.clone(),
                    action: action.to_string(),
                });
            }
        }
        problems
    }

    /// Binds a custom action's key in `mode`; a key already taken there is a problem, not a silent override.
    pub fn bind_custom(&mut self, mode: &str, key_text: &str, name: &str) -> Result<(), String> {
        let keys = parse_sequence(key_text)?;
        let bindings = self.modes.entry(mode.to_string()).or_default();
        if let Some(taken) = bindings.iter().find(|b| b.keys == keys) {
            return Err(format!(
                "key {key_text:?} in [{mode}] is already bound to {:?}",
                taken.action
            ));
        }
        bindings.push(Binding {
            keys,
            key_text: key_text.to_string(),
            action: format!("custom:{name}"),
        });
        Ok(())
    }

    /// Looks `pressed` (the pending keys plus the new one) up in `modes`, most specific first.
    pub fn resolve(&self, modes: &[&str], pressed: &[KeyCombo]) -> Resolution {
        let mut pending = false;
        for mode in modes {
            for b in self.modes.get(*mode).into_iter().flatten() {
                if b.keys == pressed {
                    return Resolution::Action(b.action.clone());
                }
                if b.keys.len() > pressed.len() && b.keys.starts_with(pressed) {
                    pending = true;
                }
            }
        }
        if pending {
            Resolution::Pending
        } else {
            Resolution::Unbound
        }
    }

    /// Bindings of one mode, in file order.
    pub fn bindings(&self, mode: &str) -> &[Binding] {
        self.modes.get(mode).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The first key bound to `action` in `modes` (for hints like "R restart").
    pub fn key_for(&self, modes: &[&str], action: &str) -> Option<&str> {
        modes
            .iter()
            .flat_map(|m| self.bindings(m))
            .find(|b| b.action == action)
            .map(|b| b.key_text.as_str())
    }

    /// The compiled-in default, with `name` (a shipped keymap or `user_dir/keymaps/NAME.toml`) merged over it,
    /// then the user's own `keymaps/default.toml` if any. Returns the keymap and every problem found.
    pub fn load(name: &str, user_dir: Option<&std::path::Path>, catalog: &ActionCatalog) -> (Keymap, Vec<String>) {
        let mut keymap = Keymap {
            name: name.to_string(),
            ..Keymap::default()
        };
        let mut problems = keymap.merge_file("keymaps/default.toml (built in)", BUILTIN[0].1, catalog);
        let user_file = |n: &str| {
            user_dir
                .map(|d| d.join("keymaps").join(format!("{n}.toml")))
                .filter(|p| p.is_file())
        };
        let mut layers: Vec<(String, String)> = Vec::new();
        if let Some(p) = user_file("default") {
            match crate::config::file::read_regular_text(&p, crate::config::file::TEXT_CAP) {
                Ok(t) => layers.push((p.display().to_string(), t)),
                Err(e) => problems.push(format!("{}: {e}", p.display())),
            }
        }
        if name != "default" {
            if let Some(p) = user_file(name) {
                match crate::config::file::read_regular_text(&p, crate::config::file::TEXT_CAP) {
                    Ok(t) => layers.push((p.display().to_string(), t)),
                    Err(e) => problems.push(format!("{}: {e}", p.display())),
                }
            } else if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
                layers.push((format!("keymaps/{name}.toml (built in)"), text.to_string()));
            } else {
                problems.push(format!(
                    "no keymap {name:?} (shipped: default, vim; or put {name}.toml in the config dir's keymaps/)"
                ));
            }
        }
        for (source, text) in layers {
            problems.extend(keymap.merge_file(&source, &text, catalog));
        }
        (keymap, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ActionCatalog {
        ActionCatalog {
            modes: vec![
                (GLOBAL.into(), vec!["quit".into(), "help".into(), "refresh".into()]),
                (TABLE.into(), vec!["top".into(), "bottom".into(), "down".into()]),
                ("pillows".into(), vec!["restart_process".into()]),
            ],
        }
    }

    fn k(s: &str) -> Vec<KeyCombo> {
        parse_sequence(s).unwrap()
    }

    #[test]
    fn key_strings_parse_and_normalise() {
        assert_eq!(KeyCombo::parse("shift-g").unwrap(), KeyCombo::parse("G").unwrap());
        assert_eq!(KeyCombo::parse("shift-tab").unwrap().code, KeyCode::BackTab);
        let c = KeyCombo::parse("ctrl-r").unwrap();
        assert!(c.ctrl && c.code == KeyCode::Char('r'));
        assert_eq!(KeyCombo::parse("ctrl-r").unwrap().to_string(), "ctrl-r");
        assert_eq!(KeyCombo::parse("f5").unwrap().code, KeyCode::F(5));
        assert_eq!(KeyCombo::parse("?").unwrap().code, KeyCode::Char('?'));
        assert_eq!(parse_sequence("g g").unwrap().len(), 2);
        assert!(KeyCombo::parse("ctrl-").is_err());
        assert!(KeyCombo::parse("hyper-x").is_err());
        assert!(parse_sequence("").is_err());
    }

    #[test]
    fn events_match_parsed_combos() {
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(KeyCombo::from_event(&ev), KeyCombo::parse("G").unwrap());
        let ev = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(KeyCombo::from_event(&ev), KeyCombo::parse("shift-tab").unwrap());
    }

    #[test]
    fn later_files_override_and_none_unbinds() {
        let mut km = Keymap::default();
        assert!(
            km.merge_file("a", "[global]\nq = \"quit\"\n\"ctrl-r\" = \"refresh\"\n", &catalog())
                .is_empty()
        );
        assert!(
            km.merge_file("b", "[global]\nq = \"none\"\nx = \"quit\"\n", &catalog())
                .is_empty()
        );
        assert_eq!(km.resolve(&[GLOBAL], &k("q")), Resolution::Unbound);
        assert_eq!(km.resolve(&[GLOBAL], &k("x")), Resolution::Action("quit".into()));
        assert_eq!(
            km.resolve(&[GLOBAL], &k("ctrl-r")),
            Resolution::Action("refresh".into())
        );
    }

    #[test]
    fn sequences_wait_for_their_next_key() {
        let mut km = Keymap::default();
        assert!(
            km.merge_file("a", "[table]\n\"g g\" = \"top\"\n", &catalog())
                .is_empty()
        );
        assert_eq!(km.resolve(&[TABLE], &k("g")), Resolution::Pending);
        assert_eq!(km.resolve(&[TABLE], &k("g g")), Resolution::Action("top".into()));
    }

    #[test]
    fn pane_modes_win_over_global() {
        let mut km = Keymap::default();
        let problems = km.merge_file(
            "a",
            "[global]\nR = \"refresh\"\n[pillows]\nR = \"restart_process\"\n",
            &catalog(),
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            km.resolve(&["pillows", GLOBAL], &k("R")),
            Resolution::Action("restart_process".into())
        );
        assert_eq!(
            km.resolve(&["queues", GLOBAL], &k("R")),
            Resolution::Action("refresh".into())
        );
    }

    #[test]
    fn problems_are_reported_not_ignored() {
        let mut km = Keymap::default();
        let p = km.merge_file(
            "user.toml",
            "[global]\nG = \"quit\"\n\"shift-g\" = \"help\"\nz = \"explode\"\n\"hyper-q\" = \"quit\"\n[nowhere]\nq = \"quit\"\n[table]\nR = \"restart_process\"\n",
            &catalog(),
        );
        let text = p.join("\n");
        assert!(text.contains("\"shift-g\": the same key as \"G\""), "{text}");
        assert!(text.contains("\"z\": unknown action \"explode\""), "{text}");
        assert!(text.contains("\"hyper-q\": unknown key"), "{text}");
        assert!(text.contains("[nowhere]: unknown mode"), "{text}");
        assert!(
            text.contains("[table] \"R\": unknown action \"restart_process\""),
            "{text}"
        );
        assert_eq!(p.len(), 5, "{text}");
    }

    #[test]
    fn custom_action_keys_may_not_steal_bindings() {
        let mut km = Keymap::default();
        km.merge_file("a", "[global]\nq = \"quit\"\n", &catalog());
        km.modes.entry("hosts".into()).or_default();
        assert!(
            km.bind_custom(GLOBAL, "q", "x")
                .unwrap_err()
                .contains("already bound to \"quit\"")
        );
        km.bind_custom("hosts", "T", "top").unwrap();
        assert_eq!(
            km.resolve(&["hosts", GLOBAL], &k("T")),
            Resolution::Action("custom:top".into())
        );
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn shipped_keymaps_load_without_problems() {
        let catalog = crate::app::action_catalog();
        for (name, _) in BUILTIN {
            let (km, problems) = Keymap::load(name, None, &catalog);
            assert!(problems.is_empty(), "{name}: {problems:?}");
            assert_eq!(
                km.resolve(&["pillows", TABLE, GLOBAL], &parse_sequence("?").unwrap()),
                Resolution::Action("help".into())
            );
        }
        let (vim, _) = Keymap::load("vim", None, &catalog);
        assert_eq!(
            vim.resolve(&[TABLE], &parse_sequence("g g").unwrap()),
            Resolution::Action("top".into())
        );
        assert_eq!(
            vim.resolve(&[TABLE], &parse_sequence("j").unwrap()),
            Resolution::Action("down".into())
        );
    }

    #[test]
    fn every_pane_action_has_a_default_key() {
        let (km, _) = Keymap::load("default", None, &crate::app::action_catalog());
        for tab in crate::ui::panes::Tab::ALL {
            for action in tab.actions() {
                assert!(
                    km.key_for(&[tab.name()], action.name).is_some(),
                    "[{}] {} has no binding in keymaps/default.toml",
                    tab.name(),
                    action.name
                );
            }
        }
    }

    #[test]
    fn user_files_override_the_default_and_report_their_own_problems() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("keymaps")).unwrap();
        std::fs::write(
            dir.path().join("keymaps/default.toml"),
            "[global]\nq = \"none\"\nQ = \"quit\"\nz = \"fly\"\n",
        )
        .unwrap();
        let (km, problems) = Keymap::load("default", Some(dir.path()), &crate::app::action_catalog());
        assert_eq!(
            km.resolve(&[GLOBAL], &parse_sequence("q").unwrap()),
            Resolution::Unbound
        );
        assert_eq!(
            km.resolve(&[GLOBAL], &parse_sequence("Q").unwrap()),
            Resolution::Action("quit".into())
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("keymaps/default.toml: [global] \"z\": unknown action \"fly\""),
            "{problems:?}"
        );
        let (_, problems) = Keymap::load("emacs", Some(dir.path()), &crate::app::action_catalog());
        assert!(
            problems.iter().any(|p| p.contains("no keymap \"emacs\"")),
            "{problems:?}"
        );
    }
}
