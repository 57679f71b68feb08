//! Hosts over SSH against real peers: OpenSSH sshd and supervisord on 127.0.0.1 (see `harness`), plus
//! the hosts and logs panes driven through the app.
//!
//! Needs: `apt-get install -y openssh-server supervisor` (sshd at /usr/sbin/sshd or $OPSDECK_SSHD).

/// The Elasticsearch tests' cluster and helpers, for the bounce that restarts a node over SSH.
#[allow(dead_code)]
#[path = "elasticsearch/common.rs"]
mod es_common;

mod hosts {
    mod bounce;
    mod cli;
    pub mod common;
    mod demo;
    pub mod harness;
    mod inject;
    mod local;
    mod panes;
    mod ssh;
}
