//! Config files as users write them: every mistake reported as FILE:LINE: key: what is wrong,
//! through the real binary (`opsdeck config check`) and through the library.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config").join(name)
}

fn check(file: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["config", "check"])
        .arg(file)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run opsdeck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn errors(name: &str) -> Vec<String> {
    let (code, _out, err) = check(&fixture(name));
    assert_ne!(code, 0, "{name} must be rejected");
    err.lines()
        .filter(|l| !l.ends_with(&format!("problem(s) in {}", fixture(name).display())))
        .map(String::from)
        .collect()
}

fn line(name: &str, rest: &str) -> String {
    format!("{}:{rest}", fixture(name).display())
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let e = errors("invalid/unknown_key.toml");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(&line(
            "invalid/unknown_key.toml",
            "4: general.thme: unknown field `thme`"
        )),
        "{e:?}"
    );
}

#[test]
fn wrong_type_is_reported_at_the_value() {
    let e = errors("invalid/wrong_type.toml");
    assert!(
        e[0].starts_with(&line("invalid/wrong_type.toml", "2: general.read_only: invalid type")),
        "{e:?}"
    );
}

#[test]
fn bad_duration_says_what_would_work() {
    let e = errors("invalid/bad_duration.toml");
    assert!(
        e[0].starts_with(&line(
            "invalid/bad_duration.toml",
            "4: general.refresh: bad duration \"10 parsecs\""
        )),
        "{e:?}"
    );
    assert!(e[0].contains("try \"30s\""), "{e:?}");
}

#[test]
fn missing_required_field_names_the_field() {
    let e = errors("invalid/missing_field.toml");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(&line(
            "invalid/missing_field.toml",
            "7: actions[1].key: missing required field"
        )),
        "{e:?}"
    );
}

#[test]
fn every_mistake_is_reported_not_just_the_first() {
    let e = errors("invalid/many_mistakes.toml");
    let text = e.join("\n");
    assert!(text.contains(":2: general.read_only: invalid type"), "{text}");
    assert!(
        text.contains(":4: unknown_section: unknown field `unknown_section`"),
        "{text}"
    );
    // Semantic problems are found once the file parses, so they come in a second round; the
    // parse-level ones above must all be listed together.
    assert_eq!(e.len(), 2, "{text}");
}

#[test]
fn semantic_mistakes_are_located_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "[[actions]]\nname = \"dup\"\nkey = \"hyper-x\"\nscope = \"hosts\"\ncommand = \"true\"\n\n[[actions]]\nname = \"dup\"\nkey = \"D\"\nscope = \"hosts\"\ncommand = \"echo {{host\"\n",
    )
    .unwrap();
    let (code, _, err) = check(&file);
    assert_eq!(code, 1);
    let f = file.display().to_string();
    assert!(
        err.contains(&format!("{f}:3: actions[0].key: unknown key \"hyper-x\"")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:8: actions[1].name: duplicate action name \"dup\"")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:11: actions[1].command: unbalanced")),
        "{err}"
    );
}

#[test]
fn syntax_errors_have_a_line() {
    let e = errors("invalid/syntax.toml");
    assert!(e[0].starts_with(&line("invalid/syntax.toml", "1: ")), "{e:?}");
}

#[test]
fn the_example_config_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let (code, out, err) = check(&example);
    assert_eq!(code, 0, "config.example.toml must stay valid:\n{err}");
    assert!(out.contains(": ok"));
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let (code, _, err) = check(Path::new("/nonexistent/opsdeck.toml"));
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/opsdeck.toml: cannot read"), "{err}");
}

#[test]
fn without_any_config_the_console_says_where_it_looked_and_how_to_start() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .env("HOME", home.path())
        .env_remove("OPSDECK_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("$OPSDECK_CONFIG (not set)"), "{err}");
    assert!(
        err.contains(&format!(
            "{}/.config/opsdeck/config.toml (no such file)",
            home.path().display()
        )),
        "{err}"
    );
    assert!(err.contains("opsdeck demo"), "{err}");
}

#[test]
fn opsdeck_config_env_var_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[general]\nthme = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("check")
        .env("HOME", dir.path())
        .env("OPSDECK_CONFIG", &file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:2: general.thme", file.display())), "{err}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_with_nothing_configured_is_ok() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[general]\nenvironment = \"empty\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["check", "--config"])
        .arg(&file)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK: 0 source(s) polled"));
}

#[test]
fn snapshot_reports_unconfigured_sources_as_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["snapshot", "--format", "json", "--config"])
        .arg(&file)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for source in ["pillows", "elasticsearch", "queues", "hosts"] {
        assert_eq!(doc[source]["status"], "disabled", "{source}: {doc}");
    }
    assert!(doc["alerts"].as_array().unwrap().is_empty());
}

/// `config check FILE`, killed if it is not done within 20 s (a hang is a failure, not a stuck run).
fn check_within(file: &Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["config", "check"])
        .arg(file)
        .env("HOME", std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status.code().unwrap_or(-1), err);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("opsdeck config check {} did not finish", file.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn only_a_regular_file_of_sane_size_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    mkfifo(&fifo);
    let zero = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, format!("# {}\n", "x".repeat(5 * 1024 * 1024))).unwrap();
    for (file, why) in [
        (&fifo, "not a regular file: a named pipe (FIFO)"),
        (&zero, "not a regular file: a character device"),
        (&dir.path().to_path_buf(), "not a regular file: a directory"),
        (&big, "larger than 4 MiB"),
    ] {
        let (code, err) = check_within(file);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.starts_with(&format!("{}: cannot read: {why}", file.display())),
            "{err}"
        );
    }
}

/// `config check` of `text`: exit code and the error lines.
fn check_text(text: &str) -> (i32, Vec<String>, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, text).unwrap();
    let (code, err) = check_within(&file);
    let lines = err
        .lines()
        .filter(|l| !l.contains("problem(s) in"))
        .map(String::from)
        .collect();
    (code, lines, file, dir)
}

#[test]
fn durations_that_would_overflow_are_refused_with_their_line() {
    let (code, errs, file, _dir) = check_text(
        "[general]\nrefresh = \"500000000000y\"\n\n[elasticsearch]\nurl = \"http://es:9200\"\nrequest_timeout = \"500000000000y\"\n\n[ssh]\ncommand_timeout = \"500000000000y\"\n\n[pillows]\ntimeout = \"500000000000y\"\n",
    );
    assert_eq!(code, 1, "{errs:?}");
    let f = file.display();
    for want in [
        format!("{f}:2: general.refresh: duration"),
        format!("{f}:6: elasticsearch.request_timeout: duration"),
        format!("{f}:9: ssh.command_timeout: duration"),
        format!("{f}:12: pillows.timeout: duration"),
    ] {
        assert!(
            errs.iter()
                .any(|e| e.starts_with(&want) && e.contains("longer than a year")),
            "{want} missing: {errs:?}"
        );
    }
    // Within a year but beyond what the key allows: refused by its range, still located.
    let (code, errs, file, _dir) = check_text("[ssh]\ncommand_timeout = \"2h\"\nrefresh = \"10ms\"\n");
    assert_eq!(code, 1);
    let f = file.display();
    assert_eq!(
        errs,
        [
            format!("{f}:2: ssh.command_timeout: 2h is out of range: from 1ms to 1h"),
            format!("{f}:3: ssh.refresh: 10ms is out of range: from 100ms to 1day"),
        ]
    );
}

#[test]
fn a_session_count_that_would_overflow_is_an_error_not_a_crash() {
    let (code, errs, file, _dir) = check_text("[ssh]\nmax_sessions = 18446744073709551615\n");
    assert_eq!(code, 1, "exit 101 is a panic: {errs:?}");
    assert_eq!(
        errs,
        [format!(
            "{}:2: ssh.max_sessions: max_sessions + max_tails = 18446744073709551615: sshd allows 10 sessions per connection by default (MaxSessions); keep the sum below 10",
            file.display()
        )]
    );
}

#[test]
fn the_audit_log_and_the_log_file_must_be_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("audit.fifo");
    mkfifo(&fifo);
    let (code, errs, file, _d) = check_text(&format!(
        "[general]\naudit_log = \"/dev/full\"\nlog_file = \"{}\"\n",
        fifo.display()
    ));
    assert_eq!(code, 1);
    let f = file.display();
    assert_eq!(
        errs,
        [
            format!("{f}:2: general.audit_log: /dev/full is a character device, not a regular file"),
            format!(
                "{f}:3: general.log_file: {} is a named pipe (FIFO), not a regular file",
                fifo.display()
            ),
        ]
    );
    let (code, errs, _, _d) = check_text(&format!("[general]\naudit_log = \"{}\"\n", dir.path().display()));
    assert_eq!(code, 1);
    assert!(errs[0].ends_with("is a directory, not a regular file"), "{errs:?}");
    // Absent is fine: it is created at the first action.
    let (code, errs, _, _d) = check_text(&format!(
        "[general]\naudit_log = \"{}/new/audit.jsonl\"\n",
        dir.path().display()
    ));
    assert_eq!(code, 0, "{errs:?}");
}

#[test]
fn theme_and_keymap_must_name_one_that_exists() {
    let (code, errs, file, _d) = check_text("[general]\ntheme = \"../../etc/passwd\"\nkeymap = \"emacs\"\n");
    assert_eq!(code, 1);
    let f = file.display();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].starts_with(&format!(
            "{f}:2: general.theme: \"../../etc/passwd\" is not a theme name"
        )),
        "{errs:?}"
    );
    assert!(
        errs[1].starts_with(&format!(
            "{f}:3: general.keymap: no keymap \"emacs\" (shipped: default, vim;"
        )),
        "{errs:?}"
    );
    let (code, errs, _, _d) = check_text("[general]\ntheme = \"mono\"\nkeymap = \"vim\"\n");
    assert_eq!(code, 0, "{errs:?}");
}

#[test]
fn every_mistake_comes_with_a_line_in_line_order() {
    // Semantic problems in the order of the file, one about a key the file does not set
    // (max_sessions: its section's line), none without a line.
    let (code, errs, file, _d) = check_text(
        "[ssh]\nmax_tails = 7\n\n[elasticsearch]\nurl = \"ftp://es\"\nexplain_max = 99\n\n[general]\nrefresh = \"0s\"\n",
    );
    assert_eq!(code, 1);
    let f = file.display().to_string();
    let lines: Vec<usize> = errs
        .iter()
        .map(|e| {
            e.strip_prefix(&format!("{f}:"))
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no line: {e}"))
        })
        .collect();
    assert_eq!(lines, [1, 5, 6, 9], "{errs:?}");
}

#[test]
fn a_theme_or_keymap_flag_that_is_a_path_is_refused_before_the_console_starts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "").unwrap();
    for (flag, value) in [("--theme", "../../../etc/passwd"), ("--keymap", "/etc/passwd")] {
        let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(["--config"])
            .arg(&file)
            .args([flag, value])
            .env("HOME", dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!("opsdeck: {flag}: \"{value}\" is not a")),
            "{err}"
        );
    }
}

#[test]
fn tls_options_this_build_cannot_honour_are_refused_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    let ca = dir.path().join("ca.pem");
    std::fs::write(
        &file,
        format!(
            "[pillows]\nbrokers = \"k1:9093\"\n\
             kafka_properties = {{ \"security.protocol\" = \"sasl_ssl\", \"sasl.mechanisms\" = \"GSSAPI\", \"no.such.property\" = \"1\" }}\n\
             postgres = \"host=db1 sslmode=verify-full sslrootcert={} sslcrl=/etc/crl.pem\"\n\n[[pillows.pillow]]\nname = \"case\"\ncheckpoint_id = \"case\"\n",
            ca.display()
        ),
    )
    .unwrap();
    let (code, _, err) = check(&file);
    assert_eq!(code, 1, "{err}");
    let f = file.display().to_string();
    assert!(
        err.contains(&format!(
            "{f}:3: pillows.kafka_properties.\"sasl.mechanisms\": GSSAPI (Kerberos) is not built"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:3: pillows.kafka_properties.\"no.such.property\": No such configuration property: \"no.such.property\"\n")),
        "{err}"
    );
    // TLS itself is built in: `sasl_ssl` is not among the problems.
    assert!(!err.contains("security.protocol"), "{err}");
    assert!(
        err.contains(&format!(
            "{f}:4: pillows.postgres: sslcrl is not supported by this build"
        )),
        "{err}"
    );

    // With the CRL gone, the CA file that is not there is named.
    std::fs::write(
        &file,
        format!(
            "[pillows]\nbrokers = \"k1:9093\"\npostgres = \"host=db1 sslmode=verify-full sslrootcert={}\"\n\n[[pillows.pillow]]\nname = \"case\"\ncheckpoint_id = \"case\"\n",
            ca.display()
        ),
    )
    .unwrap();
    let (code, _, err) = check(&file);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "{f}:3: pillows.postgres: sslrootcert {}: No such file",
            ca.display()
        )),
        "{err}"
    );
}
