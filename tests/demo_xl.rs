//! `opsdeck demo --fleet xl`: the fleet-XL generator's sizes as the console shows them (the app fed
//! the generated polls through `Event::Polled`, as the runner delivers them), its actions refused,
//! and the real binary's `--snapshot` and `--fleet` errors.

mod demo_xl {
    use opsdeck::app::{App, Event};
    use opsdeck::demo::xl::{self, XL};
    use opsdeck::model::fleet::SourceUpdate;
    use opsdeck::sources::runner::Polled;
    use opsdeck::ui::testing::{app, press};
    use opsdeck::views::Tab;
    use std::process::Command;

    /// An app on fleet-XL's config after `steps` generated polls of every pane, the audit entries and
    /// the log lines, as the XL demo starts.
    fn xl_app(steps: u64) -> App {
        let mut app = app(xl::config(&XL), "default", xl::time(steps));
        app.update(Event::Resize { width: 200, height: 60 });
        let mut polls = xl::Polls::new(XL);
        for step in 0..steps {
            for pane in xl::POLLED {
                let update = polls.update(pane, step, xl::time(step)).expect("a polled pane");
                app.update(Event::Polled(Polled {
                    at: xl::time(step),
                    update,
                }));
            }
        }
        for event in xl::log_events(&XL, xl::time(steps)) {
            app.update(Event::Polled(Polled {
                at: xl::time(steps),
                update: SourceUpdate::Logs(event),
            }));
        }
        app.fleet.audit = xl::audit(&XL);
        app
    }

    /// The rows the current view lists (after its filter).
    fn rows(app: &App) -> Vec<String> {
        let ctx = app.ctx();
        let visible = app.screen().visible(&ctx);
        visible.table.rows.iter().map(|r| r.key.clone()).collect()
    }

    fn open(app: &mut App, tab: Tab) {
        app.tab = tab;
        while app.stack().len() > 1 {
            press(app, "esc");
        }
    }

    #[test]
    fn the_console_shows_fleet_xl_at_its_size() {
        let mut app = xl_app(3);

        open(&mut app, Tab::Pillows);
        let pillows = rows(&app);
        assert_eq!(pillows.len(), 50, "{pillows:?}");
        // Every pillow's partitions, drilled into one by one: 50 × 64.
        let mut partitions = 0;
        for i in 0..pillows.len() {
            open(&mut app, Tab::Pillows);
            for _ in 0..i {
                press(&mut app, "j");
            }
            press(&mut app, "enter");
            assert_eq!(app.stack().len(), 2, "pillow {i} opens");
            let shown = rows(&app);
            assert_eq!(shown.len(), 64, "pillow {i}: {shown:?}");
            partitions += shown.len();
        }
        assert_eq!(partitions, 3_200);

        open(&mut app, Tab::Elasticsearch);
        assert_eq!(rows(&app).len(), 40, "one row per data node");
        press(&mut app, "v");
        // The shard grid: a row per index of 5 primaries and their replicas (20,000 copies).
        assert_eq!(rows(&app).len(), 2_000);
        let es = app.fleet.elasticsearch.data.as_ref().expect("polled");
        assert_eq!(es.shards.len(), 20_000);
        assert!(
            es.shards.iter().any(|s| s.unassigned_reason.is_some()),
            "some unassigned, with reasons"
        );

        open(&mut app, Tab::Queues);
        assert_eq!(rows(&app).len(), 300);

        open(&mut app, Tab::Hosts);
        assert_eq!(rows(&app).len(), 200);
        press(&mut app, "f");
        let disks = rows(&app);
        assert_eq!(disks.len(), 200 * 8, "every disk of every host");

        open(&mut app, Tab::Audit);
        assert_eq!(rows(&app).len(), 10_000);

        open(&mut app, Tab::Logs);
        assert_eq!(app.fleet.logs.lines.len(), 100_000);
        let text = opsdeck::ui::testing::screen_text(&app, 200, 60);
        assert!(text.contains("100000 line(s) buffered"), "{text}");
        assert!(
            text.contains("demo XL (generated)"),
            "the title names the XL demo: {text}"
        );
    }

    #[test]
    fn polls_move_from_step_to_step() {
        let (a, b) = (xl::pillows(&XL, 10, xl::time(10)), xl::pillows(&XL, 11, xl::time(11)));
        let end = |p: &opsdeck_pillows::model::PillowsPoll| {
            p.pillows[0].result.as_ref().expect("read")[0]
                .log_end
                .expect("an end offset")
        };
        assert!(
            end(&b) > end(&a) && end(&a) > 1_000_000,
            "offsets in the millions, growing"
        );
        // The same step is the same poll (benchmarks and the demo see one fleet).
        assert_eq!(end(&a), end(&xl::pillows(&XL, 10, xl::time(10))));
        let lag = |s: u64| -> i64 {
            xl::pillows(&XL, s, xl::time(s))
                .pillows
                .iter()
                .flat_map(|p| p.result.as_ref().expect("read").iter())
                .map(|r| r.log_end.unwrap_or(0) - r.committed.unwrap_or(0))
                .max()
                .unwrap_or(0)
        };
        assert!(lag(100) > 1_000, "some partitions thousands behind");
        let depth = |s: u64| xl::queues(&XL, s).queues.iter().map(|q| q.visible).collect::<Vec<_>>();
        assert_ne!(depth(10), depth(60), "queues back up and drain");
        let mounts: Vec<String> = xl::hosts(&XL, 0)
            .iter()
            .find(|h| h.name.starts_with("es-data"))
            .and_then(|h| h.filesystems.clone())
            .expect("an ES host")
            .expect("its disks")
            .into_iter()
            .map(|f| f.mount)
            .collect();
        for mount in ["/", "/data1", "/var/lib/elasticsearch"] {
            assert!(mounts.iter().any(|m| m == mount), "{mount} in {mounts:?}");
        }
    }

    fn opsdeck(args: &[&str]) -> std::process::Output {
        let home = tempfile::tempdir().expect("a home");
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(args)
            .env("HOME", home.path())
            .env_remove("XDG_STATE_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .expect("opsdeck runs")
    }

    #[test]
    fn the_binary_prints_the_xl_snapshot() {
        let out = opsdeck(&["demo", "--fleet", "xl", "--snapshot"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let pillows = doc["pillows"]["pillows"].as_array().expect("pillows");
        assert_eq!(pillows.len(), 50);
        let partitions: usize = pillows
            .iter()
            .map(|p| p["partitions"].as_array().expect("partitions").len())
            .sum();
        assert_eq!(partitions, 3_200);
        assert_eq!(doc["elasticsearch"]["nodes"].as_array().expect("nodes").len(), 40);
        let counts = &doc["elasticsearch"]["shard_counts"];
        let copies = counts["primaries"].as_u64().expect("primaries") + counts["replicas"].as_u64().expect("replicas");
        assert_eq!(copies, 20_000, "{counts}");
        assert_eq!(doc["queues"]["queues"].as_array().expect("queues").len(), 300);
        let hosts = doc["hosts"]["hosts"].as_array().expect("hosts");
        assert_eq!(hosts.len(), 200);
        assert!(
            hosts
                .iter()
                .all(|h| h["filesystems"].as_array().is_some_and(|f| f.len() == 8)),
            "8 disks on every host"
        );
        assert_eq!(doc["opsdeck"]["environment"], "demo XL (generated)");
    }

    #[test]
    fn an_unknown_fleet_is_a_clear_cli_error() {
        let out = opsdeck(&["demo", "--fleet", "huge"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("invalid value 'huge' for '--fleet"), "{err}");
        assert!(err.contains("small") && err.contains("xl"), "names the fleets: {err}");
        assert!(out.stdout.is_empty());
    }

    #[test]
    fn a_refresh_out_of_range_or_unreadable_is_a_clear_cli_error() {
        for (refresh, says) in [
            ("0s", "between 1s and 1h"),
            ("2h", "between 1s and 1h"),
            ("soon", "5s, 1m"),
        ] {
            let out = opsdeck(&["demo", "--fleet", "xl", "--refresh", refresh]);
            assert_eq!(out.status.code(), Some(2), "{refresh}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("--refresh") && err.contains(says), "{refresh}: {err}");
        }
    }
}
