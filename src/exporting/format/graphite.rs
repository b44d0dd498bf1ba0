//! Graphite plaintext (also the body of `graphite:http`):
//! `<prefix>.<host>.<chart>.<dimension>[;<tags>][;<k>=<v>…] <value> <seconds>⏎`.
//!
//! Everything before the value is one dimension's part; the chart's part is empty.

use super::cache::Layout;
use super::{push_labels, push_raw, push_value, FormatOptions, HostInfo, LabelParts, Stamp};
use crate::exporting::names::{push_graphite_label, push_name};
use crate::exporting::source::Value;
use crate::rrd::{ChartMeta, DimensionMeta};

/// The graphite formatter.
pub struct Graphite {
    options: FormatOptions,
    /// `<prefix>.<host>.` of the current host, a 0xFF byte, then its `[;<tags>][;labels]`.
    host: Vec<u8>,
    /// Where the `<prefix>.<host>.` part of `host` ends.
    head: usize,
    /// ` <seconds>⏎`.
    stamp: Stamp,
}

impl Graphite {
    pub fn new(options: FormatOptions) -> Graphite {
        Graphite { options, host: Vec::new(), head: 0, stamp: Stamp::default() }
    }
}

impl Layout for Graphite {
    fn begin_batch(&mut self, _out: &mut Vec<u8>) {}

    fn begin_host(&mut self, host: &HostInfo<'_>) {
        let h = &mut self.host;
        h.clear();
        push_raw(h, &self.options.prefix);
        h.push(b'.');
        push_raw(h, host.hostname);
        h.push(b'.');
        self.head = h.len();
        // Never in UTF-8 text: the key tells the two parts apart.
        h.push(0xFF);
        if !host.tags.is_empty() {
            h.push(b';');
            push_raw(h, host.tags);
        }
        let parts = LabelParts { before: ";", equal: "=", quote: "", between: ";", after: "" };
        push_labels(h, host.labels, self.options.labels, parts, push_raw, push_graphite_label);
    }

    fn host_key(&self) -> &[u8] {
        &self.host
    }

    fn end_batch(&mut self, _out: &mut Vec<u8>) {}

    fn chart_part(&self, _out: &mut Vec<u8>, _chart: &ChartMeta, _stored: bool) {}

    fn dim_part(&self, out: &mut Vec<u8>, chart: &ChartMeta, dim: &DimensionMeta, _stored: bool) {
        let names = self.options.names;
        out.extend_from_slice(&self.host[..self.head]);
        push_name(out, names.chart(chart));
        out.push(b'.');
        push_name(out, names.dimension(dim));
        out.extend_from_slice(&self.host[self.head + 1..]);
        out.push(b' ');
    }

    #[inline]
    fn sample(
        &mut self,
        out: &mut Vec<u8>,
        _chart_part: &[u8],
        dim_part: &[u8],
        value: Value,
        timestamp: i64,
    ) {
        out.extend_from_slice(dim_part);
        push_value(out, value);
        out.extend_from_slice(self.stamp.get(timestamp, false, |s, _| s.push(b' '), |s, _| s.push(b'\n')));
    }
}
