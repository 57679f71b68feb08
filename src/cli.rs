//! The command line: `opsdeck`, `opsdeck demo`, `opsdeck snapshot`, `opsdeck check`, `opsdeck doctor`,
//! `opsdeck config check`.

use crate::config::{self, Config};
use crate::keymap::Keymap;
use crate::runtime::{self, Console};
use clap::{Parser, Subcommand, ValueEnum};
use opsdeck_core::config::{ConfigError, ConfigIssue, Located};
use opsdeck_core::demo::StandIns;
use opsdeck_core::text::clean;
use opsdeck_core::theme::{self, Theme};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(name = "opsdeck", version, about = "Terminal operations console for data pipelines")]
pub struct Cli {
    /// Config file (default: $OPSDECK_CONFIG, then ~/.config/opsdeck/config.toml).
    #[arg(short, long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Show action plans but refuse to run them.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Theme (default, mono, midnight, or a file in the config dir's themes/).
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Keymap (default, vim, or a file in the config dir's keymaps/).
    #[arg(long, global = true)]
    pub keymap: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the console on the built-in demo fleet (no setup, loopback only).
    Demo {
        /// Print the demo fleet's snapshot as JSON instead of starting the console.
        #[arg(long)]
        snapshot: bool,
        /// Which fleet: `small` (simulated peers you can act on) or `xl` (a generated fleet at
        /// benchmark size: 3,200 partitions, 20,000 shards, 300 queues, 200 hosts; read-only).
        #[arg(long, value_enum, default_value_t = Fleet::Small)]
        fleet: Fleet,
        /// How often the console polls, e.g. `5s` (the demo's default is 2s).
        #[arg(long, value_parser = refresh_interval)]
        refresh: Option<std::time::Duration>,
    },
    /// Poll every configured source once and print one JSON document.
    Snapshot {
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Print one line per problem; exit 0 ok, 1 warning, 2 critical.
    Check,
    /// Check what the credentials can do: reach, log in, read, and perform each action offered.
    ///
    /// For every configured source, one line per capability: `PANE  SOURCE  CAPABILITY  VERDICT`,
    /// the verdict `ok`, `MISSING <the grant, role or sudoers line>`, `UNREACHABLE <why>` or
    /// `not checked (<why>)`. Nothing is changed: Elasticsearch `_has_privileges`, PostgreSQL
    /// `has_table_privilege`, `sudo -n -l COMMAND` over SSH, the AWS and Kafka read calls.
    ///
    /// Exit status: 0 every capability ok (or not checkable here); 1 something the console offers
    /// cannot be done or read (a missing grant, an unreachable source); 2 doctor could not run
    /// (config missing, unreadable or invalid: each mistake as FILE:LINE: key).
    Doctor {
        /// Print one JSON document (`findings`, `problems`) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Config file tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print where opsdeck reads and writes its files.
    Paths,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file; each mistake as FILE:LINE: key: what is wrong.
    Check { file: PathBuf },
}

/// The demo's fleets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fleet {
    Small,
    Xl,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
}

/// Exit codes: 0 ok; 1/2 from `check`; 2 also for unusable config or a failure to start.
pub async fn main(cli: Cli) -> i32 {
    crate::supervise::install_panic_hook();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("opsdeck: {}", clean(&format!("{e:#}")));
            2
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    match &cli.command {
        Some(Command::Config {
            command: ConfigCommand::Check { file },
        }) => Ok(config_check(file)),
        Some(Command::Paths) => {
            print_paths();
            Ok(0)
        }
        Some(Command::Demo {
            snapshot,
            fleet: Fleet::Xl,
            refresh,
        }) => demo_xl(&cli, *snapshot, *refresh).await,
        Some(Command::Demo { snapshot, refresh, .. }) => {
            let sandbox = std::env::temp_dir().join(format!("opsdeck-demo-{}", std::process::id()));
            let demo = crate::demo::DemoFleet::start(sandbox.clone()).await?;
            let mut config = demo.config.clone();
            if let Some(refresh) = refresh {
                config.general.refresh = opsdeck_core::config::ConfigDuration(*refresh);
            }
            // What was done in the demo stays on record where `opsdeck paths` says, after the
            // sandbox is gone (the demo's own tests keep theirs in their sandbox).
            config.general.audit_log = Some(opsdeck_core::paths::demo_audit_log());
            let _log = init_logging(&config);
            let stand_ins = demo.stand_ins.clone();
            let result = if *snapshot {
                print_snapshot(&config, &stand_ins).await
            } else {
                start_console(&cli, config, stand_ins, None).await.map(|_| 0)
            };
            drop(demo);
            let _ = std::fs::remove_dir_all(&sandbox);
            result
        }
        Some(Command::Snapshot { format: Format::Json }) => {
            let Some(config) = load_config(&cli)? else { return Ok(2) };
            let _log = init_logging(&config);
            print_snapshot(&config, &StandIns::default()).await
        }
        Some(Command::Check) => {
            let Some(config) = load_config(&cli)? else { return Ok(2) };
            let _log = init_logging(&config);
            let fleet = crate::snapshot::collect(&config).await;
            let (lines, code) = crate::snapshot::check_report(&fleet, &config);
            for l in lines {
                println!("{}", clean(&l));
            }
            Ok(code)
        }
        Some(Command::Doctor { json }) => {
            let Some(config) = load_config(&cli)? else { return Ok(2) };
            let _log = init_logging(&config);
            let findings = crate::doctor::findings(&config).await;
            if *json {
                let text = serde_json::to_string_pretty(&crate::doctor::to_json(&findings))?;
                println!("{}", opsdeck_core::text::escape_json_for_terminal(text));
            } else {
                for line in crate::doctor::lines(&findings) {
                    println!("{line}");
                }
            }
            Ok(crate::doctor::exit_code(&findings))
        }
        None => {
            let Some(config) = load_config(&cli)? else { return Ok(2) };
            let _log = init_logging(&config);
            start_console(&cli, config, StandIns::default(), None).await.map(|_| 0)
        }
    }
}

/// `opsdeck demo --fleet xl`: the console (or its snapshot) on the generated fleet-XL. Nothing is
/// connected and nothing started: the generator's pollers stand in for every client.
async fn demo_xl(cli: &Cli, snapshot: bool, refresh: Option<std::time::Duration>) -> anyhow::Result<i32> {
    use crate::demo::xl;
    let mut config = xl::config(&xl::XL);
    if let Some(refresh) = refresh {
        config.general.refresh = opsdeck_core::config::ConfigDuration(refresh);
    }
    config.general.audit_log = Some(opsdeck_core::paths::demo_audit_log());
    let _log = init_logging(&config);
    if snapshot {
        let fleet = xl::fleet(&xl::XL, 2);
        let json = serde_json::to_string_pretty(&crate::snapshot::to_json(&fleet, &config))?;
        println!("{}", opsdeck_core::text::escape_json_for_terminal(json));
        return Ok(0);
    }
    let generated = xl::Generated::new(xl::XL, config.general.refresh.into());
    start_console(cli, config, StandIns::default(), Some(generated))
        .await
        .map(|_| 0)
}

/// `demo --refresh`: a duration as the config writes one, from a second to an hour.
fn refresh_interval(text: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{e} (write it as the config does: 5s, 1m)"))?;
    if !(std::time::Duration::from_secs(1)..=std::time::Duration::from_secs(3600)).contains(&d) {
        return Err("the refresh must be between 1s and 1h".into());
    }
    Ok(d)
}

async fn print_snapshot(config: &Config, stand_ins: &StandIns) -> anyhow::Result<i32> {
    let fleet = crate::snapshot::collect_with(config, stand_ins).await;
    // serde escapes C0 controls; DEL, C1 and bidi controls it leaves raw, and a terminal may act on them.
    let json = serde_json::to_string_pretty(&crate::snapshot::to_json(&fleet, config))?;
    println!("{}", opsdeck_core::text::escape_json_for_terminal(json));
    Ok(0)
}

fn print_errors(errors: &[ConfigError]) {
    for e in errors {
        // The file's own text (a key name) is echoed back: it must not drive the terminal either.
        eprintln!("{}", clean(&e.to_string()));
    }
}

/// Checks of the config that need the UI's files: the theme and keymap named exist (shipped, or a
/// file in the config dir) and are names, not paths.
fn ui_checks(config: &Config) -> Vec<ConfigIssue> {
    let user_dir = opsdeck_core::paths::config_dir();
    let mut issues = Vec::new();
    for (key, kind, name, shipped) in [
        ("general.theme", "theme", &config.general.theme, theme::BUILTIN),
        (
            "general.keymap",
            "keymap",
            &config.general.keymap,
            crate::keymap::BUILTIN,
        ),
    ] {
        if let Err(why) = known_name(kind, name, shipped, user_dir.as_deref()) {
            issues.push(ConfigIssue::new(key, why));
        }
    }
    issues
}

/// Ok when `name` is a shipped theme or keymap (`kind`) or a file `NAME.toml` in the config dir's
/// `themes/` or `keymaps/`. Only plain names: `../../etc/passwd` would read any file.
fn known_name(kind: &str, name: &str, shipped: &[(&str, &str)], user_dir: Option<&Path>) -> Result<(), String> {
    let plain = !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let list = shipped.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    if !plain {
        return Err(format!(
            "{:?} is not a {kind} name (letters, digits, '-', '_', '.'; shipped: {list})",
            clean(name)
        ));
    }
    if shipped.iter().any(|(n, _)| *n == name) {
        return Ok(());
    }
    let dir = user_dir.map(|d| d.join(format!("{kind}s")));
    if let Some(dir) = &dir
        && dir.join(format!("{name}.toml")).is_file()
    {
        return Ok(());
    }
    let place = dir
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| format!("the config dir's {kind}s/"));
    Err(format!(
        "no {kind} {name:?} (shipped: {list}; or put {name}.toml in {place})"
    ))
}

fn config_check(file: &Path) -> i32 {
    match config::load_file_with(file, &ui_checks) {
        Ok(_) => {
            println!("{}: ok", file.display());
            0
        }
        Err(errors) => {
            print_errors(&errors);
            eprintln!("{} problem(s) in {}", errors.len(), file.display());
            1
        }
    }
}

/// Finds and loads the config; `Ok(None)` after telling the user what is wrong.
fn load_config(cli: &Cli) -> anyhow::Result<Option<Config>> {
    let located = match opsdeck_core::config::locate(cli.config.as_deref()) {
        Ok(l) => l,
        Err(looked) => {
            eprintln!("opsdeck: no config file found. Looked at:");
            for l in looked {
                eprintln!("  - {l}");
            }
            eprintln!();
            eprintln!("To start:");
            eprintln!("  opsdeck demo                      the console on a built-in demo fleet");
            eprintln!("  opsdeck --config FILE             your fleet (see config.example.toml for every key)");
            if let Some(p) = opsdeck_core::config::load::xdg_config_file() {
                eprintln!("  cp config.example.toml {}", p.display());
            }
            return Ok(None);
        }
    };
    if let Located::Env(p) | Located::Flag(p) = &located
        && !p.exists()
    {
        let how = if matches!(located, Located::Env(_)) {
            " (from $OPSDECK_CONFIG)"
        } else {
            ""
        };
        eprintln!("opsdeck: config file {}{how} does not exist", p.display());
        return Ok(None);
    }
    match config::load_file_with(located.path(), &ui_checks) {
        Ok(c) => Ok(Some(c)),
        Err(errors) => {
            print_errors(&errors);
            Ok(None)
        }
    }
}

async fn start_console(
    cli: &Cli,
    mut config: Config,
    stand_ins: StandIns,
    generated: Option<crate::demo::xl::Generated>,
) -> anyhow::Result<()> {
    let user_dir = opsdeck_core::paths::config_dir();
    if let Some(t) = &cli.theme {
        known_name("theme", t, theme::BUILTIN, user_dir.as_deref()).map_err(|e| anyhow::anyhow!("--theme: {e}"))?;
        config.general.theme = t.clone();
    }
    if let Some(k) = &cli.keymap {
        known_name("keymap", k, crate::keymap::BUILTIN, user_dir.as_deref())
            .map_err(|e| anyhow::anyhow!("--keymap: {e}"))?;
        config.general.keymap = k.clone();
    }
    let read_only = cli.read_only || config.general.read_only;
    let mut warnings = Vec::new();
    let mut theme = match Theme::load(&config.general.theme, user_dir.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            warnings.push(format!("theme: {e}; using default"));
            Theme::builtin("default").expect("shipped")
        }
    };
    if theme::no_color_requested() {
        theme = theme.without_colour();
    }
    let (keymap, problems) = Keymap::load(
        &config.general.keymap,
        user_dir.as_deref(),
        &crate::app::action_catalog(),
    );
    for p in &problems {
        tracing::warn!(keymap_problem = %p);
    }
    warnings.extend(problems.into_iter().map(|p| format!("keymap: {p}")));
    runtime::run(Console {
        config: Arc::new(config),
        keymap,
        theme,
        read_only,
        warnings,
        stand_ins,
        generated,
    })
    .await
}

fn print_paths() {
    let show = |what: &str, p: Option<PathBuf>| {
        println!(
            "{what:<15} {}",
            p.map(|p| p.display().to_string()).unwrap_or_else(|| "(none)".into())
        );
    };
    show("config file", opsdeck_core::config::load::xdg_config_file());
    show("config dir", opsdeck_core::paths::config_dir());
    show("themes", opsdeck_core::paths::config_dir().map(|d| d.join("themes")));
    show("keymaps", opsdeck_core::paths::config_dir().map(|d| d.join("keymaps")));
    show("audit log", Some(opsdeck_core::paths::default_audit_log()));
    show("demo audit log", Some(opsdeck_core::paths::demo_audit_log()));
    show("log file", Some(opsdeck_core::paths::default_log_file()));
}

/// Logs go to a file, never to the terminal the UI draws on. The guard flushes on drop.
pub fn init_logging(config: &Config) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = config
        .general
        .log_file
        .clone()
        .unwrap_or_else(opsdeck_core::paths::default_log_file);
    let dir = path.parent()?.to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    // Never block on a FIFO (O_NONBLOCK) nor log into a device.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&path)
        .ok()?;
    opsdeck_core::config::file::ensure_regular(&file.metadata().ok()?).ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSDECK_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
