//! Helpers: a hostile Elasticsearch stand-in on loopback, the real binary run with a deadline,
//! and the real binary in tmux.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/elasticsearch")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// What the stand-in answers on each path.
#[derive(Clone)]
pub enum Answer {
    /// 200 with this body.
    Json(Vec<u8>),
    /// This status with this body.
    Status(u16, Vec<u8>),
    /// 200, chunked, a JSON array that never ends (until `bytes` were sent or the client left).
    Endless { bytes: u64 },
}

/// An Elasticsearch stand-in: real answers (the captures in tests/fixtures) unless a path is
/// overridden. One request per connection (`Connection: close`); std threads, so it works under
/// any test runtime.
pub struct EsStandIn {
    pub url: String,
    overrides: Arc<Mutex<Vec<(String, Answer)>>>,
}

impl EsStandIn {
    pub fn start() -> EsStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let overrides: Arc<Mutex<Vec<(String, Answer)>>> = Arc::default();
        let shared = overrides.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let overrides = shared.clone();
                std::thread::spawn(move || serve(stream, &overrides));
            }
        });
        EsStandIn { url, overrides }
    }

    /// Answers `path` (without the query) with `answer` from now on.
    pub fn answer(&self, path: &str, answer: Answer) {
        let mut o = self.overrides.lock().unwrap();
        o.retain(|(p, _)| p != path);
        o.push((path.to_string(), answer));
    }
}

fn real_answer(path: &str) -> Answer {
    Answer::Json(match path {
        "/" => fixture("clusterinfo_7.13.1.json"),
        "/_cluster/health" => fixture("clusterhealth_7.13.1.json"),
        "/_nodes/stats/fs,jvm" => fixture("nodestats_7.13.1.json"),
        "/_cluster/settings" => fixture("settings-7.3.0.json"),
        "/_cluster/allocation/explain" => fixture("explain_unassigned_synthetic.json"),
        _ => b"[]".to_vec(),
    })
}

fn serve(stream: TcpStream, overrides: &Mutex<Vec<(String, Answer)>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut content_length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; content_length];
    let _ = reader.read_exact(&mut body);
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/").to_string();
    let answer = overrides
        .lock()
        .unwrap()
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| real_answer(&path));
    let mut out = stream;
    let _ = match answer {
        Answer::Json(body) => respond(&mut out, 200, &body),
        Answer::Status(code, body) => respond(&mut out, code, &body),
        Answer::Endless { bytes } => endless(&mut out, bytes),
    };
}

fn respond(out: &mut TcpStream, code: u16, body: &[u8]) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)
}

/// A shard list that goes on and on, sent as it is made (the stand-in holds one chunk, never the
/// whole answer), with no length announced.
fn endless(out: &mut TcpStream, bytes: u64) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )?;
    let row = br#"{"index":"logs","shard":"0","prirep":"p","state":"STARTED","docs":"1","store":"1","ip":"10.0.0.1","id":"n1","node":"es-1","unassigned.reason":null},"#;
    let mut chunk = Vec::new();
    while chunk.len() < 64 * 1024 {
        chunk.extend_from_slice(row);
    }
    out.write_all(b"1\r\n[\r\n")?;
    let mut sent = 0u64;
    while sent < bytes {
        write!(out, "{:x}\r\n", chunk.len())?;
        out.write_all(&chunk)?;
        out.write_all(b"\r\n")?;
        sent += chunk.len() as u64;
    }
    out.write_all(b"0\r\n\r\n")
}

/// What the binary printed and how it ended, and the most memory it held (VmHWM, in KiB).
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub peak_rss_kib: u64,
    pub took: Duration,
}

/// Runs the real binary with `args` and `HOME` in `home`, killing it after `deadline`.
pub fn run_opsdeck(args: &[&str], home: &Path, deadline: Duration) -> Ran {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(args)
        .env("HOME", home)
        .env_remove("OPSDECK_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut peak = 0;
    let code = loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "opsdeck {args:?} still running after {deadline:?}; stderr:\n{}",
                err.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ran {
        code,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        peak_rss_kib: peak,
        took: started.elapsed(),
    }
}

/// `opsdeck snapshot --format json` of `config`: how it ran, and the document (it must exit 0:
/// a source that fails is data, not a failure to run).
pub fn snapshot(config: &Path, home: &Path) -> (Ran, serde_json::Value) {
    let ran = run_opsdeck(
        &["snapshot", "--format", "json", "--config", config.to_str().unwrap()],
        home,
        Duration::from_secs(60),
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let doc = serde_json::from_slice(&ran.stdout).unwrap();
    (ran, doc)
}

/// Bytes a terminal would act on: C0 controls other than newline, DEL, and C1 controls (UTF-8).
pub fn terminal_controls(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .filter(|&c| c.is_control() && c != '\n')
        .map(|c| format!("{:#04x}", c as u32))
        .collect()
}

/// The real binary in a real terminal (tmux, its own server): after opsdeck ends the pane shows
/// `EXIT:<status>` and `STTY:` with the terminal's modes, then `STTY-END`.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(args: &str, home: &Path, env: &[(&str, &str)]) -> Tmux {
        let socket = format!(
            "opsdeck-degraded-{}-{}",
            std::process::id(),
            home.file_name().unwrap().to_string_lossy()
        );
        let vars: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        let command = format!(
            "ulimit -c 0; cd {home}; HOME={home} OPSDECK_CONFIG= {vars}{bin} {args}; echo EXIT:$?; printf STTY:; stty -a; echo STTY-END; sleep 60",
            home = home.display(),
            bin = env!("CARGO_BIN_EXE_opsdeck"),
        );
        let ok = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x", "120", "-y", "36", &command])
            .status()
            .expect("tmux must be installed (the test script installs it)")
            .success();
        assert!(ok);
        Tmux { socket }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// The screen with everything scrolled off it (a backtrace is longer than a screen).
    pub fn history(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-S", "-"])
    }

    /// `alternate=0|1 cursor=0|1`: whether the alternate screen is on and the cursor shown.
    pub fn flags(&self) -> String {
        self.tmux(&["display", "-p", "alternate=#{alternate_on} cursor=#{cursor_flag}"])
            .trim()
            .to_string()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Sends `sig` to opsdeck (the pane's shell's child).
    pub fn signal(&self, sig: i32) {
        let shell = self.tmux(&["display", "-p", "#{pane_pid}"]).trim().to_string();
        let out = Command::new("pgrep").args(["-P", &shell, "opsdeck"]).output().unwrap();
        let pid: i32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no opsdeck under the pane's shell {shell}"));
        // SAFETY: sending a signal to our own test's child.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text))
    }

    pub fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if done(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}
