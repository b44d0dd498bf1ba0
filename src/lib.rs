//! nanodata: a Netdata-compatible monitoring agent small enough for router firmware.
//!
//! The binary (`src/main.rs`) only wires the roles below together; each role is a module
//! with one job. See `../README.md` for the user-facing picture.

pub mod cli;
pub mod clock;
pub mod collectors;
pub mod config;
pub mod daemon;
pub mod db;
pub mod logging;
pub mod plugins;
pub mod protocol;
pub mod rrd;
pub mod simple_pattern;
pub mod stream;
#[cfg(feature = "web")]
pub mod web;

/// Program name used in log lines, the `User-Agent` and `/api/v1/info`.
pub const PROGRAM: &str = "nanodata";
/// Version reported to users (`-v`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What this build contains (`-W buildinfo`).
pub fn build_info() -> String {
    format!(
        "{PROGRAM} v{VERSION}\n  target: {} {} ({}-endian, {}-bit)\n  memory modes: none ram save map\n  collectors: /proc/stat\n",
        std::env::consts::ARCH,
        std::env::consts::OS,
        if cfg!(target_endian = "big") { "big" } else { "little" },
        usize::BITS
    )
}
