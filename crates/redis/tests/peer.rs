//! Against the real Redis of `scripts/peers up redis` (each test on a database of its own) and
//! redis-servers the tests start: polls as the read-only user, the actions as the operator and
//! their verification, refusals in the server's words, TLS, timeouts.

mod common;

use common::{User, admin_on_fresh_db, call, instance, own_db, restore_layout, section};
use opsdeck_core::action::{Outcome, OutcomeResult};
use opsdeck_redis::actions::{self, Plan};
use opsdeck_redis::config::InstanceConfig;
use opsdeck_redis::model::{ErrorKind, InstanceState, QueueKind};
use opsdeck_redis::source::conn::Settings;
use opsdeck_redis::source::poll::{InstanceSource, unix_now};
use opsdeck_redis::source::resp::Value;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

async fn polled(inst: &InstanceConfig) -> InstanceState {
    let cfg = section(vec![inst.clone()]);
    let mut src = InstanceSource::new(inst, &cfg);
    let mut state = InstanceState::new(&inst.name, &inst.address);
    state.apply(src.poll().await);
    state
}

async fn run(plan: &Plan, inst: &InstanceConfig) -> Outcome {
    let settings = Settings::from_config(inst).unwrap();
    actions::execute(plan, &settings, &mut |_| {}, &AtomicBool::new(false)).await
}

fn with_queues(mut inst: InstanceConfig, f: impl FnOnce(&mut InstanceConfig)) -> InstanceConfig {
    f(&mut inst);
    inst
}

async fn fill(c: &mut opsdeck_redis::source::conn::Connection, key: &str, n: usize) {
    let items: Vec<String> = (0..n).map(|i| format!("{{\"task\":{i}}}")).collect();
    let mut words = vec!["LPUSH", key];
    words.extend(items.iter().map(String::as_str));
    call(c, &words).await;
}

async fn lrange(c: &mut opsdeck_redis::source::conn::Connection, key: &str) -> Vec<Value> {
    match call(c, &["LRANGE", key, "0", "-1"]).await {
        Value::Array(a) => a,
        other => panic!("{other:?}"),
    }
}

/// A database of the test's own holding the list `jobs` of `n` items (pushed by the admin), the
/// admin's connection to it, and the instance watching `jobs` as `user`, polled once. `None`
/// (the test returns) without the peer.
async fn jobs_on_own_db(
    user: User,
    n: usize,
) -> Option<(opsdeck_redis::source::conn::Connection, InstanceConfig, InstanceState)> {
    let address = common::lookup("OPSDECK_REDIS")?;
    let db = own_db();
    let mut admin = admin_on_fresh_db(db).await;
    fill(&mut admin, "jobs", n).await;
    let inst = with_queues(instance(&address, user, db), |i| i.queue_keys = vec!["jobs".into()]);
    let st = polled(&inst).await;
    Some((admin, inst, st))
}

#[tokio::test]
async fn the_read_only_user_sees_the_layouts_real_clients_wrote_and_a_refused_part_stays_apart() {
    let address = peer!("OPSDECK_REDIS");
    let db = own_db();
    let mut admin = admin_on_fresh_db(db).await;
    restore_layout(&mut admin).await;
    let inst = with_queues(instance(&address, User::ReadOnly, db), |i| {
        i.celery_queues = vec!["celery".into()];
        i.celery_discover = true;
        i.resque_namespaces = vec!["resque".into()];
        i.sidekiq_namespaces = vec!["".into()];
    });
    let st = polled(&inst).await;
    assert_eq!(st.error, None);
    let info = st.info.as_ref().expect("INFO as opsdeck_ro");
    assert!(info.version_at_least(6, 0));
    assert!(st.slowlog_error.is_none() && st.latency_error.is_none(), "{st:#?}");
    let len = |kind: QueueKind, name: &str| {
        st.queues
            .iter()
            .find(|q| q.reading.kind == kind && q.reading.name == name)
            .unwrap_or_else(|| panic!("no {kind:?} {name} in {:#?}", st.queues))
            .reading
            .total()
    };
    // kombu's priority lists are summed into the queue; its bindings name "reports" too.
    let mut c = admin;
    let mut expected_celery = 0;
    for k in ["celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169"] {
        expected_celery += call(&mut c, &["LLEN", k]).await.int().unwrap() as u64;
    }
    assert!(expected_celery > call(&mut c, &["LLEN", "celery"]).await.int().unwrap() as u64);
    assert_eq!(len(QueueKind::Celery, "celery"), expected_celery);
    assert!(len(QueueKind::Resque, "high") > 0);
    assert!(len(QueueKind::Sidekiq, "default") > 0);
    // opsdeck_ro may SCAN but not SSCAN: the set walks fail in the server's words, the lists that
    // SCAN found are shown anyway.
    let refused: Vec<_> = st
        .queue_errors
        .iter()
        .filter(|e| e.error.kind == ErrorKind::Unauthorised)
        .collect();
    assert!(!refused.is_empty(), "{:#?}", st.queue_errors);
    assert!(refused[0].error.message.contains("NOPERM"), "{:?}", refused[0]);
    assert!(refused[0].part.starts_with("SSCAN"), "{:?}", refused[0]);

    // A user allowed SSCAN also finds the queues only kombu's bindings name.
    let admin = with_queues(instance(&address, User::Admin, db), |i| i.celery_discover = true);
    let st = polled(&admin).await;
    assert_eq!(st.queue_errors, vec![]);
    let reports = st
        .queues
        .iter()
        .find(|q| q.reading.name == "reports")
        .expect("reports from the bindings");
    assert_eq!(reports.reading.kind, QueueKind::Celery);
    assert_eq!(
        reports.reading.total(),
        call(&mut c, &["LLEN", "reports"]).await.int().unwrap() as u64
    );
}

#[tokio::test]
async fn move_to_backup_then_requeue_as_the_operator_restores_the_queue_in_order() {
    let address = peer!("OPSDECK_REDIS");
    let db = own_db();
    let mut admin = admin_on_fresh_db(db).await;
    fill(&mut admin, "celery", 250).await;
    fill(&mut admin, "celery\x06\x163", 7).await;
    let before = lrange(&mut admin, "celery").await;
    let inst = with_queues(instance(&address, User::Operator, db), |i| {
        i.celery_queues = vec!["celery".into()]
    });
    let cfg = section(vec![inst.clone()]);

    let st = polled(&inst).await;
    let plan = actions::plan_move_to_backup(&st, "celery::celery", unix_now() as i64).unwrap();
    assert!(
        plan.call.starts_with("RENAME celery celery:opsdeck-backup:"),
        "{}",
        plan.call
    );
    assert!(
        plan.call
            .contains("RENAME \"celery\\x06\\x163\" \"celery\\x06\\x163:opsdeck-backup:"),
        "{}",
        plan.call
    );
    // The queue moves while the plan is confirmed: its identity is the server and the types.
    assert!(plan.identity.contains("celery=list") && plan.identity.contains(&st.info.as_ref().unwrap().run_id));
    assert!(!plan.identity.contains("celery=list:250"), "{}", plan.identity);
    let out = run(&plan, &inst).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    assert!(out.summary.starts_with("moved 257 items"), "{}", out.summary);
    assert_eq!(call(&mut admin, &["EXISTS", "celery"]).await, Value::Int(0));

    // The backups show as queues that name their origin; re-queue them.
    let st = polled(&inst).await;
    let backups: Vec<_> = st
        .queues
        .iter()
        .filter(|q| q.reading.kind == QueueKind::Backup)
        .collect();
    assert_eq!(backups.len(), 2, "{:#?}", st.queues);
    for b in backups {
        let plan = actions::plan_requeue(&st, &b.reading.id(), &cfg.clone()).unwrap();
        assert!(plan.call.starts_with("LMOVE "), "{}", plan.call);
        let mut steps = Vec::new();
        let settings = Settings::from_config(&inst).unwrap();
        let out = actions::execute(&plan, &settings, &mut |p| steps.push(p), &AtomicBool::new(false)).await;
        assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
        assert!(!steps.is_empty());
    }
    assert_eq!(
        lrange(&mut admin, "celery").await,
        before,
        "order kept: oldest still served first"
    );
    assert_eq!(call(&mut admin, &["LLEN", "celery\x06\x163"]).await, Value::Int(7));
}

#[tokio::test]
async fn a_backup_key_that_exists_stops_the_move_and_a_changed_queue_stops_a_clear() {
    let Some((mut admin, inst, st)) = jobs_on_own_db(User::Operator, 5).await else {
        return;
    };
    let plan = actions::plan_move_to_backup(&st, "list::jobs", unix_now() as i64).unwrap();
    let actions::Op::MoveToBackup { moves } = &plan.op else {
        panic!()
    };
    let backup = String::from_utf8(moves[0].1.0.clone()).unwrap();
    call(&mut admin, &["SET", &backup, "someone else's"]).await;
    let out = run(&plan, &inst).await;
    assert_eq!(out.result, OutcomeResult::Failed);
    assert_eq!(out.summary, format!("not run: the backup key {backup} already exists"));
    assert_eq!(call(&mut admin, &["LLEN", "jobs"]).await, Value::Int(5));

    let clear = actions::plan_clear(&st, "list::jobs").unwrap();
    assert!(clear.needs_typed_confirmation());
    assert_eq!(clear.title, "Clear jobs — delete 5 items");
    fill(&mut admin, "jobs", 1).await;
    let out = run(&clear, &inst).await;
    assert_eq!(out.result, OutcomeResult::Failed);
    assert_eq!(
        out.summary,
        "not run: jobs now holds 6 items, not the 5 confirmed: re-plan"
    );
    let st = polled(&inst).await;
    let out = run(&actions::plan_clear(&st, "list::jobs").unwrap(), &inst).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    assert_eq!(out.summary, "cleared 6 items: LLEN 0");
    assert_eq!(call(&mut admin, &["EXISTS", "jobs"]).await, Value::Int(0));
}

#[tokio::test]
async fn the_read_only_user_is_told_it_lacks_the_permission() {
    let Some((mut admin, inst, st)) = jobs_on_own_db(User::ReadOnly, 3).await else {
        return;
    };
    let ro = common::env("OPSDECK_REDIS_RO_USER");
    for (plan, command) in [
        (
            actions::plan_move_to_backup(&st, "list::jobs", unix_now() as i64).unwrap(),
            "rename",
        ),
        (actions::plan_clear(&st, "list::jobs").unwrap(), "unlink"),
        (actions::plan_bgsave(&st, &section(vec![])).unwrap(), "bgsave"),
    ] {
        let out = run(&plan, &inst).await;
        assert_eq!(out.result, OutcomeResult::Failed, "{}", out.summary);
        assert_eq!(
            out.summary,
            format!(
                "the user {ro} lacks the permission: NOPERM this user has no permissions to run the '{command}' command"
            )
        );
    }
    assert_eq!(call(&mut admin, &["LLEN", "jobs"]).await, Value::Int(3));
}

#[tokio::test]
async fn tls_with_the_peers_ca_and_client_certificate_and_refusals_by_kind() {
    let tls = peer!("OPSDECK_REDIS_TLS");
    let db = own_db();
    let mut inst = instance(&tls, User::ReadOnly, db);
    inst.ca_file = Some(common::env("OPSDECK_REDIS_TLS_CA").into());
    inst.client_cert = Some(common::env("OPSDECK_REDIS_TLS_CERT").into());
    inst.client_key = Some(common::env("OPSDECK_REDIS_TLS_KEY").into());
    let st = polled(&inst).await;
    assert_eq!(st.error, None);
    assert!(st.info.is_some());

    // A CA that did not sign the server's certificate (the client's own certificate is no CA).
    let mut wrong_ca = inst.clone();
    wrong_ca.ca_file = inst.client_cert.clone();
    let st = polled(&wrong_ca).await;
    assert_eq!(
        st.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::Tls),
        "{:?}",
        st.error
    );

    let mut wrong_password = instance(&common::env("OPSDECK_REDIS"), User::ReadOnly, db);
    wrong_password.password_env = Some("OPSDECK_REDIS_OP_PASSWORD".into());
    let e = polled(&wrong_password).await.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Unauthorised);
    assert!(e.message.contains("WRONGPASS"), "{e}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout_and_a_closed_port_unreachable() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut inst: InstanceConfig = toml::from_str(&format!(
        "name='s'\naddress='127.0.0.1:{port}'\ncommand_timeout='300ms'\n"
    ))
    .unwrap();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let e = polled(&inst).await.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert_eq!(e.message, "INFO: no answer within 300ms");
    inst.address = format!("127.0.0.1:{}", common::free_port());
    let e = polled(&inst).await.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
}

#[tokio::test]
async fn bgsave_is_verified_by_a_newer_save_and_a_running_one_is_refused() {
    let own = common::OwnRedis::start(&[]).await;
    let inst = own.instance();
    let st = polled(&inst).await;
    let plan = actions::plan_bgsave(&st, &section(vec![])).unwrap();
    assert_eq!(plan.call, "BGSAVE");
    let out = run(&plan, &inst).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    assert!(out.summary.starts_with("saved: rdb_last_save_time"), "{}", out.summary);

    // A save slowed per key is still running when the pane polls: the plan is refused.
    let mut c = own.connect().await;
    for i in 0..20 {
        call(&mut c, &["SET", &format!("k{i}"), "v"]).await;
    }
    call(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "200000"]).await;
    call(&mut c, &["BGSAVE"]).await;
    let st = polled(&inst).await;
    let e = actions::plan_bgsave(&st, &section(vec![])).unwrap_err();
    assert!(e.starts_with("a BGSAVE is already running on own"), "{e}");
    // A plan made before it started meets the server's refusal.
    let out = run(&plan, &inst).await;
    assert_eq!(out.result, OutcomeResult::Failed);
    assert_eq!(out.summary, "ERR Background save already in progress");
    call(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]).await;
}

#[tokio::test]
async fn a_bgsave_that_fails_on_the_server_is_a_failure() {
    let data = tempfile::tempdir().unwrap();
    let own = common::OwnRedis::start(&[&format!("dir {}", data.path().display())]).await;
    let inst = own.instance();
    let mut c = own.connect().await;
    call(&mut c, &["SET", "k", "v"]).await;
    let st = polled(&inst).await;
    let plan = actions::plan_bgsave(&st, &section(vec![])).unwrap();
    // Its data dir is gone: the forked child cannot write the snapshot.
    drop(data);
    let out = run(&plan, &inst).await;
    assert_eq!(out.result, OutcomeResult::Failed, "{}", out.summary);
    assert!(
        out.summary
            .starts_with("the BGSAVE ran and failed (rdb_last_bgsave_status:err)"),
        "{}",
        out.summary
    );
}

#[tokio::test]
async fn a_key_that_changed_type_since_the_plan_is_not_touched() {
    let Some((mut admin, inst, st)) = jobs_on_own_db(User::Operator, 4).await else {
        return;
    };
    let plan = actions::plan_move_to_backup(&st, "list::jobs", unix_now() as i64).unwrap();
    call(&mut admin, &["DEL", "jobs"]).await;
    call(&mut admin, &["SET", "jobs", "not a queue any more"]).await;
    let out = run(&plan, &inst).await;
    assert_eq!(out.result, OutcomeResult::Failed);
    assert_eq!(
        out.summary,
        "not run: jobs is now a string, not the list planned: re-plan"
    );
    assert_eq!(
        call(&mut admin, &["GET", "jobs"]).await,
        Value::Bulk(b"not a queue any more".to_vec())
    );
}

#[tokio::test]
async fn a_stopped_requeue_says_what_it_moved_and_leaves_the_rest_in_the_backup() {
    let address = peer!("OPSDECK_REDIS");
    let db = own_db();
    let mut admin = admin_on_fresh_db(db).await;
    fill(&mut admin, "jobs:opsdeck-backup:20261130T180312Z", 30).await;
    let inst = with_queues(instance(&address, User::Operator, db), |i| {
        i.queue_keys = vec!["jobs".into()]
    });
    let mut cfg = section(vec![inst.clone()]);
    cfg.requeue_batch = 10;
    let st = polled(&inst).await;
    let backup = st.queues.iter().find(|q| q.reading.kind == QueueKind::Backup).unwrap();
    let plan = actions::plan_requeue(&st, &backup.reading.id(), &cfg).unwrap();
    assert_eq!(
        plan.call,
        "LMOVE jobs:opsdeck-backup:20261130T180312Z jobs RIGHT LEFT    (repeated until it answers nil, at most 30 times)"
    );
    let stop = AtomicBool::new(false);
    let settings = Settings::from_config(&inst).unwrap();
    let mut seen = Vec::new();
    let out = actions::execute(
        &plan,
        &settings,
        &mut |p| {
            seen.push(p);
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        },
        &stop,
    )
    .await;
    assert_eq!(seen, ["re-queued 10 of 30"]);
    assert_eq!(out.result, OutcomeResult::Stopped);
    assert_eq!(
        out.summary,
        "stopped after moving 10 of 30 items to jobs; the rest stay in jobs:opsdeck-backup:20261130T180312Z"
    );
    assert_eq!(
        call(&mut admin, &["LLEN", "jobs:opsdeck-backup:20261130T180312Z"]).await,
        Value::Int(20)
    );
    assert_eq!(call(&mut admin, &["LLEN", "jobs"]).await, Value::Int(10));
}

#[tokio::test]
async fn in_cluster_mode_the_backup_key_shares_the_queues_slot_so_rename_works() {
    let own = common::OwnRedis::start(&[
        "cluster-enabled yes",
        "cluster-config-file nodes.conf",
        &format!("cluster-port {}", common::free_port()),
    ])
    .await;
    let mut c = own.connect().await;
    call(&mut c, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).await;
    common::until(Duration::from_secs(20), "the cluster to be ok", || {
        let s = own.settings();
        async move {
            let mut c = opsdeck_redis::source::conn::Connection::open(&s).await.unwrap();
            let info = c
                .call(&opsdeck_redis::source::resp::Cmd::new("CLUSTER").arg("INFO"))
                .await
                .unwrap();
            info.text().unwrap().contains("cluster_state:ok")
        }
    })
    .await;
    fill(&mut c, "celery", 9).await;
    let inst = with_queues(own.instance(), |i| i.celery_queues = vec!["celery".into()]);
    let st = polled(&inst).await;
    assert!(st.info.as_ref().unwrap().cluster_enabled);
    let now = unix_now() as i64;
    let plan = actions::plan_move_to_backup(&st, "celery::celery", now).unwrap();
    let actions::Op::MoveToBackup { moves } = &plan.op else {
        panic!()
    };
    let backup = String::from_utf8(moves[0].1.0.clone()).unwrap();
    // The server's own slot numbers agree with ours.
    for key in ["celery", backup.as_str()] {
        assert_eq!(
            call(&mut c, &["CLUSTER", "KEYSLOT", key]).await,
            Value::Int(i64::from(actions::hash_slot(key.as_bytes())))
        );
    }
    // The plain name would cross slots: the server refuses that RENAME.
    let plain = format!("celery:opsdeck-backup:{}", actions::utc_stamp(now));
    if actions::hash_slot(plain.as_bytes()) != actions::hash_slot(b"celery") {
        let e = c
            .call(
                &opsdeck_redis::source::resp::Cmd::new("RENAME")
                    .arg("celery")
                    .arg(&plain),
            )
            .await
            .unwrap_err();
        assert!(e.message.starts_with("CROSSSLOT"), "{e}");
    }
    let out = run(&plan, &inst).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    assert_eq!(call(&mut c, &["LLEN", &backup]).await, Value::Int(9));
}

/// `calls=N` of one command in `INFO commandstats` (0 when never called).
async fn calls(c: &mut opsdeck_redis::source::conn::Connection, command: &str) -> u64 {
    let text = call(c, &["INFO", "commandstats"]).await.text().unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

#[tokio::test]
async fn discovery_scans_a_bounded_number_of_pages_per_poll_and_never_sends_keys() {
    let own = common::OwnRedis::start(&[]).await;
    let mut c = own.connect().await;
    for i in 0..60 {
        fill(&mut c, &format!("q:{i}"), 1).await;
        call(&mut c, &["SET", &format!("other:{i}"), "x"]).await;
    }
    let inst = with_queues(own.instance(), |i| {
        i.queue_patterns = vec!["q:*".into()];
        i.scan_count = 10;
        i.scan_calls = 2;
    });
    let cfg = section(vec![inst.clone()]);
    let mut src = InstanceSource::new(&inst, &cfg);
    let mut st = InstanceState::new(&inst.name, &inst.address);
    let mut found = Vec::new();
    for _ in 0..12 {
        let before = calls(&mut c, "scan").await;
        st.apply(src.poll().await);
        // Two walks (the pattern, and opsdeck's backups) of at most two pages each.
        assert!(calls(&mut c, "scan").await - before <= 4);
        found.push(st.queues.len());
    }
    assert!(
        found[0] < 60,
        "one poll of 2 pages of COUNT 10 cannot see 120 keys: {found:?}"
    );
    assert_eq!(*found.last().unwrap(), 60, "{found:?}");
    assert!(
        found.windows(2).all(|w| w[0] <= w[1]),
        "what a pass found stays until the next ends: {found:?}"
    );
    assert_eq!(calls(&mut c, "keys").await, 0);
}

/// A CA (`DIR/ca.*`), a server certificate of it for `wrong.opsdeck.invalid` (`DIR/wrong.*`), and a
/// CA that signed nothing here (`DIR/other/ca.*`), made by the peers' own TLS script.
fn wrong_host_certificates(dir: &std::path::Path) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/peers.d/tls.sh");
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(
            r#"set -e; need() { :; }; die() { echo "$*" >&2; exit 1; }; source "$1"
               tls_make_ca "$2" test
               tls_make_cert "$2" wrong wrong.opsdeck.invalid serverAuth DNS:wrong.opsdeck.invalid
               tls_make_ca "$2/other" other"#,
        )
        .arg("tls")
        .arg(&script)
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success(), "making certificates with {}", script.display());
}

#[tokio::test]
async fn ca_only_accepts_a_certificate_for_another_host_but_never_one_from_another_ca() {
    let certs = tempfile::tempdir().unwrap();
    wrong_host_certificates(certs.path());
    let tls_port = common::free_port();
    let d = certs.path().display();
    let own = common::OwnRedis::start(&[
        &format!("tls-port {tls_port}"),
        &format!("tls-cert-file {d}/wrong.crt"),
        &format!("tls-key-file {d}/wrong.key"),
        &format!("tls-ca-cert-file {d}/ca.crt"),
        "tls-auth-clients no",
    ])
    .await;
    let mut inst = own.instance();
    inst.address = format!("rediss://127.0.0.1:{tls_port}");
    inst.ca_file = Some(certs.path().join("ca.crt"));
    let e = polled(&inst)
        .await
        .error
        .expect("full verification refuses the host name");
    assert_eq!(e.kind, ErrorKind::Tls, "{e}");
    assert!(e.message.contains("not valid for name"), "{e}");

    inst.tls_verify = opsdeck_redis::config::TlsVerify::CaOnly;
    let st = polled(&inst).await;
    assert_eq!(st.error, None);
    assert!(st.info.is_some());

    inst.ca_file = Some(certs.path().join("other/ca.crt"));
    let e = polled(&inst).await.error.expect("another CA is refused even so");
    assert_eq!(e.kind, ErrorKind::Tls, "{e}");
    drop(own);
}

#[tokio::test]
async fn a_resque_backup_goes_back_at_the_right_end_even_when_its_queue_is_gone() {
    let address = peer!("OPSDECK_REDIS");
    let db = own_db();
    let mut admin = admin_on_fresh_db(db).await;
    // Resque RPUSHes and workers LPOP: the oldest item is at the left.
    call(
        &mut admin,
        &[
            "RPUSH",
            "resque:queue:high:opsdeck-backup:20261130T180312Z",
            "old",
            "new",
        ],
    )
    .await;
    let inst = with_queues(instance(&address, User::Operator, db), |i| {
        i.resque_namespaces = vec!["resque".into()]
    });
    let st = polled(&inst).await;
    let backup = st.queues.iter().find(|q| q.reading.kind == QueueKind::Backup).unwrap();
    let plan = actions::plan_requeue(&st, &backup.reading.id(), &section(vec![])).unwrap();
    assert!(
        plan.call
            .starts_with("LMOVE resque:queue:high:opsdeck-backup:20261130T180312Z resque:queue:high LEFT RIGHT"),
        "{}",
        plan.call
    );
    call(&mut admin, &["RPUSH", "resque:queue:high", "arrived meanwhile"]).await;
    let out = run(&plan, &inst).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    let items: Vec<String> = lrange(&mut admin, "resque:queue:high")
        .await
        .iter()
        .map(|v| v.text().unwrap())
        .collect();
    assert_eq!(items, ["arrived meanwhile", "old", "new"]);
}

#[tokio::test]
async fn a_namespaced_sidekiq_shows_its_queues_including_an_empty_one_named_in_its_set() {
    let address = peer!("OPSDECK_REDIS");
    let db = own_db();
    let mut admin = admin_on_fresh_db(db).await;
    call(&mut admin, &["SADD", "myapp:queues", "critical", "idle"]).await;
    fill(&mut admin, "myapp:queue:critical", 3).await;
    // Another app's queue on the same server, outside the namespace.
    fill(&mut admin, "queue:critical", 5).await;
    let inst = with_queues(instance(&address, User::Admin, db), |i| {
        i.sidekiq_namespaces = vec!["myapp".into()]
    });
    let st = polled(&inst).await;
    let found: Vec<(String, Option<String>, u64)> = st
        .queues
        .iter()
        .filter(|q| q.reading.kind == QueueKind::Sidekiq)
        .map(|q| (q.reading.name.clone(), q.reading.namespace.clone(), q.reading.total()))
        .collect();
    let ns = Some("myapp".to_string());
    assert_eq!(found, [("critical".into(), ns.clone(), 3), ("idle".into(), ns, 0)]);
}
