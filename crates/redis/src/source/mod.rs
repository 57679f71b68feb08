//! The client: RESP over TCP or TLS, the parsers of what the server answers, and one poll of an
//! instance as a batch of reads that each succeed or fail on their own.

pub mod conn;
pub mod parse;
pub mod poll;
pub mod queues;
pub mod resp;
pub mod tls;
