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

use parking_lot::{Mutex, MutexGuard, RwLock};

use super::{Algorithm, ChartOptions, ChartType, DimensionOptions, Label, Observer, MAX_FUTURE_SECS};
use crate::clock::{self, USEC_PER_SEC};
use crate::db::{DimensionStore, MemoryMode, StorageNumber, StoreSpec};

/// Above this many lost iterations that can only store empty slots, the interpolation does
/// them as one step (O(dimensions) instead of O(iterations × dimensions)). Below it they
/// run one by one, so the floating-point arithmetic of short gaps is Netdata's to the bit.
const MERGE_LOST_ITERATIONS_ABOVE: u64 = 8;

/// Above this share of the counter's range a wrapped counter is taken as a reset, not an
/// overflow (Netdata's `MAX_INCREMENTAL_PERCENT_RATE`).
const MAX_INCREMENTAL_PERCENT_RATE: u64 = 10;

/// Everything a `CHART` line says about a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartMeta {
    /// `type.id`.
    pub id: String,
    /// `type.name`; equal to `id` when the chart has no name of its own.
    pub name: String,
    pub title: String,
    pub units: String,
    pub family: String,
    pub context: String,
    pub chart_type: ChartType,
    pub priority: i64,
    pub update_every: u32,
    pub options: ChartOptions,
    pub plugin: String,
    pub module: String,
    pub labels: Vec<Label>,
}

impl ChartMeta {
    /// A chart `type.id` with Netdata's defaults for everything else: no name, empty title,
    /// units `unknown`, family = type, context = `type.id`, line, priority 1000, every 1 s.
    pub fn new(type_: &str, id: &str) -> ChartMeta {
        let full = format!("{type_}.{id}");
        ChartMeta {
            name: full.clone(),
            context: full.clone(),
            id: full,
            title: String::new(),
            units: "unknown".into(),
            family: type_.into(),
            chart_type: ChartType::Line,
            priority: 1000,
            update_every: 1,
            options: ChartOptions::default(),
            plugin: String::new(),
            module: String::new(),
            labels: Vec::new(),
        }
    }

    /// The part of the id before the first `.`.
    pub fn type_part(&self) -> &str {
        self.id.split_once('.').map_or(self.id.as_str(), |(t, _)| t)
    }

    pub fn title(mut self, v: &str) -> Self {
        self.title = v.into();
        self
    }
    pub fn units(mut self, v: &str) -> Self {
        self.units = v.into();
        self
    }
    pub fn family(mut self, v: &str) -> Self {
        self.family = v.into();
        self
    }
    pub fn context(mut self, v: &str) -> Self {
        self.context = v.into();
        self
    }
    pub fn chart_type(mut self, v: ChartType) -> Self {
        self.chart_type = v;
        self
    }
    pub fn priority(mut self, v: i64) -> Self {
        self.priority = v;
        self
    }
    pub fn update_every(mut self, v: u32) -> Self {
        self.update_every = v.max(1);
        self
    }
    pub fn detail(mut self) -> Self {
        self.options.detail = true;
        self
    }
    /// Sets plugin and module and the `_collect_plugin`/`_collect_module` labels Netdata adds.
    pub fn source(mut self, plugin: &str, module: &str) -> Self {
        self.plugin = plugin.into();
        self.module = module.into();
        let src = super::label_source::AUTO | super::label_source::PERMANENT;
        self.labels.retain(|l| l.name != "_collect_plugin" && l.name != "_collect_module");
        self.labels.push(Label { name: "_collect_plugin".into(), value: plugin.into(), source: src });
        // Netdata labels a chart without a module "[none]".
        let module_label = if module.is_empty() { "[none]" } else { module };
        self.labels.push(Label { name: "_collect_module".into(), value: module_label.into(), source: src });
        self
    }
}

/// Everything a `DIMENSION` line says about a dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct DimensionMeta {
    pub id: String,
    pub name: String,
    pub algorithm: Algorithm,
    pub multiplier: i64,
    pub divisor: i64,
    pub options: DimensionOptions,
}

impl DimensionMeta {
    /// A dimension named like its id: absolute, ×1 ÷1.
    pub fn new(id: &str) -> DimensionMeta {
        DimensionMeta {
            id: id.into(),
            name: id.into(),
            algorithm: Algorithm::Absolute,
            multiplier: 1,
            divisor: 1,
            options: DimensionOptions::default(),
        }
    }
    pub fn name(mut self, v: &str) -> Self {
        self.name = v.into();
        self
    }
    pub fn algorithm(mut self, v: Algorithm) -> Self {
        self.algorithm = v;
        self
    }
    /// Multiplier and divisor; 0 means 1, as in Netdata.
    pub fn scale(mut self, multiplier: i64, divisor: i64) -> Self {
        self.multiplier = zero_is_one(multiplier);
        self.divisor = zero_is_one(divisor);
        self
    }
    pub fn hidden(mut self) -> Self {
        self.options.hidden = true;
        self
    }
}

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

/// A time from outside refused because it would move a chart's clock past the local clock
/// by more than [`MAX_FUTURE_SECS`]: nothing was changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ClockLeap {
    /// How far past the local clock the chart would have been, microseconds.
    pub ahead_ut: u64,
}

impl ClockLeap {
    /// `Err` when `ut` is more than [`MAX_FUTURE_SECS`] past `now_ut`.
    pub fn check(ut: u64, now_ut: u64) -> Result<(), ClockLeap> {
        if ut > now_ut.saturating_add(MAX_FUTURE_SECS * USEC_PER_SEC) {
            Err(ClockLeap { ahead_ut: ut - now_ut })
        } else {
            Ok(())
        }
    }
}

impl std::fmt::Display for ClockLeap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.3} s ahead of the local clock (at most {MAX_FUTURE_SECS} s allowed)",
            self.ahead_ut as f64 / USEC_PER_SEC as f64
        )
    }
}

/// Why a chart state from outside (`RSSTATE`) was refused: nothing was changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClockRefused {
    /// Too far past the local clock.
    Ahead(ClockLeap),
    /// Behind the chart's own clock by this many microseconds.
    Backwards { behind_ut: u64 },
}

impl std::fmt::Display for ClockRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockRefused::Ahead(leap) => leap.fmt(f),
            ClockRefused::Backwards { behind_ut } => write!(
                f,
                "{:.3} s behind the chart's own clock (a chart's clock is not moved back)",
                *behind_ut as f64 / USEC_PER_SEC as f64
            ),
        }
    }
}

/// Where and how a chart stores its dimensions.
#[derive(Clone, Debug)]
pub(crate) struct StorageSettings {
    pub mode: MemoryMode,
    /// The host's database directory (`<cache dir>/<machine guid>`), for `save` and `map`.
    pub dir: Option<PathBuf>,
    pub entries: u32,
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

/// A read-only view of a locked chart, for the streaming sender.
pub struct ChartView<'a> {
    st: &'a ChartState,
}

impl<'a> ChartView<'a> {
    pub fn meta(&self) -> &'a ChartMeta {
        &self.st.meta
    }

    /// Microseconds since the previous collection, as the chart counted them.
    pub fn usec_since_last_update(&self) -> u64 {
        self.st.usec_since_last_update
    }

    /// Time of the last collection (microseconds; 0 before the first).
    pub fn last_collected_ut(&self) -> u64 {
        self.st.last_collected_ut
    }

    /// Time of the last stored slot (microseconds; 0 before the first).
    pub fn last_updated_ut(&self) -> u64 {
        self.st.last_updated_ut
    }

    /// Oldest and newest stored times over all dimensions.
    pub fn first_entry_t(&self) -> Option<i64> {
        self.st.dims.iter().filter_map(|d| d.store.first_t()).min()
    }

    pub fn last_entry_t(&self) -> Option<i64> {
        self.st.dims.iter().filter_map(|d| d.store.last_t()).max()
    }

    pub fn dimensions(&self) -> impl Iterator<Item = DimView<'a>> + 'a {
        self.st.dims.iter().map(|d| DimView { d })
    }

    /// The stored point of dimension `dim` at `t`.
    pub fn point(&self, dim: usize, t: i64) -> Point {
        let n = self.st.dims.get(dim).map_or(StorageNumber::EMPTY, |d| d.store.get(t));
        Point { t, value: n.value(), reset: n.is_reset() }
    }
}

/// A read-only view of one dimension of a locked chart.
pub struct DimView<'a> {
    d: &'a Dim,
}

impl<'a> DimView<'a> {
    pub fn meta(&self) -> &'a DimensionMeta {
        &self.d.meta
    }
    /// Set in the collection being completed.
    pub fn updated(&self) -> bool {
        self.d.updated
    }
    /// The raw value of the collection being completed.
    pub fn collected_value(&self) -> i64 {
        self.d.collected_value
    }
    pub fn last_collected_value(&self) -> i64 {
        self.d.last_collected_value
    }
    pub fn last_collected_ut(&self) -> u64 {
        self.d.last_collected_ut
    }
    pub fn last_calculated_value(&self) -> f64 {
        self.d.last_calculated_value
    }
    pub fn last_stored_value(&self) -> f64 {
        self.d.last_stored_value
    }
}

struct Dim {
    meta: DimensionMeta,
    store: DimensionStore,
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
                d.store = open_store(&st.storage, &st.meta, &d.meta.id);
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
        let store = open_store(&st.storage, &st.meta, &meta.id);
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

    /// Oldest and newest stored time of any dimension.
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

/// One collection in progress: the chart is locked until [`Collection::end`] (or drop, which
/// abandons the values set so far without storing anything).
pub struct Collection<'a> {
    st: MutexGuard<'a, ChartState>,
    now_ut: u64,
    observer: &'a ObserverSlot,
    /// Set when the collection was refused: `set` and `end` do nothing.
    refused: Option<ClockLeap>,
}

impl Collection<'_> {
    /// Microseconds since the previous collection as this chart counts them: what a child
    /// sends in `BEGIN` so that the parent computes the same slots.
    pub fn usec_since_last_update(&self) -> u64 {
        self.st.usec_since_last_update
    }

    /// Sets the raw value of dimension `dim` for this collection.
    pub fn set(&mut self, dim: usize, value: i64) {
        let now = self.now_ut;
        if self.refused.is_some() {
            return;
        }
        if let Some(d) = self.st.dims.get_mut(dim) {
            d.last_collected_ut = now;
            d.collected_value = value;
            d.updated = true;
            d.collections_counter += 1;
            d.collected_value_max = d.collected_value_max.max(value.unsigned_abs());
        }
    }

    /// Sets a dimension by id; false if the chart has no such dimension.
    pub fn set_by_id(&mut self, id: &str, value: i64) -> bool {
        match self.st.by_id.get(id).copied() {
            Some(i) => {
                self.set(i, value);
                true
            }
            None => false,
        }
    }

    /// Completes the collection: computes, interpolates and stores.
    pub fn end(mut self) {
        if self.refused.is_some() {
            return;
        }
        let now = self.now_ut;
        let observer = self.observer.read().clone();
        self.st.done(now, observer.as_deref());
    }
}

impl ChartState {
    fn step_ut(&self) -> u64 {
        u64::from(self.meta.update_every.max(1)) * USEC_PER_SEC
    }

    /// Decides the duration of the collection starting at `now_ut`, or refuses it (changing
    /// nothing) when it would move the clock more than [`MAX_FUTURE_SECS`] past `now_ut`.
    fn start(&mut self, now_ut: u64, usec: u64, trust: bool) -> Result<(), ClockLeap> {
        if self.dims.capacity() > self.dims.len() {
            // Defined: drop the slack of the vector's doubling (a parent holds thousands of
            // charts). A dimension added later reallocates once more.
            self.dims.shrink_to_fit();
        }
        if self.counter_done == 0 {
            return Ok(()); // the first collection is placed at now by `done`
        }
        // A clock already past the limit got there by the local clock going back, not by
        // this source: resynchronise (next_usec's "database in the future") instead.
        let ahead = ClockLeap::check(self.last_collected_ut, now_ut).is_err();
        if trust && usec > 0 && self.last_collected_ut != 0 && !self.sync_clock && !ahead {
            ClockLeap::check(self.last_collected_ut.saturating_add(usec), now_ut)?;
            self.usec_since_last_update = usec;
            return Ok(());
        }
        let saved = self.usec_since_last_update;
        let given = usec > 0 && !self.sync_clock;
        self.next_usec(now_ut, usec);
        // Only a duration taken as the source gave it can leap (the others are measured
        // here, and bounded); taking it changed nothing but the duration.
        if given {
            let to = self.last_collected_ut.saturating_add(self.usec_since_last_update);
            if let Err(leap) = ClockLeap::check(to, now_ut) {
                self.usec_since_last_update = saved;
                return Err(leap);
            }
        }
        Ok(())
    }

    /// Netdata's `rrdset_next_usec`: the time since the last collection, sanity-checked.
    /// Unlike Netdata, a clock more than [`MAX_FUTURE_SECS`] in the future is pulled back
    /// to now also when the source gave no duration (measuring `|now − last|` would push it
    /// further ahead).
    fn next_usec(&mut self, now_ut: u64, mut usec: u64) {
        let step = self.step_ut();
        if self.sync_clock {
            self.sync_clock = false;
            usec = 0;
        }
        if self.last_collected_ut == 0 {
            usec = step;
        } else if usec == 0 && now_ut >= self.last_collected_ut {
            usec = now_ut - self.last_collected_ut;
        } else if usec == 0 && self.last_collected_ut - now_ut <= step {
            // Collected again within the current step by a source that gives no durations
            // (faster than once a step, or just after the half-second alignment): nothing
            // new to store yet. Netdata's absolute difference would move the clock ahead by
            // the gap, doubling it with every such collection.
            usec = 0;
        } else if now_ut < self.last_collected_ut {
            self.future_adjustments += 1;
            if self.future_adjustments.is_power_of_two() {
                log::info!(
                    "chart '{}': the database is {:.5} s in the future; adjusting it to the current time ({} time(s) so far)",
                    self.meta.id,
                    (self.last_collected_ut - now_ut) as f64 / USEC_PER_SEC as f64,
                    self.future_adjustments
                );
            }
            let back = now_ut.saturating_sub(step);
            self.last_collected_ut = self.align_collected(back);
            self.last_updated_ut = self.align_updated(back);
            usec = step;
        } else if now_ut - self.last_collected_ut > 5 * step {
            usec = now_ut - self.last_collected_ut;
        }
        self.usec_since_last_update = usec;
    }

    /// Collection times sit half a second past a step boundary (`store_first`: on it).
    fn align_collected(&self, ut: u64) -> u64 {
        let ue = u64::from(self.meta.update_every.max(1));
        let sec = ut / USEC_PER_SEC;
        (sec - sec % ue) * USEC_PER_SEC + if self.meta.options.store_first { 0 } else { USEC_PER_SEC / 2 }
    }

    /// Storage times are whole step boundaries.
    fn align_updated(&self, ut: u64) -> u64 {
        let ue = u64::from(self.meta.update_every.max(1));
        let sec = ut / USEC_PER_SEC;
        (sec - sec % ue) * USEC_PER_SEC
    }

    fn init_last_updated(&mut self) {
        let mut ut = self.last_collected_ut;
        if self.meta.options.store_first {
            ut = ut.saturating_sub(self.step_ut());
        }
        self.last_updated_ut = self.align_updated(ut);
    }

    /// Netdata's `rrdset_done`.
    fn done(&mut self, now_ut: u64, observer: Option<&dyn Observer>) {
        let step = self.step_ut();
        let mut store_this_entry = true;
        let mut first_entry = false;

        let mut last_collect_ut;
        if self.last_collected_ut == 0 {
            self.last_collected_ut = self.align_collected(now_ut);
            last_collect_ut = self.last_collected_ut - step.min(self.last_collected_ut);
            store_this_entry = false;
            first_entry = true;
        } else {
            last_collect_ut = self.last_collected_ut;
            self.last_collected_ut += self.usec_since_last_update;
        }

        if self.last_updated_ut == 0 {
            self.init_last_updated();
        }

        // Saturating: a peer may define any `update every` up to u32::MAX.
        let history_ut = u64::from(self.storage.entries.max(1)).saturating_mul(step);
        if self.last_collected_ut.saturating_sub(self.last_updated_ut) > history_ut {
            log::info!(
                "chart '{}': too old data (last stored at {}, collected at {}); starting over, the next point is not stored",
                self.meta.id,
                self.last_updated_ut / USEC_PER_SEC,
                self.last_collected_ut / USEC_PER_SEC
            );
            // Start again as if this were the first collection: what is set now becomes the
            // base of the next increment.
            self.last_collected_ut = self.align_collected(now_ut);
            last_collect_ut = self.last_collected_ut - step.min(self.last_collected_ut);
            self.init_last_updated();
            self.usec_since_last_update = step;
            for d in &mut self.dims {
                d.collections_counter = u64::from(d.updated);
                d.last_calculated_value = 0.0;
            }
            store_this_entry = false;
            first_entry = true;
        }

        let now_collect_ut = self.last_collected_ut;
        let last_stored_ut = self.last_updated_ut;
        let next_store_ut = self.last_updated_ut + step;

        if self.counter_done == 0 && self.meta.options.store_first {
            store_this_entry = true;
            last_collect_ut = next_store_ut - step;
        }

        self.counter += 1;
        self.counter_done += 1;

        self.collected_total =
            self.dims.iter().filter(|d| d.updated).fold(0i64, |sum, d| sum.wrapping_add(d.collected_value));

        let reset = self.calculate();
        self.interpolate(
            step,
            last_stored_ut,
            next_store_ut,
            last_collect_ut,
            now_collect_ut,
            store_this_entry,
            reset,
        );

        if let Some(o) = observer {
            let mut stream = std::mem::take(&mut self.stream);
            o.collected(&ChartView { st: self }, &mut stream);
            self.stream = stream;
        }

        self.last_collected_total = self.collected_total;
        for d in self.dims.iter_mut().filter(|d| d.updated) {
            d.last_collected_value = d.collected_value;
            match d.meta.algorithm {
                Algorithm::Incremental => {
                    if !first_entry {
                        d.last_calculated_value += d.calculated_value;
                    }
                }
                _ => d.last_calculated_value = d.calculated_value,
            }
            d.calculated_value = 0.0;
            d.collected_value = 0;
            d.updated = false;
        }
    }

    /// Turns the raw values of this collection into calculated values (no interpolation yet).
    /// Returns whether a counter reset or wrap was seen on a dimension that reports them.
    fn calculate(&mut self) -> bool {
        let total = self.collected_total;
        let total_delta = total.wrapping_sub(self.last_collected_total);
        let mut reset = false;
        for d in &mut self.dims {
            if !d.updated {
                d.calculated_value = 0.0;
                continue;
            }
            let (mul, div) = (d.meta.multiplier as f64, d.meta.divisor as f64);
            match d.meta.algorithm {
                Algorithm::Absolute => {
                    d.calculated_value = d.collected_value as f64 * mul / div;
                }
                Algorithm::PercentageOfAbsoluteRow => {
                    d.calculated_value =
                        if total == 0 { 0.0 } else { 100.0 * d.collected_value as f64 / total as f64 };
                }
                Algorithm::Incremental => {
                    if d.collections_counter <= 1 {
                        d.calculated_value = 0.0;
                        continue;
                    }
                    let last = d.last_collected_value as u64;
                    let new = d.collected_value as u64;
                    if last > new {
                        if !d.meta.options.noreset {
                            reset = true;
                        }
                        let cap: u64 = if d.collected_value_max > u64::from(u32::MAX) {
                            u64::MAX
                        } else {
                            u64::from(u32::MAX)
                        };
                        let delta = cap.wrapping_sub(last).wrapping_add(new);
                        if delta < (cap / 100) * MAX_INCREMENTAL_PERCENT_RATE {
                            // An overflow: count what went past the cap.
                            d.calculated_value += delta as f64 * mul / div;
                        } else {
                            // A reset (or an implausibly fast wrap): no increment this time.
                            d.calculated_value = 0.0;
                        }
                    } else {
                        d.calculated_value +=
                            d.collected_value.wrapping_sub(d.last_collected_value) as f64 * mul / div;
                    }
                }
                Algorithm::PercentageOfIncrementalRow => {
                    if d.collections_counter <= 1 {
                        d.calculated_value = 0.0;
                        continue;
                    }
                    if (d.last_collected_value as u64) > (d.collected_value as u64) {
                        if !d.meta.options.noreset {
                            reset = true;
                        }
                        d.last_collected_value = d.collected_value;
                    }
                    d.calculated_value = if total_delta == 0 {
                        0.0
                    } else {
                        100.0 * d.collected_value.wrapping_sub(d.last_collected_value) as f64
                            / total_delta as f64
                    };
                }
            }
        }
        reset
    }

    /// Stores a value at every step boundary in `(last stored, now_collect_ut]`.
    #[allow(clippy::too_many_arguments)]
    fn interpolate(
        &mut self,
        step: u64,
        mut last_stored_ut: u64,
        mut next_store_ut: u64,
        mut last_collect_ut: u64,
        now_collect_ut: u64,
        store_this_entry: bool,
        mut reset: bool,
    ) {
        let mut iterations = (now_collect_ut.saturating_sub(last_stored_ut) / step) as i64;
        if now_collect_ut % step == 0 {
            iterations += 1;
        }
        let ue = f64::from(self.meta.update_every.max(1));
        let gap_limit = i64::from(self.storage.gap_when_lost_iterations_above) + 2;

        // The first iterations store only empty slots: all of them when this entry is not
        // stored, else those with `iterations >= gap_limit`. Many of them are done as one:
        // an incremental dimension's remainder after k iterations is
        // `calculated × (now − last boundary) / (now − last collected)`, exactly what one
        // iteration up to the last of these boundaries leaves.
        if next_store_ut <= now_collect_ut {
            let boundaries = (now_collect_ut - next_store_ut) / step + 1;
            let empty = if store_this_entry {
                u64::try_from(iterations.saturating_sub(gap_limit).saturating_add(1)).unwrap_or(0)
            } else {
                boundaries
            }
            .min(boundaries);
            if empty > MERGE_LOST_ITERATIONS_ABOVE {
                let last_empty_ut = next_store_ut + (empty - 1) * step;
                let from = (next_store_ut / USEC_PER_SEC) as i64;
                let to = (last_empty_ut / USEC_PER_SEC) as i64;
                let span = (now_collect_ut - last_collect_ut) as f64;
                let part = (last_empty_ut - last_collect_ut) as f64;
                for d in &mut self.dims {
                    if d.meta.algorithm == Algorithm::Incremental {
                        let v = d.calculated_value * part / span;
                        d.calculated_value -= v;
                        d.last_calculated_value = 0.0;
                    }
                    d.store.store_gap(from, to);
                    if store_this_entry {
                        d.last_stored_value = f64::NAN;
                    }
                }
                reset = false;
                self.counter += empty;
                self.last_updated_ut = last_empty_ut;
                last_stored_ut = last_empty_ut;
                last_collect_ut = last_empty_ut;
                next_store_ut = last_empty_ut + step;
                iterations -= empty as i64;
            }
        }

        // A dimension's first collection is stored only with `store_first` (as Netdata
        // 1.37.1 does: its first value is in the database), otherwise it is a gap.
        let first_stored = self.meta.options.store_first && self.counter_done == 1;
        while next_store_ut <= now_collect_ut {
            let t = (next_store_ut / USEC_PER_SEC) as i64;
            let span = (now_collect_ut - last_collect_ut) as f64;
            let part = (next_store_ut - last_collect_ut) as f64;
            for d in &mut self.dims {
                let value = match d.meta.algorithm {
                    Algorithm::Incremental => {
                        let mut v = d.calculated_value * part / span;
                        d.calculated_value -= v;
                        v += d.last_calculated_value;
                        d.last_calculated_value = 0.0;
                        v /= ue;
                        let since_stored = next_store_ut - last_stored_ut;
                        if since_stored < step {
                            // A first slot shorter than a step: extrapolate to a full one.
                            v = v * step as f64 / since_stored as f64;
                        }
                        v
                    }
                    _ => {
                        if iterations == 1 {
                            d.calculated_value
                        } else {
                            (d.calculated_value - d.last_calculated_value) * part / span
                                + d.last_calculated_value
                        }
                    }
                };

                if !store_this_entry {
                    d.store.store(t, StorageNumber::EMPTY);
                    continue;
                }
                if d.updated && (d.collections_counter > 1 || first_stored) && iterations < gap_limit {
                    let flag = reset && !d.meta.options.noreset;
                    d.store.store(t, StorageNumber::pack(value, flag));
                    d.last_stored_value = value;
                } else {
                    d.store.store(t, StorageNumber::EMPTY);
                    d.last_stored_value = f64::NAN;
                }
            }
            reset = false;
            self.counter += 1;
            self.last_updated_ut = next_store_ut;
            last_stored_ut = next_store_ut;
            last_collect_ut = next_store_ut;
            next_store_ut += step;
            iterations -= 1;
        }
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

fn open_store(storage: &StorageSettings, meta: &ChartMeta, dim_id: &str) -> DimensionStore {
    DimensionStore::open(&StoreSpec {
        mode: storage.mode,
        dir: storage.dir.as_deref().map(Path::new),
        chart_id: &meta.id,
        dim_id,
        update_every: meta.update_every.max(1),
        entries: storage.entries.max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            StorageSettings { mode: MemoryMode::Ram, dir: None, entries, gap_when_lost_iterations_above: 1 },
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
            assert_eq!(
                p.iter().rev().skip(3).take(gap as usize - 2).filter(|x| x.value.is_some()).count(),
                0
            );
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
        assert_eq!(
            c.query(0, (T0 + 1) as i64, (T0 + 4) as i64).iter().filter(|p| p.value.is_some()).count(),
            4
        );
    }
}
