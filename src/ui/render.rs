//! Draws the whole screen from the app state. Pure: reads state, writes the frame, nothing else.

use crate::app::App;
use crate::app::overlay::Overlay;
use crate::model::time::age;
use crate::model::{FeedStatus, SourceKind};
use crate::ui::panes::Tab;
use crate::ui::theme::{Slot, Theme};
use crate::ui::view::Tone;
use crate::ui::widgets::{dialog, table, text};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use std::time::SystemTime;

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
    draw_body(frame, body, app);
    draw_status(frame, status, app);
    draw_toasts(frame, body, app);
    draw_overlay(frame, area, app);
}

/// Status of a source, as a short marker for tab labels.
fn source_marker(app: &App, kind: SourceKind) -> Option<(&'static str, Slot)> {
    let status = match kind {
        SourceKind::Pillows => app.fleet.pillows.status,
        SourceKind::Elasticsearch => app.fleet.elasticsearch.status,
        SourceKind::Queues => app.fleet.queues.status,
        SourceKind::Hosts => app.fleet.hosts.status,
        SourceKind::Logs => return None,
    };
    (status == FeedStatus::Error).then_some(("✖", Slot::Crit))
}

fn tab_source(tab: Tab) -> Option<SourceKind> {
    match tab {
        Tab::Pillows => Some(SourceKind::Pillows),
        Tab::Elasticsearch => Some(SourceKind::Elasticsearch),
        Tab::Queues => Some(SourceKind::Queues),
        Tab::Hosts => Some(SourceKind::Hosts),
        _ => None,
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.env.theme;
    let mut spans = Vec::new();
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let style = if *tab == app.tab {
            theme.style(Slot::TabActive)
        } else {
            theme.style(Slot::Tab)
        };
        spans.push(Span::styled(format!(" {} {} ", i + 1, tab.name()), style));
        if let Some((marker, slot)) = tab_source(*tab).and_then(|k| source_marker(app, k)) {
            spans.push(Span::styled(marker, theme.style(slot)));
        }
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    let mut right = vec![Span::styled("opsdeck", theme.style(Slot::Title))];
    if !app.env.config.general.environment.is_empty() {
        right.push(Span::styled(
            format!(" · {}", app.env.config.general.environment),
            theme.style(Slot::Accent),
        ));
    }
    if app.env.read_only {
        right.push(Span::raw(" "));
        right.push(Span::styled(
            " READ-ONLY ",
            theme.style(Slot::Warn).add_modifier(ratatui::style::Modifier::REVERSED),
        ));
    }
    let line = Line::from(right);
    let w = line.width() as u16;
    if w < area.width {
        frame.render_widget(Paragraph::new(line), Rect::new(area.right() - w, area.y, w, 1));
    }
}

/// "updated 3s ago" / "✖ error — showing data from 2m ago" for `kind`.
pub fn freshness(fleet: &crate::model::Fleet, kind: SourceKind, now: SystemTime) -> (String, Tone) {
    let (status, error, polled, last_ok, has_data) = match kind {
        SourceKind::Pillows => feed_parts(&fleet.pillows),
        SourceKind::Elasticsearch => feed_parts(&fleet.elasticsearch),
        SourceKind::Queues => feed_parts(&fleet.queues),
        SourceKind::Hosts => feed_parts(&fleet.hosts),
        SourceKind::Logs => return (String::new(), Tone::Muted),
    };
    match status {
        FeedStatus::Disabled => ("not configured".into(), Tone::Muted),
        FeedStatus::Waiting => ("waiting for the first answer…".into(), Tone::Muted),
        FeedStatus::Ok => (
            format!("updated {}", polled.map(|t| age(now, t)).unwrap_or_default()),
            Tone::Ok,
        ),
        FeedStatus::Error => {
            let since = match (has_data, last_ok) {
                (true, Some(t)) => format!(" — showing data from {}", age(now, t)),
                _ => " — no data yet".to_string(),
            };
            (format!("✖ {}{since}", error.unwrap_or_default()), Tone::Crit)
        }
    }
}

fn feed_parts<T>(
    f: &crate::model::Feed<T>,
) -> (FeedStatus, Option<String>, Option<SystemTime>, Option<SystemTime>, bool) {
    (f.status, f.error.clone(), f.polled_at, f.last_ok, f.data.is_some())
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
        let (text, tone) = freshness(&app.fleet, kind, app.now);
        let room = area.width.saturating_sub(left_w + 2) as usize;
        let text = text::truncate(&text, room);
        let w = unicode_width::UnicodeWidthStr::width(text.as_str()) as u16;
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.tone(tone))),
            Rect::new(area.right().saturating_sub(w), area.y, w, 1),
        );
    }
}

fn draw_body(frame: &mut Frame, area: Rect, app: &App) {
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
    if screen.view.render_body(frame, inner, &ctx, selected.as_deref()) {
        return;
    }
    draw_table(frame, inner, screen, visible, theme);
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
    table::draw(frame.buffer_mut(), area, &visible, sort, &screen.offset, theme);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.env.theme;
    frame.buffer_mut().set_style(area, theme.style(Slot::StatusBar));
    let modes = app.modes();
    let mut spans = Vec::new();
    if let Some(Overlay::Filter) = &app.overlay {
        spans.push(Span::styled(
            format!("/{}▏", app.screen().filter),
            theme.style(Slot::Input),
        ));
        spans.push(Span::styled("  enter: keep  esc: clear", theme.style(Slot::Muted)));
    } else {
        let hint = |action: &str, what: &str| {
            app.env
                .keymap
                .key_for(&modes, action)
                .map(|k| (k.to_string(), what.to_string()))
        };
        let mut hints: Vec<(String, String)> = [
            ("help", "help"),
            ("palette", "command"),
            ("filter", "filter"),
            ("drill", "open"),
            ("back", "back"),
        ]
        .into_iter()
        .filter_map(|(a, w)| hint(a, w))
        .collect();
        // The pane's own actions, as bound, that do something in this view.
        let view = &app.screen().view;
        for a in app.tab.actions().iter().filter(|a| view.offers(a.name)) {
            if let Some(h) = hint(a.name, a.name) {
                hints.push((h.0, a.name.replace('_', " ")));
            }
        }
        for (k, what) in hints {
            spans.push(Span::styled(format!(" {k}"), theme.style(Slot::Key)));
            spans.push(Span::styled(format!(" {what} "), theme.style(Slot::StatusBar)));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    // Running actions, newest last, on the right.
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
    }
}

fn draw_toasts(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.env.theme;
    let width = (area.width / 2).max(30).min(area.width);
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
            let left = app.settings_left_changed();
            let revert = app.revert_plan().is_ok();
            dialog::draw_quit(frame, area, app.running.len(), &left, revert, *focus, theme)
        }
        Some(Overlay::Palette(p)) => dialog::draw_palette(frame, area, p, &app.palette_entries(), theme),
        Some(Overlay::Help { scroll }) => draw_help(frame, area, app, *scroll),
    }
}

fn draw_help(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let theme = &app.env.theme;
    let mut lines = Vec::new();
    for (title, entries) in crate::ui::help::sections(app) {
        lines.push(Line::from(Span::styled(title, theme.style(Slot::Header))));
        for (keys, what) in entries {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), theme.style(Slot::Key)),
                Span::raw(what),
            ]));
        }
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled(
        format!(
            "keymap: {}  theme: {}   ↑↓ scroll · any other key closes",
            app.env.keymap.name, theme.name
        ),
        theme.style(Slot::Muted),
    )));
    let rect = dialog::centered(area, 84, area.height.saturating_sub(4));
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Slot::BorderFocus))
        .style(theme.style(Slot::Dialog))
        .title(Span::styled(" help ", theme.style(Slot::Title)));
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}
