//! `/proc/net/wireless`: per wireless interface, its status, link quality, signal and noise
//! levels (dBm), discarded packets and missed beacons.
//!
//! The charts follow Netdata 1.37's wireless module: ids `wireless.<iface>_status`,
//! `_link_quality`, `_signal_level`, `_noise_level`, `_discarded_packets`,
//! `_missed_beacons`, contexts `wireless.<that>`, family the interface. An interface that
//! disappears has its charts marked obsolete (freed after `[db] cleanup obsolete charts after
//! secs`) and is forgotten; one that comes back gets them again.

use std::path::PathBuf;
use std::sync::Arc;

use super::table::PLUGIN;
use super::{parse_i64, CollectError, Collector, ProcFile};
use crate::rrd::{Algorithm, Chart, ChartMeta, DimensionMeta, Host};

const MODULE: &str = "/proc/net/wireless";
const PRIORITY: i64 = 7110;

/// The wireless collector.
pub struct Wireless {
    host: Arc<Host>,
    file: ProcFile,
    update_every: u32,
    devices: Vec<Device>,
}

struct Device {
    name: String,
    seen: bool,
    charts: [Arc<Chart>; 6],
}

/// (suffix, title, units, dimensions, incremental)
const CHARTS: [(&str, &str, &str, &[&str], bool); 6] = [
    ("status", "Internal status reported by interface.", "status", &["status"], false),
    (
        "link_quality",
        "Overall quality of the link. This is an aggregate value, and depends on the driver and hardware.",
        "value",
        &["link_quality"],
        false,
    ),
    (
        "signal_level",
        "The signal level is the wireless signal power level received by the wireless client. The closer the value is to 0, the stronger the signal.",
        "dBm",
        &["signal_level"],
        false,
    ),
    (
        "noise_level",
        "The noise level indicates the amount of background noise in your environment. The closer the value to 0, the greater the noise level.",
        "dBm",
        &["noise_level"],
        false,
    ),
    (
        "discarded_packets",
        "Packet discarded in the wireless adapter due to wireless specific problems.",
        "packets/s",
        &["nwid", "crypt", "frag", "retry", "misc"],
        true,
    ),
    ("missed_beacons", "Number of missed beacons.", "frames/s", &["missed_beacons"], true),
];

impl Wireless {
    pub fn new(host: Arc<Host>, path: impl Into<PathBuf>, update_every: u32) -> Wireless {
        Wireless { host, file: ProcFile::new(path), update_every: update_every.max(1), devices: Vec::new() }
    }
}

impl Collector for Wireless {
    fn name(&self) -> &str {
        "proc.net_wireless"
    }

    fn collect(&mut self, now_ut: u64) -> Result<(), CollectError> {
        for d in &mut self.devices {
            d.seen = false;
        }
        let text = self.file.read()?;
        // Two header lines, then `iface: status link level noise nwid crypt frag retry misc beacon …`.
        for line in text.lines().skip(2) {
            let Some((name, rest)) = line.split_once(':') else { continue };
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let mut v = [0i64; 10];
            for (slot, word) in v.iter_mut().zip(rest.split_ascii_whitespace()) {
                *slot = signed(word.trim_end_matches('.'));
            }
            let dev = device(&self.host, &mut self.devices, self.update_every, name);
            dev.seen = true;
            let groups: [&[i64]; 6] = [&v[0..1], &v[1..2], &v[2..3], &v[3..4], &v[4..9], &v[9..10]];
            for (chart, values) in dev.charts.iter().zip(groups) {
                let mut c = chart.begin(now_ut, 0, false);
                for (d, x) in values.iter().enumerate() {
                    c.set(d, *x);
                }
                c.end();
            }
        }
        // A vanished interface is forgotten, chart handles and all, so that `[db] cleanup
        // obsolete charts after secs` can free its charts; seen again, it is defined again,
        // which revives charts not yet freed.
        self.devices.retain(|d| {
            if !d.seen {
                set_obsolete(&d.charts);
            }
            d.seen
        });
        Ok(())
    }
}

/// The device called `name`, its charts defined the first time it is seen.
fn device<'a>(host: &Host, devices: &'a mut Vec<Device>, update_every: u32, name: &str) -> &'a mut Device {
    if let Some(i) = devices.iter().position(|d| d.name == name) {
        return &mut devices[i];
    }
    let charts = CHARTS.map(|(suffix, title, units, dims, incremental)| {
        let chart = host.chart_define(
            ChartMeta::new("wireless", &format!("{name}_{suffix}"))
                .title(title)
                .units(units)
                .family(name)
                .context(&format!("wireless.{suffix}"))
                .priority(PRIORITY + CHARTS.iter().position(|c| c.0 == suffix).unwrap_or(0) as i64)
                .update_every(update_every)
                .source(PLUGIN, MODULE),
        );
        let algorithm = if incremental { Algorithm::Incremental } else { Algorithm::Absolute };
        for d in dims {
            chart.dimension(DimensionMeta::new(d).algorithm(algorithm));
        }
        chart
    });
    devices.push(Device { name: name.to_owned(), seen: false, charts });
    let last = devices.len() - 1;
    &mut devices[last]
}

fn set_obsolete(charts: &[Arc<Chart>]) {
    for c in charts {
        let mut m = c.meta();
        m.options.obsolete = true;
        c.redefine(m);
    }
}

/// `-40` → -40, `0000` (status) → 0; anything odd → 0.
fn signed(word: &str) -> i64 {
    match word.strip_prefix('-') {
        Some(w) => -parse_i64(w),
        None => parse_i64(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::table::tests::{approx, drive, host, last, scratch};

    #[test]
    fn interfaces_come_and_go() {
        let dir = scratch("wireless");
        let host = host();
        let mut c = Wireless::new(Arc::clone(&host), dir.join("wireless"), 1);
        drive(&mut c, &dir.join("wireless"), &["wireless.1", "wireless.2", "wireless.3"]);
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(ids.len(), 12);
        assert_eq!(
            &ids[..6],
            [
                "wireless.wlan0_status",
                "wireless.wlan0_link_quality",
                "wireless.wlan0_signal_level",
                "wireless.wlan0_noise_level",
                "wireless.wlan0_discarded_packets",
                "wireless.wlan0_missed_beacons"
            ]
        );
        let m = host.chart("wireless.wlan1_signal_level").unwrap().meta();
        assert_eq!(
            (m.context.as_str(), m.units.as_str(), m.family.as_str(), m.priority),
            ("wireless.signal_level", "dBm", "wlan1", 7112)
        );
        assert!(approx(last(&host, "wireless.wlan0_signal_level", "signal_level"), -43.0));
        assert!(approx(last(&host, "wireless.wlan0_link_quality", "link_quality"), 67.0));
        assert!(approx(last(&host, "wireless.wlan0_discarded_packets", "retry"), 4.0));
        assert!(approx(last(&host, "wireless.wlan0_missed_beacons", "missed_beacons"), 1.0));
        // wlan1 is gone in wireless.3: obsolete.
        assert!(host.chart("wireless.wlan1_status").unwrap().meta().options.obsolete);
        assert!(!host.chart("wireless.wlan0_status").unwrap().meta().options.obsolete);
        // …and back.
        std::fs::copy(crate::collectors::table::tests::fixture("proc/wireless.1"), dir.join("wireless"))
            .unwrap();
        c.collect(crate::collectors::table::tests::T0 + 3_000_000).unwrap();
        assert!(!host.chart("wireless.wlan1_status").unwrap().meta().options.obsolete);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_wireless_disables() {
        let mut c = Wireless::new(host(), "/nonexistent/wireless", 1);
        assert!(matches!(c.collect(0), Err(CollectError::Disabled(_))));
    }
}
