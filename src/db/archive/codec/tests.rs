//! The column codec by hand: exact bytes of the blocks a parent writes most, bounds for
//! noisy ones, lossless round trips of anything, and a decoder that trusts nothing.

use super::*;
use crate::db::archive::tests::{block_of, pt};
use crate::db::archive::{decode_block, encode_block, CODEC_COLUMNS, MAX_PACKED};
use crate::db::tier::TierPoint;
use crate::rng::Rng;

fn encoded(raw: &[u8; RAW]) -> Vec<u8> {
    let mut out = [0u8; MAX_ENCODED];
    let n = encode(raw, &mut out).expect("the codec applies");
    let mut back = [0xAAu8; RAW];
    assert!(decode(&out[..n], &mut back), "decodes");
    assert_eq!(back[..], raw[..], "lossless");
    out[..n].to_vec()
}

/// A whole round trip through the archive's choice of codec; the codec chosen and length.
fn archived(raw: &[u8; RAW]) -> (u8, usize) {
    let mut packed = [0u8; MAX_PACKED];
    let (len, codec) = encode_block(raw, &mut packed);
    let mut back = [0u8; RAW];
    assert!(decode_block(&packed[..len], codec, &mut back));
    assert_eq!(back[..], raw[..]);
    (codec, len)
}

#[test]
fn a_zero_counter_block_is_eleven_bytes() {
    // Counts: all 60 → minimum zigzag(60) = 120 (one varint byte), width 0. Each of min, max
    // and sum: mode 0 (exponent 0, no predictor), minimum 0, width 0.
    let raw = block_of(&[pt(0.0, 0.0, 0.0, 60); BLOCK]);
    assert_eq!(encoded(&raw), [120, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(archived(&raw), (CODEC_COLUMNS, 11));
}

#[test]
fn a_steady_rate_predicts_max_from_min_and_sum_from_the_midrange() {
    // 1000/s over 60 s: min = max = 1000, sum 60 000. Min: zigzag(1000) = 2000 = 0x7d0, a
    // two-byte varint d0 0f. Max from min: residual 0 (mode 0x20). Sum by midrange:
    // 2 × 60 000 − 60 × (1000 + 1000) = 0 (mode 0x30).
    let raw = block_of(&[pt(60_000.0, 1000.0, 1000.0, 60); BLOCK]);
    assert_eq!(encoded(&raw), [120, 0, 0x00, 0xd0, 0x0f, 0, 0x20, 0, 0, 0x30, 0, 0]);
}

#[test]
fn a_rare_step_is_patched_in_not_packed_wide() {
    // 1000/s with one span (point 5) where one of its two values stepped to 1997. Min: all
    // 1000 (mode 0, zigzag 2000 = d0 0f, width 0). Max from min: residuals 0 but 997 at 5:
    // minimum 0, width 0 patched (0x80), one patch: index 5, varint 997 = e5 07 — 7 bytes
    // where packing every residual at 10 bits would take 43. Sum by midrange: 0 everywhere
    // (2 × 2997 − 2 × (1000 + 1997) = 0).
    let mut points = [pt(2000.0, 1000.0, 1000.0, 2); BLOCK];
    points[5] = pt(2997.0, 1000.0, 1997.0, 2);
    let raw = block_of(&points);
    assert_eq!(encoded(&raw), [4, 0, 0x00, 0xd0, 0x0f, 0, 0x20, 0, 0x80, 1, 5, 0xe5, 0x07, 0x30, 0, 0]);
}

#[test]
fn thousandths_are_stored_as_integers() {
    // 12.345 and 67.891 in one span: exponent 3 for all three columns; 12 345 → zigzag
    // 24 690 = 0x6072 → varint f2 c0 01; max: no predictor wins the tie with from-min
    // (67 891 → 135 782 and 55 546 → 111 092 are both three varint bytes); the sum is the
    // midrange exactly (0).
    let raw = block_of(&[pt(12.345 + 67.891, 12.345, 67.891, 2); BLOCK]);
    let bytes = encoded(&raw);
    assert_eq!(bytes.len(), 2 + 5 + 5 + 3, "{bytes:?}");
    assert_eq!(bytes[..7], [4, 0, 0x03, 0xf2, 0xc0, 0x01, 0]);
    assert_eq!(bytes[12..], [0x33, 0, 0]);
}

#[test]
fn noisy_rates_cost_their_entropy_not_their_bytes() {
    // Two collected values a span (the bench's accelerated tier 1), uniform in
    // [100.000, 200.000) in thousandths: minima spread below 100 000 < 2^17 (at most 17 bits
    // each: a mode byte, a 3-byte varint minimum, the width, 68 bytes), maxima from the
    // minima also below 100 000 (at most 73 bytes), sums exactly the midrange (3 bytes),
    // counts 2 bytes: at most 151 bytes, where LZ4 of the shuffled floats leaves more than
    // 300.
    let mut rng = Rng::new(5);
    let mut value = || (100_000 + rng.below(100_000)) as f64 / 1000.0;
    let points: Vec<TierPoint> = (0..BLOCK)
        .map(|_| {
            let (a, b) = (value(), value());
            pt(a + b, a.min(b), a.max(b), 2)
        })
        .collect();
    let raw = block_of(&points);
    let n = encoded(&raw).len();
    assert!(n <= 151, "{n}");
    assert_eq!(archived(&raw), (CODEC_COLUMNS, n));
    // The same as integers per second (rates around 150 000/s).
    let points: Vec<TierPoint> =
        points.iter().map(|p| pt(p.sum * 1000.0, p.min * 1000.0, p.max * 1000.0, 2)).collect();
    assert!(encoded(&block_of(&points)).len() <= 151);
}

#[test]
fn gaps_and_odd_values_round_trip() {
    // Empty points between others, negative values, -0.0 (no exponent gives its sign back:
    // stored as bits), huge and tiny values, and f32 bit patterns of NaN as found on a
    // damaged disk: all lossless.
    let mut raw = block_of(
        &(0..BLOCK)
            .map(|j| match j % 5 {
                0 => TierPoint::empty(0),
                1 => pt(-3.5, -2.0, -1.5, 2),
                2 => pt(1e30, 1e-30, 3.0e38, 7),
                3 => pt(-0.0, -0.0, 0.0, 1),
                _ => pt(j as f64 * 0.1, 0.1, 0.7, 9),
            })
            .collect::<Vec<_>>(),
    );
    encoded(&raw);
    raw[4 * TIER_POINT_BYTES..4 * TIER_POINT_BYTES + 4].copy_from_slice(&f32::NAN.to_bits().to_le_bytes());
    encoded(&raw);
}

#[test]
fn an_empty_point_with_bytes_is_left_to_the_other_codecs() {
    // Count 0 must read as the empty point whatever its bytes; the column codec does not
    // store those bytes, so it declines, and the archive stores the block another way.
    let mut raw = block_of(&[pt(4.0, 1.0, 3.0, 2); BLOCK]);
    raw[3 * TIER_POINT_BYTES + 12..3 * TIER_POINT_BYTES + 14].fill(0);
    let mut out = [0u8; MAX_ENCODED];
    assert_eq!(encode(&raw, &mut out), None);
    assert_ne!(archived(&raw).0, CODEC_COLUMNS);
    // Too small an output buffer is a refusal, not a panic.
    let raw = block_of(&[pt(4.0, 1.0, 3.0, 2); BLOCK]);
    assert_eq!(encode(&raw, &mut [0u8; 5]), None);
}

#[test]
fn random_blocks_round_trip() {
    let mut rng = Rng::new(99);
    for round in 0..3000 {
        let kind = round % 6;
        let mut raw = [0u8; RAW];
        for j in 0..BLOCK {
            if rng.below(8) == 0 {
                continue; // a gap
            }
            let count = 1 + rng.below(if kind == 5 { 65_535 } else { 60 }) as u32;
            let step = rng.below(10) == 0;
            let e = rng.below(10) as i32;
            let v = |rng: &mut Rng| match kind {
                0 => rng.below(1000) as f64,
                1 => (rng.below(2_000_000) as f64 - 1e6) / 10f64.powi(e),
                2 => f64::from(f32::from_bits(rng.next_u64() as u32 & 0x7f7f_ffff)),
                3 => (rng.next_u64() >> 11) as f64,
                4 => 1000.0 + if step { rng.below(100_000) as f64 } else { 0.0 },
                _ => (rng.below(1 << 20) as f64) / 1024.0,
            };
            let (a, b, c) = (v(&mut rng), v(&mut rng), v(&mut rng));
            let p = pt(a + b + c, a.min(b).min(c), a.max(b).max(c), count);
            raw[j * TIER_POINT_BYTES..(j + 1) * TIER_POINT_BYTES].copy_from_slice(&p.encode());
        }
        encoded(&raw);
        archived(&raw);
    }
}

#[test]
fn the_decoder_trusts_nothing() {
    let raw = block_of(&[pt(12.345 + 67.891, 12.345, 67.891, 2); BLOCK]);
    let good = encoded(&raw);
    let mut back = [0u8; RAW];
    for cut in 0..good.len() {
        assert!(!decode(&good[..cut], &mut back), "cut to {cut}");
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(!decode(&longer, &mut back), "a byte too many");
    // An exponent past 9, a width past 64, a predictor naming a column in other units.
    let mut bad = good.clone();
    bad[2] = 0x0a;
    assert!(!decode(&bad, &mut back), "exponent 10");
    let mut bad = good.clone();
    bad[1] = 65;
    assert!(!decode(&bad, &mut back), "width 65");
    let bits = block_of(&[pt(-0.0, -0.0, -0.0, 2); BLOCK]);
    let mut bad = encoded(&bits);
    assert_eq!(bad[2], BITS, "-0.0 is kept as bits");
    bad[5] = 0x20 | BITS; // max "from min" of bit patterns
    assert!(!decode(&bad, &mut back), "a predictor over bit patterns");
    // Any bytes: false or a block, never a panic, never a read past the input.
    let mut rng = Rng::new(1);
    for _ in 0..20_000 {
        let mut b = good.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(b.len());
            b[i] = rng.next_u64() as u8;
        }
        decode(&b, &mut back);
        let junk: Vec<u8> = (0..rng.below(300)).map(|_| rng.next_u64() as u8).collect();
        decode(&junk, &mut back);
    }
}

/// splitmix64, as `examples/stream_load` draws its noisy rates.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The value a parent stores at second `t` for dimension `k` of `stream_load --values
/// mixed` (per chart: a zero counter, a steady rate, a noisy integer rate, a noisy rate in
/// thousandths), through the 4-byte storage number as tier 0 keeps it.
fn bench_value(k: u64, t: u64) -> f64 {
    let counter = |t: u64| match k % 4 {
        0 => 0,
        1 => t * (k + 1) * 1000 + (t * 7919 + k) % 997,
        _ => t * (k + 1) * 1000 + mix(t.wrapping_mul(1_000_003).wrapping_add(k)) % ((k + 1) * 500),
    };
    let rate = (counter(t) - counter(t - 1)) as f64 / if k % 4 == 3 { 1000.0 } else { 1.0 };
    crate::db::StorageNumber::pack(rate, false).value().unwrap()
}

/// Bytes per archived point (records with their headers and padding) of the bench's mixed
/// set of 200 dimensions, tiers every `iterations` points of the one below.
fn bench_bytes_per_point(tier: u32, iterations: u64) -> f64 {
    bench_bytes_kind(tier, iterations, 0..200)
}

fn bench_bytes_kind(tier: u32, iterations: u64, dims: impl Iterator<Item = u64>) -> f64 {
    let per_point = iterations.pow(tier);
    let (mut bytes, mut points) = (0u64, 0u64);
    for k in dims {
        for b in 0..4u64 {
            let block: Vec<TierPoint> = (0..BLOCK as u64)
                .map(|j| {
                    let first = 2 + (b * BLOCK as u64 + j) * per_point;
                    let vals: Vec<f64> = (first..first + per_point).map(|t| bench_value(k, t)).collect();
                    // The f32 a tier below keeps, summed again (tier 2 from tier 1).
                    let mut p = TierPoint::decode(
                        0,
                        &pt(
                            vals.iter().sum(),
                            vals.iter().copied().fold(f64::MAX, f64::min),
                            vals.iter().copied().fold(f64::MIN, f64::max),
                            per_point as u32,
                        )
                        .encode(),
                    );
                    if tier == 2 {
                        let halves: Vec<TierPoint> = vals
                            .chunks(iterations as usize)
                            .map(|c| {
                                TierPoint::decode(
                                    0,
                                    &pt(
                                        c.iter().sum(),
                                        c.iter().copied().fold(f64::MAX, f64::min),
                                        c.iter().copied().fold(f64::MIN, f64::max),
                                        c.len() as u32,
                                    )
                                    .encode(),
                                )
                            })
                            .collect();
                        p.sum = halves.iter().map(|h| h.sum).sum();
                    }
                    p
                })
                .collect();
            let (_, len) = archived(&block_of(&block));
            bytes += u64::from(crate::db::archive::record_len(len));
            points += BLOCK as u64;
        }
    }
    bytes as f64 / points as f64
}

#[test]
fn the_bench_mixed_set_is_smaller_than_netdata_keeps_it() {
    // Netdata 1.37.1 kept the same load (bench/storage_tiers.sh part 1, tiers every 2 and 4
    // s) at 3.89 bytes a tier-1 point and 6.37 a tier-2 point, overhead included.
    let (t1, t2) = (bench_bytes_per_point(1, 2), bench_bytes_per_point(2, 2));
    println!(
        "bench mixed set: tier 1 {t1:.2} B/point, tier 2 {t2:.2} B/point; real grouping: tier 1 {:.2}",
        bench_bytes_per_point(1, 60)
    );
    for (kind, name) in ["zero", "steady", "noisy integers", "noisy thousandths"].iter().enumerate() {
        let dims = || (kind as u64..200).step_by(4);
        println!(
            "  {name:18}: tier 1 {:.2}, tier 2 {:.2}, tier 1 of 60 values {:.2}",
            bench_bytes_kind(1, 2, dims()),
            bench_bytes_kind(2, 2, dims()),
            bench_bytes_kind(1, 60, dims())
        );
    }
    assert!(t1 < 3.89 && t2 < 6.37, "{t1} {t2}");
}
