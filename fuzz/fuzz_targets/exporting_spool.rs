//! Spool files of the exporting backlog (`exporting::engine::backlog::parse`): whatever the
//! disk holds gives the whole records before the damage and a reason, never a panic; every
//! record handed back decompresses to exactly its stated size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::exporting::engine::backlog::parse;

fuzz_target!(|data: &[u8]| {
    let spool = parse(data, "graphite average netdata");
    let mut scratch = Vec::new();
    for e in &spool.entries {
        let bytes = e.bytes(&mut scratch).expect("a record handed back decompresses");
        assert_eq!(bytes.len(), e.len());
    }
});
