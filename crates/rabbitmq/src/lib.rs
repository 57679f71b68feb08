//! opsdeck's Celery-on-RabbitMQ pane, through the management HTTP API: per queue the ready and
//! unacknowledged messages, consumers, publish and deliver rates and idle time (Celery's
//! housekeeping queues told apart); per node the memory and disk alarms, file descriptors and
//! whether it runs; the cluster's totals; and a confirmed, verified purge.
//!
//! Layers, each using only those above it in this list: `config` ← `model` ← `analysis` ←
//! `source` ← `actions` ← `demo`.

pub mod actions;
pub mod analysis;
pub mod config;
pub mod demo;
pub mod model;
pub mod shim;
pub mod source;
