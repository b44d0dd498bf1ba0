//! The line tokenizer (`protocol::Words`, protocol.md §2.1): quotes, `=` as a separator,
//! at most `MAX_WORDS` words.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::protocol::{Words, MAX_WORDS};

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let w = Words::split(&line);
    assert!(w.len() <= MAX_WORDS);
    assert_eq!(w.iter().count(), w.len());
    assert_eq!(w.is_empty(), w.len() == 0);
    for i in 0..=w.len() {
        let word = w.get(i);
        assert_eq!(word.is_some(), i < w.len());
        if let Some(word) = word {
            // Every word is a piece of the line (no copies, no escapes).
            assert!(line.contains(word));
        }
        let _ = w.non_empty(i);
    }
    let _ = w.keyword();
});
