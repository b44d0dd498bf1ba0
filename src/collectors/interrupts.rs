//! `/proc/interrupts` and `/proc/softirqs`: interrupts per second by source, in total
//! (`system.interrupts`, `system.softirqs`) and optionally per CPU (`cpu.cpuN_interrupts`,
//! `cpu.cpuN_softirqs`).
//!
//! Chart ids, titles, units, families, contexts, priorities and dimensions are Netdata
//! 1.37's: a dimension is the interrupt's label (`24`, `LOC`, `NET_RX`), named for numbered
//! IRQs `<device>_<irq>` after the line's last word, and it appears once its count is
//! non-zero. Rows are matched by position and re-matched by label when the kernel's list
//! changes, so a steady file costs no allocation.

use std::path::PathBuf;
use std::sync::Arc;

use super::table::PLUGIN;
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{label_source, Algorithm, Chart, ChartMeta, DimensionMeta, Host, Label};

/// Which file.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Interrupts,
    Softirqs,
}

/// The collector of one of the two files.
pub struct Interrupts {
    host: Arc<Host>,
    file: ProcFile,
    kind: Kind,
    per_core: bool,
    update_every: u32,
    system: Option<Arc<Chart>>,
    cores: Vec<Arc<Chart>>,
    rows: Vec<Row>,
    /// This tick's counts, `rows × cpus`.
    cells: Vec<i64>,
}

struct Row {
    label: String,
    name: String,
    total: i64,
    /// Dimension in `system`, then in each CPU's chart, once non-zero there.
    dim: Option<usize>,
    core_dims: Vec<Option<usize>>,
}

impl Interrupts {
    pub fn new(
        host: Arc<Host>,
        path: impl Into<PathBuf>,
        kind: Kind,
        per_core: bool,
        update_every: u32,
    ) -> Interrupts {
        Interrupts {
            host,
            file: ProcFile::new(path),
            kind,
            per_core,
            update_every: update_every.max(1),
            system: None,
            cores: Vec::new(),
            rows: Vec::new(),
            cells: Vec::new(),
        }
    }

    fn meta(&self, core: Option<usize>) -> ChartMeta {
        let (what, title, units, priority, core_priority) = match self.kind {
            Kind::Interrupts => {
                ("interrupts", ["System interrupts", "CPU Interrupts"], "interrupts/s", 1000, 1100)
            }
            Kind::Softirqs => ("softirqs", ["System softirqs", "CPU softirqs"], "softirqs/s", 950, 3000),
        };
        let m = match core {
            None => ChartMeta::new("system", what).title(title[0]).priority(priority),
            Some(n) => {
                let mut m = ChartMeta::new("cpu", &format!("cpu{n}_{what}"))
                    .title(title[1])
                    .context(&format!("cpu.{what}"))
                    .priority(core_priority + n as i64);
                m.labels.push(Label {
                    name: "cpu".into(),
                    value: format!("cpu{n}"),
                    source: label_source::AUTO,
                });
                m
            }
        };
        let module = match self.kind {
            Kind::Interrupts => "/proc/interrupts",
            Kind::Softirqs => "/proc/softirqs",
        };
        m.units(units)
            .family(what)
            .chart_type(crate::rrd::ChartType::Stacked)
            .update_every(self.update_every)
            .source(PLUGIN, module)
    }
}

impl Collector for Interrupts {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Interrupts => "proc.interrupts",
            Kind::Softirqs => "proc.softirqs",
        }
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let text = self.file.read()?;
        let mut lines = text.lines();
        let cpus = lines.next().map_or(0, |h| h.split_ascii_whitespace().count());
        if cpus == 0 {
            return Err(CollectError::Failed(format!("{} has no CPU header", self.file.path().display())));
        }
        let mut n = 0;
        for line in lines {
            let Some((label, rest)) = line.split_once(':') else { continue };
            let label = label.trim();
            if label.is_empty() {
                continue;
            }
            // Match by position; if the list changed, by label; else a new row.
            if self.rows.get(n).is_none_or(|r| r.label != label) {
                match self.rows.iter().position(|r| r.label == label) {
                    Some(i) if i > n => self.rows.swap(i, n),
                    _ => {
                        let name = if label.bytes().all(|b| b.is_ascii_digit()) {
                            let device = rest.split_ascii_whitespace().last().unwrap_or("");
                            let device = device.rsplit(':').next().unwrap_or(device);
                            format!("{device}_{label}")
                        } else {
                            label.to_owned()
                        };
                        let row =
                            Row { label: label.to_owned(), name, total: 0, dim: None, core_dims: Vec::new() };
                        self.rows.insert(n, row);
                    }
                }
            }
            if self.cells.len() < (n + 1) * cpus {
                self.cells.resize((n + 1) * cpus, 0);
            }
            let cells = &mut self.cells[n * cpus..(n + 1) * cpus];
            cells.iter_mut().for_each(|c| *c = 0);
            let mut total: i64 = 0;
            // Rows like `ERR: 0` have one number; counts end at the first non-number.
            for (cell, word) in cells.iter_mut().zip(rest.split_ascii_whitespace()) {
                if !word.bytes().all(|b| b.is_ascii_digit()) {
                    break;
                }
                *cell = parse_i64(word);
                total = total.wrapping_add(*cell);
            }
            self.rows[n].total = total;
            n += 1;
        }
        self.rows.truncate(n);

        let system = match &self.system {
            Some(c) => Arc::clone(c),
            None => {
                let c = self.host.chart_define(self.meta(None));
                self.system = Some(Arc::clone(&c));
                c
            }
        };
        for r in &mut self.rows {
            if r.dim.is_none() && r.total != 0 {
                r.dim = Some(system.dimension(dimension(r)));
            }
        }
        let mut c = system.begin(now_ut, 0, false);
        for r in &self.rows {
            if let Some(d) = r.dim {
                c.set(d, r.total);
            }
        }
        c.end();

        if self.per_core {
            while self.cores.len() < cpus {
                let chart = self.host.chart_define(self.meta(Some(self.cores.len())));
                self.cores.push(chart);
            }
            for (cpu, chart) in self.cores.iter().enumerate().take(cpus) {
                for (i, r) in self.rows.iter_mut().enumerate() {
                    if r.core_dims.len() <= cpu {
                        r.core_dims.resize(cpu + 1, None);
                    }
                    if r.core_dims[cpu].is_none() && self.cells[i * cpus + cpu] != 0 {
                        r.core_dims[cpu] = Some(chart.dimension(dimension(r)));
                    }
                }
                let mut c = chart.begin(now_ut, 0, false);
                for (i, r) in self.rows.iter().enumerate() {
                    if let Some(d) = r.core_dims[cpu] {
                        c.set(d, self.cells[i * cpus + cpu]);
                    }
                }
                c.end();
            }
        }
        Ok(())
    }
}

fn dimension(r: &Row) -> DimensionMeta {
    DimensionMeta::new(&r.label).name(&r.name).algorithm(Algorithm::Incremental)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::table::tests::{approx, drive, fixture, host, last, scratch, T0};

    #[test]
    fn interrupts_match_netdata() {
        let dir = scratch("interrupts");
        let host = host();
        let mut c = Interrupts::new(Arc::clone(&host), dir.join("interrupts"), Kind::Interrupts, true, 1);
        drive(&mut c, &dir.join("interrupts"), &["interrupts.1", "interrupts.2", "interrupts.3"]);
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(ids, ["system.interrupts", "cpu.cpu0_interrupts", "cpu.cpu1_interrupts"]);
        let sys = host.chart("system.interrupts").unwrap();
        let dims: Vec<(String, String)> = sys.dimensions().into_iter().map(|d| (d.id, d.name)).collect();
        // IRQ 30 appeared in .2 (a new line): its dimension comes last; IRQ 31 and Err never fired.
        let want = [
            ("17", "arch_timer_17"),
            ("29", "eth0_29"),
            ("IPI0", "IPI0"),
            ("IPI1", "IPI1"),
            ("30", "ath10k_pci_30"),
        ];
        assert_eq!(dims, want.map(|(a, b)| (a.to_string(), b.to_string())));
        let m = host.chart("cpu.cpu1_interrupts").unwrap().meta();
        assert_eq!(
            (m.context.as_str(), m.priority, m.title.as_str()),
            ("cpu.interrupts", 1101, "CPU Interrupts")
        );
        assert!(m.labels.iter().any(|l| l.name == "cpu" && l.value == "cpu1"));
        assert!(approx(last(&host, "system.interrupts", "29"), 300.0));
        assert!(approx(last(&host, "cpu.cpu1_interrupts", "29"), 200.0));
        // IRQ 30 only fires on cpu0.
        let cpu1: Vec<String> =
            host.chart("cpu.cpu1_interrupts").unwrap().dimensions().into_iter().map(|d| d.id).collect();
        assert!(!cpu1.contains(&"30".to_string()));
        assert!(last(&host, "system.interrupts", "30").is_some_and(|v| v > 0.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn softirqs_and_real_files() {
        let host = host();
        let mut c = Interrupts::new(
            Arc::clone(&host),
            fixture("proc/softirqs.real-x86_64"),
            Kind::Softirqs,
            false,
            1,
        );
        c.collect(T0).unwrap();
        let m = host.chart("system.softirqs").unwrap().meta();
        assert_eq!((m.title.as_str(), m.units.as_str(), m.priority), ("System softirqs", "softirqs/s", 950));
        assert!(host.chart("system.softirqs").unwrap().dimension_index("TIMER").is_some());
        assert!(host.chart("cpu.cpu0_softirqs").is_none(), "per core is off");
        let mut c = Interrupts::new(
            Arc::clone(&host),
            fixture("proc/interrupts.real-x86_64"),
            Kind::Interrupts,
            false,
            1,
        );
        c.collect(T0).unwrap();
        let sys = host.chart("system.interrupts").unwrap();
        let i = sys.dimension_index("24").unwrap();
        assert_eq!(sys.dimensions()[i].name, "Ged_24");
    }
}
