//! What a pane knows about its source: the last good data, when it was polled, and what failed.

use crate::source_error::{ErrorKind, SourceError};
use serde::Serialize;
use std::time::SystemTime;

/// A source's data type: how one poll's answer is folded into what the pane already shows.
pub trait FeedData: Sized {
    /// What one poll returns.
    type Poll: Send + 'static;
    /// Folds `poll` into `current` (keeping bounded histories, detecting rewinds, ...).
    fn absorb(current: &mut Option<Self>, poll: Self::Poll, at: SystemTime);
}

/// Where a source stands, as shown in a pane header and in `snapshot` JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedStatus {
    /// Not configured (or its capability is not built yet).
    Disabled,
    /// Configured, no answer yet.
    Waiting,
    /// The last poll succeeded.
    Ok,
    /// The last poll failed; `data` still holds the last good answer, if any.
    Error,
}

/// A feed's freshness, whatever its data: what tab markers, pane headers, the overview and `check`
/// show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedInfo<'a> {
    pub status: FeedStatus,
    pub error: Option<&'a str>,
    /// The last error's kind (with `error`).
    pub error_kind: Option<ErrorKind>,
    pub polled_at: Option<SystemTime>,
    pub last_ok: Option<SystemTime>,
    pub has_data: bool,
}

/// One source's state: last good data plus freshness and the last error.
///
/// A failed poll never clears `data`: the pane keeps showing the last good answer under the error.
#[derive(Debug, Clone, Serialize)]
pub struct Feed<T> {
    pub status: FeedStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    #[serde(serialize_with = "crate::time::serialize_opt_rfc3339")]
    pub polled_at: Option<SystemTime>,
    #[serde(serialize_with = "crate::time::serialize_opt_rfc3339")]
    pub last_ok: Option<SystemTime>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

impl<T> Default for Feed<T> {
    fn default() -> Self {
        Self::disabled()
    }
}

impl<T> Feed<T> {
    pub fn disabled() -> Self {
        Self {
            status: FeedStatus::Disabled,
            error: None,
            error_kind: None,
            polled_at: None,
            last_ok: None,
            data: None,
        }
    }

    pub fn waiting() -> Self {
        Self {
            status: FeedStatus::Waiting,
            ..Self::disabled()
        }
    }

    /// Records a successful poll; `absorb` folds the new answer into the existing data
    /// (so histories survive across polls).
    pub fn succeed(&mut self, at: SystemTime, absorb: impl FnOnce(&mut Option<T>)) {
        absorb(&mut self.data);
        self.status = FeedStatus::Ok;
        self.error = None;
        self.error_kind = None;
        self.polled_at = Some(at);
        self.last_ok = Some(at);
    }

    /// Records a failed poll, keeping the last good data.
    pub fn fail(&mut self, at: SystemTime, error: SourceError) {
        self.status = FeedStatus::Error;
        self.error = Some(error.message);
        self.error_kind = Some(error.kind);
        self.polled_at = Some(at);
    }

    pub fn is_enabled(&self) -> bool {
        self.status != FeedStatus::Disabled
    }

    pub fn info(&self) -> FeedInfo<'_> {
        FeedInfo {
            status: self.status,
            error: self.error.as_deref(),
            error_kind: self.error_kind,
            polled_at: self.polled_at,
            last_ok: self.last_ok,
            has_data: self.data.is_some(),
        }
    }

    /// Folds one poll's result in: its answer (see [`FeedData::absorb`]) or its failure.
    pub fn apply(&mut self, at: SystemTime, result: Result<T::Poll, SourceError>)
    where
        T: FeedData,
    {
        match result {
            Ok(poll) => self.succeed(at, |data| T::absorb(data, poll, at)),
            Err(error) => self.fail(at, error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn failure_keeps_last_good_data_and_reports_error() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let mut feed: Feed<Vec<u32>> = Feed::waiting();
        feed.succeed(t0, |d| *d = Some(vec![1, 2]));
        feed.fail(
            t0 + Duration::from_secs(5),
            SourceError::unreachable("connection refused"),
        );
        assert_eq!(feed.status, FeedStatus::Error);
        assert_eq!(feed.data.as_deref(), Some(&[1, 2][..]));
        assert_eq!(feed.last_ok, Some(t0));
        assert_eq!(feed.error.as_deref(), Some("connection refused"));
        assert_eq!(feed.info().error_kind, Some(ErrorKind::Unreachable));
        feed.succeed(t0 + Duration::from_secs(10), |d| d.as_mut().unwrap().push(3));
        assert_eq!(feed.status, FeedStatus::Ok);
        assert!(feed.error.is_none());
        assert_eq!(feed.error_kind, None);
        assert_eq!(feed.data.as_deref(), Some(&[1, 2, 3][..]));
    }
}
