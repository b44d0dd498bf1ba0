//! LZ4 stream framing and decoding, receiver side (`stream::lz4::Decompressor`).
//!
//! Input: byte 0 selects the mode and the rest is data.
//! * even: the bytes are a received stream, fed to a strict (parent) and a lenient
//!   decompressor, whole and cut into pieces; both feeds must decode the same plaintext.
//! * odd: the bytes are plaintext, compressed by the sender's compressor in chunks and
//!   decoded back; the round trip must give the plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::stream::lz4::{self, Compressor, Decompressor, MAX_BLOCK_INPUT, MAX_BLOCK_OUTPUT};

fn decode(d: &mut Decompressor, pieces: &[&[u8]]) -> (Vec<u8>, Result<(), String>) {
    let mut plain = Vec::new();
    for p in pieces {
        if let Err(e) = d.feed_blocks(p, |b| {
            assert!(b.len() <= MAX_BLOCK_OUTPUT);
            plain.extend_from_slice(b);
            Ok(())
        }) {
            return (plain, Err(e));
        }
    }
    (plain, Ok(()))
}

/// Cuts `data` at offsets taken from its own bytes.
fn pieces(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = (usize::from(data[i % data.len()]) * 7 + 1).min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    if mode & 1 == 0 {
        for strict in [true, false] {
            let make = || if strict { Decompressor::strict(MAX_BLOCK_OUTPUT) } else { Decompressor::new() };
            let (whole, r1) = decode(&mut make(), &[data]);
            let (split, r2) = decode(&mut make(), &pieces(data));
            assert_eq!(r1.is_ok(), r2.is_ok(), "strict={strict}: {r1:?} vs {r2:?}");
            if r1.is_ok() {
                assert_eq!(whole, split, "strict={strict}");
            }
        }
        if data.len() >= 4 {
            let h = [data[0], data[1], data[2], data[3]];
            if let Some(len) = lz4::parse_header(h) {
                assert_eq!(lz4::header(len), h);
            }
        }
    } else {
        let mut c = Compressor::new();
        let mut wire = Vec::new();
        // Blocks of at least 64 bytes: each compress call hashes the whole 64 KiB dictionary,
        // so 1-byte blocks would only make the target slow (the sender never sends them).
        let step = usize::from(mode >> 1) * 97 + 64;
        for chunk in data.chunks(step.min(MAX_BLOCK_INPUT)) {
            c.compress(chunk, &mut wire).expect("compressing at most MAX_BLOCK_INPUT");
        }
        let mut d = Decompressor::strict(MAX_BLOCK_OUTPUT);
        let (plain, r) = decode(&mut d, &pieces(&wire));
        assert_eq!(r, Ok(()));
        assert_eq!(plain, data);
    }
});
