//! Queries over the upper tiers: which tier answers, and the grouping of consolidated points.
//!
//! A tier is chosen as Netdata does: the coarsest one whose points are no longer than one
//! requested point (so `points` are answered without reading more than needed), among the
//! tiers that hold data in the window; `tier=` in the request forces one. The chosen tier's
//! points are completed with coarser tiers where it no longer has the data and with finer
//! ones after its last point (`DimensionStore::read_stitched`), so a window is answered as
//! far back as any tier reaches, and no collected value is counted twice.
//!
//! Each point carries the sum, min, max and count of the collected values it consolidates,
//! so `average` (Σ sum ÷ Σ count), `sum`, `min` and `max` of a bucket are those of the
//! underlying tier-0 values, whatever tiers the bucket was read from. The other methods work
//! on each point's average, as Netdata's do on tiers.
//!
//! Each point goes straight into its bucket as the store reads it (one pass, nothing collected
//! per dimension); its slot is found by one comparison when points come in order.

use std::sync::Arc;

use super::{buckets, check_values, finish, select, Group, QueryError, Request, Rows, MAX_READ};
use crate::db::TierPoint;
use crate::rrd::{Chart, TierRange};

/// The tier that answers a window `[after, before]` of charts updated every `ue` seconds,
/// as Netdata 1.37 weighs them: each tier scores how much of the window it covers plus how
/// many of the wanted points it has there (each out of 1000); the best score wins, ties go
/// to the finer tier. So tier 0 answers whenever it holds the whole window; coarser tiers
/// answer for windows older than it reaches.
pub(super) fn choose(tiers: &[Vec<TierRange>], after: i64, before: i64, ue: i64, req: &Request) -> usize {
    let n = tiers.iter().map(Vec::len).max().unwrap_or(1);
    if let Some(t) = req.tier {
        return t.min(n - 1);
    }
    let span = before.saturating_sub(after).saturating_add(ue).max(1);
    let wanted = match req.points.min(super::MAX_POINTS) {
        0 => span / ue.max(1),
        p => p as i64,
    }
    .max(1);
    let mut best = (0, i64::MIN);
    for k in 0..n {
        let ranges = || tiers.iter().filter_map(|t| t.get(k));
        let first = ranges().filter_map(|r| r.first_t).min();
        let last = ranges().filter_map(|r| r.last_t).max();
        let tier_ue = ranges().map(|r| i64::from(r.update_every.max(1))).max().unwrap_or(ue);
        let (Some(first), Some(last)) = (first, last) else { continue };
        let (from, to) = (first.max(after), last.min(before));
        if from > to {
            continue;
        }
        let time = (to - from + tier_ue).min(span).saturating_mul(1000) / span;
        let available = (to - from) / tier_ue + 1;
        let points = available.min(wanted).saturating_mul(1000) / wanted;
        if time + points > best.1 {
            best = (k, time + points);
        }
    }
    best.0
}

/// What one source contributes to one bucket.
#[derive(Clone, Copy)]
struct Acc {
    sum: f64,
    count: u64,
    min: f64,
    max: f64,
}

impl Acc {
    const EMPTY: Acc = Acc { sum: 0.0, count: 0, min: f64::INFINITY, max: f64::NEG_INFINITY };

    /// Adds a stored point (finite values: compared directly, no NaN handling needed).
    #[inline]
    fn add(&mut self, p: &TierPoint) {
        self.sum += p.sum;
        self.count += u64::from(p.count);
        if p.min < self.min {
            self.min = p.min;
        }
        if p.max > self.max {
            self.max = p.max;
        }
    }
}

/// Runs `req` at `tier` on the window `[after, before]` (resolved by the caller on the charts'
/// tier-0 step); the grid is the chosen tier's step.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    charts: &[Arc<Chart>],
    merge: bool,
    req: &Request,
    tiers: &[Vec<TierRange>],
    tier: usize,
    after: i64,
    before: i64,
    rows: Rows,
) -> Result<Rows, QueryError> {
    let mut rows = rows;
    let ue =
        tiers.iter().filter_map(|t| t.get(tier)).map(|r| i64::from(r.update_every)).max().unwrap_or(1).max(1);
    // The grid: slot s ends at after + s·ue and holds the points of (its start, its end].
    // The end goes up to the grid (the newest, still open span is read from the finer tiers,
    // its slot reported at `before`, not in the future), and the window keeps its length in
    // whole steps: a day at 60 s is 1440 slots wherever the day ends.
    let asked_before = before;
    let step0 =
        tiers.iter().filter_map(|t| t.first()).map(|r| i64::from(r.update_every)).max().unwrap_or(1).max(1);
    let span = before.saturating_sub(after).saturating_add(step0);
    let before = before.saturating_add((ue - before.rem_euclid(ue)) % ue);
    let slots = if span > 0 { usize::try_from((span + ue - 1) / ue).unwrap_or(usize::MAX).max(1) } else { 0 };
    let after = before.saturating_sub((slots.max(1) as i64 - 1).saturating_mul(ue));
    let (series, shown, needed) = select(charts, merge, req);
    let sources: usize = needed.iter().map(|&i| series[i].sources.len()).sum();
    // At least the slots themselves: the grid is walked even when no dimension is read.
    let read = sources.saturating_mul(slots).max(slots);
    if read > MAX_READ {
        return Err(QueryError::TooLarge(format!(
            "the query would read {read} points of tier {tier} ({sources} dimensions over {slots} points of \
             time); at most {MAX_READ} per query: shorten the window (after, before), select fewer \
             dimensions or ask for fewer points"
        )));
    }
    let (bucket_ranges, group) = buckets(after, slots, ue, req);
    check_values(bucket_ranges.len(), needed.len().max(shown.len()))?;
    rows.update_every = ue;
    rows.view_update_every = group * ue;
    if let Some(&(s, _)) = bucket_ranges.first() {
        rows.after = after + s as i64 * ue;
    }
    rows.before = asked_before;
    rows.times =
        bucket_ranges.iter().map(|&(_, e)| (after + (e as i64 - 1) * ue).min(asked_before)).collect();
    // Which bucket each slot is in.
    let mut bucket_of_slot = vec![usize::MAX; slots];
    for (b, &(s, e)) in bucket_ranges.iter().enumerate() {
        bucket_of_slot[s..e].fill(b);
    }
    let n_tiers = tiers.iter().map(Vec::len).max().unwrap_or(1);
    let mut per_tier = vec![0usize; n_tiers];
    let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::new(); series.len()];
    let mut latest: Vec<Option<f64>> = vec![None; series.len()];
    let mut accs: Vec<Acc> = Vec::new();
    let mut averages: Vec<Vec<f64>> = Vec::new();
    let simple = matches!(req.group, Group::Average | Group::Sum | Group::Min | Group::Max);
    for &si in &needed {
        let ser = &series[si];
        let mut column: Vec<Option<f64>> = vec![None; bucket_ranges.len()];
        let mut newest: Option<(i64, f64)> = None;
        for &(ci, di) in &ser.sources {
            accs.clear();
            accs.resize(bucket_ranges.len(), Acc::EMPTY);
            if !simple {
                averages.iter_mut().for_each(Vec::clear);
                averages.resize(bucket_ranges.len(), Vec::new());
            }
            // Each point straight into its bucket, as the store reads it (oldest first).
            let mut grid = Grid::new(after, ue);
            let mut source_newest: Option<(i64, f64, u32)> = None;
            charts[ci].for_each_stitched(di, tier, after.saturating_sub(ue - 1), before, &mut |k, p| {
                if p.count == 0 {
                    return;
                }
                let Some(&b) = grid.slot(p.t).and_then(|s| bucket_of_slot.get(s)) else { return };
                if b == usize::MAX {
                    return;
                }
                let Some(acc) = accs.get_mut(b) else { return };
                acc.add(&p);
                if !simple {
                    averages[b].push(p.sum / f64::from(p.count));
                }
                if let Some(n) = per_tier.get_mut(k) {
                    *n += 1;
                }
                if source_newest.is_none_or(|(t, _, _)| p.t >= t) {
                    source_newest = Some((p.t, p.sum, p.count));
                }
            });
            let source_newest = source_newest.map(|(t, sum, count)| (t, sum / f64::from(count)));
            if let Some((t, v)) = source_newest {
                newest = Some(match newest {
                    Some((nt, nv)) if nt == t => (t, nv + v),
                    Some(n) if n.0 > t => n,
                    _ => (t, v),
                });
            }
            for (b, acc) in accs.iter().enumerate() {
                if acc.count == 0 {
                    continue;
                }
                let v = match req.group {
                    Group::Average => acc.sum / acc.count as f64,
                    Group::Sum => acc.sum,
                    Group::Min => acc.min,
                    Group::Max => acc.max,
                    g => match super::reduce(g, &mut averages[b], &req.group_options) {
                        Some(v) => v,
                        None => continue,
                    },
                };
                // Sources of a context are summed, as the tier-0 path sums them per slot.
                column[b] = Some(column[b].map_or(v, |c| c + v));
            }
        }
        latest[si] = newest.map(|(_, v)| v);
        columns[si] = column;
    }
    rows.db_points = per_tier.iter().sum();
    rows.db_points_per_tier = per_tier;
    rows.tier = tier;
    finish(&mut rows, charts, &series, shown, columns, latest, bucket_ranges.len(), &req.options);
    Ok(rows)
}

/// The slot of the grid (slot `s` ends at `after + s·ue` and holds `(end - ue, end]`) that
/// holds a time: the next slot's found by one comparison when times come in order, one
/// division otherwise.
struct Grid {
    after: i64,
    ue: i64,
    /// The slot last found and its end.
    slot: i64,
    end: i64,
}

impl Grid {
    fn new(after: i64, ue: i64) -> Grid {
        Grid { after, ue, slot: 0, end: after }
    }

    /// The slot holding `t`; `None` before the grid.
    #[inline]
    fn slot(&mut self, t: i64) -> Option<usize> {
        if t > self.end && t - self.end <= self.ue {
            self.slot += 1;
            self.end += self.ue;
        } else if t <= self.end.saturating_sub(self.ue) || t > self.end {
            self.slot = (t.saturating_sub(self.after).saturating_add(self.ue - 1)).div_euclid(self.ue);
            self.end = self.after.saturating_add(self.slot.saturating_mul(self.ue));
        }
        usize::try_from(self.slot).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{run, Target};
    use super::*;
    use crate::db::{PlanOptions, TierPlan};
    use crate::rrd::{ChartMeta, DimensionMeta, Host, HostSettings};

    /// A multiple of 6: the spans of every tier start on it.
    const T0: i64 = 1_699_999_998;
    const NOW: i64 = T0 + 61;

    /// `test.c`, one dimension stored every second at `T0 + 1 ..= T0 + 60` with the value
    /// `t - T0`; tier 0 keeps 12 slots, tier 1 (3 s) and tier 2 (6 s) 12 points each.
    fn host() -> Host {
        let (host, chart) = tiered_chart(&[3, 2], 12, vec![]);
        for k in 1..=60 {
            chart.store_point(0, T0 + k, k as f64, false);
        }
        host
    }

    /// A host with `test.c` of one dimension `d`, every 1 s, tiers of these `iterations`,
    /// `history` tier-0 slots and as many points per tier (or these retention times).
    fn tiered_chart(
        iterations: &[u32],
        history: u32,
        retention_secs: Vec<Option<u64>>,
    ) -> (Host, Arc<Chart>) {
        let options = PlanOptions {
            tiers: iterations.len() + 1,
            iterations: iterations.to_vec(),
            retention: history,
            retention_secs,
            budget_bytes: None,
            expected_dimensions: 0,
        };
        let settings = HostSettings {
            history,
            tiers: Some(Arc::new(TierPlan::new(options, 0))),
            ..HostSettings::default()
        };
        let host = Host::new("g", "h", settings);
        let chart = host.chart_define(ChartMeta::new("test", "c").update_every(1));
        chart.dimension(DimensionMeta::new("d"));
        (host, chart)
    }

    fn query(host: &Host, points: usize, group: Group, tier: Option<usize>) -> Rows {
        query_from(host, T0 + 1, points, group, tier)
    }

    /// Buckets from the window's start (`unaligned`), so one point spans all of it.
    fn query_from(host: &Host, after: i64, points: usize, group: Group, tier: Option<usize>) -> Rows {
        let mut req = Request { after, before: T0 + 60, points, group, tier, ..Request::default() };
        req.options.unaligned = true;
        run(host, &Target::Chart("test.c".into()), &req, NOW).expect("answered")
    }

    fn values(rows: &Rows) -> Vec<f64> {
        rows.values.iter().map(|r| r[0].unwrap_or(f64::NAN)).collect()
    }

    #[test]
    fn the_coarsest_tier_that_fits_the_points_answers() {
        let h = host();
        // 10 points over 60 s: 6 s each, tier 2's step. Bucket k holds 6k-5 ..= 6k.
        let rows = query(&h, 10, Group::Average, None);
        assert_eq!(rows.tier, 2);
        assert_eq!(rows.view_update_every, 6);
        assert_eq!(rows.times, (1..=10).map(|k| T0 + 6 * k).collect::<Vec<_>>());
        assert_eq!(values(&rows), (1..=10).map(|k| 6.0 * k as f64 - 2.5).collect::<Vec<_>>());
        let rows = query(&h, 10, Group::Max, None);
        assert_eq!(values(&rows), (1..=10).map(|k| 6.0 * k as f64).collect::<Vec<_>>());
        let rows = query(&h, 10, Group::Min, None);
        assert_eq!(values(&rows), (1..=10).map(|k| 6.0 * k as f64 - 5.0).collect::<Vec<_>>());
        let rows = query(&h, 10, Group::Sum, None);
        assert_eq!(values(&rows), (1..=10).map(|k| 36.0 * k as f64 - 15.0).collect::<Vec<_>>());
        // Points of 3 s from tier 1 where it holds the window (asked for: tier 2 covers more
        // of the whole window). Point k holds 3k-2 ..= 3k.
        let rows = query_from(&h, T0 + 25, 12, Group::Average, Some(1));
        assert_eq!(rows.tier, 1);
        assert_eq!(values(&rows), (9..=20).map(|k| 3.0 * k as f64 - 1.0).collect::<Vec<_>>());
    }

    #[test]
    fn a_window_older_than_tier_0_is_stitched_without_counting_twice() {
        let h = host();
        // Tier 0 holds only the last 12 seconds; the rest comes from tiers 1 and 2.
        let chart = h.chart("test.c").unwrap();
        assert_eq!(chart.first_entry_t(), Some(T0 + 49), "tier 0: what replication can answer");
        assert_eq!(chart.first_entry_any_tier_t(), Some(T0 + 6), "tier 2's first point: the span 1 ..= 6");
        for tier in [0, 1, 2] {
            // One point over the whole window: the sum of 1 ..= 60 and its average, whatever
            // tier is read first.
            let rows = query(&h, 1, Group::Sum, Some(tier));
            assert_eq!(values(&rows), vec![1830.0], "tier {tier}");
            let rows = query(&h, 1, Group::Average, Some(tier));
            assert_eq!(values(&rows), vec![30.5], "tier {tier}");
            assert_eq!(rows.db_points_per_tier.len(), 3);
            assert!(rows.db_points_per_tier[tier] > 0, "tier {tier}: {:?}", rows.db_points_per_tier);
        }
        // Every slot of tier 0's grid (`tier=0`, points=0) from the oldest point of any tier
        // (tier 2's at 6): the older part has values only where a coarser point ends.
        let rows = query(&h, 0, Group::Average, Some(0));
        assert_eq!(rows.times.len(), 55);
        assert_eq!(rows.values[0][0], Some(3.5), "tier 2's point 1 ..= 6");
        assert_eq!(rows.values[1][0], None, "no point ends at 7");
        let last: Vec<Option<f64>> = rows.values[43..].iter().map(|r| r[0]).collect();
        assert_eq!(last, (49..=60).map(|k| Some(k as f64)).collect::<Vec<_>>(), "tier 0 as stored");
    }

    #[test]
    fn tier_0_answers_whenever_it_holds_the_window() {
        let h = host();
        let req = Request { after: T0 + 50, before: T0 + 60, ..Request::default() };
        let rows = run(&h, &Target::Chart("test.c".into()), &req, NOW).unwrap();
        assert_eq!(rows.tier, 0);
        assert_eq!(values(&rows), (50..=60).map(f64::from).collect::<Vec<_>>(), "tier 0 as stored");
    }

    #[test]
    fn a_window_keeps_its_length_in_whole_steps_wherever_it_ends() {
        let h = host();
        // 18 s ending at 59 (not on tier 1's 3 s grid): 6 points of 3 s, not 7.
        for end in [57, 58, 59] {
            let mut req = Request {
                after: T0 + end - 17,
                before: T0 + end,
                points: 6,
                tier: Some(1),
                ..Request::default()
            };
            req.options.unaligned = true;
            let rows = run(&h, &Target::Chart("test.c".into()), &req, NOW).unwrap();
            assert_eq!(rows.times.len(), 6, "ending at {end}: {:?}", rows.times);
        }
    }

    /// Tier 2 reaching back 6 000 000 s and `tier=0` asked with no dimension selected: the
    /// grid of 6 million one-second slots is refused before anything is walked or allocated.
    #[test]
    fn a_grid_over_max_read_is_refused_even_when_no_dimension_is_read() {
        let (h, chart) = tiered_chart(&[255, 255], 600, vec![None, None, Some(65_025 * 200)]);
        chart.store_point(0, T0, 1.0, false);
        chart.store_point(0, T0 + 6_000_000, 2.0, false);
        let req = Request {
            after: T0 - 100_000,
            before: T0 + 6_000_000,
            tier: Some(0),
            dimensions: Some(crate::simple_pattern::SimplePattern::parse("nothing")),
            ..Request::default()
        };
        let e = run(&h, &Target::Chart("test.c".into()), &req, T0 + 6_000_001).unwrap_err();
        assert!(matches!(&e, QueryError::TooLarge(m) if m.contains("0 dimensions")), "{e:?}");
    }

    /// `test.c` of dimensions `a` (random integers) and `b` (zeros) every 1 s from `T0 + 1`
    /// to `T0 + 3000` with gaps, on a dbengine-like plan: tier 0 keeps 600 slots, tiers 1
    /// (4 s) and 2 (16 s) a ring of 64 points and an archive of about 20 kB (most of the
    /// day is archived). Returns the host and each dimension's stored values by time.
    fn archived_host() -> (Host, [std::collections::BTreeMap<i64, f64>; 2]) {
        let options = PlanOptions {
            tiers: 3,
            iterations: vec![4, 4],
            retention: 600,
            retention_secs: vec![None; 3],
            budget_bytes: Some(vec![2_400_000, 21_000_000, 21_000_000]),
            expected_dimensions: 0,
        };
        let settings = HostSettings {
            history: 600,
            tiers: Some(Arc::new(TierPlan::new(options, 0))),
            ..HostSettings::default()
        };
        let host = Host::new("g", "h", settings);
        let chart = host.chart_define(ChartMeta::new("test", "c").update_every(1));
        chart.dimension(DimensionMeta::new("a"));
        chart.dimension(DimensionMeta::new("b"));
        let mut rng = crate::rng::Rng::new(99);
        let mut stored = [std::collections::BTreeMap::new(), std::collections::BTreeMap::new()];
        let mut k = 1;
        while k <= 3000 {
            // A gap of 10..50 s now and then (whole spans of tier 1 and 2 empty), else 5 %
            // of the seconds missing.
            if rng.below(300) == 0 {
                k += 10 + rng.below(40) as i64;
                continue;
            }
            for (d, values) in stored.iter_mut().enumerate() {
                if rng.below(20) == 0 {
                    continue;
                }
                let v = if d == 0 { rng.below(1000) as f64 } else { 0.0 };
                chart.store_point(d, T0 + k, v, false);
                values.insert(T0 + k, v);
            }
            k += 1;
        }
        (host, stored)
    }

    #[test]
    fn archived_tiers_group_as_the_values_they_consolidate() {
        let (h, stored) = archived_host();
        let chart = h.chart("test.c").unwrap();
        let ranges = chart.tiers();
        assert!(ranges[0].first_t.unwrap() > T0 + 2000, "tier 0 holds only the end: {ranges:?}");
        // The first span of tier 1 ends at T0 + 2 (a multiple of 4), holding T0 + 1 and T0 + 2.
        assert_eq!(ranges[1].first_t, Some(T0 + 2), "tier 1 reaches back to the start: {ranges:?}");
        let end = T0 + 3000;
        for (points, group) in [
            (0, Group::Sum),
            (0, Group::Average),
            (0, Group::Min),
            (0, Group::Max),
            (37, Group::Sum),
            (37, Group::Average),
            (37, Group::Max),
        ] {
            let req =
                Request { after: T0 - 100, before: end, points, group, tier: Some(1), ..Request::default() };
            let rows = run(&h, &Target::Chart("test.c".into()), &req, end).unwrap();
            assert_eq!(rows.tier, 1);
            assert_eq!(*rows.times.last().unwrap(), end);
            if points == 0 {
                // The window T0 + 2 ..= T0 + 3000 kept to 750 whole slots: they end at
                // T0 + 6, + 10, …, + 2998 and the open one at T0 + 3000.
                assert_eq!(rows.times.len(), 750, "{group:?}: 3000 s of 4 s slots");
                assert_eq!(rows.times[..2], [T0 + 6, T0 + 10]);
            }
            assert!(
                rows.db_points_per_tier[1] > 1000 && rows.db_points_per_tier[0] > 0,
                "{:?}",
                rows.db_points_per_tier
            );
            assert_eq!(rows.db_points_per_tier[2], 0, "tier 1 reaches back to the start");
            for r in 1..rows.times.len() {
                let (lo, hi) = (rows.times[r - 1], rows.times[r]);
                for (d, values) in stored.iter().enumerate() {
                    let vals: Vec<f64> = values.range(lo + 1..=hi).map(|(_, &v)| v).collect();
                    let want = (!vals.is_empty()).then(|| match group {
                        Group::Sum => vals.iter().sum::<f64>(),
                        Group::Average => vals.iter().sum::<f64>() / vals.len() as f64,
                        Group::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
                        _ => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    });
                    let got = rows.values[r][d];
                    let close = match (got, want) {
                        (Some(g), Some(w)) => (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                        (g, w) => g == w,
                    };
                    assert!(close, "{group:?} points={points}, dim {d}, ({lo}, {hi}]: {got:?} != {want:?}");
                }
            }
        }
    }

    #[test]
    fn the_grid_finds_the_slot_of_any_time() {
        let mut rng = crate::rng::Rng::new(4);
        for ue in [1, 60, 3600] {
            let after = 1_700_000_040 - ue;
            let mut g = Grid::new(after, ue);
            let mut t = after - 3 * ue;
            for _ in 0..2000 {
                // Mostly in order by the grid's step or less, sometimes back or far ahead.
                t += match rng.below(10) {
                    0 => -(rng.below(5 * ue as usize) as i64),
                    1 => rng.below(100 * ue as usize) as i64,
                    _ => rng.below(ue as usize + 1) as i64,
                };
                let want = usize::try_from((t - after + ue - 1).div_euclid(ue)).ok();
                assert_eq!(g.slot(t), want, "ue {ue}, t {t}");
            }
        }
    }

    #[test]
    fn the_tier_parameter_is_bounded_by_the_tiers_there_are() {
        let h = host();
        assert_eq!(query(&h, 10, Group::Average, Some(4)).tier, 2);
    }
}
