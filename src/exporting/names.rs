//! Netdata's sanitising of what goes on the wire (exporting/process_data.c and the
//! connectors' label sanitisers, Netdata 1.37).
//!
//! Every function appends to a byte buffer, so a batch is written without a temporary
//! string per metric. The rules are byte rules, as Netdata's are: a multi-byte UTF-8
//! character in a chart or dimension name becomes one `_` per byte.
//!
//! Host labels go through two steps in Netdata: `rrdlabels_add` sanitises a label's name
//! and value when the label is stored ([`label_name`], [`label_value`]), then each connector
//! sanitises the stored value its own way. nanodata stores labels as configured or
//! received, so the exporters do the first step too.

use crate::rrd::{ChartMeta, DimensionMeta};

/// Longest chart or dimension name written, in bytes (Netdata's `RRD_ID_LENGTH_MAX`).
pub const MAX_NAME: usize = 200;

/// Which of a chart's or dimension's identities names the metric (`send names instead of
/// ids`; Netdata's default is names).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum NameSource {
    Ids,
    #[default]
    Names,
}

impl NameSource {
    /// The chart's name or id.
    pub fn chart(self, meta: &ChartMeta) -> &str {
        match self {
            NameSource::Names if !meta.name.is_empty() => &meta.name,
            _ => &meta.id,
        }
    }

    /// The dimension's name or id.
    pub fn dimension(self, meta: &DimensionMeta) -> &str {
        match self {
            NameSource::Names if !meta.name.is_empty() => &meta.name,
            _ => &meta.id,
        }
    }
}

/// Appends `src` as a metric name part: every byte that is not an ASCII letter, digit or
/// `.` becomes `_`; at most [`MAX_NAME`] bytes.
pub fn push_name(out: &mut Vec<u8>, src: &str) {
    let src = &src.as_bytes()[..src.len().min(MAX_NAME)];
    let keep = |b: &u8| NAME_BYTE[usize::from(*b)];
    // Most names need nothing changed: one copy.
    match src.iter().position(|b| !keep(b)) {
        None => out.extend_from_slice(src),
        Some(first) => {
            out.extend_from_slice(&src[..first]);
            out.extend(src[first..].iter().map(|b| if keep(b) { *b } else { b'_' }));
        }
    }
}

/// The bytes a metric name part keeps: ASCII letters, digits and `.`.
static NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c == b'.' || c.is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// [`push_name`] into a new string.
pub fn name(src: &str) -> String {
    let mut out = Vec::with_capacity(src.len().min(MAX_NAME));
    push_name(&mut out, src);
    // Only ASCII bytes were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends a graphite label value: white space, `;` and `~` become `_` (the tag
/// separators of graphite's plaintext protocol).
pub fn push_graphite_label(out: &mut Vec<u8>, src: &str) {
    out.extend(src.bytes().map(|b| if is_c_space(b) || b == b';' || b == b'~' { b'_' } else { b }));
}

/// Appends an OpenTSDB tag value: ASCII letters and digits, `-`, `.`, `/` and the bytes of
/// UTF-8 characters are kept, everything else becomes `_`.
pub fn push_opentsdb_label(out: &mut Vec<u8>, src: &str) {
    out.extend(src.bytes().map(|b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'/') || b & 0x80 != 0 {
            b
        } else {
            b'_'
        }
    }));
}

/// Appends a JSON string body: `"` and `\` escaped, control characters below 0x1F made `_`
/// (Netdata's `sanitize_json_string`; 0x1F itself is escaped here, so the output is always
/// valid JSON). UTF-8 characters are kept, as Netdata keeps them where `char` is unsigned
/// (ARM, MIPS).
pub fn push_json(out: &mut Vec<u8>, src: &str) {
    // Most strings need nothing escaped: one copy.
    if !src.bytes().any(|b| b == b'"' || b == b'\\' || b <= 0x1F) {
        out.extend_from_slice(src.as_bytes());
        return;
    }
    for b in src.bytes() {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x1F => out.extend_from_slice(b"\\u001f"),
            _ if b < 0x1F => out.push(b'_'),
            _ => out.push(b),
        }
    }
}

/// Longest host label name Netdata 1.37 stores, in bytes.
pub const MAX_LABEL_NAME: usize = 199;
/// Longest host label value Netdata 1.37 stores, in bytes.
pub const MAX_LABEL_VALUE: usize = 799;

/// A host label's name as Netdata 1.37 stores it: the rule of [`label_value`], but capitals
/// made lower case, `= : + ; @ ( )` and spaces made `_`, and a UTF-8 character made `__`.
/// Empty when nothing but `_` is left: Netdata then drops the label.
pub fn label_name(src: &str) -> String {
    let map = |b: u8| match b {
        b'A'..=b'Z' => b.to_ascii_lowercase(),
        b'=' | b':' | b'+' | b';' | b'@' | b'(' | b')' | b' ' => b'_',
        _ => label_value_byte(b),
    };
    sanitize_label(src, MAX_LABEL_NAME, map, false).unwrap_or_default()
}

/// A host label's value as Netdata 1.37 stores it: ASCII letters, digits, space and
/// `( ) + - . / : @ _` kept, `,` → `.`, `;` and `=` → `:`, `\` → `/`, any other byte `_`;
/// UTF-8 characters kept; leading and trailing white space dropped, a run of white space or
/// control characters written once; `[none]` when nothing but `_` is left.
///
/// Netdata sanitises a label again when a child's labels reach a parent, and so does a
/// value exported here that a Netdata child sent: the result is the same, `[none]` aside
/// (it becomes `_none_` on a Netdata parent too).
pub fn label_value(src: &str) -> String {
    sanitize_label(src, MAX_LABEL_VALUE, label_value_byte, true).unwrap_or_else(|| "[none]".to_owned())
}

/// Netdata 1.37's `label_values_char_map`.
fn label_value_byte(b: u8) -> u8 {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => b,
        b' ' | b'(' | b')' | b'+' | b'-' | b'.' | b'/' | b':' | b'@' | b'_' => b,
        b',' => b'.',
        b';' | b'=' => b':',
        b'\\' => b'/',
        _ => b'_',
    }
}

/// Netdata's `text_sanitize`: `map` applied to each byte, white space, control and
/// non-printable bytes ("spaces") written once per run and never first or last, a UTF-8
/// character copied (`utf`) or made `_`, at most `max` bytes (never a split character).
/// `None` when nothing but `_` is left.
fn sanitize_label(src: &str, max: usize, map: impl Fn(u8) -> u8, utf: bool) -> Option<String> {
    let src = src.as_bytes();
    // C stops at a NUL.
    let src = &src[..src.iter().position(|&b| b == 0).unwrap_or(src.len())];
    let mut out = Vec::with_capacity(src.len().min(max));
    let mut last_is_space = true;
    let mut i = 0;
    while i < src.len() && out.len() < max {
        let c = src[i];
        if c & 0xC0 == 0xC0 && src.get(i + 1).is_some_and(|b| b & 0x80 != 0) && out.len() + 2 < max {
            let mut size = 2;
            while size < 4 && src.get(i + size).is_some_and(|b| b & 0xC0 == 0x80) {
                size += 1;
            }
            if utf {
                if out.len() + size > max {
                    break;
                }
                out.extend_from_slice(&src[i..i + size]);
                i += size;
            } else {
                // Netdata writes `_` and leaves the last byte, a "space", to the next round.
                out.push(b'_');
                i += size - 1;
            }
            last_is_space = false;
            continue;
        }
        let space = c <= b' ' || c >= 0x7F;
        if !space || !last_is_space {
            out.push(map(c));
        }
        last_is_space = space;
        i += 1;
    }
    if last_is_space {
        out.pop();
    }
    if out.iter().all(|&b| b == b'_') {
        return None;
    }
    // Only whole UTF-8 characters and ASCII bytes were written.
    String::from_utf8(out).ok()
}

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: fn(&mut Vec<u8>, &str), s: &str) -> String {
        let mut out = Vec::new();
        f(&mut out, s);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn names_keep_only_alnum_and_dots() {
        assert_eq!(name("system.cpu"), "system.cpu");
        assert_eq!(name("disk_space./var/lib"), "disk_space._var_lib");
        assert_eq!(name("net.eth0-1 x:y"), "net.eth0_1_x_y");
        // Byte rule: 'é' is two bytes, two underscores.
        assert_eq!(name("café"), "caf__");
        assert_eq!(name(&"a".repeat(300)).len(), MAX_NAME);
    }

    #[test]
    fn names_or_ids() {
        let chart = ChartMeta::new("disk", "sda");
        let mut named = chart.clone();
        named.name = "disk.root".into();
        let dim = DimensionMeta::new("reads").name("read ops");
        assert_eq!(NameSource::Names.chart(&named), "disk.root");
        assert_eq!(NameSource::Ids.chart(&named), "disk.sda");
        assert_eq!(NameSource::Names.chart(&chart), "disk.sda");
        assert_eq!(NameSource::Names.dimension(&dim), "read ops");
        assert_eq!(NameSource::Ids.dimension(&dim), "reads");
        assert_eq!(NameSource::default(), NameSource::Names);
    }

    #[test]
    fn label_names_and_values_as_netdata_stores_them() {
        // Seen from Netdata 1.37.1's own exports of these `[host labels]`.
        assert_eq!(label_value("lab one;a~b"), "lab one:a_b");
        assert_eq!(label_value("r=2/x"), "r:2/x");
        assert_eq!(label_value("a,b\\c\"d{e|f}g  h é!<>?*&%$#^`'"), "a.b/c_d_e_f_g h é____________");
        assert_eq!(label_value("(v)+@[w]"), "(v)+@_w_");
        assert_eq!(label_value("  lead  trail é  "), "lead trail é");
        assert_eq!(label_value("a\t\tb"), "a_b");
        assert_eq!(label_value("x\u{7f}"), "x");
        assert_eq!(label_value("'it''s' \"x\""), "_it__s_ _x_");
        assert_eq!(label_value("[none]"), "_none_");
        assert_eq!(label_value("~~"), "[none]");
        assert_eq!(label_value(""), "[none]");
        assert_eq!(label_name("Odd+Name@(x):y;z"), "odd_name__x__y_z");
        assert_eq!(label_name("Caps Name"), "caps_name");
        // A UTF-8 character is `_` and a "space" (its last byte): the space after it goes,
        // and at the end one `_` of the two.
        assert_eq!(label_name("Ünï xé"), "__n__x_");
        assert_eq!(label_name("@@"), "");
        assert_eq!(label_name("room"), "room");
        // Netdata keeps 199 bytes of a name and 799 of a value.
        assert_eq!(label_name(&"n".repeat(300)).len(), MAX_LABEL_NAME);
        assert_eq!(label_value(&"v".repeat(1000)).len(), MAX_LABEL_VALUE);
        // A character that does not fit whole is left out.
        assert_eq!(label_value(&format!("{}é", "v".repeat(MAX_LABEL_VALUE - 1))).len(), MAX_LABEL_VALUE - 1);
        // Stored values sanitised again stay the same.
        for v in ["lab one:a_b", "r:2/x", "a.b/c_d_e_f_g h é____________", "_it__s_ _x_"] {
            assert_eq!(label_value(v), v);
        }
    }

    #[test]
    fn label_values_per_connector() {
        assert_eq!(text(push_graphite_label, "a b;c~d\te=f"), "a_b_c_d_e=f");
        assert_eq!(text(push_opentsdb_label, "x86_64 Linux/5.10-1.é"), "x86_64_Linux/5.10-1.é");
        assert_eq!(text(push_opentsdb_label, "a=b:c"), "a_b_c");
        assert_eq!(text(push_json, "say \"hi\" \\ now\n"), "say \\\"hi\\\" \\\\ now_");
        assert_eq!(text(push_json, "ünï"), "ünï");
    }
}
