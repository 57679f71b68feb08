//! Where opsdeck keeps things: XDG config and state dirs (via `directories`).

use directories::ProjectDirs;
use std::path::PathBuf;

pub fn project_dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "opsdeck")
}

/// The state dir (`~/.local/state/opsdeck`), falling back to the data dir where there is no state dir.
pub fn state_dir() -> PathBuf {
    project_dirs()
        .map(|d| d.state_dir().unwrap_or(d.data_local_dir()).to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("opsdeck"))
}

/// The config dir (`~/.config/opsdeck`): user themes and keymaps live below it.
pub fn config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

pub fn default_audit_log() -> PathBuf {
    state_dir().join("audit.jsonl")
}

/// `opsdeck demo`'s audit log: beside the real one, never mixed with it, and kept after the demo
/// ends like the real one.
pub fn demo_audit_log() -> PathBuf {
    state_dir().join("demo-audit.jsonl")
}

pub fn default_log_file() -> PathBuf {
    state_dir().join("opsdeck.log")
}
