//! One collection (`begin` → `set` → `end`) and the arithmetic behind it: aligning the
//! clock, computing each algorithm, interpolating onto `update every` boundaries and storing.
//! Netdata 1.37's `rrdset_done`, written anew from protocol.md §5.4–5.5.

use super::*;

pub struct Collection<'a> {
    pub(super) st: MutexGuard<'a, ChartState>,
    pub(super) now_ut: u64,
    pub(super) observer: &'a ObserverSlot,
    /// Set when the collection was refused: `set` and `end` do nothing.
    pub(super) refused: Option<ClockLeap>,
}

impl Collection<'_> {
    /// Microseconds since the previous collection as this chart counts them: what a child
    /// sends in `BEGIN` so that the parent computes the same slots.
    pub fn usec_since_last_update(&self) -> u64 {
        self.st.usec_since_last_update
    }

    /// Sets the raw value of dimension `dim` for this collection.
    pub fn set(&mut self, dim: usize, value: i64) {
        let now = self.now_ut;
        if self.refused.is_some() {
            return;
        }
        if let Some(d) = self.st.dims.get_mut(dim) {
            d.last_collected_ut = now;
            d.collected_value = value;
            d.updated = true;
            d.collections_counter += 1;
            d.collected_value_max = d.collected_value_max.max(value.unsigned_abs());
        }
    }

    /// Sets a dimension by id; false if the chart has no such dimension.
    pub fn set_by_id(&mut self, id: &str, value: i64) -> bool {
        match self.st.by_id.get(id).copied() {
            Some(i) => {
                self.set(i, value);
                true
            }
            None => false,
        }
    }

    /// Completes the collection: computes, interpolates and stores.
    pub fn end(mut self) {
        if self.refused.is_some() {
            return;
        }
        let now = self.now_ut;
        let observer = self.observer.read().clone();
        self.st.done(now, observer.as_deref());
    }
}

impl ChartState {
    pub(super) fn step_ut(&self) -> u64 {
        u64::from(self.meta.update_every.max(1)) * USEC_PER_SEC
    }

    /// Decides the duration of the collection starting at `now_ut`, or refuses it (changing
    /// nothing) when it would move the clock more than [`MAX_FUTURE_SECS`] past `now_ut`.
    pub(super) fn start(&mut self, now_ut: u64, usec: u64, trust: bool) -> Result<(), ClockLeap> {
        if self.dims.capacity() > self.dims.len() {
            // Defined: drop the slack of the vector's doubling (a parent holds thousands of
            // charts). A dimension added later reallocates once more.
            self.dims.shrink_to_fit();
        }
        if self.counter_done == 0 {
            return Ok(()); // the first collection is placed at now by `done`
        }
        // A clock already past the limit got there by the local clock going back, not by
        // this source: resynchronise (next_usec's "database in the future") instead.
        let ahead = ClockLeap::check(self.last_collected_ut, now_ut).is_err();
        if trust && usec > 0 && self.last_collected_ut != 0 && !self.sync_clock && !ahead {
            ClockLeap::check(self.last_collected_ut.saturating_add(usec), now_ut)?;
            self.usec_since_last_update = usec;
            return Ok(());
        }
        let saved = self.usec_since_last_update;
        let given = usec > 0 && !self.sync_clock;
        self.next_usec(now_ut, usec);
        // Only a duration taken as the source gave it can leap (the others are measured
        // here, and bounded); taking it changed nothing but the duration.
        if given {
            let to = self.last_collected_ut.saturating_add(self.usec_since_last_update);
            if let Err(leap) = ClockLeap::check(to, now_ut) {
                self.usec_since_last_update = saved;
                return Err(leap);
            }
        }
        Ok(())
    }

    /// Netdata's `rrdset_next_usec`: the time since the last collection, sanity-checked.
    /// Unlike Netdata, a clock more than [`MAX_FUTURE_SECS`] in the future is pulled back
    /// to now also when the source gave no duration (measuring `|now − last|` would push it
    /// further ahead).
    pub(super) fn next_usec(&mut self, now_ut: u64, mut usec: u64) {
        let step = self.step_ut();
        if self.sync_clock {
            self.sync_clock = false;
            usec = 0;
        }
        if self.last_collected_ut == 0 {
            usec = step;
        } else if usec == 0 && now_ut >= self.last_collected_ut {
            usec = now_ut - self.last_collected_ut;
        } else if usec == 0 && self.last_collected_ut - now_ut <= step {
            // Collected again within the current step by a source that gives no durations
            // (faster than once a step, or just after the half-second alignment): nothing
            // new to store yet. Netdata's absolute difference would move the clock ahead by
            // the gap, doubling it with every such collection.
            usec = 0;
        } else if now_ut < self.last_collected_ut {
            self.future_adjustments += 1;
            if self.future_adjustments.is_power_of_two() {
                log::info!(
                    "chart '{}': the database is {:.5} s in the future; adjusting it to the current time ({} time(s) so far)",
                    self.meta.id,
                    (self.last_collected_ut - now_ut) as f64 / USEC_PER_SEC as f64,
                    self.future_adjustments
                );
            }
            let back = now_ut.saturating_sub(step);
            self.last_collected_ut = self.align_collected(back);
            self.last_updated_ut = self.align_updated(back);
            usec = step;
        } else if now_ut - self.last_collected_ut > 5 * step {
            usec = now_ut - self.last_collected_ut;
        }
        self.usec_since_last_update = usec;
    }

    /// Collection times sit half a second past a step boundary (`store_first`: on it).
    pub(super) fn align_collected(&self, ut: u64) -> u64 {
        let ue = u64::from(self.meta.update_every.max(1));
        let sec = ut / USEC_PER_SEC;
        (sec - sec % ue) * USEC_PER_SEC + if self.meta.options.store_first { 0 } else { USEC_PER_SEC / 2 }
    }

    /// Storage times are whole step boundaries.
    pub(super) fn align_updated(&self, ut: u64) -> u64 {
        let ue = u64::from(self.meta.update_every.max(1));
        let sec = ut / USEC_PER_SEC;
        (sec - sec % ue) * USEC_PER_SEC
    }

    pub(super) fn init_last_updated(&mut self) {
        let mut ut = self.last_collected_ut;
        if self.meta.options.store_first {
            ut = ut.saturating_sub(self.step_ut());
        }
        self.last_updated_ut = self.align_updated(ut);
    }

    /// Netdata's `rrdset_done`.
    pub(super) fn done(&mut self, now_ut: u64, observer: Option<&dyn Observer>) {
        let step = self.step_ut();
        let mut store_this_entry = true;
        let mut first_entry = false;

        let mut last_collect_ut;
        if self.last_collected_ut == 0 {
            self.last_collected_ut = self.align_collected(now_ut);
            last_collect_ut = self.last_collected_ut - step.min(self.last_collected_ut);
            store_this_entry = false;
            first_entry = true;
        } else {
            last_collect_ut = self.last_collected_ut;
            self.last_collected_ut += self.usec_since_last_update;
        }

        if self.last_updated_ut == 0 {
            self.init_last_updated();
        }

        // Saturating: a peer may define any `update every` up to u32::MAX.
        let history_ut = u64::from(self.storage.entries.max(1)).saturating_mul(step);
        if self.last_collected_ut.saturating_sub(self.last_updated_ut) > history_ut {
            log::info!(
                "chart '{}': too old data (last stored at {}, collected at {}); starting over, the next point is not stored",
                self.meta.id,
                self.last_updated_ut / USEC_PER_SEC,
                self.last_collected_ut / USEC_PER_SEC
            );
            // Start again as if this were the first collection: what is set now becomes the
            // base of the next increment.
            self.last_collected_ut = self.align_collected(now_ut);
            last_collect_ut = self.last_collected_ut - step.min(self.last_collected_ut);
            self.init_last_updated();
            self.usec_since_last_update = step;
            for d in &mut self.dims {
                d.collections_counter = u64::from(d.updated);
                d.last_calculated_value = 0.0;
            }
            store_this_entry = false;
            first_entry = true;
        }

        let now_collect_ut = self.last_collected_ut;
        let last_stored_ut = self.last_updated_ut;
        let next_store_ut = self.last_updated_ut + step;

        if self.counter_done == 0 && self.meta.options.store_first {
            store_this_entry = true;
            last_collect_ut = next_store_ut - step;
        }

        self.counter += 1;
        self.counter_done += 1;

        self.collected_total =
            self.dims.iter().filter(|d| d.updated).fold(0i64, |sum, d| sum.wrapping_add(d.collected_value));

        let reset = self.calculate();
        self.interpolate(
            step,
            last_stored_ut,
            next_store_ut,
            last_collect_ut,
            now_collect_ut,
            store_this_entry,
            reset,
        );

        if let Some(o) = observer {
            let mut stream = std::mem::take(&mut self.stream);
            o.collected(&ChartView { st: self }, &mut stream);
            self.stream = stream;
        }

        self.last_collected_total = self.collected_total;
        for d in self.dims.iter_mut().filter(|d| d.updated) {
            d.last_collected_value = d.collected_value;
            match d.meta.algorithm {
                Algorithm::Incremental => {
                    if !first_entry {
                        d.last_calculated_value += d.calculated_value;
                    }
                }
                _ => d.last_calculated_value = d.calculated_value,
            }
            d.calculated_value = 0.0;
            d.collected_value = 0;
            d.updated = false;
        }
    }

    /// Turns the raw values of this collection into calculated values (no interpolation yet).
    /// Returns whether a counter reset or wrap was seen on a dimension that reports them.
    pub(super) fn calculate(&mut self) -> bool {
        let total = self.collected_total;
        let total_delta = total.wrapping_sub(self.last_collected_total);
        let mut reset = false;
        for d in &mut self.dims {
            if !d.updated {
                d.calculated_value = 0.0;
                continue;
            }
            let (mul, div) = (d.meta.multiplier as f64, d.meta.divisor as f64);
            match d.meta.algorithm {
                Algorithm::Absolute => {
                    d.calculated_value = d.collected_value as f64 * mul / div;
                }
                Algorithm::PercentageOfAbsoluteRow => {
                    d.calculated_value =
                        if total == 0 { 0.0 } else { 100.0 * d.collected_value as f64 / total as f64 };
                }
                Algorithm::Incremental => {
                    if d.collections_counter <= 1 {
                        d.calculated_value = 0.0;
                        continue;
                    }
                    let last = d.last_collected_value as u64;
                    let new = d.collected_value as u64;
                    if last > new {
                        if !d.meta.options.noreset {
                            reset = true;
                        }
                        let cap: u64 = if d.collected_value_max > u64::from(u32::MAX) {
                            u64::MAX
                        } else {
                            u64::from(u32::MAX)
                        };
                        let delta = cap.wrapping_sub(last).wrapping_add(new);
                        if delta < (cap / 100) * MAX_INCREMENTAL_PERCENT_RATE {
                            // An overflow: count what went past the cap.
                            d.calculated_value += delta as f64 * mul / div;
                        } else {
                            // A reset (or an implausibly fast wrap): no increment this time.
                            d.calculated_value = 0.0;
                        }
                    } else {
                        d.calculated_value +=
                            d.collected_value.wrapping_sub(d.last_collected_value) as f64 * mul / div;
                    }
                }
                Algorithm::PercentageOfIncrementalRow => {
                    if d.collections_counter <= 1 {
                        d.calculated_value = 0.0;
                        continue;
                    }
                    if (d.last_collected_value as u64) > (d.collected_value as u64) {
                        if !d.meta.options.noreset {
                            reset = true;
                        }
                        d.last_collected_value = d.collected_value;
                    }
                    d.calculated_value = if total_delta == 0 {
                        0.0
                    } else {
                        100.0 * d.collected_value.wrapping_sub(d.last_collected_value) as f64
                            / total_delta as f64
                    };
                }
            }
        }
        reset
    }

    /// Stores a value at every step boundary in `(last stored, now_collect_ut]`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn interpolate(
        &mut self,
        step: u64,
        mut last_stored_ut: u64,
        mut next_store_ut: u64,
        mut last_collect_ut: u64,
        now_collect_ut: u64,
        store_this_entry: bool,
        mut reset: bool,
    ) {
        let mut iterations = (now_collect_ut.saturating_sub(last_stored_ut) / step) as i64;
        if now_collect_ut % step == 0 {
            iterations += 1;
        }
        let ue = f64::from(self.meta.update_every.max(1));
        let gap_limit = i64::from(self.storage.gap_when_lost_iterations_above) + 2;

        // The first iterations store only empty slots: all of them when this entry is not
        // stored, else those with `iterations >= gap_limit`. Many of them are done as one:
        // an incremental dimension's remainder after k iterations is
        // `calculated × (now − last boundary) / (now − last collected)`, exactly what one
        // iteration up to the last of these boundaries leaves.
        if next_store_ut <= now_collect_ut {
            let boundaries = (now_collect_ut - next_store_ut) / step + 1;
            let empty = if store_this_entry {
                u64::try_from(iterations.saturating_sub(gap_limit).saturating_add(1)).unwrap_or(0)
            } else {
                boundaries
            }
            .min(boundaries);
            if empty > MERGE_LOST_ITERATIONS_ABOVE {
                let last_empty_ut = next_store_ut + (empty - 1) * step;
                let from = (next_store_ut / USEC_PER_SEC) as i64;
                let to = (last_empty_ut / USEC_PER_SEC) as i64;
                let span = (now_collect_ut - last_collect_ut) as f64;
                let part = (last_empty_ut - last_collect_ut) as f64;
                for d in &mut self.dims {
                    if d.meta.algorithm == Algorithm::Incremental {
                        let v = d.calculated_value * part / span;
                        d.calculated_value -= v;
                        d.last_calculated_value = 0.0;
                    }
                    d.store.store_gap(from, to);
                    if store_this_entry {
                        d.last_stored_value = f64::NAN;
                    }
                }
                reset = false;
                self.counter += empty;
                self.last_updated_ut = last_empty_ut;
                last_stored_ut = last_empty_ut;
                last_collect_ut = last_empty_ut;
                next_store_ut = last_empty_ut + step;
                iterations -= empty as i64;
            }
        }

        // A dimension's first collection is stored only with `store_first` (as Netdata
        // 1.37.1 does: its first value is in the database), otherwise it is a gap.
        let first_stored = self.meta.options.store_first && self.counter_done == 1;
        while next_store_ut <= now_collect_ut {
            let t = (next_store_ut / USEC_PER_SEC) as i64;
            let span = (now_collect_ut - last_collect_ut) as f64;
            let part = (next_store_ut - last_collect_ut) as f64;
            for d in &mut self.dims {
                let value = match d.meta.algorithm {
                    Algorithm::Incremental => {
                        let mut v = d.calculated_value * part / span;
                        d.calculated_value -= v;
                        v += d.last_calculated_value;
                        d.last_calculated_value = 0.0;
                        v /= ue;
                        let since_stored = next_store_ut - last_stored_ut;
                        if since_stored < step {
                            // A first slot shorter than a step: extrapolate to a full one.
                            v = v * step as f64 / since_stored as f64;
                        }
                        v
                    }
                    _ => {
                        if iterations == 1 {
                            d.calculated_value
                        } else {
                            (d.calculated_value - d.last_calculated_value) * part / span
                                + d.last_calculated_value
                        }
                    }
                };

                if !store_this_entry {
                    d.store.store(t, StorageNumber::EMPTY);
                    continue;
                }
                if d.updated && (d.collections_counter > 1 || first_stored) && iterations < gap_limit {
                    let flag = reset && !d.meta.options.noreset;
                    d.store.store(t, StorageNumber::pack(value, flag));
                    d.last_stored_value = value;
                } else {
                    d.store.store(t, StorageNumber::EMPTY);
                    d.last_stored_value = f64::NAN;
                }
            }
            reset = false;
            self.counter += 1;
            self.last_updated_ut = next_store_ut;
            last_stored_ut = next_store_ut;
            last_collect_ut = next_store_ut;
            next_store_ut += step;
            iterations -= 1;
        }
    }
}
