//! TEMPORARY stand-in for the tier API (replaced when the tiers land).

use super::DimensionStore;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierSpec {
    pub iterations: u32,
    pub entries: u32,
}
pub const MAX_TIERS: usize = 5;
pub const TIER_POINT_BYTES: usize = 14;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TierPoint {
    pub t: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub count: u32,
}

impl DimensionStore {
    pub fn tier_count(&self) -> usize {
        1
    }
    pub fn tier_update_every(&self, tier: usize) -> Option<u32> {
        (tier == 0).then(|| self.update_every())
    }
    pub fn tier_entries(&self, tier: usize) -> Option<u32> {
        (tier == 0).then(|| self.entries())
    }
    pub fn tier_first_t(&self, tier: usize) -> Option<i64> {
        if tier == 0 { self.first_t() } else { None }
    }
    pub fn tier_last_t(&self, tier: usize) -> Option<i64> {
        if tier == 0 { self.last_t() } else { None }
    }
    pub fn read_tier(&self, tier: usize, after: i64, before: i64, out: &mut Vec<TierPoint>) {
        if tier != 0 {
            return;
        }
        let mut raw = Vec::new();
        self.query(after, before, &mut raw);
        out.extend(raw.into_iter().map(|(t, n)| match n.value() {
            Some(v) => TierPoint { t, sum: v, min: v, max: v, count: 1 },
            None => TierPoint { t, sum: 0.0, min: 0.0, max: 0.0, count: 0 },
        }));
    }
    pub fn read_stitched(&self, _tier: usize, after: i64, before: i64, out: &mut Vec<TierPoint>) {
        self.read_tier(0, after, before, out)
    }
    pub fn tier_memory_bytes(&self, tier: usize) -> usize {
        if tier == 0 { self.memory_bytes() } else { 0 }
    }
}
