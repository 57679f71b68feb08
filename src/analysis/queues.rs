//! What a person would conclude from queues and tables: backlog trends, time to drain, how close
//! the oldest message is to being deleted by SQS (runbook: data lost at the retention period,
//! 14 days at most), dead letters, and throttled tables.

use crate::config::Config;
use crate::config::aws::AwsConfig;
use crate::model::alert::AlertTarget;
use crate::model::queues::{Capacity, QueueState, QueuesState, Sample, TableInfo};
use crate::model::time::short_duration;
use crate::model::{Alert, Severity};
use std::time::Duration;

/// Samples of the recent past used for the rate (older ones describe a different regime).
const RATE_WINDOW_SECS: f64 = 600.0;
/// Below this many messages per second, a backlog counts as steady.
const STEADY: f64 = 0.01;

/// Where a backlog is heading.
#[derive(Debug, Clone, Copy, PartialEq)]
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Net messages per second (positive: growing), least squares over the recent window.
    pub net_rate: Option<f64>,
    pub drain: Drain,
}

/// Net rate and time to drain from a queue's samples (oldest first).
pub fn trend<'a>(samples: impl DoubleEndedIterator<Item = &'a Sample> + Clone) -> Trend {
    let Some(last) = samples.clone().next_back() else {
        return Trend {
            net_rate: None,
            drain: Drain::Unknown,
        };
    };
    let since = last.at - RATE_WINDOW_SECS;
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for s in samples.rev().take_while(|s| s.at >= since) {
        let x = s.at - last.at;
        let y = s.backlog() as f64;
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    let backlog = last.backlog();
    let denom = n * sxx - sx * sx;
    let rate = (n >= 2.0 && denom.abs() > f64::EPSILON).then(|| (n * sxy - sx * sy) / denom);
    let drain = match rate {
        _ if backlog == 0 => Drain::Empty,
        None => Drain::Unknown,
        Some(r) if r > STEADY => Drain::Growing,
        Some(r) if r < -STEADY => Drain::In(Duration::from_secs_f64((backlog as f64 / -r).min(1e9))),
        Some(_) => Drain::Steady,
    };
    Trend { net_rate: rate, drain }
}

/// Net messages per second: from the pane's own samples, or (one poll, as in `opsdeck check`)
/// from CloudWatch's sent minus deleted.
pub fn net_rate(q: &QueueState) -> Option<f64> {
    trend(q.history.iter())
        .net_rate
        .or_else(|| Some(q.info.sent_per_s? - q.info.deleted_per_s?))
}

/// The oldest message's age as a fraction of the retention period.
pub fn age_fraction(q: &QueueState) -> Option<f64> {
    let age = q.info.oldest_age_secs?;
    (q.info.retention_secs > 0).then(|| age / q.info.retention_secs as f64)
}

/// How a queue is doing, worst reason first.
pub fn queue_verdict(q: &QueueState, cfg: &AwsConfig) -> (Severity, Vec<String>) {
    let mut sev = Severity::Ok;
    let mut why = Vec::new();
    let mut raise = |s: Severity, text: String| {
        sev = sev.max(s);
        why.push(text);
    };
    if let Some(e) = &q.info.error {
        raise(Severity::Warning, e.clone());
        return (sev, why);
    }
    if let Some(f) = age_fraction(q) {
        let age = short_duration(Duration::from_secs_f64(q.info.oldest_age_secs.unwrap_or(0.0)));
        let keep = short_duration(Duration::from_secs(q.info.retention_secs));
        if f >= cfg.age_crit_fraction {
            raise(
                Severity::Critical,
                format!("oldest message {age} old of {keep} retention: SQS deletes it soon (data loss)"),
            );
        } else if f >= cfg.age_warn_fraction {
            raise(
                Severity::Warning,
                format!("oldest message {age} old, {:.0}% of {keep} retention", f * 100.0),
            );
        }
    }
    if let Some(r) = net_rate(q)
        && r * 60.0 > cfg.growth_warn_per_min
        && q.info.backlog() > 0
    {
        raise(Severity::Warning, format!("backlog growing {:.0}/min", r * 60.0));
    }
    if cfg.backlog_warn > 0 && q.info.backlog() > cfg.backlog_warn {
        raise(
            Severity::Warning,
            format!("{} messages waiting (threshold {})", q.info.backlog(), cfg.backlog_warn),
        );
    }
    if cfg.dlq_warn && !q.info.dlq_of.is_empty() && q.info.visible > 0 {
        raise(
            Severity::Warning,
            format!(
                "{} dead letters from {} (redrive once the cause is fixed)",
                q.info.visible,
                q.info.dlq_of.join(", ")
            ),
        );
    }
    (sev, why)
}

/// A number that sorts queues by what needs attention first (higher: look here first).
pub fn attention(q: &QueueState, cfg: &AwsConfig) -> f64 {
    let (sev, _) = queue_verdict(q, cfg);
    let base = match sev {
        Severity::Critical => 3e6,
        Severity::Warning => 2e6,
        Severity::Ok => 0.0,
    };
    let age = age_fraction(q).unwrap_or(0.0).min(1.0) * 1e5;
    let growth = match trend(q.history.iter()).drain {
        Drain::Growing => 5e4,
        _ => 0.0,
    };
    base + age + growth + (q.info.backlog() as f64).min(4e4)
}

/// How a table (or index) is doing.
pub fn capacity_verdict(c: &Capacity, cfg: &AwsConfig) -> Option<(Severity, String)> {
    let throttled = c.throttled()?;
    if throttled >= cfg.throttle_crit {
        Some((Severity::Critical, format!("{throttled:.0} throttled requests/min")))
    } else if throttled >= cfg.throttle_warn {
        Some((Severity::Warning, format!("{throttled:.0} throttled requests/min")))
    } else {
        None
    }
}

/// A table's problems, including its indexes' (a throttled GSI throttles the table's writes).
pub fn table_verdict(t: &TableInfo, cfg: &AwsConfig) -> (Severity, Vec<String>) {
    if let Some(e) = &t.error {
        return (Severity::Warning, vec![e.clone()]);
    }
    let mut sev = Severity::Ok;
    let mut why = Vec::new();
    if let Some((s, w)) = capacity_verdict(&t.capacity, cfg) {
        sev = sev.max(s);
        why.push(w);
    }
    for g in &t.gsis {
        if let Some((s, w)) = capacity_verdict(&g.capacity, cfg) {
            sev = sev.max(s);
            why.push(format!("index {}: {w}", g.name));
        }
    }
    if !t.status.is_empty() && t.status != "ACTIVE" && t.status != "UPDATING" {
        sev = sev.max(Severity::Warning);
        why.push(format!("status {}", t.status));
    }
    (sev, why)
}

/// Problems worth attention, for the overview pane and `opsdeck check`.
pub fn alerts(state: &QueuesState, config: &Config) -> Vec<Alert> {
    let cfg = &config.aws;
    let mut out = Vec::new();
    for q in &state.queues {
        let (sev, why) = queue_verdict(q, cfg);
        if sev > Severity::Ok {
            out.push(
                Alert::new(sev, "queues", &q.info.name, why.join("; "))
                    .at(AlertTarget::row("queues", &q.info.url).in_view("queues")),
            );
        }
    }
    for t in &state.tables {
        let (sev, why) = table_verdict(t, cfg);
        if sev > Severity::Ok {
            out.push(
                Alert::new(sev, "queues", format!("table {}", t.name), why.join("; "))
                    .at(AlertTarget::row("queues", &t.name).in_view("tables")),
            );
        }
    }
    out
}

/// Eight-level block sparkline of the backlog, scaled to its own range, `width` samples wide.
pub fn sparkline(samples: &std::collections::VecDeque<Sample>, width: usize) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::queues::QueueInfo;
    use std::collections::VecDeque;

    fn samples(points: &[(f64, u64)]) -> VecDeque<Sample> {
        points
            .iter()
            .map(|&(at, visible)| Sample {
                at,
                visible,
                in_flight: 0,
            })
            .collect()
    }

    #[test]
    fn draining_queue_gets_an_eta_and_growing_one_says_so() {
        // 1000 → 900 over 100 s: -1/s, 900 left → 900 s.
        let s = samples(&[(0.0, 1000), (50.0, 950), (100.0, 900)]);
        let t = trend(s.iter());
        assert!((t.net_rate.unwrap() + 1.0).abs() < 1e-9);
        assert_eq!(t.drain, Drain::In(Duration::from_secs(900)));
        assert_eq!(t.drain.text(), "15m");
        let s = samples(&[(0.0, 10), (10.0, 20), (20.0, 30)]);
        assert_eq!(trend(s.iter()).drain, Drain::Growing);
        let s = samples(&[(0.0, 10), (10.0, 0)]);
        assert_eq!(trend(s.iter()).drain, Drain::Empty);
        let s = samples(&[(0.0, 10)]);
        assert_eq!(trend(s.iter()).drain, Drain::Unknown);
        // Old history outside the window does not bend the rate.
        let s = samples(&[(0.0, 0), (1000.0, 500), (1100.0, 500), (1200.0, 500)]);
        assert_eq!(trend(s.iter()).drain, Drain::Steady);
    }

    #[test]
    fn age_near_retention_is_critical_and_sorts_first() {
        let cfg = AwsConfig::default();
        let mut old = QueueState {
            info: QueueInfo {
                name: "ingest".into(),
                retention_secs: 14 * 86_400,
                oldest_age_secs: Some(12.0 * 86_400.0),
                visible: 3,
                ..Default::default()
            },
            history: samples(&[(0.0, 3)]),
        };
        let (sev, why) = queue_verdict(&old, &cfg);
        assert_eq!(sev, Severity::Critical, "{why:?}");
        assert!(why[0].contains("12d old of 14d retention"), "{why:?}");
        let calm = QueueState {
            info: QueueInfo {
                name: "calm".into(),
                retention_secs: 14 * 86_400,
                oldest_age_secs: Some(60.0),
                visible: 30_000,
                ..Default::default()
            },
            history: samples(&[(0.0, 30_000)]),
        };
        assert_eq!(queue_verdict(&calm, &cfg).0, Severity::Ok);
        assert!(attention(&old, &cfg) > attention(&calm, &cfg));
        old.info.oldest_age_secs = Some(8.0 * 86_400.0);
        assert_eq!(queue_verdict(&old, &cfg).0, Severity::Warning);
    }

    #[test]
    fn one_poll_judges_growth_from_cloudwatch_in_and_out() {
        let cfg = AwsConfig::default();
        let q = QueueState {
            info: QueueInfo {
                name: "upload".into(),
                visible: 500,
                sent_per_s: Some(12.0),
                deleted_per_s: Some(2.0),
                ..Default::default()
            },
            history: samples(&[(0.0, 500)]),
        };
        let (sev, why) = queue_verdict(&q, &cfg);
        assert_eq!(sev, Severity::Warning);
        assert_eq!(why, vec!["backlog growing 600/min".to_string()]);
    }

    #[test]
    fn throttled_gsi_makes_the_table_warn() {
        let cfg = AwsConfig::default();
        let t = TableInfo {
            name: "TileIndex".into(),
            status: "ACTIVE".into(),
            gsis: vec![crate::model::queues::GsiInfo {
                name: "by-chunk".into(),
                status: "ACTIVE".into(),
                capacity: Capacity {
                    write_throttled: Some(12.0),
                    ..Default::default()
                },
            }],
            ..Default::default()
        };
        let (sev, why) = table_verdict(&t, &cfg);
        assert_eq!(sev, Severity::Warning);
        assert_eq!(why, vec!["index by-chunk: 12 throttled requests/min".to_string()]);
    }

    #[test]
    fn sparkline_scales_to_its_range() {
        let s = samples(&[(0.0, 0), (1.0, 50), (2.0, 100)]);
        assert_eq!(sparkline(&s, 10), "▁▅█");
        assert_eq!(sparkline(&s, 2), "▁█");
    }
}
