//! Going to the background the classic way: fork, let the parent exit, start a new session,
//! point the standard streams at `/dev/null`.
//!
//! Must run before any thread is started (a fork copies only the calling thread). The working
//! directory is kept, so relative paths given on the command line keep their meaning.

use std::io;

use crate::sys;

/// Detaches from the terminal. Returns in the child; the parent exits with status 0.
pub fn daemonize() -> io::Result<()> {
    // main calls this before it spawns any thread.
    sys::process::fork_and_leave_parent()?;
    sys::process::new_session()?;
    sys::fd::stdio_to_dev_null()
}
