//! Small helpers for writing JSON by hand into a `String`: the API builds its bodies in one
//! buffer without an intermediate tree.

use std::fmt::Write as _;

/// Appends `s` as a JSON string literal.
pub fn str(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// Appends `s` escaped for the inside of a JSON string.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Appends a number the way Netdata prints stored values: integers without decimals, others
/// with up to 7 decimals and no trailing zeros; NaN and infinities become `null`.
pub fn num(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    fmt_number(out, v);
}

/// Appends an optional number (`None` ⇒ `null`).
pub fn opt(out: &mut String, v: Option<f64>) {
    match v {
        Some(v) => num(out, v),
        None => out.push_str("null"),
    }
}

/// Appends an optional number as bytes (`None`, NaN and infinities ⇒ `null`): for bodies
/// built as bytes (the data rows), the same text as [`opt`].
pub fn opt_bytes(out: &mut Vec<u8>, v: Option<f64>) {
    match v.filter(|v| v.is_finite()) {
        None => out.extend_from_slice(b"null"),
        Some(v) => {
            let mut buf = [0u8; NUM_LEN];
            match fast(v, &mut buf) {
                Some(at) => out.extend_from_slice(&buf[at]),
                None => out.extend_from_slice(slow(v).as_bytes()),
            }
        }
    }
}

/// The number formatting shared by every text format.
pub fn fmt_number(out: &mut String, v: f64) {
    let mut buf = [0u8; NUM_LEN];
    match fast(v, &mut buf) {
        Some(at) => push_ascii(out, &buf[at]),
        None => out.push_str(&slow(v)),
    }
}

/// Bytes a number takes at most on the fast path: a sign, 20 digits, the point, 7 decimals.
const NUM_LEN: usize = 29;

/// Writes `v` into `buf` when it is below 10^15 (integers as they are, others rounded to 7
/// decimals without trailing zeros) and returns where; `None` for the rest. Truncating and
/// rounding go through i64 (`f64::trunc`/`round` are library calls on baseline x86-64).
fn fast(v: f64, buf: &mut [u8; NUM_LEN]) -> Option<std::ops::Range<usize>> {
    if v.is_nan() || v.abs() >= 1e15 {
        return None;
    }
    let i = v as i64;
    if i as f64 == v {
        return Some(digits_at(buf, i.unsigned_abs(), 0, i < 0));
    }
    let s = v * 1e7;
    if s.abs() >= 1e15 {
        return None;
    }
    // `s - t` is exact here; ties round away from zero, as `f64::round` does.
    let t = s as i64;
    let f = s - t as f64;
    let scaled = t + i64::from(f >= 0.5) - i64::from(f <= -0.5);
    let a = scaled.unsigned_abs();
    Some(digits_at(buf, a / 10_000_000, (a % 10_000_000) as u32, scaled < 0))
}

/// Writes `whole`, and `.frac` (7 decimals, trailing zeros cut) unless it is 0, with a sign.
fn digits_at(buf: &mut [u8; NUM_LEN], whole: u64, frac: u32, negative: bool) -> std::ops::Range<usize> {
    use crate::digits::{pair, write_u64};
    let mut start = write_u64(&mut buf[..21], whole);
    let mut end = 21;
    if frac != 0 {
        buf[21] = b'.';
        buf[22] = b'0' + (frac / 1_000_000) as u8;
        let f = frac % 1_000_000;
        pair(buf, 23, f / 10_000);
        pair(buf, 25, (f / 100) % 100);
        pair(buf, 27, f % 100);
        end = NUM_LEN;
        while buf[end - 1] == b'0' {
            end -= 1;
        }
    }
    if negative && (whole, frac) != (0, 0) {
        start -= 1;
        buf[start] = b'-';
    }
    start..end
}

/// The numbers the fast path leaves: rounded to 7 decimals, printed by `core::fmt`.
fn slow(v: f64) -> String {
    let r = (v * 1e7).round() / 1e7;
    if r.abs() >= 1e15 {
        (r as i64).to_string()
    } else {
        format!("{r}")
    }
}

/// Appends an integer in decimal, as bytes.
pub fn int_bytes(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; NUM_LEN];
    let at = digits_at(&mut buf, v.unsigned_abs(), 0, v < 0);
    out.extend_from_slice(&buf[at]);
}

/// Appends an integer in decimal.
pub fn push_int(out: &mut String, v: i64) {
    let mut buf = [0u8; NUM_LEN];
    let at = digits_at(&mut buf, v.unsigned_abs(), 0, v < 0);
    push_ascii(out, &buf[at]);
}

/// Appends bytes known to be ASCII.
fn push_ascii(out: &mut String, b: &[u8]) {
    // The check cannot fail (digits, signs, points); it is one pass over a few bytes.
    out.push_str(std::str::from_utf8(b).unwrap_or_default());
}

/// `"key": ` (with the leading comma when `first` is false).
pub fn key(out: &mut String, first: &mut bool, k: &str) {
    if !*first {
        out.push_str(",\n");
    }
    *first = false;
    out.push_str("\t\"");
    escape_into(out, k);
    out.push_str("\": ");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_netdata() {
        let f = |v: f64| {
            let mut s = String::new();
            num(&mut s, v);
            s
        };
        assert_eq!(f(3.0), "3");
        assert_eq!(f(-2.5), "-2.5");
        assert_eq!(f(0.1234567891), "0.1234568");
        assert_eq!(f(f64::NAN), "null");
        assert_eq!(f(-0.00000001), "0");
    }

    /// The byte writer prints what the string writer prints.
    #[test]
    fn bytes_and_text_agree() {
        let mut rng = crate::rng::Rng::new(4);
        let mut values = vec![
            None,
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(-0.0),
            Some(1e15),
            Some(-1e16),
            Some(0.5e-7),
        ];
        for _ in 0..50_000 {
            let m = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let e = rng.below(30) as i32 - 12;
            values.push(Some((m - 0.5) * 10f64.powi(e)));
        }
        for v in values {
            let (mut text, mut bytes) = (String::new(), Vec::new());
            opt(&mut text, v);
            opt_bytes(&mut bytes, v);
            assert_eq!(text.as_bytes(), &bytes[..], "{v:?}");
        }
        for v in [0i64, -1, 7, i64::MIN, i64::MAX, 1_796_607_964] {
            let (mut text, mut bytes) = (String::new(), Vec::new());
            push_int(&mut text, v);
            int_bytes(&mut bytes, v);
            assert_eq!((text.as_bytes(), text.clone()), (&bytes[..], v.to_string()));
        }
    }

    /// The direct digits equal what the shortest float formatting prints.
    #[test]
    fn fast_number_formatting_matches_the_float_formatting() {
        let reference = |v: f64| {
            let r = (v * 1e7).round() / 1e7;
            if v == v.trunc() && v.abs() < 1e15 {
                format!("{}", v as i64)
            } else if r == 0.0 {
                "0".to_owned()
            } else if r.abs() >= 1e15 {
                format!("{}", r as i64)
            } else {
                format!("{r}")
            }
        };
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values = vec![
            0.5,
            -0.5,
            1e-7,
            -1e-7,
            4e-8,
            5e-8,
            -5e-8,
            1.5e-7,
            -2.5e-7,
            0.1,
            0.7,
            99.9999999,
            123456.789,
            -1e14 - 0.5,
            999_999_999_999_999.0,
            -0.0,
        ];
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64;
            let exp = (x % 23) as i32 - 8;
            let sign = if x & 1 == 0 { 1.0 } else { -1.0 };
            values.push(sign * mantissa * 10f64.powi(exp));
        }
        for v in values {
            let mut s = String::new();
            fmt_number(&mut s, v);
            assert_eq!(s, reference(v), "{v:e}");
        }
        let mut s = String::new();
        push_int(&mut s, i64::MIN);
        assert_eq!(s, i64::MIN.to_string());
    }

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        str(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
