//! One protocol line parsed into a typed command (`protocol::Command::parse`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::protocol::{Command, Words};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n') {
        let w = Words::split(line);
        if w.is_empty() {
            continue;
        }
        match Command::parse(&w) {
            Ok(Command::Chart(def)) => {
                let _ = def.full_id();
            }
            Ok(Command::Dimension(d)) => {
                assert!(d.multiplier != 0 && d.divisor != 0, "0 becomes 1");
            }
            Ok(c) => {
                let _ = format!("{c:?}");
            }
            Err(e) => assert!(!e.message.is_empty()),
        }
    }
});
