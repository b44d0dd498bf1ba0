//! Netdata's JSON records: one object per dimension, one per line (`json`), or joined by
//! `,⏎` inside `[⏎` … `⏎]⏎` (`json:http`):
//! `{"prefix":…,"hostname":…,["host_tags":…,]["labels":{…},]"chart_id":…,"chart_name":…,
//! "chart_family":…,"chart_context":…,"chart_type":…,"units":…,"id":…,"name":…,
//! "value":…,"timestamp":…}`.
//!
//! Netdata's record for a value computed from the database has a space after the colon of
//! `chart_context`, `units` and `timestamp`; its `as collected` record has none. Both are
//! kept byte for byte. `chart_type` is the type part of the chart id (`system` of
//! `system.cpu`); ids and names are written as they are, not sanitised.
//!
//! The chart's part is the host's fields and the chart's; a dimension's part is its `id`
//! and `name` up to `"value":`.

use super::cache::Layout;
use super::{push_labels, push_raw, push_value, FormatOptions, HostInfo, LabelParts, Stamp};
use crate::exporting::names::push_json;
use crate::exporting::source::Value;
use crate::rrd::{ChartMeta, DimensionMeta};

/// The JSON formatter (plaintext or HTTP).
pub struct Json {
    options: FormatOptions,
    http: bool,
    /// `{"prefix":…,"hostname":…,[host_tags][labels]` of the current host.
    head: Vec<u8>,
    /// `,"timestamp":<seconds>}[⏎]`.
    stamp: Stamp,
    first: bool,
}

impl Json {
    /// `http`: the `json:http` array; otherwise one record per line.
    pub fn new(options: FormatOptions, http: bool) -> Json {
        Json { options, http, head: Vec::new(), stamp: Stamp::default(), first: true }
    }
}

/// Netdata's stored-value record has `": "` in three places.
fn space(stored: bool) -> &'static str {
    if stored {
        " "
    } else {
        ""
    }
}

/// `"<key>":<space>"<value, escaped>",`.
fn field(out: &mut Vec<u8>, key: &str, space: &str, value: &str) {
    push_raw(out, "\"");
    push_raw(out, key);
    push_raw(out, "\":");
    push_raw(out, space);
    push_raw(out, "\"");
    push_json(out, value);
    push_raw(out, "\",");
}

impl Layout for Json {
    fn begin_batch(&mut self, out: &mut Vec<u8>) {
        self.first = true;
        if self.http {
            push_raw(out, "[\n");
        }
    }

    fn begin_host(&mut self, host: &HostInfo<'_>) {
        let h = &mut self.head;
        h.clear();
        push_raw(h, "{\"prefix\":\"");
        push_json(h, &self.options.prefix);
        push_raw(h, "\",\"hostname\":\"");
        push_json(h, host.hostname);
        push_raw(h, "\",");
        if !host.tags.is_empty() {
            // Tags that look like JSON are written as JSON (Netdata's rule).
            if host.tags.starts_with(['{', '[', '"']) {
                push_raw(h, "\"host_tags\":");
                push_raw(h, host.tags);
                push_raw(h, ",");
            } else {
                push_raw(h, "\"host_tags\":\"");
                push_json(h, host.tags);
                push_raw(h, "\",");
            }
        }
        let parts = LabelParts { before: "\"labels\":{", equal: ":", quote: "\"", between: ",", after: "}," };
        push_labels(h, host.labels, self.options.labels, parts, push_json, push_json);
    }

    fn host_key(&self) -> &[u8] {
        &self.head
    }

    fn end_batch(&mut self, out: &mut Vec<u8>) {
        if self.http {
            push_raw(out, "\n]\n");
        }
    }

    fn chart_part(&self, out: &mut Vec<u8>, c: &ChartMeta, stored: bool) {
        let sp = space(stored);
        out.extend_from_slice(&self.head);
        field(out, "chart_id", "", &c.id);
        field(out, "chart_name", "", &c.name);
        field(out, "chart_family", "", &c.family);
        field(out, "chart_context", sp, &c.context);
        field(out, "chart_type", "", c.type_part());
        field(out, "units", sp, &c.units);
    }

    fn dim_part(&self, out: &mut Vec<u8>, _chart: &ChartMeta, d: &DimensionMeta, _stored: bool) {
        field(out, "id", "", &d.id);
        field(out, "name", "", &d.name);
        push_raw(out, "\"value\":");
    }

    #[inline]
    fn sample(
        &mut self,
        out: &mut Vec<u8>,
        chart_part: &[u8],
        dim_part: &[u8],
        value: Value,
        timestamp: i64,
    ) {
        if self.http && !self.first {
            push_raw(out, ",\n");
        }
        self.first = false;
        out.extend_from_slice(chart_part);
        out.extend_from_slice(dim_part);
        push_value(out, value);
        let http = self.http;
        let stored = matches!(value, Value::Stored(_));
        out.extend_from_slice(self.stamp.get(
            timestamp,
            stored,
            |s, stored| {
                push_raw(s, ",\"timestamp\":");
                push_raw(s, space(stored));
            },
            |s, _| push_raw(s, if http { "}" } else { "}\n" }),
        ));
    }
}
