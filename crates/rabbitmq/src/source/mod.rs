//! The management HTTP API: a bounded client and the poll built on it.

pub mod client;
pub mod poll;

pub use client::{ApiError, Client, segment};
pub use poll::{poll, read_queue};
