//! `/proc/loadavg`: the load averages and the number of processes.
//!
//! As in Netdata 1.37, `system.load` is stored at least every 5 seconds (the kernel updates
//! the averages every 5 s; a finer step only repeats values), on wall-clock multiples of its
//! own step, while `system.active_processes` follows the module's `update every`.

use std::path::PathBuf;
use std::sync::Arc;

use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::clock::USEC_PER_SEC;
use crate::rrd::{Chart, ChartMeta, DimensionMeta, Host};

const PLUGIN: &str = "proc.plugin";
const MODULE: &str = "/proc/loadavg";
/// The shortest step of `system.load`.
const MIN_LOAD_EVERY: u32 = 5;

/// Which charts to produce (`[plugin:proc:/proc/loadavg]`).
#[derive(Clone, Debug)]
pub struct Options {
    /// `enable load average`.
    pub load: bool,
    /// `enable total processes`.
    pub processes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { load: true, processes: true }
    }
}

/// The `/proc/loadavg` collector.
pub struct Loadavg {
    host: Arc<Host>,
    file: ProcFile,
    options: Options,
    update_every: u32,
    load: Option<Arc<Chart>>,
    active: Option<Arc<Chart>>,
    /// When `system.load` is due next (µs).
    next_load_ut: u64,
}

impl Loadavg {
    /// `path` is normally `/proc/loadavg`.
    pub fn new(host: Arc<Host>, path: impl Into<PathBuf>, options: Options, update_every: u32) -> Loadavg {
        Loadavg {
            host,
            file: ProcFile::new(path),
            options,
            update_every: update_every.max(1),
            load: None,
            active: None,
            next_load_ut: 0,
        }
    }

    fn load_chart(&mut self) -> Arc<Chart> {
        if let Some(c) = &self.load {
            return Arc::clone(c);
        }
        let chart = self.host.chart_define(
            ChartMeta::new("system", "load")
                .title("System Load Average")
                .units("load")
                .family("load")
                .priority(100)
                .update_every(self.update_every.max(MIN_LOAD_EVERY))
                .source(PLUGIN, MODULE),
        );
        for id in ["load1", "load5", "load15"] {
            chart.dimension(DimensionMeta::new(id).scale(1, 1000));
        }
        self.load = Some(Arc::clone(&chart));
        chart
    }

    fn active_chart(&mut self) -> Arc<Chart> {
        if let Some(c) = &self.active {
            return Arc::clone(c);
        }
        let chart = self.host.chart_define(
            ChartMeta::new("system", "active_processes")
                .title("System Active Processes")
                .units("processes")
                .family("processes")
                .priority(750)
                .update_every(self.update_every)
                .source(PLUGIN, MODULE),
        );
        chart.dimension(DimensionMeta::new("active"));
        self.active = Some(Arc::clone(&chart));
        chart
    }
}

impl Collector for Loadavg {
    fn name(&self) -> &str {
        "proc.loadavg"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let mut load = [0i64; 3];
        let total;
        {
            let text = self.file.read()?;
            let mut words = text.split_ascii_whitespace();
            for slot in &mut load {
                *slot = words.next().map_or(0, parse_milli);
            }
            // "running/total": the total is the number of processes and threads.
            total = words.next().and_then(|w| w.split_once('/')).map(|(_, t)| parse_i64(t));
        }
        let Some(total) = total else {
            return Err(CollectError::Failed(format!(
                "{} is not in the expected format",
                self.file.path().display()
            )));
        };

        if self.options.load && now_ut >= self.next_load_ut {
            let chart = self.load_chart();
            let step = u64::from(self.update_every.max(MIN_LOAD_EVERY)) * USEC_PER_SEC;
            self.next_load_ut = (now_ut / step + 1) * step;
            let mut c = chart.begin(now_ut, 0, false);
            for (i, v) in load.iter().enumerate() {
                c.set(i, *v);
            }
            c.end();
        }
        if self.options.processes {
            let chart = self.active_chart();
            let mut c = chart.begin(now_ut, 0, false);
            c.set(0, total);
            c.end();
        }
        Ok(())
    }
}

/// Parses a non-negative decimal like `0.52` or `12157.18` into thousandths (520,
/// 12157180); digits past the third decimal are dropped, anything odd ends the number.
pub(super) fn parse_milli(word: &str) -> i64 {
    let (int, frac) = word.split_once('.').unwrap_or((word, ""));
    let mut v = parse_i64(int).saturating_mul(1000);
    let mut scale = 100;
    for b in frac.bytes().take(3) {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.saturating_add(i64::from(b - b'0') * scale);
        scale /= 10;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{fixture, host, last, T0};

    #[test]
    fn fixed_point_parsing() {
        assert_eq!(parse_milli("0.52"), 520);
        assert_eq!(parse_milli("12157.18"), 12_157_180);
        assert_eq!(parse_milli("3"), 3000);
        assert_eq!(parse_milli("1.23456"), 1234);
        assert_eq!(parse_milli(""), 0);
    }

    #[test]
    fn load_every_five_seconds_and_processes_every_tick() {
        let host = host();
        let mut c = Loadavg::new(Arc::clone(&host), fixture("loadavg.router"), Options::default(), 1);
        for i in 0..11 {
            c.collect(T0 + i * USEC_PER_SEC).unwrap();
        }
        let load = host.chart("system.load").unwrap();
        let m = load.meta();
        assert_eq!(
            (m.title.as_str(), m.units.as_str(), m.family.as_str()),
            ("System Load Average", "load", "load")
        );
        assert_eq!((m.priority, m.update_every), (100, 5));
        assert_eq!(load.dimensions()[2].divisor, 1000);
        assert!((last(&load, 0) - 0.52).abs() < 1e-6);
        assert!((last(&load, 2) - 0.05).abs() < 1e-6);
        let points = load.query(0, 0, i64::MAX);
        assert!(points.iter().all(|p| p.t % 5 == 0), "{points:?}");
        let active = host.chart("system.active_processes").unwrap();
        assert_eq!(active.meta().priority, 750);
        assert_eq!(last(&active, 0), 57.0);
        assert_eq!(active.query(0, 0, i64::MAX).len(), 10);
    }

    #[test]
    fn garbage_fails_the_tick() {
        let mut c = Loadavg::new(host(), fixture("meminfo.router"), Options::default(), 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Failed(_))));
    }

    #[test]
    fn this_machine_parses() {
        let host = host();
        let mut c = Loadavg::new(Arc::clone(&host), fixture("loadavg.real-x86_64"), Options::default(), 1);
        c.collect(T0).unwrap();
        assert!(host.chart("system.load").is_some() && host.chart("system.active_processes").is_some());
    }
}
