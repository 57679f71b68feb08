//! What the cluster is left with, through the real app: nodes that leave become alerts and greyed
//! rows until they rejoin or are acknowledged; quitting after a stopped procedure lists the settings
//! it left changed and reverts them through a confirmed, audited action.

use super::common::*;
use opsdeck::actions::executor::{ActionEvent, execute};
use opsdeck::app::leftovers::Touched;
use opsdeck::app::overlay::Overlay;
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::keymap::Keymap;
use opsdeck::model::Fleet;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck::sources::Backends;
use opsdeck::sources::runner::Polled;
use opsdeck::ui::testing::{press, screen_text, type_text};
use opsdeck_core::action::OutcomeResult;
use opsdeck_core::audit::{AuditLog, Identity};
use opsdeck_core::effect::Effect;
use opsdeck_core::registered::Leftover;
use opsdeck_core::theme::Theme;
use opsdeck_elasticsearch::actions::{ProcedureKind, plan_drain_node, plan_procedure};
use opsdeck_elasticsearch::model::EsAnswer;
use opsdeck_elasticsearch::source::EsBackend;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

fn app_for(url: &str) -> App {
    let (keymap, problems) = Keymap::load("default", None, &action_catalog());
    assert!(problems.is_empty(), "{problems:?}");
    let env = Env {
        config: Arc::new(config_for(url)),
        keymap,
        theme: Theme::builtin("default").unwrap(),
        read_only: false,
    };
    let (mut app, _) = App::new(env, SystemTime::now());
    app.update(Event::Resize { width: 160, height: 40 });
    app
}

/// One poll of the cluster, delivered to the app as the poller would at `at`.
async fn poll_into(app: &mut App, url: &str, at: SystemTime) {
    let poll = poller(url).poll_cluster().await.expect("poll");
    app.update(Event::Polled(Polled {
        at,
        update: SourceUpdate::Elasticsearch(Ok(EsAnswer::of(poll))),
    }));
}

fn alerts_about(app: &App, subject: &str) -> Vec<String> {
    opsdeck::analysis::alerts(&app.fleet, &app.env.config)
        .into_iter()
        .filter(|a| a.subject == subject)
        .map(|a| a.message)
        .collect()
}

#[tokio::test]
async fn a_node_that_leaves_is_an_alert_and_a_greyed_row_until_it_rejoins_or_is_acknowledged() {
    let server = start(small_cluster()).await;
    let mut app = app_for(&server.url);
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    poll_into(&mut app, &server.url, t0).await;
    press(&mut app, "3");
    assert!(alerts_about(&app, "spot-2").is_empty());

    // spot-2 leaves (a lost spot instance); the next poll no longer lists it.
    server.sim.lock().stop_node("spot-2", None);
    let left_at = t0 + Duration::from_secs(60);
    poll_into(&mut app, &server.url, left_at).await;
    let alerts = alerts_about(&app, "spot-2");
    let when = opsdeck_elasticsearch::analysis::clock(left_at);
    assert_eq!(
        alerts.len(),
        1,
        "one alert for the departure: {:?}",
        opsdeck::analysis::alerts(&app.fleet, &app.env.config)
    );
    assert!(
        alerts[0].starts_with(&format!("spot-2 left the cluster at {when} (it held ")),
        "{alerts:?}"
    );
    let screen = screen_text(&app, 160, 40);
    let row = screen
        .lines()
        .find(|l| l.contains("spot-2"))
        .unwrap_or_else(|| panic!("the row stays:\n{screen}"));
    assert!(row.contains(&format!("LEFT at {when}")), "{row}");
    assert!(row.contains("zone=spot"), "the row keeps what it was: {row}");
    // Still gone a poll later: still there, left at the same time.
    poll_into(&mut app, &server.url, left_at + Duration::from_secs(30)).await;
    assert!(alerts_about(&app, "spot-2")[0].contains(&when));

    // The footer offers the acknowledgement on a departed node's row only.
    let footer = |app: &App| screen_text(app, 400, 40).lines().last().unwrap_or_default().to_string();
    assert_ne!(app.screen().selected_key(&app.ctx()).as_deref(), Some("spot-2"));
    assert!(!footer(&app).contains("acknowledge"), "{}", footer(&app));

    // Acknowledged on its row: the alert goes, the greyed row stays.
    while app.screen().selected_key(&app.ctx()).as_deref() != Some("spot-2") {
        press(&mut app, "down");
    }
    assert!(footer(&app).contains("a acknowledge departure"), "{}", footer(&app));
    press(&mut app, "a");
    assert!(alerts_about(&app, "spot-2").is_empty());
    assert!(!footer(&app).contains("acknowledge"), "{}", footer(&app));
    let screen = screen_text(&app, 160, 40);
    assert!(screen.contains(&format!("LEFT at {when} · acknowledged")), "{screen}");

    // It rejoins: an ordinary row again.
    server.sim.lock().start_node("spot-2");
    poll_into(&mut app, &server.url, left_at + Duration::from_secs(90)).await;
    let screen = screen_text(&app, 160, 40);
    assert!(!screen.contains("LEFT at"), "{screen}");
    assert!(screen.lines().any(|l| l.contains("spot-2")), "{screen}");
}

/// Runs what the app asked to run through the real executor, feeding its events back to the app;
/// `on_progress` plays the operator. Returns the outcome's result.
async fn run_effects(
    app: &mut App,
    effects: Vec<Effect>,
    server: &opsdeck_elasticsearch::demo::SimServer,
    audit: &AuditLog,
    mut on_progress: impl FnMut(&mut App, &str) -> Vec<Effect>,
) -> OutcomeResult {
    let (id, plan) = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::RunAction { id, plan } => Some((id, plan)),
            _ => None,
        })
        .expect("the app asked to run a plan");
    let config = config_for(&server.url);
    let backends = Backends {
        elasticsearch: EsBackend::connect(&config.elasticsearch).await.expect("connect"),
        ..Backends::default()
    };
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(execute(id, plan, backends, audit.clone(), tx, cancel.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut ticker = tokio::time::interval(Duration::from_millis(15));
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                let progress = match &ev {
                    ActionEvent::Progress { progress, .. } => Some(progress.message.clone()),
                    _ => None,
                };
                let finished = match &ev {
                    ActionEvent::Finished { outcome, .. } => Some(outcome.result),
                    _ => None,
                };
                app.update(Event::Action(ev));
                if let Some(result) = finished {
                    return result;
                }
                if let Some(message) = progress {
                    for effect in on_progress(app, &message) {
                        if matches!(effect, Effect::CancelAction { id: stop } if stop == id) {
                            cancel.cancel();
                        }
                    }
                }
            }
            _ = ticker.tick() => {
                server.sim.tick();
                assert!(tokio::time::Instant::now() < deadline, "the action did not end in 60 s");
            }
        }
    }
    // The executor sends Finished itself; the task ended without it only on a panic.
    let outcome = task.await.expect("executor");
    app.update(Event::Action(ActionEvent::Finished {
        id,
        outcome: outcome.clone(),
    }));
    outcome.result
}

#[tokio::test]
async fn quitting_after_a_stopped_bounce_lists_what_it_left_and_reverts_it() {
    let server = start(small_cluster()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::new(
        dir.path().join("audit.jsonl"),
        Identity {
            user: "tester".into(),
            host: "testhost".into(),
        },
    );
    let mut app = app_for(&server.url);
    poll_into(&mut app, &server.url, SystemTime::now()).await;
    press(&mut app, "3");
    while app.screen().selected_key(&app.ctx()).as_deref() != Some("core-1") {
        press(&mut app, "down");
    }
    // The bounce, confirmed as a person would: type the node's name, then Run.
    press(&mut app, "B");
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    type_text(&mut app, "core-1");
    let effects = press(&mut app, "enter");
    // Nobody restarts core-1: ctrl-x stops the procedure while it waits.
    let result = run_effects(&mut app, effects, &server, &audit, |app, message| {
        if message.contains("restart core-1 now") {
            press(app, "ctrl-x")
        } else {
            Vec::new()
        }
    })
    .await;
    assert_eq!(result, OutcomeResult::Stopped);
    let screen = screen_text(&app, 160, 40);
    assert!(
        screen.contains("Controlled bounce of core-1: stopped"),
        "the toast says stopped:\n{screen}"
    );

    // q does not quit: the dialog lists exactly what the procedure left changed.
    poll_into(&mut app, &server.url, SystemTime::now()).await;
    let effects = press(&mut app, "q");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Quit)), "{effects:?}");
    assert!(matches!(app.overlay, Some(Overlay::QuitConfirm { .. })));
    let screen = screen_text(&app, 160, 40);
    for line in [
        "2 cluster setting(s) a procedure changed are still in force:",
        "• cluster.routing.allocation.enable = none (was all)",
        "• cluster.routing.allocation.exclude.zone = spot (was unset)",
        "Revert puts them back (you confirm it; it is audited).",
        "▶ Stay ◀   [ Revert settings ]   [ Quit anyway ]",
    ] {
        assert!(screen.contains(line), "{line:?} missing:\n{screen}");
    }
    // Revert → the confirm dialog of the revert plan → Run.
    press(&mut app, "tab");
    press(&mut app, "enter");
    let Some(Overlay::Confirm(c)) = &app.overlay else {
        panic!("Revert opens its confirm dialog")
    };
    assert_eq!(c.plan.action, "elasticsearch.revert_settings");
    assert_eq!(
        c.plan.call,
        r#"PUT /_cluster/settings {"persistent":{"cluster.routing.allocation.enable":null,"cluster.routing.allocation.exclude.zone":null},"transient":{"cluster.routing.allocation.enable":null,"cluster.routing.allocation.exclude.zone":null}}"#
    );
    press(&mut app, "tab");
    let effects = press(&mut app, "enter");
    let result = run_effects(&mut app, effects, &server, &audit, |_, _| Vec::new()).await;
    assert_eq!(result, OutcomeResult::Succeeded);
    let audited = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        audited
            .lines()
            .any(|l| l.contains("elasticsearch.revert_settings") && l.contains("\"succeeded\"")),
        "{audited}"
    );

    // Nothing left behind: q quits at once.
    poll_into(&mut app, &server.url, SystemTime::now()).await;
    let effects = press(&mut app, "q");
    assert!(effects.iter().any(|e| matches!(e, Effect::Quit)), "{effects:?}");
}

/// The app asks the registry, not the Elasticsearch pane by name: a procedure it remembers is
/// listed and reverted from what the pane answers through `Registered`, and a plan no pane calls a
/// procedure is neither remembered nor blamed.
#[tokio::test]
async fn the_quit_dialog_lists_and_reverts_what_the_registered_panes_answer() {
    let server = start(small_cluster()).await;
    let mut app = app_for(&server.url);
    poll_into(&mut app, &server.url, SystemTime::now()).await;
    let state = app.fleet.elasticsearch.data.clone().expect("polled");
    let config = app.env.config.clone();
    // A change-config procedure planned now remembers `exclude._ip` unset; a drain writes it.
    let every = Duration::from_millis(50);
    let procedure = plan_procedure(&state, &*config, ProcedureKind::ChangeConfig, "core-2", false, every).unwrap();
    let drain = plan_drain_node(&state, &config.elasticsearch, "core-2").unwrap();
    assert!(Fleet::touches(&procedure));
    assert!(!Fleet::touches(&drain), "a drain puts nothing back: not a procedure");
    assert!(app.fleet.left_changed(&[&procedure]).is_empty(), "nothing changed yet");
    let ran = run_plan(&server, drain.clone(), Default::default(), |_, _| {}).await;
    assert_eq!(ran.outcome.result, OutcomeResult::Succeeded, "{}", ran.outcome.summary);
    poll_into(&mut app, &server.url, SystemTime::now()).await;

    let left = vec![Leftover {
        kind: "cluster setting",
        what: "cluster.routing.allocation.exclude._ip = 10.0.0.12 (was unset)".into(),
    }];
    assert_eq!(app.fleet.left_changed(&[&procedure]), left);
    assert!(app.fleet.left_changed(&[&drain]).is_empty());
    assert_eq!(
        app.fleet.revert(&config, &[&drain]).unwrap_err(),
        "no setting is left changed"
    );

    // The app, remembering the (stopped) procedure, shows and reverts exactly that.
    app.touched.push(Touched {
        action_id: 999,
        plan: procedure,
    });
    assert_eq!(app.left_changed(), left);
    press(&mut app, "q");
    let screen = screen_text(&app, 160, 40);
    for line in [
        "1 cluster setting(s) a procedure changed are still in force:",
        "• cluster.routing.allocation.exclude._ip = 10.0.0.12 (was unset)",
        "[ Revert settings ]",
    ] {
        assert!(screen.contains(line), "{line:?} missing:\n{screen}");
    }
    press(&mut app, "tab");
    press(&mut app, "enter");
    let Some(Overlay::Confirm(c)) = &app.overlay else {
        panic!("Revert opens its confirm dialog")
    };
    assert_eq!(
        c.plan.call,
        r#"PUT /_cluster/settings {"persistent":{"cluster.routing.allocation.exclude._ip":null},"transient":{"cluster.routing.allocation.exclude._ip":null}}"#
    );
}
