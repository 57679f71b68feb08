//! What a pane must provide to be listed in the console's registry (the `opsdeck` package's
//! `registry.rs`): its tab's root view and keymap actions, how its updates fold into its state, its
//! freshness and alerts; a pane with a config section also how it connects, polls and fails. Every
//! item is required: a pane that forgets one does not compile, and nothing above matches on pane
//! names.

use crate::action::ActionPlan;
use crate::alert::Alert;
use crate::config::GeneralConfig;
use crate::demo::{DemoCtx, StandIns};
use crate::feed::FeedInfo;
use crate::pane::{Pane, PaneBackends, PaneConfigs, PaneStates, Poller, Sink, Source};
use crate::source_error::{ErrorKind, SourceError};
use crate::view::{PaneAction, RowKind, View};
pub use futures::future::BoxFuture;
use serde::Serialize;
use std::time::SystemTime;

/// A pane as the console shows it.
pub trait Registered: Pane<State: Clone + std::fmt::Debug> {
    /// The pane-specific keymap actions its views understand (for the keymap's catalog and help).
    const ACTIONS: &'static [PaneAction];

    /// The row kinds of its views a custom action can be scoped to (`pillows.partition`), with
    /// the `{{vars}}` each fills.
    const ROW_KINDS: &'static [RowKind];

    /// Its tab's top view.
    fn root() -> Box<dyn View>;

    /// Marks its state as configured: "waiting for the first answer" rather than "not configured".
    fn enable(state: &mut Self::State);

    /// Folds one update (a poll's result, what a client pushed) into its state.
    fn apply(state: &mut Self::State, at: SystemTime, update: Self::Update);

    /// Its freshness (for the status line and the overview); `None` when it has no feed (logs).
    fn feed(state: &Self::State) -> Option<FeedInfo<'_>>;

    /// What a person would conclude from its state (other panes' states and sections at hand).
    fn alerts(state: &Self::State, fleet: &dyn PaneStates, config: &dyn PaneConfigs) -> Vec<Alert>;

    /// A keymap action that changes its own state (`acknowledge_departure` of the selected row):
    /// `None` when `action` is not one of its commands, else whether it applied (why not, in words).
    fn command(state: &mut Self::State, action: &str, row: Option<&str>) -> Option<Result<(), String>>;

    /// Carries out a job its views asked for (start or stop a log tail) with the clients at hand;
    /// what the clients then push reaches the app through `updates`. (`Job = Infallible`: none.)
    fn run_job(job: Self::Job, backends: &dyn PaneBackends, updates: Sink<Self::Update>);

    /// Whether `plan` (if one of its own) changes things on its peers that it puts back only when
    /// it completes (a guided procedure): the app remembers such a plan until it succeeds or
    /// nothing it changed is left, and a revert waits while it runs.
    fn touches(plan: &ActionPlan) -> bool;

    /// What the remembered `procedures` (any pane's, oldest first) left changed on its peers, as
    /// its state shows it: the quit dialog lists these and offers their revert.
    fn left_changed(state: &Self::State, procedures: &[&ActionPlan]) -> Vec<Leftover>;

    /// The confirmed, audited action that puts back what [`Registered::left_changed`] lists;
    /// `None` when none of `procedures` is its own.
    fn revert(
        state: &Self::State,
        config: &dyn PaneConfigs,
        procedures: &[&ActionPlan],
    ) -> Option<Result<ActionPlan, String>>;
}

/// One thing a procedure changed and did not put back, as the quit dialog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// What kind of thing it is, for the dialog's heading ("cluster setting").
    pub kind: &'static str,
    /// The thing, now and before (`cluster.routing.allocation.enable = none (was all)`).
    pub what: String,
}

/// A pane with a config section, clients and pollers of its own.
pub trait RegisteredSource: Registered + Source<State: Serialize, Update: PollResult> {
    /// Whether its section configures anything to poll.
    fn is_enabled(config: &Self::Config) -> bool;

    /// Its clients for `config` (no network I/O yet), with the demo's `stand_ins` for real peers
    /// (none outside the demo); `None` when the section enables nothing, an error when they cannot
    /// be set up (a bad CA file).
    fn connect<'a>(
        config: &'a Self::Config,
        stand_ins: &'a StandIns,
    ) -> BoxFuture<'a, Result<Option<Self::Backend>, String>>;

    /// Its pollers, on `general.refresh` unless its section says otherwise.
    fn pollers(backend: &Self::Backend, general: &GeneralConfig) -> Vec<Box<dyn Poller<Self::Update>>>;
}

/// A pane's part of the built-in demo fleet (`opsdeck demo`): starts its simulated peers and fills
/// in its config section.
pub trait Demo: Pane {
    fn start<'a>(demo: &'a mut DemoCtx<'_>) -> BoxFuture<'a, Result<(), DemoError>>;
}

/// Why a part of the demo could not start.
pub type DemoError = Box<dyn std::error::Error + Send + Sync>;

/// A poll's result as the runner handles it without knowing the pane: an error made from a
/// timeout or a panic, its kind read for backoff, and made safe to show.
pub trait PollResult: Sized {
    fn failed(error: SourceError) -> Self;
    /// The kind of its error; `None` for a poll that answered.
    fn error_kind(&self) -> Option<ErrorKind>;
    /// The same, its error's text (often the far side's own words) made safe for a terminal.
    fn cleaned(self) -> Self;
}

impl<T> PollResult for Result<T, SourceError> {
    fn failed(error: SourceError) -> Self {
        Err(error)
    }
    fn error_kind(&self) -> Option<ErrorKind> {
        self.as_ref().err().map(|e| e.kind)
    }
    fn cleaned(self) -> Self {
        self.map_err(|e| SourceError {
            message: crate::text::clean_owned(e.message),
            ..e
        })
    }
}

/// The items of [`Registered`] that every pane whose state is a `Feed` of its polls writes the
/// same way: `enable` (waiting for its first answer), `apply` (a poll into the feed), `feed` (its
/// freshness). Use inside the `impl Registered`.
#[macro_export]
macro_rules! feed_state {
    () => {
        fn enable(state: &mut Self::State) {
            *state = $crate::feed::Feed::waiting();
        }
        fn apply(state: &mut Self::State, at: ::std::time::SystemTime, update: Self::Update) {
            state.apply(at, update);
        }
        fn feed(state: &Self::State) -> Option<$crate::feed::FeedInfo<'_>> {
            Some(state.info())
        }
    };
}

/// `alerts` of a pane whose state is a [`crate::feed::Feed`]: `$alerts(data, its section)` on the
/// last good data, none before any. Use inside the `impl Registered`.
#[macro_export]
macro_rules! feed_alerts {
    ($alerts:path) => {
        fn alerts(
            state: &Self::State,
            _fleet: &dyn $crate::pane::PaneStates,
            config: &dyn $crate::pane::PaneConfigs,
        ) -> Vec<$crate::alert::Alert> {
            state
                .data
                .as_ref()
                .map(|s| $alerts(s, config.of::<Self>()))
                .unwrap_or_default()
        }
    };
}

/// `command` and `run_job` of a pane with no commands on its state and no jobs (`Job =
/// Infallible`). Use inside the `impl Registered`.
#[macro_export]
macro_rules! no_commands_or_jobs {
    () => {
        fn command(_state: &mut Self::State, _action: &str, _row: Option<&str>) -> Option<Result<(), String>> {
            None
        }
        fn run_job(
            job: Self::Job,
            _backends: &dyn $crate::pane::PaneBackends,
            _updates: $crate::pane::Sink<Self::Update>,
        ) {
            match job {}
        }
    };
}

/// `touches`, `left_changed` and `revert` of a pane whose actions leave nothing changed behind
/// them. Use inside the `impl Registered`.
#[macro_export]
macro_rules! no_leftovers {
    () => {
        fn touches(_plan: &$crate::action::ActionPlan) -> bool {
            false
        }
        fn left_changed(
            _state: &Self::State,
            _procedures: &[&$crate::action::ActionPlan],
        ) -> Vec<$crate::registered::Leftover> {
            Vec::new()
        }
        fn revert(
            _state: &Self::State,
            _config: &dyn $crate::pane::PaneConfigs,
            _procedures: &[&$crate::action::ActionPlan],
        ) -> Option<Result<$crate::action::ActionPlan, String>> {
            None
        }
    };
}

/// `impl Demo for $pane` from the pane's `start(&mut DemoCtx) -> anyhow::Result<()>`.
#[macro_export]
macro_rules! demo_from {
    ($pane:ty, $start:path) => {
        impl $crate::registered::Demo for $pane {
            fn start<'a>(
                ctx: &'a mut $crate::demo::DemoCtx<'_>,
            ) -> $crate::registered::BoxFuture<'a, Result<(), $crate::registered::DemoError>> {
                Box::pin(async move { $start(ctx).await.map_err(Into::into) })
            }
        }
    };
}
