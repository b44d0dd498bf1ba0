//! nanodata's own footprint, as Netdata's `netdata.*` charts: CPU (`netdata.server_cpu`),
//! uptime (`netdata.uptime`), resident memory (`netdata.memory`) and threads
//! (`netdata.threads`), the CPU of each collector thread (`netdata.workers_cpu`, one
//! dimension per thread, from [`super::workers`]) and, on a streaming node, the use of the
//! sender's buffer and what it sent (`netdata.streaming_buffer`, `netdata.streaming_sent`).
//!
//! CPU comes from `getrusage(2)` (microseconds, so no clock-tick rounding), memory from
//! `/proc/self/statm`, threads from `/proc/self/stat`. The first two charts carry Netdata
//! 1.37's attributes; Netdata 1.37 has no memory or thread chart of its own, so those two
//! follow its conventions with priorities placed between `server_cpu` and `uptime`.

use std::path::PathBuf;
use std::sync::Arc;

use super::workers::Workers;
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::clock::USEC_PER_SEC;
use crate::rrd::{Algorithm, Chart, ChartMeta, ChartType, DimensionMeta, Host};
use crate::sys::mem::page_size;

const PLUGIN: &str = "netdata";
const MODULE: &str = "stats";

/// What the streaming sender reports about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamUse {
    pub buffer_used: u64,
    pub buffer_size: u64,
    /// A wrapping counter of bytes written to the parent.
    pub bytes_sent: u32,
    /// A wrapping counter of collections dropped because the buffer was full.
    pub commits_dropped: u32,
}

/// Where the self-monitoring collector finds the sender, once it is started.
pub type StreamSlot = Arc<parking_lot::Mutex<Option<Box<dyn Fn() -> StreamUse + Send>>>>;

/// The self-monitoring collector.
pub struct SelfStats {
    host: Arc<Host>,
    stat: ProcFile,
    statm: ProcFile,
    update_every: u32,
    started_ut: u64,
    page_size: i64,
    charts: Option<[Arc<Chart>; 4]>,
    workers: Option<Workers>,
    /// `netdata.workers_cpu` and how many workers have a dimension in it.
    workers_chart: Option<(Arc<Chart>, usize)>,
    stream: Option<StreamSlot>,
    stream_charts: Option<[Arc<Chart>; 3]>,
}

impl SelfStats {
    /// `proc_self` is normally `/proc/self`; `started_ut` when the daemon started.
    pub fn new(
        host: Arc<Host>,
        proc_self: impl Into<PathBuf>,
        started_ut: u64,
        update_every: u32,
    ) -> SelfStats {
        let dir = proc_self.into();
        SelfStats {
            host,
            stat: ProcFile::new(dir.join("stat")),
            statm: ProcFile::new(dir.join("statm")),
            update_every: update_every.max(1),
            started_ut,
            page_size: page_size(),
            charts: None,
            workers: None,
            workers_chart: None,
            stream: None,
            stream_charts: None,
        }
    }

    /// Also charts the streaming sender that `slot` will hold.
    pub fn with_stream(mut self, slot: StreamSlot) -> SelfStats {
        self.stream = Some(slot);
        self
    }

    /// `netdata.streaming_buffer` (bytes used and free), `netdata.streaming_sent` (kilobits/s
    /// to the parent) and `netdata.streaming_dropped` (collections lost to a full buffer):
    /// nanodata's own, Netdata 1.37 has no chart of its sender.
    fn streaming(&mut self, now_ut: u64) {
        let Some(slot) = &self.stream else { return };
        let Some(u) = slot.lock().as_ref().map(|f| f()) else { return };
        let charts = self.stream_charts.get_or_insert_with(|| {
            let meta = |id: &str, title: &str, units: &str, chart_type: ChartType, priority: i64| {
                ChartMeta::new("netdata", id)
                    .title(title)
                    .units(units)
                    .family("streaming")
                    .chart_type(chart_type)
                    .priority(priority)
                    .update_every(self.update_every)
                    .source(PLUGIN, MODULE)
            };
            let buffer = self.host.chart_define(meta(
                "streaming_buffer",
                "Netdata Streaming Buffer",
                "bytes",
                ChartType::Stacked,
                130030,
            ));
            buffer.dimension(DimensionMeta::new("used"));
            buffer.dimension(DimensionMeta::new("free"));
            let sent = self.host.chart_define(meta(
                "streaming_sent",
                "Netdata Streaming Sent",
                "kilobits/s",
                ChartType::Line,
                130031,
            ));
            sent.dimension(DimensionMeta::new("sent").algorithm(Algorithm::Incremental).scale(8, 1000));
            let dropped = self.host.chart_define(meta(
                "streaming_dropped",
                "Netdata Streaming Collections Dropped (buffer full)",
                "collections/s",
                ChartType::Line,
                130032,
            ));
            dropped.dimension(DimensionMeta::new("dropped").algorithm(Algorithm::Incremental));
            [buffer, sent, dropped]
        });
        let clamp = |v: u64| v.min(i64::MAX as u64) as i64;
        let mut c = charts[0].begin(now_ut, 0, false);
        c.set(0, clamp(u.buffer_used));
        c.set(1, clamp(u.buffer_size.saturating_sub(u.buffer_used)));
        c.end();
        for (chart, v) in charts[1..].iter().zip([u.bytes_sent, u.commits_dropped]) {
            let mut c = chart.begin(now_ut, 0, false);
            c.set(0, i64::from(v));
            c.end();
        }
    }

    /// Also charts the CPU time of these collector threads.
    pub fn with_workers(mut self, workers: Workers) -> SelfStats {
        self.workers = Some(workers);
        self
    }

    /// `netdata.workers_cpu`: Netdata 1.37's chart of its workers' CPU, a dimension per
    /// collector thread (CPU nanoseconds per second, shown as % of one core).
    fn workers_cpu(&mut self, now_ut: u64) {
        let Some(workers) = &self.workers else { return };
        let n = workers.len();
        if n == 0 {
            return;
        }
        let (chart, known) = self.workers_chart.get_or_insert_with(|| {
            let meta = ChartMeta::new("netdata", "workers_cpu")
                .title("Netdata Workers CPU Utilization (100% = 1 core)")
                .units("%")
                .family("workers")
                .context("netdata.workers.cpu_total")
                .chart_type(ChartType::Stacked)
                .priority(999000)
                .update_every(self.update_every)
                .source(PLUGIN, MODULE);
            (self.host.chart_define(meta), 0)
        });
        while *known < n {
            let Some(w) = workers.get(*known) else { break };
            chart.dimension(
                DimensionMeta::new(w.name()).algorithm(Algorithm::Incremental).scale(1, 10_000_000),
            );
            *known += 1;
        }
        // The tick this collection belongs to, so every worker answers for the same seconds.
        let every = u64::from(self.update_every) * USEC_PER_SEC;
        let tick = now_ut - now_ut % every;
        let mut c = chart.begin(now_ut, 0, false);
        for i in 0..*known {
            if let Some(w) = workers.get(i) {
                c.set(i, w.cpu_before(tick).min(i64::MAX as u64) as i64);
            }
        }
        c.end();
    }

    fn define(&self) -> [Arc<Chart>; 4] {
        let meta = |id: &str, title: &str, units: &str, chart_type: ChartType, priority: i64| {
            ChartMeta::new("netdata", id)
                .title(title)
                .units(units)
                .family("netdata")
                .chart_type(chart_type)
                .priority(priority)
                .update_every(self.update_every)
                .source(PLUGIN, MODULE)
        };
        let h = &self.host;
        let cpu = h.chart_define(meta(
            "server_cpu",
            "Netdata CPU usage",
            "milliseconds/s",
            ChartType::Stacked,
            130000,
        ));
        for id in ["user", "system"] {
            cpu.dimension(DimensionMeta::new(id).algorithm(Algorithm::Incremental).scale(1, 1000));
        }
        let memory = h.chart_define(meta("memory", "Netdata Memory", "bytes", ChartType::Area, 130010));
        memory.dimension(DimensionMeta::new("rss").scale(self.page_size, 1));
        let threads = h.chart_define(meta("threads", "Netdata Threads", "threads", ChartType::Line, 130020));
        threads.dimension(DimensionMeta::new("threads"));
        let uptime = h.chart_define(meta("uptime", "Netdata uptime", "seconds", ChartType::Line, 130100));
        uptime.dimension(DimensionMeta::new("uptime"));
        [cpu, memory, threads, uptime]
    }
}

impl Collector for SelfStats {
    fn name(&self) -> &str {
        "netdata.stats"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let (user, system) = rusage();
        // statm: size resident shared … in pages.
        let rss = self.statm.read()?.split_ascii_whitespace().nth(1).map_or(0, parse_i64);
        // stat: `pid (comm) state …`; comm may hold spaces and parentheses, so count the
        // fields after the last `)`. num_threads is the 20th field, the 18th after it.
        let threads = {
            let text = self.stat.read()?;
            let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
            rest.split_ascii_whitespace().nth(17).map_or(0, parse_i64)
        };
        let uptime = (now_ut.saturating_sub(self.started_ut) / USEC_PER_SEC) as i64;

        if self.charts.is_none() {
            self.charts = Some(self.define());
        }
        let Some(charts) = &self.charts else { return Ok(()) };
        for (chart, values) in charts.iter().zip([&[user, system][..], &[rss], &[threads], &[uptime]]) {
            let mut c = chart.begin(now_ut, 0, false);
            for (i, v) in values.iter().enumerate() {
                c.set(i, *v);
            }
            c.end();
        }
        self.workers_cpu(now_ut);
        self.streaming(now_ut);
        Ok(())
    }
}

/// User and system CPU time of this process, in microseconds.
fn rusage() -> (i64, i64) {
    crate::sys::mem::process_cpu_usec().unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{host, last, Scratch, T0};

    #[test]
    fn footprint_charts() {
        let dir = Scratch::new("selfstats");
        std::fs::write(dir.path("stat"), "4242 (nano data) S 1 4242 4242 0 -1 4194560 1000 0 0 0 12 7 0 0 20 0 9 0 100 5000000 300 18446744073709551615\n").unwrap();
        std::fs::write(dir.path("statm"), "1200 300 200 50 0 400 0\n").unwrap();
        let host = host();
        let mut c = SelfStats::new(Arc::clone(&host), dir.path(""), T0 - 10 * USEC_PER_SEC, 1);
        c.collect(T0).unwrap();
        c.collect(T0 + USEC_PER_SEC).unwrap();
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(ids, ["netdata.server_cpu", "netdata.memory", "netdata.threads", "netdata.uptime"]);
        let cpu = host.chart("netdata.server_cpu").unwrap().meta();
        assert_eq!(
            (cpu.units.as_str(), cpu.priority, cpu.plugin.as_str(), cpu.module.as_str()),
            ("milliseconds/s", 130000, "netdata", "stats")
        );
        let mem = host.chart("netdata.memory").unwrap();
        assert_eq!(last(&mem, 0), (300 * page_size()) as f64);
        assert_eq!(last(&host.chart("netdata.threads").unwrap(), 0), 9.0);
        assert_eq!(last(&host.chart("netdata.uptime").unwrap(), 0), 11.0);
    }

    #[test]
    fn workers_cpu_takes_whole_ticks_of_every_thread() {
        let dir = Scratch::new("selfstats-workers");
        std::fs::write(dir.path("stat"), "1 (n) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 3 0 100 5000000 300 0\n")
            .unwrap();
        std::fs::write(dir.path("statm"), "1200 300 200 50 0 400 0\n").unwrap();
        let base = 1_700_000_000 * USEC_PER_SEC;
        let workers = Workers::default();
        let (a, b) = (workers.register("proc.stat"), workers.register("diskspace"));
        let host = host();
        let mut c = SelfStats::new(Arc::clone(&host), dir.path(""), base, 1).with_workers(workers.clone());
        a.record(base, 0);
        b.record(base, 0);
        c.collect(base + USEC_PER_SEC).unwrap();
        a.record(base + USEC_PER_SEC, 5_000_000);
        b.record(base + USEC_PER_SEC, 20_000_000);
        // proc.stat already collected the next tick when the reader comes: not counted yet.
        a.record(base + 2 * USEC_PER_SEC, 900_000_000);
        c.collect(base + 2 * USEC_PER_SEC).unwrap();
        let chart = host.chart("netdata.workers_cpu").expect("workers chart");
        let meta = chart.meta();
        assert_eq!(
            (meta.units.as_str(), meta.context.as_str(), meta.priority, meta.family.as_str()),
            ("%", "netdata.workers.cpu_total", 999000, "workers")
        );
        assert_eq!(chart.dimension_index("proc.stat"), Some(0));
        assert!((last(&chart, 0) - 0.5).abs() < 1e-6, "5 ms in a second: {}", last(&chart, 0));
        assert!((last(&chart, 1) - 2.0).abs() < 1e-6, "20 ms in a second: {}", last(&chart, 1));
        // A thread started later gets its dimension on the next collection.
        workers.register("proc.uptime");
        c.collect(base + 3 * USEC_PER_SEC).unwrap();
        assert_eq!(chart.dimension_index("proc.uptime"), Some(2));
    }

    #[test]
    fn streaming_charts_appear_once_the_sender_is_there() {
        let dir = Scratch::new("selfstats-stream");
        std::fs::write(dir.path("stat"), "1 (n) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 3 0 100 5000000 300 0\n")
            .unwrap();
        std::fs::write(dir.path("statm"), "1200 300 200 50 0 400 0\n").unwrap();
        let slot: StreamSlot = Arc::default();
        let host = host();
        let mut c = SelfStats::new(Arc::clone(&host), dir.path(""), T0, 1).with_stream(Arc::clone(&slot));
        c.collect(T0).unwrap();
        assert!(host.chart("netdata.streaming_buffer").is_none(), "no sender yet");
        let sent = Arc::new(std::sync::atomic::AtomicU32::new(u32::MAX - 999));
        let reader = Arc::clone(&sent);
        *slot.lock() = Some(Box::new(move || StreamUse {
            buffer_used: 4096,
            buffer_size: 1 << 20,
            bytes_sent: reader.load(std::sync::atomic::Ordering::Relaxed),
            commits_dropped: 0,
        }));
        c.collect(T0 + USEC_PER_SEC).unwrap();
        // 2000 bytes a second, across the counter's wrap: 16 kilobits/s.
        for s in 2..4 {
            sent.fetch_add(2000, std::sync::atomic::Ordering::Relaxed);
            c.collect(T0 + s * USEC_PER_SEC).unwrap();
        }
        let buffer = host.chart("netdata.streaming_buffer").unwrap();
        assert_eq!((last(&buffer, 0), last(&buffer, 1)), (4096.0, (1 << 20) as f64 - 4096.0));
        let rate = host.chart("netdata.streaming_sent").unwrap();
        // Within a byte: across a wrap Netdata's arithmetic (kept for identical parents)
        // counts from 2^32 - 1.
        assert!((last(&rate, 0) - 16.0).abs() < 0.01, "{}", last(&rate, 0));
        assert_eq!(last(&host.chart("netdata.streaming_dropped").unwrap(), 0), 0.0);
    }

    #[test]
    fn this_process() {
        let host = host();
        let mut c = SelfStats::new(Arc::clone(&host), "/proc/self", T0, 1);
        c.collect(T0).unwrap();
        let (user, system) = rusage();
        assert!(user + system > 0);
    }
}
