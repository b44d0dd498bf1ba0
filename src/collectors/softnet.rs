//! `/proc/net/softnet_stat`: packets the kernel's network softirq processed, dropped
//! (backlog full) and squeezed (budget ran out), per CPU (one row each, hex columns) and in
//! total. Drops and squeezes are the first sign of a router's CPU not keeping up with its
//! links.
//!
//! Chart ids, titles, units, families, priorities and dimensions are Netdata 1.37's.

use std::path::PathBuf;
use std::sync::Arc;

use super::table::PLUGIN;
use super::{CollectError, Collector, ProcFile};
use crate::rrd::{Algorithm, Chart, ChartMeta, DimensionMeta, Host};

const MODULE: &str = "/proc/net/softnet_stat";
const DIMS: [&str; 5] = ["processed", "dropped", "squeezed", "received_rps", "flow_limit_count"];
/// Where each dimension sits among a row's columns.
const COLUMNS: [usize; 5] = [0, 1, 2, 9, 10];

/// The softnet collector.
pub struct Softnet {
    host: Arc<Host>,
    file: ProcFile,
    per_core: bool,
    update_every: u32,
    /// `system.softnet_stat` first, then `cpu.cpuN_softnet_stat`.
    charts: Vec<Arc<Chart>>,
    rows: Vec<[i64; 5]>,
}

impl Softnet {
    pub fn new(host: Arc<Host>, path: impl Into<PathBuf>, per_core: bool, update_every: u32) -> Softnet {
        Softnet {
            host,
            file: ProcFile::new(path),
            per_core,
            update_every: update_every.max(1),
            charts: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn chart(&mut self, index: usize) -> Arc<Chart> {
        while self.charts.len() <= index {
            let n = self.charts.len();
            let meta = if n == 0 {
                ChartMeta::new("system", "softnet_stat")
                    .title("System softnet_stat")
                    .context("system.softnet_stat")
                    .priority(955)
            } else {
                ChartMeta::new("cpu", &format!("cpu{}_softnet_stat", n - 1))
                    .title("CPU softnet_stat")
                    .context("cpu.softnet_stat")
                    .priority(4100 + n as i64)
            }
            .units("events/s")
            .family("softnet_stat")
            .update_every(self.update_every)
            .source(PLUGIN, MODULE);
            let chart = self.host.chart_define(meta);
            for id in DIMS {
                chart.dimension(DimensionMeta::new(id).algorithm(Algorithm::Incremental));
            }
            self.charts.push(chart);
        }
        Arc::clone(&self.charts[index])
    }
}

impl Collector for Softnet {
    fn name(&self) -> &str {
        "proc.softnet_stat"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        self.rows.clear();
        let mut total = [0i64; 5];
        {
            let text = self.file.read()?;
            for line in text.lines() {
                let mut row = [0i64; 5];
                let mut found = false;
                for (i, word) in line.split_ascii_whitespace().enumerate() {
                    if let Some(d) = COLUMNS.iter().position(|&c| c == i) {
                        row[d] = u64::from_str_radix(word, 16).unwrap_or(0) as i64;
                        found = true;
                    }
                }
                if found {
                    for (t, v) in total.iter_mut().zip(row) {
                        *t = t.wrapping_add(v);
                    }
                    self.rows.push(row);
                }
            }
        }
        if self.rows.is_empty() {
            return Err(CollectError::Failed(format!("{} has no rows", self.file.path().display())));
        }
        store(&self.chart(0), now_ut, &total);
        if self.per_core {
            for i in 0..self.rows.len() {
                let row = self.rows[i];
                store(&self.chart(i + 1), now_ut, &row);
            }
        }
        Ok(())
    }
}

fn store(chart: &Chart, now_ut: u64, row: &[i64; 5]) {
    let mut c = chart.begin(now_ut, 0, false);
    for (i, v) in row.iter().enumerate() {
        c.set(i, *v);
    }
    c.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::table::tests::{approx, drive, host, last, scratch};

    #[test]
    fn per_cpu_rows_and_total_with_a_wrap() {
        let dir = scratch("softnet");
        let host = host();
        let mut c = Softnet::new(Arc::clone(&host), dir.join("softnet_stat"), true, 1);
        drive(&mut c, &dir.join("softnet_stat"), &["softnet_stat.1", "softnet_stat.2", "softnet_stat.3"]);
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(ids, ["system.softnet_stat", "cpu.cpu0_softnet_stat", "cpu.cpu1_softnet_stat"]);
        let m = host.chart("cpu.cpu1_softnet_stat").unwrap().meta();
        assert_eq!(
            (m.context.as_str(), m.priority, m.title.as_str()),
            ("cpu.softnet_stat", 4102, "CPU softnet_stat")
        );
        // cpu0 processes 0x100/s, wrapping its 32-bit counter into .3 (one short, as Netdata).
        assert!(approx(last(&host, "cpu.cpu0_softnet_stat", "processed"), 255.5));
        assert!(approx(last(&host, "cpu.cpu1_softnet_stat", "processed"), 512.0));
        assert!(approx(last(&host, "cpu.cpu1_softnet_stat", "squeezed"), 3.0));
        assert!(approx(last(&host, "system.softnet_stat", "dropped"), 2.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn real_file_parses() {
        let host = host();
        let path = crate::collectors::table::tests::fixture("proc/softnet_stat.real-x86_64");
        let mut c = Softnet::new(Arc::clone(&host), path, false, 1);
        c.collect(crate::collectors::table::tests::T0).unwrap();
        assert_eq!(host.chart_count(), 1);
    }
}
