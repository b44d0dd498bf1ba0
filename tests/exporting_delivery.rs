//! Delivery guarantees of the exporting connectors, with the real binary against a real
//! VictoriaMetrics (Debian package `victoria-metrics`) and a sink run by the test:
//!
//! - **Outage**: the backend is stopped for 60 s and started again on the same port and
//!   data: every series, sent by remote write and by graphite, has a point every 2 s (the
//!   instances' `update every`) from its first export to its last, none missing.
//! - **4xx**: a backend that answers 400 to every batch gets each batch once; the refusals
//!   are counted on the instance's `_ops` chart and logged, nothing is retried.
//! - **Restart**: the node stopped in order while the backend is down keeps its backlog in
//!   `<cache dir>/exporting/<name>.spool`; started again with the backend up, it sends those
//!   batches and, on a `save` node, the windows it missed while down: the backend has a point
//!   for every window in which the node's database has one.

// Tests time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::backends::Backend;
use common::netdata::{data_retrying, free_port};
use common::{require, wait_until, Dep, Node};

/// The instances' `update every`: one point every this many seconds per series.
const EVERY: i64 = 2;
/// Charts every node exports (collected every second).
const CHARTS: &str = "system.uptime system.ram system.forks";
/// How long the backend stays away in the outage test (issue 15's figure).
const OUTAGE: Duration = Duration::from_secs(60);

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn write_exporting_conf(node: &Node, text: &str) {
    std::fs::create_dir_all(node.dir.join("etc")).unwrap();
    std::fs::write(node.dir.join("etc/exporting.conf"), text).unwrap();
}

/// An instance section exporting [`CHARTS`] every [`EVERY`] seconds.
fn instance(section: &str, destination: &str, extra: &str) -> String {
    format!(
        "[{section}]\n\tenabled = yes\n\tdestination = {destination}\n\tupdate every = {EVERY}\n\t\
         buffer on failures = 60\n\ttimeout ms = 5000\n\tsend charts matching = {CHARTS}\n{extra}"
    )
}

fn remote_write_instance(name: &str, vm: &Backend) -> String {
    instance(
        &format!("prometheus_remote_write:{name}"),
        &format!("127.0.0.1:{}", vm.port),
        "\tremote write URL path = /api/v1/write\n",
    )
}

/// Every series VictoriaMetrics holds whose name matches the regular expression `name`:
/// its labels (`name=value` joined) and its `(seconds, value)` points, sorted. The export
/// API may give one series on several lines; they are merged.
fn vm_series(vm: &Backend, name: &str) -> BTreeMap<String, BTreeMap<i64, f64>> {
    vm.get("/internal/force_flush");
    let selector = format!("{{__name__=~\"{name}\"}}");
    let query: String = selector
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let body = vm.get(&format!("/api/v1/export?match%5B%5D={query}")).body;
    let mut out: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    for line in String::from_utf8(body).unwrap().lines().filter(|l| !l.trim().is_empty()) {
        let j: serde_json::Value = serde_json::from_str(line).unwrap();
        let labels: BTreeMap<String, String> = j["metric"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let key = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let points = out.entry(key).or_default();
        let values = j["values"].as_array().unwrap();
        for (t, v) in j["timestamps"].as_array().unwrap().iter().zip(values) {
            let ms = t.as_i64().unwrap();
            assert_eq!(ms % 1000, 0, "exports are stamped on the second: {line}");
            points.insert(ms / 1000, v.as_f64().unwrap_or(f64::NAN));
        }
    }
    out
}

/// The stamps missing in `points` between its first and its last: every [`EVERY`] seconds.
fn missing(points: &BTreeMap<i64, f64>) -> Vec<i64> {
    let (Some(&first), Some(&last)) = (points.keys().next(), points.keys().next_back()) else {
        return Vec::new();
    };
    (first..=last).step_by(EVERY as usize).filter(|t| !points.contains_key(t)).collect()
}

/// Stamps off the grid of the first one (each export is `EVERY` seconds after the last).
fn off_grid(points: &BTreeMap<i64, f64>) -> Vec<i64> {
    let first = points.keys().next().copied().unwrap_or(0);
    points.keys().copied().filter(|t| (t - first) % EVERY != 0).collect()
}

/// Remote write names: `netdata_<chart>_<units>_average`.
const RW_NAMES: &str = "netdata_system_.*";

/// Graphite names of `host`: `netdata.<host>.<chart>.<dimension>`.
fn graphite_names(host: &str) -> String {
    format!("netdata[.]{host}[.].*")
}

/// The earliest last stamp over the series (none: 0), and the fewest points.
fn progress(series: &BTreeMap<String, BTreeMap<i64, f64>>) -> (i64, usize) {
    let last = series.values().filter_map(|p| p.keys().next_back().copied()).min().unwrap_or(0);
    let fewest = series.values().map(BTreeMap::len).min().unwrap_or(0);
    (last, fewest)
}

/// Sleeps until the wall clock is `frac` of the way through an export interval (exports
/// happen just after multiples of [`EVERY`]).
fn sleep_to_mid_interval(frac: f64) {
    let t = now();
    let into = t.rem_euclid(EVERY as f64);
    let target = EVERY as f64 * frac;
    let wait = if into < target { target - into } else { EVERY as f64 - into + target };
    std::thread::sleep(Duration::from_secs_f64(wait));
}

#[test]
fn an_outage_of_a_minute_leaves_no_gap() {
    if !require(Dep::VictoriaMetrics, "the backend that goes away and comes back") {
        return;
    }
    let graphite_port = free_port();
    let vm_flags = vec![format!("-graphiteListenAddr=127.0.0.1:{graphite_port}")];
    let mut vm = Backend::victoria_metrics_with(&vm_flags);
    let node = Node::new("xoutage", "ram");
    let host = "it-xoutage";
    write_exporting_conf(
        &node,
        &format!(
            "{}{}",
            remote_write_instance("vmrw", &vm),
            instance("graphite:vmg", &format!("127.0.0.1:{graphite_port}"), "")
        ),
    );
    let mut run = node.start_ready(&[]);
    let graphite = graphite_names(host);
    let series_of = |vm: &Backend| (vm_series(vm, RW_NAMES), vm_series(vm, &graphite));
    wait_until(
        "three exports of each connector in VictoriaMetrics",
        Duration::from_secs(40),
        &[&run],
        || {
            let (rw, g) = series_of(&vm);
            !rw.is_empty() && !g.is_empty() && progress(&rw).1 >= 3 && progress(&g).1 >= 3
        },
    );

    // Away for a minute, stopped between two exports.
    sleep_to_mid_interval(0.5);
    let down_at = now();
    vm.stop();
    let stopped_in = now() - down_at;
    std::thread::sleep(OUTAGE.saturating_sub(Duration::from_secs_f64(stopped_in)));
    for name in ["vmrw", "vmg"] {
        assert!(
            run.log().contains(&format!("instance '{name}': cannot send")),
            "{name}: no failure logged while the backend was down; log:\n{}",
            run.log()
        );
    }
    vm.restart_victoria_metrics(&vm_flags);
    let up_at = now();
    assert!(run.is_running(), "log:\n{}", run.log());

    // Back: the backlogs drain (the back-off is at most a minute, and a full backlog is
    // tried at every export), then every export since is there too.
    for name in ["vmrw", "vmg"] {
        run.wait_for_log(
            &format!("instance '{name}': the backend takes batches again"),
            Duration::from_secs(100),
        );
    }
    let drained_at = now();
    let (mut rw, mut g) = (BTreeMap::new(), BTreeMap::new());
    wait_until("every series exported past the drain", Duration::from_secs(20), &[&run], || {
        (rw, g) = series_of(&vm);
        // A point stamped after the drain: an export made after it (stamps lag 3 s).
        progress(&rw).0 as f64 > drained_at + 1.0 && progress(&g).0 as f64 > drained_at + 1.0
    });

    eprintln!(
        "outage: down at {down_at:.1}, up at {up_at:.1}, drained at {drained_at:.1}; points per series: {:?}",
        rw.values().chain(g.values()).map(BTreeMap::len).collect::<Vec<_>>()
    );
    let context = || {
        format!(
            "VictoriaMetrics down at {down_at:.1}, up at {up_at:.1}, drained at {drained_at:.1}\nnode log:\n{}\nbackend log:\n{}",
            run.log(),
            vm.log()
        )
    };
    assert_eq!(rw.len(), 6, "remote write series (uptime, 4 of ram, forks): {:?}\n{}", rw.keys(), context());
    assert_eq!(g.len(), 6, "graphite series: {:?}\n{}", g.keys(), context());
    for (connector, series) in [("remote write", &rw), ("graphite", &g)] {
        for (labels, points) in series {
            let first = *points.keys().next().unwrap();
            let last = *points.keys().next_back().unwrap();
            assert!(
                (first as f64) < down_at - 4.0 && (last as f64) > up_at,
                "{connector} {labels}: points from {first} to {last} do not span the outage\n{}",
                context()
            );
            assert_eq!(
                off_grid(points),
                Vec::<i64>::new(),
                "{connector} {labels}: stamps off the grid\n{}",
                context()
            );
            assert_eq!(
                missing(points),
                Vec::<i64>::new(),
                "{connector} {labels}: missing points between {first} and {last}\n{}",
                context()
            );
        }
    }
    assert!(!run.log().contains("is full"), "nothing dropped for room\n{}", context());
    run.stop_orderly();
}

/// A loopback HTTP sink that answers 400 to every request and keeps the bodies.
struct Refuser {
    port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Refuser {
    fn start() -> Refuser {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || {
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    let mut w = s;
                    loop {
                        let mut len = 0usize;
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            let mut h = String::new();
                            if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                                break;
                            }
                            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                                len = v.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body = vec![0u8; len];
                        if r.read_exact(&mut body).is_err() {
                            return;
                        }
                        kept.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
                        let answer =
                            "HTTP/1.1 400 Bad Request\r\nContent-Length: 18\r\n\r\nrefused by a test\n";
                        if w.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Refuser { port, bodies }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

/// The `"timestamp": N` values of a `json:http` body.
fn json_stamps(body: &str) -> BTreeSet<i64> {
    body.split("\"timestamp\":")
        .skip(1)
        .filter_map(|rest| rest.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect()
}

/// The sum of one dimension of a chart of the node, over what it stores.
fn chart_sum(port: u16, chart: &str, dim: &str) -> f64 {
    let path = format!(
        "/api/v1/data?chart={chart}&dimensions={dim}&after=-600&points=0&group=average&gtime=0&format=csv&options=seconds|match-ids"
    );
    let (_, rows) = data_retrying(port, &path);
    rows.iter().filter_map(|(_, v)| v.first().copied().flatten()).sum()
}

#[test]
fn a_backend_that_refuses_gets_each_batch_once() {
    let sink = Refuser::start();
    let node = Node::new("xrefuse", "ram");
    node.append_config("[web]\n\tbind to = 127.0.0.1:0\n");
    write_exporting_conf(&node, &instance("json:http:refuse", &format!("127.0.0.1:{}", sink.port), ""));
    let mut run = node.start_ready(&[]);
    wait_until("three batches at the sink", Duration::from_secs(30), &[&run], || sink.bodies().len() >= 3);
    run.wait_for_log("refused for good", Duration::from_secs(5));

    let (t1, n1) = (Instant::now(), sink.bodies().len());
    std::thread::sleep(Duration::from_secs(10));
    let n2 = sink.bodies().len();
    let exports = (t1.elapsed().as_secs_f64() / EVERY as f64).ceil() as usize + 1;
    assert!(
        n2 - n1 <= exports && n2 - n1 >= 3,
        "{} requests in {:?} with an export every {EVERY} s: a refused batch must not be sent again\nlog:\n{}",
        n2 - n1,
        t1.elapsed(),
        run.log()
    );
    // No batch twice: every request carries windows no other did.
    let bodies = sink.bodies();
    let mut seen = BTreeSet::new();
    for (i, b) in bodies.iter().enumerate() {
        let stamps = json_stamps(b);
        assert!(!stamps.is_empty(), "request {i} has no timestamp: {b}");
        assert!(
            stamps.iter().all(|t| seen.insert(*t)),
            "request {i} repeats a window: {stamps:?}\n{bodies:?}"
        );
    }
    let log = run.log();
    assert!(
        log.contains("instance 'refuse': batch of")
            && log.contains("HTTP 400")
            && log.contains("refused by a test"),
        "the refusal is logged with the backend's answer; log:\n{log}"
    );
    assert!(!log.contains("cannot send"), "a refusal is not a failure to retry; log:\n{log}");

    // The instance's `_ops` chart counts each refusal as a discard, and no write.
    let port = run.web_port().expect("the node's web port");
    let chart = "netdata.exporting_refuse_ops";
    let mut discarded = 0.0;
    wait_until("every refusal on the _ops chart", Duration::from_secs(15), &[&run], || {
        discarded = chart_sum(port, chart, "discard");
        discarded >= n2 as f64
    });
    let requests = sink.bodies().len() as f64;
    assert!(discarded <= requests, "{discarded} discards for {requests} requests\n{}", run.log());
    assert_eq!(chart_sum(port, chart, "write"), 0.0, "nothing was accepted");
    run.stop_orderly();
}

/// The node's stored points of one dimension (`seconds → value`).
fn db_points(port: u16, chart: &str, dim: &str) -> BTreeMap<i64, f64> {
    let path = format!(
        "/api/v1/data?chart={chart}&dimensions={dim}&after=-600&points=0&group=average&gtime=0&format=csv&options=seconds"
    );
    let (labels, rows) = data_retrying(port, &path);
    assert_eq!(labels.len(), 1, "{chart}/{dim}: {labels:?}");
    rows.into_iter().filter_map(|(t, v)| Some((t, v.first().copied().flatten()?))).collect()
}

#[test]
fn a_restart_during_an_outage_loses_nothing() {
    if !require(Dep::VictoriaMetrics, "the backend that receives the spooled batches") {
        return;
    }
    let mut vm = Backend::victoria_metrics_with(&[]);
    let node = Node::new("xspool", "save");
    node.append_config("[web]\n\tbind to = 127.0.0.1:0\n");
    write_exporting_conf(&node, &remote_write_instance("spool", &vm));
    let spool = node.dir.join("cache/exporting/spool.spool");

    let mut run = node.start_ready(&[]);
    wait_until("three exports in VictoriaMetrics", Duration::from_secs(40), &[&run], || {
        let s = vm_series(&vm, RW_NAMES);
        !s.is_empty() && progress(&s).1 >= 3
    });

    // The backend goes; a few batches wait; the node stops in order.
    sleep_to_mid_interval(0.5);
    vm.stop();
    let down_at = now();
    run.wait_for_log("instance 'spool': cannot send", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(6));
    run.stop_orderly();
    let stopped_at = now();
    let log = run.log();
    assert!(log.contains("not yet sent kept in"), "the backlog is spooled at stop; log:\n{log}");
    assert!(spool.exists(), "{} after an orderly stop; log:\n{log}", spool.display());

    // Down for a while; then the backend and the node come back.
    std::thread::sleep(Duration::from_secs(5));
    vm.restart_victoria_metrics(&[]);
    let mut run = node.start_ready(&[]);
    run.wait_for_log("kept from the previous run", Duration::from_secs(5));
    let restarted_at = now();
    let mut series = BTreeMap::new();
    wait_until("exports after the restart in VictoriaMetrics", Duration::from_secs(30), &[&run], || {
        series = vm_series(&vm, RW_NAMES);
        progress(&series).0 as f64 > restarted_at + 2.0
    });
    assert!(!spool.exists(), "the spool is read once");

    let port = run.web_port().expect("the node's web port");
    let context = || {
        format!(
            "backend down at {down_at:.1}, node stopped at {stopped_at:.1}, restarted at {restarted_at:.1}\n\
             node log:\n{}\nbackend log:\n{}",
            run.log(),
            vm.log()
        )
    };
    assert_eq!(series.len(), 6, "{:?}\n{}", series.keys(), context());
    for (labels, points) in &series {
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .unwrap_or_default()
                .to_owned()
        };
        let (chart, dim) = (label("chart"), label("dimension"));
        let db = db_points(port, &chart, &dim);
        let first = *points.keys().next().unwrap();
        let last = *points.keys().next_back().unwrap();
        // The batches made while the backend was down, before the stop, came from the spool.
        let spooled: Vec<i64> =
            points.keys().copied().filter(|&t| t as f64 > down_at && (t as f64) < stopped_at).collect();
        assert!(
            !spooled.is_empty(),
            "{labels}: no point from between {down_at:.0} and {stopped_at:.0}\n{}",
            context()
        );
        assert_eq!(off_grid(points), Vec::<i64>::new(), "{labels}: stamps off the grid\n{}", context());
        // Each export at B covers the slots B − 4 and B − 3 and is stamped B − 3: a window
        // in which the database holds a point must be in the backend, the restart's included.
        let lost: Vec<i64> = (first..=last)
            .step_by(EVERY as usize)
            .filter(|s| !points.contains_key(s) && (db.contains_key(&(s - 1)) || db.contains_key(s)))
            .collect();
        assert_eq!(lost, Vec::<i64>::new(), "{labels}: windows stored but not exported\n{}", context());
        // And each value is the average of its window.
        for (&s, &v) in points.range(first..=last) {
            let window: Vec<f64> = [s - 1, s].iter().filter_map(|t| db.get(t).copied()).collect();
            if window.is_empty() {
                continue;
            }
            let avg = window.iter().sum::<f64>() / window.len() as f64;
            assert!(
                (v - avg).abs() <= 1e-6 * avg.abs().max(1.0),
                "{labels} at {s}: exported {v}, the database's window {window:?}\n{}",
                context()
            );
        }
    }
    run.stop_orderly();
}
