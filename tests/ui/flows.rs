use super::fake::*;
use opsdeck::actions::executor::ActionEvent;
use opsdeck::app::Event;
use opsdeck::app::overlay::Overlay;
use opsdeck::config::Config;
use opsdeck::views::Tab;
use opsdeck_core::action::{Outcome, Risk};
use opsdeck_core::effect::Effect;

fn on_hosts(read_only: bool) -> opsdeck::app::App {
    let mut app = app(read_only);
    key(&mut app, "5");
    assert_eq!(app.tab, Tab::Hosts);
    app
}

#[test]
fn tabs_numbers_and_tab_key_navigate() {
    let mut app = app(false);
    assert_eq!(app.tab, Tab::Overview);
    key(&mut app, "3");
    assert_eq!(app.tab, Tab::Elasticsearch);
    key(&mut app, "tab");
    assert_eq!(app.tab, Tab::Queues);
    key(&mut app, "shift-tab");
    key(&mut app, "shift-tab");
    assert_eq!(app.tab, Tab::Pillows);
    key(&mut app, "0");
    insta::assert_snapshot!("audit_pane_empty", screen(&app));
}

#[test]
fn rows_sort_drill_down_and_back_with_breadcrumbs() {
    let mut app = on_hosts(false);
    insta::assert_snapshot!("hosts_sorted_by_usage", screen(&app));
    key(&mut app, "down");
    key(&mut app, "enter");
    let s = screen(&app);
    assert!(s.contains(" hosts › pillow-a "), "{s}");
    assert!(s.contains("/var/es/pillow-a-java_pid4242.hprof"), "{s}");
    key(&mut app, "esc");
    assert!(screen(&app).contains(" hosts "));
    assert_eq!(app.stack().len(), 1);
}

/// The fake view's rows changed: the app learns it from a poll, as it would (tables are cached
/// between changes).
fn refreshed(app: &mut opsdeck::app::App) {
    let update = opsdeck::model::fleet::SourceUpdate::failed(
        <opsdeck_hosts::Hosts as opsdeck_core::pane::Pane>::ID,
        opsdeck_core::source_error::SourceError::timeout("a poll"),
    )
    .expect("the hosts pane polls");
    let at = app.now;
    app.update(Event::Polled(opsdeck::sources::runner::Polled { at, update }));
    // As the loop does before its next frame.
    app.settle();
}

#[test]
fn selection_follows_its_row_across_refreshes() {
    let rows = default_rows();
    let mut app = app_with(Config::default(), false, rows.clone());
    key(&mut app, "5");
    key(&mut app, "down");
    key(&mut app, "down");
    assert_eq!(selected(&app).as_deref(), Some("es-data-1"));
    // A refresh changes every number and adds a row that sorts first.
    *rows.lock().unwrap() = vec![
        ("es-data-1".into(), 42),
        ("es-data-2".into(), 60),
        ("pillow-a".into(), 70),
        ("pillow-b".into(), 12),
        ("new-host".into(), 99),
    ];
    refreshed(&mut app);
    assert_eq!(selected(&app).as_deref(), Some("es-data-1"));
    // When the selected row disappears, the selection stays at the same place rather than jumping
    // to the top: es-data-1 was fourth (new-host, pillow-a, es-data-2 above it), so pillow-b.
    rows.lock().unwrap().retain(|(n, _)| n != "es-data-1");
    refreshed(&mut app);
    assert_eq!(selected(&app).as_deref(), Some("pillow-b"));
}

#[test]
fn moving_the_selection_reuses_the_table_and_a_refresh_rebuilds_it() {
    use std::sync::atomic::Ordering::SeqCst;
    let (mut app, builds) = app_counting_table_builds();
    key(&mut app, "5");
    screen(&app);
    let before = builds.load(SeqCst);
    // A burst of moves, each drawn: the table is the same, so it is not built again.
    for _ in 0..50 {
        key(&mut app, "down");
        screen(&app);
        key(&mut app, "up");
        screen(&app);
    }
    assert_eq!(builds.load(SeqCst), before, "moves rebuilt the table");
    // A key bound to nothing changes nothing either.
    key(&mut app, "z");
    screen(&app);
    assert_eq!(builds.load(SeqCst), before, "an unbound key rebuilt the table");
    assert_eq!(selected(&app).as_deref(), Some("es-data-2"));
    // The clock alone changes no table (its ages are as of the data).
    app.update(Event::Tick(app.now + std::time::Duration::from_secs(1)));
    screen(&app);
    assert_eq!(builds.load(SeqCst), before, "a tick rebuilt the table");
    // Anything else may change the rows: a poll, a key that is not a move.
    refreshed(&mut app);
    screen(&app);
    assert_eq!(builds.load(SeqCst), before + 1);
    key(&mut app, "S");
    screen(&app);
    assert!(builds.load(SeqCst) > before + 1, "a sort did not rebuild the table");
    // A frame that folds in the view's source's poll and another pane's after it pins the
    // selection once, on the rows the frame shows: one build, not one per poll.
    let before = builds.load(SeqCst);
    let poll = |pane| {
        Event::Polled(opsdeck::sources::runner::Polled {
            at: app.now,
            update: opsdeck::model::fleet::SourceUpdate::failed(
                pane,
                opsdeck_core::source_error::SourceError::timeout("a poll"),
            )
            .expect("a polled pane"),
        })
    };
    use opsdeck_core::pane::Pane;
    let (hosts, queues) = (poll(opsdeck_hosts::Hosts::ID), poll(opsdeck_queues::Queues::ID));
    app.update(hosts);
    app.update(queues);
    app.settle();
    screen(&app);
    assert_eq!(
        builds.load(SeqCst),
        before + 1,
        "one frame built the table more than once"
    );
}

/// Tables not shown are let go of once anything changed (each would be built again before it is
/// drawn): at fleet-XL, hidden tabs held megabytes of stale rows.
#[test]
fn only_the_table_shown_is_kept_once_anything_changed() {
    let held = |app: &opsdeck::app::App| -> Vec<(usize, usize)> {
        let mut held = Vec::new();
        for (tab, stack) in app.panes.iter().enumerate() {
            for (depth, s) in stack.iter().enumerate() {
                if s.holds_rows() {
                    held.push((tab, depth));
                }
            }
        }
        held
    };
    let mut app = on_hosts(false);
    screen(&app);
    key(&mut app, "down");
    key(&mut app, "enter");
    let drilled = screen(&app);
    assert!(drilled.contains("/var/es/pillow-a-java_pid4242.hprof"), "{drilled}");
    assert_eq!(held(&app), [(Tab::Hosts.index(), 1)]);
    key(&mut app, "3");
    screen(&app);
    refreshed(&mut app);
    screen(&app);
    assert_eq!(held(&app), [(Tab::Elasticsearch.index(), 0)]);
    // Back on hosts, the drill-down is built again and shows its rows.
    key(&mut app, "5");
    let again = screen(&app);
    assert!(again.contains(" hosts › pillow-a "), "{again}");
    assert!(again.contains("/var/es/pillow-a-java_pid4242.hprof"), "{again}");
}

#[test]
fn filter_narrows_rows_and_esc_clears_it() {
    let mut app = on_hosts(false);
    key(&mut app, "/");
    // While the filter has focus, action keys are just text.
    let effects = type_text(&mut app, "^es-dXr");
    assert!(effects.is_empty());
    key(&mut app, "backspace");
    key(&mut app, "backspace");
    type_text(&mut app, "ata");
    key(&mut app, "enter");
    let s = screen(&app);
    assert!(
        s.contains("es-data-1") && s.contains("es-data-2") && !s.contains("pillow-"),
        "{s}"
    );
    insta::assert_snapshot!("hosts_filtered", s);
    key(&mut app, "esc");
    assert!(app.screen().filter.is_empty());
    assert!(screen(&app).contains("pillow-b"));
}

#[test]
fn help_lists_the_live_bindings() {
    let mut app = on_hosts(false);
    key(&mut app, "?");
    let s = screen(&app);
    insta::assert_snapshot!("help_on_hosts", s);
    assert!(s.contains("X "), "pane bindings come first: {s}");
    key(&mut app, "esc");
    assert!(app.overlay.is_none());
}

#[test]
fn confirm_dialog_shows_the_plan_and_focuses_cancel() {
    let mut app = on_hosts(false);
    key(&mut app, "r");
    let s = screen(&app);
    insta::assert_snapshot!("confirm_medium_risk", s);
    assert!(
        s.contains("ssh es-data-2 -- sudo -n supervisorctl restart 'pillow-es-data-2'"),
        "verbatim call: {s}"
    );
    // Enter on the focused Cancel closes without running.
    assert!(ran(&key(&mut app, "enter")).is_empty());
    assert!(app.overlay.is_none());
    // Tab to Run, Enter runs exactly that plan.
    key(&mut app, "r");
    key(&mut app, "tab");
    let effects = key(&mut app, "enter");
    let plans = ran(&effects);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].target, "es-data-2");
    assert_eq!(plans[0].risk, Risk::Medium);
    assert!(app.overlay.is_none());
}

#[test]
fn high_risk_needs_the_target_typed() {
    let mut app = on_hosts(false);
    key(&mut app, "X");
    insta::assert_snapshot!("confirm_high_risk_empty", screen(&app));
    // Enter with nothing typed: refused with a hint.
    assert!(ran(&key(&mut app, "enter")).is_empty());
    assert!(screen(&app).contains("type \"es-data-2\" exactly to confirm"));
    // Keys that mean something elsewhere (q quits, 1 switches tab) are text here.
    assert!(type_text(&mut app, "q1").is_empty());
    assert!(!app.quitting);
    assert_eq!(app.tab, Tab::Hosts);
    key(&mut app, "ctrl-u");
    type_text(&mut app, "es-data-1");
    assert!(
        ran(&key(&mut app, "enter")).is_empty(),
        "another host's name does not confirm"
    );
    key(&mut app, "ctrl-u");
    type_text(&mut app, "es-data-2");
    insta::assert_snapshot!("confirm_high_risk_typed", screen(&app));
    let effects = key(&mut app, "enter");
    assert_eq!(ran(&effects).len(), 1);
    assert_eq!(ran(&effects)[0].action, "test.remove-dumps");
}

#[test]
fn read_only_shows_the_plan_but_refuses_to_run() {
    let mut app = on_hosts(true);
    key(&mut app, "r");
    let s = screen(&app);
    insta::assert_snapshot!("confirm_read_only", s);
    assert!(s.contains("READ-ONLY"));
    for k in ["tab", "enter", "r", "tab", "tab", "enter"] {
        assert!(ran(&key(&mut app, k)).is_empty(), "{k} ran something in read-only mode");
    }
    key(&mut app, "X");
    type_text(&mut app, "es-data-2");
    assert!(ran(&key(&mut app, "enter")).is_empty());
}

#[test]
fn an_action_cannot_run_twice_on_one_target() {
    let mut app = on_hosts(false);
    key(&mut app, "r");
    key(&mut app, "tab");
    let effects = key(&mut app, "enter");
    let id = match &effects[..] {
        [Effect::RunAction { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    // A double press lands on the table (drill), never on a second run.
    let again = key(&mut app, "enter");
    assert!(ran(&again).is_empty());
    key(&mut app, "esc");
    // Triggering again while it runs is refused with a message.
    key(&mut app, "r");
    assert!(app.overlay.is_none(), "no dialog while the target is busy");
    assert!(screen(&app).contains("es-data-2 is busy"), "{}", screen(&app));
    // Other targets are free.
    key(&mut app, "down");
    key(&mut app, "r");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    key(&mut app, "esc");
    key(&mut app, "up");
    // Once it finishes, the same target can be acted on again.
    app.update(Event::Action(ActionEvent::Finished {
        id,
        outcome: Outcome::succeeded("exit 0"),
    }));
    key(&mut app, "r");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
}

#[test]
fn unavailable_actions_say_why() {
    let mut app = on_hosts(false);
    key(&mut app, "B");
    assert!(app.overlay.is_none());
    assert!(screen(&app).contains("reboot is not offered"));
}

/// The hosts pane with a program restart confirmed and started (the executor has the intent on
/// disk: "started:" toast); its action id.
fn restart_running() -> (opsdeck::app::App, u64) {
    let mut app = on_hosts(false);
    key(&mut app, "r");
    key(&mut app, "tab");
    let id = match &key(&mut app, "enter")[..] {
        [Effect::RunAction { id, .. }] => *id,
        other => panic!("{other:?}"),
    };
    app.update(Event::Action(ActionEvent::Started { id }));
    (app, id)
}

#[test]
fn quitting_while_an_action_runs_asks_first_with_stay_focused() {
    let (mut app, _) = restart_running();
    let effects = key(&mut app, "q");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Quit)));
    insta::assert_snapshot!("quit_while_running", screen(&app));
    key(&mut app, "enter");
    assert!(!app.quitting, "Stay is the default");
    key(&mut app, "q");
    key(&mut app, "tab");
    let effects = key(&mut app, "enter");
    assert!(effects.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn the_quit_question_says_when_what_held_it_back_has_ended() {
    let (mut app, id) = restart_running();
    key(&mut app, "q");
    assert!(screen(&app).contains("1 action(s) still running"));
    // The action ends while the question is open: the dialog says quitting is now harmless
    // (it used to be a box with two buttons and no words).
    app.update(Event::Action(ActionEvent::Finished {
        id,
        outcome: Outcome::succeeded("exit 0"),
    }));
    assert!(screen(&app).contains("Nothing is running any more"), "{}", screen(&app));
    assert!(matches!(app.overlay, Some(Overlay::QuitConfirm { .. })));
}

#[test]
fn palette_completes_pane_names_and_actions() {
    let mut app = on_hosts(false);
    key(&mut app, ":");
    type_text(&mut app, "rest");
    insta::assert_snapshot!("palette_actions", screen(&app));
    key(&mut app, "enter");
    assert!(
        matches!(app.overlay, Some(Overlay::Confirm(_))),
        "palette runs the action through the same confirm"
    );
    key(&mut app, "esc");
    key(&mut app, ":");
    type_text(&mut app, "aud");
    key(&mut app, "tab");
    key(&mut app, "enter");
    assert_eq!(app.tab, Tab::Audit);
}

#[test]
fn custom_actions_are_bound_in_their_scope_and_escape_row_values() {
    let config: Config = opsdeck::config::parse_str(
        r#"
[[actions]]
name = "disk-usage"
key = "D"
scope = "hosts"
command = "du -sh /srv/{{host}}"
risk = "low"
"#,
        std::path::Path::new("t.toml"),
    )
    .unwrap();
    let rows = default_rows();
    rows.lock().unwrap().push(("it's; rm -rf /".into(), 99));
    let mut app = app_with(config, false, rows);
    key(&mut app, "5");
    key(&mut app, "D");
    let s = screen(&app);
    // The row's value is an argument of the script, never part of it.
    assert!(
        s.contains(r#"sh -c 'du -sh /srv/"$1"' opsdeck 'it'\''s; rm -rf /'"#),
        "{s}"
    );
    key(&mut app, "tab");
    let effects = key(&mut app, "enter");
    let plans = ran(&effects);
    assert_eq!(plans[0].action, "custom.disk-usage");
    // The key only works in its scope.
    key(&mut app, "1");
    key(&mut app, "D");
    assert!(app.overlay.is_none());
}

#[test]
fn severity_and_selection_are_visible_with_and_without_colour() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::{Color, Modifier};
    for theme in ["default", "mono"] {
        let mut app = on_hosts(false);
        app.env.theme = opsdeck_core::theme::Theme::builtin(theme).unwrap();
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal.draw(|f| opsdeck::ui::draw(f, &app)).unwrap();
        let buf = terminal.backend().buffer();
        // Row 4 is the selected es-data-2 at 97% (critical); row 5 is pillow-a at 63%.
        let crit = &buf[(99, 4)];
        let plain = &buf[(99, 5)];
        assert_eq!(crit.symbol(), "%");
        assert!(
            crit.modifier.contains(Modifier::REVERSED),
            "{theme}: selection is reverse video"
        );
        assert!(!plain.modifier.contains(Modifier::REVERSED), "{theme}");
        match theme {
            "default" => assert_eq!(plain.fg, Color::Reset),
            _ => assert!(plain.fg == Color::Reset && plain.bg == Color::Reset),
        }
        // Move off the critical row: it must still stand out.
        key(&mut app, "down");
        terminal.draw(|f| opsdeck::ui::draw(f, &app)).unwrap();
        let crit = &terminal.backend().buffer()[(99, 4)];
        match theme {
            "default" => assert_eq!(crit.fg, Color::Red),
            // Reverse video is the selection's alone: a critical cell that looked like it would
            // leave the person unsure which row the next key acts on.
            _ => assert!(
                crit.modifier.contains(Modifier::BOLD | Modifier::UNDERLINED)
                    && !crit.modifier.contains(Modifier::REVERSED),
                "mono marks critical without colour, unlike the selection: {:?}",
                crit.modifier
            ),
        }
    }
}

/// What the background doctor run found (issue 16): an action the credentials cannot perform on a
/// host is left out of the footer, greyed in the palette with the reason, and its key says why
/// instead of opening a confirm dialog; on other hosts it is offered as before.
#[test]
fn an_action_the_credentials_cannot_perform_is_offered_as_unavailable_with_the_reason() {
    use opsdeck_core::doctor::{Finding, Verdict};
    let mut app = on_hosts(false);
    let host = selected(&app).unwrap();
    let footer = |app: &opsdeck::app::App| screen(app).lines().last().unwrap_or_default().to_string();
    assert!(footer(&app).contains("restart program"), "{}", footer(&app));
    let refused = format!("sudo: ops is not allowed to run supervisorctl restart web without a password on {host}");
    app.update(Event::Capabilities(vec![
        Finding::new(
            "hosts",
            host.clone(),
            "restart programs",
            Verdict::Missing(refused.clone()),
        )
        .gating_on_source(&["restart_program"]),
        Finding::new("hosts", host.clone(), "login", Verdict::Ok(String::new())).gating_on_source(&["remove_dumps"]),
    ]));
    assert!(!footer(&app).contains("restart program"), "{}", footer(&app));
    assert!(
        footer(&app).contains("remove dumps"),
        "an ok finding gates nothing: {}",
        footer(&app)
    );

    key(&mut app, "r");
    assert!(app.overlay.is_none(), "no confirm dialog");
    let shown = screen(&app);
    assert!(shown.contains("not permitted: sudo: ops is not allowed"), "{shown}");

    key(&mut app, "?");
    let help = screen(&app);
    assert!(help.contains("unavailable: not permitted: sudo: ops"), "{help}");
    key(&mut app, "esc");

    key(&mut app, ":");
    type_text(&mut app, "restart");
    let palette = screen(&app);
    assert!(palette.contains("(unavailable: not permitted: sudo: ops"), "{palette}");
    key(&mut app, "esc");

    // Another host: the same key confirms as before.
    key(&mut app, "down");
    assert_ne!(selected(&app).unwrap(), host);
    key(&mut app, "r");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
}
