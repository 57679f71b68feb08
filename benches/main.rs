//! Every criterion benchmark, one binary (one link of the console) with a group per area:
//! `cargo bench` runs them all, `cargo bench -- pillows` one area's. `cargo test --all-targets`
//! runs each once, as a smoke test.

use criterion::criterion_main;

mod elasticsearch;
mod goals;
mod hosts;
mod pillows;
mod queues;

criterion_main!(
    goals::benches,
    pillows::benches,
    elasticsearch::benches,
    queues::benches,
    hosts::benches
);
