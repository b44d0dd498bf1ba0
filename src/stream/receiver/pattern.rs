//! Netdata's simple patterns (protocol.md §6), for `allow from` and `allow streaming from`.
//!
//! nanodata had no shared implementation when this was written (only private globs in
//! `stream/mod.rs` and `collectors/net_dev.rs`), so this is the receiver's own; it follows
//! §6 fully: separators space, TAB, CR, LF, FF, VT; `\` escapes the next character; `!`
//! negates; `*` anywhere, matched greedily left to right without backtracking; first
//! matching word wins; case-sensitive; the empty subject never matches.
//!
//! Guarantees: building and matching never panic; matching is linear in the subject per word.

/// A parsed simple pattern list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pattern {
    words: Vec<Word>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Word {
    negative: bool,
    /// The text between `*`s (empty pieces dropped).
    parts: Vec<String>,
    starts_with_star: bool,
    ends_with_star: bool,
}

impl Pattern {
    /// Parses a pattern list. An empty list has no words.
    pub fn new(list: &str) -> Pattern {
        let mut words = Vec::new();
        for raw in split_words(list) {
            let (negative, text) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest.to_string()),
                None => (false, raw),
            };
            if text.is_empty() {
                // A lone `!`: dropped, the next word stays positive.
                continue;
            }
            let parts: Vec<String> = text.split('*').filter(|p| !p.is_empty()).map(str::to_string).collect();
            words.push(Word {
                negative,
                starts_with_star: text.starts_with('*'),
                ends_with_star: text.ends_with('*'),
                parts,
            });
        }
        Pattern { words }
    }

    /// True when the list has no words (Netdata then applies no restriction at all).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// First matching word wins; a negative one means "no"; no match means "no".
    pub fn matches(&self, subject: &str) -> bool {
        if subject.is_empty() {
            return false;
        }
        for w in &self.words {
            if w.matches(subject) {
                return !w.negative;
            }
        }
        false
    }

    /// An access list: an empty pattern allows everyone (Netdata creates no pattern for an
    /// empty list and skips the check), otherwise [`Pattern::matches`].
    pub fn allows(&self, subject: &str) -> bool {
        self.is_empty() || self.matches(subject)
    }
}

impl Word {
    fn matches(&self, s: &str) -> bool {
        if self.parts.is_empty() {
            // `*` (or `**`): anything non-empty.
            return true;
        }
        let last = self.parts.len() - 1;
        let mut rest = s;
        for (i, part) in self.parts.iter().enumerate() {
            let anchored_start = i == 0 && !self.starts_with_star;
            let anchored_end = i == last && !self.ends_with_star;
            if anchored_start && anchored_end {
                return rest == part;
            }
            if anchored_start {
                match rest.strip_prefix(part.as_str()) {
                    Some(r) => rest = r,
                    None => return false,
                }
            } else if anchored_end {
                return rest.ends_with(part.as_str());
            } else {
                match rest.find(part.as_str()) {
                    Some(at) => rest = &rest[at + part.len()..],
                    None => return false,
                }
            }
        }
        true
    }
}

fn split_words(list: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = list.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            ' ' | '\t' | '\r' | '\n' | '\x0c' | '\x0b' => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_a_word() {
        let p = Pattern::new("10.0.0.* *.1 *foo* exact a*b*c");
        assert!(p.matches("10.0.0.7"));
        assert!(p.matches("192.168.1.1"));
        assert!(p.matches("xxfooyy"));
        assert!(p.matches("exact"));
        assert!(!p.matches("exactly"));
        assert!(p.matches("axxbyyc"));
        assert!(!p.matches("axxbyy"));
        assert!(!p.matches("10.0.1.7"));
    }

    #[test]
    fn first_match_wins_and_negatives() {
        let p = Pattern::new("!10.0.0.5 10.0.0.*");
        assert!(!p.matches("10.0.0.5"));
        assert!(p.matches("10.0.0.6"));
        let p = Pattern::new("10.0.0.* !10.0.0.5");
        assert!(p.matches("10.0.0.5"), "the positive word comes first");
        let p = Pattern::new("! 10.*");
        assert!(p.matches("10.1.1.1"), "a lone ! is dropped");
    }

    #[test]
    fn star_empty_escape_case() {
        assert!(Pattern::new("*").matches("anything"));
        assert!(!Pattern::new("*").matches(""), "the empty string never matches");
        assert!(Pattern::new("a\\ b").matches("a b"));
        assert!(!Pattern::new("ABC").matches("abc"));
        let empty = Pattern::new(" \t\n");
        assert!(empty.is_empty() && !empty.matches("x") && empty.allows("x"));
        // No backtracking: the substring takes its first occurrence.
        assert!(Pattern::new("*ab*b").matches("abab"));
        assert!(!Pattern::new("a*ab").matches("ab"));
    }
}
