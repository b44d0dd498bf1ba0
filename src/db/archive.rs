//! The compressed archive of an upper tier: closed blocks of [`BLOCK`] consecutive points,
//! compressed, kept as records of a circular log in a byte region after the tier's fixed
//! ring.
//!
//! A block `b` holds the spans whose index `t / update_every` is in `[b·BLOCK, b·BLOCK +
//! BLOCK)`. It is archived when its first point is about to leave the fixed ring (the ring
//! keeps at least two blocks, so the whole block is closed then and still in the ring); a
//! block with no stored value is not archived at all (reads as empty). A late point into a
//! block already archived only reaches the ring: once the ring overwrites it, the archived
//! version is read.
//!
//! Encoding of a block: the smallest of three. The column codec (`codec.rs`, codec 2): the
//! counts, minima, maxima and sums as decimal integers, predicted (from the previous point,
//! the minimum, the midrange) and bit-packed at the width they need: a zero counter's block
//! is 11 bytes, a noisy rate's close to the entropy of its values. LZ4 (block format) of the
//! `BLOCK × 14` point bytes, each point XOR-ed with the previous one (per field: f32 bit
//! patterns and the u16 count, bytewise), then byte-transposed (like Blosc's shuffle), for
//! blocks the column codec declines or does worse on (codec 1). The shuffled bytes as they
//! are (codec 0). A build without LZ4 reads and writes codecs 0 and 2.
//!
//! The log: records back to back from `tail` for `used` bytes, wrapping; a record starts at
//! a multiple of 4 with a 16-byte header (explicit little-endian), then its bytes, then zero
//! padding to a multiple of 4. A record that does not fit before the end of the region goes
//! to offset 0 and the rest of the region is zeroed (a wrap gap). Writing a record evicts
//! the oldest records whose bytes it overwrites, and those more than `span_blocks` (region /
//! 32, as many as the smallest records would fill) before it: a tier's reads stay bounded
//! whatever jumps the clock makes, and a jump past the whole span empties the archive in
//! O(1) (reads ignore it at once; the next record forgets it). `tail`, `used` and `head`
//! live in the tier's section descriptor.
//!
//! | offset | size | record header field                                           |
//! |--------|------|---------------------------------------------------------------|
//! | 0      | 2    | magic `Nb`                                                    |
//! | 2      | 2    | length of the compressed bytes (at most `BLOCK × 14`)         |
//! | 4      | 4    | block number                                                  |
//! | 8      | 1    | first point of the block stored (0..BLOCK)                    |
//! | 9      | 1    | codec: 0 shuffled bytes as they are, 1 LZ4, 2 columns         |
//! | 10     | 2    | reserved, 0                                                   |
//! | 12     | 4    | checksum of bytes 0..12 followed by the compressed bytes      |
//!
//! The checksum covers bytes 0..12 and then the compressed bytes: FNV-1a for codecs 0 and 1,
//! eight bytes at a time (`file::checksum_words`) for codec 2, whose records every query reads.
//!
//! Why a log with headers and not a fixed index of descriptors beside the region: a fixed
//! split had to guess the compression ratio (measured: zero series 18 bytes a block, random
//! rates 240, random floats 448), wasting a quarter of the bytes on one kind of data or the
//! other; records cost their header whatever the data. A block is found by a binary search
//! over the log's bytes, each probe scanning forward to the next valid header (magic,
//! length, checksum), which also steps over damage.
//!
//! Guarantees: never trusts a length or offset from disk (bounded decompression into a fixed
//! buffer of the known size); a record whose checksum fails is not a record: its block reads
//! as empty, with one warning per store; work is one compression per archived block, one
//! decompression per block a read overlaps, O(log region) probes of at most one record's
//! length to find the first; forgetting everything is O(1).

use std::sync::atomic::{AtomicBool, Ordering};

use super::file::{checksum2, checksum_words, le_u32};
use super::tier::{TierPoint, TIER_POINT_BYTES};

/// Points per archived block.
pub(crate) const BLOCK: usize = 32;
/// Bytes of a block before compression.
pub(crate) const RAW: usize = BLOCK * TIER_POINT_BYTES;
/// Bytes of a record's header.
pub(crate) const HEADER: usize = 16;
/// Records start at multiples of this.
pub(crate) const ALIGN: usize = 4;
/// Most bytes a stored block takes: a block LZ4 does not make smaller is stored as is.
pub(crate) const MAX_PACKED: usize = RAW;
/// Room LZ4 asks for to compress `RAW` bytes (its bound: 20 + 110 % of the input).
#[cfg(any(feature = "compression", feature = "exporting"))]
const LZ4_ROOM: usize = 20 + RAW * 11 / 10 + 8;
/// Largest archive accepted (1 GiB per tier per dimension).
pub(crate) const MAX_ARCHIVE: u32 = 1 << 30;
/// Smallest archive: room for a few compressible blocks.
pub(crate) const MIN_ARCHIVE: u32 = 64;
const MAGIC: [u8; 2] = *b"Nb";
/// The smallest record: a header and the few bytes of a block with one non-zero byte.
const MIN_RECORD: u32 = 32;

const CODEC_RAW: u8 = 0;
/// Written and read only by builds with LZ4 (`compression` or `exporting`); a build without
/// it drops such records as unreadable (logged), keeping the rest.
#[cfg_attr(not(any(feature = "compression", feature = "exporting")), allow(dead_code))]
const CODEC_LZ4: u8 = 1;
/// The column codec (`codec.rs`): decimal integers, predicted and bit-packed.
const CODEC_COLUMNS: u8 = 2;

/// Region bytes of an archive asked `bytes` bytes (0: no archive).
pub(crate) fn geometry(bytes: u32) -> u32 {
    if bytes < MIN_ARCHIVE {
        return 0;
    }
    bytes.min(MAX_ARCHIVE) / ALIGN as u32 * ALIGN as u32
}

/// True when a persisted state (tail, used, head) can be that of an archive of `bytes`.
pub(crate) fn state_is_sane(bytes: u32, [tail, used, head]: [u32; 3]) -> bool {
    let region = geometry(bytes);
    if bytes == 0 {
        return true;
    }
    let a = ALIGN as u32;
    region == bytes
        && tail < region
        && used <= region
        && head <= region
        && tail % a == 0
        && head % a == 0
        && (u64::from(tail) + u64::from(used)) % u64::from(region) == u64::from(head) % u64::from(region)
}

/// XOR with the previous point, then byte-transpose: `raw` → `out`.
fn shuffle(raw: &[u8; RAW], out: &mut [u8; RAW]) {
    for j in 0..BLOCK {
        for p in 0..TIER_POINT_BYTES {
            let prev = if j == 0 { 0 } else { raw[(j - 1) * TIER_POINT_BYTES + p] };
            out[p * BLOCK + j] = raw[j * TIER_POINT_BYTES + p] ^ prev;
        }
    }
}

/// The inverse of [`shuffle`].
fn unshuffle(s: &[u8; RAW], raw: &mut [u8; RAW]) {
    for j in 0..BLOCK {
        for p in 0..TIER_POINT_BYTES {
            let prev = if j == 0 { 0 } else { raw[(j - 1) * TIER_POINT_BYTES + p] };
            raw[j * TIER_POINT_BYTES + p] = s[p * BLOCK + j] ^ prev;
        }
    }
}

/// Encodes a block's point bytes into `out`: its length and codec. The smallest of the
/// column codec ([`codec`]), LZ4 of the shuffled bytes, and the shuffled bytes as they are.
pub(crate) fn encode_block(raw: &[u8; RAW], out: &mut [u8; MAX_PACKED]) -> (usize, u8) {
    let mut best = (RAW, CODEC_RAW);
    let mut cols = [0u8; codec::MAX_ENCODED];
    if let Some(n) = codec::encode(raw, &mut cols).filter(|&n| n < RAW) {
        out[..n].copy_from_slice(&cols[..n]);
        best = (n, CODEC_COLUMNS);
    }
    let mut s = [0u8; RAW];
    shuffle(raw, &mut s);
    #[cfg(any(feature = "compression", feature = "exporting"))]
    {
        let mut room = [0u8; LZ4_ROOM];
        if let Ok(n) = lz4_flex::block::compress_into(&s, &mut room) {
            if n < best.0 {
                out[..n].copy_from_slice(&room[..n]);
                best = (n, CODEC_LZ4);
            }
        }
    }
    if best.1 == CODEC_RAW {
        out[..RAW].copy_from_slice(&s);
    }
    best
}

/// Decodes a block into `raw`; false when the bytes do not make exactly one block.
pub(crate) fn decode_block(packed: &[u8], codec: u8, raw: &mut [u8; RAW]) -> bool {
    if codec == CODEC_COLUMNS {
        return codec::decode(packed, raw);
    }
    let mut s = [0u8; RAW];
    match codec {
        CODEC_RAW if packed.len() == RAW => s.copy_from_slice(packed),
        #[cfg(any(feature = "compression", feature = "exporting"))]
        CODEC_LZ4 => match lz4_flex::block::decompress_into(packed, &mut s) {
            Ok(RAW) => {}
            _ => return false,
        },
        _ => return false,
    }
    unshuffle(&s, raw);
    true
}

/// The header of a record (a stored block) in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub block: u32,
    pub len: u16,
    pub first: u8,
    pub codec: u8,
    pub sum: u32,
}

impl Header {
    fn fields(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[0..2].copy_from_slice(&MAGIC);
        b[2..4].copy_from_slice(&self.len.to_le_bytes());
        b[4..8].copy_from_slice(&self.block.to_le_bytes());
        b[8] = self.first;
        b[9] = self.codec;
        b
    }

    fn encode(&self) -> [u8; HEADER] {
        let mut b = [0u8; HEADER];
        b[..12].copy_from_slice(&self.fields());
        b[12..16].copy_from_slice(&self.sum.to_le_bytes());
        b
    }

    /// The header at `b` if it looks like one (magic, length); the checksum is checked
    /// with the bytes by [`Archive::record_at`].
    fn decode(b: &[u8]) -> Option<Header> {
        let b = b.get(..HEADER)?;
        let h = Header {
            len: u16::from_le_bytes([b[2], b[3]]),
            block: le_u32(b, 4),
            first: b[8],
            codec: b[9],
            sum: le_u32(b, 12),
        };
        (b[0..2] == MAGIC && usize::from(h.len) <= MAX_PACKED && b[10..12] == [0, 0]).then_some(h)
    }

    /// The checksum of the header's fields and its bytes: FNV-1a for codecs 0 and 1 (as the
    /// archive has always written them), eight bytes at a time for the column codec, whose
    /// records every query reads.
    fn checksum_of(&self, packed: &[u8]) -> u32 {
        if self.codec == CODEC_COLUMNS {
            checksum_words(&self.fields(), packed)
        } else {
            checksum2(&self.fields(), packed)
        }
    }

    /// Bytes the record takes in the region, aligned.
    fn span(&self) -> u32 {
        record_len(usize::from(self.len))
    }
}

/// Bytes a record of `len` compressed bytes takes.
pub(crate) fn record_len(len: usize) -> u32 {
    ((HEADER + len).div_ceil(ALIGN) * ALIGN) as u32
}

/// A record found in the log: where it starts (logically, from the tail) and its header.
#[derive(Clone, Copy, Debug)]
struct Found {
    at: u32,
    h: Header,
}

/// An archive's geometry and where it stands (the bytes live in the tier's body).
#[derive(Debug)]
pub(crate) struct Archive {
    /// Region bytes (a multiple of [`ALIGN`]).
    pub region: u32,
    /// Offset of the oldest record.
    pub tail: u32,
    /// Bytes of the log from the tail to the head (records and wrap gaps): 0 when empty.
    pub used: u32,
    /// Offset where the next record goes.
    pub head: u32,
    /// The newest block considered for archiving (archived, or found empty).
    pub newest: Option<u32>,
    /// The oldest valid record's block and first point, kept current by every change (it
    /// answers `tier_first_t` without reading the log).
    first: Option<(u32, u8)>,
    /// A damaged block was reported (once per store).
    pub warned: AtomicBool,
}

/// Why a block was not archived.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Compressed, it is larger than the whole region.
    TooLarge,
    /// Not after the newest archived block.
    NotNewer,
}

impl Archive {
    /// An empty archive of `bytes` bytes; `None` when it has no room at all.
    pub fn new(bytes: u32) -> Option<Archive> {
        let region = geometry(bytes);
        (region > 0).then(|| Archive {
            region,
            tail: 0,
            used: 0,
            head: 0,
            newest: None,
            first: None,
            warned: AtomicBool::new(false),
        })
    }

    /// The most blocks the archive spans, from its oldest to its newest: as many as the
    /// smallest records fill the region. Older blocks are evicted whatever room is left, so
    /// a read of a whole tier yields at most `span_blocks × BLOCK` points plus the ring's,
    /// whatever jumps the clock made.
    pub fn span_blocks(&self) -> u32 {
        (self.region / MIN_RECORD).max(1)
    }

    /// Bytes of the region.
    pub fn len(&self) -> usize {
        self.region as usize
    }

    /// Takes the persisted state; false (nothing changed) when it is not sane.
    pub fn load(&mut self, body: &[u8], tail: u32, used: u32, head: u32) -> bool {
        let sane = state_is_sane(self.region, [tail, used, head]) && body.len() >= self.len();
        if !sane {
            return false;
        }
        (self.tail, self.used, self.head) = (tail, used, head);
        self.newest = self.last(body).map(|f| f.h.block);
        self.find_first(body);
        true
    }

    /// Forgets every block in O(1) (the bytes stay, outside the log).
    pub fn clear(&mut self) {
        self.used = 0;
        self.tail = self.head;
        self.newest = None;
        self.first = None;
    }

    /// Finds the oldest valid record again.
    fn find_first(&mut self, body: &[u8]) {
        self.first = self.next(body, 0).map(|f| (f.h.block, f.h.first.min(BLOCK as u8 - 1)));
    }

    /// The persisted state: tail, used, head.
    pub fn state(&self) -> [u32; 3] {
        [self.tail, self.used, self.head]
    }

    /// Physical offset of logical position `at` (from the tail).
    fn phys(&self, at: u32) -> usize {
        ((u64::from(self.tail) + u64::from(at)) % u64::from(self.region)) as usize
    }

    /// True when logical `[from, to)` is the zeroed end of the region left by a wrap.
    fn is_wrap_gap(&self, from: u32, to: u32) -> bool {
        self.phys(to) == 0 && self.phys(from) + (to - from) as usize == self.region as usize
    }

    /// The valid record starting at logical `at`, if there is one (header and checksum).
    fn record_at(&self, body: &[u8], at: u32) -> Option<Header> {
        let p = self.phys(at);
        let h = Header::decode(body.get(p..)?)?;
        let data = body.get(p + HEADER..p + HEADER + usize::from(h.len))?;
        (at + h.span() <= self.used && h.checksum_of(data) == h.sum).then_some(h)
    }

    /// The first valid record at or after logical `at` (scanning aligned positions over
    /// damage and gaps: at most the log's length).
    fn next(&self, body: &[u8], mut at: u32) -> Option<Found> {
        while at < self.used {
            if let Some(h) = self.record_at(body, at) {
                return Some(Found { at, h });
            }
            at += ALIGN as u32;
        }
        None
    }

    /// The newest valid record: the last one found walking from a few records before the
    /// head (at most the largest record back, then forward).
    fn last(&self, body: &[u8]) -> Option<Found> {
        let mut f = self.next(body, self.used.saturating_sub(record_len(MAX_PACKED) + ALIGN as u32))?;
        while let Some(n) = self.next(body, f.at + f.h.span()) {
            f = n;
        }
        Some(f)
    }

    /// The oldest live block's number and first stored point.
    pub fn oldest(&self) -> Option<(u32, u8)> {
        self.first
    }

    /// The first valid record numbered `>= block`: a binary search over the log's bytes,
    /// each probe scanning forward to the next record.
    fn lower_bound(&self, body: &[u8], block: u32) -> Option<Found> {
        let (mut lo, mut hi) = (0u32, self.used);
        // What the probe that last lowered `hi` found from there (the answer when the
        // search ends on it: not scanned and checksummed twice).
        let mut at_hi = None;
        while lo < hi {
            let mid = (lo + (hi - lo) / 2) / ALIGN as u32 * ALIGN as u32;
            match self.next(body, mid) {
                Some(f) if f.h.block < block => lo = f.at + f.h.span(),
                found => (hi, at_hi) = (mid, found),
            }
        }
        if lo == hi && hi < self.used {
            return at_hi;
        }
        self.next(body, lo)
    }

    /// Archives block `block` (points `raw`, first stored point `first`).
    pub fn append(&mut self, body: &mut [u8], block: u32, first: u8, raw: &[u8; RAW]) -> Result<(), Skip> {
        if self.newest.is_some_and(|n| block <= n) {
            return Err(Skip::NotNewer);
        }
        // Blocks too old to be spanned with this one go: everything in O(1) after a jump
        // past the whole span, else the oldest records one by one (each once).
        let floor = block.saturating_sub(self.span_blocks() - 1);
        if self.newest.is_some_and(|n| n < floor) {
            self.clear();
        }
        while self.first.is_some_and(|f| f.0 < floor) {
            match self.next(body, 0).and_then(|f| self.next(body, f.at + f.h.span())) {
                Some(f) => {
                    self.tail = self.phys(f.at) as u32;
                    self.used -= f.at;
                    self.find_first(body);
                }
                None => self.clear(),
            }
        }
        self.newest = Some(block);
        let mut packed = [0u8; MAX_PACKED];
        let (len, codec) = encode_block(raw, &mut packed);
        let span = record_len(len);
        if span > self.region || body.len() < self.len() {
            return Err(Skip::TooLarge);
        }
        // Where it goes: at the head, or at 0 when it does not fit before the end (the gap
        // is zeroed, so no old header is left in the log).
        let gap = if self.head + span > self.region { self.region - self.head } else { 0 };
        let off = if gap > 0 { 0 } else { self.head };
        let grow = gap + span;
        // Evict, oldest first, what the gap and the record overwrite: the new tail is the
        // first record at or after the written bytes.
        if self.used + grow > self.region {
            let keep_from = self.used + grow - self.region;
            match self.next(body, keep_from) {
                Some(f) => {
                    self.tail = self.phys(f.at) as u32;
                    self.used -= f.at;
                }
                None => {
                    self.tail = self.head;
                    self.used = 0;
                }
            }
        }
        if gap > 0 {
            body[self.head as usize..self.region as usize].fill(0);
        }
        let mut h = Header { block, len: len as u16, first, codec, sum: 0 };
        h.sum = h.checksum_of(&packed[..len]);
        let o = off as usize;
        body[o..o + HEADER].copy_from_slice(&h.encode());
        body[o + HEADER..o + HEADER + len].copy_from_slice(&packed[..len]);
        body[o + HEADER + len..o + span as usize].fill(0);
        if self.used == 0 {
            self.tail = off;
        } else {
            self.used += gap;
        }
        self.used += span;
        self.head = (off + span) % self.region;
        self.find_first(body);
        Ok(())
    }

    /// Takes the newest records of `old` (in `old_body`) that fit into this empty archive,
    /// copied as they are (no recompression): at most `old.used / 16` records walked.
    pub fn migrate_from(&mut self, body: &mut [u8], old: &Archive, old_body: &[u8]) {
        self.clear();
        self.tail = 0;
        self.head = 0;
        if body.len() < self.len() {
            return;
        }
        let mut found = Vec::new();
        let mut at = 0;
        while let Some(f) = old.next(old_body, at) {
            found.push(f);
            at = f.at + f.h.span();
        }
        // The newest records whose spans add up to the region at most.
        let mut total = 0u32;
        let mut from = found.len();
        while from > 0 && total + found[from - 1].h.span() <= self.region {
            from -= 1;
            total += found[from].h.span();
        }
        let mut off = 0usize;
        for f in &found[from..] {
            let p = old.phys(f.at);
            let n = f.h.span() as usize;
            body[off..off + n].copy_from_slice(&old_body[p..p + n]);
            off += n;
        }
        self.used = total;
        self.head = total % self.region;
        self.newest = found.last().map(|f| f.h.block);
        self.find_first(body);
    }

    /// Decodes a record into `raw`; false (and one warning per store, naming `what`) when
    /// its bytes do not make a block.
    fn read_block(&self, body: &[u8], f: &Found, raw: &mut [u8; RAW], what: &dyn Fn() -> String) -> bool {
        let p = self.phys(f.at) + HEADER;
        let ok =
            body.get(p..p + usize::from(f.h.len)).is_some_and(|packed| decode_block(packed, f.h.codec, raw));
        if !ok {
            self.warn(what, f.h.block);
        }
        ok
    }

    fn warn(&self, what: &dyn Fn() -> String, block: u32) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            log::warn!("db: {}: damaged archived data near block {block} was dropped", what());
        }
    }

    /// Calls `f` with every point of the aligned times `start..=end` (step `ue`), from the
    /// archived blocks, empty where a block is missing or damaged: one lookup of the first
    /// record, then each record checksummed and decoded once.
    pub fn for_each<F: FnMut(TierPoint)>(
        &self,
        body: &[u8],
        start: i64,
        end: i64,
        ue: i64,
        what: &dyn Fn() -> String,
        f: &mut F,
    ) {
        if start > end || body.len() < self.len() || ue <= 0 {
            return;
        }
        let b = BLOCK as i64;
        let mut rec = match u32::try_from((start / ue).div_euclid(b)) {
            Ok(first) => self.lower_bound(body, first),
            Err(_) => None,
        };
        let mut raw = [0u8; RAW];
        // Point `j` of block `block`, at `t`, block by block; `left` points to go.
        let (mut block, mut j) = ((start / ue).div_euclid(b), (start / ue).rem_euclid(b) as usize);
        let mut t = start;
        let mut left = (end.abs_diff(start) / ue.unsigned_abs()).saturating_add(1);
        while left > 0 {
            let mut have = false;
            while let Some(r) = rec {
                if i64::from(r.h.block) < block {
                    let next_at = r.at + r.h.span();
                    rec = self.next(body, next_at);
                    if rec.is_some_and(|n| n.at != next_at && !self.is_wrap_gap(next_at, n.at)) {
                        // Bytes between two records that are none: damage.
                        self.warn(what, r.h.block + 1);
                    }
                    continue;
                }
                have = i64::from(r.h.block) == block && self.read_block(body, &r, &mut raw, what);
                break;
            }
            // This block's points from `j`, up to `end`.
            let n = (BLOCK - j).min(usize::try_from(left).unwrap_or(BLOCK));
            left -= n as u64;
            if have {
                for p in raw[j * TIER_POINT_BYTES..(j + n) * TIER_POINT_BYTES].chunks_exact(TIER_POINT_BYTES)
                {
                    f(TierPoint::decode(t, p));
                    t = t.saturating_add(ue);
                }
            } else {
                for _ in 0..n {
                    f(TierPoint::empty(t));
                    t = t.saturating_add(ue);
                }
            }
            (block, j) = (block + 1, 0);
        }
    }
}

mod codec;
#[cfg(test)]
mod read_tests;
#[cfg(test)]
pub(crate) mod tests;

/// For the fuzzer (`fuzz/fuzz_targets/archive_block.rs`): byte 0 odd, the rest are a block's
/// point bytes (repeated to fill it), which must come back from the encoding unchanged; even,
/// the rest are a stored block of codec `byte 0 / 2`, which decodes or not without panicking
/// and, when it does, encodes and decodes back to the same points.
#[doc(hidden)]
pub fn fuzz_block(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut raw = [0u8; RAW];
    if mode % 2 == 1 {
        if rest.is_empty() {
            return;
        }
        for (b, r) in raw.iter_mut().zip(rest.iter().cycle()) {
            *b = *r;
        }
    } else if !decode_block(rest, mode / 2, &mut raw) {
        return;
    }
    let mut packed = [0u8; MAX_PACKED];
    let (len, codec) = encode_block(&raw, &mut packed);
    let mut back = [0u8; RAW];
    assert!(decode_block(&packed[..len], codec, &mut back), "an encoded block decodes");
    assert!(back == raw, "and gives the same points back");
}
