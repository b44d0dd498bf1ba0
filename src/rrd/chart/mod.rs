//! Charts, their dimensions and the collection arithmetic.
//!
//! A collection is `begin` (how long since the previous one) → `set` raw integers →
//! `end` (compute, interpolate onto `update every` boundaries, store). The arithmetic is
//! Netdata 1.37's `rrdset_done`, written anew from protocol.md §5.4–5.5: the same raw
//! integers and the same microseconds give the same stored numbers on a child and on a
//! parent.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

mod collect;
mod custom;
mod leap;
mod meta;
mod tiers;
mod view;

use parking_lot::{Mutex, MutexGuard, RwLock};

use super::{Algorithm, DimensionOptions, Label, Observer};
use crate::clock::{self, USEC_PER_SEC};
use crate::db::{DimensionStore, MemoryMode, Sizes, StorageNumber, StoreSpec, Ticket, TierPlan};

pub use collect::Collection;
pub use leap::{ClockLeap, ClockRefused};
pub use meta::{ChartMeta, DimensionMeta};
pub use tiers::TierRange;
pub use view::{ChartView, DimView};

/// Above this many lost iterations that can only store empty slots, the interpolation does
/// them as one step (O(dimensions) instead of O(iterations × dimensions)). Below it they
/// run one by one, so the floating-point arithmetic of short gaps is Netdata's to the bit.
const MERGE_LOST_ITERATIONS_ABOVE: u64 = 8;

/// Above this share of the counter's range a wrapped counter is taken as a reset, not an
/// overflow (Netdata's `MAX_INCREMENTAL_PERCENT_RATE`).
const MAX_INCREMENTAL_PERCENT_RATE: u64 = 10;

/// One stored point as read back.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Point {
    /// End of the slot, seconds since the epoch (a multiple of the chart's `update every`).
    pub t: i64,
    /// `None` for an empty slot (a gap).
    pub value: Option<f64>,
    /// The counter wrapped or reset in this slot.
    pub reset: bool,
}

/// Where and how a chart stores its dimensions.
#[derive(Clone, Debug)]
pub(crate) struct StorageSettings {
    pub mode: MemoryMode,
    /// The host's database directory (`<cache dir>/<machine guid>`), for `save` and `map`.
    pub dir: Option<PathBuf>,
    pub entries: u32,
    /// Sizes the rings and their upper tiers instead of `entries`, when set.
    pub plan: Option<Arc<TierPlan>>,
    /// `[db] gap when lost iterations above`.
    pub gap_when_lost_iterations_above: u32,
}

/// The observer of a host's collections, shared by all its charts (set when streaming
/// starts, so charts created earlier see it too).
pub(crate) type ObserverSlot = Arc<RwLock<Option<Arc<dyn Observer>>>>;

/// A chart: its metadata, its dimensions and their storage, behind one lock.
pub struct Chart {
    id: String,
    state: Mutex<ChartState>,
    observer: ObserverSlot,
    /// When the chart became obsolete (unix seconds; 0: it is not). Outside the lock so the
    /// housekeeping scan of thousands of charts takes no chart lock; 32 bits (good until
    /// 2106) because 32-bit MIPS has no 64-bit atomics.
    obsolete_since: AtomicU32,
    /// How many of its dimensions are obsolete (the scan skips charts without any).
    obsolete_dims: AtomicUsize,
    /// Bumped when dimensions are removed (their indices shift): a source holding indices
    /// across lines compares it to drop a collection that straddled a removal.
    layout: AtomicUsize,
}

/// What the streaming sender remembers per chart, kept under the chart's lock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamState {
    /// The connection on which the definition was last sent (0: never).
    pub generation: u32,
    /// Definition sent with `CHART_DEFINITION_END`; no data until replication is done.
    pub replicating: bool,
    /// Collections left that send `BEGIN … 0` so the parent syncs to its own clock (when
    /// replication was not negotiated).
    pub resync_left: u32,
}

struct Dim {
    meta: DimensionMeta,
    store: DimensionStore,
    /// Counts the dimension in its tier plan's budget while its rings exist.
    _ticket: Option<Ticket>,
    /// When the dimension became obsolete (unix seconds; 0: it is not).
    obsolete_since: i64,
    collected_value: i64,
    last_collected_value: i64,
    calculated_value: f64,
    last_calculated_value: f64,
    last_stored_value: f64,
    /// Largest |value| ever collected: chooses the 32- or 64-bit wrap cap.
    collected_value_max: u64,
    collections_counter: u64,
    updated: bool,
    last_collected_ut: u64,
}

struct ChartState {
    meta: ChartMeta,
    dims: Vec<Dim>,
    /// Index in `dims` by dimension id, so that `DIMENSION`, `SET` and `RSET` lines cost a
    /// hash lookup, not a walk of every dimension (rebuilt when dimensions are removed).
    by_id: HashMap<Box<str>, usize>,
    storage: StorageSettings,
    /// Time of the last collection, microseconds; 0 before the first.
    last_collected_ut: u64,
    /// Time of the last stored slot, microseconds (whole seconds); 0 before the first.
    last_updated_ut: u64,
    usec_since_last_update: u64,
    /// Slots stored (or skipped) since the chart was created.
    counter: u64,
    /// Collections completed since the chart was created.
    counter_done: u64,
    collected_total: i64,
    last_collected_total: i64,
    /// The next `begin` ignores the microseconds it is given (set when the chart is redefined).
    sync_clock: bool,
    /// Times the clock was found ahead of the local one and adjusted (logged at powers of two,
    /// so a source cannot flood the log with it).
    future_adjustments: u64,
    /// Bumped whenever the definition changes (metadata, labels, dimensions added, changed
    /// or removed): lets a source skip a `CHART` line identical to its last one.
    version: u64,
    stream: StreamState,
    /// Custom chart variables (`VARIABLE CHART`), for health.
    variables: super::Variables,
}

impl Chart {
    pub(crate) fn new(meta: ChartMeta, storage: StorageSettings, observer: ObserverSlot) -> Chart {
        let since = if meta.options.obsolete { clock::now_realtime_sec().max(1) } else { 0 };
        Chart {
            id: meta.id.clone(),
            observer,
            obsolete_since: AtomicU32::new(unix_u32(since)),
            obsolete_dims: AtomicUsize::new(0),
            layout: AtomicUsize::new(0),
            state: Mutex::new(ChartState {
                meta,
                dims: Vec::new(),
                by_id: HashMap::new(),
                storage,
                last_collected_ut: 0,
                last_updated_ut: 0,
                usec_since_last_update: 0,
                counter: 0,
                counter_done: 0,
                collected_total: 0,
                last_collected_total: 0,
                sync_clock: false,
                future_adjustments: 0,
                version: 0,
                stream: StreamState::default(),
                variables: super::Variables::default(),
            }),
        }
    }

    /// `type.id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The version of the chart's definition (see [`Chart::redefine_unchanged`]).
    pub fn definition_version(&self) -> u64 {
        self.state.lock().version
    }

    /// What [`Chart::redefine`] does with metadata equal to the chart's (the next collection
    /// resynchronises to the local clock), if the definition is still at `version`: a source
    /// whose `CHART` line is identical to the one that led to `version` skips rebuilding
    /// and comparing the metadata. Returns false (nothing done) when it changed meanwhile.
    pub fn redefine_unchanged(&self, version: u64) -> bool {
        let mut st = self.state.lock();
        if st.version != version {
            return false;
        }
        st.sync_clock = true;
        true
    }

    /// The index of dimension `id` if its definition is exactly this one (the fields of a
    /// `DIMENSION` line, multiplier and divisor as given, 0 meaning 1): a `DIMENSION` line
    /// that changes nothing then costs one lock and a hash lookup, no allocation.
    pub fn dimension_unchanged(
        &self,
        id: &str,
        name: &str,
        algorithm: Algorithm,
        multiplier: i64,
        divisor: i64,
        options: DimensionOptions,
    ) -> Option<usize> {
        let st = self.state.lock();
        let i = *st.by_id.get(id)?;
        let m = &st.dims.get(i)?.meta;
        (m.name == name
            && m.algorithm == algorithm
            && m.multiplier == zero_is_one(multiplier)
            && m.divisor == zero_is_one(divisor)
            && m.options == options)
            .then_some(i)
    }

    /// The chart's update every, seconds (without copying its metadata).
    pub fn update_every(&self) -> u32 {
        self.state.lock().meta.update_every
    }

    /// A copy of the chart's metadata.
    pub fn meta(&self) -> ChartMeta {
        self.state.lock().meta.clone()
    }

    /// Redefines the chart (a `CHART` line for an existing chart). Returns whether anything
    /// changed. The next collection resynchronises to the local clock, as Netdata does; a
    /// changed `update every` restarts the dimensions' storage at the new step.
    pub fn redefine(&self, meta: ChartMeta) -> bool {
        let mut st = self.state.lock();
        st.sync_clock = true;
        if st.meta == meta {
            return false;
        }
        st.stream.generation = 0; // parents get the definition again
        st.version += 1;
        let step_changed = st.meta.update_every != meta.update_every;
        let became_obsolete = meta.options.obsolete && !st.meta.options.obsolete;
        if meta.options.obsolete != st.meta.options.obsolete {
            let since = if meta.options.obsolete { clock::now_realtime_sec().max(1) } else { 0 };
            self.obsolete_since.store(unix_u32(since), Ordering::Release);
        }
        st.meta = meta;
        if step_changed {
            let st = &mut *st;
            for d in &mut st.dims {
                (d.store, d._ticket) = open_store(&st.storage, &st.meta, &d.meta.id);
            }
            st.last_collected_ut = 0;
            st.last_updated_ut = 0;
        }
        if became_obsolete {
            // It will not be collected again: tell the sender now, so that parents learn it
            // (Netdata sends the definition with the obsolete flag once).
            let observer = self.observer.read().clone();
            if let Some(o) = observer {
                let st = &mut *st;
                let mut stream = std::mem::take(&mut st.stream);
                o.obsoleted(&ChartView { st }, &mut stream);
                st.stream = stream;
            }
        }
        true
    }

    /// When the chart became obsolete (unix seconds), if it is.
    pub fn obsolete_since(&self) -> Option<i64> {
        match self.obsolete_since.load(Ordering::Acquire) {
            0 => None,
            t => Some(i64::from(t)),
        }
    }

    /// Whether the chart is obsolete and neither marked nor collected nor stored for `after`
    /// seconds before `now`: what `[db] cleanup obsolete charts after secs` frees.
    pub fn expired(&self, now: i64, after: i64) -> bool {
        let Some(since) = self.obsolete_since() else { return false };
        if now.saturating_sub(since) < after {
            return false;
        }
        let st = self.state.lock();
        let last = (st.last_collected_ut.max(st.last_updated_ut) / USEC_PER_SEC) as i64;
        st.meta.options.obsolete && now.saturating_sub(last) >= after
    }

    /// Whether some dimension is obsolete.
    pub fn has_obsolete_dimensions(&self) -> bool {
        self.obsolete_dims.load(Ordering::Acquire) > 0
    }

    /// Removes the dimensions obsolete and not collected for `after` seconds before `now`,
    /// with their storage, and deletes their files in `delete_files_in` (the host's database
    /// directory) while the chart is locked, so a dimension defined again meanwhile cannot
    /// lose its new file. Returns how many were removed. The indices of the remaining
    /// dimensions shift down: only sources that look dimensions up by id (plugins, streams)
    /// obsolete dimensions; the internal collectors never do.
    pub fn remove_expired_dimensions(&self, now: i64, after: i64, delete_files_in: Option<&Path>) -> usize {
        let mut st = self.state.lock();
        let expired = |d: &Dim| {
            d.meta.options.obsolete
                && d.obsolete_since != 0
                && now.saturating_sub(d.obsolete_since) >= after
                && now.saturating_sub((d.last_collected_ut / USEC_PER_SEC) as i64) >= after
        };
        let before = st.dims.len();
        let chart_id = self.id.as_str();
        st.dims.retain(|d| {
            if !expired(d) {
                return true;
            }
            if let Some(dir) = delete_files_in {
                let _ = std::fs::remove_file(crate::db::dimension_path(dir, chart_id, &d.meta.id));
            }
            false
        });
        let removed = before - st.dims.len();
        if removed > 0 {
            self.layout.fetch_add(1, Ordering::AcqRel);
            st.dims.shrink_to_fit();
            let st = &mut *st;
            st.by_id = st.dims.iter().enumerate().map(|(i, d)| (d.meta.id.as_str().into(), i)).collect();
            st.stream.generation = 0; // parents get the definition without them
            st.version += 1;
            let left = st.dims.iter().filter(|d| d.meta.options.obsolete).count();
            self.obsolete_dims.store(left, Ordering::Release);
        }
        removed
    }

    /// Changes whenever dimensions were removed, that is when dimension indices shifted.
    pub fn layout(&self) -> usize {
        self.layout.load(Ordering::Acquire)
    }

    /// The ids of the chart's dimensions (for deleting the files of a removed chart).
    pub(crate) fn dimension_ids(&self) -> Vec<String> {
        self.state.lock().dims.iter().map(|d| d.meta.id.clone()).collect()
    }

    /// Replaces the chart's labels (a `CLABEL` … `CLABEL_COMMIT` batch) without the clock
    /// resynchronisation that a redefinition implies.
    pub fn set_labels(&self, labels: Vec<Label>) {
        let mut st = self.state.lock();
        if st.meta.labels != labels {
            st.meta.labels = labels;
            st.stream.generation = 0; // parents get the new labels with the definition
            st.version += 1;
        }
    }

    /// How many dimensions the chart has.
    pub fn dimension_count(&self) -> usize {
        self.state.lock().dims.len()
    }

    /// Adds a dimension, or updates the one with the same id. Returns its index, which stays
    /// valid for the life of the chart unless an obsolete dimension before it is removed
    /// ([`Chart::remove_expired_dimensions`]).
    pub fn dimension(&self, meta: DimensionMeta) -> usize {
        let mut st = self.state.lock();
        if let Some(&i) = st.by_id.get(meta.id.as_str()) {
            if st.dims[i].meta != meta {
                match (st.dims[i].meta.options.obsolete, meta.options.obsolete) {
                    (false, true) => {
                        st.dims[i].obsolete_since = clock::now_realtime_sec().max(1);
                        self.obsolete_dims.fetch_add(1, Ordering::AcqRel);
                    }
                    (true, false) => {
                        st.dims[i].obsolete_since = 0;
                        self.obsolete_dims.fetch_sub(1, Ordering::AcqRel);
                    }
                    _ => {}
                }
                st.dims[i].meta = meta;
                st.stream.generation = 0; // parents must recompute with the new definition
                st.version += 1;
            }
            return i;
        }
        st.stream.generation = 0;
        st.version += 1;
        let (store, ticket) = open_store(&st.storage, &st.meta, &meta.id);
        let obsolete_since = if meta.options.obsolete {
            self.obsolete_dims.fetch_add(1, Ordering::AcqRel);
            clock::now_realtime_sec().max(1)
        } else {
            0
        };
        let index = st.dims.len();
        st.by_id.insert(meta.id.as_str().into(), index);
        st.dims.push(Dim {
            meta,
            store,
            _ticket: ticket,
            obsolete_since,
            collected_value: 0,
            last_collected_value: 0,
            calculated_value: 0.0,
            last_calculated_value: 0.0,
            last_stored_value: f64::NAN,
            collected_value_max: 0,
            collections_counter: 0,
            updated: false,
            last_collected_ut: 0,
        });
        st.dims.len() - 1
    }

    /// Index of the dimension with this id.
    pub fn dimension_index(&self, id: &str) -> Option<usize> {
        self.state.lock().by_id.get(id).copied()
    }

    /// Copies of every dimension's metadata, in creation order.
    pub fn dimensions(&self) -> Vec<DimensionMeta> {
        self.state.lock().dims.iter().map(|d| d.meta.clone()).collect()
    }

    /// Starts a collection at `now_ut` (microseconds). `usec` is the time since the previous
    /// collection as the source measured it (0: measure it here). Sources whose durations are
    /// trusted (a streaming child) are taken as they are; others are checked against the
    /// clock like Netdata checks plugins.
    ///
    /// For local collectors, which pass `usec` 0 (that never leaps): a collection whose
    /// `usec` would move the chart's clock too far ahead (see [`Chart::try_begin`]) stores
    /// nothing.
    pub fn begin(&self, now_ut: u64, usec: u64, trust: bool) -> Collection<'_> {
        let mut st = self.state.lock();
        let refused = st.start(now_ut, usec, trust).err();
        Collection { st, now_ut, observer: &self.observer, refused }
    }

    /// Like [`Chart::begin`], but refuses (changing nothing) a collection that would put the
    /// chart's clock more than [`MAX_FUTURE_SECS`] past `now_ut`: a time from outside can
    /// never make a chart interpolate over time that has not passed.
    pub fn try_begin(&self, now_ut: u64, usec: u64, trust: bool) -> Result<Collection<'_>, ClockLeap> {
        let c = self.begin(now_ut, usec, trust);
        match c.refused {
            Some(leap) => Err(leap),
            None => Ok(c),
        }
    }

    /// Runs `f` on a view of the locked chart and its streaming state.
    pub fn with_view<R>(&self, f: impl FnOnce(&ChartView<'_>, &mut StreamState) -> R) -> R {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let mut stream = std::mem::take(&mut st.stream);
        let r = f(&ChartView { st }, &mut stream);
        st.stream = stream;
        r
    }

    /// Oldest tier-0 time of any dimension (what replication can answer).
    pub fn first_entry_t(&self) -> Option<i64> {
        self.state.lock().dims.iter().filter_map(|d| d.store.first_t()).min()
    }

    pub fn last_entry_t(&self) -> Option<i64> {
        self.state.lock().dims.iter().filter_map(|d| d.store.last_t()).max()
    }

    /// The stored points of dimension `dim` with `after ≤ t ≤ before`, oldest first.
    pub fn query(&self, dim: usize, after: i64, before: i64) -> Vec<Point> {
        let mut raw = Vec::new();
        self.query_into(dim, after, before, &mut raw);
        raw.into_iter().map(|(t, n)| Point { t, value: n.value(), reset: n.is_reset() }).collect()
    }

    /// [`Chart::query`] as stored numbers into `raw` (cleared first), so that a caller
    /// reading many dimensions and windows (the query engine) reuses one buffer.
    pub fn query_into(&self, dim: usize, after: i64, before: i64, raw: &mut Vec<(i64, StorageNumber)>) {
        raw.clear();
        let st = self.state.lock();
        if let Some(d) = st.dims.get(dim) {
            d.store.query(after, before, raw);
        }
    }

    /// Last raw collected integer, last stored value and how many times each dimension was
    /// collected (for diagnostics and the API).
    pub fn last_values(&self) -> Vec<(i64, f64)> {
        self.state.lock().dims.iter().map(|d| (d.last_collected_value, d.last_stored_value)).collect()
    }

    /// Writes `save`-mode files and flushes `map`-mode mappings.
    pub fn save(&self) -> io::Result<()> {
        let mut st = self.state.lock();
        let mut result = Ok(());
        for d in &mut st.dims {
            if let Err(e) = d.store.save() {
                result = Err(e);
            }
        }
        result
    }

    /// Stores a replicated point (`RSET`) of dimension `dim` at `t` as the child stored it:
    /// a NaN is an empty slot. The collection state is not touched.
    pub fn store_point(&self, dim: usize, t: i64, value: f64, reset: bool) {
        let mut st = self.state.lock();
        if let Some(d) = st.dims.get_mut(dim) {
            d.store.store(t, StorageNumber::pack(value, reset));
        }
    }

    /// Takes over a dimension's collection state from a child (`RDSTATE`), so that the next
    /// live collection continues where the child's replicated points end. Refused (nothing
    /// changed) when `last_collected_ut` is too far past `now_ut`.
    pub fn restore_dimension(
        &self,
        dim: usize,
        last_collected_ut: u64,
        last_collected: i64,
        calculated: f64,
        stored: f64,
        now_ut: u64,
    ) -> Result<(), ClockLeap> {
        ClockLeap::check(last_collected_ut, now_ut)?;
        let mut st = self.state.lock();
        if let Some(d) = st.dims.get_mut(dim) {
            d.last_collected_ut = last_collected_ut;
            d.last_collected_value = last_collected;
            d.last_calculated_value = if calculated.is_finite() { calculated } else { 0.0 };
            d.last_stored_value = stored;
            d.collected_value_max = d.collected_value_max.max(last_collected.unsigned_abs());
            if last_collected_ut > 0 {
                d.collections_counter = d.collections_counter.max(1);
            }
        }
        Ok(())
    }

    /// Takes over the chart's collection clock from a child (`RSSTATE`): the next `BEGIN`'s
    /// microseconds count from the child's last collection. Ignored when the child has not
    /// collected the chart yet. Refused (nothing changed) when either time is too far past
    /// `now_ut`, or when it would move a clock the chart already has backwards (the next
    /// collection would then interpolate again over slots already stored: work a peer could
    /// repeat at will). The last stored slot is kept within the step before the last
    /// collection, where a child's always is (earlier, the interpolation would compute a
    /// negative part of a step: an overflow).
    pub fn restore_clock(
        &self,
        last_collected_ut: u64,
        last_updated_ut: u64,
        now_ut: u64,
    ) -> Result<(), ClockRefused> {
        ClockLeap::check(last_collected_ut.max(last_updated_ut), now_ut).map_err(ClockRefused::Ahead)?;
        let mut st = self.state.lock();
        if last_collected_ut == 0 {
            return Ok(());
        }
        if last_collected_ut < st.last_collected_ut {
            return Err(ClockRefused::Backwards { behind_ut: st.last_collected_ut - last_collected_ut });
        }
        let floor = last_collected_ut.saturating_sub(st.step_ut());
        st.last_collected_ut = last_collected_ut;
        st.last_updated_ut = last_updated_ut.clamp(floor, last_collected_ut);
        st.sync_clock = false;
        st.counter_done = st.counter_done.max(1);
        st.counter = st.counter.max(1);
        st.last_collected_total =
            st.dims.iter().fold(0i64, |sum, d| sum.wrapping_add(d.last_collected_value));
        Ok(())
    }

    /// Store calls and slot writes of all dimensions so far (see `DimensionStore::work`).
    #[cfg(test)]
    fn store_work(&self) -> (u64, u64) {
        self.state.lock().dims.iter().map(|d| d.store.work()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }

    /// Bytes of storage held by the chart's dimensions.
    pub fn memory_bytes(&self) -> usize {
        self.state.lock().dims.iter().map(|d| d.store.memory_bytes()).sum()
    }
}

/// A multiplier or divisor as given on a `DIMENSION` line: 0 means 1 (Netdata's rule).
fn zero_is_one(v: i64) -> i64 {
    if v == 0 {
        1
    } else {
        v
    }
}

/// Unix seconds as kept in an [`AtomicU32`] (clamped to its range).
fn unix_u32(t: i64) -> u32 {
    u32::try_from(t.max(0)).unwrap_or(u32::MAX)
}

/// Opens a dimension's rings, sized by the chart's tier plan when it has one.
fn open_store(storage: &StorageSettings, meta: &ChartMeta, dim_id: &str) -> (DimensionStore, Option<Ticket>) {
    let update_every = meta.update_every.max(1);
    let (sizes, ticket) = match &storage.plan {
        Some(plan) => {
            let (sizes, ticket) = plan.new_dimension(update_every);
            (sizes, Some(ticket))
        }
        None => (Sizes { entries: storage.entries.max(1), tiers: Vec::new() }, None),
    };
    let store = DimensionStore::open(&StoreSpec {
        mode: storage.mode.storage(),
        dir: storage.dir.as_deref().map(Path::new),
        chart_id: &meta.id,
        dim_id,
        update_every,
        entries: sizes.entries,
        tiers: &sizes.tiers,
    });
    (store, ticket)
}

#[cfg(test)]
mod tests;
