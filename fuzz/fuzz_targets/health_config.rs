//! `health.d` files (`health::config::parse`): any text gives complete entries and errors
//! that point at a line of the input; never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use nanodata::health::config::parse;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    let (entries, errors) = parse(&text, Path::new("/fuzz/x.conf"));
    for e in &entries {
        assert!(!e.name.is_empty() && !e.on.is_empty(), "an entry without a name or an on: {e:?}");
        let line: usize = e.source.split('@').next().and_then(|l| l.parse().ok()).expect("line@path");
        assert!(line >= 1 && line <= lines, "source line {line} of {lines}");
    }
    for e in &errors {
        assert!(e.line <= lines, "error line {} of {lines}: {e}", e.line);
    }
});
