//! The real panes on the demo's state: alerts land on their row, the footer offers only keys that
//! act, help wraps, columns fit the screen and scroll, and plans are bound to what their target is.

use super::demo::{demo, demo_app, demo_app_on, screen};
use opsdeck::app::App;
use opsdeck::app::overlay::Overlay;
use opsdeck::ui::testing::{planned, press, type_text};
use opsdeck::views::Tab;

fn selected(app: &App) -> Option<String> {
    app.screen().selected_key(&app.ctx())
}

fn footer(s: &str) -> &str {
    s.trim_end_matches('\n').lines().last().unwrap_or_default()
}

/// Selects the row whose text in some cell is `text`, with `/` as a person would.
fn find(app: &mut App, text: &str) {
    press(app, "/");
    type_text(app, &regex::escape(text));
    press(app, "enter");
}

fn dialog_open(app: &App) -> bool {
    matches!(app.overlay, Some(Overlay::Confirm(_)))
}

/// Confirms the open dialog (typing `typed` first when it asks for it) and expects a refusal:
/// nothing runs; returns what the console said.
fn refused(app: &mut App, typed: Option<&str>) -> String {
    match typed {
        Some(t) => {
            type_text(app, t);
        }
        None => {
            press(app, "tab");
        }
    }
    assert!(planned(&press(app, "enter")).is_empty(), "it ran");
    app.toasts.last().map(|t| t.text.clone()).unwrap_or_default()
}

#[test]
fn every_alert_lands_on_the_row_it_is_about() {
    let d = demo();
    let alerts = opsdeck::analysis::alerts(&d.fleet, &d.config);
    assert!(alerts.len() >= 5, "{alerts:?}");
    for alert in &alerts {
        let target = alert.target.as_ref().expect("every alert says where its subject is");
        let tab = Tab::ALL
            .into_iter()
            .find(|t| t.pane() == Some(target.pane))
            .expect("a pane");
        let mut app = demo_app(200, 50);
        // The pane's own selection is elsewhere first (its last row), as after browsing it.
        press(&mut app, &(tab.index() + 1).to_string());
        press(&mut app, "end");
        press(&mut app, "1");
        find(&mut app, &alert.message);
        let what = format!("{} {}: {}", alert.source, alert.subject, alert.message);
        press(&mut app, "enter");
        assert_eq!(app.tab, tab, "{what}");
        assert_eq!(app.stack().len(), 1 + target.drill.len(), "{what}:\n{}", screen(&app));
        if !target.row.is_empty() {
            assert_eq!(
                selected(&app).as_deref(),
                Some(target.row.as_str()),
                "{what}:\n{}",
                screen(&app)
            );
        }
    }
}

#[test]
fn the_queue_alert_lands_on_its_queue_not_on_the_one_selected_before() {
    let mut app = demo_app(160, 45);
    let url = |app: &App, name: &str| {
        let queues = app.fleet.queues.data.as_ref().unwrap();
        queues.queue(name).unwrap().info.url.clone()
    };
    // Browsing the queues pane left its selection on another queue (the last row).
    press(&mut app, "4");
    press(&mut app, "end");
    let before = selected(&app).unwrap();
    assert_ne!(before, url(&app, "reports-legacy"), "the critical queue sorts first");
    press(&mut app, "1");
    find(&mut app, "reports-legacy");
    press(&mut app, "enter");
    assert_eq!(app.tab, Tab::Queues);
    assert_eq!(selected(&app), Some(url(&app, "reports-legacy")));
    press(&mut app, "P");
    let dialog = screen(&app);
    assert!(dialog.contains("Purge queue reports-legacy"), "{dialog}");
}

#[test]
fn the_footer_offers_only_keys_that_act_here() {
    let mut app = demo_app(200, 50);
    press(&mut app, "2");
    let s = screen(&app);
    assert!(footer(&s).contains("R restart pillow"), "{s}");
    assert!(!footer(&s).contains("restart process"), "r needs a partition:\n{s}");
    press(&mut app, "r");
    assert!(!dialog_open(&app));
    // The unassigned copy's explain says to retry: R does, and says so.
    press(&mut app, "3");
    press(&mut app, "v");
    press(&mut app, "v");
    press(&mut app, "enter");
    let s = screen(&app);
    assert!(s.contains("explain "), "{s}");
    assert!(footer(&s).contains("R retry failed"), "{s}");
    assert!(
        !footer(&s).contains("grid left"),
        "grid keys act only on the grid:\n{s}"
    );
    press(&mut app, "R");
    assert!(
        screen(&app).contains("Confirm: Retry failed allocations"),
        "{}",
        screen(&app)
    );
    // At 80 columns too: the actions most relevant to the view come first.
    let mut app = demo_app(80, 24);
    for k in ["3", "v", "v", "enter"] {
        press(&mut app, k);
    }
    let s = screen(&app);
    assert!(footer(&s).contains("R retry failed"), "{s}");
}

#[test]
fn help_keeps_keys_apart_from_what_they_do_and_wraps_to_the_screen() {
    let mut app = demo_app_on(&demo().fleet, "vim", 100, 30);
    press(&mut app, "?");
    let mut all = String::new();
    for _ in 0..40 {
        all.push_str(&screen(&app));
        press(&mut app, "pagedown");
    }
    assert!(all.contains("ctrl-d"), "{all}");
    for line in all.lines().filter(|l| l.contains("ctrl-d")) {
        assert!(!line.contains("ctrl-dnext"), "keys run into their description: {line}");
    }
    // Narrow: every description is there whole, wrapped rather than cut.
    let mut app = demo_app(80, 24);
    press(&mut app, "3");
    press(&mut app, "?");
    let mut words = Vec::new();
    for _ in 0..40 {
        let s = screen(&app);
        words.extend(s.split_whitespace().map(str::to_string));
        press(&mut app, "down");
    }
    let text = words.join(" ");
    for a in Tab::Elasticsearch.actions() {
        let said = a.help.split_whitespace().collect::<Vec<_>>().join(" ");
        let first = said.split(' ').next().unwrap_or_default();
        let last = said.rsplit(' ').next().unwrap_or_default();
        assert!(
            text.contains(first) && text.contains(last),
            "{:?} is cut in the help at 80 columns",
            a.help
        );
    }
}

#[test]
fn vital_columns_are_on_screen_at_100_by_30() {
    let mut app = demo_app(100, 30);
    for (tab, titles) in [
        ("2", &["RECOVERY", "RUNNING", "LAG TREND", "STATUS", "LAG"][..]),
        ("3", &["heap", "shards", "status", "disk%"][..]),
        ("4", &["DRAIN", "NET/s", "VISIBLE", "OLDEST"][..]),
        ("5", &["JUNK", "PROGRAMS", "FULLEST DISK", "STATE"][..]),
        ("6", &["CPU cores", "MEMORY", "QUEUED", "VERDICT"][..]),
        ("7", &["CONNECTIONS", "LONGEST Q", "BLOCKED", "VERDICT"][..]),
    ] {
        press(&mut app, tab);
        let s = screen(&app);
        for t in titles {
            assert!(s.contains(t), "{t} missing at 100x30:\n{s}");
        }
    }
}

#[test]
fn the_overview_shows_whole_subjects_when_there_is_room() {
    let app = demo_app(200, 50);
    let s = screen(&app);
    for alert in opsdeck::analysis::alerts(&app.fleet, &app.env.config) {
        assert!(s.contains(&alert.subject), "{} cut:\n{s}", alert.subject);
    }
}

#[test]
fn the_tab_bar_abbreviates_rather_than_drops_tabs() {
    for width in [80, 60] {
        let app = demo_app(width, 24);
        let s = screen(&app);
        // The last label's trailing blank is cut with the line's.
        let bar = format!("{} ", s.lines().next().unwrap_or_default());
        for tab in Tab::ALL {
            let key = app
                .env
                .keymap
                .key_for(&["global"], &format!("tab_{}", tab.name()))
                .expect("the default keymap binds every tab");
            let short = format!(" {key} ");
            assert!(bar.contains(&short), "tab {} missing at {width}: {bar}", tab.name());
        }
        if width == 80 {
            assert!(
                bar.contains("1 overview"),
                "the active tab keeps its name longest: {bar}"
            );
            assert!(bar.contains(" 0 "), "{bar}");
            // Which fleet a key acts on stays said before the inactive tabs keep their names.
            assert!(bar.contains("opsdeck · demo"), "{bar}");
        }
    }
}

#[test]
fn hidden_columns_are_counted_and_scrolled_into_view() {
    for (keymap, right, left) in [("default", "right", "left"), ("vim", "l", "h")] {
        let mut app = demo_app_on(&demo().fleet, keymap, 80, 24);
        press(&mut app, "2");
        let s = screen(&app);
        assert!(s.contains("more ▸"), "{keymap}: hidden columns are counted:\n{s}");
        assert!(!s.contains("CHECKPOINT"), "the least important goes first:\n{s}");
        assert!(
            footer(&s).contains("columns"),
            "{keymap}: the footer offers the scroll:\n{s}"
        );
        let mut shown = false;
        for _ in 0..12 {
            press(&mut app, right);
            let s = screen(&app);
            if s.contains("CHECKPOINT") {
                assert!(s.contains("◂"), "columns to the left are counted:\n{s}");
                assert!(s.contains("PILLOW"), "the name column stays:\n{s}");
                shown = true;
                break;
            }
        }
        assert!(shown, "{keymap}: {right} never showed CHECKPOINT:\n{}", screen(&app));
        for _ in 0..12 {
            press(&mut app, left);
        }
        assert!(
            !screen(&app).contains("◂"),
            "{keymap}: back to the start:\n{}",
            screen(&app)
        );
    }
}

#[test]
fn restarting_processes_that_restarted_meanwhile_is_planned_again() {
    let mut app = demo_app(200, 50);
    press(&mut app, "2");
    find(&mut app, "case-pillow");
    press(&mut app, "R");
    assert!(dialog_open(&app));
    // Supervisor restarted them while the dialog was open: other processes, same call.
    for h in &mut app.fleet.hosts.data.as_mut().unwrap().hosts {
        for p in h.programs.iter_mut().filter(|p| p.name.contains("case-pillow")) {
            p.pid = p.pid.map(|pid| pid + 1000);
        }
    }
    let toast = refused(&mut app, None);
    assert!(toast.contains("not run") && toast.contains("pid"), "{toast}");
    assert!(dialog_open(&app), "the new plan is shown");
    press(&mut app, "tab");
    assert_eq!(
        planned(&press(&mut app, "enter")).len(),
        1,
        "the new plan runs once confirmed"
    );
}

#[test]
fn purging_a_queue_made_again_under_its_name_is_refused() {
    let mut app = demo_app(200, 50);
    press(&mut app, "4");
    find(&mut app, "reports-legacy");
    press(&mut app, "P");
    assert!(dialog_open(&app));
    let queues = app.fleet.queues.data.as_mut().unwrap();
    let q = queues
        .queues
        .iter_mut()
        .find(|q| q.info.name == "reports-legacy")
        .unwrap();
    q.info.created = q.info.created.map(|c| c + 3600);
    let toast = refused(&mut app, Some("reports-legacy"));
    assert!(toast.contains("created"), "{toast}");
}

#[test]
fn draining_a_node_name_that_is_another_node_now_is_refused() {
    let mut app = demo_app(200, 50);
    press(&mut app, "3");
    find(&mut app, "es-core-2");
    press(&mut app, "D");
    assert!(dialog_open(&app), "{}", screen(&app));
    let es = app.fleet.elasticsearch.data.as_mut().unwrap();
    let node = es.nodes.iter_mut().find(|n| n.name == "es-core-2").unwrap();
    node.id = "a-new-node-id".into();
    // With the storyline's hot node taking nothing, the node may hold a shard's only copy now:
    // then the dialog asks for its name.
    let typed = screen(&app)
        .contains("Type es-core-2 to confirm")
        .then_some("es-core-2");
    let toast = refused(&mut app, typed);
    assert!(toast.contains("now id a-new-node-id"), "{toast}");
}

#[test]
fn the_redis_pane_shows_the_saturated_broker_and_acts_on_the_queue_selected() {
    let mut app = demo_app(80, 24);
    press(&mut app, "6");
    let s = screen(&app);
    assert!(
        s.contains("broker") && s.contains("0.96"),
        "the main thread near one core:\n{s}"
    );
    assert!(footer(&s).contains("B bgsave"), "{s}");
    press(&mut app, "B");
    assert!(screen(&app).contains("BGSAVE"), "{}", screen(&app));
    press(&mut app, "esc");
    // The queues: the stuck celery queue sorts first; moving it shows each RENAME it will send.
    press(&mut app, "t");
    let s = screen(&app);
    assert!(s.contains("celery") && s.contains("growing"), "{s}");
    find(&mut app, "mailers");
    press(&mut app, "M");
    let dialog = screen(&app);
    assert!(
        dialog.contains("Move mailers"),
        "the selected queue, not the first:\n{dialog}"
    );
    assert!(
        dialog.contains("RENAME resque:queue:mailers resque:queue:mailers:opsdeck-backup:"),
        "{dialog}"
    );
    press(&mut app, "esc");
    // Clearing deletes: the queue's name must be typed, a wrong name runs nothing.
    press(&mut app, "D");
    assert!(screen(&app).contains("to confirm: ["), "{}", screen(&app));
    refused(&mut app, Some("celery"));
    // Re-queue is only for a backup: not offered on a queue, so not in the footer.
    press(&mut app, "esc");
    assert!(!footer(&screen(&app)).contains("requeue"), "{}", screen(&app));
}

#[test]
fn the_tab_bar_shows_the_key_the_keymap_binds_to_each_pane() {
    let mut app = demo_app(200, 50);
    let problems = app.env.keymap.merge_file(
        "a user's keymap",
        "[global]\n\"0\" = \"none\"\n\"f2\" = \"tab_audit\"\n",
        &opsdeck::app::action_catalog(),
    );
    assert!(problems.is_empty(), "{problems:?}");
    let s = screen(&app);
    let bar = s.lines().next().unwrap_or_default();
    assert!(bar.contains(" f2 audit "), "{bar}");
    assert!(
        !bar.contains(" 0 audit"),
        "a label must not promise a key that went elsewhere: {bar}"
    );
    press(&mut app, "f2");
    assert_eq!(app.tab, Tab::Audit);
}

#[test]
fn the_postgres_pane_terminates_the_session_selected_with_its_pid_typed() {
    let mut app = demo_app(80, 24);
    press(&mut app, "7");
    let s = screen(&app);
    assert!(
        s.contains("hq-db") && s.contains("14m"),
        "the long query, on the server row:\n{s}"
    );
    // Cancel and terminate act on sessions, not on a server row.
    assert!(!footer(&s).contains("terminate"), "{s}");
    press(&mut app, "t");
    let s = screen(&app);
    assert!(s.contains("blocks 3"), "the chain's root first:\n{s}");
    // The idle transaction, found as a person would: its dialog names its pid, not the first row's.
    find(&mut app, "hq-web-2");
    press(&mut app, "K");
    let dialog = screen(&app);
    assert!(dialog.contains("pg_terminate_backend(3877)"), "{dialog}");
    assert!(dialog.contains("to confirm: ["), "{dialog}");
    refused(&mut app, Some("4242"));
    press(&mut app, "esc");
    // A cancel on an idle transaction says it changes nothing there.
    press(&mut app, "C");
    let dialog = screen(&app);
    assert!(dialog.contains("pg_cancel_backend(3877)"), "{dialog}");
    assert!(dialog.contains("a cancel changes nothing here"), "{dialog}");
}

/// The demo's `celery` queue on RabbitMQ, as the pane's state holds it.
fn rabbitmq_celery(app: &mut App) -> &mut opsdeck_rabbitmq::model::Queue {
    let s = app.fleet.rabbitmq.data.as_mut().expect("the demo polled RabbitMQ");
    let snap = s.instances[0].snapshot.as_mut().expect("a snapshot");
    let queues = snap.queues.as_mut().expect("its queues");
    queues.iter_mut().find(|q| q.name == "celery").expect("celery")
}

#[test]
fn the_rabbitmq_pane_shows_the_queue_nobody_consumes_and_purges_it_only_with_its_name_typed() {
    let mut app = demo_app(80, 24);
    press(&mut app, "8");
    let s = screen(&app);
    assert!(
        s.contains("celery-broker/celery: nothing consumes it"),
        "the workers died:\n{s}"
    );
    assert_eq!(selected(&app).as_deref(), Some("celery-broker · / · celery"), "{s}");
    assert!(footer(&s).contains("P purge"), "{s}");
    // Celery's housekeeping queues are hidden until asked for.
    assert!(!s.contains("celeryev"), "{s}");
    press(&mut app, "h");
    assert!(screen(&app).contains("celeryev"), "{}", screen(&app));
    // The node's memory nears the alarm that would block publishers.
    press(&mut app, "t");
    let s = screen(&app);
    assert!(s.contains("rabbit@demo") && s.contains("near the memory alarm"), "{s}");
    press(&mut app, "t");

    // The purge shows the count and the exact call; a wrong name runs nothing.
    press(&mut app, "home");
    press(&mut app, "P");
    let dialog = screen(&app);
    let ready = rabbitmq_celery(&mut app).messages_ready;
    assert!(dialog.contains(&format!("Purge celery — delete {ready}")), "{dialog}");
    assert!(dialog.contains("curl -u opsdeck_op -X DELETE"), "{dialog}");
    assert!(dialog.contains("to confirm: ["), "{dialog}");
    refused(&mut app, Some("reminder_queue"));
    press(&mut app, "esc");
    assert!(!dialog_open(&app));

    // Publishers keep publishing while the dialog is open: still the queue confirmed, it runs.
    press(&mut app, "P");
    let q = rabbitmq_celery(&mut app);
    q.messages_ready += 40;
    if let Some(stats) = q.message_stats.as_mut() {
        stats.publish = stats.publish.map(|n| n + 40);
    }
    type_text(&mut app, "celery");
    let effects = press(&mut app, "enter");
    let plans = planned(&effects);
    assert_eq!(plans.len(), 1, "{}", screen(&app));
    assert_eq!(plans[0].action, "rabbitmq.purge_queue");
    assert_eq!(plans[0].target, "celery");
    assert!(
        plans[0].call.ends_with("/api/queues/%2F/celery/contents"),
        "vhost / as %2F: {}",
        plans[0].call
    );
}

#[test]
fn purging_a_rabbitmq_queue_declared_again_differently_is_refused() {
    let mut app = demo_app(200, 50);
    press(&mut app, "8");
    find(&mut app, "celery");
    press(&mut app, "P");
    assert!(dialog_open(&app), "{}", screen(&app));
    // Deleted and declared again, not durable now: not the queue confirmed.
    rabbitmq_celery(&mut app).durable = false;
    let toast = refused(&mut app, Some("celery"));
    assert!(toast.contains("not run") && toast.contains("durable false"), "{toast}");
    assert!(dialog_open(&app), "the new plan is shown");
}

#[test]
fn pillow_errors_read_from_hq_s_database_stand_beside_their_pillow() {
    let mut app = demo_app(200, 50);
    let waiting: i64 = app
        .fleet
        .postgres
        .data
        .as_ref()
        .expect("polled")
        .servers
        .iter()
        .filter_map(|s| s.poll.pillow_errors.as_ref()?.as_ref().ok())
        .flatten()
        .filter(|g| g.pillow == "ucr-pillow")
        .map(|g| g.errors)
        .sum();
    assert!(waiting > 0, "the demo's stuck pillow has errors waiting");
    press(&mut app, "2");
    let s = screen(&app);
    assert!(s.contains("ERRORS"), "{s}");
    let row = s
        .lines()
        .find(|l| l.starts_with("ucr-pillow "))
        .unwrap_or_else(|| panic!("ucr-pillow missing:\n{s}"));
    assert!(
        row.trim_end().ends_with(&format!(" {waiting}")),
        "{waiting} errors, beside the pillow: {row}"
    );
}
