//! Plain domain types. No I/O, no terminal: everything here can be built in a test.

pub mod alert;
pub mod audit;
pub mod elasticsearch;
pub mod feed;
pub mod fleet;
pub mod hosts;
pub mod logs;
pub mod pillows;
pub mod queues;

pub use alert::{Alert, Severity};
pub use feed::{Feed, FeedStatus};
pub use fleet::{Fleet, SourceKind};
