//! Times from outside that a chart refuses: a collection that would move its clock too far
//! past the local one, a chart state whose times are off.

use crate::clock::USEC_PER_SEC;
use crate::rrd::MAX_FUTURE_SECS;

/// A time from outside refused because it would move a chart's clock past the local clock
/// by more than [`MAX_FUTURE_SECS`]: nothing was changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ClockLeap {
    /// How far past the local clock the chart would have been, microseconds.
    pub ahead_ut: u64,
}

impl ClockLeap {
    /// `Err` when `ut` is more than [`MAX_FUTURE_SECS`] past `now_ut`.
    pub fn check(ut: u64, now_ut: u64) -> Result<(), ClockLeap> {
        if ut > now_ut.saturating_add(MAX_FUTURE_SECS * USEC_PER_SEC) {
            Err(ClockLeap { ahead_ut: ut - now_ut })
        } else {
            Ok(())
        }
    }
}

impl std::fmt::Display for ClockLeap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.3} s ahead of the local clock (at most {MAX_FUTURE_SECS} s allowed)",
            self.ahead_ut as f64 / USEC_PER_SEC as f64
        )
    }
}

/// Why a chart state from outside (`RSSTATE`) was refused: nothing was changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClockRefused {
    /// Too far past the local clock.
    Ahead(ClockLeap),
    /// Behind the chart's own clock by this many microseconds.
    Backwards { behind_ut: u64 },
}

impl std::fmt::Display for ClockRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockRefused::Ahead(leap) => leap.fmt(f),
            ClockRefused::Backwards { behind_ut } => write!(
                f,
                "{:.3} s behind the chart's own clock (a chart's clock is not moved back)",
                *behind_ut as f64 / USEC_PER_SEC as f64
            ),
        }
    }
}
