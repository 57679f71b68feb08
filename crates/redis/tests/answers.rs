//! The parsers on answers captured from real servers (tests/fixtures, see capture.py there).

mod common;

use common::{fixture, fixture_values};
use opsdeck_redis::model::{CpuSource, ErrorKind, Key, RedisError, Role};
use opsdeck_redis::source::parse;
use opsdeck_redis::source::resp::Value;

fn error_of(name: &str) -> RedisError {
    match fixture(name) {
        Value::Error(text) => RedisError::from_reply(&text),
        other => panic!("{name} is not an error answer: {other:?}"),
    }
}

#[test]
fn info_of_a_primary_with_a_replica() {
    let info = parse::info(&fixture("info_primary.resp")).unwrap();
    assert_eq!(info.version, "7.0.15");
    assert_eq!(info.mode, "standalone");
    assert_eq!(info.run_id.len(), 40);
    assert!(info.server_time_usec.is_some());
    assert_eq!(info.replication.role, Role::Master);
    let [replica] = info.replication.replicas.as_slice() else {
        panic!("one replica: {:?}", info.replication)
    };
    assert_eq!(
        (replica.ip.as_str(), replica.state.as_str(), replica.lag),
        ("127.0.0.1", "online", Some(0))
    );
    assert!(replica.offset > 0);
    // Redis 7 tells the main thread's CPU apart: that is what saturates at one core.
    assert_eq!(info.cpu.busiest().1, CpuSource::MainThread);
    assert!(info.cpu.sys_main_thread.unwrap() > 0.0);
    assert_eq!(info.memory.maxmemory, 0);
    assert_eq!(info.memory.policy, "noeviction");
    assert!(info.memory.used > 0);
    assert_eq!(info.keyspace[0].db, 0);
    assert_eq!(info.keyspace[0].keys, 13);
    assert!(info.stats.total_commands_processed > 0);
    assert_eq!(info.clients.maxclients, Some(10000));
    assert!(!info.cluster_enabled);
    assert!(info.version_at_least(6, 2) && !info.version_at_least(7, 1));
}

#[test]
fn info_of_a_replica_names_its_master_link() {
    let info = parse::info(&fixture("info_replica.resp")).unwrap();
    assert_eq!(info.replication.role, Role::Replica);
    let link = info.replication.master.unwrap();
    assert_eq!(link.link_status, "up");
    assert_eq!(link.host, "127.0.0.1");
    assert!(link.port > 0);
    assert!(!link.sync_in_progress);
    assert_eq!(link.down_since_seconds, None);
}

#[test]
fn info_of_a_cluster_node() {
    let info = parse::info(&fixture("info_cluster.resp")).unwrap();
    assert!(info.cluster_enabled);
    assert_eq!(info.mode, "cluster");
}

#[test]
fn persistence_through_a_bgsave_that_ran_and_one_that_failed() {
    let running = parse::info_persistence(&fixture("info_bgsave_running.resp")).unwrap();
    let done = parse::info_persistence(&fixture("info_bgsave_done.resp")).unwrap();
    let failed = parse::info_persistence(&fixture("info_bgsave_failed.resp")).unwrap();
    assert!(running.rdb_bgsave_in_progress);
    assert!(running.rdb_current_bgsave_time_sec >= 0);
    assert!(!done.rdb_bgsave_in_progress);
    assert_eq!(done.rdb_last_bgsave_status, "ok");
    assert!(done.rdb_last_save_time >= running.rdb_last_save_time);
    // rdb_saves counts a save when it starts: the failed one counts too, so success is the status.
    assert_eq!(running.rdb_saves, done.rdb_saves);
    assert_eq!(failed.rdb_last_bgsave_status, "err");
    assert_eq!(failed.rdb_saves, Some(1));
    assert!(!failed.aof_enabled);
}

#[test]
fn slowlog_entries_flag_keys_calls() {
    let entries = parse::slowlog(&fixture("slowlog.resp")).unwrap();
    let keys: Vec<_> = entries.iter().filter(|e| e.is_keys()).collect();
    assert_eq!(keys.len(), 2, "{entries:#?}");
    assert_eq!(keys[0].command_line(), "KEYS celery*");
    assert_eq!(keys[0].client_name, "report-builder");
    assert!(keys[0].client.starts_with("127.0.0.1:"));
    assert_eq!(keys[1].command_line(), "KEYS *");
    let sleep = entries.iter().find(|e| e.args[0] == "DEBUG").unwrap();
    assert!(sleep.duration_us >= 50_000, "{sleep:?}");
    assert!(!sleep.is_keys());
}

#[test]
fn latency_latest_with_a_spike_and_without() {
    let events = parse::latency_latest(&fixture("latency_latest.resp")).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "command");
    assert!(events[0].latest_ms >= 50 && events[0].max_ms >= events[0].latest_ms);
    assert!(
        parse::latency_latest(&fixture("latency_latest_empty.resp"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn scan_pages_and_the_sets_queue_layouts_keep() {
    let (cursor, keys) = parse::scan_page(&fixture("scan_all.resp")).unwrap();
    assert_eq!(cursor, 0);
    // kombu's priority lists hold control characters in their names.
    assert!(keys.contains(&Key(b"celery\x06\x163".to_vec())), "{keys:?}");
    assert!(keys.contains(&Key::from("resque:queue:archive")));
    assert!(keys.contains(&Key::from("queue:default")));
    let names = |f: &str| {
        let mut n: Vec<String> = parse::scan_page(&fixture(f))
            .unwrap()
            .1
            .into_iter()
            .map(|k| String::from_utf8(k.0).unwrap())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names("sscan_resque_queues.resp"), ["archive", "high"]);
    assert_eq!(names("sscan_sidekiq_queues.resp"), ["default", "mailers"]);
    let (_, bindings) = parse::scan_page(&fixture("sscan_kombu_binding_celery.resp")).unwrap();
    let mut queues: Vec<String> = bindings
        .iter()
        .map(|m| parse::kombu_binding_queue(&m.0).unwrap())
        .collect();
    queues.sort();
    assert_eq!(queues, ["celery", "reports"]);
    let (_, sets) = parse::scan_page(&fixture("scan_match_kombu_binding.resp")).unwrap();
    assert_eq!(sets, [Key::from("_kombu.binding.celery")]);
}

#[test]
fn the_layout_fixture_holds_what_each_client_wrote() {
    let values = fixture_values("layout.resp");
    let types: Vec<(String, String)> = values
        .chunks(3)
        .map(|c| (c[0].array().unwrap()[1].text().unwrap(), c[1].text().unwrap()))
        .collect();
    let type_of = |k: &str| types.iter().find(|(key, _)| key == k).map(|(_, t)| t.as_str());
    assert_eq!(type_of("celery"), Some("list"));
    assert_eq!(type_of("celery\x06\x169"), Some("list"));
    assert_eq!(type_of("resque:queues"), Some("set"));
    assert_eq!(type_of("queues"), Some("set"));
    assert_eq!(type_of("schedule"), Some("zset"));
}

#[test]
fn server_errors_keep_their_words_and_kind() {
    for (file, kind, words) in [
        (
            "error_noperm.resp",
            ErrorKind::Unauthorised,
            "NOPERM this user has no permissions to run the 'lpush' command",
        ),
        ("error_noperm_bgsave.resp", ErrorKind::Unauthorised, "'bgsave'"),
        (
            "error_wrongpass.resp",
            ErrorKind::Unauthorised,
            "WRONGPASS invalid username-password pair",
        ),
        (
            "error_noauth.resp",
            ErrorKind::Unauthorised,
            "NOAUTH Authentication required.",
        ),
        ("error_wrongtype.resp", ErrorKind::Rejected, "WRONGTYPE"),
        ("error_no_such_key.resp", ErrorKind::Rejected, "ERR no such key"),
        ("error_crossslot.resp", ErrorKind::Rejected, "CROSSSLOT"),
        (
            "bgsave_again.resp",
            ErrorKind::Rejected,
            "ERR Background save already in progress",
        ),
    ] {
        let e = error_of(file);
        assert_eq!(e.kind, kind, "{file}: {e}");
        assert!(e.message.contains(words), "{file}: {e}");
    }
    assert_eq!(
        fixture("bgsave_started.resp"),
        Value::Simple("Background saving started".into())
    );
}

#[test]
fn shapes_that_are_not_the_commands_are_bad_answers() {
    let not_info = Value::Bulk(b"# Server\r\nfoo:1\r\n".to_vec());
    assert_eq!(parse::info(&not_info).unwrap_err().kind, ErrorKind::BadAnswer);
    let odd = Value::Array(vec![Value::Array(vec![Value::Int(1)])]);
    assert_eq!(parse::slowlog(&odd).unwrap_err().kind, ErrorKind::BadAnswer);
    assert_eq!(parse::latency_latest(&odd).unwrap_err().kind, ErrorKind::BadAnswer);
    assert_eq!(parse::scan_page(&odd).unwrap_err().kind, ErrorKind::BadAnswer);
}
