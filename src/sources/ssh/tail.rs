//! Remote log tails. A remote process does not die when the local ssh channel goes away (no PTY, no
//! SIGHUP), so `tail -F` runs under a stdin watchdog: `cat` waits on our stdin and kills the tail when
//! it closes — when we stop the tail, when opsdeck exits, or when the connection drops.

use super::transport::{Cmd, HostTransport, Streaming};
use crate::model::fleet::SourceUpdate;
use crate::model::logs::{LogEvent, TailState};
use crate::sources::runner::Polled;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The watchdog script. Constant text: the path and line count arrive as `$1`/`$2`, quoted.
pub const WATCHDOG: &str =
    r#"tail -n "$2" -F -- "$1" & p=$!; cat >/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; exit 0"#;

/// The command that tails `path` until its stdin closes.
pub fn watchdog(path: &str, lines: u32) -> Cmd {
    Cmd::Argv(vec![
        "sh".into(),
        "-c".into(),
        WATCHDOG.into(),
        "opsdeck-tail".into(),
        path.to_string(),
        lines.to_string(),
    ])
}

/// Stable id of a tail (`host:path`).
pub fn tail_id(host: &str, path: &str) -> String {
    format!("{host}:{path}")
}

fn event(id: &str, e: LogEvent) -> Polled {
    let _ = id;
    Polled {
        at: SystemTime::now(),
        update: SourceUpdate::Logs(e),
    }
}

async fn send_state(tx: &mpsc::Sender<Polled>, id: &str, state: TailState) -> bool {
    tx.send(event(
        id,
        LogEvent::State {
            id: id.to_string(),
            state,
        },
    ))
    .await
    .is_ok()
}

/// Lines are sent in batches: one update per burst, not per line.
const BATCH_LINES: usize = 512;
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// Streams one tail until `cancel`; reconnects with backoff when the stream ends on its own.
pub async fn run(
    transport: Arc<HostTransport>,
    id: String,
    path: String,
    lines: u32,
    tx: mpsc::Sender<Polled>,
    cancel: CancellationToken,
) {
    let mut failures = 0u32;
    let mut first = true;
    loop {
        if cancel.is_cancelled() {
            break;
        }
        // After a reconnect, do not replay history already shown.
        let history = if first { lines } else { 0 };
        first = false;
        let cmd = watchdog(&path, history);
        let started = tokio::select! {
            _ = cancel.cancelled() => break,
            s = transport.spawn(&cmd, true) => s,
        };
        let reason = match started {
            Ok(stream) => {
                failures = 0;
                if !send_state(&tx, &id, TailState::Streaming).await {
                    return;
                }
                match pump(stream, &id, &tx, &cancel).await {
                    Pumped::Cancelled => break,
                    Pumped::ReceiverGone => return,
                    Pumped::Ended(why) => why,
                }
            }
            Err(e) => e,
        };
        failures = failures.saturating_add(1);
        let wait = super::transport::reconnect_backoff(failures);
        tracing::info!(tail = %id, reason = %reason, "tail ended; retrying");
        if !send_state(&tx, &id, TailState::Reconnecting(reason)).await {
            return;
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    let _ = send_state(&tx, &id, TailState::Stopped).await;
}

enum Pumped {
    Cancelled,
    ReceiverGone,
    Ended(String),
}

async fn pump(mut stream: Streaming, id: &str, tx: &mpsc::Sender<Polled>, cancel: &CancellationToken) -> Pumped {
    let Some(stdout) = stream.stdout.take() else {
        stream.stop().await;
        return Pumped::Ended("no output pipe".into());
    };
    let mut out = BufReader::new(stdout).lines();
    let mut err = stream.stderr.take().map(|e| BufReader::new(e).lines());
    let mut batch: Vec<String> = Vec::new();
    let mut tick = tokio::time::interval(BATCH_WAIT);
    let result = loop {
        tokio::select! {
            _ = cancel.cancelled() => break Pumped::Cancelled,
            line = out.next_line() => match line {
                Ok(Some(l)) => {
                    batch.push(l);
                    if batch.len() >= BATCH_LINES && !flush(tx, id, &mut batch).await {
                        break Pumped::ReceiverGone;
                    }
                }
                Ok(None) => break Pumped::Ended("the remote tail ended".into()),
                Err(e) => break Pumped::Ended(format!("reading the tail failed: {e}")),
            },
            line = async { match err.as_mut() { Some(e) => e.next_line().await, None => std::future::pending().await } } => match line {
                // tail's own complaints ("has become inaccessible") belong in the log view.
                Ok(Some(l)) => batch.push(format!("⚠ {l}")),
                _ => err = None,
            },
            _ = tick.tick() => {
                if !batch.is_empty() && !flush(tx, id, &mut batch).await {
                    break Pumped::ReceiverGone;
                }
            }
        }
    };
    if !batch.is_empty() {
        let _ = flush(tx, id, &mut batch).await;
    }
    drop(out);
    drop(err);
    stream.stop().await;
    result
}

async fn flush(tx: &mpsc::Sender<Polled>, id: &str, batch: &mut Vec<String>) -> bool {
    let lines = std::mem::take(batch);
    tx.send(event(
        id,
        LogEvent::Lines {
            id: id.to_string(),
            lines,
        },
    ))
    .await
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_passes_the_path_as_an_argument() {
        let c = watchdog("/var/log/a b'$(id).log", 10);
        let Cmd::Argv(argv) = &c else { panic!() };
        assert_eq!(argv[4], "/var/log/a b'$(id).log");
        assert!(c.to_shell().ends_with(r#"opsdeck-tail '/var/log/a b'\''$(id).log' 10"#));
    }
}
