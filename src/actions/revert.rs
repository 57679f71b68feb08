//! The revert of what remembered procedures left changed, asked of every pane in registry order.

use crate::config::Config;
use crate::model::Fleet;
use opsdeck_core::action::ActionPlan;
use opsdeck_core::registered::Registered;

macro_rules! revert {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
        impl Fleet {
            /// The revert of what `procedures` left changed: the first pane in registry order that
            /// has one of them as its own.
            pub fn revert(&self, config: &Config, procedures: &[&ActionPlan]) -> Result<ActionPlan, String> {
                $( if let Some(r) = <$ty as Registered>::revert(&self.$field, config, procedures) { return r; } )+
                $( if let Some(r) = <$sty as Registered>::revert(&self.$sfield, config, procedures) { return r; } )*
                Err("no setting is left changed".into())
            }
        }
    };
}
crate::registry::for_each_pane!(revert);
