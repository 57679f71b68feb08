//! `sslmode = "disable"` against the machine's PostgreSQL on 127.0.0.1:5432 (trust for user postgres, as the
//! root package's pillow tests use it; `scripts/test` makes it answer). The test makes and drops its own
//! database.

use opsdeck_postgres::config::{PostgresConfig, ServerConfig, SslMode};
use opsdeck_postgres::source::PostgresSource;
use opsdeck_postgres::source::pg::PgSource;
use tokio_postgres::NoTls;

const PLAIN: &str = "host=127.0.0.1 port=5432 user=postgres";

async fn connect(database: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&format!("{PLAIN} dbname={database}"), NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "this test needs PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres \
                 (apt-get install postgresql; scripts/test starts it): {e}"
            )
        });
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn a_plain_server_is_read_with_sslmode_disable() {
    let db = format!(
        "opsdeck_pg_plain_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() % 1_000_000_000)
            .unwrap_or(0)
    );
    let admin = connect("postgres").await;
    admin.batch_execute(&format!("CREATE DATABASE {db}")).await.unwrap();
    connect(&db)
        .await
        .batch_execute(
            "CREATE TABLE pillow_retry_pillowerror (id serial PRIMARY KEY, doc_id varchar(255), pillow varchar(255),
               date_created timestamp, date_last_attempt timestamp, total_attempts integer, error_type varchar(255));
             INSERT INTO pillow_retry_pillowerror (doc_id, pillow, date_created, date_last_attempt, total_attempts, error_type)
             VALUES ('a', 'kafka-case-to-es', now(), now(), 1, 'KeyError'),
                    ('b', 'kafka-case-to-es', now(), now(), 2, 'KeyError')",
        )
        .await
        .unwrap();
    let server = ServerConfig {
        name: "local".into(),
        address: "127.0.0.1:5432".into(),
        database: "postgres".into(),
        user: "postgres".into(),
        password_env: None,
        password_file: None,
        password: None,
        sslmode: SslMode::Disable,
        sslrootcert: None,
        sslcert: None,
        sslkey: None,
        pillow_errors_database: Some(db.clone()),
    };
    let poll = PgSource::new(&server, &PostgresConfig::default()).unwrap().poll().await;
    admin
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .await
        .unwrap();
    let info = poll.info.unwrap();
    assert!(info.superuser && info.user == "postgres");
    assert!(poll.databases.unwrap().iter().any(|d| d.name == db));
    let groups = poll.pillow_errors.unwrap().unwrap();
    assert_eq!(
        groups
            .iter()
            .map(|g| (g.pillow.as_str(), g.errors, g.attempts))
            .collect::<Vec<_>>(),
        [("kafka-case-to-es", 2, Some(3))]
    );
}
