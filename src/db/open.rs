//! Opening a dimension's store: geometry of its tiers, judging an existing file (tier 0's
//! header, then each tier section), loading, migrating or rebuilding what it holds, filling
//! new or rebuilt upper tiers from the tier below, and `save`'s atomic write.
//!
//! Guarantees: a file is read in full only after its header proved it is this dimension's;
//! one mapping per dimension whatever the number of tiers; a damaged tier section keeps tier
//! 0 and the tiers below it and rebuilds it and those above with ONE warning naming the file
//! and the tier; backfilling is bounded by the lower ring's size.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use memmap2::MmapMut;

use super::archive::{Archive, BLOCK};
use super::file::{self, dimension_path, file_len_for, Header, Verdict, HEADER_LEN, MAX_ENTRIES, NO_TIME};
use super::ring::Ring;
use super::store::{DimensionStore, OpenOutcome, Slots, StoreSpec, Upper};
use super::tier::{archive_leaving, Tier, TierOutcome, TierSlots, MAX_TIERS, TIER_POINT_BYTES};
use super::tierfile::{self, section_len, Section, TierDamage, TierDesc, DESC_LEN};
use super::upper::tier0_end;
use super::MemoryMode;

impl DimensionStore {
    /// Opens (or creates) the store, judging any file against the current clock.
    pub fn open(spec: &StoreSpec<'_>) -> DimensionStore {
        Self::open_at(spec, crate::clock::now_realtime_sec())
    }

    /// Like [`open`](Self::open) with an explicit "now": a file whose `last_t` is more than a
    /// day after `now` is distrusted.
    pub fn open_at(spec: &StoreSpec<'_>, now: i64) -> DimensionStore {
        let update_every = spec.update_every.max(1);
        let asked = spec.entries.clamp(1, MAX_ENTRIES);
        let upper = match spec.mode {
            MemoryMode::None => None,
            _ => upper_tiers(spec, update_every, asked),
        };
        let entries = match &upper {
            Some(u) if u.raised0.is_some() => need(u.tiers[0].iterations),
            _ => asked,
        };
        let mut store = DimensionStore {
            slots: Slots::None,
            ring: Ring::new(update_every, entries),
            mode: spec.mode,
            outcome: OpenOutcome::Memory,
            ids: file::ids_hash(spec.chart_id, spec.dim_id),
            save_path: None,
            upper,
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
        let result = match spec.mode {
            MemoryMode::Save => store.open_save(&path, now),
            _ => store.open_map(&path, now),
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

    fn into_ram(mut self) -> Self {
        self.slots = Slots::Lazy;
        self.mode = MemoryMode::Ram;
        if let Some(up) = self.upper.as_deref_mut() {
            for t in &mut up.tiers {
                t.slots = TierSlots::Lazy;
                t.ring.clear();
                if let Some(a) = t.arch.as_mut() {
                    a.clear();
                }
                t.outcome = TierOutcome::Memory;
            }
        }
        self
    }

    fn fall_back(mut self) -> Self {
        self.save_path = None;
        self.ring.clear();
        self.outcome = OpenOutcome::FellBackToRam;
        self.into_ram()
    }

    /// The header a file of this store starts with, times unset.
    fn want(&self) -> Header {
        Header { last_t: NO_TIME, first_t: NO_TIME, ..self.header() }
    }

    /// The length of this store's file.
    fn file_len(&self) -> u64 {
        let tiers = self
            .upper
            .as_deref()
            .map_or(0, |u| u.tiers.iter().map(|t| section_len(t.ring.entries, t.arch_bytes())).sum());
        file_len_for(self.ring.entries) + tiers
    }

    /// Save mode: load a valid file into memory, remember where to save.
    fn open_save(&mut self, path: &Path, now: i64) -> io::Result<()> {
        prepare_dir(path)?;
        self.save_path = Some(path.into());
        self.slots = Slots::Mem(vec![0u32; self.ring.entries as usize]);
        if let Some(up) = self.upper.as_deref_mut() {
            for t in &mut up.tiers {
                t.slots = TierSlots::Mem(vec![0; t.body_len()]);
            }
        }
        let (verdict, image) = match File::open(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.outcome = OpenOutcome::Created;
                self.set_tier_outcomes(TierOutcome::Backfilled);
                return Ok(());
            }
            Err(e) => return Err(e),
            Ok(mut f) => {
                let meta = f.metadata()?;
                if !meta.is_file() {
                    return Err(io::Error::other("not a regular file"));
                }
                let mut head = Vec::with_capacity(HEADER_LEN);
                Read::take(&mut f, HEADER_LEN as u64).read_to_end(&mut head)?;
                let verdict = file::inspect(&head, meta.len(), &self.want(), now);
                // Only this dimension's own file is read in full.
                if matches!(verdict, Verdict::Use(_) | Verdict::Resize(_)) {
                    f.read_to_end(&mut head)?;
                }
                (verdict, head)
            }
        };
        self.load(path, &verdict, &image, now);
        Ok(())
    }

    /// Map mode: map a file that has exactly this store's layout, or (re)build it at the
    /// right size, map that and load what the old file held.
    fn open_map(&mut self, path: &Path, now: i64) -> io::Result<()> {
        prepare_dir(path)?;
        let existed = fs::metadata(path).is_ok();
        let f = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        let meta = f.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        let want_len = self.file_len();
        if self.upper.as_deref().is_some_and(|u| u.tiers.iter().any(|t| t.arch.is_some())) {
            // Named in the one warning about a damaged archived block.
            self.save_path = Some(path.into());
        }
        let mut old: Option<(Verdict, Vec<u8>)> = None;
        if existed {
            let len = meta.len();
            let mut head = Vec::with_capacity(HEADER_LEN);
            Read::take(&f, HEADER_LEN as u64).read_to_end(&mut head)?;
            let verdict = file::inspect(&head, len, &self.want(), now);
            if let Verdict::Use(h) = verdict {
                if len == want_len {
                    let map = map_file(&f, want_len)?;
                    if self.adopt(&map, &h, now) {
                        self.slots = Slots::Map(map);
                        self.outcome = OpenOutcome::Loaded;
                        return Ok(());
                    }
                }
            }
            // Only this dimension's own file is read in full (the head already read first).
            let image = match verdict {
                Verdict::Use(_) | Verdict::Resize(_) => {
                    let mut all = head;
                    (&f).read_to_end(&mut all)?;
                    all
                }
                Verdict::Rebuild(_) => Vec::new(),
            };
            old = Some((verdict, image));
        }
        // Start over at the right size: zero-filled slots and points are empty.
        f.set_len(0)?;
        f.set_len(want_len)?;
        let mut map = map_file(&f, want_len)?;
        map[..HEADER_LEN].copy_from_slice(&self.want().encode());
        let mut at = tier0_end(self.ring.entries);
        if let Some(up) = self.upper.as_deref_mut() {
            for (k, t) in up.tiers.iter_mut().enumerate() {
                let d = desc_of(k + 1, t, NO_TIME, NO_TIME);
                map[at..at + DESC_LEN].copy_from_slice(&d.encode());
                t.desc_at = at;
                t.slots = TierSlots::Map(at + DESC_LEN);
                at += section_len(t.ring.entries, t.arch_bytes()) as usize;
            }
        }
        self.slots = Slots::Map(map);
        match old {
            Some((verdict, image)) => self.load(path, &verdict, &image, now),
            None => {
                self.outcome = OpenOutcome::Created;
                self.set_tier_outcomes(TierOutcome::Backfilled);
            }
        }
        Ok(())
    }

    /// Takes a mapped file of exactly this store's length whose header is usable as is:
    /// true (times loaded, tiers pointing into the mapping) when every tier section matches
    /// too; false (nothing changed) otherwise.
    fn adopt(&mut self, map: &[u8], h: &Header, now: i64) -> bool {
        let n = self.upper.as_deref().map_or(0, |u| u.tiers.len());
        let (sections, _) = tierfile::walk(map, tier0_end(h.entries), n, now);
        if h.version != self.want().version || sections.len() != n {
            return false;
        }
        if let Some(up) = self.upper.as_deref_mut() {
            let fits = up.tiers.iter_mut().zip(&sections).all(|(t, s)| {
                let d = s.desc;
                (d.update_every, d.iterations, d.entries, d.bytes)
                    == (t.ring.update_every, t.iterations, t.ring.entries, t.arch_bytes())
                    && {
                        let ring_len = t.ring_len();
                        t.arch.as_mut().is_none_or(|a| {
                            let body = &map[s.at + DESC_LEN + ring_len..];
                            a.load(body, d.arch[0], d.arch[1], d.arch[2])
                        })
                    }
            });
            if !fits {
                for a in up.tiers.iter_mut().filter_map(|t| t.arch.as_mut()) {
                    a.clear();
                }
                return false;
            }
            for (t, s) in up.tiers.iter_mut().zip(&sections) {
                t.ring.load_times(s.desc.last_t, s.desc.first_t);
                t.desc_at = s.at;
                t.slots = TierSlots::Map(s.at + DESC_LEN);
                t.outcome = TierOutcome::Loaded;
            }
        }
        self.ring.load_times(h.last_t, h.first_t);
        true
    }

    /// Fills this store's fresh (zeroed) slots from an old file image judged by `verdict`:
    /// tier 0 kept or migrated, each tier section kept or migrated until the first one that
    /// is missing, damaged or of another grid; that one and those above are filled from the
    /// tier below (one warning for a damaged or changed one).
    fn load(&mut self, path: &Path, verdict: &Verdict, image: &[u8], now: i64) {
        let old = match *verdict {
            Verdict::Rebuild(why) => {
                self.outcome = OpenOutcome::Rebuilt(why);
                self.set_tier_outcomes(TierOutcome::Rebuilt(TierDamage::BelowRebuilt));
                return;
            }
            Verdict::Use(h) | Verdict::Resize(h) => h,
        };
        if image.len() < tier0_end(old.entries) {
            // The file shrank between its header check and its reading.
            let len = image.len() as u64;
            self.outcome =
                OpenOutcome::Rebuilt(super::Damage::WrongLength { len, expected: file_len_for(old.entries) });
            self.set_tier_outcomes(TierOutcome::Rebuilt(TierDamage::BelowRebuilt));
            return;
        }
        let mut old_ring = Ring::new(old.update_every, old.entries);
        old_ring.load_times(old.last_t, old.first_t);
        let words = |i: usize| file::le_u32(image, HEADER_LEN + i * 4);
        let mut new_ring = self.ring;
        new_ring.migrate_from(&old_ring, |i, j| self.slots.set(j, words(i)));
        self.ring = new_ring;
        self.slots.set_times(self.ring.last_t, self.ring.header_first_t());
        self.outcome = match *verdict {
            Verdict::Resize(h) => OpenOutcome::Resized { from: h.entries, to: self.ring.entries },
            _ => OpenOutcome::Loaded,
        };
        let n = self.tier_count() - 1;
        let (sections, damage) = match old.version {
            file::VERSION_TIERS => tierfile::walk(image, tier0_end(old.entries), n, now),
            _ => (Vec::new(), None),
        };
        let mut rebuild_from = None;
        for k in 1..=n {
            let outcome = match (rebuild_from, sections.get(k - 1)) {
                (Some(_), _) => TierOutcome::Rebuilt(TierDamage::BelowRebuilt),
                (None, Some(s)) => self.load_tier(k, s, image),
                (None, None) => match damage {
                    Some(d) => TierOutcome::Rebuilt(d),
                    None => TierOutcome::Backfilled,
                },
            };
            if rebuild_from.is_none() && matches!(outcome, TierOutcome::Rebuilt(_) | TierOutcome::Backfilled)
            {
                rebuild_from = Some(k);
                if let TierOutcome::Rebuilt(why) = outcome {
                    let above = if k < n { ", and the tiers above it" } else { "" };
                    let line = format!(
                        "db: {}: tier {} {}, rebuilt from tier {}{}",
                        path.display(),
                        k,
                        why,
                        k - 1,
                        above
                    );
                    log::warn!("{line}");
                    #[cfg(test)]
                    if let Some(up) = self.upper.as_deref_mut() {
                        up.warnings.push(line);
                    }
                }
            }
            if let TierOutcome::Resized { from, to } = outcome {
                log::warn!(
                    "db: {}: tier {} retention changed from {} to {}, keeping the newest points",
                    path.display(),
                    k,
                    from,
                    to
                );
            }
            if let Some(t) = self.upper.as_deref_mut().and_then(|u| u.tiers.get_mut(k - 1)) {
                t.outcome = outcome;
            }
        }
        if let Some(k) = rebuild_from {
            if let Some(lower) = self.ring_of(k - 1).copied() {
                if let (Some(first), Some(last)) = (lower.first_t(), lower.last_t()) {
                    self.refresh(k, first, last);
                }
            }
        }
    }

    /// Takes upper tier `k`'s points from a valid old section, keeping the newest when the
    /// entries changed; a section on another grid is not taken.
    fn load_tier(&mut self, k: usize, s: &Section, image: &[u8]) -> TierOutcome {
        let Some(tier) = self.upper.as_deref_mut().and_then(|u| u.tiers.get_mut(k - 1)) else {
            return TierOutcome::Memory;
        };
        let d = s.desc;
        if d.update_every != tier.ring.update_every {
            return TierOutcome::Rebuilt(TierDamage::UpdateEveryChanged {
                from: d.update_every,
                to: tier.ring.update_every,
            });
        }
        if d.iterations != tier.iterations {
            return TierOutcome::Rebuilt(TierDamage::IterationsChanged {
                from: d.iterations,
                to: tier.iterations,
            });
        }
        let mut old_ring = Ring::new(d.update_every, d.entries);
        old_ring.load_times(d.last_t, d.first_t);
        let old_points = &image[s.at + DESC_LEN..s.at + DESC_LEN + d.entries as usize * TIER_POINT_BYTES];
        let (len, ring_len) = (tier.body_len(), tier.ring_len());
        let (body, desc): (&mut [u8], Option<&mut [u8]>) = match (&mut tier.slots, &mut self.slots) {
            (TierSlots::Mem(v), _) => (v.as_mut_slice(), None),
            (TierSlots::Map(at), Slots::Map(m)) => {
                let (d, p) = m[tier.desc_at..*at + len].split_at_mut(DESC_LEN);
                (p, Some(d))
            }
            _ => return TierOutcome::Memory,
        };
        let (points, abody) = body.split_at_mut(ring_len);
        // The archive is copied as it is when its size did not change; otherwise its newest
        // records that fit are. When the ring shrinks or the archive is new, the blocks that
        // would leave the new ring are archived from the old one first, so nothing a ring
        // held is lost to a change of sizes.
        let mut kept_archive = false;
        if let Some(a) = tier.arch.as_mut() {
            let old_at = s.at + DESC_LEN + d.entries as usize * TIER_POINT_BYTES;
            let old_body = image.get(old_at..old_at + d.bytes as usize).unwrap_or(&[]);
            let mut old = Archive::new(d.bytes);
            if let Some(o) = old.as_mut() {
                let [tail, used, head] = d.arch;
                if !o.load(old_body, tail, used, head) {
                    old = None;
                }
            }
            match &old {
                Some(o) if d.bytes == tier_arch_len(a) => {
                    abody.copy_from_slice(old_body);
                    kept_archive = a.load(abody, o.tail, o.used, o.head);
                }
                Some(o) => a.migrate_from(abody, o, old_body),
                None => {
                    a.clear();
                    abody.fill(0);
                }
            }
            if d.entries > tier.ring.entries || old.is_none() {
                let shift =
                    i64::from(d.entries.saturating_sub(tier.ring.entries)) * i64::from(d.update_every);
                archive_leaving(&old_ring, a, old_points, abody, d.last_t.saturating_add(shift.max(1)));
            }
        }
        const P: usize = TIER_POINT_BYTES;
        tier.ring.migrate_from(&old_ring, |i, j| {
            points[j * P..(j + 1) * P].copy_from_slice(&old_points[i * P..(i + 1) * P])
        });
        if let Some(dst) = desc {
            dst.copy_from_slice(&desc_of(k, tier, tier.ring.last_t, tier.ring.header_first_t()).encode());
        }
        if d.entries == tier.ring.entries && (kept_archive || d.bytes == 0 && tier.arch.is_none()) {
            TierOutcome::Loaded
        } else {
            TierOutcome::Resized { from: d.entries, to: tier.ring.entries }
        }
    }

    fn set_tier_outcomes(&mut self, outcome: TierOutcome) {
        if let Some(up) = self.upper.as_deref_mut() {
            for t in &mut up.tiers {
                t.outcome = outcome;
            }
        }
    }
}

/// The entries a tier needs below a tier of `iterations`.
fn need(iterations: u32) -> u32 {
    2 * iterations
}

/// The upper tiers of `spec`, each tier's entries raised to twice the iterations of the
/// one above it; a tier whose update every would not fit 32 bits is left out, with those
/// above it.
fn upper_tiers(spec: &StoreSpec<'_>, update_every: u32, entries0: u32) -> Option<Box<Upper>> {
    let mut tiers: Vec<Tier> = Vec::with_capacity(spec.tiers.len().min(MAX_TIERS - 1));
    let mut ue = update_every;
    for ts in spec.tiers.iter().take(MAX_TIERS - 1) {
        let iterations = ts.iterations.clamp(2, 255);
        let Some(next) = ue.checked_mul(iterations) else { break };
        ue = next;
        let arch = Archive::new(ts.bytes);
        let floor = if arch.is_some() { 2 * BLOCK as u32 } else { 2 };
        let entries = ts.entries.clamp(floor, MAX_ENTRIES);
        tiers.push(Tier {
            ring: Ring::new(ue, entries),
            iterations,
            slots: TierSlots::Lazy,
            desc_at: 0,
            raised_from: None,
            outcome: TierOutcome::Memory,
            arch,
        });
    }
    if tiers.is_empty() {
        return None;
    }
    for k in 0..tiers.len() - 1 {
        let want = need(tiers[k + 1].iterations);
        let t = &mut tiers[k];
        if t.ring.entries < want {
            t.raised_from = Some(t.ring.entries);
            t.ring.entries = want;
        }
    }
    let raised0 = (entries0 < need(tiers[0].iterations)).then_some(entries0);
    Some(Box::new(Upper {
        tiers,
        raised0,
        #[cfg(test)]
        warnings: Vec::new(),
    }))
}

/// The descriptor of upper tier `k` with the given times.
fn desc_of(k: usize, t: &Tier, last_t: i64, first_t: i64) -> TierDesc {
    TierDesc {
        tier: k as u32,
        update_every: t.ring.update_every,
        iterations: t.iterations,
        entries: t.ring.entries,
        bytes: t.arch_bytes(),
        last_t,
        first_t,
        arch: t.arch.as_ref().map_or([0; 3], |a| a.state()),
    }
}

fn map_file(f: &File, want_len: u64) -> io::Result<MmapMut> {
    // SAFETY: the file is a regular file private to this agent's cache directory and was
    // just sized (or checked) to the header plus all slots and sections; nothing in this
    // process truncates it while mapped. Another process truncating it would be an external
    // fault (SIGBUS), the same contract every file-mapping database has.
    let map = unsafe { MmapMut::map_mut(f)? };
    if map.len() as u64 != want_len {
        return Err(io::Error::other("mapping has the wrong size"));
    }
    Ok(map)
}

fn prepare_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => fs::create_dir_all(dir),
        None => Ok(()),
    }
}

/// Writes header, slots and tier sections to `<path>.tmp`, fsyncs, and renames over `path`.
pub(super) fn write_atomically(
    path: &Path,
    header: &Header,
    slots: &[u32],
    upper: Option<&Upper>,
) -> io::Result<()> {
    let mut tmp: PathBuf = path.into();
    tmp.as_mut_os_string().push(".tmp");
    let result = (|| {
        let mut w = io::BufWriter::with_capacity(16 * 1024, File::create(&tmp)?);
        w.write_all(&header.encode())?;
        for &s in slots {
            w.write_all(&s.to_le_bytes())?;
        }
        for (k, t) in upper.map_or(&[][..], |u| &u.tiers).iter().enumerate() {
            w.write_all(&desc_of(k + 1, t, t.ring.last_t, t.ring.header_first_t()).encode())?;
            match &t.slots {
                TierSlots::Mem(v) => w.write_all(v)?,
                _ => w.write_all(&vec![0; t.body_len()])?,
            }
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

/// The size an archive records in its section descriptor.
fn tier_arch_len(a: &Archive) -> u32 {
    a.len() as u32
}
