//! `/api/v1/data`: the query engine (protocol.md §8.3).
//!
//! [`DataQuery::parse`] turns the query string into a value that cannot hold a bad
//! parameter (a bad one is a 400 with a one-line reason). [`run`] reads the stored points of
//! the selected dimensions for the window in one pass per dimension, groups them into
//! `points` buckets with the group method, applies the options and renders one of the
//! formats, optionally wrapped in the `jsonwrap` envelope.
//!
//! Bounds (a query runs inside the event loop, so its size is its delay to everyone else):
//! the window is clamped to what is stored, as Netdata does, and `points` to the window;
//! then, before anything proportional to the request is allocated, a query that would read
//! more than [`MAX_READ`] stored points (window × dimensions) or answer more than
//! [`MAX_VALUES`] values (rows × dimensions) is refused with a 400 that says which bound and
//! how to narrow it. Points are read [`CHUNK`] slots at a time and grouped as they come, so
//! the transient memory is one chunk (or one bucket, if larger) plus the answer.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::rrd::{Chart, Host};
use crate::simple_pattern::SimplePattern;
use crate::web::json;

/// Values with |v| up to this many seconds are relative to now (Netdata's 3 years).
const RELATIVE_LIMIT: i64 = 3 * 365 * 86_400;
/// Most rows a query may return: a larger `points` is taken as this (as Netdata takes a
/// `points` larger than the window as the window).
pub const MAX_POINTS: usize = 100_000;
/// Most stored points (slots × dimensions) one query may read: ~4 M reads are tens of
/// milliseconds of the event loop (3 M: ~50 ms measured, release build), and cover the
/// default retention (3600) of the largest chart a child may define (`max dimensions per
/// chart` = 1000).
pub const MAX_READ: usize = 4_000_000;
/// Most values (rows × dimensions) one answer may hold: rendering is the costliest part of a
/// query (~0.15–0.3 µs a value in the size-optimised build), so this bounds its delay to
/// ~100 ms; it allows 700 dimensions at 700 points, more than a dashboard asks for.
pub const MAX_VALUES: usize = 500_000;
/// Slots read from storage at a time.
pub const CHUNK: usize = 4096;

/// Why a query has no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// No such chart or context (404).
    NotFound(String),
    /// Over [`MAX_READ`] or [`MAX_VALUES`] (400).
    TooLarge(String),
}

impl QueryError {
    pub fn message(&self) -> &str {
        match self {
            QueryError::NotFound(m) | QueryError::TooLarge(m) => m,
        }
    }
}

/// What the query reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Chart(String),
    Context(String),
}

/// How the points of one bucket become one value.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Group {
    Average,
    Min,
    Max,
    Sum,
    Median,
    IncrementalSum,
    Stddev,
    Cv,
    Ses,
    Des,
    CountIf,
    Percentile(u8),
    TrimmedMean(u8),
    TrimmedMedian(u8),
}

impl Group {
    pub fn parse(s: &str) -> Option<Group> {
        let pct = |rest: &str, allowed: &[u8], default: u8| -> Option<u8> {
            if rest.is_empty() {
                return Some(default);
            }
            rest.parse::<u8>().ok().filter(|n| allowed.contains(n))
        };
        Some(match s {
            "average" | "mean" => Group::Average,
            "min" => Group::Min,
            "max" => Group::Max,
            "sum" => Group::Sum,
            "median" => Group::Median,
            "incremental_sum" | "incremental-sum" => Group::IncrementalSum,
            "stddev" => Group::Stddev,
            "cv" | "rsd" => Group::Cv,
            "ses" | "ema" | "ewma" => Group::Ses,
            "des" => Group::Des,
            "countif" => Group::CountIf,
            _ => {
                if let Some(r) = s.strip_prefix("percentile") {
                    Group::Percentile(pct(r, &[25, 50, 75, 80, 90, 95, 97, 98, 99], 95)?)
                } else if let Some(r) = s.strip_prefix("trimmed-mean") {
                    Group::TrimmedMean(pct(r, &[1, 2, 3, 5, 10, 15, 20, 25], 5)?)
                } else if let Some(r) = s.strip_prefix("trimmed-median") {
                    Group::TrimmedMedian(pct(r, &[1, 2, 3, 5, 10, 15, 20, 25], 5)?)
                } else {
                    return None;
                }
            }
        })
    }

    pub fn name(self) -> String {
        match self {
            Group::Average => "average".into(),
            Group::Min => "min".into(),
            Group::Max => "max".into(),
            Group::Sum => "sum".into(),
            Group::Median => "median".into(),
            Group::IncrementalSum => "incremental_sum".into(),
            Group::Stddev => "stddev".into(),
            Group::Cv => "cv".into(),
            Group::Ses => "ses".into(),
            Group::Des => "des".into(),
            Group::CountIf => "countif".into(),
            Group::Percentile(n) => format!("percentile{n}"),
            Group::TrimmedMean(n) => format!("trimmed-mean{n}"),
            Group::TrimmedMedian(n) => format!("trimmed-median{n}"),
        }
    }
}

/// The output formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsonp,
    Datatable,
    Datasource,
    Csv,
    Tsv,
    Ssv,
    SsvComma,
    Array,
    Html,
    Markdown,
    CsvJsonArray,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "json" => Format::Json,
            "jsonp" => Format::Jsonp,
            "datatable" => Format::Datatable,
            "datasource" => Format::Datasource,
            "csv" => Format::Csv,
            "tsv" | "tsv-excel" => Format::Tsv,
            "ssv" => Format::Ssv,
            "ssvcomma" => Format::SsvComma,
            "array" => Format::Array,
            "html" => Format::Html,
            "markdown" => Format::Markdown,
            "csvjsonarray" => Format::CsvJsonArray,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonp => "jsonp",
            Format::Datatable => "datatable",
            Format::Datasource => "datasource",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Ssv => "ssv",
            Format::SsvComma => "ssvcomma",
            Format::Array => "array",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::CsvJsonArray => "csvjsonarray",
        }
    }

    /// Formats whose body is JSON (so `jsonwrap` embeds them as values, not strings).
    fn is_json(self) -> bool {
        matches!(
            self,
            Format::Json
                | Format::Jsonp
                | Format::Datatable
                | Format::Datasource
                | Format::Array
                | Format::CsvJsonArray
        )
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json | Format::Datatable | Format::Array | Format::CsvJsonArray => "application/json",
            Format::Jsonp | Format::Datasource => "application/javascript",
            Format::Html => "text/html; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        }
    }
}

/// The `options` words, as bits.
pub mod opt {
    pub const NONZERO: u32 = 1;
    pub const FLIP: u32 = 1 << 1;
    pub const JSONWRAP: u32 = 1 << 2;
    pub const MIN2MAX: u32 = 1 << 3;
    pub const MS: u32 = 1 << 4;
    pub const ABS: u32 = 1 << 5;
    pub const SECONDS: u32 = 1 << 6;
    pub const NULL2ZERO: u32 = 1 << 7;
    pub const OBJECTROWS: u32 = 1 << 8;
    pub const GOOGLE_JSON: u32 = 1 << 9;
    pub const PERCENTAGE: u32 = 1 << 10;
    pub const UNALIGNED: u32 = 1 << 11;
    pub const MATCH_IDS: u32 = 1 << 12;
    pub const MATCH_NAMES: u32 = 1 << 13;
    pub const ALL_DIMENSIONS: u32 = 1 << 14;
    pub const DISPLAY_ABS: u32 = 1 << 15;
    /// Accepted for compatibility, no effect here (anomaly bits, tiers, raw, …).
    pub const IGNORED: u32 = 1 << 31;

    pub fn parse(word: &str) -> Option<u32> {
        Some(match word {
            "nonzero" => NONZERO,
            "flip" | "reversed" | "reverse" => FLIP,
            "jsonwrap" => JSONWRAP,
            "min2max" => MIN2MAX,
            "ms" | "milliseconds" => MS,
            "abs" | "absolute" | "absolute_sum" | "absolute-sum" => ABS,
            "display_absolute" | "display-absolute" => DISPLAY_ABS,
            "seconds" => SECONDS,
            "null2zero" => NULL2ZERO,
            "objectrows" => OBJECTROWS,
            "google_json" => GOOGLE_JSON,
            "percentage" => PERCENTAGE,
            "unaligned" => UNALIGNED,
            "match_ids" | "match-ids" => MATCH_IDS,
            "match_names" | "match-names" => MATCH_NAMES,
            "all-dimensions" | "all_dimensions" => ALL_DIMENSIONS,
            "anomaly-bit" | "selected-tier" | "raw" | "jw-anomaly-rates" | "natural-points"
            | "virtual-points" | "plan" | "debug" | "nonzero-ignore" => IGNORED,
            _ => return None,
        })
    }

    /// The words for the jsonwrap `options` field.
    pub fn names(bits: u32) -> String {
        let all = [
            (NONZERO, "nonzero"),
            (FLIP, "flip"),
            (JSONWRAP, "jsonwrap"),
            (MIN2MAX, "min2max"),
            (MS, "ms"),
            (ABS, "absolute"),
            (SECONDS, "seconds"),
            (NULL2ZERO, "null2zero"),
            (OBJECTROWS, "objectrows"),
            (GOOGLE_JSON, "google_json"),
            (PERCENTAGE, "percentage"),
            (UNALIGNED, "unaligned"),
            (MATCH_IDS, "match_ids"),
            (MATCH_NAMES, "match_names"),
            (ALL_DIMENSIONS, "all-dimensions"),
        ];
        all.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(" ")
    }
}

/// A parsed `/api/v1/data` request.
#[derive(Clone, Debug)]
pub struct DataQuery {
    pub target: Target,
    pub dimensions: Option<SimplePattern>,
    pub after: i64,
    pub before: i64,
    pub points: usize,
    pub group: Group,
    pub gtime: i64,
    pub group_options: String,
    pub format: Format,
    pub options: u32,
    pub callback: Option<String>,
    pub filename: Option<String>,
    pub req_id: String,
}

impl DataQuery {
    /// Parses the decoded query parameters. Unknown parameter names are ignored (Netdata
    /// clients add their own, like `_=<timestamp>`); bad values of known ones are errors.
    pub fn parse(pairs: &[(String, String)]) -> Result<DataQuery, String> {
        let mut target = None;
        let mut dims: Vec<String> = Vec::new();
        let mut q = DataQuery {
            target: Target::Chart(String::new()),
            dimensions: None,
            after: -600,
            before: 0,
            points: 0,
            group: Group::Average,
            gtime: 0,
            group_options: String::new(),
            format: Format::Json,
            options: 0,
            callback: None,
            filename: None,
            req_id: "0".into(),
        };
        let int = |name: &str, v: &str| -> Result<i64, String> {
            v.trim().parse::<i64>().map_err(|_| format!("parameter '{name}' must be an integer, not '{v}'"))
        };
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            let v = value.as_str();
            match name.as_str() {
                "chart" => target = Some(Target::Chart(v.to_owned())),
                "context" => target = Some(Target::Context(v.to_owned())),
                "dimension" | "dim" | "dimensions" | "dims" => dims.push(v.to_owned()),
                "after" => q.after = int(name, v)?,
                "before" => q.before = int(name, v)?,
                "points" => {
                    let p = int(name, v)?;
                    if p < 0 {
                        return Err(format!("parameter 'points' must not be negative: {p}"));
                    }
                    q.points = (p as usize).min(MAX_POINTS);
                }
                "group" => q.group = Group::parse(v).ok_or_else(|| format!("unknown group method '{v}'"))?,
                "gtime" => {
                    q.gtime = int(name, v)?;
                    if q.gtime < 0 {
                        return Err(format!("parameter 'gtime' must not be negative: {}", q.gtime));
                    }
                }
                "group_options" => q.group_options = v.to_owned(),
                "format" => q.format = Format::parse(v).ok_or_else(|| format!("unknown format '{v}'"))?,
                "options" => {
                    for w in
                        v.split(|c: char| c == '|' || c == ',' || c.is_whitespace()).filter(|w| !w.is_empty())
                    {
                        q.options |= opt::parse(w).ok_or_else(|| format!("unknown option '{w}'"))?;
                    }
                }
                "callback" => {
                    if !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')) {
                        return Err("parameter 'callback' must be a JavaScript identifier".into());
                    }
                    q.callback = Some(v.to_owned());
                }
                "filename" => {
                    if v.chars().any(|c| c == '"' || c == '/' || c == '\\' || c.is_control()) {
                        return Err("parameter 'filename' has forbidden characters".into());
                    }
                    q.filename = Some(v.to_owned());
                }
                "tqx" => {
                    for kv in v.split(';') {
                        if let Some(id) = kv.strip_prefix("reqId:") {
                            if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                                return Err("tqx reqId must be alphanumeric".into());
                            }
                            q.req_id = id.to_owned();
                        } else if let Some(out) = kv.strip_prefix("out:") {
                            if out == "csv" {
                                q.format = Format::Csv;
                            } else if out == "html" {
                                q.format = Format::Html;
                            } else if out == "tsv-excel" {
                                q.format = Format::Tsv;
                            }
                        }
                    }
                }
                "timeout" | "tier" => {
                    int(name, v)?;
                }
                _ => {}
            }
        }
        q.target = target.ok_or("parameter 'chart' or 'context' is required")?;
        if !dims.is_empty() {
            q.dimensions = Some(SimplePattern::parse_with(&dims.join(","), ",| \t\r\n"));
        }
        if q.format == Format::Jsonp && q.callback.is_none() {
            q.callback = Some("callback".into());
        }
        Ok(q)
    }
}

/// The result of running a query: rows oldest first, one value per selected dimension.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub times: Vec<i64>,
    /// `values[row][dim]`.
    pub values: Vec<Vec<Option<f64>>>,
    pub after: i64,
    pub before: i64,
    pub view_update_every: i64,
    pub update_every: i64,
    pub first_entry: i64,
    pub last_entry: i64,
    pub latest: Vec<Option<f64>>,
    pub db_points: usize,
}

/// One output dimension: a dimension of the chart, or for a context query every dimension
/// of that name across the context's charts (summed).
struct Series {
    id: String,
    name: String,
    hidden: bool,
    /// `(chart index, dimension index)` of what is summed.
    sources: Vec<(usize, usize)>,
}

/// Runs the query on `host`.
pub fn run(host: &Host, q: &DataQuery, now: i64) -> Result<Rows, QueryError> {
    let charts: Vec<Arc<Chart>> = match &q.target {
        Target::Chart(id) => host.chart_by_id_or_name(id).into_iter().collect(),
        Target::Context(ctx) => host.charts().into_iter().filter(|c| &c.meta().context == ctx).collect(),
    };
    if charts.is_empty() {
        return Err(QueryError::NotFound(match &q.target {
            Target::Chart(id) => format!("chart '{id}' is not found"),
            Target::Context(c) => format!("context '{c}' is not found"),
        }));
    }
    let ues: Vec<i64> = charts.iter().map(|c| i64::from(c.meta().update_every.max(1))).collect();
    let ue = ues.iter().copied().max().unwrap_or(1);
    let first_entry = charts.iter().filter_map(|c| c.first_entry_t()).min();
    let last_entry = charts.iter().filter_map(|c| c.last_entry_t()).max();

    // Resolve the window: before relative to now, after relative to before.
    let mut before = if q.before.abs() <= RELATIVE_LIMIT { now + q.before } else { q.before };
    let mut after = if q.after.abs() <= RELATIVE_LIMIT {
        if q.after == 0 {
            before - 600 + 1
        } else {
            before + q.after + 1
        }
    } else {
        q.after
    };
    if after > before {
        std::mem::swap(&mut after, &mut before);
    }
    if let Some(last) = last_entry {
        before = before.min(last);
    }
    if let Some(first) = first_entry {
        after = after.max(first);
    }
    // Align both ends on the step.
    before -= before.rem_euclid(ue);
    after += (ue - after.rem_euclid(ue)) % ue;
    let mut rows = Rows {
        update_every: ue,
        view_update_every: ue,
        first_entry: first_entry.unwrap_or(0),
        last_entry: last_entry.unwrap_or(0),
        after,
        before,
        ..Rows::default()
    };
    let have_data = first_entry.is_some() && after <= before;
    let slots = if have_data { usize::try_from((before - after) / ue + 1).unwrap_or(usize::MAX) } else { 0 };

    // The output dimensions, from the metadata only.
    let mut series: Vec<Series> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let merge = matches!(q.target, Target::Context(_));
    for (ci, chart) in charts.iter().enumerate() {
        for (di, d) in chart.dimensions().iter().enumerate() {
            if merge {
                if let Some(&at) = by_name.get(&d.name) {
                    series[at].sources.push((ci, di));
                    continue;
                }
                by_name.insert(d.name.clone(), series.len());
            }
            series.push(Series {
                id: d.id.clone(),
                name: d.name.clone(),
                hidden: d.options.hidden,
                sources: vec![(ci, di)],
            });
        }
    }
    // Which dimensions are shown.
    let shown: Vec<usize> = (0..series.len())
        .filter(|&i| {
            let s = &series[i];
            if let Some(p) = &q.dimensions {
                let by_id = q.options & opt::MATCH_NAMES == 0 || q.options & opt::MATCH_IDS != 0;
                let by_name = q.options & opt::MATCH_IDS == 0 || q.options & opt::MATCH_NAMES != 0;
                (by_id && p.matches(&s.id)) || (by_name && p.matches(&s.name))
            } else {
                !s.hidden || q.options & opt::ALL_DIMENSIONS != 0
            }
        })
        .collect();
    // Percentages are of every dimension of the row, hidden ones included: all are read.
    let needed: Vec<usize> =
        if q.options & opt::PERCENTAGE != 0 { (0..series.len()).collect() } else { shown.clone() };

    // What the query would read, from the stored range of each source.
    // Once per chart: each call locks the chart and walks all its dimensions, so calling it
    // per dimension would cost dimensions² on a large chart.
    let stored_of = |ci: usize| -> usize {
        let (Some(first), Some(last)) = (charts[ci].first_entry_t(), charts[ci].last_entry_t()) else {
            return 0;
        };
        let cue = ues[ci];
        let start = after.max(first);
        let start = start + (cue - start.rem_euclid(cue)) % cue;
        let end = before.min(last);
        let end = end - end.rem_euclid(cue);
        if !have_data || start > end {
            0
        } else {
            usize::try_from((end - start) / cue + 1).unwrap_or(usize::MAX)
        }
    };
    let stored: Vec<usize> = (0..charts.len()).map(stored_of).collect();
    let read = needed
        .iter()
        .flat_map(|&i| series[i].sources.iter())
        .fold(0usize, |acc, &(ci, _)| acc.saturating_add(stored[ci]))
        .max(slots);
    if read > MAX_READ {
        return Err(QueryError::TooLarge(format!(
            "the query would read {read} stored points ({} dimensions over {slots} points of time); \
             at most {MAX_READ} per query: shorten the window (after, before) or select fewer dimensions",
            needed.len()
        )));
    }

    // Buckets.
    let points = if q.points == 0 || q.points > slots { slots } else { q.points };
    let mut group = if points == 0 { 1 } else { slots.div_ceil(points) };
    if q.gtime > ue {
        group = group.max(usize::try_from(q.gtime / ue).unwrap_or(usize::MAX));
    }
    let group = i64::try_from(group.max(1)).unwrap_or(i64::MAX);
    let bucket_of = |slot: usize| -> i64 {
        let t = after + slot as i64 * ue;
        if q.options & opt::UNALIGNED != 0 {
            slot as i64 / group
        } else {
            (t / ue).div_euclid(group)
        }
    };
    let mut bucket_ranges: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < slots {
        let b = bucket_of(start);
        let mut end = start + 1;
        while end < slots && bucket_of(end) == b {
            end += 1;
        }
        bucket_ranges.push((start, end));
        start = end;
    }
    if bucket_ranges.len() > points && points > 0 {
        let drop = bucket_ranges.len() - points;
        bucket_ranges.drain(..drop);
    }
    let values = bucket_ranges.len().saturating_mul(needed.len().max(shown.len()));
    if values > MAX_VALUES {
        return Err(QueryError::TooLarge(format!(
            "the answer would hold {} points × {} dimensions = {values} values; at most {MAX_VALUES}: \
             ask for fewer points or dimensions",
            bucket_ranges.len(),
            needed.len().max(shown.len())
        )));
    }
    rows.view_update_every = group * ue;
    if let Some(&(s, _)) = bucket_ranges.first() {
        rows.after = after + s as i64 * ue;
    }
    rows.times = bucket_ranges.iter().map(|&(_, e)| after + (e as i64 - 1) * ue).collect();

    // Read and group each needed dimension, a chunk of whole buckets at a time.
    let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::new(); series.len()];
    let mut latest: Vec<Option<f64>> = vec![None; series.len()];
    let mut buf: Vec<f64> = Vec::new();
    let mut scratch = Vec::new();
    for &si in &needed {
        let ser = &series[si];
        let mut column = Vec::with_capacity(bucket_ranges.len());
        let mut b = 0;
        while b < bucket_ranges.len() {
            // Buckets [b, e) span slots [s0, s1): at most CHUNK slots, or one bucket.
            let s0 = bucket_ranges[b].0;
            let mut e = b + 1;
            while e < bucket_ranges.len() && bucket_ranges[e].1 - s0 <= CHUNK {
                e += 1;
            }
            let s1 = bucket_ranges[e - 1].1;
            buf.clear();
            buf.resize(s1 - s0, f64::NAN);
            // A chart with a shorter step has several points in a slot: they are summed.
            let (t0, t1) = (after + s0 as i64 * ue, (after + s1 as i64 * ue - 1).min(before));
            for &(ci, di) in &ser.sources {
                for p in charts[ci].query(di, t0, t1) {
                    if p.t < t0 || p.t > t1 {
                        continue;
                    }
                    let idx = ((p.t - after) / ue) as usize - s0;
                    if let (Some(slot), Some(v)) = (buf.get_mut(idx), p.value.filter(|v| !v.is_nan())) {
                        *slot = if slot.is_nan() { v } else { *slot + v };
                    }
                }
            }
            rows.db_points += buf.iter().filter(|v| !v.is_nan()).count();
            if let Some(v) = buf.iter().rev().find(|v| !v.is_nan()) {
                latest[si] = Some(*v);
            }
            for &(s, end) in &bucket_ranges[b..e] {
                scratch.clear();
                scratch.extend(buf[s - s0..end - s0].iter().copied().filter(|v| !v.is_nan()));
                column.push(reduce(q.group, &mut scratch, &q.group_options));
            }
            b = e;
        }
        columns[si] = column;
    }
    // Percentages are of the total of every dimension of the row, hidden ones included; as in
    // Netdata 1.37.1 the total is signed unless `abs` is asked (10, -30, 0, 60 → 25 %, -75 %, 0).
    if q.options & opt::PERCENTAGE != 0 {
        let signed = q.options & opt::ABS == 0;
        for r in 0..bucket_ranges.len() {
            let total: f64 = columns
                .iter()
                .filter_map(|c| c.get(r).copied().flatten())
                .map(|v| if signed { v } else { v.abs() })
                .sum();
            for c in columns.iter_mut() {
                if let Some(Some(v)) = c.get_mut(r) {
                    *v = if total == 0.0 { 0.0 } else { *v * 100.0 / total };
                }
            }
        }
    }
    let mut shown = shown;
    if q.options & opt::NONZERO != 0 {
        let nonzero: Vec<usize> = shown
            .iter()
            .copied()
            .filter(|&d| columns[d].iter().any(|v| v.is_some_and(|v| v != 0.0)))
            .collect();
        if !nonzero.is_empty() {
            shown = nonzero;
        }
    }
    let abs = q.options & (opt::ABS | opt::DISPLAY_ABS) != 0;
    let fix = |v: Option<f64>| -> Option<f64> {
        let v = if abs { v.map(f64::abs) } else { v };
        if q.options & opt::NULL2ZERO != 0 {
            Some(v.unwrap_or(0.0))
        } else {
            v
        }
    };
    rows.values = (0..bucket_ranges.len())
        .map(|r| shown.iter().map(|&d| fix(columns[d].get(r).copied().flatten())).collect())
        .collect();
    rows.ids = shown.iter().map(|&d| series[d].id.clone()).collect();
    rows.names = shown.iter().map(|&d| series[d].name.clone()).collect();
    rows.latest = shown.iter().map(|&d| latest[d]).collect();
    Ok(rows)
}

/// Reduces one bucket's values with the group method; `None` when the bucket is empty.
fn reduce(group: Group, v: &mut [f64], group_options: &str) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let sort = |v: &mut [f64]| v.sort_by(|a, b| a.total_cmp(b));
    let median = |v: &[f64]| {
        let m = v.len() / 2;
        if v.len() % 2 == 0 {
            (v[m - 1] + v[m]) / 2.0
        } else {
            v[m]
        }
    };
    let trim = |v: &mut [f64], pct: u8| -> (usize, usize) {
        let cut = (v.len() * pct as usize) / 100;
        if v.len() > 2 * cut {
            (cut, v.len() - cut)
        } else {
            (0, v.len())
        }
    };
    Some(match group {
        Group::Average => mean(v),
        Group::Min => v.iter().copied().fold(f64::INFINITY, f64::min),
        Group::Max => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Group::Sum => v.iter().sum(),
        Group::Median => {
            sort(v);
            median(v)
        }
        Group::IncrementalSum => v[v.len() - 1] - v[0],
        Group::Stddev | Group::Cv => {
            if v.len() < 2 {
                return Some(0.0);
            }
            let m = mean(v);
            let sd = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
            if group == Group::Cv {
                if m == 0.0 {
                    return None;
                }
                sd * 100.0 / m.abs()
            } else {
                sd
            }
        }
        Group::Ses => {
            let alpha = 2.0 / (1.0 + n.min(15.0));
            v.iter().skip(1).fold(v[0], |level, x| alpha * x + (1.0 - alpha) * level)
        }
        Group::Des => {
            let alpha = 2.0 / (1.0 + n.min(15.0));
            let beta = alpha;
            let (mut level, mut trend) = (v[0], if v.len() > 1 { v[1] - v[0] } else { 0.0 });
            for x in v.iter().skip(1) {
                let last = level;
                level = alpha * x + (1.0 - alpha) * (level + trend);
                trend = beta * (level - last) + (1.0 - beta) * trend;
            }
            level + trend
        }
        Group::CountIf => {
            let (op, num) = parse_condition(group_options);
            let hits = v.iter().filter(|&&x| op.test(x, num)).count();
            hits as f64 * 100.0 / n
        }
        Group::Percentile(p) => {
            sort(v);
            let idx = ((v.len() as f64 * f64::from(p) / 100.0).ceil() as usize).clamp(1, v.len()) - 1;
            v[idx]
        }
        Group::TrimmedMean(p) => {
            sort(v);
            let (a, b) = trim(v, p);
            mean(&v[a..b])
        }
        Group::TrimmedMedian(p) => {
            sort(v);
            let (a, b) = trim(v, p);
            median(&v[a..b])
        }
    })
}

#[derive(Copy, Clone)]
enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn test(self, x: f64, n: f64) -> bool {
        match self {
            Cmp::Eq => x == n,
            Cmp::Ne => x != n,
            Cmp::Gt => x > n,
            Cmp::Ge => x >= n,
            Cmp::Lt => x < n,
            Cmp::Le => x <= n,
        }
    }
}

/// `countif` conditions: `[>|>=|<|<=|!|!=|=|==]number`, default `== 0`.
fn parse_condition(s: &str) -> (Cmp, f64) {
    let s = s.trim();
    let (op, rest) = if let Some(r) = s.strip_prefix(">=") {
        (Cmp::Ge, r)
    } else if let Some(r) = s.strip_prefix("<=") {
        (Cmp::Le, r)
    } else if let Some(r) = s.strip_prefix("!=").or_else(|| s.strip_prefix("<>")) {
        (Cmp::Ne, r)
    } else if let Some(r) = s.strip_prefix("==") {
        (Cmp::Eq, r)
    } else if let Some(r) = s.strip_prefix('>') {
        (Cmp::Gt, r)
    } else if let Some(r) = s.strip_prefix('<') {
        (Cmp::Lt, r)
    } else if let Some(r) = s.strip_prefix('!') {
        (Cmp::Ne, r)
    } else if let Some(r) = s.strip_prefix('=') {
        (Cmp::Eq, r)
    } else {
        (Cmp::Eq, s)
    };
    (op, rest.trim().parse().unwrap_or(0.0))
}

/// Renders the rows in the query's format (with the jsonwrap envelope when asked).
/// Returns the body and its content type.
pub fn render(q: &DataQuery, chart_id: &str, chart_name: &str, rows: &Rows) -> (String, &'static str) {
    let payload = payload(q, rows);
    let wrap = q.options & opt::JSONWRAP != 0;
    let mut body = String::with_capacity(payload.len() + 1024);
    let callback = match q.format {
        Format::Jsonp => q.callback.as_deref(),
        _ => None,
    };
    if let Some(cb) = callback {
        body.push_str(cb);
        body.push('(');
    }
    if q.format == Format::Datasource {
        let _ = write!(
            body,
            "google.visualization.Query.setResponse({{version:'0.6',reqId:'{}',status:'ok',sig:'{}',table:",
            q.req_id, rows.last_entry
        );
    }
    if wrap {
        envelope(&mut body, q, chart_id, chart_name, rows, &payload);
    } else {
        body.push_str(&payload);
    }
    if q.format == Format::Datasource {
        body.push_str("});");
    }
    if callback.is_some() {
        body.push_str(");");
    }
    let ct = if wrap && !matches!(q.format, Format::Jsonp | Format::Datasource) {
        "application/json"
    } else {
        q.format.content_type()
    };
    (body, ct)
}

fn envelope(out: &mut String, q: &DataQuery, id: &str, name: &str, rows: &Rows, payload: &str) {
    let strs = |out: &mut String, v: &[String]| {
        out.push('[');
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            json::str(out, s);
        }
        out.push(']');
    };
    let nums = |out: &mut String, v: &[Option<f64>]| {
        out.push('[');
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            json::opt(out, *x);
        }
        out.push(']');
    };
    let newest: Vec<Option<f64>> =
        rows.values.last().cloned().unwrap_or_else(|| vec![None; rows.names.len()]);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for r in &rows.values {
        for v in r.iter().flatten() {
            min = min.min(*v);
            max = max.max(*v);
        }
    }
    if !min.is_finite() {
        min = 0.0;
        max = 0.0;
    }
    out.push_str("{\n   \"api\": 1,\n   \"id\": ");
    json::str(out, id);
    out.push_str(",\n   \"name\": ");
    json::str(out, name);
    let _ = write!(
        out,
        ",\n   \"view_update_every\": {},\n   \"update_every\": {},\n   \"first_entry\": {},\n   \"last_entry\": {},\n   \"before\": {},\n   \"after\": {},\n   \"group\": \"{}\",\n   \"options\": \"{}\",\n   \"dimension_names\": ",
        rows.view_update_every,
        rows.update_every,
        rows.first_entry,
        rows.last_entry,
        rows.before,
        rows.after,
        q.group.name(),
        opt::names(q.options)
    );
    strs(out, &rows.names);
    out.push_str(",\n   \"dimension_ids\": ");
    strs(out, &rows.ids);
    out.push_str(",\n   \"functions\": [],\n   \"latest_values\": ");
    nums(out, &rows.latest);
    out.push_str(",\n   \"view_latest_values\": ");
    nums(out, &newest);
    let _ = write!(
        out,
        ",\n   \"dimensions\": {},\n   \"points\": {},\n   \"format\": \"{}\",\n   \"db_points_per_tier\": [ {} ],\n   \"result\": ",
        rows.names.len(),
        rows.times.len(),
        q.format.name(),
        rows.db_points
    );
    if q.format.is_json() {
        out.push_str(payload);
    } else {
        json::str(out, payload);
    }
    out.push_str(",\n \"min\": ");
    json::num(out, min);
    out.push_str(",\n \"max\": ");
    json::num(out, max);
    out.push_str("\n}\n");
}

/// The rows in display order (newest first unless `flip`).
fn order(q: &DataQuery, n: usize) -> Box<dyn Iterator<Item = usize>> {
    if q.options & opt::FLIP != 0 {
        Box::new(0..n)
    } else {
        Box::new((0..n).rev())
    }
}

fn time_value(out: &mut String, q: &DataQuery, t: i64) {
    crate::web::json::push_int(out, t);
    if q.options & opt::MS != 0 {
        out.push_str("000");
    }
}

/// Time as a local date, or epoch (s/ms) with the `seconds`/`ms` options: the text formats.
fn time_text(out: &mut String, q: &DataQuery, t: i64) {
    if q.options & (opt::MS | opt::SECONDS) != 0 {
        time_value(out, q, t);
    } else {
        out.push_str(std::str::from_utf8(&crate::logging::local_timestamp(t)).unwrap_or("?"));
    }
}

fn payload(q: &DataQuery, rows: &Rows) -> String {
    let n = rows.times.len();
    let mut out = String::with_capacity(64 + n * (16 + 12 * rows.names.len()));
    let value = |out: &mut String, v: Option<f64>| json::opt(out, v);
    match q.format {
        Format::Json | Format::Jsonp => {
            out.push_str("{\n \"labels\": [\"time\"");
            if rows.names.is_empty() {
                out.push_str(", \"no data\"");
            }
            for name in &rows.names {
                out.push_str(", ");
                json::str(&mut out, name);
            }
            out.push_str("],\n    \"data\":\n [\n");
            for (k, r) in order(q, n).enumerate() {
                if k > 0 {
                    out.push_str(",\n");
                }
                if q.options & opt::OBJECTROWS != 0 {
                    out.push_str("      { \"time\": ");
                    time_value(&mut out, q, rows.times[r]);
                    for (d, v) in rows.values[r].iter().enumerate() {
                        out.push_str(", ");
                        json::str(&mut out, &rows.names[d]);
                        out.push_str(": ");
                        value(&mut out, *v);
                    }
                    out.push_str(" }");
                } else {
                    out.push_str("      [ ");
                    time_value(&mut out, q, rows.times[r]);
                    if rows.names.is_empty() {
                        out.push_str(", null");
                    }
                    for v in &rows.values[r] {
                        out.push_str(", ");
                        value(&mut out, *v);
                    }
                    out.push(']');
                }
            }
            out.push_str("\n  ]\n}\n");
        }
        Format::Datatable | Format::Datasource => {
            out.push_str("{\n \"cols\":\n [\n  {\"id\":\"\",\"label\":\"time\",\"pattern\":\"\",\"type\":\"datetime\"},\n  {\"id\":\"\",\"label\":\"\",\"pattern\":\"\",\"type\":\"string\",\"p\":{\"role\":\"annotation\"}},\n  {\"id\":\"\",\"label\":\"\",\"pattern\":\"\",\"type\":\"string\",\"p\":{\"role\":\"annotationText\"}}");
            for name in &rows.names {
                out.push_str(",\n  {\"id\":\"\",\"label\":");
                json::str(&mut out, name);
                out.push_str(",\"pattern\":\"\",\"type\":\"number\"}");
            }
            out.push_str("\n ],\n \"rows\":\n [\n");
            for (k, r) in order(q, n).enumerate() {
                if k > 0 {
                    out.push_str(",\n");
                }
                let ts = crate::logging::local_timestamp(rows.times[r]);
                let ts = std::str::from_utf8(&ts).unwrap_or("1970-01-01 00:00:00");
                let f = |a: usize, b: usize| ts.get(a..b).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
                let _ = write!(
                    out,
                    "  {{\"c\":[{{\"v\":\"Date({},{},{},{},{},{})\"}},{{\"v\":null}},{{\"v\":null}}",
                    f(0, 4),
                    f(5, 7).saturating_sub(1),
                    f(8, 10),
                    f(11, 13),
                    f(14, 16),
                    f(17, 19)
                );
                for v in &rows.values[r] {
                    out.push_str(",{\"v\":");
                    value(&mut out, *v);
                    out.push('}');
                }
                out.push_str("]}");
            }
            out.push_str("\n ]\n}\n");
        }
        Format::Csv | Format::Tsv | Format::Markdown | Format::Html => {
            let (sep, line_start, line_end, cell_start, cell_end) = match q.format {
                Format::Csv => (",", "", "\r\n", "", ""),
                Format::Tsv => ("\t", "", "\r\n", "", ""),
                Format::Markdown => (" | ", "", "\n", "", ""),
                _ => ("", "<tr>", "</tr>\n", "<td>", "</td>"),
            };
            if q.format == Format::Html {
                out.push_str("<html>\n<center>\n<table border=\"0\" cellpadding=\"5\" cellspacing=\"5\">\n");
            }
            out.push_str(line_start);
            let _ = write!(out, "{cell_start}time{cell_end}");
            for name in &rows.names {
                out.push_str(sep);
                out.push_str(cell_start);
                if q.format == Format::Html {
                    html_escape(&mut out, name);
                } else {
                    out.push_str(name);
                }
                out.push_str(cell_end);
            }
            out.push_str(line_end);
            if q.format == Format::Markdown {
                out.push_str(":---:");
                for _ in &rows.names {
                    out.push_str(" |:---:");
                }
                out.push('\n');
            }
            for r in order(q, n) {
                out.push_str(line_start);
                out.push_str(cell_start);
                time_text(&mut out, q, rows.times[r]);
                out.push_str(cell_end);
                for v in &rows.values[r] {
                    out.push_str(sep);
                    out.push_str(cell_start);
                    match v {
                        Some(v) => json::num(&mut out, *v),
                        None if q.format == Format::Markdown || q.format == Format::Html => {
                            out.push_str("null")
                        }
                        None => {}
                    }
                    out.push_str(cell_end);
                }
                out.push_str(line_end);
            }
            if q.format == Format::Html {
                out.push_str("</table>\n</center>\n</html>\n");
            }
        }
        Format::CsvJsonArray => {
            out.push_str("[\n[\"time\"");
            for name in &rows.names {
                out.push(',');
                json::str(&mut out, name);
            }
            out.push(']');
            for r in order(q, n) {
                out.push_str(",\n[");
                if q.options & (opt::MS | opt::SECONDS) != 0 {
                    time_value(&mut out, q, rows.times[r]);
                } else {
                    out.push('"');
                    time_text(&mut out, q, rows.times[r]);
                    out.push('"');
                }
                for v in &rows.values[r] {
                    out.push(',');
                    value(&mut out, *v);
                }
                out.push(']');
            }
            out.push_str("\n]\n");
        }
        Format::Ssv | Format::SsvComma | Format::Array => {
            let sep = match q.format {
                Format::Ssv => " ",
                _ => ",",
            };
            if q.format == Format::Array {
                out.push('[');
            }
            for (k, r) in order(q, n).enumerate() {
                if k > 0 {
                    out.push_str(sep);
                }
                let vals: Vec<f64> = rows.values[r].iter().flatten().copied().collect();
                let v = if vals.is_empty() {
                    None
                } else if q.options & opt::MIN2MAX != 0 {
                    let mn = vals.iter().copied().fold(f64::INFINITY, f64::min);
                    let mx = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    Some(mx - mn)
                } else {
                    Some(vals.iter().sum())
                };
                match v {
                    Some(v) => json::num(&mut out, v),
                    None if q.options & opt::NULL2ZERO != 0 => out.push('0'),
                    None => out.push_str(if q.format == Format::Array { "null" } else { "" }),
                }
            }
            if q.format == Format::Array {
                out.push(']');
            }
            if q.format != Format::Array {
                out.push('\n');
            }
        }
    }
    out
}

fn html_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        crate::web::http::query_pairs(s).unwrap()
    }

    #[test]
    fn parse_rejects_bad_values_with_a_reason() {
        assert!(DataQuery::parse(&pairs("after=-60")).unwrap_err().contains("chart"));
        assert!(DataQuery::parse(&pairs("chart=a&after=x")).unwrap_err().contains("after"));
        assert!(DataQuery::parse(&pairs("chart=a&format=xml")).unwrap_err().contains("xml"));
        assert!(DataQuery::parse(&pairs("chart=a&group=fancy")).unwrap_err().contains("fancy"));
        assert!(DataQuery::parse(&pairs("chart=a&options=flip|bogus")).unwrap_err().contains("bogus"));
        assert!(DataQuery::parse(&pairs("chart=a&points=-1")).is_err());
        assert!(DataQuery::parse(&pairs("chart=a&callback=alert(1)")).is_err());
        let q =
            DataQuery::parse(&pairs("chart=a&options=ms%7Cflip,jsonwrap&_=123&group=percentile99")).unwrap();
        assert_eq!(q.options, opt::MS | opt::FLIP | opt::JSONWRAP);
        assert_eq!(q.group, Group::Percentile(99));
    }

    #[test]
    fn group_methods() {
        let r = |g: &str, v: &[f64]| reduce(Group::parse(g).unwrap(), &mut v.to_vec(), "");
        let v = [1.0, 2.0, 3.0, 10.0];
        assert_eq!(r("average", &v), Some(4.0));
        assert_eq!(r("min", &v), Some(1.0));
        assert_eq!(r("max", &v), Some(10.0));
        assert_eq!(r("sum", &v), Some(16.0));
        assert_eq!(r("median", &v), Some(2.5));
        assert_eq!(r("incremental_sum", &v), Some(9.0));
        assert_eq!(r("percentile50", &v), Some(2.0));
        assert!((r("stddev", &[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap() - 2.138).abs() < 0.001);
        assert_eq!(reduce(Group::CountIf, &mut [0.0, 1.0, 0.0, 3.0], ">0"), Some(50.0));
        assert_eq!(reduce(Group::Average, &mut [], ""), None);
    }

    const T0: i64 = 1_700_000_000;

    /// A host with one chart `test.c` of `dims` dimensions and `history` slots, each
    /// dimension holding `value(t) + d` at every `t` of `times`.
    fn host_with(dims: usize, history: u32, times: &[i64], value: impl Fn(i64) -> f64) -> Host {
        use crate::rrd::{ChartMeta, DimensionMeta, HostSettings};
        let host = Host::new("g", "h", HostSettings { history, ..HostSettings::default() });
        let chart = host.chart_define(ChartMeta::new("test", "c").update_every(1));
        for d in 0..dims {
            chart.dimension(DimensionMeta::new(&format!("d{d}")));
        }
        for d in 0..dims {
            for &t in times {
                chart.store_point(d, t, value(t) + d as f64, false);
            }
        }
        host
    }

    fn query(host: &Host, q: &str) -> Result<Rows, QueryError> {
        run(host, &DataQuery::parse(&pairs(q)).unwrap(), T0 + 5_000_000)
    }

    #[test]
    fn a_window_over_max_read_is_refused_before_reading() {
        // Two points 4.1 M seconds apart: the stored range spans 4.1 M slots.
        let host = host_with(1, 4_200_000, &[T0, T0 + 4_100_000], |_| 1.0);
        let err = query(&host, &format!("chart=test.c&after={T0}&before={}", T0 + 4_100_000)).unwrap_err();
        assert_eq!(
            err,
            QueryError::TooLarge(
                "the query would read 4100001 stored points (1 dimensions over 4100001 points of time); \
                 at most 4000000 per query: shorten the window (after, before) or select fewer dimensions"
                    .into()
            )
        );
        // A window inside the bound is answered, with a huge `points` taken as MAX_POINTS.
        let rows = query(
            &host,
            &format!("chart=test.c&after={}&before={}&points=999999999", T0 + 100_001, T0 + 4_100_000),
        )
        .unwrap();
        assert_eq!(rows.times.len(), MAX_POINTS);
        assert_eq!(rows.view_update_every, 40);
        assert_eq!(rows.values.last().unwrap()[0], Some(1.0));
        assert_eq!(rows.values[0][0], None);
    }

    #[test]
    fn an_answer_over_max_values_is_refused_and_fewer_points_pass() {
        let host = host_with(300, 4000, &[T0, T0 + 3999], |_| 2.0);
        let window = format!("chart=test.c&after={T0}&before={}", T0 + 3999);
        let err = query(&host, &window).unwrap_err();
        assert_eq!(
            err,
            QueryError::TooLarge(
                "the answer would hold 4000 points × 300 dimensions = 1200000 values; at most 500000: \
                 ask for fewer points or dimensions"
                    .into()
            )
        );
        let err = query(&host, &format!("{window}&points=2000")).unwrap_err();
        assert!(err.message().contains("2000 points × 300 dimensions = 600000 values"), "{err:?}");
        let rows = query(&host, &format!("{window}&points=1000&group=max")).unwrap();
        assert_eq!(rows.values.len(), 1000, "groups of 4 aligned slots");
        assert_eq!(rows.values[0].len(), 300);
        assert_eq!(rows.values[0][299], Some(2.0 + 299.0));
        // Selecting dimensions shrinks what is read and returned.
        let rows = query(&host, &format!("{window}&dimensions=d7")).unwrap();
        assert_eq!((rows.values.len(), rows.ids.as_slice()), (4000, &["d7".to_string()][..]));
        assert_eq!(rows.values[3999][0], Some(9.0));
    }

    #[test]
    fn grouping_across_read_chunks_matches_a_direct_computation() {
        let n = 10_000; // more than two CHUNKs
        let times: Vec<i64> = (0..n).map(|i| T0 + i).collect();
        let value = |t: i64| (t % 97) as f64;
        let host = host_with(1, 20_000, &times, value);
        let window = format!("chart=test.c&after={T0}&before={}", T0 + n - 1);
        let all = query(&host, &window).unwrap();
        assert_eq!(all.values.len(), n as usize);
        assert!(all.values.iter().zip(&times).all(|(r, &t)| r[0] == Some(value(t))));
        assert_eq!(all.db_points, n as usize);
        for (points, group) in [(10, "average"), (7, "max"), (3, "median"), (1, "sum")] {
            let rows = query(&host, &format!("{window}&points={points}&group={group}")).unwrap();
            // Netdata's aligned buckets: slot t belongs to bucket t / size.
            let size = (n as usize).div_ceil(points) as i64;
            let mut buckets: Vec<(i64, Vec<f64>)> = Vec::new();
            for &t in &times {
                match buckets.last_mut() {
                    Some((k, v)) if *k == t.div_euclid(size) => v.push(value(t)),
                    _ => buckets.push((t.div_euclid(size), vec![value(t)])),
                }
            }
            let from = buckets.len() - buckets.len().min(points);
            let want: Vec<Option<f64>> = buckets[from..]
                .iter_mut()
                .map(|(_, v)| reduce(Group::parse(group).unwrap(), v, ""))
                .collect();
            let got: Vec<Option<f64>> = rows.values.iter().map(|r| r[0]).collect();
            assert_eq!(got, want, "points={points} group={group}");
        }
    }
}
