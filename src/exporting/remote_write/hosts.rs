//! One remote-write export of every host a node holds: for each host the filters let through,
//! its `netdata_info` series and then one series per dimension of its charts, named and
//! labelled as Netdata's remote write does (protocol.md §8.4 and §10, the docs of [`super`]).
//! It walks hosts and charts the same way the line formats do ([`format::write_batch`]): the
//! same filters, the same hostname rules, the same values ([`source::read_chart`]).
//!
//! Per dimension:
//! - `average` / `sum`: `<prefix>_<context>_<units>_average` or `<prefix>_<context>_sum`, labels
//!   `chart`, `family`, `dimension`, `instance`; the value computed from the stored window,
//!   stamped with the window's end.
//! - `as collected`: the raw integer, stamped with the second it was collected. When every
//!   dimension of the chart has the same algorithm, multiplier and divisor the chart is one
//!   metric `<prefix>_<context>[_total]` with a `dimension` label; otherwise each dimension is
//!   its own metric `<prefix>_<context>_<dimension>[_total]` without one. `_total` marks
//!   `incremental` and `percentage-of-incremental-row` dimensions, except on charts of the
//!   `prometheus` collector module (as Netdata).
//!
//! `chart` and `dimension` are names or ids as `send names instead of ids` says; `instance` is
//! the instance's `hostname` for the node itself and a child's own hostname for a child.
//! Timestamps are milliseconds.
//!
//! Decided here:
//! - Every host that passes the host filter gets its `netdata_info`, even when none of its
//!   charts has anything to export: Netdata writes it when it starts a host, before any chart.
//! - `netdata_info` is stamped with the export's `before` (Netdata reads the clock while it
//!   formats the host: the same second).
//! - Its `application` and `version` are this program's for the node itself
//!   ([`crate::PROGRAM`], [`crate::VERSION`]) and, for a child, the program and version of
//!   the child's `User-Agent`, as Netdata's host program name and version are; a child that
//!   sent none gets neither label (the spec forbids empty values).
//! - `as collected` samples carry the collection second × 1000: the exporting source keeps
//!   seconds (Netdata sends the collection's milliseconds).
//!
//! Nothing is allocated per metric: a metric name is written into one reused buffer, once per
//! chart (per dimension for per-dimension names).

use std::sync::Arc;

use super::{push_collected_metric_name, push_stored_metric_name, Batch, Reduction};
use crate::db::MemoryMode;
use crate::exporting::format::{self, FormatOptions};
use crate::exporting::names;
use crate::exporting::source::{self, DataSource, Value};
use crate::rrd::{Algorithm, ChartMeta, DimensionMeta, Host, Hosts};

/// Fills `rw` (not cleared here: the caller clears it) with one export of every host of
/// `hosts` that `batch.filters` let through: per host its `netdata_info` series (value 1),
/// then one series per dimension that has something to export. Returns the number of
/// dimension samples written (`netdata_info` not counted). `raw` is scratch space, reused.
pub fn write_batch(
    rw: &mut Batch,
    hosts: &Hosts,
    batch: &format::Batch<'_>,
    options: &FormatOptions,
) -> usize {
    let mut name = String::new();
    let mut written = 0;
    for host in hosts.all() {
        let is_localhost = Arc::ptr_eq(&host, hosts.localhost());
        written += write_host(rw, &host, is_localhost, batch, options, &mut name);
    }
    written
}

/// `send variables`: the custom variables of every host `batch.filters` let through (those a
/// host sets with `VARIABLE HOST`, or a child streamed), one series each, as Netdata's remote
/// write sends them: named `<prefix>_<variable>`, labelled `instance` only, stamped with the
/// export's `before`. Returns how many were written. (Netdata 1.37 also sends custom chart
/// variables; nanodata does not yet.)
pub fn write_variables(rw: &mut Batch, hosts: &Hosts, batch: &format::Batch<'_>, prefix: &str) -> usize {
    let ts_ms = batch.export.before.saturating_mul(1000);
    let mut name = String::new();
    let mut written = 0;
    for host in hosts.all() {
        let is_localhost = Arc::ptr_eq(&host, hosts.localhost());
        if !batch.filters.host(host.hostname(), is_localhost) {
            continue;
        }
        let instance = if is_localhost { batch.hostname } else { host.hostname() };
        host.with_variables(|vars| {
            for (var, value) in vars.iter() {
                name.clear();
                push_collected_metric_name(&mut name, prefix, var, None, false);
                rw.request()
                    .series(&[("__name__", name.as_str()), ("instance", instance)])
                    .sample(value, ts_ms);
                written += 1;
            }
        });
    }
    written
}

/// How the dimensions of one chart are named.
#[derive(Clone, Copy)]
enum Naming {
    /// One metric name for the chart (in the name buffer); the dimension goes in a label.
    Shared,
    /// `as collected` with dimensions that differ: a metric per dimension. `totals`: `_total`
    /// may be added (not on charts of the `prometheus` module).
    PerDimension { totals: bool },
}

/// One host of [`write_batch`]; `name` is the reused metric name buffer.
fn write_host(
    rw: &mut Batch,
    host: &Host,
    is_localhost: bool,
    batch: &format::Batch<'_>,
    options: &FormatOptions,
    name: &mut String,
) -> usize {
    if !batch.filters.host(host.hostname(), is_localhost) {
        return 0;
    }
    let instance = if is_localhost { batch.hostname } else { host.hostname() };
    let ts_ms = batch.export.before.saturating_mul(1000);
    write_info(rw, host, is_localhost, instance, options, ts_ms);

    let mode = host.settings().mode;
    let source = batch.export.source;
    if mode == MemoryMode::None && source != DataSource::AsCollected {
        return 0; // nothing stored to compute from (source::read_chart would skip every chart)
    }
    let mut written = 0;
    for chart in host.charts() {
        let naming = chart.with_view(|view, _| {
            let meta = view.meta();
            if meta.options.obsolete || !batch.filters.chart(meta) {
                return None;
            }
            Some(name_chart(name, meta, view.dimensions().map(|d| d.meta()), options, source))
        });
        let Some(naming) = naming else { continue };
        written += source::read_chart(&chart, mode, &batch.export, |m| {
            let dimension = options.names.dimension(m.dimension);
            let dimension_label = match naming {
                Naming::Shared => dimension,
                Naming::PerDimension { totals } => {
                    name.clear();
                    let counter = totals && is_counter(m.dimension);
                    push_collected_metric_name(
                        name,
                        &options.prefix,
                        &m.chart.context,
                        Some(dimension),
                        counter,
                    );
                    ""
                }
            };
            let value = match m.value {
                Value::Collected(v) => v as f64,
                Value::Stored(v) => v,
            };
            rw.dimension(
                name,
                options.names.chart(m.chart),
                &m.chart.family,
                dimension_label,
                instance,
                value,
                m.timestamp.saturating_mul(1000),
            );
        });
    }
    written
}

/// The host's `netdata_info`, with the host labels `options.labels` sends.
fn write_info(
    rw: &mut Batch,
    host: &Host,
    is_localhost: bool,
    instance: &str,
    options: &FormatOptions,
    ts_ms: i64,
) {
    let labels = host.labels();
    // Named and valued as Netdata stores them; a name it would not store is not sent.
    let stored: Vec<(String, String)> = labels
        .iter()
        .filter(|l| options.labels.sends(l.source))
        .map(|l| (names::label_name(&l.name), names::label_value(&l.value)))
        .filter(|(name, _)| !name.is_empty())
        .collect();
    let sent: Vec<(&str, &str)> = stored.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    if is_localhost {
        rw.host_info(instance, crate::PROGRAM, crate::VERSION, &sent, ts_ms);
    } else {
        host.with_child_status(|child| {
            let (program, version) =
                child.map_or(("", ""), |c| (c.program.as_str(), c.program_version.as_str()));
            rw.host_info(instance, program, version, &sent, ts_ms);
        });
    }
}

/// Decides how a chart's dimensions are named and, for a shared name, writes it into `name`.
fn name_chart<'a>(
    name: &mut String,
    meta: &ChartMeta,
    mut dims: impl Iterator<Item = &'a DimensionMeta>,
    options: &FormatOptions,
    source: DataSource,
) -> Naming {
    name.clear();
    let prefix = &options.prefix;
    let reduction = match source {
        DataSource::Average => Reduction::Average,
        DataSource::Sum => Reduction::Sum,
        DataSource::AsCollected => {
            let totals = meta.module != "prometheus";
            let Some(first) = dims.next() else {
                return Naming::Shared; // no dimension: nothing will be read
            };
            let alike = |d: &DimensionMeta| {
                d.algorithm == first.algorithm
                    && d.multiplier == first.multiplier
                    && d.divisor == first.divisor
            };
            if !dims.all(alike) {
                return Naming::PerDimension { totals };
            }
            push_collected_metric_name(name, prefix, &meta.context, None, totals && is_counter(first));
            return Naming::Shared;
        }
    };
    push_stored_metric_name(name, prefix, &meta.context, &meta.units, reduction);
    Naming::Shared
}

/// A counter for Prometheus: the dimension's algorithm works on increments.
fn is_counter(d: &DimensionMeta) -> bool {
    matches!(d.algorithm, Algorithm::Incremental | Algorithm::PercentageOfIncrementalRow)
}

#[cfg(test)]
mod tests;
