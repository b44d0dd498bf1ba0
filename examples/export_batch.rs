//! The cost of one export batch, in process: a node holding `hosts` hosts × `charts` charts ×
//! `dims` dimensions, a minute stored every second, exported as each connector formats it.
//! Prints ns per exported sample and bytes per sample; for profiling (`perf record`) and for
//! the A/B of formatter changes: `cargo run --release --example export_batch -- [hosts]
//! [charts] [dims] [rounds] [connector]` (1000 20 10 5 all; connector: graphite, opentsdb,
//! json, remote_write or all). On a machine without CPU counters, `valgrind --tool=callgrind`
//! of a run with `rounds` 0 and one with some rounds gives the instructions per sample.

#![allow(clippy::disallowed_methods)] // an example times itself with the standard clock

use std::time::Instant;

use nanodata::db::MemoryMode;
use nanodata::exporting::format::{self, Batch, Filters, Format, FormatOptions};
use nanodata::exporting::remote_write;
use nanodata::exporting::source::{DataSource, Export};
use nanodata::rrd::{ChartMeta, DimensionMeta, Host, HostSettings, Hosts};

fn settings() -> HostSettings {
    HostSettings { mode: MemoryMode::Ram, history: 120, update_every: 1, ..HostSettings::default() }
}

fn main() {
    let arg = |i: usize, d: usize| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (n_hosts, n_charts, n_dims, rounds) = (arg(1, 1000), arg(2, 20), arg(3, 10), arg(4, 5));
    let only = std::env::args().nth(5).unwrap_or_else(|| "all".into());
    let wanted = |name: &str| only == "all" || only == name;
    let t0: i64 = 1_700_000_000;
    let hosts = Hosts::new(Host::new("g0", "parent", settings()));
    for h in 0..n_hosts {
        let host = hosts.add(Host::new(&format!("guid-{h}"), &format!("child-{h}"), settings()));
        for c in 0..n_charts {
            let chart = host.chart_define(
                ChartMeta::new("stress", &format!("chart_{c}")).units("things/s").family("stress"),
            );
            for d in 0..n_dims {
                chart.dimension(DimensionMeta::new(&format!("dim_{d}")));
            }
            for t in 0..60 {
                for d in 0..n_dims {
                    chart.store_point(d, t0 + t, (t as f64) * 1.37 + d as f64 / 3.0, false);
                }
            }
        }
    }
    let filters = Filters::new("*", "*");
    let batch = Batch {
        export: Export { source: DataSource::Average, after: t0 + 40, before: t0 + 50 },
        filters: &filters,
        hostname: "parent",
    };
    let options = FormatOptions { prefix: "netdata".into(), ..FormatOptions::default() };
    let mut out = Vec::new();
    for (name, f) in
        [("graphite", Format::Graphite), ("opentsdb", Format::OpentsdbTelnet), ("json", Format::Json)]
    {
        if !wanted(name) {
            continue;
        }
        let mut fmt = f.formatter(options.clone());
        let (mut samples, start) = (0, Instant::now());
        for _ in 0..rounds {
            out.clear();
            samples += format::write_batch(fmt.as_mut(), &mut out, &hosts, &batch);
        }
        if rounds == 0 {
            continue; // the set-up alone, for instruction counts
        }
        let ns = start.elapsed().as_nanos() as f64 / samples as f64;
        println!(
            "{name:10} {ns:7.1} ns/sample  {:6.1} B/sample  ({} samples/batch)",
            out.len() as f64 / (samples / rounds) as f64,
            samples / rounds
        );
    }
    if !wanted("remote_write") {
        return;
    }
    let mut rw = remote_write::Batch::new();
    let (mut samples, start, mut bytes) = (0, Instant::now(), 0);
    for _ in 0..rounds {
        rw.clear();
        samples += remote_write::write_batch(&mut rw, &hosts, &batch, &options);
        bytes = rw.body().map(<[u8]>::len).unwrap_or(0);
    }
    if rounds == 0 {
        return;
    }
    let ns = start.elapsed().as_nanos() as f64 / samples as f64;
    println!(
        "{:10} {ns:7.1} ns/sample  {:6.1} B/sample",
        "remote_wr",
        bytes as f64 / (samples / rounds) as f64
    );
}
