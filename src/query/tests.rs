use super::*;
use crate::rrd::{ChartMeta, DimensionMeta, HostSettings};

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

#[test]
fn group_names_round_trip_and_bad_parameters_are_refused() {
    for name in ["average", "incremental_sum", "cv", "percentile95", "trimmed-mean5", "trimmed-median25"] {
        assert_eq!(Group::parse(name).map(Group::name).as_deref(), Some(name));
    }
    assert_eq!(Group::parse("percentile"), Some(Group::Percentile(95)));
    assert_eq!(Group::parse("mean"), Some(Group::Average));
    assert_eq!(Group::parse("percentile42"), None);
    assert_eq!(Group::parse("fancy"), None);
}

const T0: i64 = 1_700_000_000;
const NOW: i64 = T0 + 5_000_000;

/// A host with one chart `test.c` of `dims` dimensions and `history` slots, each
/// dimension holding `value(t) + d` at every `t` of `times`.
fn host_with(dims: usize, history: u32, times: &[i64], value: impl Fn(i64) -> f64) -> Host {
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

/// The absolute window `[after, before]`, every slot, averaged.
fn window(after: i64, before: i64) -> Request {
    Request { after, before, ..Request::default() }
}

fn query(host: &Host, req: &Request) -> Result<Rows, QueryError> {
    run(host, &Target::Chart("test.c".into()), req, NOW)
}

#[test]
fn a_window_over_max_read_is_refused_before_reading() {
    // Two points 4.1 M seconds apart: the stored range spans 4.1 M slots.
    let host = host_with(1, 4_200_000, &[T0, T0 + 4_100_000], |_| 1.0);
    let err = query(&host, &window(T0, T0 + 4_100_000)).unwrap_err();
    assert_eq!(
        err,
        QueryError::TooLarge(
            "the query would read 4100001 stored points (1 dimensions over 4100001 points of time); \
             at most 4000000 per query: shorten the window (after, before) or select fewer dimensions"
                .into()
        )
    );
    // A window inside the bound is answered, with a huge `points` taken as MAX_POINTS.
    let rows =
        query(&host, &Request { points: 999_999_999, ..window(T0 + 100_001, T0 + 4_100_000) }).unwrap();
    assert_eq!(rows.times.len(), MAX_POINTS);
    assert_eq!(rows.view_update_every, 40);
    assert_eq!(rows.values.last().unwrap()[0], Some(1.0));
    assert_eq!(rows.values[0][0], None);
}

#[test]
fn an_answer_over_max_values_is_refused_and_fewer_points_pass() {
    let host = host_with(300, 4000, &[T0, T0 + 3999], |_| 2.0);
    let all = window(T0, T0 + 3999);
    let err = query(&host, &all).unwrap_err();
    assert_eq!(
        err,
        QueryError::TooLarge(
            "the answer would hold 4000 points × 300 dimensions = 1200000 values; at most 500000: \
             ask for fewer points or dimensions"
                .into()
        )
    );
    let err = query(&host, &Request { points: 2000, ..all.clone() }).unwrap_err();
    assert!(err.message().contains("2000 points × 300 dimensions = 600000 values"), "{err:?}");
    let rows = query(&host, &Request { points: 1000, group: Group::Max, ..all.clone() }).unwrap();
    assert_eq!(rows.values.len(), 1000, "groups of 4 aligned slots");
    assert_eq!(rows.values[0].len(), 300);
    assert_eq!(rows.values[0][299], Some(2.0 + 299.0));
    // Selecting dimensions shrinks what is read and returned.
    let rows = query(&host, &Request { dimensions: Some(SimplePattern::parse("d7")), ..all }).unwrap();
    assert_eq!((rows.values.len(), rows.ids.as_slice()), (4000, &["d7".to_string()][..]));
    assert_eq!(rows.values[3999][0], Some(9.0));
}

#[test]
fn grouping_across_read_chunks_matches_a_direct_computation() {
    let n = 10_000; // more than two CHUNKs
    let times: Vec<i64> = (0..n).map(|i| T0 + i).collect();
    let value = |t: i64| (t % 97) as f64;
    let host = host_with(1, 20_000, &times, value);
    let all = window(T0, T0 + n - 1);
    let rows = query(&host, &all).unwrap();
    assert_eq!(rows.values.len(), n as usize);
    assert!(rows.values.iter().zip(&times).all(|(r, &t)| r[0] == Some(value(t))));
    assert_eq!(rows.db_points, n as usize);
    for (points, group) in [(10, "average"), (7, "max"), (3, "median"), (1, "sum")] {
        let g = Group::parse(group).unwrap();
        let rows = query(&host, &Request { points, group: g, ..all.clone() }).unwrap();
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
        let want: Vec<Option<f64>> = buckets[from..].iter_mut().map(|(_, v)| reduce(g, v, "")).collect();
        let got: Vec<Option<f64>> = rows.values.iter().map(|r| r[0]).collect();
        assert_eq!(got, want, "points={points} group={group}");
    }
}

/// Three dimensions `a`, `b` (hidden, named `bee`), `c` with fixed values over 10 slots.
fn three(values: [f64; 3]) -> (Host, Arc<Chart>) {
    let host = Host::new("g", "h", HostSettings { history: 100, ..HostSettings::default() });
    let chart = host.chart_define(ChartMeta::new("test", "c").update_every(1));
    chart.dimension(DimensionMeta::new("a"));
    chart.dimension(DimensionMeta::new("b").name("bee").hidden());
    chart.dimension(DimensionMeta::new("c"));
    for t in T0..T0 + 10 {
        for (d, v) in values.iter().enumerate() {
            chart.store_point(d, t, *v, false);
        }
    }
    (host, chart)
}

#[test]
fn the_window_is_relative_to_now_and_clamped_to_what_is_stored() {
    let (host, _) = three([1.0, 2.0, 3.0]);
    // The last 600 seconds before T0 + 5: slots T0..=T0+5 are stored in it.
    let rows = run(&host, &Target::Chart("test.c".into()), &Request::default(), T0 + 5).unwrap();
    assert_eq!((rows.after, rows.before), (T0, T0 + 5));
    assert_eq!(rows.times, (T0..=T0 + 5).collect::<Vec<_>>());
    assert_eq!((rows.first_entry, rows.last_entry), (T0, T0 + 9));
    assert_eq!(rows.ids, ["a", "c"], "the hidden dimension is not answered");
    // `after` relative to `before`.
    let rows = query(&host, &Request { after: -3, before: T0 + 9, ..Request::default() }).unwrap();
    assert_eq!(rows.times, [T0 + 7, T0 + 8, T0 + 9]);
    let err = run(&host, &Target::Chart("nope".into()), &Request::default(), NOW).unwrap_err();
    assert_eq!(err, QueryError::NotFound("chart 'nope' is not found".into()));
}

#[test]
fn value_options() {
    let (host, _) = three([10.0, -30.0, 60.0]);
    let last = |options: Options, dims: Option<&str>| {
        let req = Request { options, dimensions: dims.map(SimplePattern::parse), ..window(T0, T0 + 9) };
        let rows = query(&host, &req).unwrap();
        (rows.ids, rows.values.last().cloned().unwrap_or_default())
    };
    let opts = |words: &[&str]| {
        let mut o = Options::default();
        assert!(words.iter().all(|w| o.set(w)), "{words:?}");
        o
    };
    // Percentages of the signed total of every dimension, hidden ones included (10-30+60).
    let (_, v) = last(opts(&["percentage"]), None);
    assert_eq!(v, [Some(25.0), Some(150.0)]);
    // … of the total of magnitudes with `absolute`, answered as magnitudes.
    let (_, v) = last(opts(&["percentage", "absolute"]), None);
    assert_eq!(v, [Some(10.0), Some(60.0)]);
    let (ids, v) = last(opts(&["all-dimensions", "display_absolute"]), None);
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(v, [Some(10.0), Some(30.0), Some(60.0)]);
    // A pattern matches ids and names, or only one of them when asked.
    assert_eq!(last(Options::default(), Some("bee")).0, ["b"]);
    assert_eq!(last(opts(&["match-ids"]), Some("bee")).0, Vec::<String>::new());
    assert_eq!(last(opts(&["match_names"]), Some("b")).0, Vec::<String>::new());
    assert!(!Options::default().set("flip"), "presentation words are not the engine's");
}

#[test]
fn nonzero_null2zero_and_unaligned() {
    let (host, chart) = three([0.0, 0.0, 5.0]);
    let req = window(T0, T0 + 9);
    let rows =
        query(&host, &Request { options: Options { nonzero: true, ..Options::default() }, ..req.clone() });
    assert_eq!(rows.unwrap().ids, ["c"]);
    // An empty slot is null, or 0 with null2zero.
    let gap = Request { after: T0 + 21, before: T0 + 21, ..Request::default() };
    chart.store_point(2, T0 + 21, 1.0, false);
    let rows = query(&host, &Request { before: T0 + 21, ..gap.clone() }).unwrap();
    assert_eq!(rows.values, [[None, Some(1.0)]]);
    let options = Options { null2zero: true, ..Options::default() };
    let rows = query(&host, &Request { before: T0 + 21, options, ..gap }).unwrap();
    assert_eq!(rows.values, [[Some(0.0), Some(1.0)]]);
    // Buckets of 3 slots: aligned ones start on multiples of 3 (the first, partial one is
    // dropped), unaligned ones at the window's first slot.
    assert_eq!(T0 % 3, 2);
    let req = Request { points: 3, group: Group::Sum, dimensions: Some(SimplePattern::parse("c")), ..req };
    let three = window(T0, T0 + 8);
    let aligned = query(&host, &Request { after: three.after, before: three.before, ..req.clone() }).unwrap();
    assert_eq!(aligned.values, [[Some(15.0)], [Some(15.0)], [Some(10.0)]]);
    assert_eq!((aligned.after, aligned.view_update_every), (T0 + 1, 3));
    let options = Options { unaligned: true, ..Options::default() };
    let unaligned =
        query(&host, &Request { after: three.after, before: three.before, options, ..req }).unwrap();
    assert_eq!(unaligned.values, [[Some(15.0)], [Some(15.0)], [Some(15.0)]]);
    assert_eq!(unaligned.after, T0);
}

#[test]
fn a_context_sums_the_dimensions_of_the_same_name() {
    let host = Host::new("g", "h", HostSettings { history: 100, ..HostSettings::default() });
    for (id, v) in [("one", 1.0), ("two", 2.0)] {
        let chart = host.chart_define(ChartMeta::new("net", id).context("net.packets").update_every(1));
        chart.dimension(DimensionMeta::new("in"));
        for t in T0..T0 + 5 {
            chart.store_point(0, t, v, false);
        }
    }
    let rows = run(&host, &Target::Context("net.packets".into()), &window(T0, T0 + 4), NOW).unwrap();
    assert_eq!(rows.ids, ["in"]);
    assert_eq!(rows.values.last().unwrap(), &[Some(3.0)]);
    let err = run(&host, &Target::Context("nope".into()), &window(T0, T0 + 4), NOW).unwrap_err();
    assert_eq!(err.message(), "context 'nope' is not found");
}

#[test]
fn a_lookup_is_one_point_reduced_over_the_dimensions() {
    let (_, chart) = three([1.0, 2.0, 4.0]);
    // `lookup: average -5s at -0 of a c` evaluated at T0 + 9, and the same with min2max.
    let mut req = Request { after: -5, before: 0, points: 1, ..Request::default() };
    req.dimensions = Some(SimplePattern::parse("a c"));
    assert_eq!(lookup_value(&chart, &req, T0 + 9), Ok(Some(5.0)));
    req.options.min2max = true;
    assert_eq!(lookup_value(&chart, &req, T0 + 9), Ok(Some(3.0)));
    // Nothing stored in the window: no value. (A window relative to now would end at the
    // last stored point, T0 + 9: health gives its lookups absolute windows.)
    let absolute = Request { after: T0 + 995, before: T0 + 1000, ..req.clone() };
    assert_eq!(lookup_value(&chart, &absolute, T0 + 1000), Ok(None));
    assert_eq!(row_value(&[None, None], false), None);
    assert_eq!(row_value(&[Some(2.0), None, Some(-1.0)], false), Some(1.0));
    assert_eq!(row_value(&[Some(2.0), None, Some(-1.0)], true), Some(3.0));
}

#[test]
fn extreme_windows_do_not_overflow() {
    // Found by the `http` fuzz target: `before=-9223372036854775808` overflowed `abs()`.
    let host = host_with(2, 60, &[T0, T0 + 1, T0 + 2], |t| t as f64);
    for (after, before) in [
        (i64::MIN, i64::MIN),
        (i64::MAX, i64::MAX),
        (i64::MIN, i64::MAX),
        (i64::MAX, i64::MIN),
        (-10, i64::MIN),
        (10, i64::MAX),
        (0, i64::MIN + 1),
        (i64::MIN, 0),
    ] {
        let _ = query(&host, &window(after, before));
        let _ = query(&host, &Request { points: 5, ..window(after, before) });
    }
    // An ordinary window still answers.
    assert!(query(&host, &window(T0, T0 + 2)).is_ok());
}

#[test]
fn a_relative_window_ends_at_the_last_stored_point() {
    // Netdata 1.37.1 answered `after=-1` on system.load (every 5 s), at now = last + 5.5,
    // with the last point; an absolute window is only clamped.
    let host = Host::new("g", "h", HostSettings { history: 100, ..HostSettings::default() });
    let chart = host.chart_define(ChartMeta::new("test", "c").update_every(5));
    chart.dimension(DimensionMeta::new("a"));
    for k in 0..10 {
        chart.store_point(0, T0 + 5 * k, k as f64, false);
    }
    let last = T0 + 45;
    let at = |after: i64, before: i64, now: i64| {
        let rows = run(
            &host,
            &Target::Chart("test.c".into()),
            &Request { after, before, ..Request::default() },
            now,
        )
        .unwrap();
        (rows.times, rows.values.iter().map(|r| r[0]).collect::<Vec<_>>())
    };
    assert_eq!(at(-1, 0, last + 5), (vec![last], vec![Some(9.0)]));
    // Ten seconds back from the last point: its two slots.
    assert_eq!(at(-10, 0, last + 3), (vec![last - 5, last], vec![Some(8.0), Some(9.0)]));
    assert_eq!(
        at(-10, -5, last + 8),
        (vec![last - 5, last], vec![Some(8.0), Some(9.0)]),
        "before relative too"
    );
    // Absolute ends are not moved.
    assert_eq!(at(last + 1, last + 5, last + 5).0, Vec::<i64>::new());
    assert_eq!(at(-10, last + 5, last + 5).0, vec![last]);
}
