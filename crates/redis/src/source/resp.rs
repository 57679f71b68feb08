//! RESP2, the Redis wire protocol: commands out as arrays of bulk strings, answers read back under
//! limits (line length, bulk size, element count, nesting, bytes per answer), so a broken or hostile
//! server cannot make us allocate without bound. The demo's loopback server reads commands with the
//! same reader.

use crate::model::cli_word;
use std::fmt;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// One answer (or, on the server side, one command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`: the server's words, kept whole.
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1` or `*-1`.
    Nil,
    Array(Vec<Value>),
}

impl Value {
    /// The bytes of a bulk or simple string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) => Some(b),
            Value::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// A bulk or simple string as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Option<String> {
        self.as_bytes().map(|b| String::from_utf8_lossy(b).into_owned())
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            // Some answers (SCAN's cursor) are integers written as bulk strings.
            Value::Bulk(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    }

    pub fn array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Appends this value in RESP2.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Simple(s) => line(out, b'+', s.as_bytes()),
            Value::Error(s) => line(out, b'-', s.as_bytes()),
            Value::Int(i) => line(out, b':', i.to_string().as_bytes()),
            Value::Bulk(b) => bulk(out, b),
            Value::Nil => out.extend_from_slice(b"$-1\r\n"),
            Value::Array(items) => {
                line(out, b'*', items.len().to_string().as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
        }
    }
}

fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    // A simple string or error cannot hold a line break: it would end the line early.
    out.extend(text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// A command: its words, each sent as one bulk string (never parsed by anything but Redis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd(Vec<Vec<u8>>);

impl Cmd {
    pub fn new(name: &str) -> Self {
        Self(vec![name.as_bytes().to_vec()])
    }

    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Self {
        self.0.push(arg.as_ref().to_vec());
        self
    }

    pub fn words(&self) -> &[Vec<u8>] {
        &self.0
    }

    /// The command name, upper case (`INFO`).
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.0[0]).to_ascii_uppercase()
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        line(out, b'*', self.0.len().to_string().as_bytes());
        for w in &self.0 {
            bulk(out, w);
        }
    }
}

/// The command as a person would type it into `redis-cli`: plain words bare, others in double
/// quotes with `\"`, `\\`, `\n`, `\r`, `\t` and `\xHH` escapes (what redis-cli reads back).
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&cli_word(w))?;
        }
        Ok(())
    }
}

/// How much one answer may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest status, error or length line.
    pub max_line: usize,
    /// Largest bulk string.
    pub max_bulk: usize,
    /// Most elements in one array (counted over the whole answer).
    pub max_elements: usize,
    /// Deepest nesting of arrays.
    pub max_depth: usize,
    /// Most bytes one answer may take on the wire.
    pub max_answer: usize,
}

impl Limits {
    /// An answer of at most `max_answer` bytes (the other limits follow from it).
    pub fn answer_of(max_answer: usize) -> Self {
        Self {
            max_line: 64 * 1024,
            max_bulk: max_answer,
            max_elements: 1_000_000,
            max_depth: 8,
            max_answer,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::answer_of(16 * 1024 * 1024)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection before an answer began.
    #[error("connection closed")]
    Closed,
    #[error("{0}")]
    Protocol(String),
}

fn protocol(msg: impl Into<String>) -> ReadError {
    ReadError::Protocol(msg.into())
}

/// Reads one value. An end of stream before its first byte is [`ReadError::Closed`]; anything
/// malformed or over a limit is [`ReadError::Protocol`], after which the stream is unusable.
pub async fn read_value<R: AsyncBufRead + Unpin>(r: &mut R, limits: &Limits) -> Result<Value, ReadError> {
    // Arrays being filled: (items so far, items still to read).
    let mut stack: Vec<(Vec<Value>, usize)> = Vec::new();
    let mut budget = Budget {
        bytes: limits.max_answer,
        elements: limits.max_elements,
    };
    let mut first = true;
    loop {
        let line = read_line(r, limits.max_line, &mut budget, first).await?;
        first = false;
        let (kind, rest) = line.split_first().ok_or_else(|| protocol("empty line"))?;
        let text = || String::from_utf8_lossy(rest).into_owned();
        let mut value = match kind {
            b'+' => Value::Simple(text()),
            b'-' => Value::Error(text()),
            b':' => Value::Int(number(rest)?),
            b'$' => match number(rest)? {
                -1 => Value::Nil,
                n if n < 0 => return Err(protocol(format!("bulk length {n}"))),
                n => {
                    let n = n as usize;
                    if n > limits.max_bulk {
                        return Err(protocol(format!("bulk string of {n} bytes is over the limit")));
                    }
                    budget.take_bytes(n + 2)?;
                    let mut data = vec![0u8; n + 2];
                    read_exact(r, &mut data).await?;
                    if &data[n..] != b"\r\n" {
                        return Err(protocol("bulk string not followed by CRLF"));
                    }
                    data.truncate(n);
                    Value::Bulk(data)
                }
            },
            b'*' => match number(rest)? {
                -1 => Value::Nil,
                n if n < 0 => return Err(protocol(format!("array length {n}"))),
                0 => Value::Array(Vec::new()),
                n => {
                    let n = n as usize;
                    budget.take_elements(n)?;
                    if stack.len() >= limits.max_depth {
                        return Err(protocol("arrays nested too deep"));
                    }
                    stack.push((Vec::with_capacity(n.min(1024)), n));
                    continue;
                }
            },
            other => return Err(protocol(format!("unknown type byte {:?}", *other as char))),
        };
        // Hand the value to the arrays it completes.
        loop {
            let Some((items, left)) = stack.last_mut() else {
                return Ok(value);
            };
            items.push(value);
            *left -= 1;
            if *left > 0 {
                break;
            }
            let (items, _) = stack.pop().expect("just looked at it");
            value = Value::Array(items);
        }
    }
}

struct Budget {
    bytes: usize,
    elements: usize,
}

impl Budget {
    fn take_bytes(&mut self, n: usize) -> Result<(), ReadError> {
        self.bytes = self
            .bytes
            .checked_sub(n)
            .ok_or_else(|| protocol("answer larger than the limit"))?;
        Ok(())
    }
    fn take_elements(&mut self, n: usize) -> Result<(), ReadError> {
        self.elements = self
            .elements
            .checked_sub(n)
            .ok_or_else(|| protocol("answer has more elements than the limit"))?;
        Ok(())
    }
}

fn number(text: &[u8]) -> Result<i64, ReadError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| protocol(format!("not a number: {:?}", String::from_utf8_lossy(text))))
}

/// One line without its CRLF, at most `max` bytes.
async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
    budget: &mut Budget,
    first: bool,
) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Err(if first && line.is_empty() {
                ReadError::Closed
            } else {
                protocol("connection closed in the middle of an answer")
            });
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        if line.len() + chunk.len() > max + 2 {
            return Err(protocol("line longer than the limit"));
        }
        line.extend_from_slice(chunk);
        let n = chunk.len();
        r.consume(n);
        budget.take_bytes(n)?;
        if done {
            if line.len() < 2 || line[line.len() - 2] != b'\r' {
                return Err(protocol("line not ended by CRLF"));
            }
            line.truncate(line.len() - 2);
            return Ok(line);
        }
    }
}

async fn read_exact<R: AsyncBufRead + Unpin>(r: &mut R, out: &mut [u8]) -> Result<(), ReadError> {
    let mut filled = 0;
    while filled < out.len() {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Err(protocol("connection closed in the middle of a bulk string"));
        }
        let n = buf.len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&buf[..n]);
        r.consume(n);
        filled += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(bytes: &[u8], limits: Limits) -> Vec<Result<Value, String>> {
        let mut r = tokio::io::BufReader::with_capacity(3, bytes);
        let mut out = Vec::new();
        loop {
            match read_value(&mut r, &limits).await {
                Err(ReadError::Closed) => return out,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
                Ok(v) => out.push(Ok(v)),
            }
        }
    }

    #[tokio::test]
    async fn nested_answers_round_trip_through_small_reads() {
        let v = Value::Array(vec![
            Value::Int(-3),
            Value::Bulk(b"a\r\nb".to_vec()),
            Value::Array(vec![Value::Nil, Value::Simple("OK".into()), Value::Array(vec![])]),
            Value::Error("ERR no".into()),
        ]);
        let mut bytes = Vec::new();
        v.encode(&mut bytes);
        v.encode(&mut bytes);
        let got = read_all(&bytes, Limits::default()).await;
        assert_eq!(got, vec![Ok(v.clone()), Ok(v)]);
    }

    #[tokio::test]
    async fn limits_refuse_before_allocating() {
        let small = Limits {
            max_line: 16,
            max_bulk: 8,
            max_elements: 4,
            max_depth: 2,
            max_answer: 64,
        };
        let cases: [(&[u8], &str); 6] = [
            (b"$9\r\n123456789\r\n", "over the limit"),
            (b"*5\r\n", "more elements"),
            (b"*1\r\n*1\r\n*1\r\n:1\r\n", "nested too deep"),
            (b"+aaaaaaaaaaaaaaaaaaaaaaaa\r\n", "longer than the limit"),
            (b"$4\r\nab", "closed in the middle"),
            (b"?x\r\n", "unknown type"),
        ];
        for (bytes, want) in cases {
            let got = read_all(bytes, small).await;
            let Some(Err(e)) = got.last() else {
                panic!("{bytes:?} was accepted: {got:?}")
            };
            assert!(e.contains(want), "{bytes:?}: {e}");
        }
    }

    #[test]
    fn commands_show_as_redis_cli_reads_them() {
        let c = Cmd::new("RENAME")
            .arg("celery\x06\x163")
            .arg("say \"hi\"")
            .arg("plain:key");
        assert_eq!(c.to_string(), r#"RENAME "celery\x06\x163" "say \"hi\"" plain:key"#);
        assert_eq!(cli_word(b""), "\"\"");
    }
}
