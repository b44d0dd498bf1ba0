//! Per-dimension round-robin storage: packed 4-byte samples in a fixed-step ring per
//! dimension (tier 0), optionally with consolidated upper tiers (per minute, per hour, …),
//! kept in memory (`ram`, `save`), in one shared file mapping per dimension (`map`) or not
//! at all (`none`).
//!
//! Guarantees: a host's data lives under `<cache dir>/<machine guid>/<chart>/<dim>.db`
//! ([`host_dir`], [`dimension_path`]); `save` and `map` share one explicit little-endian file
//! format, so switching between them (or between architectures) keeps the data; a missing,
//! damaged or foreign file never crashes and is never trusted — it is logged and rebuilt, or
//! the store falls back to `ram` when the file cannot be used at all.

mod archive;
mod file;
mod mode;
mod number;
mod open;
mod plan;
mod ring;
mod store;
mod tier;
mod tierfile;
mod upper;

#[doc(hidden)]
pub use archive::fuzz_block;

#[cfg(test)]
mod archive_tests;
#[cfg(test)]
mod scratch;
#[cfg(test)]
mod tier_tests;

pub use file::{dimension_path, host_dir, read_file, Damage, MAX_ENTRIES};
pub use mode::MemoryMode;
pub use number::StorageNumber;
pub use plan::{
    count_dimension_files, span_text, tier_bytes, PlanOptions, Sizes, Ticket, TierPlan, TierPlans,
    MIN_EXPECTED,
};
pub use store::{DimensionStore, OpenOutcome, StoreSpec};
pub use tier::{TierOutcome, TierPoint, TierSpec, MAX_TIERS, TIER_POINT_BYTES};
pub use tierfile::{read_file_tier, tier_file_usage, TierDamage, TierUsage};
