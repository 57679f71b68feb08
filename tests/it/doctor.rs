//! `opsdeck doctor`, the real binary against the test fleet: sshd and supervisord with a stand-in
//! sudo that answers `sudo -n -l` from a policy file, PostgreSQL roles with and without the
//! checkpoint table's grants, moto, and (when `scripts/peers` started them) Kafka and OpenSearch.

#![allow(dead_code)]

#[path = "../hosts/harness.rs"]
mod harness;
#[allow(unused)]
#[path = "../peers/env.rs"]
mod peers_env;
#[path = "../pillows/common.rs"]
mod pillows_common;
#[path = "../queues/harness.rs"]
mod queues_harness;
#[path = "../hosts/sudo_fleet.rs"]
mod sudo_fleet;

use harness::{Sshd, Supervisord, free_port};
use pillows_common::{HQ_TABLE, TempDb};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use sudo_fleet::{ssh_section, stand_in_sudo, sudo_template};

fn doctor(config: &Path, extra: &[&str]) -> (Output, String) {
    let home = config.parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("doctor")
        .args(extra)
        .arg("--config")
        .arg(config)
        .env("HOME", home)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

/// `opsdeck doctor --config file`'s lines, once it exited with `code`.
fn doctor_exits(config: &Path, code: i32) -> String {
    let (out, stdout) = doctor(config, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stdout}{stderr}");
    stdout
}

/// The verdict on `pane source capability`'s line (the words after the capability).
fn verdict<'a>(stdout: &'a str, pane: &str, source: &str, capability: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix(pane)?.trim_start().strip_prefix(source)?;
            let rest = rest.strip_prefix("  ")?.trim_start().strip_prefix(capability)?;
            rest.starts_with("  ").then(|| rest.trim())
        })
        .unwrap_or_else(|| panic!("no line for {pane} {source} {capability}:\n{stdout}"))
}

/// A role of its own on the test PostgreSQL (dropped with [`drop_role`]).
async fn role(db: &TempDb, admin: &tokio_postgres::Client, grants: &str) -> (String, String) {
    let name = format!("{}_role", db.name);
    let password = format!("pw{}", std::process::id());
    admin
        .batch_execute(&format!(
            "CREATE ROLE {name} LOGIN PASSWORD '{password}'; GRANT USAGE ON SCHEMA public TO {name}; {}",
            grants.replace("ROLE", &name)
        ))
        .await
        .unwrap();
    let conn = format!(
        "host=127.0.0.1 port=5432 user={name} password={password} dbname={}",
        db.name
    );
    (name, conn)
}

async fn drop_role(admin: &tokio_postgres::Client, name: &str) {
    let _ = admin
        .batch_execute(&format!("DROP OWNED BY {name}; DROP ROLE IF EXISTS {name}"))
        .await;
}

/// A topic of 2 partitions on the test broker, once the metadata lists it with leaders.
async fn create_topic(brokers: &str, topic: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let mut config = rdkafka::ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    let admin: AdminClient<_> = config.create().unwrap();
    let created = admin
        .create_topics(
            [&NewTopic::new(topic, 2, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let probe: BaseConsumer = config.create().unwrap();
    let led = || {
        probe
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .is_ok_and(|md| {
                md.topics()
                    .first()
                    .is_some_and(|t| t.partitions().len() == 2 && t.partitions().iter().all(|p| p.leader() >= 0))
            })
    };
    assert!(
        harness::eventually(Duration::from_secs(30), || std::future::ready(led())).await,
        "{topic}: no leader for every partition"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_whose_credentials_can_do_everything_exits_0() {
    let sshd = Sshd::start();
    let sup = Supervisord::start(&[("tile-worker", "/bin/sleep 3600")]);
    let sudo = stand_in_sudo(sshd.dir.path());
    let moto = queues_harness::Moto::start().await;
    let aws = queues_harness::backend(&queues_harness::aws_config(&moto.endpoint)).await;
    queues_harness::create_queue(&aws, "ingest", &[]).await;
    let mut text = ssh_section(&sshd, &sudo_template(&sudo, &sup), &[("worker-1", "127.0.0.1")]);
    text.push_str(&format!(
        "\n[aws]\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\naccess_key_id = \"testing\"\n\
         secret_access_key = \"testing\"\nqueues = [\"ingest\"]\ncloudwatch = true\ntimeout = \"10s\"\n",
        moto.endpoint
    ));
    // The peers `scripts/test` starts (each required under CI, skipped by hand when not running).
    if let Some(url) = peers_env::lookup("OPSDECK_OPENSEARCH") {
        text.push_str(&format!(
            "\n[elasticsearch]\nurl = \"{url}\"\nrequest_timeout = \"10s\"\n"
        ));
    }
    let kafka = peers_env::lookup("OPSDECK_KAFKA");
    if let Some(brokers) = &kafka {
        let topic = peers_env::unique("doctor");
        create_topic(brokers, &topic).await;
        text.push_str(&format!(
            "\n[pillows]\nbrokers = \"{brokers}\"\ntimeout = \"10s\"\n\n[[pillows.pillow]]\nname = \"grouped\"\n\
             group = \"{topic}-group\"\ntopics = [\"{topic}\"]\n"
        ));
    }
    let file = sshd.path("opsdeck.toml");
    std::fs::write(&file, &text).unwrap();

    let stdout = doctor_exits(&file, 0);
    if let Some(brokers) = &kafka {
        for read in ["read metadata", "read log offsets"] {
            assert_eq!(verdict(&stdout, "pillows", brokers, read), "ok");
        }
        assert!(verdict(&stdout, "pillows", "grouped", "read group offsets").starts_with("ok"));
    }
    assert_eq!(verdict(&stdout, "hosts", "worker-1", "login"), "ok");
    assert_eq!(
        verdict(&stdout, "hosts", "worker-1", "read programs"),
        "ok (1 program(s))"
    );
    for action in ["restart", "start", "stop"] {
        assert_eq!(
            verdict(&stdout, "hosts", "worker-1", &format!("{action} programs")),
            "ok"
        );
    }
    assert_eq!(verdict(&stdout, "queues", "ingest", "read queue"), "ok");
    assert_eq!(verdict(&stdout, "queues", &moto.endpoint, "read metrics"), "ok");
    assert_eq!(
        verdict(&stdout, "queues", &moto.endpoint, "purge, redrive"),
        "not checked (IAM is not queried)",
        "a neutral line, not ok"
    );
    if stdout.contains("elasticsearch") {
        for read in [
            "read health",
            "read node stats",
            "read shards",
            "read allocation",
            "read settings",
        ] {
            assert!(
                stdout
                    .lines()
                    .any(|l| l.starts_with("elasticsearch") && l.contains(read) && l.ends_with(" ok")),
                "{read}:\n{stdout}"
            );
        }
        // The OpenSearch peer has no security plugin: doctor says so rather than guess.
        assert!(
            stdout.contains("change allocation") && stdout.contains("ok (security off: every action permitted)"),
            "{stdout}"
        );
    }

    // The same as one JSON document.
    let (out, json) = doctor(&file, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["problems"], 0);
    let login = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["capability"] == "login")
        .unwrap();
    assert_eq!(login["status"], "ok");
    assert_eq!(login["source"], "worker-1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_sudo_and_an_unknown_host_key_are_named_and_exit_1() {
    let sshd = Sshd::start();
    let sup = Supervisord::start(&[("tile-worker", "/bin/sleep 3600")]);
    let sudo = stand_in_sudo(sshd.dir.path());
    // sudoers that allows status but not restart.
    std::fs::write(sshd.path("refused"), "*supervisorctl*restart*\n").unwrap();
    // "localhost" is the same sshd, but known_hosts pins its key for 127.0.0.1 only.
    let text = ssh_section(
        &sshd,
        &sudo_template(&sudo, &sup),
        &[("worker-1", "127.0.0.1"), ("stranger", "localhost")],
    );
    // A pillow whose process is that program: its restart goes through the same sudo (and its
    // Kafka is where nothing answers).
    let restart = sudo_template(&sudo, &sup).replace("{action}", "restart");
    let text = text
        + &format!(
            "\n[pillows]\nbrokers = \"127.0.0.1:{}\"\ntimeout = \"3s\"\nrestart_command = {}\n\n\
             [[pillows.pillow]]\nname = \"case-pillow\"\ngroup = \"case-group\"\ntopics = [\"case\"]\n\
             processes = 1\nhosts = [\"worker-1\"]\nprogram = \"tile-worker\"\n",
            free_port(),
            toml::Value::String(restart)
        );
    let file = sshd.path("opsdeck.toml");
    std::fs::write(&file, &text).unwrap();
    let known_hosts = std::fs::read_to_string(sshd.path("known_hosts")).unwrap();

    let stdout = doctor_exits(&file, 1);
    let restart = verdict(&stdout, "hosts", "worker-1", "restart programs");
    assert!(
        restart.starts_with("MISSING sudo:")
            && restart.contains("not allowed to run")
            && restart.contains("restart tile-worker"),
        "{restart}"
    );
    assert_eq!(
        verdict(&stdout, "hosts", "worker-1", "stop programs"),
        "ok",
        "only restart is refused"
    );
    assert_eq!(
        verdict(&stdout, "hosts", "worker-1", "read programs"),
        "ok (1 program(s))"
    );
    let pillow = verdict(&stdout, "pillows", "case-pillow", "restart");
    assert!(
        pillow.starts_with("MISSING sudo:") && pillow.contains("restart tile-worker") && pillow.contains("on worker-1"),
        "{pillow}"
    );
    let stranger = verdict(&stdout, "hosts", "stranger", "login");
    assert!(stranger.starts_with("UNREACHABLE host key not known"), "{stranger}");
    assert!(
        !stdout.lines().any(|l| l.contains("stranger") && !l.contains("login")),
        "nothing else is asked of a host doctor cannot log into:\n{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(sshd.path("known_hosts")).unwrap(),
        known_hosts,
        "the unknown key was not accepted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_without_select_on_the_checkpoint_table_is_named_and_with_it_is_ok() {
    let (db, admin) = TempDb::new().await;
    admin.batch_execute(HQ_TABLE).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (name, conn) = role(&db, &admin, "").await;
    // Kafka is where nothing answers: doctor says so once, within its timeout.
    let dead_kafka = format!("127.0.0.1:{}", free_port());
    let config = |conn: &str| {
        format!(
            "[pillows]\nbrokers = \"{dead_kafka}\"\npostgres = {}\ntimeout = \"3s\"\n\n\
             [[pillows.pillow]]\nname = \"case-pillow\"\ncheckpoint_id = \"case-pillow-id\"\n",
            toml::Value::String(conn.into())
        )
    };
    let file = dir.path().join("opsdeck.toml");
    std::fs::write(&file, config(&conn)).unwrap();
    let source = format!("127.0.0.1/{} table pillowtop_kafkacheckpoint", db.name);

    let started = Instant::now();
    let stdout = doctor_exits(&file, 1);
    assert_eq!(
        verdict(&stdout, "pillows", &source, "read checkpoints"),
        format!("MISSING SELECT on pillowtop_kafkacheckpoint (role {name})")
    );
    assert_eq!(
        verdict(&stdout, "pillows", &source, "move checkpoints"),
        format!("MISSING UPDATE (\"offset\", last_modified) on pillowtop_kafkacheckpoint (role {name})")
    );
    assert!(
        verdict(&stdout, "pillows", &dead_kafka, "read metadata").starts_with("UNREACHABLE"),
        "{stdout}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded: {:?}",
        started.elapsed()
    );

    // The viewing grant: reads are ok, moving is still missing (exactly docs/least-privilege.md).
    admin
        .batch_execute(&format!("GRANT SELECT ON pillowtop_kafkacheckpoint TO {name}"))
        .await
        .unwrap();
    let (_, stdout) = doctor(&file, &[]);
    assert_eq!(verdict(&stdout, "pillows", &source, "read checkpoints"), "ok");
    assert!(verdict(&stdout, "pillows", &source, "move checkpoints").starts_with("MISSING UPDATE"));
    // And the operating grant.
    admin
        .batch_execute(&format!(
            "GRANT UPDATE (\"offset\", last_modified) ON pillowtop_kafkacheckpoint TO {name}"
        ))
        .await
        .unwrap();
    let (_, stdout) = doctor(&file, &[]);
    assert_eq!(verdict(&stdout, "pillows", &source, "move checkpoints"), "ok");
    assert_eq!(
        verdict(&stdout, "pillows", &source, "connect"),
        format!("ok (as {name})")
    );
    drop_role(&admin, &name).await;
}

#[test]
fn a_broken_config_exits_2_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsdeck.toml");
    std::fs::write(&file, "[ssh]\ncommand_timeout = \"10s\"\nmax_sesions = 3\n").unwrap();
    let (out, stdout) = doctor(&file, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("{}:3", file.display())) && stderr.contains("max_sesions"),
        "{stderr}"
    );
    let (out, _) = doctor(&dir.path().join("missing.toml"), &[]);
    assert_eq!(out.status.code(), Some(2), "a config that does not exist");
}

#[test]
fn help_documents_the_exit_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["doctor", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for said in [
        "0 every capability ok",
        "1 something the console offers",
        "2 doctor could not run",
        "--json",
    ] {
        assert!(help.contains(said), "{said}:\n{help}");
    }
}

/// `ssh.files_prefix = ["sudo", "-n"]`: the junk search, the removal script and du are each asked of
/// sudo with their exact words; sudoers that allow find and du but not `sh` name the removal.
#[tokio::test(flavor = "multi_thread")]
async fn file_commands_through_sudo_are_asked_of_sudo() {
    let sshd = Sshd::start();
    let sup = Supervisord::start(&[("tile-worker", "/bin/sleep 3600")]);
    let sudo = stand_in_sudo(sshd.dir.path());
    std::fs::write(sshd.path("refused"), "sh -c *\n").unwrap();
    let dumps = sshd.path("es dumps");
    std::fs::create_dir_all(&dumps).unwrap();
    let text = ssh_section(&sshd, &sudo_template(&sudo, &sup), &[("es-1", "127.0.0.1")]).replacen(
        "[ssh]\n",
        &format!("[ssh]\nfiles_prefix = [{}, \"-n\"]\n", sudo_fleet::quoted(&sudo)),
        1,
    ) + &format!("junk_paths = [{}]\n", sudo_fleet::quoted(&dumps));
    let file = sshd.path("opsdeck.toml");
    std::fs::write(&file, &text).unwrap();
    let stdout = doctor_exits(&file, 1);
    assert_eq!(verdict(&stdout, "hosts", "es-1", "find junk"), "ok");
    assert_eq!(verdict(&stdout, "hosts", "es-1", "du"), "ok");
    let remove = verdict(&stdout, "hosts", "es-1", "remove junk");
    assert!(
        remove.starts_with("MISSING sudo:") && remove.contains("not allowed to run sh -c"),
        "{remove}"
    );
    assert_eq!(verdict(&stdout, "hosts", "es-1", "restart programs"), "ok");
}

/// The fallback for a pane without checks of its own (`by_polling`): one poll — ok against moto,
/// unreachable with the poll's error where nothing answers — and its actions "not checked".
#[tokio::test(flavor = "multi_thread")]
async fn a_pane_without_checks_of_its_own_is_polled_once() {
    use opsdeck_core::doctor::{Verdict, by_polling};
    use opsdeck_queues::Queues;
    let moto = queues_harness::Moto::start().await;
    for (endpoint, reachable) in [
        (moto.endpoint.clone(), true),
        (format!("http://127.0.0.1:{}", free_port()), false),
    ] {
        let mut config = opsdeck::config::Config {
            aws: queues_harness::aws_config(&endpoint),
            ..Default::default()
        };
        config.aws.queue_prefixes = vec!["doctor".into()];
        config.aws.timeout = opsdeck_core::config::ConfigDuration(Duration::from_secs(3));
        let (backends, _) = opsdeck::sources::Backends::connect(&config).await;
        let found = by_polling::<Queues, _>(&config, &backends).await;
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].capability, "read");
        assert_eq!(found[0].verdict.is_problem(), !reachable, "{found:#?}");
        assert!(matches!(found[1].verdict, Verdict::NotChecked(_)));
    }
}
