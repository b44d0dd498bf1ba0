//! Values with units, as written in configuration files.
//!
//! Every parser here takes the text of one value (surrounding whitespace is ignored), returns
//! a number or a [`ValueError`], and never wraps on overflow: a value too large for the result
//! type is an error, not a small number.

use std::fmt;

/// Why a value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    /// Nothing was written.
    Empty,
    /// Not a number (or not a boolean, for the boolean parsers).
    Invalid,
    /// A number followed by a suffix that is not a known unit.
    Unit(String),
    /// The value does not fit the result type.
    Overflow,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Empty => f.write_str("empty value"),
            ValueError::Invalid => f.write_str("not a valid value"),
            ValueError::Unit(u) => write!(f, "unknown unit '{u}'"),
            ValueError::Overflow => f.write_str("value too large"),
        }
    }
}

/// A duration in whole seconds.
///
/// A plain number is seconds. Otherwise one or more `<number><unit>` parts, summed
/// (`1h30m`); units are case-sensitive: `ms`, `s`, `m` (minute), `h`, `d`, `w`, `M` (30 days),
/// `Y` or `y` (365 days). Milliseconds are accepted and the total is rounded **up** to whole
/// seconds (`500ms` is 1, `0ms` is 0), so a config written for a newer Netdata still starts.
/// Negative and fractional numbers are errors.
pub fn parse_duration_secs(text: &str) -> Result<u64, ValueError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    if let Ok(n) = plain_u64(text) {
        return Ok(n);
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let (n, after) = leading_u64(rest)?;
        let after = after.trim_start();
        let unit_len = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let ms_per_unit: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "M" => 30 * 86_400_000,
            "Y" | "y" => 365 * 86_400_000,
            "" => return Err(ValueError::Invalid),
            other => return Err(ValueError::Unit(other.to_string())),
        };
        let part = n.checked_mul(ms_per_unit).ok_or(ValueError::Overflow)?;
        total_ms = total_ms.checked_add(part).ok_or(ValueError::Overflow)?;
        rest = after.trim_start();
    }
    Ok(total_ms.div_ceil(1_000))
}

/// A size in bytes.
///
/// A plain number is bytes. Suffixes (case-insensitive, optionally after a space): `B`;
/// `K`, `KB`, `KiB`; `M`, `MB`, `MiB`; `G`, `GB`, `GiB`; `T`, `TB`, `TiB`. All of them are
/// binary multiples (1 K = 1024), which is what users of Netdata's configuration expect.
pub fn parse_bytes(text: &str) -> Result<u64, ValueError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    let (n, unit) = leading_u64(text)?;
    let unit = unit.trim_start();
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(ValueError::Unit(unit.to_string())),
    };
    n.checked_mul(1u64 << shift).ok_or(ValueError::Overflow)
}

/// A boolean: `yes`/`no`, `true`/`false`, `on`/`off`, `1`/`0`, in any case.
pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    let text = text.trim();
    const TRUE: [&str; 4] = ["yes", "true", "on", "1"];
    const FALSE: [&str; 4] = ["no", "false", "off", "0"];
    if text.is_empty() {
        Err(ValueError::Empty)
    } else if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Ok(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(text)) {
        Ok(false)
    } else {
        Err(ValueError::Invalid)
    }
}

/// A boolean that may also be `auto` (or Netdata's `on demand`): `None` means auto.
pub fn parse_tristate(text: &str) -> Result<Option<bool>, ValueError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("auto") || t.eq_ignore_ascii_case("on demand") {
        Ok(None)
    } else {
        parse_bool(t).map(Some)
    }
}

/// A signed decimal integer (an optional `+` or `-`, then digits).
pub fn parse_integer(text: &str) -> Result<i64, ValueError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    text.parse::<i64>().map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => ValueError::Overflow,
        _ => ValueError::Invalid,
    })
}

/// All of `text` as an unsigned decimal number.
fn plain_u64(text: &str) -> Result<u64, ValueError> {
    match leading_u64(text)? {
        (n, "") => Ok(n),
        _ => Err(ValueError::Invalid),
    }
}

/// The decimal digits at the start of `text`, and what follows them.
fn leading_u64(text: &str) -> Result<(u64, &str), ValueError> {
    let len = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    if len == 0 {
        return Err(ValueError::Invalid);
    }
    let (digits, rest) = text.split_at(len);
    let mut n: u64 = 0;
    for b in digits.bytes() {
        n = n.checked_mul(10).and_then(|n| n.checked_add(u64::from(b - b'0'))).ok_or(ValueError::Overflow)?;
    }
    Ok((n, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("5"), Ok(5));
        assert_eq!(parse_duration_secs(" 0 "), Ok(0));
        assert_eq!(parse_duration_secs("5s"), Ok(5));
        assert_eq!(parse_duration_secs("5m"), Ok(300));
        assert_eq!(parse_duration_secs("2h"), Ok(7200));
        assert_eq!(parse_duration_secs("1d"), Ok(86_400));
        assert_eq!(parse_duration_secs("1w"), Ok(604_800));
        assert_eq!(parse_duration_secs("1M"), Ok(30 * 86_400));
        assert_eq!(parse_duration_secs("1Y"), Ok(365 * 86_400));
        assert_eq!(parse_duration_secs("1y"), Ok(365 * 86_400));
        assert_eq!(parse_duration_secs("1h30m"), Ok(5400));
        assert_eq!(parse_duration_secs("1h 30m 5s"), Ok(5405));
        assert_eq!(parse_duration_secs("10 m"), Ok(600));
    }

    #[test]
    fn durations_in_milliseconds_round_up() {
        assert_eq!(parse_duration_secs("500ms"), Ok(1));
        assert_eq!(parse_duration_secs("1000ms"), Ok(1));
        assert_eq!(parse_duration_secs("1001ms"), Ok(2));
        assert_eq!(parse_duration_secs("0ms"), Ok(0));
        assert_eq!(parse_duration_secs("1s500ms"), Ok(2));
    }

    #[test]
    fn bad_durations() {
        assert_eq!(parse_duration_secs(""), Err(ValueError::Empty));
        assert_eq!(parse_duration_secs("x"), Err(ValueError::Invalid));
        assert_eq!(parse_duration_secs("-5"), Err(ValueError::Invalid));
        assert_eq!(parse_duration_secs("1.5h"), Err(ValueError::Invalid));
        assert_eq!(parse_duration_secs("5 minutes"), Err(ValueError::Unit("minutes".into())));
        assert_eq!(parse_duration_secs("5H"), Err(ValueError::Unit("H".into())));
        assert_eq!(parse_duration_secs("5m3"), Err(ValueError::Invalid));
        assert_eq!(parse_duration_secs("m"), Err(ValueError::Invalid));
    }

    #[test]
    fn duration_overflow_is_an_error() {
        assert_eq!(parse_duration_secs("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_duration_secs("18446744073709551616"), Err(ValueError::Overflow));
        assert_eq!(parse_duration_secs("18446744073709551615s"), Err(ValueError::Overflow));
        assert_eq!(parse_duration_secs("600000000Y"), Err(ValueError::Overflow));
        assert_eq!(parse_duration_secs("18446744073709551s 18446744073709551s"), Err(ValueError::Overflow));
    }

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("100"), Ok(100));
        assert_eq!(parse_bytes("100B"), Ok(100));
        assert_eq!(parse_bytes("1K"), Ok(1024));
        assert_eq!(parse_bytes("1kb"), Ok(1024));
        assert_eq!(parse_bytes("1KiB"), Ok(1024));
        assert_eq!(parse_bytes("10MiB"), Ok(10 << 20));
        assert_eq!(parse_bytes("10 MB"), Ok(10 << 20));
        assert_eq!(parse_bytes("10M"), Ok(10 << 20));
        assert_eq!(parse_bytes("2G"), Ok(2 << 30));
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("1T"), Ok(1 << 40));
    }

    #[test]
    fn bad_bytes() {
        assert_eq!(parse_bytes(""), Err(ValueError::Empty));
        assert_eq!(parse_bytes("MiB"), Err(ValueError::Invalid));
        assert_eq!(parse_bytes("-1"), Err(ValueError::Invalid));
        assert_eq!(parse_bytes("1.5M"), Err(ValueError::Unit(".5M".into())));
        assert_eq!(parse_bytes("10 parsecs"), Err(ValueError::Unit("parsecs".into())));
        assert_eq!(parse_bytes("16777216T"), Err(ValueError::Overflow));
        assert_eq!(parse_bytes("99999999999999999999"), Err(ValueError::Overflow));
    }

    #[test]
    fn booleans() {
        for t in ["yes", "YES", "true", "On", "1", " yes "] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["no", "No", "FALSE", "off", "0"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        assert_eq!(parse_bool("maybe"), Err(ValueError::Invalid));
        assert_eq!(parse_bool("2"), Err(ValueError::Invalid));
        assert_eq!(parse_bool(""), Err(ValueError::Empty));
        assert_eq!(parse_bool("auto"), Err(ValueError::Invalid));
    }

    #[test]
    fn tristates() {
        assert_eq!(parse_tristate("auto"), Ok(None));
        assert_eq!(parse_tristate("AUTO"), Ok(None));
        assert_eq!(parse_tristate("on demand"), Ok(None));
        assert_eq!(parse_tristate("yes"), Ok(Some(true)));
        assert_eq!(parse_tristate("off"), Ok(Some(false)));
        assert_eq!(parse_tristate("sometimes"), Err(ValueError::Invalid));
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("42"), Ok(42));
        assert_eq!(parse_integer("-19"), Ok(-19));
        assert_eq!(parse_integer("+7"), Ok(7));
        assert_eq!(parse_integer("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_integer("9223372036854775808"), Err(ValueError::Overflow));
        assert_eq!(parse_integer("-9223372036854775809"), Err(ValueError::Overflow));
        assert_eq!(parse_integer("12abc"), Err(ValueError::Invalid));
        assert_eq!(parse_integer("0x10"), Err(ValueError::Invalid));
        assert_eq!(parse_integer(" "), Err(ValueError::Empty));
    }
}
