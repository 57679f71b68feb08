//! Finding and reading the config file. Every mistake is reported as `FILE:LINE: key: what is wrong`,
//! and all of them at once where the file allows (one per section or array entry).

use super::Config;
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

/// Reads and validates a config file.
pub fn load_file(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: path.to_path_buf(),
            line: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        }]
    })?;
    parse_str(&text, path)
}

/// Parses and validates config text; `file` is only used in messages.
pub fn parse_str(text: &str, file: &Path) -> Result<Config, Vec<ConfigError>> {
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
            if let Err(e) = deserialize(Spanned::new(root.span(), single)) {
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

    let config = deserialize(root.clone()).map_err(|e| vec![at(e.span(), String::new(), first_line(e.message()))])?;
    let issues = config.validate();
    if issues.is_empty() {
        return Ok(config);
    }
    Err(issues
        .into_iter()
        .map(|issue| {
            let span = span_of_path(&root, &issue.path);
            at(span, issue.path, issue.message)
        })
        .collect())
}

fn deserialize(table: Spanned<DeTable<'_>>) -> Result<Config, toml::de::Error> {
    serde::Deserialize::deserialize(Deserializer::from(table))
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

/// The span of the key at a dotted path like `actions[2].key` (or of its nearest existing parent).
fn span_of_path(root: &Spanned<DeTable<'_>>, path: &str) -> Option<Range<usize>> {
    let mut table = root.get_ref();
    let mut found = None;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let (k, v) = table.iter().find(|(k, _)| k.get_ref() == name)?;
        found = Some(k.span());
        let mut value = v;
        if let (Some(i), DeValue::Array(items)) = (index, v.get_ref()) {
            value = items.get(i)?;
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

    fn errors(text: &str) -> Vec<String> {
        parse_str(text, Path::new("c.toml"))
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn every_section_reports_its_own_mistake() {
        let text = "[general]\nread_only = \"yes\"\nrefresh = \"5 parsecs\"\n\n[bogus]\nx = 1\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("c.toml:2: general.read_only: "), "{errs:?}");
        assert!(errs[1].starts_with("c.toml:5: bogus: unknown field"), "{errs:?}");
    }

    #[test]
    fn unknown_key_inside_a_section_is_named() {
        let errs = errors("[general]\n\nthme = \"mono\"\n");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("c.toml:3: general.thme: unknown field `thme`"),
            "{errs:?}"
        );
    }

    #[test]
    fn each_array_entry_is_checked() {
        let text = "[[actions]]\nname = \"a\"\nkey = \"T\"\nscope = \"hosts\"\ncommand = \"true\"\nrisk = \"extreme\"\n\n[[actions]]\nname = \"b\"\nscope = \"hosts\"\ncommand = \"true\"\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("c.toml:6: actions[0].risk: "), "{errs:?}");
        assert!(errs[1].contains("actions[1].key: missing required field"), "{errs:?}");
    }

    #[test]
    fn syntax_errors_have_lines() {
        let errs = errors("[general]\nread_only = \n");
        assert!(errs[0].starts_with("c.toml:2: "), "{errs:?}");
    }
}
