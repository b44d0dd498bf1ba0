//! Netdata's simple patterns (protocol.md §6): space-separated words with `*` wildcards and
//! `!` negation, tested left to right, first match wins.
//!
//! One implementation for every user: web ACLs, streaming `allow from`, `send charts
//! matching`, allmetrics `filter`, the `dimensions` of a data query. Matching is
//! case-sensitive, greedy and never backtracks, exactly like Netdata's, so a pattern means
//! the same thing to both agents (`a*b*c` is prefix `a`, first `b` after it, suffix `c`).

/// A parsed pattern list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimplePattern {
    words: Vec<Word>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Word {
    negative: bool,
    /// The word split at every `*`; `star_start`/`star_end` say whether it began/ended with one.
    parts: Vec<String>,
    star_start: bool,
    star_end: bool,
}

/// The separators Netdata uses when a caller passes none.
pub const DEFAULT_SEPARATORS: &str = " \t\r\n\x0c\x0b";

impl SimplePattern {
    /// Parses a list with the default separators (whitespace).
    pub fn parse(list: &str) -> SimplePattern {
        SimplePattern::parse_with(list, DEFAULT_SEPARATORS)
    }

    /// Parses a list split on any character of `separators`; `\` escapes the next character.
    pub fn parse_with(list: &str, separators: &str) -> SimplePattern {
        let mut words = Vec::new();
        let mut chars = list.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| separators.contains(*c)) {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            let mut negative = false;
            if chars.peek() == Some(&'!') {
                chars.next();
                negative = true;
            }
            let mut text = String::new();
            // Byte offsets of escaped `*`s, which are literal.
            let mut literal_stars = Vec::new();
            while let Some(&c) = chars.peek() {
                if separators.contains(c) {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(e) = chars.next() {
                        if e == '*' {
                            literal_stars.push(text.len());
                        }
                        text.push(e);
                    }
                    continue;
                }
                text.push(c);
            }
            if text.is_empty() {
                // A lone `!`: Netdata drops it and the next word stays positive.
                continue;
            }
            words.push(Word::new(&text, &literal_stars, negative));
        }
        SimplePattern { words }
    }

    /// True when the list has no words (matches nothing).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// An access list: an empty list allows everyone (Netdata makes no pattern of an empty
    /// list and skips the check); otherwise [`SimplePattern::matches`].
    pub fn allows(&self, s: &str) -> bool {
        self.is_empty() || self.matches(s)
    }

    /// First matching word decides: positive ⇒ true, negative ⇒ false; none ⇒ false.
    pub fn matches(&self, s: &str) -> bool {
        self.decide(s).unwrap_or(false)
    }

    /// Matches a client address as text; a loopback address also matches the word
    /// `localhost` (nanodata does no reverse DNS).
    pub fn matches_ip(&self, ip: std::net::IpAddr) -> bool {
        let ip = ip.to_canonical();
        if let Some(d) = self.decide(&ip.to_string()) {
            return d;
        }
        ip.is_loopback() && self.matches("localhost")
    }

    /// `Some(true/false)` when a word matched (positive/negative), `None` when none did.
    pub fn decide(&self, s: &str) -> Option<bool> {
        if s.is_empty() {
            return None;
        }
        self.words.iter().find(|w| w.matches(s)).map(|w| !w.negative)
    }
}

impl Word {
    fn new(text: &str, literal_stars: &[usize], negative: bool) -> Word {
        let mut parts = vec![String::new()];
        for (i, c) in text.char_indices() {
            if c == '*' && !literal_stars.contains(&i) {
                parts.push(String::new());
            } else if let Some(last) = parts.last_mut() {
                last.push(c);
            }
        }
        let star_start = parts.len() > 1 && parts[0].is_empty();
        let star_end = parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty());
        parts.retain(|p| !p.is_empty());
        Word { negative, parts, star_start, star_end }
    }

    fn matches(&self, s: &str) -> bool {
        if self.parts.is_empty() {
            return self.star_start || self.star_end; // `*`
        }
        let n = self.parts.len();
        let mut rest = s;
        for (i, part) in self.parts.iter().enumerate() {
            let first = i == 0;
            let last = i == n - 1;
            if first && !self.star_start {
                // Prefix (or exact when it is also the last part without a trailing star).
                if last && !self.star_end {
                    return rest == part;
                }
                match rest.strip_prefix(part.as_str()) {
                    Some(r) => rest = r,
                    None => return false,
                }
            } else if last && !self.star_end {
                // Suffix: must be last, no backtracking.
                return rest.ends_with(part.as_str());
            } else {
                // Substring: first occurrence.
                match rest.find(part.as_str()) {
                    Some(at) => rest = &rest[at + part.len()..],
                    None => return false,
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_prefix_suffix_substring() {
        let p = SimplePattern::parse("abc");
        assert!(p.matches("abc") && !p.matches("abcd") && !p.matches("xabc"));
        let p = SimplePattern::parse("abc*");
        assert!(p.matches("abc") && p.matches("abcd") && !p.matches("xabc"));
        let p = SimplePattern::parse("*abc");
        assert!(p.matches("abc") && p.matches("xabc") && !p.matches("abcx"));
        let p = SimplePattern::parse("*abc*");
        assert!(p.matches("xxabcxx") && !p.matches("ab"));
        assert!(SimplePattern::parse("*").matches("anything"));
    }

    #[test]
    fn inner_stars_chain_without_backtracking() {
        let p = SimplePattern::parse("a*b*c");
        assert!(p.matches("abc") && p.matches("axxbyyc") && !p.matches("axxbyy"));
        // Greedy first occurrence, like Netdata: the suffix must close the string.
        assert!(p.matches("abbc"));
        let p = SimplePattern::parse("*x*y");
        assert!(p.matches("1x2y") && !p.matches("1y2x"));
    }

    #[test]
    fn first_match_wins_and_negatives_exclude() {
        let p = SimplePattern::parse("!foo* *");
        assert!(!p.matches("foobar") && p.matches("bar"));
        let p = SimplePattern::parse("* !foo*");
        assert!(p.matches("foobar"), "the earlier positive word wins");
        let p = SimplePattern::parse("10.* !10.1.* 192.168.*");
        assert!(p.matches("10.1.2.3") && p.matches("192.168.1.1") && !p.matches("172.16.0.1"));
    }

    #[test]
    fn lone_bang_is_dropped_and_next_word_is_positive() {
        let p = SimplePattern::parse("! foo");
        assert!(p.matches("foo"));
    }

    #[test]
    fn empty_strings_and_empty_lists_never_match() {
        assert!(!SimplePattern::parse("*").matches(""));
        assert!(!SimplePattern::parse("").matches("x"));
        assert!(SimplePattern::parse("  \t ").is_empty());
    }

    #[test]
    fn case_sensitive_and_escapes() {
        assert!(!SimplePattern::parse("ABC").matches("abc"));
        let p = SimplePattern::parse("a\\ b");
        assert!(p.matches("a b"));
        let p = SimplePattern::parse("a\\*");
        assert!(p.matches("a*") && !p.matches("ab"));
    }

    #[test]
    fn custom_separators() {
        let p = SimplePattern::parse_with("user,system|nice", ",| ");
        assert!(p.matches("user") && p.matches("system") && p.matches("nice") && !p.matches("idle"));
    }

    #[test]
    fn decide_reports_no_match_apart_from_a_negative_match() {
        let p = SimplePattern::parse("!a b");
        assert_eq!(p.decide("a"), Some(false));
        assert_eq!(p.decide("b"), Some(true));
        assert_eq!(p.decide("c"), None);
    }
}
