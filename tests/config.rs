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
