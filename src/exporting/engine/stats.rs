//! What each instance did, counted and charted.
//!
//! [`Counters`] are cumulative (since the start) and readable from other threads through
//! [`crate::exporting::Running::counters`]. [`Charts`] puts them on the node's own host after
//! every export, shaped like Netdata's exporting charts (`netdata.exporting_<name>_*`):
//!
//! | chart | dimensions | per export |
//! |---|---|---|
//! | `_metrics` (metrics) | buffered, lost, sent | waiting now; dropped (backlog full or refused); accepted |
//! | `_bytes` (KiB) | buffered, lost, sent, received, held | the same in wire bytes; read back; the memory the backlog holds (waiting batches compressed; nanodata only) |
//! | `_ops` (operations) | write, discard, reconnect, failure, receive | batches accepted; batches dropped; connections opened; failed attempts; answers read |
//! | `_thread_cpu` (milliseconds/s) | user, system | the connector thread's CPU |
//!
//! Nothing is charted on a node without a database (`[db] mode = none`): the counters still
//! count.

use std::sync::Arc;

use crate::clock::USEC_PER_SEC;
use crate::db::MemoryMode;
use crate::rrd::{Algorithm, Chart, ChartMeta, ChartType, DimensionMeta, Host};

/// Everything an instance did since it started. `usize` wraps on 32-bit nodes after 4 GiB
/// of bytes; the charts take differences, which wrap with it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// Batches and metrics made.
    pub made_batches: usize,
    pub made_metrics: usize,
    /// Accepted by the backend.
    pub sent_batches: usize,
    pub sent_metrics: usize,
    pub sent_bytes: usize,
    /// Dropped because the backlog was full (oldest first); `lost_batches` also counts the
    /// exports skipped when the thread fell further behind than the backlog holds.
    pub lost_batches: usize,
    pub lost_metrics: usize,
    pub lost_bytes: usize,
    /// Refused for good by the backend (a 4xx other than 408 and 429).
    pub refused_batches: usize,
    pub refused_metrics: usize,
    pub refused_bytes: usize,
    /// Attempts that will be retried (connection errors, timeouts, 5xx, 429).
    pub failures: usize,
    /// Connections opened.
    pub connects: usize,
    /// Answers read, and their bytes.
    pub responses: usize,
    pub received_bytes: usize,
    /// Waiting in the backlog now.
    pub buffered_batches: usize,
    pub buffered_metrics: usize,
    pub buffered_bytes: usize,
    /// Memory the backlog holds now (waiting batches are compressed).
    pub backlog_memory: usize,
    /// The largest `backlog_memory` seen.
    pub backlog_memory_peak: usize,
}

const TYPE: &str = "netdata";
const PRIORITY: i64 = 130_610;

/// The self-monitoring charts of one instance.
pub struct Charts {
    metrics: Arc<Chart>,
    bytes: Arc<Chart>,
    ops: Arc<Chart>,
    cpu: Arc<Chart>,
    last: Counters,
}

impl Charts {
    /// Defines the charts of instance `name` on `localhost`, updated every `update_every`
    /// seconds; `None` on a node without a database.
    pub fn new(localhost: &Host, name: &str, update_every: u32) -> Option<Charts> {
        if localhost.settings().mode == MemoryMode::None {
            return None;
        }
        let family = format!("exporting_{name}");
        let define = |suffix: &str,
                      title: &str,
                      units: &str,
                      context: &str,
                      order: i64,
                      dims: &[(&str, Algorithm, i64)]| {
            let meta = ChartMeta::new(TYPE, &format!("exporting_{name}_{suffix}"))
                .title(&format!("{title} of exporting instance {name}"))
                .units(units)
                .family(&family)
                .context(context)
                .chart_type(ChartType::Line)
                .priority(PRIORITY + order)
                .update_every(update_every)
                .source("netdata", "exporting");
            let chart = localhost.chart_define(meta);
            for &(id, algorithm, divisor) in dims {
                chart.dimension(DimensionMeta::new(id).algorithm(algorithm).scale(1, divisor));
            }
            chart
        };
        use Algorithm::{Absolute as A, Incremental as I};
        Some(Charts {
            metrics: define(
                "metrics",
                "Metrics",
                "metrics",
                "exporting_buffer",
                0,
                &[("buffered", A, 1), ("lost", A, 1), ("sent", A, 1)],
            ),
            bytes: define(
                "bytes",
                "Data size",
                "KiB",
                "exporting_data_size",
                1,
                &[
                    ("buffered", A, 1024),
                    ("lost", A, 1024),
                    ("sent", A, 1024),
                    ("received", A, 1024),
                    ("held", A, 1024),
                ],
            ),
            ops: define(
                "ops",
                "Operations",
                "operations",
                "exporting_operations",
                2,
                &[
                    ("write", A, 1),
                    ("discard", A, 1),
                    ("reconnect", A, 1),
                    ("failure", A, 1),
                    ("receive", A, 1),
                ],
            ),
            cpu: define(
                "thread_cpu",
                "Thread CPU usage",
                "milliseconds/s",
                "exporting_instance",
                3,
                &[("user", I, 1000), ("system", I, 1000)],
            ),
            last: Counters::default(),
        })
    }

    /// One update at `now` (seconds) with the counters as they are and the thread's CPU
    /// time in microseconds `(user, system)`.
    pub fn update(&mut self, now: i64, c: &Counters, cpu_usec: (i64, i64)) {
        let now_ut = u64::try_from(now).unwrap_or(0).saturating_mul(USEC_PER_SEC);
        let last = self.last;
        let d = |now: usize, before: usize| now.wrapping_sub(before) as i64;
        let set = |chart: &Chart, values: &[i64]| {
            let mut col = chart.begin(now_ut, 0, false);
            for (i, &v) in values.iter().enumerate() {
                col.set(i, v);
            }
            col.end();
        };
        set(
            &self.metrics,
            &[
                c.buffered_metrics as i64,
                d(c.lost_metrics + c.refused_metrics, last.lost_metrics + last.refused_metrics),
                d(c.sent_metrics, last.sent_metrics),
            ],
        );
        set(
            &self.bytes,
            &[
                c.buffered_bytes as i64,
                d(c.lost_bytes + c.refused_bytes, last.lost_bytes + last.refused_bytes),
                d(c.sent_bytes, last.sent_bytes),
                d(c.received_bytes, last.received_bytes),
                c.backlog_memory as i64,
            ],
        );
        set(
            &self.ops,
            &[
                d(c.sent_batches, last.sent_batches),
                d(c.lost_batches + c.refused_batches, last.lost_batches + last.refused_batches),
                d(c.connects, last.connects),
                d(c.failures, last.failures),
                d(c.responses, last.responses),
            ],
        );
        set(&self.cpu, &[cpu_usec.0, cpu_usec.1]);
        self.last = *c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rrd::{HostSettings, Hosts};

    #[test]
    fn the_charts_show_what_happened_per_export() {
        let hosts = Hosts::new(Host::new(
            "g",
            "node",
            HostSettings { mode: MemoryMode::Ram, history: 60, update_every: 1, ..HostSettings::default() },
        ));
        let host = hosts.localhost();
        let mut charts = Charts::new(host, "vm", 1).expect("a node with a database has charts");
        let t0 = 1_700_000_000;
        let mut c = Counters::default();
        charts.update(t0, &c, (0, 0));
        c.sent_metrics = 200;
        c.sent_batches = 1;
        c.sent_bytes = 4096;
        c.lost_metrics = 30;
        c.refused_metrics = 20;
        c.buffered_metrics = 400;
        c.backlog_memory = 10_240;
        c.failures = 2;
        charts.update(t0 + 1, &c, (5_000, 1_000));
        c.sent_metrics = 300;
        charts.update(t0 + 2, &c, (5_500, 1_000));
        let last = |id: &str, dim: usize| {
            let chart = host.chart(id).unwrap_or_else(|| panic!("{id} defined"));
            let points = chart.query(dim, t0 + 1, t0 + 2);
            points.iter().map(|p| p.value).collect::<Vec<_>>()
        };
        assert_eq!(last("netdata.exporting_vm_metrics", 0), vec![Some(400.0), Some(400.0)]);
        assert_eq!(last("netdata.exporting_vm_metrics", 1), vec![Some(50.0), Some(0.0)]);
        assert_eq!(last("netdata.exporting_vm_metrics", 2), vec![Some(200.0), Some(100.0)]);
        assert_eq!(last("netdata.exporting_vm_bytes", 2), vec![Some(4.0), Some(0.0)]);
        assert_eq!(last("netdata.exporting_vm_bytes", 4), vec![Some(10.0), Some(10.0)], "held");
        assert_eq!(last("netdata.exporting_vm_ops", 3), vec![Some(2.0), Some(0.0)]);
        // 500 µs of user CPU in one second: 0.5 ms/s.
        assert_eq!(last("netdata.exporting_vm_thread_cpu", 0)[1], Some(0.5));
        let meta = host.chart("netdata.exporting_vm_ops").unwrap().meta();
        assert_eq!((meta.family.as_str(), meta.context.as_str()), ("exporting_vm", "exporting_operations"));

        let none = Hosts::new(Host::new(
            "n",
            "headless",
            HostSettings { mode: MemoryMode::None, ..HostSettings::default() },
        ));
        assert!(Charts::new(none.localhost(), "vm", 1).is_none());
    }
}
