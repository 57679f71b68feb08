//! Model of remote log tails: one bounded buffer shared by every tail, each line tagged with its source.
//!
//! The buffer is a ring: when it is full the oldest lines go and `dropped` counts them, so the pane can
//! say "dropped N lines" instead of silently losing history. Lines carry a sequence number that never
//! repeats, so a paused view can hold its place while new lines arrive and old ones are dropped.

use std::collections::VecDeque;
use std::time::SystemTime;

use opsdeck_core::logs::LogSource;

/// Lines kept when nothing else is configured.
pub const DEFAULT_CAPACITY: usize = 50_000;
/// Longer lines are cut (a binary file tailed by mistake must not eat the memory).
pub const MAX_LINE: usize = 4_096;

/// Where a tail stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailState {
    Connecting,
    /// Queued behind other tails of the same host (`ssh.max_tails`).
    Waiting(String),
    Streaming,
    /// The connection or the remote tail ended; retrying.
    Reconnecting(String),
    /// Stopped by the user (the remote process was told to end).
    Stopped,
    Failed(String),
}

impl TailState {
    pub fn label(&self) -> String {
        match self {
            TailState::Connecting => "connecting…".into(),
            TailState::Waiting(why) => why.clone(),
            TailState::Streaming => "streaming".into(),
            TailState::Reconnecting(e) => format!("reconnecting: {e}"),
            TailState::Stopped => "stopped".into(),
            TailState::Failed(e) => format!("failed: {e}"),
        }
    }
}

/// One tailed log.
#[derive(Debug, Clone, PartialEq)]
pub struct TailInfo {
    /// Stable id ([`LogSource::id`]).
    pub id: String,
    pub source: LogSource,
    pub state: TailState,
    pub received: u64,
    /// The run being shown: a tail stopped and started again is a new run, and what the old run
    /// still says on its way out (its lines in flight, its "stopped") is not about the new one.
    pub run: u64,
}

/// One line as received.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub seq: u64,
    /// Index into [`LogsState::tails`].
    pub source: u32,
    /// When it arrived, in milliseconds since the epoch: 8 bytes, not a `SystemTime`'s 16 (100k
    /// lines buffered). [`LogLine::at`] reads it.
    at_ms: i64,
    /// Boxed: exactly its length (a buffer of 100k lines keeps no spare capacity).
    pub text: Box<str>,
}

impl LogLine {
    /// When it arrived, to the millisecond.
    pub fn at(&self) -> SystemTime {
        opsdeck_core::time::from_unix_millis(self.at_ms)
    }
}

/// Lines or state changes from one tail (sent by `sources::ssh` as `SourceUpdate::Logs`).
#[derive(Debug, Clone)]
pub enum LogEvent {
    /// A tail was started (also registers tails started from other panes' shortcuts).
    Started {
        source: LogSource,
        /// Which start of this tail (see [`TailInfo::run`]).
        run: u64,
        /// Buffer size from config (`ssh.log_buffer`).
        capacity: usize,
    },
    Lines {
        id: String,
        run: u64,
        lines: Vec<String>,
    },
    State {
        id: String,
        run: u64,
        state: TailState,
    },
}

#[derive(Debug, Clone)]
pub struct LogsState {
    pub enabled: bool,
    pub capacity: usize,
    /// Every tail seen, in the order first started (a line's `source` indexes this).
    pub tails: Vec<TailInfo>,
    pub lines: VecDeque<LogLine>,
    /// Sequence number the next line gets.
    pub next_seq: u64,
    /// Lines dropped from the front because the buffer was full.
    pub dropped: u64,
}

impl Default for LogsState {
    fn default() -> Self {
        Self {
            enabled: false,
            capacity: DEFAULT_CAPACITY,
            tails: Vec::new(),
            lines: VecDeque::new(),
            next_seq: 0,
            dropped: 0,
        }
    }
}

impl LogsState {
    pub fn tail_index(&self, id: &str) -> Option<u32> {
        self.tails.iter().position(|t| t.id == id).map(|i| i as u32)
    }

    pub fn tail(&self, id: &str) -> Option<&TailInfo> {
        self.tails.iter().find(|t| t.id == id)
    }

    /// Sequence number of the oldest line still buffered.
    pub fn first_seq(&self) -> u64 {
        self.lines.front().map(|l| l.seq).unwrap_or(self.next_seq)
    }

    /// The line with sequence number `seq`, if still buffered (O(1)).
    pub fn by_seq(&self, seq: u64) -> Option<&LogLine> {
        let first = self.first_seq();
        seq.checked_sub(first)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.lines.get(i))
    }

    fn ensure_tail(&mut self, source: LogSource) -> usize {
        let id = source.id();
        match self.tails.iter().position(|t| t.id == id) {
            Some(i) => i,
            None => {
                self.tails.push(TailInfo {
                    id,
                    source,
                    state: TailState::Connecting,
                    received: 0,
                    run: 0,
                });
                self.tails.len() - 1
            }
        }
    }

    pub fn apply(&mut self, at: SystemTime, event: LogEvent) {
        match event {
            LogEvent::Started { source, run, capacity } => {
                self.enabled = true;
                self.capacity = capacity.max(1);
                let i = self.ensure_tail(source);
                // Runs are numbered in the order they were asked for; a late Started of an
                // earlier run must not take the place of a later one.
                if run >= self.tails[i].run {
                    self.tails[i].state = TailState::Connecting;
                    self.tails[i].run = run;
                }
            }
            LogEvent::State { id, run, state } => {
                if let Some(t) = self.tails.iter_mut().find(|t| t.id == id && t.run == run) {
                    t.state = state;
                }
            }
            LogEvent::Lines { id, run, lines } => {
                let Some(source) = self.tail_index(&id).filter(|&i| self.tails[i as usize].run == run) else {
                    return;
                };
                let at_ms = opsdeck_core::time::unix_millis(at);
                let tail = &mut self.tails[source as usize];
                tail.received += lines.len() as u64;
                if tail.state != TailState::Streaming {
                    tail.state = TailState::Streaming;
                }
                for text in lines {
                    let mut text = opsdeck_core::text::clean_owned(text);
                    if text.len() > MAX_LINE {
                        let mut cut = MAX_LINE;
                        while !text.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        text.truncate(cut);
                        text.push('…');
                    }
                    self.push(LogLine {
                        seq: self.next_seq,
                        source,
                        at_ms,
                        text: text.into_boxed_str(),
                    });
                }
            }
        }
    }

    fn push(&mut self, line: LogLine) {
        self.next_seq += 1;
        if self.lines.len() == self.lines.capacity() && self.lines.len() < self.capacity {
            // Grow by doubling, but never past the bound: a full 100k-line buffer would
            // otherwise sit in a 131,072-slot ring.
            let room = self.lines.len().max(64).min(self.capacity - self.lines.len());
            self.lines.reserve_exact(room);
        }
        self.lines.push_back(line);
        while self.lines.len() > self.capacity {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tail whose id is `h:/ID`.
    fn started(id: &str, capacity: usize) -> LogEvent {
        LogEvent::Started {
            source: LogSource::file("h", &format!("/{id}")),
            run: 1,
            capacity,
        }
    }

    #[test]
    fn a_line_keeps_when_it_arrived_to_the_millisecond_in_40_bytes() {
        let mut s = LogsState::default();
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_000_000_123);
        s.apply(t, started("a", 3));
        s.apply(
            t + std::time::Duration::from_micros(456),
            LogEvent::Lines {
                id: "h:/a".into(),
                run: 1,
                lines: vec!["x".into()],
            },
        );
        assert_eq!(s.lines[0].at(), t);
        assert_eq!(std::mem::size_of::<LogLine>(), 40);
    }

    #[test]
    fn buffer_is_bounded_and_counts_what_it_drops() {
        let mut s = LogsState {
            capacity: 3,
            ..LogsState::default()
        };
        let t = SystemTime::UNIX_EPOCH;
        s.apply(t, started("a", 3));
        s.apply(
            t,
            LogEvent::Lines {
                id: "h:/a".into(),
                run: 1,
                lines: (0..5).map(|i| format!("l{i}")).collect(),
            },
        );
        assert_eq!(s.lines.len(), 3);
        assert_eq!(s.dropped, 2);
        assert_eq!(s.first_seq(), 2);
        assert_eq!(&*s.by_seq(3).unwrap().text, "l3");
        assert!(s.by_seq(1).is_none());
        assert_eq!(s.tails[0].received, 5);
        assert_eq!(s.tails[0].state, TailState::Streaming);
    }

    #[test]
    fn control_sequences_never_reach_the_terminal_and_leave_a_mark() {
        let mut s = LogsState::default();
        let t = SystemTime::UNIX_EPOCH;
        s.apply(t, started("a", 10));
        s.apply(
            t,
            LogEvent::Lines {
                id: "h:/a".into(),
                run: 1,
                lines: vec![
                    "\u{1b}[31mERROR\u{1b}[0m x".into(),
                    "a\tb\u{7}c\u{1b}]0;title\u{7}".into(),
                    "plain".into(),
                ],
            },
        );
        let texts: Vec<&str> = s.lines.iter().map(|l| &*l.text).collect();
        assert_eq!(
            texts,
            [
                "\u{fffd}ERROR\u{fffd} x",
                "a    b\u{fffd}c\u{fffd}]0;title\u{fffd}",
                "plain"
            ]
        );
    }

    #[test]
    fn lines_of_unknown_tails_are_ignored_and_long_lines_cut() {
        let mut s = LogsState::default();
        let t = SystemTime::UNIX_EPOCH;
        s.apply(
            t,
            LogEvent::Lines {
                id: "nobody".into(),
                run: 1,
                lines: vec!["x".into()],
            },
        );
        assert!(s.lines.is_empty());
        s.apply(t, started("a", 10));
        s.apply(
            t,
            LogEvent::Lines {
                id: "h:/a".into(),
                run: 1,
                lines: vec!["é".repeat(MAX_LINE)],
            },
        );
        assert!(s.lines[0].text.len() <= MAX_LINE + '…'.len_utf8());
    }

    #[test]
    fn what_an_earlier_run_says_late_is_not_about_the_new_run() {
        let mut s = LogsState::default();
        let t = SystemTime::UNIX_EPOCH;
        let lines = |run, text: &str| LogEvent::Lines {
            id: "h:/a".into(),
            run,
            lines: vec![text.into()],
        };
        let state = |run, state| LogEvent::State {
            id: "h:/a".into(),
            run,
            state,
        };
        s.apply(t, started("a", 10));
        s.apply(t, lines(1, "first run"));
        // Stopped and started again at once: the first run's last words arrive after the new start.
        s.apply(
            t,
            LogEvent::Started {
                source: LogSource::file("h", "/a"),
                run: 2,
                capacity: 10,
            },
        );
        s.apply(t, state(2, TailState::Streaming));
        s.apply(t, started("a", 10));
        s.apply(t, lines(1, "late from the first run"));
        s.apply(t, state(1, TailState::Stopped));
        assert_eq!(s.tails[0].state, TailState::Streaming);
        assert_eq!(s.lines.len(), 1);
        s.apply(t, lines(2, "second run"));
        s.apply(t, state(2, TailState::Stopped));
        assert_eq!(s.tails[0].state, TailState::Stopped);
        let texts: Vec<&str> = s.lines.iter().map(|l| &*l.text).collect();
        assert_eq!(texts, ["first run", "second run"]);
    }

    #[test]
    fn files_and_programs_have_distinct_ids_and_short_names() {
        let file = LogSource::file("es-1", "/var/log/elasticsearch/prod.log");
        let program = LogSource::program("es-1", "es");
        assert_eq!(file.id(), "es-1:/var/log/elasticsearch/prod.log");
        assert_eq!(program.id(), "es-1:program es");
        assert_eq!(file.short(), "prod.log");
        assert_eq!(program.short(), "es");
    }
}
