//! One dimension's round-robin storage in any [`MemoryMode`]: tier 0, a time-indexed ring
//! of [`StorageNumber`] slots, and optional upper tiers of consolidated points (see
//! `tier.rs`, `upper.rs`), all in one file and, in `map` mode, one mapping.
//!
//! Guarantees: [`DimensionStore::open`] never fails and never trusts a bad file (it logs and
//! rebuilds, or falls back to `ram` when the file cannot be used at all); `store` and `get`
//! make no system calls in any mode and allocate only a ring's first slots in `ram`; a `map`
//! store keeps every stored point of every tier and their times in the shared mapping, so a
//! `kill -9` loses nothing the kernel had accepted. Work per store is bounded by the sizes
//! of the rings, never by the times given (see `ring.rs`).

use std::io;
use std::path::Path;

use memmap2::MmapMut;

use super::file::{Header, FIRST_T_AT, HEADER_LEN, LAST_T_AT, NO_TIME};
use super::ring::{Ring, Zero};
use super::tier::{Tier, TierOutcome, TierSpec};
use super::{Damage, MemoryMode, StorageNumber};

/// What a store is for and where its file lives.
#[derive(Clone, Copy, Debug)]
pub struct StoreSpec<'a> {
    pub mode: MemoryMode,
    /// The host directory (`<cache dir>/<machine guid>`, see [`super::host_dir`]); required
    /// for `save` and `map`, ignored for `none` and `ram`.
    pub dir: Option<&'a Path>,
    pub chart_id: &'a str,
    pub dim_id: &'a str,
    /// Seconds per slot; 0 is treated as 1.
    pub update_every: u32,
    /// Slots; clamped to `1..=MAX_ENTRIES` (and raised to twice the first upper tier's
    /// iterations when there is one).
    pub entries: u32,
    /// Upper tiers in order (tier 1, tier 2, …); empty = tier 0 only. At most
    /// `MAX_TIERS - 1` are used; ignored in `none` mode.
    pub tiers: &'a [TierSpec],
}

/// How [`DimensionStore::open`] found its file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpenOutcome {
    /// `none` or `ram`: no file involved.
    Memory,
    /// No file existed; a new one was created (`map`) or will be written by `save()`.
    Created,
    /// The file was valid and its data was loaded or mapped.
    Loaded,
    /// The file was valid but had another number of entries; the newest points that fit
    /// were kept.
    Resized { from: u32, to: u32 },
    /// The file was not trusted and the ring starts empty (logged with a warning).
    Rebuilt(Damage),
    /// The file or its directory could not be used; the store keeps its data in `ram`
    /// (logged as an error).
    FellBackToRam,
}

/// One dimension's round-robin storage.
pub struct DimensionStore {
    pub(super) slots: Slots,
    /// Tier 0's geometry and times.
    pub(super) ring: Ring,
    pub(super) mode: MemoryMode,
    pub(super) outcome: OpenOutcome,
    /// Hash of the owning ids, for headers written later.
    pub(super) ids: u64,
    /// The file `save()` writes (save mode only).
    pub(super) save_path: Option<Box<Path>>,
    /// The upper tiers, if any: one pointer when there are none.
    pub(super) upper: Option<Box<Upper>>,
    /// Slots written so far (zeroed ones are counted by the rings): for tests.
    #[cfg(test)]
    pub(super) slot_writes: u64,
    /// Calls of `store` and `store_gap` so far.
    #[cfg(test)]
    pub(super) store_calls: u64,
}

/// The upper tiers of a store.
pub(crate) struct Upper {
    /// Tier 1, tier 2, … (at most `MAX_TIERS - 1`).
    pub tiers: Vec<Tier>,
    /// Tier 0's entries as asked for, when they had to be raised.
    pub raised0: Option<u32>,
    /// The tier warnings logged at open, for tests.
    #[cfg(test)]
    pub warnings: Vec<String>,
}

impl DimensionStore {
    /// Stores `value` at time `t` (aligned down to `update_every`).
    ///
    /// A time after `last_t` empties every slot in between and becomes `last_t`; a time inside
    /// the window overwrites in place (replication filling older points); an older time is
    /// ignored, as is a negative one (before 1970: garbage from a peer). Nothing happens in
    /// `none` mode. At most two slice fills of at most `entries` slots, whatever `t` is; with
    /// upper tiers, a closed span is consolidated into each (O(iterations) per tier).
    #[inline]
    pub fn store(&mut self, t: i64, value: StorageNumber) {
        #[cfg(test)]
        {
            self.store_calls += 1;
        }
        if matches!(self.slots, Slots::None) || t < 0 {
            return;
        }
        let t = self.ring.align(t);
        if self.upper.is_some() {
            self.store_tiered(t, value);
        } else {
            self.write0(t, value);
        }
    }

    /// Writes tier 0's slot of aligned `t >= 0`; false when `t` is older than the window.
    #[inline]
    pub(super) fn write0(&mut self, t: i64, value: StorageNumber) -> bool {
        let Some(i) = self.ring.prepare(t, &mut self.slots) else {
            return false;
        };
        if matches!(self.slots, Slots::Lazy) {
            self.slots = Slots::Mem(vec![0; self.ring.entries as usize]);
        }
        self.slots.set(i, value.to_bits());
        self.slots.set_times(self.ring.last_t, self.ring.header_first_t());
        #[cfg(test)]
        {
            self.slot_writes += 1;
        }
        true
    }

    /// The same as storing EMPTY at every aligned time of `[from, to]`, oldest first, in a
    /// bounded number of slice fills (the interpolation's lost iterations).
    pub fn store_gap(&mut self, from: i64, to: i64) {
        #[cfg(test)]
        {
            self.store_calls += 1;
        }
        if matches!(self.slots, Slots::None) || to < 0 {
            return;
        }
        let to = self.ring.align(to);
        let from = self.ring.align_up(from.max(0));
        if from > to {
            return;
        }
        if self.ring.last_t == NO_TIME || to > self.ring.last_t {
            self.store(to, StorageNumber::EMPTY);
        }
        // Now `to <= last_t`: what of the range is inside the window is overwritten in place.
        let lo = from.max(self.ring.window_start());
        if lo > to {
            return;
        }
        self.store(lo, StorageNumber::EMPTY);
        self.ring.zero_times(lo, to, &mut self.slots);
        if self.upper.is_some() {
            // Closed spans that held values in the range lost them.
            self.refresh(1, lo, to);
        }
    }

    /// The value at time `t` (aligned down); EMPTY outside `[first_t, last_t]`.
    #[inline]
    pub fn get(&self, t: i64) -> StorageNumber {
        let t = self.ring.align(t);
        if self.ring.holds(t) {
            StorageNumber::from_bits(self.slots.get(self.ring.index(t)))
        } else {
            StorageNumber::EMPTY
        }
    }

    /// The oldest time in the window that was written since the ring was created.
    pub fn first_t(&self) -> Option<i64> {
        self.ring.first_t()
    }

    /// The newest stored time.
    pub fn last_t(&self) -> Option<i64> {
        self.ring.last_t()
    }

    pub fn update_every(&self) -> u32 {
        self.ring.update_every
    }

    pub fn entries(&self) -> u32 {
        self.ring.entries
    }

    /// The mode in effect, which is `Ram` after a fall-back.
    pub fn mode(&self) -> MemoryMode {
        self.mode
    }

    /// How the file was found at open.
    pub fn outcome(&self) -> OpenOutcome {
        self.outcome
    }

    /// True when a file existed but was distrusted and the ring started empty.
    pub fn was_rebuilt(&self) -> bool {
        matches!(self.outcome, OpenOutcome::Rebuilt(_))
    }

    /// How upper tier `tier` (1-based) was found at open; `None` for tier 0 or a tier that
    /// does not exist.
    pub fn tier_outcome(&self, tier: usize) -> Option<TierOutcome> {
        self.tier(tier).map(|t| t.outcome)
    }

    /// The entries asked for `tier` when they had to be raised (a tier needs at least twice
    /// the iterations of the tier above it, so that the span being consolidated and the one
    /// being recomputed after a late point are always in its window); `None` when not raised.
    pub fn tier_entries_raised(&self, tier: usize) -> Option<u32> {
        let up = self.upper.as_deref()?;
        match tier {
            0 => up.raised0,
            k => up.tiers.get(k - 1)?.raised_from,
        }
    }

    /// Appends `(t, value)` for every aligned `t` in `[after, before] ∩ [first_t, last_t]`,
    /// oldest first, EMPTY where nothing was stored.
    pub fn query(&self, after: i64, before: i64, out: &mut Vec<(i64, StorageNumber)>) {
        let Some((start, count, mut i)) = self.ring.span(after, before) else {
            return;
        };
        out.reserve(count);
        let ue = i64::from(self.ring.update_every);
        // The slot index advances by one per step: no division per slot.
        let entries = self.ring.entries as usize;
        for k in 0..count as i64 {
            let t = start + k * ue;
            let n = if self.ring.is_stale(t) {
                StorageNumber::EMPTY
            } else {
                StorageNumber::from_bits(self.slots.get(i))
            };
            out.push((t, n));
            i += 1;
            if i == entries {
                i = 0;
            }
        }
    }

    /// The sum and count of the values stored at aligned times in `[after, before] ∩
    /// [first_t, last_t]`, empty slots skipped: what [`DimensionStore::query`] would return,
    /// reduced without a buffer and without a division per slot (the exporting engine's
    /// `average`/`sum`).
    ///
    /// With upper tiers, when `after` is older than tier 0's first point, the older part
    /// comes from them: the reduction of [`DimensionStore::read_stitched`] at tier 0 (sums
    /// and counts of the consolidated points).
    pub fn sum_count(&self, after: i64, before: i64) -> (f64, usize) {
        if self.upper.is_some() && self.ring.first_t().is_none_or(|first| after < first) {
            return self.sum_count_stitched(after, before);
        }
        self.sum_count0(after, before)
    }

    /// [`sum_count`](Self::sum_count) over tier 0 only.
    ///
    /// The exporting engine calls this for every dimension of every host at every export, so
    /// it avoids what a slot-by-slot read costs: one 64-bit division per call when the step
    /// is 1 s (the window's ends need no alignment; the slot index is `t mod entries`), and
    /// the slots summed as at most two contiguous runs of the ring, read without a match or
    /// a bounds check per slot.
    #[inline]
    pub(super) fn sum_count0(&self, after: i64, before: i64) -> (f64, usize) {
        let r = &self.ring;
        let (Some(first), Some(last)) = (r.first_t(), r.last_t()) else {
            return (0.0, 0);
        };
        if after > last || before < first {
            return (0.0, 0);
        }
        let ue = i64::from(r.update_every);
        // Slots before `stale_before` read as empty: start after them.
        let from = match r.stale_before {
            NO_TIME => after.max(first),
            s => after.max(first).max(s),
        };
        let (start, end, count) = if ue == 1 {
            let end = before.min(last);
            (from, end, end - from + 1)
        } else {
            let (start, end) = (r.align_up(from), r.align(before.min(last)));
            (start, end, (end - start) / ue + 1)
        };
        if start > end {
            return (0.0, 0);
        }
        let entries = r.entries as usize;
        let i = if ue == 1 { start.rem_euclid(i64::from(r.entries)) as usize } else { r.index(start) };
        // At most `entries` slots (start and end are inside the window): two runs at most.
        let count = count as usize;
        let first_run = count.min(entries - i);
        let runs = [(i, first_run), (0, count - first_run)];
        let (mut sum, mut n) = (0.0, 0);
        let mut add = |bits: u32| {
            if let Some(v) = StorageNumber::from_bits(bits).value() {
                sum += v;
                n += 1;
            }
        };
        match &self.slots {
            Slots::Mem(v) => {
                for (at, len) in runs {
                    v[at..at + len].iter().for_each(|&b| add(b));
                }
            }
            Slots::Map(m) => {
                for (at, len) in runs {
                    let bytes = &m[HEADER_LEN + at * 4..HEADER_LEN + (at + len) * 4];
                    bytes.chunks_exact(4).for_each(|w| add(u32::from_le_bytes([w[0], w[1], w[2], w[3]])));
                }
            }
            Slots::None | Slots::Lazy => {}
        }
        (sum, n)
    }

    /// Makes the data durable: `save` writes the file (every tier) atomically (temporary
    /// file, fsync, rename), `map` flushes the mapping; `ram` and `none` do nothing.
    pub fn save(&mut self) -> io::Result<()> {
        match (&self.slots, &self.save_path) {
            (Slots::Mem(v), Some(path)) => {
                super::open::write_atomically(path, &self.header(), v, self.upper.as_deref())
            }
            (Slots::Map(m), _) => m.flush(),
            _ => Ok(()),
        }
    }

    /// Calls of `store`/`store_gap` (the inner ones of `store_gap` included) and slots
    /// written or zeroed so far, in every tier: how much work storing took, for tests.
    #[cfg(test)]
    pub(crate) fn work(&self) -> (u64, u64) {
        (self.store_calls, self.slot_writes())
    }

    #[cfg(test)]
    pub(crate) fn slot_writes(&self) -> u64 {
        let tiers = self.upper.as_deref().map_or(0, |u| u.tiers.iter().map(|t| t.ring.zeroed).sum());
        self.slot_writes + self.ring.zeroed + tiers
    }

    /// Memory this store accounts for: the struct, the slots and points of every tier
    /// (mapped pages included) and the path.
    pub fn memory_bytes(&self) -> usize {
        let slots = match &self.slots {
            Slots::None | Slots::Lazy => 0,
            Slots::Mem(v) => v.capacity() * 4,
            Slots::Map(m) => m.len(),
        };
        let path = self.save_path.as_ref().map_or(0, |p| p.as_os_str().len());
        let upper = self.upper.as_deref().map_or(0, |u| {
            let own = std::mem::size_of::<Upper>() + u.tiers.capacity() * std::mem::size_of::<Tier>();
            let mem: usize = u.tiers.iter().map(|t| t.mem_bytes()).sum();
            own + mem
        });
        std::mem::size_of::<Self>() + slots + path + upper
    }

    /// The header `save` writes and a new mapping starts with.
    pub(super) fn header(&self) -> Header {
        let version = match &self.upper {
            Some(_) => super::file::VERSION_TIERS,
            None => super::file::VERSION,
        };
        Header {
            version,
            update_every: self.ring.update_every,
            entries: self.ring.entries,
            ids_hash: self.ids,
            last_t: self.ring.last_t,
            first_t: self.ring.header_first_t(),
        }
    }
}

/// Where tier 0's slots live.
pub(crate) enum Slots {
    None,
    /// `ram` before the first store: every slot reads as zero (empty) and no memory is
    /// allocated yet. A dimension defined and never collected costs no ring (an allocator
    /// may clear a fresh allocation itself, which would make all of it resident).
    Lazy,
    /// Native-endian words (`ram`, `save`).
    Mem(Vec<u32>),
    /// The whole file: header, little-endian words, then the tier sections (`map`).
    Map(MmapMut),
}

impl Slots {
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match self {
            Slots::None | Slots::Lazy => 0,
            Slots::Mem(v) => v[i],
            Slots::Map(m) => {
                let at = HEADER_LEN + i * 4;
                let mut w = [0u8; 4];
                w.copy_from_slice(&m[at..at + 4]);
                u32::from_le_bytes(w)
            }
        }
    }

    #[inline]
    pub fn set(&mut self, i: usize, bits: u32) {
        match self {
            Slots::None | Slots::Lazy => {}
            Slots::Mem(v) => v[i] = bits,
            Slots::Map(m) => {
                let at = HEADER_LEN + i * 4;
                m[at..at + 4].copy_from_slice(&bits.to_le_bytes());
            }
        }
    }

    /// Keeps the mapped header's times current, so a crash loses nothing already stored.
    #[inline]
    pub fn set_times(&mut self, last_t: i64, first_t: i64) {
        if let Slots::Map(m) = self {
            m[LAST_T_AT..LAST_T_AT + 8].copy_from_slice(&last_t.to_le_bytes());
            m[FIRST_T_AT..FIRST_T_AT + 8].copy_from_slice(&first_t.to_le_bytes());
        }
    }
}

impl Zero for Slots {
    fn zero(&mut self, i: usize, len: usize) {
        match self {
            Slots::None | Slots::Lazy => {}
            Slots::Mem(v) => v[i..i + len].fill(0),
            Slots::Map(m) => m[HEADER_LEN + i * 4..HEADER_LEN + (i + len) * 4].fill(0),
        }
    }
}

#[cfg(test)]
mod tests;
