//! Processes: going to the background, signalling a child's process group, and preparing a
//! child between fork and exec.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use super::{check, signal};

/// Forks; the parent exits at once with status 0 (skipping destructors and `atexit`
/// handlers, which belong to the child now) and the child returns.
///
/// Refused while other threads run (counted in `/proc/self/task`): a fork copies only the
/// calling thread, so a lock another thread held (the allocator's, the logger's) would stay
/// locked in the child forever. Where `/proc` cannot be read the caller's word is taken.
pub fn fork_and_leave_parent() -> io::Result<()> {
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        let threads = tasks.count();
        if threads > 1 {
            return Err(io::Error::other(format!("cannot fork with {threads} threads running")));
        }
    }
    // SAFETY: the process has a single thread (checked above; main calls this before it
    // spawns any), so the child's copy of every lock and allocator state is consistent.
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
    fn fork_is_refused_with_threads_running() {
        // The test harness runs this on a thread of its own, so there are at least two.
        let e = fork_and_leave_parent().unwrap_err();
        assert!(e.to_string().contains("threads running"), "{e}");
    }

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
