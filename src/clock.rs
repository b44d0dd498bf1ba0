//! The one clock of the daemon.
//!
//! Every timing decision (collection alignment, interpolation, retention) takes its "now"
//! from here, so the logic above can be tested by passing explicit times instead.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Microseconds in a second.
pub const USEC_PER_SEC: u64 = 1_000_000;

/// Wall-clock time in microseconds since the Unix epoch.
pub fn now_realtime_usec() -> u64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() * USEC_PER_SEC + u64::from(d.subsec_micros()),
        Err(_) => 0,
    }
}

/// Wall-clock time in whole seconds since the Unix epoch.
pub fn now_realtime_sec() -> i64 {
    (now_realtime_usec() / USEC_PER_SEC) as i64
}

/// Monotonic time, for measuring intervals that must not jump with the wall clock. The one
/// caller of `Instant::now` in `src/` (clippy.toml disallows it elsewhere).
#[allow(clippy::disallowed_methods)]
pub fn now_monotonic() -> std::time::Instant {
    std::time::Instant::now()
}

/// How long to sleep from `now_usec` until the next wall-clock multiple of `every_sec`.
///
/// A collector that sleeps this long wakes at `k × every_sec` seconds exactly, like Netdata's
/// heartbeat; `every_sec` of 0 is treated as 1.
pub fn until_next_boundary(now_usec: u64, every_sec: u32) -> Duration {
    let step = u64::from(every_sec.max(1)) * USEC_PER_SEC;
    let next = (now_usec / step + 1) * step;
    Duration::from_micros(next - now_usec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_is_next_multiple() {
        assert_eq!(until_next_boundary(10_200_000, 1), Duration::from_micros(800_000));
        assert_eq!(until_next_boundary(10_000_000, 5), Duration::from_micros(5_000_000));
        assert_eq!(until_next_boundary(12_500_000, 5), Duration::from_micros(2_500_000));
        assert_eq!(until_next_boundary(12_500_000, 0), Duration::from_micros(500_000));
    }
}
