//! A fleet of one sshd whose supervisor runs through a stand-in sudo that answers `sudo -n -l`
//! from a policy file: what `opsdeck doctor` and the console's capability checks are tested on
//! (`tests/it/doctor.rs`, `tests/e2e.rs`). Include next to `harness` (`super::harness`).

use super::harness::{self, Sshd, Supervisord};
use std::path::{Path, PathBuf};

/// A stand-in for sudo in `dir`: `-n` is required; `-l COMMAND…` answers (exit 0, the command
/// echoed, like sudo) unless a line of `dir/refused` (a shell pattern) matches the command; without
/// `-l` the command runs. Its path has a space, for the quoting.
pub fn stand_in_sudo(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("fake bin");
    std::fs::create_dir_all(&bin).unwrap();
    let sudo = bin.join("sudo");
    let refused = dir.join("refused");
    std::fs::write(&refused, "").unwrap();
    std::fs::write(
        &sudo,
        format!(
            r#"#!/bin/sh
[ "$1" = -n ] || {{ echo 'sudo: a password is required' >&2; exit 1; }}
shift
if [ "$1" = -l ]; then
    shift
    while IFS= read -r pattern; do
        case "$*" in $pattern) exit 1 ;; esac
    done < '{refused}'
    printf '%s\n' "$*"
    exit 0
fi
exec "$@"
"#,
            refused = refused.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&sudo, std::fs::Permissions::from_mode(0o755)).unwrap();
    sudo
}

pub fn quoted(p: &Path) -> String {
    toml::Value::String(p.to_string_lossy().into_owned()).to_string()
}

/// The `[ssh]` section for `sshd` (strict host keys, its pinned known_hosts) and its hosts.
pub fn ssh_section(sshd: &Sshd, supervisor_command: &str, hosts: &[(&str, &str)]) -> String {
    let mut s = format!(
        "[ssh]\nknown_hosts = {}\nconfig_file = {}\ncontrol_dir = {}\ncommand_timeout = \"10s\"\n\
         connect_timeout = \"5s\"\nsupervisor_command = {}\n",
        quoted(&sshd.path("known_hosts")),
        quoted(&sshd.path("ssh_config")),
        quoted(&sshd.path("ctl")),
        toml::Value::String(supervisor_command.into()),
    );
    for (name, address) in hosts {
        s.push_str(&format!(
            "\n[[ssh.hosts]]\nname = \"{name}\"\naddress = \"{address}\"\nport = {}\nuser = \"{}\"\n\
             identity_file = {}\nsupervisor = true\n",
            sshd.port,
            harness::whoami(),
            quoted(&sshd.path("client_ed25519")),
        ));
    }
    s
}

/// supervisorctl for `sup`, through the stand-in `sudo`.
pub fn sudo_template(sudo: &Path, sup: &Supervisord) -> String {
    format!(
        "{} -n {}",
        shlex::try_quote(&sudo.to_string_lossy()).unwrap(),
        sup.template()
    )
}
