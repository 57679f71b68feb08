//! A command's output, read whole but kept only up to a cap: a host answering `df` with gigabytes
//! (or a command tailing a device by mistake) costs its time, bounded by the command's timeout,
//! never the memory. What was cut is said at the end of stderr.

use super::command::CommandOutput;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Most of stdout kept: `find` listing 100,000 dumps stays far below it.
pub const STDOUT_CAP: usize = 16 * 1024 * 1024;
/// Most of stderr kept: people read it, in a toast or the audit log.
pub const STDERR_CAP: usize = 1024 * 1024;

/// Reads `reader` to its end; returns its first `cap` bytes and how many more there were. The
/// rest is read and dropped, so the writer is never blocked on a full pipe.
pub async fn read_capped(reader: Option<impl AsyncRead + Unpin>, cap: usize) -> std::io::Result<(Vec<u8>, u64)> {
    let Some(mut reader) = reader else {
        return Ok((Vec::new(), 0));
    };
    let mut kept = Vec::new();
    let mut dropped = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok((kept, dropped));
        }
        let take = n.min(cap - kept.len());
        kept.extend_from_slice(&buf[..take]);
        dropped += (n - take) as u64;
    }
}

/// The output as text (invalid UTF-8 replaced), with a last stderr line when anything was cut.
pub fn output(status: Option<i32>, stdout: (Vec<u8>, u64), stderr: (Vec<u8>, u64)) -> CommandOutput {
    let mut out = CommandOutput {
        status,
        stdout: String::from_utf8_lossy(&stdout.0).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.0).into_owned(),
    };
    for (what, dropped, cap) in [("stdout", stdout.1, STDOUT_CAP), ("stderr", stderr.1, STDERR_CAP)] {
        if dropped > 0 {
            if !out.stderr.is_empty() && !out.stderr.ends_with('\n') {
                out.stderr.push('\n');
            }
            out.stderr.push_str(&format!(
                "opsdeck: {what} cut at {} ({dropped} more bytes not kept)\n",
                crate::config::file::size_text(cap as u64)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn what_passes_the_cap_is_read_and_dropped() {
        let data = [b'x'; 100];
        let (kept, dropped) = read_capped(Some(&data[..]), 30).await.unwrap();
        assert_eq!((kept.len(), dropped), (30, 70));
        let out = output(Some(0), (kept, dropped), (b"warn".to_vec(), 0));
        assert_eq!(out.stdout.len(), 30);
        assert_eq!(
            out.stderr,
            "warn\nopsdeck: stdout cut at 16 MiB (70 more bytes not kept)\n"
        );
        assert_eq!(read_capped(None::<&[u8]>, 30).await.unwrap(), (Vec::new(), 0));
    }
}
