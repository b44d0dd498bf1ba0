//! File descriptors: pointing the standard streams elsewhere and waiting for input.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use super::check;

/// Points standard input, output and error at `/dev/null` (for a daemon that left its
/// terminal).
pub fn stdio_to_dev_null() -> io::Result<()> {
    // SAFETY: the path is a 'static NUL-terminated string; open has no other precondition.
    let null = check(unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) })?;
    for fd in 0..3 {
        // SAFETY: `null` is a descriptor this function opened; dup2 onto 0..2 replaces the
        // standard streams, which nothing in Rust holds as an owned descriptor.
        unsafe { libc::dup2(null, fd) };
    }
    if null > 2 {
        // SAFETY: `null` was opened above, is owned by nobody else and is not used again.
        unsafe { libc::close(null) };
    }
    Ok(())
}

/// Waits up to `timeout` (rounded down to milliseconds, at most `i32::MAX` ms) for `fd` to
/// become readable (or closed, or in error: a read will then say which). `Ok(false)` when
/// the time ran out; an interrupted wait is `ErrorKind::Interrupted`.
pub fn wait_readable(fd: &impl AsFd, timeout: Duration) -> io::Result<bool> {
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    let mut pfd = libc::pollfd { fd: fd.as_fd().as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: `pfd` is one valid pollfd for the duration of the call, and the descriptor is
    // borrowed from `fd`, so it stays open across it.
    let rc = check(unsafe { libc::poll(&mut pfd, 1, ms) })?;
    Ok(rc > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn wait_readable_sees_data_and_times_out() {
        let (mut a, b) = UnixStream::pair().unwrap();
        assert!(!wait_readable(&b, Duration::from_millis(10)).unwrap());
        a.write_all(b"x").unwrap();
        assert!(wait_readable(&b, Duration::from_millis(1000)).unwrap());
        drop(a);
        let (_c, d) = UnixStream::pair().unwrap();
        assert!(!wait_readable(&d, Duration::ZERO).unwrap());
    }
}
