//! Whole exports of a node with children, read back from the compressed protobuf with the
//! independent decoder of the parent module's tests: series names, label sets (sorted, as the
//! wire carries them), values worked out by hand from protocol.md §10's window and the
//! remote-write naming of §8.4, and millisecond timestamps.

use super::super::tests::{series_of, Series};
use super::*;
use crate::clock::USEC_PER_SEC;
use crate::exporting::format::{Filters, SendLabels};
use crate::exporting::names::NameSource;
use crate::exporting::source::Export;
use crate::rrd::{label_source, Chart, ChildStatus, HostSettings, Label};

const T0: i64 = 1_700_000_000;

fn label(name: &str, value: &str, source: u32) -> Label {
    Label { name: name.into(), value: value.into(), source }
}

fn settings(mode: MemoryMode) -> HostSettings {
    HostSettings { mode, history: 120, ..HostSettings::default() }
}

/// A series as the decoder gives it: `labels` besides `__name__`, written in sorted order.
fn series(name: &str, labels: &[(&str, &str)], value: f64, ts_ms: i64) -> Series {
    let mut l = vec![("__name__".to_string(), name.to_string())];
    l.extend(labels.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    (l, vec![(value, ts_ms)])
}

fn cpu(host: &Host) -> Arc<Chart> {
    let mut meta = ChartMeta::new("system", "cpu").units("percentage").family("cpu");
    meta.name = "system.processor".into();
    let c = host.chart_define(meta);
    c.dimension(DimensionMeta::new("user").name("usr"));
    c.dimension(DimensionMeta::new("system"));
    c
}

/// localhost `me` with three charts (one the chart filter drops), a child `child1` with its
/// User-Agent and labels, a child `skip-me` the host filter drops, and a child `empty` with
/// no chart and no streaming status. Stored points at `T0 + k`, k = 0..=20:
/// - me, system.cpu: user = k, system = 100 + k; disk.sda: a = 5;
///   net.eth0 (context net.net, kilobits/s): received = 2k, sent = −k.
/// - child1, system.cpu: user = 10k, system nothing stored. skip-me, system.cpu: user = 1.
fn stored_hosts() -> Hosts {
    let hosts = Hosts::new(Host::new("g0", "me", settings(MemoryMode::Ram)));
    let me = hosts.localhost();
    me.set_labels(vec![
        label("_os_name", "Debian", label_source::AUTO),
        label("room", "lab 1", label_source::CONFIG),
        label("rack.pos", "r2", label_source::CONFIG),
    ]);
    let c = cpu(me);
    let disk = me.chart_define(ChartMeta::new("disk", "sda"));
    disk.dimension(DimensionMeta::new("a"));
    let net =
        me.chart_define(ChartMeta::new("net", "eth0").context("net.net").units("kilobits/s").family("eth0"));
    net.dimension(DimensionMeta::new("received"));
    net.dimension(DimensionMeta::new("sent").name("out"));
    for k in 0..=20 {
        let t = T0 + k;
        c.store_point(0, t, k as f64, false);
        c.store_point(1, t, 100.0 + k as f64, false);
        disk.store_point(0, t, 5.0, false);
        net.store_point(0, t, 2.0 * k as f64, false);
        net.store_point(1, t, -(k as f64), false);
    }

    let child = hosts.add(Host::new("g1", "child1", settings(MemoryMode::Ram)));
    child.set_child_status(ChildStatus {
        program: "netdata".into(),
        program_version: "v1.37.1".into(),
        ..ChildStatus::default()
    });
    child.set_labels(vec![
        label("role", "edge", label_source::CONFIG),
        label("_arch", "mips", label_source::AUTO),
    ]);
    let c = cpu(&child);
    for k in 0..=20 {
        c.store_point(0, T0 + k, 10.0 * k as f64, false);
    }

    let skipped = hosts.add(Host::new("g2", "skip-me", settings(MemoryMode::Ram)));
    let c = cpu(&skipped);
    for k in 0..=20 {
        c.store_point(0, T0 + k, 1.0, false);
    }
    hosts.add(Host::new("g3", "empty", settings(MemoryMode::Ram)));
    hosts
}

fn options(names: NameSource, labels: SendLabels) -> FormatOptions {
    FormatOptions { prefix: "netdata".into(), names, labels }
}

/// Writes one export into a fresh batch; returns the count and the decoded series.
fn export(
    hosts: &Hosts,
    source: DataSource,
    filters: &Filters,
    opts: &FormatOptions,
) -> (usize, Vec<Series>) {
    let batch = format::Batch {
        export: Export { source, after: T0 + 5, before: T0 + 15 },
        filters,
        hostname: "node-name",
    };
    let mut rw = Batch::new();
    let n = write_batch(&mut rw, hosts, &batch, opts);
    let body = rw.body().expect("small batch");
    (n, series_of(body))
}

/// The export's `before`, in ms: every `netdata_info` sample's time.
const INFO_MS: i64 = (T0 + 15) * 1000;
/// Export [T0+5, T0+15] of charts collected every second: window [T0+3, T0+12], stamped T0+12.
const WINDOW_MS: i64 = (T0 + 12) * 1000;

#[test]
fn averages_of_every_host_with_names() {
    let hosts = stored_hosts();
    let filters = Filters::new("localhost !skip* *", "!disk.* *");
    let (n, got) =
        export(&hosts, DataSource::Average, &filters, &options(NameSource::Names, SendLabels::default()));
    let cpu = "netdata_system_cpu_percentage_average";
    let net = "netdata_net_net_kilobits_persec_average";
    let me = |chart: &'static str, family: &'static str, dim: &'static str| {
        [("chart", chart), ("dimension", dim), ("family", family), ("instance", "node-name")]
    };
    let want = vec![
        // Configured labels only (the default): room and rack.pos (made a valid name).
        series(
            "netdata_info",
            &[
                ("application", crate::PROGRAM),
                ("instance", "node-name"),
                ("rack_pos", "r2"),
                ("room", "lab 1"),
                ("version", crate::VERSION),
            ],
            1.0,
            INFO_MS,
        ),
        // user: 3..=12 → 75 / 10; system: 103..=112 → 1075 / 10.
        series(cpu, &me("system.processor", "cpu", "usr"), 7.5, WINDOW_MS),
        series(cpu, &me("system.processor", "cpu", "system"), 107.5, WINDOW_MS),
        // disk.sda is not matched; received: 6..=24 step 2 → 15; sent: −3..=−12 → −7.5.
        series(net, &me("net.eth0", "eth0", "received"), 15.0, WINDOW_MS),
        series(net, &me("net.eth0", "eth0", "out"), -7.5, WINDOW_MS),
        // The child under its own name, with its own program and version.
        series(
            "netdata_info",
            &[("application", "netdata"), ("instance", "child1"), ("role", "edge"), ("version", "v1.37.1")],
            1.0,
            INFO_MS,
        ),
        // 10 × (3..=12) → 75; system has nothing stored and is not sent.
        series(
            cpu,
            &[("chart", "system.processor"), ("dimension", "usr"), ("family", "cpu"), ("instance", "child1")],
            75.0,
            WINDOW_MS,
        ),
        // skip-me is not matched. `empty` has no chart and no User-Agent: only its instance.
        series("netdata_info", &[("instance", "empty")], 1.0, INFO_MS),
    ];
    assert_eq!(got, want);
    assert_eq!(n, 5, "dimension samples, netdata_info not counted");
}

#[test]
fn sums_with_ids_and_every_label() {
    let hosts = stored_hosts();
    let filters = Filters::new("localhost child1", "system.*");
    let all = SendLabels { configured: true, automatic: true };
    let (n, got) = export(&hosts, DataSource::Sum, &filters, &options(NameSource::Ids, all));
    let want = vec![
        series(
            "netdata_info",
            &[
                ("_os_name", "Debian"),
                ("application", crate::PROGRAM),
                ("instance", "node-name"),
                ("rack_pos", "r2"),
                ("room", "lab 1"),
                ("version", crate::VERSION),
            ],
            1.0,
            INFO_MS,
        ),
        // No units in a sum's name; ids, not names.
        series(
            "netdata_system_cpu_sum",
            &[("chart", "system.cpu"), ("dimension", "user"), ("family", "cpu"), ("instance", "node-name")],
            75.0,
            WINDOW_MS,
        ),
        series(
            "netdata_system_cpu_sum",
            &[("chart", "system.cpu"), ("dimension", "system"), ("family", "cpu"), ("instance", "node-name")],
            1075.0,
            WINDOW_MS,
        ),
        series(
            "netdata_info",
            &[
                ("_arch", "mips"),
                ("application", "netdata"),
                ("instance", "child1"),
                ("role", "edge"),
                ("version", "v1.37.1"),
            ],
            1.0,
            INFO_MS,
        ),
        series(
            "netdata_system_cpu_sum",
            &[("chart", "system.cpu"), ("dimension", "user"), ("family", "cpu"), ("instance", "child1")],
            750.0,
            WINDOW_MS,
        ),
    ];
    assert_eq!(got, want);
    assert_eq!(n, 3);
}

#[test]
fn a_host_whose_charts_export_nothing_still_gets_its_info() {
    let hosts = stored_hosts();
    // No chart matches; a pattern that matches no host but the node itself.
    let filters = Filters::new("localhost", "nothing.*");
    let opts = options(NameSource::Names, SendLabels { configured: false, automatic: false });
    let (n, got) = export(&hosts, DataSource::Average, &filters, &opts);
    let info = series(
        "netdata_info",
        &[("application", crate::PROGRAM), ("instance", "node-name"), ("version", crate::VERSION)],
        1.0,
        INFO_MS,
    );
    assert_eq!((n, got), (0, vec![info.clone()]));

    // A host without a database has nothing to average, but is still announced.
    let bare = Hosts::new(Host::new("g0", "me", settings(MemoryMode::None)));
    let c = cpu(bare.localhost());
    collect(&c, &[&[1, 2]]);
    let (n, got) = export(&bare, DataSource::Average, &Filters::default(), &opts);
    assert_eq!((n, got), (0, vec![info]));
}

/// Collects `rows[k]` (one value per dimension) at `T0 + k` seconds + 0.4 s.
fn collect(chart: &Chart, rows: &[&[i64]]) {
    for (k, row) in rows.iter().enumerate() {
        let mut c = chart.begin((T0 as u64 + k as u64) * USEC_PER_SEC + 400_000, 0, false);
        for (d, v) in row.iter().enumerate() {
            c.set(d, *v);
        }
        c.end();
    }
}

#[test]
fn as_collected_names_per_chart_or_per_dimension() {
    let hosts = Hosts::new(Host::new("g0", "me", settings(MemoryMode::None)));
    let me = hosts.localhost();
    let define = |meta: ChartMeta, dims: Vec<DimensionMeta>| {
        let c = me.chart_define(meta);
        for d in dims {
            c.dimension(d);
        }
        c
    };
    let inc = |id: &str| DimensionMeta::new(id).algorithm(Algorithm::Incremental);
    // All alike, counters: one metric, `_total`, the dimension in a label.
    let io =
        define(ChartMeta::new("system", "io").family("disk"), vec![inc("in"), inc("out").name("written")]);
    // Counters scaled differently: a metric per dimension, no dimension label.
    let net = define(
        ChartMeta::new("net", "eth0").context("net.net").family("eth0"),
        vec![inc("received").scale(8, 1000), inc("sent").name("out-bound").scale(-8, 1000)],
    );
    // Absolute gauges: one metric without `_total`.
    let load = define(
        ChartMeta::new("system", "load"),
        vec![DimensionMeta::new("load1"), DimensionMeta::new("load5")],
    );
    // Absolute next to a percentage of the incremental row: `_total` on the counter only.
    let mixed = define(
        ChartMeta::new("mixed", "x"),
        vec![
            DimensionMeta::new("a"),
            DimensionMeta::new("b").algorithm(Algorithm::PercentageOfIncrementalRow),
        ],
    );
    // Counters of Netdata's `prometheus` module carry no `_total`.
    let prom = define(ChartMeta::new("prom", "x").source("go.d", "prometheus"), vec![inc("c")]);
    collect(&io, &[&[100, 7], &[250, 9]]);
    collect(&net, &[&[1_000, 50], &[1_500, 80], &[2_600, 9_000_000_000]]);
    collect(&load, &[&[3, 4]]);
    collect(&mixed, &[&[-42, 5], &[-43, 6]]);
    collect(&prom, &[&[12]]);

    let opts = options(NameSource::Names, SendLabels::default());
    let (n, got) = export(&hosts, DataSource::AsCollected, &Filters::default(), &opts);
    let at = |k: i64| (T0 + k) * 1000; // the second of the last collection, in ms
    let labels = |chart: &'static str, family: &'static str, dim: &'static str| {
        [("chart", chart), ("dimension", dim), ("family", family), ("instance", "node-name")]
    };
    let no_dim = |chart: &'static str, family: &'static str| {
        [("chart", chart), ("family", family), ("instance", "node-name")]
    };
    let want = vec![
        series(
            "netdata_info",
            &[("application", crate::PROGRAM), ("instance", "node-name"), ("version", crate::VERSION)],
            1.0,
            INFO_MS,
        ),
        series("netdata_system_io_total", &labels("system.io", "disk", "in"), 250.0, at(1)),
        series("netdata_system_io_total", &labels("system.io", "disk", "written"), 9.0, at(1)),
        series("netdata_net_net_received_total", &no_dim("net.eth0", "eth0"), 2_600.0, at(2)),
        series("netdata_net_net_out_bound_total", &no_dim("net.eth0", "eth0"), 9_000_000_000.0, at(2)),
        series("netdata_system_load", &labels("system.load", "system", "load1"), 3.0, at(0)),
        series("netdata_system_load", &labels("system.load", "system", "load5"), 4.0, at(0)),
        series("netdata_mixed_x_a", &no_dim("mixed.x", "mixed"), -43.0, at(1)),
        series("netdata_mixed_x_b_total", &no_dim("mixed.x", "mixed"), 6.0, at(1)),
        series("netdata_prom_x", &labels("prom.x", "prom", "c"), 12.0, at(0)),
    ];
    assert_eq!(got, want);
    assert_eq!(n, 9);

    // With ids, the per-dimension names take the dimension's id.
    let opts = options(NameSource::Ids, SendLabels::default());
    let (_, got) = export(&hosts, DataSource::AsCollected, &Filters::new("*", "net.*"), &opts);
    let names: Vec<&str> = got.iter().map(|(l, _)| l[0].1.as_str()).collect();
    assert_eq!(names, ["netdata_info", "netdata_net_net_received_total", "netdata_net_net_sent_total"]);
}

#[test]
fn the_batch_is_not_cleared_and_counts_add_up() {
    let hosts = stored_hosts();
    let filters = Filters::default();
    let batch = format::Batch {
        export: Export { source: DataSource::Average, after: T0 + 5, before: T0 + 15 },
        filters: &filters,
        hostname: "node-name",
    };
    let opts = options(NameSource::Names, SendLabels::default());
    let mut rw = Batch::new();
    // me: cpu 2 + disk 1 + net 2; child1: 1; skip-me: 1; four netdata_info.
    assert_eq!(write_batch(&mut rw, &hosts, &batch, &opts), 7);
    assert_eq!((rw.series_count(), rw.sample_count()), (11, 11));
    assert_eq!(write_batch(&mut rw, &hosts, &batch, &opts), 7);
    assert_eq!(rw.series_count(), 22, "the caller clears");
    rw.clear();
    assert_eq!(rw.series_count(), 0);
}

#[test]
fn send_variables_writes_each_hosts_custom_variables() {
    let hosts = stored_hosts();
    hosts.localhost().set_variable("upsLoad", 42.5);
    let child = hosts.all().into_iter().find(|h| h.hostname() == "child1").expect("child1");
    child.set_variable("site.id", 7.0);
    let skipped = hosts.all().into_iter().find(|h| h.hostname() == "skip-me").expect("skip-me");
    skipped.set_variable("never", 1.0);
    let filters = Filters::new("localhost child1", "*");
    let batch = format::Batch {
        export: Export { source: DataSource::Average, after: T0 + 5, before: T0 + 15 },
        filters: &filters,
        hostname: "node-name",
    };
    let mut rw = Batch::new();
    assert_eq!(write_variables(&mut rw, &hosts, &batch, "nd"), 2, "not the filtered-out host's");
    let got = series_of(rw.body().expect("small batch"));
    assert_eq!(
        got,
        vec![
            series("nd_upsLoad", &[("instance", "node-name")], 42.5, INFO_MS),
            series("nd_site_id", &[("instance", "child1")], 7.0, INFO_MS),
        ]
    );
}
