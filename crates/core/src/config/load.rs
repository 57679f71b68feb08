//! Finding and reading the config file. Every mistake is reported as `FILE:LINE: key: what is wrong`,
//! and all of them at once where the file allows (one per section or array entry).

use super::ConfigIssue;
use serde::de::DeserializeOwned;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

/// One config mistake, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    /// Dotted key path (`elasticsearch.url`, `actions[1].risk`); empty for syntax errors.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match (self.line, self.key.is_empty()) {
            (0, true) => write!(f, "{file}: {}", self.message),
            // A key that is not in the file (its default is part of the problem) is still named.
            (0, false) => write!(f, "{file}: {}: {}", self.key, self.message),
            (line, true) => write!(f, "{file}:{line}: {}", self.message),
            (line, false) => write!(f, "{file}:{line}: {}: {}", self.key, self.message),
        }
    }
}

/// Where the config came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    Flag(PathBuf),
    Env(PathBuf),
    Xdg(PathBuf),
}

impl Located {
    pub fn path(&self) -> &Path {
        match self {
            Located::Flag(p) | Located::Env(p) | Located::Xdg(p) => p,
        }
    }
}

/// The XDG config file path (`~/.config/opsdeck/config.toml` on Linux).
pub fn xdg_config_file() -> Option<PathBuf> {
    crate::paths::project_dirs().map(|d| d.config_dir().join("config.toml"))
}

/// Finds the config: `--config`, then `$OPSDECK_CONFIG`, then the XDG config dir.
/// `Err` lists every place looked at, for the "how to start" message.
pub fn locate(flag: Option<&Path>) -> Result<Located, Vec<String>> {
    if let Some(p) = flag {
        return Ok(Located::Flag(p.to_path_buf()));
    }
    let mut looked = Vec::new();
    match std::env::var_os("OPSDECK_CONFIG") {
        Some(p) if !p.is_empty() => return Ok(Located::Env(PathBuf::from(p))),
        _ => looked.push("$OPSDECK_CONFIG (not set)".to_string()),
    }
    match xdg_config_file() {
        Some(p) if p.is_file() => return Ok(Located::Xdg(p)),
        Some(p) => looked.push(format!("{} (no such file)", p.display())),
        None => looked.push("the XDG config dir (no home directory)".to_string()),
    }
    Err(looked)
}

/// A whole config file's type: every top-level section deserialises on its own, and what serde
/// cannot check is checked after.
pub trait ConfigRoot: DeserializeOwned {
    /// Checks that serde cannot express. Each issue names the key it is about.
    fn validate(&self) -> Vec<ConfigIssue>;
}

/// Checks a layer above the config adds (that a theme or keymap of that name exists), reported
/// with the config's own, located by key.
pub type ExtraChecks<'a, C> = &'a dyn Fn(&C) -> Vec<ConfigIssue>;

/// Reads and validates a config file (a regular file of at most [`super::file::TEXT_CAP`] bytes:
/// a FIFO or a device is refused before anything is read), with `extra` checks.
pub fn load_file_with<C: ConfigRoot>(path: &Path, extra: ExtraChecks<'_, C>) -> Result<C, Vec<ConfigError>> {
    let text = super::file::read_regular_text(path, super::file::TEXT_CAP).map_err(|e| {
        vec![ConfigError {
            file: path.to_path_buf(),
            line: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        }]
    })?;
    parse_str_with(&text, path, extra)
}

/// Parses and validates config text (`file` is only used in messages), with `extra` checks.
pub fn parse_str_with<C: ConfigRoot>(
    text: &str,
    file: &Path,
    extra: ExtraChecks<'_, C>,
) -> Result<C, Vec<ConfigError>> {
    let lines = LineIndex::new(text);
    let at = |span: Option<Range<usize>>, key: String, message: String| ConfigError {
        file: file.to_path_buf(),
        line: span.map(|s| lines.line_of(s.start)).unwrap_or(0),
        key,
        message,
    };

    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        return Err(syntax
            .into_iter()
            .map(|e| at(e.span(), String::new(), first_line(e.message())))
            .collect());
    }

    // Deserialize each top-level section on its own (and each entry of an array of tables),
    // so one mistake does not hide the next.
    let mut errors = Vec::new();
    for (key, value) in root.get_ref().iter() {
        let items: Vec<(Option<usize>, Spanned<DeValue>)> = match value.get_ref() {
            DeValue::Array(items)
                if items.iter().all(|i| matches!(i.get_ref(), DeValue::Table(_))) && !items.is_empty() =>
            {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let one: toml::de::DeArray = std::iter::once(item.clone()).collect();
                        (Some(i), Spanned::new(value.span(), DeValue::Array(one)))
                    })
                    .collect()
            }
            _ => vec![(None, value.clone())],
        };
        for (index, item) in items {
            let mut single = DeTable::new();
            single.insert(key.clone(), item);
            for e in item_errors::<C>(single, root.span()) {
                let span = e.span();
                let mut path = span
                    .clone()
                    .and_then(|s| key_path_at(&root, s))
                    .unwrap_or_else(|| key.get_ref().to_string());
                if let Some(i) = index
                    && !path.contains('[')
                {
                    path = format!("{}[{i}]", key.get_ref());
                }
                let (path, message) = refine(path, first_line(e.message()));
                errors.push(at(span, path, message));
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }

    let config =
        deserialize::<C>(root.clone()).map_err(|e| vec![at(e.span(), String::new(), first_line(e.message()))])?;
    let mut issues = config.validate();
    issues.extend(extra(&config));
    if issues.is_empty() {
        return Ok(config);
    }
    let mut errors: Vec<ConfigError> = issues
        .into_iter()
        .map(|issue| {
            let span = span_of_path(&root, &issue.path);
            at(span, issue.path, issue.message)
        })
        .collect();
    errors.sort_by_key(|e| e.line);
    Err(errors)
}

/// Most mistakes reported for one section (or one entry of an array of tables).
const MAX_ERRORS_PER_ITEM: usize = 100;

/// Every mistake in one top-level item, not just the first: after each error the key it is about
/// is taken out (spans still point into the original text, so lines and paths stay right) and the
/// rest is deserialized again.
fn item_errors<C: ConfigRoot>(mut item: DeTable<'_>, root_span: Range<usize>) -> Vec<toml::de::Error> {
    let mut errors: Vec<toml::de::Error> = Vec::new();
    // Keys taken out: a "missing field" about one of them is our doing, not the file's.
    let mut removed: Vec<String> = Vec::new();
    while errors.len() < MAX_ERRORS_PER_ITEM {
        let Err(e) = deserialize::<C>(Spanned::new(root_span.clone(), item.clone())) else {
            break;
        };
        let Some(span) = e.span() else {
            errors.push(e);
            break;
        };
        if errors
            .iter()
            .any(|seen| seen.span() == e.span() && seen.message() == e.message())
        {
            break;
        }
        let missing = missing_field(e.message());
        // A missing field: everything else in its table was fine; take out the innermost array
        // entry holding it (no line of the file is lost) and go on with the next entries.
        let taken = match missing {
            Some(_) => remove_entry_at(&mut item, &span),
            None => remove_key_at(&mut item, &span),
        };
        if !missing.is_some_and(|field| removed.iter().any(|r| r == field)) {
            errors.push(e);
        }
        match taken {
            Some(name) => removed.push(name),
            None => break,
        }
    }
    errors
}

/// The field a "missing field `x`" error is about.
fn missing_field(message: &str) -> Option<&str> {
    message
        .lines()
        .next()?
        .trim()
        .strip_prefix("missing field `")?
        .strip_suffix('`')
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}

/// Removes the deepest key whose key or value holds `span`; returns its name.
fn remove_key_at(table: &mut DeTable<'_>, span: &Range<usize>) -> Option<String> {
    let mut hit = None;
    for (k, v) in table.iter_mut() {
        if contains(&k.span(), span) {
            hit = Some(k.span());
            break;
        }
        let value_span = v.span();
        let deeper = match v.get_mut() {
            DeValue::Table(t) => remove_key_at(t, span),
            DeValue::Array(items) => items.iter_mut().find_map(|item| match item.get_mut() {
                DeValue::Table(t) => remove_key_at(t, span),
                _ => None,
            }),
            _ => None,
        };
        if deeper.is_some() {
            return deeper;
        }
        if contains(&value_span, span) {
            hit = Some(k.span());
            break;
        }
    }
    let hit = hit?;
    let key = table.iter().find(|(k, _)| k.span() == hit).map(|(k, _)| k.clone())?;
    table.remove(&key);
    Some(key.get_ref().to_string())
}

/// Removes the innermost array entry (a table) holding `span`, below the top level; returns the
/// array's key.
fn remove_entry_at(table: &mut DeTable<'_>, span: &Range<usize>) -> Option<String> {
    for (k, v) in table.iter_mut() {
        let key = k.get_ref().to_string();
        match v.get_mut() {
            DeValue::Table(t) => {
                if let Some(found) = remove_entry_at(t, span) {
                    return Some(found);
                }
            }
            DeValue::Array(items) => {
                for item in items.iter_mut() {
                    if let DeValue::Table(t) = item.get_mut()
                        && let Some(found) = remove_entry_at(t, span)
                    {
                        return Some(found);
                    }
                }
                let holds = |item: &Spanned<DeValue<'_>>| {
                    matches!(item.get_ref(), DeValue::Table(_)) && contains(&item.span(), span)
                };
                if items.iter().any(holds) {
                    let all = std::mem::replace(items, toml::de::DeArray::new());
                    *items = all.into_iter().filter(|item| !holds(item)).collect();
                    return Some(key);
                }
            }
            _ => {}
        }
    }
    None
}

fn deserialize<C: DeserializeOwned>(table: Spanned<DeTable<'_>>) -> Result<C, toml::de::Error> {
    C::deserialize(Deserializer::from(table))
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_string()
}

/// `missing field `url`` is about `section.url`, not about the section.
fn refine(path: String, message: String) -> (String, String) {
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(field) = rest.strip_suffix('`')
    {
        let key = if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        return (key, "missing required field".to_string());
    }
    (path, message)
}

/// The dotted path of the deepest key whose key or value contains `span`.
fn key_path_at(root: &Spanned<DeTable<'_>>, span: Range<usize>) -> Option<String> {
    fn walk(table: &DeTable<'_>, span: &Range<usize>, prefix: &str) -> Option<String> {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            let inside = |r: Range<usize>| r.start <= span.start && span.end <= r.end.max(r.start + 1);
            if inside(k.span()) {
                return Some(path);
            }
            if inside(v.span()) || matches!(v.get_ref(), DeValue::Table(_) | DeValue::Array(_)) {
                if let Some(deeper) = walk_value(v, span, &path) {
                    return Some(deeper);
                }
                if inside(v.span()) {
                    return Some(path);
                }
            }
        }
        None
    }
    fn walk_value(v: &Spanned<DeValue<'_>>, span: &Range<usize>, path: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::Table(t) => walk(t, span, path),
            DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let p = format!("{path}[{i}]");
                let s = item.span();
                match item.get_ref() {
                    DeValue::Table(t) => {
                        walk(t, span, &p).or_else(|| (s.start <= span.start && span.end <= s.end).then_some(p))
                    }
                    _ => (s.start <= span.start && span.end <= s.end).then_some(p),
                }
            }),
            _ => None,
        }
    }
    walk(root.get_ref(), &span, "")
}

/// The span of the key at a dotted path like `actions[2].key`, or of its nearest parent in the file.
fn span_of_path(root: &Spanned<DeTable<'_>>, path: &str) -> Option<Range<usize>> {
    let mut table = root.get_ref();
    let mut found = None;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        // A key the file does not set (its default is part of the problem): its nearest parent.
        let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == name) else {
            break;
        };
        found = Some(k.span());
        let mut value = v;
        if let (Some(i), DeValue::Array(items)) = (index, v.get_ref()) {
            let Some(item) = items.get(i) else { break };
            value = item;
            found = Some(value.span());
        }
        match value.get_ref() {
            DeValue::Table(t) if parts.peek().is_some() => table = t,
            _ => break,
        }
    }
    found
}

/// Byte offset → 1-based line number.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one() {
        let idx = LineIndex::new("a\nbb\nccc");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(5), 3);
    }

    #[test]
    fn a_key_without_a_line_is_still_named() {
        let e = ConfigError {
            file: "c.toml".into(),
            line: 0,
            key: "ssh.disk_crit".into(),
            message: "a percentage (0-100)".into(),
        };
        assert_eq!(e.to_string(), "c.toml: ssh.disk_crit: a percentage (0-100)");
    }
}
