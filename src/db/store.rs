//! One dimension's time-indexed ring of [`StorageNumber`] slots, in any [`MemoryMode`].
//!
//! Guarantees: the value for aligned time `t` lives in slot `(t / update_every) % entries`;
//! [`DimensionStore::open`] never fails and never trusts a bad file (it logs and rebuilds, or
//! falls back to `ram` when the file cannot be used at all); `store` and `get` allocate
//! nothing and make no system calls in any mode; a `map` store keeps every stored point and
//! its times in the shared mapping, so a `kill -9` loses nothing the kernel had accepted.
//!
//! Times: `last_t` is the newest stored time; the window is the last `entries` steps up to
//! it; `first_t` is the later of the window start and the oldest time written since the
//! ring was created (persisted, so it survives restarts).
//!
//! Work per store is bounded by the size of the ring, never by the times given: a jump past
//! the whole window empties the ring in O(1) (slots older than the jump are marked stale,
//! not rewritten; they read as empty and are zeroed with one slice fill only if an older
//! point is later written into the window), and a shorter gap is zeroed with at most two
//! slice fills.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use memmap2::MmapMut;

use super::file::{
    self, dimension_path, file_len_for, Damage, Header, Verdict, FIRST_T_AT, HEADER_LEN, LAST_T_AT,
    MAX_ENTRIES, NO_TIME,
};
use super::{MemoryMode, StorageNumber};

/// What a store is for and where its file lives.
#[derive(Clone, Copy, Debug)]
pub struct StoreSpec<'a> {
    pub mode: MemoryMode,
    /// The host directory (`<cache dir>/<machine guid>`, see [`super::host_dir`]); required
    /// for `save` and `map`, ignored for `none` and `ram`.
    pub dir: Option<&'a Path>,
    pub chart_id: &'a str,
    pub dim_id: &'a str,
    /// Seconds per slot; 0 is treated as 1.
    pub update_every: u32,
    /// Slots; clamped to `1..=MAX_ENTRIES`.
    pub entries: u32,
    pub tiers: &'a [super::TierSpec],
}

/// How [`DimensionStore::open`] found its file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpenOutcome {
    /// `none` or `ram`: no file involved.
    Memory,
    /// No file existed; a new one was created (`map`) or will be written by `save()`.
    Created,
    /// The file was valid and its data was loaded or mapped.
    Loaded,
    /// The file was valid but had another number of entries; the newest points that fit
    /// were kept.
    Resized { from: u32, to: u32 },
    /// The file was not trusted and the ring starts empty (logged with a warning).
    Rebuilt(Damage),
    /// The file or its directory could not be used; the store keeps its data in `ram`
    /// (logged as an error).
    FellBackToRam,
}

/// One dimension's round-robin storage.
pub struct DimensionStore {
    slots: Slots,
    /// Newest stored time, or `NO_TIME`.
    last_t: i64,
    /// Oldest time written since the ring was created, or `NO_TIME`.
    first_written: i64,
    /// Slots of times before this one are stale (left from before a jump past the whole
    /// window) and read as empty; `NO_TIME` when every slot of the window is current.
    stale_before: i64,
    update_every: u32,
    entries: u32,
    mode: MemoryMode,
    outcome: OpenOutcome,
    /// Hash of the owning ids, for headers written later.
    ids: u64,
    /// The file `save()` writes (save mode only).
    save_path: Option<Box<Path>>,
    /// Slots written or zeroed so far: lets tests see how much work a store did.
    #[cfg(test)]
    slot_writes: u64,
    /// Calls of `store` and `store_gap` so far.
    #[cfg(test)]
    store_calls: u64,
}

impl DimensionStore {
    /// Opens (or creates) the store, judging any file against the current clock.
    pub fn open(spec: &StoreSpec<'_>) -> DimensionStore {
        Self::open_at(spec, crate::clock::now_realtime_sec())
    }

    /// Like [`open`](Self::open) with an explicit "now": a file whose `last_t` is more than a
    /// day after `now` is distrusted.
    pub fn open_at(spec: &StoreSpec<'_>, now: i64) -> DimensionStore {
        let update_every = spec.update_every.max(1);
        let entries = spec.entries.clamp(1, MAX_ENTRIES);
        let mut store = DimensionStore {
            slots: Slots::None,
            last_t: NO_TIME,
            first_written: NO_TIME,
            stale_before: NO_TIME,
            update_every,
            entries,
            mode: spec.mode,
            outcome: OpenOutcome::Memory,
            ids: file::ids_hash(spec.chart_id, spec.dim_id),
            save_path: None,
            #[cfg(test)]
            slot_writes: 0,
            #[cfg(test)]
            store_calls: 0,
        };
        let dir = match (spec.mode, spec.dir) {
            (MemoryMode::None, _) => return store,
            (MemoryMode::Ram, _) => return store.into_ram(),
            (_, Some(dir)) => dir,
            (mode, None) => {
                log::error!(
                    "db: chart '{}' dimension '{}': memory mode {} needs a directory, using ram",
                    spec.chart_id,
                    spec.dim_id,
                    mode.as_str()
                );
                return store.fall_back();
            }
        };
        let path = dimension_path(dir, spec.chart_id, spec.dim_id);
        let want = Header {
            update_every,
            entries,
            ids_hash: file::ids_hash(spec.chart_id, spec.dim_id),
            last_t: NO_TIME,
            first_t: NO_TIME,
        };
        let result = match spec.mode {
            MemoryMode::Save => store.open_save(&path, &want, now),
            _ => store.open_map(&path, &want, now),
        };
        match result {
            Ok(()) => {
                match store.outcome {
                    OpenOutcome::Rebuilt(why) => {
                        log::warn!("db: {}: {}, rebuilding", path.display(), why)
                    }
                    OpenOutcome::Resized { from, to } => log::warn!(
                        "db: {}: retention changed from {} to {}, keeping the newest points",
                        path.display(),
                        from,
                        to
                    ),
                    _ => {}
                }
                store
            }
            Err(e) => {
                log::error!(
                    "db: {}: cannot use the file ({}), memory mode {} falls back to ram",
                    path.display(),
                    e,
                    spec.mode.as_str()
                );
                store.fall_back()
            }
        }
    }

    /// Stores `value` at time `t` (aligned down to `update_every`).
    ///
    /// A time after `last_t` empties every slot in between and becomes `last_t`; a time inside
    /// the window overwrites in place (replication filling older points); an older time is
    /// ignored, as is a negative one (before 1970: garbage from a peer). Nothing happens in
    /// `none` mode. At most two slice fills of at most `entries` slots, whatever `t` is.
    #[inline]
    pub fn store(&mut self, t: i64, value: StorageNumber) {
        #[cfg(test)]
        {
            self.store_calls += 1;
        }
        if matches!(self.slots, Slots::None) || t < 0 {
            return;
        }
        let t = self.align(t);
        if self.last_t == NO_TIME || t > self.last_t {
            self.advance(t);
        } else if t >= self.window_start() {
            self.reach_back(t);
        } else {
            return;
        }
        let i = self.index(t);
        if matches!(self.slots, Slots::Lazy) {
            self.slots = Slots::Mem(vec![0; self.entries as usize]);
        }
        self.slots.set(i, value.to_bits());
        self.slots.set_times(self.last_t, self.header_first_t());
        #[cfg(test)]
        {
            self.slot_writes += 1;
        }
    }

    /// The same as storing EMPTY at every aligned time of `[from, to]`, oldest first, in a
    /// bounded number of slice fills (the interpolation's lost iterations).
    pub fn store_gap(&mut self, from: i64, to: i64) {
        #[cfg(test)]
        {
            self.store_calls += 1;
        }
        if matches!(self.slots, Slots::None) || to < 0 {
            return;
        }
        let ue = i64::from(self.update_every);
        let to = self.align(to);
        let from = from.max(0);
        let from = from.saturating_add((ue - from.rem_euclid(ue)) % ue);
        if from > to {
            return;
        }
        if self.last_t == NO_TIME || to > self.last_t {
            self.store(to, StorageNumber::EMPTY);
        }
        // Now `to <= last_t`: what of the range is inside the window is overwritten in place.
        let lo = from.max(self.window_start());
        if lo > to {
            return;
        }
        self.store(lo, StorageNumber::EMPTY);
        self.zero_times(lo, to);
    }

    /// The value at time `t` (aligned down); EMPTY outside `[first_t, last_t]`.
    #[inline]
    pub fn get(&self, t: i64) -> StorageNumber {
        let t = self.align(t);
        match (self.first_t(), self.last_t()) {
            (Some(first), Some(last)) if t >= first && t <= last && !self.is_stale(t) => {
                StorageNumber::from_bits(self.slots.get(self.index(t)))
            }
            _ => StorageNumber::EMPTY,
        }
    }

    /// The oldest time in the window that was written since the ring was created.
    pub fn first_t(&self) -> Option<i64> {
        if self.last_t == NO_TIME || self.first_written == NO_TIME {
            return None;
        }
        Some(self.first_written.max(self.window_start()))
    }

    /// The newest stored time.
    pub fn last_t(&self) -> Option<i64> {
        (self.last_t != NO_TIME).then_some(self.last_t)
    }

    pub fn update_every(&self) -> u32 {
        self.update_every
    }

    pub fn entries(&self) -> u32 {
        self.entries
    }

    /// The mode in effect, which is `Ram` after a fall-back.
    pub fn mode(&self) -> MemoryMode {
        self.mode
    }

    /// How the file was found at open.
    pub fn outcome(&self) -> OpenOutcome {
        self.outcome
    }

    /// True when a file existed but was distrusted and the ring started empty.
    pub fn was_rebuilt(&self) -> bool {
        matches!(self.outcome, OpenOutcome::Rebuilt(_))
    }

    /// Appends `(t, value)` for every aligned `t` in `[after, before] ∩ [first_t, last_t]`,
    /// oldest first, EMPTY where nothing was stored.
    pub fn query(&self, after: i64, before: i64, out: &mut Vec<(i64, StorageNumber)>) {
        let (Some(first), Some(last)) = (self.first_t(), self.last_t()) else {
            return;
        };
        if after > last || before < first {
            return;
        }
        // Now first <= start and end <= last: no overflow, at most `entries` points.
        let ue = i64::from(self.update_every);
        let start = after.max(first);
        let start = start + (ue - start.rem_euclid(ue)) % ue;
        let end = self.align(before.min(last));
        if start > end {
            return;
        }
        let count = (end - start) / ue + 1;
        out.reserve(count as usize);
        // The slot index advances by one per step: no division per slot.
        let entries = self.entries as usize;
        let mut i = self.index(start);
        for k in 0..count {
            let t = start + k * ue;
            let n = if self.is_stale(t) {
                StorageNumber::EMPTY
            } else {
                StorageNumber::from_bits(self.slots.get(i))
            };
            out.push((t, n));
            i += 1;
            if i == entries {
                i = 0;
            }
        }
    }

    /// The sum and count of the values stored at aligned times in `[after, before] ∩
    /// [first_t, last_t]`, empty slots skipped: what [`DimensionStore::query`] would return,
    /// reduced without a buffer and without a division per slot (the exporting engine's
    /// `average`/`sum`).
    pub fn sum_count(&self, after: i64, before: i64) -> (f64, usize) {
        let (Some(first), Some(last)) = (self.first_t(), self.last_t()) else {
            return (0.0, 0);
        };
        if after > last || before < first {
            return (0.0, 0);
        }
        let ue = i64::from(self.update_every);
        let start = after.max(first);
        let start = start + (ue - start.rem_euclid(ue)) % ue;
        let end = self.align(before.min(last));
        if start > end {
            return (0.0, 0);
        }
        // Slots before `stale_before` read as empty: start after them.
        let start = match self.stale_before {
            NO_TIME => start,
            s if s > start => s + (ue - s.rem_euclid(ue)) % ue,
            _ => start,
        };
        if start > end {
            return (0.0, 0);
        }
        let count = ((end - start) / ue + 1) as usize;
        let entries = self.entries as usize;
        let mut i = self.index(start);
        let (mut sum, mut n) = (0.0, 0);
        for _ in 0..count {
            if let Some(v) = StorageNumber::from_bits(self.slots.get(i)).value() {
                sum += v;
                n += 1;
            }
            i += 1;
            if i == entries {
                i = 0;
            }
        }
        (sum, n)
    }

    /// Makes the data durable: `save` writes the file atomically (temporary file, fsync,
    /// rename), `map` flushes the mapping; `ram` and `none` do nothing.
    pub fn save(&mut self) -> io::Result<()> {
        match (&self.slots, &self.save_path) {
            (Slots::Mem(v), Some(path)) => write_atomically(path, &self.header(), v),
            (Slots::Map(m), _) => m.flush(),
            _ => Ok(()),
        }
    }

    /// Calls of `store`/`store_gap` (the inner ones of `store_gap` included) and slots
    /// written or zeroed so far: how much work storing took, for tests.
    #[cfg(test)]
    pub(crate) fn work(&self) -> (u64, u64) {
        (self.store_calls, self.slot_writes)
    }

    /// Memory this store accounts for: the struct, its slots (mapped pages included) and path.
    pub fn memory_bytes(&self) -> usize {
        let slots = match &self.slots {
            Slots::None | Slots::Lazy => 0,
            Slots::Mem(v) => v.capacity() * 4,
            Slots::Map(m) => m.len(),
        };
        let path = self.save_path.as_ref().map_or(0, |p| p.as_os_str().len());
        std::mem::size_of::<Self>() + slots + path
    }
}

/// Where the slots live.
enum Slots {
    None,
    /// `ram` before the first store: every slot reads as zero (empty) and no memory is
    /// allocated yet. A dimension defined and never collected costs no ring (an allocator
    /// may clear a fresh allocation itself, which would make all of it resident).
    Lazy,
    /// Native-endian words (`ram`, `save`).
    Mem(Vec<u32>),
    /// The whole file: header then little-endian words (`map`).
    Map(MmapMut),
}

impl Slots {
    #[inline]
    fn get(&self, i: usize) -> u32 {
        match self {
            Slots::None | Slots::Lazy => 0,
            Slots::Mem(v) => v[i],
            Slots::Map(m) => {
                let at = HEADER_LEN + i * 4;
                let mut w = [0u8; 4];
                w.copy_from_slice(&m[at..at + 4]);
                u32::from_le_bytes(w)
            }
        }
    }

    #[inline]
    fn set(&mut self, i: usize, bits: u32) {
        match self {
            Slots::None | Slots::Lazy => {}
            Slots::Mem(v) => v[i] = bits,
            Slots::Map(m) => {
                let at = HEADER_LEN + i * 4;
                m[at..at + 4].copy_from_slice(&bits.to_le_bytes());
            }
        }
    }

    /// Zeroes `len` slots from `i` (the caller keeps `i + len <= entries`).
    fn zero(&mut self, i: usize, len: usize) {
        match self {
            Slots::None | Slots::Lazy => {}
            Slots::Mem(v) => v[i..i + len].fill(0),
            Slots::Map(m) => m[HEADER_LEN + i * 4..HEADER_LEN + (i + len) * 4].fill(0),
        }
    }

    /// Keeps the mapped header's times current, so a crash loses nothing already stored.
    #[inline]
    fn set_times(&mut self, last_t: i64, first_t: i64) {
        if let Slots::Map(m) = self {
            m[LAST_T_AT..LAST_T_AT + 8].copy_from_slice(&last_t.to_le_bytes());
            m[FIRST_T_AT..FIRST_T_AT + 8].copy_from_slice(&first_t.to_le_bytes());
        }
    }
}

impl DimensionStore {
    #[inline]
    fn align(&self, t: i64) -> i64 {
        t.saturating_sub(t.rem_euclid(i64::from(self.update_every)))
    }

    #[inline]
    fn index(&self, t: i64) -> usize {
        (t.div_euclid(i64::from(self.update_every))).rem_euclid(i64::from(self.entries)) as usize
    }

    /// `t` becomes `last_t` (`t > last_t`): the slots between become empty.
    fn advance(&mut self, t: i64) {
        if self.last_t == NO_TIME {
            // A new or rebuilt ring: every slot is zero.
            self.first_written = t;
            self.stale_before = NO_TIME;
        } else {
            let ue = i64::from(self.update_every);
            let steps = (t - self.last_t) / ue;
            if steps >= i64::from(self.entries) {
                // Nothing of the old window stays in the new one: mark it stale in O(1).
                self.stale_before = t;
            } else if steps > 1 {
                self.zero_times(self.last_t + ue, t - ue);
            }
        }
        self.last_t = t;
    }

    /// `t` inside the window and not after `last_t` is about to be written.
    fn reach_back(&mut self, t: i64) {
        if self.stale_before != NO_TIME && t < self.stale_before {
            // Stale slots would show between `t` and the jump: zero the whole window's stale
            // part once; afterwards every slot is current again.
            let ue = i64::from(self.update_every);
            self.zero_times(self.window_start(), self.stale_before - ue);
            self.stale_before = NO_TIME;
        }
        if t < self.first_written {
            self.first_written = t;
        }
    }

    /// Slot of `t` holds data from before a jump (reads as empty).
    #[inline]
    fn is_stale(&self, t: i64) -> bool {
        self.stale_before != NO_TIME && t < self.stale_before
    }

    /// The first time the file's header records: nothing before a jump survives a restart.
    fn header_first_t(&self) -> i64 {
        if self.stale_before == NO_TIME || self.first_written == NO_TIME {
            self.first_written
        } else {
            self.first_written.max(self.stale_before)
        }
    }

    /// Zeroes the slots of the aligned times `from..=to` (at most `entries` of them are
    /// distinct; an empty range does nothing): at most two slice fills.
    fn zero_times(&mut self, from: i64, to: i64) {
        if from > to {
            return;
        }
        let ue = i64::from(self.update_every);
        let n = i64::from(self.entries);
        let count = ((to - from) / ue + 1).min(n) as usize;
        let i = self.index(from);
        let first = count.min(self.entries as usize - i);
        self.slots.zero(i, first);
        if count > first {
            self.slots.zero(0, count - first);
        }
        #[cfg(test)]
        {
            self.slot_writes += count as u64;
        }
    }

    #[inline]
    fn window_start(&self) -> i64 {
        let span = i64::from(self.entries - 1) * i64::from(self.update_every);
        self.last_t.saturating_sub(span)
    }

    fn header(&self) -> Header {
        Header {
            update_every: self.update_every,
            entries: self.entries,
            ids_hash: self.ids,
            last_t: self.last_t,
            first_t: self.header_first_t(),
        }
    }

    fn into_ram(mut self) -> Self {
        self.slots = Slots::Lazy;
        self.mode = MemoryMode::Ram;
        self
    }

    fn fall_back(mut self) -> Self {
        self.save_path = None;
        self.last_t = NO_TIME;
        self.first_written = NO_TIME;
        self.stale_before = NO_TIME;
        self.outcome = OpenOutcome::FellBackToRam;
        self.into_ram()
    }

    /// Save mode: load a valid file into memory, remember where to save.
    fn open_save(&mut self, path: &Path, want: &Header, now: i64) -> io::Result<()> {
        prepare_dir(path)?;
        self.save_path = Some(path.into());
        let mut slots = vec![0u32; self.entries as usize];
        self.outcome = match File::open(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => OpenOutcome::Created,
            Err(e) => return Err(e),
            Ok(mut f) => {
                let meta = f.metadata()?;
                if !meta.is_file() {
                    return Err(io::Error::other("not a regular file"));
                }
                let len = meta.len();
                let head = read_head(&mut f)?;
                match file::inspect(&head, len, want, now) {
                    Verdict::Use(h) => {
                        read_slots(&mut f, &mut slots)?;
                        self.last_t = h.last_t;
                        self.first_written = h.first_t;
                        OpenOutcome::Loaded
                    }
                    Verdict::Resize(old) => {
                        let mut old_slots = vec![0u32; old.entries as usize];
                        read_slots(&mut f, &mut old_slots)?;
                        self.slots = Slots::Mem(slots);
                        self.migrate(&old, &old_slots);
                        return Ok(());
                    }
                    Verdict::Rebuild(why) => OpenOutcome::Rebuilt(why),
                }
            }
        };
        self.slots = Slots::Mem(slots);
        Ok(())
    }

    /// Map mode: map a valid file, or (re)build it at the right size and map that.
    fn open_map(&mut self, path: &Path, want: &Header, now: i64) -> io::Result<()> {
        prepare_dir(path)?;
        let existed = fs::metadata(path).is_ok();
        let mut f = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        let meta = f.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        let len = meta.len();
        let mut old: Option<(Header, Vec<u32>)> = None;
        self.outcome = if !existed {
            OpenOutcome::Created
        } else {
            let head = read_head(&mut f)?;
            match file::inspect(&head, len, want, now) {
                Verdict::Use(h) => {
                    self.last_t = h.last_t;
                    self.first_written = h.first_t;
                    OpenOutcome::Loaded
                }
                Verdict::Resize(h) => {
                    let mut v = vec![0u32; h.entries as usize];
                    read_slots(&mut f, &mut v)?;
                    old = Some((h, v));
                    OpenOutcome::Loaded // replaced by migrate()
                }
                Verdict::Rebuild(why) => OpenOutcome::Rebuilt(why),
            }
        };
        let fresh = self.outcome != OpenOutcome::Loaded || old.is_some();
        if fresh {
            // Start over at the right size: zero-filled slots are EMPTY.
            f.set_len(0)?;
            f.set_len(file_len_for(self.entries))?;
        }
        // SAFETY: the file is a regular file private to this agent's cache directory and
        // was just sized to the header plus all slots; nothing in this process truncates it
        // while mapped. Another process truncating it would be an external fault (SIGBUS),
        // the same contract every file-mapping database has.
        let mut map = unsafe { MmapMut::map_mut(&f)? };
        if map.len() as u64 != file_len_for(self.entries) {
            return Err(io::Error::other("mapping has the wrong size"));
        }
        if fresh {
            map[..HEADER_LEN].copy_from_slice(&self.header().encode());
        }
        self.slots = Slots::Map(map);
        if let Some((h, v)) = old {
            self.migrate(&h, &v);
        }
        Ok(())
    }

    /// Copies the newest points of an old ring (same update every, other entries) into this
    /// empty one.
    fn migrate(&mut self, old: &Header, old_slots: &[u32]) {
        self.outcome = OpenOutcome::Resized { from: old.entries, to: self.entries };
        if old.last_t == NO_TIME || old_slots.is_empty() {
            return;
        }
        let ue = i64::from(self.update_every);
        let old_span = i64::from(old.entries - 1) * ue;
        let new_span = i64::from(self.entries - 1) * ue;
        let first = old.first_t.max(old.last_t - old_span).max(old.last_t - new_span);
        let mut t = first;
        while t <= old.last_t {
            let i = (t / ue).rem_euclid(old_slots.len() as i64) as usize;
            let bits = old_slots[i];
            let j = self.index(t);
            self.slots.set(j, bits);
            t += ue;
        }
        self.last_t = old.last_t;
        self.first_written = first;
        self.slots.set_times(self.last_t, self.first_written);
    }
}

fn prepare_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => fs::create_dir_all(dir),
        None => Ok(()),
    }
}

/// Reads up to a header's worth of bytes from the start of the file.
fn read_head(f: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEADER_LEN);
    Read::take(&mut *f, HEADER_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Reads little-endian slot words following the header, in bounded chunks.
fn read_slots(f: &mut File, out: &mut [u32]) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    for chunk in out.chunks_mut(buf.len() / 4) {
        let bytes = &mut buf[..chunk.len() * 4];
        f.read_exact(bytes)?;
        for (w, b) in chunk.iter_mut().zip(bytes.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    Ok(())
}

/// Writes header and slots to `<path>.tmp`, fsyncs, and renames over `path`.
fn write_atomically(path: &Path, header: &Header, slots: &[u32]) -> io::Result<()> {
    let mut tmp: PathBuf = path.into();
    tmp.as_mut_os_string().push(".tmp");
    let result = (|| {
        let mut w = io::BufWriter::with_capacity(16 * 1024, File::create(&tmp)?);
        w.write_all(&header.encode())?;
        for &s in slots {
            w.write_all(&s.to_le_bytes())?;
        }
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const NOW: i64 = 1_700_000_000;

    /// A unique scratch directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static N: AtomicU32 = AtomicU32::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("nanodata-db-{}-{}", std::process::id(), n));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

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
        let mut s = DimensionStore::open_at(&spec(MemoryMode::Ram, None, 10), NOW);
        assert_eq!(s.sum_count(0, i64::MAX), (0.0, 0), "empty");
        for k in 0..25 {
            if k % 7 != 3 {
                s.store(NOW + 2 * k, n(k as f64 + 0.5));
            }
        }
        check(&s, "wrapped with gaps");
        // A jump past the whole ring: the old slots are stale until written again.
        s.store(NOW + 2 * 24 + 2 * 15, n(100.0));
        check(&s, "after a jump");
        s.store(NOW + 2 * 24 + 2 * 13, n(7.0));
        check(&s, "written back into the stale part");
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
            let d = TempDir::new();
            let entries = 100_000;
            let sp = spec(mode, Some(&d.0), entries);
            let mut s = DimensionStore::open_at(&sp, NOW);
            for k in 0..entries as i64 {
                s.store(NOW + 2 * k, n(1.0));
            }
            let full = s.slot_writes;
            // A leap of a year: one slot written, not 100 000.
            let far = NOW + 365 * 86_400;
            s.store(far, n(2.0));
            assert_eq!(s.slot_writes - full, 1, "{mode:?}");
            assert_eq!(s.last_t(), Some(far));
            let got = values(&s, 0, i64::MAX);
            assert_eq!(got.len(), entries as usize, "the window is the usual one");
            assert!(got[..got.len() - 1].iter().all(|(_, v)| v.is_none()), "stale slots show: {mode:?}");
            assert_eq!(got[got.len() - 1], (far, Some(2.0)));
            for t in [far - 2, far - 2 * (entries as i64 - 1), far - 1000] {
                assert_eq!(s.get(t), StorageNumber::EMPTY, "{t}");
            }
            // Leaping again and again costs one slot each time.
            let before = s.slot_writes;
            for k in 1..=1000 {
                s.store(far + k * 2 * entries as i64, n(3.0));
            }
            assert_eq!(s.slot_writes - before, 1000);
            // Gaps shorter than the window are zeroed, no more.
            let last = s.last_t().unwrap();
            let before = s.slot_writes;
            s.store(last + 2 * 500, n(4.0));
            assert_eq!(s.slot_writes - before, 500, "499 zeroed + 1 written");
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
        let before = s.slot_writes;
        s.store(old, n(60.0));
        assert!(s.slot_writes - before <= 10, "one fill of the stale part, at most the ring");
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
        let before = s.slot_writes;
        s.store(far - 18, n(70.0));
        s.store(far - 4, n(80.0));
        assert_eq!(s.slot_writes - before, 2);
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
        assert!(s.slot_writes <= 3 + 3 * 16, "{}", s.slot_writes);
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
        let d = TempDir::new();
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
        let d = TempDir::new();
        let sp = spec(MemoryMode::Save, Some(&d.0), 10);
        let mut s = DimensionStore::open_at(&sp, NOW);
        s.store(NOW, n(1.0));
        drop(s);
        assert!(!path(&d).exists());
    }

    #[test]
    fn map_mode_persists_without_save() {
        let d = TempDir::new();
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
        let d = TempDir::new();
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
        let d = TempDir::new();
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
                let d = TempDir::new();
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
        let d = TempDir::new();
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
        let d = TempDir::new();
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
            let d = TempDir::new();
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
            let d = TempDir::new();
            fs::create_dir_all(path(&d)).unwrap();
            let mut s = DimensionStore::open_at(&spec(mode, Some(&d.0), 10), NOW);
            assert_eq!(s.outcome(), OpenOutcome::FellBackToRam);
            assert_eq!(s.mode(), MemoryMode::Ram);
            s.store(NOW, n(1.0));
            assert_eq!(s.get(NOW).value(), Some(1.0));
            assert!(s.save().is_ok());
        }
        // A file where the host directory should be.
        let d = TempDir::new();
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
        let d = TempDir::new();
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
        let d = TempDir::new();
        let h = Header {
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
}
