//! OpenTSDB: telnet `put` lines, and the HTTP API's JSON array.
//!
//! - telnet: `put <prefix>.<chart>.<dimension> <seconds> <value> host=<host>[ <tags>][ <k>=<v>…]⏎`
//! - http: `{"metric":"<prefix>.<chart>.<dimension>","timestamp":<s>,"value":<v>,
//!   "tags":{"host":"<host>[ <tags>]"[,"<k>":"<v>"…]}}`, objects joined by `,⏎` inside
//!   `[⏎` … `⏎]⏎`. Netdata writes a host's tags inside the `host` tag's value; so does this.
//!
//! A dimension's part is everything up to the timestamp; the host's tail follows the value.

use super::cache::Layout;
use super::{push_labels, push_raw, push_value, FormatOptions, HostInfo, LabelParts, Stamp};
use crate::exporting::names::{push_json, push_name, push_opentsdb_label};
use crate::exporting::source::Value;
use crate::rrd::{ChartMeta, DimensionMeta};

/// The telnet formatter.
pub struct OpentsdbTelnet {
    options: FormatOptions,
    /// ` host=<host>[ <tags>][ labels]⏎` of the current host.
    tail: Vec<u8>,
    /// `<seconds> `.
    stamp: Stamp,
}

impl OpentsdbTelnet {
    pub fn new(options: FormatOptions) -> OpentsdbTelnet {
        OpentsdbTelnet { options, tail: Vec::new(), stamp: Stamp::default() }
    }
}

impl Layout for OpentsdbTelnet {
    fn begin_batch(&mut self, _out: &mut Vec<u8>) {}

    fn begin_host(&mut self, host: &HostInfo<'_>) {
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

    /// The parts do not depend on the host.
    fn host_key(&self) -> &[u8] {
        &[]
    }

    fn end_batch(&mut self, _out: &mut Vec<u8>) {}

    fn chart_part(&self, _out: &mut Vec<u8>, _chart: &ChartMeta, _stored: bool) {}

    fn dim_part(&self, out: &mut Vec<u8>, chart: &ChartMeta, dim: &DimensionMeta, _stored: bool) {
        let names = self.options.names;
        push_raw(out, "put ");
        push_raw(out, &self.options.prefix);
        out.push(b'.');
        push_name(out, names.chart(chart));
        out.push(b'.');
        push_name(out, names.dimension(dim));
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
        out.extend_from_slice(self.stamp.get(timestamp, false, |_, _| {}, |s, _| s.push(b' ')));
        push_value(out, value);
        out.extend_from_slice(&self.tail);
    }
}

/// The HTTP formatter.
pub struct OpentsdbHttp {
    options: FormatOptions,
    /// `,"tags":{"host":"<host>[ <tags>]"[,labels]}}` of the current host.
    tail: Vec<u8>,
    /// `<seconds>,"value":`.
    stamp: Stamp,
    first: bool,
}

impl OpentsdbHttp {
    pub fn new(options: FormatOptions) -> OpentsdbHttp {
        OpentsdbHttp { options, tail: Vec::new(), stamp: Stamp::default(), first: true }
    }
}

impl Layout for OpentsdbHttp {
    fn begin_batch(&mut self, out: &mut Vec<u8>) {
        self.first = true;
        push_raw(out, "[\n");
    }

    fn begin_host(&mut self, host: &HostInfo<'_>) {
        self.tail.clear();
        push_raw(&mut self.tail, ",\"tags\":{\"host\":\"");
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

    /// The parts do not depend on the host.
    fn host_key(&self) -> &[u8] {
        &[]
    }

    fn end_batch(&mut self, out: &mut Vec<u8>) {
        push_raw(out, "\n]\n");
    }

    fn chart_part(&self, _out: &mut Vec<u8>, _chart: &ChartMeta, _stored: bool) {}

    fn dim_part(&self, out: &mut Vec<u8>, chart: &ChartMeta, dim: &DimensionMeta, _stored: bool) {
        let names = self.options.names;
        push_raw(out, "{\"metric\":\"");
        push_json(out, &self.options.prefix);
        out.push(b'.');
        push_name(out, names.chart(chart));
        out.push(b'.');
        push_name(out, names.dimension(dim));
        push_raw(out, "\",\"timestamp\":");
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
        if !self.first {
            push_raw(out, ",\n");
        }
        self.first = false;
        out.extend_from_slice(dim_part);
        out.extend_from_slice(self.stamp.get(timestamp, false, |_, _| {}, |s, _| push_raw(s, ",\"value\":")));
        push_value(out, value);
        out.extend_from_slice(&self.tail);
    }
}
