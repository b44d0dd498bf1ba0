//! Numbers as the line protocol writes them (protocol.md §2.1).
//!
//! Three readers, each total (every input gives a number, like the C library calls Netdata
//! uses, so a sloppy plugin is not an error):
//! * [`c_integer`] — `strtoll(s, NULL, 0)`: `0x` hexadecimal, a leading `0` octal, else
//!   decimal; it stops at the first character that does not fit, so `12.9` is 12; out of range
//!   saturates. For `SET` values, multipliers and divisors.
//! * [`decimal`] — the same in base 10 only: priorities, `update every`, microseconds,
//!   timestamps.
//! * [`double`] — `strtod`-like: the longest prefix that is a decimal floating point number,
//!   `nan`/`inf`/`infinity` in any case; 0 when there is none.

/// `strtoll(s, NULL, 0)`.
pub fn c_integer(s: &str) -> i64 {
    let (negative, rest) = sign(s.trim_start());
    let (radix, digits) = if let Some(hex) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        if hex.bytes().next().is_some_and(|b| b.is_ascii_hexdigit()) {
            (16, hex)
        } else {
            // "0x" without a hex digit is the number 0 followed by garbage.
            (10, "0")
        }
    } else if rest.starts_with('0') {
        (8, rest)
    } else {
        (10, rest)
    };
    accumulate(digits, radix, negative)
}

/// `strtoll(s, NULL, 10)`.
pub fn decimal(s: &str) -> i64 {
    let (negative, rest) = sign(s.trim_start());
    accumulate(rest, 10, negative)
}

/// A non-negative decimal (negative values are 0).
pub fn unsigned(s: &str) -> u64 {
    decimal(s).max(0) as u64
}

/// `strtod(s, NULL)` for decimal notation and the special words.
pub fn double(s: &str) -> f64 {
    let t = s.trim_start();
    let (negative, rest) = sign(t);
    let lower = |n: usize| rest.get(..n).map(|p| p.to_ascii_lowercase());
    let special = if lower(8).as_deref() == Some("infinity") || lower(3).as_deref() == Some("inf") {
        Some(f64::INFINITY)
    } else if lower(3).as_deref() == Some("nan") {
        Some(f64::NAN)
    } else {
        None
    };
    if let Some(v) = special {
        return if negative { -v } else { v };
    }
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut mantissa_digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        let frac_start = i + 1;
        let mut j = frac_start;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        mantissa_digits += j - frac_start;
        if mantissa_digits > 0 {
            i = j;
        }
    }
    if mantissa_digits == 0 {
        return 0.0;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    t[..i].parse::<f64>().unwrap_or(0.0)
}

fn sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Digits of `radix` from the start of `digits`, saturating like strtoll.
fn accumulate(digits: &str, radix: u32, negative: bool) -> i64 {
    let mut v: i128 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { break };
        v = (v * i128::from(radix) + i128::from(d)).min(i128::from(i64::MAX) + 1);
    }
    if negative {
        (-v).max(i128::from(i64::MIN)) as i64
    } else {
        v.min(i128::from(i64::MAX)) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_integers_detect_the_base() {
        assert_eq!(c_integer("10"), 10);
        assert_eq!(c_integer("010"), 8);
        assert_eq!(c_integer("0x1F"), 31);
        assert_eq!(c_integer("0X1f"), 31);
        assert_eq!(c_integer("-0x10"), -16);
        assert_eq!(c_integer("+7"), 7);
        assert_eq!(c_integer("0"), 0);
        assert_eq!(c_integer("08"), 0, "8 is not an octal digit");
        assert_eq!(c_integer("0x"), 0);
        assert_eq!(c_integer("0xg"), 0);
    }

    #[test]
    fn c_integers_truncate_fractions_and_stop_at_garbage() {
        assert_eq!(c_integer("12.9"), 12);
        assert_eq!(c_integer("-12.9"), -12);
        assert_eq!(c_integer("  42abc"), 42);
        assert_eq!(c_integer("abc"), 0);
        assert_eq!(c_integer(""), 0);
        assert_eq!(c_integer("-"), 0);
    }

    #[test]
    fn c_integers_saturate() {
        assert_eq!(c_integer("9223372036854775807"), i64::MAX);
        assert_eq!(c_integer("99999999999999999999999"), i64::MAX);
        assert_eq!(c_integer("-9223372036854775808"), i64::MIN);
        assert_eq!(c_integer("-99999999999999999999999"), i64::MIN);
        assert_eq!(c_integer("0xFFFFFFFFFFFFFFFFFFFF"), i64::MAX);
    }

    #[test]
    fn decimals_ignore_c_prefixes() {
        assert_eq!(decimal("010"), 10);
        assert_eq!(decimal("0x10"), 0);
        assert_eq!(decimal("-5"), -5);
        assert_eq!(decimal("1000.5"), 1000);
        assert_eq!(unsigned("-5"), 0);
        assert_eq!(unsigned("1700000000123456"), 1_700_000_000_123_456);
    }

    #[test]
    fn doubles_parse_like_strtod() {
        assert_eq!(double("1.5"), 1.5);
        assert_eq!(double("-2.5e3"), -2500.0);
        assert_eq!(double("3e"), 3.0);
        assert_eq!(double(".5"), 0.5);
        assert_eq!(double("5."), 5.0);
        assert_eq!(double("1.0000000x"), 1.0);
        assert_eq!(double("x"), 0.0);
        assert_eq!(double("."), 0.0);
        assert_eq!(double(""), 0.0);
        assert!(double("NAN").is_nan());
        assert!(double("nan").is_nan());
        assert!(double("-nan").is_nan());
        assert_eq!(double("inf"), f64::INFINITY);
        assert_eq!(double("-Infinity"), f64::NEG_INFINITY);
    }
}
