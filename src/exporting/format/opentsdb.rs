//! OpenTSDB: telnet `put` lines, and the HTTP API's JSON array.
//!
//! - telnet: `put <prefix>.<chart>.<dimension> <seconds> <value> host=<host>[ <tags>][ <k>=<v>…]⏎`
//! - http: `{"metric":"<prefix>.<chart>.<dimension>","timestamp":<s>,"value":<v>,
//!   "tags":{"host":"<host>[ <tags>]"[,"<k>":"<v>"…]}}`, objects joined by `,⏎` inside
//!   `[⏎` … `⏎]⏎`. Netdata writes a host's tags inside the `host` tag's value; so does this.

use super::{
    push_int, push_labels, push_raw, push_value, ChartPart, FormatOptions, Formatter, HostInfo, LabelParts,
    Stamp,
};
use crate::exporting::names::{push_json, push_name, push_opentsdb_label};
use crate::exporting::source::Metric;

/// The telnet formatter.
pub struct OpentsdbTelnet {
    options: FormatOptions,
    /// ` host=<host>[ <tags>][ labels]⏎` of the current host.
    tail: Vec<u8>,
    /// `put <prefix>.<chart>.` of the current chart.
    chart: ChartPart,
    stamp: Stamp,
}

impl OpentsdbTelnet {
    pub fn new(options: FormatOptions) -> OpentsdbTelnet {
        OpentsdbTelnet { options, tail: Vec::new(), chart: ChartPart::default(), stamp: Stamp::default() }
    }
}

impl Formatter for OpentsdbTelnet {
    fn begin_batch(&mut self, _out: &mut Vec<u8>) {}

    fn begin_host(&mut self, host: &HostInfo<'_>) {
        self.chart.reset();
        self.tail.clear();
        push_raw(&mut self.tail, " host=");
        push_raw(&mut self.tail, host.hostname);
        if !host.tags.is_empty() {
            self.tail.push(b' ');
            push_raw(&mut self.tail, host.tags);
        }
        let parts = LabelParts { before: " ", equal: "=", quote: "", between: " ", after: "" };
        push_labels(&mut self.tail, host.labels, self.options.labels, parts, push_raw, push_opentsdb_label);
        self.tail.push(b'\n');
    }

    fn metric(&mut self, out: &mut Vec<u8>, m: &Metric<'_>) {
        let (prefix, names) = (&self.options.prefix, self.options.names);
        out.extend_from_slice(self.chart.get(m.chart, |p| {
            push_raw(p, "put ");
            push_raw(p, prefix);
            p.push(b'.');
            push_name(p, names.chart(m.chart));
            p.push(b'.');
        }));
        push_name(out, self.options.names.dimension(m.dimension));
        out.push(b' ');
        self.stamp.push(out, m.timestamp);
        out.push(b' ');
        push_value(out, m.value);
        out.extend_from_slice(&self.tail);
    }

    fn end_batch(&mut self, _out: &mut Vec<u8>) {}
}

/// The HTTP formatter.
pub struct OpentsdbHttp {
    options: FormatOptions,
    /// `"host":"<host>[ <tags>]"[,labels]}}` of the current host.
    tail: Vec<u8>,
    first: bool,
}

impl OpentsdbHttp {
    pub fn new(options: FormatOptions) -> OpentsdbHttp {
        OpentsdbHttp { options, tail: Vec::new(), first: true }
    }
}

impl Formatter for OpentsdbHttp {
    fn begin_batch(&mut self, out: &mut Vec<u8>) {
        self.first = true;
        push_raw(out, "[\n");
    }

    fn begin_host(&mut self, host: &HostInfo<'_>) {
        self.tail.clear();
        push_raw(&mut self.tail, "\"host\":\"");
        push_json(&mut self.tail, host.hostname);
        if !host.tags.is_empty() {
            self.tail.push(b' ');
            push_json(&mut self.tail, host.tags);
        }
        self.tail.push(b'"');
        let parts = LabelParts { before: ",", equal: ":", quote: "\"", between: ",", after: "" };
        push_labels(&mut self.tail, host.labels, self.options.labels, parts, push_json, push_opentsdb_label);
        push_raw(&mut self.tail, "}}");
    }

    fn metric(&mut self, out: &mut Vec<u8>, m: &Metric<'_>) {
        if !self.first {
            push_raw(out, ",\n");
        }
        self.first = false;
        push_raw(out, "{\"metric\":\"");
        push_json(out, &self.options.prefix);
        out.push(b'.');
        push_name(out, self.options.names.chart(m.chart));
        out.push(b'.');
        push_name(out, self.options.names.dimension(m.dimension));
        push_raw(out, "\",\"timestamp\":");
        push_int(out, m.timestamp);
        push_raw(out, ",\"value\":");
        push_value(out, m.value);
        push_raw(out, ",\"tags\":{");
        out.extend_from_slice(&self.tail);
    }

    fn end_batch(&mut self, out: &mut Vec<u8>) {
        push_raw(out, "\n]\n");
    }
}
