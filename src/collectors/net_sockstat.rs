//! `/proc/net/sockstat` and `/proc/net/sockstat6`: sockets in use per protocol and the
//! memory they hold, read by one thread.
//!
//! Chart ids, titles, units, families, priorities and dimensions are Netdata 1.37's; memory
//! counted in pages is scaled by this system's page size, like Netdata. Every chart is
//! `auto` by default (`[plugin:proc:/proc/net/sockstat]` / `…sockstat6]`, Netdata's option
//! names).

use super::table::{Dim, FileSet, FileSpec, Format, Spec};

/// Which files to read (`[plugin:proc] /proc/net/sockstat|sockstat6`).
#[derive(Clone, Debug)]
pub struct Options {
    pub sockstat: bool,
    pub sockstat6: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { sockstat: true, sockstat6: true }
    }
}

/// The collector for the files `options` enables below `prefix`.
pub use super::table::keyed as new;

impl FileSet for Options {
    const NAME: &'static str = "proc.net_sockstat";
    const MODULE: Option<&'static str> = None;
    fn files(&self) -> Vec<(bool, &'static FileSpec)> {
        vec![(self.sockstat, &FILE), (self.sockstat6, &FILE6)]
    }
}

static FILE: FileSpec =
    FileSpec { name: "/proc/net/sockstat", format: Format::KeyValues, charts: &CHARTS, fallback: false };
static FILE6: FileSpec =
    FileSpec { name: "/proc/net/sockstat6", format: Format::KeyValues, charts: &CHARTS6, fallback: false };

const fn abs(s: &'static str, f: &'static str, name: &'static str) -> Dim {
    Dim::abs(s, f, name, 1)
}

#[rustfmt::skip]
pub static CHARTS: [Spec; 9] = [
    Spec::new("ipv4", "sockstat_sockets", "IPv4 Sockets Used", "sockets", "sockets", 5100, &[
        abs("sockets", "used", "used"),
    ]).option("ipv4 sockets"),
    Spec::new("ipv4", "sockstat_tcp_sockets", "IPv4 TCP Sockets", "sockets", "tcp", 5201, &[
        abs("TCP", "alloc", "alloc"),
        abs("TCP", "orphan", "orphan"),
        abs("TCP", "inuse", "inuse"),
        abs("TCP", "tw", "timewait").id("timewait"),
    ]).option("ipv4 TCP sockets"),
    Spec::new("ipv4", "sockstat_tcp_mem", "IPv4 TCP Sockets Memory", "KiB", "tcp", 5290, &[
        abs("TCP", "mem", "mem").divisor(1024).pages(),
    ]).area().option("ipv4 TCP memory"),
    Spec::new("ipv4", "sockstat_udp_sockets", "IPv4 UDP Sockets", "sockets", "udp", 5300, &[
        abs("UDP", "inuse", "inuse"),
    ]).option("ipv4 UDP sockets"),
    Spec::new("ipv4", "sockstat_udp_mem", "IPv4 UDP Sockets Memory", "KiB", "udp", 5390, &[
        abs("UDP", "mem", "mem").divisor(1024).pages(),
    ]).area().option("ipv4 UDP memory"),
    Spec::new("ipv4", "sockstat_udplite_sockets", "IPv4 UDPLITE Sockets", "sockets", "udplite", 5400, &[
        abs("UDPLITE", "inuse", "inuse"),
    ]).option("ipv4 UDPLITE sockets"),
    Spec::new("ipv4", "sockstat_raw_sockets", "IPv4 RAW Sockets", "sockets", "raw", 5450, &[
        abs("RAW", "inuse", "inuse"),
    ]).option("ipv4 RAW sockets"),
    Spec::new("ipv4", "sockstat_frag_sockets", "IPv4 FRAG Sockets", "fragments", "fragments", 5460, &[
        abs("FRAG", "inuse", "inuse"),
    ]).option("ipv4 FRAG sockets"),
    Spec::new("ipv4", "sockstat_frag_mem", "IPv4 FRAG Memory", "KiB", "fragments", 5470, &[
        abs("FRAG", "memory", "memory").divisor(1024),
    ]).area().option("ipv4 FRAG memory"),
];

#[rustfmt::skip]
pub static CHARTS6: [Spec; 5] = [
    Spec::new("ipv6", "sockstat6_tcp_sockets", "IPv6 TCP Sockets", "sockets", "tcp6", 6500, &[
        abs("TCP6", "inuse", "inuse"),
    ]).option("ipv6 TCP sockets"),
    Spec::new("ipv6", "sockstat6_udp_sockets", "IPv6 UDP Sockets", "sockets", "udp6", 6600, &[
        abs("UDP6", "inuse", "inuse"),
    ]).option("ipv6 UDP sockets"),
    Spec::new("ipv6", "sockstat6_udplite_sockets", "IPv6 UDPLITE Sockets", "sockets", "udplite6", 6700, &[
        abs("UDPLITE6", "inuse", "inuse"),
    ]).option("ipv6 UDPLITE sockets"),
    Spec::new("ipv6", "sockstat6_raw_sockets", "IPv6 RAW Sockets", "sockets", "raw6", 6800, &[
        abs("RAW6", "inuse", "inuse"),
    ]).option("ipv6 RAW sockets"),
    Spec::new("ipv6", "sockstat6_frag_sockets", "IPv6 FRAG Sockets", "fragments", "fragments6", 6400, &[
        abs("FRAG6", "inuse", "inuse"),
    ]).option("ipv6 FRAG sockets"),
];

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::collectors::table::tests::{approx, fixture, host, last, scratch, T0};
    use crate::collectors::table::Mode;
    use crate::collectors::Collector;

    fn stage(dir: &Path, v4: &str, v6: &str) {
        std::fs::create_dir_all(dir.join("proc/net")).unwrap();
        std::fs::copy(fixture(&format!("proc/{v4}")), dir.join("proc/net/sockstat")).unwrap();
        std::fs::copy(fixture(&format!("proc/{v6}")), dir.join("proc/net/sockstat6")).unwrap();
    }

    #[test]
    fn router_sockets_and_memory() {
        let dir = scratch("sockstat");
        stage(&dir, "net_sockstat.1", "net_sockstat6.1");
        let host = host();
        let mut c = new(Arc::clone(&host), &dir, &Options::default(), &|_, _| Mode::Auto, false, 1);
        for i in 0..3 {
            c.collect(T0 + i * 1_000_000).unwrap();
        }
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "ipv4.sockstat_sockets",
                "ipv4.sockstat_tcp_sockets",
                "ipv4.sockstat_tcp_mem",
                "ipv4.sockstat_udp_sockets",
                "ipv4.sockstat_udp_mem",
                "ipv4.sockstat_raw_sockets",
                "ipv4.sockstat_frag_sockets",
                "ipv4.sockstat_frag_mem",
                "ipv6.sockstat6_tcp_sockets",
                "ipv6.sockstat6_udp_sockets",
                "ipv6.sockstat6_raw_sockets",
            ]
        );
        let mem = host.chart("ipv4.sockstat_tcp_mem").unwrap();
        assert_eq!(mem.meta().module, "/proc/net/sockstat");
        assert_eq!(host.chart("ipv6.sockstat6_udp_sockets").unwrap().meta().module, "/proc/net/sockstat6");
        let pages = mem.dimensions()[0].multiplier as f64;
        assert!(approx(last(&host, "ipv4.sockstat_tcp_mem", "mem"), 25.0 * pages / 1024.0));
        assert!(approx(last(&host, "ipv4.sockstat_tcp_sockets", "timewait"), 37.0));
        assert!(approx(last(&host, "ipv4.sockstat_frag_mem", "memory"), 8.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn idle_real_machine_shows_only_what_is_used() {
        let dir = scratch("sockstat-real");
        stage(&dir, "net_sockstat.real-x86_64", "net_sockstat6.real-x86_64");
        let host = host();
        let mut c = new(Arc::clone(&host), &dir, &Options::default(), &|_, _| Mode::Auto, false, 1);
        c.collect(T0).unwrap();
        assert!(host.chart("ipv4.sockstat_sockets").is_some());
        assert!(host.chart("ipv6.sockstat6_tcp_sockets").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
