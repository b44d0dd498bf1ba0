//! Signals, handled synchronously by the main thread.
//!
//! `main` calls [`block_all`] before it spawns any thread, so every thread inherits a mask
//! blocking TERM, INT, QUIT, HUP and CHLD; those signals then stay pending until the main
//! thread collects them with [`wait`]. No handler runs asynchronously, so no code has to be
//! async-signal-safe. SIGPIPE is ignored: a closed socket becomes a write error instead.

use std::io;
use std::time::Duration;

/// What a received signal asks the daemon to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM, SIGINT or SIGQUIT: shut down cleanly.
    Terminate,
    /// SIGHUP: reopen log files (and reload what can be reloaded).
    Reload,
    /// SIGCHLD: a child (plugin) exited; reap it.
    Child,
}

/// Blocks the handled signals in the calling thread (and so in every thread it spawns
/// afterwards) and ignores SIGPIPE process-wide.
pub fn block_all() {
    let set = handled_set();
    // SAFETY: `set` is an initialised sigset_t; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    // pthread_sigmask fails only on an invalid `how`, which is a constant here.
    debug_assert_eq!(rc, 0);
    // SAFETY: installing SIG_IGN runs no code of ours in signal context.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Waits up to `timeout` (forever with `None`) for one of the handled signals; `None` when
/// the time ran out. Must be called from a thread that has them blocked (see [`block_all`]),
/// otherwise they are delivered the default way instead.
pub fn wait(timeout: Option<Duration>) -> Option<Signal> {
    let set = handled_set();
    let ts = timeout.map(|d| {
        // Built field by field: with musl's 64-bit time_t on 32-bit targets the struct has
        // private padding. `time_t` is not named (32 or 64 bits depending on the target):
        // timeouts beyond i32::MAX seconds (68 years) are clamped to that.
        // SAFETY: an all-zero timespec is a valid value of this plain C struct.
        let mut t: libc::timespec = unsafe { std::mem::zeroed() };
        t.tv_sec = d.as_secs().try_into().unwrap_or_else(|_| i32::MAX.into());
        // c_long: 32 bits on some targets, so the conversion is fallible there.
        #[allow(clippy::unnecessary_fallible_conversions)]
        {
            t.tv_nsec = d.subsec_nanos().try_into().unwrap_or(0);
        }
        t
    });
    loop {
        let signo = match &ts {
            // SAFETY: `set` and `t` are valid for the call; a null siginfo is allowed.
            Some(t) => unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), t) },
            // SAFETY: `set` is valid for the call; a null siginfo is allowed.
            None => unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) },
        };
        match signo {
            libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => return Some(Signal::Terminate),
            libc::SIGHUP => return Some(Signal::Reload),
            libc::SIGCHLD => return Some(Signal::Child),
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
            // EAGAIN (timeout), or a signal outside the set, which cannot happen.
            _ => return None,
        }
    }
}

/// Restores a default signal state: empty mask and SIGPIPE back to its default action.
/// Meant for a freshly forked child before exec (`CommandExt::pre_exec`); it only makes
/// async-signal-safe calls. (`std::process::Command` already does this itself.)
pub fn unblock_in_child() -> io::Result<()> {
    // SAFETY: sigemptyset initialises `set` before it is read.
    let set = unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        set
    };
    // SAFETY: `set` is an initialised sigset_t; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    // SAFETY: restoring SIG_DFL runs no code of ours in signal context.
    if unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// TERM, INT, QUIT, HUP and CHLD.
fn handled_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the zeroed set before sigaddset adds valid signal
    // numbers to it.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT, libc::SIGHUP, libc::SIGCHLD] {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `sig` to the calling thread only. The test harness runs tests on several
    /// threads, and only this thread has the signals blocked; a process-directed signal
    /// could land on another thread and take its default action (HUP/TERM would kill the
    /// test binary).
    fn raise_in_this_thread(sig: libc::c_int) {
        // SAFETY: pthread_self is always valid for the calling thread, and `sig` is blocked
        // here, so it stays pending instead of running a default action.
        let rc = unsafe { libc::pthread_kill(libc::pthread_self(), sig) };
        assert_eq!(rc, 0);
    }

    /// Waits for `want`, skipping SIGCHLD: children spawned by other tests send a
    /// process-directed SIGCHLD that may be left pending for this thread.
    fn wait_for(want: Signal) -> Option<Signal> {
        for _ in 0..16 {
            match wait(Some(Duration::from_secs(2))) {
                Some(Signal::Child) if want != Signal::Child => continue,
                other => return other,
            }
        }
        None
    }

    #[test]
    fn blocked_signals_are_collected_by_wait() {
        // Runs in its own test thread, so the mask dies with it.
        block_all();
        raise_in_this_thread(libc::SIGHUP);
        assert_eq!(wait_for(Signal::Reload), Some(Signal::Reload));
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT] {
            raise_in_this_thread(sig);
            assert_eq!(wait_for(Signal::Terminate), Some(Signal::Terminate));
        }
        raise_in_this_thread(libc::SIGCHLD);
        assert_eq!(wait(Some(Duration::from_secs(2))), Some(Signal::Child));
        // Nothing pending for this thread: times out.
        let t = std::time::Instant::now();
        let got = wait(Some(Duration::from_millis(50)));
        assert!(got.is_none() || got == Some(Signal::Child));
        if got.is_none() {
            assert!(t.elapsed() >= Duration::from_millis(40));
        }
    }

    #[test]
    fn spawned_threads_inherit_the_mask() {
        let handle = std::thread::spawn(|| {
            block_all();
            std::thread::spawn(|| {
                let mut old = handled_set();
                // SAFETY: a null new set only queries the mask into `old`.
                unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut old) };
                // SAFETY: `old` is an initialised sigset_t.
                unsafe { libc::sigismember(&old, libc::SIGHUP) == 1 }
            })
            .join()
            .unwrap()
        });
        assert!(handle.join().unwrap());
    }

    #[test]
    fn unblock_in_child_clears_the_mask() {
        let inner = std::thread::spawn(|| {
            block_all();
            unblock_in_child().unwrap();
            let mut cur = handled_set();
            // SAFETY: a null new set only queries the mask into `cur`.
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut cur) };
            // SAFETY: `cur` is an initialised sigset_t.
            let hup_blocked = unsafe { libc::sigismember(&cur, libc::SIGHUP) == 1 };
            // Put SIGPIPE back the way the Rust runtime keeps it for the other tests.
            // SAFETY: installing SIG_IGN runs no code of ours in signal context.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
            hup_blocked
        });
        assert!(!inner.join().unwrap());
    }
}
