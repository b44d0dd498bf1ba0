//! Consolidation into the upper tiers and reading across tiers.
//!
//! Consolidation closes from the tier below: when tier k-1 advances past the end of a tier-k
//! span, that span's point is computed from the tier-(k-1) points of the span (before
//! advancing, so a jump past the whole window still consolidates the last span) and stored
//! into tier k, which may in turn close a tier-(k+1) span. The open span lives only in the
//! tier below, so a crash loses nothing and no accumulator is kept. A late point (replication
//! filling a gap) in an already closed span recomputes that span's point in each tier above
//! (O(iterations) per tier), when the whole span is still in the lower tier's window (else
//! the point above is left as it was: the lower tier no longer holds all of it).
//!
//! Archiving: before an upper tier's ring advances, the blocks whose first point leaves it are
//! compressed into its archive, if it has one (see `archive.rs`).
//!
//! Reading: [`DimensionStore::read_tier`] reads one tier (archive, then ring); [`DimensionStore::read_stitched`]
//! completes it with coarser tiers for the older part and finer tiers for the newer part;
//! spans never overlap. [`DimensionStore::for_each_stitched`] hands the same points, each with
//! its tier, to a closure instead of collecting them (the query engine groups them as they
//! come: no buffer per dimension).

use super::file::{HEADER_LEN, NO_TIME};
use super::ring::Ring;
use super::store::{DimensionStore, Slots};
use super::tier::{
    archive_leaving, for_each_point, span_end, tier_first_t, Acc, Points, Tier, TierPoint, TierSlots,
    MAX_TIERS, TIER_POINT_BYTES,
};
use super::tierfile::{put_arch, DESC_LEN, TIER_FIRST_T_AT, TIER_LAST_T_AT};
use super::StorageNumber;

/// One part of a stitched read: the points of `tier` with `lo <= t <= hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    tier: usize,
    lo: i64,
    hi: i64,
}

/// The parts of a stitched read, oldest first.
struct Plan {
    segs: [Segment; MAX_TIERS],
    len: usize,
}

impl DimensionStore {
    /// 1 + the upper tiers in effect (1 in `none` mode).
    pub fn tier_count(&self) -> usize {
        1 + self.upper.as_deref().map_or(0, |u| u.tiers.len())
    }

    /// Seconds per point of `tier`: tier k is `update_every × Π iterations[1..=k]`.
    pub fn tier_update_every(&self, tier: usize) -> Option<u32> {
        self.ring_of(tier).map(|r| r.update_every)
    }

    /// Points kept by `tier`.
    pub fn tier_entries(&self, tier: usize) -> Option<u32> {
        self.ring_of(tier).map(|r| r.entries)
    }

    /// Time of the oldest point of `tier` that was written: in its window (tier 0, a tier
    /// without archive) or in its archive.
    pub fn tier_first_t(&self, tier: usize) -> Option<i64> {
        match self.tier(tier) {
            Some(t) if t.arch.is_some() => tier_first_t(&t.ring, t.arch.as_ref()),
            _ => self.ring_of(tier)?.first_t(),
        }
    }

    /// Time of the newest point of `tier`.
    pub fn tier_last_t(&self, tier: usize) -> Option<i64> {
        self.ring_of(tier)?.last_t()
    }

    /// Memory (anonymous or mapped) that `tier`'s points take.
    pub fn tier_memory_bytes(&self, tier: usize) -> usize {
        match tier {
            0 => match &self.slots {
                Slots::None | Slots::Lazy => 0,
                Slots::Mem(v) => v.capacity() * 4,
                Slots::Map(_) => self.ring.entries as usize * 4,
            },
            k => self.tier(k).map_or(0, Tier::points_bytes),
        }
    }

    /// Points of one tier with `after <= t <= before`, oldest first, empty points included
    /// (count 0), like [`query`](Self::query) does for tier 0 (whose values are seen as
    /// points of count 1).
    pub fn read_tier(&self, tier: usize, after: i64, before: i64, out: &mut Vec<TierPoint>) {
        if let Some((_, count, _)) = self.ring_of(tier).and_then(|r| r.span(after, before)) {
            out.reserve(count);
        }
        self.for_each_tier_point(tier, after, before, &mut |p| out.push(p));
    }

    /// Calls `f` with what [`read_tier`](Self::read_tier) would push.
    fn for_each_tier_point<F: FnMut(TierPoint)>(&self, tier: usize, after: i64, before: i64, f: &mut F) {
        if let Some(t) = self.tier(tier) {
            let body = self.tier_bytes(tier);
            for_each_point(&t.ring, t.arch.as_ref(), body, (after, before), &|| self.what(tier), f);
            return;
        }
        let Some(ring) = self.ring_of(tier) else {
            return;
        };
        let Some((start, count, mut i)) = ring.span(after, before) else {
            return;
        };
        let ue = i64::from(ring.update_every);
        let entries = ring.entries as usize;
        let bytes = self.tier_bytes(tier);
        let mut t = start;
        for _ in 0..count {
            f(if ring.is_stale(t) {
                TierPoint::empty(t)
            } else if tier == 0 {
                TierPoint::single(t, StorageNumber::from_bits(self.slots.get(i)).value())
            } else {
                point_at(bytes, i, t)
            });
            t = t.saturating_add(ue);
            i += 1;
            if i == entries {
                i = 0;
            }
        }
    }

    /// The window at the resolution of `tier` (clamped to the tiers there are), completed
    /// with coarser tiers for the part older than `tier`'s first point and with finer tiers
    /// for the part after `tier`'s last point (the span still open); oldest first. Spans
    /// never overlap, so summing counts or sums over the output never counts a collected
    /// value twice. Where a coarser point's span straddles the start of the finer data, the
    /// coarser point is used and the finer points it covers are left out; where the coarser
    /// tier does not have that point, the older data stops at the last coarser span that
    /// ends before the finer data starts. A tier without data is replaced by the nearest
    /// finer one that has some.
    pub fn read_stitched(&self, tier: usize, after: i64, before: i64, out: &mut Vec<TierPoint>) {
        self.for_each_stitched(tier, after, before, &mut |_, p| out.push(p));
    }

    /// Calls `f` with the tier each point comes from and the point, for every point
    /// [`read_stitched`](Self::read_stitched) would push, in the same order; nothing is
    /// collected. Work: one lookup per archive read, each overlapped block decoded once.
    pub fn for_each_stitched<F: FnMut(usize, TierPoint)>(
        &self,
        tier: usize,
        after: i64,
        before: i64,
        f: &mut F,
    ) {
        let plan = self.plan(tier);
        for s in &plan.segs[..plan.len] {
            let k = s.tier;
            self.for_each_tier_point(k, after.max(s.lo), before.min(s.hi), &mut |p| f(k, p));
        }
    }

    /// The reduction of `read_stitched(0, after, before)`: sum of sums and of counts.
    pub(super) fn sum_count_stitched(&self, after: i64, before: i64) -> (f64, usize) {
        let plan = self.plan(0);
        let (mut sum, mut n) = (0.0, 0usize);
        for s in &plan.segs[..plan.len] {
            let (a, b) = (after.max(s.lo), before.min(s.hi));
            if s.tier == 0 {
                let (s0, n0) = self.sum_count0(a, b);
                sum += s0;
                n += n0;
                continue;
            }
            self.for_each_tier_point(s.tier, a, b, &mut |p| {
                if p.count > 0 {
                    sum += p.sum;
                    n += p.count as usize;
                }
            });
        }
        (sum, n)
    }

    /// Which tier answers which part of a stitched read at the resolution of `tier`.
    fn plan(&self, tier: usize) -> Plan {
        let none = Segment { tier: 0, lo: 0, hi: -1 };
        let mut plan = Plan { segs: [none; MAX_TIERS], len: 0 };
        let n = self.tier_count();
        let tier = tier.min(n - 1);
        let has = |j: usize| self.tier_first_t(j).is_some();
        let Some(main) = (0..=tier).rev().find(|&j| has(j)).or_else(|| (tier + 1..n).find(|&j| has(j)))
        else {
            return plan;
        };
        let ue = |j: usize| i64::from(self.tier_update_every(j).unwrap_or(1));
        let (Some(f), Some(l)) = (self.tier_first_t(main), self.tier_last_t(main)) else {
            return plan;
        };
        // Older parts, finest first: `older[0]` is the main tier.
        let mut older = [none; MAX_TIERS];
        older[0] = Segment { tier: main, lo: f, hi: l };
        let mut count = 1;
        for j in main + 1..n {
            let (Some(fj), Some(lj)) = (self.tier_first_t(j), self.tier_last_t(j)) else { continue };
            let nb = &mut older[count - 1];
            let boundary = nb.lo - ue(nb.tier);
            let uj = ue(j);
            let up = span_end(boundary, uj);
            // Only when the coarser tier reaches back before that point does its point hold
            // more than the finer ones it covers; a coarser tier that started with the same
            // data (its first point is that one) would replace up to a span of finer points
            // with one.
            if fj < up && up <= lj && up <= nb.hi {
                // The coarser point ending at `up` covers the finer points up to it.
                nb.lo = up.saturating_add(ue(nb.tier));
                older[count] = Segment { tier: j, lo: fj, hi: up };
                count += 1;
            } else {
                let down = boundary - boundary.rem_euclid(uj);
                let hi = down.min(lj);
                if fj <= hi {
                    older[count] = Segment { tier: j, lo: fj, hi };
                    count += 1;
                }
            }
        }
        for s in older[..count].iter().rev() {
            plan.segs[plan.len] = *s;
            plan.len += 1;
        }
        // Newer parts from the finer tiers.
        let mut prev = l;
        for j in (0..main).rev() {
            let (Some(fj), Some(lj)) = (self.tier_first_t(j), self.tier_last_t(j)) else { continue };
            if lj > prev {
                plan.segs[plan.len] = Segment { tier: j, lo: prev.saturating_add(ue(j)).max(fj), hi: lj };
                plan.len += 1;
                prev = lj;
            }
        }
        plan
    }

    /// Tier 0's store when there are upper tiers (`t` aligned, `>= 0`).
    pub(super) fn store_tiered(&mut self, t: i64, value: StorageNumber) {
        let last = self.ring.last_t;
        let advancing = last == NO_TIME || t > last;
        if advancing && last != NO_TIME {
            self.close_span_above(0, last, t);
        }
        if self.write0(t, value) && !advancing {
            self.refresh(1, t, t);
        }
    }

    /// Tier `k` is about to advance from `last` to `t`: when that leaves the tier-(k+1) span
    /// holding `last`, consolidate it (read before advancing) into tier k+1.
    fn close_span_above(&mut self, k: usize, last: i64, t: i64) {
        let Some(u) = self.tier_update_every(k + 1) else { return };
        let open = span_end(last, i64::from(u));
        if span_end(t, i64::from(u)) > open {
            let p = self.consolidate(k + 1, open);
            self.put(k + 1, open, &p, true);
        }
    }

    /// Stores point `p` at `t` into upper tier `k`; `refresh_above`: when `t` lands in an
    /// already written part, recompute the closed span above that holds it.
    fn put(&mut self, k: usize, t: i64, p: &TierPoint, refresh_above: bool) {
        let Some(last) = self.ring_of(k).map(|r| r.last_t) else { return };
        let advancing = last == NO_TIME || t > last;
        if advancing && last != NO_TIME {
            self.close_span_above(k, last, t);
        }
        if self.write_tier(k, t, p) && !advancing && refresh_above {
            self.refresh(k + 1, t, t);
        }
    }

    /// Recomputes the closed spans of tier `k` that hold tier-(k-1) times in `[lo, hi]`,
    /// then those above them. Only spans wholly inside the lower tier's window and inside
    /// tier k's are touched: at most `entries(k)` spans of `iterations` points each.
    pub(super) fn refresh(&mut self, k: usize, lo: i64, hi: i64) {
        let (Some(lower), Some(tier)) = (self.ring_of(k - 1).copied(), self.ring_of(k).copied()) else {
            return;
        };
        if lower.last_t == NO_TIME || lo > hi {
            return;
        }
        let u = i64::from(tier.update_every);
        let ul = i64::from(lower.update_every);
        let open = span_end(lower.last_t, u);
        let b_hi = span_end(hi, u).min(open - u);
        let whole = span_end(lower.window_start().saturating_add(u - ul), u);
        let b_lo = span_end(lo, u).max(whole).max(b_hi.saturating_sub(i64::from(tier.entries - 1) * u));
        if b_lo > b_hi {
            return;
        }
        let mut b = b_lo;
        while b <= b_hi {
            let p = self.consolidate(k, b);
            self.put(k, b, &p, false);
            b += u;
        }
        self.refresh(k + 1, b_lo, b_hi);
    }

    /// The point of upper tier `k`'s span ending at `t`, from the tier below.
    pub(super) fn consolidate(&self, k: usize, t: i64) -> TierPoint {
        let mut acc = Acc::new();
        let (Some(u), Some(ul)) = (self.tier_update_every(k), self.tier_update_every(k - 1)) else {
            return acc.point(t);
        };
        let (u, ul) = (i64::from(u), i64::from(ul));
        let mut s = t - u + ul;
        while s <= t {
            acc.add(&self.point(k - 1, s));
            match s.checked_add(ul) {
                Some(next) => s = next,
                None => break,
            }
        }
        acc.point(t)
    }

    /// The point of `tier` at aligned `t`: empty outside its window or where nothing was
    /// stored.
    pub(super) fn point(&self, tier: usize, t: i64) -> TierPoint {
        if tier == 0 {
            return TierPoint::single(t, self.get(t).value());
        }
        match self.ring_of(tier) {
            Some(r) if r.holds(t) => point_at(self.tier_bytes(tier), r.index(t), t),
            _ => TierPoint::empty(t),
        }
    }

    /// Writes `p` at aligned `t` into upper tier `k`; false when older than its window.
    fn write_tier(&mut self, k: usize, t: i64, p: &TierPoint) -> bool {
        let Some(tier) = self.upper.as_deref_mut().and_then(|u| u.tiers.get_mut(k - 1)) else {
            return false;
        };
        if matches!(tier.slots, TierSlots::Lazy) {
            tier.slots = TierSlots::Mem(vec![0; tier.body_len()]);
        }
        let (len, ring_len) = (tier.body_len(), tier.ring_len());
        let (body, mut desc): (&mut [u8], Option<&mut [u8]>) = match (&mut tier.slots, &mut self.slots) {
            (TierSlots::Mem(v), _) => (v.as_mut_slice(), None),
            (TierSlots::Map(at), Slots::Map(m)) => {
                let (d, p) = m[tier.desc_at..*at + len].split_at_mut(DESC_LEN);
                (p, Some(d))
            }
            _ => return false,
        };
        let (points, abody) = body.split_at_mut(ring_len.min(body.len()));
        if let Some(arch) = tier.arch.as_mut() {
            if archive_leaving(&tier.ring, arch, points, abody, t) {
                if let Some(d) = desc.as_deref_mut() {
                    put_arch(d, arch.state());
                }
            }
        }
        let Some(i) = tier.ring.prepare(t, &mut Points(points)) else {
            return false;
        };
        points[i * TIER_POINT_BYTES..(i + 1) * TIER_POINT_BYTES].copy_from_slice(&p.encode());
        if let Some(d) = desc {
            d[TIER_LAST_T_AT..TIER_LAST_T_AT + 8].copy_from_slice(&tier.ring.last_t.to_le_bytes());
            d[TIER_FIRST_T_AT..TIER_FIRST_T_AT + 8]
                .copy_from_slice(&tier.ring.header_first_t().to_le_bytes());
        }
        #[cfg(test)]
        {
            self.slot_writes += 1;
        }
        true
    }

    /// Upper tier `k` (1-based).
    pub(super) fn tier(&self, k: usize) -> Option<&Tier> {
        self.upper.as_deref()?.tiers.get(k.checked_sub(1)?)
    }

    /// The ring of any tier, 0 included.
    pub(super) fn ring_of(&self, tier: usize) -> Option<&Ring> {
        match tier {
            0 => Some(&self.ring),
            k => self.tier(k).map(|t| &t.ring),
        }
    }

    /// The point bytes of upper tier `k`, then its archive's (empty for tier 0, a lazy or
    /// missing tier).
    pub(super) fn tier_bytes(&self, k: usize) -> &[u8] {
        let Some(tier) = self.tier(k) else { return &[] };
        match (&tier.slots, &self.slots) {
            (TierSlots::Mem(v), _) => v,
            (TierSlots::Map(at), Slots::Map(m)) => &m[*at..*at + tier.body_len()],
            _ => &[],
        }
    }

    /// Names the store in a log line about tier `k`.
    fn what(&self, k: usize) -> String {
        match &self.save_path {
            Some(p) => format!("{} tier {k}", p.display()),
            None => format!("store {:016x} tier {k}", self.ids),
        }
    }
}

/// The point in slot `i` of a tier's bytes (empty when there are none).
#[inline]
fn point_at(bytes: &[u8], i: usize, t: i64) -> TierPoint {
    match bytes.get(i * TIER_POINT_BYTES..(i + 1) * TIER_POINT_BYTES) {
        Some(b) => TierPoint::decode(t, b),
        None => TierPoint::empty(t),
    }
}

/// Offset of tier 0's end (the first tier section) in a file with `entries` slots.
pub(super) fn tier0_end(entries: u32) -> usize {
    HEADER_LEN + entries as usize * 4
}
