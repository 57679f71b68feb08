//! What the hosts tests share beyond the peers: an action context and a poll made into pane state.

use opsdeck::sources::Backends;
use opsdeck_core::action::ActionCtx;
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::feed::FeedData;
use opsdeck_hosts::model::HostsState;
use opsdeck_hosts::source::SshBackend;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// Actions run through `ssh`, audited to `dir/audit.jsonl`.
pub fn action_ctx(ssh: SshBackend, dir: &std::path::Path) -> ActionCtx {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    ActionCtx {
        backends: std::sync::Arc::new(Backends {
            ssh: Some(ssh),
            ..Backends::default()
        }),
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
pub fn state_of(polls: Vec<opsdeck_hosts::model::HostPoll>) -> HostsState {
    let mut s = None;
    HostsState::absorb(&mut s, polls, SystemTime::now());
    s.expect("a poll makes a state")
}

/// Plans removing every junk file the first host of `polls` reported and runs it through `b`,
/// as the hosts pane would: returns the plan's call (what the dialog shows) and the outcome.
pub async fn remove_found_junk(
    ssh: &opsdeck_hosts::config::SshConfig,
    b: &SshBackend,
    polls: Vec<opsdeck_hosts::model::HostPoll>,
    dir: &std::path::Path,
) -> (String, opsdeck_core::action::Outcome) {
    let config = opsdeck::config::Config {
        ssh: ssh.clone(),
        ..Default::default()
    };
    let state = state_of(polls);
    let h = &state.hosts[0];
    let plan = opsdeck_hosts::actions::remove_files_plan(&config.ssh, h, &h.junk).expect("a removal plan");
    let out = opsdeck_core::action::run_operation(plan.op, &action_ctx(b.clone(), dir)).await;
    (plan.call, out)
}
