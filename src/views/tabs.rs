//! The tabs along the top, expanded from the registry's list of panes: the overview, every pane,
//! the audit log.

use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::registered::Registered;
use opsdeck_core::view::{PaneAction, View};

macro_rules! tabs {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
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
                    Tab::Overview => super::overview::root(),
                    $( Tab::$Var => <$ty as Registered>::root(), )+
                    $( Tab::$SVar => <$sty as Registered>::root(), )*
                    Tab::Audit => super::audit::root(),
                }
            }

            /// The pane-specific keymap actions it understands.
            pub fn actions(self) -> &'static [PaneAction] {
                match self {
                    Tab::Overview => super::overview::ACTIONS,
                    $( Tab::$Var => <$ty as Registered>::ACTIONS, )+
                    $( Tab::$SVar => <$sty as Registered>::ACTIONS, )*
                    Tab::Audit => super::audit::ACTIONS,
                }
            }
        }

        /// The keymap's `tab_<pane>` actions.
        pub const TAB_ACTIONS: &[(&str, &str)] = &[
            ("tab_overview", "overview pane"),
            $( (concat!("tab_", stringify!($field)), concat!(stringify!($field), " pane")), )+
            $( (concat!("tab_", stringify!($sfield)), concat!(stringify!($sfield), " pane")), )*
            ("tab_audit", "audit pane"),
        ];
    };
}
crate::registry::for_each_pane!(tabs);
