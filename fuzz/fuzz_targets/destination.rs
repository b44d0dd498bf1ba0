//! `[stream] destination` lists (`stream::Destination::parse_list`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::stream::Destination;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (good, bad) = Destination::parse_list(&text, 19999);
    for d in &good {
        let _ = format!("{d:?}");
    }
    for word in text.split_whitespace().take(8) {
        let _ = Destination::parse(word, 19999);
    }
    let _ = bad.len();
});
