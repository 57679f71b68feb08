//! `EsClient`: a small typed HTTP client for the handful of Elasticsearch / OpenSearch endpoints we use.
//!
//! Plain reqwest + serde rather than the `elasticsearch` crate: that crate only ever shipped as `-alpha`,
//! returns untyped JSON and pins an older reqwest (see the README's dependency notes).

use crate::config::EsConfig;
use opsdeck_core::source_error::{ErrorKind, SourceError};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// How we authenticate. Secrets never appear in `Debug` output.
#[derive(Clone)]
enum Auth {
    None,
    Basic { user: String, password: Option<String> },
    ApiKey(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("none"),
            Auth::Basic { user, .. } => write!(f, "basic({user}, ****)"),
            Auth::ApiKey(_) => f.write_str("api_key(****)"),
        }
    }
}

/// One HTTP request, exactly as it is sent: plans show it verbatim and the audit log records it.
#[derive(Debug, Clone, PartialEq)]
pub struct EsRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
}

impl EsRequest {
    pub fn get(path: &str) -> Self {
        Self {
            method: Method::Get,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }
    pub fn put(path: &str, body: Value) -> Self {
        Self {
            method: Method::Put,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
        }
    }
    pub fn post(path: &str, body: Option<Value>) -> Self {
        Self {
            method: Method::Post,
            path: path.into(),
            query: Vec::new(),
            body,
        }
    }
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }
    /// `path?query`, as on the wire (values are plain ASCII here: column names, booleans).
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}?{}", self.path, q.join("&"))
    }
}

impl fmt::Display for EsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = match self.method {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
        };
        write!(f, "{m} {}", self.path_and_query())?;
        if let Some(body) = &self.body {
            write!(f, " {body}")?;
        }
        Ok(())
    }
}

/// What went wrong with one request, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EsError {
    #[error("{0}")]
    Transport(String),
    #[error("no answer within {0}")]
    Timeout(String),
    #[error("HTTP {status}{}: {reason}", kind.as_deref().map(|k| format!(" {k}")).unwrap_or_default())]
    Status {
        status: u16,
        kind: Option<String>,
        reason: String,
    },
    #[error("unreadable answer: {0}")]
    Decode(String),
    /// The answer passed `elasticsearch.max_answer_mib` (reading stopped there).
    #[error("answer larger than {} MiB", .limit / MIB)]
    TooLarge { limit: u64 },
}

/// The kind the runner and `check` act on: the cause is known here (transport, status, answer).
impl From<EsError> for SourceError {
    fn from(e: EsError) -> SourceError {
        let kind = match &e {
            EsError::Transport(_) => ErrorKind::Unreachable,
            EsError::Timeout(_) => ErrorKind::Timeout,
            EsError::Status { status, .. } => SourceError::http_status_kind(*status),
            EsError::Decode(_) | EsError::TooLarge { .. } => ErrorKind::BadAnswer,
        };
        SourceError::new(kind, e.to_string())
    }
}

const MIB: u64 = 1024 * 1024;
/// Most of an error answer read: its reason is all we show.
const ERROR_BODY_CAP: u64 = 64 * 1024;

#[derive(Debug, Clone)]
pub struct EsClient {
    base: reqwest::Url,
    http: reqwest::Client,
    auth: Auth,
    timeout: Duration,
    /// Largest answer read, in bytes.
    max_answer: u64,
}

impl EsClient {
    /// Builds the client (reads the CA file and secrets; no network I/O).
    pub fn from_config(c: &EsConfig) -> Result<Self, String> {
        let base = reqwest::Url::parse(c.url.trim()).map_err(|e| format!("elasticsearch.url: {e}"))?;
        let secret = |inline: &Option<String>, env: &Option<String>, what: &str| -> Result<Option<String>, String> {
            match (inline, env) {
                (Some(v), _) => Ok(Some(v.clone())),
                (None, Some(var)) => std::env::var(var)
                    .map(Some)
                    .map_err(|_| format!("elasticsearch.{what}_env: variable {var} is not set")),
                (None, None) => Ok(None),
            }
        };
        let password = secret(&c.password, &c.password_env, "password")?;
        let api_key = secret(&c.api_key, &c.api_key_env, "api_key")?;
        let auth = match (&c.username, api_key) {
            (Some(user), _) => Auth::Basic {
                user: user.clone(),
                password,
            },
            (None, Some(key)) => Auth::ApiKey(key),
            (None, None) => Auth::None,
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(c.request_timeout.get())
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &c.ca_file {
            // A CA bundle is kilobytes; a FIFO or a device there must not hang or fill the memory.
            let pem = opsdeck_core::config::file::read_regular(path, opsdeck_core::config::file::TEXT_CAP)
                .map_err(|e| format!("elasticsearch.ca_file {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("elasticsearch.ca_file {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "elasticsearch.ca_file {}: no PEM certificate in the file",
                    path.display()
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| format!("elasticsearch: {e}"))?;
        Ok(Self {
            base,
            http,
            auth,
            timeout: c.request_timeout.get(),
            max_answer: c.max_answer_mib.saturating_mul(MIB),
        })
    }

    /// A client with default settings for `url` (tests, demo).
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        Self::from_config(&EsConfig {
            url: url.into(),
            request_timeout: opsdeck_core::config::ConfigDuration(timeout),
            ..EsConfig::default()
        })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// Sends `req` with its own timeout; a non-2xx answer becomes `EsError::Status` with Elasticsearch's error type.
    pub async fn send(&self, req: &EsRequest) -> Result<Vec<u8>, EsError> {
        let mut url = self.base.clone();
        let base_path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base_path}{}", req.path));
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Put => reqwest::Method::PUT,
            Method::Post => reqwest::Method::POST,
        };
        let mut rb = self
            .http
            .request(method, url)
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        rb = match &self.auth {
            Auth::None => rb,
            Auth::Basic { user, password } => rb.basic_auth(user, password.as_ref()),
            Auth::ApiKey(key) => rb.header(reqwest::header::AUTHORIZATION, format!("ApiKey {key}")),
        };
        if let Some(body) = &req.body {
            rb = rb.json(body);
        }
        let what = |e: reqwest::Error| {
            if e.is_timeout() {
                EsError::Timeout(humantime::format_duration(self.timeout).to_string())
            } else {
                EsError::Transport(error_chain(&e))
            }
        };
        let resp = rb.send().await.map_err(what)?;
        let status = resp.status();
        if status.is_success() {
            return read_capped(resp, self.max_answer).await.map_err(|e| match e {
                Capped::Over => EsError::TooLarge { limit: self.max_answer },
                Capped::Failed(e) => what(e),
            });
        }
        // An error page may be huge too: its beginning holds the reason.
        let body = match read_capped(resp, ERROR_BODY_CAP).await {
            Ok(body) => body,
            Err(Capped::Over) => Vec::new(),
            Err(Capped::Failed(e)) => return Err(what(e)),
        };
        Err(status_error(status.as_u16(), &body))
    }

    /// Sends `req` and parses the JSON answer.
    pub async fn json(&self, req: &EsRequest) -> Result<Value, EsError> {
        let body = self.send(req).await?;
        serde_json::from_slice(&body).map_err(|e| EsError::Decode(e.to_string()))
    }
}

enum Capped {
    Over,
    Failed(reqwest::Error),
}

/// The body, read as it streams in and given up as soon as it passes `cap` bytes (a declared
/// length over the cap is refused before reading anything): never more than `cap` in memory.
async fn read_capped(mut resp: reqwest::Response, cap: u64) -> Result<Vec<u8>, Capped> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(Capped::Over);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Capped::Failed)? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(Capped::Over);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `reqwest`'s top error says little ("error sending request"); its sources say why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        src = s.source();
    }
    out
}

/// Elasticsearch errors are `{"error":{"type","reason",...},"status"}` (or `{"error":"text"}` on old versions).
fn status_error(status: u16, body: &[u8]) -> EsError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let (kind, reason) = match parsed.as_ref().and_then(|v| v.get("error")) {
        Some(Value::Object(e)) => (
            e.get("type").and_then(Value::as_str).map(String::from),
            e.get("reason").and_then(Value::as_str).unwrap_or("").to_string(),
        ),
        Some(Value::String(s)) => (None, s.clone()),
        _ => (None, String::from_utf8_lossy(body).chars().take(200).collect()),
    };
    let reason = if reason.trim().is_empty() {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_string()
    } else {
        reason.chars().take(300).collect()
    };
    // The cluster's words, shown on a terminal.
    let clean = opsdeck_core::text::clean_owned;
    EsError::Status {
        status,
        kind: kind.map(clean),
        reason: clean(reason),
    }
}
