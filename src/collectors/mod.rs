//! Internal collectors: one OS thread each, ticking on wall-clock multiples of its
//! `update every`.
//!
//! A collector reads its source with buffers it reuses (no allocation per tick once warm)
//! and hands raw integers to the chart API. A collector whose source is missing disables
//! itself with one log line; a failing read is logged (with back-off of the log lines, not of
//! the collection) and retried on the next tick.

pub mod chart_def;
pub mod db_tiers;
pub mod diskspace;
pub mod diskstats;
pub mod loadavg;
pub mod meminfo;
pub mod net_dev;
pub mod proc_stat;
pub mod self_stats;
#[cfg(test)]
mod testing;
pub mod uptime;
pub mod vmstat;

// Group B: network protocol counters, router essentials, pressure, interrupts.
pub mod entropy;
pub mod interrupts;
pub mod ipc;
pub mod net_netstat;
pub mod net_snmp;
pub mod net_snmp6;
pub mod net_sockstat;
pub mod nf_conntrack;
pub mod pressure;
pub mod softnet;
pub mod table;
pub mod thermal;
pub mod timex;
pub mod wireless;
pub mod workers;
pub mod zram;

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::clock;
use crate::config::settings::CollectorSettings;
use crate::rrd::Host;

/// Why a collection did not happen.
#[derive(Debug)]
pub enum CollectError {
    /// The source does not exist here (older kernel, container, no such hardware): the
    /// collector stops for good.
    Disabled(String),
    /// This tick failed; the next one tries again.
    Failed(String),
}

/// A source of metrics, driven by [`spawn`].
pub trait Collector: Send {
    /// Short name for logs and the thread name, e.g. `proc.stat`.
    fn name(&self) -> &str;

    /// Collects once; `now_ut` is the wall-clock time of the tick in microseconds.
    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError>;
}

/// The running collector threads. Dropping it (or calling [`Collectors::stop`]) stops them.
pub struct Collectors {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    workers: workers::Workers,
    stream: self_stats::StreamSlot,
}

impl Default for Collectors {
    fn default() -> Self {
        Self::new()
    }
}

impl Collectors {
    pub fn new() -> Collectors {
        Collectors {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            workers: workers::Workers::default(),
            stream: self_stats::StreamSlot::default(),
        }
    }

    /// Where the streaming sender, once started, is made known to the self-monitoring
    /// collector.
    pub fn stream_slot(&self) -> self_stats::StreamSlot {
        Arc::clone(&self.stream)
    }

    /// The CPU time of every collector thread started here (and of those started later).
    pub fn workers(&self) -> workers::Workers {
        self.workers.clone()
    }

    /// Starts `collector` on its own thread, collecting every `update_every` seconds.
    pub fn spawn(&mut self, collector: Box<dyn Collector>, update_every: u32) -> io::Result<()> {
        let stop = Arc::clone(&self.stop);
        let name = collector.name().to_owned();
        let worker = self.workers.register(&name);
        let handle = crate::sys::thread::spawn(name, crate::sys::thread::SMALL, move || {
            run(collector, update_every.max(1), &stop, &worker)
        })?;
        self.threads.push(handle);
        Ok(())
    }

    /// How many collector threads were started.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Stops every collector and waits for its thread to end.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for t in &self.threads {
            t.thread().unpark();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Collectors {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts every internal collector that the configuration enables, reading `/proc` and
/// `/sys` below `prefix` (`/` normally).
///
/// `[plugins] proc` switches the `/proc` family; `[plugin:proc] <file> = yes|no` each
/// module; `[plugin:proc] update every` their interval (default: the host's).
pub fn start_internal(
    settings: &CollectorSettings,
    host: &Arc<Host>,
    prefix: &Path,
    collectors: &mut Collectors,
) {
    let cfg = &settings.sections;
    let host_every = u64::from(host.settings().update_every);
    if cfg.bool_in("plugins", "diskspace", true) {
        let s = "plugin:proc:diskspace";
        let defaults = diskspace::Options::default();
        let options = diskspace::Options {
            check_every: cfg.seconds_in(s, "check for new mount points every", 15).clamp(1, 86_400) as u32,
            exclude_paths: cfg.text_in(s, "exclude space metrics on paths", &defaults.exclude_paths),
            exclude_filesystems: cfg.text_in(
                s,
                "exclude space metrics on filesystems",
                &defaults.exclude_filesystems,
            ),
            space: cfg.tristate_in(s, "space usage for all disks", None),
            inodes: cfg.tristate_in(s, "inodes usage for all disks", None),
        };
        let every = cfg.seconds_in(s, "update every", host_every).clamp(1, 86_400) as u32;
        let c = diskspace::DiskSpace::new(
            Arc::clone(host),
            prefix.join("proc/self/mountinfo"),
            prefix,
            options,
            every,
        );
        if let Err(e) = collectors.spawn(Box::new(c), every) {
            log::error!("cannot start the diskspace collector: {e}");
        }
    }
    if cfg.bool_in("plugins", "netdata monitoring", true) {
        let every = host_every.clamp(1, 86_400) as u32;
        let c = self_stats::SelfStats::new(Arc::clone(host), "/proc/self", clock::now_realtime_usec(), every)
            .with_workers(collectors.workers())
            .with_stream(collectors.stream_slot());
        if let Err(e) = collectors.spawn(Box::new(c), every) {
            log::error!("cannot start the netdata monitoring collector: {e}");
        }
    }
    if cfg.bool_in("plugins", "timex", true) {
        let s = "plugin:timex";
        // Netdata's default: every 10 s, never more often than the host's step.
        let every = cfg.seconds_in(s, "update every", 10).max(host_every).clamp(1, 86_400) as u32;
        let sync = cfg.bool_in(s, "clock synchronization state", true);
        let offset = cfg.bool_in(s, "time offset", true);
        if sync || offset {
            let c = timex::Timex::new(Arc::clone(host), Box::new(timex::adjtimex), every, sync, offset);
            if let Err(e) = collectors.spawn(Box::new(c), every) {
                log::error!("cannot start the timex collector: {e}");
            }
        }
    }
    if !cfg.bool_in("plugins", "proc", true) {
        return;
    }
    let every = cfg.seconds_in("plugin:proc", "update every", host_every).clamp(1, 86_400) as u32;
    let mut start = |module: &str, make: &dyn Fn() -> Box<dyn Collector>| {
        if !cfg.bool_in("plugin:proc", module, true) {
            return;
        }
        if let Err(e) = collectors.spawn(make(), every) {
            log::error!("cannot start the {module} collector: {e}");
        }
    };
    start("/proc/stat", &|| {
        let s = "plugin:proc:/proc/stat";
        let options = proc_stat::Options {
            cpu: cfg.bool_in(s, "cpu utilization", true),
            per_core: cfg.bool_in(s, "per cpu core utilization", true),
            interrupts: cfg.bool_in(s, "cpu interrupts", true),
            context_switches: cfg.bool_in(s, "context switches", true),
            processes_started: cfg.bool_in(s, "processes started", true),
            processes_running: cfg.bool_in(s, "processes running", true),
        };
        Box::new(proc_stat::ProcStat::new(Arc::clone(host), prefix.join("proc/stat"), options, every))
    });
    start("/proc/meminfo", &|| {
        Box::new(meminfo::Meminfo::new(Arc::clone(host), prefix.join("proc/meminfo"), every))
    });
    start("/proc/loadavg", &|| {
        let s = "plugin:proc:/proc/loadavg";
        let options = loadavg::Options {
            load: cfg.bool_in(s, "enable load average", true),
            processes: cfg.bool_in(s, "enable total processes", true),
        };
        Box::new(loadavg::Loadavg::new(Arc::clone(host), prefix.join("proc/loadavg"), options, every))
    });
    start("/proc/uptime", &|| {
        Box::new(uptime::Uptime::new(Arc::clone(host), prefix.join("proc/uptime"), every))
    });
    start("/proc/vmstat", &|| {
        Box::new(vmstat::Vmstat::new(Arc::clone(host), prefix.join("proc/vmstat"), every))
    });
    start("/proc/net/dev", &|| {
        let s = "plugin:proc:/proc/net/dev";
        let options = net_dev::Options {
            bandwidth: cfg.tristate_in(s, "bandwidth for all interfaces", None),
            packets: cfg.tristate_in(s, "packets for all interfaces", None),
            errors: cfg.tristate_in(s, "errors for all interfaces", None),
            drops: cfg.tristate_in(s, "drops for all interfaces", None),
            fifo: cfg.tristate_in(s, "fifo for all interfaces", None),
            compressed: cfg.tristate_in(s, "compressed packets for all interfaces", None),
            events: cfg.tristate_in(s, "frames, collisions, carrier counters for all interfaces", None),
            disabled: cfg.text_in(s, "disable by default interfaces", net_dev::DEFAULT_DISABLED),
        };
        Box::new(net_dev::NetDev::new(Arc::clone(host), prefix.join("proc/net/dev"), prefix, options, every))
    });
    start("/proc/diskstats", &|| {
        let s = "plugin:proc:/proc/diskstats";
        let defaults = diskstats::Options::default();
        let options = diskstats::Options {
            physical: cfg.tristate_in(s, "performance metrics for physical disks", defaults.physical),
            virtual_disks: cfg.tristate_in(
                s,
                "performance metrics for virtual disks",
                defaults.virtual_disks,
            ),
            partitions: cfg.tristate_in(s, "performance metrics for partitions", defaults.partitions),
            exclude: cfg.text_in(s, "exclude disks", &defaults.exclude),
        };
        let mountinfo = prefix.join("proc/self/mountinfo");
        Box::new(diskstats::DiskStats::new(
            Arc::clone(host),
            prefix.join("proc/diskstats"),
            mountinfo,
            prefix,
            options,
            every,
        ))
    });
    start_group_b(settings, host, prefix, every, collectors);
}

/// Group B of the internal collectors: protocol counters, router essentials, pressure,
/// interrupts. `[plugin:proc] <file> = yes|no` switches each; charts inside a file follow
/// Netdata's `[plugin:proc:<file>] <chart option> = yes|no|auto`.
fn start_group_b(
    settings: &CollectorSettings,
    host: &Arc<Host>,
    prefix: &Path,
    every: u32,
    collectors: &mut Collectors,
) {
    let cfg = &settings.sections;
    let on = |module: &str| cfg.bool_in("plugin:proc", module, true);
    let zero = settings.zero_metrics;
    let mode = |file: &str, spec: &table::Spec| {
        let auto = if spec.option.is_empty() {
            None
        } else {
            cfg.tristate_in(&format!("plugin:proc:{file}"), spec.option, None)
        };
        table::Mode::from_tristate(auto)
    };
    let yes = |file: &str, spec: &table::Spec| {
        table::Mode::from_tristate(cfg.tristate_in(&format!("plugin:proc:{file}"), spec.option, Some(true)))
    };
    let mut spawn = |collector: Box<dyn Collector>, every: u32| {
        if let Err(e) = collectors.spawn(collector, every) {
            log::error!("cannot start a collector: {e}");
        }
    };
    let net = net_netstat::Options {
        netstat: on("/proc/net/netstat"),
        snmp: on("/proc/net/snmp"),
        snmp6: on("/proc/net/snmp6"),
    };
    if net.netstat || net.snmp || net.snmp6 {
        spawn(Box::new(net_netstat::new(Arc::clone(host), prefix, &net, &mode, zero, every)), every);
    }
    let sock =
        net_sockstat::Options { sockstat: on("/proc/net/sockstat"), sockstat6: on("/proc/net/sockstat6") };
    if sock.sockstat || sock.sockstat6 {
        spawn(Box::new(net_sockstat::new(Arc::clone(host), prefix, &sock, &mode, zero, every)), every);
    }
    if on("/proc/net/stat/nf_conntrack") {
        let max_every = cfg.seconds_in(
            "plugin:proc:/proc/sys/net/netfilter/nf_conntrack_max",
            "read every seconds",
            u64::from(nf_conntrack::DEFAULT_MAX_EVERY),
        );
        let max_every = max_every.clamp(1, 86_400) as u32;
        spawn(Box::new(nf_conntrack::new(Arc::clone(host), prefix, &yes, every, max_every)), every);
    }
    if on("/proc/net/softnet_stat") {
        let per_core = cfg.bool_in("plugin:proc:/proc/net/softnet_stat", "softnet_stat per core", true);
        let path = prefix.join("proc/net/softnet_stat");
        spawn(Box::new(softnet::Softnet::new(Arc::clone(host), path, per_core, every)), every);
    }
    if on("/proc/net/wireless") {
        spawn(
            Box::new(wireless::Wireless::new(Arc::clone(host), prefix.join("proc/net/wireless"), every)),
            every,
        );
    }
    if on("/sys/class/thermal") {
        spawn(
            Box::new(thermal::Thermal::new(Arc::clone(host), prefix.join("sys/class/thermal"), every)),
            every,
        );
    }
    if on("/proc/pressure") {
        let every = every.max(pressure::MIN_UPDATE_EVERY);
        spawn(Box::new(pressure::Pressure::new(Arc::clone(host), prefix, every)), every);
    }
    if on("/proc/sys/kernel/random/entropy_avail") {
        let path = prefix.join("proc/sys/kernel/random/entropy_avail");
        spawn(Box::new(entropy::Entropy::new(Arc::clone(host), path, every)), every);
    }
    if on("/sys/block/zram") {
        spawn(Box::new(zram::Zram::new(Arc::clone(host), prefix.join("sys/block"), every)), every);
    }
    if on("ipc") {
        let dir = prefix.join("proc/sysvipc");
        spawn(Box::new(ipc::Ipc::new(Arc::clone(host), dir.join("sem"), dir.join("shm"), every)), every);
    }
    for (file, kind, option) in [
        ("/proc/interrupts", interrupts::Kind::Interrupts, "interrupts per core"),
        ("/proc/softirqs", interrupts::Kind::Softirqs, "interrupts per core"),
    ] {
        if on(file) {
            let per_core = cfg.bool_in(&format!("plugin:proc:{file}"), option, true);
            let path = prefix.join(file.trim_start_matches('/'));
            spawn(
                Box::new(interrupts::Interrupts::new(Arc::clone(host), path, kind, per_core, every)),
                every,
            );
        }
    }
}

fn run(mut collector: Box<dyn Collector>, update_every: u32, stop: &AtomicBool, worker: &workers::Worker) {
    let mut failures: u64 = 0;
    loop {
        let before = clock::now_realtime_usec();
        let tick = before + clock::until_next_boundary(before, update_every).as_micros() as u64;
        // Sleep until the tick; `Collectors::stop` unparks the thread at once.
        loop {
            if stop.load(Ordering::Acquire) {
                return;
            }
            let now = clock::now_realtime_usec();
            if now >= tick {
                break;
            }
            std::thread::park_timeout(std::time::Duration::from_micros(tick - now));
        }
        let result = collector.collect(tick_time(tick, clock::now_realtime_usec()));
        worker.record(tick, workers::thread_cpu_ns());
        match result {
            Ok(()) => {
                if failures > 0 {
                    log::info!("{}: collecting again after {failures} failed attempts", collector.name());
                }
                failures = 0;
            }
            Err(CollectError::Disabled(why)) => {
                log::info!("{}: {why}; this collector is disabled", collector.name());
                return;
            }
            Err(CollectError::Failed(why)) => {
                failures += 1;
                // Log the 1st, 2nd, 4th, 8th… failure so a persistent problem does not flood.
                if failures.is_power_of_two() {
                    log::error!("{}: {why} (failure #{failures})", collector.name());
                }
            }
        }
    }
}

/// The time a collection is stamped with: the heartbeat tick it belongs to, unless the
/// thread woke up so late (or the clock jumped) that the real time says more.
///
/// Stamping with the tick makes every interval exactly `update every` long while the
/// heartbeat keeps time, so rates are per whole step and the `BEGIN` microseconds a child
/// streams are the same number every time (which LZ4 compresses to almost nothing). Parents
/// recompute with the same microseconds, so both ends still agree to the bit.
pub fn tick_time(tick_ut: u64, actual_ut: u64) -> u64 {
    const LATE: u64 = 100_000;
    if actual_ut >= tick_ut && actual_ut - tick_ut < LATE {
        tick_ut
    } else {
        actual_ut
    }
}

/// A file under `/proc` or `/sys` read again on every tick through the same open file
/// and the same buffer.
pub struct ProcFile {
    path: PathBuf,
    file: Option<File>,
    /// Always `buf.len()` bytes long; `len` of them hold the file.
    buf: Vec<u8>,
    len: usize,
}

/// A file larger than this is an error rather than a reason to grow without bound.
const MAX_PROC_FILE: usize = 16 << 20;

impl ProcFile {
    pub fn new(path: impl Into<PathBuf>) -> ProcFile {
        ProcFile { path: path.into(), file: None, buf: Vec::new(), len: 0 }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the whole file. A missing file is [`CollectError::Disabled`]; other errors
    /// [`CollectError::Failed`] (the file is reopened next time).
    pub fn read(&mut self) -> Result<&str, CollectError> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(f) => self.file = Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(CollectError::Disabled(format!("{} does not exist", self.path.display())))
                }
                Err(e) => {
                    return Err(CollectError::Failed(format!("cannot open {}: {e}", self.path.display())))
                }
            }
        }
        // One pread from offset 0 per tick: procfs and sysfs hand over the whole text in one
        // call when the buffer is big enough, and the buffer grows until it is.
        if self.buf.is_empty() {
            self.buf.resize(4096, 0);
        }
        let result = loop {
            let Some(f) = self.file.as_ref() else { break Ok(0) };
            match f.read_at(&mut self.buf, 0) {
                Ok(n) if n == self.buf.len() && n < MAX_PROC_FILE => {
                    let bigger = self.buf.len() * 2;
                    self.buf.resize(bigger, 0);
                }
                Ok(n) if n == self.buf.len() => {
                    break Err(io::Error::other(format!("larger than {MAX_PROC_FILE} bytes")))
                }
                other => break other,
            }
        };
        match result {
            Ok(n) => self.len = n,
            Err(e) => {
                self.file = None;
                return Err(CollectError::Failed(format!("cannot read {}: {e}", self.path.display())));
            }
        }
        std::str::from_utf8(&self.buf[..self.len])
            .map_err(|_| CollectError::Failed(format!("{} is not text", self.path.display())))
    }
}

/// Parses an unsigned decimal as the kernel prints it; anything else is 0, like Netdata's
/// `str2ull`, so one odd field does not lose the whole line.
pub fn parse_u64(word: &str) -> u64 {
    let mut v: u64 = 0;
    for b in word.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
    }
    v
}

/// The same, as the signed integer the chart API takes (counters above `i64::MAX` keep
/// their bits, which is what the wrap detection expects).
pub fn parse_i64(word: &str) -> i64 {
    parse_u64(word) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn collections_are_stamped_with_their_tick_unless_late() {
        assert_eq!(tick_time(5_000_000, 5_000_300), 5_000_000);
        assert_eq!(tick_time(5_000_000, 5_099_999), 5_000_000);
        assert_eq!(tick_time(5_000_000, 5_100_000), 5_100_000, "late: the real time");
        assert_eq!(tick_time(5_000_000, 4_999_000), 4_999_000, "the clock went back");
    }

    #[test]
    fn numbers_parse_like_the_kernel_prints_them() {
        assert_eq!(parse_u64("12345"), 12345);
        assert_eq!(parse_u64("18446744073709551615"), u64::MAX);
        assert_eq!(parse_u64("12x"), 12);
        assert_eq!(parse_u64(""), 0);
        assert_eq!(parse_i64("18446744073709551615"), -1);
    }

    #[test]
    fn missing_file_disables_and_a_file_is_reread() {
        let mut f = ProcFile::new("/nonexistent/nanodata/file");
        assert!(matches!(f.read(), Err(CollectError::Disabled(_))));
        let dir = std::env::temp_dir().join(format!("nanodata-procfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stat");
        std::fs::write(&path, "a 1\n").unwrap();
        let mut f = ProcFile::new(&path);
        assert_eq!(f.read().unwrap(), "a 1\n");
        std::fs::write(&path, "a 2\n").unwrap();
        assert_eq!(f.read().unwrap(), "a 2\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    struct Counting(Arc<AtomicUsize>, bool);
    impl Collector for Counting {
        fn name(&self) -> &str {
            "test.counting"
        }
        fn collect(&mut self, _now: u64) -> Result<(), CollectError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if self.1 {
                Err(CollectError::Disabled("gone".into()))
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn threads_tick_on_the_second_and_stop_promptly() {
        let ticks = Arc::new(AtomicUsize::new(0));
        let once = Arc::new(AtomicUsize::new(0));
        let mut c = Collectors::new();
        c.spawn(Box::new(Counting(Arc::clone(&ticks), false)), 1).unwrap();
        c.spawn(Box::new(Counting(Arc::clone(&once), true)), 1).unwrap();
        std::thread::sleep(Duration::from_millis(2300));
        let started = crate::clock::now_monotonic();
        c.stop();
        assert!(started.elapsed() < Duration::from_millis(500), "stop is prompt");
        let n = ticks.load(Ordering::SeqCst);
        assert!((2..=3).contains(&n), "ticked {n} times in 2.3 s");
        assert_eq!(once.load(Ordering::SeqCst), 1, "a disabled collector stops");
    }
}
