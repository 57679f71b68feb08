//! Small text helpers for fixed-width cells.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Cuts `s` to at most `width` columns, ending in `…` when cut. Cells show remote text: what a
/// terminal would act on shows as a mark (the last line of defence; sources clean it first).
pub fn truncate(s: &str, width: usize) -> String {
    let s = crate::model::text::clean(s);
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

#[cfg(test)]
mod tests {
    use super::*;

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
