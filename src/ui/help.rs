//! The `?` screen, generated from the active keymap: what is bound is what is listed.

use crate::app::{App, GLOBAL_ACTIONS, TABLE_ACTIONS};
use crate::keymap::{GLOBAL, TABLE};

/// (section title, [(keys, what it does)]) for the current pane, then tables, then everywhere.
pub fn sections(app: &App) -> Vec<(String, Vec<(String, String)>)> {
    let pane = app.tab.name();
    let describe = |action: &str| -> String {
        if let Some(name) = action.strip_prefix("custom:") {
            let custom = app.env.config.actions.iter().find(|a| a.name == name);
            return match custom {
                Some(a) if !a.description.is_empty() => format!("{name} (custom): {}", a.description),
                _ => format!("{name} (custom action)"),
            };
        }
        GLOBAL_ACTIONS
            .iter()
            .chain(crate::views::TAB_ACTIONS)
            .chain(TABLE_ACTIONS)
            .find(|(n, _)| *n == action)
            .map(|(_, h)| h.to_string())
            .or_else(|| {
                app.tab
                    .actions()
                    .iter()
                    .find(|a| a.name == action)
                    .map(|a| a.help.to_string())
            })
            .unwrap_or_else(|| action.replace('_', " "))
    };
    // What the credentials cannot do on the selected row (`opsdeck doctor`'s checks) says so here too.
    let ctx = app.ctx();
    let screen = app.screen();
    let row = screen.selected_key(&ctx);
    let unavailable: Vec<(&str, String)> = screen
        .view
        .actions(&ctx, row.as_deref())
        .into_iter()
        .filter_map(|o| Some((o.name, app.capabilities.unavailable(o.name, &o.plan.ok()?.target)?)))
        .collect();
    let describe = |action: &str| match unavailable.iter().find(|(name, _)| *name == action) {
        Some((_, why)) => format!("{} — unavailable: {why}", describe(action)),
        None => describe(action),
    };
    let mut out = Vec::new();
    for (title, mode) in [
        (format!("{pane} pane"), pane),
        ("tables".to_string(), TABLE),
        ("everywhere".to_string(), GLOBAL),
    ] {
        // Group keys bound to the same action on one line ("q, ctrl-c  quit").
        let mut lines: Vec<(String, String)> = Vec::new();
        for b in app.env.keymap.bindings(mode) {
            match lines.iter_mut().find(|(_, action)| *action == b.action) {
                Some((keys, _)) => {
                    keys.push_str(", ");
                    keys.push_str(&b.key_text);
                }
                None => lines.push((b.key_text.clone(), b.action.clone())),
            }
        }
        let lines: Vec<(String, String)> = lines.into_iter().map(|(k, a)| (k, describe(&a))).collect();
        if !lines.is_empty() {
            out.push((title, lines));
        }
    }
    out
}
