//! `df -PT` / `df -PTi` output → filesystems. Never panics: lines it cannot read are reported, and output
//! that is not df at all is an error.
//!
//! POSIX mode keeps one filesystem per line; mount points may contain spaces, so the mount is the rest
//! of the line after the capacity column rather than a whitespace-split field.

use crate::model::{Filesystem, Inodes};
use opsdeck_core::exec::Cmd;

/// The df command. (The transport bounds it on the host too: a hung NFS mount must not hang the
/// channel.)
pub fn command(inodes: bool) -> Cmd {
    command_with(true, inodes)
}

/// Whether df refused an option (busybox and BSD df have no `-T`): then ask without types.
pub fn refused_option(stderr: &str) -> bool {
    [
        "invalid option",
        "unrecognized option",
        "illegal option",
        "unknown option",
    ]
    .iter()
    .any(|w| stderr.contains(w))
}

/// `df -P` (no type column) or `df -PT`, optionally `-i`.
pub fn command_with(typed: bool, inodes: bool) -> Cmd {
    let mut argv = vec!["df".to_string(), if typed { "-PT" } else { "-P" }.into()];
    if inodes {
        argv.push("-i".into());
    }
    Cmd::Argv(argv)
}

/// One parsed df row, before sizes and inodes are told apart.
#[derive(Debug, Clone, PartialEq)]
pub struct DfRow {
    pub source: String,
    pub fstype: Option<String>,
    pub total: u64,
    pub used: u64,
    pub avail: u64,
    pub percent: f64,
    pub mount: String,
}

/// Parsed df output plus the lines that could not be read (shown, not fatal).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DfOutput {
    pub rows: Vec<DfRow>,
    pub skipped: Vec<String>,
}

fn tokens(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

fn percent(s: &str, used: u64, avail: u64) -> Option<f64> {
    if s == "-" {
        let total = used.saturating_add(avail);
        return Some(if total == 0 {
            0.0
        } else {
            used as f64 * 100.0 / total as f64
        });
    }
    s.strip_suffix('%')?
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=100.0).contains(p))
}

fn parse_row(line: &str, typed: bool) -> Result<DfRow, String> {
    let t = tokens(line);
    let lead = if typed { 2 } else { 1 };
    if t.len() < lead + 5 {
        return Err(format!("too few columns: {line:?}"));
    }
    let num = |i: usize| -> Result<u64, String> {
        let s = t[i].1;
        if s == "-" {
            return Ok(0);
        }
        s.parse::<u64>()
            .map_err(|_| format!("{s:?} is not a number in {line:?}"))
    };
    let (total, used, avail) = (num(lead)?, num(lead + 1)?, num(lead + 2)?);
    let pct_tok = t[lead + 3];
    let percent =
        percent(pct_tok.1, used, avail).ok_or_else(|| format!("{:?} is not a percentage in {line:?}", pct_tok.1))?;
    let mount_start = t[lead + 4].0;
    let mount = line[mount_start..].trim_end_matches(['\r', '\n']).to_string();
    if !mount.starts_with('/') && mount != "-" {
        return Err(format!("mount point {mount:?} is not a path"));
    }
    Ok(DfRow {
        source: t[0].1.to_string(),
        fstype: typed.then(|| t[1].1.to_string()),
        total,
        used,
        avail,
        percent,
        mount,
    })
}

/// Parses `df -P` or `df -PT` (with or without `-i`) output.
pub fn parse(text: &str) -> Result<DfOutput, String> {
    let mut lines = text.lines();
    // Noise before the header (a chatty .bashrc, a motd) is skipped; no header at all is not df.
    let header = lines
        .by_ref()
        .find(|l| l.trim_start().starts_with("Filesystem"))
        .ok_or_else(|| match text.lines().find(|l| !l.trim().is_empty()) {
            Some(first) => format!(
                "not df output (no header): {:?}",
                first.chars().take(80).collect::<String>()
            ),
            None => "df printed nothing".to_string(),
        })?;
    let typed = tokens(header).get(1).is_some_and(|(_, w)| *w == "Type");
    let mut out = DfOutput::default();
    let mut carry: Option<String> = None;
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        let joined;
        let line = match carry.take() {
            Some(prefix) => {
                joined = format!("{prefix} {}", line.trim_start());
                joined.as_str()
            }
            None => line,
        };
        // Non-POSIX df puts a long device name on a line of its own.
        if tokens(line).len() == 1 {
            carry = Some(line.trim().to_string());
            continue;
        }
        match parse_row(line, typed) {
            Ok(row) => out.rows.push(row),
            Err(e) => out.skipped.push(e),
        }
    }
    if let Some(c) = carry {
        out.skipped.push(format!("truncated after {c:?}"));
    }
    if out.rows.is_empty() {
        return Err(match out.skipped.first() {
            Some(e) => format!("no filesystem could be read from df: {e}"),
            None => "df listed no filesystems".into(),
        });
    }
    Ok(out)
}

/// Filesystems from `df -PT`, with inode figures from `df -PTi` joined by mount point.
pub fn filesystems(sizes: &DfOutput, inodes: Option<&DfOutput>) -> Vec<Filesystem> {
    let mut v: Vec<Filesystem> = sizes
        .rows
        .iter()
        .map(|r| Filesystem {
            source: r.source.clone(),
            fstype: r.fstype.clone(),
            mount: r.mount.clone(),
            size_kib: r.total,
            used_kib: r.used,
            avail_kib: r.avail,
            use_percent: r.percent,
            inodes: inodes
                .and_then(|i| i.rows.iter().find(|x| x.mount == r.mount))
                .map(|x| Inodes {
                    total: x.total,
                    used: x.used,
                    free: x.avail,
                    use_percent: x.percent,
                }),
        })
        .collect();
    v.sort_by(|a, b| b.size_kib.cmp(&a.size_kib).then_with(|| a.mount.cmp(&b.mount)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPED: &str = "\
Filesystem     Type     1024-blocks      Used Available Capacity Mounted on
/dev/nvme0n1p1 ext4       101430960  91287864   5000000      95% /
tmpfs          tmpfs        8123456         0   8123456       0% /dev/shm
/dev/sdb1      xfs       2147483648 107374182 2040109466       5% /mnt/My Data Disk
";

    #[test]
    fn typed_output_with_spaces_in_mount_points() {
        let out = parse(TYPED).unwrap();
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        assert_eq!(out.rows.len(), 3);
        assert_eq!(out.rows[0].fstype.as_deref(), Some("ext4"));
        assert_eq!(out.rows[0].percent, 95.0);
        assert_eq!(out.rows[2].mount, "/mnt/My Data Disk");
        let fs = filesystems(&out, None);
        assert_eq!(fs[0].mount, "/mnt/My Data Disk", "biggest first");
        assert!(fs.iter().find(|f| f.mount == "/dev/shm").unwrap().is_pseudo());
    }

    #[test]
    fn posix_output_without_type_and_noise_before_the_header() {
        let text =
            "Welcome to host!\nFilesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 50 50 50% /\n";
        let out = parse(text).unwrap();
        assert_eq!(out.rows[0].fstype, None);
        assert_eq!(out.rows[0].mount, "/");
    }

    #[test]
    fn inodes_join_by_mount_and_dash_capacity_is_computed() {
        let sizes = parse(TYPED).unwrap();
        let inodes = parse(
            "Filesystem Type Inodes IUsed IFree IUse% Mounted on\n/dev/nvme0n1p1 ext4 6400000 6300000 100000 99% /\n/dev/sdb1 xfs - - - - /mnt/My Data Disk\n",
        )
        .unwrap();
        let fs = filesystems(&sizes, Some(&inodes));
        let root = fs.iter().find(|f| f.mount == "/").unwrap();
        assert_eq!(root.inodes.as_ref().unwrap().use_percent, 99.0);
        let data = fs.iter().find(|f| f.mount == "/mnt/My Data Disk").unwrap();
        assert_eq!(data.inodes.as_ref().unwrap().total, 0);
    }

    #[test]
    fn truncated_output_keeps_what_it_read_and_reports_the_rest() {
        let cut = &TYPED[..TYPED.find("/dev/sdb1").unwrap() + 25];
        let out = parse(cut).unwrap();
        assert_eq!(out.rows.len(), 2);
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        let cut = "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n/dev/sda1";
        assert!(parse(cut).is_err());
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        for text in [
            "",
            "\n\n",
            "bash: df: command not found",
            "Filesystem\nxx yy zz",
            "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 ext4 a b c 5% /",
            "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 ext4 1 2 3 500% /",
            "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 1 2 3 4% relative",
            "\u{0}\u{1}Filesystem\u{7f}\n\u{fffd} 1 2 3 % /",
        ] {
            assert!(parse(text).is_err(), "{text:?} should not parse");
        }
    }

    #[test]
    fn wrapped_device_names_are_joined() {
        let text = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/mapper/very-long-volume-name\n  100 50 50 50% /srv\n";
        let out = parse(text).unwrap();
        assert_eq!(out.rows[0].source, "/dev/mapper/very-long-volume-name");
        assert_eq!(out.rows[0].mount, "/srv");
    }

    #[test]
    fn command_is_bounded_remotely() {
        assert_eq!(command(true).to_shell(), "df -PT -i");
    }
}
