//! Small text helpers for fixed-width cells.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Cuts `s` to at most `width` columns, ending in `…` when cut. Cells show remote text: what a
/// terminal would act on shows as a mark (the last line of defence; sources clean it first).
pub fn truncate(s: &str, width: usize) -> String {
    let s = crate::text::clean(s);
    let s = s.as_ref();
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Pads or cuts `s` to exactly `width` columns, aligned left or right.
pub fn fit(s: &str, width: usize, right: bool) -> String {
    let s = truncate(s, width);
    let pad = width.saturating_sub(s.width());
    if right {
        format!("{}{s}", " ".repeat(pad))
    } else {
        format!("{s}{}", " ".repeat(pad))
    }
}

/// A sparkline of `values` in block characters, scaled to the largest value, `width` wide (newest right).
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail.iter().cloned().fold(0.0_f64, f64::max);
    tail.iter()
        .map(|v| {
            if max <= 0.0 || !v.is_finite() {
                BARS[0]
            } else {
                BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

/// A usage bar like `███████░░░` for `fraction` (0..=1) over `width` cells.
pub fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// Cuts styled text into rows of at most `width` columns (by display width) and never drops a
/// character: what is counted is what is drawn, so a box sized from these rows holds all of them.
/// With `words`, a row breaks after its last space when it has one (the space ends the row); a
/// character wider than a whole row still gets a row of its own.
pub fn wrap_spans(spans: &[Span], width: usize, words: bool) -> Vec<Line<'static>> {
    let width = width.max(1);
    let cells: Vec<(char, Style, usize)> = spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style, c.width().unwrap_or(0))))
        .collect();
    let mut rows: Vec<&[(char, Style, usize)]> = Vec::new();
    let (mut start, mut used, mut space) = (0, 0, None);
    let mut i = 0;
    while i < cells.len() {
        let (c, _, w) = cells[i];
        if used + w > width && i > start {
            let cut = match space {
                Some(s) if words => s + 1,
                _ => i,
            };
            rows.push(&cells[start..cut]);
            start = cut;
            used = cells[start..i].iter().map(|c| c.2).sum();
            space = None;
            continue;
        }
        if c == ' ' {
            space = Some(i);
        }
        used += w;
        i += 1;
    }
    rows.push(&cells[start..]);
    rows.into_iter().map(line_of).collect()
}

/// One row of styled characters as a line, consecutive characters of one style in one span.
fn line_of(cells: &[(char, Style, usize)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = cells.first().map(|c| c.1).unwrap_or_default();
    for (c, s, _) in cells {
        if *s != style && !text.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut text), style));
        }
        style = *s;
        text.push(*c);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, width: usize, words: bool) -> Vec<String> {
        wrap_spans(&[Span::raw(text)], width, words)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wrapping_keeps_every_character_and_fits_the_width() {
        assert_eq!(rows("abcdefgh", 3, false), ["abc", "def", "gh"]);
        assert_eq!(rows("drain es-data-3 now", 9, true), ["drain ", "es-data-3", " now"]);
        assert_eq!(
            rows("averyveryverylongword x", 8, true),
            ["averyver", "yverylon", "gword x"]
        );
        assert_eq!(rows("", 5, true), [""]);
        assert_eq!(rows("日本語", 3, false), ["日", "本", "語"]);
        for (text, w) in [("PUT /_cluster/settings {\"persistent\": {}}", 7), ("a b c d e f", 2)] {
            let joined: String = rows(text, w, true).concat();
            assert_eq!(joined, text, "nothing dropped");
            assert!(rows(text, w, true).iter().all(|r| r.width() <= w), "{text}");
        }
        let styled = wrap_spans(
            &[Span::raw("ab"), Span::styled("cd", Style::default().bold())],
            3,
            false,
        );
        assert_eq!(styled[0].spans.len(), 2, "styles survive a cut");
    }

    #[test]
    fn truncation_respects_display_width() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(fit("ab", 4, true), "  ab");
        assert_eq!(fit("日本語です", 5, false), "日本…");
        assert_eq!(fit("a\u{1b}[2Jb", 4, false), "a\u{fffd}b ");
    }

    #[test]
    fn sparkline_scales_to_the_peak() {
        assert_eq!(sparkline(&[0.0, 5.0, 10.0], 3), "▁▅█");
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 4.0], 2), "▆█");
        assert_eq!(sparkline(&[0.0, 0.0], 2), "▁▁");
        assert_eq!(bar(0.5, 4), "██░░");
    }
}
