//! `/proc/uptime`: seconds since boot, as Netdata 1.37's `system.uptime` (stored in
//! thousandths so the fraction the kernel prints survives).

use std::path::PathBuf;
use std::sync::Arc;

use super::loadavg::parse_milli;
use super::{CollectError, Collector, ProcFile};
use crate::rrd::{Chart, ChartMeta, DimensionMeta, Host};

/// The `/proc/uptime` collector.
pub struct Uptime {
    host: Arc<Host>,
    file: ProcFile,
    update_every: u32,
    chart: Option<Arc<Chart>>,
}

impl Uptime {
    /// `path` is normally `/proc/uptime`.
    pub fn new(host: Arc<Host>, path: impl Into<PathBuf>, update_every: u32) -> Uptime {
        Uptime { host, file: ProcFile::new(path), update_every: update_every.max(1), chart: None }
    }

    fn chart(&mut self) -> Arc<Chart> {
        if let Some(c) = &self.chart {
            return Arc::clone(c);
        }
        let chart = self.host.chart_define(
            ChartMeta::new("system", "uptime")
                .title("System Uptime")
                .units("seconds")
                .family("uptime")
                .priority(1000)
                .update_every(self.update_every)
                .source("proc.plugin", "/proc/uptime"),
        );
        chart.dimension(DimensionMeta::new("uptime").scale(1, 1000));
        self.chart = Some(Arc::clone(&chart));
        chart
    }
}

impl Collector for Uptime {
    fn name(&self) -> &str {
        "proc.uptime"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let uptime = {
            let text = self.file.read()?;
            text.split_ascii_whitespace().next().map(parse_milli)
        };
        let Some(uptime) = uptime else {
            return Err(CollectError::Failed(format!("{} is empty", self.file.path().display())));
        };
        let chart = self.chart();
        let mut c = chart.begin(now_ut, 0, false);
        c.set(0, uptime);
        c.end();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{fixture, host, last, T0};

    #[test]
    fn uptime_in_seconds() {
        let host = host();
        let mut c = Uptime::new(Arc::clone(&host), fixture("uptime.router"), 1);
        c.collect(T0).unwrap();
        c.collect(T0 + 1_000_000).unwrap();
        let chart = host.chart("system.uptime").unwrap();
        let m = chart.meta();
        assert_eq!(
            (m.id.as_str(), m.units.as_str(), m.family.as_str(), m.priority),
            ("system.uptime", "seconds", "uptime", 1000)
        );
        assert_eq!(chart.dimensions()[0].divisor, 1000);
        // Storage numbers keep about 7 significant digits.
        assert!((last(&chart, 0) - 351_512.25).abs() < 0.1, "{}", last(&chart, 0));
    }

    #[test]
    fn missing_file_disables() {
        let mut c = Uptime::new(host(), "/nonexistent/uptime", 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
    }

    #[test]
    fn this_machine_parses() {
        let host = host();
        let mut c = Uptime::new(Arc::clone(&host), fixture("uptime.real-x86_64"), 1);
        c.collect(T0).unwrap();
        assert!(host.chart("system.uptime").is_some());
    }
}
