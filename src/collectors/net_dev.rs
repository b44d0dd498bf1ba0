//! `/proc/net/dev`: per-interface bandwidth, packets, errors, drops, FIFO errors, compressed
//! packets and events, and `system.net`, the bandwidth of the physical interfaces together.
//!
//! Guarantees:
//! - chart ids, titles, units, families, contexts, priorities and dimensions are Netdata
//!   1.37's;
//! - a chart set to "auto" (the default) appears once its counters are non-zero and stays;
//! - an interface that disappears has its charts marked obsolete (freed after `[db] cleanup
//!   obsolete charts after secs`) and is forgotten; when it comes back its charts are defined
//!   again — revived if not freed yet, fresh otherwise — and collection resumes (its counters
//!   restart, which the chart arithmetic takes as a reset, not as traffic);
//! - counters are handed over raw, so 32-bit counters that wrap (old kernels, 32-bit MIPS)
//!   are counted across the wrap rather than producing a spike;
//! - after the first tick that sees an interface, a tick allocates nothing.
//!
//! An interface is physical when `/sys/class/net/<if>/device` exists (below the host
//! prefix); only physical interfaces count towards `system.net`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chart_def::{set_obsolete, Template};
use super::table::{Dim, Spec};
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{label_source, Chart, Host, Label};

const MODULE: &str = "/proc/net/dev";

/// `yes`, `no` or `auto` (create once non-zero), as Netdata's per-chart switches.
pub type Switch = Option<bool>;

/// `[plugin:proc:/proc/net/dev]` settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// `bandwidth for all interfaces`.
    pub bandwidth: Switch,
    /// `packets for all interfaces`.
    pub packets: Switch,
    /// `errors for all interfaces`.
    pub errors: Switch,
    /// `drops for all interfaces`.
    pub drops: Switch,
    /// `fifo for all interfaces`.
    pub fifo: Switch,
    /// `compressed packets for all interfaces`.
    pub compressed: Switch,
    /// `frames, collisions, carrier counters for all interfaces`.
    pub events: Switch,
    /// `disable by default interfaces`: a simple pattern of interfaces not charted.
    pub disabled: String,
}

/// Netdata's default `disable by default interfaces`.
pub const DEFAULT_DISABLED: &str = "lo fireqos* *-ifb fwpr* fwbr* fwln*";

impl Default for Options {
    fn default() -> Self {
        Options {
            bandwidth: None,
            packets: None,
            errors: None,
            drops: None,
            fifo: None,
            compressed: None,
            events: None,
            disabled: DEFAULT_DISABLED.into(),
        }
    }
}

/// The `/proc/net/dev` collector.
pub struct NetDev {
    host: Arc<Host>,
    file: ProcFile,
    /// Root under which `sys/class/net` is looked up.
    prefix: PathBuf,
    switches: [Switch; KINDS.len()],
    disabled: String,
    update_every: u32,
    devices: Vec<Device>,
    total: Option<Arc<Chart>>,
}

/// One chart kind per interface; each dimension's source is the index of its field on the
/// line.
type Kind = Template<usize>;

/// Field indexes of a `/proc/net/dev` line after the interface name.
const RBYTES: usize = 0;
const TBYTES: usize = 8;

#[rustfmt::skip]
const KINDS: [Kind; 7] = [
    Kind::new("net", "Bandwidth", "kilobits/s", "net.net", 7000, &[
        ("received", 8, 1000, RBYTES),
        ("sent", -8, 1000, TBYTES),
    ]).area(),
    Kind::new("net_packets", "Packets", "packets/s", "net.packets", 7001, &[
        ("received", 1, 1, 1),
        ("sent", -1, 1, 9),
        ("multicast", 1, 1, 7),
    ]).detail(),
    Kind::new("net_errors", "Interface Errors", "errors/s", "net.errors", 7002, &[
        ("inbound", 1, 1, 2),
        ("outbound", -1, 1, 10),
    ]).detail(),
    Kind::new("net_drops", "Interface Drops", "drops/s", "net.drops", 7003, &[
        ("inbound", 1, 1, 3),
        ("outbound", -1, 1, 11),
    ]).detail(),
    Kind::new("net_fifo", "Interface FIFO Buffer Errors", "errors", "net.fifo", 7004, &[
        ("receive", 1, 1, 4),
        ("transmit", -1, 1, 12),
    ]).detail(),
    Kind::new("net_compressed", "Compressed Packets", "packets/s", "net.compressed", 7005, &[
        ("received", 1, 1, 6),
        ("sent", -1, 1, 15),
    ]).detail(),
    Kind::new("net_events", "Network Interface Events", "events/s", "net.events", 7006, &[
        ("frames", 1, 1, 5),
        ("collisions", -1, 1, 13),
        ("carrier", -1, 1, 14),
    ]).detail(),
];

/// The physical interfaces' bandwidth together.
static SYSTEM_NET: Spec = Spec::new(
    "system",
    "net",
    "Physical Network Interfaces Aggregated Bandwidth",
    "kilobits/s",
    "network",
    500,
    &[
        Dim::inc("", "InOctets", "received", 8).divisor(1000),
        Dim::inc("", "OutOctets", "sent", -8).divisor(1000),
    ],
)
.area();

/// What is known about one interface.
struct Device {
    name: String,
    /// Matched `disable by default interfaces`: never charted.
    excluded: bool,
    physical: bool,
    /// Seen on the current tick.
    present: bool,
    charts: [Option<Arc<Chart>>; KINDS.len()],
}

impl NetDev {
    /// `path` is normally `/proc/net/dev`; `prefix` the root holding `sys/class/net`.
    pub fn new(
        host: Arc<Host>,
        path: impl Into<PathBuf>,
        prefix: impl Into<PathBuf>,
        options: Options,
        update_every: u32,
    ) -> NetDev {
        NetDev {
            host,
            file: ProcFile::new(path),
            prefix: prefix.into(),
            switches: [
                options.bandwidth,
                options.packets,
                options.errors,
                options.drops,
                options.fifo,
                options.compressed,
                options.events,
            ],
            disabled: options.disabled,
            update_every: update_every.max(1),
            devices: Vec::new(),
            total: None,
        }
    }
}

impl Collector for NetDev {
    fn name(&self) -> &str {
        "proc.net_dev"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        for d in &mut self.devices {
            d.present = false;
        }
        let (mut total_rx, mut total_tx, mut physical) = (0i64, 0i64, false);
        let text = self.file.read()?;
        for line in text.lines() {
            // Two header lines have a `|` where interface lines have their `:`.
            let Some((name, rest)) = line.split_once(':') else { continue };
            let name = name.trim();
            if name.is_empty() || name.contains('|') {
                continue;
            }
            let mut v = [0i64; 16];
            for (slot, word) in v.iter_mut().zip(rest.split_ascii_whitespace()) {
                *slot = parse_i64(word);
            }
            let i = match self.devices.iter().position(|d| d.name == name) {
                Some(i) => i,
                None => {
                    self.devices.push(Device {
                        name: name.to_owned(),
                        excluded: simple_match(&self.disabled, name),
                        physical: is_physical(&self.prefix, name),
                        present: false,
                        charts: Default::default(),
                    });
                    self.devices.len() - 1
                }
            };
            let d = &mut self.devices[i];
            d.present = true;
            if d.excluded {
                continue;
            }
            if d.physical {
                physical = true;
                total_rx = total_rx.wrapping_add(v[RBYTES]);
                total_tx = total_tx.wrapping_add(v[TBYTES]);
            }
            for (k, kind) in KINDS.iter().enumerate() {
                if d.charts[k].is_none() {
                    let wanted = match self.switches[k] {
                        Some(on) => on,
                        None => kind.dims.iter().any(|&(_, _, _, f)| v[f] != 0),
                    };
                    if !wanted {
                        continue;
                    }
                    d.charts[k] = Some(define(&self.host, kind, &d.name, d.physical, self.update_every));
                }
                if let Some(chart) = &d.charts[k] {
                    let mut c = chart.begin(now_ut, 0, false);
                    for (dim, &(_, _, _, f)) in kind.dims.iter().enumerate() {
                        c.set(dim, v[f]);
                    }
                    c.end();
                }
            }
        }

        // A vanished interface is forgotten, chart handles and all, so that `[db] cleanup
        // obsolete charts after secs` can free its charts; if it comes back it is defined
        // again, which revives charts not yet freed.
        self.devices.retain(|d| {
            if !d.present && d.charts.iter().any(Option::is_some) {
                log::info!("network interface {} disappeared; its charts are obsolete", d.name);
                set_obsolete(&d.charts);
            }
            d.present
        });

        let wanted = self.switches[0] != Some(false) && physical && (total_rx != 0 || total_tx != 0);
        if self.total.is_none() && wanted {
            self.total = Some(SYSTEM_NET.define(&self.host, MODULE, self.update_every));
        }
        if let Some(chart) = &self.total {
            let mut c = chart.begin(now_ut, 0, false);
            c.set(0, total_rx);
            c.set(1, total_tx);
            c.end();
        }
        Ok(())
    }
}

/// Netdata's simple patterns: space-separated globs (`*` matches anything), the first that
/// matches decides, and a leading `!` makes that match a refusal.
pub(super) fn simple_match(patterns: &str, name: &str) -> bool {
    for p in patterns.split_ascii_whitespace() {
        let (negative, p) = match p.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        if glob(p.as_bytes(), name.as_bytes()) {
            return !negative;
        }
    }
    false
}

/// Replaces what Netdata does not allow in a chart id with `_`.
pub(super) fn chart_id_part(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect()
}

fn define(host: &Host, kind: &Kind, name: &str, physical: bool, update_every: u32) -> Arc<Chart> {
    let mut meta = kind.look.meta(&chart_id_part(name), name, MODULE, update_every);
    let source = label_source::AUTO | label_source::PERMANENT;
    let kind_label = if physical { "real" } else { "virtual" };
    meta.labels.push(Label { name: "interface_type".into(), value: kind_label.into(), source });
    meta.labels.push(Label { name: "device".into(), value: name.into(), source });
    kind.define(host, meta)
}

fn is_physical(prefix: &Path, name: &str) -> bool {
    prefix.join("sys/class/net").join(name).join("device").exists()
}

/// `*`-only glob matching without allocation.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::USEC_PER_SEC;
    use crate::collectors::testing::{fixture, host, last, sys_prefix, Scratch, T0};
    use crate::rrd::ChartType;

    #[test]
    fn simple_patterns() {
        assert!(simple_match(DEFAULT_DISABLED, "lo"));
        assert!(simple_match(DEFAULT_DISABLED, "eth0-ifb"));
        assert!(simple_match(DEFAULT_DISABLED, "fwpr123"));
        assert!(!simple_match(DEFAULT_DISABLED, "eth0"));
        assert!(!simple_match(DEFAULT_DISABLED, "lo0"));
        assert!(!simple_match("!wlan1 wlan*", "wlan1"));
        assert!(simple_match("!wlan1 wlan*", "wlan0"));
        assert!(simple_match("*a*b*", "xxaxxbxx"));
        assert_eq!(chart_id_part("eth0.2"), "eth0.2");
        assert_eq!(chart_id_part("br lan:1"), "br_lan_1");
    }

    /// Runs the router sequence; returns the host and the collector.
    fn run(files: &[&str]) -> (Arc<Host>, NetDev, Scratch) {
        let dir = Scratch::new("netdev");
        let host = host();
        let mut c = NetDev::new(Arc::clone(&host), dir.path("dev"), sys_prefix(), Options::default(), 1);
        for (i, f) in files.iter().enumerate() {
            dir.stage(f, "dev");
            c.collect(T0 + i as u64 * USEC_PER_SEC).unwrap();
        }
        (host, c, dir)
    }

    #[test]
    fn router_interfaces_chart_like_netdata() {
        let (host, _c, _dir) = run(&["net_dev.router.1", "net_dev.router.2", "net_dev.router.3"]);
        assert!(host.chart("net.lo").is_none(), "lo is disabled by default");
        for ifname in ["eth0", "eth1", "br-lan", "wlan0", "wlan1", "pppoe-wan"] {
            assert!(host.chart(&format!("net.{ifname}")).is_some(), "net.{ifname}");
            assert!(host.chart(&format!("net_packets.{ifname}")).is_some());
        }
        // eth1 is cabled but idle on the WAN side except for errors; nothing else is non-zero.
        assert!(host.chart("net_errors.eth1").is_some());
        assert!(host.chart("net_errors.eth0").is_none());
        assert!(host.chart("net_drops.wlan0").is_some());
        assert!(host.chart("net_fifo.eth0").is_none());
        assert!(host.chart("net_events.wlan0").is_some());

        let net = host.chart("net.eth0").unwrap();
        let m = net.meta();
        assert_eq!(
            (m.title.as_str(), m.units.as_str(), m.family.as_str(), m.context.as_str()),
            ("Bandwidth", "kilobits/s", "eth0", "net.net")
        );
        assert_eq!((m.priority, m.chart_type, m.options.detail), (7000, ChartType::Area, false));
        assert!(m.labels.iter().any(|l| l.name == "interface_type" && l.value == "real"));
        let br = host.chart("net.br-lan").unwrap().meta();
        assert!(br.labels.iter().any(|l| l.name == "interface_type" && l.value == "virtual"));
        let d = net.dimensions();
        assert_eq!((d[1].id.as_str(), d[1].multiplier, d[1].divisor), ("sent", -8, 1000));
        // eth0: +125000 bytes received in one second = 1000 kilobits/s; +25000 sent = 200.
        assert!((last(&net, 0) - 1000.0).abs() < 1e-3, "{}", last(&net, 0));
        assert!((last(&net, 1) + 200.0).abs() < 1e-3);

        // system.net: the physical interfaces eth0, eth1, wlan0, wlan1 only.
        let total = host.chart("system.net").unwrap();
        let m = total.meta();
        assert_eq!((m.family.as_str(), m.priority), ("network", 500));
        assert_eq!(total.dimensions()[0].name, "received");
        // received: eth0 125000 + eth1 0 + wlan0 25000 + wlan1 12500 = 162500 B/s = 1300 kbit/s.
        assert!((last(&total, 0) - 1300.0).abs() < 1e-3, "{}", last(&total, 0));
    }

    #[test]
    fn a_32_bit_counter_wrap_is_counted_not_spiked() {
        let (host, _c, _dir) = run(&["net_dev.router.1", "net_dev.router.2", "net_dev.router.3"]);
        // pppoe-wan rx wraps: 4294960000 → 2704 is +10000 bytes (less one, as Netdata).
        let wan = host.chart("net.pppoe-wan").unwrap();
        let v = last(&wan, 0);
        assert!((v - 80.0).abs() < 0.1, "{v}");
        // Every stored point has a value (a gap must not pass for "no spike").
        let p = wan.query(0, 0, i64::MAX);
        assert!(p.len() >= 2 && p.iter().all(|p| p.value.is_some_and(|v| v < 1000.0)), "{p:?}");
    }

    #[test]
    fn a_vanished_interface_goes_obsolete_and_comes_back() {
        let (host, mut c, dir) = run(&["net_dev.router.1", "net_dev.router.2", "net_dev.router.3"]);
        let wlan1 = host.chart("net.wlan1").unwrap();
        assert!(!wlan1.meta().options.obsolete);
        dir.stage("net_dev.router.4-no-wlan1", "dev");
        c.collect(T0 + 3 * USEC_PER_SEC).unwrap();
        assert!(wlan1.meta().options.obsolete);
        assert!(host.chart("net_packets.wlan1").unwrap().meta().options.obsolete);
        assert!(!host.chart("net.wlan0").unwrap().meta().options.obsolete);
        let stored = wlan1.query(0, 0, i64::MAX).len();
        dir.stage("net_dev.router.4-no-wlan1", "dev");
        c.collect(T0 + 4 * USEC_PER_SEC).unwrap();
        assert_eq!(wlan1.query(0, 0, i64::MAX).len(), stored, "not collected while gone");
        // It comes back with counters restarted from zero: revived, and no spike.
        for (i, f) in
            ["net_dev.router.5-wlan1-back", "net_dev.router.6", "net_dev.router.7"].iter().enumerate()
        {
            dir.stage(f, "dev");
            c.collect(T0 + (5 + i as u64) * USEC_PER_SEC).unwrap();
        }
        assert!(!wlan1.meta().options.obsolete);
        let points = wlan1.query(0, 0, i64::MAX);
        // One gap while it was gone; every other point has a value, none a spike.
        let values: Vec<f64> = points.iter().filter_map(|p| p.value).collect();
        assert!(values.len() >= 5 && values.iter().all(|v| v.abs() < 1000.0), "{points:?}");
        assert!((last(&wlan1, 0) - 8.0).abs() < 1e-3, "{}", last(&wlan1, 0));
        let total = host.chart("system.net").unwrap();
        let p = total.query(0, 0, i64::MAX);
        assert!(p.len() >= 5 && p.iter().all(|p| p.value.is_some_and(|v| v.abs() < 5000.0)), "{p:?}");
    }

    #[test]
    fn a_vanished_interface_is_let_go_freed_by_cleanup_and_comes_back_fresh() {
        let (host, mut c, dir) = run(&["net_dev.router.1", "net_dev.router.2", "net_dev.router.3"]);
        let old = host.chart("net.wlan1").unwrap();
        dir.stage("net_dev.router.4-no-wlan1", "dev");
        c.collect(T0 + 3 * USEC_PER_SEC).unwrap();
        // Only the host's index and this test hold it: the collector let go.
        assert_eq!(Arc::strong_count(&old), 2);
        let since = old.obsolete_since().expect("obsolete");
        let policy = crate::rrd::CleanupPolicy::new(60, true);
        // The fixture's collection times are in the past: only the obsolete time matters.
        assert_eq!(host.cleanup_obsolete(since + 59, &policy, 1000).charts, 0);
        let removed = host.cleanup_obsolete(since + 60, &policy, 1000);
        assert!(removed.charts >= 2, "net.wlan1 and net_packets.wlan1 at least: {removed:?}");
        assert!(host.chart("net.wlan1").is_none() && host.chart("net_packets.wlan1").is_none());
        assert!(host.chart("net.wlan0").is_some());
        assert_eq!(Arc::strong_count(&old), 1, "nothing else holds the freed chart");

        for (i, f) in
            ["net_dev.router.5-wlan1-back", "net_dev.router.6", "net_dev.router.7"].iter().enumerate()
        {
            dir.stage(f, "dev");
            c.collect(T0 + (5 + i as u64) * USEC_PER_SEC).unwrap();
        }
        let new = host.chart("net.wlan1").expect("defined again");
        assert!(!Arc::ptr_eq(&new, &old));
        assert!(new.obsolete_since().is_none());
        assert!((last(&new, 0) - 8.0).abs() < 1e-3, "{}", last(&new, 0));
    }

    #[test]
    fn this_machine_parses() {
        let host = host();
        let mut c = NetDev::new(
            Arc::clone(&host),
            fixture("net_dev.real-x86_64"),
            "/nonexistent",
            Options::default(),
            1,
        );
        c.collect(T0).unwrap();
        assert!(host.chart("net.eth0").is_some());
        assert!(host.chart("net.ifb0").is_none(), "all-zero interfaces have no charts");
        assert!(host.chart("system.net").is_none(), "no physical interface without /sys");
    }
}
