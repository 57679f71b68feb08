//! THE list of panes. Everything the console does for every pane is derived from it: the config
//! file's sections ([`Config`]), the fleet's states ([`Fleet`]) and the updates pollers send
//! ([`SourceUpdate`]), the connected clients ([`Backends`]) and their pollers, the tabs ([`Tab`])
//! with their views and keymap actions, alerts, `snapshot` JSON, `check` lines, the overview's rows
//! and the demo. A pane lacking a piece (see `opsdeck_core::registered`) does not compile.
//!
//! Adding a pane: its crate under `crates/`, its dependency line in `Cargo.toml`, and its line
//! here. Each line is `Variant(state field) in section: Type`: the tab/update variant, its field in
//! the fleet (its id, checked), and its config section (its `SECTION`, checked), which also names
//! its clients in [`Backends`]. Panes without a section of their own are listed after, served `by`
//! the pane whose clients they use (the logs pane's tails run on the hosts' transport).

use crate::config::CustomAction;
use crate::sources::runner::Polled;
use opsdeck_core::action::ActionPlan;
use opsdeck_core::alert::Alert;
use opsdeck_core::audit::AuditEntry;
use opsdeck_core::config::{ConfigIssue, GeneralConfig};
use opsdeck_core::demo::StandIns;
use opsdeck_core::effect::PaneJob;
use opsdeck_core::feed::FeedInfo;
use opsdeck_core::pane::{Pane, PaneBackends, PaneConfigs, PaneId, PaneStates, Sink, Source};
use opsdeck_core::registered::{Demo, Leftover, PollResult, Registered, RegisteredSource};
use opsdeck_core::view::{PaneAction, RowKind, View};
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::time::SystemTime;
use tokio::sync::mpsc;

/// Whether two names are the same, at compile time (the registry's checks of its own lines).
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

macro_rules! panes {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
        // Each line's names are its pane's own: the fleet field is the pane's id (its tab, its
        // `tab_` action, its key in `snapshot` JSON), the section field its config section.
        $(
            const _: () = assert!(same(stringify!($field), <$ty as Pane>::ID.name()));
            const _: () = assert!(same(stringify!($section), <$ty as Source>::SECTION));
        )+
        $( const _: () = assert!(same(stringify!($sfield), <$sty as Pane>::ID.name())); )*

        /// The whole config file. Every section is optional; an empty file is a console with nothing to poll.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Config {
            #[serde(default)]
            pub general: GeneralConfig,
            $(
                #[serde(default)]
                pub $section: <$ty as Source>::Config,
            )+
            /// Custom actions (like k9s plugins).
            #[serde(default)]
            pub actions: Vec<CustomAction>,
        }

        impl PaneConfigs for Config {
            fn section(&self, pane: PaneId) -> Option<&dyn Any> {
                $( if pane == <$ty as Pane>::ID { return Some(&self.$section); } )+
                None
            }
            fn section_mut(&mut self, pane: PaneId) -> Option<&mut dyn Any> {
                $( if pane == <$ty as Pane>::ID { return Some(&mut self.$section); } )+
                None
            }
            fn general(&self) -> &GeneralConfig {
                &self.general
            }
        }

        impl Config {
            /// Every pane's checks of its section (ranges, references to other sections).
            pub(crate) fn validate_sections(&self, issues: &mut Vec<ConfigIssue>) {
                $( <$ty as Source>::validate(&self.$section, self, issues); )+
            }
        }

        /// The sources a config enables, so their panes say "waiting" rather than "not configured".
        pub fn enabled_sources(config: &Config) -> Vec<PaneId> {
            let mut panes = Vec::new();
            $( if <$ty as RegisteredSource>::is_enabled(&config.$section) { panes.push(<$ty as Pane>::ID); } )+
            $(
                if <$server as RegisteredSource>::is_enabled((config as &dyn PaneConfigs).of::<$server>()) {
                    panes.push(<$sty as Pane>::ID);
                }
            )*
            panes
        }

        /// One poll's result (or what a client pushed), as it reaches the app.
        #[derive(Debug)]
        pub enum SourceUpdate {
            $( $Var(<$ty as Pane>::Update), )+
            $( $SVar(<$sty as Pane>::Update), )*
        }

        impl SourceUpdate {
            /// The pane it is for.
            pub fn pane(&self) -> PaneId {
                match self {
                    $( SourceUpdate::$Var(_) => <$ty as Pane>::ID, )+
                    $( SourceUpdate::$SVar(_) => <$sty as Pane>::ID, )*
                }
            }

            /// Whether it is a failed poll (the runner backs off).
            pub fn is_error(&self) -> bool {
                match self {
                    $( SourceUpdate::$Var(r) => r.is_error(), )+
                    $( SourceUpdate::$SVar(_) => false, )*
                }
            }

            /// The same, an error's text made safe to show.
            pub fn cleaned(self) -> Self {
                match self {
                    $( SourceUpdate::$Var(r) => SourceUpdate::$Var(r.cleaned()), )+
                    $( served @ SourceUpdate::$SVar(_) => served, )*
                }
            }

            /// The failed poll of `pane` (a timeout, a panic, clients that could not be set up);
            /// `None` when `pane` has no pollers.
            pub fn failed(pane: PaneId, error: String) -> Option<Self> {
                $( if pane == <$ty as Pane>::ID { return Some(SourceUpdate::$Var(PollResult::failed(error))); } )+
                None
            }
        }

        /// The whole fleet as last seen: every pane's state.
        #[derive(Debug, Clone, Default, Serialize)]
        pub struct Fleet {
            $( pub $field: <$ty as Pane>::State, )+
            $(
                #[serde(skip)]
                pub $sfield: <$sty as Pane>::State,
            )*
            #[serde(skip)]
            pub audit: Vec<AuditEntry>,
        }

        impl Fleet {
            /// Folds one update into the fleet.
            pub fn apply(&mut self, at: SystemTime, update: SourceUpdate) {
                match update {
                    $( SourceUpdate::$Var(u) => <$ty as Registered>::apply(&mut self.$field, at, u), )+
                    $( SourceUpdate::$SVar(u) => <$sty as Registered>::apply(&mut self.$sfield, at, u), )*
                }
            }

            /// Marks `pane` as configured: waiting for its first answer.
            pub fn enable(&mut self, pane: PaneId) {
                $( if pane == <$ty as Pane>::ID { <$ty as Registered>::enable(&mut self.$field); } )+
                $( if pane == <$sty as Pane>::ID { <$sty as Registered>::enable(&mut self.$sfield); } )*
            }

            /// The freshness of `pane`'s feed; `None` for a pane without one (logs).
            pub fn feed(&self, pane: PaneId) -> Option<FeedInfo<'_>> {
                $( if pane == <$ty as Pane>::ID { return <$ty as Registered>::feed(&self.$field); } )+
                $( if pane == <$sty as Pane>::ID { return <$sty as Registered>::feed(&self.$sfield); } )*
                None
            }

            /// Runs `action` when it is one of a pane's commands on its own state (see
            /// `Registered::command`); `None` when no pane has it.
            pub fn command(&mut self, action: &str, row: Option<&str>) -> Option<Result<(), String>> {
                $( if let Some(r) = <$ty as Registered>::command(&mut self.$field, action, row) { return Some(r); } )+
                $( if let Some(r) = <$sty as Registered>::command(&mut self.$sfield, action, row) { return Some(r); } )*
                None
            }

            /// Whether some pane remembers `plan` as a procedure that may leave things changed
            /// (see `Registered::touches`).
            pub fn touches(plan: &ActionPlan) -> bool {
                $( <$ty as Registered>::touches(plan) || )+ $( <$sty as Registered>::touches(plan) || )* false
            }

            /// What `procedures` left changed, every pane asked, in registry order.
            pub fn left_changed(&self, procedures: &[&ActionPlan]) -> Vec<Leftover> {
                let mut all = Vec::new();
                $( all.extend(<$ty as Registered>::left_changed(&self.$field, procedures)); )+
                $( all.extend(<$sty as Registered>::left_changed(&self.$sfield, procedures)); )*
                all
            }

            /// The revert of what `procedures` left changed: the first pane in registry order that
            /// has one of them as its own.
            pub fn revert(&self, config: &Config, procedures: &[&ActionPlan]) -> Result<ActionPlan, String> {
                $( if let Some(r) = <$ty as Registered>::revert(&self.$field, config, procedures) { return r; } )+
                $( if let Some(r) = <$sty as Registered>::revert(&self.$sfield, config, procedures) { return r; } )*
                Err("no setting is left changed".into())
            }

            /// Every pane's alerts, in registry order (unsorted).
            pub(crate) fn pane_alerts(&self, config: &Config) -> Vec<Alert> {
                let mut all = Vec::new();
                $( all.extend(<$ty as Registered>::alerts(&self.$field, self, config)); )+
                $( all.extend(<$sty as Registered>::alerts(&self.$sfield, self, config)); )*
                all
            }
        }

        impl PaneStates for Fleet {
            fn state(&self, pane: PaneId) -> Option<&dyn Any> {
                $( if pane == <$ty as Pane>::ID { return Some(&self.$field); } )+
                $( if pane == <$sty as Pane>::ID { return Some(&self.$sfield); } )*
                None
            }
        }

        /// The panes with pollers of their own, in registry order (the overview's rows, `check`'s
        /// "cannot poll" lines).
        pub const SOURCES: &[PaneId] = &[ $( <$ty as Pane>::ID, )+ ];

        /// Connected clients for every configured source, shared by pollers and actions (a field
        /// per config section).
        #[derive(Clone, Default)]
        pub struct Backends {
            $( pub $section: Option<<$ty as Source>::Backend>, )+
        }

        impl std::fmt::Debug for Backends {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut d = f.debug_struct("Backends");
                $( d.field(stringify!($section), &self.$section.is_some()); )+
                d.finish()
            }
        }

        impl PaneBackends for Backends {
            fn backend(&self, pane: PaneId) -> Option<&dyn Any> {
                $( if pane == <$ty as Pane>::ID { return self.$section.as_ref().map(|b| b as &dyn Any); } )+
                None
            }
        }

        impl Backends {
            /// Builds the clients for every enabled source. A source that cannot be set up is reported, not fatal.
            pub async fn connect(config: &Config) -> (Backends, Vec<SetupError>) {
                Self::connect_with(config, &StandIns::default()).await
            }

            /// [`Backends::connect`] with the demo's stand-ins for real peers.
            pub async fn connect_with(config: &Config, stand_ins: &StandIns) -> (Backends, Vec<SetupError>) {
                let mut errors = Vec::new();
                let backends = Backends {
                    $(
                        $section: <$ty as RegisteredSource>::connect(&config.$section, stand_ins)
                            .await
                            .unwrap_or_else(|error| {
                                errors.push(SetupError { kind: <$ty as Pane>::ID, error });
                                None
                            }),
                    )+
                };
                (backends, errors)
            }

            /// Every poller of every connected source.
            pub fn pollers(&self, config: &Config) -> Vec<Box<dyn PanePoller>> {
                let mut all = Vec::new();
                $(
                    if let Some(b) = &self.$section {
                        all.extend(wrapped::<$ty>(
                            <$ty as RegisteredSource>::pollers(b, &config.general),
                            SourceUpdate::$Var,
                        ));
                    }
                )+
                all
            }
        }

        /// The tabs along the top, in order (number keys jump to them): the overview, every pane,
        /// the audit log.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Tab {
            Overview,
            $( $Var, )+
            $( $SVar, )*
            Audit,
        }

        impl Tab {
            pub const ALL: [Tab; 2 + [$( stringify!($Var), )+ $( stringify!($SVar), )*].len()] = [
                Tab::Overview,
                $( Tab::$Var, )+
                $( Tab::$SVar, )*
                Tab::Audit,
            ];

            /// The pane's name: its tab label, its keymap mode and its `:` command.
            pub fn name(self) -> &'static str {
                match self {
                    Tab::Overview => "overview",
                    $( Tab::$Var => <$ty as Pane>::ID.name(), )+
                    $( Tab::$SVar => <$sty as Pane>::ID.name(), )*
                    Tab::Audit => "audit",
                }
            }

            /// The pane it shows; `None` for the overview and the audit log, which are the console's own.
            pub fn pane(self) -> Option<PaneId> {
                match self {
                    Tab::Overview | Tab::Audit => None,
                    $( Tab::$Var => Some(<$ty as Pane>::ID), )+
                    $( Tab::$SVar => Some(<$sty as Pane>::ID), )*
                }
            }

            pub fn index(self) -> usize {
                Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
            }

            pub fn root(self) -> Box<dyn View> {
                match self {
                    Tab::Overview => crate::ui::panes::overview::root(),
                    $( Tab::$Var => <$ty as Registered>::root(), )+
                    $( Tab::$SVar => <$sty as Registered>::root(), )*
                    Tab::Audit => crate::ui::panes::audit::root(),
                }
            }

            /// The pane-specific keymap actions it understands.
            pub fn actions(self) -> &'static [PaneAction] {
                match self {
                    Tab::Overview => crate::ui::panes::overview::ACTIONS,
                    $( Tab::$Var => <$ty as Registered>::ACTIONS, )+
                    $( Tab::$SVar => <$sty as Registered>::ACTIONS, )*
                    Tab::Audit => crate::ui::panes::audit::ACTIONS,
                }
            }
        }

        /// Hands a job one of its views asked for to its pane; what its clients push comes back
        /// through `polled`, as that pane's update.
        pub fn run_job(job: PaneJob, backends: &Backends, polled: &mpsc::Sender<Polled>) {
            $(
                let job = match job.take::<$ty>() {
                    Ok(job) => {
                        let updates = Sink::mapped(polled.clone(), |u| Polled { at: SystemTime::now(), update: SourceUpdate::$Var(u) });
                        return <$ty as Registered>::run_job(job, backends, updates);
                    }
                    Err(job) => job,
                };
            )+
            $(
                let job = match job.take::<$sty>() {
                    Ok(job) => {
                        let updates = Sink::mapped(polled.clone(), |u| Polled { at: SystemTime::now(), update: SourceUpdate::$SVar(u) });
                        return <$sty as Registered>::run_job(job, backends, updates);
                    }
                    Err(job) => job,
                };
            )*
            tracing::warn!(?job, "a job for a pane that is not registered");
        }

        /// Every pane's row kinds for custom actions, in tab order.
        pub fn pane_row_kinds() -> Vec<&'static RowKind> {
            let mut all = Vec::new();
            $( all.extend(<$ty as Registered>::ROW_KINDS); )+
            $( all.extend(<$sty as Registered>::ROW_KINDS); )*
            all
        }

        /// The keymap's `tab_<pane>` actions.
        pub const TAB_ACTIONS: &[(&str, &str)] = &[
            ("tab_overview", "overview pane"),
            $( (concat!("tab_", stringify!($field)), concat!(stringify!($field), " pane")), )+
            $( (concat!("tab_", stringify!($sfield)), concat!(stringify!($sfield), " pane")), )*
            ("tab_audit", "audit pane"),
        ];

        /// Starts every pane's part of the demo, in registry order (a later part may add to an
        /// earlier one's section: the pillows' host joins the hosts).
        pub async fn start_demo(ctx: &mut opsdeck_core::demo::DemoCtx<'_>) -> anyhow::Result<()> {
            $(
                <$ty as Demo>::start(ctx)
                    .await
                    .map_err(|e| anyhow::anyhow!("{} demo: {e}", <$ty as Pane>::ID))?;
            )+
            Ok(())
        }
    };
}

panes! {
    sources {
        Pillows(pillows) in pillows: opsdeck_pillows::Pillows,
        Elasticsearch(elasticsearch) in elasticsearch: opsdeck_elasticsearch::Elasticsearch,
        Queues(queues) in aws: opsdeck_queues::Queues,
        Hosts(hosts) in ssh: opsdeck_hosts::Hosts,
        Redis(redis) in redis: opsdeck_redis::Redis,
        Rabbitmq(rabbitmq) in rabbitmq: opsdeck_rabbitmq::Rabbitmq,
    }
    served {
        Logs(logs) by opsdeck_hosts::Hosts: opsdeck_hosts::Logs,
    }
}

/// A source that could not even be set up (bad CA file, unreadable key...): shown as that source's error.
#[derive(Debug, Clone)]
pub struct SetupError {
    pub kind: PaneId,
    pub error: String,
}

/// A pane's poller as the runner drives it: its polls come back as its pane's [`SourceUpdate`].
pub trait PanePoller: opsdeck_core::pane::Poller<SourceUpdate> {
    fn pane(&self) -> PaneId;
    /// Its pane's failed poll (a timeout, a panic).
    fn failed(&self, error: String) -> SourceUpdate;
}

/// A pane's own poller, its updates wrapped into the pane's [`SourceUpdate`] variant.
struct Wrapped<P: RegisteredSource> {
    inner: Box<dyn opsdeck_core::pane::Poller<P::Update>>,
    wrap: fn(P::Update) -> SourceUpdate,
}

impl<P: RegisteredSource> opsdeck_core::pane::Poller<SourceUpdate> for Wrapped<P> {
    fn interval(&self) -> std::time::Duration {
        self.inner.interval()
    }
    fn timeout(&self) -> std::time::Duration {
        self.inner.timeout()
    }
    fn poll(&mut self) -> futures::future::BoxFuture<'_, SourceUpdate> {
        Box::pin(async move { (self.wrap)(self.inner.poll().await) })
    }
}

impl<P: RegisteredSource> PanePoller for Wrapped<P> {
    fn pane(&self) -> PaneId {
        P::ID
    }
    fn failed(&self, error: String) -> SourceUpdate {
        (self.wrap)(PollResult::failed(error))
    }
}

fn wrapped<P: RegisteredSource>(
    pollers: Vec<Box<dyn opsdeck_core::pane::Poller<P::Update>>>,
    wrap: fn(P::Update) -> SourceUpdate,
) -> Vec<Box<dyn PanePoller>> {
    pollers
        .into_iter()
        .map(|inner| Box::new(Wrapped::<P> { inner, wrap }) as Box<dyn PanePoller>)
        .collect()
}
