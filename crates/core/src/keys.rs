//! Key strings (`ctrl-r`, `shift-tab`, `G`, `g g`): what keymap files and custom actions name, as
//! the terminal reports them.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
