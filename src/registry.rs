//! THE list of panes, and nothing else: a leaf every layer reads. Each layer expands its own part
//! from the list with `for_each_pane!(its_macro)`, so no layer reaches another through the
//! registry: the config file's sections (`config::Config`), the fleet's states and the updates
//! pollers send (`model`), the connected clients and their pollers (`sources`), the tabs with their
//! views and keymap actions (`views`), and the demo (`demo`). Alerts, `snapshot` JSON, `check`
//! lines and the overview's rows read those. A pane lacking a piece (see `opsdeck_core::registered`)
//! does not compile.
//!
//! Adding a pane: its crate under `crates/`, its dependency line in `Cargo.toml`, and its line
//! here. Each line is `Variant(state field) in section: Type`: the tab/update variant, its field in
//! the fleet (its id, checked), and its config section (its `SECTION`, checked), which also names
//! its clients in `sources::Backends`. Panes without a section of their own are listed after,
//! served `by` the pane whose clients they use (the logs pane's tails run on the hosts' transport).

use opsdeck_core::pane::{Pane, Source};

/// Expands `$expand! { sources { … } served { … } }` with the list of panes.
#[rustfmt::skip] // One line per pane, indented as they always were: branches that add a pane merge.
macro_rules! for_each_pane {
    ($expand:ident) => { $expand! {
    sources {
        Pillows(pillows) in pillows: opsdeck_pillows::Pillows,
        Elasticsearch(elasticsearch) in elasticsearch: opsdeck_elasticsearch::Elasticsearch,
        Queues(queues) in aws: opsdeck_queues::Queues,
        Hosts(hosts) in ssh: opsdeck_hosts::Hosts,
        Redis(redis) in redis: opsdeck_redis::Redis,
        Postgres(postgres) in postgres: opsdeck_postgres::Postgres,
        Rabbitmq(rabbitmq) in rabbitmq: opsdeck_rabbitmq::Rabbitmq,
    }
    served {
        Logs(logs) by opsdeck_hosts::Hosts: opsdeck_hosts::Logs,
    }
    } };
}
pub(crate) use for_each_pane;

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

// Each line's names are its pane's own: the fleet field is the pane's id (its tab, its `tab_`
// action, its key in `snapshot` JSON), the section field its config section.
macro_rules! names_are_the_panes_own {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
        $(
            const _: () = assert!(same(stringify!($field), <$ty as Pane>::ID.name()));
            const _: () = assert!(same(stringify!($section), <$ty as Source>::SECTION));
        )+
        $( const _: () = assert!(same(stringify!($sfield), <$sty as Pane>::ID.name())); )*
    };
}
for_each_pane!(names_are_the_panes_own);
