//! The poller against the test server: the batch, explains, flavours, auth, and errors that keep the last good data.

use super::common::*;
use opsdeck_core::feed::{Feed, FeedData, FeedStatus};
use opsdeck_core::source_error::{ErrorKind, SourceError};
use opsdeck_elasticsearch::demo::sim::{Auth, Fault};
use opsdeck_elasticsearch::model::{EsAnswer, EsState, Flavor, HealthStatus};
use opsdeck_elasticsearch::source::{EsBackend, EsClient, EsPoller};
use std::time::{Duration, SystemTime};

#[tokio::test]
async fn one_poll_is_a_fixed_batch_with_explicit_columns() {
    let mut sim = small_cluster();
    sim.stop_node("spot-1", None);
    let server = start(sim).await;
    let mut p = poller(&server.url);
    let poll = p.poll_cluster().await.unwrap();
    let log = server.sim.lock().log.clone();
    let gets: Vec<&String> = log.iter().filter(|l| l.starts_with("GET")).collect();
    assert_eq!(gets.len(), 8, "GET / plus 7 batch requests: {log:#?}");
    for want in [
        "GET /_cat/shards?format=json&bytes=b&h=index%2Cshard%2Cprirep%2Cstate%2Cdocs%2Cstore%2Cip%2Cid%2Cnode%2Cunassigned.reason",
        "GET /_cluster/settings?include_defaults=true&flat_settings=true",
        "GET /_cat/recovery?format=json&active_only=true&bytes=b&h=",
        "GET /_cat/allocation?format=json&bytes=b&h=",
        "GET /_nodes/stats/fs,jvm",
        "GET /_cluster/health",
    ] {
        assert!(log.iter().any(|l| l.starts_with(want)), "missing {want}: {log:#?}");
    }
    // spot-1 left: its copies are unassigned; explains come for at most explain_max (5), primaries first.
    let unassigned = poll.shards.iter().filter(|s| s.node.is_none()).count();
    assert!(unassigned > 0);
    assert_eq!(poll.explains.len(), unassigned.min(5));
    let posts = log
        .iter()
        .filter(|l| l.starts_with("POST /_cluster/allocation/explain"))
        .count();
    assert_eq!(posts, unassigned.min(5));
    // The second poll does not ask GET / again (the flavour is known).
    p.poll_cluster().await.unwrap();
    let again = server.sim.lock().log.iter().filter(|l| *l == "GET /").count();
    assert_eq!(again, 1);
    let state = EsState::build(poll);
    assert_eq!(state.health.status, HealthStatus::Yellow);
    assert_eq!(state.nodes.len(), 3);
    assert_eq!(state.distribution.flavor, Flavor::Elasticsearch);
    assert!(state.nodes.iter().all(|n| !n.ip.contains(':')));
    assert_eq!(state.nodes.iter().filter(|n| n.master).count(), 1);
}

#[tokio::test]
async fn opensearch_is_detected_and_its_cluster_manager_column_read() {
    let mut sim = small_cluster();
    sim.flavor = Flavor::OpenSearch;
    sim.version = "2.11.1".into();
    let server = start(sim).await;
    let state = state_of(&server.url).await;
    assert_eq!(state.distribution.flavor, Flavor::OpenSearch);
    assert_eq!(state.distribution.major, 2);
    assert_eq!(
        state.nodes.iter().filter(|n| n.master).count(),
        1,
        "master from cluster_manager"
    );
}

#[tokio::test]
async fn basic_auth_from_the_config_is_sent() {
    let mut sim = small_cluster();
    sim.auth = Some(Auth::Basic("opsdeck".into(), "s3cret pass".into()));
    let server = start(sim).await;
    let err = poller(&server.url).poll_cluster().await.unwrap_err();
    assert!(err.contains("401") && err.contains("security_exception"), "{err}");
    let mut config = config_for(&server.url);
    config.elasticsearch.username = Some("opsdeck".into());
    // SAFETY: no other test reads this variable (unique name).
    unsafe { std::env::set_var("OPSDECK_TEST_ES_PASSWORD_7731", "s3cret pass") };
    config.elasticsearch.password_env = Some("OPSDECK_TEST_ES_PASSWORD_7731".into());
    let backend = EsBackend::connect(&config.elasticsearch).await.unwrap().unwrap();
    let mut p = EsPoller::new(backend.client.clone(), 0);
    assert!(p.poll_cluster().await.is_ok());
    assert!(
        !format!("{:?}", backend.client).contains("s3cret"),
        "secrets stay out of Debug"
    );
}

#[tokio::test]
async fn api_key_from_the_config_is_sent() {
    let mut sim = small_cluster();
    sim.auth = Some(Auth::ApiKey(
        "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==".into(),
    ));
    let server = start(sim).await;
    let mut config = config_for(&server.url);
    config.elasticsearch.api_key = Some("wrong".into());
    let backend = EsBackend::connect(&config.elasticsearch).await.unwrap().unwrap();
    let err = EsPoller::new(backend.client, 0).poll_cluster().await.unwrap_err();
    assert!(err.contains("401"), "{err}");
    config.elasticsearch.api_key = Some("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==".into());
    let backend = EsBackend::connect(&config.elasticsearch).await.unwrap().unwrap();
    assert!(EsPoller::new(backend.client, 0).poll_cluster().await.is_ok());
}

#[tokio::test]
async fn a_bad_ca_file_is_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate").unwrap();
    let mut config = config_for("https://127.0.0.1:9");
    config.elasticsearch.ca_file = Some(ca.clone());
    let err = EsBackend::connect(&config.elasticsearch).await.unwrap_err();
    assert!(err.contains("ca_file"), "{err}");
    config.elasticsearch.ca_file = Some(dir.path().join("missing.pem"));
    assert!(
        EsBackend::connect(&config.elasticsearch)
            .await
            .unwrap_err()
            .contains("missing.pem")
    );
}

/// Errors (401, 503, malformed JSON, timeouts) become the feed's error, of their kind; the last good
/// data stays.
#[tokio::test]
async fn errors_are_shown_over_the_last_good_data() {
    let server = start(small_cluster()).await;
    let client = EsClient::new(&server.url, Duration::from_millis(400)).unwrap();
    let mut p = EsPoller::new(client, 2);
    let mut feed: Feed<EsState> = Feed::waiting();
    let apply = |feed: &mut Feed<EsState>, r: Result<_, SourceError>| match r {
        Ok(poll) => feed.succeed(SystemTime::now(), |d| {
            EsState::absorb(d, EsAnswer::of(poll), SystemTime::now())
        }),
        Err(e) => feed.fail(SystemTime::now(), e),
    };
    apply(&mut feed, p.poll_cluster().await);
    assert_eq!(feed.status, FeedStatus::Ok);
    let good_nodes = feed.data.as_ref().unwrap().nodes.len();
    for (fault, expect, kind) in [
        (
            Fault::Status(401),
            "HTTP 401 security_exception: missing authentication credentials",
            ErrorKind::Unauthorised,
        ),
        (
            Fault::Status(503),
            "HTTP 503 master_not_discovered_exception",
            ErrorKind::Unreachable,
        ),
        (Fault::Malformed, "unreadable answer", ErrorKind::BadAnswer),
        (Fault::DelayMs(1500), "no answer within 400ms", ErrorKind::Timeout),
    ] {
        server.sim.set_fault(Some(fault.clone()));
        let r = p.poll_cluster().await;
        apply(&mut feed, r);
        assert_eq!(feed.status, FeedStatus::Error, "{fault:?}");
        let err = feed.error.clone().unwrap();
        assert!(err.contains(expect), "{fault:?}: {err}");
        assert_eq!(feed.error_kind, Some(kind), "{fault:?}: {err}");
        let data = feed.data.as_ref().expect("last good data kept");
        assert_eq!(data.nodes.len(), good_nodes);
        assert_eq!(data.health.cluster_name, "test");
    }
    server.sim.set_fault(None);
    apply(&mut feed, p.poll_cluster().await);
    assert_eq!(feed.status, FeedStatus::Ok);
    assert!(feed.error.is_none());
    assert_eq!(
        feed.data.as_ref().unwrap().health_history.len(),
        2,
        "history spans failures"
    );
}

/// A cluster that answers health but refuses one endpoint (403 for a read-only role, 400 for a
/// managed service that does not support it, 404 where there is no such endpoint): the poll stands,
/// the refused part is named with the server's words and keeps its last good values, and the
/// overview says what is not known instead of judging from nothing.
#[tokio::test]
async fn a_refused_endpoint_is_marked_and_the_rest_of_the_poll_is_shown() {
    use opsdeck_elasticsearch::model::EsPart;
    let server = start(small_cluster()).await;
    let mut p = poller(&server.url);
    let mut state: Option<EsState> = None;
    EsState::absorb(
        &mut state,
        EsAnswer::of(p.poll_cluster().await.unwrap()),
        SystemTime::now(),
    );
    let good = state.clone().unwrap();
    assert!(good.refused.is_empty() && !good.nodes.is_empty() && !good.shards.is_empty());

    let parts = [
        ("/_nodes/stats", EsPart::NodeStats),
        ("/_cat/nodes", EsPart::NodeList),
        ("/_cat/shards", EsPart::Shards),
        ("/_cat/allocation", EsPart::Allocation),
        ("/_cluster/settings", EsPart::Settings),
        ("/_cat/recovery", EsPart::Recoveries),
    ];
    for (path, part) in parts {
        for (code, words) in [
            (403, "is unauthorized for user [ops-ro]"),
            (400, "is not supported by this service"),
            (404, "no handler found for uri"),
        ] {
            server.sim.lock().refused_paths = vec![(path.to_string(), code)];
            let poll = p
                .poll_cluster()
                .await
                .unwrap_or_else(|e| panic!("{path} {code}: the poll failed: {e}"));
            assert_eq!(poll.refused.len(), 1, "{path} {code}: {:?}", poll.refused);
            assert_eq!(poll.refused[0].part, part);
            let reason = &poll.refused[0].reason;
            assert!(
                reason.contains(&format!("HTTP {code}")) && reason.contains(words),
                "{path}: {reason}"
            );
            EsState::absorb(&mut state, EsAnswer::of(poll), SystemTime::now());
            let s = state.as_ref().unwrap();
            // What was read is there; what was refused is as last read, not emptied.
            assert_eq!(s.health.cluster_name, "test");
            assert_eq!(s.nodes.len(), good.nodes.len(), "{path}: nodes kept");
            assert_eq!(s.shards.len(), good.shards.len(), "{path}: shards kept");
            assert_eq!(s.settings.watermarks, good.settings.watermarks, "{path}: settings kept");
            assert!(s.departed.is_empty(), "{path}: no node departed: {:?}", s.departed);
            assert!(s.refused[0].kept_from_earlier);
            let alerts = opsdeck_elasticsearch::analysis::alerts(s, &opsdeck::config::Config::default());
            let said = alerts
                .iter()
                .find(|a| {
                    a.message
                        .starts_with(&format!("{} not read (shown as last read", part.label()))
                })
                .unwrap_or_else(|| panic!("{path}: no alert names the refused part: {alerts:?}"));
            assert!(said.message.contains(words), "{}", said.message);
        }
    }

    // Refused from the first poll on: nothing to keep, and the alert says the part is not known.
    server.sim.lock().refused_paths = vec![("/_nodes/stats".to_string(), 403)];
    let mut fresh: Option<EsState> = None;
    EsState::absorb(
        &mut fresh,
        EsAnswer::of(poller(&server.url).poll_cluster().await.unwrap()),
        SystemTime::now(),
    );
    let s = fresh.unwrap();
    // The nodes are still listed (from _cat/nodes), without what only their stats tell.
    assert_eq!(s.nodes.len(), good.nodes.len());
    assert!(s.nodes.iter().all(|n| n.heap_percent.is_none()) && !s.shards.is_empty());
    let alerts = opsdeck_elasticsearch::analysis::alerts(&s, &opsdeck::config::Config::default());
    assert!(
        alerts.iter().any(|a| a
            .message
            .starts_with("node stats not read (not known: nodes, disk and heap)")),
        "{alerts:?}"
    );

    // A part that fails without being refused (a server error; a timeout, a huge or malformed answer
    // likewise) fails the poll: the pane keeps its last good data whole (tests/degraded).
    server.sim.lock().refused_paths = vec![("/_cat/shards".to_string(), 503)];
    let err = p.poll_cluster().await.unwrap_err();
    assert!(err.contains("GET /_cat/shards") && err.contains("HTTP 503"), "{err}");

    // Served again: the mark goes away.
    server.sim.lock().refused_paths.clear();
    EsState::absorb(
        &mut state,
        EsAnswer::of(p.poll_cluster().await.unwrap()),
        SystemTime::now(),
    );
    assert!(state.unwrap().refused.is_empty());
}

#[tokio::test]
async fn explain_shows_why_a_replica_stays_unassigned_and_retry_failed_fixes_it() {
    let mut sim = small_cluster();
    sim.fail_replica("users", 1);
    let server = start(sim).await;
    let state = state_of(&server.url).await;
    let copy = state
        .unassigned
        .iter()
        .find(|s| &*s.index == "users")
        .expect("failed replica");
    assert_eq!(copy.unassigned_reason.as_deref(), Some("ALLOCATION_FAILED"));
    let e = state.explain_for(&copy.copy_key()).expect("explained by the poller");
    assert_eq!(e.can_allocate.as_deref(), Some("no"));
    assert!(e.nodes.iter().any(|d| d.decider == "max_retry"), "{e:#?}");
    // Ticking does not help: the copy waits for retry_failed.
    for _ in 0..5 {
        server.sim.tick();
    }
    assert_eq!(state_of(&server.url).await.unassigned.len(), 1);
    let plan =
        opsdeck_elasticsearch::actions::plan_retry_failed(&state, &config_for(&server.url).elasticsearch).unwrap();
    assert_eq!(plan.call, "POST /_cluster/reroute?retry_failed=true");
    let ran = run_plan(&server, plan, Default::default(), |_, _| {}).await;
    assert_eq!(
        ran.outcome.result,
        opsdeck_core::action::OutcomeResult::Succeeded,
        "{}",
        ran.outcome.summary
    );
    tick_until(&server, 20, |s| {
        s.unassigned.is_empty() && s.health.status == HealthStatus::Green
    })
    .await;
}
