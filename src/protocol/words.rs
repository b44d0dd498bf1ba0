//! The tokenizer of the line protocol (protocol.md §2.1).
//!
//! A line splits into at most [`MAX_WORDS`] words. Outside quotes, space, TAB, CR, LF and `=`
//! separate words, and runs of them collapse. A word that starts with `'` or `"` runs to the
//! next identical quote (or the end of the line), so `""` is an empty word that keeps its
//! position. A backslash protects the character after it from being taken as a quote or a
//! separator; both characters stay in the word, because the protocol has no escaping.
//! Words past the twentieth are dropped.
//!
//! Every separator and quote is ASCII, so words are always cut on character boundaries of
//! the `&str` they borrow from: the tokenizer never allocates.

/// Words kept per line; more are dropped, as Netdata does.
pub const MAX_WORDS: usize = 20;

/// The words of one line, borrowed from it.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    words: [&'a str; MAX_WORDS],
    len: usize,
}

impl<'a> Words<'a> {
    /// Splits `line` by the rules of the module documentation.
    pub fn split(line: &'a str) -> Words<'a> {
        let bytes = line.as_bytes();
        let mut words = Words { words: [""; MAX_WORDS], len: 0 };
        let mut i = skip_separators(bytes, 0);
        while i < bytes.len() && words.len < MAX_WORDS {
            let (start, end, next) = match bytes[i] {
                q @ (b'"' | b'\'') => {
                    let start = i + 1;
                    let mut j = start;
                    loop {
                        match bytes.get(j) {
                            None => break (start, j, j),
                            Some(b'\\') if j + 1 < bytes.len() => j += 2,
                            Some(&c) if c == q => break (start, j, j + 1),
                            Some(_) => j += 1,
                        }
                    }
                }
                _ => {
                    let mut j = i;
                    loop {
                        match bytes.get(j) {
                            None => break (i, j, j),
                            Some(b'\\') if j + 1 < bytes.len() => j += 2,
                            Some(&c) if is_separator(c) => break (i, j, j),
                            Some(_) => j += 1,
                        }
                    }
                }
            };
            // A backslash may have skipped the first byte of a multi-byte character; the
            // cut points themselves are always at ASCII bytes or the ends, except when a
            // trailing backslash pair runs past a boundary, which `get` guards against.
            words.words[words.len] = line.get(start..end.min(bytes.len())).unwrap_or("");
            words.len += 1;
            i = skip_separators(bytes, next);
        }
        words
    }

    /// How many words the line has (at most [`MAX_WORDS`]).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Word `i`, or `None` when the line has fewer words ("absent", unlike an empty `""`).
    pub fn get(&self, i: usize) -> Option<&'a str> {
        (i < self.len).then(|| self.words[i])
    }

    /// Word `i` when present and not empty.
    pub fn non_empty(&self, i: usize) -> Option<&'a str> {
        self.get(i).filter(|w| !w.is_empty())
    }

    /// The first word: the keyword.
    pub fn keyword(&self) -> Option<&'a str> {
        self.get(0)
    }

    /// Every word, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.words[..self.len].iter().copied()
    }
}

fn is_separator(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'=')
}

fn skip_separators(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_separator(bytes[i]) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Vec<&str> {
        Words::split(line).iter().collect()
    }

    #[test]
    fn separators_are_space_tab_cr_lf_and_equals_and_runs_collapse() {
        assert_eq!(split("SET a = 1"), ["SET", "a", "1"]);
        assert_eq!(split("  SET\ta\r\n=1  \n"), ["SET", "a", "1"]);
        assert_eq!(split("a==b"), ["a", "b"]);
        assert_eq!(split(""), Vec::<&str>::new());
        assert_eq!(split(" \t=\r\n"), Vec::<&str>::new());
    }

    #[test]
    fn quotes_group_words_and_end_at_the_same_quote() {
        assert_eq!(split(r#"CHART "a b" 'c "d" e'"#), ["CHART", "a b", r#"c "d" e"#]);
        assert_eq!(split(r#""x=y" 'p q'"#), ["x=y", "p q"]);
        // The closing quote ends the word; what follows starts a new one.
        assert_eq!(split(r#""ab"cd"#), ["ab", "cd"]);
        // Quotes inside an unquoted word are literal.
        assert_eq!(split(r#"ab"cd ef'g"#), [r#"ab"cd"#, "ef'g"]);
        // An unterminated quote runs to the end of the line.
        assert_eq!(split(r#"A "open to the end"#), ["A", "open to the end"]);
    }

    #[test]
    fn empty_quoted_words_keep_their_position_and_absent_words_are_none() {
        let w = Words::split(r#"CHART a.b "" '' units"#);
        assert_eq!(w.len(), 5);
        assert_eq!(w.get(2), Some(""));
        assert_eq!(w.get(3), Some(""));
        assert_eq!(w.get(4), Some("units"));
        assert_eq!(w.get(5), None);
        assert_eq!(w.non_empty(2), None);
        assert_eq!(w.non_empty(4), Some("units"));
    }

    #[test]
    fn backslash_is_kept_and_protects_the_next_character() {
        assert_eq!(split(r"a\ b c"), [r"a\ b", "c"]);
        assert_eq!(split(r"a\=b"), [r"a\=b"]);
        assert_eq!(split(r#""a\"b" c"#), [r#"a\"b"#, "c"]);
        assert_eq!(split(r"x\\ y"), [r"x\\", "y"]);
        assert_eq!(split(r"trailing\"), [r"trailing\"]);
        assert_eq!(split("\\é x"), ["\\é", "x"]);
    }

    #[test]
    fn at_most_twenty_words() {
        let line = (0..30).map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
        let w = Words::split(&line);
        assert_eq!(w.len(), MAX_WORDS);
        assert_eq!(w.get(19), Some("19"));
        assert_eq!(w.get(20), None);
    }

    #[test]
    fn keyword_is_the_first_word() {
        assert_eq!(Words::split("  END ").keyword(), Some("END"));
        assert_eq!(Words::split("   ").keyword(), None);
        assert_eq!(Words::split(r#""" x"#).keyword(), Some(""));
    }
}
