//! Health: alarms for every host this node holds (its own and its children's).
//!
//! - [`config`] reads Netdata's `health.d` files (stock and user directories) into
//!   [`config::AlarmConfig`] entries;
//! - [`expr`] parses and evaluates the `calc`, `warn` and `crit` expressions with Netdata's
//!   semantics (NaN, inf, precedence, variables);
//! - the engine (one health thread) binds entries to charts, evaluates them on their
//!   schedule through the query engine, turns results into statuses with delay and repeat,
//!   keeps the alarm log and hands notifications to a bounded queue.

pub mod config;
pub mod engine;
pub mod expr;

pub use engine::{AlarmView, Counts, Health, LogEntry, Running, Status};

/// The entries of the stock and user `health.d` directories (errors logged).
pub fn load_config(dirs: &config::Dirs) -> Vec<config::AlarmConfig> {
    config::load(dirs)
}
