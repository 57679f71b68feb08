//! Against the real servers `scripts/peers` starts: Apache Kafka 4.x in KRaft mode (one broker, and three)
//! and OpenSearch 2.19 (one node, and three), with the machine's PostgreSQL for pillow checkpoints.
//!
//! `scripts/test` starts each peer once per run and exports where it is (`OPSDECK_KAFKA`,
//! `OPSDECK_KAFKA3`, `OPSDECK_OPENSEARCH`, `OPSDECK_OPENSEARCH3`, ... from `scripts/peers env`); every
//! test isolates itself by its own topic, group and index names. By hand:
//! `scripts/peers up kafka && ... && eval "$(scripts/peers env)" && cargo test --test it peers::`.
//! Without its variable a test fails under CI (`CI` or `OPSDECK_REQUIRE_PEERS=1`) and is skipped with
//! a message on the terminal otherwise.

/// `eventually`, and supervisord's `processes_matching` helpers.
#[allow(dead_code)]
#[path = "hosts/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "pillows/common.rs"]
mod pillows_common;

mod peers {
    pub mod env;
    pub mod kafka;
    mod kafka_brokers;
    mod kafka_groups;
    mod kafka_lost;
    mod kafka_sasl;
    mod kafka_tls;
    pub mod opensearch;
    mod os_allocation;
    mod os_bounce;
    mod os_read;
    mod postgres_pane;
    mod postgres_tls;
    mod rabbitmq;
    mod redis;
}
