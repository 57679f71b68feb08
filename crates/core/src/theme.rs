//! Themes: semantic slots (ok/warn/crit, selection, header, border...) read from TOML files.
//! The shipped themes are compiled in; a file of the same name in the config dir's `themes/` wins.

use crate::alert::Severity;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// How a cell is coloured, by meaning (the theme picks the colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Normal,
    Ok,
    Warn,
    Crit,
    Muted,
    Accent,
}

impl From<Severity> for Tone {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Ok => Tone::Ok,
            Severity::Warning => Tone::Warn,
            Severity::Critical => Tone::Crit,
        }
    }
}

/// The places a theme colours. Panes ask for meanings, never for colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Text,
    Muted,
    Header,
    Border,
    BorderFocus,
    Title,
    Tab,
    TabActive,
    Selection,
    Ok,
    Warn,
    Crit,
    Accent,
    Crumbs,
    StatusBar,
    Key,
    Dialog,
    Input,
    Match,
}

impl Slot {
    pub const ALL: [Slot; 19] = [
        Slot::Text,
        Slot::Muted,
        Slot::Header,
        Slot::Border,
        Slot::BorderFocus,
        Slot::Title,
        Slot::Tab,
        Slot::TabActive,
        Slot::Selection,
        Slot::Ok,
        Slot::Warn,
        Slot::Crit,
        Slot::Accent,
        Slot::Crumbs,
        Slot::StatusBar,
        Slot::Key,
        Slot::Dialog,
        Slot::Input,
        Slot::Match,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Text => "text",
            Slot::Muted => "muted",
            Slot::Header => "header",
            Slot::Border => "border",
            Slot::BorderFocus => "border_focus",
            Slot::Title => "title",
            Slot::Tab => "tab",
            Slot::TabActive => "tab_active",
            Slot::Selection => "selection",
            Slot::Ok => "ok",
            Slot::Warn => "warn",
            Slot::Crit => "crit",
            Slot::Accent => "accent",
            Slot::Crumbs => "crumbs",
            Slot::StatusBar => "status_bar",
            Slot::Key => "key",
            Slot::Dialog => "dialog",
            Slot::Input => "input",
            Slot::Match => "match",
        }
    }
}

/// One slot's style as written in a theme file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    description: String,
    slots: BTreeMap<String, StyleSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub description: String,
    styles: BTreeMap<Slot, Style>,
}

/// Themes shipped in `themes/`, compiled in.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../../themes/default.toml")),
    ("mono", include_str!("../../../themes/mono.toml")),
    ("midnight", include_str!("../../../themes/midnight.toml")),
];

fn color(s: &str) -> Result<Color, String> {
    Color::from_str(s).map_err(|_| format!("unknown colour {s:?} (use a name like \"red\", \"bright-blue\", \"reset\", an index \"214\" or \"#rrggbb\")"))
}

impl Theme {
    /// Parses a theme file. Every slot must be given (a theme missing one would silently inherit nothing).
    pub fn parse(name: &str, text: &str) -> Result<Theme, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut styles = BTreeMap::new();
        for (key, spec) in &file.slots {
            let slot = Slot::ALL
                .into_iter()
                .find(|s| s.name() == key)
                .ok_or_else(|| format!("unknown slot {key:?} (known: {})", Slot::ALL.map(Slot::name).join(", ")))?;
            let mut style = Style::default();
            if let Some(fg) = &spec.fg {
                style = style.fg(color(fg).map_err(|e| format!("slots.{key}.fg: {e}"))?);
            }
            if let Some(bg) = &spec.bg {
                style = style.bg(color(bg).map_err(|e| format!("slots.{key}.bg: {e}"))?);
            }
            for (on, m) in [
                (spec.bold, Modifier::BOLD),
                (spec.dim, Modifier::DIM),
                (spec.italic, Modifier::ITALIC),
                (spec.underline, Modifier::UNDERLINED),
                (spec.reversed, Modifier::REVERSED),
            ] {
                if on {
                    style = style.add_modifier(m);
                }
            }
            styles.insert(slot, style);
        }
        let missing: Vec<_> = Slot::ALL
            .into_iter()
            .filter(|s| !styles.contains_key(s))
            .map(Slot::name)
            .collect();
        if !missing.is_empty() {
            return Err(format!("missing slots: {}", missing.join(", ")));
        }
        Ok(Theme {
            name: name.to_string(),
            description: file.description,
            styles,
        })
    }

    /// A shipped theme by name.
    pub fn builtin(name: &str) -> Option<Theme> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| Theme::parse(n, text).expect("shipped themes parse (tested)"))
    }

    /// Loads `name`: a file in `user_dir/themes/NAME.toml` first, then the shipped one.
    pub fn load(name: &str, user_dir: Option<&std::path::Path>) -> Result<Theme, String> {
        if let Some(dir) = user_dir {
            let path = dir.join("themes").join(format!("{name}.toml"));
            if path.is_file() {
                let text = crate::config::file::read_regular_text(&path, crate::config::file::TEXT_CAP)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                return Theme::parse(name, &text).map_err(|e| format!("{}: {e}", path.display()));
            }
        }
        Theme::builtin(name).ok_or_else(|| {
            format!(
                "no theme {name:?} (shipped: {}; or put {name}.toml in the config dir's themes/)",
                BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// Drops every colour and keeps the modifiers: what `NO_COLOR` asks for.
    pub fn without_colour(mut self) -> Theme {
        for style in self.styles.values_mut() {
            style.fg = None;
            style.bg = None;
            style.underline_color = None;
        }
        self
    }

    pub fn style(&self, slot: Slot) -> Style {
        self.styles.get(&slot).copied().unwrap_or_default()
    }

    pub fn tone(&self, tone: Tone) -> Style {
        self.style(match tone {
            Tone::Normal => Slot::Text,
            Tone::Ok => Slot::Ok,
            Tone::Warn => Slot::Warn,
            Tone::Crit => Slot::Crit,
            Tone::Muted => Slot::Muted,
            Tone::Accent => Slot::Accent,
        })
    }
}

/// Whether `NO_COLOR` is set to something (https://no-color.org).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_parse_and_fill_every_slot() {
        for (name, text) in BUILTIN {
            let theme = Theme::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(theme.styles.len(), Slot::ALL.len(), "{name}");
        }
    }

    #[test]
    fn mono_has_no_colour_but_keeps_severity_legible() {
        let mono = Theme::builtin("mono").unwrap();
        for slot in Slot::ALL {
            let s = mono.style(slot);
            assert!(s.fg.is_none() && s.bg.is_none(), "{slot:?} has colour in mono");
        }
        // Severity and selection never look alike: reverse video is the selection's alone.
        let crit = mono.style(Slot::Crit).add_modifier;
        assert!(crit.contains(Modifier::BOLD | Modifier::UNDERLINED), "{crit:?}");
        assert!(!crit.contains(Modifier::REVERSED));
        assert!(!mono.style(Slot::Warn).add_modifier.contains(Modifier::REVERSED));
        assert!(mono.style(Slot::Warn).add_modifier.contains(Modifier::BOLD));
        assert_ne!(mono.style(Slot::Header), mono.style(Slot::Crit));
        assert!(mono.style(Slot::Selection).add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn default_theme_uses_only_the_16_ansi_colours_and_terminal_background() {
        let theme = Theme::builtin("default").unwrap();
        for slot in Slot::ALL {
            let s = theme.style(slot);
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(!matches!(c, Color::Rgb(..) | Color::Indexed(_)), "{slot:?} uses {c:?}");
            }
        }
        assert_eq!(theme.style(Slot::Text).bg, Some(Color::Reset));
    }

    #[test]
    fn no_color_strips_colours_only() {
        let theme = Theme::builtin("midnight").unwrap().without_colour();
        assert!(theme.style(Slot::Crit).fg.is_none());
        assert!(theme.style(Slot::Header).add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn bad_theme_files_say_what_is_wrong() {
        let e = Theme::parse("t", "[slots]\ntext = { fg = \"chartreuse-ish\" }").unwrap_err();
        assert!(e.contains("slots.text.fg: unknown colour"), "{e}");
        let e = Theme::parse("t", "[slots]\nsparkle = { bold = true }").unwrap_err();
        assert!(e.contains("unknown slot \"sparkle\""), "{e}");
        let e = Theme::parse("t", "[slots]\ntext = { bold = true }").unwrap_err();
        assert!(e.contains("missing slots: muted"), "{e}");
    }
}

#[cfg(test)]
mod user_dir_tests {
    use super::*;

    #[test]
    fn a_user_theme_of_the_same_name_wins_and_bad_ones_name_their_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        let mine = BUILTIN[0].1.replace(
            "crit         = { fg = \"red\", bold = true }",
            "crit = { fg = \"magenta\" }",
        );
        std::fs::write(dir.path().join("themes/default.toml"), mine).unwrap();
        let t = Theme::load("default", Some(dir.path())).unwrap();
        assert_eq!(t.style(Slot::Crit).fg, Some(Color::Magenta));
        std::fs::write(dir.path().join("themes/broken.toml"), "[slots]\ntext = 3").unwrap();
        let e = Theme::load("broken", Some(dir.path())).unwrap_err();
        assert!(e.contains("themes/broken.toml"), "{e}");
        assert!(
            Theme::load("nonesuch", Some(dir.path()))
                .unwrap_err()
                .contains("shipped: default, mono, midnight")
        );
    }
}
