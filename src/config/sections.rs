//! The config file's sections, one per pane with pollers, expanded from the registry's list.

use super::CustomAction;
use opsdeck_core::config::{ConfigIssue, GeneralConfig};
use opsdeck_core::pane::{Pane, PaneConfigs, PaneId, Source};
use opsdeck_core::registered::{Registered, RegisteredSource};
use opsdeck_core::view::RowKind;
use serde::Deserialize;
use std::any::Any;

macro_rules! sections {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
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

        /// Every pane's row kinds for custom actions, in tab order.
        pub(crate) fn pane_row_kinds() -> Vec<&'static RowKind> {
            let mut all = Vec::new();
            $( all.extend(<$ty as Registered>::ROW_KINDS); )+
            $( all.extend(<$sty as Registered>::ROW_KINDS); )*
            all
        }
    };
}
crate::registry::for_each_pane!(sections);
