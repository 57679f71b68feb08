//! Dialog boxes: the confirm dialog (the plan, verbatim), value prompts, quit-while-running, palette.

use crate::app::confirm_layout::{button, confirm_layout, wrapped};
use crate::app::overlay::{Confirm, Input, Palette, QuitFocus, palette_matches};
use opsdeck_core::registered::Leftover;
use opsdeck_core::theme::{Slot, Theme};
use opsdeck_core::widgets::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

fn frame_box(frame: &mut Frame, area: Rect, title: &str, theme: &Theme) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::BorderFocus))
        .style(theme.style(Slot::Dialog))
        .title(Span::styled(format!(" {title} "), theme.style(Slot::Title)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

pub fn draw_confirm(frame: &mut Frame, area: Rect, c: &Confirm, read_only: bool, theme: &Theme) {
    let layout = confirm_layout(c, read_only, area, theme);
    let title = format!("Confirm: {}", c.plan.title);
    if !layout.fit.fits {
        draw_too_small(frame, area, &title, theme);
        return;
    }
    let inner = frame_box(frame, layout.rect, &title, theme);
    let scroll = c.scroll.min(layout.fit.max_scroll);
    let mut rows: Vec<Line> = layout.top.clone();
    rows.extend(
        layout
            .body
            .iter()
            .skip(usize::from(scroll))
            .take(usize::from(layout.body_rows))
            .cloned(),
    );
    // Where the body stands: a plain gap when it is all shown, else what is above and below.
    let below = layout.fit.max_scroll - scroll;
    rows.push(if layout.fit.max_scroll == 0 {
        Line::default()
    } else {
        Line::from(Span::styled(
            format!("── ↑ {scroll} more · ↓ {below} more ──"),
            theme.style(Slot::Muted),
        ))
    });
    rows.extend(layout.bottom.iter().cloned());
    frame.render_widget(Paragraph::new(rows), inner);
}

/// Too small for the controls: says so instead of drawing a dialog without its buttons.
fn draw_too_small(frame: &mut Frame, area: Rect, title: &str, theme: &Theme) {
    let width = area.width.saturating_sub(2).min(60);
    let lines = wrapped(
        vec![Span::styled(
            "enlarge the terminal to confirm: this plan does not fit on screen with its controls (esc: cancel)",
            theme.style(Slot::Warn),
        )],
        usize::from(width.saturating_sub(2)),
    );
    let rect = centered(area, width, lines.len() as u16 + 2);
    let inner = frame_box(frame, rect, title, theme);
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn draw_input(frame: &mut Frame, area: Rect, i: &Input, theme: &Theme) {
    let mut lines = vec![
        Line::from(i.request.prompt.clone()),
        Line::from(Span::styled(format!("> {}▏", i.value), theme.style(Slot::Input))),
    ];
    if let Some(e) = &i.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.style(Slot::Crit))));
    }
    lines.push(Line::from(Span::styled(
        "enter: plan it (you confirm next)  esc: cancel",
        theme.style(Slot::Muted),
    )));
    let rect = centered(area, 70, lines.len() as u16 + 2);
    let inner = frame_box(frame, rect, &i.request.title, theme);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Quit while actions run or a procedure left things changed (cluster settings): what quitting
/// leaves behind, each thing on its own line under a heading per kind, and Stay / Revert settings
/// / Quit anyway (the buttons on the last line, always drawn).
pub fn draw_quit(
    frame: &mut Frame,
    area: Rect,
    running: usize,
    left: &[Leftover],
    can_revert: bool,
    focus: QuitFocus,
    theme: &Theme,
) {
    let mut lines = Vec::new();
    if running > 0 {
        lines.push(Line::from(format!(
            "{running} action(s) still running. Quitting abandons them mid-way;"
        )));
        lines.push(Line::from("their audit log shows the intent without an outcome."));
    }
    for group in left.chunk_by(|a, b| a.kind == b.kind) {
        lines.push(Line::from(Span::styled(
            format!(
                "{} {}(s) a procedure changed are still in force:",
                group.len(),
                group[0].kind
            ),
            theme.style(Slot::Warn),
        )));
        for l in group {
            lines.push(Line::from(format!("  • {}", l.what)));
        }
    }
    if !left.is_empty() {
        lines.push(Line::from(if can_revert {
            "Revert puts them back (you confirm it; it is audited)."
        } else {
            "Stop the procedure first (ctrl-x), then Revert puts them back."
        }));
    }
    if lines.is_empty() {
        // What held the quit back ended while the dialog was open.
        lines.push(Line::from(
            "Nothing is running any more and no setting is left changed: quitting leaves nothing behind.",
        ));
    }
    let mut buttons = vec![button("Stay", focus == QuitFocus::Stay, true, theme)];
    if can_revert {
        buttons.push(Span::raw("   "));
        buttons.push(button("Revert settings", focus == QuitFocus::Revert, true, theme));
    }
    buttons.push(Span::raw("   "));
    buttons.push(button("Quit anyway", focus == QuitFocus::Quit, true, theme));
    // Wider when it lists settings: a key and two values fit on one line.
    let width = area.width.min(if left.is_empty() { 64 } else { 84 });
    let inner_width = usize::from(width.saturating_sub(2)).max(1);
    let text_rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_width)).sum();
    let rect = centered(area, width, (text_rows + 4) as u16);
    let inner = frame_box(frame, rect, "Quit?", theme);
    if inner.height == 0 {
        return;
    }
    let body = Rect::new(inner.x, inner.y, inner.width, inner.height.saturating_sub(2));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    let row = Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1);
    frame.render_widget(Paragraph::new(Line::from(buttons)), row);
}

pub fn draw_palette(frame: &mut Frame, area: Rect, p: &Palette, entries: &[(String, String)], theme: &Theme) {
    let matches = palette_matches(&p.input, entries);
    let shown = 12usize;
    let mut lines = vec![Line::from(Span::styled(
        format!(":{}▏", p.input),
        theme.style(Slot::Input),
    ))];
    for (i, (name, help)) in matches.iter().take(shown).enumerate() {
        let style = if i == p.selected {
            theme.style(Slot::Selection)
        } else {
            theme.style(Slot::Text)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<24}"), style.patch(theme.style(Slot::Key))),
            Span::styled(help.clone(), style),
        ]));
    }
    if matches.is_empty() {
        lines.push(Line::from(Span::styled("no match", theme.style(Slot::Muted))));
    }
    lines.push(Line::from(Span::styled(
        "tab: complete  ↑↓: choose  enter: run  esc: close",
        theme.style(Slot::Muted),
    )));
    let rect = Rect::new(
        area.x + 2,
        area.y + 2,
        area.width.saturating_sub(4).min(90),
        (lines.len() as u16 + 2).min(area.height.saturating_sub(2)),
    );
    let inner = frame_box(frame, rect, "command", theme);
    frame.render_widget(Paragraph::new(lines), inner);
}
