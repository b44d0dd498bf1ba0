//! Exporting end to end against real backends on loopback (Debian packages `victoria-metrics`
//! and `prometheus`): a nanodata parent with a streamed nanodata child exports both hosts every
//! 2 s through six instances — graphite, opentsdb telnet and opentsdb http into one
//! VictoriaMetrics, remote write into that VictoriaMetrics and into Prometheus, json plaintext
//! into a sink in this test — and what each backend's query API gives back must equal what
//! the parent's own `/api/v1/data` gives for the same windows.
//!
//! The windows come from protocol.md §10, computed here: exports happen once every `update
//! every` (U) seconds, as Netdata 1.37 schedules them on a node collecting every second: at the
//! seconds B with B % U = U − 1 (the last second before each multiple); the one at B, after the one at B − U, covers for a chart stored every
//! `ue` seconds the slots [a, b] with a = B − U − 2·ue and b = B − 2·ue both aligned down to
//! `ue`, b less one more `ue` (a = b when a > b), stamped b. A sample stamped T is compared with
//! the `average` of `/api/v1/data` over the window ending at T (`points=1`,
//! `options=unaligned`: one bucket over exactly [a, b]). Only exports whose previous one surely
//! happened are used (the first covers the time since the start). A sample no such window
//! explains (a child's chart clamped at its newest slot when the export ran) is not compared;
//! every series must have enough that are.
//!
//! Also: both hosts in every backend and only the three charts asked for; names and labels as
//! Netdata's connectors write them, the child's host label included; the json records' fields
//! against the chart metadata; each instance's self-monitoring chart shows metrics sent and
//! none lost.

#![allow(clippy::disallowed_methods)] // tests time themselves with the standard clock

mod common;
#[path = "exporting_backends/read.rs"]
mod read;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::backends::Backend;
use common::netdata::{data_retrying, free_port, http_get, API_KEY};
use common::{require, Dep, Node, Run};
use read::{read_prom, read_sink, read_vm, Sink};
use serde_json::Value;

/// `update every` of every instance.
const U: i64 = 2;
const CHARTS: [&str; 3] = ["system.cpu", "system.load", "system.ram"];
const PARENT: &str = "it-exbparent";
const CHILD: &str = "it-exbchild";
const HOSTS: [&str; 2] = [PARENT, CHILD];
const INSTANCES: [&str; 6] = ["vmgraphite", "vmtelnet", "vmhttp", "vmrw", "promrw", "sink"];
/// Consecutive exports compared, at least.
const EXPORTS: i64 = 7;
/// The child's configured host label; graphite and opentsdb send it sanitised.
const RACK: &str = "a1 b;c";
/// As Netdata 1.37 stores a label value (`;` → `:`), and so exports it.
const RACK_STORED: &str = "a1 b:c";
/// In a graphite tag (spaces → `_`).
const RACK_SANITISED: &str = "a1_b:c";
/// In an OpenTSDB tag (`:` too).
const RACK_TSDB: &str = "a1_b_c";

type Labels = BTreeMap<String, String>;
/// (host, chart, dimension name) → timestamp (s) → the values read back at it.
type Samples = BTreeMap<(String, String, String), BTreeMap<i64, Vec<f64>>>;

/// What one backend (or the sink) gave back.
struct Got {
    name: &'static str,
    samples: Samples,
    /// Allowed difference from the parent's API besides 1e-9 relative: both sides round to 7
    /// decimals for the text formats; remote write carries the f64 itself.
    abs: f64,
    /// Hosts whose custom variables arrived (remote write).
    variables: BTreeSet<String>,
}

impl Got {
    fn new(name: &'static str, abs: f64) -> Got {
        Got { name, samples: Samples::new(), abs, variables: BTreeSet::new() }
    }

    fn add(&mut self, host: &str, chart: &str, dim: &str, t: i64, v: f64) {
        let key = (host.to_owned(), chart.to_owned(), dim.to_owned());
        self.samples.entry(key).or_default().entry(t).or_default().push(v);
    }

    /// The newest timestamp of `host`'s `chart`.
    fn newest(&self, host: &str, chart: &str) -> Option<i64> {
        self.samples
            .iter()
            .filter(|((h, c, _), _)| h == host && c == chart)
            .filter_map(|(_, s)| s.keys().next_back().copied())
            .max()
    }
}

/// A chart's metadata as the parent's chart API gives it.
struct Meta {
    ue: i64,
    /// The oldest slot stored.
    first_entry: i64,
    family: String,
    context: String,
    units: String,
    /// (id, name)
    dims: Vec<(String, String)>,
}

fn meta(port: u16, host: &str, chart: &str) -> Option<Meta> {
    let body = http_get(port, &format!("/host/{host}/api/v1/chart?chart={chart}"))?;
    let j: Value = serde_json::from_str(&body).ok()?;
    let text = |k: &str| j[k].as_str().map(str::to_owned);
    // The chart API leaves hidden dimensions out (system.cpu's idle); exporting sends them.
    let path = format!("/host/{host}/api/v1/data?chart={chart}&after=-10&points=1&format=json&options=jsonwrap|all-dimensions");
    let data: Value = serde_json::from_str(&http_get(port, &path)?).ok()?;
    let strings = |k: &str| -> Vec<String> {
        data[k].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    };
    let dims: Vec<(String, String)> =
        strings("dimension_ids").into_iter().zip(strings("dimension_names")).collect();
    if dims.is_empty() {
        return None;
    }
    Some(Meta {
        ue: j["update_every"].as_i64()?,
        first_entry: j["first_entry"].as_i64().filter(|&t| t > 0)?,
        family: text("family")?,
        context: text("context")?,
        units: text("units")?,
        dims,
    })
}

/// The window of the export at `now` after the one at `prev`, for a chart stored every `ue`
/// seconds (protocol.md §10).
fn window(prev: i64, now: i64, ue: i64) -> (i64, i64) {
    let (a, b) = (prev - 2 * ue, now - 2 * ue);
    let (a, b) = (a - a.rem_euclid(ue), b - b.rem_euclid(ue) - ue);
    (a.min(b), b)
}

/// A window's average of each dimension (by name) in the parent's API, or what went wrong.
type Averages = Result<HashMap<String, Option<f64>>, String>;

/// The parent's `/api/v1/data` averages over windows, asked once per window.
struct Api {
    port: u16,
    cache: HashMap<(String, String, i64, i64), Averages>,
}

impl Api {
    fn average(&mut self, host: &str, chart: &str, (a, b): (i64, i64)) -> &Averages {
        let port = self.port;
        self.cache.entry((host.into(), chart.into(), a, b)).or_insert_with(|| {
            let path = format!(
                "/host/{host}/api/v1/data?chart={chart}&after={a}&before={b}&points=1&group=average\
                 &format=csv&options=unaligned|all-dimensions|seconds"
            );
            let (labels, rows) = data_retrying(port, &path);
            match rows.as_slice() {
                [(t, values)] if *t == b => Ok(labels.into_iter().zip(values.iter().copied()).collect()),
                _ => Err(format!("{path} answered {labels:?} {rows:?}, not one row at {b}")),
            }
        })
    }
}

/// Compares every sample of `got` that a window explains with the parent's API; checks that
/// every series of both hosts had enough compared. Returns how many were.
fn compare(
    got: &Got,
    metas: &HashMap<(String, String), Meta>,
    api: &mut Api,
    exports: (i64, i64),
    problems: &mut Vec<String>,
) -> usize {
    let mut compared: HashMap<&(String, String, String), usize> = HashMap::new();
    for (key, points) in &got.samples {
        let (host, chart, dim) = key;
        let Some(m) = metas.get(&(host.clone(), chart.clone())) else { continue };
        for (&t, values) in points {
            let windows: BTreeSet<(i64, i64)> = (exports.0..=exports.1)
                .step_by(U as usize)
                .map(|b| window(b - U, b, m.ue))
                .filter(|w| w.1 == t)
                .collect();
            let Some(&w) = windows.iter().next() else { continue };
            if windows.len() > 1 {
                problems
                    .push(format!("{}: {key:?} at {t}: several windows end there: {windows:?}", got.name));
            }
            let want = match api.average(host, chart, w) {
                Ok(avg) => avg.get(dim).copied(),
                Err(e) => {
                    problems.push(e.clone());
                    continue;
                }
            };
            for &v in values {
                match want {
                    Some(Some(a)) if (v - a).abs() <= got.abs + 1e-9 * a.abs() => {}
                    _ => problems.push(format!(
                        "{}: {host} {chart} {dim} at {t}: {v}; the parent's API over [{}, {}]: {want:?}",
                        got.name, w.0, w.1
                    )),
                }
            }
            *compared.entry(key).or_default() += 1;
        }
    }
    for ((host, chart), m) in metas {
        // 1 s charts: a window per export; system.load (5 s): a window per slot, the first
        // ones from before the chart's first slot.
        let need = if m.ue == 1 { EXPORTS as usize - 2 } else { 1 };
        for (_, dim) in &m.dims {
            let key = (host.clone(), chart.clone(), dim.clone());
            let have = compared.get(&key).copied().unwrap_or(0);
            if have < need {
                let seen: Vec<i64> =
                    got.samples.get(&key).map(|s| s.keys().copied().collect()).unwrap_or_default();
                problems.push(format!(
                    "{}: {host} {chart} {dim}: {have} samples compared, want {need} (exports {}..={} every {U} s; \
                     timestamps read back: {seen:?})",
                    got.name, exports.0, exports.1
                ));
            }
        }
    }
    compared.values().sum()
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Fails with `what`, the nodes' logs and the backends' logs.
fn fail(what: &str, runs: &[(&str, &Run)], backends: &[&Backend]) -> ! {
    let mut logs = String::new();
    for (name, run) in runs {
        logs.push_str(&format!("\n---- {name} log ----\n{}", run.log()));
    }
    for b in backends {
        logs.push_str(&format!("\n---- {} log ----\n{}", b.name, b.log()));
    }
    panic!("{what}{logs}");
}

fn exporting_conf(graphite: u16, telnet: u16, http: u16, vm: u16, prom: u16, sink: u16) -> String {
    format!(
        "[exporting:global]\n\
         \tupdate every = {U}\n\
         \tsend hosts matching = *\n\
         \tsend charts matching = {charts}\n\
         [graphite:vmgraphite]\n\tenabled = yes\n\tdestination = 127.0.0.1:{graphite}\n\
         [opentsdb:telnet:vmtelnet]\n\tenabled = yes\n\tdestination = 127.0.0.1:{telnet}\n\tprefix = tsdb\n\
         [opentsdb:http:vmhttp]\n\tenabled = yes\n\tdestination = 127.0.0.1:{http}\n\tprefix = tsdbhttp\n\
         [prometheus_remote_write:vmrw]\n\tenabled = yes\n\tdestination = 127.0.0.1:{vm}\n\
         \tremote write URL path = /api/v1/write\n\
         [prometheus_remote_write:promrw]\n\tenabled = yes\n\tdestination = 127.0.0.1:{prom}\n\
         \tremote write URL path = /api/v1/write\n\
         [json:sink]\n\tenabled = yes\n\tdestination = 127.0.0.1:{sink}\n",
        charts = CHARTS.join(" ")
    )
}

#[test]
fn a_parent_exports_itself_and_its_child_and_every_backend_reads_back_its_api() {
    if !require(Dep::VictoriaMetrics, "graphite, opentsdb and remote write backend")
        || !require(Dep::Prometheus, "remote write receiver")
    {
        return;
    }
    let (graphite, telnet, tsdb_http) = (free_port(), free_port(), free_port());
    let vm = Backend::victoria_metrics_with(&[
        format!("-graphiteListenAddr=127.0.0.1:{graphite}"),
        format!("-opentsdbListenAddr=127.0.0.1:{telnet}"),
        format!("-opentsdbHTTPListenAddr=127.0.0.1:{tsdb_http}"),
    ]);
    let prom = Backend::prometheus();
    let sink = Sink::start();

    let web = free_port();
    let parent = Node::new("exbparent", "ram");
    parent.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{web}\n[host labels]\n\trole = parent\n"));
    parent.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    std::fs::write(
        parent.dir.join("etc/exporting.conf"),
        exporting_conf(graphite, telnet, tsdb_http, vm.port, prom.port, sink.port),
    )
    .unwrap();
    let prun = parent.start_ready(&[]);

    let child = Node::new("exbchild", "ram");
    child.append_config(&format!("[web]\n\tmode = none\n[host labels]\n\track = {RACK}\n"));
    child.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{web}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let crun = child.start_ready(&[]);
    let runs = [("parent", &prun), ("child", &crun)];
    let backends = [&vm, &prom];

    // Every instance runs, and the child's data reaches the parent.
    let start = Instant::now();
    loop {
        let log = prun.log();
        let started = INSTANCES.iter().all(|i| {
            let line = format!("exporting: instance '{i}'");
            log.lines().any(|l| l.contains(&line) && l.contains("sends average every 2 s"))
        });
        let path = "/api/v1/data?chart=system.cpu&after=-5&points=0&format=csv&options=seconds";
        let rows =
            http_get(web, &format!("/host/{CHILD}{path}")).map(|b| common::netdata::parse_csv(&b).1.len());
        if started && rows.is_some_and(|n| n >= 2) {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            fail(
                "within 30 s: the six instances started and the child's system.cpu on the parent",
                &runs,
                &backends,
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Both hosts' charts, once each has stored something (system.load: its first 5 s slot).
    let mut metas = HashMap::new();
    let start = Instant::now();
    for host in HOSTS {
        for chart in CHARTS {
            let m = loop {
                match meta(web, host, chart) {
                    Some(m) => break m,
                    None if start.elapsed() > Duration::from_secs(30) => fail(
                        &format!("the parent's API has no {chart} of {host} within 30 s"),
                        &runs,
                        &backends,
                    ),
                    None => std::thread::sleep(Duration::from_millis(200)),
                }
            };
            metas.insert((host.to_owned(), chart.to_owned()), m);
        }
    }
    // The previous export of every export compared surely happened after the child arrived.
    // The last one is late enough for the windows of every chart to cover a second stored slot
    // (system.load's windows end 15 to 20 s before their export).
    let first = (now_secs() / U + 3) * U + (U - 1);
    let mut last = first + (EXPORTS - 1) * U;
    for m in metas.values() {
        while window(last - U, last, m.ue).1 < m.first_entry + m.ue {
            last += U;
        }
    }
    let exports = (first, last);

    // Wait for the last export compared to reach every backend.
    std::thread::sleep(Duration::from_secs(u64::try_from(last + 1 - now_secs()).unwrap_or(0)));
    let deadline = Instant::now() + Duration::from_secs(30);
    let (gots, problems) = loop {
        let mut problems = Vec::new();
        let mut gots = read_vm(&vm, &metas, &mut problems);
        gots.push(read_prom(&prom, &metas, &mut problems));
        gots.push(read_sink(&sink.lines(), &metas, &mut problems));
        // The 1 s charts of both hosts, stamped `last` − 3 by the last export.
        let missing: Vec<String> = gots
            .iter()
            .flat_map(|g| HOSTS.iter().flat_map(move |h| ["system.cpu", "system.ram"].map(|c| (g, h, c))))
            .filter(|(g, h, c)| g.newest(h, c).is_none_or(|t| t < last - 3))
            .map(|(g, h, c)| format!("{}: {h} {c} newest {:?}", g.name, g.newest(h, c)))
            .collect();
        if missing.is_empty() {
            break (gots, problems);
        }
        if Instant::now() > deadline {
            fail(
                &format!(
                    "the export at {last} (stamped {}) is not in every backend within 30 s: {missing:#?}",
                    last - 3
                ),
                &runs,
                &backends,
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    };

    let mut problems = problems;
    let mut api = Api { port: web, cache: HashMap::new() };
    let mut counts = Vec::new();
    for g in &gots {
        counts.push((g.name, compare(g, &metas, &mut api, exports, &mut problems)));
    }

    // Self-monitoring: every instance sent metrics and lost none.
    for i in INSTANCES {
        let chart = format!("netdata.exporting_{i}_metrics");
        let (labels, rows) = data_retrying(
            web,
            &format!("/api/v1/data?chart={chart}&after=-120&points=0&format=csv&options=seconds"),
        );
        let column = |name: &str| -> Vec<f64> {
            let at = labels.iter().position(|l| l == name);
            at.map(|k| rows.iter().filter_map(|(_, v)| v.get(k).copied().flatten()).collect())
                .unwrap_or_default()
        };
        let (sent, lost) = (column("sent"), column("lost"));
        if sent.iter().sum::<f64>() <= 0.0 || lost.is_empty() || lost.iter().any(|&v| v != 0.0) {
            problems.push(format!("{chart}: sent {sent:?}, lost {lost:?} (want some sent, none lost)"));
        }
    }

    if !problems.is_empty() {
        let shown = problems.iter().take(40).cloned().collect::<Vec<_>>().join("\n");
        fail(&format!("{} problem(s), exports {first}..={last}:\n{shown}", problems.len()), &runs, &backends);
    }
    eprintln!("compared with the parent's /api/v1/data, exports {first}..={last}: {counts:?}");
}
