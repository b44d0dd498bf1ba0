//! `/proc/net/snmp6`: IPv6, ICMPv6, UDP6 and UDP-Lite6 counters (`Name value` per line).
//!
//! Chart ids, titles, units, families, priorities and dimensions are Netdata 1.37's, which
//! reads this file from its `/proc/net/netstat` module (hence that module name, and why
//! [`super::net_netstat`] collects it). Every chart is `auto` by default, so a router with
//! IPv6 idle shows none of them (`[plugin:proc:/proc/net/snmp6]`, Netdata's option names).

use super::table::{Dim, FileSpec, Format, Spec};

const fn inc(s: &'static str, f: &'static str, name: &'static str, m: i64) -> Dim {
    Dim::inc(s, f, name, m)
}
/// A dimension named like its id.
const fn same(s: &'static str, f: &'static str, m: i64) -> Dim {
    Dim::inc(s, f, f, m)
}

/// Read by [`super::net_netstat`].
pub static FILE: FileSpec =
    FileSpec { name: "/proc/net/snmp6", format: Format::Lines, charts: &CHARTS, fallback: false };

#[rustfmt::skip]
pub static CHARTS: [Spec; 22] = [
    Spec::new("system", "ipv6", "IPv6 Bandwidth", "kilobits/s", "network", 502, &[
        inc("Ip6", "InOctets", "received", 8).divisor(1000),
        inc("Ip6", "OutOctets", "sent", -8).divisor(1000),
    ]).area().option("bandwidth"),
    Spec::new("ipv6", "packets", "IPv6 Packets", "packets/s", "packets", 6200, &[
        inc("Ip6", "InReceives", "received", 1),
        inc("Ip6", "OutRequests", "sent", -1),
        inc("Ip6", "OutForwDatagrams", "forwarded", -1),
        inc("Ip6", "InDelivers", "delivers", 1),
    ]).option("ipv6 packets"),
    Spec::new("ipv6", "fragsout", "IPv6 Fragments Sent", "packets/s", "fragments6", 6401, &[
        inc("Ip6", "FragOKs", "ok", 1),
        inc("Ip6", "FragFails", "failed", -1),
        inc("Ip6", "FragCreates", "all", 1),
    ]).detail().option("ipv6 fragments sent"),
    Spec::new("ipv6", "fragsin", "IPv6 Fragments Reassembly", "packets/s", "fragments6", 6402, &[
        inc("Ip6", "ReasmOKs", "ok", 1),
        inc("Ip6", "ReasmFails", "failed", -1),
        inc("Ip6", "ReasmTimeout", "timeout", -1),
        inc("Ip6", "ReasmReqds", "all", 1),
    ]).detail().option("ipv6 fragments assembly"),
    Spec::new("ipv6", "errors", "IPv6 Errors", "packets/s", "errors", 6300, &[
        same("Ip6", "InDiscards", 1),
        same("Ip6", "OutDiscards", -1),
        same("Ip6", "InHdrErrors", 1),
        same("Ip6", "InAddrErrors", 1),
        same("Ip6", "InUnknownProtos", 1),
        same("Ip6", "InTooBigErrors", 1),
        same("Ip6", "InTruncatedPkts", 1),
        same("Ip6", "InNoRoutes", 1),
        same("Ip6", "OutNoRoutes", -1),
    ]).detail().option("ipv6 errors"),
    Spec::new("ipv6", "udppackets", "IPv6 UDP Packets", "packets/s", "udp6", 6601, &[
        inc("Udp6", "InDatagrams", "received", 1),
        inc("Udp6", "OutDatagrams", "sent", -1),
    ]).option("ipv6 UDP packets"),
    Spec::new("ipv6", "udperrors", "IPv6 UDP Errors", "events/s", "udp6", 6610, &[
        same("Udp6", "RcvbufErrors", 1),
        same("Udp6", "SndbufErrors", -1),
        same("Udp6", "InErrors", 1),
        same("Udp6", "NoPorts", 1),
        same("Udp6", "InCsumErrors", 1),
        same("Udp6", "IgnoredMulti", 1),
    ]).detail().option("ipv6 UDP errors"),
    Spec::new("ipv6", "udplitepackets", "IPv6 UDPlite Packets", "packets/s", "udplite6", 6701, &[
        inc("UdpLite6", "InDatagrams", "received", 1),
        inc("UdpLite6", "OutDatagrams", "sent", -1),
    ]).option("ipv6 UDPlite packets"),
    Spec::new("ipv6", "udpliteerrors", "IPv6 UDP Lite Errors", "events/s", "udplite6", 6710, &[
        same("UdpLite6", "RcvbufErrors", 1),
        same("UdpLite6", "SndbufErrors", -1),
        same("UdpLite6", "InErrors", 1),
        same("UdpLite6", "NoPorts", 1),
        same("UdpLite6", "InCsumErrors", 1),
    ]).detail().option("ipv6 UDPlite errors"),
    Spec::new("ipv6", "mcast", "IPv6 Multicast Bandwidth", "kilobits/s", "multicast6", 6850, &[
        inc("Ip6", "InMcastOctets", "received", 8).divisor(1000),
        inc("Ip6", "OutMcastOctets", "sent", -8).divisor(1000),
    ]).area().detail().option("multicast bandwidth"),
    Spec::new("ipv6", "bcast", "IPv6 Broadcast Bandwidth", "kilobits/s", "broadcast6", 6840, &[
        inc("Ip6", "InBcastOctets", "received", 8).divisor(1000),
        inc("Ip6", "OutBcastOctets", "sent", -8).divisor(1000),
    ]).area().detail().option("broadcast bandwidth"),
    Spec::new("ipv6", "mcastpkts", "IPv6 Multicast Packets", "packets/s", "multicast6", 6851, &[
        inc("Ip6", "InMcastPkts", "received", 1),
        inc("Ip6", "OutMcastPkts", "sent", -1),
    ]).detail().option("multicast packets"),
    Spec::new("ipv6", "icmp", "IPv6 ICMP Messages", "messages/s", "icmp6", 6900, &[
        inc("Icmp6", "InMsgs", "received", 1),
        inc("Icmp6", "OutMsgs", "sent", -1),
    ]).option("icmp"),
    Spec::new("ipv6", "icmpredir", "IPv6 ICMP Redirects", "redirects/s", "icmp6", 6910, &[
        inc("Icmp6", "InRedirects", "received", 1),
        inc("Icmp6", "OutRedirects", "sent", -1),
    ]).option("icmp redirects"),
    Spec::new("ipv6", "icmperrors", "IPv6 ICMP Errors", "errors/s", "icmp6", 6920, &[
        same("Icmp6", "InErrors", 1),
        same("Icmp6", "OutErrors", -1),
        same("Icmp6", "InCsumErrors", 1),
        same("Icmp6", "InDestUnreachs", 1),
        same("Icmp6", "InPktTooBigs", 1),
        same("Icmp6", "InTimeExcds", 1),
        same("Icmp6", "InParmProblems", 1),
        same("Icmp6", "OutDestUnreachs", -1),
        same("Icmp6", "OutPktTooBigs", -1),
        same("Icmp6", "OutTimeExcds", -1),
        same("Icmp6", "OutParmProblems", -1),
    ]).option("icmp errors"),
    Spec::new("ipv6", "icmpechos", "IPv6 ICMP Echo", "messages/s", "icmp6", 6930, &[
        same("Icmp6", "InEchos", 1),
        same("Icmp6", "OutEchos", -1),
        same("Icmp6", "InEchoReplies", 1),
        same("Icmp6", "OutEchoReplies", -1),
    ]).option("icmp echos"),
    Spec::new("ipv6", "groupmemb", "IPv6 ICMP Group Membership", "messages/s", "icmp6", 6940, &[
        same("Icmp6", "InGroupMembQueries", 1).id("InQueries"),
        same("Icmp6", "OutGroupMembQueries", -1).id("OutQueries"),
        same("Icmp6", "InGroupMembResponses", 1).id("InResponses"),
        same("Icmp6", "OutGroupMembResponses", -1).id("OutResponses"),
        same("Icmp6", "InGroupMembReductions", 1).id("InReductions"),
        same("Icmp6", "OutGroupMembReductions", -1).id("OutReductions"),
    ]).option("icmp group membership"),
    Spec::new("ipv6", "icmprouter", "IPv6 Router Messages", "messages/s", "icmp6", 6950, &[
        inc("Icmp6", "InRouterSolicits", "InSolicits", 1).id("InSolicits"),
        inc("Icmp6", "OutRouterSolicits", "OutSolicits", -1).id("OutSolicits"),
        inc("Icmp6", "InRouterAdvertisements", "InAdvertisements", 1).id("InAdvertisements"),
        inc("Icmp6", "OutRouterAdvertisements", "OutAdvertisements", -1).id("OutAdvertisements"),
    ]).option("icmp router"),
    Spec::new("ipv6", "icmpneighbor", "IPv6 Neighbor Messages", "messages/s", "icmp6", 6960, &[
        inc("Icmp6", "InNeighborSolicits", "InSolicits", 1).id("InSolicits"),
        inc("Icmp6", "OutNeighborSolicits", "OutSolicits", -1).id("OutSolicits"),
        inc("Icmp6", "InNeighborAdvertisements", "InAdvertisements", 1).id("InAdvertisements"),
        inc("Icmp6", "OutNeighborAdvertisements", "OutAdvertisements", -1).id("OutAdvertisements"),
    ]).option("icmp neighbor"),
    Spec::new("ipv6", "icmpmldv2", "IPv6 ICMP MLDv2 Reports", "reports/s", "icmp6", 6970, &[
        inc("Icmp6", "InMLDv2Reports", "received", 1),
        inc("Icmp6", "OutMLDv2Reports", "sent", -1),
    ]).option("icmp mldv2"),
    Spec::new("ipv6", "icmptypes", "IPv6 ICMP Types", "messages/s", "icmp6", 6980, &[
        same("Icmp6", "InType1", 1),
        same("Icmp6", "InType128", 1),
        same("Icmp6", "InType129", 1),
        same("Icmp6", "InType136", 1),
        same("Icmp6", "OutType1", -1),
        same("Icmp6", "OutType128", -1),
        same("Icmp6", "OutType129", -1),
        same("Icmp6", "OutType133", -1),
        same("Icmp6", "OutType135", -1),
        same("Icmp6", "OutType143", -1),
    ]).option("icmp types"),
    Spec::new("ipv6", "ect", "IPv6 ECT Packets", "packets/s", "packets", 6210, &[
        same("Ip6", "InNoECTPkts", 1),
        same("Ip6", "InECT1Pkts", 1),
        same("Ip6", "InECT0Pkts", 1),
        same("Ip6", "InCEPkts", 1),
    ]).option("ect"),
];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::collectors::net_netstat::{self, Options};
    use crate::collectors::table::tests::{approx, drive, host, last, scratch};
    use crate::collectors::table::Mode;

    #[test]
    fn snmp6_charts_match_netdata() {
        let dir = scratch("snmp6");
        std::fs::create_dir_all(dir.join("proc/net")).unwrap();
        let host = host();
        let options = Options { netstat: false, snmp: false, snmp6: true };
        let mut c = net_netstat::new(Arc::clone(&host), &dir, &options, &|_, _| Mode::Auto, false, 1);
        drive(&mut c, &dir.join("proc/net/snmp6"), &["net_snmp6.real-x86_64", "net_snmp6.2", "net_snmp6.3"]);
        let ids: Vec<String> = host.charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(
            ids,
            [
                "system.ipv6",
                "ipv6.packets",
                "ipv6.mcast",
                "ipv6.mcastpkts",
                "ipv6.icmp",
                "ipv6.icmperrors",
                "ipv6.icmpneighbor",
                "ipv6.icmpmldv2",
                "ipv6.icmptypes",
                "ipv6.ect",
                "ipv6.udppackets",
            ],
            "auto charts appear in the order their counters leave zero"
        );
        let n = host.chart("ipv6.icmpneighbor").unwrap();
        assert_eq!(n.dimensions()[1].id, "OutSolicits");
        assert_eq!(n.meta().priority, 6960);
        assert!(approx(last(&host, "ipv6.packets", "InReceives"), 100.0));
        assert!(approx(last(&host, "ipv6.icmpneighbor", "OutSolicits"), -2.0));
        assert!(approx(last(&host, "system.ipv6", "OutOctets"), -80.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
