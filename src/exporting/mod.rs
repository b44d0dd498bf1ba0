//! Exporting to time-series databases (issue 15): what Netdata 1.37's exporting engine
//! sends, computed and written the same way.
//!
//! - [`source`] reads one chart for one export: the raw `as collected` integers, or the
//!   `average`/`sum` of what was stored since the previous export (protocol.md §10's window).
//! - [`names`] is Netdata's sanitising of metric names and label values.
//! - [`format`] turns what [`source`] reads into the wire text of each connector (graphite,
//!   opentsdb telnet and http, json plaintext and http) in a reusable buffer, and holds the
//!   `send hosts matching` / `send charts matching` filters.
//! - [`remote_write`] is the Prometheus remote-write connector.
//! - [`engine`] runs the instances: one thread each, the schedule, delivery with retries
//!   and a bounded backlog, the self-monitoring charts.

pub mod engine;
pub mod format;
pub mod names;
pub mod remote_write;
pub mod source;

pub use engine::{start, Context, Counters, Running};
