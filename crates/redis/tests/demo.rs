//! The demo's Redis, driven through the pane's own client, analysis and actions: the runbook's
//! problem shows, moving the queue to a backup and re-queuing fixes it, and it stays fixed.

mod common;

use opsdeck_core::action::OutcomeResult;
use opsdeck_core::alert::Severity;
use opsdeck_redis::actions;
use opsdeck_redis::analysis::{Drain, Row, instance_verdicts, trend};
use opsdeck_redis::config::RedisConfig;
use opsdeck_redis::demo::DemoRedis;
use opsdeck_redis::model::{InstanceState, QueueKind};
use opsdeck_redis::source::conn::Settings;
use opsdeck_redis::source::poll::{InstanceSource, unix_now};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

struct Pane {
    src: InstanceSource,
    st: InstanceState,
    cfg: RedisConfig,
    settings: Settings,
}

impl Pane {
    fn new(demo: &DemoRedis) -> Self {
        let inst = demo.instance();
        let cfg = RedisConfig {
            instances: vec![inst.clone()],
            ..RedisConfig::default()
        };
        Self {
            src: InstanceSource::new(&inst, &cfg),
            st: InstanceState::new(&inst.name, &inst.address),
            settings: Settings::from_config(&inst).unwrap(),
            cfg,
        }
    }

    async fn poll(&mut self) {
        let p = self.src.poll().await;
        self.st.apply(p);
        assert_eq!(self.st.error, None);
    }

    /// Polls until `f` holds (a deadline, no fixed sleeps: each poll is a round trip).
    async fn poll_until(&mut self, limit: Duration, what: &str, f: impl Fn(&InstanceState) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            self.poll().await;
            if f(&self.st) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:#?}",
                self.verdicts()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn verdicts(&self) -> Vec<(Severity, String)> {
        instance_verdicts(&self.st, &self.cfg.instances[0], &self.cfg, unix_now())
            .into_iter()
            .map(|v| (v.severity, v.message))
            .collect()
    }

    fn celery(&self) -> (u64, Drain) {
        let q = self
            .st
            .queue("celery::celery")
            .expect("celery found through kombu's bindings");
        (q.reading.total(), trend(q.history.iter()).drain)
    }
}

#[tokio::test]
async fn the_stuck_celery_queue_is_shown_and_moving_it_then_requeuing_fixes_it_for_good() {
    let demo = DemoRedis::start().await.unwrap();
    let mut pane = Pane::new(&demo);
    pane.poll_until(Duration::from_secs(20), "the backlog to grow", |st| {
        st.rates().is_some()
            && st
                .queue("celery::celery")
                .is_some_and(|q| trend(q.history.iter()).drain == Drain::Growing)
    })
    .await;
    let v = pane.verdicts();
    assert_eq!(
        v[0],
        (
            Severity::Critical,
            "main thread at 0.96 of 1 core (2.4 % of the 40-core host): Redis runs commands on one core, so it is saturated and every client waits".into()
        )
    );
    assert!(
        v.iter()
            .any(|(_, m)| m.starts_with("1 KEYS call in the slow log, latest `KEYS *` by report-builder")),
        "{v:#?}"
    );
    let (backlog, _) = pane.celery();
    assert!(backlog > 4000, "{backlog}");
    // kombu's priority list is part of the queue.
    assert_eq!(pane.st.queue("celery::celery").unwrap().reading.non_empty().count(), 2);

    let plan = actions::plan_move_to_backup(&pane.st, "celery::celery", unix_now() as i64).unwrap();
    let out = actions::execute(&plan, &pane.settings, &mut |_| {}, &AtomicBool::new(false)).await;
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);

    pane.poll_until(Duration::from_secs(20), "the workers to resume", |st| {
        st.rates().is_some_and(|r| r.cpu_cores < 0.5)
    })
    .await;
    let backups: Vec<_> = pane
        .st
        .queues
        .iter()
        .filter(|q| q.reading.kind == QueueKind::Backup)
        .map(|q| q.reading.id())
        .collect();
    assert_eq!(backups.len(), 2, "{:#?}", pane.st.queues);
    assert!(
        pane.verdicts()
            .iter()
            .any(|(_, m)| m.contains("items parked in a backup: re-queue them to celery"))
    );
    for id in backups {
        let plan = actions::plan_requeue(&pane.st, &id, &pane.cfg).unwrap();
        let out = actions::execute(&plan, &pane.settings, &mut |_| {}, &AtomicBool::new(false)).await;
        assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
    }

    pane.poll_until(Duration::from_secs(60), "the re-queued backlog to drain", |st| {
        st.queue("celery::celery").is_none_or(|q| q.reading.lists[0].len < 100)
    })
    .await;
    // Fixed, and it stays so: no critical verdict, nothing parked, the queue no longer grows.
    pane.poll_until(Duration::from_secs(20), "a few more polls", |st| {
        st.queue("celery::celery").is_none_or(|q| q.history.len() >= 3)
    })
    .await;
    let v = pane.verdicts();
    assert!(v.iter().all(|(s, _)| *s < Severity::Critical), "{v:#?}");
    assert!(
        !v.iter().any(|(_, m)| m.contains("parked") || m.contains("growing")),
        "{v:#?}"
    );
    assert!(!pane.st.queues.iter().any(|q| q.reading.kind == QueueKind::Backup));
    let _ = Row::Instance;
}

#[tokio::test]
async fn the_demo_bgsave_is_verified_and_a_second_one_refused_while_it_runs() {
    let demo = DemoRedis::start().await.unwrap();
    let mut pane = Pane::new(&demo);
    pane.poll().await;
    let plan = actions::plan_bgsave(&pane.st, &pane.cfg).unwrap();
    let mut conn = common::connect(&demo.instance()).await;
    let settings = pane.settings.clone();
    let run =
        tokio::spawn(async move { actions::execute(&plan, &settings, &mut |_| {}, &AtomicBool::new(false)).await });
    pane.poll_until(Duration::from_secs(10), "the save to start", |st| {
        st.info.as_ref().is_some_and(|i| i.persistence.rdb_bgsave_in_progress)
    })
    .await;
    assert!(
        actions::plan_bgsave(&pane.st, &pane.cfg)
            .unwrap_err()
            .starts_with("a BGSAVE is already running on broker")
    );
    let again = conn
        .call(&opsdeck_redis::source::resp::Cmd::new("BGSAVE"))
        .await
        .unwrap_err();
    assert_eq!(again.message, "ERR Background save already in progress");
    let out = run.await.unwrap();
    assert_eq!(out.result, OutcomeResult::Succeeded, "{}", out.summary);
}
