//! Remote log tails: a file (`tail -F`) or a supervisor program's output (`supervisorctl tail -f`).
//! A remote process does not die when the local ssh channel goes away (no PTY, no SIGHUP), so the
//! follower runs under a stdin watchdog: `cat` waits on our stdin and kills the follower when it
//! closes — when we stop the tail, when opsdeck exits, or when the connection drops.

use super::lines::Lines;
use super::supervisor::{self, SupervisorAction};
use super::transport::{HostTransport, Streaming};
use crate::model::logs::{LogEvent, TailState};
use opsdeck_core::exec::Cmd;
use opsdeck_core::logs::LogTarget;
use opsdeck_core::pane::Sink;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The watchdog script. Constant text: the command's words arrive as `"$@"`, each one quoted. `cat`
/// waits on our stdin (kept as fd 3: a background job's own stdin is /dev/null) and kills the
/// command when it closes; when the command ends by itself (a finished `du`), the script ends with
/// its status, so our reader sees the end of the output.
pub const WATCHDOG: &str = r#"exec 3<&0; "$@" 3<&- & p=$!; (cat <&3; kill "$p") >/dev/null 2>&1 & w=$!; exec 3<&-; wait "$p"; s=$?; kill "$w" 2>/dev/null; exit "$s""#;

/// `cmd`, run until it ends or its stdin closes.
pub fn watchdog(cmd: Cmd) -> Cmd {
    let words: Vec<String> = vec!["sh".into(), "-c".into(), WATCHDOG.into(), "opsdeck-watchdog".into()];
    cmd.prefixed(&words)
}

/// The first line `supervisorctl tail -f` prints, which is not part of the program's output.
const SUPERVISOR_BANNER: &str = "==> Press Ctrl-C to exit <==";

/// How one log is followed on its host.
#[derive(Debug, Clone)]
pub struct Follow {
    pub target: LogTarget,
    /// Lines of history a file tail starts with (supervisorctl always replays its last 1600 bytes).
    pub history: u32,
    /// The host's supervisor command template (`sudo -n supervisorctl {action} {program}`).
    pub supervisor: String,
}

impl Follow {
    /// The follower's command; `first` is false after a reconnect (no history replayed again).
    pub fn command(&self, first: bool) -> Result<Cmd, String> {
        let argv = match &self.target {
            LogTarget::File(path) => {
                let history = if first { self.history } else { 0 };
                vec![
                    "tail".into(),
                    "-n".into(),
                    history.to_string(),
                    "-F".into(),
                    "--".into(),
                    path.clone(),
                ]
            }
            LogTarget::Program(name) => supervisor::argv(&self.supervisor, SupervisorAction::Tail, Some(name))?,
        };
        Ok(watchdog(Cmd::Argv(argv)))
    }

    fn is_noise(&self, line: &str) -> bool {
        matches!(self.target, LogTarget::Program(_)) && line == SUPERVISOR_BANNER
    }
}

/// One run of a tail: its id, and which start of it this is (events carry both, so what a stopped
/// run says late is not taken for the run started after it).
#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub number: u64,
}

pub(super) async fn send_state(tx: &Sink<LogEvent>, run: &Run, state: TailState) -> bool {
    tx.send(LogEvent::State {
        id: run.id.clone(),
        run: run.number,
        state,
    })
    .await
}

/// Lines are sent in batches: one update per burst, not per line.
const BATCH_LINES: usize = 512;
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// Streams one tail until `cancel`; reconnects with backoff when the stream ends on its own.
/// Returns the tail's last state (Failed or Stopped), for the caller to send once it has marked
/// the tail ended — so a Start sent in answer to that state always starts a new run. `None`: the
/// receiver is gone.
pub async fn run(
    transport: Arc<HostTransport>,
    tail: Run,
    follow: Follow,
    tx: Sink<LogEvent>,
    cancel: CancellationToken,
) -> Option<TailState> {
    let mut failures = 0u32;
    let mut quick_exits = 0u32;
    let mut first = true;
    loop {
        if cancel.is_cancelled() {
            break;
        }
        let cmd = match follow.command(first) {
            Ok(cmd) => cmd,
            Err(e) => return Some(TailState::Failed(e)),
        };
        first = false;
        if !transport.tail_slot_free() {
            let why = format!(
                "waiting for a free tail slot on {} (at most {} at once; ssh.max_tails)",
                transport.name,
                transport.tail_limit()
            );
            if !send_state(&tx, &tail, TailState::Waiting(why)).await {
                return None;
            }
        }
        let started = tokio::select! {
            _ = cancel.cancelled() => break,
            s = transport.spawn(&cmd, true) => s,
        };
        let reason = match started {
            Ok(stream) => {
                if !send_state(&tx, &tail, TailState::Streaming).await {
                    return None;
                }
                let since = tokio::time::Instant::now();
                match pump(stream, &tail, &follow, &tx, &cancel).await {
                    Pumped::Cancelled => break,
                    Pumped::ReceiverGone => return None,
                    Pumped::Ended(why) if since.elapsed() < QUICK_EXIT => {
                        // A follower that ends at once (sudo refused, no such program) is not a lost
                        // connection: retrying for ever would only repeat its complaint.
                        quick_exits += 1;
                        if quick_exits >= QUICK_EXITS_TO_FAIL {
                            return Some(TailState::Failed(why));
                        }
                        why
                    }
                    Pumped::Ended(why) => {
                        (failures, quick_exits) = (0, 0);
                        why
                    }
                }
            }
            Err(e) => e,
        };
        failures = failures.saturating_add(1);
        let wait = super::transport::reconnect_backoff(failures);
        tracing::info!(tail = %tail.id, reason = %reason, "tail ended; retrying");
        if !send_state(&tx, &tail, TailState::Reconnecting(reason)).await {
            return None;
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    Some(TailState::Stopped)
}

/// A follower that ends sooner than this after starting ended "at once".
const QUICK_EXIT: Duration = Duration::from_secs(5);
/// After this many quick ends in a row, the tail fails (with the follower's last words).
const QUICK_EXITS_TO_FAIL: u32 = 3;

enum Pumped {
    Cancelled,
    ReceiverGone,
    Ended(String),
}

async fn pump(
    mut stream: Streaming,
    tail: &Run,
    follow: &Follow,
    tx: &Sink<LogEvent>,
    cancel: &CancellationToken,
) -> Pumped {
    let Some(stdout) = stream.stdout.take() else {
        stream.stop().await;
        return Pumped::Ended("no output pipe".into());
    };
    let mut out = Lines::new(stdout);
    let mut err = stream.stderr.take().map(Lines::new);
    let mut batch: Vec<String> = Vec::new();
    // The last thing the follower said: why it ended, when it does.
    let mut last_said: Option<String> = None;
    let mut tick = tokio::time::interval(BATCH_WAIT);
    let result = loop {
        tokio::select! {
            _ = cancel.cancelled() => break Pumped::Cancelled,
            line = out.next_line() => match line {
                Ok(Some(l)) if follow.is_noise(&l) => {}
                Ok(Some(l)) => {
                    last_said = Some(l.clone());
                    batch.push(l);
                    if batch.len() >= BATCH_LINES && !flush(tx, tail, &mut batch).await {
                        break Pumped::ReceiverGone;
                    }
                }
                Ok(None) => break Pumped::Ended(match last_said.take() {
                    Some(said) => format!("the follower ended: {said}"),
                    None => "the follower ended".into(),
                }),
                Err(e) => break Pumped::Ended(format!("reading the tail failed: {e}")),
            },
            line = async { match err.as_mut() { Some(e) => e.next_line().await, None => std::future::pending().await } } => match line {
                // tail's own complaints ("has become inaccessible") belong in the log view.
                Ok(Some(l)) => {
                    last_said = Some(l.clone());
                    batch.push(format!("⚠ {l}"));
                }
                _ => err = None,
            },
            _ = tick.tick() => {
                if !batch.is_empty() && !flush(tx, tail, &mut batch).await {
                    break Pumped::ReceiverGone;
                }
            }
        }
    };
    if !batch.is_empty() {
        let _ = flush(tx, tail, &mut batch).await;
    }
    drop(out);
    drop(err);
    stream.stop().await;
    result
}

async fn flush(tx: &Sink<LogEvent>, tail: &Run, batch: &mut Vec<String>) -> bool {
    let lines = std::mem::take(batch);
    tx.send(LogEvent::Lines {
        id: tail.id.clone(),
        run: tail.number,
        lines,
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(target: LogTarget) -> Follow {
        Follow {
            target,
            history: 10,
            supervisor: "sudo -n supervisorctl -c '/etc/my sup.conf' {action} {program}".into(),
        }
    }

    #[test]
    fn a_file_path_is_one_quoted_argument() {
        let c = follow(LogTarget::File("/var/log/a b'$(id).log".into()))
            .command(true)
            .unwrap();
        let Cmd::Argv(argv) = &c;
        assert_eq!(argv.last().unwrap(), "/var/log/a b'$(id).log");
        assert!(
            c.to_shell()
                .ends_with(r#"opsdeck-watchdog tail -n 10 -F -- '/var/log/a b'\''$(id).log'"#),
            "{}",
            c.to_shell()
        );
    }

    #[test]
    fn a_reconnect_replays_no_history() {
        let c = follow(LogTarget::File("/x.log".into())).command(false).unwrap();
        assert!(c.to_shell().contains("tail -n 0 -F"), "{}", c.to_shell());
    }

    #[test]
    fn a_program_is_followed_with_the_hosts_supervisor_template() {
        let c = follow(LogTarget::Program("es".into())).command(true).unwrap();
        assert!(
            c.to_shell()
                .ends_with("opsdeck-watchdog sudo -n supervisorctl -c '/etc/my sup.conf' tail -f es"),
            "{}",
            c.to_shell()
        );
        let bad = follow(LogTarget::Program("-x;reboot".into())).command(true);
        assert!(bad.is_err(), "{bad:?}");
    }

    #[test]
    fn only_a_program_tail_hides_supervisors_banner() {
        assert!(follow(LogTarget::Program("es".into())).is_noise(SUPERVISOR_BANNER));
        assert!(!follow(LogTarget::File("/x".into())).is_noise(SUPERVISOR_BANNER));
    }
}
