//! The Prometheus formats of `/api/v1/allmetrics` (protocol.md §8.4), written one metric
//! family at a time: Netdata 1.37 writes a `# HELP`/`# TYPE` per chart, so when charts share
//! a context (every interface's `net.net`, or the same chart on many hosts of
//! `prometheus_all_hosts`) a family gets several and its samples are scattered, which the
//! exposition format forbids. Here a first pass lists the families in order of first
//! appearance with the charts (or chart dimensions) that feed them — a few words per chart,
//! no text — and a second pass writes each family's HELP/TYPE once and all its samples under
//! it. Names, labels and values are Netdata's.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use super::{label_value, prom_name, prom_units, Prom, Source, MAX_SERVERS, MAX_WINDOW_SLOTS};
use crate::rrd::{Algorithm, Chart, DimensionMeta, Host};
use crate::simple_pattern::SimplePattern;
use crate::web::context::{Context, API_VERSION};
use crate::web::json;

/// One host of the answer.
struct HostPart<'a> {
    host: &'a Host,
    /// The previous scrape of this host by this `server` (the average/sum window).
    since: Option<i64>,
    /// `,instance="<hostname>"` in `prometheus_all_hosts`, else empty.
    inst: String,
}

/// One chart feeding a family: all its visible dimensions (`dim` None, each sample with a
/// `dimension` label) or, for a heterogeneous chart collected as is, one of them.
struct Member {
    host: usize,
    chart: Arc<Chart>,
    dim: Option<usize>,
}

struct Family {
    name: String,
    counter: bool,
    members: Vec<Member>,
}

/// The families in order of first appearance.
#[derive(Default)]
struct Families {
    list: Vec<Family>,
    index: HashMap<String, usize>,
}

impl Families {
    fn add(&mut self, name: String, counter: bool, member: Member) {
        match self.index.get(&name) {
            Some(&i) => self.list[i].members.push(member),
            None => {
                self.index.insert(name.clone(), self.list.len());
                self.list.push(Family { name, counter, members: vec![member] });
            }
        }
    }
}

fn is_counter(d: &DimensionMeta) -> bool {
    matches!(d.algorithm, Algorithm::Incremental | Algorithm::PercentageOfIncrementalRow)
}

/// All dimensions alike: one metric with a `dimension` label (else one metric per dimension).
fn homogeneous(dims: &[DimensionMeta]) -> bool {
    dims.windows(2).all(|w| {
        w[0].algorithm == w[1].algorithm && w[0].multiplier == w[1].multiplier && w[0].divisor == w[1].divisor
    })
}

/// HELP text: a backslash and a newline escaped, as the exposition format requires.
fn help_text(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Writes `hosts` in Prometheus text format: every host's `netdata_info`, then each family.
pub(super) fn write(
    ctx: &Context,
    hosts: &[&Host],
    p: &Prom,
    filter: Option<&SimplePattern>,
    instance: bool,
    now: i64,
    out: &mut String,
) {
    let mut parts = Vec::with_capacity(hosts.len());
    for host in hosts {
        // The average/sum window: since this server's previous scrape of this host.
        let since = {
            let mut seen = ctx.prometheus_seen.lock();
            let key = (p.server.clone(), host.guid().to_owned());
            let prev = seen.get(&key).copied();
            if prev.is_none() && seen.len() >= MAX_SERVERS {
                seen.clear();
            }
            seen.insert(key, now);
            prev
        };
        let inst = if instance {
            let mut s = String::from(",instance=\"");
            label_value(&mut s, host.hostname());
            s.push('"');
            s
        } else {
            String::new()
        };
        parts.push(HostPart { host, since, inst });
    }

    if p.help {
        out.push_str("# HELP netdata_info netdata host information\n");
    }
    if p.types {
        out.push_str("# TYPE netdata_info gauge\n");
    }
    for part in &parts {
        let host = part.host;
        out.push_str("netdata_info{instance=\"");
        label_value(out, host.hostname());
        let _ = write!(out, "\",application=\"netdata\",version=\"{API_VERSION}\"");
        for l in host.labels() {
            let _ = write!(out, ",{}=\"", prom_name(&l.name));
            label_value(out, &l.value);
            out.push('"');
        }
        out.push_str("} 1");
        timestamp(p, out, now);
        out.push('\n');
    }

    let families = families(&parts, p, filter);
    for f in &families.list {
        write_family(&parts, p, f, now, out);
    }
    out.push('\n');
}

/// The first pass: which charts feed which family.
fn families(parts: &[HostPart<'_>], p: &Prom, filter: Option<&SimplePattern>) -> Families {
    let mut fams = Families::default();
    for (hi, part) in parts.iter().enumerate() {
        let host = part.host;
        for c in host.charts() {
            if !super::visible(host, &c) {
                continue;
            }
            let m = c.meta();
            if filter.is_some_and(|f| !f.matches(if p.names { &m.name } else { &m.id })) {
                continue;
            }
            let context = prom_name(&m.context);
            match p.source {
                Source::AsCollected => {
                    let dims = c.dimensions();
                    let homogeneous = homogeneous(&dims);
                    for (i, d) in dims.iter().enumerate() {
                        if d.options.hidden {
                            continue;
                        }
                        let counter = is_counter(d);
                        let suffix = if counter { "_total" } else { "" };
                        if homogeneous {
                            let name = format!("{}_{context}{suffix}", p.prefix);
                            fams.add(name, counter, Member { host: hi, chart: c.clone(), dim: None });
                            // Every dimension alike: the chart is one member.
                            break;
                        }
                        let dim_key = if p.names { &d.name } else { &d.id };
                        let name = format!("{}_{context}_{}{suffix}", p.prefix, prom_name(dim_key));
                        fams.add(name, counter, Member { host: hi, chart: c.clone(), dim: Some(i) });
                    }
                }
                Source::Average | Source::Sum => {
                    let units = if p.source == Source::Average && !p.hideunits {
                        format!("_{}", prom_units(&m.units))
                    } else {
                        String::new()
                    };
                    let kind = if p.source == Source::Average { "average" } else { "sum" };
                    let name = format!("{}_{context}{units}_{kind}", p.prefix);
                    fams.add(name, false, Member { host: hi, chart: c.clone(), dim: None });
                }
            }
        }
    }
    fams
}

fn timestamp(p: &Prom, out: &mut String, t: i64) {
    if p.timestamps {
        let _ = write!(out, " {t}000");
    }
}

/// The second pass for one family: HELP and TYPE once (from its first chart), then every
/// sample of every member.
fn write_family(parts: &[HostPart<'_>], p: &Prom, f: &Family, now: i64, out: &mut String) {
    let metric = &f.name;
    if p.help {
        if let Some(first) = f.members.first() {
            let m = first.chart.meta();
            out.push_str("# HELP ");
            out.push_str(metric);
            out.push_str(" netdata \"");
            help_text(out, &m.title);
            out.push_str("\" with units \"");
            help_text(out, &m.units);
            out.push('"');
            if p.source == Source::AsCollected {
                let dims = first.chart.dimensions();
                let d = match first.dim {
                    Some(i) => dims.get(i),
                    None => dims.iter().find(|d| !d.options.hidden),
                };
                if let Some(d) = d {
                    let _ = write!(
                        out,
                        ", algorithm {}, multiplier {}, divisor {}",
                        d.algorithm, d.multiplier, d.divisor
                    );
                }
            }
            out.push('\n');
        }
    }
    if p.types {
        let _ = writeln!(out, "# TYPE {metric} {}", if f.counter { "counter" } else { "gauge" });
    }
    for member in &f.members {
        let Some(part) = parts.get(member.host) else { continue };
        let c = &member.chart;
        let m = c.meta();
        let chart_key = if p.names { &m.name } else { &m.id };
        let dims = c.dimensions();
        let last_values = c.last_values();
        let t = c.last_entry_t().unwrap_or(now);
        let mut labels = String::from("chart=\"");
        label_value(&mut labels, chart_key);
        labels.push_str("\",family=\"");
        label_value(&mut labels, &m.family);
        labels.push('"');
        let inst = &part.inst;
        match p.source {
            Source::AsCollected => {
                for (i, (d, (collected, _))) in dims.iter().zip(&last_values).enumerate() {
                    if d.options.hidden || member.dim.is_some_and(|only| only != i) {
                        continue;
                    }
                    let _ = write!(out, "{metric}{{{labels}");
                    if member.dim.is_none() {
                        out.push_str(",dimension=\"");
                        label_value(out, if p.names { &d.name } else { &d.id });
                        out.push('"');
                    }
                    let _ = write!(out, "{inst}}} {collected}");
                    timestamp(p, out, t);
                    out.push('\n');
                }
            }
            Source::Average | Source::Sum => {
                let ue = i64::from(m.update_every.max(1));
                let after =
                    part.since.map(|s| s + 1).unwrap_or(t - ue + 1).min(t).max(t - MAX_WINDOW_SLOTS * ue + 1);
                for (i, d) in dims.iter().enumerate() {
                    if d.options.hidden {
                        continue;
                    }
                    let (sum, count) = c
                        .query(i, after, t)
                        .iter()
                        .filter_map(|p| p.value)
                        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
                    let v = if count == 0 {
                        last_values.get(i).map_or(f64::NAN, |v| v.1)
                    } else if p.source == Source::Average {
                        sum / count as f64
                    } else {
                        sum
                    };
                    if !v.is_finite() {
                        continue;
                    }
                    let _ = write!(out, "{metric}{{{labels},dimension=\"");
                    label_value(out, if p.names { &d.name } else { &d.id });
                    let _ = write!(out, "\"{inst}}} ");
                    json::fmt_number(out, v);
                    timestamp(p, out, t);
                    out.push('\n');
                }
            }
        }
    }
}
