//! `/proc/meminfo`: RAM, swap, available, committed, writeback, kernel and slab memory.
//!
//! Chart ids, titles, units, families, contexts, priorities and dimensions are Netdata 1.37's.
//! Values are the kernel's KiB, stored as MiB through a divisor of 1024. Optional charts
//! follow Netdata's "auto": `system.swap` appears once swap exists, `mem.hwcorrupt` once
//! the kernel reports corrupted memory, `mem.available` when the kernel has `MemAvailable`.

use std::path::PathBuf;
use std::sync::Arc;

use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{Chart, ChartMeta, ChartType, DimensionMeta, Host};

const PLUGIN: &str = "proc.plugin";
const MODULE: &str = "/proc/meminfo";

/// The `/proc/meminfo` collector.
pub struct Meminfo {
    host: Arc<Host>,
    file: ProcFile,
    update_every: u32,
    charts: [Option<Arc<Chart>>; KINDS],
}

/// The fields read, in the order of [`FIELDS`].
#[derive(Copy, Clone)]
enum F {
    MemTotal,
    MemFree,
    MemAvailable,
    Buffers,
    Cached,
    SwapTotal,
    SwapFree,
    Dirty,
    Writeback,
    WritebackTmp,
    NfsUnstable,
    Bounce,
    Shmem,
    Slab,
    SReclaimable,
    SUnreclaim,
    KernelStack,
    PageTables,
    VmallocUsed,
    Percpu,
    CommittedAs,
    HardwareCorrupted,
}

const FIELDS: [&str; 22] = [
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "SwapTotal",
    "SwapFree",
    "Dirty",
    "Writeback",
    "WritebackTmp",
    "NFS_Unstable",
    "Bounce",
    "Shmem",
    "Slab",
    "SReclaimable",
    "SUnreclaim",
    "KernelStack",
    "PageTables",
    "VmallocUsed",
    "Percpu",
    "Committed_AS",
    "HardwareCorrupted",
];

/// The charts, in creation order.
#[derive(Copy, Clone)]
enum Kind {
    Ram,
    Swap,
    HwCorrupt,
    Available,
    Committed,
    Writeback,
    Kernel,
    Slab,
}
const KINDS: usize = 8;

impl Meminfo {
    /// `path` is normally `/proc/meminfo`.
    pub fn new(host: Arc<Host>, path: impl Into<PathBuf>, update_every: u32) -> Meminfo {
        Meminfo {
            host,
            file: ProcFile::new(path),
            update_every: update_every.max(1),
            charts: Default::default(),
        }
    }

    fn chart(&mut self, kind: Kind) -> Arc<Chart> {
        if let Some(c) = &self.charts[kind as usize] {
            return Arc::clone(c);
        }
        let (type_, id, title, family, chart_type, priority, detail) = match kind {
            Kind::Ram => ("system", "ram", "System RAM", "ram", ChartType::Stacked, 200, false),
            Kind::Swap => ("system", "swap", "System Swap", "swap", ChartType::Stacked, 201, false),
            Kind::HwCorrupt => {
                ("mem", "hwcorrupt", "Corrupted Memory, detected by ECC", "ecc", ChartType::Line, 9000, true)
            }
            Kind::Available => {
                ("mem", "available", "Available RAM for applications", "system", ChartType::Area, 1010, false)
            }
            Kind::Committed => {
                ("mem", "committed", "Committed (Allocated) Memory", "system", ChartType::Area, 1030, true)
            }
            Kind::Writeback => {
                ("mem", "writeback", "Writeback Memory", "kernel", ChartType::Line, 1100, true)
            }
            Kind::Kernel => {
                ("mem", "kernel", "Memory Used by Kernel", "kernel", ChartType::Stacked, 1101, true)
            }
            Kind::Slab => {
                ("mem", "slab", "Reclaimable Kernel Memory", "slab", ChartType::Stacked, 1200, true)
            }
        };
        let mut meta = ChartMeta::new(type_, id)
            .title(title)
            .units("MiB")
            .family(family)
            .chart_type(chart_type)
            .priority(priority)
            .update_every(self.update_every)
            .source(PLUGIN, MODULE);
        if detail {
            meta = meta.detail();
        }
        let chart = self.host.chart_define(meta);
        let dims: &[(&str, &str)] = match kind {
            Kind::Ram => &[("free", "free"), ("used", "used"), ("cached", "cached"), ("buffers", "buffers")],
            Kind::Swap => &[("free", "free"), ("used", "used")],
            Kind::HwCorrupt => &[("HardwareCorrupted", "HardwareCorrupted")],
            Kind::Available => &[("MemAvailable", "avail")],
            Kind::Committed => &[("Committed_AS", "Committed_AS")],
            Kind::Writeback => &[
                ("Dirty", "Dirty"),
                ("Writeback", "Writeback"),
                ("FuseWriteback", "FuseWriteback"),
                ("NfsWriteback", "NfsWriteback"),
                ("Bounce", "Bounce"),
            ],
            Kind::Kernel => &[
                ("Slab", "Slab"),
                ("KernelStack", "KernelStack"),
                ("PageTables", "PageTables"),
                ("VmallocUsed", "VmallocUsed"),
                ("Percpu", "Percpu"),
            ],
            Kind::Slab => &[("reclaimable", "reclaimable"), ("unreclaimable", "unreclaimable")],
        };
        for (id, name) in dims {
            chart.dimension(DimensionMeta::new(id).name(name).scale(1, 1024));
        }
        self.charts[kind as usize] = Some(Arc::clone(&chart));
        chart
    }

    fn store(&mut self, kind: Kind, now_ut: u64, values: &[i64]) {
        let chart = self.chart(kind);
        let mut c = chart.begin(now_ut, 0, false);
        for (i, v) in values.iter().enumerate() {
            c.set(i, *v);
        }
        c.end();
    }
}

impl Collector for Meminfo {
    fn name(&self) -> &str {
        "proc.meminfo"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let mut v: [Option<i64>; 22] = [None; 22];
        {
            let text = self.file.read()?;
            for line in text.lines() {
                let Some((key, rest)) = line.split_once(':') else { continue };
                if let Some(i) = FIELDS.iter().position(|f| *f == key) {
                    v[i] = Some(parse_i64(rest.trim_start()));
                }
            }
        }
        let get = |f: F| v[f as usize].unwrap_or(0);
        if v[F::MemTotal as usize].is_none() {
            return Err(CollectError::Failed(format!("{} has no MemTotal", self.file.path().display())));
        }

        // "cached" counts reclaimable slab and leaves out shared memory, which cannot be
        // dropped; "used" is what remains once free, cached and buffers are taken out.
        let cached = (get(F::Cached) + get(F::SReclaimable) - get(F::Shmem)).max(0);
        let used = (get(F::MemTotal) - get(F::MemFree) - cached - get(F::Buffers)).max(0);
        self.store(Kind::Ram, now_ut, &[get(F::MemFree), used, cached, get(F::Buffers)]);

        let swap_total = get(F::SwapTotal);
        if swap_total > 0 || self.charts[Kind::Swap as usize].is_some() {
            let free = get(F::SwapFree);
            self.store(Kind::Swap, now_ut, &[free, (swap_total - free).max(0)]);
        }
        if let Some(h) = v[F::HardwareCorrupted as usize] {
            if h > 0 || self.charts[Kind::HwCorrupt as usize].is_some() {
                self.store(Kind::HwCorrupt, now_ut, &[h]);
            }
        }
        if let Some(a) = v[F::MemAvailable as usize] {
            self.store(Kind::Available, now_ut, &[a]);
        }
        self.store(Kind::Committed, now_ut, &[get(F::CommittedAs)]);
        self.store(
            Kind::Writeback,
            now_ut,
            &[get(F::Dirty), get(F::Writeback), get(F::WritebackTmp), get(F::NfsUnstable), get(F::Bounce)],
        );
        self.store(
            Kind::Kernel,
            now_ut,
            &[get(F::Slab), get(F::KernelStack), get(F::PageTables), get(F::VmallocUsed), get(F::Percpu)],
        );
        self.store(Kind::Slab, now_ut, &[get(F::SReclaimable), get(F::SUnreclaim)]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{fixture, host, last, T0};

    #[test]
    fn router_meminfo_without_swap() {
        let host = host();
        let mut c = Meminfo::new(Arc::clone(&host), fixture("meminfo.router"), 1);
        c.collect(T0).unwrap();
        c.collect(T0 + 1_000_000).unwrap();
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            ["system.ram", "mem.available", "mem.committed", "mem.writeback", "mem.kernel", "mem.slab"]
        );
        let ram = host.chart("system.ram").unwrap();
        let m = ram.meta();
        assert_eq!((m.title.as_str(), m.units.as_str(), m.family.as_str()), ("System RAM", "MiB", "ram"));
        assert_eq!((m.priority, m.chart_type, m.options.detail), (200, ChartType::Stacked, false));
        let d = ram.dimensions();
        assert_eq!((d[0].multiplier, d[0].divisor), (1, 1024));
        // MemTotal 124 MiB, free 60 MiB, Cached 20 + SReclaimable 4 - Shmem 2 = 22, buffers 2.
        assert!((last(&ram, 0) - 60.0).abs() < 1e-6);
        assert!((last(&ram, 2) - 22.0).abs() < 1e-6);
        assert!((last(&ram, 1) - 40.0).abs() < 1e-6);
        let avail = host.chart("mem.available").unwrap();
        assert_eq!(avail.dimensions()[0].name, "avail");
        assert!(host.chart("mem.committed").unwrap().meta().options.detail);
    }

    #[test]
    fn swap_appears_once_it_exists() {
        let host = host();
        let mut c = Meminfo::new(Arc::clone(&host), fixture("meminfo.real-x86_64"), 1);
        c.collect(T0).unwrap();
        assert!(host.chart("system.swap").is_none(), "no swap on this machine");
        assert!(host.chart("mem.hwcorrupt").is_none());
        let host = crate::collectors::testing::host();
        let mut c = Meminfo::new(Arc::clone(&host), fixture("meminfo.swap"), 1);
        c.collect(T0).unwrap();
        c.collect(T0 + 1_000_000).unwrap();
        let swap = host.chart("system.swap").unwrap();
        assert_eq!(swap.meta().priority, 201);
        assert!((last(&swap, 1) - 64.0).abs() < 1e-6, "used {}", last(&swap, 1));
    }

    #[test]
    fn missing_file_disables() {
        let mut c = Meminfo::new(host(), "/nonexistent/meminfo", 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
    }
}
