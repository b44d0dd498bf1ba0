//! A web server holding two hosts with synthetic charts, for the dashboard browser test
//! (`tests/browser/run.sh`) and for trying the dashboard: `cargo run --example
//! web_two_hosts -- 127.0.0.1:19999 [seconds]`. Exits by itself after `seconds` (120).
//! With the `health` feature one template (`cpu_user_busy`, on `system.cpu`) is raised on
//! both hosts, so the dashboard's alarm list has something to show.

use std::sync::Arc;
use std::time::Duration;

use nanodata::config::settings::NodeSettings;
use nanodata::config::{Config, FileKind};
use nanodata::db::MemoryMode;
use nanodata::rrd::{Algorithm, Chart, ChartMeta, ChartType, DimensionMeta, Host, HostSettings, Hosts};

fn settings() -> HostSettings {
    HostSettings {
        mode: MemoryMode::Ram,
        history: 3600,
        update_every: 1,
        cache_dir: std::env::temp_dir(),
        gap_when_lost_iterations_above: 1,
        replication_window: 0,
        tiers: None,
    }
}

/// A chart and the raw value of dimension `d` at time `t`.
type Feed = (Arc<Chart>, Box<dyn Fn(i64, usize) -> i64 + Send>);

fn charts(host: &Host, phase: f64) -> Vec<Feed> {
    let cpu = host.chart_define(
        ChartMeta::new("system", "cpu")
            .title("Total CPU utilization")
            .units("percentage")
            .family("cpu")
            .context("system.cpu")
            .chart_type(ChartType::Stacked)
            .priority(100)
            .source("synthetic", "cpu"),
    );
    for d in ["user", "system", "iowait"] {
        cpu.dimension(DimensionMeta::new(d).scale(1, 1000));
    }
    let load = host.chart_define(
        ChartMeta::new("system", "load")
            .title("System Load Average")
            .units("load")
            .family("load")
            .priority(160),
    );
    for d in ["load1", "load5", "load15"] {
        load.dimension(DimensionMeta::new(d).scale(1, 1000));
    }
    let net = host.chart_define(
        ChartMeta::new("net", "eth0")
            .title("Bandwidth")
            .units("kilobits/s")
            .family("eth0")
            .chart_type(ChartType::Area)
            .priority(7000),
    );
    net.dimension(DimensionMeta::new("received").algorithm(Algorithm::Incremental).scale(8, 1000));
    net.dimension(DimensionMeta::new("sent").algorithm(Algorithm::Incremental).scale(-8, 1000));
    let mem = host.chart_define(
        ChartMeta::new("mem", "available")
            .title("Available RAM")
            .units("MiB")
            .family("system")
            .priority(1000),
    );
    mem.dimension(DimensionMeta::new("avail"));
    vec![
        (
            cpu,
            Box::new(move |t, d| {
                ((20.0 + 10.0 * ((t as f64) / 30.0 + phase + d as f64).sin()) * 1000.0 / (d + 1) as f64)
                    as i64
            }),
        ),
        (
            load,
            Box::new(move |t, d| {
                ((1.5 + ((t as f64) / (60.0 * (d + 1) as f64) + phase).sin()) * 1000.0) as i64
            }),
        ),
        (
            net,
            Box::new(move |t, d| {
                t * (if d == 0 { 250_000 } else { 90_000 }) + ((t as f64 / 7.0).sin() * 20_000.0) as i64
            }),
        ),
        (mem, Box::new(move |t, _| 800 + ((t as f64 / 90.0 + phase).cos() * 120.0) as i64)),
    ]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:19999".into());
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(120);
    let (cfg, _) = Config::parse(FileKind::Netdata, &format!("[web]\n\tbind to = {bind}\n"), "example");
    let hosts = Arc::new(Hosts::new(Host::new("11111111-1111-1111-1111-111111111111", "router", settings())));
    let child = hosts.add(Host::new("22222222-2222-2222-2222-222222222222", "ap-kitchen", settings()));
    let mut all = charts(hosts.localhost(), 0.0);
    all.extend(charts(&child, 1.7));
    let now = nanodata::clock::now_realtime_sec();
    let feed = |all: &[Feed], t: i64| {
        for (chart, f) in all {
            let n = chart.dimensions().len();
            let mut c = chart.begin(t as u64 * 1_000_000, 1_000_000, true);
            for d in 0..n {
                c.set(d, f(t, d));
            }
            c.end();
        }
    };
    for t in now - 900..=now {
        feed(&all, t);
    }
    let node = NodeSettings::from_config(&cfg, &Config::new(FileKind::Stream));
    #[cfg(feature = "health")]
    let (health, mut running) = {
        let text =
            " template: cpu_user_busy\n       on: system.cpu\n   lookup: average -10s unaligned of user\n\
                    \x20  every: 1s\n   units: %\n    warn: $this > 1\n    info: user CPU above 1%\n";
        let (entries, errors) = nanodata::health::config::parse(text, std::path::Path::new("example.conf"));
        assert!(errors.is_empty(), "{errors:?}");
        let health = Arc::new(nanodata::health::Health::new(&node.health, entries).without_files());
        let running = health.start(Arc::clone(&hosts)).expect("health thread");
        (Some(health), running)
    };
    #[cfg(not(feature = "health"))]
    let health = None;
    let bound = nanodata::web::bind(&node.web).expect("web server");
    let web =
        nanodata::web::start_bound(bound, node.web, None, Arc::clone(&hosts), health).expect("web server");
    println!("listening on {:?}", web.local_addrs());
    for _ in 0..secs {
        std::thread::sleep(nanodata::clock::until_next_boundary(nanodata::clock::now_realtime_usec(), 1));
        feed(&all, nanodata::clock::now_realtime_sec());
        std::thread::sleep(Duration::from_millis(5));
    }
    web.stop();
    #[cfg(feature = "health")]
    running.stop();
}
