//! A backlog's trend from its recent lengths (an SQS queue, a Redis list): the net rate now, the
//! trend line, time to drain, and a sparkline. One set of rules for every pane that shows a queue,
//! so NET/s and DRAIN mean the same everywhere and never contradict the counts.

use crate::time::short_duration;
use crate::view::{Cell, Tone};
use serde::Serialize;
use std::collections::VecDeque;
use std::time::Duration;

/// One sample of a backlog: when, and how many items were waiting.
pub trait Backlog {
    /// Seconds since the Unix epoch.
    fn at(&self) -> f64;
    fn backlog(&self) -> u64;
}

/// Samples of the recent past used for the trend line (older ones describe a different regime).
const TREND_WINDOW_SECS: f64 = 600.0;
/// The window of the rate called "now": its sign is the sign of the change in the counts over it.
/// Short, so a turn shows within a few polls; at least the last two samples whatever the poll interval.
const NOW_WINDOW_SECS: f64 = 30.0;
/// Below this many messages per second, a backlog counts as steady.
const STEADY: f64 = 0.01;

/// Where a backlog is heading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Drain {
    /// Nothing waiting.
    Empty,
    /// Shrinking: time until empty at the current rate.
    In(Duration),
    /// Neither growing nor shrinking measurably.
    Steady,
    Growing,
    /// Fewer than two samples.
    Unknown,
}

impl Drain {
    pub fn text(self) -> String {
        match self {
            Drain::Empty => "empty".into(),
            Drain::In(d) => short_duration(d),
            Drain::Steady => "steady".into(),
            Drain::Growing => "growing".into(),
            Drain::Unknown => "–".into(),
        }
    }
}

/// A queue's trend from its samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Net messages per second now (positive: growing): the change over the last 30 s of samples
    /// (the last two samples when polls are further apart), so it never contradicts the counts.
    pub net_rate: Option<f64>,
    /// Least squares over the last ten minutes: the trend line, and the drain projection when it
    /// agrees with `net_rate`.
    pub trend_rate: Option<f64>,
    pub drain: Drain,
}

/// The change per second between the newest sample and the oldest one of the window (or the one
/// before the newest, when polls are further apart than the window).
fn now_rate<'a, S: Backlog + 'a>(samples: impl DoubleEndedIterator<Item = &'a S> + Clone) -> Option<f64> {
    let mut newest_first = samples.rev();
    let last = newest_first.next()?;
    let mut reference = newest_first.next()?;
    for s in newest_first {
        if s.at() < last.at() - NOW_WINDOW_SECS {
            break;
        }
        reference = s;
    }
    let dt = last.at() - reference.at();
    (dt > 0.0).then(|| (last.backlog() as f64 - reference.backlog() as f64) / dt)
}

/// Least-squares slope of the backlog over the trend window.
fn trend_line<'a, S: Backlog + 'a>(samples: impl DoubleEndedIterator<Item = &'a S> + Clone) -> Option<f64> {
    let last = samples.clone().next_back()?;
    let since = last.at() - TREND_WINDOW_SECS;
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for s in samples.rev().take_while(|s| s.at() >= since) {
        let x = s.at() - last.at();
        let y = s.backlog() as f64;
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    let denom = n * sxx - sx * sx;
    (n >= 2.0 && denom.abs() > f64::EPSILON).then(|| (n * sxy - sx * sy) / denom)
}

/// Net rate now, the trend line and time to drain from a queue's samples (oldest first). DRAIN follows
/// the rate now: "growing" only while the counts grow, an ETA only while they shrink, and never
/// sooner than either the rate now or the trend line (when that shrinks too) would have it.
pub fn trend<'a, S: Backlog + 'a>(samples: impl DoubleEndedIterator<Item = &'a S> + Clone) -> Trend {
    let Some(last) = samples.clone().next_back() else {
        return Trend {
            net_rate: None,
            trend_rate: None,
            drain: Drain::Unknown,
        };
    };
    let backlog = last.backlog();
    let rate = now_rate(samples.clone());
    let trend_rate = trend_line(samples);
    let drain = match rate {
        _ if backlog == 0 => Drain::Empty,
        None => Drain::Unknown,
        Some(r) if r > STEADY => Drain::Growing,
        Some(r) if r < -STEADY => {
            let slowest = trend_rate.filter(|t| *t < -STEADY).map_or(r, |t| t.max(r));
            Drain::In(Duration::from_secs_f64((backlog as f64 / -slowest).min(1e9)))
        }
        Some(_) => Drain::Steady,
    };
    Trend {
        net_rate: rate,
        trend_rate,
        drain,
    }
}

/// Eight-level block sparkline of the backlog, scaled to its own range, `width` samples wide.
pub fn sparkline<S: Backlog>(samples: &VecDeque<S>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let start = samples.len().saturating_sub(width);
    let tail = samples.range(start..);
    let max = tail.clone().map(|s| s.backlog()).max().unwrap_or(0);
    let min = tail.clone().map(|s| s.backlog()).min().unwrap_or(0);
    tail.map(|s| {
        if max == min {
            if max == 0 { BARS[0] } else { BARS[3] }
        } else {
            BARS[(((s.backlog() - min) as f64 / (max - min) as f64) * 7.0).round() as usize]
        }
    })
    .collect()
}

/// The NET/s cell: items per second now, signed ("0.0" when steady: "-0.0" reads like a drain
/// that is not there).
pub fn rate_cell(t: &Trend) -> Cell {
    match t.net_rate {
        Some(r) if r.abs() < 0.05 => Cell::num("0.0", r),
        Some(r) => Cell::num(format!("{r:+.1}"), r),
        None => Cell::num("–", 0.0).tone(Tone::Muted),
    }
}

/// The DRAIN cell: time to empty, "growing", "steady" or "empty".
pub fn drain_cell(t: &Trend) -> Cell {
    let tone = match t.drain {
        Drain::Growing => Tone::Warn,
        Drain::Empty => Tone::Ok,
        _ => Tone::Normal,
    };
    Cell::text(t.drain.text()).tone(tone)
}
