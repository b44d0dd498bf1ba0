//! Numbers as the line formats write them, without `core::fmt`: an integer (`%lld`) and a
//! value with seven decimals (`%0.7f`), byte for byte what `write!("{v}")` and
//! `write!("{v:.7}")` give — the formatting machinery was half the cost of a graphite line.
//!
//! Seven decimals are exact for |v| < 10⁸: `v × 10⁷` (the constant is exact in binary) is
//! then below 2⁵⁰, so the product is off the true one by at most 1/16, and rounding it to an
//! integer gives the correctly rounded result unless its fraction lies within 0.07 of ½ —
//! those few, and anything larger, NaN or infinite, go through `core::fmt`.

use std::io::Write;

/// Appends `v` in decimal.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[at..]);
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
    let whole = scaled.trunc();
    if ((scaled - whole) - 0.5).abs() < 0.07 {
        let _ = write!(out, "{v:.7}");
        return;
    }
    // Rounded by hand: `f64::round` is a library call on baseline x86-64.
    let t = scaled as u64;
    let r = t + u64::from(scaled - t as f64 >= 0.5);
    if v.is_sign_negative() {
        out.push(b'-');
    }
    push_i64(out, (r / 10_000_000) as i64);
    out.push(b'.');
    let frac = r % 10_000_000;
    let mut digits = [b'0'; 7];
    let mut f = frac;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.extend_from_slice(&digits);
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
            0.0, -0.0, 0.5, 1.0, -1.0, 0.00000005, 0.00000015, 0.00000025, -0.00000005, 1e-8, -1e-8,
            0.12345675, 0.1234567499999, 98.5074650, 99_999_999.99999995, 99_999_999.9999999, 1e8,
            -1e8, 1e300, f64::MAX, f64::MIN_POSITIVE, f64::NAN, f64::INFINITY, f64::NEG_INFINITY,
            1.0 / 3.0, 2.0 / 3.0, 0.1 + 0.2, 123.456,
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
