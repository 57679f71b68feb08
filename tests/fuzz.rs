//! Property tests — fuzzing on stable Rust — of what reads hostile input: the Elasticsearch
//! parsers, the df / du / find / `supervisorctl status` parsers and the config loader. Inputs are
//! the real captures (`tests/fixtures/`, `config.example.toml`) mutated byte by byte and, for JSON
//! and TOML, value by value (escape sequences, huge and negative numbers, wrong types, deleted
//! keys). The properties:
//!
//! - nothing panics;
//! - every string an Elasticsearch parser returns is safe to show (no control character);
//! - a config the loader accepts can be used: pollers, backoff, every deadline and the first frame
//!   of the console are computed without a panic or an overflow.
//!
//! `PROPTEST_CASES` sets the cases per property (256 by default); `./scripts/test` runs a longer
//! bounded pass. A failing case is shrunk and saved under `tests/fuzz.proptest-regressions`.

use opsdeck::config::Config;
use opsdeck::sources::runner::backoff;
use opsdeck_elasticsearch::model::{EsPoll, EsState};
use opsdeck_elasticsearch::source::parse;
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

fn fixture_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(sub)
}

fn read_dir(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| keep(&p.file_name().unwrap().to_string_lossy()))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

static ES_SEEDS: LazyLock<Vec<(String, Vec<u8>)>> =
    LazyLock::new(|| read_dir(&fixture_dir("elasticsearch"), |n| n.ends_with(".json")));

static HOST_SEEDS: LazyLock<Vec<(String, Vec<u8>)>> =
    LazyLock::new(|| read_dir(&fixture_dir("hosts"), |n| !n.ends_with(".md")));

static CONFIG_SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds = vec![std::fs::read_to_string(root.join("config.example.toml")).unwrap()];
    seeds.extend(
        read_dir(&root.join("tests/config/invalid"), |n| n.ends_with(".toml"))
            .into_iter()
            .map(|(_, b)| String::from_utf8(b).unwrap()),
    );
    seeds.push(
        "[general]\nrefresh = \"2s\"\n[[ssh.hosts]]\nname = \"local-a\"\ntransport = \"local\"\nsupervisor = true\njunk_paths = [\"/tmp\"]\nlogs = [\"/var/log/syslog\"]\n[[actions]]\nname = \"uptime\"\nkey = \"U\"\nscope = \"hosts\"\ncommand = \"uptime\"\nrun_on = \"{{host}}\"\n".into(),
    );
    seeds
});

// --- byte-level mutation ------------------------------------------------------------------------

/// Byte strings a hostile peer would send: escape sequences raw and JSON-escaped, numbers at the
/// edges, structure characters, invalid UTF-8, C1 controls.
const TOKENS: &[&[u8]] = &[
    b"\x1b[2J",
    b"\x1b]0;title\x07",
    b"\\u001b[31m",
    b"\\u009b2J",
    b"\\u0007",
    b"\\u202e",
    b"\xc2\x9b",
    b"\xff\xfe",
    b"\"",
    b"\\",
    b"null",
    b"-1",
    b"-9223372036854775809",
    b"18446744073709551616",
    b"1e999",
    b"NaN",
    b"[]",
    b"{}",
    b",",
    b":",
    b"\n",
    b"\t",
    b"\0",
    b" -> ",
    b"%",
    b"RUNNING",
    b"pid ",
    b"uptime 99999999999999999999:00:00",
    b"\xc3\xa9",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, usize),
    Delete(usize, usize),
    Truncate(usize),
    Repeat(usize, usize, u8),
    Bytes(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, x)| Mutation::Flip(at, x)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Mutation::Insert(at, t)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..256, 1u8..8).prop_map(|(at, n, k)| Mutation::Repeat(at, n, k)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, b)| Mutation::Bytes(at, b)),
    ]
}

fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in mutations {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
        match m {
            Mutation::Flip(i, x) if !b.is_empty() => {
                let i = i % b.len();
                b[i] ^= x;
            }
            Mutation::Flip(..) => {}
            Mutation::Insert(i, t) => {
                let i = at(*i, b.len());
                b.splice(i..i, TOKENS[*t].iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = at(*i, b.len());
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
            Mutation::Truncate(n) => b.truncate(at(*n, b.len())),
            Mutation::Repeat(i, n, k) => {
                let i = at(*i, b.len());
                let end = (i + n).min(b.len());
                let piece = b[i..end].to_vec();
                for _ in 0..*k {
                    b.splice(end..end, piece.iter().copied());
                }
            }
            Mutation::Bytes(i, bytes) => {
                let i = at(*i, b.len());
                b.splice(i..i, bytes.iter().copied());
            }
        }
    }
    b
}

/// One of `seeds`, mutated.
fn mutated(seeds: &'static LazyLock<Vec<(String, Vec<u8>)>>) -> impl Strategy<Value = (String, Vec<u8>)> {
    (0..seeds.len(), prop::collection::vec(mutation(), 0..6)).prop_map(move |(i, ms)| {
        let (name, seed) = &seeds[i];
        (name.clone(), apply(seed, &ms))
    })
}

// --- JSON value-level mutation -------------------------------------------------------------------

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "c\u{1b}[2J\u{1b}[31mEVIL\u{1b}]0;title\u{7}".to_string(),
            "\u{9b}31m".to_string(),
            "a\u{202e}gnp".to_string(),
            String::new(),
            " -> 10.0.0.9 nodeX spot 1".to_string(),
            "99999999999999999999999".to_string(),
            "-1".to_string(),
            "1.5tb".to_string(),
            "NaN%".to_string(),
            "x".repeat(10_000),
        ]),
        prop::collection::vec(any::<char>(), 0..24).prop_map(|cs| cs.into_iter().collect()),
    ]
}

fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        hostile_string().prop_map(Value::String),
        prop::sample::select(vec![
            Value::Null,
            Value::Bool(true),
            serde_json::json!(-1),
            serde_json::json!(i64::MIN),
            serde_json::json!(u64::MAX),
            serde_json::json!(1e308),
            serde_json::json!(-0.5),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!([[[]]]),
        ]),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
    ]
}

/// Every leaf (and every container) of `v`, as a path of keys and indexes.
fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(k.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(i.to_string());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match v {
        Value::Object(m) => m.get_mut(step),
        Value::Array(items) => items.get_mut(step.parse::<usize>().ok()?),
        _ => None,
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, Value),
    Remove(usize),
    RenameKey(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), hostile_value()).prop_map(|(p, v)| Edit::Replace(p, v)),
        1 => any::<usize>().prop_map(Edit::Remove),
        1 => (any::<usize>(), hostile_string()).prop_map(|(p, k)| Edit::RenameKey(p, k)),
    ]
}

fn edit_json(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(seed) else {
        return seed.to_vec();
    };
    for e in edits {
        let mut all = Vec::new();
        paths(&v, &mut Vec::new(), &mut all);
        let pick = |i: usize| all[i % all.len()].clone();
        match e {
            Edit::Replace(i, new) => {
                if let Some(slot) = at_path(&mut v, &pick(*i)) {
                    *slot = new.clone();
                }
            }
            Edit::Remove(i) | Edit::RenameKey(i, _) => {
                let path = pick(*i);
                let Some((last, parent)) = path.split_last() else {
                    continue;
                };
                if let Some(Value::Object(m)) = at_path(&mut v, parent)
                    && let Some(child) = m.remove(last)
                    && let Edit::RenameKey(_, k) = e
                {
                    m.insert(k.clone(), child);
                }
                if let Some(Value::Array(items)) = at_path(&mut v, parent)
                    && let Ok(i) = last.parse::<usize>()
                    && i < items.len()
                {
                    items.remove(i);
                }
            }
        }
    }
    serde_json::to_vec(&v).unwrap()
}

/// One of the JSON seeds, edited value by value.
fn edited_json() -> impl Strategy<Value = (String, Vec<u8>)> {
    (0..ES_SEEDS.len(), prop::collection::vec(edit(), 1..6)).prop_map(|(i, edits)| {
        let (name, seed) = &ES_SEEDS[i];
        (name.clone(), edit_json(seed, &edits))
    })
}

// --- Elasticsearch --------------------------------------------------------------------------------

/// Every string in `v` (keys too) that a terminal would act on.
fn unsafe_strings(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let bad = |s: &str| s.chars().any(opsdeck_core::text::is_unsafe);
    match v {
        Value::String(s) if bad(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| out.extend(unsafe_strings(i))),
        Value::Object(m) => {
            for (k, child) in m {
                if bad(k) {
                    out.push(k.clone());
                }
                out.extend(unsafe_strings(child));
            }
        }
        _ => {}
    }
    out
}

fn assert_safe<T: serde::Serialize>(what: &str, parsed: &T) -> Result<(), TestCaseError> {
    let v = serde_json::to_value(parsed).unwrap();
    let bad = unsafe_strings(&v);
    prop_assert!(bad.is_empty(), "{what} returned unsafe text: {bad:?}");
    Ok(())
}

/// Feeds `body` to every parser (whatever the seed was: a parser must survive any answer), and
/// builds the pane's state from whatever parsed.
fn every_es_parser(body: &[u8]) -> Result<(), TestCaseError> {
    let info = parse::parse_info(body);
    let health = parse::parse_health(body);
    let nodes = parse::parse_node_stats(body);
    let cat = parse::parse_cat_nodes(body);
    let shards = parse::parse_shards(body);
    let allocation = parse::parse_allocation(body);
    let settings = parse::parse_settings(body);
    let recoveries = parse::parse_recovery(body);
    let explain = parse::parse_explain(body);
    if let Ok(v) = &info {
        assert_safe("parse_info", v)?;
    }
    if let Ok(v) = &health {
        assert_safe("parse_health", v)?;
    }
    if let Ok(v) = &nodes {
        assert_safe("parse_node_stats", v)?;
    }
    if let Ok(rows) = &cat {
        for c in rows {
            for s in [&c.id, &c.name, &c.ip, &c.role, &c.master].into_iter().flatten() {
                prop_assert!(!s.chars().any(opsdeck_core::text::is_unsafe), "cat node {s:?}");
            }
        }
    }
    if let Ok(v) = &shards {
        assert_safe("parse_shards", v)?;
    }
    if let Ok(v) = &allocation {
        assert_safe("parse_allocation", v)?;
    }
    if let Ok(v) = &settings {
        assert_safe("parse_settings", v)?;
    }
    if let Ok(v) = &recoveries {
        assert_safe("parse_recovery", v)?;
    }
    if let Ok(v) = &explain {
        assert_safe("parse_explain", v)?;
    }
    // Whatever parsed goes into a poll, the rest empty: the model and the verdicts on it.
    let mut nodes = nodes.unwrap_or_default();
    parse::merge_cat_nodes(&mut nodes, &cat.unwrap_or_default());
    let poll = EsPoll {
        distribution: info.unwrap_or_default(),
        health: health.unwrap_or_default(),
        nodes,
        allocation: allocation.unwrap_or_default(),
        settings: settings.unwrap_or_default(),
        recoveries: recoveries.unwrap_or_default(),
        shards: shards.unwrap_or_default(),
        explains: explain.into_iter().collect(),
        notes: Vec::new(),
        refused: Vec::new(),
    };
    let state = EsState::build(poll);
    assert_safe("EsState::build", &state)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn es_parsers_survive_mutated_bytes((_name, body) in mutated(&ES_SEEDS)) {
        every_es_parser(&body)?;
    }

    #[test]
    fn es_parsers_survive_hostile_values((_name, body) in edited_json()) {
        every_es_parser(&body)?;
    }
}

// --- hosts: df, du, find, supervisorctl status ---------------------------------------------------

fn every_host_parser(bytes: &[u8]) {
    use opsdeck_core::exec::CommandOutput;
    use opsdeck_hosts::source::{df, files, supervisor};
    let text = String::from_utf8_lossy(bytes);
    let sizes = df::parse(&text);
    if let Ok(sizes) = &sizes {
        let inodes = df::parse(&text).ok();
        let _ = df::filesystems(sizes, inodes.as_ref());
    }
    let _ = files::parse_find(&text);
    for line in text.lines() {
        let _ = files::parse_du_line(line);
        let _ = supervisor::parse_uptime(line);
    }
    for status in [Some(0), Some(3), Some(127), None] {
        let out = CommandOutput {
            status,
            stdout: text.to_string(),
            stderr: text.lines().last().unwrap_or_default().to_string(),
        };
        if let Ok(programs) = supervisor::parse_status(&out) {
            for p in programs {
                assert!(!p.description.chars().any(char::is_control), "{:?}", p.description);
            }
        }
        let _ = supervisor::check_action(&out, "es");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn host_parsers_survive_mutated_output((_name, bytes) in mutated(&HOST_SEEDS)) {
        every_host_parser(&bytes);
    }
}

// --- the config loader ----------------------------------------------------------------------------

/// Values a config key may be given by mistake or malice.
const CONFIG_VALUES: &[&str] = &[
    "\"500000000000y\"",
    "\"366d\"",
    "\"365d\"",
    "\"0s\"",
    "\"1ns\"",
    "\"1h\"",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "-1",
    "0",
    "1e308",
    "nan",
    "inf",
    "-inf",
    "\"\"",
    "\"../../etc/passwd\"",
    "\"/dev/full\"",
    "\"/dev/zero\"",
    "\"\\u001b[2J\"",
    "\"{{host}}\"",
    "\"-oProxyCommand=x\"",
    "true",
    "[]",
    "[\"\"]",
    "{}",
    "\"mono\"",
];

#[derive(Debug, Clone)]
enum ConfigEdit {
    /// The value of the n-th `key = value` line.
    Value(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    Header(usize, usize),
    Bytes(Vec<Mutation>),
}

const HEADERS: &[&str] = &[
    "[general]",
    "[ssh]",
    "[[ssh.hosts]]",
    "[elasticsearch]",
    "[pillows]",
    "[[pillows.pillow]]",
    "[pillows.thresholds]",
    "[aws]",
    "[[actions]]",
];

fn config_edit() -> impl Strategy<Value = ConfigEdit> {
    prop_oneof![
        6 => (any::<usize>(), 0..CONFIG_VALUES.len()).prop_map(|(l, v)| ConfigEdit::Value(l, v)),
        1 => any::<usize>().prop_map(ConfigEdit::DeleteLine),
        1 => any::<usize>().prop_map(ConfigEdit::DuplicateLine),
        1 => (any::<usize>(), 0..HEADERS.len()).prop_map(|(l, h)| ConfigEdit::Header(l, h)),
        1 => prop::collection::vec(mutation(), 1..3).prop_map(ConfigEdit::Bytes),
    ]
}

fn edit_config(seed: &str, edits: &[ConfigEdit]) -> String {
    let mut lines: Vec<String> = seed.lines().map(String::from).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            ConfigEdit::Value(l, v) => {
                let assignments: Vec<usize> = (0..lines.len())
                    .filter(|&i| !lines[i].trim_start().starts_with('#') && lines[i].contains(" = "))
                    .collect();
                if let Some(&i) = assignments.get(l % assignments.len().max(1)) {
                    let key = lines[i].split(" = ").next().unwrap_or_default().to_string();
                    lines[i] = format!("{key} = {}", CONFIG_VALUES[*v]);
                }
            }
            ConfigEdit::DeleteLine(l) if !lines.is_empty() => {
                lines.remove(l % n);
            }
            ConfigEdit::DuplicateLine(l) if !lines.is_empty() => {
                let line = lines[l % n].clone();
                lines.insert(l % n, line);
            }
            ConfigEdit::Header(l, h) => lines.insert(l % n, HEADERS[*h].to_string()),
            ConfigEdit::Bytes(ms) => {
                let bytes = apply(lines.join("\n").as_bytes(), ms);
                lines = String::from_utf8_lossy(&bytes).lines().map(String::from).collect();
            }
            _ => {}
        }
    }
    lines.join("\n")
}

/// What the console and `check` compute from a config before any network call: none may panic
/// or overflow for a config the loader accepted.
fn use_config(config: Config) -> Result<(), TestCaseError> {
    let now = tokio::time::Instant::now();
    let wall = SystemTime::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let backends = opsdeck::sources::Backends {
        elasticsearch: rt
            .block_on(opsdeck_elasticsearch::source::EsBackend::connect(&config.elasticsearch))
            .ok()
            .flatten(),
        pillows: rt
            .block_on(async { opsdeck_pillows::source::PillowsBackend::connect(&config.pillows) })
            .ok()
            .flatten(),
        ..Default::default()
    };
    let pollers = backends.pollers(&config);
    for p in &pollers {
        for failures in [0, 1, 3, u32::MAX] {
            let wait = backoff(p.interval(), failures);
            prop_assert!(now.checked_add(wait).is_some(), "backoff {wait:?}");
        }
        prop_assert!(now.checked_add(p.timeout()).is_some(), "poll timeout {:?}", p.timeout());
    }
    let settings = config.pillows.settings();
    for d in [
        settings.checkpoint_grace,
        settings.rate_window,
        config.general.refresh.get(),
    ] {
        prop_assert!(wall.checked_add(d).is_some() && wall.checked_sub(d).is_some());
    }
    for p in &config.pillows.pillows {
        let _ = p.process_refs();
        let _ = opsdeck_pillows::config::pillow_logs(&config, p);
    }
    // The console's first frame, custom action keys bound, every pane empty.
    let app = opsdeck::ui::testing::app_on(config, wall);
    let _ = opsdeck::ui::testing::screen_text(&app, 80, 24);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_config_loader_survives_and_what_it_accepts_is_usable(
        seed in 0..CONFIG_SEEDS.len(),
        edits in prop::collection::vec(config_edit(), 1..5),
    ) {
        let text = edit_config(&CONFIG_SEEDS[seed], &edits);
        if let Ok(config) = opsdeck::config::parse_str(&text, Path::new("fuzz.toml")) {
            use_config(config)?;
        }
    }
}

#[test]
fn the_seeds_are_there() {
    assert!(
        ES_SEEDS.len() >= 10,
        "{:?}",
        ES_SEEDS.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    assert!(HOST_SEEDS.len() >= 5);
    assert!(CONFIG_SEEDS.len() >= 5);
    // The example config (the richest seed) is accepted and usable as it is.
    let config = opsdeck::config::parse_str(&CONFIG_SEEDS[0], Path::new("config.example.toml")).unwrap();
    use_config(config).unwrap();
    let _ = Duration::ZERO;
}
