//! Draws the whole screen from the app state. Pure: reads state, writes the frame, nothing else.

use crate::analysis;
use crate::app::App;
use crate::app::overlay::Overlay;
use crate::ui::widgets::{dialog, table};
use crate::views::Tab;
use opsdeck_core::feed::FeedStatus;
use opsdeck_core::pane::PaneId;
use opsdeck_core::theme::{Slot, Theme};
use opsdeck_core::widgets::text;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn draw(frame: &mut Frame, app: &App) {
    let theme = &app.env.theme;
    let area = frame.area();
    frame.buffer_mut().set_style(area, theme.style(Slot::Text));
    let [tabs, crumbs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(frame, tabs, app);
    draw_crumbs(frame, crumbs, app);
    let selected = draw_body(frame, body, app);
    draw_status(frame, status, app, selected.as_deref());
    draw_toasts(frame, body, app);
    draw_overlay(frame, area, app);
}

/// Status of a pane's source, as a short marker for tab labels.
fn source_marker(app: &App, pane: PaneId) -> Option<(&'static str, Slot)> {
    let feed = app.fleet.feed(pane)?;
    (feed.status == FeedStatus::Error).then_some(("✖", Slot::Crit))
}

/// How much of a tab's name its label shows: all of it, three letters, or none (its number only).
#[derive(Clone, Copy, PartialEq)]
enum TabLabel {
    Full,
    Short,
    Number,
}

/// A tab's label: the key the keymap binds to it (`tab_<name>`), so a label never promises a key
/// that goes elsewhere, then its name; a tab without a key keeps (part of) its name.
fn tab_label(key: Option<&str>, tab: Tab, how: TabLabel) -> String {
    let name = tab.name();
    let short = &name[..3.min(name.len())];
    match (how, key) {
        (TabLabel::Full, Some(k)) => format!(" {k} {name} "),
        (TabLabel::Full, None) => format!(" {name} "),
        (TabLabel::Short, Some(k)) => format!(" {k} {short} "),
        (TabLabel::Short | TabLabel::Number, None) => format!(" {short} "),
        (TabLabel::Number, Some(k)) => format!(" {k} "),
    }
}

/// The tab bar: every tab always, abbreviated rather than dropped when the width is short (the
/// active one keeps its name longest); on the right the title, which gives way first, and
/// READ-ONLY, which never does.
fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.env.theme;
    let tabs_line = |others: TabLabel, active: TabLabel| -> Line<'static> {
        let mut spans = Vec::new();
        for tab in Tab::ALL.iter() {
            let (style, how) = if *tab == app.tab {
                (theme.style(Slot::TabActive), active)
            } else {
                (theme.style(Slot::Tab), others)
            };
            let key = app.env.keymap.key_for(&["global"], &format!("tab_{}", tab.name()));
            spans.push(Span::styled(tab_label(key, *tab, how), style));
            if let Some((marker, slot)) = tab.pane().and_then(|p| source_marker(app, p)) {
                spans.push(Span::styled(marker, theme.style(slot)));
            }
            spans.push(Span::raw(" "));
        }
        Line::from(spans)
    };
    let mut read_only = Vec::new();
    if app.env.read_only {
        read_only.push(Span::raw(" "));
        read_only.push(Span::styled(
            " READ-ONLY ",
            theme.style(Slot::Warn).add_modifier(ratatui::style::Modifier::REVERSED),
        ));
    }
    let mut title = vec![Span::styled("opsdeck", theme.style(Slot::Title))];
    if !app.env.config.general.environment.is_empty() {
        title.push(Span::styled(
            format!(" · {}", app.env.config.general.environment),
            theme.style(Slot::Accent),
        ));
    }
    title.extend(read_only.iter().cloned());
    use TabLabel::{Full, Number, Short};
    let rights = [Line::from(title), Line::from(read_only)];
    let (with_title, read_only_only) = (&rights[0], &rights[1]);
    // The environment's name (which fleet a key acts on) matters more than the full names of the
    // tabs not shown: those shorten first, then the title goes, then the active tab's name.
    // Without an environment the title is only the program's name, and goes first.
    let keep_title = !app.env.config.general.environment.is_empty();
    let choices: &[(&Line, (TabLabel, TabLabel))] = if keep_title {
        &[
            (with_title, (Full, Full)),
            (with_title, (Short, Full)),
            (with_title, (Number, Full)),
            (read_only_only, (Short, Full)),
            (read_only_only, (Number, Full)),
            (read_only_only, (Short, Short)),
            (read_only_only, (Number, Short)),
        ]
    } else {
        &[
            (with_title, (Full, Full)),
            (read_only_only, (Full, Full)),
            (with_title, (Short, Full)),
            (read_only_only, (Short, Full)),
            (read_only_only, (Number, Full)),
            (read_only_only, (Short, Short)),
            (read_only_only, (Number, Short)),
        ]
    };
    let (right, (others, active)) = choices
        .iter()
        .copied()
        .find(|(r, (o, a))| tabs_line(*o, *a).width() + r.width() < usize::from(area.width))
        .unwrap_or((read_only_only, (Number, Number)));
    let (tabs, right) = (tabs_line(others, active), right.clone());
    frame.render_widget(Paragraph::new(tabs), area);
    let w = right.width() as u16;
    if w > 0 && w < area.width {
        frame.render_widget(Paragraph::new(right), Rect::new(area.right() - w, area.y, w, 1));
    }
}

fn draw_crumbs(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.env.theme;
    let crumbs: Vec<String> = app.stack().iter().map(|s| s.view.crumb()).collect();
    let left = Line::from(Span::styled(
        format!(" {} ", crumbs.join(" › ")),
        theme.style(Slot::Crumbs),
    ));
    let left_w = left.width() as u16;
    frame.render_widget(Paragraph::new(left), area);
    if let Some(kind) = app.screen().view.source() {
        let (text, tone) = analysis::freshness(&app.fleet, kind, app.now);
        let room = area.width.saturating_sub(left_w + 2) as usize;
        let text = text::truncate(&text, room);
        let w = unicode_width::UnicodeWidthStr::width(text.as_str()) as u16;
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.tone(tone))),
            Rect::new(area.right().saturating_sub(w), area.y, w, 1),
        );
    }
}

/// Draws the current view; returns its selected row's key.
fn draw_body(frame: &mut Frame, area: Rect, app: &App) -> Option<String> {
    let theme = &app.env.theme;
    let ctx = app.ctx();
    let screen = app.screen();
    let header = screen.view.header(&ctx);
    let header_h = (header.len() as u16).min(area.height / 2);
    let [head, rest] = Layout::vertical([Constraint::Length(header_h), Constraint::Min(1)]).areas(area);
    let lines: Vec<Line> = header
        .into_iter()
        .map(|(t, tone)| Line::from(Span::styled(t, theme.tone(tone))))
        .collect();
    frame.render_widget(Paragraph::new(lines), head);

    let filter_note = if screen.filter.is_empty() {
        String::new()
    } else {
        format!(" /{} ", screen.filter)
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style(Slot::Border))
        .title(Span::styled(filter_note, theme.style(Slot::Input)));
    let inner = block.inner(rest);
    frame.render_widget(block, rest);
    // One pass of filter and sort per frame, shared by the custom body and the table.
    let visible = screen.visible(&ctx);
    let selected = visible.selected.map(|i| visible.table.rows[i].key.clone());
    screen.hidden_columns.set(0);
    if !screen.view.render_body(frame, inner, &ctx, selected.as_deref()) {
        draw_table(frame, inner, screen, visible, theme);
    }
    selected
}

fn draw_table(
    frame: &mut Frame,
    area: Rect,
    screen: &crate::app::screen::Screen,
    visible: crate::app::screen::Visible,
    theme: &Theme,
) {
    if visible.table.rows.is_empty() {
        let msg = if !screen.filter.is_empty() {
            format!("no rows match /{} (esc clears the filter)", screen.filter)
        } else if visible.table.empty.is_empty() {
            "nothing to show".to_string()
        } else {
            visible.table.empty.clone()
        };
        table::draw(
            frame.buffer_mut(),
            Rect::new(area.x, area.y, area.width, 1.min(area.height)),
            &visible,
            None,
            &screen.offset,
            &screen.col_scroll,
            theme,
        );
        let msg_area = Rect::new(
            area.x + 1,
            area.y + 2.min(area.height),
            area.width.saturating_sub(2),
            area.height.saturating_sub(2),
        );
        frame.render_widget(
            Paragraph::new(msg)
                .style(theme.style(Slot::Muted))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            msg_area,
        );
        return;
    }
    let sort = screen.sort.or(visible.table.default_sort);
    let layout = table::draw(
        frame.buffer_mut(),
        area,
        &visible,
        sort,
        &screen.offset,
        &screen.col_scroll,
        theme,
    );
    screen.hidden_columns.set(layout.left + layout.right);
    // On the rule above the table, right-aligned: rows and columns out of view.
    let rows_shown = usize::from(area.height.saturating_sub(1));
    let note = table::off_screen_note(&layout, visible.table.rows.len(), screen.offset.get(), rows_shown);
    if !note.is_empty() && area.y > 0 {
        let w = (unicode_width::UnicodeWidthStr::width(note.as_str()) as u16).min(area.width);
        frame.buffer_mut().set_string(
            area.right().saturating_sub(w),
            area.y - 1,
            text::truncate(&note, usize::from(w)),
            theme.style(Slot::Muted),
        );
    }
}

/// The keys that act in the current view, as (key, what it does), most useful first: the view's
/// own actions that have a plan on the selected row, its view keys, custom actions in scope, then
/// moving about. Keys that would only answer "not available here" are left out.
pub fn acting_keys(app: &App, selected: Option<&str>) -> Vec<(String, String)> {
    let modes = app.modes();
    let keymap = &app.env.keymap;
    let key = |action: &str| keymap.key_for(&modes, action).map(short_key);
    let ctx = app.ctx();
    let screen = app.screen();
    let view = &screen.view;
    let mut out: Vec<(String, String)> = Vec::new();
    out.extend(key("help").map(|k| (k, "help".to_string())));
    let drills = selected.is_some_and(|row| view.goto(&ctx, row).is_some() || view.drills(&ctx, row));
    if drills {
        out.extend(key("drill").map(|k| (k, "open".to_string())));
    }
    if app.stack().len() > 1 || !screen.filter.is_empty() {
        out.extend(key("back").map(|k| (k, "back".to_string())));
    }
    if screen.hidden_columns.get() > 0
        && let (Some(l), Some(r)) = (key("scroll_left"), key("scroll_right"))
    {
        out.push((format!("{l}{r}"), "columns".to_string()));
    }
    // The view's actions with a plan, in the order it offers them (the most relevant to the row
    // first), then the keys the view takes itself.
    let mut hinted: Vec<&'static str> = app.planned_on(selected).to_vec();
    hinted.extend(
        app.tab
            .actions()
            .iter()
            .map(|a| a.name)
            .filter(|n| view.handles(n, &ctx, selected)),
    );
    for name in hinted {
        out.extend(key(name).map(|k| (k, name.replace('_', " "))));
    }
    if selected.is_some() {
        for custom in app
            .env
            .config
            .actions
            .iter()
            .filter(|a| crate::config::custom::in_scope(a, view.scope()))
        {
            out.extend(key(&format!("custom:{}", custom.name)).map(|k| (k, custom.name.clone())));
        }
    }
    if selected.is_some() || view.handles("filter", &ctx, selected) {
        out.extend(key("filter").map(|k| (k, "filter".to_string())));
    }
    if selected.is_some() && view.logs(&ctx, selected).is_ok() {
        out.extend(key("tail_log").map(|k| (k, "log".to_string())));
    }
    out.extend(key("palette").map(|k| (k, "command".to_string())));
    out
}

/// Arrow keys as arrows: the footer has little room.
fn short_key(key: &str) -> String {
    match key {
        "left" => "←".into(),
        "right" => "→".into(),
        "up" => "↑".into(),
        "down" => "↓".into(),
        other => other.to_string(),
    }
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App, selected: Option<&str>) {
    let theme = &app.env.theme;
    frame.buffer_mut().set_style(area, theme.style(Slot::StatusBar));
    // Running actions, newest last, on the right; the hints get what is left.
    let mut running_w = 0;
    if let Some((_, r)) = app.running.iter().next_back() {
        let progress = r.progress.as_ref().map(|p| match p.fraction {
            Some(f) => format!("{} {:.0}% {}", text::bar(f, 10), f * 100.0, p.message),
            None => p.message.clone(),
        });
        let more = if app.running.len() > 1 {
            format!(" (+{} more)", app.running.len() - 1)
        } else {
            String::new()
        };
        let line = format!(
            " ⟳ {}: {}{more} ",
            r.title,
            progress.unwrap_or_else(|| "starting…".into())
        );
        let w = (unicode_width::UnicodeWidthStr::width(line.as_str()) as u16).min(area.width / 2);
        let line = text::truncate(&line, w as usize);
        frame.render_widget(
            Paragraph::new(Span::styled(line, theme.style(Slot::Accent))),
            Rect::new(area.right() - w, area.y, w, 1),
        );
        running_w = w;
    }
    let room = usize::from(area.width.saturating_sub(running_w));
    let mut spans = Vec::new();
    if let Some(Overlay::Filter) = &app.overlay {
        spans.push(Span::styled(
            format!("/{}▏", app.screen().filter),
            theme.style(Slot::Input),
        ));
        spans.push(Span::styled("  enter: keep  esc: clear", theme.style(Slot::Muted)));
    } else {
        // Whole hints only, in order, as many as fit.
        let mut used = 0;
        for (k, what) in acting_keys(app, selected) {
            let w = unicode_width::UnicodeWidthStr::width(format!(" {k} {what} ").as_str());
            if used + w > room {
                continue;
            }
            used += w;
            spans.push(Span::styled(format!(" {k}"), theme.style(Slot::Key)));
            spans.push(Span::styled(format!(" {what} "), theme.style(Slot::StatusBar)));
        }
    }
    let hints = Rect::new(area.x, area.y, room as u16, 1);
    frame.render_widget(Paragraph::new(Line::from(spans)), hints);
}

fn draw_toasts(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.env.theme;
    // As wide as the message needs: a toast says what was refused and why, and must be read whole.
    let width = area.width.saturating_sub(2);
    for (i, toast) in app.toasts.iter().rev().enumerate() {
        let y = area.bottom().saturating_sub(1 + i as u16);
        if y <= area.y {
            break;
        }
        let text = text::truncate(&format!(" {} ", toast.text), width as usize);
        let w = unicode_width::UnicodeWidthStr::width(text.as_str()) as u16;
        let rect = Rect::new(area.right().saturating_sub(w), y, w, 1);
        frame.render_widget(Clear, rect);
        let style = theme.tone(toast.tone).add_modifier(ratatui::style::Modifier::REVERSED);
        frame.render_widget(Paragraph::new(Span::styled(text, style)), rect);
    }
}

fn draw_overlay(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.env.theme;
    match &app.overlay {
        None | Some(Overlay::Filter) => {}
        Some(Overlay::Confirm(c)) => dialog::draw_confirm(frame, area, c, app.env.read_only, theme),
        Some(Overlay::Input(i)) => dialog::draw_input(frame, area, i, theme),
        Some(Overlay::QuitConfirm { focus }) => {
            let left = app.left_changed();
            let revert = app.revert_plan().is_ok();
            dialog::draw_quit(frame, area, app.running.len(), &left, revert, *focus, theme)
        }
        Some(Overlay::Palette(p)) => dialog::draw_palette(frame, area, p, &app.palette_entries(), theme),
        Some(Overlay::Help { scroll }) => draw_help(frame, area, app, *scroll),
    }
}

/// The help as lines wrapped to `width`: keys in a column as wide as they need (up to a third of
/// the width), descriptions wrapped beside them; keys too long for the column get a row of their own.
pub fn help_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let theme = &app.env.theme;
    let width = usize::from(width).max(20);
    let sections = crate::ui::help::sections(app);
    let widest = sections
        .iter()
        .flat_map(|(_, e)| e.iter().map(|(k, _)| unicode_width::UnicodeWidthStr::width(k.as_str())))
        .max()
        .unwrap_or(0);
    let keys_w = widest.min(width / 3).max(4);
    let indent = 2 + keys_w + 2;
    let mut lines = Vec::new();
    for (title, entries) in sections {
        lines.push(Line::from(Span::styled(title, theme.style(Slot::Header))));
        for (keys, what) in entries {
            let keys_fit = unicode_width::UnicodeWidthStr::width(keys.as_str()) <= keys_w;
            let mut rows = text::wrap_spans(&[Span::raw(what)], width.saturating_sub(indent), true);
            if keys_fit {
                let head = format!("  {keys:<keys_w$}  ");
                rows[0].spans.insert(0, Span::styled(head, theme.style(Slot::Key)));
            } else {
                for k in text::wrap_spans(&[Span::raw(keys)], width.saturating_sub(2), true) {
                    let mut k = k;
                    k.spans.insert(0, Span::raw("  "));
                    for span in &mut k.spans {
                        span.style = theme.style(Slot::Key);
                    }
                    lines.push(k);
                }
                rows[0].spans.insert(0, Span::raw(" ".repeat(indent)));
            }
            for row in rows.iter_mut().skip(1) {
                row.spans.insert(0, Span::raw(" ".repeat(indent)));
            }
            lines.extend(rows);
        }
        lines.push(Line::default());
    }
    lines.extend(text::wrap_spans(
        &[Span::styled(
            format!(
                "keymap: {}  theme: {}   ↑↓ pgup pgdn scroll · any other key closes",
                app.env.keymap.name, theme.name
            ),
            theme.style(Slot::Muted),
        )],
        width,
        true,
    ));
    lines
}

fn draw_help(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let theme = &app.env.theme;
    let rect = opsdeck_core::widgets::centered(
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::BorderFocus))
        .style(theme.style(Slot::Dialog))
        .title(Span::styled(" help ", theme.style(Slot::Title)));
    let inner = block.inner(rect);
    let lines = help_lines(app, inner.width);
    let scroll = scroll.min((lines.len() as u16).saturating_sub(inner.height));
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}
