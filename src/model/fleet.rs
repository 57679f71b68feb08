//! Everything the console knows, one state per pane, and the updates pollers send, expanded from
//! the registry's list of panes.

use opsdeck_core::action::ActionPlan;
use opsdeck_core::alert::Alert;
use opsdeck_core::audit::AuditEntry;
use opsdeck_core::feed::FeedInfo;
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, PaneStates};
use opsdeck_core::registered::{Leftover, PollResult, Registered};
use opsdeck_core::source_error::{ErrorKind, SourceError};
use serde::Serialize;
use std::any::Any;
use std::time::SystemTime;

macro_rules! fleet {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
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

            /// Its error's kind when it is a failed poll (the runner backs off by it).
            pub fn error_kind(&self) -> Option<ErrorKind> {
                match self {
                    $( SourceUpdate::$Var(r) => r.error_kind(), )+
                    $( SourceUpdate::$SVar(_) => None, )*
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
            pub fn failed(pane: PaneId, error: SourceError) -> Option<Self> {
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

            /// Every pane's alerts, in registry order (unsorted; `analysis::alerts` orders them).
            pub(crate) fn pane_alerts(&self, config: &dyn PaneConfigs) -> Vec<Alert> {
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
    };
}
crate::registry::for_each_pane!(fleet);
