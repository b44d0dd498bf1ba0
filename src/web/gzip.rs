//! gzip framing (RFC 1952) around miniz_oxide's deflate, for API responses, for the
//! dashboard page that `build.rs` precompresses, and piece by piece for static web files
//! ([`Pieces`]: one deflate stream made of independently compressed pieces, so the one
//! compressor of the event loop serves every connection in turn).

use miniz_oxide::deflate::core::{compress as deflate, create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::deflate::core::{TDEFLFlush, TDEFLStatus};

/// The 10-byte gzip member header [`compress`] and [`Pieces`] write (no name, no time).
pub const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

/// gzip of `data` at `level` (1–9).
pub fn compress(data: &[u8], level: u8) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, level.clamp(1, 9));
    let mut out = Vec::with_capacity(deflated.len() + 18);
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// The content of a gzip member written by [`compress`] (no optional header fields);
/// `None` if it is not one.
pub fn decompress(gz: &[u8]) -> Option<Vec<u8>> {
    if gz.len() < 18 || gz[..4] != [0x1f, 0x8b, 8, 0] {
        return None;
    }
    let body = &gz[10..gz.len() - 8];
    let data = miniz_oxide::inflate::decompress_to_vec(body).ok()?;
    let crc = u32::from_le_bytes(gz[gz.len() - 8..gz.len() - 4].try_into().ok()?);
    (crc == crc32(&data)).then_some(data)
}

/// A reusable deflate compressor for a gzip stream sent in pieces: each piece is
/// compressed on its own (the dictionary starts empty) and ends byte-aligned with a full
/// flush, so pieces of different streams can be compressed one after the other by the same
/// compressor, and a stream's pieces concatenate into one valid deflate stream. Costs a few
/// per cent of ratio against one continuous stream for pieces of 64 KiB.
pub struct Pieces {
    /// Allocated on first use (about 300 KiB) and kept.
    compressor: Option<Box<CompressorOxide>>,
    level: u8,
}

impl Pieces {
    /// A compressor at `level` (1–9); nothing is allocated until the first piece.
    pub fn new(level: u8) -> Pieces {
        Pieces { compressor: None, level: level.clamp(1, 9) }
    }

    /// Appends the raw deflate bytes of `input` to `out`; `last` ends the deflate stream.
    pub fn piece(&mut self, input: &[u8], last: bool, out: &mut Vec<u8>) {
        let level = self.level;
        let c = self.compressor.get_or_insert_with(|| {
            Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(level.into(), -15, 0)))
        });
        c.reset();
        let flush = if last { TDEFLFlush::Finish } else { TDEFLFlush::Full };
        let start = out.len();
        // Stored blocks cost 5 bytes per 64 KiB: this room is always enough in one call,
        // the loop is for safety.
        out.resize(start + input.len() + input.len() / 8 + 64, 0);
        let mut written = start;
        let mut rest = input;
        loop {
            let (status, used, made) = deflate(c, rest, &mut out[written..], flush);
            written += made;
            rest = &rest[used.min(rest.len())..];
            let room_left = written < out.len();
            match status {
                TDEFLStatus::Done => break,
                TDEFLStatus::Okay if rest.is_empty() && room_left && !last => break,
                TDEFLStatus::Okay => {
                    let grow = out.len() + 64 * 1024;
                    out.resize(grow, 0);
                }
                // Only on a misuse of the compressor's API; the piece is cut short and the
                // client's gzip check fails, which closes its download.
                _ => break,
            }
        }
        out.truncate(written);
    }
}

/// The running CRC-32 of a stream: start with 0, feed every piece, the result is the CRC of
/// the whole (as [`crc32`] of the concatenation).
pub fn crc32_update(crc: u32, data: &[u8]) -> u32 {
    !crc32_raw(!crc, data)
}

/// CRC-32 (IEEE), bitwise: only used on responses the client asked to compress.
pub fn crc32(data: &[u8]) -> u32 {
    !crc32_raw(!0u32, data)
}

fn crc32_raw(mut c: u32, data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *e = c;
        }
        t
    });
    for &b in data {
        c = table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_known_crc() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        let text = b"hello hello hello hello hello".repeat(20);
        let gz = compress(&text, 3);
        assert!(gz.len() < text.len());
        assert_eq!(decompress(&gz).unwrap(), text);
        assert!(decompress(b"not gzip at all, not at all").is_none());
    }

    #[test]
    fn pieces_concatenate_into_one_gzip_member() {
        // Three pieces of different text, interleaved with another stream's piece on the same
        // compressor: the first stream still inflates to its concatenation.
        let parts: [&[u8]; 3] = [&b"alpha beta gamma ".repeat(500), b"", &b"delta epsilon ".repeat(700)];
        let mut p = Pieces::new(3);
        let mut gz = HEADER.to_vec();
        let mut crc = 0;
        let mut whole = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            p.piece(part, i == parts.len() - 1, &mut gz);
            let mut other = Vec::new();
            p.piece(b"someone else's bytes", false, &mut other);
            crc = crc32_update(crc, part);
            whole.extend_from_slice(part);
        }
        gz.extend_from_slice(&crc.to_le_bytes());
        gz.extend_from_slice(&(whole.len() as u32).to_le_bytes());
        assert_eq!(crc, crc32(&whole));
        assert!(gz.len() < whole.len() / 10, "compressed: {} of {}", gz.len(), whole.len());
        assert_eq!(decompress(&gz).unwrap(), whole);
    }

    #[test]
    fn incompressible_pieces_fit() {
        // Pseudo-random bytes: deflate falls back to stored blocks, a little larger than
        // the input.
        let mut x = 0x1234_5678u32;
        let data: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let mut p = Pieces::new(9);
        let mut gz = HEADER.to_vec();
        p.piece(&data[..65536], false, &mut gz);
        p.piece(&data[65536..], true, &mut gz);
        gz.extend_from_slice(&crc32(&data).to_le_bytes());
        gz.extend_from_slice(&(data.len() as u32).to_le_bytes());
        assert_eq!(decompress(&gz).unwrap(), data);
    }
}
