//! Answers of a backend to the exporting connectors (`net::http_client::parse_response`):
//! any bytes, handed out in pieces of any size, give an answer or an error — never a panic —
//! and the body kept is never longer than the client's limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::net::http_client::parse_response;

const MAX_BODY: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let step = usize::from(first % 32) + 1;
    let method = if first & 0x80 != 0 { "HEAD" } else { "POST" };
    if let Ok((response, _keep)) = parse_response(rest, step, method, MAX_BODY) {
        assert!(response.body.len() <= MAX_BODY, "a body of {} bytes", response.body.len());
        assert!((200..600).contains(&response.status), "status {}", response.status);
    }
});
