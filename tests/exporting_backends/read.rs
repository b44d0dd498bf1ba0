//! What the backends and the json sink give back, read into [`Got`]s: the series of
//! VictoriaMetrics (`/api/v1/export`) split by instance, Prometheus' raw samples (a range
//! selector), the json records of a loopback TCP sink; names, labels and fields checked on the
//! way against the parent's chart metadata (wrong ones are pushed to `problems`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use super::{Got, Labels, Meta, CHARTS, CHILD, HOSTS, RACK_SANITISED, RACK_STORED, RACK_TSDB};
use crate::common::backends::Backend;

/// The remote write name of a chart's `average` (Netdata's naming, protocol.md §8.4).
fn rw_name(context: &str, units: &str) -> String {
    let clean =
        |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
    let units = match units.strip_suffix("/s").filter(|b| !b.is_empty()) {
        _ if units == "%" => "percent".to_owned(),
        Some(base) => format!("{}_persec", clean(base)),
        None => clean(units),
    };
    format!("netdata_{}_{units}_average", clean(context))
}

/// `system.cpu.user` → (`system.cpu`, `user`), for the three charts exported.
fn split_chart(rest: &str) -> Option<(&'static str, &str)> {
    CHARTS.iter().find_map(|&c| Some((c, rest.strip_prefix(c)?.strip_prefix('.')?)))
}

/// The host labels graphite and opentsdb carry (sanitised), by host: the configured one and
/// the two Netdata 1.37 gives every host as configured labels.
fn tag_labels(host: &str, opentsdb: bool) -> Labels {
    // OpenTSDB tags take no `:` either.
    let rack = if opentsdb { RACK_TSDB } else { RACK_SANITISED };
    host_labels(if host == CHILD { ("rack", rack) } else { ("role", "parent") })
}

fn host_labels((k, v): (&str, &str)) -> Labels {
    Labels::from([
        (k.to_owned(), v.to_owned()),
        ("_is_ephemeral".to_owned(), "false".to_owned()),
        ("_has_unstable_connection".to_owned(), "false".to_owned()),
    ])
}

fn json_labels(m: &Value) -> Labels {
    let o = m.as_object().map(|o| o.iter()).into_iter().flatten();
    o.map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect()
}

fn secs(ms: i64, what: &str, problems: &mut Vec<String>) -> i64 {
    if ms % 1000 != 0 {
        problems.push(format!("{what}: timestamp {ms} ms is not on a second"));
    }
    ms.div_euclid(1000)
}

/// Everything VictoriaMetrics holds, as (labels, [(ms, value)]).
fn vm_series(vm: &Backend) -> Vec<(Labels, Vec<(i64, f64)>)> {
    vm.get("/internal/force_flush");
    let body = vm.get("/api/v1/export?match%5B%5D=%7B__name__%3D~%22.%2B%22%7D").body;
    let text = String::from_utf8_lossy(&body);
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let j: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("VictoriaMetrics export line {line}: {e}"));
        let values = j["values"].as_array().into_iter().flatten().map(|v| v.as_f64().unwrap_or(f64::NAN));
        let stamps = j["timestamps"].as_array().into_iter().flatten().map(|t| t.as_i64().unwrap_or(0));
        out.push((json_labels(&j["metric"]), stamps.zip(values).collect()));
    }
    out
}

/// Every series of Prometheus whose name starts with `netdata_`, with its raw samples.
fn prom_series(prom: &Backend) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let body = prom.get("/api/v1/query?query=%7B__name__%3D~%22netdata_.%2B%22%7D%5B15m%5D").body;
    let j: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("Prometheus answer: {e}"));
    assert_eq!(j["status"], "success", "{j}");
    let mut out = Vec::new();
    for r in j["data"]["result"].as_array().into_iter().flatten() {
        let samples = r["values"].as_array().into_iter().flatten().map(|p| {
            let t = (p[0].as_f64().unwrap_or(0.0) * 1000.0).round() as i64;
            (t, p[1].as_str().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN))
        });
        out.push((json_labels(&r["metric"]), samples.collect()));
    }
    out
}

/// Reads remote write series into `got`; `netdata_info` goes to `info` by instance.
fn remote_write(
    got: &mut Got,
    series: &[(Labels, Vec<(i64, f64)>)],
    metas: &HashMap<(String, String), Meta>,
    info: &mut BTreeMap<String, Labels>,
    problems: &mut Vec<String>,
) {
    for (labels, points) in series {
        let name = labels.get("__name__").map_or("", String::as_str);
        let get = |k: &str| labels.get(k).map_or("", String::as_str);
        if name == "netdata_info" {
            info.insert(get("instance").to_owned(), labels.clone());
            continue;
        }
        let keys: Vec<&str> = labels.keys().map(String::as_str).collect();
        if keys == ["__name__", "instance"] && name == "netdata_active_processors" {
            // `send variables` (on by default): the host variable the proc.stat collector sets,
            // the highest `cpuN` of /proc/stat plus one — parent and child share the machine.
            let want = active_processors();
            if points.is_empty() || points.iter().any(|&(_, v)| v != want) {
                problems.push(format!("{}: {labels:?} = {points:?}, want {want}", got.name));
            }
            got.variables.insert(get("instance").to_owned());
            continue;
        }
        if keys == ["__name__", "instance"] && name == "netdata_netfilter_conntrack_max" {
            got.variables.insert(get("instance").to_owned());
            continue;
        }
        if keys != ["__name__", "chart", "dimension", "family", "instance"] {
            problems.push(format!("{}: labels of {labels:?}", got.name));
        }
        let (host, chart, dim) = (get("instance"), get("chart"), get("dimension"));
        let Some(m) = metas.get(&(host.to_owned(), chart.to_owned())) else {
            problems.push(format!("{}: a series not asked for: {labels:?}", got.name));
            continue;
        };
        if name != rw_name(&m.context, &m.units) || get("family") != m.family {
            problems.push(format!(
                "{}: {labels:?}: want {} with family {}",
                got.name,
                rw_name(&m.context, &m.units),
                m.family
            ));
        }
        for &(ms, v) in points {
            let t = secs(ms, got.name, problems);
            got.add(host, chart, dim, t, v);
        }
    }
}

/// Splits what VictoriaMetrics holds by instance: graphite (`netdata.<host>.<chart>.<dim>`),
/// opentsdb telnet (`tsdb.<chart>.<dim>`, tag `host`), opentsdb http (`tsdbhttp.…`), remote
/// write (`netdata_…`).
pub fn read_vm(
    vm: &Backend,
    metas: &HashMap<(String, String), Meta>,
    problems: &mut Vec<String>,
) -> Vec<Got> {
    let series = vm_series(vm);
    let mut graphite = Got::new("graphite → VictoriaMetrics", 2e-7);
    let mut telnet = Got::new("opentsdb telnet → VictoriaMetrics", 2e-7);
    let mut http = Got::new("opentsdb http → VictoriaMetrics", 2e-7);
    let mut rw = Got::new("remote write → VictoriaMetrics", 6e-8);
    let mut rw_series = Vec::new();
    for (labels, points) in series {
        let name = labels.get("__name__").cloned().unwrap_or_default();
        let mut rest_labels = labels.clone();
        rest_labels.remove("__name__");
        let (got, host, rest) = if let Some(rest) = name.strip_prefix("netdata.") {
            let Some((host, rest)) = rest.split_once('.') else {
                problems.push(format!("graphite: a series not asked for: {labels:?}"));
                continue;
            };
            (&mut graphite, host.to_owned(), rest)
        } else if let Some((got, rest)) = name
            .strip_prefix("tsdb.")
            .map(|r| (&mut telnet, r))
            .or_else(|| name.strip_prefix("tsdbhttp.").map(|r| (&mut http, r)))
        {
            (got, rest_labels.remove("host").unwrap_or_default(), rest)
        } else if name.starts_with("netdata_") {
            rw_series.push((labels, points));
            continue;
        } else {
            problems.push(format!("VictoriaMetrics holds a series nobody sent: {labels:?}"));
            continue;
        };
        let Some((chart, dim)) = split_chart(rest).filter(|_| HOSTS.contains(&host.as_str())) else {
            problems.push(format!("{}: a series not asked for: {labels:?}", got.name));
            continue;
        };
        let want = tag_labels(&host, !got.name.starts_with("graphite"));
        if rest_labels != want {
            problems.push(format!("{}: {labels:?}: want the host labels {want:?}", got.name));
        }
        for (ms, v) in points {
            let t = secs(ms, got.name, problems);
            got.add(&host, chart, dim, t, v);
        }
    }
    let mut info = BTreeMap::new();
    remote_write(&mut rw, &rw_series, metas, &mut info, problems);
    check_info(rw.name, &info, problems);
    check_variables(&rw, problems);
    vec![graphite, telnet, http, rw]
}

pub fn read_prom(prom: &Backend, metas: &HashMap<(String, String), Meta>, problems: &mut Vec<String>) -> Got {
    let mut rw = Got::new("remote write → Prometheus", 6e-8);
    let mut info = BTreeMap::new();
    remote_write(&mut rw, &prom_series(prom), metas, &mut info, problems);
    check_info(rw.name, &info, problems);
    check_variables(&rw, problems);
    rw
}

/// `send variables`: both hosts' `active_processors` arrived (the child's streamed to the
/// parent with `VARIABLE HOST`).
fn check_variables(got: &Got, problems: &mut Vec<String>) {
    for host in HOSTS {
        if !got.variables.contains(host) {
            problems.push(format!("{}: no host variable of {host} (send variables = yes)", got.name));
        }
    }
}

/// Each host's `netdata_info`: the program that runs it, and its configured label as stored.
fn check_info(backend: &str, info: &BTreeMap<String, Labels>, problems: &mut Vec<String>) {
    for host in HOSTS {
        let (k, v) = if host == CHILD { ("rack", RACK_STORED) } else { ("role", "parent") };
        match info.get(host) {
            Some(l)
                if l.get("application").is_some_and(|a| a == "nanodata")
                    && l.get("version").is_some_and(|v| !v.is_empty())
                    && l.get(k).is_some_and(|x| x == v) => {}
            other => problems.push(format!("{backend}: netdata_info of {host}: {other:?}")),
        }
    }
}

/// The json records the sink received, checked field by field against the metadata.
pub fn read_sink(
    lines: &[String],
    metas: &HashMap<(String, String), Meta>,
    problems: &mut Vec<String>,
) -> Got {
    let mut got = Got::new("json → loopback sink", 2e-7);
    for line in lines {
        let Ok(j) = serde_json::from_str::<Value>(line) else {
            problems.push(format!("json: not a JSON record: {line}"));
            continue;
        };
        let s = |k: &str| j[k].as_str().unwrap_or_default();
        let (host, chart) = (s("hostname"), s("chart_id"));
        let Some(m) = metas.get(&(host.to_owned(), chart.to_owned())) else {
            problems.push(format!("json: a record not asked for: {line}"));
            continue;
        };
        let want_labels = if host == CHILD { ("rack", RACK_STORED) } else { ("role", "parent") };
        let fields_ok = s("prefix") == "netdata"
            && s("chart_name") == chart
            && s("chart_family") == m.family
            && s("chart_context") == m.context
            && s("chart_type") == "system"
            && s("units") == m.units
            && m.dims.iter().any(|(id, name)| s("id") == id && s("name") == name)
            && json_labels(&j["labels"]) == host_labels(want_labels);
        match (fields_ok, j["value"].as_f64(), j["timestamp"].as_i64()) {
            (true, Some(v), Some(t)) => got.add(host, chart, s("name"), t, v),
            _ => problems.push(format!(
                "json: {line}: want {chart} of {host} in family {}, context {}, units {}",
                m.family, m.context, m.units
            )),
        }
    }
    got
}

/// Most lines a [`Sink`] keeps (a run sends a few thousand).
const MAX_LINES: usize = 1_000_000;

/// A loopback TCP server keeping every line it receives (up to [`MAX_LINES`]).
pub struct Sink {
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sink {
    pub fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l2, s2) = (Arc::clone(&lines), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut readers = Vec::new();
            while !s2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (l3, s3) = (Arc::clone(&l2), Arc::clone(&s2));
                        readers.push(std::thread::spawn(move || {
                            conn.set_nonblocking(false).unwrap();
                            conn.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                            let mut r = BufReader::new(conn);
                            let mut buf = Vec::new();
                            while !s3.load(Ordering::SeqCst) {
                                match r.read_until(b'\n', &mut buf) {
                                    Ok(0) => break,
                                    Ok(_) if buf.ends_with(b"\n") => {
                                        let mut lines = l3.lock().unwrap();
                                        if lines.len() < MAX_LINES {
                                            lines.push(String::from_utf8_lossy(&buf).trim_end().to_owned());
                                        }
                                        buf.clear();
                                    }
                                    Ok(_) => {}
                                    Err(e)
                                        if matches!(
                                            e.kind(),
                                            ErrorKind::WouldBlock | ErrorKind::TimedOut
                                        ) => {}
                                    Err(_) => break,
                                }
                            }
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
            for r in readers {
                let _ = r.join();
            }
        });
        Sink { port, lines, stop, thread: Some(thread) }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The highest `cpuN` of /proc/stat plus one.
fn active_processors() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    let top = stat
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.strip_prefix("cpu")?.parse::<u32>().ok())
        .max()
        .expect("cpuN lines");
    f64::from(top + 1)
}
