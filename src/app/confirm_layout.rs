//! The confirm dialog's layout. The app's, not the renderer's: which keys scroll the plan, and
//! whether Run can be chosen at all, depend on how the plan fits the terminal.

use super::overlay::{Confirm, DialogFit, Focus};
use opsdeck_core::theme::{Slot, Theme};
use opsdeck_core::widgets::centered;
use opsdeck_core::widgets::text::wrap_spans;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub(crate) fn button(label: &str, focused: bool, enabled: bool, theme: &Theme) -> Span<'static> {
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
    pub top: Vec<Line<'static>>,
    pub body: Vec<Line<'static>>,
    pub bottom: Vec<Line<'static>>,
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

pub(crate) fn wrapped(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
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
