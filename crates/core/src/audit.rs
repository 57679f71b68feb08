//! The audit log: JSON lines, one at confirmation (intent) and one at the end (outcome), each
//! flushed to disk with `fsync` before the action proceeds; and its lines ([`AuditEntry`]), as the
//! audit pane reads them back.

use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditPhase {
    Intent,
    Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub time: String,
    pub phase: AuditPhase,
    /// Ties the intent line to its outcome line.
    pub action_id: String,
    pub user: String,
    /// The machine opsdeck runs on.
    pub host: String,
    pub action: String,
    pub target: String,
    /// The exact command or API call.
    pub call: String,
    pub risk: String,
    /// `confirmed` on intent lines; `succeeded`, `failed`, `unverified` or `stopped` on outcome lines.
    pub result: String,
    /// What happened, in words (empty on intent lines).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl AuditEntry {
    /// Makes every field safe to show: the log holds remote text (targets, command output) and a
    /// line may have been written by anyone who can write the file.
    pub fn clean(&mut self) {
        for field in [
            &mut self.time,
            &mut self.action_id,
            &mut self.user,
            &mut self.host,
            &mut self.action,
            &mut self.target,
            &mut self.call,
            &mut self.risk,
            &mut self.result,
            &mut self.detail,
        ] {
            crate::text::clean_in_place(field);
        }
    }
}

/// Who and where, stamped on every line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub host: String,
}

impl Identity {
    /// The login user (`$USER`, else `$LOGNAME`) and this machine's host name.
    pub fn current() -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(login_of_this_process)
            .unwrap_or_else(|| "unknown".into());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "unknown".into());
        Self { user, host }
    }
}

/// The account this process runs as, from /proc and /etc/passwd (for sessions without $USER, e.g.
/// cron or a bare tmux server), else `uid N`.
fn login_of_this_process() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    });
    Some(name.unwrap_or_else(|| format!("uid {uid}")))
}

/// How much of the end of the audit log the pane reads back (its newest 2,000 entries fit many
/// times over); the file itself may grow without limit.
pub const READ_BACK: u64 = 8 * 1024 * 1024;

/// Appends audit lines to one file. Cloning shares the file path; each write opens, appends and syncs,
/// so two opsdeck instances never interleave half lines.
#[derive(Clone)]
pub struct AuditLog {
    path: Arc<PathBuf>,
    pub(crate) identity: Arc<Identity>,
    /// Told about every line written (so the audit pane shows procedures' sub-steps as they happen).
    listener: Option<Listener>,
}

type Listener = Arc<dyn Fn(&AuditEntry) + Send + Sync>;

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("identity", &self.identity)
            .finish()
    }
}

impl AuditLog {
    pub fn new(path: PathBuf, identity: Identity) -> Self {
        Self {
            path: Arc::new(path),
            identity: Arc::new(identity),
            listener: None,
        }
    }

    /// The same log, also calling `listener` after each line is on disk.
    pub fn with_listener(&self, listener: impl Fn(&AuditEntry) + Send + Sync + 'static) -> Self {
        Self {
            listener: Some(Arc::new(listener)),
            ..self.clone()
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        // Only a regular file is a log: `/dev/full` or a FIFO must fail here (and the action not
        // run), not swallow the line or block. Checked before opening (to say what it is), and on
        // the open file; O_NONBLOCK: opening a FIFO never waits for a reader.
        if let Ok(meta) = std::fs::metadata(&*self.path) {
            crate::config::file::ensure_regular(&meta)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&*self.path)?;
        crate::config::file::ensure_regular(&file.metadata()?)?;
        file.write_all(line.as_bytes())?;
        file.sync_all()?;
        if let Some(listener) = &self.listener {
            listener(entry);
        }
        Ok(())
    }

    /// Reads back the newest `limit` entries (for the audit pane) from the last [`READ_BACK`] bytes
    /// of the log; unreadable lines are skipped. Only a regular file is read (a FIFO or a device is
    /// an error at once, never a wait), and what it says is made safe to show.
    pub fn read_recent(&self, limit: usize) -> std::io::Result<Vec<AuditEntry>> {
        let mut file = match crate::config::file::open_regular(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let start = len.saturating_sub(READ_BACK);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.take(READ_BACK).read_to_end(&mut tail)?;
        // Started mid-line: that first piece is not a whole entry.
        let whole = match (start, tail.iter().position(|&b| b == b'\n')) {
            (0, _) => &tail[..],
            (_, Some(i)) => &tail[i + 1..],
            (_, None) => &[][..],
        };
        let mut entries: std::collections::VecDeque<AuditEntry> = std::collections::VecDeque::new();
        for line in whole.split(|&b| b == b'\n') {
            if let Ok(mut entry) = serde_json::from_slice::<AuditEntry>(line) {
                entry.clean();
                if entries.len() == limit {
                    entries.pop_front();
                }
                entries.push_back(entry);
            }
        }
        Ok(entries.into())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_login_is_found_without_environment_variables() {
        let name = super::login_of_this_process().unwrap();
        assert!(!name.is_empty() && name != "unknown", "{name}");
    }
}
