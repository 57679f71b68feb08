//! Model of hosts over SSH: reachability, load, filesystems, crash dumps and supervisor programs.
//!
//! Other capabilities read this (the pillows pane shows "RUNNING x/y" from [`HostStatus::programs`]):
//! the types are deliberately plain and public. Look a host up with [`HostsState::host`] and a
//! program with [`HostStatus::program`].

pub mod logs;

use opsdeck_core::feed::FeedData;
use serde::Serialize;
use std::time::SystemTime;

/// Every configured host, in config order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostsState {
    pub hosts: Vec<HostStatus>,
}

/// One host as last seen. A host that stops answering keeps its last good data with `reachable: false`
/// and its own `error`: a dead host marks only its own row.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostStatus {
    pub name: String,
    /// `ssh` or `local`.
    pub transport: String,
    pub reachable: bool,
    /// Why the last poll of this host failed (connection, host key, timeout...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(serialize_with = "opsdeck_core::time::serialize_opt_rfc3339")]
    pub polled_at: Option<SystemTime>,
    #[serde(serialize_with = "opsdeck_core::time::serialize_opt_rfc3339")]
    pub last_ok: Option<SystemTime>,
    /// 1, 5 and 15 minute load averages.
    pub load: Option<[f64; 3]>,
    /// Every filesystem `df` reported, biggest first (panes filter pseudo filesystems).
    pub filesystems: Vec<Filesystem>,
    /// Why `df` could not be read (the rest of the host may still be fine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filesystems_error: Option<String>,
    /// Supervisor programs; empty when the host has no supervisor configured.
    pub programs: Vec<Program>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programs_error: Option<String>,
    /// Crash dumps and other junk found under the configured paths, biggest first.
    pub junk: Vec<JunkFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub junk_error: Option<String>,
    /// `du` scans asked for by the user (running or finished), newest last.
    pub du: Vec<DuReport>,
}

/// One filesystem from `df -PT` (sizes in KiB, as df prints them with `-P`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filesystem {
    pub source: String,
    /// Filesystem type when df printed one (`df -T`).
    pub fstype: Option<String>,
    pub mount: String,
    pub size_kib: u64,
    pub used_kib: u64,
    pub avail_kib: u64,
    /// Used share, 0..=100, as df computes it (used / (used + avail)).
    pub use_percent: f64,
    pub inodes: Option<Inodes>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inodes {
    pub total: u64,
    pub used: u64,
    pub free: u64,
    pub use_percent: f64,
}

/// Filesystem types that are not disks (shown only on request).
pub const PSEUDO_FS: &[&str] = &[
    "tmpfs", "devtmpfs", "devfs", "overlay", "squashfs", "proc", "sysfs", "cgroup", "cgroup2", "udev", "none", "shm",
    "ramfs", "efivarfs", "nsfs", "autofs",
];

impl Filesystem {
    /// tmpfs, overlay, squashfs and the like (by type, or by source name when df printed no type).
    /// The root filesystem is always a disk: in a container `/` is an overlay, and it fills up too.
    pub fn is_pseudo(&self) -> bool {
        if self.mount == "/" && self.size_kib > 0 {
            return false;
        }
        let kind = self.fstype.as_deref().unwrap_or(self.source.as_str());
        PSEUDO_FS.contains(&kind) || self.source.starts_with("/dev/loop") || self.size_kib == 0
    }
}

/// Supervisor's process states (`supervisorctl status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProgramState {
    Running,
    Starting,
    Backoff,
    Stopping,
    Stopped,
    Exited,
    Fatal,
    Unknown,
}

impl ProgramState {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RUNNING" => Self::Running,
            "STARTING" => Self::Starting,
            "BACKOFF" => Self::Backoff,
            "STOPPING" => Self::Stopping,
            "STOPPED" => Self::Stopped,
            "EXITED" => Self::Exited,
            "FATAL" => Self::Fatal,
            "UNKNOWN" => Self::Unknown,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Starting => "STARTING",
            Self::Backoff => "BACKOFF",
            Self::Stopping => "STOPPING",
            Self::Stopped => "STOPPED",
            Self::Exited => "EXITED",
            Self::Fatal => "FATAL",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// One supervisor program (`group:name` for programs in a group).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Program {
    pub name: String,
    pub state: ProgramState,
    pub pid: Option<u32>,
    pub uptime_secs: Option<u64>,
    /// The rest of the status line ("Exited too quickly", "Nov 23 11:00 AM").
    pub description: String,
}

/// A file matching a junk pattern (`*.hprof`, `core.*`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JunkFile {
    pub path: String,
    pub size_bytes: u64,
    /// Modification time, seconds since the epoch.
    pub modified: Option<f64>,
    /// Which file it was when found: removal takes exactly this one or nothing.
    #[serde(skip)]
    pub id: Option<FileId>,
}

/// A file's identity on its host: device and inode number (`find -printf '%D:%i'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.dev, self.ino)
    }
}

impl std::str::FromStr for FileId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (dev, ino) = s.split_once(':').ok_or_else(|| format!("{s:?} is not device:inode"))?;
        let number = |n: &str| n.parse::<u64>().map_err(|_| format!("{s:?} is not device:inode"));
        Ok(FileId {
            dev: number(dev)?,
            ino: number(ino)?,
        })
    }
}

/// A `du` scan of one directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuReport {
    pub path: String,
    pub running: bool,
    /// Entries scanned so far (or in total).
    pub scanned: u64,
    /// Biggest children first: (path, KiB).
    pub entries: Vec<(String, u64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(serialize_with = "opsdeck_core::time::serialize_opt_rfc3339")]
    pub finished_at: Option<SystemTime>,
}

/// What one poll of one host found. Each part fails on its own.
#[derive(Debug, Clone)]
pub struct HostPoll {
    pub name: String,
    pub transport: String,
    /// `Err` when the host could not be reached at all.
    pub reach: Result<(), String>,
    pub load: Option<[f64; 3]>,
    pub filesystems: Option<Result<Vec<Filesystem>, String>>,
    pub programs: Option<Result<Vec<Program>, String>>,
    pub junk: Option<Result<Vec<JunkFile>, String>>,
    pub du: Vec<DuReport>,
}

impl HostPoll {
    pub fn unreachable(name: &str, transport: &str, error: String) -> Self {
        Self {
            name: name.to_string(),
            transport: transport.to_string(),
            reach: Err(error),
            load: None,
            filesystems: None,
            programs: None,
            junk: None,
            du: Vec::new(),
        }
    }
}

impl HostsState {
    pub fn host(&self, name: &str) -> Option<&HostStatus> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// Every program called `name` (or `group:name`) across hosts: (host, program).
    pub fn programs_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a HostStatus, &'a Program)> + 'a {
        self.hosts.iter().flat_map(move |h| {
            h.programs
                .iter()
                .filter(move |p| p.name == name || p.name.rsplit(':').next() == Some(name))
                .map(move |p| (h, p))
        })
    }
}

impl HostStatus {
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// Filesystems worth showing: pseudo ones only when asked, biggest first.
    pub fn disks(&self, include_pseudo: bool) -> impl Iterator<Item = &Filesystem> {
        self.filesystems
            .iter()
            .filter(move |f| include_pseudo || !f.is_pseudo())
    }
}

fn fold<T>(slot: &mut T, error: &mut Option<String>, part: Option<Result<T, String>>) {
    match part {
        Some(Ok(v)) => {
            *slot = v;
            *error = None;
        }
        Some(Err(e)) => *error = Some(e),
        None => {}
    }
}

impl FeedData for HostsState {
    type Poll = Vec<HostPoll>;

    /// Merges per host: the hosts in `poll` are updated (a host that failed keeps its last good data
    /// under its error), the others stay as they were (each host is polled on its own).
    fn absorb(current: &mut Option<Self>, poll: Self::Poll, at: SystemTime) {
        let state = current.get_or_insert_with(HostsState::default);
        for p in poll {
            let i = match state.hosts.iter().position(|h| h.name == p.name) {
                Some(i) => i,
                None => {
                    state.hosts.push(HostStatus {
                        name: p.name.clone(),
                        ..HostStatus::default()
                    });
                    state.hosts.len() - 1
                }
            };
            let h = &mut state.hosts[i];
            h.transport = p.transport;
            h.polled_at = Some(at);
            match p.reach {
                Ok(()) => {
                    h.reachable = true;
                    h.error = None;
                    h.last_ok = Some(at);
                    if p.load.is_some() {
                        h.load = p.load;
                    }
                    fold(&mut h.filesystems, &mut h.filesystems_error, p.filesystems);
                    h.filesystems
                        .sort_by(|a, b| b.size_kib.cmp(&a.size_kib).then(a.mount.cmp(&b.mount)));
                    fold(&mut h.programs, &mut h.programs_error, p.programs);
                    fold(&mut h.junk, &mut h.junk_error, p.junk);
                    h.junk
                        .sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then(a.path.cmp(&b.path)));
                }
                Err(e) => {
                    h.reachable = false;
                    h.error = Some(e);
                }
            }
            // du reports live in the transport; an empty list from a reachable host clears them.
            if !p.du.is_empty() || h.reachable {
                h.du = p.du;
            }
        }
    }
}

pub use opsdeck_core::text::human_bytes;

/// "1.2 GiB" from KiB.
pub fn human_kib(kib: u64) -> String {
    human_bytes(kib.saturating_mul(1024))
}

/// Keys the console gives the rows of one host's view, by kind (`FS`, `JUNK`, `PROG`, `DU`) and
/// name: the hosts pane builds its rows with them, alerts point at those rows with them.
pub mod row_key {
    pub const FS: &str = "fs";
    pub const JUNK: &str = "junk";
    pub const PROG: &str = "prog";
    pub const DU: &str = "du";

    pub fn of(kind: &str, name: &str) -> String {
        format!("{kind}\u{0}{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fs(mount: &str, size: u64) -> Filesystem {
        Filesystem {
            source: "/dev/sda1".into(),
            fstype: Some("ext4".into()),
            mount: mount.into(),
            size_kib: size,
            used_kib: size / 2,
            avail_kib: size / 2,
            use_percent: 50.0,
            inodes: None,
        }
    }

    fn ok_poll(name: &str, mounts: &[(&str, u64)]) -> HostPoll {
        HostPoll {
            reach: Ok(()),
            load: Some([0.1, 0.2, 0.3]),
            filesystems: Some(Ok(mounts.iter().map(|(m, s)| fs(m, *s)).collect())),
            ..HostPoll::unreachable(name, "ssh", String::new())
        }
    }

    #[test]
    fn a_dead_host_marks_only_its_own_row_and_keeps_its_last_data() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut state = None;
        HostsState::absorb(
            &mut state,
            vec![ok_poll("a", &[("/", 10)]), ok_poll("b", &[("/", 20)])],
            t0,
        );
        let t1 = t0 + Duration::from_secs(30);
        HostsState::absorb(
            &mut state,
            vec![
                ok_poll("a", &[("/", 10), ("/data", 99)]),
                HostPoll::unreachable("b", "ssh", "connection refused".into()),
            ],
            t1,
        );
        let s = state.unwrap();
        let a = s.host("a").unwrap();
        assert!(a.reachable && a.error.is_none());
        assert_eq!(a.filesystems[0].mount, "/data", "biggest first");
        let b = s.host("b").unwrap();
        assert!(!b.reachable);
        assert_eq!(b.error.as_deref(), Some("connection refused"));
        assert_eq!(b.filesystems.len(), 1, "last good data kept");
        assert_eq!(b.last_ok, Some(t0));
    }

    #[test]
    fn one_hosts_update_leaves_the_other_hosts_as_they_were() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut state = None;
        HostsState::absorb(&mut state, vec![ok_poll("a", &[("/", 10)])], t0);
        HostsState::absorb(
            &mut state,
            vec![ok_poll("b", &[("/", 20)])],
            t0 + Duration::from_secs(5),
        );
        let later = t0 + Duration::from_secs(9);
        HostsState::absorb(&mut state, vec![ok_poll("a", &[("/", 11)])], later);
        let s = state.unwrap();
        assert_eq!(s.hosts.len(), 2);
        assert_eq!(s.host("a").unwrap().filesystems[0].size_kib, 11);
        assert_eq!(s.host("a").unwrap().polled_at, Some(later));
        let b = s.host("b").unwrap();
        assert_eq!(
            b.polled_at,
            Some(t0 + Duration::from_secs(5)),
            "b untouched by a's poll"
        );
        assert_eq!(b.filesystems[0].size_kib, 20);
    }

    #[test]
    fn an_overlay_root_is_a_disk_other_overlays_are_not() {
        let overlay = |mount: &str| Filesystem {
            source: "overlay".into(),
            fstype: Some("overlay".into()),
            ..fs(mount, 100)
        };
        assert!(!overlay("/").is_pseudo(), "a container's / fills up like any disk");
        assert!(overlay("/var/lib/docker/overlay2/x/merged").is_pseudo());
        let tmp = Filesystem {
            fstype: Some("tmpfs".into()),
            ..fs("/dev/shm", 100)
        };
        assert!(tmp.is_pseudo());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(900), "900 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_kib(1024 * 1024 * 3 / 2), "1.5 GiB");
        assert_eq!(human_kib(200 * 1024 * 1024), "200 GiB");
    }
}
