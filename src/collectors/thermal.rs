//! `/sys/class/thermal/thermal_zone*/temp`: SoC and board temperatures, one dimension per
//! thermal zone named by its `type` (`cpu-thermal`, `gpu-thermal`, …).
//!
//! Netdata 1.37 has no stock proc module for this (its sensors come from lm-sensors
//! plugins), so the chart is nanodata's own: `sensors.thermal`, `Celsius`, family
//! `temperature`, the kernel's millidegrees divided by 1000. Zones are found once, at the
//! first collection; a zone whose sensor cannot be read this tick is left out of it.

use std::path::PathBuf;
use std::sync::Arc;

use super::table::PLUGIN;
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{Chart, ChartMeta, DimensionMeta, Host};

const MODULE: &str = "/sys/class/thermal";

/// The thermal zones collector.
pub struct Thermal {
    host: Arc<Host>,
    dir: PathBuf,
    update_every: u32,
    chart: Option<Arc<Chart>>,
    /// Each zone's `temp` file and its dimension.
    zones: Vec<(ProcFile, usize)>,
}

impl Thermal {
    /// `dir` is normally `/sys/class/thermal`.
    pub fn new(host: Arc<Host>, dir: impl Into<PathBuf>, update_every: u32) -> Thermal {
        Thermal { host, dir: dir.into(), update_every: update_every.max(1), chart: None, zones: Vec::new() }
    }

    fn discover(&mut self) -> Result<Arc<Chart>, CollectError> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| CollectError::Disabled(format!("cannot read {}: {e}", self.dir.display())))?;
        let mut zones: Vec<(u32, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name();
                let n = name.to_str()?.strip_prefix("thermal_zone")?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect();
        if zones.is_empty() {
            return Err(CollectError::Disabled(format!("no thermal zones in {}", self.dir.display())));
        }
        zones.sort();
        let chart = self.host.chart_define(
            ChartMeta::new("sensors", "thermal")
                .title("Thermal Zones Temperature")
                .units("Celsius")
                .family("temperature")
                .priority(60000)
                .update_every(self.update_every)
                .source(PLUGIN, MODULE),
        );
        for (n, path) in zones {
            let kind = std::fs::read_to_string(path.join("type")).unwrap_or_default();
            let id = format!("thermal_zone{n}");
            let name = match kind.trim() {
                "" => id.as_str(),
                k => k,
            };
            let dim = chart.dimension(DimensionMeta::new(&id).name(name).scale(1, 1000));
            self.zones.push((ProcFile::new(path.join("temp")), dim));
        }
        self.chart = Some(Arc::clone(&chart));
        Ok(chart)
    }
}

impl Collector for Thermal {
    fn name(&self) -> &str {
        "sys.thermal"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let chart = match &self.chart {
            Some(c) => Arc::clone(c),
            None => self.discover()?,
        };
        let mut c = chart.begin(now_ut, 0, false);
        let mut read = 0;
        for (file, dim) in &mut self.zones {
            // Some sensors refuse reads while powered down (EINVAL, ENODATA): skip them.
            let Ok(text) = file.read() else { continue };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let v = match text.strip_prefix('-') {
                Some(t) => -parse_i64(t),
                None => parse_i64(text),
            };
            c.set(*dim, v);
            read += 1;
        }
        c.end();
        if read == 0 {
            return Err(CollectError::Failed("no thermal zone could be read".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::table::tests::{approx, fixture, host, last, scratch, T0};

    #[test]
    fn zones_are_named_by_type() {
        let dir = scratch("thermal");
        let src = fixture("sys/class/thermal");
        for zone in ["thermal_zone0", "thermal_zone1", "thermal_zone2"] {
            std::fs::create_dir_all(dir.join(zone)).unwrap();
            for f in ["type", "temp"] {
                std::fs::copy(src.join(zone).join(f), dir.join(zone).join(f)).unwrap();
            }
        }
        std::fs::create_dir_all(dir.join("cooling_device0")).unwrap();
        let host = host();
        let mut c = Thermal::new(Arc::clone(&host), &dir, 1);
        for i in 0..3 {
            c.collect(T0 + i * 1_000_000).unwrap();
        }
        let chart = host.chart("sensors.thermal").unwrap();
        let dims = chart.dimensions();
        let names: Vec<&str> = dims.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["cpu-thermal", "gpu-thermal", "ddr-thermal"]);
        assert_eq!((dims[0].id.as_str(), dims[0].divisor), ("thermal_zone0", 1000));
        assert_eq!(chart.meta().units, "Celsius");
        assert!(approx(last(&host, "sensors.thermal", "thermal_zone0"), 52.3));
        assert!(approx(last(&host, "sensors.thermal", "thermal_zone2"), -5.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_zones_disables() {
        let dir = scratch("thermal-none");
        let mut c = Thermal::new(host(), &dir, 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
        let mut c = Thermal::new(host(), "/nonexistent/thermal", 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
