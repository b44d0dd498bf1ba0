//! `[web] bind to` lists (`web::bind::parse`). Names are not resolved here (no DNS).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::web::bind;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(specs) = bind::parse(&text, 19999) {
        for s in &specs {
            let _ = format!("{s:?}");
            let _ = s.ssl.suffix();
            let _ = bind::BindSpec::allows(&s.acl, "dashboard");
            if s.host == "*" || s.host == "localhost" || s.host.parse::<std::net::IpAddr>().is_ok() {
                assert!(!s.resolve().is_empty());
            }
        }
    }
});
