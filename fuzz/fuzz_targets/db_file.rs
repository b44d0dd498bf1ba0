//! Database file headers (`db::DimensionStore::open` in `save` and `map` modes, and
//! `db::read_file`): the input is written as a dimension's file and opened.
//!
//! Input: byte 0 holds switches (bit 0: fix the header's checksum, bit 1: give it the right
//! owner hash, so the fuzzer reaches past those checks; bit 2: map instead of save; bits 3-4:
//! update every - 1; bit 5: upper tiers; bit 6: with compressed archives, and 400 more points
//! stored so blocks are archived, evicted and read back), byte 1 the store's number of
//! entries; the rest is the file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nanodata::db::{self, DimensionStore, MemoryMode, StorageNumber, StoreSpec, TierSpec};

const CHART: &str = "fuzz.chart";
const DIM: &str = "dim";
const NOW: i64 = 1_700_000_000;

/// FNV-1a 64, as the file format documents (src/db/file.rs).
fn fnv1a64(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // tmpfs when there is one: `save` syncs its file, which is free there.
        let base = std::path::Path::new("/dev/shm");
        let base = if base.is_dir() { base.to_path_buf() } else { std::env::temp_dir() };
        let d = base.join(format!("nanodata-fuzz-db-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let [flags, entries, file @ ..] = data else { return };
    let mut file = file.to_vec();
    if file.len() >= 64 {
        if flags & 2 != 0 {
            let h = fnv1a64(fnv1a64(fnv1a64(0xcbf2_9ce4_8422_2325, CHART.as_bytes()), &[0]), DIM.as_bytes());
            file[24..32].copy_from_slice(&h.to_le_bytes());
        }
        if flags & 1 != 0 {
            let h = fnv1a64(0xcbf2_9ce4_8422_2325, &file[0..32]);
            file[32..36].copy_from_slice(&((h ^ (h >> 32)) as u32).to_le_bytes());
        }
    }
    let host_dir = dir();
    let path = db::dimension_path(host_dir, CHART, DIM);
    std::fs::create_dir_all(path.parent().expect("a chart directory")).expect("chart dir");
    std::fs::write(&path, &file).expect("write the file");

    if let Ok(points) = db::read_file(&path) {
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "oldest first, increasing");
    }
    let mode = if flags & 4 != 0 { MemoryMode::Map } else { MemoryMode::Save };
    let spec = StoreSpec {
        mode,
        dir: Some(host_dir),
        chart_id: CHART,
        dim_id: DIM,
        update_every: u32::from(flags >> 3 & 3) + 1,
        entries: u32::from(*entries),
        // Upper tiers too on half the inputs: their sections are parsed and checked as well.
        tiers: match (flags & 32 != 0, flags & 64 != 0) {
            (true, false) => &[
                TierSpec { iterations: 2, entries: 8, bytes: 0 },
                TierSpec { iterations: 3, entries: 4, bytes: 0 },
            ],
            (true, true) => &[
                TierSpec { iterations: 2, entries: 64, bytes: 700 },
                TierSpec { iterations: 3, entries: 64, bytes: 300 },
            ],
            _ => &[],
        },
    };
    let mut store = DimensionStore::open_at(&spec, NOW);
    let _ = store.outcome();
    let mut out = Vec::new();
    store.query(i64::MIN, i64::MAX, &mut out);
    assert!(out.len() <= store.entries() as usize);
    if let (Some(first), Some(last)) = (store.first_t(), store.last_t()) {
        assert!(first <= last);
    }
    // A store at or after the newest time is kept (an older one may be outside the window:
    // a file may be up to a day ahead of the clock).
    let ue = i64::from(store.update_every());
    let t = store.last_t().map_or(NOW, |l| l.max(NOW));
    store.store(t, StorageNumber::pack(1.5, false));
    assert_eq!(store.get(t - t % ue).value(), Some(1.5), "stored at {t}");
    if flags & 64 != 0 {
        // Enough points to archive blocks of 32 in both tiers and wrap their small regions;
        // values from the input so blocks compress differently.
        for i in 1..=400i64 {
            let v = file.get(i as usize % file.len().max(1)).copied().unwrap_or(0);
            store.store(t + i * ue, StorageNumber::pack(f64::from(v) * 7.25, false));
        }
    }
    for tier in 0..store.tier_count() {
        let mut points = Vec::new();
        store.read_stitched(tier, i64::MIN, i64::MAX, &mut points);
        assert!(points.windows(2).all(|w| w[0].t < w[1].t), "stitched reads are oldest first");
        let _ = db::read_file_tier(&path, tier);
    }
    let _ = store.sum_count(i64::MIN, i64::MAX);
    let _ = store.save();
    drop(store);
    let _ = std::fs::remove_file(&path);
});
