//! `opsdeck doctor`'s vocabulary: what a pane found when it checked, without changing anything,
//! whether its credentials can reach its source, read what its views need and perform each action
//! it offers. Each pane's crate has its checks (`doctor.rs`), behind [`Doctor`]; the registry asks
//! every pane, the command prints one line per [`Finding`] and the console offers an action a
//! finding says cannot be performed as unavailable, with the reason.

use crate::pane::{PaneBackends, PaneConfigs, Source};
use crate::registered::RegisteredSource;
use crate::view::ActionOffer;
use futures::future::BoxFuture;
use serde::Serialize;

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Verdict {
    /// It can be done or read; the detail says how it was known, or is empty.
    Ok(String),
    /// The source answered and refused: the grant, role or sudoers line that is missing.
    Missing(String),
    /// The source could not be reached or logged into, so nothing about it is known.
    Unreachable(String),
    /// Nothing here can tell (IAM is not queried; an earlier step failed): neither ok nor a problem.
    NotChecked(String),
}

/// A failed read as a check's verdict, by what failed: a refusal names what is missing, anything
/// else means the source was not reached.
impl From<crate::source_error::SourceError> for Verdict {
    fn from(e: crate::source_error::SourceError) -> Self {
        use crate::source_error::ErrorKind;
        match e.kind {
            ErrorKind::Unauthorised | ErrorKind::Refused => Verdict::Missing(e.message),
            _ => Verdict::Unreachable(e.message),
        }
    }
}

impl Verdict {
    /// Whether it means something the console offers cannot be done or read (`doctor` exits 1).
    pub fn is_problem(&self) -> bool {
        matches!(self, Verdict::Missing(_) | Verdict::Unreachable(_))
    }

    /// `ok`, `MISSING …`, `UNREACHABLE …`, `not checked (…)`: the last column of a doctor line.
    pub fn describe(&self) -> String {
        let with = |word: &str, detail: &str| {
            if detail.is_empty() {
                word.to_string()
            } else {
                format!("{word} {detail}")
            }
        };
        match self {
            Verdict::Ok(d) if d.is_empty() => "ok".into(),
            Verdict::Ok(d) => format!("ok ({d})"),
            Verdict::Missing(d) => with("MISSING", d),
            Verdict::Unreachable(d) => with("UNREACHABLE", d),
            Verdict::NotChecked(d) if d.is_empty() => "not checked".into(),
            Verdict::NotChecked(d) => format!("not checked ({d})"),
        }
    }
}

/// One line of `opsdeck doctor`: a capability of one source, and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The pane (`hosts`, `pillows`...).
    pub pane: &'static str,
    /// The source within it: a host, a cluster, a checkpoint table, a queue.
    pub source: String,
    /// What was checked, in words (`read shards`, `restart programs`).
    pub capability: String,
    /// The pane's keymap actions this capability is needed for (empty for what views read): the
    /// console offers these as unavailable on `source`'s rows when the verdict is a problem.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub actions: Vec<&'static str>,
    /// Whether it gates those actions only on `source`'s own targets (a host's programs), rather
    /// than everywhere in the pane (the one checkpoint table, the one cluster).
    #[serde(skip)]
    pub per_source: bool,
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl Finding {
    pub fn new(pane: &'static str, source: impl Into<String>, capability: impl Into<String>, verdict: Verdict) -> Self {
        Self {
            pane,
            source: source.into(),
            capability: capability.into(),
            actions: Vec::new(),
            per_source: false,
            verdict,
        }
    }

    /// The same, gating `actions` anywhere in the pane (see [`Finding::actions`]).
    pub fn gating(mut self, actions: &[&'static str]) -> Self {
        self.actions = actions.to_vec();
        self
    }

    /// The same, gating `actions` on `source`'s own targets only: a plan whose target is the
    /// source, or starts with it and `:` or `/` (`web-1:nginx`, `case-pillow/…`).
    pub fn gating_on_source(mut self, actions: &[&'static str]) -> Self {
        self.actions = actions.to_vec();
        self.per_source = true;
        self
    }

    /// Whether it is about a plan with `target`.
    fn covers(&self, target: &str) -> bool {
        !self.per_source
            || target
                .strip_prefix(self.source.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
    }

    /// Its text made safe for a terminal and one line long (the details are often the far side's
    /// own words: ssh's CR-LF separated messages, a server's multi-line error).
    pub fn cleaned(mut self) -> Self {
        let one_line = |s: &mut String| {
            *s = crate::text::clean_owned(s.split_whitespace().collect::<Vec<_>>().join(" "));
        };
        one_line(&mut self.source);
        one_line(&mut self.capability);
        match &mut self.verdict {
            Verdict::Ok(d) | Verdict::Missing(d) | Verdict::Unreachable(d) | Verdict::NotChecked(d) => one_line(d),
        }
        self
    }
}

/// What the console knows of its credentials: the last background doctor run's findings that
/// make an action unavailable. An action they do not mention is offered as before.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    gates: Vec<Finding>,
}

impl Capabilities {
    pub fn new(findings: Vec<Finding>) -> Self {
        Self {
            gates: findings
                .into_iter()
                .filter(|f| !f.actions.is_empty() && f.verdict.is_problem())
                .collect(),
        }
    }

    /// Why `action` cannot be performed on `target`, when a finding says so.
    pub fn unavailable(&self, action: &str, target: &str) -> Option<String> {
        self.gates
            .iter()
            .find(|f| f.actions.contains(&action) && f.covers(target))
            .and_then(|f| match &f.verdict {
                Verdict::Missing(why) => Some(format!("not permitted: {why}")),
                Verdict::Unreachable(why) => Some(format!("unreachable: {why}")),
                Verdict::Ok(_) | Verdict::NotChecked(_) => None,
            })
    }

    /// `offers` with every action the credentials cannot perform made unavailable, with the reason
    /// (the footer leaves it out, the palette greys it, its key says why instead of confirming).
    pub fn gate(&self, offers: &mut [ActionOffer]) {
        for offer in offers {
            let why = match &offer.plan {
                Ok(plan) => self.unavailable(offer.name, &plan.target),
                Err(_) => None,
            };
            if let Some(why) = why {
                offer.plan = Err(why);
            }
        }
    }
}

/// A pane's doctor: its checks of its configured sources, through its own clients.
pub trait Doctor: Source {
    /// Checks every source its section configures (none when it is not configured), changing
    /// nothing. Each check is bounded by the section's own timeouts, and a source that cannot be
    /// reached costs its timeout once: the capabilities behind it say so without asking again.
    fn doctor<'a>(config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>>;
}

/// The checks of a pane that has none of its own yet: one poll of each of its pollers, within
/// the poller's timeout — ok, or unreachable with the poll's error — and a line saying its actions
/// are not checked. `impl Doctor for P { fn doctor(..) { by_polling::<P, _>(config, backends) } }`.
pub fn by_polling<'a, P, T>(config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>>
where
    P: RegisteredSource<Update = Result<T, crate::source_error::SourceError>>,
    T: Send + 'static,
{
    Box::pin(async move {
        let Some(backend) = backends.of::<P>() else {
            return Vec::new();
        };
        let (pane, source) = (P::ID.name(), P::SECTION);
        let mut found = Vec::new();
        for mut poller in P::pollers(backend, config.general()) {
            let limit = poller.timeout();
            let verdict = match tokio::time::timeout(limit, poller.poll()).await {
                Ok(Ok(_)) => Verdict::Ok(String::new()),
                Ok(Err(e)) => e.into(),
                Err(_) => Verdict::Unreachable(format!("no answer within {}", humantime::format_duration(limit))),
            };
            found.push(Finding::new(pane, source, "read", verdict));
        }
        found.push(Finding::new(
            pane,
            source,
            "actions",
            Verdict::NotChecked("this pane has no checks of its own yet".into()),
        ));
        found
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_and_unreachable_are_problems() {
        assert!(Verdict::Missing("x".into()).is_problem());
        assert!(Verdict::Unreachable("x".into()).is_problem());
        assert!(!Verdict::Ok(String::new()).is_problem());
        assert!(!Verdict::NotChecked("IAM is not queried".into()).is_problem());
        assert_eq!(
            Verdict::NotChecked("IAM is not queried".into()).describe(),
            "not checked (IAM is not queried)"
        );
    }

    #[test]
    fn a_problem_makes_its_actions_unavailable_on_its_source_only() {
        let refused = Verdict::Missing("sudo: ops is not allowed to run supervisorctl restart web".into());
        let caps = Capabilities::new(vec![
            Finding::new("hosts", "web-1", "restart programs", refused).gating_on_source(&["restart_program"]),
            Finding::new("hosts", "web-1", "stop programs", Verdict::Ok(String::new()))
                .gating_on_source(&["stop_program"]),
            Finding::new(
                "pillows",
                "pg",
                "move checkpoints",
                Verdict::Missing("UPDATE on t".into()),
            )
            .gating(&["move_checkpoint"]),
        ]);
        let why = caps.unavailable("restart_program", "web-1:nginx").unwrap();
        assert_eq!(
            why,
            "not permitted: sudo: ops is not allowed to run supervisorctl restart web"
        );
        assert_eq!(
            caps.unavailable("restart_program", "web-10:nginx"),
            None,
            "another host"
        );
        assert_eq!(
            caps.unavailable("stop_program", "web-1:nginx"),
            None,
            "ok is not a gate"
        );
        assert!(caps.unavailable("move_checkpoint", "any-pillow").is_some(), "pane-wide");
    }

    #[test]
    fn findings_are_cleaned_of_terminal_controls() {
        let f = Finding::new(
            "hosts",
            "web\x1b[2J-1",
            "login",
            Verdict::Missing("no\x07pe\r\nagain".into()),
        )
        .cleaned();
        assert!(!f.source.contains('\x1b'));
        assert!(!f.verdict.describe().contains('\x07'));
        assert!(f.verdict.describe().ends_with(" again"), "one line: {:?}", f.verdict);
    }
}
