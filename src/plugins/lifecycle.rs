//! What happens to a plugin after its process ended (protocol.md §5.6), as a pure function.

use std::time::Duration;

use crate::sys::signal::SIGTERM;

/// Consecutive failed runs after which a plugin is disabled ("more than 10").
pub const MAX_SERIAL_FAILURES: u32 = 10;

/// How the process ended, as `waitpid` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// What the agent does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Start it again after this long.
    Restart(Duration),
    /// Never start it again (until the daemon restarts); the reason is for the log.
    Disable(String),
}

/// What the agent remembers of a plugin across its runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Some run ever completed a collection.
    pub ever_collected: bool,
    /// Runs in a row that failed (see [`decide`]).
    pub serial_failures: u32,
}

/// Applies the §5.6 table.
///
/// `disabled` is the reason when the plugin printed `DISABLE` or an error marked ✖ ended it;
/// `collected` when this run completed at least one collection.
pub fn decide(
    history: &mut History,
    disabled: Option<&str>,
    exit: Exit,
    collected: bool,
    update_every: u32,
) -> Next {
    let every = Duration::from_secs(u64::from(update_every.max(1)));
    if collected {
        history.ever_collected = true;
    }
    if let Some(why) = disabled {
        return Next::Disable(why.to_owned());
    }
    let failed = |history: &mut History, what: String| {
        history.serial_failures += 1;
        if history.serial_failures > MAX_SERIAL_FAILURES {
            Next::Disable(format!("{what}, {} times in a row", history.serial_failures))
        } else {
            Next::Restart(every * 10)
        }
    };
    match exit {
        Exit::Signal(sig) if sig != SIGTERM => Next::Disable(format!("it was killed by signal {sig}")),
        Exit::Code(0) | Exit::Signal(_) => {
            if collected {
                history.serial_failures = 0;
                Next::Restart(every)
            } else {
                failed(history, "it ended without collecting any data".into())
            }
        }
        Exit::Code(code) => {
            if !history.ever_collected {
                Next::Disable(format!("it exited with code {code} and never collected any data"))
            } else {
                if collected {
                    history.serial_failures = 0;
                }
                failed(history, format!("it exited with code {code}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::signal::{SIGKILL, SIGSEGV};

    const UE: u32 = 2;
    fn secs(s: u64) -> Next {
        Next::Restart(Duration::from_secs(s))
    }

    #[test]
    fn disable_is_final() {
        let mut h = History::default();
        assert!(matches!(decide(&mut h, Some("DISABLE"), Exit::Code(0), true, UE), Next::Disable(_)));
    }

    #[test]
    fn clean_exit_after_collecting_restarts_after_update_every() {
        let mut h = History::default();
        assert_eq!(decide(&mut h, None, Exit::Code(0), true, UE), secs(2));
        assert_eq!(decide(&mut h, None, Exit::Signal(SIGTERM), true, UE), secs(2));
        assert_eq!(h.serial_failures, 0);
    }

    #[test]
    fn clean_exit_without_collecting_restarts_slowly_then_disables() {
        let mut h = History::default();
        for _ in 0..MAX_SERIAL_FAILURES {
            assert_eq!(decide(&mut h, None, Exit::Code(0), false, UE), secs(20));
        }
        assert!(matches!(decide(&mut h, None, Exit::Code(0), false, UE), Next::Disable(_)));
    }

    #[test]
    fn failure_without_ever_collecting_disables() {
        let mut h = History::default();
        assert!(matches!(decide(&mut h, None, Exit::Code(1), false, UE), Next::Disable(_)));
    }

    #[test]
    fn failure_after_collecting_in_the_past_restarts_slowly_then_disables() {
        let mut h = History::default();
        assert_eq!(decide(&mut h, None, Exit::Code(0), true, UE), secs(2));
        for _ in 0..MAX_SERIAL_FAILURES {
            assert_eq!(decide(&mut h, None, Exit::Code(3), false, UE), secs(20));
        }
        assert!(matches!(decide(&mut h, None, Exit::Code(3), false, UE), Next::Disable(_)));
        // A run that collected resets the count.
        let mut h = History { ever_collected: true, serial_failures: 9 };
        assert_eq!(decide(&mut h, None, Exit::Code(3), true, UE), secs(20));
        assert_eq!(h.serial_failures, 1);
    }

    #[test]
    fn killed_by_another_signal_disables() {
        let mut h = History { ever_collected: true, serial_failures: 0 };
        assert!(matches!(decide(&mut h, None, Exit::Signal(SIGKILL), true, UE), Next::Disable(_)));
        assert!(matches!(decide(&mut h, None, Exit::Signal(SIGSEGV), false, UE), Next::Disable(_)));
    }
}
