//! Snappy's **block** format (the one remote write requires; the framed format is not it),
//! written by hand: a few hundred bytes of code where a crate would bring its own tables.
//!
//! A block is the uncompressed length as a varint, then elements: a literal (tag `00`, the
//! length minus one in the tag's top six bits or, from 60 up, in 1–4 little-endian bytes
//! after it) or a copy of earlier output (tag `01`: length 4–11 and an 11-bit offset; tag
//! `10`: length 1–64 and a 16-bit offset; tag `11`: a 32-bit offset, read but never
//! written). The compressor works like the reference one: the input in 64 KiB fragments
//! compressed on their own, 4-byte matches found through a hash table of positions, and a
//! growing skip over data that does not compress. The decompressor is strict and bounded;
//! it exists for tests and test sinks.

/// Bytes the compressor works on at a time; copies never reach before a fragment's start.
const FRAGMENT: usize = 1 << 16;
/// The largest hash table (entries), and the smallest.
const MAX_TABLE: usize = 1 << 14;
const MIN_TABLE: usize = 1 << 8;

/// The input was longer than the format's 32-bit length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

/// Why a block does not decompress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The length preamble is missing or too long.
    Preamble,
    /// The block says it holds more than the caller allows.
    TooLarge(u64),
    /// An element runs past the end of the block.
    Truncated,
    /// A copy with offset zero or reaching before the start of the output.
    BadOffset,
    /// The elements give more or fewer bytes than the preamble says.
    LengthMismatch,
}

/// A compressor whose hash table is kept from one call to the next.
pub struct Encoder {
    table: Vec<u16>,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder { table: Vec::new() }
    }

    /// Replaces `out` with the snappy block of `input`.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), TooLong> {
        let len = u32::try_from(input.len()).map_err(|_| TooLong)?;
        out.clear();
        out.reserve(max_compressed_len(input.len()));
        super::proto::varint(out, u64::from(len));
        for fragment in input.chunks(FRAGMENT) {
            self.fragment(fragment, out);
        }
        Ok(())
    }

    fn fragment(&mut self, src: &[u8], out: &mut Vec<u8>) {
        let n = src.len();
        if n < 8 {
            literal(out, src);
            return;
        }
        let mut size = MIN_TABLE;
        while size < MAX_TABLE && size < n {
            size <<= 1;
        }
        let shift = 32 - size.trailing_zeros();
        self.table.clear();
        self.table.resize(size, 0);
        let table = &mut self.table[..];
        let hash = |v: u32| (v.wrapping_mul(0x1e35_a7bd) >> shift) as usize;
        // The last position a 4-byte load fits at.
        let limit = n - 4;
        let mut next_emit = 0;
        let mut i = 1;
        'fragment: loop {
            // Look for a 4-byte match, stepping further the longer none is found.
            let mut skip = 32usize;
            let mut candidate;
            loop {
                if i > limit {
                    break 'fragment;
                }
                let v = load(src, i);
                let h = hash(v);
                candidate = usize::from(table[h]);
                table[h] = i as u16;
                if candidate < i && load(src, candidate) == v {
                    break;
                }
                i += skip >> 5;
                skip += 1;
            }
            literal(out, &src[next_emit..i]);
            // Copies for as long as the position after one starts another match.
            loop {
                let mut len = 4;
                while i + len < n && src[candidate + len] == src[i + len] {
                    len += 1;
                }
                copy(out, i - candidate, len);
                i += len;
                next_emit = i;
                if i > limit {
                    break 'fragment;
                }
                table[hash(load(src, i - 1))] = (i - 1) as u16;
                let v = load(src, i);
                let h = hash(v);
                candidate = usize::from(table[h]);
                table[h] = i as u16;
                if candidate >= i || load(src, candidate) != v {
                    i += 1;
                    break;
                }
            }
        }
        literal(out, &src[next_emit..]);
    }
}

/// Replaces `out` with the snappy block of `input` (a fresh hash table; reuse an [`Encoder`]
/// on a hot path).
pub fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), TooLong> {
    Encoder::new().compress(input, out)
}

/// The most a block of `n` input bytes can take (the reference implementation's bound).
pub fn max_compressed_len(n: usize) -> usize {
    32 + n + n / 6
}

/// The uncompressed length a block announces, if it has a valid preamble.
pub fn decompressed_len(block: &[u8]) -> Result<u64, Error> {
    let mut v = 0u64;
    for (k, &b) in block.iter().take(5).enumerate() {
        v |= u64::from(b & 0x7f) << (7 * k);
        if b < 0x80 {
            return if v > u64::from(u32::MAX) { Err(Error::Preamble) } else { Ok(v) };
        }
    }
    Err(Error::Preamble)
}

/// The bytes of a snappy block, refusing one that announces more than `max_len`.
pub fn decompress(block: &[u8], max_len: usize) -> Result<Vec<u8>, Error> {
    let want = decompressed_len(block)?;
    if want > max_len as u64 {
        return Err(Error::TooLarge(want));
    }
    let want = want as usize;
    let mut at = super::proto::varint_len(want as u64);
    let mut out = Vec::with_capacity(want);
    let take = |at: &mut usize, k: usize| -> Result<usize, Error> {
        let bytes = block.get(*at..*at + k).ok_or(Error::Truncated)?;
        *at += k;
        Ok(bytes.iter().rev().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
    };
    while at < block.len() {
        let tag = block[at];
        at += 1;
        let (len, offset) = match tag & 3 {
            0 => {
                let mut len = usize::from(tag >> 2);
                if len >= 60 {
                    len = take(&mut at, len - 59)?;
                }
                let bytes = block.get(at..at + len + 1).ok_or(Error::Truncated)?;
                if out.len() + bytes.len() > want {
                    return Err(Error::LengthMismatch);
                }
                out.extend_from_slice(bytes);
                at += len + 1;
                continue;
            }
            1 => (4 + usize::from((tag >> 2) & 7), (usize::from(tag >> 5) << 8) | take(&mut at, 1)?),
            2 => (1 + usize::from(tag >> 2), take(&mut at, 2)?),
            _ => (1 + usize::from(tag >> 2), take(&mut at, 4)?),
        };
        if offset == 0 || offset > out.len() {
            return Err(Error::BadOffset);
        }
        if out.len() + len > want {
            return Err(Error::LengthMismatch);
        }
        let from = out.len() - offset;
        for k in 0..len {
            out.push(out[from + k]);
        }
    }
    if out.len() != want {
        return Err(Error::LengthMismatch);
    }
    Ok(out)
}

fn load(src: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([src[i], src[i + 1], src[i + 2], src[i + 3]])
}

fn literal(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let n = bytes.len() - 1;
    if n < 60 {
        out.push((n as u8) << 2);
    } else {
        let width = (usize::BITS - n.leading_zeros()).div_ceil(8) as usize;
        out.push(((59 + width) as u8) << 2);
        out.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    out.extend_from_slice(bytes);
}

/// Copies of `len` (≥ 4) bytes from `offset` (1..=65535) back.
fn copy(out: &mut Vec<u8>, offset: usize, mut len: usize) {
    while len >= 68 {
        copy2(out, offset, 64);
        len -= 64;
    }
    if len > 64 {
        copy2(out, offset, 60);
        len -= 60;
    }
    if len < 12 && offset < 2048 {
        out.push(1 | (((len - 4) as u8) << 2) | (((offset >> 8) as u8) << 5));
        out.push(offset as u8);
    } else {
        copy2(out, offset, len);
    }
}

fn copy2(out: &mut Vec<u8>, offset: usize, len: usize) {
    out.push(2 | (((len - 1) as u8) << 2));
    out.extend_from_slice(&(offset as u16).to_le_bytes());
}

#[cfg(test)]
mod tests;
