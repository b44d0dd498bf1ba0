//! Disk space and inodes of mounted filesystems (Netdata's `diskspace.plugin`): mount points
//! from `/proc/self/mountinfo`, sizes from `statvfs(3)`.
//!
//! Guarantees:
//! - charts `disk_space.<mount>` and `disk_inodes.<mount>` with Netdata 1.37's attributes and
//!   labels (`mount_point`, `filesystem`, `mount_root`);
//! - the mount table is re-read every `check for new mount points every` seconds (default
//!   15), not on every tick; a mount that goes away has its charts marked obsolete (freed
//!   after `[db] cleanup obsolete charts after secs`) and is forgotten;
//! - which mounts are charted (the "auto" rule, documented here because Netdata's is spread
//!   over several places):
//!   - pseudo filesystems are skipped ([`PSEUDO`]: proc, sysfs, cgroup, devpts, debugfs…);
//!     `tmpfs`, `devtmpfs` and `overlay` are kept (a router's `/tmp` and overlay root matter);
//!   - paths matching `exclude space metrics on paths` and filesystems matching
//!     `exclude space metrics on filesystems` are skipped (Netdata's default patterns);
//!   - read-only mounts are skipped (a squashfs `/rom` is always full and would only raise
//!     alarms);
//!   - a device mounted a second time (bind mounts) and a mount point mounted over are
//!     charted once;
//!   - space is charted once the filesystem reports blocks, inodes once it reports inodes;
//! - a tick allocates nothing: each mount keeps its C path from discovery.

use std::borrow::Cow;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::net_dev::{chart_id_part, simple_match};
use super::{CollectError, Collector, ProcFile};
use crate::clock::USEC_PER_SEC;
use crate::rrd::{label_source, Chart, ChartMeta, ChartType, DimensionMeta, Host, Label};
use crate::sys::fs::StatVfs as Stat;

const PLUGIN: &str = "diskspace.plugin";

/// Filesystems that hold no data of their own.
pub const PSEUDO: &[&str] = &[
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devpts",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "configfs",
    "mqueue",
    "hugetlbfs",
    "autofs",
    "binfmt_misc",
    "fusectl",
    "nsfs",
    "rpc_pipefs",
    "efivarfs",
    "selinuxfs",
    "ramfs",
    "none",
];

/// `[plugin:proc:diskspace]` settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// `check for new mount points every`, seconds.
    pub check_every: u32,
    /// `exclude space metrics on paths`.
    pub exclude_paths: String,
    /// `exclude space metrics on filesystems`.
    pub exclude_filesystems: String,
    /// `space usage for all disks` (`None`: auto).
    pub space: Option<bool>,
    /// `inodes usage for all disks` (`None`: auto).
    pub inodes: Option<bool>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            check_every: 15,
            exclude_paths: "/proc/* /sys/* /var/run/user/* /run/user/* /snap/* /var/lib/docker/*".into(),
            exclude_filesystems:
                "*gvfs *gluster* *s3fs *ipfs *davfs2 *httpfs *sshfs *gdfs *moosefs fusectl autofs".into(),
            space: None,
            inodes: None,
        }
    }
}

/// The disk space collector.
pub struct DiskSpace {
    host: Arc<Host>,
    mountinfo: ProcFile,
    /// Root the mount points are looked up under (`/` normally).
    prefix: PathBuf,
    options: Options,
    update_every: u32,
    next_check_ut: u64,
    mounts: Vec<Mount>,
}

struct Mount {
    mount_point: String,
    /// Major:minor as mountinfo prints it, to recognise the same device mounted twice.
    device: String,
    filesystem: String,
    root: String,
    path: CString,
    /// Listed in the last mount table read.
    present: bool,
    space: Option<Arc<Chart>>,
    inodes: Option<Arc<Chart>>,
}

impl DiskSpace {
    /// `mountinfo` is normally `/proc/self/mountinfo`; `prefix` is joined to each mount point.
    pub fn new(
        host: Arc<Host>,
        mountinfo: impl Into<PathBuf>,
        prefix: impl Into<PathBuf>,
        options: Options,
        update_every: u32,
    ) -> DiskSpace {
        DiskSpace {
            host,
            mountinfo: ProcFile::new(mountinfo),
            prefix: prefix.into(),
            options,
            update_every: update_every.max(1),
            next_check_ut: 0,
            mounts: Vec::new(),
        }
    }

    /// Re-reads the mount table: new mounts are added, vanished ones made obsolete.
    fn scan(&mut self) -> Result<(), CollectError> {
        for m in &mut self.mounts {
            m.present = false;
        }
        let text = self.mountinfo.read()?;
        for line in text.lines() {
            let Some(entry) = Entry::parse(line) else { continue };
            if PSEUDO.contains(&entry.filesystem)
                || entry.read_only
                || simple_match(&self.options.exclude_filesystems, entry.filesystem)
                || simple_match(&self.options.exclude_paths, entry.mount_point)
            {
                continue;
            }
            let mount_point = unescape(entry.mount_point);
            // Bind mounts and mounts over an existing mount point are charted once.
            let taken = self
                .mounts
                .iter()
                .find(|m| m.present && (m.device == entry.device || m.mount_point == mount_point));
            if taken.is_some() {
                continue;
            }
            match self.mounts.iter_mut().find(|m| m.mount_point == mount_point) {
                Some(m) => {
                    m.present = true;
                    m.device.clear();
                    m.device.push_str(entry.device);
                }
                None => {
                    let path = under(&self.prefix, &mount_point);
                    let Ok(path) = CString::new(path.as_os_str().as_encoded_bytes()) else { continue };
                    self.mounts.push(Mount {
                        mount_point: mount_point.into_owned(),
                        device: entry.device.to_owned(),
                        filesystem: entry.filesystem.to_owned(),
                        root: unescape(entry.root).into_owned(),
                        path,
                        present: true,
                        space: None,
                        inodes: None,
                    });
                }
            }
        }
        // A vanished mount is forgotten, chart handles and all, so that `[db] cleanup obsolete
        // charts after secs` can free its charts; mounted again, it is defined again, which
        // revives charts not yet freed.
        self.mounts.retain(|m| {
            if !m.present {
                for chart in m.space.iter().chain(m.inodes.iter()) {
                    let mut meta = chart.meta();
                    meta.options.obsolete = true;
                    chart.redefine(meta);
                }
            }
            m.present
        });
        Ok(())
    }
}

impl Collector for DiskSpace {
    fn name(&self) -> &str {
        "diskspace"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        if now_ut >= self.next_check_ut {
            let step = u64::from(self.options.check_every.max(1)) * USEC_PER_SEC;
            self.next_check_ut = (now_ut / step + 1) * step;
            self.scan()?;
        }
        for m in self.mounts.iter_mut().filter(|m| m.present) {
            let Some(st) = statvfs(&m.path) else { continue };
            let block = if st.frsize > 0 { st.frsize } else { st.bsize };
            let want_space = self.options.space.unwrap_or(st.blocks > 0);
            if m.space.is_none() && want_space {
                m.space = Some(define(&self.host, m, Usage::Space, block, self.update_every));
            }
            if let Some(chart) = &m.space {
                store(
                    chart,
                    now_ut,
                    st.bavail,
                    st.blocks.saturating_sub(st.bfree),
                    st.bfree.saturating_sub(st.bavail),
                );
            }
            let want_inodes = self.options.inodes.unwrap_or(st.files > 0);
            if m.inodes.is_none() && want_inodes {
                m.inodes = Some(define(&self.host, m, Usage::Inodes, 1, self.update_every));
            }
            if let Some(chart) = &m.inodes {
                store(
                    chart,
                    now_ut,
                    st.favail,
                    st.files.saturating_sub(st.ffree),
                    st.ffree.saturating_sub(st.favail),
                );
            }
        }
        Ok(())
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
pub(super) fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The fields of a mountinfo line this collector uses, borrowed from the line.
struct Entry<'a> {
    device: &'a str,
    root: &'a str,
    mount_point: &'a str,
    read_only: bool,
    filesystem: &'a str,
}

impl<'a> Entry<'a> {
    /// `id parent major:minor root mount_point options [optional…] - fstype source super`.
    fn parse(line: &'a str) -> Option<Entry<'a>> {
        let mut w = line.split_ascii_whitespace();
        let device = w.nth(2)?;
        let root = w.next()?;
        let mount_point = w.next()?;
        let options = w.next()?;
        w.by_ref().find(|x| *x == "-")?;
        let filesystem = w.next()?;
        let read_only = options.split(',').any(|o| o == "ro");
        Some(Entry { device, root, mount_point, read_only, filesystem })
    }
}

#[derive(Copy, Clone)]
enum Usage {
    Space,
    Inodes,
}

fn define(host: &Host, m: &Mount, usage: Usage, block: u64, update_every: u32) -> Arc<Chart> {
    let (type_, title, units, context, priority, div) = match usage {
        Usage::Space => ("disk_space", "Disk Space Usage", "GiB", "disk.space", 2023, 1 << 30),
        Usage::Inodes => ("disk_inodes", "Disk Files (inodes) Usage", "inodes", "disk.inodes", 2024, 1),
    };
    let mut meta = ChartMeta::new(type_, &chart_id_part(&m.mount_point))
        .title(title)
        .units(units)
        .family(&m.mount_point)
        .context(context)
        .chart_type(ChartType::Stacked)
        .priority(priority)
        .update_every(update_every)
        .source(PLUGIN, "");
    let source = label_source::AUTO;
    for (name, value) in
        [("mount_point", &m.mount_point), ("filesystem", &m.filesystem), ("mount_root", &m.root)]
    {
        meta.labels.push(Label { name: name.into(), value: value.clone(), source });
    }
    let chart = host.chart_define(meta);
    let mul = i64::try_from(block).unwrap_or(1);
    chart.dimension(DimensionMeta::new("avail").scale(mul, div));
    chart.dimension(DimensionMeta::new("used").scale(mul, div));
    chart.dimension(DimensionMeta::new("reserved_for_root").name("reserved for root").scale(mul, div));
    chart
}

fn store(chart: &Chart, now_ut: u64, avail: u64, used: u64, reserved: u64) {
    let mut c = chart.begin(now_ut, 0, false);
    c.set(0, avail as i64);
    c.set(1, used as i64);
    c.set(2, reserved as i64);
    c.end();
}

/// What `statvfs(3)` says; `None` when the mount cannot be asked.
fn statvfs(path: &CString) -> Option<Stat> {
    crate::sys::fs::statvfs(path).ok()
}

/// A mount point as a path below `prefix`.
fn under(prefix: &Path, mount_point: &str) -> PathBuf {
    prefix.join(mount_point.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::testing::{fixture, host, last, Scratch, T0};

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape("/mnt/share\\040dir"), "/mnt/share dir");
        assert_eq!(unescape("/a\\134b"), "/a\\b");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/bad\\09"), "/bad\\09");
    }

    fn root(dir: &Scratch) -> PathBuf {
        for m in
            ["rom", "proc", "sys/fs/cgroup", "tmp", "overlay", "dev/pts", "mnt/sda1", "srv", "mnt/share dir"]
        {
            std::fs::create_dir_all(under(&dir.path(""), m)).unwrap();
        }
        dir.path("")
    }

    #[test]
    fn router_mounts_follow_the_auto_rule() {
        let dir = Scratch::new("diskspace");
        let host = host();
        let mut c =
            DiskSpace::new(Arc::clone(&host), fixture("mountinfo.router"), root(&dir), Options::default(), 1);
        c.collect(T0).unwrap();
        c.collect(T0 + USEC_PER_SEC).unwrap();
        let mut ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        ids.sort();
        let mut want: Vec<String> = ["_tmp", "_overlay", "_", "_dev", "_mnt_sda1", "_srv"]
            .iter()
            .flat_map(|m| [format!("disk_space.{m}"), format!("disk_inodes.{m}")])
            .collect();
        want.sort();
        assert_eq!(ids, want, "no /rom (read-only), pseudo filesystems or the bind mount");

        let space = host.chart("disk_space._").unwrap();
        let m = space.meta();
        assert_eq!(
            (m.title.as_str(), m.units.as_str(), m.family.as_str(), m.context.as_str(), m.priority),
            ("Disk Space Usage", "GiB", "/", "disk.space", 2023)
        );
        assert_eq!(
            (m.plugin.as_str(), m.module.as_str(), m.chart_type),
            ("diskspace.plugin", "", ChartType::Stacked)
        );
        let label = |n: &str| m.labels.iter().find(|l| l.name == n).map(|l| l.value.clone());
        assert_eq!(label("filesystem").as_deref(), Some("overlay"));
        assert_eq!(label("mount_point").as_deref(), Some("/"));
        assert_eq!(label("_collect_module").as_deref(), Some("[none]"));
        let d = space.dimensions();
        assert_eq!(
            (d[2].id.as_str(), d[2].name.as_str(), d[2].divisor),
            ("reserved_for_root", "reserved for root", 1 << 30)
        );
        assert!(last(&space, 1) > 0.0, "the scratch filesystem has used space");
        let inodes = host.chart("disk_inodes._srv").unwrap();
        assert_eq!((inodes.meta().priority, inodes.dimensions()[0].multiplier), (2024, 1));
    }

    #[test]
    fn an_unmounted_filesystem_goes_obsolete() {
        let dir = Scratch::new("diskspace-gone");
        let host = host();
        let root = root(&dir);
        let table = dir.path("mountinfo");
        std::fs::copy(fixture("mountinfo.router"), &table).unwrap();
        let options = Options { check_every: 1, ..Options::default() };
        let mut c = DiskSpace::new(Arc::clone(&host), &table, root, options, 1);
        c.collect(T0).unwrap();
        let srv = host.chart("disk_space._srv").unwrap();
        let text = std::fs::read_to_string(&table).unwrap();
        std::fs::write(&table, text.lines().filter(|l| !l.contains("/srv")).collect::<Vec<_>>().join("\n"))
            .unwrap();
        c.collect(T0 + USEC_PER_SEC).unwrap();
        assert!(srv.meta().options.obsolete);
        assert!(!host.chart("disk_space._tmp").unwrap().meta().options.obsolete);
        std::fs::copy(fixture("mountinfo.router"), &table).unwrap();
        c.collect(T0 + 2 * USEC_PER_SEC).unwrap();
        assert!(!srv.meta().options.obsolete);
    }

    #[test]
    fn this_machine_parses() {
        let host = host();
        let mut c =
            DiskSpace::new(Arc::clone(&host), fixture("mountinfo.real-x86_64"), "/", Options::default(), 1);
        c.collect(T0).unwrap();
        assert!(host.chart("disk_space._").is_some());
        assert!(host.chart("disk_space._proc").is_none() && host.chart("disk_space._dev_pts").is_none());
    }
}
