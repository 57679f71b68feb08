//! A bounded history whose clones share all but their newest few samples.
//!
//! A poller that folds its polls (`crate::folding`) clones the state the console is showing, adds
//! one sample to every series and hands the clone over. With a `VecDeque` per series that clone
//! copies every sample of every series, and pushing onto the clone's exactly-sized buffer doubles
//! it: at fleet scale (3,200 partitions × 120 samples) the two copies alone were 70 MB. Here the
//! samples sit in sealed chunks behind `Arc`s that clones share; only the unsealed tail (fewer than
//! [`CHUNK`] samples) is copied.

use std::collections::VecDeque;
use std::sync::Arc;

/// Samples per sealed chunk: a clone copies at most this many, and at most this many past the
/// bound are kept (the oldest chunk is dropped whole once all of it has aged out).
pub const CHUNK: usize = 16;

#[derive(Debug, Clone)]
pub struct History<T> {
    /// Full chunks, oldest first; shared between clones, never written.
    sealed: VecDeque<Arc<[T]>>,
    /// Samples of `sealed[0]` that have aged out of the bound.
    aged_out: usize,
    /// The newest samples, fewer than `CHUNK`.
    tail: Vec<T>,
}

impl<T> Default for History<T> {
    fn default() -> Self {
        History {
            sealed: VecDeque::new(),
            aged_out: 0,
            tail: Vec::new(),
        }
    }
}

impl<T> History<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.sealed.len() * CHUNK - self.aged_out + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Oldest first; `.rev()` for newest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + Clone + '_ {
        let aged_out = self.aged_out;
        self.sealed
            .iter()
            .enumerate()
            .flat_map(move |(i, chunk)| &chunk[if i == 0 { aged_out } else { 0 }..])
            .chain(self.tail.iter())
    }

    pub fn front(&self) -> Option<&T> {
        self.iter().next()
    }

    pub fn back(&self) -> Option<&T> {
        self.tail.last().or_else(|| self.sealed.back().and_then(|c| c.last()))
    }

    /// Appends `item` and ages out the oldest samples beyond `cap` (at least 2 are kept, so a rate
    /// can always be drawn from the history).
    pub fn push_bounded(&mut self, item: T, cap: usize) {
        if self.tail.capacity() == 0 {
            self.tail.reserve_exact(CHUNK);
        }
        self.tail.push(item);
        if self.tail.len() == CHUNK {
            let full = std::mem::replace(&mut self.tail, Vec::with_capacity(CHUNK));
            self.sealed.push_back(Arc::from(full));
        }
        let cap = cap.max(2);
        while self.len() > cap {
            if self.sealed.is_empty() {
                self.tail.remove(0);
                continue;
            }
            self.aged_out += 1;
            if self.aged_out == CHUNK {
                self.sealed.pop_front();
                self.aged_out = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded(n: usize, cap: usize) -> History<usize> {
        let mut h = History::new();
        for i in 0..n {
            h.push_bounded(i, cap);
        }
        h
    }

    #[test]
    fn keeps_the_newest_cap_samples_in_order_at_every_length() {
        for cap in [2, 3, CHUNK - 1, CHUNK, CHUNK + 1, 120] {
            for n in 0..(3 * CHUNK + cap) {
                let h = bounded(n, cap);
                let want: Vec<usize> = (n.saturating_sub(cap)..n).collect();
                assert_eq!(h.iter().copied().collect::<Vec<_>>(), want, "cap {cap}, {n} pushed");
                assert_eq!(h.len(), want.len());
                assert_eq!(h.front(), want.first());
                assert_eq!(h.back(), want.last());
                let rev: Vec<usize> = h.iter().rev().copied().collect();
                assert_eq!(rev, want.iter().rev().copied().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn a_clone_shares_the_sealed_chunks_and_diverges_only_in_its_own_pushes() {
        let original = bounded(120, 120);
        let mut clone = original.clone();
        for (a, b) in original.sealed.iter().zip(&clone.sealed) {
            assert!(Arc::ptr_eq(a, b), "sealed chunks are shared, not copied");
        }
        assert!(clone.tail.len() < CHUNK);
        clone.push_bounded(1000, 120);
        assert_eq!(original.back(), Some(&119));
        assert_eq!(clone.back(), Some(&1000));
        assert_eq!(clone.len(), 120);
        assert_eq!(clone.front(), Some(&1));
        assert_eq!(original.front(), Some(&0));
    }

    #[test]
    fn at_least_two_samples_are_kept() {
        assert_eq!(bounded(5, 0).iter().copied().collect::<Vec<_>>(), vec![3, 4]);
    }
}
