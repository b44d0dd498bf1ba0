//! Simple patterns (`simple_pattern::SimplePattern`): the list is the first line of the
//! input, the words to match are the following lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::simple_pattern::SimplePattern;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let list = lines.next().unwrap_or("");
    let p = SimplePattern::parse(list);
    let q = SimplePattern::parse_with(list, "|");
    for s in lines.take(16).chain([list, "", "*"]) {
        let d = p.decide(s);
        assert_eq!(p.matches(s), d == Some(true), "matches is decide == Some(true)");
        let _ = (p.allows(s), q.decide(s), q.matches(s));
    }
    if p.is_empty() {
        assert_eq!(p.decide("anything"), None);
    }
});
