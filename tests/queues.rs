//! Queues and tables against real peers: moto's server (SQS, DynamoDB, CloudWatch) started per test
//! on a free loopback port, and a local double for the one API moto lacks (the DLQ move task).
//!
//! moto comes from `OPSDECK_MOTO_SERVER` (default `<repo>/.venv/bin/moto_server`); install it with
//! `python3 -m venv .venv && .venv/bin/pip install 'moto[server]'`.

mod queues {
    pub mod cloudwatch;
    pub mod demo;
    pub mod dynamodb;
    pub mod errors;
    pub mod harness;
    pub mod move_task_double;
    pub mod pane;
    pub mod sqs;
}
