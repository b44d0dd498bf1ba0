//! Upper tiers with compressed archives, through the store: the same answers as
//! uncompressed tiers fed the same values, eviction, restarts and crashes, damage, old
//! sections, and the bytes a retained point takes.

use std::fs;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::archive::{BLOCK, HEADER};
use super::tierfile::{self, DESC_LEN};
use super::upper::tier0_end;
use super::*;
use crate::db::scratch::TempDir;
use crate::rng::Rng;

/// A tier-2 boundary (a multiple of 60), near 2023-11.
const B: i64 = 1_699_999_980;
const NOW: i64 = B + 40 * 86_400;

/// Tier 0 every 10 s (20 slots); tier 1 = 3 × 10 s; tier 2 = 2 × 30 s.
fn archived(bytes: u32) -> [TierSpec; 2] {
    [TierSpec { iterations: 3, entries: 64, bytes }, TierSpec { iterations: 2, entries: 64, bytes }]
}

/// The same tiers uncompressed, with windows longer than anything fed.
const FLAT: [TierSpec; 2] = [
    TierSpec { iterations: 3, entries: 60_000, bytes: 0 },
    TierSpec { iterations: 2, entries: 60_000, bytes: 0 },
];

fn open(mode: MemoryMode, dir: Option<&Path>, tiers: &[TierSpec]) -> DimensionStore {
    let spec =
        StoreSpec { mode, dir, chart_id: "disk.sda", dim_id: "reads", update_every: 10, entries: 20, tiers };
    DimensionStore::open_at(&spec, NOW)
}

/// Feeds `n` tier-0 values from `B` with gaps (5 %: 1..30 steps), `store_gap`s and, every
/// ~1000 points, a jump of 5000 steps (past every fixed ring, inside the flat ones).
fn feed(stores: &mut [&mut DimensionStore], n: usize, seed: u64) -> i64 {
    let mut rng = Rng::new(seed);
    let mut t = B;
    for _ in 0..n {
        let v = StorageNumber::pack(rng.below(1000) as f64, false);
        for s in stores.iter_mut() {
            s.store(t, v);
        }
        t += 10;
        match rng.below(1000) {
            0 => t += 50_000,
            1..=40 => t += 10 * rng.below(30) as i64,
            41..=50 => {
                let to = t + 10 * rng.below(10) as i64;
                for s in stores.iter_mut() {
                    s.store_gap(t, to);
                }
                t = to + 10;
            }
            _ => {}
        }
    }
    t
}

fn read(s: &DimensionStore, tier: usize, after: i64, before: i64) -> Vec<TierPoint> {
    let mut out = Vec::new();
    s.read_tier(tier, after, before, &mut out);
    out
}

fn stitched(s: &DimensionStore, tier: usize, after: i64, before: i64) -> Vec<TierPoint> {
    let mut out = Vec::new();
    s.read_stitched(tier, after, before, &mut out);
    out
}

/// Asserts two reads are equal, naming the first difference (not the whole reads).
#[track_caller]
fn same(got: &[TierPoint], want: &[TierPoint], what: &str) {
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        panic!("{what}: point {i} differs: {:?} != {:?}", got[i], want[i]);
    }
    assert_eq!(got.len(), want.len(), "{what}: lengths ({:?} / {:?} first)", got.first(), want.first());
}

fn ring_first(s: &DimensionStore, k: usize) -> i64 {
    s.tier(k).unwrap().ring.first_t().unwrap()
}

#[test]
fn archived_tiers_read_as_uncompressed_ones() {
    let mut a = open(MemoryMode::Ram, None, &archived(1 << 20));
    let mut r = open(MemoryMode::Ram, None, &FLAT);
    let end = feed(&mut [&mut a, &mut r], 10_000, 42);
    for k in 1..=2 {
        assert_eq!(a.tier_first_t(k), r.tier_first_t(k), "tier {k}: the archive keeps everything");
        assert_eq!(a.tier_last_t(k), r.tier_last_t(k));
        // Most of the tier is in the archive: the fixed ring holds 64 points.
        assert!(ring_first(&a, k) > a.tier_first_t(k).unwrap() + 100_000, "tier {k}");
        let got = read(&a, k, 0, end);
        assert_eq!(got, read(&r, k, 0, end), "tier {k}");
        assert!(got.len() > 1000 && got.iter().filter(|p| p.count > 0).count() > 500, "{}", got.len());
        // A window across the archive/ring boundary, its ends unaligned.
        let (lo, hi) = (ring_first(&a, k) - 777, ring_first(&a, k) + 555);
        assert_eq!(read(&a, k, lo, hi), read(&r, k, lo, hi));
    }
    for tier in 0..3 {
        assert_eq!(stitched(&a, tier, 0, end), stitched(&r, tier, 0, end), "stitched at tier {tier}");
    }
    // sum_count's stitched part is the reduction of read_stitched at tier 0.
    let first = a.tier_first_t(2).unwrap();
    for (lo, hi) in [(0, end), (first + 12_345, end - 40_000), (first, first + 3600)] {
        let (sum, n) = stitched(&a, 0, lo, hi)
            .iter()
            .filter(|p| p.count > 0)
            .fold((0.0, 0), |(s, n), p| (s + p.sum, n + p.count as usize));
        assert_eq!(a.sum_count(lo, hi), (sum, n), "[{lo}, {hi}]");
        assert_eq!(a.sum_count(lo, hi), r.sum_count(lo, hi));
    }
}

#[test]
fn a_point_from_the_archive_by_hand() {
    // Tier 0 holds 10 × i at B + 10 i: tier 1's point at B + 30 j sums the values at
    // B + 30 j - 20, - 10, + 0: 10 (3j - 2) + 10 (3j - 1) + 10 (3j) = 90 j - 30; j = 100:
    // 2980 + 2990 + 3000 = 8970.
    let mut a = open(MemoryMode::Ram, None, &archived(1 << 16));
    for i in 0..3000 {
        a.store(B + 10 * i, StorageNumber::pack(10.0 * i as f64, false));
    }
    let t = B + 30 * 100;
    assert!(t < ring_first(&a, 1), "in the archive");
    assert_eq!(read(&a, 1, t, t), vec![TierPoint { t, sum: 8970.0, min: 2980.0, max: 3000.0, count: 3 }]);
}

#[test]
fn eviction_keeps_the_newest_blocks() {
    // 4096 bytes: 64 slots, a region of 3072 bytes; random rates take ~250 bytes a block
    // of 32 points: about 12 blocks, ~380 points of tier 1.
    let mut a = open(MemoryMode::Ram, None, &archived(4096));
    let mut r = open(MemoryMode::Ram, None, &FLAT);
    let mut firsts = Vec::new();
    let mut rng = Rng::new(5);
    let mut t = B;
    for _ in 0..20 {
        for _ in 0..1500 {
            let v = StorageNumber::pack(rng.below(1000) as f64, false);
            a.store(t, v);
            r.store(t, v);
            t += 10;
        }
        firsts.push(a.tier_first_t(1).unwrap());
    }
    assert!(firsts.windows(2).all(|w| w[0] <= w[1]), "{firsts:?}");
    assert!(firsts[19] > firsts[5], "the oldest blocks were evicted: {firsts:?}");
    let first = a.tier_first_t(1).unwrap();
    assert!(first > r.tier_first_t(1).unwrap());
    // What is kept is what the uncompressed tier says, and is aligned to a block.
    assert_eq!(read(&a, 1, 0, t), read(&r, 1, first, t));
    assert_eq!((first / 30) % BLOCK as i64, 0);
    let kept = read(&a, 1, 0, t).len();
    assert!((300..1000).contains(&kept), "{kept}");
}

#[test]
fn restarts_and_kill_9_keep_the_archive() {
    let d = TempDir::new("ctier");
    let tiers = archived(1 << 14);
    let mut s = open(MemoryMode::Map, Some(&d.0), &tiers);
    let end = feed(&mut [&mut s], 4000, 9);
    let want: Vec<Vec<TierPoint>> = (0..3).map(|k| read(&s, k, 0, end)).collect();
    assert!(ring_first(&s, 1) > s.tier_first_t(1).unwrap(), "the archive is used");
    // kill -9: nothing is flushed or dropped.
    std::mem::forget(s);
    let s = open(MemoryMode::Map, Some(&d.0), &tiers);
    assert_eq!(s.outcome(), OpenOutcome::Loaded);
    assert_eq!(
        (s.tier_outcome(1), s.tier_outcome(2)),
        (Some(TierOutcome::Loaded), Some(TierOutcome::Loaded))
    );
    for (k, want) in want.iter().enumerate() {
        assert_eq!(read(&s, k, 0, end), *want, "tier {k}");
        assert_eq!(
            read_file_tier(&d.file("disk.sda", "reads"), k).unwrap(),
            *want,
            "the tool's reader, tier {k}"
        );
    }
    drop(s);
    // save mode reads the same file, and writes it back.
    let mut s = open(MemoryMode::Save, Some(&d.0), &tiers);
    assert_eq!(s.tier_outcome(1), Some(TierOutcome::Loaded));
    assert_eq!(read(&s, 1, 0, end), want[1]);
    s.store(end + 10, StorageNumber::pack(1.0, false));
    s.save().unwrap();
    let s = open(MemoryMode::Map, Some(&d.0), &tiers);
    assert_eq!(read(&s, 1, 0, end), want[1]);
    // Another archive size (the budget sized for another number of dimensions): the newest
    // records that fit are kept as they are.
    drop(s);
    let s = open(MemoryMode::Map, Some(&d.0), &archived(1 << 12));
    assert!(matches!(s.tier_outcome(1), Some(TierOutcome::Resized { .. })), "{:?}", s.tier_outcome(1));
    let first = s.tier_first_t(1).unwrap();
    assert!(first < ring_first(&s, 1) && first > want[1][0].t, "{first}");
    let kept: Vec<TierPoint> = want[1].iter().filter(|p| p.t >= first).copied().collect();
    assert_eq!(read(&s, 1, 0, end), kept);
    assert!(kept.len() > 64 + 2 * BLOCK);
}

#[test]
fn changing_sizes_archives_what_the_ring_can_no_longer_hold() {
    let d = TempDir::new("ctier");
    // A fixed tier of 1000 points (no archive), then the same tier with an archive and a
    // ring of 64: everything the old ring held is still read.
    let fixed = [
        TierSpec { iterations: 3, entries: 1000, bytes: 0 },
        TierSpec { iterations: 2, entries: 64, bytes: 0 },
    ];
    let mut s = open(MemoryMode::Map, Some(&d.0), &fixed);
    let mut r = open(MemoryMode::Ram, None, &FLAT);
    let end = feed(&mut [&mut s, &mut r], 2500, 3);
    let want = read(&s, 1, 0, end);
    assert_eq!(want.len(), 1000);
    drop(s);
    let s = open(MemoryMode::Map, Some(&d.0), &archived(1 << 14));
    assert_eq!(s.tier_outcome(1), Some(TierOutcome::Resized { from: 1000, to: 64 }));
    // Blocks holding only empty points are not archived: the tier starts with the block
    // of the first stored value; from there, every point is the old ring's.
    let got = read(&s, 1, 0, end);
    let first_value = want.iter().find(|p| p.count > 0).unwrap().t;
    assert_eq!((got[0].t / 30).div_euclid(BLOCK as i64), (first_value / 30).div_euclid(BLOCK as i64));
    let want: Vec<TierPoint> = want.into_iter().filter(|p| p.t >= got[0].t).collect();
    same(&got, &want, "after the shrink");
    assert!(
        want.len() > 3 * 64 && ring_first(&s, 1) > want[want.len() - 65].t,
        "most of it from the archive"
    );
    // A bigger ring back: the archive stays as it is (the same size), the ring refills.
    drop(s);
    let bigger = [TierSpec { entries: 200, ..archived(1 << 14)[0] }, archived(1 << 14)[1]];
    let s = open(MemoryMode::Map, Some(&d.0), &bigger);
    assert_eq!(s.tier_outcome(1), Some(TierOutcome::Resized { from: 64, to: 200 }));
    same(&read(&s, 1, 0, end), &want, "after the growth");
}

/// Offset in the file of upper tier `k`'s archive (index first) and its live slots' state.
fn archive_at(file: &[u8], entries0: u32, k: usize) -> (usize, tierfile::TierDesc) {
    let (sections, _) = tierfile::walk(file, tier0_end(entries0), k, NOW);
    let s = sections[k - 1];
    (s.at + DESC_LEN + s.desc.entries as usize * TIER_POINT_BYTES, s.desc)
}

#[test]
fn a_damaged_block_is_dropped_and_its_neighbours_survive() {
    let d = TempDir::new("ctier");
    let tiers = archived(1 << 14);
    let mut s = open(MemoryMode::Map, Some(&d.0), &tiers);
    let mut rng = Rng::new(77);
    for i in 0..3000 {
        s.store(B + 10 * i, StorageNumber::pack(rng.below(1000) as f64, false));
    }
    let end = B + 30_000;
    let want = read(&s, 1, 0, end);
    drop(s);
    let mut file = fs::read(d.file("disk.sda", "reads")).unwrap();
    let (at, desc) = archive_at(&file, 20, 1);
    let [tail, used, _] = desc.arch;
    assert!(used > 5 * 100, "{used}");
    // The second record: after the first (its length at bytes 2..4 of its header); its
    // block number, then one byte of its compressed bytes flipped.
    let first = at + tail as usize;
    let len = usize::from(u16::from_le_bytes([file[first + 2], file[first + 3]]));
    let second = first + (HEADER + len).div_ceil(4) * 4;
    assert_eq!(file[second..second + 2], *b"Nb");
    let block = i64::from(u32::from_le_bytes(file[second + 4..second + 8].try_into().unwrap()));
    file[second + HEADER + 1] ^= 0x10;
    fs::write(d.file("disk.sda", "reads"), &file).unwrap();
    let s = open(MemoryMode::Map, Some(&d.0), &tiers);
    let got = read(&s, 1, 0, end);
    assert_eq!(got.len(), want.len());
    let span = |p: &TierPoint| (p.t / 30).div_euclid(BLOCK as i64);
    for (g, w) in got.iter().zip(&want) {
        if span(w) == block {
            assert_eq!(*g, TierPoint::empty(w.t), "the damaged block reads as empty");
        } else {
            assert_eq!(g, w, "its neighbours survive");
        }
    }
    assert!(want.iter().any(|p| span(p) == block - 1 && p.count > 0));
    assert!(want.iter().any(|p| span(p) == block + 1 && p.count > 0));
    let warned = &s.tier(1).unwrap().arch.as_ref().unwrap().warned;
    assert!(warned.load(Ordering::Relaxed));
    // Reading again does not warn again (the flag was already set): the same answer.
    assert_eq!(read(&s, 1, 0, end), got);
}

#[test]
fn a_version_2_section_is_rebuilt_with_one_warning() {
    let d = TempDir::new("ctier");
    let tiers = archived(1 << 12);
    let mut s = open(MemoryMode::Map, Some(&d.0), &tiers);
    for i in 0..300 {
        s.store(B + 10 * i, StorageNumber::pack(1.0, false));
    }
    drop(s);
    let mut file = fs::read(d.file("disk.sda", "reads")).unwrap();
    let at = tier0_end(20);
    file[at..at + 8].copy_from_slice(b"NDTIER2\0");
    fs::write(d.file("disk.sda", "reads"), &file).unwrap();
    let s = open(MemoryMode::Map, Some(&d.0), &tiers);
    assert_eq!(s.outcome(), OpenOutcome::Loaded, "tier 0 is kept");
    assert_eq!(s.tier_outcome(1), Some(TierOutcome::Rebuilt(TierDamage::OldFormat)));
    assert_eq!(s.tier_outcome(2), Some(TierOutcome::Rebuilt(TierDamage::BelowRebuilt)));
    let warnings = &s.upper.as_deref().unwrap().warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("older uncompressed format"), "{}", warnings[0]);
    // Backfilled from tier 0's 20 slots: tier 1's points of the last 200 s, each 3 × 1.0.
    let got = read(&s, 1, 0, NOW);
    assert!(got.iter().any(|p| p.count == 3 && p.sum == 3.0));
}

/// Bytes a retained point of tier 1 (a 1 s chart, 60 values a point) takes in a budget-sized
/// tier: the ring and the archive over the points it keeps. Prints the table.
#[test]
fn bytes_per_retained_point() {
    const BYTES: u32 = 4096;
    let tiers = [TierSpec { iterations: 60, entries: 2 * BLOCK as u32, bytes: BYTES }];
    let mut table = String::new();
    let (mut r1, mut r2) = (Rng::new(1), Rng::new(2));
    let series: [(&str, &mut dyn FnMut() -> f64); 4] = [
        ("zero counter (rate 0)", &mut || 0.0),
        ("constant rate 1000/s", &mut || 1000.0),
        ("random integer rates 0..1000", &mut || r1.below(1000) as f64),
        ("random floats 0..1000", &mut || ((r2.next_u64() % (1 << 40)) as f64) / (1u64 << 30) as f64),
    ];
    let mut per_point = Vec::new();
    for (name, v) in series {
        let spec = StoreSpec {
            mode: MemoryMode::Ram,
            dir: None,
            chart_id: "x",
            dim_id: "y",
            update_every: 1,
            entries: 120,
            tiers: &tiers,
        };
        let mut s = DimensionStore::open_at(&spec, NOW);
        // Past a full archive: 4096 bytes cannot hold more than 4096 / 16 = 256 records.
        let n = 60 * BLOCK as i64 * 260;
        for i in 0..n {
            s.store(B + i, StorageNumber::pack(v(), false));
        }
        let kept = read(&s, 1, 0, B + n).iter().filter(|p| p.count > 0).count();
        let total = BYTES as usize + 2 * BLOCK * TIER_POINT_BYTES;
        let bpp = total as f64 / kept as f64;
        table.push_str(&format!("{name:32} {kept:5} points in {total} bytes = {bpp:5.2} bytes a point\n"));
        per_point.push(bpp);
    }
    println!("tier 1, archive {BYTES} bytes + ring of {} points:\n{table}", 2 * BLOCK);
    // Records take their header and padding, at most 44 bytes for a zero series and 120 for
    // a constant one (see `steady_blocks_compress_to_almost_nothing`), at most 464 for any:
    // the archive keeps all but at most one of the records that fit (a wrap gap), plus the
    // ring's 64 points, in 4992 bytes: zero ≥ (4096 / 44 - 1) × 32 + 64 = 3008 points, 1.66
    // bytes a point; constant ≥ (4096 / 120 - 1) × 32 + 64 = 1120, 4.46; any ≥ (4096 / 464
    // - 1) × 32 + 64 = 288, 17.3.
    assert!(per_point[0] <= 1.66 && per_point[1] <= 4.46, "{per_point:?}");
    assert!(per_point[2] <= 17.3 && per_point[3] <= 17.3, "{per_point:?}");
    // Random integer rates: at most 10 of a point's 14 bytes vary (see `bytes_per_point`):
    // records of at most 16 + 320 bytes: ≥ (4096 / 336 - 1) × 32 + 64 = 416 points, 12.
    assert!(per_point[2] <= 12.0, "{per_point:?}");
}

#[test]
fn a_jump_past_the_archive_span_empties_it() {
    // 4096 bytes: a span of 4096 / 32 = 128 blocks of 32 points of 30 s = 122 880 s.
    let mut a = open(MemoryMode::Ram, None, &archived(4096));
    assert_eq!(a.tier(1).unwrap().arch.as_ref().unwrap().span_blocks(), 128);
    for i in 0..3000 {
        a.store(B + 10 * i, StorageNumber::pack(1.0, false));
    }
    let old_first = a.tier_first_t(1).unwrap();
    assert!(old_first < ring_first(&a, 1));
    // Ten years later: the old blocks are outside the span, so they are not read (the
    // ring's jump is O(1); nothing is rewritten), and a whole read stays small.
    // (Tier 1 moves when its first span after the jump closes: two tier-0 points.)
    let later = B + 10 * 365 * 86_400;
    a.store(later, StorageNumber::pack(2.0, false));
    a.store(later + 30, StorageNumber::pack(2.0, false));
    assert_eq!(a.tier_last_t(1), Some(later));
    // As an uncompressed ring's: its window start (stale slots read as empty).
    assert_eq!(a.tier_first_t(1), Some(later - 63 * 30));
    assert!(read(&a, 1, 0, i64::MAX).len() <= 64);
    // Stitched: each tier yields at most its span (tier 2 has not moved yet: its old points
    // are still in its span), tier 0 its 20 slots.
    assert!(stitched(&a, 0, 0, i64::MAX).len() <= 20 + 2 * (128 * 32 + 64));
    // New blocks archived after the jump evict the old ones at once.
    for i in 1..1000 {
        a.store(later + 10 * i, StorageNumber::pack(2.0, false));
    }
    let first = a.tier_first_t(1).unwrap();
    assert!(first >= later - 30 && first < ring_first(&a, 1), "{first}");
    assert!(read(&a, 1, 0, i64::MAX).iter().all(|p| p.count == 0 || p.sum == 6.0 || p.t == later));
    // A smaller jump (inside the span) keeps the blocks before it, the gap reads empty.
    let mut a = open(MemoryMode::Ram, None, &archived(4096));
    for i in 0..3000 {
        a.store(B + 10 * i, StorageNumber::pack(1.0, false));
    }
    let first = a.tier_first_t(1).unwrap();
    a.store(B + 30_000 + 50_000, StorageNumber::pack(1.0, false));
    a.store(B + 30_000 + 50_030, StorageNumber::pack(1.0, false));
    assert_eq!(a.tier_last_t(1), Some(B + 80_010));
    assert_eq!(a.tier_first_t(1), Some(first));
    assert!(read(&a, 1, B + 31_000, B + 79_000).iter().all(|p| p.count == 0));
}

#[test]
fn random_damage_never_panics_nor_misorders() {
    let d = TempDir::new("ctier");
    let tiers = archived(1500);
    let mut s = open(MemoryMode::Map, Some(&d.0), &tiers);
    let end = feed(&mut [&mut s], 3000, 21);
    drop(s);
    let good = fs::read(d.file("disk.sda", "reads")).unwrap();
    let (at1, _) = archive_at(&good, 20, 1);
    let mut rng = Rng::new(99);
    for round in 0..200 {
        let mut file = good.clone();
        // Bytes of tier 1's archive and descriptor state, anywhere after tier 0.
        for _ in 0..1 + rng.below(8) {
            let i = if rng.below(4) == 0 {
                at1 - DESC_LEN + [36, 56, 60][rng.below(3)] + rng.below(4)
            } else {
                tier0_end(20) + rng.below(file.len() - tier0_end(20))
            };
            file[i] = rng.next_u64() as u8;
        }
        fs::write(d.file("disk.sda", "reads"), &file).unwrap();
        let mut s = open(if round % 2 == 0 { MemoryMode::Map } else { MemoryMode::Save }, Some(&d.0), &tiers);
        for k in 0..3 {
            let got = stitched(&s, k, 0, end + 10_000);
            assert!(got.windows(2).all(|w| w[0].t < w[1].t), "round {round}, tier {k}");
            let _ = read_file_tier(&d.file("disk.sda", "reads"), k);
        }
        for i in 0..200 {
            s.store(end + 10 * i, StorageNumber::pack(i as f64, false));
        }
        assert!(read(&s, 1, 0, end + 2000).windows(2).all(|w| w[0].t < w[1].t));
    }
}

/// A day stored in order (a parent replicating a child's day): tier 1 holds all of it, and
/// a stitched read at tier 1 takes all of it from tier 1 — not the first hour from tier 2,
/// whose first point was consolidated from the same data (the bench's query of a
/// replicated day showed its oldest 47 minutes as one hourly point and 46 empty rows).
#[test]
fn a_replicated_day_is_read_from_tier_1_from_its_first_point() {
    let tiers = [
        TierSpec { iterations: 60, entries: 120, bytes: 1_400_000 },
        TierSpec { iterations: 60, entries: 64, bytes: 700_000 },
    ];
    let d = TempDir::new("ctier");
    let spec = StoreSpec {
        mode: MemoryMode::Map,
        dir: Some(&d.0),
        chart_id: "disk.sda",
        dim_id: "reads",
        update_every: 1,
        entries: 4000,
        tiers: &tiers,
    };
    // On a minute, not on an hour: tier 2's first point straddles tier 1's first 34 minutes.
    let start = NOW - 2 * 86_400 + 780;
    assert_eq!((start % 60, start % 3600), (0, 1560));
    let mut s = DimensionStore::open_at(&spec, NOW);
    for t in start..start + 86_400 {
        s.store(t, StorageNumber::pack((t % 1000) as f64, false));
    }
    let mut points = Vec::new();
    s.read_tier(1, i64::MIN, i64::MAX, &mut points);
    assert_eq!(points.iter().filter(|p| p.count > 0).count(), 1440, "tier 1 holds the day");
    let mut stitched = Vec::new();
    s.read_stitched(1, start, start + 86_400, &mut stitched);
    let first = stitched.iter().find(|p| p.count > 0).map(|p| p.t);
    // `start` is on a minute: tier 1's first point is the span (start − 60, start].
    assert_eq!(first, Some(start), "read from tier 1's first point");
    assert!(stitched.windows(2).all(|w| w[1].t - w[0].t <= 60), "no hourly point in a run of minutes");
    let total: u64 = stitched.iter().map(|p| u64::from(p.count)).sum();
    assert_eq!(total, 86_400, "every value once");
}

#[test]
fn a_stitched_read_names_the_tier_of_each_point() {
    let mut a = open(MemoryMode::Ram, None, &archived(1 << 20));
    let end = feed(&mut [&mut a], 10_000, 7);
    let first = a.tier_first_t(2).unwrap();
    for tier in 0..3 {
        for (lo, hi) in [(0, end), (first + 12_345, end - 40_000), (end - 700, end)] {
            let mut tagged = Vec::new();
            a.for_each_stitched(tier, lo, hi, &mut |k, p| tagged.push((k, p)));
            let points: Vec<TierPoint> = tagged.iter().map(|&(_, p)| p).collect();
            same(&points, &stitched(&a, tier, lo, hi), "the points of read_stitched");
            // Each point is the one its tier holds at that time, and times only grow.
            for w in tagged.windows(2) {
                assert!(w[0].1.t < w[1].1.t, "{:?}", w);
            }
            for &(k, p) in tagged.iter().step_by(7) {
                assert_eq!(read(&a, k, p.t, p.t), vec![p], "tier {k} at {}", p.t);
            }
            if lo == 0 {
                // The whole history: the asked tier answers its part, and no other tier
                // than those there are is named.
                let tiers: std::collections::BTreeSet<usize> = tagged.iter().map(|&(k, _)| k).collect();
                assert!(tiers.contains(&tier) && tiers.iter().all(|&k| k <= 2), "tier {tier}: {tiers:?}");
            }
        }
    }
}
