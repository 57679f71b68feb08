//! The panes, as types: what each one keeps in the fleet, reads from the config and connects to.

pub use opsdeck_elasticsearch::Elasticsearch;
pub use opsdeck_queues::Queues;
