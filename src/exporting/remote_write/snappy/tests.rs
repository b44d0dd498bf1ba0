//! Blocks worked out by hand from the format description, both ways, and round trips.

use proptest::prelude::*;

use super::*;

fn packed(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    compress(input, &mut out).unwrap();
    out
}

#[test]
fn empty_and_tiny_inputs() {
    assert_eq!(packed(b""), [0x00]);
    assert_eq!(packed(b"a"), [0x01, 0x00, b'a']);
    // Under 8 bytes: one literal, length 7 - 1 = 6 in the tag's top bits.
    assert_eq!(packed(b"abcabca"), [0x07, 6 << 2, b'a', b'b', b'c', b'a', b'b', b'c', b'a']);
}

#[test]
fn a_run_is_one_literal_and_one_overlapping_copy() {
    // 20 × 'a': literal "a", then copy-2 of 19 bytes from offset 1 (19 ≥ 12 needs the
    // two-byte-offset form): tag 0b10 | (19 - 1) << 2 = 0x4a, offset 1 little-endian.
    assert_eq!(packed(&[b'a'; 20]), [20, 0x00, b'a', 0x4a, 0x01, 0x00]);
    assert_eq!(decompress(&[20, 0x00, b'a', 0x4a, 0x01, 0x00], 100).unwrap(), [b'a'; 20]);
}

#[test]
fn literal_lengths_past_sixty_take_extra_bytes() {
    let distinct: Vec<u8> = (0..61).collect();
    let block = packed(&distinct);
    // 61 bytes, no repeats: tag 60 << 2 = 0xf0 says "length - 1 in the next byte" = 60.
    assert_eq!(&block[..3], &[61, 0xf0, 60]);
    assert_eq!(&block[3..], &distinct[..]);
    // 300 bytes of big-endian u16s 0..150: no 4-byte window repeats, so one literal whose
    // length - 1 = 299 = 0x012b takes two bytes after tag 61 << 2.
    let pairs: Vec<u8> = (0..150u16).flat_map(|i| i.to_be_bytes()).collect();
    let block = packed(&pairs);
    assert_eq!(&block[..5], &[0xac, 0x02, 61 << 2, 0x2b, 0x01]);
    assert_eq!(&block[5..], &pairs[..]);
}

#[test]
fn a_repeat_becomes_a_one_byte_offset_copy() {
    // 31 distinct bytes, then the first 4 again: literal of 31 (tag 30 << 2), then copy-1 of
    // length 4 (tag 0b01 | 0 << 2) from offset 31.
    let input: Vec<u8> = (0..31).chain(0..4).collect();
    let mut want = vec![35, 30 << 2];
    want.extend(0..31);
    want.extend([0x01, 31]);
    assert_eq!(packed(&input), want);
}

#[test]
fn decodes_every_element_kind_written_by_hand() {
    // Copy-1: "abcd" then 4 bytes from offset 4.
    assert_eq!(decompress(&[8, 3 << 2, b'a', b'b', b'c', b'd', 0x01, 0x04], 8).unwrap(), b"abcdabcd");
    // Copy-1 with the offset's high bits in the tag: 260 literal bytes, then length 5 from
    // offset 0x104: tag 0b01 | (5 - 4) << 2 | 1 << 5 = 0x25, low offset byte 0x04.
    let lit: Vec<u8> = (0..260u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut block = vec![0x89, 0x02, 61 << 2, 0x03, 0x01];
    block.extend_from_slice(&lit);
    block.extend_from_slice(&[0x25, 0x04]);
    let mut want = lit.clone();
    want.extend_from_slice(&lit[..5]);
    assert_eq!(decompress(&block, 1000).unwrap(), want);
    // Copy-4 (never written, always read): 'x' then 4 bytes from offset 1.
    assert_eq!(decompress(&[5, 0x00, b'x', 0x03 | (3 << 2), 1, 0, 0, 0], 5).unwrap(), b"xxxxx");
}

#[test]
fn bad_blocks_are_refused() {
    assert_eq!(decompress(&[], 10), Err(Error::Preamble));
    assert_eq!(decompress(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 10), Err(Error::Preamble));
    assert_eq!(decompress(&[11, 0x00, b'a'], 10), Err(Error::TooLarge(11)));
    assert_eq!(decompress(&[2, 0x00, b'a', 0x01], 10), Err(Error::Truncated));
    assert_eq!(decompress(&[5, 0x00, b'a', 0x01, 0x00], 10), Err(Error::BadOffset));
    assert_eq!(decompress(&[5, 0x00, b'a', 0x01, 0x02], 10), Err(Error::BadOffset));
    assert_eq!(decompress(&[2, 0x00, b'a'], 10), Err(Error::LengthMismatch));
    assert_eq!(decompress(&[1, 0x04, b'a', b'b'], 10), Err(Error::LengthMismatch));
    assert_eq!(decompress(&[4, 0x00, b'a', 0x01, 0x01], 10), Err(Error::LengthMismatch));
    assert_eq!(decompress(&[2, 0xf0], 10), Err(Error::Truncated));
}

#[test]
fn copies_never_cross_a_64k_fragment_and_long_runs_split() {
    // 200 000 zero bytes: three fragments of 65 536 and one of 3 392, each on its own.
    let input = vec![0u8; 200_000];
    let block = packed(&input);
    assert_eq!(decompress(&block, input.len()).unwrap(), input);
    // Per full fragment: literal (2 bytes) + 1023 copies of 64 (3 bytes each) + a copy of
    // the remaining 63 (3 bytes): 65 535 = 1023 × 64 + 63.
    assert!(block.len() < 3 + 4 * (2 + 1024 * 3), "{}", block.len());
}

#[test]
fn encoder_reuse_gives_the_same_blocks() {
    let mut e = Encoder::new();
    let a: Vec<u8> = (0..5000u32).map(|i| (i % 97) as u8).collect();
    let b: Vec<u8> = b"netdata_system_cpu_percentage_average".repeat(40);
    let mut out = Vec::new();
    for input in [&a, &b, &a] {
        e.compress(input, &mut out).unwrap();
        assert_eq!(out, packed(input));
        assert_eq!(decompress(&out, input.len()).unwrap(), *input);
    }
}

proptest! {
    #[test]
    fn round_trip_any_bytes(input in prop::collection::vec(any::<u8>(), 0..3000)) {
        let block = packed(&input);
        prop_assert!(block.len() <= max_compressed_len(input.len()));
        prop_assert_eq!(decompressed_len(&block).unwrap(), input.len() as u64);
        prop_assert_eq!(decompress(&block, input.len()).unwrap(), input);
    }

    #[test]
    fn round_trip_repetitive_bytes(
        parts in prop::collection::vec((prop::collection::vec(0u8..3, 1..40), 1usize..300), 1..20)
    ) {
        let mut input = Vec::new();
        for (piece, times) in &parts {
            for _ in 0..*times {
                input.extend_from_slice(piece);
            }
        }
        let block = packed(&input);
        prop_assert!(block.len() <= max_compressed_len(input.len()));
        prop_assert_eq!(decompress(&block, input.len()).unwrap(), input);
    }

    #[test]
    fn garbage_never_panics_the_decompressor(block in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decompress(&block, 4096);
    }
}
