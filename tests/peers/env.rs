//! Where the peers are, and names no other test uses.

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

/// The value of `var` (exported by `scripts/test` from `scripts/peers env`). When it is unset the test
/// fails under CI (`CI`, or `OPSDECK_REQUIRE_PEERS=1`): a real-peer test skipped there would be a silent
/// hole. For a developer running `cargo test` by hand it is `None` and the test returns, saying so on
/// the terminal itself (libtest hides what a passing test prints).
pub fn lookup(var: &str) -> Option<String> {
    if let Ok(v) = std::env::var(var)
        && !v.trim().is_empty()
    {
        return Some(v);
    }
    let hint = "start the peers (scripts/peers up kafka|opensearch [...]; eval \"$(scripts/peers env)\"), or run ./scripts/test";
    if required() {
        panic!("{var} is not set: {hint}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED, no real peer: {var} is not set ({hint})");
    None
}

fn required() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    set("CI") || set("OPSDECK_REQUIRE_PEERS")
}

/// `peer!("VAR")`: the variable's value, or return from the test (see [`lookup`]).
macro_rules! peer {
    ($var:literal) => {
        match $crate::peers::peers::env::lookup($var) {
            Some(v) => v,
            None => return,
        }
    };
}
pub(crate) use peer;

/// `prefix-PID-N`: unique in this run and across runs on one long-lived peer (with the time).
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() % 1_000_000_000)
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{micros}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}
