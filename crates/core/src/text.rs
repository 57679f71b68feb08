//! Text from remote systems (cluster and node names, error reasons, file and program names, log
//! lines) made safe to show on a terminal: no byte of it may drive the terminal. A leaf: std only.
//!
//! Every control character (C0 including CR and LF, DEL, C1) and every bidirectional-override
//! character becomes a visible [`MARK`], so a reader sees that something was there; an escape
//! sequence introduced by `ESC [` (colours, cursor moves, "clear screen") becomes one mark rather
//! than a mark followed by its parameters. A tab is whitespace and becomes spaces. Printable
//! Unicode is kept as it is.

use std::borrow::Cow;

/// What replaces bytes a terminal would act on.
pub const MARK: char = '\u{fffd}';

/// Spaces a tab becomes.
const TAB: &str = "    ";

/// Characters that reorder the text around them (the "Trojan Source" characters): shown, they make
/// a name read as something else.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` must not reach a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// `s` with every unsafe character replaced (see the module doc); borrowed when nothing had to change.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' => out.push_str(TAB),
            // CSI, 7-bit (`ESC [`) or 8-bit (U+009B): parameters and intermediates up to one final
            // byte in `@`..=`~` are the sequence; it becomes a single mark.
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                skip_csi(&mut chars);
                out.push(MARK);
            }
            '\u{9b}' => {
                skip_csi(&mut chars);
                out.push(MARK);
            }
            c if is_unsafe(c) => out.push(MARK),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Skips a CSI's parameter and intermediate bytes and its final byte (or to the end of the text).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(&f) = chars.peek() {
        if !(' '..='~').contains(&f) {
            // Not part of a sequence: a cut-off one ends here and the text goes on.
            return;
        }
        chars.next();
        if ('@'..='~').contains(&f) {
            return;
        }
    }
}

/// [`clean`] for an owned string: no copy when nothing had to change.
pub fn clean_owned(s: String) -> String {
    match clean(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(cleaned) => cleaned,
    }
}

/// [`clean`] in place.
pub fn clean_in_place(s: &mut String) {
    if let Cow::Owned(cleaned) = clean(s) {
        *s = cleaned;
    }
}

/// JSON text with every unsafe character that JSON leaves raw (DEL, C1, bidi controls; C0 is
/// always escaped) written as a `\uXXXX` escape: the same document, the same values once parsed,
/// safe to print to a terminal.
pub fn escape_json_for_terminal(json: String) -> String {
    // C0 characters in JSON text are the whitespace between tokens: left as they are.
    let raw_in_json = |c: char| c.is_control() && c > '\u{1f}' || is_bidi_control(c);
    if !json.chars().any(raw_in_json) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if raw_in_json(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// "1.2 GiB", "340 MiB", "12 KiB", "900 B".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// An error with its causes (`a: b: c`), each said once: a client library's top error often says
/// little ("error sending request") and its sources say why.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_marks() {
        // The cluster name of the adversarial pass: clear screen, red, set the window title, bell.
        assert_eq!(
            clean("c\u{1b}[2J\u{1b}[31mEVIL\u{1b}]0;title\u{7}"),
            "c\u{fffd}\u{fffd}EVIL\u{fffd}]0;title\u{fffd}"
        );
        assert_eq!(clean("\u{1b}[31mERROR\u{1b}[0m x"), "\u{fffd}ERROR\u{fffd} x");
        assert_eq!(clean("8-bit \u{9b}2Jcsi"), "8-bit \u{fffd}csi");
        assert_eq!(clean("cut \u{1b}["), "cut \u{fffd}");
        assert_eq!(clean("cut \u{1b}[12\nnext"), "cut \u{fffd}\u{fffd}next");
    }

    #[test]
    fn every_control_and_bidi_character_is_replaced_and_printable_text_kept() {
        for c in (0u32..0x20).chain([0x7f]).chain(0x80..0xa0).filter_map(char::from_u32) {
            if c == '\t' || c == '\u{1b}' || c == '\u{9b}' {
                continue;
            }
            assert_eq!(clean(&format!("a{c}b")), "a\u{fffd}b", "{:#x}", c as u32);
        }
        assert_eq!(clean("a\u{202e}gnp.exe"), "a\u{fffd}gnp.exe");
        assert_eq!(clean("tab\there"), "tab    here");
        let printable = "naïve 日本語 ✖ — ok";
        assert!(matches!(clean(printable), Cow::Borrowed(_)));
        assert_eq!(clean_owned(printable.to_string()), printable);
        let mut s = String::from("x\u{7}");
        clean_in_place(&mut s);
        assert_eq!(s, "x\u{fffd}");
    }

    #[test]
    fn json_keeps_its_values_and_loses_its_raw_controls() {
        let doc = serde_json::json!({"mount": "/data\u{9b}2J\u{7f}\u{202e}x", "plain": "ok"});
        let text = escape_json_for_terminal(serde_json::to_string_pretty(&doc).unwrap());
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text:?}");
        assert!(text.contains(r"/data\u009b2J\u007f\u202ex"), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), doc);
    }
}
