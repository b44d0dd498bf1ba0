//! The values of `health.d` keys that have a syntax of their own: durations, `lookup`,
//! `delay`, `repeat`, `options`, alarm names, and the whitespace and quote rules Netdata
//! applies to every value. Each parser returns `Err(message)` for text Netdata would
//! complain about; the caller turns that into a [`super::ConfigError`] that drops the entry.

use crate::query::{Group, Options};

use super::{Delay, Lookup, Repeat};

/// Netdata's `config_parse_duration`: an optional sign, a number (decimals allowed), then
/// the first character after it picks the unit: `s`, `m` (60), `h` (3600), `d` (86400),
/// `w` (7 d), `M` (30 d), `Y` (365 d); no unit, or any other character, means seconds
/// (so `10min` is 600 s, as in Netdata). `never` is 0. The result is truncated toward zero
/// like Netdata's `(int)` cast; `None` for text that is not a duration or does not fit
/// Netdata's `int`.
pub fn duration(s: &str) -> Option<i64> {
    let s = s.trim_start_matches(is_c_space);
    if s == "never" {
        return Some(0);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if bytes.get(i) == Some(&b'.') {
        let frac_start = i + 1;
        let mut j = frac_start;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        digits += j - frac_start;
        i = j;
    }
    if digits == 0 {
        return None;
    }
    let n: f64 = s[..i].parse().ok()?;
    let multiplier = match bytes.get(i) {
        Some(b'Y') => 31_536_000.0,
        Some(b'M') => 2_592_000.0,
        Some(b'w') => 604_800.0,
        Some(b'd') => 86_400.0,
        Some(b'h') => 3_600.0,
        Some(b'm') => 60.0,
        _ => 1.0,
    };
    let v = (n * multiplier).trunc();
    if v.is_finite() && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX) {
        Some(v as i64)
    } else {
        None
    }
}

/// A duration that must not be negative, in seconds.
pub(super) fn seconds(s: &str) -> Result<u32, String> {
    match duration(s) {
        Some(v) if v >= 0 => Ok(v as u32),
        Some(_) => Err(format!("duration '{s}' is negative")),
        None => Err(format!("'{s}' is not a duration")),
    }
}

/// `lookup: METHOD AFTER [at BEFORE] [every DUR] [absolute|abs|absolute_sum] [min2max]
/// [null2zero] [percentage] [unaligned] [anomaly-bit] [match-ids|match-names] [of DIMS|all]
/// [foreach DIMS]`. Keywords are case-insensitive (Netdata compares them with
/// `strcasecmp`); `of` takes the rest of the line up to ` foreach`, `foreach` the rest of
/// the line.
pub(super) fn lookup(value: &str) -> Result<Lookup, String> {
    let (method, rest) = split_word(value);
    if rest.is_empty() {
        return Err(format!("lookup expects a group method followed by the 'after' time, but got '{value}'"));
    }
    let group = Group::parse(method).ok_or_else(|| format!("invalid group method '{method}'"))?;
    let (after_text, mut rest) = split_word(rest);
    let after = duration(after_text)
        .ok_or_else(|| format!("invalid duration '{after_text}' after the group method"))?;
    if after == 0 {
        return Err("the lookup's 'after' time is zero: no data to look up".into());
    }
    let mut lookup = Lookup {
        group,
        after,
        before: 0,
        every: after.unsigned_abs() as u32,
        options: Options::default(),
        anomaly_bit: false,
        of: None,
        foreach: None,
    };
    while !rest.is_empty() {
        let (word, tail) = split_word(rest);
        rest = tail;
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "at" | "every" => {
                let (v, tail) = split_word(rest);
                rest = tail;
                let d =
                    duration(v).ok_or_else(|| format!("invalid duration '{v}' for the '{word}' keyword"))?;
                if lower == "at" {
                    lookup.before = d;
                } else if d > 0 {
                    lookup.every = d as u32;
                } else {
                    return Err(format!("the lookup's 'every' must be positive, got '{v}'"));
                }
            }
            "absolute" | "abs" | "absolute_sum" | "min2max" | "null2zero" | "percentage" | "unaligned"
            | "match-ids" | "match_ids" | "match-names" | "match_names" => {
                lookup.options.set(&lower);
            }
            "anomaly-bit" => lookup.anomaly_bit = true,
            "of" => {
                let (dims, tail) = match find_ignore_case(rest, " foreach") {
                    Some(at) => (&rest[..at], &rest[at + 1..]),
                    None => (rest, ""),
                };
                rest = tail;
                let dims = dims.trim_matches(is_c_space);
                if !dims.is_empty() && !dims.eq_ignore_ascii_case("all") {
                    lookup.of = Some(dims.to_owned());
                }
            }
            "foreach" => {
                if rest.is_empty() {
                    return Err("'foreach' needs a pattern of dimensions".into());
                }
                lookup.foreach = Some(rest.to_owned());
                rest = "";
            }
            _ => return Err(format!("unknown lookup keyword '{word}'")),
        }
    }
    Ok(lookup)
}

/// `delay: [up D] [down D] [multiplier X] [max D]`; keywords case-insensitive, the
/// multiplier a positive finite number.
pub(super) fn delay(value: &str) -> Result<Delay, String> {
    let mut delay = Delay::default();
    let mut rest = value;
    while !rest.is_empty() {
        let (key, tail) = split_word(rest);
        let (v, tail) = split_word(tail);
        rest = tail;
        if v.is_empty() {
            return Err(format!("delay keyword '{key}' has no value"));
        }
        match key.to_ascii_lowercase().as_str() {
            "up" => delay.up = seconds(v)?,
            "down" => delay.down = seconds(v)?,
            "max" => delay.max = Some(seconds(v)?),
            "multiplier" => {
                delay.multiplier = match v.parse::<f64>() {
                    Ok(m) if m.is_finite() && m > 0.0 => m,
                    _ => return Err(format!("invalid value '{v}' for 'multiplier'")),
                }
            }
            _ => return Err(format!("unknown delay keyword '{key}'")),
        }
    }
    Ok(delay)
}

/// `repeat: [off] [warning D] [critical D]`; `off` turns both off and ends the line, as in
/// Netdata.
pub(super) fn repeat(value: &str) -> Result<Repeat, String> {
    let mut repeat = Repeat::default();
    let mut rest = value;
    while !rest.is_empty() {
        let (key, tail) = split_word(rest);
        if key.eq_ignore_ascii_case("off") {
            return Ok(Repeat { off: true, warning: None, critical: None });
        }
        let (v, tail) = split_word(tail);
        rest = tail;
        if v.is_empty() {
            return Err(format!("repeat keyword '{key}' has no value"));
        }
        match key.to_ascii_lowercase().as_str() {
            "warning" => repeat.warning = Some(seconds(v)?),
            "critical" => repeat.critical = Some(seconds(v)?),
            _ => return Err(format!("unknown repeat keyword '{key}'")),
        }
    }
    Ok(repeat)
}

/// `options:` words; `true` when `no-clear-notification` (or `no-clear`) is among them.
pub(super) fn no_clear_notification(value: &str) -> Result<bool, String> {
    let mut set = false;
    for word in value.split(is_c_space).filter(|w| !w.is_empty()) {
        if word.eq_ignore_ascii_case("no-clear-notification") || word.eq_ignore_ascii_case("no-clear") {
            set = true;
        } else {
            return Err(format!("unknown alarm option '{word}'"));
        }
    }
    Ok(set)
}

/// `green:`/`red:` numbers.
pub(super) fn number(value: &str) -> Result<f64, String> {
    value.parse::<f64>().map_err(|_| format!("'{value}' is not a number"))
}

/// Netdata's `rrdvar_fix_name`: every byte that is not an ASCII letter, digit, `.` or `_`
/// becomes `_` (a two-byte UTF-8 character becomes `__`). `None` when nothing changed.
pub(super) fn fix_name(name: &str) -> Option<String> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'_';
    if name.bytes().all(ok) {
        return None;
    }
    Some(name.bytes().map(|b| if ok(b) { b as char } else { '_' }).collect())
}

/// Netdata's `trim_all`: leading and trailing whitespace removed, every inner run of
/// whitespace made one space.
pub(super) fn trim_all(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(is_c_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Netdata's `strip_quotes`, applied to `class`, `component`, `type`, `units` and `info`:
/// every `'` and `"` becomes a space (kept, not trimmed, as Netdata shows it).
pub(super) fn strip_quotes(s: &str) -> String {
    s.replace(['\'', '"'], " ")
}

/// Netdata's `simple_pattern_trim_around_equal` for `host labels`: spaces next to `=` go.
pub(super) fn trim_around_equal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            // Look past this run of spaces: drop it if an `=` follows.
            let mut run = 1;
            while chars.peek() == Some(&' ') {
                chars.next();
                run += 1;
            }
            if chars.peek() != Some(&'=') && !out.ends_with('=') {
                out.extend(std::iter::repeat_n(' ', run));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// C's `isspace` in the "C" locale.
pub(super) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// The first word of `s` and what follows it, whitespace around them skipped.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches(is_c_space);
    match s.find(is_c_space) {
        Some(end) => (&s[..end], s[end..].trim_start_matches(is_c_space)),
        None => (s, ""),
    }
}

/// Byte offset of `needle` (ASCII) in `hay`, ignoring ASCII case.
fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}
