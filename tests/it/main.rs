//! Every integration test but the end-to-end ones, in one binary: one link of the console and its
//! heavy dependencies (librdkafka, the AWS SDK) instead of one per area. Each area keeps its file
//! and folder (`tests/<area>.rs`, `tests/<area>/`) and runs on its own by name:
//! `cargo test --test it peers::` (or `hosts::`, `ui::`, `fuzz::`...).
//! The end-to-end tests (`tests/e2e.rs`, the real binary in tmux) are a binary of their own: they
//! time a terminal, and share the machine with nothing else of this run.

// Each area is the test binary it was (`tests/hosts.rs` holds `mod hosts { ... }`, and includes the
// shared helpers it needs as modules of its own), so its test names and snapshot names stay put.
#![allow(clippy::module_inception, clippy::duplicate_mod)]

#[path = "../actions.rs"]
mod actions;
#[path = "../config.rs"]
mod config;
#[path = "../degraded.rs"]
mod degraded;
#[path = "../demo_xl.rs"]
mod demo_xl;
mod doctor;
#[path = "../elasticsearch.rs"]
mod elasticsearch;
#[path = "../fuzz.rs"]
mod fuzz;
#[path = "../hosts.rs"]
mod hosts;
#[path = "../peers.rs"]
mod peers;
#[path = "../pillows.rs"]
mod pillows;
#[path = "../queues.rs"]
mod queues;
#[path = "../ui.rs"]
mod ui;
