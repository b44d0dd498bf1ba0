//! Upper tiers: consolidation arithmetic, bounded work, late points, stitched reads, restarts,
//! crashes, old and damaged files. Expectations are computed by hand in the comments.

use std::fs;
use std::path::Path;

use super::file::HEADER_LEN;
use super::store::Upper;
use super::tier::Tier;
use super::tierfile::DESC_LEN;
use super::*;
use crate::db::scratch::TempDir;

/// A tier-2 boundary (a multiple of 60), near 2023-11.
const B: i64 = 1_699_999_980;
const NOW: i64 = B + 86_400;
const YEAR: i64 = 365 * 86_400;

/// Tier 0 every 10 s; tier 1 = 3 × 10 s = 30 s; tier 2 = 2 × 30 s = 60 s.
const TIERS: [TierSpec; 2] =
    [TierSpec { iterations: 3, entries: 8, bytes: 0 }, TierSpec { iterations: 2, entries: 5, bytes: 0 }];

fn spec<'a>(mode: MemoryMode, dir: Option<&'a Path>, entries: u32, tiers: &'a [TierSpec]) -> StoreSpec<'a> {
    StoreSpec { mode, dir, chart_id: "net.eth0", dim_id: "received", update_every: 10, entries, tiers }
}

fn ram(entries: u32) -> DimensionStore {
    DimensionStore::open_at(&spec(MemoryMode::Ram, None, entries, &TIERS), NOW)
}

fn n(v: f64) -> StorageNumber {
    StorageNumber::pack(v, false)
}

fn pt(t: i64, sum: f64, min: f64, max: f64, count: u32) -> TierPoint {
    TierPoint { t, sum, min, max, count }
}

fn tier(s: &DimensionStore, k: usize) -> Vec<TierPoint> {
    let mut out = Vec::new();
    s.read_tier(k, i64::MIN, i64::MAX, &mut out);
    out
}

fn stitched(s: &DimensionStore, k: usize, after: i64, before: i64) -> Vec<TierPoint> {
    let mut out = Vec::new();
    s.read_stitched(k, after, before, &mut out);
    out
}

/// The hand-written sequence (tier-1 spans in brackets):
/// [B+10: 1.5, B+20: gap, B+30: -4] [B+40: 7 (reset), B+50: 2, B+60: -1] [B+70..B+90: gap]
/// [B+100: 10, B+110: 20, B+120: 30] B+130: 0.5
fn sequence(s: &mut DimensionStore) {
    s.store(B + 10, n(1.5));
    s.store(B + 30, n(-4.0));
    s.store(B + 40, StorageNumber::pack(7.0, true));
    s.store(B + 50, n(2.0));
    s.store(B + 60, n(-1.0));
    s.store(B + 100, n(10.0));
    s.store(B + 110, n(20.0));
    s.store(B + 120, n(30.0));
    s.store(B + 130, n(0.5));
}

/// Tier 1 after `sequence`: the span B+120 is closed by the store at B+130.
fn tier1_after_sequence() -> Vec<TierPoint> {
    vec![
        pt(B + 30, -2.5, -4.0, 1.5, 2),
        pt(B + 60, 8.0, -1.0, 7.0, 3),
        TierPoint::empty(B + 90),
        pt(B + 120, 60.0, 10.0, 30.0, 3),
    ]
}

#[test]
fn consolidation_arithmetic() {
    let mut s = ram(20);
    assert_eq!((s.tier_count(), s.tier_update_every(1), s.tier_update_every(2)), (3, Some(30), Some(60)));
    assert_eq!(s.tier_update_every(3), None);
    sequence(&mut s);
    assert_eq!(tier(&s, 1), tier1_after_sequence());
    // Tier 2 (60 s) = tier-1 points B+30 and B+60: sums of sums, counts of counts. The span
    // B+120 is still open (tier 1 has not gone past it).
    assert_eq!(tier(&s, 2), vec![pt(B + 60, 5.5, -4.0, 7.0, 5)]);
    assert_eq!((s.tier_first_t(2), s.tier_last_t(2)), (Some(B + 60), Some(B + 60)));
    // B+160 closes tier-1 span B+150 (only B+130: 0.5), which moves tier 1 past B+120 and
    // closes tier-2 span B+120 = the empty B+90 and B+120.
    s.store(B + 160, n(1.0));
    assert_eq!(tier(&s, 1)[4], pt(B + 150, 0.5, 0.5, 0.5, 1));
    assert_eq!(tier(&s, 2), vec![pt(B + 60, 5.5, -4.0, 7.0, 5), pt(B + 120, 60.0, 10.0, 30.0, 3)]);
    // An all-empty tier-2 span: tier 0 gets nothing from B+170 to B+290.
    s.store(B + 300, n(2.0));
    s.store(B + 310, n(2.0));
    s.store(B + 340, n(2.0));
    // Tier 1: B+180 = {B+160: 1.0}, B+210..B+270 empty, B+300 = {B+300: 2.0}, B+330 =
    // {B+310: 2.0}. Tier 2: B+180 = {B+150: 0.5, B+180: 1.0}; B+240 = {B+210, B+240}, both
    // empty: an empty point; B+300 = {B+270: empty, B+300: 2.0}.
    assert_eq!(
        tier(&s, 2)[2..],
        [pt(B + 180, 1.5, 0.5, 1.0, 2), TierPoint::empty(B + 240), pt(B + 300, 2.0, 2.0, 2.0, 1)]
    );
    assert_eq!(tier(&s, 1).last(), Some(&pt(B + 330, 2.0, 2.0, 2.0, 1)));
}

#[test]
fn tier0_gaps_from_store_gap_reach_the_tiers() {
    let mut s = ram(20);
    sequence(&mut s);
    // Interpolation's lost iterations over B+40..B+60: the closed tier-1 span B+60 is now
    // empty, and the closed tier-2 span B+60 keeps only B+30's part.
    s.store_gap(B + 40, B + 60);
    assert_eq!(tier(&s, 1)[1], TierPoint::empty(B + 60));
    assert_eq!(tier(&s, 2), vec![pt(B + 60, -2.5, -4.0, 1.5, 2)]);
}

#[test]
fn a_jump_consolidates_the_last_span_in_constant_work() {
    let big = [
        TierSpec { iterations: 3, entries: 50_000, bytes: 0 },
        TierSpec { iterations: 2, entries: 50_000, bytes: 0 },
    ];
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 100_000, &big), NOW);
    s.store(B + 10, n(1.0));
    s.store(B + 20, n(2.0));
    let before = s.slot_writes();
    // Past tier 0's whole window: the open span B+30 is consolidated before the jump.
    s.store(B + YEAR, n(5.0));
    assert_eq!(tier(&s, 1), vec![pt(B + 30, 3.0, 1.0, 2.0, 2)]);
    assert_eq!(s.slot_writes() - before, 2, "one tier-0 slot and one tier-1 point");
    // Each further year: tier 0 writes its slot, tier 1 the closed span, tier 2 the span tier
    // 1 left; every ring marks its old window stale in O(1).
    for k in 2..=1000 {
        let before = s.slot_writes();
        s.store(B + k * YEAR, n(k as f64));
        assert_eq!(s.slot_writes() - before, 3, "year {k}");
    }
    // B + k years is a multiple of 60: its own span's end in both tiers. The last tier-1
    // point holds year 999's value (closed by year 1000), tier 2 year 998's.
    assert_eq!(tier(&s, 1).last(), Some(&pt(B + 999 * YEAR, 999.0, 999.0, 999.0, 1)));
    let t2 = tier(&s, 2);
    assert_eq!(t2.last(), Some(&pt(B + 998 * YEAR, 998.0, 998.0, 998.0, 1)));
    assert_eq!(t2.iter().filter(|p| p.count > 0).count(), 1, "the rest of the window is stale: empty");
}

#[test]
fn a_late_point_recomputes_closed_spans() {
    let mut s = ram(20);
    sequence(&mut s);
    // Replication fills B+80 in the closed (empty) span B+90; tier-2 span B+120 is open.
    s.store(B + 80, n(5.0));
    assert_eq!(tier(&s, 1)[2], pt(B + 90, 5.0, 5.0, 5.0, 1));
    assert_eq!(tier(&s, 2), vec![pt(B + 60, 5.5, -4.0, 7.0, 5)]);
    s.store(B + 160, n(1.0));
    assert_eq!(tier(&s, 2)[1], pt(B + 120, 65.0, 5.0, 30.0, 4));
    // B+20 (a gap in the closed span B+30, whose tier-2 span B+60 is closed too).
    s.store(B + 20, n(100.0));
    assert_eq!(tier(&s, 1)[0], pt(B + 30, 97.5, -4.0, 100.0, 3));
    assert_eq!(tier(&s, 2)[0], pt(B + 60, 105.5, -4.0, 100.0, 6));
    // Overwriting a value replaces it (recomputed, not added).
    s.store(B + 20, n(0.0));
    assert_eq!(tier(&s, 1)[0], pt(B + 30, -2.5, -4.0, 1.5, 3));
    assert_eq!(tier(&s, 2)[0], pt(B + 60, 5.5, -4.0, 7.0, 6));
}

/// 60 values k = 1..=60 at B+10k, multiples of 7 left out (52 values, sum 1830 - 252).
fn long_run(s: &mut DimensionStore) {
    for k in 1..=60 {
        if k % 7 != 0 {
            s.store(B + 10 * k, n(k as f64));
        }
    }
}

fn reduce(points: &[TierPoint]) -> (f64, usize) {
    points.iter().fold((0.0, 0), |(s, n), p| (s + p.sum, n + p.count as usize))
}

#[test]
fn stitched_reads_take_old_data_from_coarser_tiers() {
    // Tier 0 keeps 6 slots (B+550..B+600), tier 1 4 points (B+480..B+570), tier 2 10.
    let tiers =
        [TierSpec { iterations: 3, entries: 4, bytes: 0 }, TierSpec { iterations: 2, entries: 10, bytes: 0 }];
    let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 6, &tiers), NOW);
    long_run(&mut s);
    assert_eq!(
        (s.first_t(), s.tier_first_t(1), s.tier_first_t(2)),
        (Some(B + 550), Some(B + 480), Some(B + 60))
    );
    assert_eq!((s.tier_last_t(1), s.tier_last_t(2)), (Some(B + 570), Some(B + 540)));
    let times = |v: &[TierPoint]| v.iter().map(|p| p.t - B).collect::<Vec<_>>();
    let tier2: Vec<i64> = (1..=8).map(|k| 60 * k).collect();
    // At tier 0: tier 2 up to B+480 (its span (B+420, B+480] ends where tier 1's data
    // starts), tier 1 to B+540, then tier 0.
    let got = stitched(&s, 0, B + 1, B + 600);
    let want: Vec<i64> = tier2.iter().copied().chain([510, 540, 550, 560, 570, 580, 590, 600]).collect();
    assert_eq!(times(&got), want);
    // Tier-2 B+480 = k 43..48; tier-1 B+510 = k 49 (left out), 50, 51.
    assert_eq!(got[7], pt(B + 480, 273.0, 43.0, 48.0, 6));
    assert_eq!(got[8], pt(B + 510, 101.0, 50.0, 51.0, 2));
    assert_eq!(reduce(&got), (1578.0, 52), "every stored value once");
    // At tier 1: tier 1's own points, the open span's values from tier 0.
    let got = stitched(&s, 1, B + 1, B + 600);
    let want: Vec<i64> = tier2.iter().copied().chain([510, 540, 570, 580, 590, 600]).collect();
    assert_eq!(times(&got), want);
    assert_eq!(reduce(&got), (1578.0, 52));
    // At tier 2: tier 1 for B+570, tier 0 after it.
    let got = stitched(&s, 2, B + 1, B + 600);
    let want: Vec<i64> = tier2.iter().copied().chain([540, 570, 580, 590, 600]).collect();
    assert_eq!(times(&got), want);
    assert_eq!(reduce(&got), (1578.0, 52));
    // Past every tier's retention for tier 9: clamped to tier 2.
    assert_eq!(stitched(&s, 9, B + 1, B + 600), got);
    // sum_count: tier 0 alone when it covers `after`, stitched otherwise.
    assert_eq!(s.sum_count(B + 550, B + 600), (55.0 + 57.0 + 58.0 + 59.0 + 60.0, 5));
    assert_eq!(s.sum_count(B + 1, B + 600), (1578.0, 52));
    for a in (B - 100..B + 620).step_by(7) {
        for b in (a..B + 640).step_by(13) {
            assert_eq!(s.sum_count(a, b), reduce(&stitched(&s, 0, a, b)), "[{a}, {b}]");
        }
    }
}

#[test]
fn tiers_survive_restarts_and_crashes() {
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        let d = TempDir::new("tiers");
        let sp = spec(mode, Some(&d.0), 20, &TIERS);
        let mut s = DimensionStore::open_at(&sp, NOW);
        assert_eq!(s.tier_outcome(1), Some(TierOutcome::Backfilled));
        sequence(&mut s);
        s.store(B + 160, n(1.0));
        let all = |s: &DimensionStore| (0..3).map(|k| tier(s, k)).collect::<Vec<_>>();
        let before = all(&s);
        assert_eq!(before[2].len(), 2);
        s.save().unwrap();
        drop(s);
        let mut s = DimensionStore::open_at(&sp, NOW);
        assert_eq!(s.outcome(), OpenOutcome::Loaded, "{mode:?}");
        assert_eq!(
            (s.tier_outcome(1), s.tier_outcome(2)),
            (Some(TierOutcome::Loaded), Some(TierOutcome::Loaded))
        );
        assert_eq!(all(&s), before, "{mode:?}");
        // Going on after the restart closes the spans the first run left open.
        s.store(B + 190, n(4.0));
        assert_eq!(tier(&s, 1).last(), Some(&pt(B + 180, 1.0, 1.0, 1.0, 1)));
        if mode == MemoryMode::Map {
            // "kill -9": no save, no drop; the next open sees the page cache.
            let before = all(&s);
            std::mem::forget(s);
            let s = DimensionStore::open_at(&sp, NOW);
            assert_eq!(s.outcome(), OpenOutcome::Loaded);
            assert_eq!(all(&s), before);
            assert_eq!(s.tier_last_t(2), Some(B + 120));
        }
    }
}

#[test]
fn a_version_1_file_gets_its_tiers_backfilled() {
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        let d = TempDir::new("tiers");
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &[]), NOW);
        sequence(&mut s);
        s.save().unwrap();
        drop(s);
        let bytes = fs::read(d.file("net.eth0", "received")).unwrap();
        assert_eq!((bytes[8], bytes.len()), (1, HEADER_LEN + 20 * 4), "without tiers: version 1, as before");
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &TIERS), NOW);
        assert_eq!(s.outcome(), OpenOutcome::Loaded);
        assert_eq!(s.tier_outcome(1), Some(TierOutcome::Backfilled));
        assert_eq!(tier(&s, 1), tier1_after_sequence(), "{mode:?}");
        assert_eq!(tier(&s, 2), vec![pt(B + 60, 5.5, -4.0, 7.0, 5)]);
        s.save().unwrap();
        drop(s);
        assert_eq!(fs::read(d.file("net.eth0", "received")).unwrap()[8], 2);
        let s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &TIERS), NOW);
        assert_eq!(s.tier_outcome(2), Some(TierOutcome::Loaded));
        assert_eq!(tier(&s, 1), tier1_after_sequence());
        // Dropping the tiers again writes version 1.
        drop(s);
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &[]), NOW);
        assert_eq!(s.outcome(), OpenOutcome::Loaded);
        s.save().unwrap();
        assert_eq!(fs::read(d.file("net.eth0", "received")).unwrap().len(), HEADER_LEN + 20 * 4);
    }
}

/// Offset of tier `k`'s descriptor with entries 20 / 8 / 5.
fn desc_at(k: usize) -> usize {
    let mut at = HEADER_LEN + 20 * 4;
    for e in [8usize, 5].iter().take(k - 1) {
        at += DESC_LEN + e * TIER_POINT_BYTES;
    }
    at
}

fn written(d: &TempDir, mode: MemoryMode) -> Vec<Vec<TierPoint>> {
    let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &TIERS), NOW);
    sequence(&mut s);
    s.store(B + 160, n(1.0));
    s.save().unwrap();
    (0..3).map(|k| tier(&s, k)).collect()
}

#[test]
fn a_damaged_tier_is_rebuilt_from_the_tier_below() {
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        let d = TempDir::new("tiers");
        let before = written(&d, mode);
        let mut bytes = fs::read(d.file("net.eth0", "received")).unwrap();
        bytes[desc_at(2) + 16] ^= 1; // tier 2's iterations: the checksum no longer matches
        fs::write(d.file("net.eth0", "received"), &bytes).unwrap();
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &TIERS), NOW);
        assert_eq!(s.outcome(), OpenOutcome::Loaded);
        assert_eq!(s.tier_outcome(1), Some(TierOutcome::Loaded));
        assert_eq!(s.tier_outcome(2), Some(TierOutcome::Rebuilt(TierDamage::BadChecksum)));
        let line = format!(
            "db: {}: tier 2 damaged (bad checksum), rebuilt from tier 1",
            d.file("net.eth0", "received").display()
        );
        assert_eq!(s.upper.as_deref().map(|u| u.warnings.clone()), Some(vec![line]));
        // Tier 1 still had both closed tier-2 spans: tier 2 comes back whole.
        assert_eq!((0..3).map(|k| tier(&s, k)).collect::<Vec<_>>(), before, "{mode:?}");
        s.save().unwrap(); // a clean file again (save mode had only read it)
        drop(s);
        // Tier 1's magic: tiers 1 and 2 are rebuilt from tier 0, one line.
        let mut bytes = fs::read(d.file("net.eth0", "received")).unwrap();
        bytes[desc_at(1)] = b'X';
        fs::write(d.file("net.eth0", "received"), &bytes).unwrap();
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &TIERS), NOW);
        assert_eq!(s.tier_outcome(1), Some(TierOutcome::Rebuilt(TierDamage::BadMagic)));
        assert_eq!(s.tier_outcome(2), Some(TierOutcome::Rebuilt(TierDamage::BelowRebuilt)));
        let line = format!(
            "db: {}: tier 1 damaged (bad magic), rebuilt from tier 0, and the tiers above it",
            d.file("net.eth0", "received").display()
        );
        assert_eq!(s.upper.as_deref().map(|u| u.warnings.clone()), Some(vec![line]));
        assert_eq!((0..3).map(|k| tier(&s, k)).collect::<Vec<_>>(), before, "{mode:?}");
        s.save().unwrap();
        drop(s);
        // Insane times in tier 2 (a last time a week ahead), and a file cut inside tier 2.
        let mut bytes = fs::read(d.file("net.eth0", "received")).unwrap();
        let at = desc_at(2) + 40;
        bytes[at..at + 8].copy_from_slice(&(NOW + 7 * 86_400).to_le_bytes());
        fs::write(d.file("net.eth0", "received"), &bytes).unwrap();
        let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &TIERS), NOW);
        assert!(matches!(s.tier_outcome(2), Some(TierOutcome::Rebuilt(TierDamage::BadTimes { .. }))));
        assert_eq!(tier(&s, 0), before[0]);
        s.save().unwrap();
        drop(s);
        let bytes = fs::read(d.file("net.eth0", "received")).unwrap();
        fs::write(d.file("net.eth0", "received"), &bytes[..bytes.len() - 3]).unwrap();
        let s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &TIERS), NOW);
        assert_eq!(s.tier_outcome(2), Some(TierOutcome::Rebuilt(TierDamage::Truncated)));
        assert_eq!((0..3).map(|k| tier(&s, k)).collect::<Vec<_>>(), before, "{mode:?}");
    }
}

#[test]
fn a_resized_tier_keeps_its_newest_points() {
    for mode in [MemoryMode::Save, MemoryMode::Map] {
        let d = TempDir::new("tiers");
        let before = written(&d, mode);
        let smaller = [TierSpec { entries: 4, ..TIERS[0] }, TIERS[1]];
        let s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &smaller), NOW);
        assert_eq!(s.tier_outcome(1), Some(TierOutcome::Resized { from: 8, to: 4 }));
        assert_eq!(s.tier_outcome(2), Some(TierOutcome::Loaded));
        assert_eq!(tier(&s, 1), before[1][1..], "B+60..B+150: the newest 4 of 5");
        assert_eq!(tier(&s, 2), before[2]);
        assert_eq!(tier(&s, 0), before[0]);
        // Another grid for tier 2 (120 s), on a fresh file: rebuilt from tier 1 (B+30..B+150).
        let d = TempDir::new("tiers");
        written(&d, mode);
        let other = [TIERS[0], TierSpec { iterations: 4, entries: 5, bytes: 0 }];
        let s = DimensionStore::open_at(&spec(mode, Some(&d.0), 20, &other), NOW);
        let changed = TierDamage::UpdateEveryChanged { from: 60, to: 120 };
        assert_eq!(s.tier_outcome(2), Some(TierOutcome::Rebuilt(changed)));
        // Spans end at multiples of 120: B+60 = tier-1 B-30..B+60 (B+30 and B+60 hold data);
        // B+180 is still open in tier 1.
        assert_eq!(tier(&s, 2), vec![pt(B + 60, 5.5, -4.0, 7.0, 5)]);
        let line = format!(
            "db: {}: tier 2 update every changed from 60 to 120, rebuilt from tier 1",
            d.file("net.eth0", "received").display()
        );
        assert_eq!(s.upper.as_deref().map(|u| u.warnings.clone()), Some(vec![line]));
    }
}

#[test]
fn points_are_little_endian_in_the_file() {
    let p = pt(0, 5.5, -4.0, 7.0, 5);
    assert_eq!(p.encode(), [0, 0, 0xb0, 0x40, 0, 0, 0x80, 0xc0, 0, 0, 0xe0, 0x40, 5, 0]);
    assert_eq!(TierPoint::decode(0, &p.encode()), p);
    assert_eq!(TierPoint::empty(7).encode(), [0; 14]);
    assert_eq!(pt(0, 1.0, 1.0, 1.0, 70_000).encode()[12..], [0xff, 0xff], "counts saturate");
    let d = TempDir::new("tiers");
    written(&d, MemoryMode::Map);
    let bytes = fs::read(d.file("net.eth0", "received")).unwrap();
    // Tier 2's point B+60 sits in slot (B+60)/60 % 5 of its section.
    let at = desc_at(2) + DESC_LEN + (((B + 60) / 60) % 5) as usize * TIER_POINT_BYTES;
    assert_eq!(bytes[at..at + 14], p.encode());
    // The tool's reader agrees with the store.
    let s = DimensionStore::open_at(&spec(MemoryMode::Map, Some(&d.0), 20, &TIERS), NOW);
    for k in 0..3 {
        assert_eq!(read_file_tier(&d.file("net.eth0", "received"), k).unwrap(), tier(&s, k), "tier {k}");
    }
    assert_eq!(read_file_tier(&d.file("net.eth0", "received"), 3).unwrap(), vec![]);
    let d2 = desc_at(2);
    assert_eq!(bytes[d2..d2 + 8], *b"NDTIER3\0");
    assert_eq!(bytes[d2 + 40..d2 + 48], (B + 120).to_le_bytes(), "tier 2's last time, in place");
}

#[test]
fn ram_tiers_stay_lazy_and_geometry_is_clamped() {
    let mut s = ram(3);
    assert_eq!(s.entries(), 6, "twice tier 1's iterations");
    assert_eq!((s.tier_entries_raised(0), s.tier_entries_raised(1)), (Some(3), None));
    let bare = std::mem::size_of::<DimensionStore>()
        + std::mem::size_of::<Upper>()
        + 2 * std::mem::size_of::<Tier>();
    assert_eq!(s.memory_bytes(), bare, "no points allocated before the first store");
    s.store(B + 10, n(1.0));
    assert_eq!((s.tier_memory_bytes(0), s.tier_memory_bytes(1)), (6 * 4, 0));
    s.store(B + 40, n(1.0));
    assert_eq!(s.tier_memory_bytes(1), 8 * 14);
    assert_eq!(s.memory_bytes(), bare + 6 * 4 + 8 * 14);
    let none = DimensionStore::open_at(&spec(MemoryMode::None, None, 3, &TIERS), NOW);
    assert_eq!(none.tier_count(), 1);
    // Iterations are clamped to 2..=255; a tier whose step overflows 32 bits is left out.
    let wild = [
        TierSpec { iterations: 1, entries: 0, bytes: 0 },
        TierSpec { iterations: 1000, entries: 9, bytes: 0 },
    ];
    let s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 3, &wild), NOW);
    assert_eq!((s.tier_update_every(1), s.tier_update_every(2)), (Some(20), Some(20 * 255)));
    assert_eq!(s.tier_entries(1), Some(510), "raised for tier 2's 255 iterations");
    let deep = [TierSpec { iterations: 255, entries: 9, bytes: 0 }; 6];
    let s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 3, &deep), NOW);
    assert_eq!(s.tier_count(), 4, "10 × 255³ fits 32 bits, × 255⁴ does not");
    // The cost of having no tiers: one pointer.
    assert_eq!(std::mem::size_of::<Option<Box<Upper>>>(), std::mem::size_of::<usize>());
    eprintln!("size_of::<DimensionStore>() = {}", std::mem::size_of::<DimensionStore>());
}

#[test]
fn extreme_times_from_peers_do_not_panic() {
    let mut s = ram(20);
    s.store(-3, n(1.0));
    s.store(i64::MIN, n(1.0));
    assert_eq!(s.last_t(), None);
    s.store(30, n(1.0));
    s.store(i64::MAX, n(2.0));
    s.store(i64::MAX, n(3.0));
    let last = s.last_t().unwrap_or(0);
    s.store(last - 10, n(4.0));
    s.store_gap(last - 50, i64::MAX);
    for k in 0..4 {
        let mut out = Vec::new();
        s.read_tier(k, i64::MIN, i64::MAX, &mut out);
        s.read_stitched(k, i64::MIN, i64::MAX, &mut out);
        s.read_stitched(k, i64::MAX, i64::MIN, &mut out);
    }
    let _ = s.sum_count(i64::MIN, i64::MAX);
    // Tier 1 followed to the end of time on its own grid.
    assert_eq!(s.tier_last_t(1).map(|t| t % 30), Some(0));
    assert_eq!(s.tier_last_t(2).map(|t| t % 60), Some(0));
}
