//! `/proc/diskstats`: per-disk bandwidth, operations, queue, backlog, busy time, utilisation,
//! merged operations, I/O time, the averages derived from them, discard/flush statistics,
//! and `system.io`, the bandwidth of the physical disks together.
//!
//! Guarantees:
//! - chart ids, titles, units, families, contexts, priorities and dimensions are Netdata
//!   1.37's; a disk's family is its mount point when the disk itself is mounted, else its
//!   name;
//! - which disks are charted (Netdata's defaults): whole physical disks (`sys/block/<d>/device`
//!   exists) and virtual disks (no device link: zram, dm, md…) on "auto", partitions
//!   (`sys/class/block/<d>/partition` exists) not at all, and names matching
//!   `exclude disks` (default `loop* ram*`) never. "auto" charts appear once their counters
//!   are non-zero, so idle virtual disks stay invisible;
//! - the averages (await, average size, service time) and utilisation are computed from the
//!   previous tick, so they appear from the second tick on;
//! - a disk that disappears (a removed USB stick) has its charts marked obsolete; when it
//!   returns they are revived;
//! - once every disk has been seen, a tick allocates nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chart_def::{set_obsolete, Template};
use super::net_dev::{chart_id_part, simple_match, Switch};
use super::table::{Dim, Spec};
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{label_source, Chart, Host, Label};

const MODULE: &str = "/proc/diskstats";

/// `[plugin:proc:/proc/diskstats]` settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// `performance metrics for physical disks`.
    pub physical: Switch,
    /// `performance metrics for virtual disks`.
    pub virtual_disks: Switch,
    /// `performance metrics for partitions`.
    pub partitions: Switch,
    /// `exclude disks`: a simple pattern of disk names never charted.
    pub exclude: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { physical: None, virtual_disks: None, partitions: Some(false), exclude: "loop* ram*".into() }
    }
}

/// The `/proc/diskstats` collector.
pub struct DiskStats {
    host: Arc<Host>,
    file: ProcFile,
    mountinfo: PathBuf,
    /// Root under which `sys/block` and `sys/class/block` are looked up.
    prefix: PathBuf,
    options: Options,
    update_every: u32,
    disks: Vec<Disk>,
    system_io: Option<Arc<Chart>>,
}

/// Fields of a diskstats line after the name.
const READS: usize = 0;
const READS_MERGED: usize = 1;
const SECTORS_READ: usize = 2;
const MS_READING: usize = 3;
const WRITES: usize = 4;
const WRITES_MERGED: usize = 5;
const SECTORS_WRITTEN: usize = 6;
const MS_WRITING: usize = 7;
const IN_PROGRESS: usize = 8;
const MS_BUSY: usize = 9;
const MS_WEIGHTED: usize = 10;
const DISCARDS: usize = 11;
const DISCARDS_MERGED: usize = 12;
const SECTORS_DISCARDED: usize = 13;
const MS_DISCARDING: usize = 14;
const FLUSHES: usize = 15;
const MS_FLUSHING: usize = 16;
const FIELDS: usize = 17;

/// Where a dimension's value comes from.
#[derive(Copy, Clone)]
enum Src {
    /// A raw field.
    Field(usize),
    /// Δ`num` × 1000 / Δ`den` since the previous tick (0 when Δ`den` is 0).
    PerOp(usize, usize),
    /// Δ`num` / Δ`den`, unscaled.
    PerOpRaw(usize, usize),
    /// Δ(reads + writes), as the denominator of the service time.
    ServiceTime,
    /// Busy share of the elapsed time, in percent.
    Utilization,
}

/// A disk's chart; derived ones ([`derived`]) need the previous tick.
type Kind = Template<Src>;

use Src::{Field, PerOp, PerOpRaw, ServiceTime, Utilization};

/// In Netdata's creation order.
#[rustfmt::skip]
const KINDS: [Kind; 17] = [
    Kind::new("disk", "Disk I/O Bandwidth", "KiB/s", "disk.io", 2000, &[
        ("reads", 512, 1024, Field(SECTORS_READ)),
        ("writes", -512, 1024, Field(SECTORS_WRITTEN)),
    ]).area(),
    Kind::new("disk_ext", "Amount of Discarded Data", "KiB/s", "disk_ext.io", 2001, &[
        ("discards", 512, 1024, Field(SECTORS_DISCARDED)),
    ]).area(),
    Kind::new("disk_ops", "Disk Completed I/O Operations", "operations/s", "disk.ops", 2010, &[
        ("reads", 1, 1, Field(READS)),
        ("writes", -1, 1, Field(WRITES)),
    ]).detail(),
    Kind::new("disk_ext_ops", "Disk Completed Extended I/O Operations", "operations/s", "disk_ext.ops", 2011, &[
        ("discards", 1, 1, Field(DISCARDS)),
        ("flushes", 1, 1, Field(FLUSHES)),
    ]).detail(),
    Kind::new("disk_qops", "Disk Current I/O Operations", "operations", "disk.qops", 2015, &[
        ("operations", 1, 1, Field(IN_PROGRESS)),
    ]).detail().absolute(),
    Kind::new("disk_backlog", "Disk Backlog", "milliseconds", "disk.backlog", 2020, &[
        ("backlog", 1, 1, Field(MS_WEIGHTED)),
    ]).area().detail(),
    Kind::new("disk_busy", "Disk Busy Time", "milliseconds", "disk.busy", 2030, &[
        ("busy", 1, 1, Field(MS_BUSY)),
    ]).area().detail(),
    Kind::new("disk_util", "Disk Utilization Time", "% of time working", "disk.util", 2040, &[
        ("utilization", 1, 1, Utilization),
    ]).area().detail().absolute(),
    Kind::new("disk_mops", "Disk Merged Operations", "merged operations/s", "disk.mops", 2080, &[
        ("reads", 1, 1, Field(READS_MERGED)),
        ("writes", -1, 1, Field(WRITES_MERGED)),
    ]).detail(),
    Kind::new("disk_ext_mops", "Disk Merged Discard Operations", "merged operations/s", "disk_ext.mops", 2081, &[
        ("discards", 1, 1, Field(DISCARDS_MERGED)),
    ]).detail(),
    Kind::new("disk_iotime", "Disk Total I/O Time", "milliseconds/s", "disk.iotime", 2090, &[
        ("reads", 1, 1, Field(MS_READING)),
        ("writes", -1, 1, Field(MS_WRITING)),
    ]).detail(),
    Kind::new("disk_ext_iotime", "Disk Total I/O Time for Extended Operations", "milliseconds/s", "disk_ext.iotime", 2091, &[
        ("discards", 1, 1, Field(MS_DISCARDING)),
        ("flushes", 1, 1, Field(MS_FLUSHING)),
    ]).detail(),
    Kind::new("disk_await", "Average Completed I/O Operation Time", "milliseconds/operation", "disk.await", 2050, &[
        ("reads", 1, 1000, PerOp(MS_READING, READS)),
        ("writes", -1, 1000, PerOp(MS_WRITING, WRITES)),
    ]).detail().absolute(),
    Kind::new("disk_ext_await", "Average Completed Extended I/O Operation Time", "milliseconds/operation", "disk_ext.await", 2051, &[
        ("discards", 1, 1000, PerOp(MS_DISCARDING, DISCARDS)),
        ("flushes", 1, 1000, PerOp(MS_FLUSHING, FLUSHES)),
    ]).detail().absolute(),
    Kind::new("disk_avgsz", "Average Completed I/O Operation Bandwidth", "KiB/operation", "disk.avgsz", 2060, &[
        ("reads", 512, 1024, PerOpRaw(SECTORS_READ, READS)),
        ("writes", -512, 1024, PerOpRaw(SECTORS_WRITTEN, WRITES)),
    ]).area().detail().absolute(),
    Kind::new("disk_ext_avgsz", "Average Amount of Discarded Data", "KiB/operation", "disk_ext.avgsz", 2061, &[
        ("discards", 512, 1024, PerOpRaw(SECTORS_DISCARDED, DISCARDS)),
    ]).area().detail().absolute(),
    Kind::new("disk_svctm", "Average Service Time", "milliseconds/operation", "disk.svctm", 2070, &[
        ("svctm", 1, 1000, ServiceTime),
    ]).detail().absolute(),
];

/// The physical disks' bandwidth together.
static SYSTEM_IO: Spec = Spec::new(
    "system",
    "io",
    "Disk I/O",
    "KiB/s",
    "disk",
    150,
    &[Dim::inc("", "in", "in", 1), Dim::inc("", "out", "out", -1)],
)
.area();

/// Whether a chart is computed from two ticks (an average per operation).
fn derived(kind: &Kind) -> bool {
    kind.dims.iter().any(|&(_, _, _, s)| matches!(s, PerOp(..) | PerOpRaw(..) | ServiceTime))
}

/// Indexes into [`KINDS`] of the charts a derived chart is computed from.
fn inputs(k: usize) -> &'static [usize] {
    match k {
        7 => &[6],      // util ← busy
        12 => &[2, 10], // await ← ops, iotime
        13 => &[3, 11], // ext await ← ext ops, ext iotime
        14 => &[0, 2],  // avgsz ← io, ops
        15 => &[1, 3],  // ext avgsz ← ext io, ext ops
        16 => &[2, 6],  // svctm ← ops, busy
        _ => &[],
    }
}

#[derive(Copy, Clone, PartialEq, Debug)]
enum DiskKind {
    Physical,
    Virtual,
    Partition,
}

struct Disk {
    name: String,
    kind: DiskKind,
    /// Charted at all (kind enabled, not excluded).
    wanted: bool,
    present: bool,
    /// Whether the line carries discard (and flush) fields.
    fields: usize,
    mount_point: Option<String>,
    charts: [Option<Arc<Chart>>; KINDS.len()],
    prev: [i64; FIELDS],
    prev_ut: u64,
}

impl DiskStats {
    /// `path` is normally `/proc/diskstats`, `mountinfo` `/proc/self/mountinfo` and
    /// `prefix` the root holding `sys/`.
    pub fn new(
        host: Arc<Host>,
        path: impl Into<PathBuf>,
        mountinfo: impl Into<PathBuf>,
        prefix: impl Into<PathBuf>,
        options: Options,
        update_every: u32,
    ) -> DiskStats {
        DiskStats {
            host,
            file: ProcFile::new(path),
            mountinfo: mountinfo.into(),
            prefix: prefix.into(),
            options,
            update_every: update_every.max(1),
            disks: Vec::new(),
            system_io: None,
        }
    }
}

impl Disk {
    /// A disk seen for the first time: what kind it is, whether it is charted, where it is
    /// mounted.
    fn discover(prefix: &Path, mountinfo: &Path, options: &Options, id: (&str, &str), name: &str) -> Disk {
        let kind = disk_kind(prefix, name);
        let switch = match kind {
            DiskKind::Physical => options.physical,
            DiskKind::Virtual => options.virtual_disks,
            DiskKind::Partition => options.partitions,
        };
        let wanted = switch != Some(false) && !simple_match(&options.exclude, name);
        Disk {
            name: name.to_owned(),
            kind,
            wanted,
            present: false,
            fields: 0,
            mount_point: if wanted { mount_point(mountinfo, id.0, id.1) } else { None },
            charts: Default::default(),
            prev: [0; FIELDS],
            prev_ut: 0,
        }
    }
}

impl Collector for DiskStats {
    fn name(&self) -> &str {
        "proc.diskstats"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        for d in &mut self.disks {
            d.present = false;
        }
        let (mut total_read, mut total_written, mut physical) = (0i64, 0i64, false);
        let text = self.file.read()?;
        let mut lines = 0usize;
        for line in text.lines() {
            let mut words = line.split_ascii_whitespace();
            let (Some(major), Some(minor), Some(name)) = (words.next(), words.next(), words.next()) else {
                continue;
            };
            lines += 1;
            let mut v = [0i64; FIELDS];
            let mut fields = 0;
            for (slot, word) in v.iter_mut().zip(words) {
                *slot = parse_i64(word);
                fields += 1;
            }
            let i = match self.disks.iter().position(|d| d.name == name) {
                Some(i) => i,
                None => {
                    let disk =
                        Disk::discover(&self.prefix, &self.mountinfo, &self.options, (major, minor), name);
                    self.disks.push(disk);
                    self.disks.len() - 1
                }
            };
            let d = &mut self.disks[i];
            d.present = true;
            d.fields = fields;
            if d.kind == DiskKind::Physical {
                physical = true;
                total_read = total_read.wrapping_add(v[SECTORS_READ]);
                total_written = total_written.wrapping_add(v[SECTORS_WRITTEN]);
            }
            if !d.wanted {
                continue;
            }
            collect_disk(&self.host, self.update_every, d, &v, now_ut);
        }
        if lines == 0 {
            return Err(CollectError::Failed(format!("{} lists no disks", self.file.path().display())));
        }

        // A vanished disk is forgotten, chart handles and all, so that `[db] cleanup obsolete
        // charts after secs` can free its charts; if it comes back it is discovered again,
        // which revives charts not yet freed.
        self.disks.retain(|d| {
            if !d.present && d.charts.iter().any(Option::is_some) {
                log::info!("disk {} disappeared; its charts are obsolete", d.name);
                set_obsolete(&d.charts);
            }
            d.present
        });

        if self.system_io.is_none() && physical {
            self.system_io = Some(SYSTEM_IO.define(&self.host, MODULE, self.update_every));
        }
        if let Some(chart) = &self.system_io {
            // Sectors are 512 bytes: KiB is half the count.
            let mut c = chart.begin(now_ut, 0, false);
            c.set(0, total_read / 2);
            c.set(1, total_written / 2);
            c.end();
        }
        Ok(())
    }
}

fn collect_disk(host: &Host, update_every: u32, d: &mut Disk, v: &[i64; FIELDS], now_ut: u64) {
    let first = d.prev_ut == 0;
    for (k, kind) in KINDS.iter().enumerate() {
        if d.charts[k].is_none() {
            let wanted = if derived(kind) || k == 7 {
                !(derived(kind) && first) && inputs(k).iter().all(|&i| d.charts[i].is_some())
            } else {
                let has_fields = kind.dims.iter().any(|&(_, _, _, s)| matches!(s, Field(f) if f < d.fields));
                has_fields && kind.dims.iter().any(|&(_, _, _, s)| matches!(s, Field(f) if v[f] != 0))
            };
            if !wanted {
                continue;
            }
            d.charts[k] = Some(define(host, kind, d, update_every));
        }
        let Some(chart) = &d.charts[k] else { continue };
        let mut c = chart.begin(now_ut, 0, false);
        for (dim, &(_, _, _, src)) in kind.dims.iter().enumerate() {
            c.set(dim, value(src, v, &d.prev, now_ut.saturating_sub(d.prev_ut), first));
        }
        c.end();
    }
    d.prev = *v;
    d.prev_ut = now_ut;
}

fn value(src: Src, v: &[i64; FIELDS], prev: &[i64; FIELDS], elapsed_ut: u64, first: bool) -> i64 {
    let delta = |f: usize| v[f].wrapping_sub(prev[f]).max(0);
    if first {
        return match src {
            Field(f) => v[f],
            _ => 0,
        };
    }
    match src {
        Field(f) => v[f],
        PerOp(num, den) => match delta(den) {
            0 => 0,
            ops => delta(num).saturating_mul(1000) / ops,
        },
        PerOpRaw(num, den) => match delta(den) {
            0 => 0,
            ops => delta(num) / ops,
        },
        ServiceTime => match delta(READS) + delta(WRITES) {
            0 => 0,
            ops => delta(MS_BUSY).saturating_mul(1000) / ops,
        },
        Utilization => match elapsed_ut {
            0 => 0,
            us => (delta(MS_BUSY).saturating_mul(100_000) / us as i64).min(100),
        },
    }
}

fn define(host: &Host, kind: &Kind, d: &Disk, update_every: u32) -> Arc<Chart> {
    let family = d.mount_point.as_deref().unwrap_or(&d.name);
    let mut meta = kind.look.meta(&chart_id_part(&d.name), family, MODULE, update_every);
    let source = label_source::AUTO;
    meta.labels.push(Label { name: "device".into(), value: d.name.clone(), source });
    if let Some(m) = &d.mount_point {
        meta.labels.push(Label { name: "mount_point".into(), value: m.clone(), source });
    }
    let device_type = match d.kind {
        DiskKind::Physical => "physical",
        DiskKind::Virtual => "virtual",
        DiskKind::Partition => "partition",
    };
    meta.labels.push(Label { name: "device_type".into(), value: device_type.into(), source });
    kind.define(host, meta)
}

fn disk_kind(prefix: &Path, name: &str) -> DiskKind {
    // sysfs spells `/` in device names (cciss/c0d0) as `!`.
    let sys_name = name.replace('/', "!");
    if prefix.join("sys/class/block").join(&sys_name).join("partition").exists() {
        DiskKind::Partition
    } else if prefix.join("sys/block").join(&sys_name).join("device").exists() {
        DiskKind::Physical
    } else {
        DiskKind::Virtual
    }
}

/// Where the device `major:minor` is mounted, from mountinfo's third and fifth fields.
fn mount_point(mountinfo: &Path, major: &str, minor: &str) -> Option<String> {
    let text = std::fs::read_to_string(mountinfo).ok()?;
    text.lines().find_map(|line| {
        let mut w = line.split_ascii_whitespace();
        let dev = w.nth(2)?;
        let (ma, mi) = dev.split_once(':')?;
        if ma != major || mi != minor {
            return None;
        }
        w.nth(1).map(|m| super::diskspace::unescape(m).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::USEC_PER_SEC;
    use crate::collectors::testing::{fixture, host, last, sys_prefix, Scratch, T0};
    use crate::rrd::ChartType;

    fn run(dir: &Scratch, host: &Arc<Host>, files: &[&str]) -> DiskStats {
        let mut c = DiskStats::new(
            Arc::clone(host),
            dir.path("diskstats"),
            fixture("mountinfo.router"),
            sys_prefix(),
            Options::default(),
            1,
        );
        for (i, f) in files.iter().enumerate() {
            dir.stage(f, "diskstats");
            c.collect(T0 + i as u64 * USEC_PER_SEC).unwrap();
        }
        c
    }

    #[test]
    fn router_disks_chart_like_netdata() {
        let dir = Scratch::new("diskstats");
        let host = host();
        run(&dir, &host, &["diskstats.router.1", "diskstats.router.2", "diskstats.router.3"]);
        // sda (physical USB disk) and mmcblk0 are charted; their partitions, the idle
        // mtdblocks, loop and ram are not; zram0 (busy swap) is, as a virtual disk.
        for id in ["disk.sda", "disk.mmcblk0", "disk.zram0", "system.io"] {
            assert!(host.chart(id).is_some(), "{id}");
        }
        for id in ["disk.sda1", "disk.mmcblk0p1", "disk.mtdblock0", "disk.loop0", "disk.ram0"] {
            assert!(host.chart(id).is_none(), "{id}");
        }
        let io = host.chart("disk.sda").unwrap();
        let m = io.meta();
        assert_eq!(
            (m.title.as_str(), m.units.as_str(), m.context.as_str(), m.priority, m.chart_type),
            ("Disk I/O Bandwidth", "KiB/s", "disk.io", 2000, ChartType::Area)
        );
        assert_eq!(m.family, "sda", "a disk mounted through its partition keeps its name");
        assert!(m.labels.iter().any(|l| l.name == "device_type" && l.value == "physical"));
        let d = io.dimensions();
        assert_eq!((d[1].id.as_str(), d[1].multiplier, d[1].divisor), ("writes", -512, 1024));
        // sda: +2048 sectors read/s = 1024 KiB/s, +512 written = 256 KiB/s.
        assert!((last(&io, 0) - 1024.0).abs() < 1e-3, "{}", last(&io, 0));
        assert!((last(&io, 1) + 256.0).abs() < 1e-3);
        // mmcblk0 is mounted whole (no partition table) at /srv.
        assert_eq!(host.chart("disk.mmcblk0").unwrap().meta().family, "/srv");

        // Derived charts: sda does 16 reads/s taking 80 ms → 5 ms/read; 128 sectors per read
        // = 64 KiB; busy 250 ms/s = 25 %.
        let await_ = host.chart("disk_await.sda").unwrap();
        assert_eq!(await_.meta().priority, 2050);
        assert!((last(&await_, 0) - 5.0).abs() < 1e-3, "{}", last(&await_, 0));
        let avgsz = host.chart("disk_avgsz.sda").unwrap();
        assert!((last(&avgsz, 0) - 64.0).abs() < 1e-3, "{}", last(&avgsz, 0));
        let util = host.chart("disk_util.sda").unwrap();
        assert!((last(&util, 0) - 25.0).abs() < 1e-3, "{}", last(&util, 0));
        assert!(host.chart("disk_svctm.sda").is_some());
        assert!(host.chart("disk_ext.sda").is_none(), "no discards");
        assert!(host.chart("disk_qops.sda").is_some(), "operations in flight");

        // system.io: physical disks only (sda, mmcblk0): 1024 + 8 KiB/s read.
        let sys = host.chart("system.io").unwrap();
        assert_eq!((sys.meta().family.as_str(), sys.meta().priority), ("disk", 150));
        assert!((last(&sys, 0) - 1032.0).abs() < 1e-3, "{}", last(&sys, 0));
    }

    #[test]
    fn a_removed_disk_goes_obsolete_and_comes_back() {
        let dir = Scratch::new("diskstats-gone");
        let host = host();
        let mut c = run(&dir, &host, &["diskstats.router.1", "diskstats.router.2"]);
        dir.stage("diskstats.router.no-sda", "diskstats");
        c.collect(T0 + 2 * USEC_PER_SEC).unwrap();
        let sda = host.chart("disk.sda").unwrap();
        assert!(sda.meta().options.obsolete);
        assert!(!host.chart("disk.mmcblk0").unwrap().meta().options.obsolete);
        dir.stage("diskstats.router.3", "diskstats");
        c.collect(T0 + 3 * USEC_PER_SEC).unwrap();
        assert!(!sda.meta().options.obsolete);
    }

    #[test]
    fn this_machine_parses() {
        let host = host();
        let mut c = DiskStats::new(
            Arc::clone(&host),
            fixture("diskstats.real-x86_64"),
            fixture("mountinfo.real-x86_64"),
            "/nonexistent",
            Options::default(),
            1,
        );
        c.collect(T0).unwrap();
        let vda = host.chart("disk.vda").unwrap().meta();
        assert_eq!(vda.family, "/", "vda is mounted whole at /");
        assert!(host.chart("disk_ext.vda").is_some(), "discards happened");
        assert!(host.chart("disk.loop0").is_none() && host.chart("disk.zram0").is_none());
    }
}
