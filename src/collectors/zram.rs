//! `/sys/block/zram*/mm_stat`: memory used by each zram device (compressed RAM, usually
//! swap on routers) and what the compression saves.
//!
//! Charts, dimensions and arithmetic are Netdata 1.37's `/sys/block/zram` module:
//! `mem.zram_usage.<dev>`, `mem.zram_savings.<dev>`, `mem.zram_ratio.<dev>` and
//! `mem.zram_efficiency.<dev>`, family the device, label `device`. As there, savings are
//! `compressed - original` (negative when compression helps), and an empty device reads a
//! ratio of 1 (0.01) and an efficiency of 100 (0.01 %), so both ends of a stream and the
//! dashboards see the numbers they would see from Netdata.
//!
//! Every `zram*` device with an `mm_stat` is collected, set up or not, as Netdata does (an
//! unconfigured one reads as empty). The devices are listed at start and again every
//! [`RESCAN_EVERY`] seconds, never per tick; each keeps its `mm_stat` open and reads it with
//! one `pread` per tick. A device that goes away (hot-removed) stores nothing more and has
//! its charts marked obsolete (freed after `[db] cleanup obsolete charts after secs`); one that
//! comes back gets them again. No `zram*` device at all (no zram module)
//! disables the collector.

use std::path::PathBuf;
use std::sync::Arc;

use super::table::PLUGIN;
use super::{parse_u64, CollectError, Collector, ProcFile};
use crate::clock::USEC_PER_SEC;
use crate::rrd::{label_source, Chart, ChartMeta, ChartType, DimensionMeta, Host, Label};

pub const MODULE: &str = "/sys/block/zram";
/// Seconds between two listings of `/sys/block`.
pub const RESCAN_EVERY: u64 = 60;

const MIB: i64 = 1024 * 1024;

/// The zram collector.
pub struct Zram {
    host: Arc<Host>,
    /// `/sys/block`.
    block: PathBuf,
    update_every: u32,
    devices: Vec<Device>,
    /// When `/sys/block` is listed next (µs); 0 before the first listing.
    next_scan_ut: u64,
}

struct Device {
    name: String,
    mm_stat: ProcFile,
    /// Listed at the last scan and readable since.
    present: bool,
    /// `[usage, savings, ratio, efficiency]`, defined at the first good reading.
    charts: Option<[Arc<Chart>; 4]>,
}

/// One chart of a device: id prefix (also the context's second half), title, units, type,
/// priority, and its dimensions (id, divisor).
struct Kind {
    id: &'static str,
    title: &'static str,
    units: &'static str,
    chart_type: ChartType,
    priority: i64,
    dims: &'static [(&'static str, i64)],
}

const KINDS: [Kind; 4] = [
    Kind {
        id: "zram_usage",
        title: "ZRAM Memory Usage",
        units: "MiB",
        chart_type: ChartType::Area,
        priority: 1600,
        dims: &[("compressed", MIB), ("metadata", MIB)],
    },
    Kind {
        id: "zram_savings",
        title: "ZRAM Memory Savings",
        units: "MiB",
        chart_type: ChartType::Area,
        priority: 1601,
        dims: &[("savings", MIB), ("original", MIB)],
    },
    Kind {
        id: "zram_ratio",
        title: "ZRAM Compression Ratio (original to compressed)",
        units: "ratio",
        chart_type: ChartType::Line,
        priority: 1602,
        dims: &[("ratio", 100)],
    },
    Kind {
        id: "zram_efficiency",
        title: "ZRAM Efficiency",
        units: "percentage",
        chart_type: ChartType::Line,
        priority: 1603,
        dims: &[("percent", 10_000)],
    },
];

impl Zram {
    /// `block` is normally `/sys/block`.
    pub fn new(host: Arc<Host>, block: impl Into<PathBuf>, update_every: u32) -> Zram {
        Zram {
            host,
            block: block.into(),
            update_every: update_every.max(1),
            devices: Vec::new(),
            next_scan_ut: 0,
        }
    }

    /// Lists the set-up zram devices: new ones are added, vanished ones dropped from
    /// collection, returning ones collected again.
    fn scan(&mut self, first: bool) -> Result<(), CollectError> {
        let entries = match std::fs::read_dir(&self.block) {
            Ok(e) => e,
            Err(e) if first => {
                return Err(CollectError::Disabled(format!("cannot read {}: {e}", self.block.display())))
            }
            Err(e) => return Err(CollectError::Failed(format!("cannot read {}: {e}", self.block.display()))),
        };
        let mut any = false;
        let mut found: Vec<(u32, String)> = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(n) = name.strip_prefix("zram").and_then(|n| n.parse::<u32>().ok()) else { continue };
            any = true;
            let dir = entry.path();
            if dir.join("mm_stat").exists() {
                found.push((n, name.to_owned()));
            }
        }
        if first && !any {
            return Err(CollectError::Disabled(format!(
                "no zram devices in {} (no zram module)",
                self.block.display()
            )));
        }
        found.sort();
        for d in &mut self.devices {
            let listed = found.iter().any(|(_, name)| *name == d.name);
            if d.present && !listed {
                gone(d);
            } else if !d.present && listed {
                log::info!("zram device {} is back", d.name);
                d.present = true;
            }
        }
        for (_, name) in found {
            if !self.devices.iter().any(|d| d.name == name) {
                let mm_stat = ProcFile::new(self.block.join(&name).join("mm_stat"));
                self.devices.push(Device { name, mm_stat, present: true, charts: None });
            }
        }
        Ok(())
    }
}

impl Collector for Zram {
    fn name(&self) -> &str {
        "sys.zram"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        let mut failed = None;
        let every_ut = RESCAN_EVERY * USEC_PER_SEC;
        // Also when the clock went back by more than the interval.
        if now_ut >= self.next_scan_ut || self.next_scan_ut > now_ut + every_ut {
            let first = self.next_scan_ut == 0;
            self.next_scan_ut = now_ut + every_ut;
            match self.scan(first) {
                Ok(()) => {}
                // The devices listed before are still collected.
                Err(CollectError::Failed(why)) => failed = Some(CollectError::Failed(why)),
                Err(e) => return Err(e),
            }
        }
        for d in self.devices.iter_mut().filter(|d| d.present) {
            let read = d.mm_stat.read().map(MmStat::parse);
            let stat = match read {
                Ok(stat) => stat,
                // Hot-removed since the last scan: its files are gone.
                Err(_) if !d.mm_stat.path().exists() => {
                    gone(d);
                    continue;
                }
                Err(e) => {
                    failed = Some(e);
                    continue;
                }
            };
            let Some(stat) = stat else {
                failed = Some(CollectError::Failed(format!(
                    "{} is not in the expected format",
                    d.mm_stat.path().display()
                )));
                continue;
            };
            let charts = d.charts.get_or_insert_with(|| define(&self.host, &d.name, self.update_every));
            for ((chart, kind), values) in charts.iter().zip(&KINDS).zip(stat.values()) {
                let mut c = chart.begin(now_ut, 0, false);
                for (dim, v) in values[..kind.dims.len()].iter().enumerate() {
                    c.set(dim, *v);
                }
                c.end();
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

/// The columns of `mm_stat` that the charts use, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MmStat {
    orig_data_size: u64,
    compr_data_size: u64,
    mem_used_total: u64,
}

impl MmStat {
    /// `orig_data_size compr_data_size mem_used_total mem_limit mem_used_max same_pages
    /// pages_compacted [huge_pages [huge_pages_since]]`; fewer than the seven columns every
    /// kernel with `mm_stat` prints is not `mm_stat` (Netdata drops those too).
    fn parse(text: &str) -> Option<MmStat> {
        let mut words = text.split_ascii_whitespace();
        let mut number = || words.next().filter(|w| w.bytes().all(|b| b.is_ascii_digit())).map(parse_u64);
        let stat =
            MmStat { orig_data_size: number()?, compr_data_size: number()?, mem_used_total: number()? };
        (words.count() >= 4).then_some(stat)
    }

    /// The raw values of each chart, in [`KINDS`] order (as many as the chart has
    /// dimensions), computed as Netdata 1.37 does: unsigned arithmetic whose wrap-around
    /// the signed dimensions show as negative.
    fn values(&self) -> [[i64; 2]; 4] {
        let (orig, compr, used) = (self.orig_data_size, self.compr_data_size, self.mem_used_total);
        // Netdata's stand-ins for an empty device: ratio 1, efficiency 100.
        let ratio = orig.wrapping_mul(100).checked_div(compr).unwrap_or(1);
        let efficiency = compr.wrapping_mul(1_000_000).checked_div(used).unwrap_or(100);
        [
            [compr as i64, used.wrapping_sub(compr) as i64],
            [compr.wrapping_sub(orig) as i64, orig as i64],
            [ratio as i64, 0],
            [efficiency as i64, 0],
        ]
    }
}

fn gone(d: &mut Device) {
    d.present = false;
    // Let go of the old file: a device of the same name later is a new one.
    d.mm_stat = ProcFile::new(d.mm_stat.path().to_path_buf());
    // The chart handles go too, so that `[db] cleanup obsolete charts after secs` can free
    // the charts; a device that comes back defines them again (reviving them if not freed).
    if let Some(charts) = d.charts.take() {
        log::info!("zram device {} is gone (removed, or reset); its charts are obsolete", d.name);
        set_obsolete(&charts);
    }
}

fn define(host: &Host, device: &str, update_every: u32) -> [Arc<Chart>; 4] {
    KINDS.map(|k| {
        let mut meta = ChartMeta::new("mem", &format!("{}.{device}", k.id))
            .title(k.title)
            .units(k.units)
            .family(device)
            .context(&format!("mem.{}", k.id))
            .chart_type(k.chart_type)
            .priority(k.priority)
            .update_every(update_every)
            .source(PLUGIN, MODULE);
        meta.labels.push(Label { name: "device".into(), value: device.into(), source: label_source::AUTO });
        let chart = host.chart_define(meta);
        for &(id, divisor) in k.dims {
            chart.dimension(DimensionMeta::new(id).scale(1, divisor));
        }
        chart
    })
}

fn set_obsolete(charts: &[Arc<Chart>]) {
    for c in charts {
        let mut m = c.meta();
        m.options.obsolete = true;
        c.redefine(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{host, last, sys_prefix, Scratch, T0};
    use crate::rrd::Algorithm;

    /// A `sys/block` with `zram0` (from the fixture tree) under a scratch root.
    fn stage(s: &Scratch, devices: &[&str]) -> PathBuf {
        let block = s.path("sys/block");
        for dev in devices {
            std::fs::create_dir_all(block.join(dev)).unwrap();
            for f in ["disksize", "mm_stat"] {
                put(&block, dev, f, &format!("zram0/{f}"));
            }
        }
        block
    }

    /// Copies fixture `sys/block/<from>` to `<block>/<dev>/<file>`.
    fn put(block: &std::path::Path, dev: &str, file: &str, from: &str) {
        std::fs::copy(sys_prefix().join("sys/block").join(from), block.join(dev).join(file)).unwrap();
    }

    /// The raw values of the chart's last collection.
    fn collected(host: &Host, chart: &str) -> Vec<i64> {
        host.chart(chart)
            .unwrap()
            .with_view(|v, _| v.dimensions().map(|d| d.last_collected_value()).collect())
    }

    #[test]
    fn charts_match_netdata_and_values_are_computed_over_ticks() {
        let s = Scratch::new("zram");
        let block = stage(&s, &["zram0"]);
        let host = host();
        let mut c = Zram::new(Arc::clone(&host), &block, 1);
        c.collect(T0).unwrap();
        assert_eq!(collected(&host, "mem.zram_usage.zram0"), [31_457_280, 2_097_152]);
        assert_eq!(collected(&host, "mem.zram_savings.zram0"), [-73_400_320, 104_857_600]);
        assert_eq!(collected(&host, "mem.zram_ratio.zram0"), [333]);
        assert_eq!(collected(&host, "mem.zram_efficiency.zram0"), [937_500]);

        put(&block, "zram0", "mm_stat", "zram0/mm_stat.2");
        for i in 1..4 {
            c.collect(T0 + i * USEC_PER_SEC).unwrap();
        }
        assert_eq!(collected(&host, "mem.zram_usage.zram0"), [40_370_176, 2_621_440]);
        assert_eq!(collected(&host, "mem.zram_savings.zram0"), [-85_458_944, 125_829_120]);
        assert_eq!(collected(&host, "mem.zram_ratio.zram0"), [311]);
        assert_eq!(collected(&host, "mem.zram_efficiency.zram0"), [939_024]);

        // Stored, in the charts' units.
        let stored = |id: &str, dim| last(&host.chart(id).unwrap(), dim);
        let near = |v: f64, want: f64| (v - want).abs() < 1e-3;
        assert!(near(stored("mem.zram_usage.zram0", 0), 38.5), "compressed MiB");
        assert!(near(stored("mem.zram_usage.zram0", 1), 2.5), "metadata MiB");
        assert!(near(stored("mem.zram_savings.zram0", 0), -81.5));
        assert!(near(stored("mem.zram_savings.zram0", 1), 120.0));
        assert!(near(stored("mem.zram_ratio.zram0", 0), 3.11));
        assert!(near(stored("mem.zram_efficiency.zram0", 0), 93.9024), "percent");

        // The metadata of the capture of Netdata 1.37.
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "mem.zram_usage.zram0",
                "mem.zram_savings.zram0",
                "mem.zram_ratio.zram0",
                "mem.zram_efficiency.zram0"
            ]
        );
        let want = [
            ("ZRAM Memory Usage", "MiB", "mem.zram_usage", ChartType::Area, 1600),
            ("ZRAM Memory Savings", "MiB", "mem.zram_savings", ChartType::Area, 1601),
            (
                "ZRAM Compression Ratio (original to compressed)",
                "ratio",
                "mem.zram_ratio",
                ChartType::Line,
                1602,
            ),
            ("ZRAM Efficiency", "percentage", "mem.zram_efficiency", ChartType::Line, 1603),
        ];
        for (chart, (title, units, context, chart_type, priority)) in host.charts().iter().zip(want) {
            let m = chart.meta();
            assert_eq!(
                (m.title.as_str(), m.units.as_str(), m.context.as_str(), m.chart_type, m.priority),
                (title, units, context, chart_type, priority)
            );
            assert_eq!((m.family.as_str(), m.plugin.as_str(), m.module.as_str()), ("zram0", PLUGIN, MODULE));
            assert_eq!(m.name, m.id, "no name of its own");
            let device = m.labels.iter().find(|l| l.name == "device").unwrap();
            assert_eq!((device.value.as_str(), device.source), ("zram0", label_source::AUTO));
        }
        let dims = |id: &str| -> Vec<(String, Algorithm, i64, i64)> {
            let c = host.chart(id).unwrap();
            c.dimensions().into_iter().map(|d| (d.name, d.algorithm, d.multiplier, d.divisor)).collect()
        };
        let abs = |n: &str, div| (n.to_owned(), Algorithm::Absolute, 1, div);
        assert_eq!(dims("mem.zram_usage.zram0"), [abs("compressed", MIB), abs("metadata", MIB)]);
        assert_eq!(dims("mem.zram_savings.zram0"), [abs("savings", MIB), abs("original", MIB)]);
        assert_eq!(dims("mem.zram_ratio.zram0"), [abs("ratio", 100)]);
        assert_eq!(dims("mem.zram_efficiency.zram0"), [abs("percent", 10_000)]);
    }

    #[test]
    fn an_empty_device_reads_like_netdata() {
        let stat = MmStat::parse("0 0 0 0 0 0 0 0 0\n").unwrap();
        assert_eq!(stat.values(), [[0, 0], [0, 0], [1, 0], [100, 0]], "the capture's values");
    }

    #[test]
    fn every_device_of_the_fixture_tree_as_netdata() {
        // zram1 is this machine's: loaded, never given a disksize. Netdata 1.37 charts it
        // (reading empty), and so does nanodata.
        let host = host();
        let mut c = Zram::new(Arc::clone(&host), sys_prefix().join("sys/block"), 1);
        c.collect(T0).unwrap();
        assert!(host.chart("mem.zram_usage.zram0").is_some());
        assert_eq!(collected(&host, "mem.zram_ratio.zram1"), [1], "an empty device's ratio");
        assert_eq!(collected(&host, "mem.zram_efficiency.zram1"), [100]);
        assert_eq!(host.chart_count(), 8);
    }

    #[test]
    fn a_vanished_device_stores_nothing_and_comes_back() {
        let s = Scratch::new("zram-gone");
        let block = stage(&s, &["zram0", "zram2"]);
        let host = host();
        let mut c = Zram::new(Arc::clone(&host), &block, 1);
        c.collect(T0).unwrap();
        c.collect(T0 + USEC_PER_SEC).unwrap();
        let ratio2 = host.chart("mem.zram_ratio.zram2").unwrap();
        let stored = ratio2.query(0, 0, i64::MAX).len();
        std::fs::remove_dir_all(block.join("zram2")).unwrap();
        // The next scan (a minute after the first) sees it gone: no error, no value.
        let gone_at = T0 + RESCAN_EVERY * USEC_PER_SEC;
        c.collect(gone_at).unwrap();
        c.collect(gone_at + USEC_PER_SEC).unwrap();
        assert!(ratio2.meta().options.obsolete);
        assert!(host.chart("mem.zram_usage.zram2").unwrap().meta().options.obsolete);
        assert_eq!(ratio2.query(0, 0, i64::MAX).len(), stored, "nothing stored for a vanished device");
        let ratio0 = host.chart("mem.zram_ratio.zram0").unwrap();
        assert!(!ratio0.meta().options.obsolete);
        assert_eq!(ratio0.last_entry_t(), Some(((gone_at + USEC_PER_SEC) / USEC_PER_SEC) as i64));

        // Back, with other contents, at the scan after.
        stage(&s, &["zram2"]);
        put(&block, "zram2", "mm_stat", "zram0/mm_stat.2");
        c.collect(T0 + 2 * RESCAN_EVERY * USEC_PER_SEC).unwrap();
        assert!(!ratio2.meta().options.obsolete);
        assert_eq!(collected(&host, "mem.zram_ratio.zram2"), [311]);
    }

    #[test]
    fn a_device_hot_removed_between_scans_is_dropped_at_once() {
        let s = Scratch::new("zram-removed");
        let block = stage(&s, &["zram0"]);
        let host = host();
        let mut c = Zram::new(Arc::clone(&host), &block, 1);
        c.scan(true).unwrap();
        c.next_scan_ut = T0 + RESCAN_EVERY * USEC_PER_SEC;
        // Listed, then removed before the tick (the kernel also fails reads of a removed
        // device's open files): dropped without an error, long before the next scan.
        std::fs::remove_dir_all(block.join("zram0")).unwrap();
        c.collect(T0).unwrap();
        assert!(!c.devices[0].present);
        assert_eq!(host.chart_count(), 0);
    }

    #[test]
    fn a_malformed_mm_stat_fails_the_tick_without_storing() {
        let s = Scratch::new("zram-malformed");
        let block = stage(&s, &["zram0", "zram3"]);
        let host = host();
        let mut c = Zram::new(Arc::clone(&host), &block, 1);
        c.collect(T0).unwrap();
        put(&block, "zram3", "mm_stat", "zram0/mm_stat.malformed");
        put(&block, "zram0", "mm_stat", "zram0/mm_stat.2");
        assert!(matches!(c.collect(T0 + USEC_PER_SEC), Err(CollectError::Failed(_))));
        assert_eq!(collected(&host, "mem.zram_ratio.zram3"), [333], "the previous tick's");
        assert_eq!(collected(&host, "mem.zram_ratio.zram0"), [311], "the other device is collected");
        assert_eq!(MmStat::parse("1 2 3 4 5 6"), None);
        assert_eq!(MmStat::parse("1 2 x 4 5 6 7"), None);
        assert_eq!(MmStat::parse(""), None);
    }

    #[test]
    fn no_zram_module_disables() {
        let s = Scratch::new("zram-none");
        std::fs::create_dir_all(s.path("sys/block/sda")).unwrap();
        let mut c = Zram::new(host(), s.path("sys/block"), 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
        let mut c = Zram::new(host(), "/nonexistent/sys/block", 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
    }
}
