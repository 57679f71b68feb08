//! The pane's remediations, each a plan made from the last poll (the exact redis-cli text, risk,
//! how it is verified, and the target's identity: the instance's `run_id` and each key's type and
//! length) and an execute that re-checks that identity on the server, runs the commands and
//! verifies their effect. Runbook 004: "clear the queue and unstick things by re-queuing" — moving
//! a queue to a backup key is offered first, clearing only with the count typed, and a re-queue
//! returns a backup to where it came from.

use crate::config::{End, RedisConfig};
use crate::model::{ErrorKind, InstanceState, Key, QueueKind, QueueState, RedisError};
use crate::source::conn::{Connection, Settings};
use crate::source::parse;
use crate::source::queues::BACKUP_MARK;
use crate::source::resp::{Cmd, Value};
use opsdeck_core::action::{Outcome, Risk};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a running action looks at the server again while it waits.
const RECHECK: Duration = Duration::from_millis(200);

/// One key as the plan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedKey {
    pub key: Key,
    pub key_type: String,
    pub len: u64,
}

/// What an execute does (its data fixed at plan time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Bgsave {
        last_save: i64,
        saves: Option<u64>,
    },
    /// `RENAME key backup` per non-empty list.
    MoveToBackup {
        moves: Vec<(PlannedKey, Key)>,
    },
    /// `UNLINK key` per non-empty list.
    Clear {
        keys: Vec<PlannedKey>,
    },
    /// `LMOVE backup origin FROM TO` until the backup is empty.
    Requeue {
        backup: PlannedKey,
        origin: Key,
        push_end: End,
        batch: u32,
        /// Redis before 6.2 has no LMOVE: RPOPLPUSH (right to left) then.
        lmove: bool,
    },
}

/// Everything a confirm dialog shows and an execute runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Stable id of the kind (`redis.move_to_backup`).
    pub action: &'static str,
    pub title: String,
    /// What it acts on (`broker/celery`); for high risk, what the user types.
    pub target: String,
    pub description: String,
    /// The exact commands, one per line, as typed into redis-cli.
    pub call: String,
    pub risk: Risk,
    pub verify: String,
    pub timeout: Duration,
    /// `run_id` and each key's type and length at plan time: a plan whose target changed is re-made.
    pub identity: String,
    pub run_id: String,
    pub op: Op,
}

impl Plan {
    pub fn needs_typed_confirmation(&self) -> bool {
        self.risk == Risk::High
    }
}

/// What a plan acts on: the server (its `run_id`) and each key's type and length.
fn identity(run_id: &str, keys: &[&PlannedKey]) -> String {
    let mut s = format!("run_id={run_id}");
    for k in keys {
        s.push_str(&format!("; {}={}:{}", k.key, k.key_type, k.len));
    }
    s
}

/// The same without lengths, for an action on a queue that moves while it is confirmed (a move
/// renames whatever the list holds: its recheck is the server and the types).
fn identity_of_types(run_id: &str, keys: &[&PlannedKey]) -> String {
    let mut s = format!("run_id={run_id}");
    for k in keys {
        s.push_str(&format!("; {}={}", k.key, k.key_type));
    }
    s
}

fn server_facts(inst: &InstanceState) -> Result<&crate::model::ServerInfo, String> {
    if let Some(e) = &inst.error {
        return Err(format!("{} is not answering: {e}", inst.name));
    }
    inst.info
        .as_ref()
        .ok_or_else(|| format!("{}: no INFO read yet", inst.name))
}

/// BGSAVE, verified by a newer save with status ok. A save already running is refused here.
pub fn plan_bgsave(inst: &InstanceState, cfg: &RedisConfig) -> Result<Plan, String> {
    let info = server_facts(inst)?;
    let p = &info.persistence;
    if p.rdb_bgsave_in_progress {
        return Err(format!(
            "a BGSAVE is already running on {} (for {} s): wait for it to finish",
            inst.name,
            p.rdb_current_bgsave_time_sec.max(0)
        ));
    }
    Ok(Plan {
        action: "redis.bgsave",
        title: format!("BGSAVE on {}", inst.name),
        target: inst.name.clone(),
        description: format!(
            "Write a snapshot of {} to disk in a forked child ({} changes since the last save).",
            inst.name, p.rdb_changes_since_last_save
        ),
        call: Cmd::new("BGSAVE").to_string(),
        risk: Risk::Low,
        verify: format!(
            "INFO persistence: no save running, rdb_last_save_time newer than {} (or rdb_saves above {}), rdb_last_bgsave_status ok",
            p.rdb_last_save_time,
            p.rdb_saves.map_or("–".into(), |s| s.to_string())
        ),
        timeout: cfg.bgsave_timeout.get(),
        identity: format!("run_id={}; last_save={}", info.run_id, p.rdb_last_save_time),
        run_id: info.run_id.clone(),
        op: Op::Bgsave {
            last_save: p.rdb_last_save_time,
            saves: p.rdb_saves,
        },
    })
}

fn queue_of<'a>(inst: &'a InstanceState, queue_id: &str) -> Result<&'a QueueState, String> {
    let q = inst
        .queue(queue_id)
        .ok_or_else(|| format!("no queue {queue_id} on {}", inst.name))?;
    if let Some(e) = &q.reading.error {
        return Err(format!("{}: {e}", q.reading.name));
    }
    Ok(q)
}

fn non_empty(q: &QueueState) -> Vec<PlannedKey> {
    q.reading
        .non_empty()
        .map(|l| PlannedKey {
            key: l.key.clone(),
            key_type: l.key_type.clone(),
            len: l.len,
        })
        .collect()
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time (UTC).
pub fn utc_stamp(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Redis Cluster's hash slot of a key (CRC16/XMODEM of the key or of its `{hash tag}`).
pub fn hash_slot(key: &[u8]) -> u16 {
    let mut hashed = key;
    if let Some(open) = key.iter().position(|&b| b == b'{')
        && let Some(len) = key[open + 1..].iter().position(|&b| b == b'}')
        && len > 0
    {
        hashed = &key[open + 1..open + 1 + len];
    }
    let mut crc: u16 = 0;
    for &b in hashed {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16_384
}

/// The backup key of `key` made at `unix`: `KEY:opsdeck-backup:STAMP`, and in cluster mode a
/// `-N` chosen so it hashes to the key's slot (RENAME cannot cross slots).
pub fn backup_key(key: &Key, unix: i64, cluster: bool) -> Key {
    let base = key.with_suffix(&[BACKUP_MARK, utc_stamp(unix).as_bytes()].concat());
    if !cluster || hash_slot(&base.0) == hash_slot(&key.0) {
        return base;
    }
    let want = hash_slot(&key.0);
    // 16384 slots: a match comes within a few tens of thousands of tries.
    (0u32..10_000_000)
        .map(|n| base.with_suffix(format!("-{n}").as_bytes()))
        .find(|k| hash_slot(&k.0) == want)
        .expect("CRC16 reaches every slot")
}

/// Move a queue's lists to fresh backup keys (offered first: nothing is lost, a re-queue undoes it).
pub fn plan_move_to_backup(inst: &InstanceState, queue_id: &str, now_unix: i64) -> Result<Plan, String> {
    let info = server_facts(inst)?;
    let q = queue_of(inst, queue_id)?;
    if q.reading.kind == QueueKind::Backup {
        return Err(format!("{} is already a backup: re-queue it instead", q.reading.name));
    }
    let keys = non_empty(q);
    if keys.is_empty() {
        return Err(format!("{} is empty: nothing to move", q.reading.name));
    }
    let moves: Vec<(PlannedKey, Key)> = keys
        .into_iter()
        .map(|k| {
            let b = backup_key(&k.key, now_unix, info.cluster_enabled);
            (k, b)
        })
        .collect();
    let total: u64 = moves.iter().map(|(k, _)| k.len).sum();
    let call = moves
        .iter()
        .map(|(k, b)| Cmd::new("RENAME").arg(k.key.bytes()).arg(b.bytes()).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let planned: Vec<&PlannedKey> = moves.iter().map(|(k, _)| k).collect();
    Ok(Plan {
        action: "redis.move_to_backup",
        title: format!("Move {} ({total} items) to a backup key", q.reading.name),
        target: format!("{}/{}", inst.name, q.reading.name),
        description: format!(
            "Rename {}'s {} list{} to fresh backup keys: workers see an empty queue and new work flows again; \
             the {total} items wait in the backup until you re-queue them.",
            q.reading.name,
            moves.len(),
            if moves.len() == 1 { "" } else { "s" }
        ),
        call,
        risk: Risk::Medium,
        verify: "each backup key is new before the RENAME; after it, the backup holds the count the list had \
                 and the queue holds 0 (or only new arrivals)"
            .into(),
        timeout: Duration::from_secs(30),
        identity: identity_of_types(&info.run_id, &planned),
        run_id: info.run_id.clone(),
        op: Op::MoveToBackup { moves },
    })
}

/// Delete a queue's lists (high risk: the queue's name typed, the item count shown).
pub fn plan_clear(inst: &InstanceState, queue_id: &str) -> Result<Plan, String> {
    let info = server_facts(inst)?;
    let q = queue_of(inst, queue_id)?;
    let keys = non_empty(q);
    if keys.is_empty() {
        return Err(format!("{} is empty: nothing to clear", q.reading.name));
    }
    let total: u64 = keys.iter().map(|k| k.len).sum();
    let call = keys
        .iter()
        .map(|k| Cmd::new("UNLINK").arg(k.key.bytes()).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let planned: Vec<&PlannedKey> = keys.iter().collect();
    Ok(Plan {
        action: "redis.clear_queue",
        title: format!("Clear {} — delete {total} items", q.reading.name),
        target: q.reading.name.clone(),
        description: format!(
            "Delete the {total} items of {} for good. Moving it to a backup key keeps them: prefer that.",
            q.reading.name
        ),
        call,
        risk: Risk::High,
        verify: "LLEN of each list is 0".into(),
        timeout: Duration::from_secs(30),
        identity: identity(&info.run_id, &planned),
        run_id: info.run_id.clone(),
        op: Op::Clear { keys },
    })
}

/// Return a backup's items to the list it came from, oldest first, at the end producers push to.
pub fn plan_requeue(inst: &InstanceState, backup_id: &str, cfg: &RedisConfig) -> Result<Plan, String> {
    let info = server_facts(inst)?;
    let q = queue_of(inst, backup_id)?;
    let (QueueKind::Backup, Some(origin)) = (q.reading.kind, &q.reading.origin) else {
        return Err(format!("{} is not an opsdeck backup key", q.reading.name));
    };
    let [backup] = non_empty(q)
        .try_into()
        .map_err(|_| format!("{} is empty", q.reading.name))?;
    // Discovery gave the backup its origin's push end (by the layout the origin's name follows).
    let push_end = q.reading.push_end;
    let lmove = info.version_at_least(6, 2);
    if !lmove && push_end == End::Right {
        return Err(format!(
            "Redis {} has no LMOVE, and RPOPLPUSH cannot push to the right end {origin} needs",
            info.version
        ));
    }
    let cmd = requeue_cmd(&backup.key, origin, push_end, lmove);
    Ok(Plan {
        action: "redis.requeue",
        title: format!("Re-queue {} items to {origin}", backup.len),
        target: format!("{}/{}", inst.name, q.reading.name),
        description: format!(
            "Move the {} items of {} back to {origin}, oldest first, {} per round trip, pushed at the {} end \
             where its producers push.",
            backup.len,
            backup.key,
            cfg.requeue_batch,
            push_end.word().to_lowercase()
        ),
        call: format!("{cmd}    (repeated until it answers nil, at most {} times)", backup.len),
        risk: Risk::Medium,
        verify: format!("{} is empty and {} items moved", backup.key, backup.len),
        timeout: cfg.requeue_timeout.get(),
        identity: identity(&info.run_id, &[&backup]),
        run_id: info.run_id.clone(),
        op: Op::Requeue {
            backup,
            origin: origin.clone(),
            push_end,
            batch: cfg.requeue_batch,
            lmove,
        },
    })
}

fn requeue_cmd(backup: &Key, origin: &Key, push_end: End, lmove: bool) -> Cmd {
    if lmove {
        Cmd::new("LMOVE")
            .arg(backup.bytes())
            .arg(origin.bytes())
            .arg(push_end.other().word())
            .arg(push_end.word())
    } else {
        Cmd::new("RPOPLPUSH").arg(backup.bytes()).arg(origin.bytes())
    }
}

/// Words for an action the server refused: the user lacking the permission says so.
fn refused(e: &RedisError, settings: &Settings) -> String {
    match e.kind {
        ErrorKind::Unauthorised => format!(
            "the user {} lacks the permission: {}",
            settings.user.as_deref().unwrap_or("default"),
            e.message
        ),
        _ => e.to_string(),
    }
}

/// Runs a plan on its own connection and verifies its effect. `progress` hears how far a long
/// action got; `stop` set ends a re-queue between round trips.
pub async fn execute(
    plan: &Plan,
    settings: &Settings,
    progress: &mut (dyn FnMut(String) + Send),
    stop: &AtomicBool,
) -> Outcome {
    let deadline = Instant::now() + plan.timeout;
    let mut conn = match Connection::open(settings).await {
        Ok(c) => c,
        Err(e) => return Outcome::failed(format!("not run: {}", refused(&e, settings))),
    };
    match run(plan, &mut conn, deadline, progress, stop).await {
        Ok(o) => o,
        Err(e) => Outcome::failed(refused(&e, settings)),
    }
}

/// The server's `run_id` now, and each key's type and length.
async fn current(conn: &mut Connection, keys: &[&Key]) -> Result<(String, Vec<(String, u64)>), RedisError> {
    let mut cmds = vec![Cmd::new("INFO").arg("server")];
    for k in keys {
        cmds.push(Cmd::new("TYPE").arg(k.bytes()));
        cmds.push(Cmd::new("LLEN").arg(k.bytes()));
    }
    let mut answers = conn.pipeline(&cmds).await?.into_iter();
    let info = parse::info(&answers.next().expect("one answer per command")?)?;
    let mut out = Vec::new();
    for _ in keys {
        let t = parse::key_type(&answers.next().expect("one answer per command")?)?;
        let n = answers.next().expect("one answer per command");
        // LLEN on a key of another type is an error answer: the type says what it is.
        let n = if t == "list" || t == "none" {
            parse::count(&n?)?
        } else {
            0
        };
        out.push((t, n));
    }
    Ok((info.run_id, out))
}

/// Stops with words when the server restarted or a key is no longer what the plan saw.
/// `exact_len`: the length must not have changed either (a clear deletes what was confirmed).
async fn recheck(
    plan: &Plan,
    conn: &mut Connection,
    keys: &[&PlannedKey],
    exact_len: bool,
) -> Result<Option<Outcome>, RedisError> {
    let (run_id, now) = current(conn, &keys.iter().map(|k| &k.key).collect::<Vec<_>>()).await?;
    if run_id != plan.run_id {
        return Ok(Some(Outcome::failed(
            "not run: the server restarted since the plan (its run_id changed): re-plan",
        )));
    }
    for (k, (t, n)) in keys.iter().zip(now) {
        if t != k.key_type {
            return Ok(Some(Outcome::failed(format!(
                "not run: {} is now a {t}, not the {} planned: re-plan",
                k.key, k.key_type
            ))));
        }
        if exact_len && n != k.len {
            return Ok(Some(Outcome::failed(format!(
                "not run: {} now holds {n} items, not the {} confirmed: re-plan",
                k.key, k.len
            ))));
        }
    }
    Ok(None)
}

async fn run(
    plan: &Plan,
    conn: &mut Connection,
    deadline: Instant,
    progress: &mut (dyn FnMut(String) + Send),
    stop: &AtomicBool,
) -> Result<Outcome, RedisError> {
    match &plan.op {
        Op::Bgsave { last_save, saves } => {
            if let Some(o) = recheck(plan, conn, &[], false).await? {
                return Ok(o);
            }
            conn.call(&Cmd::new("BGSAVE")).await?;
            progress("BGSAVE started".into());
            loop {
                let p = parse::info_persistence(&conn.call(&Cmd::new("INFO").arg("persistence")).await?)?;
                let newer =
                    p.rdb_last_save_time > *last_save || matches!((p.rdb_saves, saves), (Some(n), Some(o)) if n > *o);
                if !p.rdb_bgsave_in_progress && newer {
                    return Ok(if p.rdb_last_bgsave_status == "ok" {
                        Outcome::succeeded(format!(
                            "saved: rdb_last_save_time {} (was {last_save}), status ok",
                            p.rdb_last_save_time
                        ))
                    } else {
                        Outcome::failed(format!(
                            "the BGSAVE ran and failed (rdb_last_bgsave_status:{}): see the server's log",
                            p.rdb_last_bgsave_status
                        ))
                    });
                }
                if let (Some(done), Some(all)) = (p.current_save_keys_processed, p.current_save_keys_total)
                    && p.rdb_bgsave_in_progress
                {
                    progress(format!("saving: {done} of {all} keys"));
                }
                if Instant::now() >= deadline {
                    return Ok(Outcome::unverified(format!(
                        "BGSAVE started but no newer save within {} s",
                        plan.timeout.as_secs()
                    )));
                }
                tokio::time::sleep(RECHECK).await;
            }
        }
        Op::MoveToBackup { moves } => {
            let planned: Vec<&PlannedKey> = moves.iter().map(|(k, _)| k).collect();
            if let Some(o) = recheck(plan, conn, &planned, false).await? {
                return Ok(o);
            }
            let exists: Vec<Cmd> = moves.iter().map(|(_, b)| Cmd::new("EXISTS").arg(b.bytes())).collect();
            for ((_, b), a) in moves.iter().zip(conn.pipeline(&exists).await?) {
                if a?.int() != Some(0) {
                    return Ok(Outcome::failed(format!("not run: the backup key {b} already exists")));
                }
            }
            // Counted right before each RENAME, in one pipeline: what the backup must then hold.
            let mut cmds = Vec::new();
            for (k, b) in moves {
                cmds.push(Cmd::new("LLEN").arg(k.key.bytes()));
                cmds.push(Cmd::new("RENAME").arg(k.key.bytes()).arg(b.bytes()));
            }
            let mut answers = conn.pipeline(&cmds).await?.into_iter();
            let mut counted = Vec::new();
            let mut done = Vec::new();
            for (k, b) in moves {
                let n = parse::count(&answers.next().expect("one answer per command")?)?;
                match answers.next().expect("one answer per command") {
                    Ok(_) => {
                        counted.push(n);
                        done.push((k, b));
                    }
                    // Refused before anything moved: the caller words the missing permission.
                    Err(e) if done.is_empty() && e.kind == ErrorKind::Unauthorised => return Err(e),
                    Err(e) => {
                        let moved = done.iter().map(|(k, b)| format!("{} → {b}", k.key)).collect::<Vec<_>>();
                        return Ok(Outcome::failed(format!(
                            "RENAME {} failed: {e}{}",
                            k.key,
                            if moved.is_empty() {
                                String::new()
                            } else {
                                format!(" (already moved: {})", moved.join(", "))
                            }
                        )));
                    }
                }
            }
            let verify: Vec<Cmd> = done
                .iter()
                .flat_map(|(k, b)| [Cmd::new("LLEN").arg(k.key.bytes()), Cmd::new("LLEN").arg(b.bytes())])
                .collect();
            let mut answers = conn.pipeline(&verify).await?.into_iter();
            let mut words = Vec::new();
            let mut ok = true;
            // What moved is what the lists held at the RENAME (the queue kept moving since the plan).
            let total: u64 = counted.iter().sum();
            for ((k, b), n) in done.iter().zip(counted) {
                let left = parse::count(&answers.next().expect("one answer per command")?)?;
                let held = parse::count(&answers.next().expect("one answer per command")?)?;
                ok &= held == n;
                words.push(format!("{} → {b}: {held} of {n} items, {} now {left}", k.key, k.key));
            }
            Ok(if ok {
                Outcome::succeeded(format!("moved {total} items: {}", words.join("; ")))
            } else {
                Outcome::unverified(format!("moved, but the counts differ: {}", words.join("; ")))
            })
        }
        Op::Clear { keys } => {
            let planned: Vec<&PlannedKey> = keys.iter().collect();
            if let Some(o) = recheck(plan, conn, &planned, true).await? {
                return Ok(o);
            }
            let cmds: Vec<Cmd> = keys.iter().map(|k| Cmd::new("UNLINK").arg(k.key.bytes())).collect();
            for (k, a) in keys.iter().zip(conn.pipeline(&cmds).await?) {
                if let Err(e) = a {
                    if e.kind == ErrorKind::Unauthorised {
                        return Err(e);
                    }
                    return Ok(Outcome::failed(format!("UNLINK {} failed: {e}", k.key)));
                }
            }
            let lens: Vec<Cmd> = keys.iter().map(|k| Cmd::new("LLEN").arg(k.key.bytes())).collect();
            let mut left = Vec::new();
            for (k, a) in keys.iter().zip(conn.pipeline(&lens).await?) {
                let n = parse::count(&a?)?;
                if n > 0 {
                    left.push(format!("{} holds {n} new items", k.key));
                }
            }
            let total: u64 = keys.iter().map(|k| k.len).sum();
            Ok(if left.is_empty() {
                Outcome::succeeded(format!("cleared {total} items: LLEN 0"))
            } else {
                Outcome::unverified(format!("deleted {total} items, but {}", left.join(", ")))
            })
        }
        Op::Requeue {
            backup,
            origin,
            push_end,
            batch,
            lmove,
        } => {
            if let Some(o) = recheck(plan, conn, &[backup], false).await? {
                return Ok(o);
            }
            let cmd = requeue_cmd(&backup.key, origin, *push_end, *lmove);
            let mut moved: u64 = 0;
            // Bounded: never more round trips than the planned items need (the backup is ours).
            while moved < backup.len {
                if stop.load(Ordering::SeqCst) {
                    return Ok(Outcome::stopped(format!(
                        "stopped after moving {moved} of {} items to {origin}; the rest stay in {}",
                        backup.len, backup.key
                    )));
                }
                if Instant::now() >= deadline {
                    return Ok(Outcome::unverified(format!(
                        "timed out after moving {moved} of {} items to {origin}",
                        backup.len
                    )));
                }
                let n = (backup.len - moved).min(u64::from(*batch)) as usize;
                let answers = conn.pipeline(&vec![cmd.clone(); n]).await?;
                let mut empty = false;
                for a in answers {
                    match a {
                        Ok(Value::Nil) => empty = true,
                        Ok(_) => moved += 1,
                        Err(e) if moved == 0 && e.kind == ErrorKind::Unauthorised => return Err(e),
                        Err(e) => {
                            return Ok(Outcome::failed(format!(
                                "{cmd} failed after {moved} items moved: {}",
                                e
                            )));
                        }
                    }
                }
                progress(format!("re-queued {moved} of {}", backup.len));
                if empty {
                    break;
                }
            }
            let left = parse::count(&conn.call(&Cmd::new("LLEN").arg(backup.key.bytes())).await?)?;
            let origin_len = parse::count(&conn.call(&Cmd::new("LLEN").arg(origin.bytes())).await?)?;
            Ok(if left == 0 && moved == backup.len {
                Outcome::succeeded(format!(
                    "re-queued {moved} items to {origin} (now {origin_len}); {} is empty and gone",
                    backup.key
                ))
            } else {
                Outcome::unverified(format!(
                    "moved {moved} of {} planned items to {origin}; {} still holds {left}",
                    backup.len, backup.key
                ))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        // date -u -d @1796061792 +%Y%m%dT%H%M%SZ
        assert_eq!(utc_stamp(1_796_061_792), "20261130T180312Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn slots_follow_the_cluster_spec() {
        // The Redis Cluster specification's CRC16 check value: "123456789" → 0x31C3.
        assert_eq!(hash_slot(b"123456789"), 0x31C3);
        assert_eq!(hash_slot(b"{user1000}.following"), hash_slot(b"user1000"));
        let k = Key::from("celery");
        let b = backup_key(&k, 1_796_061_792, true);
        assert_eq!(hash_slot(&b.0), hash_slot(b"celery"));
        assert!(
            b.to_string().starts_with("celery:opsdeck-backup:20261130T180312Z-"),
            "{b}"
        );
        assert_eq!(
            backup_key(&k, 0, false),
            Key::from("celery:opsdeck-backup:19700101T000000Z")
        );
    }
}

/// A plan as the console runs it: on the instance it was made for, with the clients the console
/// holds (the instance's login), its progress in the action's status and its stop as the action's.
#[derive(Debug, Clone)]
pub struct RedisOperation {
    pub instance: String,
    pub plan: Plan,
}

impl Plan {
    /// The console's plan: shown verbatim in the confirm dialog, written to the audit log, bound to
    /// the identity (`run_id`, each key's type and length) this plan saw.
    pub fn into_action(self, instance: &str) -> opsdeck_core::action::ActionPlan {
        opsdeck_core::action::ActionPlan {
            action: self.action.into(),
            title: self.title.clone(),
            target: self.target.clone(),
            description: self.description.clone(),
            call: self.call.clone(),
            risk: self.risk,
            verify: self.verify.clone(),
            timeout: self.timeout,
            identity: self.identity.clone(),
            op: std::sync::Arc::new(RedisOperation {
                instance: instance.into(),
                plan: self,
            }),
        }
    }
}

impl opsdeck_core::action::Operation for RedisOperation {
    fn run<'a>(&'a self, ctx: &'a opsdeck_core::action::ActionCtx) -> futures::future::BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(backend) = ctx.backends.of::<crate::Redis>() else {
                return Outcome::failed("Redis is not configured in this opsdeck");
            };
            let settings = match backend.settings(&self.instance) {
                Ok(s) => s,
                Err(e) => return Outcome::failed(format!("not run: {e}")),
            };
            let stop = AtomicBool::new(false);
            let mut progress = |message: String| ctx.report(message, None);
            let run = execute(&self.plan, settings, &mut progress, &stop);
            tokio::pin!(run);
            // A stop asked for in the console ends a re-queue between its round trips.
            loop {
                tokio::select! {
                    outcome = &mut run => return outcome,
                    _ = ctx.cancel.cancelled(), if !stop.load(Ordering::SeqCst) => stop.store(true, Ordering::SeqCst),
                }
            }
        })
    }
}
