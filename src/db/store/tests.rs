//! Tier 0's behaviour: the ring, the memory modes, the file and its damage.

use super::*;
use crate::db::file::{
    self, dimension_path, file_len_for, Header, FIRST_T_AT, HEADER_LEN, LAST_T_AT, NO_TIME,
};
use crate::db::scratch::TempDir;
use crate::db::Damage;
use std::fs;
use std::path::PathBuf;

const NOW: i64 = 1_700_000_000;

fn spec(mode: MemoryMode, dir: Option<&Path>, entries: u32) -> StoreSpec<'_> {
    StoreSpec { mode, dir, chart_id: "system.cpu", dim_id: "user", update_every: 2, entries, tiers: &[] }
}

fn n(v: f64) -> StorageNumber {
    StorageNumber::pack(v, false)
}

fn values(s: &DimensionStore, after: i64, before: i64) -> Vec<(i64, Option<f64>)> {
    let mut out = Vec::new();
    s.query(after, before, &mut out);
    out.into_iter().map(|(t, v)| (t, v.value())).collect()
}

fn path(d: &TempDir) -> PathBuf {
    dimension_path(&d.0, "system.cpu", "user")
}

/// `sum_count` against the reduction of `query`, over every window of a ring that
/// wrapped, has gaps, and jumped past its whole length (stale slots).
#[test]
fn sum_count_is_the_reduction_of_query() {
    let reduce = |s: &DimensionStore, a: i64, b: i64| {
        let mut out = Vec::new();
        s.query(a, b, &mut out);
        let vals: Vec<f64> = out.iter().filter_map(|(_, v)| v.value()).collect();
        (vals.iter().sum::<f64>(), vals.len())
    };
    let check = |s: &DimensionStore, what: &str| {
        let (lo, hi) = (NOW - 10, NOW + 200);
        for a in lo..hi {
            for b in (a - 3)..(a + 50).min(hi) {
                let (want_sum, want_n) = reduce(s, a, b);
                let (sum, n) = s.sum_count(a, b);
                assert_eq!(n, want_n, "{what}: [{a}, {b}]");
                assert!((sum - want_sum).abs() < 1e-9, "{what}: [{a}, {b}] {sum} vs {want_sum}");
            }
        }
    };
    // Every step (1 s has its own path), in memory and mapped.
    for (ue, mode) in [(2, MemoryMode::Ram), (1, MemoryMode::Ram), (1, MemoryMode::Map), (3, MemoryMode::Map)]
    {
        let d = TempDir::new("db");
        let sp = StoreSpec { update_every: ue as u32, ..spec(mode, Some(&d.0), 10) };
        let mut s = DimensionStore::open_at(&sp, NOW);
        assert_eq!(s.sum_count(0, i64::MAX), (0.0, 0), "empty");
        for k in 0..25 {
            if k % 7 != 3 {
                s.store(NOW + ue * k, n(k as f64 + 0.5));
            }
        }
        check(&s, &format!("every {ue} s, {mode:?}: wrapped with gaps"));
        // A jump past the whole ring: the old slots are stale until written again.
        s.store(NOW + ue * 24 + ue * 15, n(100.0));
        check(&s, &format!("every {ue} s, {mode:?}: after a jump"));
        s.store(NOW + ue * 24 + ue * 13, n(7.0));
        check(&s, &format!("every {ue} s, {mode:?}: written back into the stale part"));
    }
}

#[test]
fn none_mode_keeps_nothing() {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::None, None, 10), NOW);
    s.store(NOW, n(1.0));
    assert_eq!(s.get(NOW), StorageNumber::EMPTY);
    assert_eq!((s.first_t(), s.last_t()), (None, None));
    assert!(values(&s, 0, i64::MAX).is_empty());
    assert_eq!(s.mode(), MemoryMode::None);
}

#[test]
fn a_ram_ring_is_allocated_at_its_first_store() {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 3600), NOW);
    let bare = std::mem::size_of::<DimensionStore>();
    assert_eq!(s.memory_bytes(), bare, "defined, never written: no ring");
    assert_eq!(s.get(NOW), StorageNumber::EMPTY);
    assert!(values(&s, 0, i64::MAX).is_empty());
    s.store_gap(NOW - 10, NOW - 5);
    s.store(NOW, n(3.0));
    assert_eq!(s.memory_bytes(), bare + 3600 * 4);
    assert_eq!(s.get(NOW).value(), Some(3.0));
    assert_eq!(values(&s, NOW - 2, NOW), vec![(NOW - 2, None), (NOW, Some(3.0))], "every 2 s");
    assert_eq!(s.save().ok(), Some(()), "nothing to save in ram");
}

#[test]
fn wrap_around_keeps_the_last_entries() {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 10), NOW);
    for k in 0..20 {
        s.store(NOW + 2 * k, n(k as f64));
    }
    let got = values(&s, 0, i64::MAX);
    let want: Vec<_> = (10..20).map(|k| (NOW + 2 * k, Some(k as f64))).collect();
    assert_eq!(got, want);
    assert_eq!(s.first_t(), Some(NOW + 20));
    assert_eq!(s.last_t(), Some(NOW + 38));
}

#[test]
fn unaligned_times_align_down() {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 10), NOW);
    s.store(NOW + 3, n(7.0));
    assert_eq!(s.last_t(), Some(NOW + 2));
    assert_eq!(s.get(NOW + 3).value(), Some(7.0));
}

#[test]
fn gaps_are_empty() {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 10), NOW);
    for k in 0..10 {
        s.store(NOW + 2 * k, n(1.0));
    }
    s.store(NOW + 18 + 10, n(2.0));
    let got = values(&s, NOW + 18, NOW + 28);
    assert_eq!(
        got,
        vec![
            (NOW + 18, Some(1.0)),
            (NOW + 20, None),
            (NOW + 22, None),
            (NOW + 24, None),
            (NOW + 26, None),
            (NOW + 28, Some(2.0)),
        ]
    );
    // A jump longer than the ring empties everything.
    s.store(NOW + 1000, n(3.0));
    let got = values(&s, 0, i64::MAX);
    assert_eq!(got.len(), 10);
    assert!(got[..9].iter().all(|(_, v)| v.is_none()));
    assert_eq!(got[9], (NOW + 1000, Some(3.0)));
}

#[test]
fn a_jump_past_the_window_empties_the_ring_in_constant_work() {
    for mode in [MemoryMode::Ram, MemoryMode::Map] {
        let d = TempDir::new("db");
        let entries = 100_000;
        let sp = spec(mode, Some(&d.0), entries);
        let mut s = DimensionStore::open_at(&sp, NOW);
        for k in 0..entries as i64 {
            s.store(NOW + 2 * k, n(1.0));
        }
        let full = s.slot_writes();
        // A leap of a year: one slot written, not 100 000.
        let far = NOW + 365 * 86_400;
        s.store(far, n(2.0));
        assert_eq!(s.slot_writes() - full, 1, "{mode:?}");
        assert_eq!(s.last_t(), Some(far));
        let got = values(&s, 0, i64::MAX);
        assert_eq!(got.len(), entries as usize, "the window is the usual one");
        assert!(got[..got.len() - 1].iter().all(|(_, v)| v.is_none()), "stale slots show: {mode:?}");
        assert_eq!(got[got.len() - 1], (far, Some(2.0)));
        for t in [far - 2, far - 2 * (entries as i64 - 1), far - 1000] {
            assert_eq!(s.get(t), StorageNumber::EMPTY, "{t}");
        }
        // Leaping again and again costs one slot each time.
        let before = s.slot_writes();
        for k in 1..=1000 {
            s.store(far + k * 2 * entries as i64, n(3.0));
        }
        assert_eq!(s.slot_writes() - before, 1000);
        // Gaps shorter than the window are zeroed, no more.
        let last = s.last_t().unwrap();
        let before = s.slot_writes();
        s.store(last + 2 * 500, n(4.0));
        assert_eq!(s.slot_writes() - before, 500, "499 zeroed + 1 written");
        // After a restart, nothing from before the jump comes back either.
        drop(s);
        if mode == MemoryMode::Map {
            let s = DimensionStore::open_at(&sp, last + 2 * 500);
            assert_eq!(s.outcome(), OpenOutcome::Loaded);
            let got = values(&s, 0, i64::MAX);
            assert_eq!(got.len(), 501, "the header's first time is the jump");
            assert_eq!(got[0], (last, Some(3.0)));
            assert!(got[1..500].iter().all(|(_, v)| v.is_none()));
            assert_eq!(got[500], (last + 1000, Some(4.0)));
        }
    }
}

#[test]
fn an_older_point_after_a_jump_does_not_expose_stale_slots() {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 10), NOW);
    for k in 0..10 {
        s.store(NOW + 2 * k, n(k as f64 + 1.0));
    }
    let far = NOW + 10_000;
    s.store(far, n(50.0));
    // Replication fills a point near the start of the new window: the slots between it
    // and the jump held old values, they must read as empty.
    let old = far - 2 * 8;
    let before = s.slot_writes();
    s.store(old, n(60.0));
    assert!(s.slot_writes() - before <= 10, "one fill of the stale part, at most the ring");
    let got = values(&s, far - 18, far);
    let want: Vec<_> = (0..10)
        .map(|k| {
            let t = far - 18 + 2 * k;
            (
                t,
                if t == old {
                    Some(60.0)
                } else if t == far {
                    Some(50.0)
                } else {
                    None
                },
            )
        })
        .collect();
    assert_eq!(got, want);
    // The stale part is gone for good: more old points cost one slot each.
    let before = s.slot_writes();
    s.store(far - 18, n(70.0));
    s.store(far - 4, n(80.0));
    assert_eq!(s.slot_writes() - before, 2);
    assert_eq!(s.get(far - 18).value(), Some(70.0));
    assert_eq!(s.get(far - 6), StorageNumber::EMPTY);
    assert_eq!(s.first_t(), Some(far - 18));
}

#[test]
fn store_gap_is_storing_empty_at_every_step() {
    // A small deterministic generator: the same sequences on both stores.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |m: i64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % m as u64) as i64
    };
    for round in 0..300 {
        let mut a = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 16), NOW);
        let mut b = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 16), NOW);
        let mut t = NOW;
        for step in 0..40 {
            t += 2 * (next(40) - 8);
            if next(2) == 0 {
                let v = n((round * 100 + step) as f64);
                a.store(t, v);
                b.store(t, v);
            } else {
                let from = t - next(60);
                a.store_gap(from, t);
                let mut u = from;
                while u <= t {
                    if u % 2 == 0 {
                        b.store(u, StorageNumber::EMPTY);
                    }
                    u += 1;
                }
            }
            assert_eq!((a.first_t(), a.last_t()), (b.first_t(), b.last_t()), "round {round} step {step}");
            assert_eq!(values(&a, 0, i64::MAX), values(&b, 0, i64::MAX), "round {round} step {step}");
        }
    }
    // Work is bounded by the ring, not by the range.
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 16), NOW);
    s.store(NOW, n(1.0));
    s.store_gap(NOW + 2, NOW + 2_000_000_000);
    assert!(s.slot_writes() <= 3 + 3 * 16, "{}", s.slot_writes());
    assert_eq!(s.last_t(), Some(NOW + 2_000_000_000));
    assert!(values(&s, 0, i64::MAX).iter().all(|(_, v)| v.is_none()));
}

#[test]
fn overwrite_within_window_and_ignore_older() {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 10), NOW);
    s.store(NOW + 20, n(1.0));
    assert_eq!(s.first_t(), Some(NOW + 20));
    // Replication fills an older point inside the window.
    s.store(NOW + 4, n(5.0));
    assert_eq!(s.first_t(), Some(NOW + 4));
    assert_eq!(s.get(NOW + 4).value(), Some(5.0));
    assert_eq!(s.get(NOW + 6), StorageNumber::EMPTY);
    s.store(NOW + 20, n(9.0));
    assert_eq!(s.get(NOW + 20).value(), Some(9.0));
    assert_eq!(s.last_t(), Some(NOW + 20));
    // Older than the window (NOW+2 .. NOW+20): ignored, nothing clobbered.
    s.store(NOW, n(6.0));
    assert_eq!(s.get(NOW), StorageNumber::EMPTY);
    assert_eq!(s.get(NOW + 20).value(), Some(9.0));
    assert_eq!(s.first_t(), Some(NOW + 4));
}

#[test]
fn query_bounds_are_clamped() {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 10), NOW);
    for k in 0..5 {
        s.store(NOW + 2 * k, n(k as f64));
    }
    assert_eq!(values(&s, i64::MIN, i64::MAX).len(), 5);
    assert_eq!(values(&s, NOW + 3, NOW + 5), vec![(NOW + 4, Some(2.0))]);
    assert_eq!(values(&s, NOW + 9, NOW + 100), vec![]);
    assert_eq!(values(&s, NOW + 6, NOW + 2), vec![]);
    assert_eq!(values(&s, 0, NOW), vec![(NOW, Some(0.0))]);
    assert_eq!(s.get(NOW - 2), StorageNumber::EMPTY);
    assert_eq!(s.get(NOW + 10), StorageNumber::EMPTY);
    // Appends, does not replace.
    let mut out = vec![(1, StorageNumber::EMPTY)];
    s.query(NOW, NOW, &mut out);
    assert_eq!(out.len(), 2);
}

#[test]
fn save_mode_round_trip() {
    let d = TempDir::new("db");
    let sp = spec(MemoryMode::Save, Some(&d.0), 10);
    let mut s = DimensionStore::open_at(&sp, NOW);
    assert_eq!(s.outcome(), OpenOutcome::Created);
    for k in 0..15 {
        s.store(NOW + 2 * k, StorageNumber::pack(k as f64 * 1.5, k == 3));
    }
    // Nothing is written before save().
    assert!(!path(&d).exists());
    s.save().unwrap();
    let before = values(&s, 0, i64::MAX);
    drop(s);
    assert_eq!(fs::metadata(path(&d)).unwrap().len(), file_len_for(10));
    let s = DimensionStore::open_at(&sp, NOW);
    assert_eq!(s.outcome(), OpenOutcome::Loaded);
    assert_eq!(s.mode(), MemoryMode::Save);
    assert_eq!(values(&s, 0, i64::MAX), before);
    assert_eq!((s.first_t(), s.last_t()), (Some(NOW + 10), Some(NOW + 28)));
}

#[test]
fn save_mode_does_not_save_on_drop() {
    let d = TempDir::new("db");
    let sp = spec(MemoryMode::Save, Some(&d.0), 10);
    let mut s = DimensionStore::open_at(&sp, NOW);
    s.store(NOW, n(1.0));
    drop(s);
    assert!(!path(&d).exists());
}

#[test]
fn map_mode_persists_without_save() {
    let d = TempDir::new("db");
    let sp = spec(MemoryMode::Map, Some(&d.0), 10);
    let mut s = DimensionStore::open_at(&sp, NOW);
    assert_eq!(s.outcome(), OpenOutcome::Created);
    for k in 0..12 {
        s.store(NOW + 2 * k, n(k as f64));
    }
    let before = values(&s, 0, i64::MAX);
    drop(s);
    let s = DimensionStore::open_at(&sp, NOW);
    assert_eq!(s.outcome(), OpenOutcome::Loaded);
    assert_eq!(s.mode(), MemoryMode::Map);
    assert_eq!(values(&s, 0, i64::MAX), before);
    assert_eq!((s.first_t(), s.last_t()), (Some(NOW + 4), Some(NOW + 22)));
}

#[test]
fn map_mode_survives_a_crash() {
    let d = TempDir::new("db");
    let sp = spec(MemoryMode::Map, Some(&d.0), 10);
    let mut s = DimensionStore::open_at(&sp, NOW);
    s.store(NOW, n(1.0));
    s.store(NOW + 2, n(2.0));
    // "kill -9": no save, no drop; a second mapping sees the page cache.
    std::mem::forget(s);
    let s2 = DimensionStore::open_at(&sp, NOW);
    assert_eq!(s2.outcome(), OpenOutcome::Loaded);
    assert_eq!(values(&s2, 0, i64::MAX), vec![(NOW, Some(1.0)), (NOW + 2, Some(2.0))]);
}

#[test]
fn save_and_map_share_the_file() {
    let d = TempDir::new("db");
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Map, Some(&d.0), 10), NOW);
    s.store(NOW, n(4.5));
    s.save().unwrap();
    drop(s);
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Save, Some(&d.0), 10), NOW);
    assert_eq!(s.outcome(), OpenOutcome::Loaded);
    assert_eq!(s.get(NOW).value(), Some(4.5));
    s.store(NOW + 2, n(5.5));
    s.save().unwrap();
    drop(s);
    let s = DimensionStore::open_at(&spec(MemoryMode::Map, Some(&d.0), 10), NOW);
    assert_eq!(values(&s, 0, i64::MAX), vec![(NOW, Some(4.5)), (NOW + 2, Some(5.5))]);
}

/// Writes a good 10-entry file with two points, then lets `damage` alter it.
fn damaged(d: &TempDir, mode: MemoryMode, damage: impl FnOnce(&mut Vec<u8>)) -> DimensionStore {
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Save, Some(&d.0), 10), NOW);
    s.store(NOW, n(1.0));
    s.store(NOW + 2, n(2.0));
    s.save().unwrap();
    let mut bytes = fs::read(path(d)).unwrap();
    damage(&mut bytes);
    fs::write(path(d), &bytes).unwrap();
    DimensionStore::open_at(&spec(mode, Some(&d.0), 10), NOW)
}

fn set_u64(b: &mut [u8], at: usize, v: i64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn damaged_files_are_rebuilt_empty() {
    type Damager = fn(&mut Vec<u8>);
    type Expect = fn(Damage) -> bool;
    let cases: [(Damager, Expect); 10] = [
        (|b| b.truncate(100), |d| matches!(d, Damage::WrongLength { .. })),
        (|b| b.truncate(20), |d| matches!(d, Damage::Truncated { len: 20 })),
        (|b| b.clear(), |d| d == Damage::EmptyFile),
        (|b| b[0] = b'x', |d| d == Damage::BadMagic),
        (|b| b[8] = 9, |d| d == Damage::BadVersion(9)),
        (|b| b[16] = 3, |d| d == Damage::BadChecksum),
        (|b| set_u64(b, LAST_T_AT, NOW + 1), |d| matches!(d, Damage::BadTimes { .. })),
        (|b| set_u64(b, LAST_T_AT, NOW + 10 * 86_400), |d| matches!(d, Damage::BadTimes { .. })),
        (|b| set_u64(b, FIRST_T_AT, NOW + 4), |d| matches!(d, Damage::BadTimes { .. })),
        (|b| b.extend_from_slice(&[0; 4]), |d| matches!(d, Damage::WrongLength { .. })),
    ];
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        for (i, (damage, expect)) in cases.iter().enumerate() {
            let d = TempDir::new("db");
            let mut s = damaged(&d, mode, *damage);
            match s.outcome() {
                OpenOutcome::Rebuilt(why) => assert!(expect(why), "case {i}: {why:?}"),
                other => panic!("case {i} {mode:?}: {other:?}"),
            }
            assert!(s.was_rebuilt());
            assert_eq!(s.mode(), mode);
            assert_eq!((s.first_t(), s.last_t()), (None, None), "case {i}");
            assert!(values(&s, 0, i64::MAX).is_empty());
            // The rebuilt store works and persists.
            s.store(NOW + 4, n(3.0));
            s.save().unwrap();
            drop(s);
            let s = DimensionStore::open_at(&spec(mode, Some(&d.0), 10), NOW);
            assert_eq!(s.outcome(), OpenOutcome::Loaded, "case {i} {mode:?}");
            assert_eq!(values(&s, 0, i64::MAX), vec![(NOW + 4, Some(3.0))]);
        }
    }
}

#[test]
fn another_dimensions_file_is_not_trusted() {
    let d = TempDir::new("db");
    let other = StoreSpec { dim_id: "system", ..spec(MemoryMode::Save, Some(&d.0), 10) };
    let mut s = DimensionStore::open_at(&other, NOW);
    s.store(NOW, n(1.0));
    s.save().unwrap();
    // Put the other dimension's file where ours should be.
    fs::rename(dimension_path(&d.0, "system.cpu", "system"), path(&d)).unwrap();
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        let s = DimensionStore::open_at(&spec(mode, Some(&d.0), 10), NOW);
        assert_eq!(s.outcome(), OpenOutcome::Rebuilt(Damage::OtherDimension));
        assert_eq!(s.get(NOW), StorageNumber::EMPTY);
    }
}

#[test]
fn update_every_change_rebuilds() {
    let d = TempDir::new("db");
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Map, Some(&d.0), 10), NOW);
    s.store(NOW, n(1.0));
    drop(s);
    let sp = StoreSpec { update_every: 1, ..spec(MemoryMode::Map, Some(&d.0), 10) };
    let s = DimensionStore::open_at(&sp, NOW);
    assert_eq!(s.outcome(), OpenOutcome::Rebuilt(Damage::UpdateEveryChanged { from: 2, to: 1 }));
    assert_eq!(s.last_t(), None);
}

#[test]
fn retention_change_keeps_the_newest_points() {
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        let d = TempDir::new("db");
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 10), NOW);
        for k in 0..10 {
            s.store(NOW + 2 * k, n(k as f64));
        }
        s.save().unwrap();
        drop(s);
        // Shrink: only the newest 4 fit.
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 4), NOW);
        assert_eq!(s.outcome(), OpenOutcome::Resized { from: 10, to: 4 });
        let want: Vec<_> = (6..10).map(|k| (NOW + 2 * k, Some(k as f64))).collect();
        assert_eq!(values(&s, 0, i64::MAX), want);
        s.save().unwrap();
        drop(s);
        // Grow: everything kept, first_t unchanged.
        let s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20), NOW);
        assert_eq!(s.outcome(), OpenOutcome::Resized { from: 4, to: 20 });
        assert_eq!(values(&s, 0, i64::MAX), want);
        assert_eq!(s.first_t(), Some(NOW + 12));
        assert_eq!(
            fs::metadata(path(&d)).map(|m| m.len()).ok(),
            match mode {
                MemoryMode::Map => Some(file_len_for(20)),
                _ => Some(file_len_for(4)),
            }
        );
    }
}

#[test]
fn unusable_file_falls_back_to_ram() {
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        let d = TempDir::new("db");
        fs::create_dir_all(path(&d)).unwrap();
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 10), NOW);
        assert_eq!(s.outcome(), OpenOutcome::FellBackToRam);
        assert_eq!(s.mode(), MemoryMode::Ram);
        s.store(NOW, n(1.0));
        assert_eq!(s.get(NOW).value(), Some(1.0));
        assert!(s.save().is_ok());
    }
    // A file where the host directory should be.
    let d = TempDir::new("db");
    let blocker = d.0.join("host");
    fs::write(&blocker, b"x").unwrap();
    let s = DimensionStore::open_at(&spec(MemoryMode::Map, Some(&blocker), 10), NOW);
    assert_eq!(s.outcome(), OpenOutcome::FellBackToRam);
    // No directory given at all.
    let s = DimensionStore::open_at(&spec(MemoryMode::Save, None, 10), NOW);
    assert_eq!(s.outcome(), OpenOutcome::FellBackToRam);
}

#[test]
fn file_is_little_endian_on_disk() {
    let d = TempDir::new("db");
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Map, Some(&d.0), 10), NOW);
    let v = StorageNumber::pack(1.0, false);
    s.store(NOW, v);
    s.save().unwrap();
    let b = fs::read(path(&d)).unwrap();
    let at = HEADER_LEN + ((NOW / 2) % 10) as usize * 4;
    assert_eq!(b[at..at + 4], v.to_bits().to_le_bytes());
    assert_eq!(b[LAST_T_AT..LAST_T_AT + 8], NOW.to_le_bytes());
    assert_eq!(b[FIRST_T_AT..FIRST_T_AT + 8], NOW.to_le_bytes());
}

#[test]
fn extreme_times_from_peers_do_not_panic() {
    let mut s =
        DimensionStore::open_at(&StoreSpec { update_every: 3, ..spec(MemoryMode::Ram, None, 10) }, NOW);
    s.store(-3, n(1.0));
    s.store(i64::MIN, n(1.0));
    assert_eq!(s.last_t(), None);
    s.store(3, n(1.0));
    for t in [i64::MIN, i64::MIN + 1, -1, i64::MAX] {
        assert_eq!(s.get(t), StorageNumber::EMPTY);
        let mut out = Vec::new();
        s.query(t, t, &mut out);
        s.query(i64::MIN, t, &mut out);
        s.query(t, i64::MAX, &mut out);
    }
    s.store(i64::MAX, n(2.0));
    let last = s.last_t().unwrap_or(0);
    assert_eq!(last % 3, 0);
    assert_eq!(s.get(i64::MAX).value(), Some(2.0));
    assert_eq!(values(&s, i64::MIN, i64::MAX).len(), 10);
    s.store(last - 3, n(3.0));
    assert_eq!(s.get(last - 3).value(), Some(3.0));
}

#[test]
fn absurd_entries_in_a_valid_header_are_rejected() {
    let d = TempDir::new("db");
    let h = Header {
        version: file::VERSION,
        update_every: 2,
        entries: u32::MAX,
        ids_hash: file::ids_hash("system.cpu", "user"),
        last_t: NO_TIME,
        first_t: NO_TIME,
    };
    fs::create_dir_all(path(&d).parent().unwrap()).unwrap();
    fs::write(path(&d), h.encode()).unwrap();
    let s = DimensionStore::open_at(&spec(MemoryMode::Map, Some(&d.0), 10), NOW);
    assert_eq!(s.outcome(), OpenOutcome::Rebuilt(Damage::BadEntries(u32::MAX)));
}

#[test]
fn degenerate_geometry_is_clamped() {
    let sp = StoreSpec { update_every: 0, entries: 0, ..spec(MemoryMode::Ram, None, 0) };
    let mut s = DimensionStore::open_at(&sp, NOW);
    assert_eq!((s.update_every(), s.entries()), (1, 1));
    s.store(NOW, n(1.0));
    s.store(NOW + 1, n(2.0));
    assert_eq!(values(&s, 0, i64::MAX), vec![(NOW + 1, Some(2.0))]);
    assert!(s.memory_bytes() >= std::mem::size_of::<DimensionStore>() + 4);
}
