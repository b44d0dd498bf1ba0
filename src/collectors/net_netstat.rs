//! `/proc/net/netstat` (TCP and IP extensions), collected together with `/proc/net/snmp` and
//! `/proc/net/snmp6` by one thread, as Netdata 1.37's `/proc/net/netstat` module does: one
//! chart (`ipv4.tcphandshake`) mixes counters of two files, and one thread instead of three
//! saves a router two stacks.
//!
//! Chart ids, titles, units, families, priorities and dimensions are Netdata 1.37's; every
//! chart is `auto` by default (shown once a counter is non-zero), switched by Netdata's option
//! names in `[plugin:proc:/proc/net/netstat]`, `…/snmp]` and `…/snmp6]`.

use super::table::{Dim, FileSet, FileSpec, Format, Spec};
use super::{net_snmp, net_snmp6};

/// The module name Netdata 1.37 gives all these charts.
pub const MODULE: &str = "/proc/net/netstat";

/// Which files to read (`[plugin:proc] /proc/net/netstat|snmp|snmp6`).
#[derive(Clone, Debug)]
pub struct Options {
    pub netstat: bool,
    pub snmp: bool,
    pub snmp6: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { netstat: true, snmp: true, snmp6: true }
    }
}

/// The collector for the files `options` enables below `prefix`; `mode(file, spec)` answers
/// each chart's switch (`file` is `/proc/net/netstat`, `/proc/net/snmp` or `/proc/net/snmp6`).
pub use super::table::keyed as new;

impl FileSet for Options {
    const NAME: &'static str = "proc.net_netstat";
    const MODULE: Option<&'static str> = Some(MODULE);
    fn files(&self) -> Vec<(bool, &'static FileSpec)> {
        vec![(self.netstat, &FILE), (self.snmp, &net_snmp::FILE), (self.snmp6, &net_snmp6::FILE)]
    }
}

static FILE: FileSpec =
    FileSpec { name: "/proc/net/netstat", format: Format::Pairs, charts: &CHARTS, fallback: false };

const fn inc(s: &'static str, f: &'static str, name: &'static str, m: i64) -> Dim {
    Dim::inc(s, f, name, m)
}

#[rustfmt::skip]
pub static CHARTS: [Spec; 14] = [
    Spec::new("system", "ip", "IP Bandwidth", "kilobits/s", "network", 501, &[
        inc("IpExt", "InOctets", "received", 8).divisor(1000),
        inc("IpExt", "OutOctets", "sent", -8).divisor(1000),
    ]).area().option("bandwidth"),
    Spec::new("ip", "inerrors", "IP Input Errors", "packets/s", "errors", 4100, &[
        inc("IpExt", "InNoRoutes", "noroutes", 1),
        inc("IpExt", "InTruncatedPkts", "truncated", 1),
        inc("IpExt", "InCsumErrors", "checksum", 1),
    ]).detail().option("input errors"),
    Spec::new("ip", "mcast", "IP Multicast Bandwidth", "kilobits/s", "multicast", 4500, &[
        inc("IpExt", "InMcastOctets", "received", 8).divisor(1000),
        inc("IpExt", "OutMcastOctets", "sent", -8).divisor(1000),
    ]).area().detail().option("multicast bandwidth"),
    Spec::new("ip", "bcast", "IP Broadcast Bandwidth", "kilobits/s", "broadcast", 4600, &[
        inc("IpExt", "InBcastOctets", "received", 8).divisor(1000),
        inc("IpExt", "OutBcastOctets", "sent", -8).divisor(1000),
    ]).area().detail().option("broadcast bandwidth"),
    Spec::new("ip", "mcastpkts", "IP Multicast Packets", "packets/s", "multicast", 4510, &[
        inc("IpExt", "InMcastPkts", "received", 1),
        inc("IpExt", "OutMcastPkts", "sent", -1),
    ]).detail().option("multicast packets"),
    Spec::new("ip", "bcastpkts", "IP Broadcast Packets", "packets/s", "broadcast", 4610, &[
        inc("IpExt", "InBcastPkts", "received", 1),
        inc("IpExt", "OutBcastPkts", "sent", -1),
    ]).detail().option("broadcast packets"),
    Spec::new("ip", "ecnpkts", "IP ECN Statistics", "packets/s", "ecn", 4700, &[
        inc("IpExt", "InCEPkts", "CEP", 1),
        inc("IpExt", "InNoECTPkts", "NoECTP", -1),
        inc("IpExt", "InECT0Pkts", "ECTP0", 1),
        inc("IpExt", "InECT1Pkts", "ECTP1", 1),
    ]).detail().option("ECN packets"),
    Spec::new("ip", "tcpmemorypressures", "TCP Memory Pressures", "events/s", "tcp", 4290, &[
        inc("TcpExt", "TCPMemoryPressures", "pressures", 1),
    ]).option("TCP memory pressures"),
    Spec::new("ip", "tcpconnaborts", "TCP Connection Aborts", "connections/s", "tcp", 4210, &[
        inc("TcpExt", "TCPAbortOnData", "baddata", 1),
        inc("TcpExt", "TCPAbortOnClose", "userclosed", 1),
        inc("TcpExt", "TCPAbortOnMemory", "nomemory", 1),
        inc("TcpExt", "TCPAbortOnTimeout", "timeout", 1),
        inc("TcpExt", "TCPAbortOnLinger", "linger", 1),
        inc("TcpExt", "TCPAbortFailed", "failed", -1),
    ]).option("TCP connection aborts"),
    Spec::new("ip", "tcpreorders", "TCP Reordered Packets by Detection Method", "packets/s", "tcp", 4220, &[
        inc("TcpExt", "TCPTSReorder", "timestamp", 1),
        inc("TcpExt", "TCPSACKReorder", "sack", 1),
        inc("TcpExt", "TCPFACKReorder", "fack", 1),
        inc("TcpExt", "TCPRenoReorder", "reno", 1),
    ]).option("TCP reorders"),
    Spec::new("ip", "tcpofo", "TCP Out-Of-Order Queue", "packets/s", "tcp", 4250, &[
        inc("TcpExt", "TCPOFOQueue", "inqueue", 1),
        inc("TcpExt", "TCPOFODrop", "dropped", -1),
        inc("TcpExt", "TCPOFOMerge", "merged", 1),
        inc("TcpExt", "OfoPruned", "pruned", -1),
    ]).option("TCP out-of-order queue"),
    Spec::new("ip", "tcpsyncookies", "TCP SYN Cookies", "packets/s", "tcp", 4260, &[
        inc("TcpExt", "SyncookiesRecv", "received", 1),
        inc("TcpExt", "SyncookiesSent", "sent", -1),
        inc("TcpExt", "SyncookiesFailed", "failed", -1),
    ]).option("TCP SYN cookies"),
    Spec::new("ip", "tcp_syn_queue", "TCP SYN Queue Issues", "packets/s", "tcp", 4215, &[
        inc("TcpExt", "TCPReqQFullDrop", "drops", 1),
        inc("TcpExt", "TCPReqQFullDoCookies", "cookies", 1),
    ]).option("TCP SYN queue"),
    Spec::new("ip", "tcp_accept_queue", "TCP Accept Queue Issues", "packets/s", "tcp", 4216, &[
        inc("TcpExt", "ListenOverflows", "overflows", 1),
        inc("TcpExt", "ListenDrops", "drops", 1),
    ]).option("TCP accept queue"),
];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::collectors::table::tests::{approx, drive, fixture, host, last, scratch, T0};
    use crate::collectors::table::Mode;
    use crate::collectors::{CollectError, Collector};

    #[test]
    fn netstat_charts_match_netdata() {
        let dir = scratch("netstat");
        std::fs::create_dir_all(dir.join("proc/net")).unwrap();
        let host = host();
        let options = Options { netstat: true, snmp: false, snmp6: false };
        let mut c = new(Arc::clone(&host), &dir, &options, &|_, _| Mode::Auto, false, 1);
        drive(&mut c, &dir.join("proc/net/netstat"), &["net_netstat.1", "net_netstat.2", "net_netstat.3"]);
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "system.ip",
                "ip.mcast",
                "ip.mcastpkts",
                "ip.ecnpkts",
                "ip.tcpconnaborts",
                "ip.tcpofo",
                "ip.tcp_accept_queue"
            ]
        );
        let ip = host.chart("system.ip").unwrap();
        let m = ip.meta();
        assert_eq!((m.title.as_str(), m.units.as_str(), m.priority), ("IP Bandwidth", "kilobits/s", 501));
        assert_eq!(m.chart_type, crate::rrd::ChartType::Area);
        let d = ip.dimensions();
        assert_eq!((d[1].name.as_str(), d[1].multiplier, d[1].divisor), ("sent", -8, 1000));
        // InOctets +125000 bytes in a second = 1000 kilobits/s.
        assert!(approx(last(&host, "system.ip", "InOctets"), 1000.0));
        assert!(approx(last(&host, "system.ip", "OutOctets"), -500.0));
        assert!(approx(last(&host, "ip.tcp_accept_queue", "ListenDrops"), 4.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn handshake_mixes_snmp_and_netstat_and_a_missing_snmp6_is_dropped() {
        let dir = scratch("netstat-all");
        std::fs::create_dir_all(dir.join("proc/net")).unwrap();
        std::fs::copy(fixture("proc/net_netstat.real-x86_64"), dir.join("proc/net/netstat")).unwrap();
        std::fs::copy(fixture("proc/net_snmp.real-x86_64"), dir.join("proc/net/snmp")).unwrap();
        let host = host();
        let mut c = new(Arc::clone(&host), &dir, &Options::default(), &|_, _| Mode::Yes, false, 1);
        c.collect(T0).unwrap();
        let hs = host.chart("ipv4.tcphandshake").unwrap();
        assert_eq!(hs.dimensions()[3].id, "TCPSynRetrans");
        assert!(host.chart("system.ipv6").is_none());
        let empty = scratch("netstat-none");
        let mut c = new(host, &empty, &Options::default(), &|_, _| Mode::Yes, false, 1);
        assert!(matches!(c.collect(T0), Err(CollectError::Disabled(_))));
        std::fs::remove_dir_all(&empty).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
