//! Numbers as the line formats write them, without `core::fmt`: an integer (`%lld`) and a
//! value with seven decimals (`%0.7f`), byte for byte what `write!("{v}")` and
//! `write!("{v:.7}")` give — the formatting machinery was half the cost of a graphite line.
//!
//! Seven decimals are exact for |v| < 10⁸: `v × 10⁷` (the constant is exact in binary) is
//! then below 2⁵⁰, so the product is off the true one by at most 1/16, and rounding it to an
//! integer gives the correctly rounded result unless its fraction lies within 0.07 of ½ —
//! those few, and anything larger, NaN or infinite, go through `core::fmt`.

use std::io::Write;

use crate::digits::{pair, write_u64};

/// Appends `v` in decimal.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let at = write_u64(&mut buf, v.unsigned_abs());
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[at..]);
}

/// How many decimal digits `n` has (at least 1).
#[inline(always)]
fn digits(n: u32) -> usize {
    match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        10_000..=99_999 => 5,
        100_000..=999_999 => 6,
        1_000_000..=9_999_999 => 7,
        10_000_000..=99_999_999 => 8,
        100_000_000..=999_999_999 => 9,
        _ => 10,
    }
}

/// Appends `v` with exactly seven decimals, rounded as `{:.7}` (and C's `%0.7f`) round.
pub fn push_fixed7(out: &mut Vec<u8>, v: f64) {
    const SCALE: f64 = 1e7;
    let a = v.abs();
    if a.is_nan() || a >= 1e8 {
        let _ = write!(out, "{v:.7}");
        return;
    }
    let scaled = a * SCALE;
    // Below 10¹⁵: the conversion truncates exactly (`f64::trunc` and `f64::round` are
    // library calls on baseline x86-64); through i64, which is one instruction each way
    // there (u64 is a branchy sequence).
    let t = scaled as i64;
    let fraction = scaled - t as f64;
    let t = t as u64;
    if (fraction - 0.5).abs() < 0.07 {
        let _ = write!(out, "{v:.7}");
        return;
    }
    let r = t + u64::from(fraction >= 0.5);
    // At most 10⁸ (9 digits) before the point.
    let whole = (r / 10_000_000) as u32;
    let frac = (r % 10_000_000) as u32;
    // Sign, up to 9 digits, the point and 7 decimals: at most 18 bytes, written into a
    // fixed 24-byte block that is appended whole (no variable-length copy) and cut after.
    let mut buf = [0u8; 24];
    let mut at = 0;
    if v.is_sign_negative() {
        buf[0] = b'-';
        at = 1;
    }
    let n = digits(whole);
    let mut end = at + n;
    let mut w = whole;
    while w >= 100 {
        end -= 2;
        pair(&mut buf, end, w % 100);
        w /= 100;
    }
    if w >= 10 {
        pair(&mut buf, end - 2, w);
    } else {
        buf[end - 1] = b'0' + w as u8;
    }
    let at = at + n;
    buf[at] = b'.';
    buf[at + 1] = b'0' + (frac / 1_000_000) as u8;
    let f = frac % 1_000_000;
    pair(&mut buf, at + 2, f / 10_000);
    pair(&mut buf, at + 4, (f / 100) % 100);
    pair(&mut buf, at + 6, f % 100);
    let len = out.len() + at + 8;
    out.extend_from_slice(&buf);
    out.truncate(len);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(v: f64) -> String {
        let mut out = Vec::new();
        push_fixed7(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn int(v: i64) -> String {
        let mut out = Vec::new();
        push_i64(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_as_display() {
        for v in [0, 1, -1, 9, 10, 99, 100, 1_700_000_000, -42, i64::MAX, i64::MIN, i64::MIN + 1] {
            assert_eq!(int(v), v.to_string());
        }
    }

    #[test]
    fn seven_decimals_as_core_fmt() {
        let edge = [
            0.0,
            -0.0,
            0.5,
            1.0,
            -1.0,
            0.00000005,
            0.00000015,
            0.00000025,
            -0.00000005,
            1e-8,
            -1e-8,
            0.12345675,
            0.1234567499999,
            98.5074650,
            99_999_999.99999995,
            99_999_999.9999999,
            1e8,
            -1e8,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0 / 3.0,
            2.0 / 3.0,
            0.1 + 0.2,
            123.456,
        ];
        for v in edge {
            assert_eq!(fixed(v), format!("{v:.7}"), "{v:e}");
        }
        // A spread of magnitudes and fractions, halves of the 7th decimal included.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..400_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64;
            let magnitude = 10f64.powi((i % 17) as i32 - 8);
            let mut v = mantissa * magnitude;
            if i % 5 == 0 {
                v = (v * 2e7).round() / 2e7; // near a half of the last decimal
            }
            if i % 2 == 1 {
                v = -v;
            }
            assert_eq!(fixed(v), format!("{v:.7}"), "{v:e}");
        }
    }
}
