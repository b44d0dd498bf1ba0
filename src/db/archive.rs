//! The compressed archive of an upper tier: closed blocks of [`BLOCK`] consecutive points,
//! compressed, kept in a circular byte region after the tier's fixed ring, found through a
//! circular index of fixed-size block descriptors.
//!
//! A block `b` holds the spans whose index `t / update_every` is in `[b·BLOCK, b·BLOCK +
//! BLOCK)`. It is archived when its first point is about to leave the fixed ring (the ring
//! keeps at least two blocks, so the whole block is closed then and still in the ring); a
//! block with no stored value is not archived at all (reads as empty). A late point into a
//! block already archived only reaches the ring: once the ring overwrites it, the archived
//! version is read.
//!
//! Encoding of a block: the `BLOCK × 14` point bytes, each point XOR-ed with the previous one
//! (per field: f32 bit patterns and the u16 count, bytewise), then byte-transposed (all first
//! bytes, then all second bytes, … like Blosc's shuffle), then LZ4 (block format). Steady
//! series become runs of zero bytes. A build without LZ4 stores the shuffled bytes (codec 0).
//!
//! Layout of the archive part of a tier section (after the fixed ring's points), explicit
//! little-endian: `slots` descriptors of 16 bytes, then `region` bytes of blocks.
//!
//! | offset | size | descriptor field                                              |
//! |--------|------|---------------------------------------------------------------|
//! | 0      | 4    | block number                                                  |
//! | 4      | 4    | offset of the compressed bytes in the region                  |
//! | 8      | 2    | length of the compressed bytes                                |
//! | 10     | 1    | first point of the block stored (0..BLOCK)                    |
//! | 11     | 1    | codec: 0 shuffled bytes as they are, 1 LZ4                    |
//! | 12     | 4    | checksum of bytes 0..12 followed by the compressed bytes      |
//!
//! The live descriptors are `count` slots from `tail` (circular), block numbers strictly
//! increasing; the region is written at `head`, wrapping to 0 when a block does not fit
//! before its end; writing a block evicts the oldest blocks whose bytes it overwrites (and
//! the oldest when the index is full). `tail`, `count` and `head` live in the tier's section
//! descriptor. Guarantees: never trusts a length or offset from disk (bounded decompression
//! into a fixed buffer of the known size); a block whose checksum fails is dropped, with
//! one warning per store; work is one compression per archived block, one decompression per
//! block a read overlaps, O(log slots) to find the first.

use std::sync::atomic::{AtomicBool, Ordering};

use super::file::{checksum, le_u32};
use super::tier::{TierPoint, TIER_POINT_BYTES};

/// Points per archived block.
pub(crate) const BLOCK: usize = 32;
/// Bytes of a block before compression.
pub(crate) const RAW: usize = BLOCK * TIER_POINT_BYTES;
/// Bytes of an index descriptor.
pub(crate) const SLOT_LEN: usize = 16;
/// Most bytes a stored block takes: a block LZ4 does not make smaller is stored as is.
pub(crate) const MAX_PACKED: usize = RAW;
/// Room LZ4 asks for to compress `RAW` bytes (its bound: 20 + 110 % of the input).
#[cfg(any(feature = "compression", feature = "exporting"))]
const LZ4_ROOM: usize = 20 + RAW * 11 / 10 + 8;
/// One index slot per this many archive bytes: the index takes a quarter of the archive,
/// as many blocks as the region holds when they average 48 bytes (1.5 bytes a point).
/// Measured (see the tests' `bytes_per_point`): zero and constant series compress to 13-60
/// bytes a block, random integer rates to ~240: with 1/8 for the index the compressible
/// series were limited by the slots at 4 bytes a point; with 1/4 they keep twice as many
/// points and the random ones lose an eighth.
const BYTES_PER_SLOT: u32 = 64;
/// Largest archive accepted (1 GiB per tier per dimension).
pub(crate) const MAX_ARCHIVE: u32 = 1 << 30;

const CODEC_RAW: u8 = 0;
const CODEC_LZ4: u8 = 1;

/// Index slots and region bytes of an archive of `bytes` bytes (0 slots: no archive).
pub(crate) fn geometry(bytes: u32) -> (u32, u32) {
    let bytes = bytes.min(MAX_ARCHIVE);
    let slots = bytes / BYTES_PER_SLOT;
    if slots == 0 {
        return (0, 0);
    }
    (slots, bytes - slots * SLOT_LEN as u32)
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

/// Encodes a block's point bytes into `out`: its length and codec.
pub(crate) fn encode_block(raw: &[u8; RAW], out: &mut [u8; MAX_PACKED]) -> (usize, u8) {
    let mut s = [0u8; RAW];
    shuffle(raw, &mut s);
    #[cfg(any(feature = "compression", feature = "exporting"))]
    {
        let mut room = [0u8; LZ4_ROOM];
        if let Ok(n) = lz4_flex::block::compress_into(&s, &mut room) {
            if n < RAW {
                out[..n].copy_from_slice(&room[..n]);
                return (n, CODEC_LZ4);
            }
        }
    }
    out[..RAW].copy_from_slice(&s);
    (RAW, CODEC_RAW)
}

/// Decodes a block into `raw`; false when the bytes do not make exactly one block.
pub(crate) fn decode_block(packed: &[u8], codec: u8, raw: &mut [u8; RAW]) -> bool {
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

/// One index descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    pub block: u32,
    pub offset: u32,
    pub len: u16,
    pub first: u8,
    pub codec: u8,
    pub sum: u32,
}

impl Slot {
    fn head(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[0..4].copy_from_slice(&self.block.to_le_bytes());
        b[4..8].copy_from_slice(&self.offset.to_le_bytes());
        b[8..10].copy_from_slice(&self.len.to_le_bytes());
        b[10] = self.first;
        b[11] = self.codec;
        b
    }

    fn encode(&self) -> [u8; SLOT_LEN] {
        let mut b = [0u8; SLOT_LEN];
        b[..12].copy_from_slice(&self.head());
        b[12..16].copy_from_slice(&self.sum.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Slot {
        Slot {
            block: le_u32(b, 0),
            offset: le_u32(b, 4),
            len: u16::from_le_bytes([b[8], b[9]]),
            first: b[10],
            codec: b[11],
            sum: le_u32(b, 12),
        }
    }

    /// The checksum of the descriptor's fields and its bytes.
    fn checksum_of(&self, packed: &[u8]) -> u32 {
        let mut buf = [0u8; 12 + MAX_PACKED];
        let n = packed.len().min(MAX_PACKED);
        buf[..12].copy_from_slice(&self.head());
        buf[12..12 + n].copy_from_slice(&packed[..n]);
        checksum(&buf[..12 + n])
    }
}

/// An archive's geometry and where it stands (the bytes live in the tier's body).
#[derive(Debug)]
pub(crate) struct Archive {
    /// Index slots.
    pub slots: u32,
    /// Region bytes.
    pub region: u32,
    /// Slot of the oldest live block.
    pub tail: u32,
    /// Live blocks.
    pub count: u32,
    /// Offset in the region where the next block goes.
    pub head: u32,
    /// The newest block considered for archiving (archived, or found empty).
    pub newest: Option<u32>,
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
        let (slots, region) = geometry(bytes);
        (slots > 0).then(|| Archive {
            slots,
            region,
            tail: 0,
            count: 0,
            head: 0,
            newest: None,
            warned: AtomicBool::new(false),
        })
    }

    /// Bytes of the index and region.
    pub fn len(&self) -> usize {
        self.slots as usize * SLOT_LEN + self.region as usize
    }

    /// Takes the persisted state; false (nothing changed) when it is not sane.
    pub fn load(&mut self, body: &[u8], tail: u32, count: u32, head: u32) -> bool {
        if tail >= self.slots || count > self.slots || head > self.region || body.len() < self.len() {
            return false;
        }
        self.tail = tail;
        self.count = count;
        self.head = head;
        self.newest = (count > 0).then(|| self.slot(body, count - 1).block);
        true
    }

    /// Forgets every block in O(1) (the bytes stay, unreferenced).
    pub fn clear(&mut self) {
        self.count = 0;
        self.newest = None;
    }

    /// The `i`-th live descriptor, oldest first (`i < count`).
    fn slot(&self, body: &[u8], i: u32) -> Slot {
        let s = ((u64::from(self.tail) + u64::from(i)) % u64::from(self.slots)) as usize;
        Slot::decode(&body[s * SLOT_LEN..(s + 1) * SLOT_LEN])
    }

    /// The oldest live block's number and first stored point.
    pub fn oldest(&self, body: &[u8]) -> Option<(u32, u8)> {
        (self.count > 0 && body.len() >= self.len()).then(|| {
            let s = self.slot(body, 0);
            (s.block, s.first.min(BLOCK as u8 - 1))
        })
    }

    /// The position (0..=count) of the first live block numbered `>= block`.
    fn lower_bound(&self, body: &[u8], block: u32) -> u32 {
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.slot(body, mid).block < block {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Archives block `block` (points `raw`, first stored point `first`).
    pub fn append(&mut self, body: &mut [u8], block: u32, first: u8, raw: &[u8; RAW]) -> Result<(), Skip> {
        if self.newest.is_some_and(|n| block <= n) {
            return Err(Skip::NotNewer);
        }
        self.newest = Some(block);
        let mut packed = [0u8; MAX_PACKED];
        let (len, codec) = encode_block(raw, &mut packed);
        if len > self.region as usize || body.len() < self.len() {
            return Err(Skip::TooLarge);
        }
        let len32 = len as u32;
        let wrap = self.head + len32 > self.region;
        let off = if wrap { 0 } else { self.head };
        // Evict, oldest first, what the new bytes overwrite; after a wrap, the blocks between
        // the old head and the end are older than those at the start and go first.
        while self.count > 0 {
            let o = self.slot(body, 0);
            let o_end = o.offset.saturating_add(u32::from(o.len));
            let overlaps = o.offset < off + len32 && off < o_end;
            let beyond = wrap && o.offset >= self.head;
            if self.count == self.slots || overlaps || beyond {
                self.tail = (self.tail + 1) % self.slots;
                self.count -= 1;
            } else {
                break;
            }
        }
        let index = self.slots as usize * SLOT_LEN;
        body[index + off as usize..index + off as usize + len].copy_from_slice(&packed[..len]);
        let mut s = Slot { block, offset: off, len: len as u16, first, codec, sum: 0 };
        s.sum = s.checksum_of(&packed[..len]);
        let at = ((u64::from(self.tail) + u64::from(self.count)) % u64::from(self.slots)) as usize;
        body[at * SLOT_LEN..(at + 1) * SLOT_LEN].copy_from_slice(&s.encode());
        self.count += 1;
        self.head = off + len32;
        Ok(())
    }

    /// Decodes live descriptor `i` into `raw`; false (and one warning per store, naming
    /// `what`) when its bytes are damaged.
    fn read_block(&self, body: &[u8], s: &Slot, raw: &mut [u8; RAW], what: &dyn Fn() -> String) -> bool {
        let index = self.slots as usize * SLOT_LEN;
        let (off, len) = (s.offset as usize, usize::from(s.len));
        let ok = off.checked_add(len).is_some_and(|end| end <= self.region as usize && len <= MAX_PACKED) && {
            let packed = &body[index + off..index + off + len];
            s.checksum_of(packed) == s.sum && decode_block(packed, s.codec, raw)
        };
        if !ok && !self.warned.swap(true, Ordering::Relaxed) {
            log::warn!("db: {}: a damaged archived block ({}) was dropped", what(), s.block);
        }
        ok
    }

    /// Calls `f` with every point of the aligned times `start..=end` (step `ue`), from the
    /// archived blocks, empty where a block is missing or damaged.
    pub fn for_each(
        &self,
        body: &[u8],
        start: i64,
        end: i64,
        ue: i64,
        what: &dyn Fn() -> String,
        f: &mut dyn FnMut(TierPoint),
    ) {
        if start > end || body.len() < self.len() {
            return;
        }
        let b = BLOCK as i64;
        let mut t = start;
        let mut i = match u32::try_from((start / ue).div_euclid(b)) {
            Ok(first) => self.lower_bound(body, first),
            Err(_) => self.count,
        };
        let mut raw = [0u8; RAW];
        while t <= end {
            let span = t / ue;
            let block = span.div_euclid(b);
            let block_end = ((block + 1) * b - 1) * ue;
            let mut have = false;
            while i < self.count {
                let s = self.slot(body, i);
                if i64::from(s.block) < block {
                    i += 1;
                    continue;
                }
                have = i64::from(s.block) == block && self.read_block(body, &s, &mut raw, what);
                break;
            }
            while t <= end && t <= block_end {
                let j = (t / ue).rem_euclid(b) as usize;
                f(if have { TierPoint::decode(t, &raw[j * TIER_POINT_BYTES..]) } else { TierPoint::empty(t) });
                t += ue;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
