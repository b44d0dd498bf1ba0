//! The parts of every chart's lines, kept from one batch to the next.
//!
//! Most of a line is the same in every batch: the prefix, the host, the chart's and the
//! dimension's sanitised names, the host's tags and labels. A [`Cached`] formatter renders
//! them once per chart into one buffer — a part shared by the chart's lines, then one part
//! per dimension — and a batch is then mostly copies of those parts, the window's sums and
//! the numbers.
//!
//! [`Formatter::metric`] writes a line from the same parts, made for it alone: the two ways
//! give the same bytes by construction.
//!
//! An entry is valid while the chart's definition `version` is the one it was made from
//! ([`crate::rrd::ChartView::version`] changes with any change of the metadata, the labels
//! or the dimensions), the host's parts are the same bytes (the host's rendered prefix, tags
//! and labels, interned to a number) and the data source writes the same kind of value.
//! Entries are keyed by the chart's address and hold a `Weak` of it, so the address cannot
//! be reused by another chart while the entry lives. An entry not used in a batch is dropped
//! at its end: the cache holds at most the charts of the last batch.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Weak};

use super::{Batch, Formatter, HostInfo};
use crate::db::MemoryMode;
use crate::exporting::source::{self, DataSource, Metric, Value};
use crate::rrd::{Chart, ChartMeta, DimensionMeta};

/// One connector's format: the per-metric writer ([`Formatter`]'s methods) and the parts it
/// is made of, for [`Cached`].
pub(crate) trait Layout: Send {
    fn begin_batch(&mut self, out: &mut Vec<u8>);
    /// Renders the host's parts.
    fn begin_host(&mut self, host: &HostInfo<'_>);
    /// The bytes the current host's parts are made from: parts made for one key are right
    /// for every host with the same key.
    fn host_key(&self) -> &[u8];
    fn end_batch(&mut self, out: &mut Vec<u8>);
    /// The part of the current host's lines of `chart` written before every dimension's
    /// part; `stored`: the values are computed from the database (not `as collected`).
    fn chart_part(&self, out: &mut Vec<u8>, chart: &ChartMeta, stored: bool);
    /// The part of dimension `dim`'s line.
    fn dim_part(&self, out: &mut Vec<u8>, chart: &ChartMeta, dim: &DimensionMeta, stored: bool);
    /// Writes one line (or object) from its parts.
    fn sample(&mut self, out: &mut Vec<u8>, chart_part: &[u8], dim_part: &[u8], value: Value, timestamp: i64);
}

/// A [`Layout`] with its parts kept across batches.
pub(crate) struct Cached<L> {
    layout: L,
    entries: HashMap<usize, Entry, BuildHasherDefault<AddressHasher>>,
    /// Host keys seen, numbered.
    hosts: HashMap<Vec<u8>, u32>,
    /// The number of the current host's key.
    host: u32,
    /// Hosts begun in this batch.
    hosts_in_batch: usize,
    /// Batches begun.
    batch: u64,
    /// The parts of a line written by [`Formatter::metric`].
    scratch: Vec<u8>,
}

/// One chart's parts.
struct Entry {
    /// Holds the chart's allocation: the key (its address) stays unique while this lives.
    _chart: Weak<Chart>,
    version: u64,
    host: u32,
    stored: bool,
    /// The batch that last used the entry.
    seen: u64,
    /// The chart's part, then each dimension's.
    bytes: Vec<u8>,
    /// Where each part ends: the chart's, then each dimension's.
    ends: Vec<u32>,
}

impl<L: Layout> Cached<L> {
    pub fn new(layout: L) -> Cached<L> {
        Cached {
            layout,
            entries: HashMap::default(),
            hosts: HashMap::new(),
            host: 0,
            hosts_in_batch: 0,
            batch: 0,
            scratch: Vec::new(),
        }
    }
}

impl<L: Layout> Formatter for Cached<L> {
    fn begin_batch(&mut self, out: &mut Vec<u8>) {
        self.batch += 1;
        self.hosts_in_batch = 0;
        self.layout.begin_batch(out);
    }

    fn begin_host(&mut self, host: &HostInfo<'_>) {
        self.layout.begin_host(host);
        self.hosts_in_batch += 1;
        let key = self.layout.host_key();
        self.host = match self.hosts.get(key) {
            Some(&n) => n,
            None => {
                let n = u32::try_from(self.hosts.len()).unwrap_or(u32::MAX);
                self.hosts.insert(key.to_vec(), n);
                n
            }
        };
    }

    /// The line made of the parts [`Formatter::chart`] keeps, made now.
    fn metric(&mut self, out: &mut Vec<u8>, m: &Metric<'_>) {
        let stored = matches!(m.value, Value::Stored(_));
        let s = &mut self.scratch;
        s.clear();
        self.layout.chart_part(s, m.chart, stored);
        let at = s.len();
        self.layout.dim_part(s, m.chart, m.dimension, stored);
        let (chart_part, dim_part) = s.split_at(at);
        self.layout.sample(out, chart_part, dim_part, m.value, m.timestamp);
    }

    fn chart(&mut self, out: &mut Vec<u8>, chart: &Arc<Chart>, mode: MemoryMode, batch: &Batch<'_>) -> usize {
        let export = &batch.export;
        if !source::readable(mode, export) {
            return 0;
        }
        let stored = export.source != DataSource::AsCollected;
        let (host, seen) = (self.host, self.batch);
        let Cached { layout, entries, .. } = self;
        chart.with_view(|view, _| {
            let meta = view.meta();
            if meta.options.obsolete || !batch.filters.chart(meta) {
                return 0;
            }
            let key = Arc::as_ptr(chart) as usize;
            let e = entries.entry(key).or_insert_with(|| Entry {
                _chart: Arc::downgrade(chart),
                version: 0,
                host: 0,
                stored,
                seen,
                bytes: Vec::new(),
                ends: Vec::new(),
            });
            e.seen = seen;
            let dims = view.dimension_count();
            if e.ends.len() != dims + 1 || e.version != view.version() || e.host != host || e.stored != stored
            {
                e.bytes.clear();
                e.ends.clear();
                layout.chart_part(&mut e.bytes, meta, stored);
                e.ends.push(end(&e.bytes));
                for d in view.dimensions() {
                    layout.dim_part(&mut e.bytes, meta, d.meta(), stored);
                    e.ends.push(end(&e.bytes));
                }
                e.bytes.shrink_to_fit();
                e.ends.shrink_to_fit();
                (e.version, e.host, e.stored) = (view.version(), host, stored);
            }
            let window = source::window(export.after, export.before, meta.update_every);
            if stored {
                // Each dimension's window is in its own allocation, rarely in the cache on a
                // parent: reading one slot of every window first lets those misses overlap,
                // instead of one whole miss per dimension inside the loop below. At 200 000
                // dimensions (examples/export_batch.rs) this took a third off the time per
                // sample, for ~140 more instructions (~300 in the size-optimised build).
                for i in 0..dims {
                    std::hint::black_box(view.point(i, window.1));
                }
            }
            let (chart_part, parts) = e.bytes.split_at(e.ends[0] as usize);
            let base = e.ends[0] as usize;
            let mut from = 0;
            let mut written = 0;
            for (d, &to) in view.dimensions().zip(&e.ends[1..]) {
                let to = to as usize - base;
                if let Some((value, timestamp)) = source::sample(&d, export.source, window) {
                    layout.sample(out, chart_part, &parts[from..to], value, timestamp);
                    written += 1;
                }
                from = to;
            }
            written
        })
    }

    fn end_batch(&mut self, out: &mut Vec<u8>) {
        self.layout.end_batch(out);
        let batch = self.batch;
        self.entries.retain(|_, e| e.seen == batch);
        // Host keys change only when a host's name, tags or labels do: start over when the
        // ones kept are mostly stale.
        if self.hosts.len() > 2 * self.hosts_in_batch + 64 {
            self.hosts.clear();
            self.entries.clear();
        }
    }
}

/// The end of `bytes` as an offset (a chart's parts are far below 4 GiB: at most
/// [`crate::exporting::names::MAX_NAME`]-byte names per dimension).
fn end(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).unwrap_or(u32::MAX)
}

/// Hashes an address: one multiplication (the map's keys are chart addresses).
#[derive(Default)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
