//! The ring mechanics every tier shares, whatever its slot kind (tier 0's 4-byte
//! `StorageNumber` words, upper tiers' 14-byte consolidated points): which slot holds a time,
//! the window, advancing with gaps, reaching back, and the O(1) jump past the whole window.
//!
//! Guarantees: the value for aligned time `t` lives in slot `(t / update_every) % entries`;
//! all-zero slot bytes are the empty slot for every kind; work per call is bounded by the ring
//! size, never by the times given (a jump past the whole window marks the old slots stale in
//! O(1); they read as empty and are zeroed with one slice fill only if an older point is
//! later written into the window; a shorter gap is zeroed with at most two slice fills).
//!
//! Times: `last_t` is the newest stored time; the window is the last `entries` steps up to
//! it; `first_t` is the later of the window start and the oldest time written since the ring
//! was created (persisted, so it survives restarts).

use super::file::NO_TIME;

/// The storage of a ring's slots: whatever the slot size, zeroed slots are empty.
pub(crate) trait Zero {
    /// Zeroes `len` slots from `i` (the caller keeps `i + len <= entries`).
    fn zero(&mut self, i: usize, len: usize);
}

/// A ring's geometry and times; the slots live elsewhere (see [`Zero`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ring {
    /// Newest stored time, or `NO_TIME`.
    pub last_t: i64,
    /// Oldest time written since the ring was created, or `NO_TIME`.
    pub first_written: i64,
    /// Slots of times before this one are stale (left from before a jump past the whole
    /// window) and read as empty; `NO_TIME` when every slot of the window is current.
    pub stale_before: i64,
    /// Seconds per slot, at least 1.
    pub update_every: u32,
    /// Slots, at least 1.
    pub entries: u32,
    /// Slots zeroed so far: lets tests see how much work a store did.
    #[cfg(test)]
    pub zeroed: u64,
}

impl Ring {
    pub fn new(update_every: u32, entries: u32) -> Ring {
        Ring {
            last_t: NO_TIME,
            first_written: NO_TIME,
            stale_before: NO_TIME,
            update_every: update_every.max(1),
            entries: entries.max(1),
            #[cfg(test)]
            zeroed: 0,
        }
    }

    /// Forgets every time (the slots are expected to be zero, or unused).
    pub fn clear(&mut self) {
        self.last_t = NO_TIME;
        self.first_written = NO_TIME;
        self.stale_before = NO_TIME;
    }

    /// Takes the persisted times of a file (`first_t` as [`Ring::header_first_t`] wrote it).
    pub fn load_times(&mut self, last_t: i64, first_t: i64) {
        self.last_t = last_t;
        self.first_written = first_t;
        self.stale_before = NO_TIME;
    }

    #[inline]
    pub fn align(&self, t: i64) -> i64 {
        t.saturating_sub(t.rem_euclid(i64::from(self.update_every)))
    }

    /// The next aligned time at or after `t` (saturating).
    #[inline]
    pub fn align_up(&self, t: i64) -> i64 {
        let ue = i64::from(self.update_every);
        t.saturating_add((ue - t.rem_euclid(ue)) % ue)
    }

    #[inline]
    pub fn index(&self, t: i64) -> usize {
        (t.div_euclid(i64::from(self.update_every))).rem_euclid(i64::from(self.entries)) as usize
    }

    #[inline]
    pub fn window_start(&self) -> i64 {
        let span = i64::from(self.entries - 1) * i64::from(self.update_every);
        self.last_t.saturating_sub(span)
    }

    /// Slot of `t` holds data from before a jump (reads as empty).
    #[inline]
    pub fn is_stale(&self, t: i64) -> bool {
        self.stale_before != NO_TIME && t < self.stale_before
    }

    /// The oldest time in the window that was written since the ring was created.
    pub fn first_t(&self) -> Option<i64> {
        if self.last_t == NO_TIME || self.first_written == NO_TIME {
            return None;
        }
        Some(self.first_written.max(self.window_start()))
    }

    /// The newest stored time.
    pub fn last_t(&self) -> Option<i64> {
        (self.last_t != NO_TIME).then_some(self.last_t)
    }

    /// True when the slot of aligned `t` holds `t`'s current value (inside `[first_t,
    /// last_t]` and not stale).
    #[inline]
    pub fn holds(&self, t: i64) -> bool {
        match self.first_t() {
            Some(first) => t >= first && t <= self.last_t && !self.is_stale(t),
            None => false,
        }
    }

    /// The first time a file records: nothing before a jump survives a restart.
    pub fn header_first_t(&self) -> i64 {
        if self.stale_before == NO_TIME || self.first_written == NO_TIME {
            self.first_written
        } else {
            self.first_written.max(self.stale_before)
        }
    }

    /// Makes room for a write at aligned `t >= 0` and returns its slot, or `None` when `t`
    /// is older than the window (ignored). A later time becomes `last_t` (the slots between
    /// are emptied); a time inside the window keeps `last_t`.
    #[inline]
    pub fn prepare(&mut self, t: i64, z: &mut impl Zero) -> Option<usize> {
        if self.last_t == NO_TIME || t > self.last_t {
            self.advance(t, z);
        } else if t >= self.window_start() {
            self.reach_back(t, z);
        } else {
            return None;
        }
        Some(self.index(t))
    }

    /// `t` becomes `last_t` (`t > last_t`): the slots between become empty.
    fn advance(&mut self, t: i64, z: &mut impl Zero) {
        if self.last_t == NO_TIME {
            // A new or rebuilt ring: every slot is zero.
            self.first_written = t;
            self.stale_before = NO_TIME;
        } else {
            let ue = i64::from(self.update_every);
            let steps = (t - self.last_t) / ue;
            if steps >= i64::from(self.entries) {
                // Nothing of the old window stays in the new one: mark it stale in O(1).
                self.stale_before = t;
            } else if steps > 1 {
                self.zero_times(self.last_t + ue, t - ue, z);
            }
        }
        self.last_t = t;
    }

    /// `t` inside the window and not after `last_t` is about to be written.
    fn reach_back(&mut self, t: i64, z: &mut impl Zero) {
        if self.stale_before != NO_TIME && t < self.stale_before {
            // Stale slots would show between `t` and the jump: zero the whole window's stale
            // part once; afterwards every slot is current again.
            let ue = i64::from(self.update_every);
            self.zero_times(self.window_start(), self.stale_before - ue, z);
            self.stale_before = NO_TIME;
        }
        if t < self.first_written {
            self.first_written = t;
        }
    }

    /// Zeroes the slots of the aligned times `from..=to` (at most `entries` of them are
    /// distinct; an empty range does nothing): at most two slice fills.
    pub fn zero_times(&mut self, from: i64, to: i64, z: &mut impl Zero) {
        if from > to {
            return;
        }
        let ue = i64::from(self.update_every);
        let n = i64::from(self.entries);
        let count = ((to - from) / ue + 1).min(n) as usize;
        let i = self.index(from);
        let first = count.min(self.entries as usize - i);
        z.zero(i, first);
        if count > first {
            z.zero(0, count - first);
        }
        #[cfg(test)]
        {
            self.zeroed += count as u64;
        }
    }

    /// The aligned times of `[after, before] ∩ [first_t, last_t]`: the first one, how many,
    /// and the slot of the first (the slot advances by one per step, wrapping at `entries`).
    #[inline]
    pub fn span(&self, after: i64, before: i64) -> Option<(i64, usize, usize)> {
        let (first, last) = (self.first_t()?, self.last_t()?);
        if after > last || before < first {
            return None;
        }
        // Now first <= start and end <= last: no overflow, at most `entries` points.
        let start = self.align_up(after.max(first));
        let end = self.align(before.min(last));
        if start > end {
            return None;
        }
        let count = ((end - start) / i64::from(self.update_every) + 1) as usize;
        Some((start, count, self.index(start)))
    }

    /// Takes the newest points of `old` (same update every, maybe other entries) into this
    /// empty ring: `copy(old slot, new slot)` for each time of the old window that fits in
    /// this one, oldest first. At most `entries` copies.
    pub fn migrate_from(&mut self, old: &Ring, mut copy: impl FnMut(usize, usize)) {
        self.clear();
        if old.last_t == NO_TIME || old.first_written == NO_TIME {
            return;
        }
        let ue = i64::from(self.update_every);
        let old_span = i64::from(old.entries - 1) * ue;
        let new_span = i64::from(self.entries - 1) * ue;
        let first = old.first_written.max(old.last_t - old_span).max(old.last_t - new_span);
        let mut t = first;
        while t <= old.last_t {
            copy(old.index(t), self.index(t));
            t += ue;
        }
        self.last_t = old.last_t;
        self.first_written = first;
    }
}
