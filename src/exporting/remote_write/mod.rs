//! The `prometheus_remote_write` connector's wire format: metric names and labels the way
//! Netdata's remote write names them, a protobuf `WriteRequest` ([`proto`]), snappy block
//! compression ([`snappy`]) and the HTTP headers of the Prometheus remote write 1.0 spec.
//!
//! Netdata's naming (protocol.md §8.4 and §10): per dimension a series
//! `<prefix>_<context>[_<units>]_average` or `<prefix>_<context>_sum` (stored data), or
//! `<prefix>_<context>[_total]` / `<prefix>_<context>_<dimension>[_total]` (as collected),
//! labelled `chart`, `family`, `dimension` (not for the per-dimension as-collected names) and
//! `instance` (the hostname); per host `netdata_info{instance,application,version}` = 1 with
//! the host's labels. Where Netdata 1.37 broke the spec, this follows the spec: labels are
//! sorted and unique, names match Prometheus' character sets, and label values go out as they
//! are (Netdata escaped them as for the text format, which protobuf does not need).
//!
//! [`Batch`] holds one request; [`write_batch`] ([`hosts`]) fills it with one export of every
//! host a node holds.

pub mod hosts;
pub mod proto;
pub mod snappy;

pub use hosts::write_batch;
pub use proto::{stale_nan, WriteRequestBuilder, STALE_NAN_BITS};

/// `Content-Type` of a remote write request.
pub const CONTENT_TYPE: &str = "application/x-protobuf";
/// `Content-Encoding`: snappy's block format.
pub const CONTENT_ENCODING: &str = "snappy";
/// `X-Prometheus-Remote-Write-Version` of the 1.0 spec.
pub const PROTOCOL_VERSION: &str = "0.1.0";
/// Netdata's default `remote write URL path`.
pub const DEFAULT_PATH: &str = "/receive";

/// The request headers the spec asks for besides `User-Agent`, which
/// [`crate::net::http_client::Client`] sends on every request as [`user_agent`] (sending it
/// here too would repeat the header).
pub fn headers() -> [(&'static str, &'static str); 3] {
    [
        ("Content-Encoding", CONTENT_ENCODING),
        ("Content-Type", CONTENT_TYPE),
        ("X-Prometheus-Remote-Write-Version", PROTOCOL_VERSION),
    ]
}

/// The `User-Agent` the HTTP client sends: `nanodata/<version>`.
pub fn user_agent() -> String {
    format!("{}/{}", crate::PROGRAM, crate::VERSION)
}

/// Which stored-data reduction a metric carries in its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    Average,
    Sum,
}

/// `<prefix>_<context>_<units>_average` or `<prefix>_<context>_sum`: the units only for the
/// average (as Netdata's Prometheus naming, §8.4), see [`units_suffix`].
pub fn stored_metric_name(prefix: &str, context: &str, units: &str, reduction: Reduction) -> String {
    let mut s = String::new();
    push_stored_metric_name(&mut s, prefix, context, units, reduction);
    s
}

/// [`stored_metric_name`] appended to `out` (nothing allocated once `out` has grown).
pub fn push_stored_metric_name(
    out: &mut String,
    prefix: &str,
    context: &str,
    units: &str,
    reduction: Reduction,
) {
    push_metric_head(out, prefix, context);
    match reduction {
        Reduction::Average => {
            push_units_suffix(out, units);
            out.push_str("_average");
        }
        Reduction::Sum => out.push_str("_sum"),
    }
}

/// As-collected naming: `<prefix>_<context>[_total]` when every dimension of the chart has
/// the same algorithm, multiplier and divisor (`per_dimension` = `None`; the dimension goes
/// in a label), else `<prefix>_<context>_<dimension>[_total]`. `counter`: the dimension is
/// `incremental` or `percentage-of-incremental-row` (Netdata leaves `_total` off charts of
/// its `prometheus` collector module; the caller decides).
pub fn collected_metric_name(
    prefix: &str,
    context: &str,
    per_dimension: Option<&str>,
    counter: bool,
) -> String {
    let mut s = String::new();
    push_collected_metric_name(&mut s, prefix, context, per_dimension, counter);
    s
}

/// [`collected_metric_name`] appended to `out` (nothing allocated once `out` has grown).
pub fn push_collected_metric_name(
    out: &mut String,
    prefix: &str,
    context: &str,
    per_dimension: Option<&str>,
    counter: bool,
) {
    push_metric_head(out, prefix, context);
    if let Some(d) = per_dimension {
        out.push('_');
        push_netdata_name(out, d);
    }
    if counter {
        out.push_str("_total");
    }
}

/// Netdata's units suffix: `_` + the units with every non-alphanumeric as `_`; `%` is
/// `_percent` and a trailing `/s` becomes `_persec` (`kilobits/s` → `_kilobits_persec`). Empty
/// units give a lone `_`, as in Netdata.
pub fn units_suffix(units: &str) -> String {
    let mut s = String::new();
    push_units_suffix(&mut s, units);
    s
}

fn push_units_suffix(out: &mut String, units: &str) {
    if units == "%" {
        out.push_str("_percent");
        return;
    }
    out.push('_');
    match units.strip_suffix("/s").filter(|base| !base.is_empty()) {
        Some(base) => {
            push_netdata_name(out, base);
            out.push_str("_persec");
        }
        None => push_netdata_name(out, units),
    }
}

/// `<prefix>_<context>`, a valid metric name start: the prefix made valid as
/// [`sanitize_metric_name`] does (what follows it is only ASCII letters, digits and `_`, which
/// sanitising the whole name would leave alone).
fn push_metric_head(out: &mut String, prefix: &str, context: &str) {
    push_sanitized(out, prefix, true);
    out.push('_');
    push_netdata_name(out, context);
}

/// A metric name as Prometheus accepts it, `[a-zA-Z_:][a-zA-Z0-9_:]*`: every other character
/// as `_`, and a `_` in front of a leading digit.
pub fn sanitize_metric_name(s: &str) -> String {
    sanitize(s, true)
}

/// A label name as Prometheus accepts it, `[a-zA-Z_][a-zA-Z0-9_]*`, made the same way.
pub fn sanitize_label_name(s: &str) -> String {
    sanitize(s, false)
}

/// The label set of one dimension's series. `dimension` empty (per-dimension as-collected
/// names) leaves that label out; values are sent as they are.
pub fn dimension_labels<'a>(
    metric: &'a str,
    chart: &'a str,
    family: &'a str,
    dimension: &'a str,
    instance: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("__name__", metric),
        ("chart", chart),
        ("family", family),
        ("dimension", dimension),
        ("instance", instance),
    ]
}

/// One request's worth of series, encoded and then compressed into reused buffers.
#[derive(Default)]
pub struct Batch {
    request: WriteRequestBuilder,
    encoder: snappy::Encoder,
    body: Vec<u8>,
    /// Host label names made valid (reused).
    names: Vec<String>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// The host's `netdata_info` series, value 1 at `ts_ms`. Host label names are made valid
    /// label names; one that clashes with `instance`, `application` or `version` (or an
    /// earlier host label) is left out.
    pub fn host_info(
        &mut self,
        instance: &str,
        application: &str,
        version: &str,
        host_labels: &[(&str, &str)],
        ts_ms: i64,
    ) {
        self.names.truncate(host_labels.len());
        while self.names.len() < host_labels.len() {
            self.names.push(String::new());
        }
        for (slot, (name, _)) in self.names.iter_mut().zip(host_labels) {
            slot.clear();
            push_sanitized(slot, name, false);
        }
        let mut labels = Vec::with_capacity(4 + host_labels.len());
        labels.extend([
            ("__name__", "netdata_info"),
            ("instance", instance),
            ("application", application),
            ("version", version),
        ]);
        labels.extend(self.names.iter().map(String::as_str).zip(host_labels.iter().map(|(_, v)| *v)));
        self.request.series(&labels).sample(1.0, ts_ms);
    }

    /// One dimension's value, labelled as [`dimension_labels`] says.
    #[allow(clippy::too_many_arguments)]
    pub fn dimension(
        &mut self,
        metric: &str,
        chart: &str,
        family: &str,
        dimension: &str,
        instance: &str,
        value: f64,
        ts_ms: i64,
    ) {
        self.request
            .series(&dimension_labels(metric, chart, family, dimension, instance))
            .sample(value, ts_ms);
    }

    /// The request being built, for series of several samples.
    pub fn request(&mut self) -> &mut WriteRequestBuilder {
        &mut self.request
    }

    /// The compressed request body.
    pub fn body(&mut self) -> Result<&[u8], snappy::TooLong> {
        let raw = self.request.finish();
        self.encoder.compress(raw, &mut self.body)?;
        Ok(&self.body)
    }

    pub fn series_count(&self) -> usize {
        self.request.series_count()
    }

    pub fn sample_count(&self) -> usize {
        self.request.sample_count()
    }

    /// Starts over, keeping the buffers.
    pub fn clear(&mut self) {
        self.request.clear();
        self.body.clear();
    }
}

/// Netdata's `prometheus_name_copy`: every character that is not an ASCII letter or digit
/// as `_`.
fn push_netdata_name(out: &mut String, s: &str) {
    out.extend(s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }));
}

fn sanitize(s: &str, colon: bool) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    push_sanitized(&mut out, s, colon);
    out
}

fn push_sanitized(out: &mut String, s: &str, colon: bool) {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(s.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':') {
            c
        } else {
            '_'
        }
    }));
}

#[cfg(test)]
mod tests;
