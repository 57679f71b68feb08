//! Polls folded into a pane's data in the poller's own task, so the loop that draws only swaps the
//! result in. Folding some polls is real work (3,200 partitions judged against their histories take
//! tens of milliseconds): done on the UI loop it would delay every key and frame behind it.

use crate::feed::FeedData;
use crate::pane::Poller;
use crate::source_error::SourceError;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A poller of `T`'s polls that keeps `T` itself: each answer is folded into its copy of the data
/// (histories and all) and the result is what reaches the app, shared, not copied. While the app
/// still shows the previous data the next fold works on a copy; once it has swapped, the two are
/// one again.
pub struct Folding<T: FeedData> {
    inner: Box<dyn Poller<Result<T::Poll, SourceError>>>,
    data: Option<Arc<T>>,
}

impl<T: FeedData> Folding<T> {
    pub fn new(inner: Box<dyn Poller<Result<T::Poll, SourceError>>>) -> Self {
        Self { inner, data: None }
    }
}

impl<T> Poller<Result<Arc<T>, SourceError>> for Folding<T>
where
    T: FeedData + Clone + Send + Sync + 'static,
{
    fn interval(&self) -> Duration {
        self.inner.interval()
    }
    fn timeout(&self) -> Duration {
        self.inner.timeout()
    }
    fn poll(&mut self) -> BoxFuture<'_, Result<Arc<T>, SourceError>> {
        Box::pin(async move {
            let poll = self.inner.poll().await?;
            Ok(fold(&mut self.data, poll, SystemTime::now()))
        })
    }
}

/// Folds `poll` into `data` (taken from the app's copy when it shares it) and returns the result,
/// shared with `data`.
pub fn fold<T: FeedData + Clone>(data: &mut Option<Arc<T>>, poll: T::Poll, at: SystemTime) -> Arc<T> {
    let mut current = data.take().map(|shared| Arc::unwrap_or_clone(shared));
    T::absorb(&mut current, poll, at);
    let folded = Arc::new(current.expect("absorb leaves data in place"));
    *data = Some(Arc::clone(&folded));
    folded
}

/// Data folded elsewhere is swapped in whole; the previous is freed off the loop (when the poller
/// no longer shares it, it is the last copy of a large state).
impl<T: FeedData + Send + Sync + 'static> FeedData for Arc<T> {
    type Poll = Arc<T>;
    fn absorb(current: &mut Option<Self>, poll: Self::Poll, _at: SystemTime) {
        crate::garbage::drop_elsewhere(current.replace(poll));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A count of polls seen, as data with a history would keep one.
    #[derive(Clone, Debug, PartialEq)]
    struct Seen(Vec<u32>);

    impl FeedData for Seen {
        type Poll = u32;
        fn absorb(current: &mut Option<Self>, poll: u32, _at: SystemTime) {
            current.get_or_insert(Seen(Vec::new())).0.push(poll);
        }
    }

    #[test]
    fn each_fold_builds_on_the_last_whether_or_not_the_app_still_holds_it() {
        let at = SystemTime::UNIX_EPOCH;
        let mut data = None;
        let first = fold::<Seen>(&mut data, 1, at);
        // The app still shows `first`: the next fold works on a copy and leaves `first` alone.
        let second = fold(&mut data, 2, at);
        assert_eq!(first.0, [1]);
        assert_eq!(second.0, [1, 2]);
        drop((first, second));
        // Nobody else holds it: folded in place, same history.
        let third = fold(&mut data, 3, at);
        assert_eq!(third.0, [1, 2, 3]);
        assert!(Arc::ptr_eq(&third, data.as_ref().unwrap()));
    }
}
