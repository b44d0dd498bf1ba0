//! The STREAM request head a child sends (`stream::receiver::request::parse`), whole and
//! cut at every point a slow child could stop sending.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::stream::receiver::request::{self, HeadError, MAX_HEAD};

fuzz_target!(|data: &[u8]| {
    let whole = request::parse(data);
    match &whole {
        Ok(Some(p)) => {
            assert!(p.head_len > 0 && p.head_len <= data.len().min(MAX_HEAD));
            assert!(p.unknown.len() <= 32, "unknown parameters are bounded");
            // Parsing is incremental: the head alone parses the same, and any shorter
            // prefix is "not complete yet".
            let again = request::parse(&data[..p.head_len]);
            assert_eq!(again.as_ref().ok(), Some(&whole.as_ref().ok().cloned().flatten()));
            for cut in [p.head_len / 2, p.head_len.saturating_sub(1)] {
                if cut >= 7 {
                    assert_eq!(request::parse(&data[..cut]), Ok(None), "prefix of {cut} bytes");
                }
            }
            if let Ok(r) = &p.request {
                assert!(r.hops >= 1);
                let _ = request::parse_uuid(&r.hostname);
            }
        }
        Ok(None) => assert!(data.len() < MAX_HEAD),
        Err(HeadError::TooLarge) => assert!(data.len() >= MAX_HEAD),
        Err(_) => {}
    }
});
