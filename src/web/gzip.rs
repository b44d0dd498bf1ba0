//! gzip framing (RFC 1952) around miniz_oxide's deflate, for API responses and for the
//! dashboard page that `build.rs` precompresses.

/// gzip of `data` at `level` (1–9).
pub fn compress(data: &[u8], level: u8) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, level.clamp(1, 9));
    let mut out = Vec::with_capacity(deflated.len() + 18);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
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

/// CRC-32 (IEEE), bitwise: only used on responses the client asked to compress.
pub fn crc32(data: &[u8]) -> u32 {
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
    let mut c = !0u32;
    for &b in data {
        c = table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
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
}
