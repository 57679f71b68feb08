//! The pillows pane inside the whole app (keymap, table widget, confirm dialog), on a recorded state.

use super::views::fleet_and_config;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::keymap::Keymap;
use opsdeck_core::effect::Effect;
use opsdeck_core::theme::Theme;
use std::sync::Arc;

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let mods = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::empty(),
    };
    app.update(Event::Key(KeyEvent::new(code, mods)))
}

fn screen(app: &App) -> String {
    opsdeck::ui::testing::screen_text(app, 120, 24)
}

#[test]
fn pillows_pane_drill_down_and_restart_the_backed_up_process() {
    let (fleet, config, now) = fleet_and_config();
    let (keymap, problems) = Keymap::load("default", None, &action_catalog());
    assert!(problems.is_empty(), "{problems:?}");
    let env = Env {
        config: Arc::new(config),
        keymap,
        theme: Theme::builtin("mono").unwrap(),
        read_only: false,
    };
    let (mut app, _) = App::new(env, now);
    app.fleet = fleet;
    app.update(Event::Resize { width: 120, height: 24 });
    press(&mut app, KeyCode::Char('2'));
    insta::assert_snapshot!("pillows_pane", screen(&app));
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("pillows_partitions", screen(&app));
    // The worst partition is selected first (sorted by lag): its owner is process 1.
    press(&mut app, KeyCode::Char('r'));
    let dialog = screen(&app);
    assert!(dialog.contains("Restart process 1 of case-pillow"), "{dialog}");
    assert!(
        dialog.contains("ssh pillow1 -- sudo -n supervisorctl restart commcare-hq-prod-pillowtop-case-pillow-1"),
        "{dialog}"
    );
    press(&mut app, KeyCode::Tab);
    let effects = press(&mut app, KeyCode::Enter);
    let plan = effects
        .iter()
        .find_map(|e| match e {
            Effect::RunAction { plan, .. } => Some(plan),
            _ => None,
        })
        .expect("confirming runs the plan");
    assert_eq!(plan.action, "pillows.restart_process");
    assert!(plan.op.downcast_ref::<opsdeck_pillows::actions::PillowsOp>().is_some());
}
