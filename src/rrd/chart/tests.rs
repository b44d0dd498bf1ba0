use super::*;
use crate::rrd::{ChartOptions, MAX_FUTURE_SECS};

const S: u64 = USEC_PER_SEC;
const T0: u64 = 1_700_000_000; // an aligned second

fn chart(ue: u32) -> Chart {
    let meta = ChartMeta::new("test", "chart").update_every(ue);
    Chart::new(
        meta,
        StorageSettings {
            mode: MemoryMode::Ram,
            dir: None,
            entries: 100,
            plan: None,
            gap_when_lost_iterations_above: 1,
        },
        ObserverSlot::default(),
    )
}

/// Collects `values` (one per dimension) at `now_ut` with the measured duration.
fn collect(c: &Chart, now_ut: u64, values: &[i64]) {
    let mut col = c.begin(now_ut, 0, false);
    for (i, v) in values.iter().enumerate() {
        col.set(i, *v);
    }
    col.end();
}

fn stored(c: &Chart, dim: usize) -> Vec<(i64, Option<f64>)> {
    c.query(dim, 0, i64::MAX).into_iter().map(|p| (p.t, p.value)).collect()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-6 * b.abs().max(1.0))
}

#[test]
fn collections_without_durations_faster_than_the_step_do_not_push_the_clock_ahead() {
    // Regression: a source without durations collecting many times within a second
    // (a backlog applied at once) doubled the clock's lead with each collection, so the
    // chart ran 60 s ahead after a few dozen and was then refused.
    let c = chart(1);
    c.dimension(DimensionMeta::new("x"));
    let now = T0 * S + 200_000; // the first collection is aligned ahead, to T0+0.5
    for v in 0..1000 {
        collect(&c, now, &[v]);
    }
    assert_eq!(c.state.lock().last_collected_ut, T0 * S + S / 2);
    // Time moves on: the next second is stored with the last value collected.
    collect(&c, (T0 + 1) * S + 600_000, &[5000]);
    assert_eq!(c.last_entry_t(), Some(T0 as i64 + 1));
}

#[test]
fn absolute_regular_ticks_store_the_value_at_each_boundary() {
    let c = chart(1);
    let d = c.dimension(DimensionMeta::new("x").scale(10, 4));
    assert_eq!(d, 0);
    // First collection at T0+0.2: aligned to T0+0.5, nothing stored.
    collect(&c, T0 * S + 200_000, &[4]);
    assert!(stored(&c, 0).is_empty());
    // Next at T0+1.2 (measured 0.7 s after the virtual T0+0.5): boundary T0+1.
    // The dimension had only one collection before, so this slot is a gap.
    collect(&c, (T0 + 1) * S + 200_000, &[8]);
    collect(&c, (T0 + 2) * S + 200_000, &[12]);
    collect(&c, (T0 + 3) * S + 200_000, &[16]);
    let s = stored(&c, 0);
    assert_eq!(s.len(), 3);
    // The second collection already stores: the dimension has been collected twice.
    assert_eq!(s[0], ((T0 + 1) as i64, Some(20.0)));
    assert!(close(s[1].1, 30.0), "{s:?}"); // 12 × 10 / 4
    assert!(close(s[2].1, 40.0), "{s:?}");
    assert_eq!(s[2].0, (T0 + 3) as i64);
}

#[test]
fn incremental_is_a_per_second_rate_split_across_boundaries() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
    // Collections exactly on x.5 so the virtual clock and the real one agree.
    collect(&c, T0 * S + S / 2, &[1000]);
    collect(&c, (T0 + 1) * S + S / 2, &[1100]); // +100 in 1 s
    collect(&c, (T0 + 2) * S + S / 2, &[1300]); // +200
    collect(&c, (T0 + 3) * S + S / 2, &[1600]); // +300
    let s = stored(&c, 0);
    // Slot T0+1: second collection only; collections_counter is 2, so it is stored:
    // half of the first increment lands before the boundary (0.5 s of 1 s) → 50/s.
    assert!(close(s[0].1, 50.0), "{s:?}");
    // Slot T0+2: carry 50 + half of 200 = 150.
    assert!(close(s[1].1, 150.0), "{s:?}");
    // Slot T0+3: carry 100 + half of 300 = 250.
    assert!(close(s[2].1, 250.0), "{s:?}");
}

#[test]
fn incremental_with_update_every_5_divides_by_the_step() {
    let c = chart(5);
    c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
    // T0 is a multiple of 5 (1_700_000_000 % 5 == 0).
    collect(&c, T0 * S + S / 2, &[0]);
    collect(&c, (T0 + 5) * S + S / 2, &[500]);
    collect(&c, (T0 + 10) * S + S / 2, &[1000]);
    let s = stored(&c, 0);
    assert_eq!(s[0].0, (T0 + 5) as i64);
    // 500 over 5 s split at the boundary: 4.5 s of 5 before it → 450 / 5 = 90/s.
    assert!(close(s[0].1, 90.0), "{s:?}");
    // carry 50 + 450 = 500 / 5 = 100/s.
    assert!(close(s[1].1, 100.0), "{s:?}");
}

#[test]
fn late_tick_interpolates_absolute_values_linearly() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("x"));
    collect(&c, T0 * S + S / 2, &[10]);
    collect(&c, (T0 + 1) * S + S / 2, &[10]);
    // Next collection 2 s later: boundaries T0+2 (interpolated) and T0+3 (the value).
    collect(&c, (T0 + 3) * S + S / 2, &[30]);
    let s = stored(&c, 0);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(close(s[0].1, 10.0));
    // Between 10 at T0+1.5 and 30 at T0+3.5: at T0+2 → 10 + 20 × 0.5/2 = 15.
    assert!(close(s[1].1, 15.0), "{s:?}");
    assert!(close(s[2].1, 30.0), "{s:?}");
}

#[test]
fn missed_ticks_beyond_the_gap_limit_are_stored_as_gaps() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("x"));
    collect(&c, T0 * S + S / 2, &[10]);
    collect(&c, (T0 + 1) * S + S / 2, &[10]);
    // 5 s later: boundaries T0+2..T0+6; iterations count down 5,4,3,2,1 and only
    // iterations < 1 + 2 are stored.
    collect(&c, (T0 + 6) * S + S / 2, &[60]);
    let s = stored(&c, 0);
    let tail: Vec<_> = s[1..].to_vec();
    assert_eq!(tail.len(), 5, "{s:?}");
    assert_eq!(tail[0].1, None);
    assert_eq!(tail[1].1, None);
    assert_eq!(tail[2].1, None);
    // T0+5: 10 + 50 × (4.5 - 1)/... interpolated between last_collect (moved to T0+4) and now.
    assert!(tail[3].1.is_some());
    assert!(close(tail[4].1, 60.0), "{s:?}");
}

#[test]
fn counter_wrap_at_32_bits_counts_the_overflow() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
    let max32 = i64::from(u32::MAX);
    collect(&c, T0 * S + S / 2, &[max32 - 300]);
    collect(&c, (T0 + 1) * S + S / 2, &[max32 - 200]); // +100
    collect(&c, (T0 + 2) * S + S / 2, &[max32 - 100]); // +100
    collect(&c, (T0 + 3) * S + S / 2, &[99]); // wraps: cap - last + new = 100 + 99 = 199
    collect(&c, (T0 + 4) * S + S / 2, &[299]); // +200
    let p = c.query(0, 0, i64::MAX);
    // slots: T0+1 = 50, T0+2 = 50 + 50, T0+3 = carry 50 + half of 199, T0+4 = 99.5 + 100.
    assert!(close(p[1].value, 100.0), "{p:?}");
    assert!(close(p[2].value, 50.0 + 199.0 / 2.0), "{p:?}");
    assert!(p[2].reset, "the wrapped slot carries the reset flag");
    assert!(close(p[3].value, 199.0 / 2.0 + 100.0), "{p:?}");
    assert!(!p[3].reset);
}

#[test]
fn counter_wrap_at_64_bits_is_detected_from_the_largest_value_seen() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
    // Raw u64 counters travel as signed integers; |value| > 2^32 selects the 64-bit cap.
    let v0 = (u64::MAX - 5_000_000_000) as i64;
    collect(&c, T0 * S + S / 2, &[v0]);
    collect(&c, (T0 + 1) * S + S / 2, &[v0 + 1000]);
    collect(&c, (T0 + 2) * S + S / 2, &[999]); // wraps past u64::MAX: 4_999_999_000 + 999
    let p = c.query(0, 0, i64::MAX);
    assert!(close(p[0].value, 500.0), "{p:?}");
    assert!(close(p[1].value, 500.0 + 4_999_999_999.0 / 2.0), "{p:?}");
    assert!(p[1].reset);
}

#[test]
fn counter_reset_of_a_64_bit_counter_is_not_an_overflow() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
    collect(&c, T0 * S + S / 2, &[10_000_000_000]);
    collect(&c, (T0 + 1) * S + S / 2, &[10_000_000_100]);
    collect(&c, (T0 + 2) * S + S / 2, &[5]);
    let p = c.query(0, 0, i64::MAX);
    assert!(close(p[1].value, 50.0), "carry only, no huge delta: {p:?}");
    assert!(p[1].reset);
}

#[test]
fn counter_reset_gives_no_spike() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
    collect(&c, T0 * S + S / 2, &[1_000_000]);
    collect(&c, (T0 + 1) * S + S / 2, &[1_000_100]);
    collect(&c, (T0 + 2) * S + S / 2, &[1_000_200]);
    collect(&c, (T0 + 3) * S + S / 2, &[5]); // interface reset: far from the 32-bit cap
    collect(&c, (T0 + 4) * S + S / 2, &[105]);
    let p = c.query(0, 0, i64::MAX);
    // T0+3: carry 50 + 0; T0+4: 0 + 50. Every slot has a value, none is a spike.
    assert!(p[2].reset);
    let t = |k: u64| (T0 + k) as i64;
    assert_eq!(
        stored(&c, 0),
        [(t(1), Some(50.0)), (t(2), Some(100.0)), (t(3), Some(50.0)), (t(4), Some(50.0))]
    );
}

#[test]
fn noreset_dimensions_do_not_flag_wraps() {
    let c = chart(1);
    let mut m = DimensionMeta::new("c").algorithm(Algorithm::Incremental);
    m.options.noreset = true;
    c.dimension(m);
    collect(&c, T0 * S + S / 2, &[100]);
    collect(&c, (T0 + 1) * S + S / 2, &[200]);
    collect(&c, (T0 + 2) * S + S / 2, &[5]);
    assert!(c.query(0, 0, i64::MAX).iter().all(|p| !p.reset));
}

#[test]
fn percentage_of_absolute_row_ignores_multipliers() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("a").algorithm(Algorithm::PercentageOfAbsoluteRow).scale(7, 3));
    c.dimension(DimensionMeta::new("b").algorithm(Algorithm::PercentageOfAbsoluteRow));
    collect(&c, T0 * S + S / 2, &[1, 3]);
    collect(&c, (T0 + 1) * S + S / 2, &[1, 3]);
    collect(&c, (T0 + 2) * S + S / 2, &[0, 0]);
    let a = c.query(0, 0, i64::MAX);
    let b = c.query(1, 0, i64::MAX);
    assert!(close(a[0].value, 25.0) && close(b[0].value, 75.0), "{a:?} {b:?}");
    assert!(close(a[1].value, 0.0) && close(b[1].value, 0.0), "total 0 → 0");
}

#[test]
fn percentage_of_incremental_row_like_system_cpu() {
    let c = chart(1);
    for id in ["user", "system", "idle"] {
        c.dimension(DimensionMeta::new(id).algorithm(Algorithm::PercentageOfIncrementalRow));
    }
    collect(&c, T0 * S + S / 2, &[100, 50, 850]);
    collect(&c, (T0 + 1) * S + S / 2, &[120, 60, 920]); // +20 +10 +70 of 100
    collect(&c, (T0 + 2) * S + S / 2, &[170, 70, 960]); // +50 +10 +40
    let u = c.query(0, 0, i64::MAX);
    let s = c.query(1, 0, i64::MAX);
    let i = c.query(2, 0, i64::MAX);
    assert!(close(u[0].value, 20.0) && close(s[0].value, 10.0) && close(i[0].value, 70.0));
    assert!(close(u[1].value, 50.0) && close(s[1].value, 10.0) && close(i[1].value, 40.0));
    // No change at all: 0, not NaN.
    collect(&c, (T0 + 3) * S + S / 2, &[170, 70, 960]);
    assert!(close(c.query(0, 0, i64::MAX)[2].value, 0.0));
}

#[test]
fn negative_multiplier_draws_below_zero() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("sent").algorithm(Algorithm::Incremental).scale(-8, 1000));
    collect(&c, T0 * S + S / 2, &[0]);
    collect(&c, (T0 + 1) * S + S / 2, &[1000]);
    collect(&c, (T0 + 2) * S + S / 2, &[2000]);
    let p = c.query(0, 0, i64::MAX);
    assert!(close(p[1].value, -8.0), "{p:?}");
}

#[test]
fn dimensions_not_set_are_gaps() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("a"));
    c.dimension(DimensionMeta::new("b"));
    collect(&c, T0 * S + S / 2, &[1, 2]);
    collect(&c, (T0 + 1) * S + S / 2, &[1, 2]);
    let mut col = c.begin((T0 + 2) * S + S / 2, 0, false);
    col.set(0, 5);
    col.end();
    assert!(close(c.query(0, 0, i64::MAX)[1].value, 5.0));
    assert_eq!(c.query(1, 0, i64::MAX)[1].value, None);
}

#[test]
fn trusted_microseconds_drive_the_clock_like_a_parent() {
    // A parent receiving BEGIN with microseconds uses them as they are, whatever its
    // own clock says, so child and parent store the same slots.
    let child = chart(1);
    let parent = chart(1);
    for c in [&child, &parent] {
        c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
    }
    let raws = [0i64, 1000, 2100, 3000, 4400];
    let usecs = [0u64, 980_000, 1_030_000, 990_000, 1_000_000];
    let mut t = T0 * S + 300_000;
    for (i, (&raw, &usec)) in raws.iter().zip(&usecs).enumerate() {
        t += usec;
        let mut col = child.begin(t, 0, false);
        let sent = if i == 0 { 0 } else { col.usec_since_last_update() };
        col.set(0, raw);
        col.end();
        // The parent's clock is 200 ms late but it trusts the child's durations.
        let mut col = parent.begin(t - 200_000, sent, true);
        col.set(0, raw);
        col.end();
    }
    assert_eq!(child.query(0, 0, i64::MAX), parent.query(0, 0, i64::MAX));
}

#[test]
fn too_old_data_starts_over_without_a_spike() {
    let c = chart(1); // 100 entries
    c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
    collect(&c, T0 * S + S / 2, &[0]);
    collect(&c, (T0 + 1) * S + S / 2, &[100]);
    collect(&c, (T0 + 2) * S + S / 2, &[200]);
    // 1000 s of silence, far beyond 100 entries; the counter moved by 1e6 meanwhile.
    collect(&c, (T0 + 1002) * S + S / 2, &[1_000_200]);
    collect(&c, (T0 + 1003) * S + S / 2, &[1_000_300]);
    let p = c.query(0, (T0 + 900) as i64, i64::MAX);
    // The slots of the silence are gaps; the first collection after it only sets the base,
    // and the next one stores half of its 100 (the rest carries to T0+1004): no spike.
    let values: Vec<(i64, f64)> = p.iter().filter_map(|x| Some((x.t, x.value?))).collect();
    assert_eq!(values, [((T0 + 1003) as i64, 50.0)], "{p:?}");
    assert!(p.len() > 90, "the slots of the silence are there, as gaps: {p:?}");
    assert_eq!(c.last_entry_t(), Some((T0 + 1003) as i64));
}

#[test]
fn store_first_stores_the_first_collection() {
    let make = |store_first: bool| {
        let meta = ChartMeta {
            options: ChartOptions { store_first, ..Default::default() },
            ..ChartMeta::new("t", "c")
        };
        let settings = StorageSettings {
            mode: MemoryMode::Ram,
            dir: None,
            entries: 10,
            plan: None,
            gap_when_lost_iterations_above: 1,
        };
        let c = Chart::new(meta, settings, ObserverSlot::default());
        c.dimension(DimensionMeta::new("x"));
        collect(&c, T0 * S + 100_000, &[7]);
        collect(&c, (T0 + 1) * S + 100_000, &[8]);
        stored(&c, 0)
    };
    // As Netdata 1.37.1 stores a plugin's `store_first` chart: the first collection's value
    // at its own second, the next one a second later.
    assert_eq!(make(true), [(T0 as i64, Some(7.0)), ((T0 + 1) as i64, Some(8.0))]);
    // Without it the first collection only sets the base.
    assert_eq!(make(false), [((T0 + 1) as i64, Some(8.0))]);
}

#[test]
fn definition_changes_make_the_sender_send_the_definition_again() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("a"));
    let sent = |c: &Chart| c.with_view(|_, s| s.generation);
    let mark = |c: &Chart| c.with_view(|_, s| s.generation = 7);
    mark(&c);
    c.dimension(DimensionMeta::new("a"));
    assert_eq!(sent(&c), 7, "the same dimension again changes nothing");
    c.dimension(DimensionMeta::new("a").scale(8, 1));
    assert_eq!(sent(&c), 0, "a changed multiplier");
    mark(&c);
    c.dimension(DimensionMeta::new("b"));
    assert_eq!(sent(&c), 0, "a new dimension");
    mark(&c);
    c.redefine(c.meta());
    assert_eq!(sent(&c), 7, "an unchanged CHART line");
    c.redefine(c.meta().title("new title"));
    assert_eq!(sent(&c), 0, "a new title");
}

#[test]
fn redefinition_resyncs_the_clock_and_new_step_restarts_storage() {
    let c = chart(1);
    c.dimension(DimensionMeta::new("x"));
    collect(&c, T0 * S + S / 2, &[1]);
    collect(&c, (T0 + 1) * S + S / 2, &[1]);
    collect(&c, (T0 + 2) * S + S / 2, &[1]);
    assert!(!c.redefine(c.meta()), "same definition: nothing changed");
    let m = c.meta().update_every(5);
    assert!(c.redefine(m));
    assert_eq!(c.last_entry_t(), None, "new step, new storage");
}
fn chart_with(ue: u32, entries: u32) -> Chart {
    let meta = ChartMeta::new("test", "chart").update_every(ue);
    Chart::new(
        meta,
        StorageSettings {
            mode: MemoryMode::Ram,
            dir: None,
            entries,
            plan: None,
            gap_when_lost_iterations_above: 1,
        },
        ObserverSlot::default(),
    )
}

/// A trusted collection (a child's `BEGIN` with microseconds).
fn trusted(c: &Chart, now_ut: u64, usec: u64, values: &[i64]) -> Result<(), ClockLeap> {
    let mut col = c.try_begin(now_ut, usec, true)?;
    for (i, v) in values.iter().enumerate() {
        col.set(i, *v);
    }
    col.end();
    Ok(())
}

#[test]
fn a_leap_past_the_local_clock_is_refused_and_changes_nothing() {
    for trust in [true, false] {
        let attacked = chart_with(1, 3600);
        let twin = chart_with(1, 3600);
        for c in [&attacked, &twin] {
            c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
            c.dimension(DimensionMeta::new("a"));
        }
        let mut now = T0 * S + S / 2;
        for k in 0..5 {
            for c in [&attacked, &twin] {
                let usec = if k == 0 { 0 } else { S };
                let mut col = c.begin(now, usec, trust);
                col.set(0, 100 * k);
                col.set(1, k);
                col.end();
            }
            if k == 2 {
                // `BEGIN chart 3599000000`: an hour ahead in one line.
                let err = attacked.try_begin(now, 3_599 * S, trust).err();
                assert_eq!(err, Some(ClockLeap { ahead_ut: 3_599 * S }), "trust {trust}");
                // Just past the tolerance: refused.
                assert!(attacked.try_begin(now, (MAX_FUTURE_SECS + 1) * S, trust).is_err());
                // A refused collection's values are not kept for the next one.
                let mut col = attacked.begin(now, u64::MAX, trust);
                col.set(0, 1 << 40);
                col.end();
            }
            now += S;
        }
        assert_eq!(attacked.query(0, 0, i64::MAX), twin.query(0, 0, i64::MAX), "trust {trust}");
        assert_eq!(attacked.query(1, 0, i64::MAX), twin.query(1, 0, i64::MAX), "trust {trust}");
        assert_eq!(attacked.last_entry_t(), Some((T0 + 4) as i64));
    }
    // A child's duration within the tolerance is taken as it is (its clock runs a little
    // ahead of ours).
    let c = chart_with(1, 3600);
    c.dimension(DimensionMeta::new("a"));
    let now = T0 * S + S / 2;
    trusted(&c, now, 0, &[1]).unwrap();
    trusted(&c, now + S, S, &[2]).unwrap();
    trusted(&c, now + 2 * S, (MAX_FUTURE_SECS - 1) * S, &[3]).unwrap();
    assert_eq!(c.last_entry_t(), Some((T0 + MAX_FUTURE_SECS) as i64));
}

#[test]
fn a_clock_ahead_because_ours_went_back_resynchronises() {
    let c = chart_with(1, 100);
    c.dimension(DimensionMeta::new("a"));
    let mut now = T0 * S + S / 2;
    for k in 0..5 {
        trusted(&c, now, if k == 0 { 0 } else { S }, &[k]).unwrap();
        now += S;
    }
    // Our clock steps back 10 minutes: the chart's clock is now far "ahead" through no
    // fault of the child; its next collection is taken (placed by our clock), not refused.
    let back = now - 600 * S;
    assert!(trusted(&c, back, S, &[7]).is_ok());
    assert!(trusted(&c, back + S, S, &[8]).is_ok());
    // A plugin-style collection measured here neither leaps nor is refused.
    let mut col = c.begin(back + 2 * S, 0, false);
    col.set(0, 9);
    col.end();
}

#[test]
fn restored_clocks_ahead_of_ours_are_refused() {
    let c = chart_with(1, 100);
    c.dimension(DimensionMeta::new("a"));
    let now = T0 * S;
    assert!(c.restore_clock(now + 3_600 * S, now + 3_600 * S, now).is_err());
    assert!(c.restore_dimension(0, now + 3_600 * S, 5, 1.0, 1.0, now).is_err());
    let (collected, stored) = c.last_values()[0];
    assert!(collected == 0 && stored.is_nan(), "RDSTATE refused: nothing taken");
    // Refused: the chart still starts at our clock.
    trusted(&c, now + S / 2, 0, &[1]).unwrap();
    trusted(&c, now + S + S / 2, S, &[2]).unwrap();
    trusted(&c, now + 2 * S + S / 2, S, &[3]).unwrap();
    assert_eq!(c.last_entry_t(), Some((T0 + 2) as i64));
    // Within the tolerance they are taken.
    let d = chart_with(1, 100);
    d.dimension(DimensionMeta::new("a"));
    assert!(d.restore_clock(now + 30 * S + S / 2, now + 30 * S, now).is_ok());
    assert!(d.restore_dimension(0, now + 30 * S + S / 2, 5, 1.0, 1.0, now).is_ok());
    trusted(&d, now + S, S, &[6]).unwrap();
    assert_eq!(d.last_entry_t(), Some((T0 + 31) as i64));
}

#[test]
fn a_long_gap_is_interpolated_in_one_step_with_the_same_numbers() {
    // 1000 dimensions, a 3000 s outage inside a 3600-slot retention.
    let c = chart_with(1, 3600);
    let dims = 1000;
    for i in 0..dims {
        c.dimension(DimensionMeta::new(&format!("c{i}")).algorithm(Algorithm::Incremental));
    }
    let values = |k: i64| (0..dims).map(|i| k * 100 + i as i64).collect::<Vec<_>>();
    let mut now = T0 * S + S / 2;
    for k in 0..3 {
        collect(&c, now, &values(k));
        now += S;
    }
    // Counters grow 100/s throughout; the next collection comes 3000 s later.
    let (calls_before, _) = c.store_work();
    let gap = 3000;
    collect(&c, now + (gap - 1) * S, &values(2 + gap as i64));
    let (calls_after, _) = c.store_work();
    // Two stored slots and one merged run of empty ones per dimension, not 3000.
    assert!(calls_after - calls_before <= dims as u64 * 6, "{} store calls", calls_after - calls_before);
    let p = c.query(7, 0, i64::MAX);
    let last = p.len() - 1;
    assert_eq!(p[last].t, (T0 + 2 + gap) as i64);
    // The lost iterations are gaps; the two newest slots (iterations 2 and 1, below
    // the limit of 3) carry the rate: 100/s, as the per-iteration arithmetic gives.
    assert!(p[last - 2000..last - 1].iter().all(|x| x.value.is_none()), "{:?}", &p[last - 3..]);
    assert!(close(p[last - 1].value, 100.0), "{:?}", &p[last - 3..]);
    assert!(close(p[last].value, 100.0), "{:?}", &p[last - 3..]);
    // And the collection after continues as usual.
    collect(&c, now + gap * S, &values(3 + gap as i64));
    assert!(close(c.query(7, 0, i64::MAX).last().and_then(|x| x.value), 100.0));
}

#[test]
fn merged_and_step_by_step_lost_iterations_agree() {
    // Just below the merge threshold the loop runs; just above, the merged step: the
    // stored numbers agree (to rounding) for a counter that does not grow evenly.
    for gap in [MERGE_LOST_ITERATIONS_ABOVE + 2, MERGE_LOST_ITERATIONS_ABOVE + 3, 50] {
        let c = chart_with(1, 600);
        c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
        c.dimension(DimensionMeta::new("a"));
        let mut now = T0 * S + 300_000;
        collect(&c, now, &[0, 5]);
        now += S;
        collect(&c, now, &[1_000, 7]);
        now += gap * S + 123_456;
        collect(&c, now, &[1_000 + 37_000, 11]);
        now += S;
        collect(&c, now, &[1_000 + 37_000 + 500, 13]);
        let p = c.query(0, 0, i64::MAX);
        let stored: Vec<_> = p.iter().filter_map(|x| x.value).collect();
        // Exact expectations from the per-iteration formulas: the increment 37 000 over
        // `gap + 0.123456` s; after the empty boundaries what remains of it is split
        // across the last two boundaries before the collection.
        let span = (gap * S + 123_456) as f64;
        let last_collect = (T0 * S + 300_000 + S) as f64;
        let now_collect = last_collect + span;
        let b2 = ((now_collect as u64) / S * S) as f64; // newest boundary
        let b1 = b2 - S as f64;
        let b0 = b1 - S as f64; // last empty boundary
        let remaining = 37_000.0 * (now_collect - b0) / span;
        let v1 = remaining * S as f64 / (now_collect - b0);
        let rem2 = remaining - v1;
        let v2 = rem2 * S as f64 / (now_collect - b1);
        let n = stored.len();
        assert!(close(Some(stored[n - 3]), v1), "gap {gap}: {stored:?} want {v1}");
        assert!(close(Some(stored[n - 2]), v2), "gap {gap}: {stored:?} want {v2}");
        let carry = rem2 - v2;
        let want = carry + 500.0 * (b2 + S as f64 - now_collect) / S as f64;
        assert!(close(Some(stored[n - 1]), want), "gap {gap}: {stored:?} want {want}");
        // Between the collections only empty slots.
        assert_eq!(p.iter().rev().skip(3).take(gap as usize - 2).filter(|x| x.value.is_some()).count(), 0);
    }
}
#[test]
fn absurd_update_every_from_a_peer_does_not_overflow() {
    for ue in [u32::MAX, u32::MAX / 2, 86_400 * 365] {
        let c = chart_with(ue, 1 << 20);
        c.dimension(DimensionMeta::new("c").algorithm(Algorithm::Incremental));
        let mut now = T0 * S;
        for k in 0..4 {
            collect(&c, now, &[k]);
            assert!(trusted(&c, now, u64::MAX, &[k]).is_err());
            now += S;
        }
    }
}
#[test]
fn a_resync_after_a_redefinition_is_never_refused() {
    // A child whose clock is 40 s ahead (its RSSTATE was within the tolerance)
    // reconnects without replication: the CHART line resynchronises the chart, and that
    // first collection is measured here, not taken from the child, so it is not refused.
    let c = chart_with(1, 100);
    c.dimension(DimensionMeta::new("a"));
    let now = T0 * S;
    c.restore_clock(now + 40 * S + S / 2, now + 40 * S, now).unwrap();
    trusted(&c, now + S / 2, S, &[1]).unwrap();
    assert!(c.redefine(c.meta().title("again")));
    assert!(trusted(&c, now + S, S, &[2]).is_ok());
    assert!(trusted(&c, now + 2 * S, S, &[3]).is_ok());
}
#[test]
fn restored_clocks_do_not_move_back_nor_reopen_the_past() {
    let c = chart_with(1, 3600);
    c.dimension(DimensionMeta::new("a"));
    let mut now = T0 * S + S / 2;
    for k in 0..5 {
        trusted(&c, now, if k == 0 { 0 } else { S }, &[k]).unwrap();
        now += S;
    }
    // An RSSTATE an hour back, then a BEGIN covering that hour: without the refusal
    // every pair would re-interpolate (and wipe) an hour of stored slots.
    let back = now - 3_500 * S;
    assert!(matches!(c.restore_clock(back, back, now), Err(ClockRefused::Backwards { .. })));
    assert!(trusted(&c, now, 3_500 * S, &[9]).is_err(), "from the chart's own clock: a leap");
    // Forward, but claiming the last stored slot was an hour ago: taken as one step (an
    // hour would have made the interpolation's part of a step negative).
    let (_, writes) = c.store_work();
    c.restore_clock(now, now - 3_500 * S, now).unwrap();
    trusted(&c, now + S, S, &[10]).unwrap();
    let (_, after) = c.store_work();
    assert!(after - writes <= 4, "{} slot writes", after - writes);
    assert_eq!(c.query(0, (T0 + 1) as i64, (T0 + 4) as i64).iter().filter(|p| p.value.is_some()).count(), 4);
}
