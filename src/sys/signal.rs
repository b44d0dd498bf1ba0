//! Signal sets, thread signal masks and synchronous waiting for signals.
//!
//! The daemon never installs a handler: it blocks the signals it cares about and collects
//! them with [`wait`] (see `daemon::signals`), so no code of ours runs in signal context.

use std::io;
use std::time::Duration;

/// A signal number.
pub type Signo = libc::c_int;

pub use libc::{SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGQUIT, SIGSEGV, SIGTERM, SIGUSR2};

/// A set of signals (`sigset_t`), always initialised.
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl std::fmt::Debug for SigSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let members: Vec<Signo> = (1..32).filter(|&s| self.contains(s)).collect();
        f.debug_tuple("SigSet").field(&members).finish()
    }
}

impl SigSet {
    /// The empty set.
    pub fn empty() -> SigSet {
        // SAFETY: sigemptyset initialises the zeroed set before anything reads it.
        unsafe {
            let mut set = std::mem::zeroed::<libc::sigset_t>();
            libc::sigemptyset(&mut set);
            SigSet(set)
        }
    }

    /// The set of `signals` (invalid numbers are left out).
    pub fn of(signals: &[Signo]) -> SigSet {
        let mut set = SigSet::empty();
        for &sig in signals {
            // SAFETY: `set.0` is an initialised sigset_t; sigaddset rejects invalid numbers.
            unsafe { libc::sigaddset(&mut set.0, sig) };
        }
        set
    }

    /// Whether `sig` is in the set.
    pub fn contains(&self, sig: Signo) -> bool {
        // SAFETY: `self.0` is an initialised sigset_t.
        unsafe { libc::sigismember(&self.0, sig) == 1 }
    }
}

/// Adds `set` to the calling thread's signal mask (threads spawned later inherit it).
pub fn block(set: &SigSet) -> io::Result<()> {
    change_mask(libc::SIG_BLOCK, set)
}

/// Replaces the calling thread's signal mask with `set`. Async-signal-safe.
pub fn set_mask(set: &SigSet) -> io::Result<()> {
    change_mask(libc::SIG_SETMASK, set)
}

/// The calling thread's signal mask.
pub fn current_mask() -> SigSet {
    let mut cur = SigSet::empty();
    // SAFETY: a null new set only queries the mask into `cur`, a valid sigset_t.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut cur.0) };
    cur
}

/// Ignores `sig` process-wide (SIG_IGN). Async-signal-safe.
pub fn ignore(sig: Signo) -> io::Result<()> {
    set_action(sig, libc::SIG_IGN)
}

/// Restores the default action of `sig` process-wide (SIG_DFL). Async-signal-safe.
pub fn restore_default(sig: Signo) -> io::Result<()> {
    set_action(sig, libc::SIG_DFL)
}

/// Waits up to `timeout` (forever with `None`) for a signal of `set`, which must be blocked
/// in the calling thread; `None` when the time ran out. Interrupted waits are resumed
/// (with the full timeout again).
pub fn wait(set: &SigSet, timeout: Option<Duration>) -> Option<Signo> {
    let ts = timeout.map(timespec);
    loop {
        let signo = match &ts {
            // SAFETY: `set` and `t` are valid for the call; a null siginfo is allowed.
            Some(t) => unsafe { libc::sigtimedwait(&set.0, std::ptr::null_mut(), t) },
            // SAFETY: `set` is valid for the call; a null siginfo is allowed.
            None => unsafe { libc::sigwaitinfo(&set.0, std::ptr::null_mut()) },
        };
        match signo {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
            // EAGAIN: the time ran out.
            -1 => return None,
            sig => return Some(sig),
        }
    }
}

/// Sends `sig` to the calling thread only (`pthread_kill(pthread_self())`).
pub fn raise_in_this_thread(sig: Signo) -> io::Result<()> {
    // SAFETY: pthread_self is always a valid thread of this process: the caller.
    match unsafe { libc::pthread_kill(libc::pthread_self(), sig) } {
        0 => Ok(()),
        rc => Err(io::Error::from_raw_os_error(rc)),
    }
}

/// Empties the signal mask and puts SIGPIPE back to its default action: the state a program
/// expects at exec. Only async-signal-safe calls, so usable between fork and exec.
pub fn reset_for_child() -> io::Result<()> {
    set_mask(&SigSet::empty())?;
    restore_default(SIGPIPE)
}

fn change_mask(how: libc::c_int, set: &SigSet) -> io::Result<()> {
    // SAFETY: `set.0` is an initialised sigset_t; a null old-set pointer is allowed.
    match unsafe { libc::pthread_sigmask(how, &set.0, std::ptr::null_mut()) } {
        0 => Ok(()),
        rc => Err(io::Error::from_raw_os_error(rc)),
    }
}

fn set_action(sig: Signo, action: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: SIG_IGN and SIG_DFL run no code of ours in signal context.
    if unsafe { libc::signal(sig, action) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `d` as a timespec. Built field by field: with musl's 64-bit time_t on 32-bit targets the
/// struct has private padding. `time_t` is not named (32 or 64 bits depending on the
/// target): timeouts beyond i32::MAX seconds (68 years) are clamped to that.
fn timespec(d: Duration) -> libc::timespec {
    // SAFETY: an all-zero timespec is a valid value of this plain C struct.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    t.tv_sec = d.as_secs().try_into().unwrap_or_else(|_| i32::MAX.into());
    // c_long: 32 bits on some targets, so the conversion is fallible there.
    #[allow(clippy::unnecessary_fallible_conversions)]
    {
        t.tv_nsec = d.subsec_nanos().try_into().unwrap_or(0);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_what_was_added() {
        let s = SigSet::of(&[SIGHUP, SIGTERM]);
        assert!(s.contains(SIGHUP) && s.contains(SIGTERM));
        assert!(!s.contains(SIGINT));
        assert!(!SigSet::empty().contains(SIGHUP));
        assert_eq!(format!("{:?}", SigSet::of(&[SIGINT, SIGHUP])), format!("SigSet([{SIGHUP}, {SIGINT}])"));
    }

    #[test]
    fn a_blocked_signal_is_waited_for() {
        std::thread::spawn(|| {
            let set = SigSet::of(&[SIGHUP]);
            block(&set).unwrap();
            assert!(current_mask().contains(SIGHUP));
            raise_in_this_thread(SIGHUP).unwrap();
            assert_eq!(wait(&set, Some(Duration::from_secs(2))), Some(SIGHUP));
            let t = crate::clock::now_monotonic();
            assert_eq!(wait(&set, Some(Duration::from_millis(30))), None);
            assert!(t.elapsed() >= Duration::from_millis(25));
            set_mask(&SigSet::empty()).unwrap();
            assert!(!current_mask().contains(SIGHUP));
        })
        .join()
        .unwrap();
    }

    #[test]
    #[allow(clippy::unnecessary_cast)] // the field widths differ between targets
    fn timespec_splits_seconds_and_nanoseconds() {
        let t = timespec(Duration::new(3, 250));
        assert_eq!((t.tv_sec as i64, t.tv_nsec as i64), (3, 250));
        assert_eq!(timespec(Duration::from_secs(u64::MAX)).tv_sec as i64, i64::from(i32::MAX));
    }
}
