//! `/proc/sys/kernel/random/entropy_avail`: the kernel's entropy pool, the chart Netdata
//! 1.37 calls `system.entropy` (same attributes). Routers without a hardware RNG can starve
//! it at boot, stalling TLS and SSH.

use std::path::PathBuf;
use std::sync::Arc;

use super::table::PLUGIN;
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{Chart, ChartMeta, DimensionMeta, Host};

const MODULE: &str = "/proc/sys/kernel/random/entropy_avail";

/// The entropy collector.
pub struct Entropy {
    host: Arc<Host>,
    file: ProcFile,
    update_every: u32,
    chart: Option<Arc<Chart>>,
}

impl Entropy {
    pub fn new(host: Arc<Host>, path: impl Into<PathBuf>, update_every: u32) -> Entropy {
        Entropy { host, file: ProcFile::new(path), update_every: update_every.max(1), chart: None }
    }
}

impl Collector for Entropy {
    fn name(&self) -> &str {
        "proc.entropy"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let text = self.file.read()?.trim();
        if text.is_empty() {
            return Err(CollectError::Failed(format!("{} is empty", self.file.path().display())));
        }
        let value = parse_i64(text);
        let chart = self.chart.get_or_insert_with(|| {
            let chart = self.host.chart_define(
                ChartMeta::new("system", "entropy")
                    .title("Available Entropy")
                    .units("entropy")
                    .family("entropy")
                    .priority(1000)
                    .update_every(self.update_every)
                    .source(PLUGIN, MODULE),
            );
            chart.dimension(DimensionMeta::new("entropy"));
            chart
        });
        let mut c = chart.begin(now_ut, 0, false);
        c.set(0, value);
        c.end();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::table::tests::{approx, fixture, host, last, T0};

    #[test]
    fn chart_matches_netdata() {
        let host = host();
        let mut c = Entropy::new(Arc::clone(&host), fixture("proc/entropy_avail.1"), 1);
        for i in 0..3 {
            c.collect(T0 + i * 1_000_000).unwrap();
        }
        let m = host.chart("system.entropy").unwrap().meta();
        assert_eq!(
            (m.title.as_str(), m.units.as_str(), m.priority, m.module.as_str()),
            ("Available Entropy", "entropy", 1000, MODULE)
        );
        assert!(approx(last(&host, "system.entropy", "entropy"), 256.0));
        let mut gone = Entropy::new(host, "/nonexistent/entropy_avail", 1);
        assert!(matches!(gone.collect(T0), Err(CollectError::Disabled(_))));
    }
}
