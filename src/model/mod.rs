//! Plain domain types. No I/O, no terminal: everything here can be built in a test.

pub mod fleet;

pub use fleet::Fleet;
