//! How many points each tier of a new dimension keeps: the `[db]` tier options turned into
//! ring sizes.
//!
//! Two ways, both decided once at start from `netdata.conf`:
//! - **fixed** (`ram`, `save`, `map` with `storage tiers` > 1): tier 0 keeps `[db] retention`
//!   slots, every upper tier the same number of points, or what its `dbengine tier N
//!   retention time` asks for;
//! - **budget** (`dbengine`): each tier has a disk budget (`dbengine multihost disk space MB`
//!   for tier 0, `dbengine tier N multihost disk space MB` above), shared by every
//!   dimension of every host. A ring is a fixed-size file, so the budget is turned into
//!   points per dimension for an expected number of dimensions: those found on disk at
//!   start (at least [`MIN_EXPECTED`]). When more dimensions are alive than expected, the
//!   expectation doubles (logged) and newer dimensions get rings sized for it; the disk can
//!   then exceed the budget by half of it per doubling, until the next start sizes every
//!   ring for the dimensions on disk (a resized ring keeps its newest points). An upper tier
//!   sized by its budget is a small fixed ring (the newest [`BLOCK`] × 2 points, or twice
//!   the iterations of the tier above) plus a compressed archive taking the rest of its
//!   bytes per dimension: its retention depends on how well the data compresses.
//!
//! Guarantees: sizes never depend on anything a peer sends except through the number of
//! live dimensions, which only shrinks new rings; every tier below an upper tier keeps at
//! least twice that tier's iterations (a span is consolidated from the tier below when it
//! closes); sizes stay within `2..=MAX_ENTRIES`.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::archive::BLOCK;
use super::{TierSpec, MAX_ENTRIES, MAX_TIERS, TIER_POINT_BYTES};

/// The least number of dimensions a budget is sized for (a node's own charts and a few
/// children).
pub const MIN_EXPECTED: usize = 1000;
/// Bytes of one tier-0 slot.
const SLOT_BYTES: u64 = 4;
/// Most files counted at start (a bound on the walk).
const MAX_COUNTED: usize = 50_000_000;

/// The options a plan is made of (`[db]` keys, already range-checked by the settings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// `storage tiers`: 1 ..= [`MAX_TIERS`].
    pub tiers: usize,
    /// `dbengine tier N update every iterations`, for N = 1 .. tiers (2 ..= 255).
    pub iterations: Vec<u32>,
    /// `[db] retention`: tier-0 slots of the fixed way.
    pub retention: u32,
    /// `dbengine tier N retention time`, N = 0 .. tiers, seconds; `None`: from the budget
    /// (or, the fixed way, the same points as tier 0).
    pub retention_secs: Vec<Option<u64>>,
    /// The disk budget of each tier in bytes, N = 0 .. tiers; `None`: the fixed way.
    pub budget_bytes: Option<Vec<u64>>,
    /// `dbengine expected dimensions`: what the budget is sized for at least (0: the files
    /// found on disk, at least [`MIN_EXPECTED`]).
    pub expected_dimensions: usize,
}

/// The sizes of a new dimension's rings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sizes {
    pub entries: u32,
    pub tiers: Vec<TierSpec>,
}

/// A plan shared by every host that uses it.
#[derive(Debug)]
pub struct TierPlan {
    options: PlanOptions,
    /// Dimensions the budget is sized for now (budget way).
    expected: AtomicUsize,
    /// Dimensions alive (a [`Ticket`] each).
    alive: Arc<AtomicUsize>,
    /// Bytes of the rings of the alive dimensions, per tier.
    bytes: Arc<[AtomicUsize; MAX_TIERS]>,
}

/// The plans of a node: the fixed one (`storage tiers` set for `ram`, `save`, `map`) and the
/// budget one (`dbengine`), each present only when some host uses it.
#[derive(Clone, Debug, Default)]
pub struct TierPlans {
    pub fixed: Option<Arc<TierPlan>>,
    pub dbengine: Option<Arc<TierPlan>>,
}

impl TierPlans {
    /// The plan of a host stored in `mode`.
    pub fn for_mode(&self, mode: super::MemoryMode) -> Option<Arc<TierPlan>> {
        use super::MemoryMode as M;
        match mode {
            M::Dbengine => self.dbengine.clone(),
            M::Ram | M::Save | M::Map => self.fixed.clone(),
            M::None => None,
        }
    }
}

/// Held by a dimension for as long as its rings exist: counts it and its bytes as alive.
#[derive(Debug)]
pub struct Ticket {
    alive: Arc<AtomicUsize>,
    bytes: Arc<[AtomicUsize; MAX_TIERS]>,
    mine: [usize; MAX_TIERS],
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.alive.fetch_sub(1, Ordering::Relaxed);
        for (total, mine) in self.bytes.iter().zip(self.mine) {
            total.fetch_sub(mine, Ordering::Relaxed);
        }
    }
}

/// Bytes of `points` uncompressed points of `tier` (tier 0's slots, an upper tier's fixed
/// ring; see [`Sizes::tier_bytes`] for a tier with its archive).
pub fn tier_bytes(tier: usize, points: u32) -> usize {
    let per_point = if tier == 0 { SLOT_BYTES as usize } else { TIER_POINT_BYTES };
    per_point * points as usize
}

impl Sizes {
    /// Points `tier` keeps at least: its ring, and what its archive holds of data that does
    /// not compress (a record of 32 raw points and its 16-byte header); compressible data
    /// keeps more.
    pub fn points_at_least(&self, tier: usize) -> u64 {
        match tier {
            0 => u64::from(self.entries),
            k => self
                .tiers
                .get(k - 1)
                .map_or(0, |t| u64::from(t.entries) + u64::from(t.bytes) * 32 / (32 * 14 + 16)),
        }
    }

    /// Bytes per dimension of `tier`: its ring and, above tier 0, its archive.
    pub fn tier_bytes(&self, tier: usize) -> usize {
        match tier {
            0 => tier_bytes(0, self.entries),
            k => self.tiers.get(k - 1).map_or(0, |t| tier_bytes(k, t.entries) + t.bytes as usize),
        }
    }
}

impl TierPlan {
    /// A plan; `on_disk` is the number of dimension files found at start (budget way).
    pub fn new(options: PlanOptions, on_disk: usize) -> TierPlan {
        let mut options = options;
        options.tiers = options.tiers.clamp(1, MAX_TIERS);
        options.iterations.resize(options.tiers - 1, 60);
        for it in &mut options.iterations {
            *it = (*it).clamp(2, 255);
        }
        options.retention_secs.resize(options.tiers, None);
        if let Some(b) = &mut options.budget_bytes {
            let last = b.last().copied().unwrap_or(256 << 20);
            b.resize(options.tiers, last);
        }
        let expected = on_disk.max(options.expected_dimensions).max(MIN_EXPECTED);
        TierPlan {
            options,
            expected: AtomicUsize::new(expected),
            alive: Arc::new(AtomicUsize::new(0)),
            bytes: Arc::new(Default::default()),
        }
    }

    /// Bytes of the rings of the alive dimensions in `tier` (disk for `dbengine`, RAM for
    /// `ram`).
    pub fn allocated_bytes(&self, tier: usize) -> usize {
        self.bytes.get(tier).map_or(0, |b| b.load(Ordering::Relaxed))
    }

    pub fn options(&self) -> &PlanOptions {
        &self.options
    }

    /// True when sized from disk budgets (`dbengine`).
    pub fn is_budget(&self) -> bool {
        self.options.budget_bytes.is_some()
    }

    /// Dimensions the budget is sized for now.
    pub fn expected(&self) -> usize {
        self.expected.load(Ordering::Relaxed)
    }

    /// Dimensions alive under this plan.
    pub fn alive(&self) -> usize {
        self.alive.load(Ordering::Relaxed)
    }

    /// Seconds per point of `tier` for a chart updated every `update_every` seconds.
    pub fn tier_update_every(&self, update_every: u32, tier: usize) -> u64 {
        let mult: u64 = self.options.iterations.iter().take(tier).map(|&i| u64::from(i)).product();
        u64::from(update_every.max(1)) * mult
    }

    /// The rings of a new dimension of a chart updated every `update_every` seconds, and its
    /// ticket (keep it as long as the rings).
    pub fn new_dimension(&self, update_every: u32) -> (Sizes, Ticket) {
        let alive = self.alive.fetch_add(1, Ordering::Relaxed) + 1;
        if self.is_budget() {
            let mut expected = self.expected.load(Ordering::Relaxed);
            while alive > expected {
                let doubled = expected.saturating_mul(2);
                match self.expected.compare_exchange(expected, doubled, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => {
                        log::warn!(
                            "db: dbengine: {alive} dimensions are alive, more than the {expected} the disk \
                             budget was sized for; new dimensions get rings sized for {doubled} (the next \
                             start sizes every ring for the dimensions on disk)"
                        );
                        expected = doubled;
                    }
                    Err(now) => expected = now,
                }
            }
        }
        let sizes = self.sizes(update_every);
        let mut mine = [0usize; MAX_TIERS];
        for (k, m) in mine.iter_mut().enumerate().take(1 + sizes.tiers.len()) {
            *m = sizes.tier_bytes(k);
        }
        for (total, &m) in self.bytes.iter().zip(&mine) {
            total.fetch_add(m, Ordering::Relaxed);
        }
        (sizes, Ticket { alive: Arc::clone(&self.alive), bytes: Arc::clone(&self.bytes), mine })
    }

    /// The rings of a dimension of a chart updated every `update_every` seconds, for the
    /// current expectation.
    pub fn sizes(&self, update_every: u32) -> Sizes {
        let o = &self.options;
        let expected = self.expected() as u64;
        let mut entries: Vec<u32> = (0..o.tiers)
            .map(|k| {
                let per_point = if k == 0 { SLOT_BYTES } else { TIER_POINT_BYTES as u64 };
                let by_time =
                    o.retention_secs[k].map(|s| s.div_ceil(self.tier_update_every(update_every, k)));
                let n = match (&o.budget_bytes, by_time) {
                    (_, Some(n)) => n,
                    (Some(b), None) => b[k] / expected.max(1) / per_point,
                    (None, None) => u64::from(o.retention),
                };
                u32::try_from(n).unwrap_or(MAX_ENTRIES)
            })
            .collect();
        // An upper tier sized by its budget: a fixed ring of two blocks, the rest archived.
        let mut bytes = vec![0u32; o.tiers];
        if let Some(b) = &o.budget_bytes {
            for k in 1..o.tiers {
                if o.retention_secs[k].is_none() {
                    let per_dim = b[k] / expected.max(1);
                    let ring = 2 * (BLOCK as u32).max(o.iterations.get(k).copied().unwrap_or(0));
                    let rest = per_dim.saturating_sub(u64::from(ring) * TIER_POINT_BYTES as u64);
                    let rest = u32::try_from(rest).unwrap_or(super::archive::MAX_ARCHIVE);
                    // Too small for an archive: the fixed ring only, as before.
                    if super::archive::geometry(rest) > 0 {
                        entries[k] = ring;
                        bytes[k] = rest;
                    }
                }
            }
        }
        // A tier below an upper tier keeps at least two of its spans.
        for (k, e) in entries.iter_mut().enumerate() {
            let floor = o.iterations.get(k).map_or(2, |&it| 2 * it);
            *e = (*e).clamp(floor, MAX_ENTRIES);
        }
        Sizes {
            entries: entries[0],
            tiers: (1..o.tiers)
                .map(|k| TierSpec {
                    iterations: o.iterations[k - 1],
                    entries: entries[k],
                    bytes: bytes[k].min(super::archive::MAX_ARCHIVE),
                })
                .collect(),
        }
    }

    /// One line saying what each tier keeps, for the log and `/api/v1/info`: points, time
    /// span at `update_every`, and disk per dimension.
    pub fn describe(&self, update_every: u32) -> String {
        let s = self.sizes(update_every);
        let mut out = String::new();
        if let Some(b) = &self.options.budget_bytes {
            out.push_str(&format!("sized for {} dimensions: ", self.expected()));
            let _ = b;
        }
        let points = std::iter::once(s.entries).chain(s.tiers.iter().map(|t| t.entries));
        for (k, n) in points.enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            let every = self.tier_update_every(update_every, k);
            let bytes = s.tier_bytes(k);
            if k > 0 && s.tiers[k - 1].bytes > 0 {
                let b = self.options.budget_bytes.as_ref().map_or(0, |b| b[k] >> 20);
                out.push_str(&format!(
                    "tier {k} every {} ({b} MiB budget: {bytes} bytes per dimension (compressed: retention \
                     depends on the data))",
                    span_text(every)
                ));
                continue;
            }
            out.push_str(&format!(
                "tier {k} {n} points every {} = {}",
                span_text(every),
                span_text(every.saturating_mul(u64::from(n)))
            ));
            if let Some(b) = &self.options.budget_bytes {
                out.push_str(&format!(" ({} MiB budget: {bytes} bytes per dimension)", b[k] >> 20));
            } else {
                out.push_str(&format!(" ({bytes} bytes per dimension)"));
            }
        }
        out
    }
}

/// `90` → `1m 30s`, `86400` → `1d`: the two largest units.
pub fn span_text(secs: u64) -> String {
    const UNITS: [(u64, &str); 5] = [(365 * 86_400, "y"), (86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, name) in UNITS {
        if rest >= size {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    if parts.is_empty() {
        "0s".into()
    } else {
        parts.join(" ")
    }
}

/// Counts the dimension files (`*.db`) under the cache directory: `<cache>/<host>/<chart>/
/// <dim>.db`. Unreadable directories count as empty; the walk stops at [`MAX_COUNTED`].
pub fn count_dimension_files(cache_dir: &Path) -> usize {
    let mut n = 0usize;
    let Ok(hosts) = std::fs::read_dir(cache_dir) else {
        return 0;
    };
    for host in hosts.flatten() {
        let Ok(charts) = std::fs::read_dir(host.path()) else { continue };
        for chart in charts.flatten() {
            let Ok(dims) = std::fs::read_dir(chart.path()) else { continue };
            n += dims.flatten().filter(|d| d.file_name().as_encoded_bytes().ends_with(b".db")).count();
            if n >= MAX_COUNTED {
                return n;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(tiers: usize, mb: &[u64]) -> PlanOptions {
        PlanOptions {
            tiers,
            iterations: vec![60; tiers.saturating_sub(1)],
            retention: 3600,
            retention_secs: vec![],
            budget_bytes: Some(mb.iter().map(|m| m << 20).collect()),
            expected_dimensions: 0,
        }
    }

    #[test]
    fn a_budget_becomes_points_per_dimension() {
        // 256 MiB over 2000 dimensions of 4-byte slots: 33 554 points. 128 MiB over 2000:
        // 67 108 bytes per dimension for tier 1: a ring of 2 × 60 points (tier 2 consolidates
        // 60 of them; more than 2 blocks of 32) = 1 680 bytes, the archive 65 428 bytes; tier
        // 2, 64 MiB: 33 554 bytes, a ring of 2 × 32 points = 896, the archive 32 658.
        let plan = TierPlan::new(budget(3, &[256, 128, 64]), 2000);
        let s = plan.sizes(1);
        assert_eq!(s.entries, (256u64 << 20) as u32 / 2000 / 4);
        assert_eq!(s.entries, 33_554);
        assert_eq!(
            s.tiers,
            vec![
                TierSpec { iterations: 60, entries: 120, bytes: 65_428 },
                TierSpec { iterations: 60, entries: 64, bytes: 32_658 }
            ]
        );
        assert_eq!((s.tier_bytes(0), s.tier_bytes(1), s.tier_bytes(2)), (134_216, 67_108, 33_554));
        let d = plan.describe(1);
        assert!(d.contains("tier 2 every 1h (64 MiB budget: 33554 bytes per dimension (compressed: retention depends on the data))"), "{d}");
        assert_eq!(plan.tier_update_every(1, 2), 3600);
        assert_eq!(plan.tier_update_every(2, 1), 120);
    }

    #[test]
    fn the_expected_dimensions_size_the_first_start() {
        let mut o = budget(1, &[256]);
        o.expected_dimensions = 200_000;
        // 256 MiB over 200 000 dimensions: 335 slots; the files on disk count when more.
        assert_eq!(TierPlan::new(o.clone(), 0).sizes(1).entries, 335);
        assert_eq!(TierPlan::new(o, 400_000).sizes(1).entries, 167);
    }

    #[test]
    fn floors_keep_two_spans_of_the_tier_above() {
        // 1 MiB over a million dimensions: nothing fits; each lower tier keeps 2 × 60.
        let plan = TierPlan::new(budget(3, &[1, 1, 1]), 1_000_000);
        let s = plan.sizes(1);
        assert_eq!(s.entries, 120);
        assert_eq!(s.tiers[0].entries, 120);
        assert_eq!(s.tiers[1].entries, 2, "the top tier's own floor");
    }

    #[test]
    fn retention_time_overrides_the_budget() {
        let mut o = budget(3, &[256, 128, 64]);
        o.retention_secs = vec![Some(2 * 3600), Some(7 * 86_400), Some(365 * 86_400)];
        let s = TierPlan::new(o, 0).sizes(1);
        assert_eq!((s.entries, s.tiers[0].entries, s.tiers[1].entries), (7200, 10_080, 8760));
    }

    #[test]
    fn the_fixed_way_keeps_the_tier_0_points_in_every_tier() {
        let o = PlanOptions {
            tiers: 2,
            iterations: vec![10],
            retention: 500,
            retention_secs: vec![],
            budget_bytes: None,
            expected_dimensions: 0,
        };
        let plan = TierPlan::new(o, 0);
        assert_eq!(
            plan.sizes(2),
            Sizes { entries: 500, tiers: vec![TierSpec { iterations: 10, entries: 500, bytes: 0 }] }
        );
        assert!(plan.describe(2).contains("tier 1 500 points every 20s = 2h 46m"), "{}", plan.describe(2));
    }

    #[test]
    fn more_dimensions_than_expected_double_the_expectation() {
        let plan = TierPlan::new(budget(1, &[4]), 0);
        assert_eq!(plan.expected(), MIN_EXPECTED);
        let mut tickets = Vec::new();
        for _ in 0..MIN_EXPECTED {
            tickets.push(plan.new_dimension(1));
        }
        assert_eq!(tickets[0].0.entries, (4u32 << 20) / 1000 / 4);
        let (later, t) = plan.new_dimension(1);
        assert_eq!(plan.expected(), 2 * MIN_EXPECTED);
        assert_eq!(later.entries, (4u32 << 20) / 2000 / 4);
        assert_eq!(plan.allocated_bytes(0), 1000 * 1048 * 4 + 524 * 4);
        drop(t);
        tickets.clear();
        assert_eq!(plan.alive(), 0, "tickets count the living");
        assert_eq!(plan.allocated_bytes(0), 0);
    }

    #[test]
    fn spans_read_as_people_write_them() {
        assert_eq!(span_text(0), "0s");
        assert_eq!(span_text(90), "1m 30s");
        assert_eq!(span_text(86_400), "1d");
        assert_eq!(span_text(400 * 86_400 + 7200), "1y 35d");
    }
}
