//! A hostile Elasticsearch: answers hundreds of MiB long, names and error reasons full of escape
//! sequences. A poll stops reading at `elasticsearch.max_answer_mib` and fails with that; nothing
//! the cluster says reaches a terminal as it is.

use super::common::{Answer, EsStandIn, run_opsdeck, snapshot, terminal_controls};
use opsdeck::model::Fleet;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck_elasticsearch::config::EsConfig;
use opsdeck_elasticsearch::model::EsAnswer;
use opsdeck_elasticsearch::source::{EsClient, EsPoller};
use std::path::Path;
use std::time::{Duration, SystemTime};

const EVIL: &str = r#"c\u001b[2J\u001b[31mEVIL\u001b]0;title\u0007"#;

fn config(dir: &Path, url: &str, extra: &str) -> std::path::PathBuf {
    let file = dir.join("c.toml");
    std::fs::write(
        &file,
        format!(
            "[general]\naudit_log = \"{d}/audit.jsonl\"\nlog_file = \"{d}/opsdeck.log\"\n\n[elasticsearch]\nurl = \"{url}\"\nrequest_timeout = \"20s\"\n{extra}",
            d = dir.display()
        ),
    )
    .unwrap();
    file
}

#[test]
fn check_shows_what_the_cluster_says_without_its_escape_sequences() {
    let es = EsStandIn::start();
    es.answer(
        "/_cluster/health",
        Answer::Json(
            format!(r#"{{"cluster_name": "{EVIL}", "status": "red", "number_of_nodes": 1, "unassigned_shards": 3}}"#)
                .into_bytes(),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path(), &es.url, "");
    let args = ["check", "--config", file.to_str().unwrap()];
    let ran = run_opsdeck(&args, dir.path(), Duration::from_secs(60));
    let out = String::from_utf8_lossy(&ran.stdout);
    assert_eq!(ran.code, Some(2), "red is critical:\n{out}\n{}", ran.stderr);
    assert!(out.contains("c\u{fffd}\u{fffd}EVIL\u{fffd}]0;title\u{fffd}"), "{out}");
    assert_eq!(terminal_controls(&ran.stdout), Vec::<String>::new(), "{out:?}");

    // An error's reason comes from the cluster too.
    es.answer(
        "/_cluster/health",
        Answer::Status(
            500,
            format!(r#"{{"error": {{"type": "x\u001b[2J", "reason": "boom {EVIL}"}}, "status": 500}}"#).into_bytes(),
        ),
    );
    let ran = run_opsdeck(&args, dir.path(), Duration::from_secs(60));
    let out = String::from_utf8_lossy(&ran.stdout);
    assert_eq!(ran.code, Some(2), "{out}\n{}", ran.stderr);
    assert!(
        out.contains("cannot poll: GET /_cluster/health: HTTP 500 x\u{fffd}: boom c\u{fffd}"),
        "{out}"
    );
    assert_eq!(terminal_controls(&ran.stdout), Vec::<String>::new(), "{out:?}");
}

#[test]
fn an_answer_over_the_cap_fails_the_poll_without_being_held_in_memory() {
    let es = EsStandIn::start();
    // 300 MiB of shards, never announced: only reading it tells how long it is.
    es.answer("/_cat/shards", Answer::Endless { bytes: 300 << 20 });
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path(), &es.url, "max_answer_mib = 8\n");
    let (ran, doc) = snapshot(&file, dir.path());
    let es_doc = &doc["elasticsearch"];
    assert_eq!(es_doc["status"], "error", "{es_doc}");
    assert_eq!(
        es_doc["error"], "GET /_cat/shards: answer larger than 8 MiB",
        "{es_doc}"
    );
    // The whole process (runtime, TLS stack, the other answers) stays far below the 300 MiB.
    assert!(
        ran.peak_rss_kib < 120 * 1024,
        "peak RSS {} MiB for an answer cut at 8 MiB",
        ran.peak_rss_kib / 1024
    );
    assert!(ran.took < Duration::from_secs(20), "took {:?}", ran.took);
}

#[tokio::test]
async fn a_poll_over_the_cap_keeps_the_last_good_data_on_screen() {
    let es = EsStandIn::start();
    let client = EsClient::from_config(&EsConfig {
        url: es.url.clone(),
        max_answer_mib: 1,
        ..EsConfig::default()
    })
    .unwrap();
    let mut poller = EsPoller::new(client, 0);
    let mut fleet = Fleet::default();
    let good = poller.poll_cluster().await.expect("the real answers poll");
    fleet.apply(SystemTime::now(), SourceUpdate::Elasticsearch(Ok(EsAnswer::of(good))));

    es.answer("/_cat/shards", Answer::Endless { bytes: 64 << 20 });
    let err = poller.poll_cluster().await.unwrap_err();
    assert_eq!(err, "GET /_cat/shards: answer larger than 1 MiB");
    fleet.apply(SystemTime::now(), SourceUpdate::Elasticsearch(Err(err)));
    let feed = &fleet.elasticsearch;
    assert_eq!(
        feed.error.as_deref(),
        Some("GET /_cat/shards: answer larger than 1 MiB")
    );
    assert_eq!(
        feed.data.as_ref().map(|d| d.health.cluster_name.as_str()),
        Some("elasticsearch"),
        "the last good answer is still shown"
    );
}
