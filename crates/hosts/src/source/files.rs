//! Files on a host: junk (crash dumps) found with `find`, removal, and `du` scans.
//! Every path travels as its own argv word (quoted for the remote shell), never inside a script.

use crate::model::{FileId, JunkFile};
use opsdeck_core::exec::Cmd;

/// `find` under `paths` for files matching `patterns`, printing device:inode, size, mtime and path
/// NUL-terminated (so newlines in names cannot split a record).
pub fn find_command(paths: &[String], patterns: &[String], depth: u32) -> Cmd {
    let mut argv: Vec<String> = vec!["find".into()];
    // `-H` follows a configured path that is itself a symlink, nothing below it.
    argv.push("-H".into());
    argv.extend(paths.iter().cloned());
    argv.extend(["-xdev", "-maxdepth"].map(String::from));
    argv.push(depth.max(1).to_string());
    argv.extend(["-type", "f", "("].map(String::from));
    for (i, p) in patterns.iter().enumerate() {
        if i > 0 {
            argv.push("-o".into());
        }
        argv.push("-name".into());
        argv.push(p.clone());
    }
    argv.extend([")", "-printf", "%D:%i\\t%s\\t%T@\\t%p\\0"].map(String::from));
    Cmd::Argv(argv)
}

/// Parses `dev:ino\tsize\tmtime\tpath\0` records. Malformed records are skipped (counted in the
/// `Err` side only when nothing at all could be read from non-empty output).
pub fn parse_find(stdout: &str) -> Result<Vec<JunkFile>, String> {
    let mut files = Vec::new();
    let mut bad = 0usize;
    for rec in stdout.split('\0') {
        let rec = rec.trim_start_matches('\n');
        if rec.is_empty() {
            continue;
        }
        let mut parts = rec.splitn(4, '\t');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(size), Some(mtime), Some(path)) if path.starts_with('/') => {
                match (id.parse::<FileId>(), size.parse::<u64>()) {
                    (Ok(id), Ok(size_bytes)) => files.push(JunkFile {
                        path: path.to_string(),
                        size_bytes,
                        // inf/NaN (or a number too big for f64) is no time at all: unknown.
                        modified: mtime.parse::<f64>().ok().filter(|m| m.is_finite()),
                        id: Some(id),
                    }),
                    _ => bad += 1,
                }
            }
            _ => bad += 1,
        }
    }
    if files.is_empty() && bad > 0 {
        return Err(format!("could not read find's output ({bad} malformed records)"));
    }
    files.sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then_with(|| a.path.cmp(&b.path)));
    Ok(files)
}

/// One file the junk action removes: where it is, the configured junk path it lies under, and
/// which file it was when listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub path: String,
    /// The junk path (as configured, without a trailing `/`; `/` itself stays `/`).
    pub root: String,
    pub id: FileId,
    pub size_bytes: u64,
}

impl Removal {
    /// `path` below its junk path: what the removal script walks down, one directory at a time.
    fn below_root(&self) -> &str {
        let root = self.root.trim_end_matches('/');
        self.path[root.len()..].trim_start_matches('/')
    }
}

/// The removal of `path` (found as `id`), if the junk action may take it: an absolute path with no
/// empty, `.` or `..` part, under one of `roots` (the deepest one that holds it).
pub fn removal(path: &str, id: FileId, size_bytes: u64, roots: &[String]) -> Result<Removal, String> {
    if !path.starts_with('/') {
        return Err(format!("{path:?} is not an absolute path"));
    }
    if path[1..].split('/').any(|c| c.is_empty() || c == ".." || c == ".") {
        return Err(format!("{path:?} has an empty, . or .. part"));
    }
    let root = roots
        .iter()
        .map(|r| r.trim_end_matches('/'))
        .filter(|r| {
            path.strip_prefix(r)
                .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
        })
        .max_by_key(|r| r.len())
        .ok_or_else(|| format!("{path:?} is not under a configured junk path"))?;
    Ok(Removal {
        path: path.to_string(),
        root: if root.is_empty() { "/".into() } else { root.to_string() },
        id,
        size_bytes,
    })
}

/// The removal script. Constant text: the files arrive as arguments, three per file (device:inode
/// as listed, the junk path, the path below it). For each, in a subshell of its own, it enters the
/// junk path (one it cannot enter counts as gone only when nothing is there and its parent can be
/// searched: a permission problem is no removal), then walks down to the file's directory one
/// component at a time, never through a symbolic link (checked before each `cd`, and `pwd -P` after
/// it must be where that walk leads, which also catches a swap between the check and the `cd`), so
/// the working directory is the real one under the junk path; there the file must still be a
/// regular file, not a link, with the listed device:inode, and `find -inum … -delete` unlinks
/// exactly that name in that directory. One NUL-terminated record per file, `N WHAT DETAIL`
/// ([`parse_removal`] words it). Kept short, in lines that fit the confirm dialog, which shows it
/// as part of the call.
pub const REMOVE_SCRIPT: &str = r#"say() { printf "%s %s %s\0" $i $1 "$2"; exit; }; i=0
gone() { ! [ -e "$1" ] && ! [ -L "$1" ] && [ -x "${1%/*}/" ]; }
while [ $# -gt 2 ]; do i=$((i+1)); (cd -P -- "$2" || { gone "$2" && say root; say noroot; }
h=$(pwd -P) r=$3
while case $r in */*) true;; *) false;; esac; do d=${r%%/*}; r=${r#*/}; h=${h%/}/$d
[ -L "./$d" ] && say dirlink "$d"; [ -d "./$d" ] || say dirgone "$d"
cd -P -- "./$d" || say direnter "$d"; [ "$(pwd -P)" = "$h" ] || say dirswap "$d"; done
f=./$r; [ -L "$f" ] && say link; [ -e "$f" ] || say gone; [ -f "$f" ] || say notfile
n=$(find "$f" -maxdepth 0 -printf %D:%i 2>&1) || say failed "$n"
[ "$n" = "$1" ] || say other "$n"
o=$(find "$f" -maxdepth 0 -type f -inum "${1#*:}" -delete -print 2>&1) || say failed "$o"
[ -n "$o" ] || say replaced; say removed); shift 3; done"#;

/// `$0` of the removal script (what its shell names in messages, and `ps` shows).
const REMOVE_SCRIPT_NAME: &str = "opsdeck-remove";

/// The removal of `files`, each re-checked on the host at that moment ([`REMOVE_SCRIPT`]).
pub fn remove_command(files: &[Removal]) -> Cmd {
    let mut argv = vec![
        "sh".to_string(),
        "-c".into(),
        REMOVE_SCRIPT.into(),
        REMOVE_SCRIPT_NAME.into(),
    ];
    for f in files {
        argv.extend([f.id.to_string(), f.root.clone(), f.below_root().to_string()]);
    }
    Cmd::Argv(argv)
}

/// What became of one file of a removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    Removed,
    /// Gone before the script reached it (it removed nothing).
    Vanished(String),
    /// Not the file that was listed any more, or not reachable without following a link: left alone.
    Changed(String),
    /// Could not be removed (permissions, a read-only filesystem).
    Failed(String),
    /// The script said nothing about it (it was stopped before reaching it).
    Unknown,
}

/// The fate of each of `files` (as listed) from the removal script's output, in their order.
pub fn parse_removal(stdout: &str, files: &[Removal]) -> Vec<Removed> {
    let mut fates = vec![Removed::Unknown; files.len()];
    for rec in stdout.split('\0') {
        let mut parts = rec.splitn(3, ' ');
        let (Some(n), Some(what)) = (parts.next(), parts.next()) else {
            continue;
        };
        let detail = parts.next().unwrap_or("").trim();
        let Some(i) = n.parse::<usize>().ok().and_then(|n| n.checked_sub(1)) else {
            continue;
        };
        let Some(listed) = files.get(i) else { continue };
        fates[i] = match what {
            "removed" => Removed::Removed,
            "root" => Removed::Vanished("its junk path is gone".into()),
            "noroot" => Removed::Failed("cannot enter its junk path".into()),
            "dirgone" => Removed::Vanished(format!("{detail} on its path is gone")),
            "gone" => Removed::Vanished("it is gone".into()),
            "dirlink" => Removed::Changed(format!("{detail} on its path is a symbolic link now")),
            "dirswap" => Removed::Changed(format!("{detail} on its path was swapped")),
            "link" => Removed::Changed("it is a symbolic link now".into()),
            "notfile" => Removed::Changed("it is not a regular file now".into()),
            "other" => Removed::Changed(format!("it is another file now ({detail}, listed as {})", listed.id)),
            "replaced" => Removed::Changed("it was replaced while being removed".into()),
            "direnter" => Removed::Failed(format!("cannot enter {detail}")),
            "failed" => Removed::Failed(detail.to_string()),
            _ => continue,
        };
    }
    fates
}

/// Counts the direct children of `dir` (one `.` each), for du's progress.
pub fn count_children_command(dir: &str) -> Cmd {
    Cmd::argv(["find", "-H", dir, "-mindepth", "1", "-maxdepth", "1", "-printf", "."])
}

/// `du` of `dir`'s children, one line per finished child (`KiB\tpath`), on one filesystem. `-a`: files
/// directly in `dir` (a dump next to the data directories) are children too, as
/// [`count_children_command`] counts them.
pub fn du_command(dir: &str, remote_timeout_secs: u64) -> Cmd {
    Cmd::Argv(vec![
        "timeout".into(),
        "-k".into(),
        "2".into(),
        remote_timeout_secs.max(1).to_string(),
        "du".into(),
        "-a".into(),
        "-x".into(),
        "-k".into(),
        "-d".into(),
        "1".into(),
        "--".into(),
        dir.to_string(),
    ])
}

/// One du line: `KiB<TAB>path`.
pub fn parse_du_line(line: &str) -> Option<(String, u64)> {
    let (size, path) = line.split_once('\t')?;
    Some((path.to_string(), size.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_records_with_hostile_names() {
        let out = "2049:11\t10\t1700000000.5\t/data/a b.hprof\0\
                   2049:12\t20\t1700000001.0\t/data/x'; rm -rf / $(id)\n.hprof\0garbage\0\
                   x:1\t30\t1\t/data/no-id\0";
        let files = parse_find(out).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "/data/x'; rm -rf / $(id)\n.hprof");
        assert_eq!(files[0].size_bytes, 20);
        assert_eq!(files[0].id, Some(FileId { dev: 2049, ino: 12 }));
        assert!(parse_find("nonsense\0").is_err());
        assert!(parse_find("").unwrap().is_empty());
    }

    #[test]
    fn find_command_quotes_paths_and_patterns() {
        let c = find_command(&["/es dir/$(x)".into()], &["*.hprof".into(), "core".into()], 2);
        assert_eq!(
            c.to_shell(),
            r"find -H '/es dir/$(x)' -xdev -maxdepth 2 -type f '(' -name '*.hprof' -o -name core ')' -printf '%D:%i\t%s\t%T@\t%p\0'"
        );
    }

    #[test]
    fn only_files_under_junk_paths_are_removable() {
        let roots = vec!["/data/es/".to_string(), "/data/es/deep".into()];
        let id = FileId { dev: 1, ino: 2 };
        let r = |p: &str| removal(p, id, 0, &roots);
        assert_eq!(r("/data/es/java_pid1.hprof").unwrap().root, "/data/es");
        assert_eq!(
            r("/data/es/deep/x/core").unwrap().root,
            "/data/es/deep",
            "the deepest root"
        );
        assert_eq!(r("/data/es/deep/x/core").unwrap().below_root(), "x/core");
        for bad in [
            "/data/es",
            "/data/es/",
            "/data/esx/a.hprof",
            "/data/es/../../etc/passwd",
            "/data/es/./a",
            "/data/es//a",
            "relative.hprof",
        ] {
            assert!(r(bad).is_err(), "{bad}");
        }
        let everything = removal("/core", id, 0, &["/".to_string()]).unwrap();
        assert_eq!((everything.root.as_str(), everything.below_root()), ("/", "core"));
        let Cmd::Argv(argv) = remove_command(&[r("/data/es/-rf a").unwrap()]);
        assert_eq!(argv[3..], ["opsdeck-remove", "1:2", "/data/es", "-rf a"]);
    }

    #[test]
    fn each_file_has_its_fate_and_silence_is_unknown() {
        let roots = ["/d".to_string()];
        let files: Vec<Removal> = (1..=5)
            .map(|ino| removal(&format!("/d/{ino}"), FileId { dev: 8, ino }, 1, &roots).unwrap())
            .collect();
        let out = [
            "1 removed ",
            "3 dirlink sub",
            "2 gone ",
            "4 other 8:99",
            "9 removed ",
            "junk",
        ]
        .join("\0");
        assert_eq!(
            parse_removal(&out, &files),
            [
                Removed::Removed,
                Removed::Vanished("it is gone".into()),
                Removed::Changed("sub on its path is a symbolic link now".into()),
                Removed::Changed("it is another file now (8:99, listed as 8:4)".into()),
                Removed::Unknown,
            ]
        );
    }

    /// The script itself, run by the real `sh` as a user that cannot enter the junk path: that is
    /// a failure, not files that vanished. Then the junk path really gone: vanished.
    #[test]
    fn a_junk_path_that_cannot_be_entered_is_not_taken_for_gone() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let mode =
            |p: &std::path::Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        mode(dir.path(), 0o755);
        let junk = dir.path().join("junk");
        std::fs::create_dir(&junk).unwrap();
        let dump = junk.join("core.1");
        std::fs::write(&dump, "dump").unwrap();
        let meta = std::fs::metadata(&dump).unwrap();
        let id = FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        };
        let roots = [junk.to_string_lossy().into_owned()];
        let listed = [removal(dump.to_str().unwrap(), id, 4, &roots).unwrap()];
        let run = || {
            let Cmd::Argv(argv) = remove_command(&listed);
            // As root every directory can be entered: the script runs as nobody then.
            // SAFETY: geteuid only reads the process's user id.
            let mut cmd = if unsafe { libc::geteuid() } == 0 {
                let mut c = std::process::Command::new("setpriv");
                c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
                c.args(&argv);
                c
            } else {
                let mut c = std::process::Command::new(&argv[0]);
                c.args(&argv[1..]);
                c
            };
            let out = cmd.output().unwrap();
            parse_removal(&String::from_utf8_lossy(&out.stdout), &listed)
        };
        mode(&junk, 0o000);
        assert_eq!(run(), [Removed::Failed("cannot enter its junk path".into())]);
        mode(&junk, 0o755);
        assert!(dump.exists(), "nothing was removed");
        std::fs::remove_dir_all(&junk).unwrap();
        assert_eq!(run(), [Removed::Vanished("its junk path is gone".into())]);
    }

    #[test]
    fn non_finite_mtimes_are_unknown() {
        let out = [
            "1\tinf\t/d/a",
            "2\tNaN\t/d/b",
            "3\t1e999\t/d/c",
            "4\t-inf\t/d/d",
            "5\t1700000000.5\t/d/e",
        ]
        .map(|r| format!("1:2\t{r}\0"))
        .concat();
        let files = parse_find(&out).unwrap();
        assert_eq!(files.len(), 5);
        for f in &files[1..] {
            assert_eq!(f.modified, None, "{}", f.path);
        }
        assert_eq!(
            (files[0].path.as_str(), files[0].modified),
            ("/d/e", Some(1_700_000_000.5))
        );
    }

    #[test]
    fn du_lists_files_and_directories_one_level_down() {
        assert_eq!(
            du_command("/data/es dir", 600).to_shell(),
            "timeout -k 2 600 du -a -x -k -d 1 -- '/data/es dir'"
        );
    }

    #[tokio::test]
    async fn du_sees_a_dump_directly_in_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("nodes")).unwrap();
        std::fs::write(dir.path().join("nodes/x"), vec![1u8; 8192]).unwrap();
        std::fs::write(dir.path().join("java_pid1.hprof"), vec![1u8; 8192]).unwrap();
        let d = dir.path().to_str().unwrap();
        let out = opsdeck_core::exec::run_local(&du_command(d, 10).to_shell(), std::time::Duration::from_secs(10))
            .await
            .unwrap();
        let paths: Vec<String> = out.stdout.lines().filter_map(parse_du_line).map(|(p, _)| p).collect();
        assert!(paths.contains(&format!("{d}/java_pid1.hprof")), "{paths:?}");
        assert!(paths.contains(&format!("{d}/nodes")), "{paths:?}");
        assert!(!paths.contains(&format!("{d}/nodes/x")), "{paths:?}");
        let children = opsdeck_core::exec::run_local(
            &count_children_command(d).to_shell(),
            std::time::Duration::from_secs(10),
        )
        .await
        .unwrap();
        // Every child counted for the progress fraction is a du line (the last line is the dir itself).
        assert_eq!(children.stdout.len(), paths.len() - 1);
    }

    #[test]
    fn du_lines() {
        assert_eq!(parse_du_line("123\t/var/log/a b"), Some(("/var/log/a b".into(), 123)));
        assert_eq!(parse_du_line("x\t/y"), None);
    }
}
