//! The table every list view uses: only the visible rows are turned into cells, so drawing costs
//! what the screen shows, not what the fleet holds.

use super::text::fit;
use crate::app::screen::Visible;
use crate::ui::theme::{Slot, Theme};
use crate::ui::view::{Align, Column};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use std::cell::Cell;

/// Column widths for `total` cells: every column gets its minimum, spare width goes to `grow` columns
/// (or the last); columns that do not fit are dropped from the right.
pub fn widths(columns: &[Column], total: u16) -> Vec<u16> {
    let mut out = Vec::new();
    let mut used: u16 = 0;
    for c in columns {
        let need = c.width + if out.is_empty() { 0 } else { 1 };
        if used + need > total {
            break;
        }
        used += need;
        out.push(c.width);
    }
    let spare = total - used;
    if spare > 0 && !out.is_empty() {
        let growers: Vec<usize> = (0..out.len()).filter(|i| columns[*i].grow).collect();
        let growers = if growers.is_empty() {
            vec![out.len() - 1]
        } else {
            growers
        };
        let share = spare / growers.len() as u16;
        for (n, i) in growers.iter().enumerate() {
            out[*i] += if n == 0 {
                share + spare % growers.len() as u16
            } else {
                share
            };
        }
    }
    out
}

/// Draws header + visible rows into `area`, keeping the selection on screen by moving `offset`.
pub fn draw(
    buf: &mut Buffer,
    area: Rect,
    visible: &Visible,
    sort: Option<(usize, bool)>,
    offset: &Cell<usize>,
    theme: &Theme,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let table = &visible.table;
    let widths = widths(&table.columns, area.width);
    // Header.
    let mut x = area.x;
    for (i, (col, w)) in table.columns.iter().zip(&widths).enumerate() {
        let marker = match sort {
            Some((c, true)) if c == i => "▼",
            Some((c, false)) if c == i => "▲",
            _ => "",
        };
        let title = format!("{}{marker}", col.title);
        buf.set_string(
            x,
            area.y,
            fit(&title, *w as usize, col.align == Align::Right),
            theme.style(Slot::Header),
        );
        x += w + 1;
    }
    let body_height = usize::from(area.height - 1);
    if body_height == 0 {
        return;
    }
    let n = table.rows.len();
    let mut first = offset.get().min(n.saturating_sub(body_height));
    if let Some(sel) = visible.selected {
        if sel < first {
            first = sel;
        } else if sel >= first + body_height {
            first = sel + 1 - body_height;
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
        for ((col, w), cell) in table.columns.iter().zip(&widths).zip(&row.cells) {
            let style = theme.tone(cell.tone).patch(base);
            buf.set_string(x, y, fit(&cell.text, *w as usize, col.align == Align::Right), style);
            x += w + 1;
        }
    }
    // Scroll position, so a long table says there is more.
    if n > body_height {
        let pos = format!(" {}-{} of {n} ", first + 1, (first + body_height).min(n));
        let x = area.right().saturating_sub(pos.len() as u16);
        buf.set_string(x, area.y, pos, theme.style(Slot::Muted));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spare_width_goes_to_growing_columns_and_overflow_drops_columns() {
        let cols = vec![
            Column::left("a", 4).grow(),
            Column::right("b", 3),
            Column::right("c", 5),
        ];
        assert_eq!(widths(&cols, 20), vec![10, 3, 5]);
        assert_eq!(widths(&cols, 9), vec![5, 3]);
    }
}
