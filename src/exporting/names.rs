//! Netdata's sanitising of what goes on the wire (exporting/process_data.c and the
//! connectors' label sanitisers, Netdata 1.37).
//!
//! Every function appends to a byte buffer, so a batch is written without a temporary
//! string per metric. The rules are byte rules, as Netdata's are: a multi-byte UTF-8
//! character in a chart or dimension name becomes one `_` per byte.

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
    out.extend(
        src.bytes().take(MAX_NAME).map(|b| if b == b'.' || b.is_ascii_alphanumeric() { b } else { b'_' }),
    );
}

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
    for b in src.bytes() {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x1F => out.extend_from_slice(b"\\u001f"),
            _ if b < 0x1F => out.push(b'_'),
            _ => out.push(b),
        }
    }
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
    fn label_values_per_connector() {
        assert_eq!(text(push_graphite_label, "a b;c~d\te=f"), "a_b_c_d_e=f");
        assert_eq!(text(push_opentsdb_label, "x86_64 Linux/5.10-1.é"), "x86_64_Linux/5.10-1.é");
        assert_eq!(text(push_opentsdb_label, "a=b:c"), "a_b_c");
        assert_eq!(text(push_json, "say \"hi\" \\ now\n"), "say \\\"hi\\\" \\\\ now_");
        assert_eq!(text(push_json, "ünï"), "ünï");
    }
}
