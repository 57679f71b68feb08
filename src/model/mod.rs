//! Plain domain types. No I/O, no terminal: everything here can be built in a test.

pub mod elasticsearch;
pub mod fleet;
pub mod queues;

pub use fleet::Fleet;
