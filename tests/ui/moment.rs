//! The moment of action on the shell every pane stands on: a dialog never hides its controls, the
//! selection is a row and not a position, and a plan runs only on the target it was shown for.

use super::fake::*;
use opsdeck::app::overlay::Overlay;
use opsdeck::app::{App, Event};
use opsdeck::config::Config;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::sources::runner::Polled;
use opsdeck::views::Tab;
use std::time::{Duration, SystemTime};

fn on_hosts(read_only: bool) -> App {
    let mut app = app(read_only);
    key(&mut app, "5");
    assert_eq!(app.tab, Tab::Hosts);
    app
}

/// A poll of the hosts source arrived (the fake view's rows are what the test set).
fn refreshed(app: &mut App) {
    app.update(Event::Polled(Polled {
        at: SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
        update: SourceUpdate::Hosts(Ok(Vec::new())),
    }));
    // As the loop does before its next frame.
    app.settle();
}

fn controls_shown(s: &str) -> bool {
    s.contains("Verify") && s.contains("Cancel") && s.contains("Run ") && s.contains("to confirm: [")
}

#[test]
fn a_plan_taller_than_the_screen_keeps_its_controls_and_scrolls_its_call() {
    let mut app = on_hosts(false);
    key(&mut app, "Y");
    let s = screen(&app);
    assert!(
        controls_shown(&s),
        "verify, typed field and both buttons on screen:\n{s}"
    );
    assert!(s.contains("Step 1:") && !s.contains("END-OF-LINE-5"), "{s}");
    assert!(s.contains("scroll"), "the dialog says how to scroll:\n{s}");
    // The body scrolls to the end of the call; the controls never move.
    for _ in 0..60 {
        key(&mut app, "down");
    }
    let s = screen(&app);
    assert!(s.contains("END-OF-LINE-5"), "the call's last line:\n{s}");
    assert!(controls_shown(&s), "{s}");
    key(&mut app, "pageup");
    key(&mut app, "home");
    assert!(screen(&app).contains("Step 1:"), "{}", screen(&app));
    type_text(&mut app, "es-data-2");
    let effects = key(&mut app, "enter");
    assert_eq!(ran(&effects).len(), 1, "typed and confirmed: it runs");
    assert_eq!(ran(&effects)[0].call, long_plan("es-data-2").call);
}

#[test]
fn too_small_for_its_controls_the_dialog_says_enlarge_and_run_is_refused() {
    let mut app = on_hosts(false);
    key(&mut app, "r");
    app.update(Event::Resize { width: 60, height: 12 });
    let s = opsdeck::ui::testing::screen_text(&app, 60, 12);
    assert!(s.contains("enlarge the terminal to confirm"), "{s}");
    assert!(!s.contains("Run"), "no dialog without its controls:\n{s}");
    key(&mut app, "tab");
    assert!(ran(&key(&mut app, "enter")).is_empty(), "Run is refused until it fits");
    for (w, h) in [(4, 3), (1, 1), (0, 0)] {
        app.update(Event::Resize { width: w, height: h });
        opsdeck::ui::testing::screen_text(&app, w.max(1), h.max(1));
    }
    app.update(Event::Resize { width: 100, height: 30 });
    let s = screen(&app);
    assert!(s.contains("Verify") && s.contains("▶ Run ◀"), "{s}");
    assert_eq!(ran(&key(&mut app, "enter")).len(), 1);
}

#[test]
fn read_only_high_risk_dialog_closes_with_enter() {
    let mut app = on_hosts(true);
    key(&mut app, "X");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    assert!(ran(&key(&mut app, "enter")).is_empty());
    assert!(
        app.overlay.is_none(),
        "enter on the focused Close closes:\n{}",
        screen(&app)
    );
}

#[test]
fn the_selection_is_a_row_from_the_first_frame() {
    let rows = default_rows();
    let mut app = app_with(Config::default(), false, rows.clone());
    key(&mut app, "5");
    assert_eq!(selected(&app).as_deref(), Some("es-data-2"), "the top row, by usage");
    // A refresh re-sorts: another host is on top now. Nothing was pressed: the selection stays.
    *rows.lock().unwrap() = vec![
        ("es-data-1".into(), 41),
        ("es-data-2".into(), 12),
        ("pillow-a".into(), 99),
        ("pillow-b".into(), 63),
    ];
    refreshed(&mut app);
    assert_eq!(selected(&app).as_deref(), Some("es-data-2"));
    key(&mut app, "r");
    assert!(screen(&app).contains("Target   es-data-2"), "{}", screen(&app));
}

#[test]
fn a_selected_row_that_leaves_is_named_and_its_neighbour_selected() {
    let rows = default_rows();
    let mut app = app_with(Config::default(), false, rows.clone());
    key(&mut app, "5");
    key(&mut app, "down");
    assert_eq!(selected(&app).as_deref(), Some("pillow-a"));
    rows.lock().unwrap().retain(|(n, _)| n != "pillow-a");
    refreshed(&mut app);
    assert_eq!(selected(&app).as_deref(), Some("es-data-1"), "the row now where it was");
    let s = screen(&app);
    assert!(s.contains("pillow-a is gone from the table; selected es-data-1"), "{s}");
}

#[test]
fn a_plan_whose_target_changed_is_refused_and_shown_again() {
    let pids = Pids::default();
    pids.lock().unwrap().insert("es-data-2".into(), 4242);
    let mut app = app_with_pids(Config::default(), false, default_rows(), pids.clone());
    key(&mut app, "5");
    key(&mut app, "r");
    assert!(screen(&app).contains("# pid 4242"), "{}", screen(&app));
    // Someone restarts the program while the dialog is open.
    pids.lock().unwrap().insert("es-data-2".into(), 5151);
    key(&mut app, "tab");
    let effects = key(&mut app, "enter");
    assert!(ran(&effects).is_empty(), "the plan shown is no longer what would run");
    let s = screen(&app);
    assert!(
        s.contains("not run") && s.contains("the exact call would differ"),
        "{s}"
    );
    assert!(
        s.contains("# pid 5151") && s.contains("▶ Cancel ◀"),
        "the new plan, Cancel focused:\n{s}"
    );
    key(&mut app, "tab");
    let effects = key(&mut app, "enter");
    assert_eq!(ran(&effects).len(), 1);
    assert!(ran(&effects)[0].call.ends_with("# pid 5151"));
}

#[test]
fn a_plan_whose_row_left_is_refused() {
    let rows = default_rows();
    let mut app = app_with(Config::default(), false, rows.clone());
    key(&mut app, "5");
    key(&mut app, "r");
    rows.lock().unwrap().retain(|(n, _)| n != "es-data-2");
    key(&mut app, "tab");
    assert!(ran(&key(&mut app, "enter")).is_empty());
    let s = screen(&app);
    assert!(s.contains("not run — its row is no longer in the table"), "{s}");
    assert!(app.overlay.is_none());
}
