//! Signals, handled synchronously by the main thread.
//!
//! `main` calls [`block_all`] before it spawns any thread, so every thread inherits a mask
//! blocking TERM, INT, QUIT, HUP, USR2 and CHLD; those signals then stay pending until the main
//! thread collects them with [`wait`]. No handler runs asynchronously, so no code has to be
//! async-signal-safe. SIGPIPE is ignored: a closed socket becomes a write error instead.

use std::io;
use std::time::Duration;

use crate::sys::signal::{self, SigSet, SIGCHLD, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGUSR2};

/// What a received signal asks the daemon to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM, SIGINT or SIGQUIT: shut down cleanly.
    Terminate,
    /// SIGHUP: reopen log files (and reload what can be reloaded).
    Reload,
    /// SIGUSR2: reload the health configuration (Netdata's signal for it).
    ReloadHealth,
    /// SIGCHLD: a child (plugin) exited; reap it.
    Child,
}

/// Blocks the handled signals in the calling thread (and so in every thread it spawns
/// afterwards) and ignores SIGPIPE process-wide.
pub fn block_all() {
    let rc = signal::block(&handled_set());
    // pthread_sigmask fails only on an invalid `how`, which is a constant here.
    debug_assert!(rc.is_ok());
    // Ignoring a valid signal cannot fail.
    let _ = signal::ignore(SIGPIPE);
}

/// Waits up to `timeout` (forever with `None`) for one of the handled signals; `None` when
/// the time ran out. Must be called from a thread that has them blocked (see [`block_all`]),
/// otherwise they are delivered the default way instead.
pub fn wait(timeout: Option<Duration>) -> Option<Signal> {
    match signal::wait(&handled_set(), timeout)? {
        SIGTERM | SIGINT | SIGQUIT => Some(Signal::Terminate),
        SIGHUP => Some(Signal::Reload),
        SIGUSR2 => Some(Signal::ReloadHealth),
        SIGCHLD => Some(Signal::Child),
        // A signal outside the set, which cannot happen.
        _ => None,
    }
}

/// Restores a default signal state: empty mask and SIGPIPE back to its default action.
/// Meant for a freshly forked child before exec (`CommandExt::pre_exec`); it only makes
/// async-signal-safe calls. (`std::process::Command` already does this itself.)
pub fn unblock_in_child() -> io::Result<()> {
    signal::reset_for_child()
}

/// TERM, INT, QUIT, HUP, USR2 and CHLD.
fn handled_set() -> SigSet {
    SigSet::of(&[SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR2, SIGCHLD])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `sig` to the calling thread only. The test harness runs tests on several
    /// threads, and only this thread has the signals blocked; a process-directed signal
    /// could land on another thread and take its default action (HUP/TERM would kill the
    /// test binary).
    fn raise_in_this_thread(sig: signal::Signo) {
        // `sig` is blocked here, so it stays pending instead of running a default action.
        signal::raise_in_this_thread(sig).unwrap();
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
        raise_in_this_thread(SIGHUP);
        assert_eq!(wait_for(Signal::Reload), Some(Signal::Reload));
        for sig in [SIGTERM, SIGINT, SIGQUIT] {
            raise_in_this_thread(sig);
            assert_eq!(wait_for(Signal::Terminate), Some(Signal::Terminate));
        }
        raise_in_this_thread(SIGCHLD);
        assert_eq!(wait(Some(Duration::from_secs(2))), Some(Signal::Child));
        // Nothing pending for this thread: times out.
        let t = crate::clock::now_monotonic();
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
            std::thread::spawn(|| signal::current_mask().contains(SIGHUP)).join().unwrap()
        });
        assert!(handle.join().unwrap());
    }

    #[test]
    fn unblock_in_child_clears_the_mask() {
        let inner = std::thread::spawn(|| {
            block_all();
            unblock_in_child().unwrap();
            let hup_blocked = signal::current_mask().contains(SIGHUP);
            // Put SIGPIPE back the way the Rust runtime keeps it for the other tests.
            signal::ignore(SIGPIPE).unwrap();
            hup_blocked
        });
        assert!(!inner.join().unwrap());
    }
}
