//! Large values freed on a thread of their own, after the frame that replaced them is drawn.
//!
//! Freeing the previous answer of a large source (20,000 shard rows, each a few strings) or a
//! replaced table costs milliseconds the loop drawing the screen should not spend. Freeing them on
//! another thread *while* the loop builds the next frame costs it too: both take the allocator's
//! lock. So the drop thread holds what it is given until the loop says a frame is drawn, or
//! [`HOLD_AT_MOST`] has passed (callers that draw no frames: tests, `snapshot`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// The longest the drop thread holds a value without hearing of a frame (counted from the first
/// value it holds: a steady stream of values does not put it off).
pub const HOLD_AT_MOST: Duration = Duration::from_millis(250);

enum Message {
    Drop(Box<dyn Send>),
    FrameDrawn,
}

/// Whether the drop thread holds something the next frame should let go of.
static HOLDING: AtomicBool = AtomicBool::new(false);

fn drop_thread() -> Option<&'static Sender<Message>> {
    static DROPPER: OnceLock<Option<Sender<Message>>> = OnceLock::new();
    DROPPER
        .get_or_init(|| {
            let (tx, rx) = channel::<Message>();
            std::thread::Builder::new()
                .name("opsdeck-drop".into())
                .spawn(move || {
                    let mut held = Held::default();
                    loop {
                        let next = match held.until() {
                            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                            Some(until) => rx.recv_timeout(until.saturating_duration_since(Instant::now())),
                        };
                        match next {
                            Ok(Message::Drop(value)) => held.hold(value, Instant::now()),
                            Ok(Message::FrameDrawn) | Err(RecvTimeoutError::Timeout) => held.free(),
                            Err(RecvTimeoutError::Disconnected) => break,
                        }
                    }
                })
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Drops `value` on the drop thread, after the next frame is drawn. Dropped in place when that
/// thread cannot be had.
pub fn drop_elsewhere<T: Send + 'static>(value: T) {
    if let Some(tx) = drop_thread() {
        // A send fails only when the thread is gone; the value then drops here.
        let _ = tx.send(Message::Drop(Box::new(value)));
        HOLDING.store(true, Ordering::Release);
    }
}

/// Called by the loop once a frame is on the screen: what the drop thread holds is freed now,
/// before the next frame is built.
pub fn frame_drawn() {
    if HOLDING.swap(false, Ordering::AcqRel)
        && let Some(tx) = drop_thread()
    {
        let _ = tx.send(Message::FrameDrawn);
    }
}

/// The most values held at once: a caller that drops faster than it draws (or draws nothing) gets
/// them freed in batches, not kept.
const HOLD_AT_MOST_VALUES: usize = 16;

/// What the drop thread holds until it may free it, and since when.
#[derive(Default)]
struct Held {
    values: Vec<Box<dyn Send>>,
    since: Option<Instant>,
}

impl Held {
    /// Holds `value`; frees everything at once when that makes too many.
    fn hold(&mut self, value: Box<dyn Send>, now: Instant) {
        self.values.push(value);
        self.since.get_or_insert(now);
        if self.values.len() >= HOLD_AT_MOST_VALUES {
            self.free();
        }
    }
    fn free(&mut self) {
        self.values.clear();
        self.since = None;
    }
    /// When what is held must be freed whatever the loop says (`None`: nothing is held).
    fn until(&self) -> Option<Instant> {
        self.since.map(|since| since + HOLD_AT_MOST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Sender;

    /// Tells where and whether it was dropped.
    struct Tell(Sender<Option<String>>);
    impl Drop for Tell {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().name().map(str::to_string));
        }
    }

    #[test]
    fn held_values_are_freed_when_told_by_a_deadline_from_the_first() {
        let (tx, rx) = channel();
        let mut held = Held::default();
        let t0 = Instant::now();
        assert_eq!(held.until(), None, "nothing held, nothing to wait for");
        held.hold(Box::new(Tell(tx.clone())), t0);
        held.hold(Box::new(Tell(tx)), t0 + Duration::from_millis(200));
        assert!(rx.try_recv().is_err(), "held, not freed");
        assert_eq!(
            held.until(),
            Some(t0 + HOLD_AT_MOST),
            "a later value does not put it off"
        );
        held.free();
        assert_eq!(rx.try_iter().count(), 2);
        assert_eq!(held.until(), None);
    }

    #[test]
    fn too_many_held_values_are_freed_at_once() {
        let (tx, rx) = channel();
        let mut held = Held::default();
        let now = Instant::now();
        for _ in 1..HOLD_AT_MOST_VALUES {
            held.hold(Box::new(Tell(tx.clone())), now);
        }
        assert!(rx.try_recv().is_err(), "held, not freed");
        held.hold(Box::new(Tell(tx)), now);
        assert_eq!(rx.try_iter().count(), HOLD_AT_MOST_VALUES);
        assert_eq!(held.until(), None);
    }

    #[test]
    fn a_value_dropped_elsewhere_is_dropped_on_the_drop_thread_after_a_frame() {
        let (tx, rx) = channel();
        drop_elsewhere(Tell(tx));
        frame_drawn();
        let dropped_on = rx.recv_timeout(Duration::from_secs(10)).expect("dropped");
        assert_eq!(dropped_on.as_deref(), Some("opsdeck-drop"));
    }

    #[test]
    fn a_value_dropped_elsewhere_is_dropped_without_frames_too() {
        let (tx, rx) = channel();
        drop_elsewhere(Tell(tx));
        let dropped_on = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("dropped after HOLD_AT_MOST");
        assert_eq!(dropped_on.as_deref(), Some("opsdeck-drop"));
    }
}
