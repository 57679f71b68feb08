//! Every configured source's connected clients and pollers, and the jobs views ask of them,
//! expanded from the registry's list of panes.

use super::runner::Polled;
use crate::config::Config;
use crate::model::fleet::SourceUpdate;
use opsdeck_core::demo::StandIns;
use opsdeck_core::effect::PaneJob;
use opsdeck_core::pane::{Pane, PaneBackends, PaneId, Poller, Sink, Source};
use opsdeck_core::registered::{PollResult, Registered, RegisteredSource};
use opsdeck_core::source_error::SourceError;
use std::any::Any;
use std::time::SystemTime;
use tokio::sync::mpsc;

macro_rules! clients {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
        /// Connected clients for every configured source, shared by pollers and actions (a field
        /// per config section).
        #[derive(Clone, Default)]
        pub struct Backends {
            $( pub $section: Option<<$ty as Source>::Backend>, )+
            /// Why no action can run: no peer stands behind any row (`None` but for a
            /// generated fleet). The executor still confirms and audits, then refuses.
            pub no_peers: Option<&'static str>,
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
                    no_peers: None,
                };
                (backends, errors)
            }

            /// Backends for a fleet nothing real stands behind: every action is refused with `why`.
            pub fn no_peers(why: &'static str) -> Backends {
                Backends { no_peers: Some(why), ..Backends::default() }
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
    };
}
crate::registry::for_each_pane!(clients);

/// A source that could not even be set up (bad CA file, unreadable key...): shown as that source's error.
#[derive(Debug, Clone)]
pub struct SetupError {
    pub kind: PaneId,
    pub error: String,
}

impl SetupError {
    /// As the source's failed poll: its config is refused (nothing was asked of the peer yet).
    pub fn as_poll_error(&self) -> SourceError {
        SourceError::refused(self.error.clone())
    }
}

/// A pane's poller as the runner drives it: its polls come back as its pane's [`SourceUpdate`].
pub trait PanePoller: Poller<SourceUpdate> {
    fn pane(&self) -> PaneId;
    /// Its pane's failed poll (a timeout, a panic).
    fn failed(&self, error: SourceError) -> SourceUpdate;
}

/// A pane's own poller, its updates wrapped into the pane's [`SourceUpdate`] variant.
struct Wrapped<P: RegisteredSource> {
    inner: Box<dyn Poller<P::Update>>,
    wrap: fn(P::Update) -> SourceUpdate,
}

impl<P: RegisteredSource> Poller<SourceUpdate> for Wrapped<P> {
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
    fn failed(&self, error: SourceError) -> SourceUpdate {
        (self.wrap)(PollResult::failed(error))
    }
}

fn wrapped<P: RegisteredSource>(
    pollers: Vec<Box<dyn Poller<P::Update>>>,
    wrap: fn(P::Update) -> SourceUpdate,
) -> Vec<Box<dyn PanePoller>> {
    pollers
        .into_iter()
        .map(|inner| Box::new(Wrapped::<P> { inner, wrap }) as Box<dyn PanePoller>)
        .collect()
}
