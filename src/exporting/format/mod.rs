//! The wire text of the line-based connectors, exactly as Netdata 1.37 writes it
//! (exporting/graphite, opentsdb, json; protocol.md §10), and the host and chart filters.
//!
//! A [`Formatter`] writes one batch into a `Vec<u8>` the connector reuses: `begin_batch`,
//! then for each host `begin_host` (which renders the host's tags and labels once) and one
//! `chart` per chart (or one `metric` per dimension), then `end_batch`. The formats keep the
//! parts of each chart's lines across batches (module `cache`), so a batch is mostly copies of
//! them, the window sums and the numbers. Values read `as collected` are integers
//! (`%lld`), values computed from the database are written like C's `%0.7f`.
//!
//! Label rules (Netdata's `send configured labels` / `send automatic labels`): a host label
//! is sent when its source has the `CONFIG` bit and configured labels are on, or the `AUTO`
//! bit and automatic labels are on. Its name and value are first sanitised the way Netdata
//! stores labels (`[host labels]` `room = lab one;a~b` is stored `lab one:a_b`), then the
//! way the connector writes them. Netdata writes the label part's opening separator
//! whenever either switch is on, even when no label passes: a graphite path then ends in `;`
//! and an OpenTSDB HTTP object in `,}` (invalid JSON). Netdata's own hosts always carry the
//! configured `_is_ephemeral` and `_has_unstable_connection` labels, so it rarely shows; here
//! the label part is written only when a label passes, which is byte-identical whenever
//! Netdata's output is well-formed.
//!
//! Where Netdata writes a string into JSON unescaped (hostnames, units, families), it is
//! escaped here: identical for every ordinary value, valid JSON for the rest.

mod cache;
mod graphite;
mod json;
mod number;
mod opentsdb;

use std::sync::Arc;

use super::names::NameSource;
use super::source::{self, Export, Metric, Value};
use crate::db::MemoryMode;
use crate::rrd::{label_source, Chart, ChartMeta, Host, Hosts, Label};
use crate::simple_pattern::SimplePattern;

use cache::Cached;
pub use graphite::Graphite;
pub use json::Json;
pub use opentsdb::{OpentsdbHttp, OpentsdbTelnet};

/// The line formats, by connector type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// `graphite`, `graphite:plaintext`, and `graphite:http(s)` (the same lines, POSTed).
    Graphite,
    /// `opentsdb`, `opentsdb:telnet`: `put` lines.
    OpentsdbTelnet,
    /// `opentsdb:http(s)`: a JSON array of objects.
    OpentsdbHttp,
    /// `json`, `json:plaintext`: one object per line.
    Json,
    /// `json:http(s)`: a JSON array of objects.
    JsonHttp,
}

impl Format {
    /// The `Content-Type` Netdata POSTs this format with (`graphite:http`, `opentsdb:http`,
    /// `json:http`); `None` for the formats only sent over plain TCP.
    pub fn content_type(self) -> Option<&'static str> {
        match self {
            Format::Graphite => Some("application/graphite"),
            Format::OpentsdbHttp | Format::JsonHttp => Some("application/json"),
            Format::OpentsdbTelnet | Format::Json => None,
        }
    }

    /// A formatter of this format.
    pub fn formatter(self, options: FormatOptions) -> Box<dyn Formatter> {
        match self {
            Format::Graphite => Box::new(Cached::new(Graphite::new(options))),
            Format::OpentsdbTelnet => Box::new(Cached::new(OpentsdbTelnet::new(options))),
            Format::OpentsdbHttp => Box::new(Cached::new(OpentsdbHttp::new(options))),
            Format::Json => Box::new(Cached::new(Json::new(options, false))),
            Format::JsonHttp => Box::new(Cached::new(Json::new(options, true))),
        }
    }
}

/// Which host labels are sent.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SendLabels {
    /// `send configured labels` (Netdata: yes): labels from `[host labels]`.
    pub configured: bool,
    /// `send automatic labels` (Netdata: no): the labels the agent makes (`_os_name`, …).
    pub automatic: bool,
}

impl Default for SendLabels {
    fn default() -> Self {
        SendLabels { configured: true, automatic: false }
    }
}

impl SendLabels {
    /// Either switch is on: the formats write their label part.
    pub fn any(self) -> bool {
        self.configured || self.automatic
    }

    /// A label of this source is sent.
    pub fn sends(self, source: u32) -> bool {
        (self.configured && source & label_source::CONFIG != 0)
            || (self.automatic && source & label_source::AUTO != 0)
    }
}

/// What every format takes from the instance's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormatOptions {
    /// `prefix` (Netdata: `netdata`).
    pub prefix: String,
    /// `send names instead of ids`.
    pub names: NameSource,
    pub labels: SendLabels,
}

/// The host a run of metrics belongs to.
#[derive(Clone, Copy, Debug)]
pub struct HostInfo<'a> {
    /// The name written: the instance's `hostname` for the node itself, the host's own
    /// hostname for the hosts streamed to it.
    pub hostname: &'a str,
    /// The host's tags (a child's `tags`); empty: none.
    pub tags: &'a str,
    pub labels: &'a [Label],
}

/// Writes one connector's batches.
pub trait Formatter: Send {
    /// Starts a batch (the JSON array of the HTTP variants).
    fn begin_batch(&mut self, out: &mut Vec<u8>);
    /// The host of the metrics that follow: its name, tags and labels are rendered once.
    fn begin_host(&mut self, host: &HostInfo<'_>);
    /// One dimension's line or object.
    fn metric(&mut self, out: &mut Vec<u8>, metric: &Metric<'_>);
    /// The metrics of one chart of the current host that `batch.filters` lets through
    /// (`mode`: the host's memory mode); returns how many were written. The formats keep
    /// the parts of each chart's lines from one batch to the next.
    fn chart(&mut self, out: &mut Vec<u8>, chart: &Arc<Chart>, mode: MemoryMode, batch: &Batch<'_>) -> usize {
        if !chart.with_view(|view, _| batch.filters.chart(view.meta())) {
            return 0;
        }
        source::read_chart(chart, mode, &batch.export, |m| self.metric(out, m))
    }
    /// Ends the batch.
    fn end_batch(&mut self, out: &mut Vec<u8>);
}

/// `send hosts matching` and `send charts matching`.
#[derive(Clone, Debug)]
pub struct Filters {
    hosts: SimplePattern,
    charts: SimplePattern,
}

impl Default for Filters {
    /// Netdata's defaults: `localhost *` and `*`.
    fn default() -> Self {
        Filters::new("localhost *", "*")
    }
}

impl Filters {
    pub fn new(send_hosts_matching: &str, send_charts_matching: &str) -> Filters {
        Filters {
            hosts: SimplePattern::parse(send_hosts_matching),
            charts: SimplePattern::parse(send_charts_matching),
        }
    }

    /// The filters of patterns read already.
    pub fn from_patterns(send_hosts_matching: SimplePattern, send_charts_matching: SimplePattern) -> Filters {
        Filters { hosts: send_hosts_matching, charts: send_charts_matching }
    }

    /// A host is exported when the pattern matches its hostname — `localhost` for the node
    /// itself — or the pattern is empty.
    pub fn host(&self, hostname: &str, is_localhost: bool) -> bool {
        self.hosts.allows(if is_localhost { "localhost" } else { hostname })
    }

    /// A chart is exported when the pattern matches its id or its name (an empty pattern
    /// matches nothing).
    pub fn chart(&self, meta: &ChartMeta) -> bool {
        self.charts.matches(&meta.id) || self.charts.matches(&meta.name)
    }
}

/// What one batch covers.
pub struct Batch<'a> {
    pub export: Export,
    pub filters: &'a Filters,
    /// The instance's `hostname`, written for the node itself.
    pub hostname: &'a str,
}

/// Writes one batch of every host of `hosts` and every chart that `batch.filters` let
/// through; returns the number of metrics written. `raw` is scratch space, reused.
pub fn write_batch(fmt: &mut dyn Formatter, out: &mut Vec<u8>, hosts: &Hosts, batch: &Batch<'_>) -> usize {
    fmt.begin_batch(out);
    let mut written = 0;
    for host in hosts.all() {
        let is_localhost = std::sync::Arc::ptr_eq(&host, hosts.localhost());
        written += write_host(fmt, out, &host, is_localhost, batch);
    }
    fmt.end_batch(out);
    written
}

/// The metrics of one host (see [`write_batch`]).
pub fn write_host(
    fmt: &mut dyn Formatter,
    out: &mut Vec<u8>,
    host: &Host,
    is_localhost: bool,
    batch: &Batch<'_>,
) -> usize {
    if !batch.filters.host(host.hostname(), is_localhost) {
        return 0;
    }
    let labels = host.labels();
    let tags = if is_localhost { None } else { host.child_status().map(|c| c.tags) };
    fmt.begin_host(&HostInfo {
        hostname: if is_localhost { batch.hostname } else { host.hostname() },
        tags: tags.as_deref().unwrap_or(""),
        labels: &labels,
    });
    let mode = host.settings().mode;
    let mut written = 0;
    for chart in host.charts() {
        written += fmt.chart(out, &chart, mode, batch);
    }
    written
}

/// A timestamp's text, kept while consecutive metrics carry the same second (every
/// dimension of a chart, most charts of a batch), with what a format writes around it.
#[derive(Default)]
pub(crate) struct Stamp {
    key: Option<(i64, bool)>,
    text: Vec<u8>,
}

impl Stamp {
    /// The text of `t` between what `before` and `after` write (they are called again when
    /// `t` or `flag` change).
    #[inline]
    pub fn get(
        &mut self,
        t: i64,
        flag: bool,
        before: impl FnOnce(&mut Vec<u8>, bool),
        after: impl FnOnce(&mut Vec<u8>, bool),
    ) -> &[u8] {
        if self.key != Some((t, flag)) {
            self.key = Some((t, flag));
            self.text.clear();
            before(&mut self.text, flag);
            number::push_i64(&mut self.text, t);
            after(&mut self.text, flag);
        }
        &self.text
    }
}

/// Writes a value the way Netdata does: `%lld` or `%0.7f`.
pub(crate) fn push_value(out: &mut Vec<u8>, value: Value) {
    match value {
        Value::Collected(v) => number::push_i64(out, v),
        Value::Stored(v) => number::push_fixed7(out, v),
    }
}

/// Renders the labels `send` lets through: `before` once, then `name<equal>value` pairs
/// separated by `between`, names and values quoted with `quote`; names and values first
/// made what Netdata stores ([`super::names::label_name`], [`super::names::label_value`]),
/// then written by `name` and `value`; then `after`. Nothing at all when no label passes.
pub(crate) fn push_labels(
    out: &mut Vec<u8>,
    labels: &[Label],
    send: SendLabels,
    parts: LabelParts<'_>,
    name: fn(&mut Vec<u8>, &str),
    value: fn(&mut Vec<u8>, &str),
) {
    let mut first = true;
    for l in labels.iter().filter(|l| send.sends(l.source)) {
        // As Netdata stored it; a name it would not store is not sent.
        let stored = super::names::label_name(&l.name);
        if stored.is_empty() {
            continue;
        }
        out.extend_from_slice(if first { parts.before } else { parts.between }.as_bytes());
        first = false;
        out.extend_from_slice(parts.quote.as_bytes());
        name(out, &stored);
        out.extend_from_slice(parts.quote.as_bytes());
        out.extend_from_slice(parts.equal.as_bytes());
        out.extend_from_slice(parts.quote.as_bytes());
        value(out, &super::names::label_value(&l.value));
        out.extend_from_slice(parts.quote.as_bytes());
    }
    if !first {
        out.extend_from_slice(parts.after.as_bytes());
    }
}

/// The punctuation of a format's label part.
pub(crate) struct LabelParts<'a> {
    pub before: &'a str,
    pub equal: &'a str,
    pub quote: &'a str,
    pub between: &'a str,
    pub after: &'a str,
}

/// Appends `s` unchanged.
pub(crate) fn push_raw(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests;
