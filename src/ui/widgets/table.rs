//! The table every list view uses: only the visible rows are turned into cells, so drawing costs
//! what the screen shows, not what the fleet holds.

use crate::app::screen::Visible;
use opsdeck_core::theme::{Slot, Theme};
use opsdeck_core::view::{Align, Column, KEY, Table};
use opsdeck_core::widgets::text::fit;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use std::cell::Cell;
use unicode_width::UnicodeWidthStr;

/// Which columns are drawn and how wide, and how many are hidden either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnLayout {
    /// (column index, width), left to right.
    pub shown: Vec<(usize, u16)>,
    /// Columns scrolled off to the left, and hidden to the right.
    pub left: usize,
    pub right: usize,
    /// The column scroll this layout used (the one asked for, clamped to what can scroll).
    pub scroll: usize,
}

/// Display width each column's content asks for: its title (`sorted` adds the sort marker) and its
/// widest cell (`cell_widths`, see [`cell_widths`]).
pub fn content_widths(table: &Table, cell_widths: &[u16], sorted: Option<usize>) -> Vec<u16> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let title = (c.title.width() + usize::from(sorted == Some(i))).min(usize::from(u16::MAX)) as u16;
            title.max(cell_widths.get(i).copied().unwrap_or(0))
        })
        .collect()
}

/// The widest cell of each column, over every row.
pub fn cell_widths(table: &Table) -> Vec<u16> {
    let mut out = vec![0u16; table.columns.len()];
    for row in &table.rows {
        for (w, cell) in out.iter_mut().zip(&row.cells) {
            *w = (*w).max(cell.text.width().min(usize::from(u16::MAX)) as u16);
        }
    }
    out
}

/// The narrowest `c` is drawn: its minimum, and never narrower than its title.
fn min_width(c: &Column) -> usize {
    usize::from(c.width).max(c.title.width())
}

/// Minimum widths of `cols` plus the one-cell gaps between them.
fn needed(columns: &[Column], cols: &[usize]) -> usize {
    cols.iter().map(|i| min_width(&columns[*i])).sum::<usize>() + cols.len().saturating_sub(1)
}

/// Lays `columns` out in `total` cells. At scroll 0 the columns that fit at their minimum width are
/// shown, the lowest priority dropped first (the first column is never dropped); scrolling moves the
/// others past the first column into view, in order: those shown at scroll 0, then the dropped ones.
/// Spare width goes to each column up to what its content asks (up to its max first, the most
/// important first), then to `grow` columns; what is left stays blank at the right.
pub fn layout(columns: &[Column], content: &[u16], total: u16, scroll: usize) -> ColumnLayout {
    let total = usize::from(total);
    if columns.is_empty() {
        return ColumnLayout {
            shown: Vec::new(),
            left: 0,
            right: 0,
            scroll: 0,
        };
    }
    // The first column and the key columns right after it stay put.
    let pinned = 1 + columns.iter().skip(1).take_while(|c| c.priority == KEY).count();
    // Scroll 0: drop the least important until the rest fit, then take back any dropped one that fits.
    let mut kept: Vec<usize> = (0..columns.len()).collect();
    let mut dropped: Vec<usize> = Vec::new();
    while kept.len() > pinned && needed(columns, &kept) > total {
        let (at, _) = kept
            .iter()
            .enumerate()
            .skip(pinned)
            .min_by_key(|(pos, i)| (columns[**i].priority, std::cmp::Reverse(*pos)))
            .expect("more than the pinned columns");
        dropped.push(kept.remove(at));
    }
    dropped.sort_by_key(|i| std::cmp::Reverse(columns[*i].priority));
    let mut back = Vec::new();
    for d in dropped {
        let mut with: Vec<usize> = kept.clone();
        with.push(d);
        with.sort_unstable();
        if needed(columns, &with) <= total {
            kept = with;
        } else {
            back.push(d);
        }
    }
    back.sort_unstable();
    // The order scrolling walks past the pinned columns: what scroll 0 shows, then the rest.
    let order: Vec<usize> = kept.iter().skip(pinned).chain(&back).copied().collect();
    let window = |k: usize| -> (Vec<usize>, usize) {
        let mut shown: Vec<usize> = (0..pinned).collect();
        for (n, i) in order.iter().enumerate().skip(k) {
            shown.push(*i);
            if needed(columns, &shown) > total && shown.len() > pinned {
                shown.pop();
                return (shown, order.len() - n);
            }
        }
        (shown, 0)
    };
    let last = (0..=order.len()).find(|k| window(*k).1 == 0).unwrap_or(0);
    let scroll = scroll.min(last);
    let (cols, right) = window(scroll);
    // Widths: minimums, then content (most important first), then growth.
    let mut widths: Vec<usize> = cols.iter().map(|i| min_width(&columns[*i])).collect();
    let mut spare = total.saturating_sub(needed(columns, &cols));
    if needed(columns, &cols) > total {
        // Not even the pinned columns fit: the first takes what there is, the rest are cut off.
        widths[0] = total;
        spare = 0;
    }
    // The pinned columns name the row: they rank first.
    let rank = |p: usize| {
        if cols[p] < pinned {
            KEY
        } else {
            columns[cols[p]].priority
        }
    };
    // Content up to each column's max: spare width is poured like water, the column that needs
    // least satisfied first and the rest sharing evenly, so a long text column can never starve a
    // short one of the few cells that show its value whole ("disk_threshold" beside a
    // 200-character explanation).
    let mut needs: Vec<(usize, usize)> = (0..cols.len())
        .map(|p| {
            let c = &columns[cols[p]];
            let want = usize::from(content[cols[p]]).max(min_width(c)).min(usize::from(c.max));
            (p, want.saturating_sub(widths[p]))
        })
        .filter(|(_, need)| *need > 0)
        .collect();
    needs.sort_by_key(|(p, need)| (*need, std::cmp::Reverse(rank(*p))));
    let mut left = needs.len();
    for (p, need) in needs {
        let more = need.min(spare.div_ceil(left)).min(spare);
        widths[p] += more;
        spare -= more;
        left -= 1;
    }
    // With room left, the content a max held back, the most important column first.
    let mut by_priority: Vec<usize> = (0..cols.len()).collect();
    by_priority.sort_by_key(|p| std::cmp::Reverse(rank(*p)));
    for p in by_priority {
        let content = usize::from(content[cols[p]]).max(min_width(&columns[cols[p]]));
        let more = content.saturating_sub(widths[p]).min(spare);
        widths[p] += more;
        spare -= more;
    }
    let growers: Vec<usize> = (0..cols.len()).filter(|p| columns[cols[*p]].grow).collect();
    if spare > 0 && !growers.is_empty() {
        let share = spare / growers.len();
        for (n, p) in growers.iter().enumerate() {
            widths[*p] += share + if n == 0 { spare % growers.len() } else { 0 };
        }
    }
    ColumnLayout {
        shown: cols.into_iter().zip(widths.into_iter().map(|w| w as u16)).collect(),
        left: scroll,
        right,
        scroll,
    }
}

/// What of a table is off screen: " 21-40 of 300 " rows and "◂ 2 · 3 more ▸" columns; `first` is
/// the first row shown and `rows_shown` how many fit. Empty when everything is in view.
pub fn off_screen_note(layout: &ColumnLayout, rows: usize, first: usize, rows_shown: usize) -> String {
    let mut note = String::new();
    if rows > rows_shown && rows_shown > 0 {
        note.push_str(&format!(" {}-{} of {rows} ", first + 1, (first + rows_shown).min(rows)));
    }
    if let Some(hidden) = hidden_note(layout) {
        note.push_str(&hidden);
    }
    note
}

/// "◂ 2 · 3 more ▸": columns hidden either side.
pub fn hidden_note(layout: &ColumnLayout) -> Option<String> {
    match (layout.left, layout.right) {
        (0, 0) => None,
        (0, r) => Some(format!(" {r} more ▸ ")),
        (l, 0) => Some(format!(" ◂ {l} more ")),
        (l, r) => Some(format!(" ◂ {l} · {r} more ▸ ")),
    }
}

/// Draws header + visible rows into `area`, keeping the selection on screen by moving `offset`;
/// `columns` is the column scroll (clamped here to what can scroll). What is off screen is for the
/// caller to say ([`off_screen_note`]), where it hides no title.
pub fn draw(
    buf: &mut Buffer,
    area: Rect,
    visible: &Visible,
    sort: Option<(usize, bool)>,
    offset: &Cell<usize>,
    columns: &Cell<usize>,
    theme: &Theme,
) -> ColumnLayout {
    let table = &visible.table;
    let cells = visible.cell_widths.get_or_init(|| cell_widths(table));
    let content = content_widths(table, cells, sort.map(|(c, _)| c));
    let layout = layout(&table.columns, &content, area.width, columns.get());
    columns.set(layout.scroll);
    if area.height == 0 || area.width == 0 {
        return layout;
    }
    // Header.
    let mut x = area.x;
    for (i, w) in &layout.shown {
        let col = &table.columns[*i];
        let marker = match sort {
            Some((c, true)) if c == *i => "▼",
            Some((c, false)) if c == *i => "▲",
            _ => "",
        };
        let title = format!("{}{marker}", col.title);
        let w = (*w).min(area.right().saturating_sub(x));
        buf.set_string(
            x,
            area.y,
            fit(&title, w as usize, col.align == Align::Right),
            theme.style(Slot::Header),
        );
        x = x.saturating_add(w + 1);
    }
    let body_height = usize::from(area.height - 1);
    let n = table.rows.len();
    let mut first = offset.get().min(n.saturating_sub(body_height));
    if let Some(sel) = visible.selected {
        if sel < first {
            first = sel;
        } else if sel >= first + body_height {
            first = (sel + 1).saturating_sub(body_height);
        }
    }
    offset.set(first);
    for (line, row) in table.rows.iter().enumerate().skip(first).take(body_height) {
        let y = area.y + 1 + (line - first) as u16;
        let selected = visible.selected == Some(line);
        let base = if selected {
            theme.style(Slot::Selection)
        } else {
            Style::default()
        };
        if selected {
            buf.set_style(Rect::new(area.x, y, area.width, 1), base);
        }
        let mut x = area.x;
        for (i, w) in &layout.shown {
            let col = &table.columns[*i];
            let w = (*w).min(area.right().saturating_sub(x));
            if let Some(cell) = row.cells.get(*i) {
                let style = theme.tone(cell.tone).patch(base);
                buf.set_string(x, y, fit(&cell.text, w as usize, col.align == Align::Right), style);
            }
            x = x.saturating_add(w + 1);
        }
    }
    layout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widths(columns: &[Column], content: &[u16], total: u16, scroll: usize) -> (Vec<(usize, u16)>, usize, usize) {
        let l = layout(columns, content, total, scroll);
        (l.shown, l.left, l.right)
    }

    #[test]
    fn content_sets_widths_within_min_and_max_and_growers_take_the_rest() {
        let cols = vec![
            Column::left("a", 4).max(30).grow(),
            Column::right("b", 3),
            Column::right("c", 5),
        ];
        // Content fits: each column as wide as its content, the rest to the grower.
        assert_eq!(widths(&cols, &[6, 3, 5], 20, 0).0, vec![(0, 10), (1, 3), (2, 5)]);
        // Content beyond a max waits for what the others leave over.
        let named = vec![Column::left("name", 4).max(8), Column::left("verdict", 6).max(10)];
        assert_eq!(widths(&named, &[20, 20], 19, 0).0, vec![(0, 8), (1, 10)]);
        assert_eq!(widths(&named, &[20, 20], 30, 0).0, vec![(0, 19), (1, 10)]);
        // No grower: what nobody's content asks for stays blank.
        assert_eq!(
            widths(&named, &[5, 6], 30, 0).0,
            vec![(0, 5), (1, 7)],
            "never narrower than its title"
        );
    }

    #[test]
    fn a_long_text_column_does_not_starve_a_short_one_of_its_value() {
        // An allocation explain: the decider's name beside a long, more important explanation.
        let cols = vec![
            Column::left("node", 10).max(24),
            Column::left("decider", 10).max(24).priority(7),
            Column::left("explanation", 20).max(200).grow().priority(8),
        ];
        let (shown, _, _) = widths(&cols, &[6, 14, 180], 120, 0);
        assert_eq!(shown[1], (1, 14), "the decider whole: {shown:?}");
        assert_eq!(
            shown[2],
            (2, 120 - 10 - 14 - 2),
            "the explanation takes the rest: {shown:?}"
        );
    }

    #[test]
    fn narrow_tables_drop_the_least_important_first_and_scroll_to_them() {
        let cols = vec![
            Column::left("name", 6),
            Column::right("vital", 5).priority(9),
            Column::right("extra", 5).priority(1),
            Column::right("more", 5),
        ];
        let content = [6, 5, 5, 5];
        let (shown, left, right) = widths(&cols, &content, 18, 0);
        assert_eq!(
            shown.iter().map(|s| s.0).collect::<Vec<_>>(),
            [0, 1, 3],
            "extra goes first"
        );
        assert_eq!((left, right), (0, 1));
        // Scrolling right: the pinned name, then the next ones in order, the dropped one last.
        let (shown, left, right) = widths(&cols, &content, 18, 1);
        assert_eq!(shown.iter().map(|s| s.0).collect::<Vec<_>>(), [0, 3, 2]);
        assert_eq!((left, right), (1, 0));
        // Scrolling further than there is to see stops at the last column.
        assert_eq!(layout(&cols, &content, 18, 9).scroll, 1);
        // Wide enough: nothing hidden, nothing to scroll.
        let l = layout(&cols, &content, 40, 3);
        assert_eq!((l.shown.len(), l.left, l.right, l.scroll), (4, 0, 0, 0));
        assert_eq!(
            hidden_note(&layout(&cols, &content, 18, 0)).as_deref(),
            Some(" 1 more ▸ ")
        );
    }
}
