//! Until the pane is in the console (phase B), a way to use it by hand:
//!
//!   cargo run --example poll -- CONFIG.toml [--json]   poll every [[postgres.servers]] once, print verdicts
//!   cargo run --example poll -- --demo                 the demo's simulated server: verdicts, then terminate
//!                                                      its root blocker and poll again

use opsdeck_postgres::actions;
use opsdeck_postgres::analysis::verdicts;
use opsdeck_postgres::config::{PostgresConfig, validate};
use opsdeck_postgres::demo::{BLOCKER_PID, SimulatedSource};
use opsdeck_postgres::model::{ServerPoll, Signal};
use opsdeck_postgres::source::PostgresSource;
use opsdeck_postgres::source::pg::PgSource;
use std::process::ExitCode;

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    postgres: PostgresConfig,
}

fn print_verdicts(poll: &ServerPoll, config: &PostgresConfig) {
    let v = verdicts(poll, &config.thresholds);
    if v.is_empty() {
        println!("ok       {}: nothing to say", poll.server);
    }
    for v in v {
        println!(
            "{:<8} {}: {}",
            format!("{:?}", v.severity).to_lowercase(),
            v.server,
            v.message
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    if args.iter().any(|a| a == "--demo") {
        let config = PostgresConfig::default();
        let src = SimulatedSource::new("hq-db (simulated)");
        let poll = src.poll().await;
        print_verdicts(&poll, &config);
        let Some(blocker) = poll
            .sessions
            .as_ref()
            .ok()
            .and_then(|s| s.rows.iter().find(|r| r.pid == BLOCKER_PID))
        else {
            return ExitCode::FAILURE;
        };
        let plan = match actions::plan(src.server(), Signal::Terminate, blocker, poll.info.as_ref().ok()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "\nplan: {} [{:?} risk, confirm {:?}]\n  {}",
            plan.title, plan.risk, plan.confirm, plan.call
        );
        for d in &plan.details {
            println!("  {d}");
        }
        println!("  verify: {}", plan.verify);
        let outcome = actions::execute(&src, &plan, config.verify_timeout.get()).await;
        println!("outcome: {outcome:?}\n");
        print_verdicts(&src.poll().await, &config);
        return ExitCode::SUCCESS;
    }
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: poll CONFIG.toml [--json] | poll --demo");
        return ExitCode::from(2);
    };
    let file: File = match std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| toml::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut issues = Vec::new();
    validate(&file.postgres, &mut issues);
    for i in &issues {
        eprintln!("{path}: {}: {}", i.path, i.message);
    }
    if !issues.is_empty() {
        return ExitCode::from(2);
    }
    for server in &file.postgres.servers {
        match PgSource::new(server, &file.postgres) {
            Err(e) => println!("critical {}: {e}", server.name),
            Ok(src) => {
                let poll = src.poll().await;
                if json {
                    println!("{}", serde_json::to_string_pretty(&poll).unwrap_or_default());
                }
                print_verdicts(&poll, &file.postgres);
            }
        }
    }
    ExitCode::SUCCESS
}
