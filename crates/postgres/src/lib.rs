//! opsdeck's PostgreSQL pane, phase A: its domain as a standalone crate (runbooks 001 and 004).
//!
//! One-way layers: [`config`] ← [`model`] ← [`analysis`] ← [`source`] ← [`actions`] ← [`demo`].
//! Per server: connections against `max_connections`, long queries and idle-in-transaction sessions,
//! blocking chains, replication lag, database sizes, and CommCare HQ's pillow errors; actions cancel a
//! query or terminate a backend, each checked against the session the plan saw and verified.

pub mod actions;
pub mod analysis;
pub mod config;
pub mod demo;
pub mod model;
pub mod source;
