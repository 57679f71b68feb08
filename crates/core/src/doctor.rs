//! `opsdeck doctor`'s vocabulary: what a pane found when it checked, without changing anything,
//! whether its credentials can reach its source, read what its views need and perform each action
//! it offers. Each pane's crate has its checks (`doctor.rs`), behind [`Doctor`]; the registry asks
//! every pane, the command prints one line per [`Finding`] and the console offers an action a
//! finding says cannot be performed as unavailable, with the reason.

use crate::pane::{PaneBackends, PaneConfigs, Source};
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

impl Verdict {
    /// Whether it means something the console offers cannot be done or read (`doctor` exits 1).
    pub fn is_problem(&self) -> bool {
        matches!(self, Verdict::Missing(_) | Verdict::Unreachable(_))
    }

    /// The reason an action is unavailable, when it is.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Missing(why) | Verdict::Unreachable(why) => Some(why),
            Verdict::Ok(_) | Verdict::NotChecked(_) => None,
        }
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
            verdict,
        }
    }

    /// The same, gating `actions` (see [`Finding::actions`]).
    pub fn gating(mut self, actions: &[&'static str]) -> Self {
        self.actions = actions.to_vec();
        self
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

/// A pane's doctor: its checks of its configured sources, through its own clients.
pub trait Doctor: Source {
    /// Checks every source its section configures (none when it is not configured), changing
    /// nothing. Each check is bounded by the section's own timeouts, and a source that cannot be
    /// reached costs its timeout once: the capabilities behind it say so without asking again.
    fn doctor<'a>(config: &'a dyn PaneConfigs, backends: &'a dyn PaneBackends) -> BoxFuture<'a, Vec<Finding>>;
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
