//! The pane's views over a recorded state: rows, verdicts, drill-down and the partition chart.

use opsdeck::config::Config;
use opsdeck::model::Fleet;
use opsdeck::model::fleet::SourceUpdate;
use opsdeck_core::feed::FeedData;
use opsdeck_core::folding::fold;
use opsdeck_core::pane::Pane;
use opsdeck_core::theme::Theme;
use opsdeck_core::view::ViewCtx;
use opsdeck_pillows::Pillows;
use opsdeck_pillows::config::PillowConfig;
use opsdeck_pillows::model::{
    Assignment, CheckpointKind, PartitionReading, PillowReading, PillowsPoll, PillowsState, ProcessRef,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, SystemTime};

pub fn fleet_and_config() -> (Fleet, Config, SystemTime) {
    let mut config = Config::default();
    config.pillows.brokers = "127.0.0.1:9".into();
    config.pillows.pillows.push(PillowConfig {
        name: "case-pillow".into(),
        checkpoint_id: None,
        group: Some("case".into()),
        topics: vec!["case-sql".into()],
        processes: 2,
        dedicated_migration_process: false,
        hosts: vec!["pillow1".into()],
        program: "commcare-hq-prod-pillowtop-case-pillow-{n}".into(),
        log_file: None,
    });
    let settings = config.pillows.settings();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut fleet = Fleet::default();
    fleet.enable(Pillows::ID);
    for step in 0..20u64 {
        let end = 10_000 + step as i64 * 600;
        let parts = (0..4)
            .map(|p| PartitionReading {
                topic: "case-sql".into(),
                partition: p,
                // Process 1 (partitions 1, 3) stopped at 2,000.
                committed: Some(if p % 2 == 1 { 2_000 } else { end }),
                log_start: Some(0),
                log_end: Some(end),
                last_modified: None,
                doc_modification_time: None,
            })
            .collect();
        let poll = PillowsPoll {
            pillows: vec![PillowReading {
                name: "case-pillow".into(),
                kind: CheckpointKind::KafkaGroup,
                checkpoint: "case".into(),
                assignment: Assignment {
                    processes: 2,
                    dedicated_migration_process: false,
                },
                processes: (0..2)
                    .map(|n| ProcessRef {
                        index: n,
                        host: "pillow1".into(),
                        program: format!("commcare-hq-prod-pillowtop-case-pillow-{n}"),
                    })
                    .collect(),
                result: Ok(parts),
            }],
            settings: settings.clone(),
        };
        let at = t0 + Duration::from_secs(step * 30);
        let folded = fold(&mut fleet.pillows.data.clone(), poll, at);
        fleet.apply(at, SourceUpdate::Pillows(Ok(folded)));
    }
    let _ = <PillowsState as FeedData>::absorb;
    (fleet, config, t0 + Duration::from_secs(19 * 30))
}

/// The pane's context over a recorded fleet (not read-only).
pub fn view_ctx<'a>(fleet: &'a Fleet, config: &'a Config, now: SystemTime, theme: &'a Theme) -> ViewCtx<'a> {
    ViewCtx {
        fleet,
        config,
        now,
        theme,
        read_only: false,
        revision: None,
    }
}

#[test]
fn pillow_row_partitions_and_chart_tell_the_story() {
    let (fleet, config, now) = fleet_and_config();
    let theme = Theme::builtin("default").unwrap();
    let ctx = view_ctx(&fleet, &config, now, &theme);
    let root = opsdeck_pillows::views::root();
    let table = root.table(&ctx);
    assert_eq!(table.rows.len(), 1);
    let row: Vec<&str> = table.rows[0].cells.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(row[0], "case-pillow");
    assert_eq!(row[2], "✗ STOP");
    assert_eq!(row[4], "2/4");
    assert_eq!(
        row[9], "unknown/2",
        "supervisor state is unknown until the hosts capability lands"
    );
    let header: Vec<String> = root.header(&ctx).into_iter().map(|(l, _)| l).collect();
    assert!(
        header
            .iter()
            .any(|l| l
                .contains("only partitions of process 1 lagging (case-sql:1, case-sql:3) → process 1 is backed up")),
        "{header:?}"
    );
    let offers = root.actions(&ctx, Some("case-pillow"));
    let restart = offers.iter().find(|o| o.name == "restart_pillow").unwrap();
    let plan = restart.plan.as_ref().unwrap();
    assert_eq!(
        plan.call,
        "ssh pillow1 -- sudo -n supervisorctl restart commcare-hq-prod-pillowtop-case-pillow-0 commcare-hq-prod-pillowtop-case-pillow-1"
    );

    let parts = root.drill(&ctx, "case-pillow").unwrap();
    let table = parts.table(&ctx);
    assert_eq!(table.rows.len(), 4);
    let p1 = table.rows.iter().find(|r| r.key == "case-sql:1").unwrap();
    let cells: Vec<&str> = p1.cells.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(&cells[..5], &["case-sql:1", "2,000", "0", "21,400", "19,400"]);
    assert_eq!(cells[6], "1");
    assert_eq!(cells[7], "✗ STOP");
    let offers = parts.actions(&ctx, Some("case-sql:3"));
    let restart = offers.iter().find(|o| o.name == "restart_process").unwrap();
    assert!(
        restart
            .plan
            .as_ref()
            .unwrap()
            .call
            .ends_with("restart commcare-hq-prod-pillowtop-case-pillow-1")
    );

    let detail = parts.drill(&ctx, "case-sql:1").unwrap();
    assert_eq!(detail.crumb(), "case-sql:1");
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|f| {
            assert!(detail.render_body(f, f.area(), &ctx, None));
        })
        .unwrap();
    let text: String = terminal
        .backend()
        .buffer()
        .content()
        .chunks(100)
        .map(|line| line.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect();
    assert!(text.contains("lag 19,400"), "{text}");
    assert!(text.contains("lag (changes) over the session"), "{text}");
    assert!(
        text.contains("STOP stopped: checkpoint on case-sql:1 has not moved"),
        "{text}"
    );
    assert!(text.contains("interpolated from sampled log ends"), "{text}");
}

#[test]
fn a_pillow_that_cannot_be_read_shows_its_error_over_the_last_good_data() {
    let (mut fleet, config, now) = fleet_and_config();
    let poll = PillowsPoll {
        pillows: vec![PillowReading {
            name: "case-pillow".into(),
            kind: CheckpointKind::KafkaGroup,
            checkpoint: "case".into(),
            assignment: Assignment {
                processes: 2,
                dedicated_migration_process: false,
            },
            processes: Vec::new(),
            result: Err(
                "Postgres reading pillowtop_kafkacheckpoint: relation \"pillowtop_kafkacheckpoint\" does not exist"
                    .into(),
            ),
        }],
        settings: config.pillows.settings(),
    };
    let folded = fold(&mut fleet.pillows.data.clone(), poll, now);
    fleet.apply(now, SourceUpdate::Pillows(Ok(folded)));
    let theme = Theme::builtin("default").unwrap();
    let ctx = view_ctx(&fleet, &config, now, &theme);
    let root = opsdeck_pillows::views::root();
    let table = root.table(&ctx);
    assert_eq!(table.rows[0].cells[0].text, "case-pillow ✗ error");
    // The last good numbers stay.
    assert_eq!(table.rows[0].cells[3].text, "38,800");
    let header: Vec<String> = root.header(&ctx).into_iter().map(|(l, _)| l).collect();
    assert!(
        header[0].starts_with("✗ case-pillow: Postgres reading pillowtop_kafkacheckpoint: relation"),
        "{header:?}"
    );
}
