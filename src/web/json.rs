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

/// The number formatting shared by every text format.
pub fn fmt_number(out: &mut String, v: f64) {
    if v == v.trunc() && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
        return;
    }
    // Rounded to 7 decimals, then the shortest representation (no trailing zeros).
    let r = (v * 1e7).round() / 1e7;
    if r == 0.0 {
        out.push('0');
    } else if r.abs() >= 1e15 {
        let _ = write!(out, "{}", r as i64);
    } else {
        let _ = write!(out, "{r}");
    }
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

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        str(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
