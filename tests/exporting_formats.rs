//! Side by side with the real Netdata 1.37.1 (Debian's package): Netdata exports its own
//! charts through graphite, opentsdb (telnet and http) and json (plaintext and http)
//! instances to loopback TCP sinks this test runs, with `data source = average` and
//! `as collected`. Each JSON record carries a dimension's full chart metadata; nanodata's
//! formatters, given that metadata, the host's name and labels and the value and
//! timestamp Netdata sent, must write every captured line (graphite, opentsdb telnet,
//! json) and object (opentsdb http, json http) byte for byte: same metric names, tags,
//! label sanitising, number formats and line shapes.

// Tests time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::netdata::{free_port, require_netdata, NETDATA};
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

/// A loopback TCP sink: everything received on any connection, per connection. HTTP
/// requests are answered `200` (Netdata reads and discards the answer).
struct Sink {
    port: u16,
    data: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Sink {
    fn start(http: bool) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a sink");
        let port = listener.local_addr().expect("address").port();
        let data = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&data);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let index = {
                        let mut all = shared.lock().unwrap();
                        all.push(Vec::new());
                        all.len() - 1
                    };
                    let mut buf = [0u8; 65536];
                    let mut answered = 0;
                    loop {
                        let n = match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let requests = {
                            let mut all = shared.lock().unwrap();
                            all[index].extend_from_slice(&buf[..n]);
                            http_requests(&all[index]).len()
                        };
                        while http && answered < requests {
                            use std::io::Write;
                            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                            answered += 1;
                        }
                    }
                });
            }
        });
        Sink { port, data }
    }

    /// All bytes received so far, connections one after the other.
    fn bytes(&self) -> Vec<Vec<u8>> {
        self.data.lock().unwrap().clone()
    }

    /// The complete lines received so far.
    fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for conn in self.bytes() {
            let text = String::from_utf8_lossy(&conn).into_owned();
            let complete = text.rfind('\n').map_or("", |i| &text[..i]);
            out.extend(complete.lines().filter(|l| !l.is_empty()).map(str::to_owned));
        }
        out
    }

    /// The bodies of the complete HTTP requests received so far, with their headers.
    fn requests(&self) -> Vec<(String, String)> {
        self.bytes().iter().flat_map(|c| http_requests(c)).collect()
    }
}

/// Complete `(head, body)` HTTP requests in `raw` (by `Content-Length`).
fn http_requests(raw: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(end) = find(rest, b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let body_start = end + 4;
        if rest.len() < body_start + length {
            break;
        }
        out.push((head, String::from_utf8_lossy(&rest[body_start..body_start + length]).into_owned()));
        rest = &rest[body_start + length..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Netdata with the proc plugin and an `exporting.conf` naming the sinks.
struct Exporter {
    base: PathBuf,
    web_port: u16,
    child: Option<Child>,
}

impl Exporter {
    fn start(base: &Path, web_port: u16, exporting_conf: &str) -> Exporter {
        let _ = std::fs::remove_dir_all(base);
        for d in ["etc", "cache", "lib/registry", "lib/lock", "log"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        std::fs::write(base.join("etc/.opt-out-from-anonymous-statistics"), "").unwrap();
        let b = base.display();
        let off: String = [
            "diskspace",
            "cgroups",
            "tc",
            "idlejitter",
            "timex",
            "statsd",
            "checks",
            "apps",
            "python.d",
            "charts.d",
            "perf",
            "slabinfo",
            "cups",
            "nfacct",
            "fping",
            "ioping",
            "ebpf",
            "go.d",
            "freeipmi",
        ]
        .iter()
        .map(|p| format!("    {p} = no\n"))
        .collect();
        let conf = format!(
            "[global]\n    hostname = {HOSTNAME}\n    run as user = netdata\n\
             [db]\n    mode = ram\n    update every = 1\n    retention = 600\n\
             [directories]\n    config = {b}/etc\n    cache = {b}/cache\n    lib = {b}/lib\n    log = {b}/log\n    lock = {b}/lib/lock\n    home = {b}/lib\n\
             [web]\n    bind to = 127.0.0.1:{web_port}\n    mode = static-threaded\n\
             [logs]\n    errors to trigger flood protection = 1000000\n\
             [registry]\n    enabled = no\n\
             [health]\n    enabled = no\n\
             [statsd]\n    enabled = no\n\
             [ml]\n    enabled = no\n\
             [host labels]\n    room = lab one;a~b\n    rack = r=2/x\n\
             [plugins]\n    enable running new plugins = no\n    proc = yes\n{off}"
        );
        std::fs::write(base.join("etc/netdata.conf"), conf).unwrap();
        std::fs::write(base.join("etc/stream.conf"), "[stream]\n    enabled = no\n").unwrap();
        std::fs::write(base.join("etc/exporting.conf"), exporting_conf).unwrap();
        let status = Command::new("chown")
            .args(["-R", "netdata:"])
            .args(["cache", "lib", "log"].map(|d| base.join(d)))
            .status()
            .expect("chown");
        assert!(status.success(), "chown to the netdata user failed (tests run as root)");
        let stdout = std::fs::File::create(base.join("stdout.log")).unwrap();
        let child = Command::new(NETDATA)
            .args(["-D", "-c"])
            .arg(base.join("etc/netdata.conf"))
            .env("DO_NOT_TRACK", "1")
            .env("DISABLE_TELEMETRY", "1")
            .stdin(Stdio::null())
            .stdout(stdout.try_clone().unwrap())
            .stderr(stdout)
            .spawn()
            .expect("start netdata");
        Exporter { base: base.to_path_buf(), web_port, child: Some(child) }
    }

    fn log(&self) -> String {
        let read = |p: &str| std::fs::read_to_string(self.base.join(p)).unwrap_or_default();
        format!("--- error.log\n{}\n--- stdout\n{}", read("log/error.log"), read("stdout.log"))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kill(2) on the pid of a child we own.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

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
        // The JSON records: the metadata of every exported dimension.
        let mut described: HashMap<String, Described> = HashMap::new();
        let mut compared = 0;
        for line in self.json.lines() {
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
        for line in self.graphite.lines() {
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
        for line in self.telnet.lines() {
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
        for (format, sink) in
            [(Format::OpentsdbHttp, &self.opentsdb_http), (Format::JsonHttp, &self.json_http)]
        {
            let content_type = format.content_type().expect("an HTTP format");
            let mut seen = 0;
            for (head, body) in sink.requests() {
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

#[test]
fn netdata_and_nanodata_write_the_same_lines() {
    if !require_netdata("the side-by-side exporting formats") {
        return;
    }
    // Names on one, ids on the other: system.net's dimension `InOctets` is named `received`.
    let average = Case::new("average", NameSource::Names);
    let collected = Case::new("as collected", NameSource::Ids);
    let conf = format!(
        "[exporting:global]\n    enabled = yes\n    send configured labels = yes\n    send automatic labels = no\n    update every = 1\n\n{}{}",
        average.conf("avg"),
        collected.conf("raw"),
    );
    let base =
        std::env::temp_dir().join(format!("nanodata-it-exporting-{}-{}", std::process::id(), free_port()));
    let netdata = Exporter::start(&base, free_port(), &conf);
    let start = Instant::now();
    while !(average.enough() && collected.enough()) {
        assert!(
            start.elapsed() < LIMIT,
            "Netdata did not export enough to every sink within {LIMIT:?} (graphite {} lines, json {} lines); log:\n{}",
            average.graphite.lines().len(),
            average.json.lines().len(),
            netdata.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let log = netdata.log();
    let mut counts = BTreeMap::new();
    for case in [&average, &collected] {
        counts.insert(case.source, case.compare(&log));
    }
    eprintln!("compared lines and objects: {counts:?}");
    let every_second = same_averages(&average.graphite, 5, &netdata);
    let every_5s = same_averages(&average.graphite5, 3, &netdata);
    eprintln!(
        "averages computed by nanodata from Netdata's stored points: {every_second} (1 s), {every_5s} (5 s)"
    );
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
    let mut raw = Vec::new();
    for pair in times.windows(2) {
        let (prev, ts) = (pair[0], pair[1]);
        let export = Export { source: DataSource::Average, after: prev + 3, before: ts + 3 };
        let mut ours = HashMap::new();
        read_chart(&chart, MemoryMode::Ram, &export, &mut raw, |m| {
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
