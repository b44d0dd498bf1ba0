//! LZ4 stream compression with Netdata's framing (protocol.md §4).
//!
//! Each block is a 4-byte header `FA 80|len&7F 80|len>>7 0A` (written byte by byte, so the
//! order is the same on big-endian targets) followed by an LZ4 *block* whose matches may
//! reach 64 KiB back into the plaintext already sent: a rolling dictionary, as
//! `LZ4_compress_fast_continue` produces and `LZ4_decompress_safe_continue` expects.

use lz4_flex::block;

/// Largest plaintext per block. Netdata allows 16384, but an incompressible 16 KiB block
/// could exceed the 14-bit length field; below this bound it never can.
pub const MAX_BLOCK_INPUT: usize = 16_000;
/// Largest compressed length the header can carry.
pub const MAX_BLOCK_LEN: usize = (1 << 14) - 1;
/// Largest decompressed block a receiver accepts.
pub const MAX_BLOCK_OUTPUT: usize = 16_384;
/// How far back matches may reach.
pub const WINDOW: usize = 64 * 1024;

/// The compressing side of one connection.
pub struct Compressor {
    history: Vec<u8>,
    scratch: Vec<u8>,
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

impl Compressor {
    pub fn new() -> Compressor {
        Compressor {
            history: Vec::with_capacity(WINDOW + MAX_BLOCK_INPUT),
            scratch: vec![0; block::get_maximum_output_size(MAX_BLOCK_INPUT)],
        }
    }

    /// Compresses `input` (at most [`MAX_BLOCK_INPUT`] bytes) into one framed block appended
    /// to `out`.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        if input.is_empty() {
            return Ok(());
        }
        if input.len() > MAX_BLOCK_INPUT {
            return Err(format!("block of {} bytes exceeds {MAX_BLOCK_INPUT}", input.len()));
        }
        let dict_start = self.history.len().saturating_sub(WINDOW);
        let n = block::compress_into_with_dict(input, &mut self.scratch, &self.history[dict_start..])
            .map_err(|e| format!("LZ4 compression failed: {e}"))?;
        if n > MAX_BLOCK_LEN {
            return Err(format!("compressed block of {n} bytes does not fit the 14-bit header"));
        }
        out.extend_from_slice(&header(n));
        out.extend_from_slice(&self.scratch[..n]);
        self.remember(input);
        Ok(())
    }

    /// Appends a block's plaintext to the history, first dropping all but the last
    /// [`WINDOW`] bytes if it would not fit: the allocation stays `WINDOW` + one block.
    fn remember(&mut self, plain: &[u8]) {
        if self.history.len() + plain.len() > WINDOW + MAX_BLOCK_INPUT {
            let cut = self.history.len().saturating_sub(WINDOW);
            self.history.drain(..cut);
        }
        self.history.extend_from_slice(plain);
    }
}

/// The 4-byte header of a block of `len` compressed bytes.
pub fn header(len: usize) -> [u8; 4] {
    [0xFA, 0x80 | (len & 0x7F) as u8, 0x80 | ((len >> 7) & 0x7F) as u8, 0x0A]
}

/// The compressed length if `h` is a block header.
pub fn parse_header(h: [u8; 4]) -> Option<usize> {
    if h[0] != 0xFA || h[3] != 0x0A || h[1] & 0x80 == 0 || h[2] & 0x80 == 0 {
        return None;
    }
    Some(usize::from(h[1] & 0x7F) | usize::from(h[2] & 0x7F) << 7)
}

/// The decompressing side of one connection: feed it the raw bytes as they arrive; it
/// yields plaintext. 4-byte groups that are not a header pass through as plain text, as
/// Netdata's receiver does.
///
/// Memory: one buffer of [`WINDOW`] + one block, into which blocks are decoded in place
/// right after the history they refer to (so there is no separate output buffer), plus the
/// bytes of a block not yet complete, held only while one is pending.
pub struct Decompressor {
    /// `window[..filled]` is the plaintext so far (its last [`WINDOW`] bytes matter); the
    /// rest is room for the next block. Allocated on first use, never grown.
    window: Vec<u8>,
    filled: usize,
    pending: Vec<u8>,
    /// Largest decoded size of one block.
    max_output: usize,
    /// Bytes that are not a block header are an error instead of plain text.
    strict: bool,
    /// Times the history was moved to the front of the window (about once per
    /// [`MAX_BLOCK_OUTPUT`] bytes decoded).
    compactions: u64,
}

impl Default for Decompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl Decompressor {
    pub fn new() -> Decompressor {
        Decompressor {
            window: Vec::new(),
            filled: 0,
            pending: Vec::new(),
            max_output: MAX_BLOCK_OUTPUT,
            strict: false,
            compactions: 0,
        }
    }

    /// A parent's decompressor for an untrusted child: every group of bytes must be a block
    /// header (a 1.37 child sends nothing uncompressed once LZ4 is negotiated), and a block
    /// may decode to at most `max_output` bytes (≤ [`MAX_BLOCK_OUTPUT`]).
    pub fn strict(max_output: usize) -> Decompressor {
        Decompressor { max_output: max_output.clamp(1, MAX_BLOCK_OUTPUT), strict: true, ..Self::new() }
    }

    /// Bytes this decompressor holds (window and pending input).
    pub fn memory_bytes(&self) -> usize {
        self.window.capacity() + self.pending.capacity()
    }

    /// Appends the plaintext decoded from `input` to `plain` (the tests' view of
    /// [`Decompressor::feed_blocks`]).
    #[cfg(test)]
    pub fn feed(&mut self, input: &[u8], plain: &mut Vec<u8>) -> Result<(), String> {
        self.feed_blocks(input, |block| {
            plain.extend_from_slice(block);
            Ok(())
        })
    }

    /// Decodes `input` and hands every decoded block to `each` as soon as it is decoded, so
    /// the caller needs no buffer of its own. Complete blocks are decoded straight from
    /// `input`; only the start of an incomplete one is copied, and that copy is released
    /// once the block is done. An error (a bad block, a block longer than the limits, or
    /// one from `each`) stops here and ends the connection.
    pub fn feed_blocks(
        &mut self,
        input: &[u8],
        mut each: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        if self.pending.is_empty() {
            let (used, result) = self.decode(input, &mut each);
            if result.is_ok() {
                self.pending.extend_from_slice(&input[used..]);
            }
            return result;
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(input);
        let (used, result) = self.decode(&pending, &mut each);
        if used < pending.len() {
            pending.drain(..used);
            self.pending = pending;
        }
        // Otherwise `pending` is dropped: most reads end on a block boundary, and a parent
        // with thousands of children keeps no idle 16 KiB per child.
        result
    }

    /// Decodes the whole blocks at the start of `input`; returns how many bytes it used.
    fn decode(
        &mut self,
        input: &[u8],
        each: &mut impl FnMut(&[u8]) -> Result<(), String>,
    ) -> (usize, Result<(), String>) {
        let mut at = 0;
        let result = loop {
            if input.len() - at < 4 {
                break Ok(());
            }
            let h = [input[at], input[at + 1], input[at + 2], input[at + 3]];
            let Some(len) = parse_header(h) else {
                if self.strict {
                    break Err(format!(
                        "bad LZ4 block header {:02x} {:02x} {:02x} {:02x}",
                        h[0], h[1], h[2], h[3]
                    ));
                }
                let start = self.make_room(4);
                self.window[start..start + 4].copy_from_slice(&h);
                self.filled += 4;
                at += 4;
                if let Err(e) = each(&h) {
                    break Err(e);
                }
                continue;
            };
            if len > MAX_BLOCK_OUTPUT {
                break Err(format!("compressed block of {len} bytes is over the limit"));
            }
            if input.len() - at - 4 < len {
                break Ok(()); // wait for the rest of the block
            }
            let body = &input[at + 4..at + 4 + len];
            // Allocates the window on the first block; moves nothing (no room is asked).
            self.make_room(0);
            // Decode into the room left after the history; only when the block does not fit
            // there is the history moved to the front (its last WINDOW bytes) and the block
            // decoded again. Moving it before every block would copy 64 KiB per block: a
            // child's blocks are usually a few hundred bytes.
            let mut compacted = false;
            let decoded = loop {
                let start = self.filled;
                let room_len = (self.window.len() - start).min(self.max_output);
                let (history, room) = self.window.split_at_mut(start);
                let dict = &history[start.saturating_sub(WINDOW)..];
                match block::decompress_into_with_dict(body, &mut room[..room_len], dict) {
                    Ok(n) => break Ok(n),
                    Err(block::DecompressError::OutputTooSmall { .. })
                        if room_len < self.max_output && !compacted =>
                    {
                        self.compact();
                        compacted = true;
                    }
                    Err(block::DecompressError::OutputTooSmall { .. }) => {
                        break Err(format!(
                            "a compressed block of {len} bytes decodes to more than the {} allowed (decompression bomb?)",
                            self.max_output
                        ))
                    }
                    Err(e) => break Err(format!("bad LZ4 block: {e}")),
                }
            };
            let n = match decoded {
                Ok(n) => n,
                Err(e) => break Err(e),
            };
            let start = self.filled;
            at += 4 + len;
            self.filled += n;
            if let Err(e) = each(&self.window[start..start + n]) {
                break Err(e);
            }
        };
        (at, result)
    }

    /// Makes room for `n` (≤ [`MAX_BLOCK_OUTPUT`]) more bytes after the history; returns
    /// where they go.
    fn make_room(&mut self, n: usize) -> usize {
        if self.window.is_empty() {
            self.window = vec![0; WINDOW + MAX_BLOCK_OUTPUT];
        }
        if self.filled + n > self.window.len() {
            self.compact();
        }
        self.filled
    }

    /// Moves the last [`WINDOW`] bytes of the history to the front, leaving at least
    /// [`MAX_BLOCK_OUTPUT`] bytes of room after it.
    fn compact(&mut self) {
        let keep = self.filled.min(WINDOW);
        self.window.copy_within(self.filled - keep..self.filled, 0);
        self.filled = keep;
        self.compactions += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_text(n: usize) -> Vec<u8> {
        let mut s = String::new();
        let mut i = 0u64;
        while s.len() < n {
            s.push_str(&format!(
                "BEGIN \"net.eth{}\" 1000000\nSET \"received\" = {}\nSET \"sent\" = {}\nEND\n",
                i % 7,
                i * 7919 % 100_000,
                i * 104_729 % 1_000_000
            ));
            i += 1;
        }
        s.into_bytes()
    }

    #[test]
    fn header_round_trip_and_rejections() {
        for len in [0, 1, 127, 128, 16_383] {
            assert_eq!(parse_header(header(len)), Some(len));
        }
        assert_eq!(header(300), [0xFA, 0x80 | 44, 0x80 | 2, 0x0A]);
        assert_eq!(parse_header(*b"SET "), None);
        assert_eq!(parse_header([0xFA, 0x00, 0x80, 0x0A]), None);
    }

    #[test]
    fn small_blocks_move_the_history_once_per_block_of_room_not_once_per_block() {
        // Regression: once 64 KiB were decoded, every block moved the whole history to make
        // room for the largest possible block: 64 KiB copied per block of a few hundred bytes.
        let text = stream_text(1_000_000);
        let mut c = Compressor::new();
        let mut wire = Vec::new();
        for chunk in text.chunks(250) {
            c.compress(chunk, &mut wire).unwrap();
        }
        let mut d = Decompressor::strict(MAX_BLOCK_OUTPUT);
        let mut plain = Vec::new();
        d.feed(&wire, &mut plain).unwrap();
        assert_eq!(plain, text);
        let blocks = text.len().div_ceil(250) as u64;
        let bound = (text.len() / (MAX_BLOCK_OUTPUT - 250)) as u64 + 1;
        assert!(d.compactions <= bound, "{} moves of the history for {blocks} blocks", d.compactions);
        assert!(d.compactions >= bound / 2, "{} moves: the window must still roll", d.compactions);
        assert_eq!(d.memory_bytes(), WINDOW + MAX_BLOCK_OUTPUT);
    }

    #[test]
    fn blocks_round_trip_with_the_rolling_dictionary() {
        let text = stream_text(400_000);
        let mut c = Compressor::new();
        let mut wire = Vec::new();
        for chunk in text.chunks(MAX_BLOCK_INPUT) {
            c.compress(chunk, &mut wire).unwrap();
        }
        assert!(wire.len() < text.len() / 3, "compresses: {} → {}", text.len(), wire.len());
        // Deliver in awkward pieces.
        let mut d = Decompressor::new();
        let mut plain = Vec::new();
        for piece in wire.chunks(777) {
            d.feed(piece, &mut plain).unwrap();
        }
        assert_eq!(plain, text);
        // Whole blocks at once: decoded from the input, nothing kept but the window.
        let mut whole = Decompressor::new();
        let mut again = Vec::new();
        whole.feed(&wire, &mut again).unwrap();
        assert_eq!(again, text);
        assert_eq!(whole.memory_bytes(), WINDOW + MAX_BLOCK_OUTPUT);
        // A read that ends inside a block keeps that part only until the block completes.
        let cut = 4 + parse_header([wire[0], wire[1], wire[2], wire[3]]).unwrap() + 10;
        let mut split = Decompressor::new();
        let mut out = Vec::new();
        split.feed(&wire[..cut], &mut out).unwrap();
        assert!(split.memory_bytes() > WINDOW + MAX_BLOCK_OUTPUT);
        let second = 4 + parse_header([wire[cut - 10], wire[cut - 9], wire[cut - 8], wire[cut - 7]]).unwrap();
        split.feed(&wire[cut..cut - 10 + second], &mut out).unwrap();
        assert_eq!(split.memory_bytes(), WINDOW + MAX_BLOCK_OUTPUT, "pending released");
        assert_eq!(out, text[..out.len()]);
    }

    #[test]
    fn a_block_at_the_size_limit_fits_the_header() {
        // Incompressible input at the largest block size.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: Vec<u8> = (0..MAX_BLOCK_INPUT)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut c = Compressor::new();
        let mut wire = Vec::new();
        c.compress(&noise, &mut wire).unwrap();
        let len = parse_header([wire[0], wire[1], wire[2], wire[3]]).unwrap();
        assert!(len <= MAX_BLOCK_LEN && len == wire.len() - 4);
        let mut plain = Vec::new();
        Decompressor::new().feed(&wire, &mut plain).unwrap();
        assert_eq!(plain, noise);
        assert!(c.compress(&vec![b'a'; MAX_BLOCK_INPUT + 1], &mut wire).is_err());
    }

    #[test]
    fn plain_text_passes_through_between_blocks() {
        let mut c = Compressor::new();
        let mut wire = b"PLAINTEXT...".to_vec(); // 12 bytes: three 4-byte groups
        c.compress(b"SET \"a\" = 1\n", &mut wire).unwrap();
        let mut plain = Vec::new();
        Decompressor::new().feed(&wire, &mut plain).unwrap();
        assert_eq!(plain, b"PLAINTEXT...SET \"a\" = 1\n");
    }

    #[test]
    fn a_strict_decompressor_refuses_plain_text_and_bombs() {
        let mut c = Compressor::new();
        let mut wire = Vec::new();
        c.compress(b"SET \"a\" = 1\n", &mut wire).unwrap();
        let mut plain = Vec::new();
        Decompressor::strict(1024).feed(&wire, &mut plain).unwrap();
        assert_eq!(plain, b"SET \"a\" = 1\n");
        let err = Decompressor::strict(1024).feed(b"PLAIN...", &mut plain).unwrap_err();
        assert!(err.starts_with("bad LZ4 block header 50 4c 41 49"), "{err}");
        // 4000 zeros compress to a few bytes and decode beyond a 1024-byte limit.
        let mut bomb = Vec::new();
        Compressor::new().compress(&[0u8; 4000], &mut bomb).unwrap();
        let err = Decompressor::strict(1024).feed(&bomb, &mut plain).unwrap_err();
        assert!(err.contains("decompression bomb"), "{err}");
    }

    #[test]
    fn garbage_blocks_are_errors_not_panics() {
        let mut d = Decompressor::new();
        let mut wire = header(20).to_vec();
        wire.extend_from_slice(&[0xFF; 20]);
        assert!(d.feed(&wire, &mut Vec::new()).is_err());
    }
}
