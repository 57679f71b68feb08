//! The queues pane in the real app on the default keymap: rows sorted by attention, the tables
//! toggle, purge asking for the queue's name, raise capacity asking for the new units.

use opsdeck::app::overlay::Overlay;
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::keymap::Keymap;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::sources::runner::Polled;
use opsdeck::views::Tab;
use opsdeck_core::theme::Theme;
use opsdeck_queues::config::AwsConfig;
use opsdeck_queues::model::{Capacity, GsiInfo, QueueInfo, QueuesPoll, TableInfo};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const T0: u64 = 1_795_000_000;

fn poll(step: u64) -> QueuesPoll {
    let q = |name: &str, visible: u64, age: Option<f64>| QueueInfo {
        name: name.into(),
        url: format!("https://sqs.us-east-1.amazonaws.com/1/{name}"),
        arn: format!("arn:aws:sqs:us-east-1:1:{name}"),
        visible,
        retention_secs: 14 * 86_400,
        oldest_age_secs: age,
        ..Default::default()
    };
    QueuesPoll {
        queues: vec![
            q("upload", 100 + step * 50, Some(60.0)),
            q("thumbnails", 3_000 - step * 100, Some(600.0)),
            q("reports-legacy", 820, Some(12.5 * 86_400.0)),
        ],
        tables: vec![
            TableInfo {
                name: "TileIndex".into(),
                status: "ACTIVE".into(),
                billing_mode: "PROVISIONED".into(),
                capacity: Capacity {
                    rcu: Some(100),
                    wcu: Some(50),
                    consumed_wcu: Some(50.0),
                    write_throttled: Some(240.0),
                    ..Default::default()
                },
                gsis: vec![GsiInfo {
                    name: "by-chunk".into(),
                    status: "ACTIVE".into(),
                    capacity: Capacity {
                        rcu: Some(50),
                        wcu: Some(50),
                        ..Default::default()
                    },
                }],
                ..Default::default()
            },
            TableInfo {
                name: "idIndex".into(),
                status: "ACTIVE".into(),
                billing_mode: "PAY_PER_REQUEST".into(),
                ..Default::default()
            },
        ],
        warnings: vec![],
    }
}

fn app() -> App {
    let config = Config {
        aws: AwsConfig {
            queues: vec!["upload".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let (keymap, problems) = Keymap::load("default", None, &action_catalog());
    assert!(problems.is_empty(), "{problems:?}");
    let env = Env {
        config: Arc::new(config),
        keymap,
        theme: Theme::builtin("mono").unwrap(),
        read_only: false,
    };
    let (mut app, _) = App::new(env, SystemTime::UNIX_EPOCH + Duration::from_secs(T0));
    app.update(Event::Resize { width: 140, height: 30 });
    for step in 0..4 {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + step * 10);
        app.update(Event::Polled(Polled {
            at,
            update: SourceUpdate::Queues(Ok(poll(step))),
        }));
    }
    app
}

use opsdeck::ui::testing::{planned as ran, press as key, type_text};

fn screen(app: &App) -> String {
    opsdeck::ui::testing::screen_text(app, 140, 30)
}

#[test]
fn queues_sorted_by_attention_with_trends_and_typed_purge() {
    let mut app = app();
    key(&mut app, "4");
    assert_eq!(app.tab, Tab::Queues);
    let s = screen(&app);
    let order: Vec<usize> = ["reports-legacy", "upload", "thumbnails"]
        .iter()
        .map(|n| s.find(&format!(" {n} ")).unwrap_or_else(|| panic!("{n} missing:\n{s}")))
        .collect();
    assert!(order[0] < order[1] && order[1] < order[2], "attention order:\n{s}");
    assert!(s.contains("growing"), "{s}");
    assert!(s.contains("+5.0"), "upload grows 50 per 10 s:\n{s}");
    assert!(s.contains("-10.0"), "thumbnails drains 100 per 10 s:\n{s}");
    assert!(s.contains("12d 89%"), "{s}");
    assert!(s.contains("SQS deletes it soon"), "{s}");
    // Enter shows the queue in detail, with the reason it sorts first.
    key(&mut app, "enter");
    let s = screen(&app);
    assert!(s.contains("queues › reports-legacy"), "{s}");
    assert!(s.contains("attention") && s.contains("(SQS deletes at 14d)"), "{s}");
    key(&mut app, "esc");
    // Purge the selected (first) row: the confirm dialog wants the queue's name typed.
    key(&mut app, "P");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    let s = screen(&app);
    assert!(s.contains("about 820 messages"), "{s}");
    assert!(ran(&key(&mut app, "enter")).is_empty(), "nothing typed, nothing runs");
    type_text(&mut app, "reports-legacy");
    let effects = key(&mut app, "enter");
    let plans = ran(&effects);
    assert_eq!(plans.len(), 1, "{:?}", app.overlay.is_some());
    assert_eq!(plans[0].action, "queues.purge");
    assert_eq!(plans[0].target, "reports-legacy");
}

#[test]
fn tables_toggle_and_raise_capacity_asks_for_units() {
    let mut app = app();
    key(&mut app, "4");
    key(&mut app, "t");
    let s = screen(&app);
    assert!(
        s.contains("TileIndex") && s.contains("50.0/50") && s.contains("240/min"),
        "{s}"
    );
    assert!(s.contains("on-demand"), "{s}");
    // TileIndex sorts first (it throttles). The input comes pre-filled with double the units.
    key(&mut app, "+");
    let Some(Overlay::Input(input)) = &app.overlay else {
        panic!("expected the capacity prompt:\n{}", screen(&app));
    };
    assert_eq!(input.value, "200/100");
    key(&mut app, "ctrl-u");
    type_text(&mut app, "300/150");
    key(&mut app, "enter");
    let s = screen(&app);
    assert!(s.contains("100 -> 300 RCU") && s.contains("50 -> 150 WCU"), "{s}");
    key(&mut app, "tab");
    let effects = key(&mut app, "enter");
    let plans = ran(&effects);
    assert_eq!(plans.len(), 1, "{s}");
    assert_eq!(plans[0].target, "TileIndex");
    // On-demand tables refuse outright.
    key(&mut app, "esc");
    key(&mut app, "down");
    key(&mut app, "+");
    assert!(app.overlay.is_none());
    assert!(screen(&app).contains("on-demand (PAY_PER_REQUEST)"), "{}", screen(&app));
}

/// The row of `name` on the queues pane, as text.
fn row_of(s: &str, name: &str) -> String {
    s.lines()
        .find(|l| l.contains(&format!(" {name} ")))
        .unwrap_or_else(|| panic!("{name} missing:\n{s}"))
        .to_string()
}

#[test]
fn net_and_drain_agree_with_the_counts_after_a_turn() {
    // The issue's `upload`: nine minutes of growth to 2810, then 2810 → 728 in the last minute.
    let mut app = app();
    key(&mut app, "4");
    let feed = |app: &mut App, at: u64, visible: u64| {
        let mut p = poll(0);
        p.queues.retain(|q| q.name == "upload");
        p.queues[0].visible = visible;
        app.update(Event::Polled(Polled {
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 100 + at),
            update: SourceUpdate::Queues(Ok(p)),
        }));
    };
    for i in 0..18 {
        feed(&mut app, i * 30, 200 + i * 153);
    }
    feed(&mut app, 543, 2810);
    feed(&mut app, 571, 1790);
    feed(&mut app, 600, 728);
    let row = row_of(&screen(&app), "upload");
    assert!(!row.contains("growing"), "fell 2810 → 728, yet:\n{row}");
    assert!(row.contains("-36.6"), "{row}");
    // And back up: 728 → 1500 within the next half minute shows growth at once (+772 in 30 s).
    feed(&mut app, 615, 1100);
    feed(&mut app, 630, 1500);
    let row = row_of(&screen(&app), "upload");
    assert!(row.contains("+25.7") && row.contains("growing"), "{row}");
}
