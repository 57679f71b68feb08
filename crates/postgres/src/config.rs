//! The `[postgres]` section: servers to watch, how to reach them (TLS like libpq's `sslmode`), and the
//! thresholds of the verdicts. Secrets never sit in the file: a password comes from an env var or a file.

pub use opsdeck_core::config::{ConfigDuration, ConfigIssue};
use serde::Deserialize;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// How often the servers are polled: at most ten times a second, at least once a day.
pub const POLL_INTERVAL: RangeInclusive<Duration> = Duration::from_millis(100)..=Duration::from_secs(86_400);
/// One call (connect, one statement): a millisecond to an hour.
pub const CALL_TIMEOUT: RangeInclusive<Duration> = Duration::from_millis(1)..=Duration::from_secs(3_600);
/// A threshold on an age or a lag: up to a week.
pub const AGE: RangeInclusive<Duration> = Duration::from_millis(1)..=Duration::from_secs(7 * 86_400);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// Time between polls (default: `general.refresh`, like every other source's).
    pub refresh: Option<ConfigDuration>,
    /// Every call: connect, each statement (the server's `statement_timeout` too), each read.
    pub timeout: ConfigDuration,
    /// How long an action waits to see its effect in `pg_stat_activity`.
    pub verify_timeout: ConfigDuration,
    /// Rows read per list (sessions, databases, pillow-error groups): the rest is counted, not read.
    pub max_rows: u32,
    /// Query text is cut to this many characters by the server (`left(query, N)`).
    pub query_chars: u32,
    pub thresholds: Thresholds,
    pub servers: Vec<ServerConfig>,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            refresh: None,
            timeout: ConfigDuration::secs(5),
            verify_timeout: ConfigDuration::secs(10),
            max_rows: 200,
            query_chars: 400,
            thresholds: Thresholds::default(),
            servers: Vec::new(),
        }
    }
}

/// When a number becomes a warning or critical.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Connections in use as a fraction of `max_connections`.
    pub connections_warn: f64,
    pub connections_crit: f64,
    /// An active query running this long.
    pub long_query_warn: ConfigDuration,
    pub long_query_crit: ConfigDuration,
    /// A session idle inside an open transaction this long (it holds its locks and its snapshot).
    pub idle_in_transaction_warn: ConfigDuration,
    pub idle_in_transaction_crit: ConfigDuration,
    /// A session waiting on a lock this long (a blocking chain).
    pub blocked_warn: ConfigDuration,
    pub blocked_crit: ConfigDuration,
    /// Replication: a standby's replay lag (primary) or this replica's replay delay.
    pub replication_lag_warn: ConfigDuration,
    pub replication_lag_crit: ConfigDuration,
    /// Pillow errors of one pillow waiting for retry.
    pub pillow_errors_warn: u64,
    pub pillow_errors_crit: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            connections_warn: 0.75,
            connections_crit: 0.9,
            long_query_warn: ConfigDuration::secs(60),
            long_query_crit: ConfigDuration::secs(600),
            idle_in_transaction_warn: ConfigDuration::secs(60),
            idle_in_transaction_crit: ConfigDuration::secs(600),
            blocked_warn: ConfigDuration::secs(10),
            blocked_crit: ConfigDuration::secs(120),
            replication_lag_warn: ConfigDuration::secs(30),
            replication_lag_crit: ConfigDuration::secs(300),
            pillow_errors_warn: 1,
            pillow_errors_crit: 1_000,
        }
    }
}

/// One PostgreSQL server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Its name on screen and in actions' audit lines.
    pub name: String,
    /// `host:port` (`port` defaults to 5432); a DNS name or an IP address, which `verify-full` checks.
    pub address: String,
    /// The database the views connect to.
    #[serde(default = "default_database")]
    pub database: String,
    pub user: String,
    /// Name of the environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// A file whose first line is the password (mode 0600 is the user's business).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Accepted only to refuse it with a clear message: secrets do not belong in the config file.
    #[serde(default)]
    pub password: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub sslmode: SslMode,
    /// CA certificates (PEM) the server's chain must end in: needed by `verify-ca` and `verify-full`.
    #[serde(default)]
    pub sslrootcert: Option<PathBuf>,
    /// A client certificate (PEM) and its key, for servers that ask for one (`clientcert=verify-full`).
    #[serde(default)]
    pub sslcert: Option<PathBuf>,
    #[serde(default)]
    pub sslkey: Option<PathBuf>,
    /// CommCare HQ's database, where `pillow_retry_pillowerror` lives; no pillow errors are read without it.
    #[serde(default)]
    pub pillow_errors_database: Option<String>,
}

/// `sslrootcert = "system"`: the operating system's trust store (as libpq 16 reads it).
pub const SYSTEM_ROOTS: &str = "system";

fn default_database() -> String {
    "postgres".to_string()
}

/// libpq's `sslmode`, less `allow` and `prefer`: a console for on-call work should not quietly fall back
/// to plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS; the certificate is not checked unless `sslrootcert` is set, then its chain is (as libpq does).
    Require,
    /// TLS, the chain checked against `sslrootcert`, not the name.
    VerifyCa,
    /// TLS, the chain and the host name checked.
    #[default]
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

impl ServerConfig {
    /// `(host, port)` from `address`.
    pub fn host_port(&self) -> Result<(String, u16), String> {
        split_address(&self.address)
    }

    /// The password, read now from its env var or file (`None` when neither is set).
    pub fn password(&self) -> Result<Option<String>, String> {
        if let Some(var) = &self.password_env {
            return std::env::var(var)
                .map(Some)
                .map_err(|_| format!("the environment variable {var} (password_env) is not set"));
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read password_file {}: {e}", path.display()))?;
            let first = text.lines().next().unwrap_or("").to_string();
            if first.is_empty() {
                return Err(format!("password_file {} is empty", path.display()));
            }
            return Ok(Some(first));
        }
        Ok(None)
    }
}

fn split_address(address: &str) -> Result<(String, u16), String> {
    let address = address.trim();
    if address.is_empty() {
        return Err("is empty: expected host:port".into());
    }
    // [v6]:port, host:port, or a bare host.
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("{address:?}: missing ] after an IPv6 address"))?;
        (host, tail.strip_prefix(':'))
    } else {
        match address.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (address, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(format!("{address:?}: expected host:port"));
    }
    let port = match port {
        None => 5432,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{address:?}: the port must be a number from 1 to 65535"))?,
    };
    Ok((host.to_string(), port))
}

/// What serde cannot check: ranges, names, secrets and TLS material that go together.
pub fn validate(config: &PostgresConfig, issues: &mut Vec<ConfigIssue>) {
    let key = |k: &str| format!("postgres.{k}");
    if let Some(refresh) = config.refresh {
        refresh.check(&key("refresh"), &POLL_INTERVAL, issues);
    }
    config.timeout.check(&key("timeout"), &CALL_TIMEOUT, issues);
    config
        .verify_timeout
        .check(&key("verify_timeout"), &CALL_TIMEOUT, issues);
    if !(1..=10_000).contains(&config.max_rows) {
        issues.push(ConfigIssue::new(key("max_rows"), "must be from 1 to 10000"));
    }
    if !(16..=100_000).contains(&config.query_chars) {
        issues.push(ConfigIssue::new(key("query_chars"), "must be from 16 to 100000"));
    }
    validate_thresholds(&config.thresholds, issues);
    let mut names = std::collections::HashSet::new();
    for (i, server) in config.servers.iter().enumerate() {
        let at = |k: &str| format!("postgres.servers[{i}].{k}");
        if server.name.trim().is_empty() {
            issues.push(ConfigIssue::new(at("name"), "is empty"));
        } else if !names.insert(server.name.as_str()) {
            issues.push(ConfigIssue::new(
                at("name"),
                format!("{:?} names two servers", server.name),
            ));
        }
        if let Err(e) = server.host_port() {
            issues.push(ConfigIssue::new(at("address"), e));
        }
        if server.user.trim().is_empty() {
            issues.push(ConfigIssue::new(at("user"), "is empty"));
        }
        if server.password.is_some() {
            issues.push(ConfigIssue::new(
                at("password"),
                "passwords are not written in the config file: use password_env (a variable's name) or password_file",
            ));
        }
        if server.password_env.is_some() && server.password_file.is_some() {
            issues.push(ConfigIssue::new(
                at("password_env"),
                "set password_env or password_file, not both",
            ));
        }
        let verifies = matches!(server.sslmode, SslMode::VerifyCa | SslMode::VerifyFull);
        if verifies && server.sslrootcert.is_none() {
            issues.push(ConfigIssue::new(
                at("sslrootcert"),
                format!(
                    "sslmode = \"{}\" checks the server's certificate against a CA: name its PEM file here \
                     (or set sslmode = \"require\" to skip the check)",
                    server.sslmode.as_str()
                ),
            ));
        }
        if server.sslmode == SslMode::Disable
            && (server.sslrootcert.is_some() || server.sslcert.is_some() || server.sslkey.is_some())
        {
            issues.push(ConfigIssue::new(
                at("sslmode"),
                "is \"disable\" but TLS files are set: which is meant?",
            ));
        }
        if server.sslcert.is_some() != server.sslkey.is_some() {
            issues.push(ConfigIssue::new(at("sslcert"), "sslcert and sslkey go together"));
        }
        for (k, path) in [
            ("sslrootcert", &server.sslrootcert),
            ("sslcert", &server.sslcert),
            ("sslkey", &server.sslkey),
            ("password_file", &server.password_file),
        ] {
            if let Some(p) = path
                && !(k == "sslrootcert" && p.as_os_str() == SYSTEM_ROOTS)
                && !p.is_file()
            {
                issues.push(ConfigIssue::new(
                    at(k),
                    format!("{} is not a readable file", p.display()),
                ));
            }
        }
    }
}

fn validate_thresholds(t: &Thresholds, issues: &mut Vec<ConfigIssue>) {
    let key = |k: &str| format!("postgres.thresholds.{k}");
    for (name, v) in [
        ("connections_warn", t.connections_warn),
        ("connections_crit", t.connections_crit),
    ] {
        if !(v > 0.0 && v <= 1.0) {
            issues.push(ConfigIssue::new(
                key(name),
                "is a fraction of max_connections: above 0, at most 1",
            ));
        }
    }
    if t.connections_warn > t.connections_crit {
        issues.push(ConfigIssue::new(key("connections_warn"), "is above connections_crit"));
    }
    let pairs = [
        ("long_query", t.long_query_warn, t.long_query_crit),
        (
            "idle_in_transaction",
            t.idle_in_transaction_warn,
            t.idle_in_transaction_crit,
        ),
        ("blocked", t.blocked_warn, t.blocked_crit),
        ("replication_lag", t.replication_lag_warn, t.replication_lag_crit),
    ];
    for (name, warn, crit) in pairs {
        warn.check(&key(&format!("{name}_warn")), &AGE, issues);
        crit.check(&key(&format!("{name}_crit")), &AGE, issues);
        if warn > crit {
            issues.push(ConfigIssue::new(
                key(&format!("{name}_warn")),
                format!("is above {name}_crit"),
            ));
        }
    }
    if t.pillow_errors_warn == 0 || t.pillow_errors_warn > t.pillow_errors_crit {
        issues.push(ConfigIssue::new(
            key("pillow_errors_warn"),
            "must be at least 1 and at most pillow_errors_crit",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        postgres: PostgresConfig,
    }

    fn load(text: &str) -> Result<(PostgresConfig, Vec<String>), String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut issues = Vec::new();
        validate(&file.postgres, &mut issues);
        Ok((
            file.postgres,
            issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect(),
        ))
    }

    #[test]
    fn a_full_server_reads_with_libpq_names() {
        let dir = std::env::temp_dir();
        let ca = dir.join(format!("opsdeck-pg-ca-{}.pem", std::process::id()));
        std::fs::write(&ca, "not checked here").unwrap();
        let (config, issues) = load(&format!(
            r#"
            [postgres]
            refresh = "15s"
            timeout = "3s"
            thresholds = {{ long_query_warn = "2m", long_query_crit = "20m" }}
            [[postgres.servers]]
            name = "hq-db"
            address = "db1.example.org:6432"
            user = "opsdeck_ro"
            password_env = "HQ_DB_PASSWORD"
            sslmode = "verify-full"
            sslrootcert = "{}"
            pillow_errors_database = "commcarehq"
            "#,
            ca.display()
        ))
        .unwrap();
        assert_eq!(issues, Vec::<String>::new());
        assert_eq!(config.refresh.map(ConfigDuration::get), Some(Duration::from_secs(15)));
        assert_eq!(config.thresholds.long_query_warn.get(), Duration::from_secs(120));
        assert_eq!(
            config.thresholds.idle_in_transaction_warn,
            Thresholds::default().idle_in_transaction_warn
        );
        let server = &config.servers[0];
        assert_eq!(server.host_port().unwrap(), ("db1.example.org".to_string(), 6432));
        assert_eq!(server.database, "postgres");
        assert_eq!(server.sslmode, SslMode::VerifyFull);
        std::fs::remove_file(ca).unwrap();
    }

    #[test]
    fn mistakes_are_named_by_key() {
        let (_, issues) = load(
            r#"
            [postgres]
            refresh = "10ms"
            max_rows = 0
            thresholds = { connections_warn = 0.95, connections_crit = 0.9 }
            [[postgres.servers]]
            name = "a"
            address = "db:99999"
            user = "u"
            password = "hunter2"
            [[postgres.servers]]
            name = "a"
            address = "db"
            user = "u"
            sslmode = "require"
            sslcert = "/nonexistent/c.pem"
            "#,
        )
        .unwrap();
        let expected = [
            "postgres.refresh: 10ms is out of range",
            "postgres.max_rows: must be from 1 to 10000",
            "postgres.thresholds.connections_warn: is above connections_crit",
            "postgres.servers[0].address: \"db:99999\": the port must be a number",
            "postgres.servers[0].password: passwords are not written in the config file",
            "postgres.servers[0].sslrootcert: sslmode = \"verify-full\" checks",
            "postgres.servers[1].name: \"a\" names two servers",
            "postgres.servers[1].sslcert: sslcert and sslkey go together",
            "postgres.servers[1].sslcert: /nonexistent/c.pem is not a readable file",
        ];
        for e in expected {
            assert!(issues.iter().any(|i| i.starts_with(e)), "missing {e:?} in {issues:#?}");
        }
        assert_eq!(issues.len(), expected.len(), "{issues:#?}");
    }

    #[test]
    fn unknown_keys_and_modes_are_refused() {
        let e = load("[postgres]\nrefesh = \"5s\"").unwrap_err();
        assert!(e.contains("unknown field `refesh`"), "{e}");
        let e = load("[[postgres.servers]]\nname='a'\naddress='h'\nuser='u'\nsslmode='prefer'").unwrap_err();
        assert!(e.contains("unknown variant `prefer`"), "{e}");
    }

    #[test]
    fn the_example_section_reads_without_issues() {
        let (config, issues) = load(include_str!("../../../config.example.toml")).unwrap();
        assert_eq!(config.servers.len(), 2);
        assert_eq!(config.thresholds, Thresholds::default());
        assert_eq!((config.refresh, config.max_rows), (Some(ConfigDuration::secs(10)), 200));
        assert_eq!(config.servers[1].sslmode, SslMode::Require);
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn addresses() {
        assert_eq!(split_address("10.0.0.1").unwrap(), ("10.0.0.1".into(), 5432));
        assert_eq!(split_address("[::1]:5433").unwrap(), ("::1".into(), 5433));
        assert!(split_address("").is_err());
        assert!(split_address("db:x").is_err());
        assert!(split_address("db:0").is_err());
    }

    #[test]
    fn password_from_env_or_file() {
        let mut server: ServerConfig = toml::from_str("name='a'\naddress='h'\nuser='u'").unwrap();
        assert_eq!(server.password().unwrap(), None);
        server.password_env = Some("OPSDECK_PG_TEST_UNSET_VARIABLE".into());
        assert!(
            server
                .password()
                .unwrap_err()
                .contains("OPSDECK_PG_TEST_UNSET_VARIABLE")
        );
        let file = std::env::temp_dir().join(format!("opsdeck-pg-pw-{}", std::process::id()));
        std::fs::write(&file, "s3cret\nignored\n").unwrap();
        server.password_env = None;
        server.password_file = Some(file.clone());
        assert_eq!(server.password().unwrap().as_deref(), Some("s3cret"));
        std::fs::remove_file(file).unwrap();
    }
}
