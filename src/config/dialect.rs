//! One line of Netdata's INI dialect.
//!
//! A line is blank, a comment (first non-blank character `#` or `;`), a `[section]` header,
//! or `name = value` split at the first `=`, both sides trimmed; names may hold spaces and
//! values are kept verbatim (a `#` inside a value is part of it). Anything else is an error
//! message for the caller to report with the line's position.

/// Lines longer than this many bytes are refused.
pub const MAX_LINE_BYTES: usize = 4096;

/// What one line says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    Blank,
    Section(&'a str),
    Entry { name: &'a str, value: &'a str },
}

/// Reads one line (without its `\n`; a trailing `\r` is ignored).
pub(crate) fn line(text: &str) -> Result<Line<'_>, String> {
    if text.len() > MAX_LINE_BYTES {
        return Err(format!("line is longer than {MAX_LINE_BYTES} bytes (ignored)"));
    }
    let t = text.trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
        return Ok(Line::Blank);
    }
    if let Some(inner) = t.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            return Err(format!("section header without ']': {t:?}"));
        };
        let name = inner[..end].trim();
        if name.is_empty() {
            return Err("empty section name".to_string());
        }
        let rest = inner[end + 1..].trim();
        if !rest.is_empty() && !rest.starts_with('#') && !rest.starts_with(';') {
            return Err(format!("text after section header [{name}]: {rest:?}"));
        }
        return Ok(Line::Section(name));
    }
    let Some((name, value)) = t.split_once('=') else {
        return Err(format!("line has no '=': {t:?} (ignored)"));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("line has no key name before '=': {t:?} (ignored)"));
    }
    Ok(Line::Entry { name, value: value.trim() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(name: &'a str, value: &'a str) -> Result<Line<'a>, String> {
        Ok(Line::Entry { name, value })
    }

    #[test]
    fn names_with_spaces_and_values_with_equals() {
        assert_eq!(line("update every = 1"), entry("update every", "1"));
        assert_eq!(line("\t/proc/net/dev = yes"), entry("/proc/net/dev", "yes"));
        assert_eq!(
            line("bind to = *=streaming ::1=dashboard"),
            entry("bind to", "*=streaming ::1=dashboard")
        );
        assert_eq!(line("x-frame-options response header ="), entry("x-frame-options response header", ""));
        assert_eq!(line("a=b"), entry("a", "b"));
    }

    #[test]
    fn hash_inside_a_value_is_kept() {
        assert_eq!(line("hostname = box # the router"), entry("hostname", "box # the router"));
    }

    #[test]
    fn comments_and_blanks() {
        assert_eq!(line(""), Ok(Line::Blank));
        assert_eq!(line("   \t"), Ok(Line::Blank));
        assert_eq!(line("# update every = 1"), Ok(Line::Blank));
        assert_eq!(line("\t# mode = ram"), Ok(Line::Blank));
        assert_eq!(line("; old style"), Ok(Line::Blank));
        assert_eq!(line("\r"), Ok(Line::Blank));
    }

    #[test]
    fn crlf_is_trimmed() {
        assert_eq!(line("mode = ram\r"), entry("mode", "ram"));
        assert_eq!(line("[db]\r"), Ok(Line::Section("db")));
    }

    #[test]
    fn section_headers() {
        assert_eq!(line("[global]"), Ok(Line::Section("global")));
        assert_eq!(line("  [ plugin:proc:/proc/net/dev ]  "), Ok(Line::Section("plugin:proc:/proc/net/dev")));
        assert_eq!(line("[db] # comment"), Ok(Line::Section("db")));
        assert!(line("[db").unwrap_err().contains("without ']'"));
        assert!(line("[]").is_err());
        assert!(line("[db] junk").is_err());
    }

    #[test]
    fn bad_lines() {
        assert_eq!(line("foo bar"), Err("line has no '=': \"foo bar\" (ignored)".to_string()));
        assert!(line(" = value").is_err());
        let long = format!("name = {}", "x".repeat(MAX_LINE_BYTES));
        assert!(line(&long).unwrap_err().contains("longer than 4096"));
        let fits = format!("n = {}", "x".repeat(MAX_LINE_BYTES - 4));
        assert!(line(&fits).is_ok());
    }
}
