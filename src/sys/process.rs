//! Processes: going to the background, signalling a child's process group, and preparing a
//! child between fork and exec.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use super::{check, signal};

/// Forks; the parent exits at once with status 0 (skipping destructors and `atexit`
/// handlers, which belong to the child now) and the child returns.
///
/// Must be called before any other thread exists: a fork copies only the calling thread,
/// so a lock another thread held would stay locked in the child forever.
pub fn fork_and_leave_parent() -> io::Result<()> {
    // SAFETY: fork() has no memory-safety preconditions of its own; the caller guarantees
    // the process has a single thread, so the child's state is consistent.
    match check(unsafe { libc::fork() })? {
        0 => Ok(()),
        // SAFETY: _exit ends the process immediately; nothing of ours runs afterwards.
        _ => unsafe { libc::_exit(0) },
    }
}

/// Starts a new session (`setsid`): the process leaves its controlling terminal.
pub fn new_session() -> io::Result<()> {
    // SAFETY: setsid acts on this process only and has no preconditions.
    check(unsafe { libc::setsid() })?;
    Ok(())
}

/// Sends `sig` to the process group led by `child`, or to `child` alone if it left the
/// group (started with `process_group(0)`).
pub fn signal_group(child: &Child, sig: signal::Signo) {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else { return };
    // SAFETY: kill(2) on a process (group) we started and have not reaped yet (`child` is
    // borrowed, so nothing else waits for it), so the id cannot have been reused.
    unsafe {
        if libc::kill(-pid, sig) != 0 {
            libc::kill(pid, sig);
        }
    }
}

/// Makes the child of `cmd` start with an empty signal mask and SIGPIPE at its default
/// action (see [`signal::reset_for_child`]), whatever this process's threads have.
pub fn reset_signals_before_exec(cmd: &mut Command) {
    // SAFETY: the closure only makes async-signal-safe calls (pthread_sigmask, signal) and
    // allocates nothing, as required between fork and exec.
    unsafe {
        cmd.pre_exec(signal::reset_for_child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn signal_group_ends_a_child_and_its_group() {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg("sleep 30 & wait").process_group(0);
        reset_signals_before_exec(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        signal_group(&child, signal::SIGTERM);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal::SIGTERM));
    }
}
