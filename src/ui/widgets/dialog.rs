//! Dialog boxes: the confirm dialog (the plan, verbatim), value prompts, quit-while-running, palette.

use crate::app::overlay::{Confirm, Focus, Input, Palette, QuitFocus, palette_matches};
use crate::ui::theme::{Slot, Theme};
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

pub fn draw_confirm(frame: &mut Frame, area: Rect, c: &Confirm, read_only: bool, theme: &Theme) {
    let plan = &c.plan;
    let risk_style = match plan.risk {
        crate::actions::Risk::Low => theme.style(Slot::Ok),
        crate::actions::Risk::Medium => theme.style(Slot::Warn),
        crate::actions::Risk::High => theme.style(Slot::Crit),
    };
    let mut lines: Vec<Line> = Vec::new();
    lines.push(Line::from(vec![
        label("Target", theme),
        Span::styled(plan.target.clone(), theme.style(Slot::Title)),
    ]));
    lines.push(Line::from(vec![
        label("Risk", theme),
        Span::styled(plan.risk.to_string().to_uppercase(), risk_style),
        Span::styled(
            format!("   timeout {}", humantime::format_duration(plan.timeout)),
            theme.style(Slot::Muted),
        ),
    ]));
    lines.push(Line::default());
    for l in plan.description.lines() {
        lines.push(Line::from(l.to_string()));
    }
    lines.push(Line::default());
    lines.push(Line::from(label("Runs", theme)));
    for l in plan.call.lines() {
        lines.push(Line::from(Span::styled(format!("  {l}"), theme.style(Slot::Accent))));
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![label("Verify", theme), Span::raw(plan.verify.clone())]));
    lines.push(Line::default());
    if read_only {
        lines.push(Line::from(Span::styled(
            "READ-ONLY MODE: this plan is shown for reference and will not run.",
            theme.style(Slot::Warn),
        )));
        lines.push(Line::default());
        lines.push(Line::from(button("Close", true, true, theme)));
    } else {
        if plan.needs_typed_confirmation() {
            let field_style = if c.focus == Focus::Typed {
                theme.style(Slot::Input)
            } else {
                theme.style(Slot::Muted)
            };
            let cursor = if c.focus == Focus::Typed { "▏" } else { "" };
            lines.push(Line::from(vec![
                Span::raw("Type "),
                Span::styled(plan.target.clone(), theme.style(Slot::Title)),
                Span::raw(" to confirm: "),
                Span::styled(format!("[{}{cursor}]", c.typed), field_style),
            ]));
            lines.push(Line::default());
        }
        lines.push(Line::from(vec![
            button("Cancel", c.focus == Focus::Cancel, true, theme),
            Span::raw("   "),
            button("Run", c.focus == Focus::Run, c.armed(), theme),
            Span::styled("    tab: move  enter: choose  esc: cancel", theme.style(Slot::Muted)),
        ]));
    }
    if let Some(hint) = &c.hint {
        lines.push(Line::from(Span::styled(hint.clone(), theme.style(Slot::Warn))));
    }
    let height = (lines.len() as u16 + plan.call.len() as u16 / area.width.max(1)).min(area.height);
    let rect = centered(area, area.width.saturating_sub(8).min(100), height + 2);
    let title = format!("Confirm: {}", plan.title);
    let inner = frame_box(frame, rect, &title, theme);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
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

/// Quit while actions run or a procedure left cluster settings changed: what quitting leaves
/// behind, each setting on its own line, and Stay / Revert settings / Quit anyway (the buttons on the
/// last line, always drawn).
pub fn draw_quit(
    frame: &mut Frame,
    area: Rect,
    running: usize,
    left: &[crate::model::elasticsearch::SettingChange],
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
    if !left.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "{} cluster setting(s) a procedure changed are still in force:",
                left.len()
            ),
            theme.style(Slot::Warn),
        )));
        for c in left {
            lines.push(Line::from(format!("  • {}", c.describe())));
        }
        lines.push(Line::from(if can_revert {
            "Revert puts them back (you confirm it; it is audited)."
        } else {
            "Stop the procedure first (ctrl-x), then Revert puts them back."
        }));
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
