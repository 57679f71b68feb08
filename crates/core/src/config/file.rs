//! Reading the local files opsdeck is pointed at (the config, themes, keymaps, the CA bundle): regular
//! files only, opened without blocking, read up to a cap. A FIFO would hang the read for ever and
//! `/dev/zero` would fill the memory; both are refused before a byte is read.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Largest config, theme or keymap file read (real ones are a few KiB; a fleet of hundreds of hosts
/// stays far below this).
pub const TEXT_CAP: u64 = 4 * 1024 * 1024;

/// What `meta` is, in words, when it is not a regular file.
fn not_regular(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    Some(if t.is_file() {
        return None;
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    })
}

fn refuse(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("not a regular file: {what}"))
}

/// Fails unless `meta` describes a regular file.
pub fn ensure_regular(meta: &Metadata) -> io::Result<()> {
    match not_regular(meta) {
        None => Ok(()),
        Some(what) => Err(refuse(what)),
    }
}

/// Ok when `path` is absent or a regular file (symlinks followed); otherwise what it is. Never opens it.
pub fn regular_or_absent(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) => match not_regular(&meta) {
            None => Ok(()),
            Some(what) => Err(format!("{} is {what}, not a regular file", path.display())),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Opens `path` for reading if it is a regular file. `O_NONBLOCK` makes opening a FIFO return at
/// once (a regular file ignores the flag), and the open file is checked again, so a path swapped
/// between the two checks cannot make us block either.
pub fn open_regular(path: &Path) -> io::Result<File> {
    ensure_regular(&std::fs::metadata(path)?)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    ensure_regular(&file.metadata()?)?;
    Ok(file)
}

/// At most `cap` bytes of `reader`; more is an error (nothing beyond `cap + 1` is read).
pub fn read_capped(reader: impl Read, cap: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {}", size_text(cap)),
        ));
    }
    Ok(bytes)
}

/// The whole of a regular file of at most `cap` bytes.
pub fn read_regular(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    if file.metadata()?.len() > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {}", size_text(cap)),
        ));
    }
    // The file may grow while we read: the cap holds whatever its size said.
    read_capped(file, cap)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_text(path: &Path, cap: u64) -> io::Result<String> {
    String::from_utf8(read_regular(path, cap)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

/// `4 MiB`, `512 KiB`, `10 bytes`.
pub fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn only_regular_files_are_read_and_only_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        let started = Instant::now();
        let err = read_regular(&fifo, TEXT_CAP).unwrap_err().to_string();
        assert!(err.contains("named pipe"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let err = read_regular(Path::new("/dev/zero"), TEXT_CAP).unwrap_err().to_string();
        assert!(err.contains("character device"), "{err}");
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(read_regular(&link, TEXT_CAP).is_err());
        assert!(
            read_regular(dir.path(), TEXT_CAP)
                .unwrap_err()
                .to_string()
                .contains("directory")
        );
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 11]).unwrap();
        let err = read_regular(&big, 10).unwrap_err().to_string();
        assert_eq!(err, "larger than 10 bytes");
        assert_eq!(read_regular(&big, 11).unwrap().len(), 11);
        assert_eq!(regular_or_absent(&dir.path().join("absent")), Ok(()));
        assert_eq!(regular_or_absent(&big), Ok(()));
        assert!(
            regular_or_absent(Path::new("/dev/full"))
                .unwrap_err()
                .contains("character device")
        );
        assert!(regular_or_absent(&fifo).unwrap_err().contains("named pipe"));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(4 * 1024 * 1024), "4 MiB");
        assert_eq!(size_text(512 * 1024), "512 KiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }
}
