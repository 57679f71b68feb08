//! What the hosts tests share beyond the peers: an action context and a poll made into pane state.

use opsdeck::actions::ActionCtx;
use opsdeck::actions::audit::{AuditLog, Identity};
use opsdeck::model::fleet::FeedData;
use opsdeck::model::hosts::HostsState;
use opsdeck::sources::Backends;
use opsdeck::sources::ssh::SshBackend;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// Actions run through `ssh`, audited to `dir/audit.jsonl`.
pub fn action_ctx(ssh: SshBackend, dir: &std::path::Path) -> ActionCtx {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    ActionCtx {
        backends: Backends {
            ssh: Some(ssh),
            ..Backends::default()
        },
        progress: tx,
        audit: AuditLog::new(dir.join("audit.jsonl"), Identity::current()),
        cancel: CancellationToken::new(),
    }
}

/// One poll of every host, as the hosts pane holds it.
pub async fn polled_state(b: &SshBackend) -> HostsState {
    state_of(b.poll_all().await)
}

/// `polls` as the hosts pane holds them.
pub fn state_of(polls: Vec<opsdeck::model::hosts::HostPoll>) -> HostsState {
    let mut s = None;
    HostsState::absorb(&mut s, polls, SystemTime::now());
    s.expect("a poll makes a state")
}
