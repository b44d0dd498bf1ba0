//! `/api/v1/allmetrics` over hand-collected charts: the Prometheus formats group every metric
//! family under one HELP/TYPE (two charts of one context; one chart on two hosts of
//! `prometheus_all_hosts`), and escape HELP text and label values.

use std::sync::Arc;

use super::*;
use crate::clock::USEC_PER_SEC;
use crate::rrd::{Algorithm, ChartMeta, DimensionMeta, HostSettings, Hosts};

const T0: i64 = 1_700_000_000;

fn host(guid: &str, name: &str) -> Host {
    Host::new(guid, name, HostSettings { history: 120, ..HostSettings::default() })
}

/// Collects `values` (one per dimension) at `T0 .. T0 + 3` (+0.2 s): the slots from `T0 + 1`
/// on hold them.
fn collect(chart: &Chart, values: &[i64]) {
    for k in 0..=3 {
        let mut c = chart.begin((T0 + k) as u64 * USEC_PER_SEC + 200_000, 0, false);
        for (i, v) in values.iter().enumerate() {
            c.set(i, *v);
        }
        c.end();
    }
}

fn net(h: &Host, dev: &str, title: &str, family: &str, values: &[i64]) {
    let c = h.chart_define(
        ChartMeta::new("net", dev).context("net.net").family(family).units("kilobits/s").title(title),
    );
    c.dimension(DimensionMeta::new("received"));
    c.dimension(DimensionMeta::new("sent"));
    collect(&c, values);
}

fn load(h: &Host, value: i64) {
    let c =
        h.chart_define(ChartMeta::new("system", "load").context("system.load").family("load").units("load"));
    c.dimension(DimensionMeta::new("load1").algorithm(Algorithm::Absolute));
    collect(&c, &[value]);
}

fn get(ctx: &Context, host: &Host, query: &str) -> String {
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let r = allmetrics(ctx, host, &pairs);
    assert_eq!(r.status, Status::Ok);
    String::from_utf8(r.body).expect("utf-8")
}

#[test]
fn units_like_netdata() {
    assert_eq!(prom_units("%"), "percent");
    assert_eq!(prom_units("kilobits/s"), "kilobits_persec");
    assert_eq!(prom_units("MiB"), "MiB");
    assert_eq!(shell_name("system.cpu"), "SYSTEM_CPU");
}

#[test]
fn two_charts_of_one_context_are_one_family() {
    let hosts = Arc::new(Hosts::new(host("g0", "h")));
    let h = hosts.localhost();
    // eth0, then another context, then eth1: eth1's samples still join eth0's family.
    net(h, "eth0", "Bandwidth \\ of\nit", "e\"0\\", &[10, 20]);
    load(h, 5);
    net(h, "eth1", "Other title", "eth1", &[30, 40]);
    let ctx = Context::for_tests(Arc::clone(&hosts), None, "", "*");

    let text = get(&ctx, h, "format=prometheus&timestamps=no&help=yes&types=yes&data=average");
    let m = "netdata_net_net_kilobits_persec_average";
    let want = format!(
        "# HELP netdata_info netdata host information\n\
         # TYPE netdata_info gauge\n\
         netdata_info{{instance=\"h\",application=\"netdata\",version=\"v1.37.1\"}} 1\n\
         # HELP {m} netdata \"Bandwidth \\\\ of\\nit\" with units \"kilobits/s\"\n\
         # TYPE {m} gauge\n\
         {m}{{chart=\"net.eth0\",family=\"e\\\"0\\\\\",dimension=\"received\"}} 10\n\
         {m}{{chart=\"net.eth0\",family=\"e\\\"0\\\\\",dimension=\"sent\"}} 20\n\
         {m}{{chart=\"net.eth1\",family=\"eth1\",dimension=\"received\"}} 30\n\
         {m}{{chart=\"net.eth1\",family=\"eth1\",dimension=\"sent\"}} 40\n\
         # HELP netdata_system_load_load_average netdata \"\" with units \"load\"\n\
         # TYPE netdata_system_load_load_average gauge\n\
         netdata_system_load_load_average{{chart=\"system.load\",family=\"load\",dimension=\"load1\"}} 5\n\n"
    );
    assert_eq!(text, want);

    // As collected, types only: one gauge family of both homogeneous (absolute) charts.
    let text = get(&ctx, h, "format=prometheus&timestamps=no&types=yes&data=as-collected");
    assert_eq!(text.matches("# TYPE netdata_net_net gauge\n").count(), 1, "{text}");
    assert!(!text.contains("# HELP"), "{text}");
    assert!(
        text.contains(
            "# TYPE netdata_net_net gauge\n\
             netdata_net_net{chart=\"net.eth0\",family=\"e\\\"0\\\\\",dimension=\"received\"} 10\n\
             netdata_net_net{chart=\"net.eth0\",family=\"e\\\"0\\\\\",dimension=\"sent\"} 20\n\
             netdata_net_net{chart=\"net.eth1\",family=\"eth1\",dimension=\"received\"} 30\n\
             netdata_net_net{chart=\"net.eth1\",family=\"eth1\",dimension=\"sent\"} 40\n\
             # TYPE netdata_system_load gauge\n"
        ),
        "{text}"
    );
}

#[test]
fn one_context_on_two_hosts_is_one_family_in_all_hosts() {
    let hosts = Arc::new(Hosts::new(host("g0", "parent")));
    load(hosts.localhost(), 5);
    let child = hosts.add(host("g1", "child"));
    load(&child, 7);
    let ctx = Context::for_tests(Arc::clone(&hosts), None, "", "*");

    let text = get(&ctx, hosts.localhost(), "format=prometheus_all_hosts&timestamps=no&types=yes&data=sum");
    let m = "netdata_system_load_sum";
    let want = format!(
        "# TYPE netdata_info gauge\n\
         netdata_info{{instance=\"parent\",application=\"netdata\",version=\"v1.37.1\"}} 1\n\
         netdata_info{{instance=\"child\",application=\"netdata\",version=\"v1.37.1\"}} 1\n\
         # TYPE {m} gauge\n\
         {m}{{chart=\"system.load\",family=\"load\",dimension=\"load1\",instance=\"parent\"}} 5\n\
         {m}{{chart=\"system.load\",family=\"load\",dimension=\"load1\",instance=\"child\"}} 7\n\n"
    );
    assert_eq!(text, want);
}
