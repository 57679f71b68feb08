//! The console's event loop: terminal in, app update, effects out, draw. Pollers and actions run as
//! their own tasks and talk to the loop over channels, so nothing they do can freeze the screen.

use crate::actions::executor::{self, ActionEvent};
use crate::app::{App, Env, Event};
use crate::config::Config;
use crate::keymap::Keymap;
use crate::sources::Backends;
use crate::sources::runner::{Polled, failed, spawn_pollers};
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::demo::StandIns;
use opsdeck_core::effect::Effect;
use opsdeck_core::theme::Theme;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

pub mod terminal;

/// The signal that ended the console, raised again once the runtime is down (see [`exit_signal`]).
static EXIT_SIGNAL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The signal the console ended on, if it did: `main` ends the process with it, so the parent
/// sees what it would without opsdeck (killed by SIGTERM, core dumped by SIGQUIT).
pub fn exit_signal() -> Option<i32> {
    match EXIT_SIGNAL.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// What the console needs to start.
pub struct Console {
    pub config: Arc<Config>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub read_only: bool,
    /// Problems found while loading keymap/theme, shown as toasts at start.
    pub warnings: Vec<String>,
    /// The demo's stand-ins for real peers (none outside the demo).
    pub stand_ins: StandIns,
    /// `opsdeck demo --fleet xl`: generated pollers in place of any client (none otherwise).
    pub generated: Option<crate::demo::xl::Generated>,
}

/// Channels and handles the loop owns while it runs.
struct Wiring {
    backends: Backends,
    audit: AuditLog,
    polled_tx: mpsc::Sender<Polled>,
    action_tx: mpsc::UnboundedSender<ActionEvent>,
    saved_tx: mpsc::UnboundedSender<Result<std::path::PathBuf, String>>,
    refresh: Arc<Notify>,
    running: HashMap<u64, CancellationToken>,
    checks: crate::doctor::BackgroundChecks,
}

pub fn audit_log_for(config: &Config) -> AuditLog {
    let path = config
        .general
        .audit_log
        .clone()
        .unwrap_or_else(opsdeck_core::paths::default_audit_log);
    AuditLog::new(path, Identity::current())
}

/// Runs the full-screen console until the user quits or a signal arrives. The terminal is restored
/// on every way out: quit, error, any catchable terminating signal, a fault, and a panic (one in a
/// poller or an action is shown on its pane and the console goes on; any other ends it).
pub async fn run(console: Console) -> anyhow::Result<()> {
    let config = console.config.clone();
    let (backends, setup_errors) = match &console.generated {
        None => Backends::connect_with(&config, &console.stand_ins).await,
        Some(_) => (Backends::no_peers(crate::demo::xl::NOTHING_BEHIND), Vec::new()),
    };
    let (polled_tx, polled_rx) = mpsc::channel::<Polled>(256);
    let (action_tx, action_rx) = mpsc::unbounded_channel();
    let (saved_tx, saved_rx) = mpsc::unbounded_channel();
    let refresh = Arc::new(Notify::new());
    let stop_pollers = CancellationToken::new();

    let audit = audit_log_for(&config);
    let env = Env {
        config: config.clone(),
        keymap: console.keymap,
        theme: console.theme,
        read_only: console.read_only,
    };
    let (mut app, start_effects) = App::new(env, SystemTime::now());
    for e in setup_errors {
        if let Some(update) = failed(e.kind, e.as_poll_error()) {
            app.fleet.apply(SystemTime::now(), update);
        }
    }
    let pollers = match console.generated {
        None => backends.pollers(&config),
        Some(g) => g.start(&mut app.fleet),
    };
    spawn_pollers(pollers, polled_tx.clone(), refresh.clone(), stop_pollers.clone());
    match audit.read_recent(2_000) {
        Ok(entries) => app.fleet.audit.extend(entries),
        Err(e) => app.toast(
            format!("cannot read the audit log {}: {e}", audit.path().display()),
            opsdeck_core::view::Tone::Warn,
        ),
    }
    for w in console.warnings {
        app.toast(w, opsdeck_core::view::Tone::Warn);
    }

    let (checks_tx, checks_rx) = mpsc::unbounded_channel();
    let mut checks = crate::doctor::BackgroundChecks::new(config.clone(), backends.clone(), checks_tx);
    checks.start();
    let mut wiring = Wiring {
        checks,
        backends,
        audit,
        polled_tx,
        action_tx,
        saved_tx,
        refresh,
        running: HashMap::new(),
    };
    crate::supervise::before_printing_panics(terminal::give_back);
    let mut terminal = terminal::take()?;
    let result = async {
        let size = terminal.size()?;
        app.update(Event::Resize {
            width: size.width,
            height: size.height,
        });
        let mut quit = apply_effects(&mut wiring, start_effects);
        let mut inbox = Inbox {
            keys: EventStream::new(),
            polled: polled_rx,
            actions: action_rx,
            saved: saved_rx,
            checks: checks_rx,
            tick: tokio::time::interval(Duration::from_secs(1)),
            signals: Signals::new()?,
        };
        crate::supervise::debug_inject_panic("task");
        // Draw only when something changed, at most once per frame interval, and only after
        // everything already queued is folded in: a burst of 2,000 keys or log lines costs a few
        // frames, not one each, and an idle console draws once a second (the ages it shows).
        let mut dirty = true;
        let mut next_frame = tokio::time::Instant::now();
        while !quit {
            if crate::supervise::unsupervised_panic() {
                anyhow::bail!("opsdeck stopped after an internal error (the message is above, details in the log)");
            }
            if dirty && tokio::time::Instant::now() >= next_frame {
                app.settle();
                terminal.draw(|f| crate::ui::draw(f, &app))?;
                opsdeck_core::garbage::frame_drawn();
                dirty = false;
                next_frame = tokio::time::Instant::now() + FRAME_INTERVAL;
            }
            let event = tokio::select! {
                next = inbox.next() => next?,
                _ = tokio::time::sleep_until(next_frame), if dirty => continue,
            };
            let Some(event) = event else { continue };
            let ControlFlow::Continue(event) = event else { break };
            quit = handle(&mut app, &mut wiring, event);
            dirty = true;
            for _ in 0..DRAIN_LIMIT {
                if quit {
                    break;
                }
                match inbox.ready()? {
                    Some(ControlFlow::Continue(event)) => quit = handle(&mut app, &mut wiring, event),
                    Some(ControlFlow::Break(())) => quit = true,
                    None => break,
                }
            }
        }
        Ok(())
    }
    .await;
    stop_pollers.cancel();
    terminal::give_back();
    drop(terminal);
    result
}

/// The shortest time between two frames: a flood of updates draws at most this often.
const FRAME_INTERVAL: Duration = Duration::from_millis(8);

/// How many queued events are folded in before a frame is drawn regardless (a flood never starves
/// the screen).
const DRAIN_LIMIT: usize = 4_096;

/// What reaches the loop: the terminal's keys, pollers' and actions' results, the clock, signals.
struct Inbox {
    keys: EventStream,
    polled: mpsc::Receiver<Polled>,
    actions: mpsc::UnboundedReceiver<ActionEvent>,
    saved: mpsc::UnboundedReceiver<Result<std::path::PathBuf, String>>,
    checks: mpsc::UnboundedReceiver<Vec<opsdeck_core::doctor::Finding>>,
    tick: tokio::time::Interval,
    signals: Signals,
}

/// One thing that reached the loop: an event, or `Break` when the terminal closed its input or a
/// signal asks the console to end.
type Arrived = ControlFlow<(), Event>;

impl Inbox {
    /// Waits for the next thing to arrive; `None` for terminal input the app does not use.
    async fn next(&mut self) -> anyhow::Result<Option<Arrived>> {
        Ok(tokio::select! {
            ev = self.keys.next() => terminal_event(ev)?,
            Some(p) = self.polled.recv() => Some(Arrived::Continue(Event::Polled(p))),
            Some(a) = self.actions.recv() => Some(Arrived::Continue(Event::Action(a))),
            Some(s) = self.saved.recv() => Some(Arrived::Continue(Event::Saved(s))),
            Some(c) = self.checks.recv() => Some(Arrived::Continue(Event::Capabilities(c))),
            _ = self.tick.tick() => {
                crate::supervise::debug_inject_panic("loop");
                crate::supervise::debug_inject_stuck();
                Some(Arrived::Continue(Event::Tick(SystemTime::now())))
            }
            sig = self.signals.recv() => {
                tracing::info!(signal = sig, "ending on a signal");
                EXIT_SIGNAL.store(sig, std::sync::atomic::Ordering::SeqCst);
                Some(Arrived::Break(()))
            }
        })
    }

    /// What has already arrived, without waiting (keys first: the person waits for them); `None`
    /// when nothing has. The clock and signals wait for the next round.
    fn ready(&mut self) -> anyhow::Result<Option<Arrived>> {
        use futures::FutureExt;
        while let Some(ev) = self.keys.next().now_or_never() {
            if let Some(arrived) = terminal_event(ev)? {
                return Ok(Some(arrived));
            }
        }
        let event = if let Ok(p) = self.polled.try_recv() {
            Event::Polled(p)
        } else if let Ok(a) = self.actions.try_recv() {
            Event::Action(a)
        } else if let Ok(s) = self.saved.try_recv() {
            Event::Saved(s)
        } else if let Ok(c) = self.checks.try_recv() {
            Event::Capabilities(c)
        } else {
            return Ok(None);
        };
        Ok(Some(Arrived::Continue(event)))
    }
}

/// A terminal event as the app sees it; `None` for one it does not use (mouse, focus).
fn terminal_event(ev: Option<std::io::Result<TermEvent>>) -> anyhow::Result<Option<Arrived>> {
    Ok(match ev {
        Some(Ok(TermEvent::Key(k))) => Some(Arrived::Continue(Event::Key(k))),
        Some(Ok(TermEvent::Resize(width, height))) => Some(Arrived::Continue(Event::Resize { width, height })),
        Some(Ok(_)) => None,
        Some(Err(e)) => return Err(anyhow::anyhow!("terminal input failed: {e}")),
        None => Some(Arrived::Break(())),
    })
}

/// Folds one event into the app and carries out what it asks; returns true when it asked to quit.
fn handle(app: &mut App, wiring: &mut Wiring, event: Event) -> bool {
    if let Event::Action(ActionEvent::Finished { id, .. }) = &event {
        wiring.running.remove(id);
    }
    let effects = app.update(event);
    apply_effects(wiring, effects)
}

/// Carries out effects; returns true when the app asked to quit.
fn apply_effects(w: &mut Wiring, effects: Vec<Effect>) -> bool {
    let mut quit = false;
    for effect in effects {
        match effect {
            Effect::Quit => quit = true,
            Effect::Refresh => {
                w.refresh.notify_waiters();
                w.checks.start();
            }
            Effect::RunAction { id, plan } => {
                tracing::info!(action = %plan.action, target = %plan.target, "running confirmed action");
                let cancel = CancellationToken::new();
                w.running.insert(id, cancel.clone());
                executor::spawn(
                    id,
                    plan,
                    w.backends.clone(),
                    w.audit.clone(),
                    w.action_tx.clone(),
                    cancel,
                );
            }
            Effect::CancelAction { id } => {
                if let Some(token) = w.running.get(&id) {
                    token.cancel();
                }
            }
            Effect::Job(job) => crate::sources::run_job(job, &w.backends, &w.polled_tx),
            Effect::SaveFile { path, contents } => {
                let tx = w.saved_tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = std::fs::write(&path, contents)
                        .map(|_| path.clone())
                        .map_err(|e| format!("{}: {e}", path.display()));
                    let _ = tx.send(result);
                });
            }
        }
    }
    quit
}

/// How long the loop has to end after a terminating signal before the process is ended without it.
const STUCK_LOOP_GRACE: Duration = Duration::from_secs(5);

/// Every catchable signal whose default is to end the process ends the loop instead, so the
/// terminal is given back before the process ends with it (ctrl-c in raw mode is a key, not a signal).
struct Signals {
    rx: mpsc::UnboundedReceiver<i32>,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let (tx, rx) = mpsc::unbounded_channel();
        for sig in terminal::graceful_signals() {
            let mut stream = match signal(SignalKind::from_raw(sig)) {
                Ok(s) => s,
                // The classic ones must work; a real-time signal the platform lacks is no reason not to start.
                Err(e) if sig < libc::SIGRTMIN() => return Err(e),
                Err(_) => continue,
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    // The loop ends on it, and `main` raises it again. A loop that cannot (the
                    // terminal hung up: SIGHUP, and crossterm spinning on its end of file in the
                    // loop's thread) is ended from here, on a worker, rather than left spinning.
                    tokio::spawn(async move {
                        tokio::time::sleep(STUCK_LOOP_GRACE).await;
                        tracing::error!(signal = sig, "the loop did not end after the signal: ending now");
                        terminal::end_now(sig);
                    });
                    if tx.send(sig).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Self { rx })
    }

    async fn recv(&mut self) -> i32 {
        match self.rx.recv().await {
            Some(sig) => sig,
            None => std::future::pending().await,
        }
    }
}
