//! A small hosts-like view with actions of every risk level, and an app wired to it.
//! (The real panes have their own tests; these exercise the shell every pane stands on.)

use opsdeck::app::screen::Screen;
use opsdeck::app::{App, Env, Event, action_catalog};
use opsdeck::config::Config;
use opsdeck::keymap::Keymap;
use opsdeck::views::Tab;
use opsdeck_core::action::{ActionPlan, Risk};
use opsdeck_core::pane::{Pane, PaneId};
use opsdeck_core::theme::Theme;
use opsdeck_core::view::{ActionOffer, Cell, Column, Row, Table, Tone, View, ViewCtx};
use opsdeck_hosts::Hosts;
use opsdeck_hosts::actions::command::{CommandOp, Transport};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

pub const NOW: u64 = 1_795_000_000;

/// Rows the fake view shows; tests change them to simulate a refresh.
pub type Rows = Arc<Mutex<Vec<(String, u64)>>>;

/// The pid supervisor runs each host's program under; tests change it to simulate a restart by
/// someone else. A restart plan's call names the pid it was planned against.
pub type Pids = Arc<Mutex<std::collections::HashMap<String, u32>>>;

/// How many times the fake view built its table (the app caches tables between changes).
pub type Builds = Arc<std::sync::atomic::AtomicUsize>;

pub struct FakeHosts {
    pub rows: Rows,
    pub pids: Pids,
    pub builds: Builds,
}

/// A plan longer than any screen: a description of many lines and a call of several long lines.
pub fn long_plan(target: &str) -> ActionPlan {
    let mut p = plan("rebuild", target, Risk::High);
    p.description = (1..=40)
        .map(|i| format!("Step {i}: the rebuild does one more careful thing to {target}."))
        .collect::<Vec<_>>()
        .join("\n");
    p.call = (1..=5)
        .map(|i| format!("curl -XPUT https://es.internal:9200/_cluster/settings -d '{{\"persistent\":{{\"cluster.routing.allocation.exclude._name\":\"{target}-{i}\"}}}}' # END-OF-LINE-{i}"))
        .collect::<Vec<_>>()
        .join("\n");
    p
}

pub fn plan(action: &str, target: &str, risk: Risk) -> ActionPlan {
    ActionPlan {
        action: format!("test.{action}"),
        title: format!("{action} {target}"),
        target: target.to_string(),
        description: format!("Does {action} to {target}."),
        call: format!("ssh {target} -- sudo -n supervisorctl restart 'pillow-{target}'"),
        risk,
        verify: "the program is RUNNING again with a new pid".into(),
        timeout: Duration::from_secs(30),
        op: std::sync::Arc::new(CommandOp {
            transport: Transport::Local,
            argv: vec!["true".into()],
            timeout: Duration::from_secs(30),
        }),
        identity: String::new(),
    }
}

impl View for FakeHosts {
    fn crumb(&self) -> String {
        "hosts".into()
    }
    fn scope(&self) -> &'static str {
        "hosts"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Hosts::ID)
    }
    fn table(&self, _ctx: &ViewCtx) -> Table {
        self.builds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let rows = self.rows.lock().unwrap();
        Table {
            columns: vec![Column::left("HOST", 12).grow(), Column::right("USED%", 6)],
            rows: rows
                .iter()
                .map(|(name, used)| Row {
                    key: name.clone(),
                    cells: vec![
                        Cell::text(name.clone()),
                        Cell::num(format!("{used}%"), *used as f64).tone(if *used > 90 {
                            Tone::Crit
                        } else {
                            Tone::Normal
                        }),
                    ],
                })
                .collect(),
            default_sort: Some((1, true)),
            empty: "no hosts".into(),
        }
    }
    fn drill(&self, _ctx: &ViewCtx, row: &str) -> Option<Box<dyn View>> {
        Some(Box::new(FakeHost(row.to_string())))
    }
    fn actions(&self, _ctx: &ViewCtx, row: Option<&str>) -> Vec<ActionOffer> {
        let Some(host) = row else { return Vec::new() };
        let mut restart = plan("restart", host, Risk::Medium);
        if let Some(pid) = self.pids.lock().unwrap().get(host) {
            restart.call.push_str(&format!(" # pid {pid}"));
        }
        vec![
            ActionOffer::new("restart_program", Ok(restart)),
            ActionOffer::new("long_plan", Ok(long_plan(host))),
            ActionOffer::new("remove_dumps", Ok(plan("remove-dumps", host, Risk::High))),
            ActionOffer::new(
                "reboot",
                Err("reboot is not offered: hosts are bounced by the ES procedure".into()),
            ),
        ]
    }
    fn row_vars(&self, _ctx: &ViewCtx, row: &str) -> Vec<(String, String)> {
        vec![("host".into(), row.to_string()), ("name".into(), row.to_string())]
    }
}

struct FakeHost(String);

impl View for FakeHost {
    fn crumb(&self) -> String {
        self.0.clone()
    }
    fn scope(&self) -> &'static str {
        "hosts.host"
    }
    fn source(&self) -> Option<PaneId> {
        Some(Hosts::ID)
    }
    fn table(&self, _ctx: &ViewCtx) -> Table {
        Table {
            columns: vec![Column::left("FILE", 30).grow()],
            rows: vec![Row {
                key: "dump".into(),
                cells: vec![Cell::text(format!("/var/es/{}-java_pid4242.hprof", self.0))],
            }],
            default_sort: None,
            empty: String::new(),
        }
    }
}

pub fn default_rows() -> Rows {
    Arc::new(Mutex::new(vec![
        ("es-data-1".into(), 41),
        ("es-data-2".into(), 97),
        ("pillow-a".into(), 63),
        ("pillow-b".into(), 12),
    ]))
}

/// An app on the default keymap and theme at a fixed time, with the fake view as the hosts pane.
pub fn app_with(config: Config, read_only: bool, rows: Rows) -> App {
    app_with_pids(config, read_only, rows, Pids::default())
}

/// As [`app_with`], with the programs' pids in `pids`.
pub fn app_with_pids(config: Config, read_only: bool, rows: Rows, pids: Pids) -> App {
    let view = FakeHosts {
        rows,
        pids,
        builds: Builds::default(),
    };
    app_with_view(config, read_only, view)
}

/// The default app, and how many times its hosts view has built its table.
pub fn app_counting_table_builds() -> (App, Builds) {
    let builds = Builds::default();
    let view = FakeHosts {
        rows: default_rows(),
        pids: Pids::default(),
        builds: builds.clone(),
    };
    (app_with_view(Config::default(), false, view), builds)
}

fn app_with_view(config: Config, read_only: bool, view: FakeHosts) -> App {
    let mut catalog = action_catalog();
    for (mode, actions) in catalog.modes.iter_mut() {
        if mode == "hosts" {
            actions.extend(["restart_program", "remove_dumps", "reboot", "long_plan"].map(String::from));
        }
    }
    let (mut keymap, problems) = Keymap::load("default", None, &catalog);
    assert!(problems.is_empty(), "{problems:?}");
    let extra = keymap.merge_file(
        "test",
        "[hosts]\nr = \"restart_program\"\nX = \"remove_dumps\"\nB = \"reboot\"\nY = \"long_plan\"\n",
        &catalog,
    );
    assert!(extra.is_empty(), "{extra:?}");
    let env = Env {
        config: Arc::new(config),
        keymap,
        theme: Theme::builtin("default").unwrap(),
        read_only,
    };
    let (mut app, _) = App::new(env, SystemTime::UNIX_EPOCH + Duration::from_secs(NOW));
    app.panes[Tab::Hosts.index()] = vec![Screen::new(Box::new(view))];
    app.update(Event::Resize { width: 100, height: 30 });
    app
}

pub fn app(read_only: bool) -> App {
    app_with(Config::default(), read_only, default_rows())
}

pub use opsdeck::ui::testing::{planned as ran, press as key, type_text};

pub fn screen(app: &App) -> String {
    opsdeck::ui::testing::screen_text(app, 100, 30)
}

/// The key of the row the next action acts on.
pub fn selected(app: &App) -> Option<String> {
    app.screen().selected_key(&app.ctx())
}
