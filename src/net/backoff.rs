//! Jittered exponential back-off for reconnections (the sender, exporting connectors): the
//! delay doubles per consecutive failure up to a cap, never goes below a failure class's own
//! floor, and is jittered so that a fleet of nodes does not reconnect in lock-step.

use std::time::Duration;

/// Jittered exponential back-off for reconnections.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
    rng: crate::rng::Rng,
}

impl Backoff {
    /// `base` is `reconnect delay seconds`; the delay doubles per consecutive failure up to
    /// `max`. Rejects a zero base or a max below the base.
    pub fn try_new(base: Duration, max: Duration, seed: u64) -> Result<Backoff, String> {
        if base.is_zero() {
            return Err("reconnect delay must be at least 1 second".into());
        }
        if max < base {
            return Err("the maximum back-off must not be below the reconnect delay".into());
        }
        Ok(Backoff { base, max, failures: 0, rng: crate::rng::Rng::new(seed) })
    }

    /// The delay after one more failure, at least `floor` (a rejection's own delay), with
    /// ±20 % jitter so that a fleet of children does not reconnect in lock-step.
    pub fn next(&mut self, floor: Duration) -> Duration {
        let growth = 1u32 << self.failures.min(6);
        self.failures = self.failures.saturating_add(1);
        let delay = (self.base * growth).min(self.max).max(floor);
        let unit = self.rng.unit();
        delay.mul_f64(0.8 + 0.4 * unit).max(Duration::from_secs(1))
    }

    /// A successful connection starts the sequence again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_jitters_and_resets() {
        assert!(Backoff::try_new(Duration::ZERO, Duration::from_secs(1), 1).is_err());
        assert!(Backoff::try_new(Duration::from_secs(5), Duration::from_secs(1), 1).is_err());
        let mut b = Backoff::try_new(Duration::from_secs(5), Duration::from_secs(60), 42).unwrap();
        let first = b.next(Duration::ZERO);
        assert!(first >= Duration::from_secs(4) && first <= Duration::from_secs(6), "{first:?}");
        let mut last = first;
        for _ in 0..10 {
            last = b.next(Duration::ZERO);
            assert!(last <= Duration::from_secs(72), "capped: {last:?}");
        }
        assert!(last >= Duration::from_secs(48), "grew to the cap: {last:?}");
        let floor = b.next(Duration::from_secs(3600));
        assert!(floor >= Duration::from_secs(2880), "a rejection's delay is a floor: {floor:?}");
        b.reset();
        assert!(b.next(Duration::ZERO) <= Duration::from_secs(6));
        // Different seeds spread a fleet.
        let mut a = Backoff::try_new(Duration::from_secs(5), Duration::from_secs(60), 1).unwrap();
        let mut c = Backoff::try_new(Duration::from_secs(5), Duration::from_secs(60), 2).unwrap();
        assert_ne!(a.next(Duration::ZERO), c.next(Duration::ZERO));
    }
}
