//! The audit pane's entries and the log tails' lines.

use super::layout::LOG_FILES;
use super::{Size, mix};
use opsdeck_core::audit::{AuditEntry, AuditPhase};
use opsdeck_core::logs::LogSource;
use opsdeck_hosts::model::logs::LogEvent;
use std::time::{Duration, SystemTime};

/// `size.audit_entries` lines of a busy on-call month: intents and their outcomes, oldest first.
pub fn audit(size: &Size) -> Vec<AuditEntry> {
    const ACTIONS: [(&str, &str, &str); 5] = [
        (
            "elasticsearch.drain_node",
            "es-data-",
            "PUT /_cluster/settings {\"persistent\":{\"cluster.routing.allocation.exclude._name\":\"es-data-{}\"}}",
        ),
        (
            "hosts.restart_program",
            "pillowtop-",
            "supervisorctl restart commcare-hq-production-pillowtop-case-pillow-{}",
        ),
        (
            "queues.redrive_dlq",
            "hq-sms-outbound-",
            "sqs StartMessageMoveTask hq-sms-outbound-{}-dlq",
        ),
        (
            "hosts.remove_junk",
            "es-data-",
            "rm -f -- /var/lib/elasticsearch/java_pid{}.hprof",
        ),
        (
            "pillows.restart",
            "case-pillow-",
            "supervisorctl restart commcare-hq-production-pillowtop-case-pillow-{}",
        ),
    ];
    let start = 1_792_000_000u64;
    (0..size.audit_entries)
        .map(|i| {
            let n = i / 2;
            let (action, target, call) = ACTIONS[n % ACTIONS.len()];
            let k = (mix(&[n as u64]) % 40).to_string();
            let intent = i % 2 == 0;
            AuditEntry {
                time: opsdeck_core::time::rfc3339(
                    SystemTime::UNIX_EPOCH + Duration::from_secs(start + n as u64 * 257 + u64::from(!intent) * 4),
                ),
                phase: if intent {
                    AuditPhase::Intent
                } else {
                    AuditPhase::Outcome
                },
                action_id: format!("{}-{n}", 40_000 + n / 50),
                user: ["oncall", "skelly", "dmiller", "gherceg"][n % 4].into(),
                host: "jump-1".into(),
                action: action.into(),
                target: format!("{target}{k}"),
                call: call.replace("{}", &k),
                risk: if n % 5 == 0 { "high" } else { "medium" }.into(),
                result: match (intent, n % 23) {
                    (true, _) => "confirmed",
                    (false, 0) => "failed",
                    (false, 7) => "unverified",
                    _ => "succeeded",
                }
                .into(),
                detail: if intent {
                    String::new()
                } else {
                    "verified after 12s".into()
                },
            }
        })
        .collect()
}

/// The configured log files' first run and `size.log_lines` lines over them, as tails send them:
/// the last 40 lines a second up to `end`.
pub fn log_events(size: &Size, end: SystemTime) -> Vec<LogEvent> {
    const CHUNK: usize = 1_000;
    let mut events: Vec<LogEvent> = LOG_FILES
        .iter()
        .map(|(host, path)| LogEvent::Started {
            source: LogSource::file(host, path),
            run: 1,
            capacity: size.log_lines.max(1),
        })
        .collect();
    let mut line = 0usize;
    while line < size.log_lines {
        let file = (line / CHUNK) % LOG_FILES.len();
        let (host, path) = LOG_FILES[file];
        let lines = (line..(line + CHUNK).min(size.log_lines))
            .map(|n| log_line(file, n, end - Duration::from_millis((size.log_lines - n) as u64 * 25)))
            .collect();
        events.push(LogEvent::Lines {
            id: LogSource::file(host, path).id(),
            run: 1,
            lines,
        });
        line += CHUNK;
    }
    events
}

fn log_line(file: usize, n: usize, at: SystemTime) -> String {
    let at = opsdeck_core::time::rfc3339(at);
    let r = mix(&[n as u64]);
    match file {
        0 | 1 => format!(
            "10.0.{}.{} - - [{at}] \"{} /a/{}/api/case/v2/{} HTTP/1.1\" {} {} {}ms",
            r % 8,
            r % 250,
            if r.is_multiple_of(5) { "POST" } else { "GET" },
            ["icds", "ccs", "malawi", "demo"][(r % 4) as usize],
            r % 900_000,
            if r.is_multiple_of(97) { 502 } else { 200 },
            r % 40_000,
            r % 800
        ),
        2 => format!(
            "{at} INFO/ForkPoolWorker-{}] Task corehq.motech.repeaters.tasks.process_repeat_record[{:08x}] succeeded in {:.3}s",
            r % 16,
            r as u32,
            (r % 5_000) as f64 / 1000.0
        ),
        _ => format!(
            "{at} INFO pillowtop case-pillow: processed change {} (offset {}) in {}ms",
            r % 10_000_000,
            2_000_000 + n,
            r % 120
        ),
    }
}
