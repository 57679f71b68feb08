//! Elasticsearch capability: parsers on real answers, the poller and actions against a stateful HTTP
//! test server (the demo's simulation, whose answers are checked against the real captures' shapes),
//! the guided procedures end to end, errors, and the pane's views.

mod elasticsearch {
    pub mod common;
    mod demo;
    mod doctor;
    mod leftovers;
    mod parse;
    mod poll;
    mod procedures;
    mod shapes;
    mod snapshot;
    mod tls;
    mod views;
}
