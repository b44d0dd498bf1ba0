//! The block codec and the archive's index/region mechanics, by hand.

use super::*;
use crate::rng::Rng;

pub(super) fn block_of(points: &[TierPoint]) -> [u8; RAW] {
    let mut raw = [0u8; RAW];
    for (j, p) in points.iter().enumerate().take(BLOCK) {
        raw[j * TIER_POINT_BYTES..(j + 1) * TIER_POINT_BYTES].copy_from_slice(&p.encode());
    }
    raw
}

pub(super) fn pt(sum: f64, min: f64, max: f64, count: u32) -> TierPoint {
    TierPoint { t: 0, sum, min, max, count }
}

fn round_trip(raw: &[u8; RAW]) -> usize {
    let mut packed = [0u8; MAX_PACKED];
    let (len, codec) = encode_block(raw, &mut packed);
    let mut back = [0u8; RAW];
    assert!(decode_block(&packed[..len], codec, &mut back));
    assert_eq!(back[..], raw[..]);
    len
}

/// A block of a tier over a 1 s chart with `per` values per point (60: tier 1, 3600: tier
/// 2), `v()` the next value.
fn tier_block(per: usize, mut v: impl FnMut() -> f64) -> [u8; RAW] {
    let points: Vec<TierPoint> = (0..BLOCK)
        .map(|_| {
            let vals: Vec<f64> = (0..per).map(|_| v()).collect();
            let sum: f64 = vals.iter().sum();
            let min = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let max = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            pt(sum, min, max, per as u32)
        })
        .collect();
    block_of(&points)
}

#[test]
fn blocks_round_trip() {
    let mut rng = Rng::new(7);
    // Random bytes where every point is non-empty (count ≥ 1).
    let mut random = [0u8; RAW];
    for (i, b) in random.iter_mut().enumerate() {
        *b = rng.next_u64() as u8;
        if i % TIER_POINT_BYTES == 12 {
            *b |= 1;
        }
    }
    round_trip(&random);
    round_trip(&[0u8; RAW]);
    round_trip(&block_of(&[pt(60.0, 1.0, 1.0, 60); BLOCK]));
    // Every third point empty (a gap).
    let gappy: Vec<TierPoint> = (0..BLOCK)
        .map(|j| if j % 3 == 0 { TierPoint::empty(0) } else { pt(j as f64, -1.5, 2.25, 3) })
        .collect();
    round_trip(&block_of(&gappy));
    // The decoded points are the encoded ones.
    let raw = block_of(&gappy);
    let mut packed = [0u8; MAX_PACKED];
    let (len, codec) = encode_block(&raw, &mut packed);
    let mut back = [0u8; RAW];
    assert!(decode_block(&packed[..len], codec, &mut back));
    assert_eq!(
        TierPoint::decode(5, &back[4 * TIER_POINT_BYTES..]),
        TierPoint { t: 5, sum: 4.0, min: -1.5, max: 2.25, count: 3 }
    );
    assert_eq!(TierPoint::decode(5, &back[3 * TIER_POINT_BYTES..]), TierPoint::empty(5));
}

#[test]
fn bytes_from_disk_are_never_trusted() {
    let raw = block_of(&[pt(60.0, 1.0, 1.0, 60); BLOCK]);
    let mut packed = [0u8; MAX_PACKED];
    let (len, codec) = encode_block(&raw, &mut packed);
    let mut back = [0u8; RAW];
    assert!(!decode_block(&packed[..len - 1], codec, &mut back), "cut short");
    assert!(!decode_block(&packed[..len], 9, &mut back), "unknown codec");
    assert!(!decode_block(&[0xff; 40], 1, &mut back), "garbage");
    assert!(!decode_block(&[0; 10], 0, &mut back), "raw of the wrong size");
}

#[cfg(any(feature = "compression", feature = "exporting"))]
#[test]
fn steady_blocks_compress_to_almost_nothing() {
    // LZ4 costs a sequence per run: a token, its literals, a 2-byte offset and length bytes
    // (one per 255 of match beyond 19: 2 for runs up to 528 bytes); a block ends with a
    // token and at most 12 literals (its last match starts 12 bytes before the end). So a
    // block whose shuffled bytes are k non-zero bytes in zeros (plus the first byte) costs at
    // most (k + 1) × (1 + 1 + 2 + 2) + 13 bytes.
    // All zero: k = 0, at most 19 bytes (0.6 a point).
    assert!(round_trip(&[0u8; RAW]) <= 19, "{}", round_trip(&[0u8; RAW]));
    // Zero rates (a counter that does not move: sum = min = max = 0, count 60): after the
    // XOR with the previous point only the first point's count byte (60) is left: k = 1,
    // at most 25 bytes.
    let zeros = block_of(&[pt(0.0, 0.0, 0.0, 60); BLOCK]);
    assert!(round_trip(&zeros) <= 25, "{}", round_trip(&zeros));
    // A steady rate (1000/s over 60 s: sum 60 000, min = max = 1000, count 60): only the
    // first point's bytes are left, at most 14 of them: at most 15 × 6 + 13 = 103 bytes,
    // about 3 bytes a point.
    let constant = block_of(&[pt(60_000.0, 1000.0, 1000.0, 60); BLOCK]);
    assert!(round_trip(&constant) <= 103, "{}", round_trip(&constant));
    // A random block does not grow past its raw size (stored as is, codec 0).
    let mut rng = Rng::new(3);
    let mut random = [0u8; RAW];
    random.iter_mut().for_each(|b| *b = rng.next_u64() as u8);
    assert_eq!(round_trip(&random), RAW);
}

/// Bytes a point takes in the archive (its record: 16-byte header, compressed bytes,
/// padding; over BLOCK points), for the series of the Netdata comparison. Prints the table.
#[test]
fn bytes_per_point() {
    let mut table = String::new();
    let mut lens = Vec::new();
    for (tier, per) in [(1, 60), (2, 3600)] {
        let mut rng = Rng::new(11);
        let series: [(&str, [u8; RAW]); 5] = [
            ("zero counter (rate 0)", tier_block(per, || 0.0)),
            ("constant rate 1000/s", tier_block(per, || 1000.0)),
            ("random integer rates 0..1000", tier_block(per, || rng.below(1000) as f64)),
            (
                "random floats 0..1000",
                tier_block(per, || (rng.next_u64() % (1 << 40)) as f64 / (1u64 << 30) as f64),
            ),
            ("empty (gap)", [0u8; RAW]),
        ];
        for (name, raw) in &series {
            let len = round_trip(raw);
            let per_point = f64::from(record_len(len)) / BLOCK as f64;
            table.push_str(&format!(
                "tier {tier} {name:30} {len:4} bytes a block of {BLOCK} = {per_point:5.2} bytes a point\n"
            ));
            lens.push(len);
        }
    }
    println!("{table}");
    // The random integer rates: sums of 60 integers below 1000 are integers below 60 000,
    // exact in an f32 with their low mantissa byte random and the sign/exponent byte the
    // same; min and max are below 64 and above 900 mostly; the count is constant: at most
    // 10 of the 14 bytes vary, so a point takes at most 10 bytes + its share of the
    // descriptor.
    assert!(lens[2] <= 10 * BLOCK, "{lens:?}");
}

fn store_block(a: &mut Archive, body: &mut [u8], block: u32, fill: u8) -> Result<(), Skip> {
    // Random-looking bytes derived from `fill`: incompressible, stored as is (448 bytes, a
    // record of 464).
    let mut raw = [0u8; RAW];
    let mut rng = Rng::new(u64::from(fill) + 1);
    raw.iter_mut().for_each(|b| *b = rng.next_u64() as u8 | 1);
    a.append(body, block, 0, &raw)
}

/// The live blocks, oldest first.
fn blocks(a: &Archive, body: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(f) = a.next(body, at) {
        out.push(f.h.block);
        at = f.at + f.h.span();
    }
    out
}

#[test]
fn geometry_takes_multiples_of_4() {
    assert_eq!(geometry(0), 0);
    assert_eq!(geometry(63), 0);
    assert_eq!(geometry(2050), 2048);
    assert!(Archive::new(63).is_none());
    assert!(state_is_sane(2048, [0, 0, 0]));
    assert!(state_is_sane(2048, [2000, 100, 52]), "wrapped: 2000 + 100 = 2100 = 52 + 2048");
    assert!(!state_is_sane(2048, [2000, 100, 56]));
    assert!(!state_is_sane(2048, [2, 0, 2]), "unaligned");
    assert!(!state_is_sane(2049, [0, 0, 0]), "not a region size");
}

#[test]
fn writing_evicts_the_oldest_blocks_it_overwrites() {
    // 4 incompressible records of 464 bytes = 1856; a region of 2000 leaves 144 bytes.
    let mut a = Archive::new(2000).unwrap();
    let mut body = vec![0u8; a.len()];
    for b in 0..4 {
        store_block(&mut a, &mut body, 10 + b, b as u8).unwrap();
    }
    assert_eq!((blocks(&a, &body), a.state()), (vec![10, 11, 12, 13], [0, 1856, 1856]));
    // The fifth does not fit in the last 144 bytes: a wrap gap of 144, the record at 0,
    // evicting block 10 (at 0) only: the tail moves to block 11 at 464.
    store_block(&mut a, &mut body, 20, 4).unwrap();
    assert_eq!((blocks(&a, &body), a.state()), (vec![11, 12, 13, 20], [464, 1856 - 464 + 144 + 464, 464]));
    assert!(body[1856..2000].iter().all(|&b| b == 0), "the gap is zeroed");
    assert_eq!(store_block(&mut a, &mut body, 20, 5), Err(Skip::NotNewer));
    assert_eq!(store_block(&mut a, &mut body, 3, 5), Err(Skip::NotNewer));
    // A small block (one point with a count of 1, the rest empty: the column codec's 15
    // bytes): a record of 32 bytes at 464, evicting block 11.
    let mut raw = [0u8; RAW];
    raw[12] = 1;
    a.append(&mut body, 21, 0, &raw).unwrap();
    let small = a.head - 464;
    assert_eq!(small, 32);
    assert_eq!((blocks(&a, &body), a.tail), (vec![12, 13, 20, 21], 928));
    // 14 more small ones end at 464 + 15 × 32 = 944: block 12 (at 928) goes, 13 (at 1392)
    // stays.
    for b in 22..36 {
        a.append(&mut body, b, 0, &raw).unwrap();
    }
    assert_eq!(a.head, 944);
    assert_eq!(blocks(&a, &body), [13, 20].into_iter().chain(21..36).collect::<Vec<_>>());
    // O(1) forgetting.
    a.clear();
    assert_eq!((a.used, blocks(&a, &body)), (0, vec![]));
    assert!(store_block(&mut a, &mut body, 0, 1).is_ok(), "after a clear any block is newer");
    assert_eq!(blocks(&a, &body), vec![0]);
    // The persisted state reloads, the newest block found again.
    let mut b = Archive::new(2000).unwrap();
    assert!(b.load(&body, a.tail, a.used, a.head));
    assert_eq!((b.newest, blocks(&b, &body)), (Some(0), vec![0]));
    assert!(!b.load(&body, a.tail, a.used + 4, a.head), "inconsistent state");
}

#[test]
fn reads_find_blocks_and_drop_damaged_ones_once() {
    let mut a = Archive::new(4096).unwrap();
    let mut body = vec![0u8; a.len()];
    let ue = 60;
    // Blocks 1, 2, 4 and 5 (3 is missing: nothing was stored in it); point j of block b
    // holds sum = b·100 + j, count 1.
    for b in [1u32, 2, 4, 5] {
        let points: Vec<TierPoint> =
            (0..BLOCK).map(|j| pt(f64::from(b * 100) + j as f64, 0.0, 1.0, 1)).collect();
        a.append(&mut body, b, 0, &block_of(&points)).unwrap();
    }
    let read = |a: &Archive, body: &[u8], start: i64, end: i64| {
        let mut out = Vec::new();
        a.for_each(body, start, end, ue, &|| "test".into(), &mut |p| out.push(p));
        out
    };
    let b = BLOCK as i64;
    // From the last point of block 1 to the second of block 4: 1 + 32 + 32 + 2 points.
    let got = read(&a, &body, (2 * b - 1) * ue, (4 * b + 1) * ue);
    assert_eq!(got.len(), 67);
    assert_eq!(got[0], TierPoint { t: (2 * b - 1) * ue, sum: 131.0, min: 0.0, max: 1.0, count: 1 });
    assert_eq!(got[1].sum, 200.0);
    assert_eq!(got[33], TierPoint::empty(3 * b * ue), "block 3 is missing");
    assert_eq!(got[66].sum, 401.0);
    assert_eq!(read(&a, &body, 5 * b * ue, 5 * b * ue)[0].sum, 500.0, "found by the binary search");
    assert!(!a.warned.load(Ordering::Relaxed));
    // Flip one byte of block 2's compressed bytes: it reads as empty, 1 and 4 survive.
    let second = a.next(&body, 0).map(|f| f.h.span()).unwrap();
    body[second as usize + HEADER + 3] ^= 0x40;
    let got = read(&a, &body, (2 * b - 1) * ue, (4 * b + 1) * ue);
    assert_eq!(got[0].sum, 131.0);
    assert!(got[1..33].iter().all(|p| p.count == 0));
    assert_eq!(got[66].sum, 401.0);
    assert!(a.warned.load(Ordering::Relaxed), "warned once; later reads do not warn again");
    // A header claiming a length past the region is no record: never read.
    let fourth = second + a.next(&body, second).map(|f| f.h.span()).unwrap();
    body[fourth as usize + 2..fourth as usize + 4].copy_from_slice(&u16::MAX.to_le_bytes());
    assert_eq!(read(&a, &body, 4 * b * ue, 4 * b * ue)[0].count, 0);
    assert_eq!(read(&a, &body, 5 * b * ue, 5 * b * ue)[0].sum, 500.0, "the next one is found");
}
