//! Pillows against real peers: librdkafka's mock cluster (in-process Kafka protocol) and the
//! machine's PostgreSQL on 127.0.0.1:5432 (`OPSDECK_TEST_POSTGRES` overrides the connection string);
//! supervisord (Debian's `supervisor`) for process state.

#[path = "pillows/cli.rs"]
mod cli;
#[path = "pillows/common.rs"]
mod common;
#[path = "pillows/config.rs"]
mod config;
#[path = "pillows/demo.rs"]
mod demo;
#[path = "pillows/flows.rs"]
mod flows;
/// The real supervisord the hosts tests start, for verdicts from process state.
#[allow(dead_code)]
#[path = "hosts/harness.rs"]
mod harness;
#[path = "pillows/kafka.rs"]
mod kafka;
#[path = "pillows/postgres.rs"]
mod postgres;
#[path = "pillows/process_state.rs"]
mod process_state;
#[path = "pillows/views.rs"]
mod views;
