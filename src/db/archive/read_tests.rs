//! The archive's read path (`lower_bound`, `for_each`) against a plain reference that
//! checks every record of the log and decodes point by point, on random archives with
//! missing blocks, wraps, evictions and damage.

use super::*;
use crate::rng::Rng;

/// Block `b`'s points: point `j` holds sum `b·1000 + j`, min `-j`, max `b`, count `j + 1`;
/// every `gap`-th point empty.
fn block(b: u32, gap: usize, noisy: bool, rng: &mut Rng) -> [u8; RAW] {
    let mut raw = [0u8; RAW];
    for j in 0..BLOCK {
        if gap > 0 && j % gap == 0 {
            continue;
        }
        let sum =
            f64::from(b) * 1000.0 + j as f64 + if noisy { rng.below(1000) as f64 / 1000.0 } else { 0.0 };
        let p = TierPoint { t: 0, sum, min: -(j as f64), max: f64::from(b), count: j as u32 + 1 };
        raw[j * TIER_POINT_BYTES..(j + 1) * TIER_POINT_BYTES].copy_from_slice(&p.encode());
    }
    raw
}

/// Every valid record of the log, by a walk from the tail (no search).
fn records(a: &Archive, body: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(f) = a.next(body, at) {
        out.push(f);
        at = f.at + f.h.span();
    }
    out
}

/// The reference read: for each time on its own, the record of its block found among all
/// records, decoded on its own.
fn reference(a: &Archive, body: &[u8], start: i64, end: i64, ue: i64) -> Vec<TierPoint> {
    let all = records(a, body);
    let mut out = Vec::new();
    let mut t = start;
    while t <= end {
        let blk = (t / ue).div_euclid(BLOCK as i64);
        let j = (t / ue).rem_euclid(BLOCK as i64) as usize;
        let mut raw = [0u8; RAW];
        let p = match all.iter().find(|f| i64::from(f.h.block) == blk) {
            Some(f) => {
                let p = a.phys(f.at) + HEADER;
                if decode_block(&body[p..p + usize::from(f.h.len)], f.h.codec, &mut raw) {
                    TierPoint::decode(t, &raw[j * TIER_POINT_BYTES..])
                } else {
                    TierPoint::empty(t)
                }
            }
            None => TierPoint::empty(t),
        };
        out.push(p);
        t += ue;
    }
    out
}

fn read(a: &Archive, body: &[u8], start: i64, end: i64, ue: i64) -> Vec<TierPoint> {
    let mut out = Vec::new();
    a.for_each(body, start, end, ue, &|| "test".into(), &mut |p| out.push(p));
    out
}

#[test]
fn the_in_place_checksum_is_the_headers() {
    let mut rng = Rng::new(3);
    for len in [0usize, 1, 17, 200, MAX_PACKED] {
        let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        // Codecs 0 and 1: FNV-1a of the fields followed by the bytes, as always written.
        let h = Header { block: 77, len: len as u16, first: 3, codec: CODEC_LZ4, sum: 0 };
        let joined: Vec<u8> = h.fields().iter().chain(&data).copied().collect();
        assert_eq!(h.checksum_of(&data), crate::db::file::checksum(&joined), "{len} bytes");
        // The column codec: by words; any one flipped bit of the fields or the bytes shows.
        let h = Header { codec: CODEC_COLUMNS, ..h };
        let sum = h.checksum_of(&data);
        for bit in 0..(12 + len) * 8 {
            let (mut fields, mut bytes) = (h.fields(), data.clone());
            let (i, m) = (bit / 8, 1u8 << (bit % 8));
            if i < 12 {
                fields[i] ^= m;
            } else {
                bytes[i - 12] ^= m;
            }
            assert_ne!(checksum_words(&fields, &bytes), sum, "{len} bytes, bit {bit}");
        }
    }
}

#[test]
fn reads_equal_the_point_by_point_reference_on_random_archives() {
    let mut rng = Rng::new(11);
    let ue = 60;
    let b = BLOCK as i64;
    for round in 0..40 {
        // Small regions wrap and evict; blocks skipped at random (a gap in the data).
        let mut a = Archive::new(1024 + 512 * (round % 5)).unwrap();
        let mut body = vec![0u8; a.len()];
        let mut blk = rng.below(50) as u32;
        for _ in 0..(20 + rng.below(60)) {
            blk += 1 + if rng.below(4) == 0 { rng.below(5) as u32 } else { 0 };
            let raw = block(blk, rng.below(6), rng.below(3) == 0, &mut rng);
            let _ = a.append(&mut body, blk, 0, &raw);
        }
        // Damage: flip a few bytes in some rounds (headers, data, padding alike).
        if round % 3 == 1 {
            for _ in 0..(1 + rng.below(3)) {
                let i = rng.below(body.len());
                body[i] ^= 1 << rng.below(8);
            }
        }
        let all = records(&a, &body);
        // lower_bound is the first valid record numbered at least `n`, for every `n`.
        for n in 0..blk + 3 {
            let want = all.iter().find(|f| f.h.block >= n).map(|f| (f.at, f.h.block));
            assert_eq!(a.lower_bound(&body, n).map(|f| (f.at, f.h.block)), want, "round {round}, block {n}");
        }
        for _ in 0..20 {
            let from = rng.below(blk as usize * BLOCK + 80) as i64;
            let to = from + rng.below(6 * BLOCK) as i64;
            let (start, end) = (from * ue, to * ue);
            assert_eq!(
                read(&a, &body, start, end, ue),
                reference(&a, &body, start, end, ue),
                "round {round}"
            );
        }
        // One point, the last of a block and the first of the next.
        let last = (i64::from(blk) * b - 1) * ue;
        assert_eq!(read(&a, &body, last, last + ue, ue), reference(&a, &body, last, last + ue, ue));
    }
}

#[test]
fn a_damaged_record_reads_empty_with_one_warning() {
    let mut rng = Rng::new(5);
    let mut a = Archive::new(8192).unwrap();
    let mut body = vec![0u8; a.len()];
    for blk in 10..20u32 {
        a.append(&mut body, blk, 0, &block(blk, 0, true, &mut rng)).unwrap();
    }
    let ue = 60;
    let b = BLOCK as i64;
    let (start, end) = (10 * b * ue, (20 * b - 1) * ue);
    let before = read(&a, &body, start, end, ue);
    assert_eq!(before.len(), 10 * BLOCK);
    assert!(before.iter().all(|p| p.count > 0));
    assert!(!a.warned.load(Ordering::Relaxed));
    // Block 14's compressed bytes damaged: its 32 points read empty, the others as before.
    let f = records(&a, &body).into_iter().find(|f| f.h.block == 14).unwrap();
    body[a.phys(f.at) + HEADER + 5] ^= 0x10;
    let after = read(&a, &body, start, end, ue);
    assert_eq!(after.len(), before.len());
    for (i, (p, q)) in after.iter().zip(&before).enumerate() {
        if i / BLOCK == 4 {
            assert_eq!(*p, TierPoint::empty(q.t), "point {i}");
        } else {
            assert_eq!(p, q, "point {i}");
        }
    }
    assert!(a.warned.load(Ordering::Relaxed), "the damage was reported");
    // The point values are the ones stored: block 15's point 3.
    let p = after[5 * BLOCK + 3];
    assert_eq!((p.t, p.min, p.max, p.count), ((15 * b + 3) * ue, -3.0, 15.0, 4));
    assert!((p.sum - 15_003.0).abs() < 1.0, "{}", p.sum);
}
