//! What a person would conclude from queues and tables: backlog trends, time to drain, how close
//! the oldest message is to being deleted by SQS (runbook: data lost at the retention period,
//! 14 days at most), dead letters, and throttled tables.

use crate::Queues;
use crate::config::AwsConfig;
use crate::model::{Capacity, QueueState, QueuesState, TableInfo};
use opsdeck_core::alert::{Alert, AlertTarget, Severity};
pub use opsdeck_core::backlog::{Drain, Trend, sparkline, trend};
use opsdeck_core::pane::{Pane, PaneConfigs};
use opsdeck_core::time::short_duration;
use std::time::Duration;

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
pub fn alerts(state: &QueuesState, config: &dyn PaneConfigs) -> Vec<Alert> {
    let cfg = config.of::<Queues>();
    let mut out = Vec::new();
    for q in &state.queues {
        let (sev, why) = queue_verdict(q, cfg);
        if sev > Severity::Ok {
            out.push(
                Alert::new(sev, Queues::ID, &q.info.name, why.join("; "))
                    .at(AlertTarget::row(Queues::ID, &q.info.url).in_view("queues")),
            );
        }
    }
    for t in &state.tables {
        let (sev, why) = table_verdict(t, cfg);
        if sev > Severity::Ok {
            out.push(
                Alert::new(sev, Queues::ID, format!("table {}", t.name), why.join("; ")).at(AlertTarget::row(
                    Queues::ID,
                    &t.name,
                )
                .in_view("tables")),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{QueueInfo, Sample};
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

    /// Ten minutes of 30 s polls along `shape`, then the last minute's counts.
    fn history(shape: impl Fn(f64) -> u64, last_minute: &[(f64, u64)]) -> VecDeque<Sample> {
        let mut points: Vec<(f64, u64)> = (0..18).map(|i| (i as f64 * 30.0, shape(i as f64 * 30.0))).collect();
        points.extend_from_slice(last_minute);
        samples(&points)
    }

    #[test]
    fn the_rate_now_agrees_with_the_last_minute_of_counts() {
        // The issue's `upload`: it had grown for ten minutes, then fell 2810 → 728 in 57 s. A
        // ten-minute least squares still says +10.9/s, growing; the counts say it is draining.
        let fell = history(
            |t| 200 + (t * 4.5) as u64,
            &[(543.0, 2810), (571.0, 1790), (600.0, 728)],
        );
        let t = trend(fell.iter());
        let now = t.net_rate.unwrap();
        assert!(now < 0.0, "fell 2810 → 728, yet the rate now is {now:+.1}");
        assert!(
            (now + (1790.0 - 728.0) / 29.0).abs() < 1e-9,
            "over the last 30 s: {now}"
        );
        assert!(
            t.trend_rate.unwrap() > 0.0,
            "the trend line still shows the ten minutes' growth"
        );
        assert!(
            matches!(t.drain, Drain::In(d) if d < Duration::from_secs(60)),
            "{:?}",
            t.drain
        );
        // And the other way: it had fallen for ten minutes, then rose 3077 → 3426 in the last minute.
        // The old window said -0.7/s, drained in an hour.
        let rose = history(
            |t| 3600 - (t * 1.0) as u64,
            &[(543.0, 3077), (571.0, 3250), (600.0, 3426)],
        );
        let t = trend(rose.iter());
        assert!(t.net_rate.unwrap() > 0.0, "{t:?}");
        assert!(t.trend_rate.unwrap() < 0.0, "{t:?}");
        assert_eq!(t.drain, Drain::Growing);
        let cfg = AwsConfig::default();
        let q = QueueState {
            info: QueueInfo {
                name: "upload".into(),
                visible: 3426,
                ..Default::default()
            },
            history: rose,
        };
        let (sev, why) = queue_verdict(&q, &cfg);
        assert_eq!(sev, Severity::Warning, "{why:?}");
        assert!(why[0].starts_with("backlog growing"), "{why:?}");
    }

    #[test]
    fn the_drain_estimate_is_the_slower_of_now_and_the_trend_line() {
        // Ten minutes of -1/s, then -10/s over the last 30 s: 300 left drain in 300 s, not 30 s.
        let s = history(|t| 1_170 - t as u64, &[(570.0, 600), (600.0, 300)]);
        let t = trend(s.iter());
        assert!((t.net_rate.unwrap() + 10.0).abs() < 1e-9, "{t:?}");
        match t.drain {
            Drain::In(d) => assert!(d > Duration::from_secs(60), "{d:?} promises more than the trend: {t:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn polls_further_apart_than_the_window_use_the_last_two_samples() {
        let s = samples(&[(0.0, 100), (120.0, 400), (240.0, 160)]);
        let t = trend(s.iter());
        assert!((t.net_rate.unwrap() + 2.0).abs() < 1e-9, "{t:?}");
        assert_eq!(t.drain, Drain::In(Duration::from_secs(80)));
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
            gsis: vec![crate::model::GsiInfo {
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
