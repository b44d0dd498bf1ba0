//! The `[db]` options of the storage tiers, read into [`PlanOptions`].

use super::super::{keys, Config};
use crate::db::PlanOptions;

/// The `[db]` tier options: tiers 1 and 2 by their registered keys, 3 and 4 by the same
/// names (Netdata allows five tiers); budgets only for `dbengine`.
pub(super) fn tier_options(cfg: &Config, tiers: usize, history: u32, budget: bool) -> PlanOptions {
    let iterations = (1..tiers)
        .map(|n| {
            let v = match n {
                1 => cfg.integer(&keys::DB_TIER1_ITERATIONS),
                2 => cfg.integer(&keys::DB_TIER2_ITERATIONS),
                n => cfg.integer_in(keys::DB, &format!("dbengine tier {n} update every iterations"), 60),
            };
            if !(2..=255).contains(&v) {
                log::warn!("[db] dbengine tier {n} update every iterations = {v}: out of 2 to 255; using the nearest");
            }
            v.clamp(2, 255) as u32
        })
        .collect();
    let retention_secs = (0..tiers)
        .map(|n| {
            let secs = match n {
                0 => cfg.seconds(&keys::DB_TIER0_RETENTION_TIME),
                1 => cfg.seconds(&keys::DB_TIER1_RETENTION_TIME),
                2 => cfg.seconds(&keys::DB_TIER2_RETENTION_TIME),
                n => cfg.seconds_in(keys::DB, &format!("dbengine tier {n} retention time"), 0),
            };
            (secs > 0).then_some(secs)
        })
        .collect();
    let mb = |v: i64| (v.max(1) as u64).min(1 << 24) << 20;
    let budget_bytes = budget.then(|| {
        // The multihost budget rules; the per-host one stands in when only it is written.
        let tier0 = match (
            cfg.raw(keys::DB, keys::DB_MULTIHOST_DISK_SPACE_MB.name),
            cfg.raw(keys::DB, keys::DB_DISK_SPACE_MB.name),
        ) {
            (None, Some(_)) => cfg.integer(&keys::DB_DISK_SPACE_MB),
            _ => cfg.integer(&keys::DB_MULTIHOST_DISK_SPACE_MB),
        };
        let mut out = vec![mb(tier0)];
        for n in 1..tiers {
            let default = 256 >> n.min(8);
            let v = match n {
                1 => cfg.integer(&keys::DB_TIER1_DISK_SPACE_MB),
                2 => cfg.integer(&keys::DB_TIER2_DISK_SPACE_MB),
                n => cfg.integer_in(keys::DB, &format!("dbengine tier {n} multihost disk space MB"), default),
            };
            out.push(mb(v));
        }
        out
    });
    let expected_dimensions =
        usize::try_from(cfg.integer(&keys::DB_EXPECTED_DIMENSIONS).clamp(0, 100_000_000)).unwrap_or(0);
    PlanOptions { tiers, iterations, retention: history, retention_secs, budget_bytes, expected_dimensions }
}
