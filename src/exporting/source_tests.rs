//! The data sources over a real host: points stored by hand (exact values) and collected
//! through the chart API, averages and sums computed by hand from protocol.md §10's rules.

use super::*;
use crate::clock::USEC_PER_SEC;
use crate::rrd::{Algorithm, Chart, ChartMeta, DimensionMeta, Host, HostSettings};
use std::sync::Arc;

const T0: i64 = 1_700_000_000; // a multiple of 1, 5 and 10

fn host(mode: MemoryMode) -> Host {
    Host::new("g0", "h", HostSettings { mode, history: 300, ..HostSettings::default() })
}

fn chart(host: &Host, update_every: u32) -> Arc<Chart> {
    let c = host.chart_define(ChartMeta::new("test", "x").update_every(update_every));
    c.dimension(DimensionMeta::new("a"));
    c.dimension(DimensionMeta::new("b"));
    c
}

/// `(dimension id, value, timestamp)` of each emitted metric.
fn read(chart: &Chart, mode: MemoryMode, export: Export) -> Vec<(String, Value, i64)> {
    let mut out = Vec::new();
    let n = read_chart(chart, mode, &export, |m| {
        out.push((m.dimension.id.clone(), m.value, m.timestamp));
    });
    assert_eq!(n, out.len());
    out
}

fn avg(after: i64, before: i64) -> Export {
    Export { source: DataSource::Average, after, before }
}

#[test]
fn the_window_moves_back_two_steps_aligns_and_loses_one_step() {
    // 1 s: [T0+5, T0+15] → [T0+3, T0+13] → before − 1 = T0+12.
    assert_eq!(window(T0 + 5, T0 + 15, 1), (T0 + 3, T0 + 12));
    // 5 s: T0+7 − 10 = T0−3 → T0−5; T0+33 − 10 = T0+23 → T0+20 → T0+15.
    assert_eq!(window(T0 + 7, T0 + 33, 5), (T0 - 5, T0 + 15));
    // 10 s, one export 10 s after the previous one: T0−20 and T0−10, before − 10 = T0−20.
    assert_eq!(window(T0, T0 + 10, 10), (T0 - 20, T0 - 20));
    // Exports closer than a step: after (T0−20) > before (T0−30) follows before down.
    assert_eq!(window(T0 + 5, T0 + 6, 10), (T0 - 30, T0 - 30));
    // update every 0 is taken as 1.
    assert_eq!(window(T0, T0 + 4, 0), (T0 - 2, T0 + 1));
}

#[test]
fn data_source_spellings() {
    for s in ["raw", "as collected", "as-collected", "as_collected", "ascollected"] {
        assert_eq!(DataSource::parse(s), Some(DataSource::AsCollected), "{s}");
    }
    assert_eq!(DataSource::parse("average"), Some(DataSource::Average));
    assert_eq!(DataSource::parse("volume"), Some(DataSource::Sum));
    assert_eq!(DataSource::parse("sum"), Some(DataSource::Sum));
    assert_eq!(DataSource::parse("Average"), None);
    assert_eq!(DataSource::default(), DataSource::Average);
}

#[test]
fn average_and_sum_of_the_stored_window() {
    let h = host(MemoryMode::Ram);
    let c = chart(&h, 1);
    // a: k at T0+k for k = 0..=20; b: 0.5·k only on even seconds (gaps on odd ones).
    for k in 0..=20 {
        c.store_point(0, T0 + k, k as f64, false);
        c.store_point(1, T0 + k, if k % 2 == 0 { k as f64 / 2.0 } else { f64::NAN }, false);
    }
    // Window [T0+3, T0+12]: a = 3..=12 → Σ 75, 10 points; b = 2,3,4,5,6 (k = 4..=12 even) →
    // Σ 20, 5 points.
    let got = read(&c, MemoryMode::Ram, avg(T0 + 5, T0 + 15));
    assert_eq!(
        got,
        vec![("a".into(), Value::Stored(7.5), T0 + 12), ("b".into(), Value::Stored(4.0), T0 + 12)]
    );
    let sum = Export { source: DataSource::Sum, ..avg(T0 + 5, T0 + 15) };
    assert_eq!(
        read(&c, MemoryMode::Ram, sum),
        vec![("a".into(), Value::Stored(75.0), T0 + 12), ("b".into(), Value::Stored(20.0), T0 + 12)]
    );
}

#[test]
fn the_window_is_clamped_to_the_stored_range() {
    let h = host(MemoryMode::Ram);
    let c = chart(&h, 5);
    // Slots T0+5..=T0+40 every 5 s: a = 1..=8, b only from T0+30 on (6, 7, 8).
    for k in 1..=8 {
        c.store_point(0, T0 + 5 * k, k as f64, false);
        if k >= 6 {
            c.store_point(1, T0 + 5 * k, k as f64, false);
        }
    }
    // [T0+7, T0+33] → [T0−5, T0+15]; after clamps to a's first slot T0+5: a = 1, 2, 3.
    // b's first slot is T0+30 > T0+15: nothing of b is in the window, b is skipped.
    let got = read(&c, MemoryMode::Ram, avg(T0 + 7, T0 + 33));
    assert_eq!(got, vec![("a".into(), Value::Stored(2.0), T0 + 15)]);
    // Far in the future: [T0+100, T0+200] → [T0+90, T0+185]; after > a's last slot: skipped.
    assert!(read(&c, MemoryMode::Ram, avg(T0 + 100, T0 + 200)).is_empty());
    // Before past the end: [T0+30, T0+60] → [T0+20, T0+45] → before clamps to T0+40, which is
    // the timestamp: a = 4..=8 (avg 6), b = 6, 7, 8 (avg 7).
    let got = read(&c, MemoryMode::Ram, avg(T0 + 30, T0 + 60));
    assert_eq!(
        got,
        vec![("a".into(), Value::Stored(6.0), T0 + 40), ("b".into(), Value::Stored(7.0), T0 + 40)]
    );
}

#[test]
fn nothing_stored_means_nothing_exported() {
    let h = host(MemoryMode::Ram);
    let c = chart(&h, 1);
    assert!(read(&c, MemoryMode::Ram, avg(T0, T0 + 10)).is_empty());
    // Only gaps in the window.
    c.store_point(0, T0, 1.0, false);
    c.store_point(0, T0 + 20, 1.0, false);
    assert!(read(&c, MemoryMode::Ram, avg(T0 + 5, T0 + 15)).is_empty());
}

/// Collects `values[k]` for dimensions a and b at `T0 + k` seconds + `offset_us`.
fn collect(chart: &Chart, values: &[(i64, i64)], offset_us: u64) {
    for (k, (a, b)) in values.iter().enumerate() {
        let mut c = chart.begin((T0 as u64 + k as u64) * USEC_PER_SEC + offset_us, 0, false);
        c.set(0, *a);
        c.set(1, *b);
        c.end();
    }
}

#[test]
fn average_of_collected_values() {
    let h = host(MemoryMode::Ram);
    let c = chart(&h, 1);
    // Collected exactly on the second, an absolute value lands in its own slot unchanged
    // (protocol.md §5.5: the interpolation point is the collection itself).
    let values: Vec<(i64, i64)> = (0..20).map(|k| (10 * k, 1000 - k)).collect();
    collect(&c, &values, 0);
    for k in 1..20 {
        assert_eq!(c.query(0, T0 + k, T0 + k)[0].value, Some(10.0 * k as f64), "slot {k}");
    }
    // Export at T0+18 after one at T0+8: window [T0+6, T0+15]:
    // a = 60..=150 step 10 → Σ 1050, avg 105; b = 994..=985 → Σ 9895, avg 989.5.
    let got = read(&c, MemoryMode::Ram, avg(T0 + 8, T0 + 18));
    assert_eq!(
        got,
        vec![("a".into(), Value::Stored(105.0), T0 + 15), ("b".into(), Value::Stored(989.5), T0 + 15)]
    );
}

#[test]
fn as_collected_is_the_last_raw_integer_and_its_second() {
    for mode in [MemoryMode::Ram, MemoryMode::None] {
        let h = host(mode);
        let c = h.chart_define(ChartMeta::new("net", "eth0"));
        c.dimension(DimensionMeta::new("received").algorithm(Algorithm::Incremental).scale(8, 1000));
        c.dimension(DimensionMeta::new("sent").algorithm(Algorithm::Incremental).scale(-8, 1000));
        // Counters, collected at +0.4 s.
        collect(&c, &[(1_000, 50), (1_500, 80), (2_600, 9_000_000_000)], 400_000);
        let export = Export { source: DataSource::AsCollected, after: T0, before: T0 + 10 };
        assert_eq!(
            read(&c, mode, export),
            vec![
                ("received".into(), Value::Collected(2_600), T0 + 2),
                ("sent".into(), Value::Collected(9_000_000_000), T0 + 2)
            ],
            "{mode:?}"
        );
    }
}

#[test]
fn a_host_without_a_database_exports_only_as_collected() {
    let h = host(MemoryMode::None);
    let c = chart(&h, 1);
    collect(&c, &[(1, 2), (3, 4), (5, 6)], 0);
    assert!(read(&c, MemoryMode::None, avg(T0, T0 + 10)).is_empty());
    let sum = Export { source: DataSource::Sum, ..avg(T0, T0 + 10) };
    assert!(read(&c, MemoryMode::None, sum).is_empty());
    let raw = Export { source: DataSource::AsCollected, ..avg(T0, T0 + 10) };
    assert_eq!(read(&c, MemoryMode::None, raw).len(), 2);
}

#[test]
fn obsolete_charts_are_not_exported() {
    let h = host(MemoryMode::Ram);
    let mut meta = ChartMeta::new("test", "gone");
    meta.options.obsolete = true;
    let c = h.chart_define(meta);
    c.dimension(DimensionMeta::new("a"));
    c.store_point(0, T0, 1.0, false);
    let raw = Export { source: DataSource::AsCollected, ..avg(T0, T0 + 10) };
    assert!(read(&c, MemoryMode::Ram, raw).is_empty());
}

#[test]
fn a_dimension_never_collected_is_not_sent_as_collected() {
    let h = host(MemoryMode::None);
    let c = chart(&h, 1);
    let mut col = c.begin(T0 as u64 * USEC_PER_SEC, 0, false);
    col.set(1, 7);
    col.end();
    let raw = Export { source: DataSource::AsCollected, ..avg(T0, T0 + 10) };
    assert_eq!(read(&c, MemoryMode::None, raw), vec![("b".into(), Value::Collected(7), T0)]);
}
