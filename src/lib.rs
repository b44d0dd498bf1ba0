//! nanodata: a Netdata-compatible monitoring agent small enough for router firmware.
//!
//! The binary (`src/main.rs`) only wires the roles below together; each role is a module
//! with one job. See `../README.md` for the user-facing picture.

#![deny(unsafe_op_in_unsafe_fn, unused_must_use, rust_2018_idioms)]

pub mod cli;
pub mod clock;
pub mod collectors;
pub mod config;
pub mod daemon;
pub mod db;
#[cfg(any(feature = "web", feature = "exporting"))]
pub(crate) mod digits;
#[cfg(feature = "exporting")]
pub mod exporting;
#[cfg(feature = "health")]
pub mod health;
pub mod logging;
pub mod net;
pub mod plugins;
pub mod protocol;
pub mod query;
pub mod rng;
pub mod rrd;
pub mod simple_pattern;
pub mod stream;
pub mod sys;
#[cfg(feature = "web")]
pub mod web;

/// Program name used in log lines, the `User-Agent` and `/api/v1/info`.
pub const PROGRAM: &str = "nanodata";
/// Version reported to users (`-v`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What this build contains (`-W buildinfo`), see [`cli::build_info`].
pub fn build_info() -> String {
    cli::build_info()
}
