//! The query engine: turns the stored points of a host's charts into rows of grouped values
//! (protocol.md §8.3). It is pure: no HTTP and no text, so `/api/v1/data` (which parses the
//! request and renders the formats, `web::api::data`) and health's `lookup` share it.
//!
//! [`run`] reads the selected dimensions for the window in one pass per dimension, groups
//! them into `points` buckets with the [`Group`] method and applies the value [`Options`].
//! Health's `lookup: METHOD AFTER [at BEFORE] [OPTIONS] [of DIMENSIONS]` is a [`Request`]
//! with one point, and [`lookup_value`] its single value (`every` is the alarm's schedule,
//! not part of the query).
//!
//! Bounds (a query runs inside the web event loop, so its size is its delay to everyone
//! else): the window is clamped to what is stored, as Netdata does, and `points` to the
//! window; then, before anything proportional to the request is allocated, a query that
//! would read more than [`MAX_READ`] stored points (window × dimensions) or answer more than
//! [`MAX_VALUES`] values (rows × dimensions) is refused with a message that says which bound
//! and how to narrow it. Points are read [`CHUNK`] slots at a time and grouped as they come,
//! so the transient memory is one chunk (or one bucket, if larger) plus the answer.

mod group;
mod tiered;

use std::collections::HashMap;
use std::sync::Arc;

use crate::rrd::{Chart, Host, TierRange};
use crate::simple_pattern::SimplePattern;

pub use group::{reduce, Group};

/// Values with |v| up to this many seconds are relative to now (Netdata's 3 years).
pub const RELATIVE_LIMIT: i64 = 3 * 365 * 86_400;
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

/// The options that change which dimensions are answered or their values (the `options`
/// words of `/api/v1/data` and of a health `lookup`; the presentation ones are the web's).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `abs`, `absolute`, `absolute_sum`: values (and the percentage total) as magnitudes.
    pub absolute: bool,
    /// `display_absolute`: values as magnitudes, the percentage total signed.
    pub display_absolute: bool,
    /// Each value as a share of its row's total, hidden dimensions included.
    pub percentage: bool,
    /// An empty bucket is 0 instead of null.
    pub null2zero: bool,
    /// Drop the dimensions that are zero (or null) in every row, unless all are.
    pub nonzero: bool,
    /// Buckets start at the window's first slot instead of on multiples of their size.
    pub unaligned: bool,
    /// `match-ids`: the dimensions pattern is tested on ids only.
    pub match_ids: bool,
    /// `match-names`: the dimensions pattern is tested on names only.
    pub match_names: bool,
    /// Hidden dimensions are answered too (without a dimensions pattern).
    pub all_dimensions: bool,
    /// A row's single value is its range (max − min) instead of its sum ([`row_value`]).
    pub min2max: bool,
}

impl Options {
    /// Sets the option `word` names; `false` when it names none of these. The spellings are
    /// Netdata's (`/api/v1/data` and health `lookup` share them).
    pub fn set(&mut self, word: &str) -> bool {
        let flag = match word {
            "abs" | "absolute" | "absolute_sum" | "absolute-sum" => &mut self.absolute,
            "display_absolute" | "display-absolute" => &mut self.display_absolute,
            "percentage" => &mut self.percentage,
            "null2zero" => &mut self.null2zero,
            "nonzero" => &mut self.nonzero,
            "unaligned" => &mut self.unaligned,
            "match_ids" | "match-ids" => &mut self.match_ids,
            "match_names" | "match-names" => &mut self.match_names,
            "all-dimensions" | "all_dimensions" => &mut self.all_dimensions,
            "min2max" => &mut self.min2max,
            _ => return false,
        };
        *flag = true;
        true
    }
}

/// A query: the window, its resolution, the group method and the value options.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Start of the window: absolute (epoch seconds) or, when |after| ≤ 3 years, relative to
    /// `before` (0: 600 seconds).
    pub after: i64,
    /// End of the window: absolute, or relative to now when |before| ≤ 3 years.
    pub before: i64,
    /// Rows wanted; 0: one per stored slot. Taken as at most [`MAX_POINTS`].
    pub points: usize,
    pub group: Group,
    /// Least seconds a bucket spans (`gtime`); 0: none.
    pub gtime: i64,
    /// The group method's parameter (`countif`'s condition).
    pub group_options: String,
    /// The dimensions answered, by id or name (see [`Options::match_ids`]); `None`: the
    /// visible ones.
    pub dimensions: Option<SimplePattern>,
    pub options: Options,
    /// The storage tier to read (`tier=`); `None`: chosen from the window and `points`.
    pub tier: Option<usize>,
}

impl Default for Request {
    /// Netdata's defaults: the last 600 seconds, every slot, averaged.
    fn default() -> Request {
        Request {
            after: -600,
            before: 0,
            points: 0,
            group: Group::Average,
            gtime: 0,
            group_options: String::new(),
            dimensions: None,
            options: Options::default(),
            tier: None,
        }
    }
}

/// The result of running a query: rows oldest first, one value per selected dimension.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    /// The chart of each dimension (its first source when a context query merged several):
    /// `chart_ids` of a context query's jsonwrap.
    pub chart_ids: Vec<String>,
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
    /// Points read from each tier (tier 0 first).
    pub db_points_per_tier: Vec<usize>,
    /// The tier that answered.
    pub tier: usize,
}

/// Runs `req` on the chart (id or name) or context `target` of `host`; `now` is the time
/// relative windows end at.
pub fn run(host: &Host, target: &Target, req: &Request, now: i64) -> Result<Rows, QueryError> {
    let charts: Vec<Arc<Chart>> = match target {
        Target::Chart(id) => host.chart_by_id_or_name(id).into_iter().collect(),
        Target::Context(ctx) => host.charts().into_iter().filter(|c| &c.meta().context == ctx).collect(),
    };
    if charts.is_empty() {
        return Err(QueryError::NotFound(match target {
            Target::Chart(id) => format!("chart '{id}' is not found"),
            Target::Context(c) => format!("context '{c}' is not found"),
        }));
    }
    run_on(&charts, matches!(target, Target::Context(_)), req, now)
}

/// Runs `req` on one chart (health's lookups, which are bound to their chart).
pub fn run_chart(chart: &Arc<Chart>, req: &Request, now: i64) -> Result<Rows, QueryError> {
    run_on(std::slice::from_ref(chart), false, req, now)
}

/// The single value of a health `lookup` on `chart`: the newest row of `req` (which asks for
/// one point) reduced over its dimensions by [`row_value`]; `None` when it holds no value.
pub fn lookup_value(chart: &Arc<Chart>, req: &Request, now: i64) -> Result<Option<f64>, QueryError> {
    let rows = run_chart(chart, req, now)?;
    Ok(rows.values.last().and_then(|row| row_value(row, req.options.min2max)))
}

/// One value for a row of several dimensions (the `ssv`/`array` formats and health
/// lookups): their sum, or with `min2max` their range; `None` when every value is null.
pub fn row_value(row: &[Option<f64>], min2max: bool) -> Option<f64> {
    let vals = || row.iter().flatten().copied();
    if vals().next().is_none() {
        None
    } else if min2max {
        let mn = vals().fold(f64::INFINITY, f64::min);
        let mx = vals().fold(f64::NEG_INFINITY, f64::max);
        Some(mx - mn)
    } else {
        Some(vals().sum())
    }
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

/// The engine: `charts` are one chart, or the charts of a context whose dimensions are
/// merged by name (`merge`).
fn run_on(charts: &[Arc<Chart>], merge: bool, req: &Request, now: i64) -> Result<Rows, QueryError> {
    let o = &req.options;
    let ues: Vec<i64> = charts.iter().map(|c| i64::from(c.meta().update_every.max(1))).collect();
    let ue = ues.iter().copied().max().unwrap_or(1);
    // What each chart holds, per tier: read once (each read locks the chart and walks its
    // dimensions), for the window, the tier choice and the read bound.
    let tiers: Vec<Vec<TierRange>> = charts.iter().map(|c| c.tiers()).collect();
    let first_entry = tiers.iter().flat_map(|t| t.iter().filter_map(|r| r.first_t)).min();
    let last_entry = tiers.iter().filter_map(|t| t[0].last_t).max();

    // Resolve the window: before relative to now, after relative to before.
    // Any i64 may come from a request: no step of this may overflow (`i64::MIN.abs()` does).
    let relative = |v: i64| v.unsigned_abs() <= RELATIVE_LIMIT.unsigned_abs();
    let mut before = if relative(req.before) { now.saturating_add(req.before) } else { req.before };
    let mut after = if relative(req.after) {
        if req.after == 0 {
            before.saturating_sub(600 - 1)
        } else {
            before.saturating_add(req.after).saturating_add(1)
        }
    } else {
        req.after
    };
    if after > before {
        std::mem::swap(&mut after, &mut before);
    }
    // A window wholly relative to now ends at the last stored point when that is earlier (a
    // chart updated every 5 s, a plugin a second behind) and keeps its length, as Netdata
    // 1.37's does: `after=-1` is the last point, not nothing.
    if let Some(last) = last_entry.filter(|&l| l < before && relative(req.before) && relative(req.after)) {
        after = after.saturating_sub(before - last);
        before = last;
    }
    if let Some(last) = last_entry {
        before = before.min(last);
    }
    if let Some(first) = first_entry {
        after = after.max(first);
    }
    // Align both ends on the step.
    before = before.saturating_sub(before.rem_euclid(ue));
    after = after.saturating_add((ue - after.rem_euclid(ue)) % ue);
    let mut rows = Rows {
        update_every: ue,
        view_update_every: ue,
        first_entry: first_entry.unwrap_or(0),
        last_entry: last_entry.unwrap_or(0),
        after,
        before,
        ..Rows::default()
    };
    // Upper tiers answer when the request's points are coarser than theirs, or when tier 0
    // no longer holds the start of the window.
    if tiers.iter().any(|t| t.len() > 1) && first_entry.is_some() && after <= before {
        let tier = tiered::choose(&tiers, after, before, ue, req);
        let tier0_first = tiers.iter().filter_map(|t| t[0].first_t).min();
        if tier > 0 || tier0_first.is_none_or(|f| f > after) {
            return tiered::run(charts, merge, req, &tiers, tier, after, before, rows);
        }
    }
    let have_data = first_entry.is_some() && after <= before;
    let slots = if have_data { usize::try_from((before - after) / ue + 1).unwrap_or(usize::MAX) } else { 0 };

    let (series, shown, needed) = select(charts, merge, req);

    // What the query would read, from the stored range of each source.
    // Once per chart (from tier 0's range read above), not per dimension.
    let stored_of = |ci: usize| -> usize {
        let (Some(first), Some(last)) = (tiers[ci][0].first_t, tiers[ci][0].last_t) else {
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

    let (bucket_ranges, group) = buckets(after, slots, ue, req);
    check_values(bucket_ranges.len(), needed.len().max(shown.len()))?;
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
    let mut raw = Vec::new();
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
                charts[ci].query_into(di, t0, t1, &mut raw);
                for &(t, n) in &raw {
                    if t < t0 || t > t1 {
                        continue;
                    }
                    let idx = ((t - after) / ue) as usize - s0;
                    if let (Some(slot), Some(v)) = (buf.get_mut(idx), n.value().filter(|v| !v.is_nan())) {
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
                column.push(reduce(req.group, &mut scratch, &req.group_options));
            }
            b = e;
        }
        columns[si] = column;
    }
    rows.db_points_per_tier = vec![rows.db_points];
    finish(&mut rows, charts, &series, shown, columns, latest, bucket_ranges.len(), o);
    Ok(rows)
}

/// The output dimensions from the metadata only, those shown, and those read (percentages
/// need every dimension of the row, hidden ones included).
fn select(charts: &[Arc<Chart>], merge: bool, req: &Request) -> (Vec<Series>, Vec<usize>, Vec<usize>) {
    let o = &req.options;
    let mut series: Vec<Series> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
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
            if let Some(p) = &req.dimensions {
                let by_id = !o.match_names || o.match_ids;
                let by_name = !o.match_ids || o.match_names;
                (by_id && p.matches(&s.id)) || (by_name && p.matches(&s.name))
            } else {
                !s.hidden || o.all_dimensions
            }
        })
        .collect();
    // Percentages are of every dimension of the row, hidden ones included: all are read.
    let needed: Vec<usize> = if o.percentage { (0..series.len()).collect() } else { shown.clone() };

    (series, shown, needed)
}

/// Refuses an answer of more than [`MAX_VALUES`] values (`rows` × `dims`).
fn check_values(rows: usize, dims: usize) -> Result<(), QueryError> {
    let values = rows.saturating_mul(dims);
    if values > MAX_VALUES {
        return Err(QueryError::TooLarge(format!(
            "the answer would hold {rows} points × {dims} dimensions = {values} values; at most {MAX_VALUES}: \
             ask for fewer points or dimensions"
        )));
    }
    Ok(())
}

/// The buckets of a window of `slots` steps of `ue` seconds from `after`: ranges of slots,
/// oldest first, and the slots per bucket.
fn buckets(after: i64, slots: usize, ue: i64, req: &Request) -> (Vec<(usize, usize)>, i64) {
    let o = &req.options;
    let wanted = req.points.min(MAX_POINTS);
    let points = if wanted == 0 || wanted > slots { slots } else { wanted };
    let mut group = if points == 0 { 1 } else { slots.div_ceil(points) };
    if req.gtime > ue {
        group = group.max(usize::try_from(req.gtime / ue).unwrap_or(usize::MAX));
    }
    let group = i64::try_from(group.max(1)).unwrap_or(i64::MAX);
    let bucket_of = |slot: usize| -> i64 {
        let t = after + slot as i64 * ue;
        if o.unaligned {
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
    (bucket_ranges, group)
}

/// Applies the value options to the grouped `columns` (one per series) and fills the rows.
#[allow(clippy::too_many_arguments)]
fn finish(
    rows: &mut Rows,
    charts: &[Arc<Chart>],
    series: &[Series],
    shown: Vec<usize>,
    mut columns: Vec<Vec<Option<f64>>>,
    latest: Vec<Option<f64>>,
    n_rows: usize,
    o: &Options,
) {
    // Percentages are of the total of every dimension of the row, hidden ones included; as in
    // Netdata 1.37.1 the total is signed unless `abs` is asked (10, -30, 0, 60 → 25 %, -75 %, 0).
    if o.percentage {
        let signed = !o.absolute;
        for r in 0..n_rows {
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
    if o.nonzero {
        let nonzero: Vec<usize> = shown
            .iter()
            .copied()
            .filter(|&d| columns[d].iter().any(|v| v.is_some_and(|v| v != 0.0)))
            .collect();
        if !nonzero.is_empty() {
            shown = nonzero;
        }
    }
    let abs = o.absolute || o.display_absolute;
    let fix = |v: Option<f64>| -> Option<f64> {
        let v = if abs { v.map(f64::abs) } else { v };
        if o.null2zero {
            Some(v.unwrap_or(0.0))
        } else {
            v
        }
    };
    rows.values = (0..n_rows)
        .map(|r| shown.iter().map(|&d| fix(columns[d].get(r).copied().flatten())).collect())
        .collect();
    rows.ids = shown.iter().map(|&d| series[d].id.clone()).collect();
    rows.names = shown.iter().map(|&d| series[d].name.clone()).collect();
    rows.chart_ids = shown.iter().map(|&d| charts[series[d].sources[0].0].meta().id).collect();
    rows.latest = shown.iter().map(|&d| latest[d]).collect();
}

#[cfg(test)]
mod tests;
