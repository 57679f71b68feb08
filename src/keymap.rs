//! Keymaps: which key sequence (`opsdeck_core::keys`) triggers which action, per mode.

use opsdeck_core::keys::{KeyCombo, parse_sequence};

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
    ("default", include_str!("../keymaps/default.toml")),
    ("vim", include_str!("../keymaps/vim.toml")),
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
            match opsdeck_core::config::file::read_regular_text(&p, opsdeck_core::config::file::TEXT_CAP) {
                Ok(t) => layers.push((p.display().to_string(), t)),
                Err(e) => problems.push(format!("{}: {e}", p.display())),
            }
        }
        if name != "default" {
            if let Some(p) = user_file(name) {
                match opsdeck_core::config::file::read_regular_text(&p, opsdeck_core::config::file::TEXT_CAP) {
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
        for tab in crate::views::Tab::ALL {
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
