//! The pillows config section: mistakes come back as FILE:LINE: key: message.

use std::path::Path;

#[test]
fn pillow_mistakes_name_file_line_and_key() {
    let text = r#"
[pillows]
brokers = "kafka1:9092"
restart_command = "supervisorctl restart"

[pillows.thresholds]
lag_warning = 9000
lag_critical = 5000

[[pillows.pillow]]
name = "case-pillow"
checkpoint_id = "case-pillow-x"
group = "case"

[[pillows.pillow]]
name = "ucr-pillow"
group = "ucr"
processes = 3
hosts = ["a", "b"]
program = "ucr"
"#;
    let errors = opsdeck::config::parse_str(text, Path::new("ops.toml")).unwrap_err();
    let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.key.as_str())).collect();
    for (line, key) in [
        (4, "pillows.restart_command"),
        (7, "pillows.thresholds.lag_warning"),
        (12, "pillows.pillow[0].checkpoint_id"),
        (17, "pillows.pillow[1].group"),
        (19, "pillows.pillow[1].hosts"),
        (20, "pillows.pillow[1].program"),
    ] {
        assert!(got.contains(&(line, key)), "missing {line}:{key} in {errors:#?}");
    }
    let ok = "[pillows]\nbrokers = \"k:9092\"\n[[pillows.pillow]]\nname = \"x\"\ngroup = \"g\"\ntopics = [\"t\"]\n";
    let config = opsdeck::config::parse_str(ok, Path::new("ok.toml")).unwrap();
    assert!(config.pillows.is_enabled());
    assert_eq!(config.pillows.checkpoint_table, "pillowtop_kafkacheckpoint");
}
