//! A real OpenSSH sshd and supervisord on 127.0.0.1, everything (keys, known_hosts, configs, sockets)
//! in a temp dir. Each test starts its own on a free port; dropping the handle stops them.
//!
//! Needs `openssh-server` and `supervisor` (Debian: `apt-get install -y openssh-server supervisor`).
//! Binaries: `$OPSDECK_SSHD` (default /usr/sbin/sshd), `$OPSDECK_SUPERVISORD` / `$OPSDECK_SUPERVISORCTL`
//! (default: found on PATH).

use opsdeck_hosts::config::{HostConfig, SshConfig};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const INSTALL: &str = "install the test peers: apt-get install -y openssh-server supervisor";

fn sshd_bin() -> PathBuf {
    std::env::var_os("OPSDECK_SSHD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/sshd"))
}

fn on_path(name: &str, env: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not found on PATH ({env} unset): {INSTALL}"))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `cond` until it holds or `limit` passes.
pub async fn eventually<F: FnMut() -> Fut, Fut: std::future::Future<Output = bool>>(
    limit: Duration,
    mut cond: F,
) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pid: Option<u32>,
}

impl Sshd {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts sshd with its own host key; the client key is authorised and the host key pinned in
    /// `known_hosts`.
    pub fn start() -> Sshd {
        let bin = sshd_bin();
        assert!(bin.is_file(), "{} missing: {INSTALL}", bin.display());
        let dir = tempfile::Builder::new().prefix("opsdeck-sshd").tempdir().unwrap();
        let d = dir.path();
        for key in ["host_ed25519", "client_ed25519", "other_ed25519"] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", key, "-f"])
                .arg(d.join(key)));
        }
        std::fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys")).unwrap();
        // An empty ssh_config, so the developer's ~/.ssh/config cannot change what the test does.
        std::fs::write(d.join("ssh_config"), "").unwrap();
        if nix_is_root() {
            // sshd's privilege separation directory; the one system path the fixture touches.
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        let _ = user;
        for attempt in 0..5 {
            let port = free_port();
            let host_pub = std::fs::read_to_string(d.join("host_ed25519.pub")).unwrap();
            let key: Vec<&str> = host_pub.split_whitespace().take(2).collect();
            std::fs::write(d.join("known_hosts"), format!("[127.0.0.1]:{port} {}\n", key.join(" "))).unwrap();
            let other_pub = std::fs::read_to_string(d.join("other_ed25519.pub")).unwrap();
            let other: Vec<&str> = other_pub.split_whitespace().take(2).collect();
            std::fs::write(
                d.join("known_hosts_wrong"),
                format!("[127.0.0.1]:{port} {}\n", other.join(" ")),
            )
            .unwrap();
            std::fs::write(
                d.join("sshd_config"),
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\n\
                     AuthorizedKeysFile {d}/authorized_keys\nPubkeyAuthentication yes\nPasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n\
                     MaxSessions 10\nMaxStartups 32:30:64\nLogLevel VERBOSE\n",
                    d = d.display()
                ),
            )
            .unwrap();
            let status = Command::new(&bin)
                .arg("-f")
                .arg(d.join("sshd_config"))
                .arg("-E")
                .arg(d.join("sshd.log"))
                .status()
                .unwrap_or_else(|e| panic!("{}: {e}: {INSTALL}", bin.display()));
            if !status.success() {
                continue;
            }
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let pid = std::fs::read_to_string(d.join("sshd.pid"))
                        .ok()
                        .and_then(|p| p.trim().parse().ok());
                    if pid.is_some() {
                        return Sshd { dir, port, pid };
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!("sshd attempt {attempt} on port {port} did not come up");
        }
        panic!(
            "sshd did not start; log:\n{}",
            std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default()
        );
    }

    /// A host entry for this sshd.
    pub fn host(&self, name: &str) -> HostConfig {
        HostConfig {
            address: Some("127.0.0.1".into()),
            user: Some(whoami()),
            port: Some(self.port),
            identity_file: Some(self.path("client_ed25519")),
            ..HostConfig::named(name, Default::default())
        }
    }

    /// An [ssh] section with strict checking against this sshd's pinned key.
    pub fn config(&self, hosts: Vec<HostConfig>) -> SshConfig {
        SshConfig {
            hosts,
            known_hosts: Some(self.path("known_hosts")),
            config_file: Some(self.path("ssh_config")),
            control_dir: Some(self.path("ctl")),
            command_timeout: opsdeck_core::config::ConfigDuration::secs(10),
            connect_timeout: opsdeck_core::config::ConfigDuration::secs(5),
            ..SshConfig::default()
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

fn nix_is_root() -> bool {
    whoami() == "root"
}

pub fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub struct Supervisord {
    _dir: tempfile::TempDir,
    pub conf: PathBuf,
    pid: Option<u32>,
}

impl Supervisord {
    /// Starts supervisord managing `programs` (name, command). Returns once all are RUNNING.
    pub fn start(programs: &[(&str, &str)]) -> Supervisord {
        Self::start_expecting(programs, programs.len())
    }

    /// Starts supervisord; returns once `running` programs are RUNNING (others may be meant to fail).
    pub fn start_expecting(programs: &[(&str, &str)], running: usize) -> Supervisord {
        let bin = on_path("supervisord", "OPSDECK_SUPERVISORD");
        let ctl = on_path("supervisorctl", "OPSDECK_SUPERVISORCTL");
        let dir = tempfile::Builder::new().prefix("opsdeck-sup").tempdir().unwrap();
        let s = dir.path();
        let mut conf = format!(
            "[unix_http_server]\nfile={s}/supervisor.sock\nchmod=0700\n\n[supervisord]\nlogfile={s}/supervisord.log\n\
             pidfile={s}/supervisord.pid\nchildlogdir={s}\nnodaemon=false\nsilent=true\n\n\
             [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             [supervisorctl]\nserverurl=unix://{s}/supervisor.sock\n",
            s = s.display()
        );
        for (name, command) in programs {
            conf.push_str(&format!(
                "\n[program:{name}]\ncommand={command}\nautostart=true\nautorestart=true\nstartsecs=1\nstartretries=1\n\
                 stopsignal=TERM\nstopwaitsecs=3\nstdout_logfile={s}/{name}.log\nredirect_stderr=true\n",
                s = s.display()
            ));
        }
        let conf_path = s.join("supervisord.conf");
        std::fs::write(&conf_path, conf).unwrap();
        run(Command::new(&bin).arg("-c").arg(&conf_path));
        let started = Instant::now();
        loop {
            let out = Command::new(&ctl)
                .arg("-c")
                .arg(&conf_path)
                .arg("status")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if text.lines().filter(|l| l.contains("RUNNING")).count() == running {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "supervisord programs did not reach RUNNING: {text}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let pid = std::fs::read_to_string(s.join("supervisord.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok());
        Supervisord {
            _dir: dir,
            conf: conf_path,
            pid,
        }
    }

    /// The supervisor command template for this instance.
    pub fn template(&self) -> String {
        let ctl = on_path("supervisorctl", "OPSDECK_SUPERVISORCTL");
        format!(
            "{} -c {} {{action}} {{program}}",
            shlex::try_quote(&ctl.to_string_lossy()).unwrap(),
            shlex::try_quote(&self.conf.to_string_lossy()).unwrap()
        )
    }
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            // TERM stops the children too.
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Pids whose command line contains `needle` (from /proc, so the tests need no procps).
pub fn processes_matching(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(needle) {
            out.push(pid);
        }
    }
    out
}
