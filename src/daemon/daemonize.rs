//! Going to the background the classic way: fork, let the parent exit, start a new session,
//! point the standard streams at `/dev/null`.
//!
//! Must run before any thread is started (a fork copies only the calling thread). The working
//! directory is kept, so relative paths given on the command line keep their meaning.

use std::io;

/// Detaches from the terminal. Returns in the child; the parent exits with status 0.
pub fn daemonize() -> io::Result<()> {
    // SAFETY: fork() in a process that has no other threads yet (main calls this before
    // spawning any), so the child's state is consistent.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        // SAFETY: _exit skips destructors and atexit handlers that belong to the child now.
        _ => unsafe { libc::_exit(0) },
    }
    // SAFETY: plain syscalls on this process, checked for errors.
    unsafe {
        if libc::setsid() == -1 {
            return Err(io::Error::last_os_error());
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null == -1 {
            return Err(io::Error::last_os_error());
        }
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
        if null > 2 {
            libc::close(null);
        }
    }
    Ok(())
}
