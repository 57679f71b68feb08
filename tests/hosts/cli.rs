//! `opsdeck snapshot` and `opsdeck check` on a real sshd + supervisord: JSON carries hosts,
//! filesystems and programs; check turns disk thresholds and non-RUNNING programs into exit codes.

use super::harness::{Sshd, Supervisord};
use std::process::Command;

fn config_file(sshd: &Sshd, sup: &Supervisord, disk_warn: f64, disk_crit: f64) -> std::path::PathBuf {
    let host = sshd.host("web-1");
    let q = |p: &std::path::Path| toml::Value::String(p.to_string_lossy().into_owned()).to_string();
    let text = format!(
        r#"
[ssh]
known_hosts = {kh}
config_file = {cf}
supervisor_command = {tpl}
disk_warn = {disk_warn:.1}
disk_crit = {disk_crit:.1}
command_timeout = "10s"

[[ssh.hosts]]
name = "web-1"
address = "127.0.0.1"
port = {port}
user = {user}
identity_file = {key}
supervisor = true
"#,
        kh = q(&sshd.path("known_hosts")),
        cf = q(&sshd.path("ssh_config")),
        tpl = toml::Value::String(sup.template()),
        port = sshd.port,
        user = toml::Value::String(host.user.clone().unwrap()),
        key = q(host.identity_file.as_ref().unwrap()),
    );
    let path = sshd.path(&format!("opsdeck-{disk_crit}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn opsdeck(args: &[&str], config: &std::path::Path) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("XDG_STATE_HOME", config.parent().unwrap())
        .output()
        .unwrap();
    (
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn snapshot_json_has_hosts_filesystems_and_programs() {
    let sshd = Sshd::start();
    let sup = Supervisord::start(&[("tile-worker", "/bin/sleep 3600")]);
    let cfg = config_file(&sshd, &sup, 100.0, 100.0);
    let (out, code) = opsdeck(&["snapshot", "--format", "json"], &cfg);
    assert_eq!(code, 0, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let hosts = &doc["hosts"];
    assert_eq!(hosts["status"], "ok", "{hosts}");
    let h = &hosts["hosts"][0];
    assert_eq!(h["name"], "web-1");
    assert_eq!(h["reachable"], true);
    let fs = h["filesystems"].as_array().unwrap();
    assert!(
        fs.iter()
            .any(|f| f["mount"] == "/" && f["size_kib"].as_u64().unwrap() > 0),
        "{h}"
    );
    assert_eq!(h["programs"][0]["name"], "tile-worker");
    assert_eq!(h["programs"][0]["state"], "RUNNING");
    assert!(h["programs"][0]["pid"].as_u64().is_some());
}

#[test]
fn check_exits_by_disk_thresholds_and_program_states() {
    let sshd = Sshd::start();
    let sup = Supervisord::start(&[("tile-worker", "/bin/sleep 3600")]);
    // Thresholds no real disk reaches: OK.
    let (out, code) = opsdeck(&["check"], &config_file(&sshd, &sup, 100.0, 100.0));
    assert_eq!(code, 0, "{out}");
    // Thresholds every disk reaches: critical, naming host and mount.
    let (out, code) = opsdeck(&["check"], &config_file(&sshd, &sup, 0.0, 0.0));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("CRITICAL hosts web-1:/"), "{out}");
    // A stopped program is a warning.
    let ctl = Command::new("sh")
        .arg("-c")
        .arg(
            sup.template()
                .replace("{action}", "stop")
                .replace("{program}", "tile-worker"),
        )
        .output()
        .unwrap();
    assert!(ctl.status.success(), "{ctl:?}");
    let (out, code) = opsdeck(&["check"], &config_file(&sshd, &sup, 100.0, 100.0));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("WARNING hosts web-1:tile-worker: STOPPED"), "{out}");
}
