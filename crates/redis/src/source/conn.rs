//! One connection to one instance: TCP or TLS (rustls), `AUTH` with the ACL user and its password,
//! `SELECT`, then commands one at a time or pipelined. Connecting and every round trip have a
//! deadline; a connection that missed one (or broke) is not used again.

use super::resp::{Cmd, Limits, ReadError, Value, read_value};
use super::tls;
use crate::config::{Endpoint, InstanceConfig};
use crate::model::{ErrorKind, RedisError};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Most commands sent in one round trip (longer pipelines go in several).
pub const PIPELINE_CHUNK: usize = 1000;
/// Largest answer read: INFO is a few KiB, a SCAN page or a pipeline of LLENs far less.
pub const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// How to reach and log into an instance, resolved from its config (password read, TLS built).
#[derive(Clone)]
pub struct Settings {
    pub endpoint: Endpoint,
    pub user: Option<String>,
    password: Option<String>,
    pub db: u32,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("Settings")
            .field("endpoint", &self.endpoint.to_string())
            .field("user", &self.user)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads the password and the TLS files now; a problem is a [`ErrorKind::Setup`] error.
    pub fn from_config(inst: &InstanceConfig) -> Result<Self, RedisError> {
        let setup = |m: String| RedisError::new(ErrorKind::Setup, m);
        let endpoint = inst.endpoint().map_err(setup)?;
        let password = inst.password().map_err(setup)?;
        let tls = if endpoint.tls {
            Some(tls::client_config(inst).map_err(setup)?)
        } else {
            None
        };
        Ok(Self {
            endpoint,
            user: inst.user.clone(),
            password,
            db: inst.db,
            connect_timeout: inst.connect_timeout(),
            command_timeout: inst.command_timeout(),
            tls,
        })
    }

    /// Plain, unauthenticated settings (tests and the demo build them from parts).
    pub fn plain(endpoint: Endpoint, timeout: Duration) -> Self {
        Self {
            endpoint,
            user: None,
            password: None,
            db: 0,
            connect_timeout: timeout,
            command_timeout: timeout,
            tls: None,
        }
    }

    pub fn with_login(mut self, user: Option<String>, password: Option<String>) -> Self {
        self.user = user;
        self.password = password;
        self
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct Connection {
    stream: BufReader<Box<dyn Io>>,
    timeout: Duration,
    limits: Limits,
    /// Set when a round trip failed half-way: the next answer would belong to another command.
    broken: bool,
}

impl Connection {
    /// Connects, logs in and selects the database, all within the connect timeout.
    pub async fn open(s: &Settings) -> Result<Self, RedisError> {
        let deadline = s.connect_timeout;
        let mut conn = tokio::time::timeout(deadline, Self::connect(s)).await.map_err(|_| {
            RedisError::new(
                ErrorKind::Timeout,
                format!("connecting to {} timed out after {}", s.endpoint, secs(deadline)),
            )
        })??;
        if let Some(password) = &s.password {
            let mut auth = Cmd::new("AUTH");
            if let Some(user) = &s.user {
                auth = auth.arg(user);
            }
            conn.call(&auth.arg(password))
                .await
                .map_err(|e| e.context(format!("AUTH as {}", s.user.as_deref().unwrap_or("default"))))?;
        }
        if s.db != 0 {
            conn.call(&Cmd::new("SELECT").arg(s.db.to_string())).await?;
        }
        Ok(conn)
    }

    async fn connect(s: &Settings) -> Result<Self, RedisError> {
        let ep = &s.endpoint;
        let tcp = TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .map_err(|e| RedisError::new(ErrorKind::Unreachable, format!("cannot connect to {ep}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = match &s.tls {
            None => Box::new(tcp),
            Some(config) => Box::new(
                tls::handshake(config.clone(), &ep.host, tcp)
                    .await
                    .map_err(|e| RedisError::new(ErrorKind::Tls, format!("TLS with {ep}: {e}")))?,
            ),
        };
        Ok(Self {
            stream: BufReader::new(stream),
            timeout: s.command_timeout,
            limits: Limits::answer_of(MAX_ANSWER),
            broken: false,
        })
    }

    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// One command; an error answer is an `Err` with the server's words.
    pub async fn call(&mut self, cmd: &Cmd) -> Result<Value, RedisError> {
        let mut answers = self.round_trip(std::slice::from_ref(cmd)).await?;
        answer(answers.pop().expect("one answer per command"))
    }

    /// Commands in as few round trips as [`PIPELINE_CHUNK`] allows. The outer `Err` is the
    /// connection failing; each inner result is one command's answer (an error answer fails only
    /// that command).
    pub async fn pipeline(&mut self, cmds: &[Cmd]) -> Result<Vec<Result<Value, RedisError>>, RedisError> {
        let mut out = Vec::with_capacity(cmds.len());
        for chunk in cmds.chunks(PIPELINE_CHUNK) {
            out.extend(self.round_trip(chunk).await?.into_iter().map(answer));
        }
        Ok(out)
    }

    async fn round_trip(&mut self, cmds: &[Cmd]) -> Result<Vec<Value>, RedisError> {
        if self.broken {
            return Err(RedisError::new(ErrorKind::Unreachable, "connection lost"));
        }
        let what = cmds.first().map(Cmd::name).unwrap_or_default();
        // Marked broken until the whole exchange is done: a timeout or an error part-way leaves
        // answers in flight.
        self.broken = true;
        let timeout = self.timeout;
        let answers = tokio::time::timeout(timeout, self.exchange(cmds)).await.map_err(|_| {
            RedisError::new(
                ErrorKind::Timeout,
                format!("{what}: no answer within {}", secs(timeout)),
            )
        })??;
        self.broken = false;
        Ok(answers)
    }

    async fn exchange(&mut self, cmds: &[Cmd]) -> Result<Vec<Value>, RedisError> {
        let mut bytes = Vec::new();
        for c in cmds {
            c.encode(&mut bytes);
        }
        let lost = |e: std::io::Error| RedisError::new(ErrorKind::Unreachable, format!("connection lost: {e}"));
        self.stream.get_mut().write_all(&bytes).await.map_err(lost)?;
        self.stream.get_mut().flush().await.map_err(lost)?;
        let mut answers = Vec::with_capacity(cmds.len());
        for _ in cmds {
            let v = read_value(&mut self.stream, &self.limits).await.map_err(|e| match e {
                ReadError::Closed => RedisError::new(ErrorKind::Unreachable, "the server closed the connection"),
                ReadError::Io(e) => lost(e),
                ReadError::Protocol(m) => RedisError::bad_answer(m),
            })?;
            answers.push(v);
        }
        Ok(answers)
    }
}

fn answer(v: Value) -> Result<Value, RedisError> {
    match v {
        Value::Error(text) => Err(RedisError::from_reply(&text)),
        v => Ok(v),
    }
}

fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
