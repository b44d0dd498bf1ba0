//! Side by side with the real Netdata 1.37.1 (Debian's package): Netdata exports its own
//! charts through graphite (every second and every 5 s), opentsdb (telnet and http) and json
//! (plaintext and http) instances to loopback TCP sinks this test runs, with `data source =
//! average` and `as collected`, as host `ndexport` with odd `[host labels]`.
//!
//! - **The formatters, byte for byte.** Each JSON record carries a dimension's full chart
//!   metadata; nanodata's formatters, given that metadata, the host's name and labels and the
//!   value and timestamp Netdata sent, must write every captured line (graphite, opentsdb
//!   telnet, json) and object (opentsdb http, json http) byte for byte: same metric names,
//!   tags, label sanitising, number formats and line shapes. nanodata's averages over
//!   Netdata's stored points equal Netdata's.
//! - **The daemon, by shape** (`exporting_formats/shapes.rs`). At the same time the nanodata
//!   daemon runs with the same hostname, `[host labels]` and `exporting.conf`, sending to sinks
//!   of its own. For the charts both collect from `/proc` with the same dimensions, each
//!   connector must send the same metrics, and each metric the same line with the value and
//!   timestamp as placeholders of their format, timestamps on the same second of each
//!   `update every`, HTTP requests alike; a short list of exceptions says what differs and why.
//!
//! Runs in about 40 s (bounded by [`LIMIT`] per wait).

// Tests time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

#[path = "exporting_formats/shapes.rs"]
mod shapes;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use common::exporting::{Exporter, Sink};
use common::netdata::{free_port, require_netdata};
use common::{Node, Run};
use nanodata::db::MemoryMode;
use nanodata::exporting::format::{Format, FormatOptions, HostInfo, SendLabels};
use nanodata::exporting::names::NameSource;
use nanodata::exporting::source::{read_chart, DataSource, Export, Metric, Value};
use nanodata::rrd::{label_source, ChartMeta, DimensionMeta, Host, HostSettings, Label};
use serde_json::Value as Json;

/// How long Netdata may take to start and send enough batches.
const LIMIT: Duration = Duration::from_secs(90);
/// The charts exported (the proc plugin's; enough names with `_` and mixed case).
const CHARTS: &str = "system.* mem.* ipv4.*";
const HOSTNAME: &str = "ndexport";
/// The `[host labels]` of both agents, with what Netdata's label rules change when it
/// stores them (`lab one:a_b`, `r:2/x`, `zone_name` = `(a)_b_.c/d`, `_it__s_ _x_`) and what
/// each connector changes next. ASCII only: Netdata's JSON writes other UTF-8 as `_` on x86.
const HOST_LABELS: &str =
    "    room = lab one;a~b\n    rack = r=2/x\n    Zone Name = (a)[b],c\\d\n    q = 'it''s'  \"x\"\n";

/// A dimension as a JSON record describes it.
struct Described {
    chart: ChartMeta,
    dim: DimensionMeta,
    hostname: String,
    tags: String,
    labels: Vec<Label>,
}

fn describe(record: &Json, text: &str) -> Described {
    let s = |k: &str| record[k].as_str().unwrap_or_else(|| panic!("no {k} in {record}")).to_owned();
    let id = s("chart_id");
    let (type_, rest) = id.split_once('.').expect("type.id");
    assert_eq!(s("chart_type"), type_, "chart_type is the type part of the id: {record}");
    let mut chart = ChartMeta::new(type_, rest)
        .family(&s("chart_family"))
        .context(&s("chart_context"))
        .units(&s("units"));
    chart.name = s("chart_name");
    Described {
        chart,
        dim: DimensionMeta::new(&s("id")).name(&s("name")),
        hostname: s("hostname"),
        tags: record["host_tags"].as_str().unwrap_or_default().to_owned(),
        labels: labels_in_order(text),
    }
}

/// The `"labels":{…}` of a record in the order written (serde_json's map sorts keys). Every
/// label the record holds was sent under `send configured labels` alone: `CONFIG` source.
fn labels_in_order(text: &str) -> Vec<Label> {
    let Some(start) = text.find("\"labels\":{") else { return Vec::new() };
    let mut rest = &text[start + "\"labels\":{".len()..];
    let mut strings = Vec::new();
    // Strings until the closing brace: name, value, name, value, …
    while let Some(c) = rest.chars().next() {
        match c {
            '}' => break,
            '"' => {
                let mut s = String::new();
                let mut chars = rest[1..].char_indices();
                let mut end = 0;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                s.push(e);
                            }
                        }
                        '"' => {
                            end = i + 2;
                            break;
                        }
                        _ => s.push(c),
                    }
                }
                strings.push(s);
                rest = &rest[end..];
            }
            _ => rest = &rest[c.len_utf8()..],
        }
    }
    strings
        .chunks(2)
        .map(|p| Label {
            name: p[0].clone(),
            value: p.get(1).cloned().unwrap_or_default(),
            source: label_source::CONFIG,
        })
        .collect()
}

/// What nanodata writes for `d` in `format` with `value` and `timestamp`: the batch of one
/// metric (framing included for the HTTP formats).
fn nanodata(format: Format, names: NameSource, d: &Described, value: Value, timestamp: i64) -> String {
    let options = FormatOptions {
        prefix: "netdata".into(),
        names,
        labels: SendLabels { configured: true, automatic: false },
    };
    let mut f = format.formatter(options);
    let mut out = Vec::new();
    f.begin_batch(&mut out);
    f.begin_host(&HostInfo { hostname: &d.hostname, tags: &d.tags, labels: &d.labels });
    f.metric(&mut out, &Metric { chart: &d.chart, dimension: &d.dim, value, timestamp });
    f.end_batch(&mut out);
    String::from_utf8(out).expect("utf-8")
}

fn value_of(text: &str, raw: bool) -> Value {
    if raw {
        Value::Collected(text.parse().unwrap_or_else(|_| panic!("integer value {text:?}")))
    } else {
        assert!(
            text.split_once('.').is_some_and(|(_, f)| f.len() == 7),
            "average values are %0.7f: {text:?}"
        );
        Value::Stored(text.parse().unwrap_or_else(|_| panic!("value {text:?}")))
    }
}

/// The key graphite and opentsdb lines are found by: `<chart>.<dimension>`, sanitised.
fn key(d: &Described, names: NameSource) -> String {
    format!(
        "{}.{}",
        nanodata::exporting::names::name(names.chart(&d.chart)),
        nanodata::exporting::names::name(names.dimension(&d.dim))
    )
}

struct Case {
    /// `average` or `as collected`.
    source: &'static str,
    /// `send names instead of ids`.
    names: NameSource,
    graphite: Sink,
    /// A second graphite instance exporting every 5 s: windows of 5 slots.
    graphite5: Sink,
    telnet: Sink,
    json: Sink,
    opentsdb_http: Sink,
    json_http: Sink,
}

impl Case {
    fn new(source: &'static str, names: NameSource) -> Case {
        Case {
            source,
            names,
            graphite: Sink::start(false),
            graphite5: Sink::start(false),
            telnet: Sink::start(false),
            json: Sink::start(false),
            opentsdb_http: Sink::start(true),
            json_http: Sink::start(true),
        }
    }

    fn raw(&self) -> bool {
        self.source == "as collected"
    }

    fn conf(&self, tag: &str) -> String {
        // Instance names are global in Netdata: one per type and source.
        let inst = |kind: &str, port: u16, every: u32| {
            let name = format!("{}{every}", kind.replace(':', "_"));
            format!(
                "[{kind}:{tag}_{name}]\n    enabled = yes\n    destination = 127.0.0.1:{port}\n    data source = {src}\n    update every = {every}\n    prefix = netdata\n    send charts matching = {CHARTS}\n    send names instead of ids = {names}\n\n",
                src = self.source,
                names = if self.names == NameSource::Names { "yes" } else { "no" },
            )
        };
        [
            inst("graphite", self.graphite.port, 1),
            inst("graphite", self.graphite5.port, 5),
            inst("opentsdb", self.telnet.port, 1),
            inst("json", self.json.port, 1),
            inst("opentsdb:http", self.opentsdb_http.port, 1),
            inst("json:http", self.json_http.port, 1),
        ]
        .concat()
    }

    /// What each sink holds, for a failure message.
    fn counts(&self) -> String {
        format!(
            "[{}] graphite {} lines, every 5 s {}, opentsdb {}, json {}, opentsdb:http {} requests, json:http {}",
            self.source,
            self.graphite.lines().len(),
            self.graphite5.lines().len(),
            self.telnet.lines().len(),
            self.json.lines().len(),
            self.opentsdb_http.requests().len(),
            self.json_http.requests().len()
        )
    }

    fn enough(&self) -> bool {
        let some = |lines: Vec<String>| lines.iter().filter(|l| l.contains("system")).count() >= 20;
        some(self.graphite.lines())
            && some(self.telnet.lines())
            && some(self.json.lines())
            && self.opentsdb_http.requests().iter().any(|(_, b)| b.contains("system"))
            && self.json_http.requests().iter().any(|(_, b)| b.contains("system"))
    }

    /// Every captured line and object against nanodata's; returns how many were compared.
    fn compare(&self, log: &str) -> usize {
        let raw = self.raw();
        let ctx = |what: &str| format!("[{} {:?}] {what}\nNetdata log:\n{log}", self.source, self.names);
        // What the sinks hold now; then the JSON records, the metadata of every exported
        // dimension, once they name every metric of the others (the json instance's batch
        // of a second may arrive after theirs).
        let graphite = self.graphite.lines();
        let telnet = self.telnet.lines();
        let http = [self.opentsdb_http.requests(), self.json_http.requests()];
        let mut needed: Vec<&str> = graphite
            .iter()
            .filter_map(|l| l.rsplitn(3, ' ').nth(2))
            .filter_map(|p| p.split(';').next()?.strip_prefix(&format!("netdata.{HOSTNAME}.")))
            .collect();
        needed.extend(telnet.iter().filter_map(|l| l.split(' ').nth(1)?.strip_prefix("netdata.")));
        let waiting = Instant::now();
        let json = loop {
            let json = self.json.lines();
            let names: HashSet<String> = json
                .iter()
                .filter_map(|l| {
                    serde_json::from_str::<Json>(l).ok().map(|r| key(&describe(&r, l), self.names))
                })
                .collect();
            if needed.iter().all(|k| names.contains(*k)) || waiting.elapsed() > Duration::from_secs(5) {
                break json;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let mut described: HashMap<String, Described> = HashMap::new();
        let mut compared = 0;
        for line in json {
            let record: Json =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{}", ctx(&format!("{e}: {line}"))));
            let d = describe(&record, &line);
            assert_eq!(d.hostname, HOSTNAME, "{}", ctx("hostname"));
            let value = if raw {
                Value::Collected(record["value"].as_i64().expect("integer"))
            } else {
                let text = line.split("\"value\":").nth(1).and_then(|r| r.split(',').next()).expect("value");
                value_of(text, false)
            };
            let t = record["timestamp"].as_i64().expect("timestamp");
            assert_eq!(
                nanodata(Format::Json, self.names, &d, value, t),
                format!("{line}\n"),
                "{}",
                ctx("json")
            );
            compared += 1;
            described.insert(key(&d, self.names), d);
        }
        assert!(described.len() >= 20, "{}", ctx(&format!("only {} json records", described.len())));
        assert!(
            described.values().any(|d| !d.labels.is_empty()),
            "{}",
            ctx("the configured host labels are in the records")
        );

        // Names and ids differ for some of them, so the choice shows in the lines.
        assert!(
            described.values().any(|d| d.dim.id != d.dim.name),
            "{}",
            ctx("no dimension whose name differs from its id")
        );

        // graphite: `netdata.<host>.<chart>.<dim>;labels <value> <t>`.
        let mut seen = 0;
        for line in graphite {
            let mut parts = line.rsplitn(3, ' ');
            let (t, v, path) =
                (parts.next().unwrap(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let name = path.split(';').next().unwrap_or("");
            let k = name
                .strip_prefix(&format!("netdata.{HOSTNAME}."))
                .unwrap_or_else(|| panic!("{}", ctx(&line)));
            let Some(d) = described.get(k) else {
                panic!(
                    "{}",
                    ctx(&format!("graphite metric {k} is not one nanodata names from the json records"))
                )
            };
            let want = nanodata(Format::Graphite, self.names, d, value_of(v, raw), t.parse().expect("time"));
            assert_eq!(want, format!("{line}\n"), "{}", ctx("graphite"));
            seen += 1;
        }
        assert!(seen >= 20, "{}", ctx(&format!("only {seen} graphite lines")));
        compared += seen;

        // opentsdb telnet: `put netdata.<chart>.<dim> <t> <value> host=<host> labels`.
        let mut seen = 0;
        for line in telnet {
            let mut w = line.splitn(5, ' ');
            let (put, metric, t, v) =
                (w.next(), w.next().unwrap_or(""), w.next().unwrap_or(""), w.next().unwrap_or(""));
            assert_eq!(put, Some("put"), "{}", ctx(&line));
            let k = metric.strip_prefix("netdata.").unwrap_or("");
            let Some(d) = described.get(k) else {
                panic!(
                    "{}",
                    ctx(&format!("opentsdb metric {k} is not one nanodata names from the json records"))
                )
            };
            let want =
                nanodata(Format::OpentsdbTelnet, self.names, d, value_of(v, raw), t.parse().expect("time"));
            assert_eq!(want, format!("{line}\n"), "{}", ctx("opentsdb telnet"));
            seen += 1;
        }
        assert!(seen >= 20, "{}", ctx(&format!("only {seen} opentsdb lines")));
        compared += seen;

        // The HTTP variants: each object of each POSTed array.
        for (format, requests) in [Format::OpentsdbHttp, Format::JsonHttp].into_iter().zip(http) {
            let content_type = format.content_type().expect("an HTTP format");
            let mut seen = 0;
            for (head, body) in requests {
                assert!(head.starts_with("POST /api/put HTTP/1.1\r\n"), "{}", ctx(&head));
                assert!(head.contains(&format!("Content-Type: {content_type}")), "{}", ctx(&head));
                assert!(body.starts_with("[\n") && body.ends_with("\n]\n"), "{}", ctx(&body));
                let inner = &body[2..body.len() - 3];
                for object in inner.split(",\n").filter(|o| !o.is_empty()) {
                    let want = if format == Format::JsonHttp {
                        let record: Json = serde_json::from_str(object)
                            .unwrap_or_else(|e| panic!("{}", ctx(&format!("{e}: {object}"))));
                        let d = describe(&record, object);
                        let text = object
                            .split("\"value\":")
                            .nth(1)
                            .and_then(|r| r.split(',').next())
                            .expect("value");
                        nanodata(
                            format,
                            self.names,
                            &d,
                            value_of(text, raw),
                            record["timestamp"].as_i64().expect("t"),
                        )
                    } else {
                        // {"metric":"netdata.<key>","timestamp":t,"value":v,"tags":{…}}
                        let field = |name: &str| {
                            object
                                .split(&format!("\"{name}\":"))
                                .nth(1)
                                .and_then(|r| r.split(',').next())
                                .unwrap_or("")
                        };
                        let k = field("metric").trim_matches('"').strip_prefix("netdata.").unwrap_or("");
                        let Some(d) = described.get(k) else {
                            panic!(
                                "{}",
                                ctx(&format!("opentsdb http metric {k} is not named from the json records"))
                            )
                        };
                        nanodata(
                            format,
                            self.names,
                            d,
                            value_of(field("value"), raw),
                            field("timestamp").parse().expect("t"),
                        )
                    };
                    assert_eq!(want, format!("[\n{object}\n]\n"), "{}", ctx(&format!("{format:?}")));
                    seen += 1;
                }
            }
            assert!(seen >= 20, "{}", ctx(&format!("only {seen} {format:?} objects")));
            compared += seen;
        }
        compared
    }
}

/// The exporting.conf of both agents: the two cases' instances.
fn exporting_conf(average: &Case, collected: &Case) -> String {
    format!(
        "[exporting:global]\n    enabled = yes\n    send configured labels = yes\n    send automatic labels = no\n    update every = 1\n\n{}{}",
        average.conf("avg"),
        collected.conf("raw"),
    )
}

/// The nanodata daemon as `HOSTNAME` with `HOST_LABELS`, exporting its own charts.
fn start_nanodata(node: &Node, exporting_conf: &str) -> Run {
    node.append_config(&format!(
        "[global]\n\thostname = {HOSTNAME}\n[web]\n\tbind to = 127.0.0.1:0\n[host labels]\n{HOST_LABELS}"
    ));
    std::fs::create_dir_all(node.dir.join("etc")).unwrap();
    std::fs::write(node.dir.join("etc/exporting.conf"), exporting_conf).unwrap();
    node.start(&[])
}

#[test]
fn netdata_and_nanodata_write_the_same_lines() {
    if !require_netdata("the side-by-side exporting formats") {
        return;
    }
    // Names on one, ids on the other: system.net's dimension `InOctets` is named `received`.
    let average = Case::new("average", NameSource::Names);
    let collected = Case::new("as collected", NameSource::Ids);
    // The same instances in nanodata, sending to sinks of their own; both agents run at once.
    let ours = (Case::new("average", NameSource::Names), Case::new("as collected", NameSource::Ids));
    let node = Node::new("exporting-side", "ram");
    let mut run = start_nanodata(&node, &exporting_conf(&ours.0, &ours.1));
    let base =
        std::env::temp_dir().join(format!("nanodata-it-exporting-{}-{}", std::process::id(), free_port()));
    let netdata =
        Exporter::start(&base, free_port(), HOSTNAME, HOST_LABELS, &exporting_conf(&average, &collected));
    let started = Instant::now();
    let logs = |run: &Run| format!("Netdata:\n{}\n--- nanodata log\n{}", netdata.log(), run.log());
    let seen = |who: &str, cases: [&Case; 2], run: &mut Run| {
        while !cases.iter().all(|c| c.enough()) {
            assert!(run.is_running(), "nanodata exited; {}", logs(run));
            assert!(
                started.elapsed() < LIMIT,
                "{who} did not export enough to every sink within {LIMIT:?}: {}; {}",
                cases.iter().map(|c| c.counts()).collect::<Vec<_>>().join("; "),
                logs(run)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    seen("nanodata", [&ours.0, &ours.1], &mut run);
    seen("Netdata", [&average, &collected], &mut run);
    // Then every sink of both agents has each compared chart (charts collected every 5 s
    // and the instance exporting every 5 s take longer); what is missing at the limit is
    // reported by the comparison.
    let charts = shapes::charts_here(&collected, &ours.1, &logs(&run));
    while ![&average, &collected, &ours.0, &ours.1].iter().all(|c| shapes::covers(c, &charts))
        && started.elapsed() < LIMIT
    {
        assert!(run.is_running(), "nanodata exited; {}", logs(&run));
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("both agents exported {} compared charts after {:?}", charts.len(), started.elapsed());
    let log = netdata.log();
    let mut counts = BTreeMap::new();
    for case in [&average, &collected] {
        counts.insert(case.source, case.compare(&log));
    }
    eprintln!("Netdata's lines and objects written byte for byte by the formatters: {counts:?}");
    for (theirs, ours) in [(&average, &ours.0), (&collected, &ours.1)] {
        let compared = shapes::compare(theirs, ours, &charts, &logs(&run));
        eprintln!("[{}] metrics of the nanodata daemon with Netdata's shapes: {compared}", theirs.source);
    }
    for (agent, what, why) in shapes::EXCEPTIONS {
        eprintln!("allowed: only {agent} sends {what}: {why}");
    }
    let every_second = same_averages(&average.graphite, 5, &netdata);
    let every_5s = same_averages(&average.graphite5, 3, &netdata);
    eprintln!(
        "averages computed by nanodata from Netdata's stored points: {every_second} (1 s), {every_5s} (5 s)"
    );
    run.stop_orderly();
}

/// Netdata's exported averages of `system.cpu` (collected every second), against
/// nanodata's [`read_chart`] over Netdata's own stored points. Consecutive batches stamped
/// `prev` and `ts` were made at `prev + 3` and `ts + 3` (protocol.md §10: back 2 steps, then
/// one more for `before`), whatever the instance's `update every`, so nanodata's export of
/// those times must average exactly the slots Netdata averaged. Returns how many values
/// were compared.
fn same_averages(graphite: &Sink, min_batches: usize, netdata: &Exporter) -> usize {
    const CHART: &str = "system.cpu";
    let batches = || {
        let lines = graphite.lines();
        let mut times: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with(&format!("netdata.{HOSTNAME}.{CHART}.")))
            .filter_map(|l| l.rsplit(' ').next())
            .collect();
        times.sort();
        times.dedup();
        times.len()
    };
    let start = Instant::now();
    while batches() < min_batches {
        assert!(
            start.elapsed() < LIMIT,
            "fewer than {min_batches} batches of {CHART} within {LIMIT:?}\n{}",
            netdata.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut by_time: BTreeMap<i64, HashMap<String, f64>> = BTreeMap::new();
    for line in graphite.lines() {
        let mut parts = line.rsplitn(3, ' ');
        let (t, v, path) = (parts.next().unwrap(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let name = path.split(';').next().unwrap_or("");
        if let Some(dim) = name.strip_prefix(&format!("netdata.{HOSTNAME}.{CHART}.")) {
            by_time
                .entry(t.parse().expect("time"))
                .or_default()
                .insert(dim.to_owned(), v.parse().expect("value"));
        }
    }
    let times: Vec<i64> = by_time.keys().copied().collect();
    assert!(times.len() >= 3, "too few batches of {CHART}: {times:?}\n{}", netdata.log());
    let (first, last) = (times[0], times[times.len() - 1]);
    let path = common::netdata::data_query("", CHART, first - 10, last);
    let (labels, rows) = common::netdata::data_retrying(netdata.web_port, &path);
    assert!(!labels.is_empty(), "no {CHART} data from Netdata's API\n{}", netdata.log());

    // Netdata's stored points, in a nanodata chart of a RAM host.
    let host = Host::new("g", "h", HostSettings { history: 600, ..HostSettings::default() });
    let chart = host.chart_define(ChartMeta::new("system", "cpu"));
    for l in &labels {
        chart.dimension(DimensionMeta::new(l));
    }
    for (t, values) in &rows {
        for (i, v) in values.iter().enumerate() {
            chart.store_point(i, *t, v.unwrap_or(f64::NAN), false);
        }
    }
    let mut compared = 0;
    for pair in times.windows(2) {
        let (prev, ts) = (pair[0], pair[1]);
        let export = Export { source: DataSource::Average, after: prev + 3, before: ts + 3 };
        let mut ours = HashMap::new();
        read_chart(&chart, MemoryMode::Ram, &export, |m| {
            if let Value::Stored(v) = m.value {
                ours.insert(m.dimension.id.clone(), (v, m.timestamp));
            }
        });
        // The API does not answer the hidden `idle`.
        for (dim, theirs) in by_time[&ts].iter().filter(|(d, _)| labels.contains(d)) {
            let Some(&(v, t)) = ours.get(dim) else {
                panic!("nanodata has no average of {dim} for the batch at {ts}\n{}", netdata.log())
            };
            assert_eq!(t, ts, "the timestamp of {dim}");
            // The API prints rounded values; Netdata averaged the unrounded ones.
            assert!(
                (v - theirs).abs() <= 1e-4 + 1e-6 * theirs.abs(),
                "{dim} at {ts} (window after the batch at {prev}): nanodata {v}, Netdata {theirs}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 10, "only {compared} averages compared");
    compared
}
