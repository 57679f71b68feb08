//! Lines from a remote stream, whatever bytes arrive. Invalid UTF-8 is replaced rather than an error
//! (a Latin-1 log line must not end a tail, a Latin-1 directory name must not fail a du), and a line
//! longer than the cap is cut and the rest of it skipped (a binary file tailed by mistake must not
//! eat the memory).

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Longest line kept, in bytes; the logs model cuts further for display.
pub const LINE_CAP: usize = 16 * 1024;

pub struct Lines<R> {
    reader: BufReader<R>,
    /// The line read so far. Kept here, not in the future, so `next_line` is cancel-safe (it is
    /// raced against timers and cancellation in `select!`).
    line: Vec<u8>,
    /// The current line passed the cap: its remaining bytes are dropped.
    cut: bool,
    cap: usize,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    pub fn new(reader: R) -> Self {
        Self::with_cap(reader, LINE_CAP)
    }

    pub fn with_cap(reader: R, cap: usize) -> Self {
        Self {
            reader: BufReader::new(reader),
            line: Vec::new(),
            cut: false,
            cap: cap.max(1),
        }
    }

    /// The next line without its `\n` (or `\r\n`); `None` at the end of the stream.
    pub async fn next_line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                if self.line.is_empty() && !self.cut {
                    return Ok(None);
                }
                return Ok(Some(self.take()));
            }
            let (chunk, end) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            let room = self.cap.saturating_sub(self.line.len());
            if chunk.len() > room {
                self.cut = true;
            }
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = end.unwrap_or(chunk.len());
            self.reader.consume(used);
            if end.is_some() {
                return Ok(Some(self.take()));
            }
        }
    }

    fn take(&mut self) -> String {
        let mut bytes = std::mem::take(&mut self.line);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if std::mem::take(&mut self.cut) {
            text.push('…');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(bytes: &[u8], cap: usize) -> Vec<String> {
        let mut lines = Lines::with_cap(bytes, cap);
        let mut out = Vec::new();
        while let Some(l) = lines.next_line().await.unwrap() {
            out.push(l);
        }
        out
    }

    #[tokio::test]
    async fn invalid_utf8_is_replaced_not_an_error() {
        let got = all(b"caf\xe9 latin-1\nnext\r\nlast without newline", 100).await;
        assert_eq!(got, ["caf\u{fffd} latin-1", "next", "last without newline"]);
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_the_next_line_is_intact() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nshort\n");
        let got = all(&input, 8).await;
        assert_eq!(got, ["xxxxxxxx…", "short"]);
    }

    #[tokio::test]
    async fn a_line_split_across_reads_is_whole() {
        let (mut tx, rx) = tokio::io::duplex(4);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for part in [&b"hel"[..], b"lo wo", b"rld\nsecond\n"] {
                tx.write_all(part).await.unwrap();
            }
        });
        let mut lines = Lines::new(rx);
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("hello world"));
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("second"));
        writer.await.unwrap();
        assert_eq!(lines.next_line().await.unwrap(), None);
    }
}
