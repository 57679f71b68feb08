//! `opsdeck doctor`: for every configured source, whether opsdeck can reach it, log in, read what
//! its pane shows and perform each action it offers, checked without changing anything (each
//! pane's checks are in its crate's `doctor.rs`). One line per source and capability, or `--json`.

use crate::config::Config;
use crate::sources::Backends;
use opsdeck_core::doctor::{Finding, Verdict};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Exit status when every capability is ok (or cannot be checked here).
pub const ALL_OK: i32 = 0;
/// Exit status when something the console offers cannot be done or read.
pub const PROBLEMS: i32 = 1;

/// Every configured source's findings: clients that cannot even be set up (a bad CA file) are a
/// finding of their own, then every pane's checks, concurrently.
pub async fn findings(config: &Config) -> Vec<Finding> {
    let (backends, setup) = Backends::connect(config).await;
    let mut all: Vec<Finding> = setup
        .into_iter()
        .map(|e| {
            Finding::new(
                e.kind.name(),
                e.kind.name(),
                "set up clients",
                Verdict::Unreachable(e.error),
            )
            .cleaned()
        })
        .collect();
    all.extend(diagnose(config, &backends).await);
    if let Some(ssh) = &backends.ssh {
        ssh.shutdown().await;
    }
    all
}

/// The console's background checks: one run at a time, started at start and on each refresh a
/// person asks for; the findings reach the app through `tx` (actions they rule out are offered
/// as unavailable). A refresh while a run is still going is left to that run.
pub struct BackgroundChecks {
    config: Arc<Config>,
    backends: Backends,
    tx: mpsc::UnboundedSender<Vec<Finding>>,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl BackgroundChecks {
    pub fn new(config: Arc<Config>, backends: Backends, tx: mpsc::UnboundedSender<Vec<Finding>>) -> Self {
        Self {
            config,
            backends,
            tx,
            running: None,
        }
    }

    pub fn start(&mut self) {
        if self.running.as_ref().is_some_and(|r| !r.is_finished()) {
            return;
        }
        let (config, backends, tx) = (self.config.clone(), self.backends.clone(), self.tx.clone());
        self.running = Some(tokio::spawn(async move {
            let _ = tx.send(diagnose(&config, &backends).await);
        }));
    }
}

impl Drop for BackgroundChecks {
    fn drop(&mut self) {
        if let Some(r) = &self.running {
            r.abort();
        }
    }
}

/// The exit status for `findings`: [`PROBLEMS`] when any is a missing grant or an unreachable source.
pub fn exit_code(findings: &[Finding]) -> i32 {
    if findings.iter().any(|f| f.verdict.is_problem()) {
        PROBLEMS
    } else {
        ALL_OK
    }
}

/// One aligned line per finding: `pane  source  capability  verdict`.
pub fn lines(findings: &[Finding]) -> Vec<String> {
    let width = |f: fn(&Finding) -> usize| findings.iter().map(f).max().unwrap_or(0);
    let (p, s, c) = (
        width(|f| f.pane.len()),
        width(|f| f.source.chars().count()),
        width(|f| f.capability.chars().count()),
    );
    findings
        .iter()
        .map(|f| {
            format!(
                "{:p$}  {:s$}  {:c$}  {}",
                f.pane,
                f.source,
                f.capability,
                f.verdict.describe()
            )
        })
        .collect()
}

/// The `--json` document: every finding, and how many are problems.
pub fn to_json(findings: &[Finding]) -> serde_json::Value {
    serde_json::json!({
        "findings": findings,
        "problems": findings.iter().filter(|f| f.verdict.is_problem()).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_aligned_and_problems_set_the_exit_code() {
        let found = vec![
            Finding::new("elasticsearch", "es-prod", "read shards", Verdict::Ok(String::new())),
            Finding::new(
                "hosts",
                "web-1",
                "restart programs",
                Verdict::Missing("sudo: ops is not allowed".into()),
            ),
        ];
        let l = lines(&found);
        assert_eq!(l[0], "elasticsearch  es-prod  read shards       ok");
        assert_eq!(
            l[1],
            "hosts          web-1    restart programs  MISSING sudo: ops is not allowed"
        );
        assert_eq!(exit_code(&found), PROBLEMS);
        assert_eq!(exit_code(&found[..1]), ALL_OK);
        let not_checked = [Finding::new(
            "queues",
            "aws",
            "purge",
            Verdict::NotChecked("IAM is not queried".into()),
        )];
        assert_eq!(exit_code(&not_checked), ALL_OK, "not checked is not a problem");
        assert_eq!(to_json(&found)["findings"][1]["status"], "missing");
    }
}

macro_rules! diagnose_every_pane {
    (
        sources { $( $Var:ident($field:ident) in $section:ident: $ty:ty ),+ $(,)? }
        served { $( $SVar:ident($sfield:ident) by $server:ty: $sty:ty ),* $(,)? }
    ) => {
        /// Every source's checks, the panes concurrently (each bounds its own checks by its
        /// section's timeouts), in registry order, made safe for a terminal.
        async fn diagnose(config: &Config, backends: &Backends) -> Vec<Finding> {
            let all = futures::future::join_all([
                $( <$ty as opsdeck_core::doctor::Doctor>::doctor(config, backends), )+
            ])
            .await;
            all.into_iter().flatten().map(Finding::cleaned).collect()
        }
    };
}
crate::registry::for_each_pane!(diagnose_every_pane);
