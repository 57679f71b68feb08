//! How many heap bytes the console holds at fleet-XL, pane by pane (issue 14's RSS goal):
//! `cargo run --release --example footprint`. Live bytes come from a counting allocator; each
//! figure is what freeing that part gives back. The process's RSS is larger: allocator arenas,
//! the binary, thread stacks.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::demo::xl::{self, HISTORY, XL};
use opsdeck::keymap::Keymap;
use opsdeck::views::Tab;
use opsdeck_core::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed through to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn mb(bytes: isize) -> String {
    format!("{:7.1} MB", bytes as f64 / 1e6)
}

/// Frees `part` and says how much that gave back.
fn freed<T>(name: &str, part: T) {
    let before = live();
    drop(part);
    println!("{name:<34}{}", mb(before - live()));
}

fn main() {
    let start = live();
    let (fleet, polls) = xl::history(&XL, HISTORY);
    drop(polls);
    let (keymap, _) = Keymap::load("default", None, &action_catalog());
    let env = Env {
        config: Arc::new(xl::config(&XL)),
        keymap,
        theme: Theme::builtin("default").expect("shipped"),
        read_only: false,
    };
    let (mut app, _) = App::new(env, xl::time(HISTORY));
    app.fleet = fleet;
    app.update(Event::Resize { width: 200, height: 60 });
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test backend");
    // Every tab visited with its digit key and drawn (the console keeps the shown tab's rows only),
    // ending on the Elasticsearch tab, the largest table.
    for tab in Tab::ALL.into_iter().chain([Tab::Elasticsearch]) {
        let digit = char::from_digit(((tab.index() + 1) % 10) as u32, 10).expect("ten tabs");
        app.update(Event::Key(KeyEvent::new(KeyCode::Char(digit), KeyModifiers::empty())));
        assert_eq!(app.tab, tab, "the digit key of {}", tab.name());
        terminal.draw(|f| opsdeck::ui::draw(f, &app)).expect("draw");
    }
    println!("fleet-XL after {HISTORY} polls of every pane, every tab visited at 200×60:");
    println!("{:<34}{}", "everything", mb(live() - start));
    let mut fleet = std::mem::take(&mut app.fleet);
    freed("  pillows", std::mem::take(&mut fleet.pillows));
    freed("  elasticsearch", std::mem::take(&mut fleet.elasticsearch));
    freed("  queues", std::mem::take(&mut fleet.queues));
    freed("  hosts", std::mem::take(&mut fleet.hosts));
    freed("  logs", std::mem::take(&mut fleet.logs));
    freed("  audit", std::mem::take(&mut fleet.audit));
    freed("  the rest of the fleet", fleet);
    freed("  screens, caches, config", app);
}
