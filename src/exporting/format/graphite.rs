//! Graphite plaintext (also the body of `graphite:http`):
//! `<prefix>.<host>.<chart>.<dimension>[;<tags>][;<k>=<v>…] <value> <seconds>⏎`.

use super::{
    push_labels, push_raw, push_value, ChartPart, FormatOptions, Formatter, HostInfo, LabelParts, Stamp,
};
use crate::exporting::names::{push_graphite_label, push_name};
use crate::exporting::source::Metric;

/// The graphite formatter.
pub struct Graphite {
    options: FormatOptions,
    /// `<prefix>.<host>.` of the current host.
    head: Vec<u8>,
    /// `[;<tags>][;labels]` of the current host.
    tail: Vec<u8>,
    /// `<prefix>.<host>.<chart>.` of the current chart.
    chart: ChartPart,
    stamp: Stamp,
}

impl Graphite {
    pub fn new(options: FormatOptions) -> Graphite {
        Graphite {
            options,
            head: Vec::new(),
            tail: Vec::new(),
            chart: ChartPart::default(),
            stamp: Stamp::default(),
        }
    }
}

impl Formatter for Graphite {
    fn begin_batch(&mut self, _out: &mut Vec<u8>) {}

    fn begin_host(&mut self, host: &HostInfo<'_>) {
        self.chart.reset();
        self.head.clear();
        push_raw(&mut self.head, &self.options.prefix);
        self.head.push(b'.');
        push_raw(&mut self.head, host.hostname);
        self.head.push(b'.');
        self.tail.clear();
        if !host.tags.is_empty() {
            self.tail.push(b';');
            push_raw(&mut self.tail, host.tags);
        }
        let parts = LabelParts { before: ";", equal: "=", quote: "", between: ";", after: "" };
        push_labels(&mut self.tail, host.labels, self.options.labels, parts, push_raw, push_graphite_label);
    }

    fn metric(&mut self, out: &mut Vec<u8>, m: &Metric<'_>) {
        let (head, names) = (&self.head, self.options.names);
        out.extend_from_slice(self.chart.get(m.chart, |p| {
            p.extend_from_slice(head);
            push_name(p, names.chart(m.chart));
            p.push(b'.');
        }));
        push_name(out, self.options.names.dimension(m.dimension));
        out.extend_from_slice(&self.tail);
        out.push(b' ');
        push_value(out, m.value);
        out.push(b' ');
        self.stamp.push(out, m.timestamp);
        out.push(b'\n');
    }

    fn end_batch(&mut self, _out: &mut Vec<u8>) {}
}
