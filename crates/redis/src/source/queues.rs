//! Which lists are queues: named in the config, found in the sets that Resque, Sidekiq and kombu
//! keep, or matched by `SCAN ... MATCH` (never `KEYS`). Scans are bounded per poll: a cursor left
//! half-way is taken up by the next poll, and what a whole pass found is remembered until the
//! next pass ends.

use super::conn::Connection;
use super::parse;
use super::resp::Cmd;
use crate::config::{End, InstanceConfig};
use crate::model::{Key, ListReading, PartError, QueueKind, QueueReading, RedisError};
use std::collections::{BTreeMap, BTreeSet};

/// What opsdeck's backup keys hold between the list's name and the time.
pub const BACKUP_MARK: &[u8] = b":opsdeck-backup:";
/// kombu's priority lists: `NAME\x06\x16N` for N in 1..=9 (steps 3, 6, 9 by default).
const KOMBU_PRIORITIES: std::ops::RangeInclusive<u8> = 1..=9;
/// Most members read from one set per poll (Resque's and Sidekiq's queue sets are small).
const SET_PAGE: u32 = 1000;

/// The list a backup key was made from (`celery:opsdeck-backup:20250101T000000Z` → `celery`).
pub fn backup_origin(key: &[u8]) -> Option<Key> {
    let at = key.windows(BACKUP_MARK.len()).rposition(|w| w == BACKUP_MARK)?;
    (at > 0).then(|| Key(key[..at].to_vec()))
}

/// `text` with the glob characters of `SCAN MATCH` escaped.
pub fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether `text` matches the glob `pattern` as `SCAN ... MATCH` reads it: `*`, `?`, `[abc]`,
/// `[^a-z]`, and `\` escaping the next character.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it stands for so far.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => class(pattern, p, text[t]),
            Some(b'\\') if p + 1 < pattern.len() => (pattern[p + 1] == text[t]).then_some(p + 2),
            Some(&c) => (c == text[t]).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                p = next;
                t += 1;
            }
            (None, Some((sp, st))) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A `[...]` class at `pattern[open]` against `c`: the position after it when `c` is in it.
fn class(pattern: &[u8], open: usize, c: u8) -> Option<usize> {
    let mut i = open + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    while i < pattern.len() && pattern[i] != b']' {
        if pattern[i] == b'\\' && i + 1 < pattern.len() {
            hit |= pattern[i + 1] == c;
            i += 2;
        } else if i + 2 < pattern.len() && pattern[i + 1] == b'-' && pattern[i + 2] != b']' {
            let (a, b) = (pattern[i].min(pattern[i + 2]), pattern[i].max(pattern[i + 2]));
            hit |= (a..=b).contains(&c);
            i += 3;
        } else {
            hit |= pattern[i] == c;
            i += 1;
        }
    }
    (hit != negate).then_some((i + 1).min(pattern.len()))
}

/// One cursor walk (`SCAN` over keys, or `SSCAN` over a set), resumed across polls.
#[derive(Debug, Default)]
struct Walk {
    cursor: u64,
    /// Found so far in the pass under way, and in the last whole pass.
    this_pass: BTreeSet<Key>,
    last_pass: BTreeSet<Key>,
    /// The pass under way ended in this poll (do not start another until the next poll).
    done_this_poll: bool,
}

impl Walk {
    fn found(&self) -> impl Iterator<Item = &Key> {
        self.this_pass.union(&self.last_pass)
    }

    fn take_page(&mut self, cursor: u64, items: Vec<Key>) {
        self.this_pass.extend(items);
        self.cursor = cursor;
        if cursor == 0 {
            self.last_pass = std::mem::take(&mut self.this_pass);
            self.done_this_poll = true;
        }
    }
}

/// What a walk is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum WalkOf {
    /// Keys matching a pattern.
    Keys(String),
    /// Members of a set.
    Members(Key),
}

/// The queues of one instance, discovered over polls.
#[derive(Debug)]
pub struct Discovery {
    cfg: InstanceConfig,
    walks: BTreeMap<WalkOf, Walk>,
}

const KOMBU_BINDINGS: &str = "_kombu.binding.*";

fn resque_prefix(ns: &str) -> String {
    format!("{ns}:")
}

fn sidekiq_prefix(ns: &str) -> String {
    if ns.is_empty() { String::new() } else { format!("{ns}:") }
}

fn backups_pattern() -> String {
    format!("*{}*", String::from_utf8_lossy(BACKUP_MARK))
}

impl Discovery {
    pub fn new(cfg: &InstanceConfig) -> Self {
        let mut walks = BTreeMap::new();
        let mut keys = |p: String| {
            walks.insert(WalkOf::Keys(p), Walk::default());
        };
        keys(backups_pattern());
        for p in &cfg.queue_patterns {
            keys(p.clone());
        }
        for ns in &cfg.resque_namespaces {
            keys(format!("{}queue:*", glob_escape(&resque_prefix(ns))));
        }
        for ns in &cfg.sidekiq_namespaces {
            keys(format!("{}queue:*", glob_escape(&sidekiq_prefix(ns))));
        }
        if cfg.celery_discover {
            keys(KOMBU_BINDINGS.into());
        }
        for ns in &cfg.resque_namespaces {
            walks.insert(
                WalkOf::Members(Key::from(format!("{}queues", resque_prefix(ns)).as_str())),
                Walk::default(),
            );
        }
        for ns in &cfg.sidekiq_namespaces {
            walks.insert(
                WalkOf::Members(Key::from(format!("{}queues", sidekiq_prefix(ns)).as_str())),
                Walk::default(),
            );
        }
        Self {
            cfg: cfg.clone(),
            walks,
        }
    }

    fn found(&self, of: &WalkOf) -> Vec<Key> {
        self.walks
            .get(of)
            .map(|w| w.found().cloned().collect())
            .unwrap_or_default()
    }

    /// Which end producers push to on `list`, by the layout its name follows: a backup knows it even
    /// when the list it came from is gone (moved away, and not named in a set we may read).
    fn push_end_of(&self, list: &Key) -> End {
        let cfg = &self.cfg;
        let under = |prefix: String| list.0.starts_with(format!("{prefix}queue:").as_bytes());
        if cfg.resque_namespaces.iter().any(|ns| under(resque_prefix(ns))) {
            End::Right
        } else if cfg.sidekiq_namespaces.iter().any(|ns| under(sidekiq_prefix(ns))) {
            End::Left
        } else if cfg.queue_keys.iter().any(|k| k.as_bytes() == list.bytes())
            || cfg
                .queue_patterns
                .iter()
                .any(|p| glob_match(p.as_bytes(), list.bytes()))
        {
            cfg.push_end
        } else {
            // Celery (kombu LPUSHes), and lists of no known layout.
            End::Left
        }
    }

    /// kombu's binding sets come and go with the keys that name them.
    fn follow_kombu_bindings(&mut self) {
        if !self.cfg.celery_discover {
            return;
        }
        let sets: BTreeSet<Key> = self.found(&WalkOf::Keys(KOMBU_BINDINGS.into())).into_iter().collect();
        self.walks.retain(
            |of, _| !matches!(of, WalkOf::Members(k) if k.0.starts_with(b"_kombu.binding.") && !sets.contains(k)),
        );
        for set in sets {
            self.walks.entry(WalkOf::Members(set)).or_default();
        }
    }

    /// Advances every walk by up to `scan_calls` pages, one pipelined round trip per page. A
    /// refused or failed walk is reported and the others go on; a broken connection ends the poll.
    pub async fn advance(&mut self, conn: &mut Connection, errors: &mut Vec<PartError>) -> Result<(), RedisError> {
        for walk in self.walks.values_mut() {
            walk.done_this_poll = false;
        }
        let count = self.cfg.scan_count.to_string();
        let mut failed: BTreeSet<WalkOf> = BTreeSet::new();
        for _ in 0..self.cfg.scan_calls {
            // A binding set found by the last page is read in this same poll.
            self.follow_kombu_bindings();
            let due: Vec<WalkOf> = self
                .walks
                .iter()
                .filter(|(of, w)| !w.done_this_poll && !failed.contains(*of))
                .map(|(of, _)| of.clone())
                .collect();
            if due.is_empty() {
                break;
            }
            let cmds: Vec<Cmd> = due
                .iter()
                .map(|of| {
                    let cursor = self.walks[of].cursor.to_string();
                    match of {
                        WalkOf::Keys(p) => Cmd::new("SCAN")
                            .arg(cursor)
                            .arg("MATCH")
                            .arg(p)
                            .arg("COUNT")
                            .arg(&count),
                        WalkOf::Members(set) => Cmd::new("SSCAN")
                            .arg(set.bytes())
                            .arg(cursor)
                            .arg("COUNT")
                            .arg(SET_PAGE.to_string()),
                    }
                })
                .collect();
            let answers = conn.pipeline(&cmds).await?;
            for ((of, cmd), answer) in due.into_iter().zip(&cmds).zip(answers) {
                match answer.and_then(|a| parse::scan_page(&a)) {
                    Ok((cursor, items)) => {
                        if let Some(w) = self.walks.get_mut(&of) {
                            w.take_page(cursor, items)
                        }
                    }
                    Err(error) => {
                        let part = match &of {
                            WalkOf::Keys(p) => format!("SCAN MATCH {p}"),
                            WalkOf::Members(_) => cmd.to_string(),
                        };
                        errors.push(PartError { part, error });
                        failed.insert(of);
                    }
                }
            }
        }
        Ok(())
    }

    /// The queues known now, each with the lists to read, in a stable order (layouts first, then
    /// named keys, patterns and backups); at most `max_queues`.
    pub fn queues(&self, errors: &mut Vec<PartError>) -> Vec<QueueReading> {
        let cfg = &self.cfg;
        let mut out: Vec<QueueReading> = Vec::new();
        let mut seen: BTreeSet<Key> = BTreeSet::new();
        let mut add = |out: &mut Vec<QueueReading>,
                       name: String,
                       kind: QueueKind,
                       namespace: Option<&str>,
                       push_end: End,
                       keys: Vec<Key>,
                       origin: Option<Key>,
                       matched: bool| {
            if keys.iter().any(|k| seen.contains(k)) {
                return;
            }
            seen.extend(keys.iter().cloned());
            out.push(QueueReading {
                name,
                kind,
                namespace: namespace.map(str::to_string),
                push_end,
                lists: keys
                    .into_iter()
                    .map(|key| ListReading {
                        key,
                        key_type: String::new(),
                        len: 0,
                    })
                    .collect(),
                origin,
                error: None,
                matched,
            });
        };

        // Celery: the configured names and those kombu's bindings name.
        let mut celery: BTreeSet<String> = BTreeSet::new();
        let mut celery_order: Vec<String> = Vec::new();
        for n in &cfg.celery_queues {
            if celery.insert(n.clone()) {
                celery_order.push(n.clone());
            }
        }
        for (of, walk) in &self.walks {
            if let WalkOf::Members(set) = of
                && set.0.starts_with(b"_kombu.binding.")
            {
                for m in walk.found() {
                    if let Some(q) = parse::kombu_binding_queue(&m.0)
                        && celery.insert(q.clone())
                    {
                        celery_order.push(q);
                    }
                }
            }
        }
        for name in celery_order {
            let base = Key::from(name.as_str());
            let mut keys = vec![base.clone()];
            keys.extend(
                KOMBU_PRIORITIES.map(|p| base.with_suffix(&[parse::KOMBU_SEP, p.to_string().as_bytes()].concat())),
            );
            add(&mut out, name, QueueKind::Celery, None, End::Left, keys, None, false);
        }

        // Resque and Sidekiq: names from their set, and lists found under their prefix.
        let layouts = cfg
            .resque_namespaces
            .iter()
            .map(|ns| (QueueKind::Resque, ns, resque_prefix(ns), End::Right))
            .chain(
                cfg.sidekiq_namespaces
                    .iter()
                    .map(|ns| (QueueKind::Sidekiq, ns, sidekiq_prefix(ns), End::Left)),
            );
        for (kind, ns, prefix, end) in layouts {
            let list_prefix = format!("{prefix}queue:");
            let mut names: BTreeSet<String> = self
                .found(&WalkOf::Members(Key::from(format!("{prefix}queues").as_str())))
                .into_iter()
                .filter_map(|m| String::from_utf8(m.0).ok())
                .collect();
            let pattern = format!("{}queue:*", glob_escape(&prefix));
            names.extend(self.found(&WalkOf::Keys(pattern)).into_iter().filter_map(|k| {
                // Our backups of these lists match the pattern too: they are listed as backups.
                if backup_origin(&k.0).is_some() {
                    return None;
                }
                let rest = k.0.strip_prefix(list_prefix.as_bytes())?;
                String::from_utf8(rest.to_vec()).ok()
            }));
            for name in names {
                let key = Key::from(format!("{list_prefix}{name}").as_str());
                add(&mut out, name, kind, Some(ns), end, vec![key], None, false);
            }
            if kind == QueueKind::Resque {
                let failed = format!("{prefix}failed");
                add(
                    &mut out,
                    failed.clone(),
                    QueueKind::ResqueFailed,
                    Some(ns),
                    End::Right,
                    vec![Key::from(failed.as_str())],
                    None,
                    false,
                );
            }
        }

        for k in &cfg.queue_keys {
            add(
                &mut out,
                k.clone(),
                QueueKind::List,
                None,
                cfg.push_end,
                vec![Key::from(k.as_str())],
                None,
                false,
            );
        }
        for p in &cfg.queue_patterns {
            for key in self.found(&WalkOf::Keys(p.clone())) {
                if backup_origin(&key.0).is_some() {
                    continue;
                }
                add(
                    &mut out,
                    key.to_string(),
                    QueueKind::List,
                    None,
                    cfg.push_end,
                    vec![key],
                    None,
                    true,
                );
            }
        }
        for key in self.found(&WalkOf::Keys(backups_pattern())) {
            let origin = backup_origin(&key.0);
            let end = origin.as_ref().map_or(End::Left, |o| self.push_end_of(o));
            add(
                &mut out,
                key.to_string(),
                QueueKind::Backup,
                None,
                end,
                vec![key],
                origin,
                true,
            );
        }

        if out.len() > cfg.max_queues {
            errors.push(PartError {
                part: "queues".into(),
                error: RedisError::new(
                    crate::model::ErrorKind::Setup,
                    format!(
                        "{} more queues than max_queues ({}) are not shown",
                        out.len() - cfg.max_queues,
                        cfg.max_queues
                    ),
                ),
            });
            out.truncate(cfg.max_queues);
        }
        out
    }
}

/// Reads each queue's lists (`TYPE` and `LLEN`, pipelined). A list of another type is the queue's
/// error; a found key that is not a list (a pattern matched a hash) drops out.
pub async fn read_lengths(conn: &mut Connection, queues: &mut Vec<QueueReading>) -> Result<(), RedisError> {
    let cmds: Vec<Cmd> = queues
        .iter()
        .flat_map(|q| &q.lists)
        .flat_map(|l| [Cmd::new("TYPE").arg(l.key.bytes()), Cmd::new("LLEN").arg(l.key.bytes())])
        .collect();
    let mut answers = conn.pipeline(&cmds).await?.into_iter();
    for q in queues.iter_mut() {
        for l in &mut q.lists {
            let (t, n) = (answers.next(), answers.next());
            let (Some(t), Some(n)) = (t, n) else {
                return Err(RedisError::bad_answer("fewer answers than commands"));
            };
            match (t.and_then(|t| parse::key_type(&t)), n.and_then(|n| parse::count(&n))) {
                (Ok(kind), Ok(len)) => {
                    l.key_type = kind;
                    l.len = len;
                }
                (Ok(kind), Err(_)) if kind != "list" && kind != "none" => {
                    l.key_type = kind.clone();
                    q.error
                        .get_or_insert_with(|| format!("{} holds a {kind}, not a list", l.key));
                }
                (Err(e), _) | (_, Err(e)) => {
                    q.error.get_or_insert_with(|| format!("{}: {e}", l.key));
                }
            }
        }
    }
    // Found by a pattern but not a list: not a queue.
    queues.retain(|q| !(q.matched && q.lists.iter().all(|l| l.key_type != "list")));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_name_their_origin() {
        assert_eq!(
            backup_origin(b"celery\x06\x163:opsdeck-backup:20250101T000000Z"),
            Some(Key(b"celery\x06\x163".to_vec()))
        );
        assert_eq!(
            backup_origin(b"a:opsdeck-backup:1:opsdeck-backup:2"),
            Some(Key::from("a:opsdeck-backup:1"))
        );
        assert_eq!(backup_origin(b":opsdeck-backup:x"), None);
        assert_eq!(backup_origin(b"celery"), None);
    }

    #[test]
    fn namespaces_are_matched_literally() {
        assert_eq!(glob_escape("my*app[1]"), "my\\*app\\[1\\]");
        assert!(glob_match(glob_escape("my*app[1]").as_bytes(), b"my*app[1]"));
        assert!(!glob_match(glob_escape("my*app[1]").as_bytes(), b"myXapp1"));
    }

    #[test]
    fn globs_read_as_scan_match_reads_them() {
        for (p, t, want) in [
            ("*", "", true),
            ("resque:queue:*", "resque:queue:high", true),
            ("resque:queue:*", "resque:queues", false),
            ("*:opsdeck-backup:*", "celery:opsdeck-backup:20261130T180312Z", true),
            ("h?llo", "hello", true),
            ("h[ae]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
        ] {
            assert_eq!(glob_match(p.as_bytes(), t.as_bytes()), want, "{p} ~ {t}");
        }
    }
}
