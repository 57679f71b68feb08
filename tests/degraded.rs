//! Opsdeck when things go wrong: every backend down, hostile answers (huge, full of escape
//! sequences), a poller that panics, signals, the audit log on a device, Kafka down with a broken
//! checkpoint database, and a demo left running for hours.

mod degraded {
    mod audit;
    mod checkpoints;
    mod commands;
    pub mod common;
    mod dead;
    mod hostile_es;
    mod memory;
    mod terminal;
}
