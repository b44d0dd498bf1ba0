//! What one export reads from one chart (Netdata 1.37's exporting/process_data.c,
//! protocol.md §10).
//!
//! - `as collected`: each dimension's last raw collected integer and the second it was
//!   collected. Nothing is read from the database, so it works on `mode = none` hosts.
//! - `average` / `sum`: the stored points of the window since the previous export. With
//!   `after`/`before` the previous and the current export times, both are moved back by
//!   2 × `update every` (so every collector has finished the slots), aligned down to
//!   `update every`, `before` loses one more `update every` (its slot is reported next
//!   time), and the window is clamped to the dimension's stored range. The value is
//!   Σ stored values / count (average) or Σ (sum) over the non-empty slots, stamped with
//!   the window's `before`; a dimension with nothing stored in the window is skipped.
//!
//! Charts are read under their lock, through the chart's view, one dimension at a time; a
//! window's slots are summed where they are stored.

use crate::db::MemoryMode;
use crate::rrd::{Chart, ChartMeta, DimView, DimensionMeta};

/// `data source` of an exporting instance (read from `exporting.conf` by the settings).
pub use crate::config::settings::DataSource;

/// One exported value: a raw integer (`as collected`) or a value computed from the
/// database (`average`, `sum`); they are written differently (`%lld` and `%0.7f`).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Value {
    Collected(i64),
    Stored(f64),
}

/// One dimension's sample in an export, with the metadata its line needs.
#[derive(Clone, Copy, Debug)]
pub struct Metric<'a> {
    pub chart: &'a ChartMeta,
    pub dimension: &'a DimensionMeta,
    pub value: Value,
    /// Seconds since the epoch.
    pub timestamp: i64,
}

/// One export of an instance: its data source and the times of the previous and of this
/// export (seconds).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub source: DataSource,
    /// When the previous batch was made (at start: when the instance started).
    pub after: i64,
    /// Now.
    pub before: i64,
}

/// The aligned window of an export for a chart collected every `update_every` seconds,
/// before it is clamped to what is stored: `(after, before)`, `after ≤ before`.
pub fn window(after: i64, before: i64, update_every: u32) -> (i64, i64) {
    let ue = i64::from(update_every.max(1));
    let after = after - 2 * ue;
    let before = before - 2 * ue;
    let after = after - after.rem_euclid(ue);
    let before = before - before.rem_euclid(ue) - ue;
    (after.min(before), before)
}

/// Calls `emit` for every dimension of `chart` that has something to export in `export`,
/// in the chart's dimension order; returns how many it emitted. `mode` is the memory mode of
/// the chart's host.
///
/// Like Netdata, nothing is read from an obsolete chart, a chart without dimensions, or —
/// unless the source is `as collected` — a chart of a host that stores nothing
/// (`mode = none`). Unlike Netdata, a dimension never collected is not sent `as collected`
/// (Netdata writes its initial 0 stamped 1970). The stored slots of a window are summed in
/// place ([`crate::db::DimensionStore::sum_count`]), without a copy.
pub fn read_chart(
    chart: &Chart,
    mode: MemoryMode,
    export: &Export,
    mut emit: impl FnMut(&Metric<'_>),
) -> usize {
    if !readable(mode, export) {
        return 0;
    }
    chart.with_view(|view, _| {
        let meta = view.meta();
        if meta.options.obsolete {
            return 0;
        }
        let mut emitted = 0;
        // The same for every dimension of the chart.
        let window = window(export.after, export.before, meta.update_every);
        for d in view.dimensions() {
            let Some((value, timestamp)) = sample(&d, export.source, window) else {
                continue;
            };
            emit(&Metric { chart: meta, dimension: d.meta(), value, timestamp });
            emitted += 1;
        }
        emitted
    })
}

/// False when nothing is read from a host of memory mode `mode` (see [`read_chart`]).
pub fn readable(mode: MemoryMode, export: &Export) -> bool {
    mode != MemoryMode::None || export.source == DataSource::AsCollected
}

/// What dimension `d` exports from `source`: its value and timestamp, `None` when it has
/// nothing. `window` is [`window`] for the chart (see [`read_chart`]).
///
/// For `average`/`sum` the window is clamped to the dimension's stored range: `sum_count`
/// clamps it itself (an empty intersection counts 0), and the timestamp is the window's end
/// clamped to the newest stored time.
#[inline]
pub fn sample(d: &DimView<'_>, source: DataSource, (w_after, w_before): (i64, i64)) -> Option<(Value, i64)> {
    match source {
        // A dimension never collected has no value (Netdata would send 0 at time 0).
        DataSource::AsCollected => {
            let ut = d.last_collected_ut();
            (ut != 0).then(|| {
                (Value::Collected(d.last_collected_value()), (ut / crate::clock::USEC_PER_SEC) as i64)
            })
        }
        DataSource::Average | DataSource::Sum => {
            let last = d.last_entry_t()?;
            let (sum, count) = d.sum_count(w_after, w_before);
            let value = match (count, source) {
                (0, _) => return None,
                (_, DataSource::Sum) => sum,
                _ => sum / count as f64,
            };
            Some((Value::Stored(value), w_before.min(last)))
        }
    }
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
