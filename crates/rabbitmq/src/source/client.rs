//! A management-API client: basic auth, an optional CA for https, every request under a timeout,
//! every body read under a cap, and errors sorted into what a person does about them.

use crate::config::InstanceConfig;
use opsdeck_core::config::file::read_regular;
use opsdeck_core::source_error::{ErrorKind, SourceError};
use opsdeck_core::text::error_chain;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A CA bundle is kilobytes; a FIFO or a device named there must not hang or fill the memory.
const CA_CAP: u64 = 1 << 20;
/// An error page's beginning holds its reason.
const ERROR_BODY_CAP: usize = 64 << 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("no answer within {0}")]
    Timeout(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// 401/403: a wrong password, or a user without the permission (the server's words kept).
    #[error("the server refused user {user} ({status} {error}: {reason})")]
    Refused {
        user: String,
        status: u16,
        error: String,
        reason: String,
    },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("HTTP {status}: {reason}")]
    Status { status: u16, reason: String },
    #[error("bad answer: {0}")]
    BadAnswer(String),
}

/// A failed call by its kind, for the runner's backoff and `opsdeck doctor`.
impl From<ApiError> for SourceError {
    fn from(e: ApiError) -> Self {
        let kind = match &e {
            ApiError::Timeout(_) => ErrorKind::Timeout,
            ApiError::Unreachable(_) => ErrorKind::Unreachable,
            ApiError::Refused { .. } => ErrorKind::Unauthorised,
            ApiError::NotFound(_) => ErrorKind::Refused,
            ApiError::Status { status, .. } if *status >= 500 => ErrorKind::Unreachable,
            ApiError::Status { .. } => ErrorKind::Refused,
            ApiError::BadAnswer(_) => ErrorKind::BadAnswer,
        };
        SourceError::new(kind, e.to_string())
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    user: String,
    password: String,
    timeout: Duration,
    body_cap: usize,
}

impl Client {
    /// A client for one configured instance (reads the password and the CA file now).
    pub fn from_config(c: &InstanceConfig) -> Result<Self, String> {
        let base = c.base_url()?;
        let password = c.password()?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(c.connect_timeout.get())
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &c.ca_file {
            let pem = read_regular(path, CA_CAP).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("ca_file {}: no PEM certificate in the file", path.display()));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| format!("rabbitmq {}: {e}", c.name))?;
        Ok(Self {
            base,
            http,
            user: c.user.clone(),
            password,
            timeout: c.request_timeout.get(),
            body_cap: c.body_cap,
        })
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET path` (already percent-encoded, with its query) as JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let body = self.send(reqwest::Method::GET, path, None).await?;
        serde_json::from_slice(&body).map_err(|e| ApiError::BadAnswer(format!("GET {path}: {e}")))
    }

    /// `DELETE path`; the answer's body is ignored.
    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.send(reqwest::Method::DELETE, path, None).await.map(drop)
    }

    /// `PUT`/`POST` with a JSON body (tests set up vhosts, queues and messages with it).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Vec<u8>, ApiError> {
        self.send(method, path, Some(body)).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, ApiError> {
        // No `Accept: application/json`: the purge resource offers no body type and the server
        // answers such a DELETE with 406 before it even checks the user.
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(self.timeout)
            .basic_auth(&self.user, Some(&self.password));
        if let Some(body) = body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let resp = rb.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return read_capped(resp, self.body_cap).await.map_err(|e| self.capped(e));
        }
        let body = read_capped(resp, ERROR_BODY_CAP).await.unwrap_or_default();
        Err(self.status_error(status, &body))
    }

    fn transport(&self, e: reqwest::Error) -> ApiError {
        if e.is_timeout() {
            ApiError::Timeout(humantime::format_duration(self.timeout).to_string())
        } else {
            ApiError::Unreachable(error_chain(&e))
        }
    }

    fn capped(&self, e: Capped) -> ApiError {
        match e {
            Capped::Over => ApiError::BadAnswer(format!("answer larger than {} bytes (body_cap)", self.body_cap)),
            Capped::Failed(e) => self.transport(e),
        }
    }

    /// The management API answers errors as `{"error": "...", "reason": "..."}`.
    pub fn status_error(&self, status: u16, body: &[u8]) -> ApiError {
        let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let field = |k: &str| parsed.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let (error, mut reason) = (field("error"), field("reason"));
        if reason.is_empty() {
            reason = String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string();
        }
        match status {
            401 | 403 => ApiError::Refused {
                user: self.user.clone(),
                status,
                error,
                reason,
            },
            404 => ApiError::NotFound(reason),
            _ => ApiError::Status { status, reason },
        }
    }
}

enum Capped {
    Over,
    Failed(reqwest::Error),
}

/// The body as it streams in, given up as soon as it passes `cap` (a declared length over the cap
/// is refused before reading anything).
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, Capped> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(Capped::Over);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Capped::Failed)? {
        if body.len() + chunk.len() > cap {
            return Err(Capped::Over);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A path segment as the management API takes it: vhost `/` is `%2F`, every byte but the
/// unreserved ones escaped.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_escape_slashes_and_spaces() {
        assert_eq!(segment("/"), "%2F");
        assert_eq!(segment("worker1@host.celery.pidbox"), "worker1%40host.celery.pidbox");
        assert_eq!(segment("a b/é"), "a%20b%2F%C3%A9");
    }
}
