//! The web server over real loopback sockets: every endpoint and format, `/host/…`
//! routing, ACLs, malformed and hostile clients, TLS force/optional, and the wiring in the
//! binary (`[web] mode = none` opens no socket).
//!
//! Most tests run the server in-process on a registry of two hosts filled with known
//! values, so the query engine's answers can be checked exactly.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nanodata::config::settings::NodeSettings;
use nanodata::config::{Config, FileKind};
use nanodata::db::MemoryMode;
use nanodata::rrd::{Algorithm, ChartMeta, ChartType, DimensionMeta, Host, HostSettings, Hosts};
use nanodata::web::{self, WebServer};

const CHILD_GUID: &str = "08beed44-e5fb-11f1-a5d6-02fc00000001";
const PARENT_GUID: &str = "03096a8c-e5fb-11f1-8630-02fc00000001";
/// Seconds of synthetic history per chart.
const HISTORY: i64 = 120;

fn settings() -> HostSettings {
    HostSettings {
        mode: MemoryMode::Ram,
        history: 600,
        update_every: 1,
        cache_dir: std::env::temp_dir(),
        gap_when_lost_iterations_above: 1,
        replication_window: 0,
        tiers: None,
    }
}

/// Fills `HISTORY` seconds ending now: `test.ramp` has `up` = 0,1,2,… and `flat` = 5,
/// `test.mixed` has `pos` = 10, `neg` = -30, `zero` = 0 and a hidden `secret` = 60,
/// `test.spiky` has `spike` = 100 every fifth second (from the first) and 1 otherwise, so its
/// median and its average differ.
fn fill(host: &Host) -> i64 {
    let now = nanodata::clock::now_realtime_sec();
    let start = now - HISTORY;
    let ramp = host.chart_define(
        ChartMeta::new("test", "ramp")
            .title("A ramp")
            .units("things/s")
            .family("ramps")
            .priority(1)
            .source("test.plugin", "ramp"),
    );
    ramp.dimension(DimensionMeta::new("up"));
    ramp.dimension(DimensionMeta::new("flat").name("level"));
    let mixed = host.chart_define(
        ChartMeta::new("test", "mixed")
            .title("Mixed")
            .units("%")
            .family("mixed")
            .chart_type(ChartType::Stacked),
    );
    mixed.dimension(DimensionMeta::new("pos"));
    mixed.dimension(DimensionMeta::new("neg"));
    mixed.dimension(DimensionMeta::new("zero"));
    mixed.dimension(DimensionMeta::new("secret").hidden());
    let counter = host.chart_define(ChartMeta::new("test", "counter").units("events/s"));
    counter.dimension(DimensionMeta::new("events").algorithm(Algorithm::Incremental));
    let spiky = host.chart_define(ChartMeta::new("test", "spiky").units("things"));
    spiky.dimension(DimensionMeta::new("spike"));
    for t in start..=now {
        let ut = t as u64 * 1_000_000;
        let mut c = ramp.begin(ut, 1_000_000, true);
        c.set(0, t - start);
        c.set(1, 5);
        c.end();
        let mut c = mixed.begin(ut, 1_000_000, true);
        c.set(0, 10);
        c.set(1, -30);
        c.set(2, 0);
        c.set(3, 60);
        c.end();
        let mut c = counter.begin(ut, 1_000_000, true);
        c.set(0, (t - start) * 7);
        c.end();
        let mut c = spiky.begin(ut, 1_000_000, true);
        c.set(0, if (t - start) % 5 == 0 { 100 } else { 1 });
        c.end();
    }
    now
}

struct Server {
    web: Option<WebServer>,
    now: i64,
}

impl Server {
    fn start(extra_web: &str) -> Server {
        Server::start_with(extra_web, "")
    }

    fn start_with(extra_web: &str, extra_conf: &str) -> Server {
        let text = format!(
            "[web]\n\tbind to = 127.0.0.1:0 [::1]:0\n{extra_web}\n{extra_conf}\n[directories]\n\tconfig = /nonexistent\n"
        );
        let (cfg, _) = Config::parse(FileKind::Netdata, &text, "test");
        let hosts = Arc::new(Hosts::new(Host::new(PARENT_GUID, "parent", settings())));
        let now = fill(hosts.localhost());
        let child = hosts.add(Host::new(CHILD_GUID, "child1", settings()));
        fill(&child);
        let node = NodeSettings::from_config(&cfg, &Config::new(FileKind::Stream));
        let web = web::start(node.web, hosts).expect("web server started");
        Server { web: Some(web), now }
    }

    fn v4(&self) -> SocketAddr {
        *self.web.as_ref().unwrap().local_addrs().iter().find(|a| a.is_ipv4()).unwrap()
    }

    fn v6(&self) -> SocketAddr {
        *self.web.as_ref().unwrap().local_addrs().iter().find(|a| a.is_ipv6()).unwrap()
    }

    fn get(&self, path: &str) -> Reply {
        get(self.v4(), path, "")
    }

    fn ok(&self, path: &str) -> String {
        let r = self.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(w) = self.web.take() {
            w.stop();
        }
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
    raw_body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn get(addr: SocketAddr, path: &str, headers: &str) -> Reply {
    let mut s = connect(addr);
    write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{headers}\r\n").unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    parse_reply(&all).unwrap_or_else(|| panic!("{path}: no reply: {:?}", String::from_utf8_lossy(&all)))
}

fn parse_reply(all: &[u8]) -> Option<Reply> {
    let end = all.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let raw_body = all[end + 4..].to_vec();
    Some(Reply { status, body: String::from_utf8_lossy(&raw_body).into_owned(), head, raw_body })
}

/// Reads one response (by Content-Length) from a keep-alive connection.
fn read_response(s: &mut TcpStream) -> Option<Reply> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    buf.extend_from_slice(&body);
    parse_reply(&buf)
}

/// Reads until the server closes; `true` if it closed (EOF or reset) within the timeout.
fn closed_by_server(s: &mut TcpStream) -> (bool, Vec<u8>) {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (true, all),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (true, all),
            Err(_) => return (false, all),
        }
    }
}

/// Top-level keys of a JSON object, in order (the tests' JSON is simple enough).
fn top_keys(json: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let (mut depth, mut in_str, mut esc, mut cur, mut expect_key) = (0, false, false, String::new(), false);
    for c in json.chars() {
        if in_str {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
                if depth == 1 && expect_key {
                    keys.push(cur.clone());
                    expect_key = false;
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                cur.clear();
            }
            '{' | '[' => {
                depth += 1;
                if depth == 1 {
                    expect_key = true;
                }
            }
            '}' | ']' => depth -= 1,
            ',' if depth == 1 => expect_key = true,
            _ => {}
        }
    }
    keys
}

// ---------------------------------------------------------------- endpoints

#[test]
fn info_has_netdata_keys_in_netdata_order() {
    let srv = Server::start("");
    let ours = top_keys(&srv.ok("/api/v1/info"));
    let theirs = top_keys(include_str!("fixtures/netdata/api-v1-info.json"));
    // Optional in Netdata: container_* and cloud_* (only when detected).
    let expected: Vec<&String> =
        theirs.iter().filter(|k| !k.starts_with("container_os") && !k.starts_with("cloud_")).collect();
    let got: Vec<&String> =
        ours.iter().filter(|k| !k.starts_with("container_os") && !k.starts_with("cloud_")).collect();
    // nanodata's own keys come after all of Netdata's.
    let own = ["storage-tiers"];
    assert_eq!(&got[got.len() - own.len()..], own.map(String::from).iter().collect::<Vec<_>>());
    assert_eq!(got[..got.len() - own.len()], expected);
    let info = srv.ok("/api/v1/info");
    assert!(info.contains(&format!("\"uid\": \"{PARENT_GUID}\"")));
    assert!(info.contains("\"mirrored_hosts\": [\"parent\", \"child1\"]"), "{info}");
    assert!(info.contains("{ \"plugin\": \"test.plugin\", \"module\": \"ramp\" }"), "{info}");
}

#[test]
fn charts_and_chart_have_netdata_shapes() {
    let srv = Server::start("");
    let charts = srv.ok("/api/v1/charts");
    assert_eq!(
        top_keys(&charts),
        [
            "hostname",
            "version",
            "release_channel",
            "os",
            "timezone",
            "update_every",
            "history",
            "memory_mode",
            "custom_info",
            "charts",
            "charts_count",
            "dimensions_count",
            "alarms_count",
            "rrd_memory_bytes",
            "hosts_count",
            "hosts"
        ]
    );
    assert!(charts.contains("\"charts_count\": 4"), "{charts}");
    assert!(charts.contains("\"dimensions_count\": 7"), "hidden dimensions are not listed: {charts}");
    let chart = srv.ok("/api/v1/chart?chart=test.ramp");
    let fixture = include_str!("fixtures/netdata/api-v1-charts-summary.json");
    let cpu = &fixture[fixture.find("\"charts_system_cpu\": ").unwrap() + 21..];
    assert_eq!(top_keys(&chart), top_keys(cpu), "CHART keys as Netdata's");
    assert!(chart.contains("\"title\": \"A ramp (test.ramp)\""));
    assert!(chart.contains("\"data_url\": \"/api/v1/data?chart=test.ramp\""));
    assert!(chart.contains("\"level\""), "dimension names: {chart}");
    assert!(chart.contains("\"_collect_plugin\": \"test.plugin\""));
    assert_eq!(srv.get("/api/v1/chart?chart=nope").status, 404);
    assert_eq!(srv.get("/api/v1/chart").status, 400);
}

#[test]
fn data_json_rows_are_newest_first_unless_flipped() {
    let srv = Server::start("");
    // An absolute window: a relative one moves with the clock between the fill and the query.
    let body =
        srv.ok(&format!("/api/v1/data?chart=test.ramp&after={}&before={}&format=json", srv.now - 9, srv.now));
    assert!(body.contains("\"labels\": [\"time\",\"up\",\"level\"]"), "{body}");
    let rows: Vec<&str> =
        body.lines().filter(|l| l.trim_start().starts_with('[') && l.contains(',')).collect();
    assert_eq!(rows.len(), 10, "{body}");
    let up = HISTORY; // the newest value of `up`
    assert!(rows[0].contains(&format!("[ {},{up},5]", srv.now)), "newest first: {body}");
    // The whole body, laid out byte for byte as Netdata 1.37.1 answers (captured from it:
    // no spaces between values, one before a row, no newline after the last brace).
    let two =
        srv.ok(&format!("/api/v1/data?chart=test.ramp&after={}&before={}&format=json", srv.now - 1, srv.now));
    assert_eq!(
        two,
        format!(
            "{{\n \"labels\": [\"time\",\"up\",\"level\"],\n    \"data\":\n [\n [ {},{up},5],\n [ {},{},5]\n]\n}}",
            srv.now,
            srv.now - 1,
            up - 1
        )
    );
    let flipped = srv.ok(&format!(
        "/api/v1/data?chart=test.ramp&after={}&before={}&options=flip|ms",
        srv.now - 9,
        srv.now
    ));
    let first = flipped.lines().find(|l| l.contains(&format!("{}000,", srv.now - 9))).unwrap_or("");
    assert!(first.contains(&format!("{},5]", up - 9)), "{flipped}");
    assert!(flipped.find(&format!("{}000", srv.now - 9)) < flipped.find(&format!("{}000", srv.now)));
}

#[test]
fn data_group_methods_over_known_values() {
    let srv = Server::start("");
    // Ten points of `up` (HISTORY-9 ..= HISTORY) in two aligned buckets of five.
    // Absolute windows: a relative one moves with the clock between the fill and the query.
    let last10 = format!("after={}&before={}", srv.now - 9, srv.now);
    let q = |group: &str| {
        srv.ok(&format!("/api/v1/data?chart=test.ramp&dimensions=up&{last10}&points=1&group={group}&format=array&options=unaligned"))
    };
    let n = HISTORY as f64;
    let vals: Vec<f64> = (0..10).map(|i| n - 9.0 + i as f64).collect();
    let avg = vals.iter().sum::<f64>() / 10.0;
    assert_eq!(q("average"), format!("[{avg}]"));
    assert_eq!(q("min"), format!("[{}]", n - 9.0));
    assert_eq!(q("max"), format!("[{n}]"));
    assert_eq!(q("sum"), format!("[{}]", vals.iter().sum::<f64>()));
    assert_eq!(q("incremental_sum"), "[9]");
    // The ramp is symmetric (its median is its average): the spikes tell them apart. The last
    // ten seconds of `spike` are 1 1 1 1 100 1 1 1 1 100.
    let spiky = |group: &str| {
        srv.ok(&format!(
            "/api/v1/data?chart=test.spiky&{last10}&points=1&group={group}&format=array&options=unaligned"
        ))
    };
    assert_eq!(spiky("average"), "[20.8]");
    assert_eq!(spiky("median"), "[1]");
    assert_eq!(spiky("max"), "[100]");
    assert_eq!(srv.get("/api/v1/data?chart=test.ramp&group=nonsense").status, 400);
    // points=2 gives two rows whose times are bucket ends.
    let two = srv.ok(&format!(
        "/api/v1/data?chart=test.ramp&dimensions=up&{last10}&points=2&group=max&format=json&options=unaligned"
    ));
    assert!(two.contains(&format!("[ {},{n}]", srv.now)), "{two}");
    assert!(two.contains(&format!("[ {},{}]", srv.now - 5, n - 5.0)), "{two}");
}

#[test]
fn data_options() {
    let srv = Server::start("");
    let base = "/api/v1/data?chart=test.mixed&after=-5&points=1&format=json";
    let plain = srv.ok(base);
    assert!(plain.contains("\"labels\": [\"time\",\"pos\",\"neg\",\"zero\"]"), "hidden not shown: {plain}");
    assert!(plain.contains(",10,-30,0]"), "{plain}");
    let abs = srv.ok(&format!("{base}&options=abs"));
    assert!(abs.contains(",10,30,0]"), "{abs}");
    let nonzero = srv.ok(&format!("{base}&options=nonzero"));
    assert!(nonzero.contains("[\"time\",\"pos\",\"neg\"]"), "{nonzero}");
    // Percentages of the row's total: `up` = HISTORY and `level` = 5 at the newest second,
    // so 120 and 5 become 96 % and 4 %.
    assert_eq!(HISTORY, 120, "the numbers below are for a 120 s history");
    let newest = format!("/api/v1/data?chart=test.ramp&after={0}&before={0}&points=1&format=csv", srv.now);
    let pct = srv.ok(&format!("{newest}&options=percentage|seconds"));
    assert_eq!(pct, format!("time,up,level\r\n{},96,4\r\n", srv.now), "{pct}");
    let plain = srv.ok(&format!("{newest}&options=seconds"));
    assert_eq!(plain, format!("time,up,level\r\n{},120,5\r\n", srv.now), "{plain}");
    // As Netdata 1.37.1 answers for the same row: the total is signed and counts the hidden
    // dimension (10 - 30 + 0 + 60 = 40), with `abs` it is of absolute values (100).
    let pct = srv.ok(&format!("{base}&options=percentage"));
    assert!(pct.contains(",25,-75,0]"), "{pct}");
    let pct = srv.ok(&format!("{base}&options=percentage|abs"));
    assert!(pct.contains(",10,30,0]"), "{pct}");
    let objects = srv.ok(&format!("{base}&options=objectrows|ms"));
    assert!(
        objects.contains(&format!(" {{ \"time\": {}000,\"pos\": 10,\"neg\": -30,\"zero\": 0}}", srv.now)),
        "{objects}"
    );
    let matched = srv.ok("/api/v1/data?chart=test.ramp&after=-2&dims=level&options=match-names");
    assert!(matched.contains("[\"time\",\"level\"]"), "{matched}");
    let by_id = srv.ok("/api/v1/data?chart=test.ramp&after=-2&dims=level&options=match-ids");
    assert!(by_id.contains("[\"time\",\"no data\"]"), "{by_id}");
    // null2zero: before the first entry there is nothing; the window is clamped, so use a
    // chart with a gap instead: the counter's first slot is empty.
    let n2z = srv
        .ok("/api/v1/data?chart=test.counter&after=-1000&options=null2zero|flip&format=csv&options=seconds");
    assert!(!n2z.contains(",\r\n"), "no empty cells with null2zero: {n2z}");
    let wrap = srv.ok(&format!("{base}&options=jsonwrap"));
    let keys = top_keys(&wrap);
    for k in [
        "api",
        "id",
        "name",
        "view_update_every",
        "update_every",
        "first_entry",
        "last_entry",
        "before",
        "after",
        "group",
        "options",
        "dimension_names",
        "dimension_ids",
        "latest_values",
        "view_latest_values",
        "dimensions",
        "points",
        "format",
        "result",
        "min",
        "max",
    ] {
        assert!(keys.iter().any(|x| x == k), "jsonwrap lacks {k}: {wrap}");
    }
    assert!(wrap.contains("\"min\": -30") && wrap.contains("\"max\": 10"), "{wrap}");
    assert_eq!(srv.get(&format!("{base}&options=bogus")).status, 400);
    let un = srv.ok("/api/v1/data?chart=test.ramp&after=-7&points=2&options=unaligned&format=ssv&dims=up");
    assert_eq!(un.trim().split(' ').count(), 2, "{un}");
}

#[test]
fn data_every_format() {
    let srv = Server::start("");
    let now = srv.now;
    // Three seconds, absolute: a relative window moves with the clock after the fill.
    let q = |f: &str| {
        srv.get(&format!(
            "/api/v1/data?chart=test.mixed&after={}&before={now}&format={f}&options=seconds",
            now - 2
        ))
    };
    let r = q("json");
    assert_eq!(r.header("Content-Type").as_deref(), Some("application/json"));
    let r = q("jsonp");
    assert!(r.body.starts_with("callback({"), "{}", r.body);
    let r = srv.get("/api/v1/data?chart=test.mixed&after=-3&format=jsonp&callback=my_cb");
    assert!(r.body.starts_with("my_cb(") && r.body.trim_end().ends_with(");"), "{}", r.body);
    let r = q("csv");
    assert!(r.body.starts_with("time,pos,neg,zero\r\n"), "{}", r.body);
    assert!(r.body.contains(&format!("{now},10,-30,0\r\n")), "{}", r.body);
    let r = q("tsv");
    assert!(r.body.contains(&format!("{now}\t10\t-30\t0\r\n")), "{}", r.body);
    let r = q("ssv");
    assert_eq!(r.body, "-20 -20 -20\n");
    let r = q("ssvcomma");
    assert_eq!(r.body, "-20,-20,-20\n");
    let r = q("array");
    assert_eq!(r.body, "[-20,-20,-20]");
    let r = q("datatable");
    assert!(r.body.contains("\"type\":\"datetime\"") && r.body.contains("{\"v\":-30}"), "{}", r.body);
    let r = srv.get("/api/v1/data?chart=test.mixed&after=-3&format=datasource&tqx=reqId:7");
    assert!(
        r.body.starts_with("google.visualization.Query.setResponse({version:'0.6',reqId:'7'"),
        "{}",
        r.body
    );
    let r = q("html");
    assert!(
        r.body.contains("<td>time</td><td>pos</td>")
            && r.body.contains(&format!("<tr><td>{now}</td><td>10</td>")),
        "{}",
        r.body
    );
    let r = q("markdown");
    // As Netdata 1.37.1 answers (recorded): no spaces around the bars, CRLF.
    assert!(r.body.starts_with("time|pos|neg|zero\r\n:---:|:---:|:---:|:---:\r\n"), "{}", r.body);
    assert!(r.body.contains(&format!("\r\n{now}|10|-30|0\r\n")), "{}", r.body);
    let r = q("csvjsonarray");
    assert!(r.body.starts_with("[\n[\"time\",\"pos\",\"neg\",\"zero\"]"), "{}", r.body);
    // Dates without `seconds`.
    let r = srv.get("/api/v1/data?chart=test.mixed&after=-1&format=csv");
    assert!(r.body.lines().nth(1).is_some_and(|l| l.as_bytes().get(4) == Some(&b'-')), "{}", r.body);
    // A string format inside jsonwrap is a JSON string.
    let r = srv.get("/api/v1/data?chart=test.mixed&after=-1&format=csv&options=jsonwrap|seconds");
    assert!(r.body.contains("\"result\": \"time,pos,neg,zero\\r\\n"), "{}", r.body);
    assert_eq!(q("xml").status, 400);
    let r = srv.get("/api/v1/data?chart=test.mixed&after=-1&format=csv&filename=x.csv");
    assert_eq!(r.header("Content-Disposition").as_deref(), Some("attachment; filename=\"x.csv\""));
}

#[test]
fn data_bad_parameters_are_400_with_one_line() {
    let srv = Server::start("");
    for (q, needle) in [
        ("chart=test.ramp&after=yesterday", "after"),
        ("chart=test.ramp&points=-5", "points"),
        ("after=-60", "chart"),
        ("chart=test.ramp&callback=x()", "callback"),
        ("chart=test.ramp&gtime=-1", "gtime"),
        ("chart=test.ramp&after=%zz", "after"),
    ] {
        let r = srv.get(&format!("/api/v1/data?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(r.body.contains(needle) && r.body.trim_end().lines().count() == 1, "{q}: {}", r.body);
    }
    assert_eq!(srv.get("/api/v1/data?chart=nope").status, 404);
    assert_eq!(srv.get("/api/v1/nope").status, 404);
}

#[test]
fn context_queries_merge_charts() {
    let srv = Server::start("");
    let body = srv.ok("/api/v1/data?context=test.mixed&after=-1&format=csv&options=seconds");
    assert!(body.contains(",10,-30,0"), "{body}");
    // jsonwrap of a context query names the chart of every dimension, after `functions`,
    // as Netdata 1.37.1 does (recorded: `"functions": [],\n   "chart_ids": ["net.eth0", …]`).
    let body = srv.ok("/api/v1/data?context=test.mixed&after=-1&options=jsonwrap");
    assert!(
        body.contains("\"functions\": [],\n   \"chart_ids\": [\"test.mixed\", \"test.mixed\", \"test.mixed\"],\n   \"latest_values\""),
        "{body}"
    );
    let body = srv.ok("/api/v1/data?chart=test.mixed&after=-1&options=jsonwrap");
    assert!(!body.contains("chart_ids"), "only context queries have it: {body}");
    assert_eq!(srv.get("/api/v1/data?context=nope").status, 404);
}

#[test]
fn allmetrics_formats() {
    let srv = Server::start("");
    let shell = srv.ok("/api/v1/allmetrics?format=shell");
    assert!(shell.contains("# chart: test.ramp (name: test.ramp)"), "{shell}");
    assert!(shell.contains("NETDATA_TEST_RAMP_LEVEL=\"5\"      # things/s"), "{shell}");
    assert!(shell.contains("NETDATA_TEST_MIXED_VISIBLETOTAL=\"-20\""), "{shell}");
    assert!(!shell.contains("SECRET"), "hidden dimensions are not exported");
    assert!(shell.contains("# NETDATA ALARMS RUNNING"));
    assert_eq!(srv.ok("/api/v1/allmetrics"), shell, "shell is the default");

    let json = srv.ok("/api/v1/allmetrics?format=json&filter=test.ramp");
    assert_eq!(top_keys(&json), ["test.ramp"]);
    assert!(json.contains("\"level\"") && json.contains("\"value\": 5"), "{json}");

    let prom = srv.ok("/api/v1/allmetrics?format=prometheus");
    assert!(
        prom.starts_with("netdata_info{instance=\"parent\",application=\"netdata\",version=\"v1.37.1\"} 1 "),
        "{prom}"
    );
    assert!(
        prom.contains("netdata_test_mixed_percent_average{chart=\"test.mixed\",family=\"mixed\",dimension=\"neg\"} -30 "),
        "{prom}"
    );
    assert!(prom.contains(
        "netdata_test_ramp_things_persec_average{chart=\"test.ramp\",family=\"ramps\",dimension=\"level\"} 5"
    ));
    let p = srv.ok("/api/v1/allmetrics?format=prometheus&prefix=nd&timestamps=no&names=no&data=sum&server=a&help=yes&types=yes");
    assert!(p.contains("# TYPE nd_test_ramp_sum gauge"), "{p}");
    assert!(
        p.contains("nd_test_ramp_sum{chart=\"test.ramp\",family=\"ramps\",dimension=\"flat\"} 5\n"),
        "{p}"
    );
    let raw = srv.ok("/api/v1/allmetrics?format=prometheus&data=as-collected&timestamps=no&types=yes");
    assert!(raw.contains("# TYPE netdata_test_counter_total counter"), "{raw}");
    assert!(
        raw.contains(&format!(
            "netdata_test_counter_total{{chart=\"test.counter\",family=\"test\",dimension=\"events\"}} {}",
            HISTORY * 7
        )),
        "{raw}"
    );
    let hidden = srv.ok("/api/v1/allmetrics?format=prometheus&data=average&hideunits=yes&timestamps=no");
    assert!(hidden.contains("netdata_test_ramp_average{"), "{hidden}");
    let all = srv.ok("/api/v1/allmetrics?format=prometheus_all_hosts&timestamps=no");
    assert!(all.contains("netdata_info{instance=\"child1\""), "{all}");
    assert!(all.contains("dimension=\"pos\",instance=\"child1\"} 10"), "{all}");
    assert!(all.contains("dimension=\"pos\",instance=\"parent\"} 10"), "{all}");
    assert_eq!(srv.get("/api/v1/allmetrics?format=xml").status, 400);
    assert_eq!(srv.get("/api/v1/allmetrics?format=prometheus&data=bogus").status, 400);
    assert_eq!(srv.get("/api/v1/allmetrics?format=prometheus&names=maybe").status, 400);
}

#[test]
fn alarms_and_alarm_log_are_empty_with_the_right_shape() {
    let srv = Server::start("");
    let a = srv.ok("/api/v1/alarms?all");
    assert_eq!(top_keys(&a), ["hostname", "latest_alarm_log_unique_id", "status", "now", "alarms"]);
    assert!(a.contains("\"hostname\": \"parent\""));
    assert_eq!(srv.ok("/api/v1/alarm_log?after=0"), "[\n]\n", "Netdata's empty log");
    let a = srv.ok("/host/child1/api/v1/alarms?active");
    assert!(a.contains("\"hostname\": \"child1\""));
}

#[test]
fn host_routing_by_hostname_and_guid() {
    let srv = Server::start("");
    let info = srv.ok("/host/child1/api/v1/info");
    assert!(info.contains(&format!("\"uid\": \"{CHILD_GUID}\"")), "{info}");
    let charts = srv.ok(&format!("/host/{CHILD_GUID}/api/v1/charts"));
    assert!(charts.contains("\"hostname\": \"child1\""));
    assert!(srv.ok("/host/child1/api/v1/data?chart=test.mixed&after=-1&format=csv").contains(",10,-30,0"));
    assert!(srv.ok("/host/parent/api/v1/allmetrics?format=json").contains("test.ramp"));
    let r = srv.get("/host/child1");
    assert_eq!((r.status, r.header("Location").as_deref()), (301, Some("/host/child1/")));
    assert!(srv.ok("/host/child1/").contains("<html"));
    assert_eq!(srv.get("/host/nobody/api/v1/info").status, 404);
}

#[test]
fn dashboard_is_served_compressed_or_plain() {
    let srv = Server::start("");
    let plain = srv.get("/");
    assert_eq!(plain.status, 200);
    assert!(plain.body.contains("<html"), "inflated for clients without gzip");
    let gz = get(srv.v4(), "/index.html", "Accept-Encoding: gzip\r\n");
    assert_eq!(gz.header("Content-Encoding").as_deref(), Some("gzip"));
    assert!(gz.raw_body.len() < 150 * 1024, "the page is under 150 KiB compressed");
    assert_eq!(nanodata::web::gzip::decompress(&gz.raw_body).unwrap(), plain.raw_body);
}

#[test]
fn api_responses_are_gzipped_when_accepted() {
    let srv = Server::start("");
    let plain = srv.get("/api/v1/charts");
    let gz = get(srv.v4(), "/api/v1/charts", "Accept-Encoding: deflate, gzip\r\n");
    assert_eq!(gz.header("Content-Encoding").as_deref(), Some("gzip"));
    assert!(gz.raw_body.len() < plain.raw_body.len());
    let text = String::from_utf8(nanodata::web::gzip::decompress(&gz.raw_body).unwrap()).unwrap();
    assert_eq!(top_keys(&text), top_keys(&plain.body));
    let off = Server::start("\tenable gzip compression = no\n");
    assert_eq!(get(off.v4(), "/api/v1/charts", "Accept-Encoding: gzip\r\n").header("Content-Encoding"), None);
}

#[test]
fn netdata_conf_is_the_effective_configuration_behind_its_acl() {
    let srv = Server::start("\tdisconnect idle clients after seconds = 77\n");
    let conf = srv.ok("/netdata.conf");
    assert!(conf.contains("disconnect idle clients after seconds = 77"), "{conf}");
    let denied = Server::start("\tallow netdata.conf from = 10.*\n");
    assert_eq!(denied.get("/netdata.conf").status, 403);
    assert_eq!(denied.get("/api/v1/info").status, 200);
}

// ---------------------------------------------------------------- ACLs

#[test]
fn dashboard_acl_by_address_family() {
    let srv = Server::start("\tallow dashboard from = ::1\n");
    assert_eq!(get(srv.v4(), "/api/v1/info", "").status, 403);
    assert_eq!(get(srv.v6(), "/api/v1/info", "").status, 200);
    assert_eq!(get(srv.v6(), "/", "").status, 200);
}

#[test]
fn connection_acl_closes_without_an_answer() {
    let srv = Server::start("\tallow connections from = !127.0.0.1 *\n");
    let mut s = connect(srv.v4());
    let _ = s.write_all(b"GET /api/v1/info HTTP/1.1\r\n\r\n");
    let (closed, bytes) = closed_by_server(&mut s);
    assert!(closed && bytes.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
    assert_eq!(get(srv.v6(), "/api/v1/info", "").status, 200);
}

#[test]
fn bind_acl_limits_what_an_address_serves() {
    let text = "[web]\n\tbind to = 127.0.0.1:0=netdata.conf\n";
    let (cfg, _) = Config::parse(FileKind::Netdata, text, "test");
    let hosts = Arc::new(Hosts::new(Host::new(PARENT_GUID, "parent", settings())));
    let node = NodeSettings::from_config(&cfg, &Config::new(FileKind::Stream));
    let web = web::start(node.web, hosts).unwrap();
    let addr = web.local_addrs()[0];
    assert_eq!(get(addr, "/api/v1/info", "").status, 403);
    assert_eq!(get(addr, "/netdata.conf", "").status, 200);
    web.stop();
}

// ---------------------------------------------------------------- HTTP behaviour

#[test]
fn keep_alive_and_pipelining_answer_in_order() {
    let srv = Server::start("");
    let mut s = connect(srv.v4());
    s.write_all(
        b"GET /api/v1/chart?chart=test.ramp HTTP/1.1\r\n\r\nGET /api/v1/chart?chart=test.mixed HTTP/1.1\r\n\r\nHEAD /api/v1/info HTTP/1.1\r\n\r\nGET /api/v1/nope HTTP/1.1\r\n\r\n",
    )
    .unwrap();
    let a = read_response(&mut s).unwrap();
    let b = read_response(&mut s).unwrap();
    assert!(a.body.contains("\"id\": \"test.ramp\"") && b.body.contains("\"id\": \"test.mixed\""));
    // HEAD: headers with the length, no body.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(String::from_utf8_lossy(&head).contains("200 OK"));
    let d = read_response(&mut s).unwrap();
    assert_eq!(d.status, 404);
    // Still open: one more.
    s.write_all(b"GET /api/v1/info HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).unwrap().status, 200);
    // HTTP/1.0 without keep-alive closes.
    s.write_all(b"GET /api/v1/info HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).unwrap().status, 200);
    assert!(closed_by_server(&mut s).0);
}

#[test]
fn garbage_gets_400_and_a_close_while_others_are_served() {
    let srv = Server::start("");
    let mut keep = connect(srv.v4());
    for junk in [
        &b"\x00\x01\x02\x03 hello\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"FOO\r\n",
        b"\x16\x03\x01\x00\x05hello\n",
    ] {
        let mut s = connect(srv.v4());
        s.write_all(junk).unwrap();
        let (closed, bytes) = closed_by_server(&mut s);
        let text = String::from_utf8_lossy(&bytes);
        assert!(closed && text.starts_with("HTTP/1.1 400"), "{junk:?}: {text}");
        keep.write_all(b"GET /api/v1/info HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_response(&mut keep).unwrap().status, 200);
    }
    let mut s = connect(srv.v4());
    s.write_all(b"POST /api/v1/info HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").unwrap();
    assert!(String::from_utf8_lossy(&closed_by_server(&mut s).1).starts_with("HTTP/1.1 405"));
}

#[test]
fn a_one_megabyte_header_gets_431_and_a_close() {
    let srv = Server::start("");
    let mut s = connect(srv.v4());
    s.write_all(b"GET /api/v1/info HTTP/1.1\r\nX-Big: ").unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0;
    // The server closes after the limit; writes then fail, which is the point.
    while sent < 1024 * 1024 {
        if s.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    let (closed, bytes) = closed_by_server(&mut s);
    let text = String::from_utf8_lossy(&bytes);
    assert!(closed, "closed");
    // The flood's unread bytes make the close a reset, which may discard the 431 in flight.
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 431"), "{text}");
    // One byte over the limit (16 KiB, the server's HEAD_LIMIT) and nothing more: the
    // server reads it all, so its 431 must arrive before the close.
    let mut s = connect(srv.v4());
    let over = format!("GET /api/v1/info HTTP/1.1\r\nX-Big: {}", "a".repeat(16 * 1024));
    s.write_all(&over.as_bytes()[..16 * 1024 + 1]).unwrap();
    let (closed, bytes) = closed_by_server(&mut s);
    let text = String::from_utf8_lossy(&bytes);
    assert!(closed && text.starts_with("HTTP/1.1 431"), "{text}");
    assert_eq!(srv.get("/api/v1/info").status, 200);
    // A long but legal request line gets its answer.
    let long = format!("/api/v1/data?chart=test.ramp&after=-1&x={}", "y".repeat(7000));
    assert_eq!(srv.get(&long).status, 200);
}

#[test]
fn slowloris_is_cut_off_while_others_are_served() {
    let srv = Server::start("\ttimeout for first request = 1\n");
    let mut slow = connect(srv.v4());
    let start = Instant::now();
    slow.write_all(b"GET /api/v1/info HTTP/1.1\r\n").unwrap();
    let mut closed = false;
    for i in 0..40 {
        // One header byte every 100 ms: activity, but never a complete head.
        if slow.write_all(if i % 2 == 0 { b"X" } else { b"y" }).is_err() {
            closed = true;
            break;
        }
        assert_eq!(srv.get("/api/v1/info").status, 200, "others are served meanwhile");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (eof, bytes) = closed_by_server(&mut slow);
    assert!(closed || eof, "the slow client was disconnected");
    let text = String::from_utf8_lossy(&bytes);
    // A byte written after the close earns a reset, which may discard the 408 in flight.
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(start.elapsed() < Duration::from_secs(4), "cut off after about a second: {:?}", start.elapsed());
    // Half a head, then silence: nothing unread on the server, so the 408 must arrive.
    let mut quiet = connect(srv.v4());
    let start = Instant::now();
    quiet.write_all(b"GET /api/v1/info HTTP/1.1\r\nX-Slow: ").unwrap();
    let (eof, bytes) = closed_by_server(&mut quiet);
    let text = String::from_utf8_lossy(&bytes);
    assert!(eof && text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(start.elapsed() < Duration::from_secs(4), "cut off after about a second: {:?}", start.elapsed());
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let srv = Server::start("\tdisconnect idle clients after seconds = 1\n");
    let mut s = connect(srv.v4());
    s.write_all(b"GET /api/v1/info HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).unwrap().status, 200);
    let t = Instant::now();
    assert!(closed_by_server(&mut s).0);
    assert!(t.elapsed() < Duration::from_secs(4));
}

#[test]
fn half_closed_clients_get_their_answer_then_a_close() {
    let srv = Server::start("");
    let mut s = connect(srv.v4());
    s.write_all(b"GET /api/v1/info HTTP/1.1\r\n\r\n").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let (closed, bytes) = closed_by_server(&mut s);
    assert!(closed && String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 200"));
    // Half a request, then FIN: closed without an answer.
    let mut s = connect(srv.v4());
    s.write_all(b"GET /api/v1/in").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let (closed, bytes) = closed_by_server(&mut s);
    assert!(closed && bytes.is_empty());
    assert_eq!(srv.get("/api/v1/info").status, 200);
}

#[test]
fn stream_requests_reach_the_hook_and_are_closed() {
    let srv = Server::start("");
    let mut s = connect(srv.v4());
    s.write_all(b"STREAM key=11111111-2222-3333-4444-555555555555&hostname=c&machine_guid=x HTTP/1.1\r\nUser-Agent: netdata/v1.37.1\r\nAccept: */*\r\n\r\n").unwrap();
    let (closed, bytes) = closed_by_server(&mut s);
    assert!(closed && bytes.is_empty());
}

#[test]
fn ten_thousand_connection_attempts_do_not_starve_a_served_client() {
    let srv = Server::start("\tmax connections = 64\n");
    let mut keep = connect(srv.v4());
    keep.write_all(b"GET /api/v1/info HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut keep).unwrap().status, 200);
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..10_000 {
        match TcpStream::connect_timeout(&srv.v4(), Duration::from_secs(2)) {
            Ok(s) => held.push(s),
            Err(_) => refused += 1,
        }
        if held.len() % 1000 == 0 {
            keep.write_all(b"GET /api/v1/info HTTP/1.1\r\n\r\n").unwrap();
            assert_eq!(
                read_response(&mut keep).unwrap().status,
                200,
                "the established client is still served"
            );
        }
    }
    // The first 63 are accepted and idle; the rest got a 503 and a close.
    let mut got503 = 0;
    for s in held.iter_mut().rev().take(100) {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let (closed, bytes) = closed_by_server(s);
        if closed && String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 503") {
            got503 += 1;
        }
    }
    assert!(got503 >= 90, "over the cap: 503 and close ({got503} of 100, {refused} connects failed)");
    keep.write_all(b"GET /api/v1/info HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut keep).unwrap().status, 200);
    drop(held);
    // Once the crowd is gone, new clients are served again.
    let t = Instant::now();
    loop {
        let r = get(srv.v4(), "/api/v1/info", "");
        if r.status == 200 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "new clients served after the flood: {}", r.status);
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------- TLS

#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    struct Certs {
        dir: std::path::PathBuf,
    }

    impl Drop for Certs {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// A self-signed certificate for 127.0.0.1 made with openssl in a temp directory; `None`
    /// when [`common::require`] lets the test skip for want of openssl.
    fn certs() -> Option<Certs> {
        if !common::require(common::Dep::Openssl, "the test certificate") {
            return None;
        }
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "nanodata-tls-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let out = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
            ])
            .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .output()
            .expect("run openssl");
        assert!(out.status.success(), "openssl req failed: {}", String::from_utf8_lossy(&out.stderr));
        Some(Certs { dir })
    }

    fn start(c: &Certs, ssl: &str) -> Server {
        let web = format!(
            "\tbind to = 127.0.0.1:0^SSL={ssl} [::1]:0\n\tssl key = {}\n\tssl certificate = {}\n",
            c.dir.join("key.pem").display(),
            c.dir.join("cert.pem").display()
        );
        Server::start(&web)
    }

    fn tls_get(c: &Certs, addr: SocketAddr, paths: &[&str]) -> Vec<Reply> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(c.dir.join("cert.pem")).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, connect(addr));
        let mut out = Vec::new();
        for p in paths {
            write!(tls, "GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
            tls.flush().unwrap();
            let mut buf = Vec::new();
            let mut byte = [0u8; 1];
            while !buf.ends_with(b"\r\n\r\n") {
                tls.read_exact(&mut byte).unwrap();
                buf.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&buf).into_owned();
            let len: usize =
                head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).unwrap().parse().unwrap();
            let mut body = vec![0u8; len];
            tls.read_exact(&mut body).unwrap();
            buf.extend_from_slice(&body);
            out.push(parse_reply(&buf).unwrap());
        }
        out
    }

    #[test]
    fn force_serves_tls_and_redirects_plain_http() {
        let Some(c) = certs() else { return };
        let srv = start(&c, "force");
        // A window fixed at the fill's last second (one relative to the query's clock is
        // empty when a second passes between the fill and the query).
        let data =
            format!("/api/v1/data?chart=test.mixed&after={}&before={}&format=csv", srv.now - 1, srv.now);
        let replies = tls_get(&c, srv.v4(), &["/api/v1/info", &data]);
        assert_eq!(replies[0].status, 200);
        assert!(replies[0].body.contains("\"https-enabled\": true"));
        assert!(replies[1].body.contains(",10,-30,0"), "keep-alive over TLS: {}", replies[1].body);
        let plain = get(srv.v4(), "/api/v1/info", "");
        assert_eq!(plain.status, 301);
        assert_eq!(plain.header("Location").as_deref(), Some("https://test/api/v1/info"));
        // The other address has no ^SSL: plain HTTP.
        assert_eq!(get(srv.v6(), "/api/v1/info", "").status, 200);
    }

    #[test]
    fn optional_serves_both_on_one_port() {
        let Some(c) = certs() else { return };
        let srv = start(&c, "optional");
        assert_eq!(tls_get(&c, srv.v4(), &["/api/v1/charts"])[0].status, 200);
        assert_eq!(get(srv.v4(), "/api/v1/charts", "").status, 200);
        // A broken handshake closes only that connection.
        let mut s = connect(srv.v4());
        s.write_all(b"\x16\x03\x01\x00\x10not a client hello at all").unwrap();
        assert!(closed_by_server(&mut s).0);
        assert_eq!(tls_get(&c, srv.v4(), &["/api/v1/info"])[0].status, 200);
    }
}

// ---------------------------------------------------------------- the binary

#[test]
fn the_daemon_serves_its_own_charts() {
    let node = common::Node::new("web", "ram");
    let port = free_port();
    node.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{port}\n"));
    let mut run = node.start_ready(&[]);
    run.wait_for_log("web: listening on", Duration::from_secs(5));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let t = Instant::now();
    loop {
        let r = get(addr, "/api/v1/data?chart=system.cpu&after=-5&format=csv", "");
        if r.status == 200 && r.body.lines().count() >= 2 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "system.cpu data: {}", r.body);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(get(addr, "/api/v1/info", "").body.contains("\"it-web\""));
    run.stop_orderly();
}

#[test]
fn web_mode_none_opens_no_socket() {
    let node = common::Node::new("webnone", "ram");
    let port = free_port();
    node.append_config(&format!("[web]\n\tmode = none\n\tbind to = 127.0.0.1:{port}\n"));
    let mut run = node.start_ready(&[]);
    run.wait_for_log("web server is disabled", Duration::from_secs(5));
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "nothing listens");
    run.stop_orderly();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
