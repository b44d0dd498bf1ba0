//! What a chart's tiers hold and how queries read across them (the query engine's side of
//! the storage tiers; the arithmetic lives in `crate::db`).

use super::Chart;
use crate::db::TierPoint;

/// What one tier of a chart holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TierRange {
    /// Seconds per point.
    pub update_every: u32,
    pub first_t: Option<i64>,
    pub last_t: Option<i64>,
}

impl Chart {
    /// Oldest stored time of any dimension in any tier (what queries can answer).
    pub fn first_entry_any_tier_t(&self) -> Option<i64> {
        let st = self.state.lock();
        st.dims
            .iter()
            .filter_map(|d| (0..d.store.tier_count()).filter_map(|k| d.store.tier_first_t(k)).min())
            .min()
    }

    /// Per tier (tier 0 first): its update every, and the oldest and newest point of any
    /// dimension (`None` when the tier holds nothing). A chart without dimensions has tier 0.
    pub fn tiers(&self) -> Vec<TierRange> {
        let st = self.state.lock();
        let n = st.dims.iter().map(|d| d.store.tier_count()).max().unwrap_or(1);
        (0..n)
            .map(|k| {
                let ue = st.dims.iter().find_map(|d| d.store.tier_update_every(k));
                TierRange {
                    update_every: ue.unwrap_or(st.meta.update_every.max(1)),
                    first_t: st.dims.iter().filter_map(|d| d.store.tier_first_t(k)).min(),
                    last_t: st.dims.iter().filter_map(|d| d.store.tier_last_t(k)).max(),
                }
            })
            .collect()
    }

    /// The points of dimension `dim` with `after ≤ t ≤ before` at the resolution of `tier`,
    /// completed from the other tiers where `tier` has no data (see
    /// [`crate::db::DimensionStore::read_stitched`]), into `out` (cleared first).
    pub fn read_stitched(&self, dim: usize, tier: usize, after: i64, before: i64, out: &mut Vec<TierPoint>) {
        out.clear();
        let st = self.state.lock();
        if let Some(d) = st.dims.get(dim) {
            d.store.read_stitched(tier, after, before, out);
        }
    }

    /// Calls `f` with the tier and the point, for each point [`read_stitched`](Self::read_stitched)
    /// reads, in its order, without collecting them (the chart stays locked meanwhile: `f`
    /// only accumulates).
    pub fn for_each_stitched<F: FnMut(usize, TierPoint)>(
        &self,
        dim: usize,
        tier: usize,
        after: i64,
        before: i64,
        f: &mut F,
    ) {
        let st = self.state.lock();
        if let Some(d) = st.dims.get(dim) {
            d.store.for_each_stitched(tier, after, before, f);
        }
    }

    /// Bytes of memory held by each tier of the chart's dimensions (tier 0 first).
    pub fn tier_memory_bytes(&self) -> Vec<usize> {
        let st = self.state.lock();
        let n = st.dims.iter().map(|d| d.store.tier_count()).max().unwrap_or(1);
        (0..n).map(|k| st.dims.iter().map(|d| d.store.tier_memory_bytes(k)).sum()).collect()
    }
}
