//! The logs pane: the configured log files of every host (and logs other panes opened with "tail its
//! log"). Enter on one tails it; Enter on "all" merges every configured file with a per-source prefix.
//! In a tail: follow or pause, `/` search with highlight and `n`/`N`, wrap, timestamps, save to a
//! file, stop. Leaving the tail (Esc) stops the remote process.
//!
//! Rendering walks the buffer from the bottom of the screen upwards and stops when the screen is full:
//! cost follows the screen, not the 100k lines the buffer may hold.

use crate::model::logs::{LogLine, LogsState, TailState};
use crate::source::TailCommand;
use crate::{Hosts, Logs};
use opsdeck_core::effect::Effect;
use opsdeck_core::effect::PaneJob;
use opsdeck_core::logs::LogSource;
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::theme::Slot;
use opsdeck_core::view::{Cell, Column, HOST, PaneAction, Row, RowKind, SAME_AS_ANOTHER, Table, Tone, View, ViewCtx};
use opsdeck_core::widgets::text::wrap_spans;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use regex::{Regex, RegexBuilder};
use std::cell::Cell as StdCell;

/// Keymap actions this pane understands (bound in the keymap's `[logs]` mode).
pub const ACTIONS: &[PaneAction] = &[
    PaneAction {
        name: "stop_tail",
        help: "stop the selected tail, or in a tail the tails it shows",
    },
    PaneAction {
        name: "toggle_follow",
        help: "in a tail: follow new lines / pause where you are",
    },
    PaneAction {
        name: "search_next",
        help: "in a tail: next match of the / search (newer)",
    },
    PaneAction {
        name: "search_prev",
        help: "in a tail: previous match of the / search (older)",
    },
    PaneAction {
        name: "toggle_wrap",
        help: "in a tail: wrap long lines",
    },
    PaneAction {
        name: "toggle_timestamps",
        help: "in a tail: show when each line arrived",
    },
    PaneAction {
        name: "save_log",
        help: "in a tail: save its lines to a file in the current directory",
    },
];

pub fn root() -> Box<dyn View> {
    Box::new(LogsRoot)
}

/// The key of the "every configured log, merged" row.
const ALL: &str = "*";

/// Every host's configured log files.
fn configured(ctx: &ViewCtx) -> Vec<LogSource> {
    ctx.config
        .of::<Hosts>()
        .hosts
        .iter()
        .flat_map(|h| h.logs.iter().map(|p| LogSource::file(&h.name, p)))
        .collect()
}

/// Every log the pane knows: configured files first, then logs opened from other panes.
fn sources(ctx: &ViewCtx) -> Vec<LogSource> {
    let mut out = configured(ctx);
    for t in &ctx.fleet.of::<Logs>().tails {
        if !out.contains(&t.source) {
            out.push(t.source.clone());
        }
    }
    out
}

fn state_cell(logs: &LogsState, id: &str) -> Cell {
    match logs.tail(id) {
        None => Cell::text("idle").tone(Tone::Muted),
        Some(t) => {
            let tone = match &t.state {
                TailState::Streaming => Tone::Ok,
                TailState::Connecting | TailState::Stopped => Tone::Muted,
                TailState::Reconnecting(_) | TailState::Waiting(_) => Tone::Warn,
                TailState::Failed(_) => Tone::Crit,
            };
            Cell::text(t.state.label()).tone(tone)
        }
    }
}

/// The list of tails.
pub struct LogsRoot;

impl View for LogsRoot {
    fn crumb(&self) -> String {
        "logs".into()
    }
    fn scope(&self) -> &'static str {
        "logs"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Logs::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let l = ctx.fleet.of::<Logs>();
        vec![(
            format!(
                " {} line(s) buffered of {} · dropped {} line(s) · Enter tails a log, or every file merged",
                l.lines.len(),
                l.capacity,
                l.dropped
            ),
            Tone::Muted,
        )]
    }

    fn table(&self, ctx: &ViewCtx) -> Table {
        let logs = ctx.fleet.of::<Logs>();
        let all = sources(ctx);
        let mut rows = Vec::new();
        if !all.is_empty() {
            rows.push(Row {
                key: ALL.into(),
                cells: vec![
                    Cell::text("(all)"),
                    Cell::text(format!("every configured log, merged ({} files)", all.len())),
                    Cell::text(""),
                    Cell::num("", -1.0),
                ],
            });
        }
        for source in all {
            let id = source.id();
            let received = logs.tail(&id).map(|t| t.received).unwrap_or(0);
            rows.push(Row {
                key: id.clone(),
                cells: vec![
                    Cell::text(source.host.clone()),
                    Cell::text(source.what()),
                    state_cell(logs, &id),
                    Cell::num(received.to_string(), received as f64),
                ],
            });
        }
        Table {
            columns: vec![
                Column::left("HOST", 8).max(24),
                Column::left("LOG", 20).max(80).grow().priority(9),
                Column::left("STATE", 10).max(30).priority(8),
                Column::right("LINES", 8).priority(5),
            ],
            rows,
            default_sort: None,
            empty: "No log files configured (logs = [...] under [[ssh.hosts]]).".into(),
        }
    }

    /// The list only stops tails; the rest of the pane's keys work in a tail.
    fn handles(&self, name: &str, _ctx: &ViewCtx, _row: Option<&str>) -> bool {
        name == "stop_tail"
    }

    fn handle(&mut self, action: &str, ctx: &ViewCtx, row: Option<&str>) -> Option<Vec<Effect>> {
        if action != "stop_tail" {
            return None;
        }
        let row = row?;
        let ids: Vec<String> = if row == ALL {
            ctx.fleet.of::<Logs>().tails.iter().map(|t| t.id.clone()).collect()
        } else {
            vec![row.to_string()]
        };
        Some(
            ids.into_iter()
                .map(|id| Effect::Job(PaneJob::new::<Logs>(TailCommand::Stop { id })))
                .collect(),
        )
    }

    fn drill(&self, ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        let picked = self.logs(ctx, Some(row)).ok().filter(|p| !p.is_empty())?;
        Some(Box::new(TailView::new(picked)))
    }

    fn logs(&self, ctx: &ViewCtx, row: Option<&str>) -> Result<Vec<LogSource>, String> {
        match row {
            None => Err("no log selected".into()),
            Some(ALL) => Ok(configured(ctx)),
            Some(row) => Ok(sources(ctx).into_iter().filter(|s| s.id() == row).collect()),
        }
    }

    fn row_vars(&self, ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        let Some(source) = sources(ctx).into_iter().find(|s| s.id() == row) else {
            return Vec::new();
        };
        let mut vars = vec![("host".to_string(), source.host.clone())];
        match source.target {
            opsdeck_core::logs::LogTarget::File(p) => {
                vars.push(("path".into(), p.clone()));
                vars.push(("name".into(), p));
            }
            opsdeck_core::logs::LogTarget::Program(p) => {
                vars.push(("program".into(), p.clone()));
                vars.push(("name".into(), p));
            }
        }
        vars
    }
}

/// Short, distinct prefixes for merged logs: the host only when they are on several hosts; the names
/// without an extension they all share, and without the start they all share, cut back to its last
/// word (`commcare-hq-prod-pillowtop-case-pillow-0.log`, `…-1.log` → `pillow-0`, `pillow-1`).
/// Removing what every name shares keeps the labels as distinct as the names.
pub fn merged_labels(sources: &[LogSource]) -> Vec<String> {
    const SEPARATORS: [char; 4] = ['-', '_', '.', '/'];
    let names: Vec<&str> = sources.iter().map(LogSource::short).collect();
    let ext = |n: &str| n.rfind('.').map(|i| n[i..].to_string());
    let shared_ext = match names.as_slice() {
        [first, _, ..] => ext(first).filter(|e| names.iter().all(|n| ext(n).as_ref() == Some(e))),
        _ => None,
    };
    let cut = match names.as_slice() {
        [first, rest @ ..] if !rest.is_empty() => {
            let mut shared = rest
                .iter()
                .map(|n| first.bytes().zip(n.bytes()).take_while(|(a, b)| a == b).count())
                .min()
                .unwrap_or(0);
            while !first.is_char_boundary(shared) {
                shared -= 1;
            }
            let head = &first[..shared];
            head.rfind(SEPARATORS)
                .and_then(|last| head[..last].rfind(SEPARATORS))
                .map_or(0, |word| word + 1)
        }
        _ => 0,
    };
    let one_host = sources.windows(2).all(|w| w[0].host == w[1].host);
    sources
        .iter()
        .zip(&names)
        .map(|(source, name)| {
            let end = name.len() - shared_ext.as_ref().map_or(0, String::len);
            let label = name.get(cut..end).filter(|l| !l.is_empty()).unwrap_or(name);
            if one_host {
                label.to_string()
            } else {
                format!("{}:{label}", source.host)
            }
        })
        .collect()
}

/// One or several tails in one scrolling view.
pub struct TailView {
    /// Each log shown.
    pub sources: Vec<LogSource>,
    ids: Vec<String>,
    /// What each source's lines are prefixed with when merged ([`merged_labels`]).
    labels: Vec<String>,
    /// Following the newest line; when false, `anchor` is the bottom line shown.
    pub follow: bool,
    pub anchor: Option<u64>,
    pub wrap: bool,
    pub timestamps: bool,
    pub query: String,
    regex: Option<Regex>,
    /// The match `n`/`N` last moved to.
    pub current: Option<u64>,
    /// Body height at the last draw, for paging.
    page: StdCell<u16>,
    /// A message for the header (no match, saved...).
    note: Option<String>,
    /// Its tails were stopped with `x`: leaving must not stop them again (by then the same log
    /// may be tailed anew from another pane).
    stopped: bool,
}

impl TailView {
    pub fn new(sources: Vec<LogSource>) -> Self {
        let ids = sources.iter().map(LogSource::id).collect();
        let labels = merged_labels(&sources);
        Self {
            sources,
            ids,
            labels,
            follow: true,
            anchor: None,
            wrap: false,
            timestamps: false,
            query: String::new(),
            regex: None,
            current: None,
            page: StdCell::new(20),
            note: None,
            stopped: false,
        }
    }

    fn merged(&self) -> bool {
        self.sources.len() > 1
    }

    /// Buffer indexes (`source`) of this view's tails.
    fn source_indexes(&self, logs: &LogsState) -> Vec<u32> {
        self.ids.iter().filter_map(|id| logs.tail_index(id)).collect()
    }

    fn mine<'a>(&self, logs: &'a LogsState) -> impl DoubleEndedIterator<Item = &'a LogLine> + 'a {
        self.mine_in(logs, ..)
    }

    /// Our lines among `logs.lines[range]` (lines are in sequence order: a scroll starts where it
    /// is, found by bisection, instead of walking 100,000 lines from the oldest).
    fn mine_in<'a>(
        &self,
        logs: &'a LogsState,
        range: impl std::ops::RangeBounds<usize>,
    ) -> impl DoubleEndedIterator<Item = &'a LogLine> + 'a {
        let idx = self.source_indexes(logs);
        logs.lines.range(range).filter(move |l| idx.contains(&l.source))
    }

    /// Sequence number of the bottom line: the anchor while paused, else the newest of ours.
    fn bottom(&self, logs: &LogsState) -> Option<u64> {
        match (self.follow, self.anchor) {
            (false, Some(a)) => Some(a.max(logs.first_seq())),
            _ => self.mine(logs).next_back().map(|l| l.seq),
        }
    }

    /// Moves the bottom line `n` of our lines older (negative) or newer (positive).
    fn scroll(&mut self, logs: &LogsState, n: i64) {
        let Some(bottom) = self.bottom(logs) else { return };
        let older = logs.lines.partition_point(|l| l.seq < bottom);
        let newer = logs.lines.partition_point(|l| l.seq <= bottom);
        let target = if n < 0 {
            self.mine_in(logs, ..older)
                .rev()
                .take((-n) as usize)
                .last()
                .map(|l| l.seq)
                .unwrap_or(bottom)
        } else {
            let newer = self.mine_in(logs, newer..).take(n as usize).last().map(|l| l.seq);
            match newer {
                Some(s) => s,
                None => {
                    // Scrolled past the newest line: follow again.
                    self.follow = true;
                    self.anchor = None;
                    return;
                }
            }
        };
        self.follow = false;
        self.anchor = Some(target);
    }

    fn matches(&self, text: &str) -> bool {
        self.regex.as_ref().is_some_and(|r| r.is_match(text))
    }

    fn search(&mut self, logs: &LogsState, newer: bool) {
        if self.regex.is_none() {
            self.note = Some("no search: press / and type a pattern".into());
            return;
        }
        let from = self.current.or(self.bottom(logs)).unwrap_or(0);
        let hit = if newer {
            self.mine(logs)
                .find(|l| l.seq > from && self.matches(&l.text))
                .map(|l| l.seq)
        } else {
            self.mine(logs)
                .rev()
                .find(|l| l.seq < from && self.matches(&l.text))
                .map(|l| l.seq)
        };
        match hit {
            Some(seq) => {
                self.current = Some(seq);
                self.follow = false;
                // Put the match mid-screen: the bottom line is half a page newer.
                let half = usize::from(self.page.get() / 2);
                let bottom = self
                    .mine(logs)
                    .filter(|l| l.seq >= seq)
                    .take(half.max(1))
                    .last()
                    .map(|l| l.seq);
                self.anchor = bottom.or(Some(seq));
                self.note = None;
            }
            None => {
                self.note = Some(format!(
                    "no {} match for /{}",
                    if newer { "newer" } else { "older" },
                    self.query
                ))
            }
        }
    }

    fn prefix(&self, logs: &LogsState, line: &LogLine) -> String {
        let mut p = String::new();
        if self.timestamps {
            let t = opsdeck_core::time::rfc3339(line.at());
            p.push_str(t.get(11..19).unwrap_or(&t));
            p.push(' ');
        }
        if self.merged()
            && let Some(t) = logs.tails.get(line.source as usize)
            && let Some(i) = self.ids.iter().position(|id| *id == t.id)
        {
            p.push_str(&self.labels[i]);
            p.push_str(" │ ");
        }
        p
    }

    /// The text of every buffered line of this view (what `save_log` writes).
    pub fn contents(&self, logs: &LogsState) -> String {
        let mut out = String::new();
        for l in self.mine(logs) {
            out.push_str(&self.prefix(logs, l));
            out.push_str(&l.text);
            out.push('\n');
        }
        out
    }

    fn save_path(&self, ctx: &ViewCtx) -> std::path::PathBuf {
        let name = match self.sources.as_slice() {
            [s] => format!("{}-{}", s.host, s.short()),
            _ => "merged".to_string(),
        };
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let secs = ctx
            .now
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        std::path::PathBuf::from(format!("opsdeck-{safe}-{secs}.log"))
    }

    /// Stops every tail this view shows.
    fn stop_tails(&mut self) -> Vec<Effect> {
        if std::mem::replace(&mut self.stopped, true) {
            return Vec::new();
        }
        self.ids
            .iter()
            .map(|id| Effect::Job(PaneJob::new::<Logs>(TailCommand::Stop { id: id.clone() })))
            .collect()
    }

    /// One line as drawn: its prefix, then its text with search matches highlighted.
    fn spans<'a>(&self, logs: &LogsState, line: &'a LogLine, theme: &opsdeck_core::theme::Theme) -> Vec<Span<'a>> {
        let slot = PREFIX_SLOTS[line.source as usize % PREFIX_SLOTS.len()];
        let mut spans = vec![Span::styled(self.prefix(logs, line), theme.style(slot))];
        let mut style = theme.style(Slot::Text);
        if Some(line.seq) == self.current {
            style = theme.style(Slot::Selection);
        }
        if line.text.starts_with('⚠') {
            style = theme.style(Slot::Warn);
        }
        spans.extend(self.highlighted(&line.text, style, theme.style(Slot::Match)));
        spans
    }

    /// Spans of `text` with search matches highlighted.
    fn highlighted<'a>(&self, text: &'a str, base: Style, hit: Style) -> Vec<Span<'a>> {
        let Some(re) = &self.regex else {
            return vec![Span::styled(text, base)];
        };
        let mut spans = Vec::new();
        let mut at = 0;
        for m in re.find_iter(text) {
            if m.start() > at {
                spans.push(Span::styled(&text[at..m.start()], base));
            }
            if m.end() > m.start() {
                spans.push(Span::styled(m.as_str(), hit));
            }
            at = m.end();
        }
        if at < text.len() {
            spans.push(Span::styled(&text[at..], base));
        }
        spans
    }
}

/// Tones for source prefixes, cycled (the prefix text itself keeps sources apart without colour).
const PREFIX_SLOTS: [Slot; 5] = [Slot::Accent, Slot::Key, Slot::Title, Slot::Crumbs, Slot::Header];

impl View for TailView {
    fn crumb(&self) -> String {
        match self.sources.as_slice() {
            [s] => format!("{}:{}", s.host, s.what()),
            all => format!("{} logs merged", all.len()),
        }
    }
    fn scope(&self) -> &'static str {
        "logs.tail"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Logs::ID)
    }

    fn header(&self, ctx: &ViewCtx) -> Vec<(String, Tone)> {
        let logs = ctx.fleet.of::<Logs>();
        let mut lines = Vec::new();
        let mode = if self.follow { "▶ following" } else { "⏸ PAUSED" };
        lines.push((
            format!(
                " {mode} · {} buffered · dropped {} line(s){}{}{}",
                logs.lines.len(),
                logs.dropped,
                if self.wrap { " · wrap" } else { "" },
                if self.timestamps { " · timestamps" } else { "" },
                if self.query.is_empty() {
                    String::new()
                } else {
                    format!(" · /{}", self.query)
                }
            ),
            if self.follow { Tone::Ok } else { Tone::Warn },
        ));
        for id in &self.ids {
            if let Some(t) = logs.tail(id)
                && !matches!(t.state, TailState::Streaming)
            {
                let tone = match t.state {
                    TailState::Failed(_) => Tone::Crit,
                    TailState::Reconnecting(_) | TailState::Waiting(_) => Tone::Warn,
                    _ => Tone::Muted,
                };
                lines.push((format!(" {}: {}", t.id, t.state.label()), tone));
            }
        }
        if let Some(n) = &self.note {
            lines.push((format!(" {n}"), Tone::Muted));
        }
        lines
    }

    fn table(&self, _ctx: &ViewCtx) -> Table {
        Table::default()
    }

    fn render_body(&self, frame: &mut Frame, area: Rect, ctx: &ViewCtx, _selected: Option<&str>) -> bool {
        self.page.set(area.height);
        if area.height == 0 || area.width == 0 {
            return true;
        }
        let logs = ctx.fleet.of::<Logs>();
        let theme = ctx.theme;
        let width = area.width as usize;
        let Some(bottom) = self.bottom(logs) else {
            frame.render_widget(
                Paragraph::new("waiting for lines…").style(theme.style(Slot::Muted)),
                area,
            );
            return true;
        };
        // Walk up from the bottom line until the screen is full. Lines are cut into their rows here,
        // so the rows counted are the rows drawn.
        let height = usize::from(area.height);
        let mut picked: Vec<Vec<Line>> = Vec::new();
        let mut used = 0;
        for l in self.mine(logs).rev().skip_while(|l| l.seq > bottom) {
            let spans = self.spans(logs, l, theme);
            let rows = if self.wrap {
                wrap_spans(&spans, width, false)
            } else {
                vec![Line::from(spans)]
            };
            if used + rows.len() > height && !picked.is_empty() {
                break;
            }
            used += rows.len();
            picked.push(rows);
            if used >= height {
                break;
            }
        }
        // A line taller than the screen shows its start.
        let top = area.y + area.height.saturating_sub(used as u16);
        let rows = picked.into_iter().rev().flatten();
        for (y, row) in (top..area.bottom()).zip(rows) {
            frame.render_widget(row, Rect::new(area.x, y, area.width, 1));
        }
        true
    }

    fn on_enter(&mut self, _ctx: &ViewCtx) -> Vec<Effect> {
        self.sources
            .iter()
            .map(|s| Effect::Job(PaneJob::new::<Logs>(TailCommand::Start(s.clone()))))
            .collect()
    }

    fn on_leave(&mut self) -> Vec<Effect> {
        self.stop_tails()
    }

    fn on_filter(&mut self, text: &str) {
        self.query = text.to_string();
        self.regex = if text.is_empty() {
            None
        } else {
            RegexBuilder::new(text)
                .case_insensitive(true)
                .build()
                .or_else(|_| RegexBuilder::new(&regex::escape(text)).case_insensitive(true).build())
                .ok()
        };
        self.current = None;
        self.note = None;
    }

    /// Every key of the pane works in a tail, and `/` searches it.
    fn handles(&self, name: &str, _ctx: &ViewCtx, _row: Option<&str>) -> bool {
        name == "filter" || ACTIONS.iter().any(|a| a.name == name)
    }

    fn handle(&mut self, action: &str, ctx: &ViewCtx, _row: Option<&str>) -> Option<Vec<Effect>> {
        let logs = ctx.fleet.of::<Logs>();
        let page = i64::from(self.page.get().max(2) - 1);
        self.note = None;
        match action {
            "toggle_follow" => {
                if self.follow {
                    self.anchor = self.bottom(logs);
                    self.follow = false;
                } else {
                    self.follow = true;
                    self.anchor = None;
                }
            }
            "toggle_wrap" => self.wrap = !self.wrap,
            "toggle_timestamps" => self.timestamps = !self.timestamps,
            "search_next" => self.search(logs, true),
            "search_prev" => self.search(logs, false),
            "scroll_up" | "up" => self.scroll(logs, -1),
            "scroll_down" | "down" => self.scroll(logs, 1),
            "scroll_page_up" | "page_up" => self.scroll(logs, -page),
            "scroll_page_down" | "page_down" => self.scroll(logs, page),
            "scroll_top" | "top" => {
                self.follow = false;
                self.anchor = self.mine(logs).next().map(|l| l.seq);
            }
            "scroll_bottom" | "bottom" => {
                self.follow = true;
                self.anchor = None;
            }
            "save_log" => {
                return Some(vec![Effect::SaveFile {
                    path: self.save_path(ctx),
                    contents: self.contents(logs),
                }]);
            }
            // As on the list's rows; the view stays open on the lines already buffered.
            "stop_tail" => {
                self.note = Some("stopped: no new lines (Esc back to the list)".into());
                return Some(self.stop_tails());
            }
            _ => return None,
        }
        Some(Vec::new())
    }
}

/// The row kinds of its views a custom action can be scoped to, and the `{{vars}}` they fill.
pub const ROW_KINDS: &[RowKind] = &[
    RowKind {
        scope: "logs",
        vars: &[
            ("host", HOST),
            ("name", SAME_AS_ANOTHER),
            ("path", ("log file", "the config")),
            ("program", ("program name", "the config")),
        ],
    },
    RowKind {
        scope: "logs.tail",
        vars: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(sources: &[(&str, &str)]) -> Vec<String> {
        let sources: Vec<LogSource> = sources.iter().map(|(h, p)| LogSource::file(h, p)).collect();
        merged_labels(&sources)
    }

    #[test]
    fn merged_labels_drop_what_every_log_shares() {
        let pillow = |n: u32| {
            (
                "pillow1",
                format!("/log/commcare-hq-prod-pillowtop-case-pillow-{n}.log"),
            )
        };
        let (h0, p0) = pillow(0);
        let (h1, p1) = pillow(1);
        assert_eq!(labels(&[(h0, &p0), (h1, &p1)]), ["pillow-0", "pillow-1"]);
        assert_eq!(
            labels(&[
                ("es-1", "/var/log/es/es-core-1.log"),
                ("es-2", "/var/log/es/es-spot-1.log")
            ]),
            ["es-1:es-core-1", "es-2:es-spot-1"],
            "several hosts: the host stays; nothing worth cutting at the start"
        );
        assert_eq!(
            labels(&[("w", "/var/log/access.log"), ("w", "/var/log/error.txt")]),
            ["access.log", "error.txt"],
            "extensions differ: kept"
        );
        assert_eq!(labels(&[("w", "/a/é-1.log"), ("w", "/a/é-2.log")]), ["é-1", "é-2"]);
        assert_eq!(labels(&[("w", "/a/x.log")]), ["x.log"], "one log: its name");
        let with_program = [LogSource::program("w", "es"), LogSource::file("w", "/var/log/es.log")];
        assert_eq!(merged_labels(&with_program), ["es", "es.log"]);
    }
}
