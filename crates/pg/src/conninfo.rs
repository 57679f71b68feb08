//! A libpq connection string split in two: the TLS options libpq knows (`sslmode` with its
//! `verify-ca` / `verify-full`, `sslrootcert`, `sslcert`, `sslkey`), which tokio-postgres does not
//! parse, and the rest, which it does. Both of libpq's syntaxes are accepted: `key=value` words
//! (values optionally single-quoted, backslash escapes) and `postgres://` URLs (query parameters).

use std::path::PathBuf;

/// libpq's `sslmode`, with its default (`prefer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    Disable,
    Allow,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Allow => "allow",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// Where the certificates that vouch for the server come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// A PEM file (`sslrootcert=FILE`).
    File(PathBuf),
    /// The operating system's trust store (`sslrootcert=system`, as in libpq 16).
    System,
}

/// The TLS part of a connection string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsOptions {
    pub mode: SslMode,
    pub root_certs: Option<RootCerts>,
    /// Client certificate and key (both or neither).
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// libpq TLS options this build cannot honour: refused rather than silently ignored.
const UNSUPPORTED: [&str; 6] = [
    "sslcrl",
    "sslcrldir",
    "sslpassword",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
];

/// A connection string's syntax, to write back what tokio-postgres should parse.
enum Syntax {
    /// `postgres://…`: everything before the `?`.
    Url(String),
    /// `key=value` words.
    Words,
}

impl Syntax {
    fn rebuild(&self, kept: &[(String, String)]) -> String {
        match self {
            Syntax::Url(base) if kept.is_empty() => base.clone(),
            Syntax::Url(base) => {
                let query: Vec<String> = kept
                    .iter()
                    .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                    .collect();
                format!("{base}?{}", query.join("&"))
            }
            Syntax::Words => kept
                .iter()
                .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Splits `conn` into the TLS options and a connection string tokio-postgres parses.
pub fn split_tls(conn: &str) -> Result<(String, TlsOptions), String> {
    let (pairs, syntax) = if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        let (base, query) = conn.split_once('?').unwrap_or((conn, ""));
        let pairs = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                Ok((percent_decode(k)?, percent_decode(v)?))
            })
            .collect::<Result<Vec<_>, String>>()?;
        (pairs, Syntax::Url(base.to_string()))
    } else {
        (key_value_pairs(conn)?, Syntax::Words)
    };

    let mut tls = TlsOptions::default();
    let (mut cert, mut key) = (None, None);
    let mut kept = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "sslmode" => tls.mode = SslMode::parse(&v)?,
            "sslrootcert" if v == "system" => tls.root_certs = Some(RootCerts::System),
            "sslrootcert" => tls.root_certs = Some(RootCerts::File(PathBuf::from(v))),
            "sslcert" => cert = Some(PathBuf::from(v)),
            "sslkey" => key = Some(PathBuf::from(v)),
            k if UNSUPPORTED.contains(&k) => {
                return Err(format!(
                    "{k} is not supported by this build (remove it from the connection string)"
                ));
            }
            _ => kept.push((k, v)),
        }
    }
    tls.client_cert = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err("sslcert and sslkey go together: give both or neither".to_string()),
    };
    if tls.root_certs == Some(RootCerts::System) && !matches!(tls.mode, SslMode::VerifyFull) {
        // libpq's rule: the system store is only trusted together with host name checks.
        return Err("sslrootcert=system needs sslmode=verify-full".to_string());
    }
    Ok((syntax.rebuild(&kept), tls))
}

/// libpq's `key = value` words; values may be single-quoted; `\` escapes the next character.
fn key_value_pairs(conn: &str) -> Result<Vec<(String, String)>, String> {
    let mut chars = conn.chars().peekable();
    let mut pairs = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!("missing \"=\" after {key:?} in the connection string"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated quoted value of {key:?} in the connection string")),
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad %-escape in the connection URL near {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("the connection URL parameter {s:?} is not UTF-8"))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_strings_lose_only_their_tls_options() {
        let (rest, tls) =
            split_tls("host=db1 port = 5432 user=ro sslmode=verify-full sslrootcert=/etc/ca.pem dbname=hq").unwrap();
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.root_certs, Some(RootCerts::File("/etc/ca.pem".into())));
        let parsed: tokio_postgres::Config = rest.parse().unwrap();
        assert_eq!(parsed.get_dbname(), Some("hq"));
        assert_eq!(parsed.get_ports(), &[5432]);
        assert_eq!(parsed.get_user(), Some("ro"));
    }

    #[test]
    fn quoted_values_keep_spaces_quotes_and_backslashes() {
        let (rest, tls) = split_tls(r"user=ro password='a b\'c\\d' sslmode=require").unwrap();
        assert_eq!(tls.mode, SslMode::Require);
        let parsed: tokio_postgres::Config = rest.parse().unwrap();
        assert_eq!(parsed.get_password(), Some(&br"a b'c\d"[..]));
    }

    #[test]
    fn urls_lose_only_their_tls_parameters() {
        let (rest, tls) = split_tls(
            "postgresql://ro:p%40ss@db1:5433/hq?sslmode=verify-ca&application_name=x&sslrootcert=%2Ftmp%2Fca%20file.pem",
        )
        .unwrap();
        assert_eq!(tls.mode, SslMode::VerifyCa);
        assert_eq!(tls.root_certs, Some(RootCerts::File("/tmp/ca file.pem".into())));
        let parsed: tokio_postgres::Config = rest.parse().unwrap();
        assert_eq!(parsed.get_password(), Some(&b"p@ss"[..]));
        assert_eq!(parsed.get_application_name(), Some("x"));
        let (bare, _) = split_tls("postgres://db1/hq?sslmode=require").unwrap();
        assert_eq!(bare, "postgres://db1/hq");
    }

    #[test]
    fn the_default_mode_is_libpqs_prefer() {
        assert_eq!(split_tls("host=db1").unwrap().1.mode, SslMode::Prefer);
    }

    #[test]
    fn options_this_build_cannot_honour_are_refused_by_name() {
        for (conn, words) in [
            ("host=db1 sslcrl=/etc/crl.pem", "sslcrl is not supported"),
            ("host=db1 sslmode=verify", "sslmode=\"verify\" is not one of"),
            ("host=db1 sslcert=/c.pem", "sslcert and sslkey go together"),
            (
                "host=db1 sslrootcert=system sslmode=require",
                "needs sslmode=verify-full",
            ),
            ("host=db1 password='open", "unterminated quoted value"),
            ("host db1", "missing \"=\""),
            ("postgres://db1/hq?sslmode=%zz", "bad %-escape"),
        ] {
            let err = split_tls(conn).unwrap_err();
            assert!(err.contains(words), "{conn}: {err}");
        }
    }
}
