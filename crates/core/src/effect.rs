//! What views and the app ask the runtime to do: `update` never does I/O itself.

use crate::action::ActionPlan;
use crate::pane::{Pane, PaneId};
use std::any::Any;
use std::fmt;
use std::path::PathBuf;

/// Something the runtime must do for the app.
// A plan is big and effects are few and short-lived (made by one update, carried out at once):
// boxing it would cost more than the space it saves.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Effect {
    Quit,
    /// Poll every source now.
    Refresh,
    /// Run a confirmed plan (confirmation, read-only and single-flight were checked by `update`).
    RunAction {
        id: u64,
        plan: ActionPlan,
    },
    /// Ask a running action to stop (procedures stop between steps).
    CancelAction {
        id: u64,
    },
    /// Work for a pane's clients that is not an action (start or stop a log tail).
    Job(PaneJob),
    /// Write text to a file (saving a log buffer); the result comes back to the app.
    SaveFile {
        path: PathBuf,
        contents: String,
    },
}

/// A job for pane `P`'s clients, in `P`'s own type ([`Pane::Job`]).
pub struct PaneJob {
    pane: PaneId,
    job: Box<dyn Any + Send>,
    shown: String,
}

impl PaneJob {
    pub fn new<P: Pane>(job: P::Job) -> Self {
        Self {
            pane: P::ID,
            shown: format!("{job:?}"),
            job: Box::new(job),
        }
    }

    pub fn pane(&self) -> PaneId {
        self.pane
    }

    /// The job, when it is one of `P`'s.
    pub fn get<P: Pane>(&self) -> Option<&P::Job> {
        (self.pane == P::ID).then(|| self.job.downcast_ref()).flatten()
    }

    /// The job, when it is one of `P`'s; itself otherwise.
    pub fn take<P: Pane>(self) -> Result<P::Job, Self> {
        if self.pane != P::ID || !self.job.is::<P::Job>() {
            return Err(self);
        }
        let Self { job, pane, shown } = self;
        job.downcast().map(|j| *j).map_err(|job| Self { pane, job, shown })
    }
}

impl fmt::Debug for PaneJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pane, self.shown)
    }
}
