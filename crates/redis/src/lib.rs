//! opsdeck's Redis pane: per instance CPU as cores used (Redis runs commands on one thread),
//! memory against `maxmemory`, evictions, ops/s, clients, persistence, replication, the slow log
//! (with `KEYS` calls flagged) and latency spikes; the queues kept in Redis lists (Celery, Resque,
//! Sidekiq, named keys) with their trend and time to drain; and confirmed, verified actions
//! (BGSAVE, move a queue to a backup key, clear it, re-queue from a backup).
//!
//! Layers, each using only those above it in this list: `config` ← `model` ← `analysis` ←
//! `source` ← `actions` ← `demo`.

pub mod actions;
pub mod analysis;
pub mod config;
pub mod demo;
pub mod model;
pub mod source;
