//! The terminal the console draws on: taken (raw mode, alternate screen, hidden cursor) and given
//! back on every way out. A quit, an error and a signal end the loop, which gives it back; a panic
//! outside supervised tasks gives it back from the panic hook before the message is printed; a
//! fault (`SIGSEGV`, `SIGBUS`, ..., `SIGABRT`) gives it back from a signal handler that does only
//! what is safe there (restore the saved terminal settings, write two escape sequences).

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::DefaultTerminal;
use ratatui::backend::CrosstermBackend;
use std::io::stdout;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the console holds the terminal now (whoever gives it back first clears it).
static HELD: AtomicBool = AtomicBool::new(false);

/// The terminal settings from before raw mode, and the descriptor they belong to, for the fault
/// handler (which must not take the lock crossterm keeps its copy behind).
static SAVED: OnceLock<(libc::c_int, libc::termios)> = OnceLock::new();

/// Leaves the alternate screen and shows the cursor.
const GIVE_BACK_SEQUENCE: &[u8] = b"\x1b[?1049l\x1b[?25h";

/// Takes the terminal: raw mode, alternate screen, cursor hidden.
pub fn take() -> std::io::Result<DefaultTerminal> {
    save_settings();
    install_fault_handlers();
    enable_raw_mode()?;
    HELD.store(true, Ordering::SeqCst);
    let taken = execute!(stdout(), EnterAlternateScreen, Hide)
        .and_then(|_| ratatui::Terminal::new(CrosstermBackend::new(stdout())));
    if taken.is_err() {
        give_back();
    }
    taken
}

/// Gives the terminal back as it was (once; later calls do nothing).
pub fn give_back() {
    if HELD.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(stdout(), LeaveAlternateScreen, Show);
    }
}

/// The descriptor crossterm puts in raw mode (stdin when it is a terminal, else /dev/tty), and
/// its settings now.
fn save_settings() {
    SAVED.get_or_init(|| {
        // SAFETY: isatty, open and tcgetattr only read state or open a descriptor we keep.
        unsafe {
            let fd = if libc::isatty(libc::STDIN_FILENO) == 1 {
                libc::STDIN_FILENO
            } else {
                libc::open(c"/dev/tty".as_ptr(), libc::O_RDWR | libc::O_NOCTTY)
            };
            let mut settings: libc::termios = std::mem::zeroed();
            if fd < 0 || libc::tcgetattr(fd, &mut settings) != 0 {
                return (-1, settings);
            }
            (fd, settings)
        }
    });
}

/// Gives the terminal back from a signal handler: only async-signal-safe calls (an atomic swap,
/// `tcsetattr`, `write`).
fn give_back_in_handler() {
    if !HELD.swap(false, Ordering::SeqCst) {
        return;
    }
    // SAFETY: both calls are async-signal-safe; the buffers are statics.
    unsafe {
        if let Some((fd, settings)) = SAVED.get()
            && *fd >= 0
        {
            libc::tcsetattr(*fd, libc::TCSANOW, settings);
        }
        libc::write(
            libc::STDOUT_FILENO,
            GIVE_BACK_SEQUENCE.as_ptr().cast(),
            GIVE_BACK_SEQUENCE.len(),
        );
    }
}

/// Ends the process with `sig` from any thread, giving the terminal back first: for a loop that
/// heard `sig` but cannot end (crossterm, reading a terminal that hung up, loops on its end of file
/// and never returns to the loop).
pub fn end_now(sig: libc::c_int) {
    give_back_in_handler();
    raise_default(sig);
}

/// Signals that end the process at once, with no chance for the loop to run: faults, `abort`, and
/// `SIGRTMAX` (one past what tokio can listen for).
fn immediate_signals() -> Vec<libc::c_int> {
    vec![
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGABRT,
        libc::SIGRTMAX(),
    ]
}

/// Every other signal whose default is to end the process and that a process may catch: the loop
/// listens for these, ends, gives the terminal back, then the signal is raised again.
pub fn graceful_signals() -> Vec<libc::c_int> {
    let mut signals = vec![
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGSTKFLT,
    ];
    signals.extend(libc::SIGRTMIN()..libc::SIGRTMAX());
    signals
}

/// What each immediate signal did before our handler (restored when it fires).
static PREVIOUS: OnceLock<Vec<(libc::c_int, libc::sigaction)>> = OnceLock::new();

fn install_fault_handlers() {
    PREVIOUS.get_or_init(|| {
        let mut previous = Vec::new();
        for sig in immediate_signals() {
            // SAFETY: sigaction with a zeroed struct, our handler and SA_SIGINFO | SA_ONSTACK (the
            // handler may run on a stack that overflowed, where Rust keeps an alternate one).
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_fatal_signal as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                if libc::sigaction(sig, &new, &mut old) == 0 {
                    previous.push((sig, old));
                }
            }
        }
        previous
    });
}

extern "C" fn on_fatal_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    give_back_in_handler();
    // SAFETY: sigaction and raise are async-signal-safe; `info` is the kernel's.
    unsafe {
        // Sent by someone (kill, abort): end with the default action. A real fault: let whatever
        // handled it before (Rust reports stack overflows) see it when the instruction runs again.
        let sent = info.is_null() || (*info).si_code <= 0;
        let previous = PREVIOUS.get().and_then(|p| p.iter().find(|(s, _)| *s == sig));
        match previous {
            Some((_, old)) if !sent => {
                libc::sigaction(sig, old, std::ptr::null_mut());
            }
            _ => {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
        }
    }
}

/// Ends the process with `sig` as its default action would (after the loop gave the terminal
/// back): the parent sees the process killed by that signal, as without opsdeck's handling.
pub fn raise_default(sig: libc::c_int) {
    // SAFETY: resetting a disposition and raising a signal.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
}
