//! Files on a host: junk (crash dumps) found with `find`, removal, and `du` scans.
//! Every path travels as its own argv word (quoted for the remote shell), never inside a script.

use super::transport::Cmd;
use crate::model::hosts::JunkFile;

/// `find` under `paths` for files matching `patterns`, printing size, mtime and path NUL-terminated
/// (so newlines in names cannot split a record).
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
    argv.extend([")", "-printf", "%s\\t%T@\\t%p\\0"].map(String::from));
    Cmd::Argv(argv)
}

/// Parses `size\tmtime\tpath\0` records. Malformed records are skipped (counted in the `Err` side only
/// when nothing at all could be read from non-empty output).
pub fn parse_find(stdout: &str) -> Result<Vec<JunkFile>, String> {
    let mut files = Vec::new();
    let mut bad = 0usize;
    for rec in stdout.split('\0') {
        let rec = rec.trim_start_matches('\n');
        if rec.is_empty() {
            continue;
        }
        let mut parts = rec.splitn(3, '\t');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(size), Some(mtime), Some(path)) if path.starts_with('/') => match size.parse::<u64>() {
                Ok(size_bytes) => files.push(JunkFile {
                    path: path.to_string(),
                    size_bytes,
                    // inf/NaN (or a number too big for f64) is no time at all: unknown.
                    modified: mtime.parse::<f64>().ok().filter(|m| m.is_finite()),
                }),
                Err(_) => bad += 1,
            },
            _ => bad += 1,
        }
    }
    if files.is_empty() && bad > 0 {
        return Err(format!("could not read find's output ({bad} malformed records)"));
    }
    files.sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then_with(|| a.path.cmp(&b.path)));
    Ok(files)
}

/// Whether `path` may be removed by the junk action: absolute, no `..`, and under one of `roots`.
pub fn check_removable(path: &str, roots: &[String]) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("{path:?} is not an absolute path"));
    }
    if path.split('/').any(|c| c == ".." || c == ".") || path.contains('\0') {
        return Err(format!("{path:?} has . or .. in it"));
    }
    let under = roots.iter().any(|r| {
        let r = r.trim_end_matches('/');
        path.strip_prefix(r)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
    });
    if !under {
        return Err(format!("{path:?} is not under a configured junk path"));
    }
    Ok(())
}

/// `rm -f -- FILES…`: `--` so no name is read as an option, each name its own word.
pub fn remove_command(files: &[String]) -> Cmd {
    let mut argv = vec!["rm".to_string(), "-f".into(), "--".into()];
    argv.extend(files.iter().cloned());
    Cmd::Argv(argv)
}

/// Prints (NUL-terminated) those of `files` that still exist; prints nothing when all are gone.
pub fn still_there_command(files: &[String]) -> Cmd {
    // The script is constant; the paths arrive as positional parameters.
    let mut argv = vec![
        "sh".to_string(),
        "-c".into(),
        r#"for f in "$@"; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi; done"#.into(),
        "opsdeck-check".into(),
    ];
    argv.extend(files.iter().cloned());
    Cmd::Argv(argv)
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
        let out = "10\t1700000000.5\t/data/a b.hprof\0\
                   20\t1700000001.0\t/data/x'; rm -rf / $(id)\n.hprof\0garbage\0";
        let files = parse_find(out).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "/data/x'; rm -rf / $(id)\n.hprof");
        assert_eq!(files[0].size_bytes, 20);
        assert!(parse_find("nonsense\0").is_err());
        assert!(parse_find("").unwrap().is_empty());
    }

    #[test]
    fn find_command_quotes_paths_and_patterns() {
        let c = find_command(&["/es dir/$(x)".into()], &["*.hprof".into(), "core".into()], 2);
        assert_eq!(
            c.to_shell(),
            r"find -H '/es dir/$(x)' -xdev -maxdepth 2 -type f '(' -name '*.hprof' -o -name core ')' -printf '%s\t%T@\t%p\0'"
        );
    }

    #[test]
    fn only_files_under_junk_paths_are_removable() {
        let roots = vec!["/data/es/".to_string()];
        assert!(check_removable("/data/es/java_pid1.hprof", &roots).is_ok());
        assert!(check_removable("/data/es", &roots).is_err());
        assert!(check_removable("/data/esx/a.hprof", &roots).is_err());
        assert!(check_removable("/data/es/../../etc/passwd", &roots).is_err());
        assert!(check_removable("relative.hprof", &roots).is_err());
        assert_eq!(
            remove_command(&["/data/es/-rf a".into()]).to_shell(),
            "rm -f -- '/data/es/-rf a'"
        );
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
        .map(|r| format!("{r}\0"))
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
        let out = crate::actions::command::run_local(&du_command(d, 10).to_shell(), std::time::Duration::from_secs(10))
            .await
            .unwrap();
        let paths: Vec<String> = out.stdout.lines().filter_map(parse_du_line).map(|(p, _)| p).collect();
        assert!(paths.contains(&format!("{d}/java_pid1.hprof")), "{paths:?}");
        assert!(paths.contains(&format!("{d}/nodes")), "{paths:?}");
        assert!(!paths.contains(&format!("{d}/nodes/x")), "{paths:?}");
        let children = crate::actions::command::run_local(
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
