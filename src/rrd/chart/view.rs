//! Read-only views of a locked chart and its dimensions, for the streaming sender and health.

use super::*;

/// A read-only view of a locked chart, for the streaming sender.
pub struct ChartView<'a> {
    pub(super) st: &'a ChartState,
}

impl<'a> ChartView<'a> {
    pub fn meta(&self) -> &'a ChartMeta {
        &self.st.meta
    }

    /// Microseconds since the previous collection, as the chart counted them.
    pub fn usec_since_last_update(&self) -> u64 {
        self.st.usec_since_last_update
    }

    /// Time of the last collection (microseconds; 0 before the first).
    pub fn last_collected_ut(&self) -> u64 {
        self.st.last_collected_ut
    }

    /// Collections completed since the chart was created (health runs an alarm only on a
    /// chart collected at least twice).
    pub fn collections(&self) -> u64 {
        self.st.counter_done
    }

    /// Time of the last stored slot (microseconds; 0 before the first).
    pub fn last_updated_ut(&self) -> u64 {
        self.st.last_updated_ut
    }

    /// Oldest and newest stored times over all dimensions.
    pub fn first_entry_t(&self) -> Option<i64> {
        self.st.dims.iter().filter_map(|d| d.store.first_t()).min()
    }

    pub fn last_entry_t(&self) -> Option<i64> {
        self.st.dims.iter().filter_map(|d| d.store.last_t()).max()
    }

    /// The chart's custom variables (`VARIABLE CHART`).
    pub fn variables(&self) -> &'a crate::rrd::Variables {
        &self.st.variables
    }

    pub fn dimensions(&self) -> impl Iterator<Item = DimView<'a>> + 'a {
        self.st.dims.iter().map(|d| DimView { d })
    }

    /// The stored point of dimension `dim` at `t`.
    pub fn point(&self, dim: usize, t: i64) -> Point {
        let n = self.st.dims.get(dim).map_or(StorageNumber::EMPTY, |d| d.store.get(t));
        Point { t, value: n.value(), reset: n.is_reset() }
    }

    /// The version of the chart's definition ([`Chart::definition_version`]): it changes
    /// whenever the metadata, the labels or the dimensions change, so what is made from
    /// them can be kept while it stays the same.
    pub fn version(&self) -> u64 {
        self.st.version
    }

    /// How many dimensions the chart has.
    pub fn dimension_count(&self) -> usize {
        self.st.dims.len()
    }
}

/// A read-only view of one dimension of a locked chart.
pub struct DimView<'a> {
    pub(super) d: &'a Dim,
}

impl<'a> DimView<'a> {
    pub fn meta(&self) -> &'a DimensionMeta {
        &self.d.meta
    }
    /// Set in the collection being completed.
    pub fn updated(&self) -> bool {
        self.d.updated
    }
    /// The raw value of the collection being completed.
    pub fn collected_value(&self) -> i64 {
        self.d.collected_value
    }
    pub fn last_collected_value(&self) -> i64 {
        self.d.last_collected_value
    }
    pub fn last_collected_ut(&self) -> u64 {
        self.d.last_collected_ut
    }
    pub fn last_calculated_value(&self) -> f64 {
        self.d.last_calculated_value
    }
    pub fn last_stored_value(&self) -> f64 {
        self.d.last_stored_value
    }
    /// Oldest and newest stored time of this dimension (its own database range).
    /// The oldest stored time in any tier (exporting's `average`/`sum` read the tiers where
    /// tier 0 no longer has a window: `sum_count` stitches them).
    pub fn first_entry_t(&self) -> Option<i64> {
        let s = &self.d.store;
        match s.tier_count() {
            1 => s.first_t(),
            n => (0..n).filter_map(|k| s.tier_first_t(k)).min(),
        }
    }
    pub fn last_entry_t(&self) -> Option<i64> {
        self.d.store.last_t()
    }
    /// The stored numbers with `after ≤ t ≤ before` into `raw` (cleared first), oldest
    /// first, empty slots included (see `DimensionStore::query`).
    /// The sum and count of the values stored with `after ≤ t ≤ before`, empty slots
    /// skipped (`DimensionStore::sum_count`).
    pub fn sum_count(&self, after: i64, before: i64) -> (f64, usize) {
        self.d.store.sum_count(after, before)
    }

    pub fn query_into(&self, after: i64, before: i64, raw: &mut Vec<(i64, StorageNumber)>) {
        raw.clear();
        self.d.store.query(after, before, raw);
    }
}
