//! Pillow verdicts joined with supervisor's process state, read from a real supervisord through the
//! hosts source (the local transport runs the same `supervisorctl status` a remote host would).

use super::harness::Supervisord;
use super::views::{fleet_and_config, view_ctx};
use opsdeck::model::fleet::SourceUpdate;
use opsdeck_core::alert::Severity;
use opsdeck_core::theme::Theme;
use opsdeck_hosts::config::{HostConfig, TransportKind};
use opsdeck_hosts::source::SshBackend;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_process_supervisor_gave_up_on_is_the_verdict_not_a_backed_up_process() {
    // Process 0 runs; process 1 dies as it starts, so supervisor gives up on it (FATAL).
    let sup = Supervisord::start_expecting(
        &[
            ("commcare-hq-prod-pillowtop-case-pillow-0", "/bin/sleep 3600"),
            ("commcare-hq-prod-pillowtop-case-pillow-1", "/bin/false"),
        ],
        1,
    );
    // The recorded pillow: process 1's partitions stopped while process 0's keep up.
    let (mut fleet, mut config, now) = fleet_and_config();
    let mut host = HostConfig::named("pillow1", TransportKind::Local);
    host.supervisor = true;
    config.ssh.hosts = vec![host];
    config.ssh.supervisor_command = sup.template();
    let backend = SshBackend::new(&config.ssh).unwrap();
    // supervisord takes a retry or two before FATAL: poll until it says so (bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let fatal = loop {
        let polls = backend.poll_all().await;
        let line = polls[0]
            .programs
            .as_ref()
            .and_then(|p| p.as_ref().ok())
            .and_then(|p| p.iter().find(|p| p.name.ends_with("case-pillow-1")).cloned());
        if let Some(p) = line
            .clone()
            .filter(|p| p.state == opsdeck_hosts::model::ProgramState::Fatal)
        {
            fleet.apply(now, SourceUpdate::Hosts(Ok(polls)));
            break p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "process 1 never became FATAL: {line:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let alerts: Vec<_> = opsdeck::analysis::alerts(&fleet, &config)
        .into_iter()
        .filter(|a| a.source.name() == "pillows")
        .collect();
    let messages: Vec<&str> = alerts.iter().map(|a| a.message.as_str()).collect();
    let process = alerts
        .iter()
        .find(|a| a.message.starts_with("process case-pillow-1 FATAL"))
        .unwrap_or_else(|| panic!("no verdict from the process state: {messages:#?}"));
    assert_eq!(process.severity, Severity::Critical);
    assert!(
        process.message.contains(&format!("({})", fatal.description)),
        "supervisor's reason is quoted: {}",
        process.message
    );
    assert!(
        process
            .message
            .contains("supervisor gave up starting it: read its log, fix the cause, then start it"),
        "{}",
        process.message
    );
    assert!(
        process
            .message
            .contains("its log: program commcare-hq-prod-pillowtop-case-pillow-1"),
        "{}",
        process.message
    );
    assert!(
        process.message.contains("on pillow1, 2 partition(s) not consumed → "),
        "{}",
        process.message
    );
    // The verdicts that blamed a running-but-slow process 1 are gone: it is not running at all.
    assert!(
        !messages
            .iter()
            .any(|m| m.contains("backed up") || m.contains("→ restart it")),
        "{messages:#?}"
    );

    // The pane says the same, first.
    let theme = Theme::builtin("default").unwrap();
    let ctx = view_ctx(&fleet, &config, now, &theme);
    let root = opsdeck_pillows::views::root();
    let header: Vec<String> = root.header(&ctx).into_iter().map(|(l, _)| l).collect();
    assert!(
        header[0].starts_with("✗ case-pillow: process case-pillow-1 FATAL"),
        "{header:#?}"
    );
    let parts = root.drill(&ctx, "case-pillow").unwrap();
    let header: Vec<String> = parts.header(&ctx).into_iter().map(|(l, _)| l).collect();
    assert!(
        header.iter().any(|l| l.starts_with("✗ process case-pillow-1 FATAL")),
        "{header:#?}"
    );
    drop(sup);
}
