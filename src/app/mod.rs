//! The app: all state, changed only by [`App::update`], which returns [`Effect`]s for the runtime to carry out.

use crate::actions::ActionPlan;
use std::path::PathBuf;

/// Something the runtime must do for the app: I/O never happens inside `update`.
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
    /// Start, stop or steer a remote log tail.
    Logs(crate::sources::ssh::TailCommand),
    /// Write text to a file (saving a log buffer); the result comes back as a toast.
    SaveFile {
        path: PathBuf,
        contents: String,
    },
}
