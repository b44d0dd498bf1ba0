//! Upper tiers: consolidated points (sum, min, max, count) at a coarser step than tier 0,
//! kept in their own rings beside it (Netdata's dbengine tiers: per minute, per hour).
//! A tier sized by a disk budget (`TierSpec::bytes` > 0) keeps only its newest blocks in the
//! ring and the older ones compressed in an archive after it (`archive.rs`); reads see one
//! continuous tier ([`for_each_point`]).
//!
//! Guarantees: a point is 14 bytes, explicit little-endian (`f32` sum, `f32` min, `f32` max,
//! `u16` count), the same in memory and on disk, and all-zero bytes are the empty point, so
//! a zero-filled buffer or file reads as "nothing stored"; encoding never panics (NaN and
//! infinities are never stored: a point only holds finite tier-0 values, and counts above
//! 65 535 saturate).
//!
//! Arithmetic: a tier-k point at `t` covers `(t - update_every_k, t]`, that is the
//! `iterations` points of tier k-1 at `t - update_every_k + update_every_{k-1}, …, t`. Its
//! sum is the sum of their values (tier 0) or sums (above), min/max are taken over the
//! non-empty ones, count is the sum of their counts (collected tier-0 values); a span with no
//! value is the empty point (count 0, sum = min = max = 0). Counter resets (the
//! `StorageNumber` reset flag) do not change the arithmetic: the stored values are already
//! rates or gauges, so a reset point is summed like any other.

/// An upper tier a store keeps besides tier 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierSpec {
    /// Points of the tier below consolidated into one point of this tier (2..=255, Netdata's
    /// `dbengine tier N update every iterations`).
    pub iterations: u32,
    /// Points kept in the fixed ring (clamped to 2..=MAX_ENTRIES; with an archive at least
    /// `2 × BLOCK`, the newest blocks, where late points land).
    pub entries: u32,
    /// Bytes of the compressed archive of older points after the ring (0: none, the ring is
    /// the whole tier, so `entries` points are guaranteed; see `archive.rs`). Retention of
    /// an archive is whatever fits: it depends on the data.
    pub bytes: u32,
}

/// Tier 0 plus at most 4 upper tiers (Netdata's `storage tiers` allows 1..=5).
pub const MAX_TIERS: usize = 5;

/// Bytes one upper-tier point takes in memory and on disk.
pub const TIER_POINT_BYTES: usize = 14; // f32 sum, f32 min, f32 max, u16 count, little-endian, packed

/// One consolidated point (or a tier-0 slot seen as one: sum = min = max = value, count 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TierPoint {
    /// End of the span it covers: (t - update_every_of_its_tier, t]; a multiple of that
    /// update every.
    pub t: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// Collected (non-empty) tier-0 values in the span; 0 = empty (a gap; then sum/min/max
    /// are 0).
    pub count: u32,
}

impl TierPoint {
    /// The empty point (a gap) at `t`.
    pub fn empty(t: i64) -> TierPoint {
        TierPoint { t, sum: 0.0, min: 0.0, max: 0.0, count: 0 }
    }

    /// A tier-0 value seen as a point.
    pub fn single(t: i64, v: Option<f64>) -> TierPoint {
        match v {
            Some(v) => TierPoint { t, sum: v, min: v, max: v, count: 1 },
            None => TierPoint::empty(t),
        }
    }

    /// The average of the span, `None` for an empty point.
    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / f64::from(self.count))
    }

    /// The 14 stored bytes (the time is not stored: the slot gives it).
    pub fn encode(&self) -> [u8; TIER_POINT_BYTES] {
        let mut b = [0u8; TIER_POINT_BYTES];
        if self.count == 0 {
            return b;
        }
        b[0..4].copy_from_slice(&(self.sum as f32).to_le_bytes());
        b[4..8].copy_from_slice(&(self.min as f32).to_le_bytes());
        b[8..12].copy_from_slice(&(self.max as f32).to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        b[12..14].copy_from_slice(&count.to_le_bytes());
        b
    }

    /// Reads a point from its 14 bytes (`b` is at least that long). A count of 0 is the
    /// empty point whatever the other bytes say.
    pub fn decode(t: i64, b: &[u8]) -> TierPoint {
        let f = |at: usize| f64::from(f32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]));
        let count = u32::from(u16::from_le_bytes([b[12], b[13]]));
        if count == 0 {
            return TierPoint::empty(t);
        }
        TierPoint { t, sum: f(0), min: f(4), max: f(8), count }
    }
}

/// Folds the points of one span into the point of the tier above.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Acc {
    sum: f64,
    min: f64,
    max: f64,
    count: u32,
}

impl Acc {
    pub fn new() -> Acc {
        Acc { sum: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY, count: 0 }
    }

    /// Adds one lower point; empty points change nothing.
    #[inline]
    pub fn add(&mut self, p: &TierPoint) {
        if p.count == 0 || !p.sum.is_finite() {
            return;
        }
        self.sum += p.sum;
        self.min = self.min.min(p.min);
        self.max = self.max.max(p.max);
        self.count = self.count.saturating_add(p.count);
    }

    pub fn point(&self, t: i64) -> TierPoint {
        if self.count == 0 {
            return TierPoint::empty(t);
        }
        TierPoint { t, sum: self.sum, min: self.min, max: self.max, count: self.count }
    }
}

/// How an upper tier was found at open.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TierOutcome {
    /// `ram`, or a fall-back to it: no file involved.
    Memory,
    /// The tier had no section in the file (new tier, a version-1 file, a new file): it was
    /// filled from the tier below.
    Backfilled,
    /// The section was valid and its points were loaded or mapped.
    Loaded,
    /// The section was valid with another number of entries: the newest points were kept.
    Resized { from: u32, to: u32 },
    /// The section (or one below it) was not trusted: the tier was rebuilt from the tier
    /// below (logged once per file).
    Rebuilt(super::TierDamage),
}

/// Where an upper tier's points live.
pub(crate) enum TierSlots {
    /// `ram` before the first point: reads as empty, nothing allocated.
    Lazy,
    /// `ram`, `save`: `entries × 14` bytes, then the archive's index and region.
    Mem(Vec<u8>),
    /// `map`: the byte offset of slot 0 in the dimension's one mapping (the archive follows
    /// the points).
    Map(usize),
}

/// One upper tier: its ring, its points and what the file said.
pub(crate) struct Tier {
    pub ring: Ring,
    pub iterations: u32,
    pub slots: TierSlots,
    /// Offset of this tier's descriptor in the mapping (map mode), for its times.
    pub desc_at: usize,
    /// The entries asked for, when they had to be raised (see `DimensionStore::tier_entries_raised`).
    pub raised_from: Option<u32>,
    pub outcome: TierOutcome,
    /// The compressed archive of older points, if the tier has one.
    pub arch: Option<Archive>,
}

use super::archive::{Archive, BLOCK, RAW};
use super::file::NO_TIME;
use super::ring::{Ring, Zero};

/// A tier's point bytes seen as ring slots.
pub(crate) struct Points<'a>(pub &'a mut [u8]);

impl Zero for Points<'_> {
    fn zero(&mut self, i: usize, len: usize) {
        if !self.0.is_empty() {
            self.0[i * TIER_POINT_BYTES..(i + len) * TIER_POINT_BYTES].fill(0);
        }
    }
}

/// The first aligned multiple of `step` at or after `t` (saturating): the end of the span
/// of a tier with update every `step` that holds `t`.
#[inline]
pub(crate) fn span_end(t: i64, step: i64) -> i64 {
    t.saturating_add((step - t.rem_euclid(step)) % step)
}

impl Tier {
    /// Heap bytes of the points (0 when lazy or mapped: the mapping is counted once).
    pub fn mem_bytes(&self) -> usize {
        match &self.slots {
            TierSlots::Mem(v) => v.capacity(),
            TierSlots::Lazy | TierSlots::Map(_) => 0,
        }
    }

    /// Bytes the points take in memory or in the mapping.
    pub fn points_bytes(&self) -> usize {
        match &self.slots {
            TierSlots::Mem(v) => v.capacity(),
            TierSlots::Map(_) => self.body_len(),
            TierSlots::Lazy => 0,
        }
    }

    /// Bytes of the fixed ring's points.
    pub fn ring_len(&self) -> usize {
        self.ring.entries as usize * TIER_POINT_BYTES
    }

    /// Bytes of the points and the archive (the section after its descriptor).
    pub fn body_len(&self) -> usize {
        self.ring_len() + self.arch.as_ref().map_or(0, Archive::len)
    }

    /// The archive's bytes (as asked for: 0 when there is none).
    pub fn arch_bytes(&self) -> u32 {
        self.arch.as_ref().map_or(0, |a| a.len() as u32)
    }
}

/// Where the fixed ring starts answering: its first time, or the jump it is stale before.
/// Older times come from the archive.
fn ring_lo(ring: &Ring) -> Option<i64> {
    let first = ring.first_t()?;
    Some(if ring.stale_before == NO_TIME { first } else { first.max(ring.stale_before) })
}

/// The oldest time a tier holds: its archive's oldest stored point or its ring's first.
pub(crate) fn tier_first_t(ring: &Ring, arch: Option<&Archive>) -> Option<i64> {
    ring.last_t()?;
    let ue = i64::from(ring.update_every);
    let b = BLOCK as i64;
    let archived = arch.and_then(|a| {
        let (block, first) = a.oldest()?;
        // Never more than the archive's span before the newest point (a jump of the clock
        // leaves old blocks until the next ones evict them: they are not read).
        let floor = (ring.last_t / ue).div_euclid(b) - i64::from(a.span_blocks());
        if a.newest.is_none_or(|n| i64::from(n) < floor) {
            return None;
        }
        Some(((i64::from(block) * b + i64::from(first)) * ue).max(floor * b * ue))
    });
    match (archived, ring.first_t()) {
        (Some(a), Some(r)) => Some(a.min(r)),
        (a, r) => a.or(r),
    }
}

/// Calls `f` with every point of a tier (ring `ring`, archive `arch`, both in `body`) at the
/// aligned times of `[after, before] ∩ [first, last]`, oldest first: from the archive for
/// the times before the ring's, empty where nothing was stored.
pub(crate) fn for_each_point<F: FnMut(TierPoint)>(
    ring: &Ring,
    arch: Option<&Archive>,
    body: &[u8],
    (after, before): (i64, i64),
    what: &dyn Fn() -> String,
    f: &mut F,
) {
    let (Some(first), Some(last)) = (tier_first_t(ring, arch), ring.last_t()) else { return };
    if after > last || before < first {
        return;
    }
    let ue = i64::from(ring.update_every);
    let start = ring.align_up(after.max(first));
    let end = ring.align(before.min(last));
    if start > end {
        return;
    }
    let ring_len = ring.entries as usize * TIER_POINT_BYTES;
    let lo = match (arch, ring_lo(ring)) {
        (Some(a), lo) => {
            let lo = lo.unwrap_or(end.saturating_add(ue));
            if start < lo {
                a.for_each(body.get(ring_len..).unwrap_or(&[]), start, end.min(lo - ue), ue, what, f);
            }
            lo
        }
        (None, _) => start,
    };
    let from = start.max(lo);
    if from > end {
        return;
    }
    let entries = ring.entries as usize;
    let mut i = ring.index(from);
    let mut t = from;
    while t <= end {
        f(if ring.is_stale(t) {
            TierPoint::empty(t)
        } else {
            match body.get(i * TIER_POINT_BYTES..(i + 1) * TIER_POINT_BYTES) {
                Some(b) => TierPoint::decode(t, b),
                None => TierPoint::empty(t),
            }
        });
        t += ue;
        i += 1;
        if i == entries {
            i = 0;
        }
    }
}

/// Before `ring` advances to `t`: archives every block not archived yet whose first point
/// leaves the window (at most `entries / BLOCK + 2` blocks). `points` are the ring's bytes,
/// `abody` the archive's. True when the archive changed.
pub(crate) fn archive_leaving(
    ring: &Ring,
    arch: &mut Archive,
    points: &[u8],
    abody: &mut [u8],
    t: i64,
) -> bool {
    if ring.last_t == NO_TIME || t <= ring.last_t {
        return false;
    }
    let Some(first) = ring.first_t() else { return false };
    let ue = i64::from(ring.update_every);
    let b = BLOCK as i64;
    let new_start = (t / ue).saturating_sub(i64::from(ring.entries) - 1);
    let mut lo = (first / ue).div_euclid(b);
    if let Some(n) = arch.newest {
        lo = lo.max(i64::from(n) + 1);
    }
    let hi = (ring.last_t / ue).div_euclid(b).min((new_start - 1).div_euclid(b));
    let mut changed = false;
    let mut blk = lo;
    while blk <= hi {
        let Ok(number) = u32::try_from(blk) else { break };
        let mut raw = [0u8; RAW];
        let mut held = None;
        for j in 0..BLOCK {
            let tj = (blk * b + j as i64) * ue;
            if ring.holds(tj) {
                let i = ring.index(tj) * TIER_POINT_BYTES;
                if let Some(p) = points.get(i..i + TIER_POINT_BYTES) {
                    raw[j * TIER_POINT_BYTES..(j + 1) * TIER_POINT_BYTES].copy_from_slice(p);
                    held.get_or_insert(j as u8);
                }
            }
        }
        match held {
            Some(first) if raw.iter().any(|&x| x != 0) => {
                changed |= arch.append(abody, number, first, &raw).is_ok();
            }
            // Nothing stored in it: nothing to keep.
            _ => arch.newest = Some(number),
        }
        blk += 1;
    }
    changed
}
