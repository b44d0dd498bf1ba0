//! Threads with an explicit name and stack size, one place for every long-lived thread.
//!
//! Rust's default stack is 2 MiB of address space per thread (glibc's would be 8 MiB). Only
//! the pages a thread touches become resident, so the size is mostly address space, but on a
//! 32-bit router with twenty threads it is not free, and a size chosen per role documents how
//! deep that role goes. The sizes below are several times the depth measured with
//! `bench/smaps.py PID` (each stack's resident pages): a collector 8 KiB in the release build
//! and 24 KiB in the debug build, the sender 24 and 32 KiB.

use std::io;
use std::thread::JoinHandle;

/// A `/proc` collector: short call chains over small frames (8 KiB resident, 24 in debug).
pub const SMALL: usize = 128 * 1024;
/// The stream sender (TLS handshakes, LZ4), plugins.d and its runners, housekeeping and the
/// freeing of a removed host (which save databases): 256 KiB, as these threads had before.
pub const MEDIUM: usize = 256 * 1024;
/// The web server's event loop: Rust's default. miniz_oxide builds its gzip state on the
/// stack before boxing it, which overflows 256 KiB in the debug build.
pub const LARGE: usize = 2 * 1024 * 1024;

/// Starts `f` on a new thread called `name` (as `ps -L` and the log lines show it) with a
/// stack of `stack_bytes` (rounded up to whole pages by the C library; at least 64 KiB).
pub fn spawn<F, T>(name: impl Into<String>, stack_bytes: usize, f: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new().name(name.into()).stack_size(stack_bytes.max(64 * 1024)).spawn(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_thread_runs_and_returns() {
        let h = spawn("t.small", SMALL, || std::thread::current().name().map(str::to_owned)).unwrap();
        assert_eq!(h.join().unwrap().as_deref(), Some("t.small"));
    }

    #[test]
    fn small_stack_holds_a_moderate_frame() {
        // 32 KiB of locals on a SMALL stack: the margin above the measured depth is real.
        let h = spawn("t.frame", SMALL, || {
            let buf = [7u8; 32 * 1024];
            std::hint::black_box(&buf).iter().map(|&b| b as u32).sum::<u32>()
        })
        .unwrap();
        assert_eq!(h.join().unwrap(), 7 * 32 * 1024);
    }
}
