//! Badge colours as Netdata 1.37 takes them: the shields.io names (`green`, `brightgreen`,
//! `yellow`, `yellowgreen`, `orange`, `red`, `blue`, `grey`/`gray`,
//! `lightgrey`/`lightgray`) or 3 or 6 hex digits without the `#` (a `#` cannot be sent
//! unencoded in a URL, and Netdata refuses an encoded one too). Anything else is replaced by
//! the part's default.
//!
//! `value_color` may also choose by the value: `COLOR[OP VALUE]|COLOR[OP VALUE]|…` with
//! `OP` one of `<` `<=` `>` `>=` `=` `:` `!=` (`{` `(` are `<`, `}` `)` are `>`), `VALUE` a
//! whole number or `null`/nothing (no value). The first entry whose condition holds — or
//! that has none — wins; when none does, the last one read does.

/// The default colour of the label's background.
pub const LABEL: &str = "555";
/// The default colour of the value's background: a value, and no value.
pub const VALUE: &str = "4c1";
pub const NO_VALUE: &str = "999";
/// The default text colour.
pub const TEXT: &str = "fff";

/// The hex digits of a shields.io colour name.
pub fn named(name: &str) -> Option<&'static str> {
    Some(match name {
        "green" => "97CA00",
        "brightgreen" => "4c1",
        "yellow" => "dfb317",
        "yellowgreen" => "a4a61d",
        "orange" => "fe7d37",
        "red" => "e05d44",
        "blue" => "007ec6",
        "grey" | "gray" => "555",
        "lightgrey" | "lightgray" => "9f9f9f",
        _ => return None,
    })
}

/// `#` and the hex digits `text` names, or `fallback`'s when it names none.
pub fn resolve(text: &str, fallback: &str) -> String {
    if let Some(hex) = named(text) {
        return format!("#{hex}");
    }
    if matches!(text.len(), 3 | 6) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return format!("#{text}");
    }
    format!("#{fallback}")
}

/// The colour text of the `value_color` entry chosen for `value` (NaN: no value). A chosen
/// entry without a colour part stands for the whole `spec` (which then names no colour).
pub fn pick(spec: &str, value: f64) -> &str {
    // A trailing `|` ends the list without adding an empty entry.
    let list = spec.strip_suffix('|').unwrap_or(spec);
    let mut chosen = "";
    for entry in list.split('|') {
        let (color, test) = parse_entry(entry);
        chosen = color;
        match test {
            None => break,
            Some((op, bound)) if op.holds(value, bound) => break,
            Some(_) => {}
        }
    }
    if chosen.is_empty() {
        spec
    } else {
        chosen
    }
}

/// A comparison of `value_color`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    /// Whether `value` `self` `bound` holds; two missing values are equal to each other
    /// under every operator, and a missing value compares with no number.
    pub fn holds(self, value: f64, bound: f64) -> bool {
        if value.is_nan() || bound.is_nan() {
            return value.is_nan() && bound.is_nan();
        }
        match self {
            Op::Lt => value < bound,
            Op::Le => value <= bound,
            Op::Gt => value > bound,
            Op::Ge => value >= bound,
            Op::Eq => value == bound,
            Op::Ne => value != bound,
        }
    }
}

/// Splits one entry into its colour and its condition (operator, bound). The colour is the
/// text before the first operator; the bound is the text after the operators, read as a
/// whole number as Netdata's `str2l` reads it (`1.9` is 1, `abc` is 0), or NaN when empty
/// or `null`.
pub fn parse_entry(entry: &str) -> (&str, Option<(Op, f64)>) {
    let bytes = entry.as_bytes();
    let mut op = None;
    let mut color_end = entry.len();
    let mut bound = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let next_is_eq = bytes.get(i + 1) == Some(&b'=');
        let found = match bytes[i] {
            b'!' => Some(Op::Ne),
            b'=' | b':' => Some(Op::Eq),
            b'>' | b')' | b'}' => Some(if next_is_eq { Op::Ge } else { Op::Gt }),
            b'<' | b'(' | b'{' => Some(if next_is_eq { Op::Le } else { Op::Lt }),
            _ => None,
        };
        match found {
            Some(o) => {
                if op.is_none() {
                    color_end = i;
                }
                op = Some(o);
                if next_is_eq {
                    i += 1;
                }
            }
            None if op.is_some() => bound.push(char::from(bytes[i])),
            None => {}
        }
        i += 1;
    }
    let color = &entry[..color_end];
    let test = op.map(|o| {
        let b = if bound.is_empty() || bound == "null" { f64::NAN } else { leading_integer(&bound) as f64 };
        (o, b)
    });
    (color, test)
}

/// The integer at the start of `s` (after blanks, with a sign), 0 when there is none,
/// saturating: how Netdata reads a number parameter (`str2l`).
pub fn leading_integer(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}
