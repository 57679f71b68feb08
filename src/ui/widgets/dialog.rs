//! Dialog boxes: the confirm dialog (the plan, verbatim), value prompts, quit-while-running, palette.

use crate::app::overlay::{Confirm, DialogFit, Focus, Input, Palette, QuitFocus, palette_matches};
use opsdeck_core::registered::Leftover;
use opsdeck_core::theme::{Slot, Theme};
use opsdeck_core::widgets::text::wrap_spans;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// A `width` x `height` rectangle centred in `area` (clamped to it).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

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

fn button(label: &str, focused: bool, enabled: bool, theme: &Theme) -> Span<'static> {
    let text = if focused {
        format!("▶ {label} ◀")
    } else {
        format!("[ {label} ]")
    };
    let style = if focused {
        theme.style(Slot::Selection)
    } else if enabled {
        theme.style(Slot::Text)
    } else {
        theme.style(Slot::Muted)
    };
    Span::styled(text, style)
}

fn label(text: &str, theme: &Theme) -> Span<'static> {
    Span::styled(format!("{text:<9}"), theme.style(Slot::Header))
}

/// Rows the confirm dialog's body must be able to show for the dialog to be drawn at all.
const MIN_BODY_ROWS: u16 = 3;
/// Narrowest inner width a confirm dialog is drawn at.
const MIN_INNER_WIDTH: u16 = 30;

/// The confirm dialog laid out for one terminal size. Title (on the border), target and risk are
/// pinned at the top; verify, the typed field, the buttons and hints at the bottom; the description
/// and the exact call scroll between them when the whole plan is taller than the screen.
pub struct ConfirmLayout {
    pub rect: Rect,
    top: Vec<Line<'static>>,
    body: Vec<Line<'static>>,
    bottom: Vec<Line<'static>>,
    /// Rows of body shown at once.
    pub body_rows: u16,
    pub fit: DialogFit,
}

/// `label` and `value` on one row, the value wrapped under itself (hanging indent) to `width`.
fn labelled(label_text: &str, value: Vec<Span<'static>>, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    const INDENT: usize = 9;
    let mut rows = wrap_spans(&value, width.saturating_sub(INDENT), true);
    for (i, row) in rows.iter_mut().enumerate() {
        let head = if i == 0 {
            label(label_text, theme)
        } else {
            Span::raw(" ".repeat(INDENT))
        };
        row.spans.insert(0, head);
    }
    rows
}

fn wrapped(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    wrap_spans(&spans, width, true)
}

/// Lays the dialog for `c` out in `area`: exact row counts (every line is wrapped here), the body's
/// scroll range, and whether the controls fit at all.
pub fn confirm_layout(c: &Confirm, read_only: bool, area: Rect, theme: &Theme) -> ConfirmLayout {
    let plan = &c.plan;
    let outer_w = area.width.saturating_sub(6).min(100);
    let width = usize::from(outer_w.saturating_sub(2));
    let risk_style = match plan.risk {
        opsdeck_core::action::Risk::Low => theme.style(Slot::Ok),
        opsdeck_core::action::Risk::Medium => theme.style(Slot::Warn),
        opsdeck_core::action::Risk::High => theme.style(Slot::Crit),
    };
    let mut top = labelled(
        "Target",
        vec![Span::styled(plan.target.clone(), theme.style(Slot::Title))],
        width,
        theme,
    );
    top.extend(labelled(
        "Risk",
        vec![
            Span::styled(plan.risk.to_string().to_uppercase(), risk_style),
            Span::styled(
                format!("   timeout {}", humantime::format_duration(plan.timeout)),
                theme.style(Slot::Muted),
            ),
        ],
        width,
        theme,
    ));
    top.push(Line::default());

    let mut body = Vec::new();
    for l in plan.description.lines() {
        body.extend(wrapped(vec![Span::raw(l.to_string())], width));
    }
    body.push(Line::default());
    body.push(Line::from(label("Runs", theme)));
    // The call is cut by characters, not words: every character of it is shown, in place.
    for l in plan.call.lines() {
        let rows = wrap_spans(
            &[Span::styled(l.to_string(), theme.style(Slot::Accent))],
            width.saturating_sub(2),
            false,
        );
        body.extend(rows.into_iter().map(|mut r| {
            r.spans.insert(0, Span::raw("  "));
            r
        }));
    }

    let mut bottom = labelled("Verify", vec![Span::raw(plan.verify.clone())], width, theme);
    bottom.push(Line::default());
    let mut keys = "tab ←→: move  enter: choose  esc: cancel".to_string();
    if read_only {
        bottom.extend(wrapped(
            vec![Span::styled(
                "READ-ONLY MODE: this plan is shown for reference and will not run.",
                theme.style(Slot::Warn),
            )],
            width,
        ));
        bottom.push(Line::default());
        bottom.push(Line::from(button("Close", true, true, theme)));
        keys = "enter, esc: close".into();
    } else {
        if plan.needs_typed_confirmation() {
            let field_style = if c.focus == Focus::Typed {
                theme.style(Slot::Input)
            } else {
                theme.style(Slot::Muted)
            };
            let cursor = if c.focus == Focus::Typed { "▏" } else { "" };
            bottom.extend(wrapped(
                vec![
                    Span::raw("Type "),
                    Span::styled(plan.target.clone(), theme.style(Slot::Title)),
                    Span::raw(" to confirm: "),
                    Span::styled(format!("[{}{cursor}]", c.typed), field_style),
                ],
                width,
            ));
            bottom.push(Line::default());
        }
        bottom.push(Line::from(vec![
            button("Cancel", c.focus == Focus::Cancel, true, theme),
            Span::raw("   "),
            button("Run", c.focus == Focus::Run, c.armed(), theme),
        ]));
    }
    if let Some(hint) = &c.hint {
        bottom.extend(wrapped(
            vec![Span::styled(hint.clone(), theme.style(Slot::Warn))],
            width,
        ));
    }

    // Everything at once when it fits; else the body scrolls and the keys line says how.
    let scroll_keys = format!("{keys}  ↑↓ pgup pgdn: scroll");
    let keys_line = |k: String| wrapped(vec![Span::styled(k, theme.style(Slot::Muted))], width);
    let pinned = (top.len() + bottom.len()) as u16 + 2 /* borders */ + 1 /* gap or scroll line */;
    let plain = keys_line(keys);
    let (body_rows, max_scroll, keys) = if pinned + plain.len() as u16 + body.len() as u16 <= area.height {
        (body.len() as u16, 0, plain)
    } else {
        let keys = keys_line(scroll_keys);
        let rows = area.height.saturating_sub(pinned + keys.len() as u16);
        (rows, (body.len() as u16).saturating_sub(rows), keys)
    };
    bottom.extend(keys);
    let fits = outer_w >= MIN_INNER_WIDTH + 2 && body_rows >= MIN_BODY_ROWS.min(body.len() as u16);
    let height = ((top.len() + bottom.len()) as u16 + 3 + body_rows).min(area.height);
    ConfirmLayout {
        rect: centered(area, outer_w, height),
        top,
        body,
        bottom,
        body_rows,
        fit: DialogFit {
            fits,
            max_scroll,
            page: body_rows,
        },
    }
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
