//! Supervised tasks. A panic inside a poller or an action is caught where the task runs, written to
//! the log with its message, place and backtrace, and comes back as an error the pane shows
//! ([`INTERNAL_ERROR`]); the terminal and the screen are left alone. A panic anywhere else is a bug
//! the console cannot carry on from: the hook runs what the console registered (restore the
//! terminal) first, then prints as Rust does, and the console ends.

use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a pane shows for a task that panicked.
pub const INTERNAL_ERROR: &str = "internal error — see the log";

tokio::task_local! {
    /// Set while a supervised task runs: the panic hook reads it to tell whose panic it is.
    static SUPERVISED: &'static str;
}

/// A supervised task panicked (the panic is in the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panicked;

/// Runs `task` (named `what` in the log); a panic inside it comes back as `Err(Panicked)`.
/// Tasks `task` spawns are not covered: supervise them with their own `catch`.
pub async fn catch<F: Future>(what: &'static str, task: F) -> Result<F::Output, Panicked> {
    SUPERVISED
        .scope(what, AssertUnwindSafe(task).catch_unwind())
        .await
        .map_err(|_| Panicked)
}

/// The supervised task the current code runs in, if any.
pub fn current() -> Option<&'static str> {
    SUPERVISED.try_with(|what| *what).ok()
}

static BEFORE_PRINT: OnceLock<fn()> = OnceLock::new();
static UNSUPERVISED: AtomicBool = AtomicBool::new(false);

/// Installs the panic hook (once, at start): supervised panics go to the log only; any other
/// panic is logged, then `before_print` runs (set with [`before_printing_panics`]), then Rust's
/// own message is printed.
pub fn install_panic_hook() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let task = current();
            let backtrace = std::backtrace::Backtrace::force_capture();
            tracing::error!(task = task.unwrap_or("-"), "panic: {info}\n{backtrace}");
            if task.is_some() {
                return;
            }
            UNSUPERVISED.store(true, Ordering::SeqCst);
            if let Some(before) = BEFORE_PRINT.get() {
                before();
            }
            print(info);
        }));
    });
}

/// What must happen before a panic is printed (the console: give the terminal back).
pub fn before_printing_panics(f: fn()) {
    let _ = BEFORE_PRINT.set(f);
}

/// Whether a panic outside any supervised task has happened (the console then ends).
pub fn unsupervised_panic() -> bool {
    UNSUPERVISED.load(Ordering::SeqCst)
}

/// Test builds only: `OPSDECK_DEBUG_PANIC=loop` panics in the event loop at its first tick,
/// `=task` in a task outside supervision, `=poller` in each poller's first poll (see
/// `sources::runner::spawn_pollers`), so end-to-end tests can prove what a panic does to the terminal.
pub fn debug_inject_panic(place: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("OPSDECK_DEBUG_PANIC").is_ok_and(|v| v == place) {
        match place {
            "task" => {
                tokio::spawn(async { panic!("injected panic (OPSDECK_DEBUG_PANIC=task)") });
            }
            _ => panic!("injected panic (OPSDECK_DEBUG_PANIC={place})"),
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = place;
}

/// Test builds only: `OPSDECK_DEBUG_STUCK=loop` blocks the event loop's thread at its first tick,
/// for good, as crossterm does reading a terminal that hung up; end-to-end tests prove a
/// terminating signal still ends the console.
pub fn debug_inject_stuck() {
    #[cfg(debug_assertions)]
    if std::env::var("OPSDECK_DEBUG_STUCK").is_ok_and(|v| v == "loop") {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_inside_is_an_error_and_the_task_is_named_while_it_runs() {
        install_panic_hook();
        assert_eq!(catch("ok", async { 7 }).await, Ok(7));
        assert_eq!(catch("named", async { current() }).await, Ok(Some("named")));
        let panicked = catch("boom", async {
            let v: Vec<u8> = Vec::new();
            v[1]
        })
        .await;
        assert_eq!(panicked, Err(Panicked));
        assert!(!unsupervised_panic(), "a supervised panic is not the console's end");
        assert_eq!(current(), None);
    }
}
