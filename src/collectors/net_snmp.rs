//! `/proc/net/snmp`: IPv4, ICMP, TCP, UDP and UDP-Lite counters.
//!
//! Chart ids, titles, units, families, priorities and dimensions are Netdata 1.37's, which
//! reads this file from its `/proc/net/netstat` module (hence that module name on the
//! charts, and why [`super::net_netstat`] collects it). Counters are found by their header
//! names; every chart is `auto` by default (`[plugin:proc:/proc/net/snmp]`, Netdata's option
//! names).

use super::table::{Dim, FileSpec, Format, Spec};

const fn inc(s: &'static str, f: &'static str, name: &'static str, m: i64) -> Dim {
    Dim::inc(s, f, name, m)
}

/// Read by [`super::net_netstat`].
pub static FILE: FileSpec =
    FileSpec { name: "/proc/net/snmp", format: Format::Pairs, charts: &CHARTS, fallback: false };

/// The ICMP message types charted, each counted in (`InType<n>`, named `In<name>`) and out.
macro_rules! icmp_messages {
    ($(($n:literal, $name:ident)),* $(,)?) => {
        &[$(
            inc("IcmpMsg", concat!("InType", $n), concat!("In", stringify!($name)), 1),
            inc("IcmpMsg", concat!("OutType", $n), concat!("Out", stringify!($name)), -1),
        )*]
    };
}

/// UDP and UDP-Lite count the same errors (one MIB, two sections).
const fn udp_errors(s: &'static str) -> [Dim; 6] {
    [
        inc(s, "RcvbufErrors", "RcvbufErrors", 1),
        inc(s, "SndbufErrors", "SndbufErrors", -1),
        inc(s, "InErrors", "InErrors", 1),
        inc(s, "NoPorts", "NoPorts", 1),
        inc(s, "InCsumErrors", "InCsumErrors", 1),
        inc(s, "IgnoredMulti", "IgnoredMulti", 1),
    ]
}
static UDP_ERRORS: [Dim; 6] = udp_errors("Udp");
static UDPLITE_ERRORS: [Dim; 6] = udp_errors("UdpLite");

#[rustfmt::skip]
pub static CHARTS: [Spec; 16] = [
    Spec::new("ipv4", "packets", "IPv4 Packets", "packets/s", "packets", 5130, &[
        inc("Ip", "InReceives", "received", 1),
        inc("Ip", "OutRequests", "sent", -1),
        inc("Ip", "ForwDatagrams", "forwarded", 1),
        inc("Ip", "InDelivers", "delivered", 1),
    ]).option("ipv4 packets"),
    Spec::new("ipv4", "fragsout", "IPv4 Fragments Sent", "packets/s", "fragments", 5460, &[
        inc("Ip", "FragOKs", "ok", 1),
        inc("Ip", "FragFails", "failed", -1),
        inc("Ip", "FragCreates", "created", 1),
    ]).detail().option("ipv4 fragments sent"),
    Spec::new("ipv4", "fragsin", "IPv4 Fragments Reassembly", "packets/s", "fragments", 5461, &[
        inc("Ip", "ReasmOKs", "ok", 1),
        inc("Ip", "ReasmFails", "failed", -1),
        inc("Ip", "ReasmReqds", "all", 1),
    ]).detail().option("ipv4 fragments assembly"),
    Spec::new("ipv4", "errors", "IPv4 Errors", "packets/s", "errors", 5150, &[
        inc("Ip", "InDiscards", "InDiscards", 1),
        inc("Ip", "OutDiscards", "OutDiscards", -1),
        inc("Ip", "InHdrErrors", "InHdrErrors", 1),
        inc("Ip", "OutNoRoutes", "OutNoRoutes", -1),
        inc("Ip", "InAddrErrors", "InAddrErrors", 1),
        inc("Ip", "InUnknownProtos", "InUnknownProtos", 1),
    ]).detail().option("ipv4 errors"),
    Spec::new("ipv4", "icmp", "IPv4 ICMP Packets", "packets/s", "icmp", 5170, &[
        inc("Icmp", "InMsgs", "received", 1),
        inc("Icmp", "OutMsgs", "sent", -1),
    ]).option("ipv4 ICMP packets"),
    Spec::new("ipv4", "icmp_errors", "IPv4 ICMP Errors", "packets/s", "icmp", 5171, &[
        inc("Icmp", "InErrors", "InErrors", 1),
        inc("Icmp", "OutErrors", "OutErrors", -1),
        inc("Icmp", "InCsumErrors", "InCsumErrors", 1),
    ]).option("ipv4 ICMP packets"),
    Spec::new("ipv4", "icmpmsg", "IPv4 ICMP Messages", "packets/s", "icmp", 5172, icmp_messages![
        (0, EchoReps), (3, DestUnreachs), (5, Redirects), (8, Echos), (9, RouterAdvert),
        (10, RouterSelect), (11, TimeExcds), (12, ParmProbs), (13, Timestamps), (14, TimestampReps),
    ]).option("ipv4 ICMP messages"),
    Spec::new("ipv4", "tcpsock", "IPv4 TCP Connections", "active connections", "tcp", 5200, &[
        Dim::abs("Tcp", "CurrEstab", "connections", 1),
    ]).option("ipv4 TCP connections"),
    Spec::new("ipv4", "tcppackets", "IPv4 TCP Packets", "packets/s", "tcp", 5204, &[
        inc("Tcp", "InSegs", "received", 1),
        inc("Tcp", "OutSegs", "sent", -1),
    ]).option("ipv4 TCP packets"),
    Spec::new("ipv4", "tcperrors", "IPv4 TCP Errors", "packets/s", "tcp", 5220, &[
        inc("Tcp", "InErrs", "InErrs", 1),
        inc("Tcp", "InCsumErrors", "InCsumErrors", 1),
        inc("Tcp", "RetransSegs", "RetransSegs", -1),
    ]).detail().option("ipv4 TCP errors"),
    Spec::new("ipv4", "tcpopens", "IPv4 TCP Opens", "connections/s", "tcp", 5205, &[
        inc("Tcp", "ActiveOpens", "active", 1),
        inc("Tcp", "PassiveOpens", "passive", 1),
    ]).detail().option("ipv4 TCP opens"),
    Spec::new("ipv4", "tcphandshake", "IPv4 TCP Handshake Issues", "events/s", "tcp", 5230, &[
        inc("Tcp", "EstabResets", "EstabResets", 1),
        inc("Tcp", "OutRsts", "OutRsts", 1),
        inc("Tcp", "AttemptFails", "AttemptFails", 1),
        // From /proc/net/netstat, read by the same collector.
        inc("TcpExt", "TCPSynRetrans", "SynRetrans", 1),
    ]).detail().option("ipv4 TCP handshake issues"),
    Spec::new("ipv4", "udppackets", "IPv4 UDP Packets", "packets/s", "udp", 5300, &[
        inc("Udp", "InDatagrams", "received", 1),
        inc("Udp", "OutDatagrams", "sent", -1),
    ]).option("ipv4 UDP packets"),
    Spec::new("ipv4", "udperrors", "IPv4 UDP Errors", "events/s", "udp", 5310, &UDP_ERRORS)
        .detail().option("ipv4 UDP errors"),
    Spec::new("ipv4", "udplite", "IPv4 UDPLite Packets", "packets/s", "udplite", 5400, &[
        inc("UdpLite", "InDatagrams", "received", 1),
        inc("UdpLite", "OutDatagrams", "sent", -1),
    ]).option("ipv4 UDPLite packets"),
    Spec::new("ipv4", "udplite_errors", "IPv4 UDPLite Errors", "packets/s", "udplite", 5401, &UDPLITE_ERRORS)
        .detail().option("ipv4 UDPLite packets"),
];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::collectors::net_netstat::{self, Options};
    use crate::collectors::table::tests::{approx, drive, fixture, host, last, scratch, T0};
    use crate::collectors::table::Mode;
    use crate::collectors::Collector;

    fn snmp_only() -> Options {
        Options { netstat: false, snmp: true, snmp6: false }
    }

    #[test]
    fn charts_match_netdata_and_rates_are_computed() {
        let dir = scratch("snmp");
        std::fs::create_dir_all(dir.join("proc/net")).unwrap();
        let host = host();
        let mut c = net_netstat::new(Arc::clone(&host), &dir, &snmp_only(), &|_, _| Mode::Auto, false, 1);
        drive(&mut c, &dir.join("proc/net/snmp"), &["net_snmp.1", "net_snmp.2", "net_snmp.3"]);
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "ipv4.packets",
                "ipv4.fragsout",
                "ipv4.errors",
                "ipv4.icmp",
                "ipv4.icmp_errors",
                "ipv4.icmpmsg",
                "ipv4.tcpsock",
                "ipv4.tcppackets",
                "ipv4.tcperrors",
                "ipv4.tcpopens",
                "ipv4.tcphandshake",
                "ipv4.udppackets",
                "ipv4.udperrors",
            ],
            "all-zero charts (fragsin, udplite) stay away"
        );
        let p = host.chart("ipv4.packets").unwrap();
        let m = p.meta();
        assert_eq!(
            (m.title.as_str(), m.units.as_str(), m.family.as_str(), m.priority),
            ("IPv4 Packets", "packets/s", "packets", 5130)
        );
        assert_eq!(m.module, "/proc/net/netstat");
        let d = p.dimensions();
        assert_eq!((d[1].id.as_str(), d[1].name.as_str(), d[1].multiplier), ("OutRequests", "sent", -1));
        assert!(host.chart("ipv4.tcpopens").unwrap().meta().options.detail);
        // Each second: InReceives +1500 (wrapping its 32-bit counter into .3, which
        // Netdata's arithmetic counts as u32::MAX - last + new, one short), OutRequests
        // +1000, ForwDatagrams +1200.
        let wrapped = host.chart("ipv4.packets").unwrap().query(0, 0, i64::MAX);
        assert!(wrapped.last().is_some_and(|p| p.reset), "a wrap is flagged");
        assert!(approx(last(&host, "ipv4.packets", "InReceives"), 1499.5));
        assert!(approx(last(&host, "ipv4.packets", "OutRequests"), -1000.0));
        assert!(approx(last(&host, "ipv4.packets", "ForwDatagrams"), 1200.0));
        assert!(approx(last(&host, "ipv4.tcpsock", "CurrEstab"), 12.0));
        // IcmpMsg gained OutType0 in .3 (its header changed): still found by name.
        assert!(approx(last(&host, "ipv4.icmpmsg", "InType8"), 3.0));
        assert!(approx(last(&host, "ipv4.icmpmsg", "OutType0"), -3.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn real_file_gives_every_chart_when_forced() {
        let dir = scratch("snmp-real");
        std::fs::create_dir_all(dir.join("proc/net")).unwrap();
        std::fs::copy(fixture("proc/net_snmp.real-x86_64"), dir.join("proc/net/snmp")).unwrap();
        let host = host();
        let mut c = net_netstat::new(Arc::clone(&host), &dir, &snmp_only(), &|_, _| Mode::Yes, false, 1);
        c.collect(T0).unwrap();
        assert_eq!(host.chart_count(), CHARTS.len());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
