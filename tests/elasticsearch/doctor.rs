//! `opsdeck doctor` for Elasticsearch against the simulated cluster: every endpoint the pane polls,
//! then `_has_privileges` for what the actions write when security is on (the OpenSearch peer has no
//! security plugin, so only here is a refused privilege seen); nothing is written.

use super::common::*;
use opsdeck_core::doctor::{Finding, Verdict};
use opsdeck_elasticsearch::demo::sim::Auth;

fn verdict<'a>(found: &'a [Finding], capability: &str) -> &'a Verdict {
    &found
        .iter()
        .find(|f| f.pane == "elasticsearch" && f.capability == capability)
        .unwrap_or_else(|| panic!("no {capability}: {found:#?}"))
        .verdict
}

#[tokio::test]
async fn a_user_without_the_settings_privilege_is_named_and_nothing_is_written() {
    let mut sim = small_cluster();
    sim.auth = Some(Auth::Basic("ops-ro".into(), "pw".into()));
    sim.granted = Some(vec!["cluster:monitor".into(), "cluster:admin/reroute".into()]);
    let server = start(sim).await;
    let mut config = config_for(&server.url);
    config.elasticsearch.username = Some("ops-ro".into());
    config.elasticsearch.password = Some("pw".into());
    let found = opsdeck::doctor::findings(&config).await;
    assert_eq!(
        verdict(&found, "change allocation"),
        &Verdict::Missing("cluster:admin/settings/update (user ops-ro)".into())
    );
    assert_eq!(verdict(&found, "retry failed shards"), &Verdict::Ok(String::new()));
    assert_eq!(verdict(&found, "read shards"), &Verdict::Ok(String::new()));
    assert_eq!(found[0].source, "test", "the cluster by its name");
    assert_eq!(opsdeck::doctor::exit_code(&found), 1);
    let log = server.sim.lock().log.clone();
    assert!(
        log.iter()
            .all(|l| l.starts_with("GET ") || l.starts_with("POST /_security/user/_has_privileges")),
        "only reads and the privilege question: {log:#?}"
    );

    // Granted: ok.
    server
        .sim
        .lock()
        .granted
        .as_mut()
        .unwrap()
        .push("cluster:admin/settings/update".into());
    let found = opsdeck::doctor::findings(&config).await;
    assert_eq!(verdict(&found, "change allocation"), &Verdict::Ok(String::new()));
    assert_eq!(opsdeck::doctor::exit_code(&found), 0, "{found:#?}");
}

#[tokio::test]
async fn security_off_permits_every_action_and_a_refused_read_names_the_privilege() {
    let server = start(small_cluster()).await;
    server.sim.lock().refused_paths = vec![("/_nodes/stats".into(), 403)];
    let found = opsdeck::doctor::findings(&config_for(&server.url)).await;
    assert_eq!(
        verdict(&found, "change allocation"),
        &Verdict::Ok("security off: every action permitted".into())
    );
    let Verdict::Missing(why) = verdict(&found, "read node stats") else {
        panic!("{found:#?}")
    };
    assert!(
        why.starts_with("GET /_nodes/stats/fs,jvm refused: HTTP 403")
            && why.contains("cluster:monitor/nodes/stats] is unauthorized for user [ops-ro]"),
        "{why}"
    );
    assert_eq!(verdict(&found, "read health"), &Verdict::Ok(String::new()));
}

#[tokio::test]
async fn a_cluster_that_does_not_answer_costs_its_timeout_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let found = opsdeck::doctor::findings(&config_for(&format!("http://127.0.0.1:{port}"))).await;
    assert_eq!(found.len(), 1, "one line, not one per capability: {found:#?}");
    assert!(matches!(found[0].verdict, Verdict::Unreachable(_)), "{found:#?}");
}
