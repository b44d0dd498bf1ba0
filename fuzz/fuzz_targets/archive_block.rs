//! The archive's block codecs (`db::archive`): a stored block from the disk is decoded
//! without panicking or reading past its bytes, and any block of points comes back unchanged
//! from the encoding the archive picks (columns, LZ4 or raw). See `nanodata::db::fuzz_block`
//! for the input's layout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nanodata::db::fuzz_block(data));
