//! File system queries: sizes (`statvfs`), access checks with the real ids (`access`), and
//! opening a file to serve it without following a last symlink or waiting on a FIFO.

use std::ffi::CStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{c_string, check};

/// What `statvfs(3)` says about a mounted file system, in plain integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatVfs {
    /// File system block size.
    pub bsize: u64,
    /// Fragment size: the unit of the block counts.
    pub frsize: u64,
    /// Size in `frsize` units.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks for unprivileged users.
    pub bavail: u64,
    /// Inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// Free inodes for unprivileged users.
    pub favail: u64,
}

/// `statvfs(3)` of the file system holding `path`.
pub fn statvfs(path: &CStr) -> io::Result<StatVfs> {
    // SAFETY: `statvfs` is a plain C struct of integers, for which all-zero bytes are valid.
    let mut buf: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a valid NUL-terminated string and `buf` a writable statvfs that
    // outlives the call.
    check(unsafe { libc::statvfs(path.as_ptr(), &mut buf) })?;
    #[allow(clippy::unnecessary_cast)] // the field widths differ between targets
    Ok(StatVfs {
        bsize: buf.f_bsize as u64,
        frsize: buf.f_frsize as u64,
        blocks: buf.f_blocks as u64,
        bfree: buf.f_bfree as u64,
        bavail: buf.f_bavail as u64,
        files: buf.f_files as u64,
        ffree: buf.f_ffree as u64,
        favail: buf.f_favail as u64,
    })
}

/// Opens `path` read-only to serve it: `O_NOFOLLOW` (a symlink in the last component is
/// an error, `ELOOP`) and `O_NONBLOCK` (a FIFO put in place of a file does not block the
/// opener; the caller checks the opened file's type). `O_CLOEXEC` as always in std.
pub fn open_nofollow_nonblock(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
}

/// Whether `e` is the error of [`open_nofollow_nonblock`] on a symlink.
pub fn is_symlink_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Whether the real user and group of this process may read, write and enter `dir`
/// (`access(2)` checks the real ids, so after a switch of user this asks for that user).
pub fn can_read_write_enter(dir: &Path) -> io::Result<()> {
    let c = c_string(dir.as_os_str().as_bytes(), "path")?;
    // SAFETY: `c` is a valid NUL-terminated path for the call.
    check(unsafe { libc::access(c.as_ptr(), libc::R_OK | libc::W_OK | libc::X_OK) })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statvfs_of_root_and_of_nothing() {
        let s = statvfs(c"/").unwrap();
        assert!(s.frsize > 0 && s.blocks > 0, "{s:?}");
        assert!(s.bavail <= s.bfree && s.bfree <= s.blocks, "{s:?}");
        let e = statvfs(c"/nonexistent/nanodata").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn access_of_a_private_dir_and_of_nothing() {
        let dir = std::env::temp_dir().join(format!("nanodata-sys-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        can_read_write_enter(&dir).unwrap();
        std::fs::remove_dir(&dir).unwrap();
        assert_eq!(can_read_write_enter(&dir).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(can_read_write_enter(Path::new("a\0b")).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }
}
