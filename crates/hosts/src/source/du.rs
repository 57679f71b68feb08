//! `du` scans: the size of each child of one directory on a host, as a background job with
//! progress. The scan is a long-running stream like a tail (it takes a tail slot, never one the
//! polls need), runs under the stdin watchdog (stopping it ends it on the host), and its report
//! reaches the hosts pane with the next poll.

use super::transport::Streaming;
use super::{SshBackend, files, lines, tail};
use crate::model::DuReport;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The host's own `timeout` ends du first; ours follows a little later, for a host that cannot.
const LOCAL_GRACE: Duration = Duration::from_secs(5);
/// `timeout`'s exit codes when it ended the command (TERM, then KILL).
const TIMED_OUT: [i32; 2] = [124, 137];
/// Biggest children kept in a report.
const KEPT: usize = 50;

/// Where one scan is going: its directory, what it reports, when it must end.
struct Scan<'a> {
    dir: &'a str,
    timeout: Duration,
    deadline: Instant,
    progress: &'a (dyn Fn(String, Option<f64>) + Send + Sync),
    cancel: &'a CancellationToken,
}

/// How du's run ended, before its exit status is read.
enum Ended {
    /// Its output ended: it exited (the status says how).
    Output,
    Stopped(String),
}

/// What du said on stderr: how many complaints, and the last one.
#[derive(Default)]
struct Complaints {
    count: usize,
    last: String,
}

impl Complaints {
    fn add(&mut self, line: String) {
        self.count += 1;
        self.last = line;
    }
}

impl SshBackend {
    /// `du` of `dir`'s children on `host`, reporting progress as each child finishes. Exit 1 with
    /// entries (parts of the tree unreadable) is a partial report: `Ok`, with a note in `error`.
    pub async fn du(
        &self,
        host: &str,
        dir: &str,
        timeout: Duration,
        progress: &(dyn Fn(String, Option<f64>) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<DuReport, String> {
        let mut report = DuReport {
            path: dir.to_string(),
            running: true,
            scanned: 0,
            entries: Vec::new(),
            error: None,
            finished_at: None,
        };
        self.du_update(host, report.clone());
        let scan = Scan {
            dir,
            timeout,
            deadline: Instant::now() + timeout + LOCAL_GRACE,
            progress,
            cancel,
        };
        // Whatever happens, the report ends: the pane never shows a scan running for ever.
        let outcome = self.scan(host, &scan, &mut report).await;
        report.running = false;
        report.finished_at = Some(SystemTime::now());
        report.entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        report.entries.truncate(KEPT);
        if let Err(e) = &outcome {
            report.error = Some(e.clone());
        }
        self.du_update(host, report.clone());
        outcome.map(|_| report)
    }

    async fn scan(&self, host: &str, scan: &Scan<'_>, report: &mut DuReport) -> Result<(), String> {
        let t = self.transport(host)?.clone();
        let prefix = self.inner.config.files_prefix_of(host);
        let dir = scan.dir;
        // For the progress fraction; a scan without it still runs.
        let children = t
            .run(&files::count_children_command(dir).prefixed(prefix), t.command_timeout)
            .await
            .ok()
            .filter(|o| o.success())
            .map(|o| o.stdout.len() as u64);
        let cmd = tail::watchdog(files::du_command(dir, scan.timeout.as_secs()).prefixed(prefix));
        if !t.tail_slot_free() {
            (scan.progress)(
                format!(
                    "du {dir}: waiting for a free slot on {host} (tails and du scans: at most {} at once; ssh.max_tails)",
                    t.tail_limit()
                ),
                None,
            );
        }
        let mut stream = tokio::select! {
            _ = scan.cancel.cancelled() => return Err("stopped by the user".into()),
            _ = tokio::time::sleep_until(scan.deadline) => {
                return Err(format!("no free slot on {host} within {}", humantime::format_duration(scan.timeout)));
            }
            stream = t.spawn(&cmd, true) => stream?,
        };
        let mut complaints = Complaints::default();
        let ended = read(&mut stream, scan, children, report, &mut complaints, |r| {
            self.du_update(host, r.clone())
        })
        .await;
        let status = stream.stop().await;
        match ended {
            Ended::Stopped(why) => Err(why),
            Ended::Output => judge(status, !report.entries.is_empty(), &complaints, scan.timeout, report),
        }
    }
}

/// Reads du's lines (progress as each child finishes) and its complaints until its output ends,
/// the user stops it or the deadline passes. `snapshot` publishes the report now and then.
async fn read(
    stream: &mut Streaming,
    scan: &Scan<'_>,
    children: Option<u64>,
    report: &mut DuReport,
    complaints: &mut Complaints,
    snapshot: impl Fn(&DuReport),
) -> Ended {
    let Some(stdout) = stream.stdout.take() else {
        return Ended::Stopped("du has no output pipe".into());
    };
    let mut out = lines::Lines::new(stdout);
    // Read as they come: a scan of many unreadable directories must not block on a full pipe.
    let mut errors = stream.stderr.take().map(lines::Lines::new);
    let dir = scan.dir.trim_end_matches('/');
    let ended = loop {
        tokio::select! {
            _ = scan.cancel.cancelled() => break Ended::Stopped("stopped by the user".into()),
            _ = tokio::time::sleep_until(scan.deadline) => {
                break Ended::Stopped(format!("du did not finish within {}", humantime::format_duration(scan.timeout)));
            }
            line = out.next_line() => match line {
                Ok(Some(l)) => {
                    let Some((path, kib)) = files::parse_du_line(&l) else { continue };
                    report.scanned += 1;
                    if path.trim_end_matches('/') != dir {
                        report.entries.push((path.clone(), kib));
                    }
                    let fraction = children.filter(|c| *c > 0).map(|c| (report.scanned as f64 / c as f64).min(1.0));
                    (scan.progress)(format!("du {}: {} entries, last {path}", scan.dir, report.scanned), fraction);
                    if report.scanned.is_multiple_of(16) {
                        snapshot(report);
                    }
                }
                Ok(None) => break Ended::Output,
                Err(e) => break Ended::Stopped(format!("reading du output: {e}")),
            },
            line = async { match errors.as_mut() { Some(e) => e.next_line().await, None => std::future::pending().await } } => match line {
                Ok(Some(l)) => complaints.add(l),
                _ => errors = None,
            },
        }
    };
    // Its output ended: what it still has to say on stderr comes at once (it has exited).
    if let (Ended::Output, Some(e)) = (&ended, errors.as_mut()) {
        while let Ok(Ok(Some(l))) = tokio::time::timeout(Duration::from_secs(2), e.next_line()).await {
            complaints.add(l);
        }
    }
    ended
}

/// What du's exit says about a scan whose output ended. Exit 1 is du's "could not read some of
/// the tree": what it measured counts, with a note (or, with nothing measured, its complaint is
/// the answer); `timeout` ending it is a timeout; anything else failed.
fn judge(
    status: Option<i32>,
    measured: bool,
    complaints: &Complaints,
    timeout: Duration,
    report: &mut DuReport,
) -> Result<(), String> {
    let said = if complaints.last.is_empty() {
        String::new()
    } else {
        format!(": {}", complaints.last)
    };
    match status {
        Some(0) => Ok(()),
        Some(1) if measured => {
            report.error = Some(format!(
                "partial: du could not read {} item(s){said}; ssh.files_prefix can run it with sudo",
                complaints.count
            ));
            Ok(())
        }
        Some(code) if TIMED_OUT.contains(&code) => Err(format!(
            "du did not finish within {}",
            humantime::format_duration(timeout)
        )),
        Some(code) => Err(format!("du failed (exit {code}){said}")),
        None => Err(format!("du was killed{said}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(status: Option<i32>, measured: bool) -> (Result<(), String>, Option<String>) {
        let mut report = DuReport {
            path: "/d".into(),
            running: true,
            scanned: 0,
            entries: Vec::new(),
            error: None,
            finished_at: None,
        };
        let complaints = Complaints {
            count: 2,
            last: "du: cannot read directory '/d/x': Permission denied".into(),
        };
        let r = judge(status, measured, &complaints, Duration::from_secs(60), &mut report);
        (r, report.error)
    }

    #[test]
    fn exit_codes_say_partial_timed_out_or_failed() {
        assert_eq!(judged(Some(0), true), (Ok(()), None));
        let (r, note) = judged(Some(1), true);
        assert!(
            r.is_ok()
                && note
                    .unwrap()
                    .starts_with("partial: du could not read 2 item(s): du: cannot read")
        );
        assert!(judged(Some(1), false).0.unwrap_err().contains("Permission denied"));
        for code in TIMED_OUT {
            assert_eq!(judged(Some(code), true).0.unwrap_err(), "du did not finish within 1m");
        }
        assert!(judged(Some(2), true).0.unwrap_err().starts_with("du failed (exit 2)"));
        assert!(judged(None, true).0.unwrap_err().starts_with("du was killed"));
    }
}
