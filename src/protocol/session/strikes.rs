//! What a session refuses from a source — clock leaps, replicated points outside the range
//! asked, states with bad times, labels over the cap — counted, logged at powers of two, and
//! the source stopped once a limit of strikes is reached.

use super::Session;
use crate::protocol::command::printable;
use crate::protocol::Error;
use crate::rrd::{Chart, ClockLeap};

impl Session {
    /// A collection refused for its clock: counted, logged (rate-limited), and the source is
    /// stopped once it has done so [`crate::protocol::Limits::clock_strikes`] times.
    pub(super) fn clock_leap(&mut self, chart: &Chart, usec: u64, leap: ClockLeap) -> Result<(), Error> {
        self.clock_strikes = self.clock_strikes.saturating_add(1);
        if self.clock_strikes >= self.limits.clock_strikes.max(1) {
            return Err(Error::stop(format!(
                "{} collections refused for moving their chart's clock into the future \
                 (the last: BEGIN '{}' {usec} would put it {leap}); its time is not trusted",
                self.clock_strikes,
                chart.id()
            )));
        }
        if self.clock_strikes.is_power_of_two() {
            log::warn!(
                "{}: BEGIN '{}' {usec} refused, nothing stored: it would put the chart's clock {leap} ({} refused so far)",
                self.source,
                chart.id(),
                self.clock_strikes
            );
        }
        Ok(())
    }

    /// A replicated point outside the range asked: refused (nothing stored), counted, logged
    /// (rate-limited); the source is stopped once it has done so [`crate::protocol::Limits::replay_strikes`]
    /// times.
    pub(super) fn replay_strike(
        &mut self,
        chart: &Chart,
        start: i64,
        end: i64,
        why: &str,
    ) -> Result<(), Error> {
        self.replay_strikes = self.replay_strikes.saturating_add(1);
        if self.replay_strikes >= self.limits.replay_strikes.max(1) {
            return Err(Error::stop(format!(
                "{} replicated points refused for lying outside the range asked (the last: \
                 RBEGIN '{}' {start} {end}: {why}); its replication is not trusted",
                self.replay_strikes,
                chart.id()
            )));
        }
        if self.replay_strikes.is_power_of_two() {
            log::warn!(
                "{}: replicated point {start}..{end} of chart '{}' not stored: {why} ({} refused so far)",
                self.source,
                chart.id(),
                self.replay_strikes
            );
        }
        Ok(())
    }

    pub(super) fn state_refused(&mut self, keyword: &str, chart: &Chart, why: impl std::fmt::Display) {
        self.states_refused += 1;
        if self.states_refused.is_power_of_two() {
            log::warn!(
                "{}: {keyword} of chart '{}' refused: its time is {why} ({} refused so far)",
                self.source,
                chart.id(),
                self.states_refused
            );
        }
    }

    pub(super) fn label_dropped(&mut self, name: &str) {
        self.dropped_labels += 1;
        if self.dropped_labels.is_power_of_two() {
            log::warn!(
                "{}: label '{}' dropped: more than {} pending labels ({} dropped so far)",
                self.source,
                printable(name),
                self.limits.labels,
                self.dropped_labels
            );
        }
    }
}
