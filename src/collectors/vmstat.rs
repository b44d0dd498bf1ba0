//! `/proc/vmstat`: paging, swap I/O, page faults and OOM kills.
//!
//! Chart attributes are Netdata 1.37's. `system.swapio` appears once swap I/O has happened
//! (Netdata's "auto"); `mem.oom_kill` exists when the kernel reports `oom_kill` (4.13+).

use std::path::PathBuf;
use std::sync::Arc;

use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{Algorithm, Chart, ChartMeta, ChartType, DimensionMeta, Host};
use crate::sys::mem::page_size;

const PLUGIN: &str = "proc.plugin";
const MODULE: &str = "/proc/vmstat";

/// The fields read, in the order of [`FIELDS`].
const FIELDS: [&str; 7] = ["pgpgin", "pgpgout", "pswpin", "pswpout", "pgfault", "pgmajfault", "oom_kill"];
const PGPGIN: usize = 0;
const PSWPIN: usize = 2;
const PGFAULT: usize = 4;
const OOM_KILL: usize = 6;

/// The `/proc/vmstat` collector.
pub struct Vmstat {
    host: Arc<Host>,
    file: ProcFile,
    update_every: u32,
    /// Bytes per page, for swap I/O (which the kernel counts in pages).
    page_size: i64,
    pgpgio: Option<Arc<Chart>>,
    swapio: Option<Arc<Chart>>,
    pgfaults: Option<Arc<Chart>>,
    oom_kill: Option<Arc<Chart>>,
}

impl Vmstat {
    /// `path` is normally `/proc/vmstat`.
    pub fn new(host: Arc<Host>, path: impl Into<PathBuf>, update_every: u32) -> Vmstat {
        Vmstat {
            host,
            file: ProcFile::new(path),
            update_every: update_every.max(1),
            page_size: page_size(),
            pgpgio: None,
            swapio: None,
            pgfaults: None,
            oom_kill: None,
        }
    }

    fn define(
        &self,
        type_: &str,
        id: &str,
        title: &str,
        units: &str,
        family: &str,
        priority: i64,
    ) -> ChartMeta {
        ChartMeta::new(type_, id)
            .title(title)
            .units(units)
            .family(family)
            .priority(priority)
            .update_every(self.update_every)
            .source(PLUGIN, MODULE)
    }
}

impl Collector for Vmstat {
    fn name(&self) -> &str {
        "proc.vmstat"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let mut v: [Option<i64>; 7] = [None; 7];
        {
            let text = self.file.read()?;
            for line in text.lines() {
                let Some((key, value)) = line.split_once(' ') else { continue };
                if let Some(i) = FIELDS.iter().position(|f| *f == key) {
                    v[i] = Some(parse_i64(value));
                }
            }
        }
        if v[PGPGIN].is_none() && v[PGFAULT].is_none() {
            return Err(CollectError::Failed(format!(
                "{} has no pgpgin/pgfault",
                self.file.path().display()
            )));
        }
        let get = |i: usize| v[i].unwrap_or(0);

        if self.pgpgio.is_none() {
            let meta = self
                .define("system", "pgpgio", "Memory Paged from/to disk", "KiB/s", "disk", 151)
                .chart_type(ChartType::Area);
            self.pgpgio = Some(pair(&self.host, meta, ("in", "in"), ("out", "out"), 1, 1));
        }
        if let Some(c) = &self.pgpgio {
            store(c, now_ut, &[get(PGPGIN), get(PGPGIN + 1)]);
        }

        if self.swapio.is_none() && (get(PSWPIN) != 0 || get(PSWPIN + 1) != 0) {
            let meta =
                self.define("system", "swapio", "Swap I/O", "KiB/s", "swap", 250).chart_type(ChartType::Area);
            self.swapio = Some(pair(&self.host, meta, ("in", "in"), ("out", "out"), self.page_size, 1024));
        }
        if let Some(c) = &self.swapio {
            store(c, now_ut, &[get(PSWPIN), get(PSWPIN + 1)]);
        }

        if self.pgfaults.is_none() {
            let meta =
                self.define("mem", "pgfaults", "Memory Page Faults", "faults/s", "system", 1040).detail();
            self.pgfaults = Some(pair(&self.host, meta, ("minor", "minor"), ("major", "major"), 1, 1));
        }
        if let Some(c) = &self.pgfaults {
            store(c, now_ut, &[get(PGFAULT), get(PGFAULT + 1)]);
        }

        if let Some(kills) = v[OOM_KILL] {
            if self.oom_kill.is_none() {
                let meta =
                    self.define("mem", "oom_kill", "Out of Memory Kills", "kills/s", "system", 1020).detail();
                let chart = self.host.chart_define(meta);
                chart.dimension(DimensionMeta::new("kills").algorithm(Algorithm::Incremental));
                self.oom_kill = Some(chart);
            }
            if let Some(c) = &self.oom_kill {
                store(c, now_ut, &[kills]);
            }
        }
        Ok(())
    }
}

/// Defines an in/out style chart: two incremental dimensions, the second drawn below zero.
fn pair(
    host: &Host,
    meta: ChartMeta,
    up: (&str, &str),
    down: (&str, &str),
    mul: i64,
    div: i64,
) -> Arc<Chart> {
    let chart = host.chart_define(meta);
    chart.dimension(DimensionMeta::new(up.0).name(up.1).algorithm(Algorithm::Incremental).scale(mul, div));
    chart.dimension(
        DimensionMeta::new(down.0).name(down.1).algorithm(Algorithm::Incremental).scale(-mul, div),
    );
    chart
}

fn store(chart: &Chart, now_ut: u64, values: &[i64]) {
    let mut c = chart.begin(now_ut, 0, false);
    for (i, v) in values.iter().enumerate() {
        c.set(i, *v);
    }
    c.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::USEC_PER_SEC;
    use crate::collectors::testing::{host, last, Scratch, T0};

    #[test]
    fn paging_faults_and_swap_once_it_moves() {
        let dir = Scratch::new("vmstat");
        let host = host();
        let mut c = Vmstat::new(Arc::clone(&host), dir.path("vmstat"), 1);
        for (i, f) in ["vmstat.router.1", "vmstat.router.2", "vmstat.router.3"].iter().enumerate() {
            dir.stage(f, "vmstat");
            c.collect(T0 + i as u64 * USEC_PER_SEC).unwrap();
        }
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(ids, ["system.pgpgio", "mem.pgfaults", "mem.oom_kill", "system.swapio"]);
        let pg = host.chart("system.pgpgio").unwrap();
        let m = pg.meta();
        assert_eq!(
            (m.units.as_str(), m.family.as_str(), m.priority, m.chart_type),
            ("KiB/s", "disk", 151, ChartType::Area)
        );
        assert!((last(&pg, 0) - 40.0).abs() < 1e-6);
        assert!((last(&pg, 1) + 8.0).abs() < 1e-6);
        let f = host.chart("mem.pgfaults").unwrap();
        assert!(f.meta().options.detail);
        assert!((last(&f, 0) - 300.0).abs() < 1e-6);
        assert!((last(&f, 1) + 2.0).abs() < 1e-6);
        let swap = host.chart("system.swapio").unwrap();
        assert_eq!(swap.dimensions()[1].multiplier, -page_size());
        assert_eq!(host.chart("mem.oom_kill").unwrap().meta().priority, 1020);
    }

    #[test]
    fn this_machine_has_no_swap_io() {
        let host = host();
        let mut c =
            Vmstat::new(Arc::clone(&host), crate::collectors::testing::fixture("vmstat.real-x86_64"), 1);
        c.collect(T0).unwrap();
        assert!(host.chart("system.swapio").is_none());
        assert!(host.chart("mem.oom_kill").is_some(), "the kernel reports oom_kill");
    }
}
