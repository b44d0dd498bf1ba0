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

use super::{
    push_int, push_labels, push_raw, push_value, ChartPart, FormatOptions, Formatter, HostInfo, LabelParts,
};
use crate::exporting::names::push_json;
use crate::exporting::source::{Metric, Value};

/// The JSON formatter (plaintext or HTTP).
pub struct Json {
    options: FormatOptions,
    http: bool,
    /// `{"prefix":…,"hostname":…,[host_tags][labels]` of the current host.
    head: Vec<u8>,
    /// `head` and the fields of the current chart.
    chart: ChartPart,
    first: bool,
}

impl Json {
    /// `http`: the `json:http` array; otherwise one record per line.
    pub fn new(options: FormatOptions, http: bool) -> Json {
        Json { options, http, head: Vec::new(), chart: ChartPart::default(), first: true }
    }
}

impl Formatter for Json {
    fn begin_batch(&mut self, out: &mut Vec<u8>) {
        self.first = true;
        if self.http {
            push_raw(out, "[\n");
        }
    }

    fn begin_host(&mut self, host: &HostInfo<'_>) {
        self.chart.reset();
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

    fn metric(&mut self, out: &mut Vec<u8>, m: &Metric<'_>) {
        if self.http && !self.first {
            push_raw(out, ",\n");
        }
        self.first = false;
        // Netdata's stored-value record has `": "` in three places.
        let sp = if matches!(m.value, Value::Stored(_)) { " " } else { "" };
        let c = m.chart;
        let field = |out: &mut Vec<u8>, key: &str, space: &str, value: &str| {
            push_raw(out, "\"");
            push_raw(out, key);
            push_raw(out, "\":");
            push_raw(out, space);
            push_raw(out, "\"");
            push_json(out, value);
            push_raw(out, "\",");
        };
        // The host's part and the chart's fields are the same for every dimension of a chart
        // (and an instance writes one kind of record: its data source is fixed).
        let head = &self.head;
        out.extend_from_slice(self.chart.get(c, |h| {
            h.extend_from_slice(head);
            field(h, "chart_id", "", &c.id);
            field(h, "chart_name", "", &c.name);
            field(h, "chart_family", "", &c.family);
            field(h, "chart_context", sp, &c.context);
            field(h, "chart_type", "", c.type_part());
            field(h, "units", sp, &c.units);
        }));
        field(out, "id", "", &m.dimension.id);
        field(out, "name", "", &m.dimension.name);
        push_raw(out, "\"value\":");
        push_value(out, m.value);
        push_raw(out, ",\"timestamp\":");
        push_raw(out, sp);
        push_int(out, m.timestamp);
        push_raw(out, "}");
        if !self.http {
            out.push(b'\n');
        }
    }

    fn end_batch(&mut self, out: &mut Vec<u8>) {
        if self.http {
            push_raw(out, "\n]\n");
        }
    }
}
