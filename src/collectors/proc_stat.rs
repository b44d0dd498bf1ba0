//! `/proc/stat`: CPU utilisation (total and per core), interrupts, context switches,
//! process creation and running/blocked processes; and, like Netdata's proc plugin, the
//! host variable `active_processors` (the highest `cpuN` number plus one) that the stock
//! load alarms divide by.
//!
//! Chart ids, titles, units, families, contexts, priorities, dimension ids, algorithms,
//! multipliers and divisors are Netdata 1.37's, so dashboards, alarms and queries written for
//! Netdata work unchanged.

use std::path::PathBuf;
use std::sync::Arc;

use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{Algorithm, Chart, ChartMeta, ChartType, DimensionMeta, Host};

const PLUGIN: &str = "proc.plugin";
/// The host variable holding the number of CPUs (stock `health.d/load.conf` reads it).
pub const ACTIVE_PROCESSORS: &str = "active_processors";
const MODULE: &str = "/proc/stat";

/// Which charts to produce (`[plugin:proc:/proc/stat]`).
#[derive(Clone, Debug)]
pub struct Options {
    pub cpu: bool,
    pub per_core: bool,
    pub interrupts: bool,
    pub context_switches: bool,
    pub processes_started: bool,
    pub processes_running: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cpu: true,
            per_core: true,
            interrupts: true,
            context_switches: true,
            processes_started: true,
            processes_running: true,
        }
    }
}

/// The `/proc/stat` collector.
pub struct ProcStat {
    host: Arc<Host>,
    file: ProcFile,
    options: Options,
    update_every: u32,
    /// `system.cpu` first, then `cpu.cpuN` in the order the kernel lists them.
    cpus: Vec<Arc<Chart>>,
    intr: Option<Arc<Chart>>,
    ctxt: Option<Arc<Chart>>,
    forks: Option<Arc<Chart>>,
    processes: Option<Arc<Chart>>,
}

/// Dimension order of the CPU charts; `idle` is hidden, as in Netdata.
const CPU_DIMS: [&str; 10] =
    ["guest_nice", "guest", "steal", "softirq", "irq", "user", "system", "nice", "iowait", "idle"];
/// Where each dimension's value sits among the numbers of a `cpu` line.
const CPU_FIELDS: [usize; 10] = [9, 8, 7, 6, 5, 0, 2, 1, 4, 3];

impl ProcStat {
    /// `path` is normally `/proc/stat` (a host prefix or a fixture in tests).
    pub fn new(host: Arc<Host>, path: impl Into<PathBuf>, options: Options, update_every: u32) -> ProcStat {
        ProcStat {
            host,
            file: ProcFile::new(path),
            options,
            update_every: update_every.max(1),
            cpus: Vec::new(),
            intr: None,
            ctxt: None,
            forks: None,
            processes: None,
        }
    }

    fn cpu_chart(&mut self, index: usize) -> Arc<Chart> {
        while self.cpus.len() <= index {
            let n = self.cpus.len();
            let meta = if n == 0 {
                ChartMeta::new("system", "cpu")
                    .title("Total CPU utilization")
                    .family("cpu")
                    .context("system.cpu")
                    .priority(100)
            } else {
                ChartMeta::new("cpu", &format!("cpu{}", n - 1))
                    .title("Core utilization")
                    .family("utilization")
                    .context("cpu.cpu")
                    .priority(1000 + n as i64)
            }
            .units("percentage")
            .chart_type(ChartType::Stacked)
            .update_every(self.update_every)
            .source(PLUGIN, MODULE);
            let chart = self.host.chart_define(meta);
            for id in CPU_DIMS {
                let mut dim = DimensionMeta::new(id).algorithm(Algorithm::PercentageOfIncrementalRow);
                if id == "idle" {
                    dim = dim.hidden();
                }
                chart.dimension(dim);
            }
            self.cpus.push(chart);
        }
        Arc::clone(&self.cpus[index])
    }

    fn single(&self, id: &str, title: &str, units: &str, family: &str, priority: i64) -> ChartMeta {
        ChartMeta::new("system", id)
            .title(title)
            .units(units)
            .family(family)
            .context(&format!("system.{id}"))
            .priority(priority)
            .update_every(self.update_every)
            .source(PLUGIN, MODULE)
    }

    fn counter_chart(&mut self, which: Counter) -> Arc<Chart> {
        let slot = match which {
            Counter::Interrupts => &self.intr,
            Counter::ContextSwitches => &self.ctxt,
            Counter::Forks => &self.forks,
        };
        if let Some(c) = slot {
            return Arc::clone(c);
        }
        let (meta, dim) = match which {
            Counter::Interrupts => (
                self.single("intr", "CPU Interrupts", "interrupts/s", "interrupts", 900).detail(),
                "interrupts",
            ),
            Counter::ContextSwitches => (
                self.single("ctxt", "CPU Context Switches", "context switches/s", "processes", 800),
                "switches",
            ),
            Counter::Forks => (
                self.single("forks", "Started Processes", "processes/s", "processes", 700).detail(),
                "started",
            ),
        };
        let chart = self.host.chart_define(meta);
        chart.dimension(DimensionMeta::new(dim).algorithm(Algorithm::Incremental));
        let slot = match which {
            Counter::Interrupts => &mut self.intr,
            Counter::ContextSwitches => &mut self.ctxt,
            Counter::Forks => &mut self.forks,
        };
        *slot = Some(Arc::clone(&chart));
        chart
    }

    fn processes_chart(&mut self) -> Arc<Chart> {
        if let Some(c) = &self.processes {
            return Arc::clone(c);
        }
        let chart = self.host.chart_define(self.single(
            "processes",
            "System Processes",
            "processes",
            "processes",
            600,
        ));
        chart.dimension(DimensionMeta::new("running"));
        chart.dimension(DimensionMeta::new("blocked").scale(-1, 1));
        self.processes = Some(Arc::clone(&chart));
        chart
    }
}

#[derive(Copy, Clone)]
enum Counter {
    Interrupts,
    ContextSwitches,
    Forks,
}

impl Collector for ProcStat {
    fn name(&self) -> &str {
        "proc.stat"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        // Parse first (the buffer borrows the file), act after.
        let mut cpu_rows: [[i64; 10]; 1] = [[0; 10]];
        let mut per_core: Vec<[i64; 10]> = Vec::new();
        // Netdata's `cores_found`: the last `cpuN` line's N + 1 (offline CPUs have no line).
        let mut cores_found: Option<u32> = None;
        let (mut intr, mut ctxt, mut forks, mut running, mut blocked) = (None, None, None, None, None);
        {
            let text = self.file.read()?;
            for line in text.lines() {
                let mut words = line.split_ascii_whitespace();
                let Some(key) = words.next() else { continue };
                if let Some(rest) = key.strip_prefix("cpu") {
                    let mut row = [0i64; 10];
                    for (slot, word) in row.iter_mut().zip(words) {
                        *slot = parse_i64(word);
                    }
                    if rest.is_empty() {
                        cpu_rows[0] = row;
                        continue;
                    }
                    if let Ok(n) = rest.parse::<u32>() {
                        cores_found = Some(n.saturating_add(1));
                    }
                    if self.options.per_core {
                        per_core.push(row);
                    }
                    continue;
                }
                let first = words.next().map(parse_i64);
                match key {
                    "intr" => intr = first,
                    "ctxt" => ctxt = first,
                    "processes" => forks = first,
                    "procs_running" => running = first,
                    "procs_blocked" => blocked = first,
                    _ => {}
                }
            }
        }
        if intr.is_none() && ctxt.is_none() && cpu_rows[0] == [0; 10] {
            return Err(CollectError::Failed(format!(
                "{} has no cpu/intr/ctxt lines",
                self.file.path().display()
            )));
        }

        if self.options.cpu {
            collect_cpu(&self.cpu_chart(0), now_ut, &cpu_rows[0]);
            if let Some(n) = cores_found {
                // Changes nothing (and allocates nothing) once set, unless CPUs come or go.
                self.host.set_variable(ACTIVE_PROCESSORS, f64::from(n));
            }
        }
        if self.options.per_core {
            for (i, row) in per_core.iter().enumerate() {
                collect_cpu(&self.cpu_chart(i + 1), now_ut, row);
            }
        }
        for (which, value, enabled) in [
            (Counter::Interrupts, intr, self.options.interrupts),
            (Counter::ContextSwitches, ctxt, self.options.context_switches),
            (Counter::Forks, forks, self.options.processes_started),
        ] {
            if let (Some(v), true) = (value, enabled) {
                let chart = self.counter_chart(which);
                let mut c = chart.begin(now_ut, 0, false);
                c.set(0, v);
                c.end();
            }
        }
        if self.options.processes_running && (running.is_some() || blocked.is_some()) {
            let chart = self.processes_chart();
            let mut c = chart.begin(now_ut, 0, false);
            if let Some(v) = running {
                c.set(0, v);
            }
            if let Some(v) = blocked {
                c.set(1, v);
            }
            c.end();
        }
        Ok(())
    }
}

fn collect_cpu(chart: &Chart, now_ut: u64, row: &[i64; 10]) {
    let mut c = chart.begin(now_ut, 0, false);
    for (dim, field) in CPU_FIELDS.iter().enumerate() {
        c.set(dim, row[*field]);
    }
    c.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::USEC_PER_SEC;

    use crate::rrd::HostSettings;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proc").join(name)
    }

    fn host() -> Arc<Host> {
        Arc::new(Host::new(
            "00000000-0000-0000-0000-000000000001",
            "test",
            HostSettings { history: 60, ..HostSettings::default() },
        ))
    }

    /// Copies fixture `name` over the file the collector reads.
    fn stage(dir: &std::path::Path, name: &str) {
        std::fs::copy(fixture(name), dir.join("stat")).unwrap();
    }

    #[test]
    fn charts_match_netdata_and_values_are_computed() {
        let dir = std::env::temp_dir().join(format!("nanodata-procstat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let host = host();
        let mut c = ProcStat::new(Arc::clone(&host), dir.join("stat"), Options::default(), 1);
        let t0 = 1_700_000_000 * USEC_PER_SEC + USEC_PER_SEC / 2;
        for (i, f) in ["stat.1", "stat.2", "stat.3"].iter().enumerate() {
            stage(&dir, f);
            c.collect(t0 + i as u64 * USEC_PER_SEC).unwrap();
        }

        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "system.cpu",
                "cpu.cpu0",
                "cpu.cpu1",
                "system.intr",
                "system.ctxt",
                "system.forks",
                "system.processes"
            ]
        );
        let cpu = host.chart("system.cpu").unwrap();
        let m = cpu.meta();
        assert_eq!(
            (m.title.as_str(), m.units.as_str(), m.family.as_str()),
            ("Total CPU utilization", "percentage", "cpu")
        );
        assert_eq!((m.priority, m.chart_type), (100, ChartType::Stacked));
        let dims = cpu.dimensions();
        assert_eq!(dims.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), CPU_DIMS);
        assert!(dims[9].options.hidden && !dims[5].options.hidden);
        assert_eq!(host.chart("cpu.cpu1").unwrap().meta().priority, 1002);

        // stat.2 → stat.3 on the cpu line: user +60, system +20, idle +100, iowait +20 of 200.
        let pct = |dim: &str| {
            let i = cpu.dimension_index(dim).unwrap();
            cpu.query(i, 0, i64::MAX).last().and_then(|p| p.value)
        };
        let approx = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-4);
        assert!(approx(pct("user"), 30.0), "{:?}", pct("user"));
        assert!(approx(pct("system"), 10.0));
        assert!(approx(pct("idle"), 50.0));
        assert!(approx(pct("iowait"), 10.0));

        // Interrupts +500 per second; blocked drawn below zero.
        let intr = host.chart("system.intr").unwrap();
        assert!(approx(intr.query(0, 0, i64::MAX).last().and_then(|p| p.value), 500.0));
        let procs = host.chart("system.processes").unwrap();
        assert!(approx(procs.query(1, 0, i64::MAX).last().and_then(|p| p.value), -2.0));
        assert_eq!(procs.dimensions()[1].multiplier, -1);
        // cpu0 and cpu1: two processors, for the load alarms.
        assert_eq!(host.variable("active_processors"), Some(2.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn disabled_charts_are_not_created() {
        let host = host();
        let options = Options { per_core: false, interrupts: false, ..Options::default() };
        let mut c = ProcStat::new(Arc::clone(&host), fixture("stat.1"), options, 1);
        c.collect(1_700_000_000 * USEC_PER_SEC).unwrap();
        assert!(host.chart("cpu.cpu0").is_none());
        assert!(host.chart("system.intr").is_none());
        assert!(host.chart("system.cpu").is_some());
        assert_eq!(host.variable("active_processors"), Some(2.0), "counted without per-core charts");
    }

    #[test]
    fn active_processors_is_the_highest_cpu_number_plus_one() {
        // CPU 2 offline: its line is missing, and Netdata still counts 4 (cpu3 is last).
        let dir = std::env::temp_dir().join(format!("nanodata-procstat-cpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let row = " 1 0 1 10 0 0 0 0 0 0\n";
        let text = format!("cpu {row}cpu0 {row}cpu1 {row}cpu3 {row}intr 5 0\nctxt 7\n");
        std::fs::write(dir.join("stat"), text).unwrap();
        let host = host();
        let mut c = ProcStat::new(Arc::clone(&host), dir.join("stat"), Options::default(), 1);
        c.collect(1_700_000_000 * USEC_PER_SEC).unwrap();
        assert_eq!(host.variable("active_processors"), Some(4.0));
        let version = host.variables_version();
        c.collect(1_700_000_001 * USEC_PER_SEC).unwrap();
        assert_eq!(host.variables_version(), version, "the same count is no change");
        // Without the total CPU chart Netdata has no such variable either.
        let other = self::host();
        let options = Options { cpu: false, ..Options::default() };
        ProcStat::new(Arc::clone(&other), dir.join("stat"), options, 1)
            .collect(1_700_000_000 * USEC_PER_SEC)
            .unwrap();
        assert_eq!(other.variable("active_processors"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_file_disables_the_collector() {
        let mut c = ProcStat::new(host(), "/nonexistent/stat", Options::default(), 1);
        assert!(matches!(c.collect(0), Err(CollectError::Disabled(_))));
    }
}
