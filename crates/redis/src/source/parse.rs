//! What the server answers, made into model types: `INFO`'s text, `SLOWLOG GET`, `LATENCY LATEST`,
//! `SCAN`/`SSCAN` pages, and kombu's binding entries. Anything that is not the command's shape is
//! a bad answer, never a panic.

use super::resp::Value;
use crate::model::{
    Clients, CpuTimes, DbKeys, Key, LatencyEvent, MasterLink, Memory, Persistence, RedisError, Replica, Replication,
    Role, ServerInfo, SlowEntry, Stats,
};
use std::collections::HashMap;

/// `INFO`'s `key:value` lines (section headers and blank lines skipped).
pub fn info_fields(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .collect()
}

fn info_text<'a>(answer: &'a Value, what: &str) -> Result<std::borrow::Cow<'a, str>, RedisError> {
    let bytes = answer
        .as_bytes()
        .ok_or_else(|| RedisError::bad_answer(format!("{what} did not answer text")))?;
    Ok(String::from_utf8_lossy(bytes))
}

/// `INFO`'s answer as [`ServerInfo`]. Fields a version lacks stay at their defaults; an answer
/// without `redis_version` is not INFO.
pub fn info(answer: &Value) -> Result<ServerInfo, RedisError> {
    let text = info_text(answer, "INFO")?;
    let f = info_fields(&text);
    let version = f
        .get("redis_version")
        .ok_or_else(|| RedisError::bad_answer("INFO has no redis_version"))?;
    Ok(ServerInfo {
        version: version.to_string(),
        mode: text_of(&f, "redis_mode"),
        run_id: text_of(&f, "run_id"),
        uptime_secs: num(&f, "uptime_in_seconds").unwrap_or(0),
        server_time_usec: num(&f, "server_time_usec"),
        cpu: CpuTimes {
            sys: num(&f, "used_cpu_sys").unwrap_or(0.0),
            user: num(&f, "used_cpu_user").unwrap_or(0.0),
            sys_main_thread: num(&f, "used_cpu_sys_main_thread"),
            user_main_thread: num(&f, "used_cpu_user_main_thread"),
        },
        memory: Memory {
            used: num(&f, "used_memory").unwrap_or(0),
            maxmemory: num(&f, "maxmemory").unwrap_or(0),
            policy: text_of(&f, "maxmemory_policy"),
            rss: num(&f, "used_memory_rss"),
            total_system: num(&f, "total_system_memory").filter(|t| *t > 0),
        },
        stats: Stats {
            instantaneous_ops_per_sec: num(&f, "instantaneous_ops_per_sec").unwrap_or(0),
            total_commands_processed: num(&f, "total_commands_processed").unwrap_or(0),
            evicted_keys: num(&f, "evicted_keys").unwrap_or(0),
            expired_keys: num(&f, "expired_keys").unwrap_or(0),
            rejected_connections: num(&f, "rejected_connections").unwrap_or(0),
        },
        clients: Clients {
            connected: num(&f, "connected_clients").unwrap_or(0),
            blocked: num(&f, "blocked_clients").unwrap_or(0),
            maxclients: num(&f, "maxclients"),
        },
        persistence: persistence(&f),
        replication: replication(&f),
        cluster_enabled: flag(&f, "cluster_enabled"),
        keyspace: keyspace(&f),
    })
}

/// `INFO persistence`'s answer: what a BGSAVE's verification reads, without the other sections.
pub fn info_persistence(answer: &Value) -> Result<Persistence, RedisError> {
    let text = info_text(answer, "INFO persistence")?;
    let f = info_fields(&text);
    if !f.contains_key("rdb_last_save_time") {
        return Err(RedisError::bad_answer("INFO persistence has no rdb_last_save_time"));
    }
    Ok(persistence(&f))
}

fn persistence(f: &HashMap<&str, &str>) -> Persistence {
    Persistence {
        loading: flag(f, "loading"),
        rdb_last_save_time: num(f, "rdb_last_save_time").unwrap_or(0),
        rdb_bgsave_in_progress: flag(f, "rdb_bgsave_in_progress"),
        rdb_last_bgsave_status: text_of(f, "rdb_last_bgsave_status"),
        rdb_saves: num(f, "rdb_saves"),
        rdb_changes_since_last_save: num(f, "rdb_changes_since_last_save").unwrap_or(0),
        rdb_current_bgsave_time_sec: num(f, "rdb_current_bgsave_time_sec").unwrap_or(-1),
        current_save_keys_processed: num(f, "current_save_keys_processed"),
        current_save_keys_total: num(f, "current_save_keys_total"),
        aof_enabled: flag(f, "aof_enabled"),
        aof_rewrite_in_progress: flag(f, "aof_rewrite_in_progress"),
        aof_last_write_status: text_of(f, "aof_last_write_status"),
        aof_last_bgrewrite_status: text_of(f, "aof_last_bgrewrite_status"),
    }
}

fn text_of(f: &HashMap<&str, &str>, key: &str) -> String {
    f.get(key).map(|v| v.to_string()).unwrap_or_default()
}

fn num<T: std::str::FromStr>(f: &HashMap<&str, &str>, key: &str) -> Option<T> {
    f.get(key)?.trim().parse().ok()
}

fn flag(f: &HashMap<&str, &str>, key: &str) -> bool {
    f.get(key).is_some_and(|v| v.trim() == "1")
}

/// `a=1,b=2` (a replica line, a keyspace line).
fn pairs(v: &str) -> HashMap<&str, &str> {
    v.split(',').filter_map(|p| p.split_once('=')).collect()
}

fn replication(f: &HashMap<&str, &str>) -> Replication {
    let role = match f.get("role").copied() {
        Some("master") => Role::Master,
        Some("slave") => Role::Replica,
        _ => Role::Unknown,
    };
    let mut replicas = Vec::new();
    let connected: usize = num(f, "connected_slaves").unwrap_or(0);
    // Listed as slave0..slaveN-1; bounded by what INFO says (and by a sane maximum).
    for i in 0..connected.min(1000) {
        let Some(line) = f.get(format!("slave{i}").as_str()) else {
            continue;
        };
        let p = pairs(line);
        replicas.push(Replica {
            ip: p.get("ip").unwrap_or(&"").to_string(),
            port: p.get("port").and_then(|v| v.parse().ok()).unwrap_or(0),
            state: p.get("state").unwrap_or(&"").to_string(),
            offset: p.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0),
            lag: p.get("lag").and_then(|v| v.parse().ok()),
        });
    }
    let master = (role == Role::Replica).then(|| MasterLink {
        host: text_of(f, "master_host"),
        port: num(f, "master_port").unwrap_or(0),
        link_status: text_of(f, "master_link_status"),
        last_io_seconds_ago: num(f, "master_last_io_seconds_ago").unwrap_or(-1),
        sync_in_progress: flag(f, "master_sync_in_progress"),
        down_since_seconds: num::<i64>(f, "master_link_down_since_seconds")
            .filter(|s| *s >= 0)
            .map(|s| s as u64),
        offset: num(f, "slave_repl_offset").unwrap_or(0),
    });
    Replication {
        role,
        master_repl_offset: num(f, "master_repl_offset").unwrap_or(0),
        replicas,
        master,
    }
}

fn keyspace(f: &HashMap<&str, &str>) -> Vec<DbKeys> {
    let mut dbs: Vec<DbKeys> = f
        .iter()
        .filter_map(|(k, v)| {
            let db = k.strip_prefix("db")?.parse().ok()?;
            let p = pairs(v);
            Some(DbKeys {
                db,
                keys: p.get("keys")?.parse().ok()?,
                expires: p.get("expires").and_then(|e| e.parse().ok()).unwrap_or(0),
            })
        })
        .collect();
    dbs.sort_by_key(|d| d.db);
    dbs
}

/// `SLOWLOG GET`: `[id, time, µs, [args], client, name]` per entry (the last two since Redis 4).
pub fn slowlog(answer: &Value) -> Result<Vec<SlowEntry>, RedisError> {
    let entries = answer
        .array()
        .ok_or_else(|| RedisError::bad_answer("SLOWLOG GET did not answer a list"))?;
    entries
        .iter()
        .map(|e| {
            let bad = || RedisError::bad_answer("a SLOWLOG entry is not [id, time, duration, args, ...]");
            let e = e.array().ok_or_else(bad)?;
            let int = |i: usize| e.get(i).and_then(Value::int).ok_or_else(bad);
            let args = e
                .get(3)
                .and_then(Value::array)
                .ok_or_else(bad)?
                .iter()
                .filter_map(Value::text)
                .collect();
            Ok(SlowEntry {
                id: int(0)?,
                at: int(1)?,
                duration_us: int(2)?,
                args,
                client: e.get(4).and_then(Value::text).unwrap_or_default(),
                client_name: e.get(5).and_then(Value::text).unwrap_or_default(),
            })
        })
        .collect()
}

/// `LATENCY LATEST`: `[event, time, latest ms, max ms]` per event.
pub fn latency_latest(answer: &Value) -> Result<Vec<LatencyEvent>, RedisError> {
    let rows = answer
        .array()
        .ok_or_else(|| RedisError::bad_answer("LATENCY LATEST did not answer a list"))?;
    rows.iter()
        .map(|r| {
            let bad = || RedisError::bad_answer("a LATENCY LATEST row is not [event, time, latest, max]");
            let r = r.array().ok_or_else(bad)?;
            let int = |i: usize| r.get(i).and_then(Value::int).ok_or_else(bad);
            Ok(LatencyEvent {
                event: r.first().and_then(Value::text).ok_or_else(bad)?,
                at: int(1)?,
                latest_ms: int(2)?.max(0) as u64,
                max_ms: int(3)?.max(0) as u64,
            })
        })
        .collect()
}

/// A `SCAN` or `SSCAN` page: the next cursor (0: done) and the keys or members.
pub fn scan_page(answer: &Value) -> Result<(u64, Vec<Key>), RedisError> {
    let bad = || RedisError::bad_answer("SCAN did not answer [cursor, [items]]");
    let parts = answer.array().ok_or_else(bad)?;
    let [cursor, items] = parts else {
        return Err(bad());
    };
    let cursor = cursor
        .as_bytes()
        .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
        .ok_or_else(bad)?;
    let items = items
        .array()
        .ok_or_else(bad)?
        .iter()
        .map(|i| i.as_bytes().map(|b| Key(b.to_vec())).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    Ok((cursor, items))
}

/// kombu's separator in binding entries and priority list names.
pub const KOMBU_SEP: &[u8] = b"\x06\x16";

/// The queue a kombu binding names (`routing_key SEP pattern SEP queue`, in `_kombu.binding.EXCHANGE`).
pub fn kombu_binding_queue(member: &[u8]) -> Option<String> {
    let mut rest = member;
    for _ in 0..2 {
        let at = rest.windows(2).position(|w| w == KOMBU_SEP)?;
        rest = &rest[at + 2..];
    }
    (!rest.is_empty())
        .then(|| std::str::from_utf8(rest).ok().map(str::to_string))
        .flatten()
}

/// What `TYPE` answered (`+list`, `+none`).
pub fn key_type(answer: &Value) -> Result<String, RedisError> {
    match answer {
        Value::Simple(s) => Ok(s.clone()),
        _ => Err(RedisError::bad_answer("TYPE did not answer a status")),
    }
}

/// What `LLEN` (or any counting command) answered.
pub fn count(answer: &Value) -> Result<u64, RedisError> {
    match answer {
        Value::Int(n) if *n >= 0 => Ok(*n as u64),
        _ => Err(RedisError::bad_answer("expected a count")),
    }
}
