//! The remote write wire format against real receivers: VictoriaMetrics and Prometheus (Debian
//! packages `victoria-metrics`, `prometheus`), each started on loopback with a temporary data
//! directory. A `WriteRequest` built by `exporting::remote_write` goes out through the
//! project's HTTP client; what each backend's query API gives back must be exactly what was
//! sent: values, millisecond timestamps, and the label set sorted and cleaned as the spec
//! asks. Broken bodies must get a 4xx (the connector drops such a batch instead of retrying).
//! Also: the request's headers on the wire, and the bytes per sample of Netdata-like batches.

#![allow(clippy::disallowed_methods)] // tests time themselves with the standard clock

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::backends::Backend;
use common::{require, Dep};
use nanodata::exporting::remote_write::{self as rw, snappy, WriteRequestBuilder};
use nanodata::net::http_client::{Client, Response};
use nanodata::net::Destination;

type Labels = BTreeMap<String, String>;

/// What the tests send: two series whose labels are given unsorted, with a repeated name and
/// an empty value (both must not reach the backend), and several samples each. The values are
/// exact in binary and in short decimals, so every backend stores them exactly.
struct Sent {
    series: Vec<(Labels, Vec<(f64, i64)>)>,
    body: Vec<u8>,
}

fn sent(metric_prefix: &str) -> Sent {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let base = (now_ms / 1000 - 300) * 1000; // five minutes ago, on a second
    let a = format!("{metric_prefix}_system_cpu_percentage_average");
    let b = format!("{metric_prefix}_net_net_kilobits_persec_average");
    let a_samples = vec![(1.5, base), (-2.25, base + 10_000), (0.0, base + 20_123), (1e10, base + 30_000)];
    let b_samples = vec![(42.0, base + 1_001), (0.125, base + 11_001), (1024.5, base + 21_001)];
    let mut builder = WriteRequestBuilder::new();
    builder.series(&[
        ("instance", "router-1"),
        ("family", "cpu"),
        ("dimension", "user"),
        ("__name__", &a),
        ("chart", "system.cpu"),
        ("instance", "a repeated name: the first one wins"),
        ("empty", ""),
    ]);
    for &(v, t) in &a_samples {
        builder.sample(v, t);
    }
    builder.series(&[
        ("dimension", "received"),
        ("chart", "net.eth0"),
        ("__name__", &b),
        ("instance", "router-1"),
        ("family", "eth0"),
    ]);
    for &(v, t) in &b_samples {
        builder.sample(v, t);
    }
    let mut body = Vec::new();
    snappy::compress(builder.finish(), &mut body).unwrap();
    let labels = |pairs: &[(&str, &str)]| -> Labels {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    };
    Sent {
        series: vec![
            (
                labels(&[
                    ("__name__", &a),
                    ("chart", "system.cpu"),
                    ("dimension", "user"),
                    ("family", "cpu"),
                    ("instance", "router-1"),
                ]),
                a_samples,
            ),
            (
                labels(&[
                    ("__name__", &b),
                    ("chart", "net.eth0"),
                    ("dimension", "received"),
                    ("family", "eth0"),
                    ("instance", "router-1"),
                ]),
                b_samples,
            ),
        ],
        body,
    }
}

fn post(backend: &Backend, path: &str, body: &[u8]) -> Response {
    backend
        .client()
        .post(path, &rw::headers(), body)
        .unwrap_or_else(|e| panic!("POST {path} to {}: {e}", backend.name))
}

/// The two bodies a backend must refuse with a 4xx: not snappy at all, and snappy around
/// bytes that are not a `WriteRequest` (a length running past the end).
fn broken_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let mut bad_proto = Vec::new();
    snappy::compress(&[0x0a, 0x7f, 0x0a, 0x02], &mut bad_proto).unwrap();
    vec![
        ("not snappy", b"\xff\xff\xff\xff\xff\xff this is not a snappy block".to_vec()),
        ("bad protobuf", bad_proto),
    ]
}

fn sorted_series(mut v: Vec<(Labels, Vec<(f64, i64)>)>) -> Vec<(Labels, Vec<(f64, i64)>)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn json_labels(m: &serde_json::Value) -> Labels {
    m.as_object()
        .expect("a label object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a string label value").to_owned()))
        .collect()
}

#[test]
fn victoria_metrics_stores_exactly_what_was_sent() {
    if !require(Dep::VictoriaMetrics, "a remote write receiver to read the samples back from") {
        return;
    }
    let vm = Backend::victoria_metrics();
    let s = sent("rwvm");
    let r = post(&vm, "/api/v1/write", &s.body);
    assert!(
        r.is_success(),
        "remote write refused: {} {}\n{}",
        r.status,
        String::from_utf8_lossy(&r.body),
        vm.log()
    );

    // `/internal/force_flush` makes just-written samples searchable; poll a little anyway.
    let query = "/api/v1/export?match%5B%5D=%7B__name__%3D~%22rwvm_.%2A%22%7D";
    let deadline = Instant::now() + Duration::from_secs(20);
    let got = loop {
        vm.get("/internal/force_flush");
        let body = vm.get(query).body;
        let mut got = Vec::new();
        for line in String::from_utf8(body).unwrap().lines().filter(|l| !l.trim().is_empty()) {
            let j: serde_json::Value = serde_json::from_str(line).unwrap();
            let values = j["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap());
            let stamps = j["timestamps"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap());
            got.push((json_labels(&j["metric"]), values.zip(stamps).collect::<Vec<_>>()));
        }
        let samples: usize = got.iter().map(|(_, s): &(Labels, Vec<_>)| s.len()).sum();
        if samples >= 7 || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(sorted_series(got), sorted_series(s.series), "{}", vm.log());

    for (what, body) in broken_bodies() {
        let r = post(&vm, "/api/v1/write", &body);
        assert!((400..500).contains(&r.status), "{what}: VictoriaMetrics answered {} (want 4xx)", r.status);
    }
}

#[test]
fn prometheus_stores_exactly_what_was_sent() {
    if !require(Dep::Prometheus, "a remote write receiver to read the samples back from") {
        return;
    }
    let prom = Backend::prometheus();
    let s = sent("rwprom");
    let r = post(&prom, "/api/v1/write", &s.body);
    assert!(
        r.is_success(),
        "remote write refused: {} {}\n{}",
        r.status,
        String::from_utf8_lossy(&r.body),
        prom.log()
    );

    // A range selector returns the raw samples; evaluated one second after the last one.
    let last = s.series.iter().flat_map(|(_, v)| v.iter().map(|&(_, t)| t)).max().unwrap();
    let mut got = Vec::new();
    for (labels, _) in &s.series {
        let path = format!("/api/v1/query?query={}%5B1h%5D&time={}", labels["__name__"], last / 1000 + 1);
        let j: serde_json::Value = serde_json::from_slice(&prom.get(&path).body).unwrap();
        assert_eq!(j["status"], "success", "{j}");
        for r in j["data"]["result"].as_array().unwrap() {
            let samples = r["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                    (p[1].as_str().unwrap().parse::<f64>().unwrap(), t)
                })
                .collect::<Vec<_>>();
            got.push((json_labels(&r["metric"]), samples));
        }
    }
    assert_eq!(sorted_series(got), sorted_series(s.series), "{}", prom.log());

    for (what, body) in broken_bodies() {
        let r = post(&prom, "/api/v1/write", &body);
        assert!((400..500).contains(&r.status), "{what}: Prometheus answered {} (want 4xx)", r.status);
    }
}

/// The request as it leaves: the spec's four headers, each once, and the compressed body.
#[test]
fn the_request_carries_the_specs_headers_once() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push(line.trim_end().to_owned());
        }
        let len: usize = head
            .iter()
            .find_map(|h| {
                h.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
            })
            .unwrap();
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        let mut w = s;
        w.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        (head, body)
    });
    let s = sent("rwhead");
    let dest = Destination::parse(&format!("127.0.0.1:{port}"), 0).unwrap();
    let mut c = Client::new(dest, None, Duration::from_secs(10), 1024);
    let r = c.post("/receive", &rw::headers(), &s.body).unwrap();
    assert_eq!(r.status, 204);
    let (head, body) = server.join().unwrap();
    assert_eq!(head[0], "POST /receive HTTP/1.1");
    let count = |name: &str, value: &str| {
        head.iter()
            .filter(|h| {
                h.split_once(':').is_some_and(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim() == value)
            })
            .count()
    };
    let named = |name: &str| {
        head.iter().filter(|h| h.split_once(':').is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))).count()
    };
    assert_eq!(count("Content-Encoding", "snappy"), 1, "{head:?}");
    assert_eq!(count("Content-Type", "application/x-protobuf"), 1, "{head:?}");
    assert_eq!(count("X-Prometheus-Remote-Write-Version", "0.1.0"), 1, "{head:?}");
    assert_eq!(count("User-Agent", &rw::user_agent()), 1, "{head:?}");
    for name in ["Content-Encoding", "Content-Type", "X-Prometheus-Remote-Write-Version", "User-Agent"] {
        assert_eq!(named(name), 1, "{name} more than once: {head:?}");
    }
    assert_eq!(body, s.body);
}

/// Bytes per sample on the wire (snappy body) for batches shaped like a parent's export:
/// labels as Netdata's remote write sets them, values `average`s (tenths: the low mantissa
/// bytes are noise), as-collected integers, or all zero (what labels and timestamps alone
/// cost). Printed for the closing note; the assertions only pin what must hold whatever the
/// numbers.
#[test]
fn bytes_per_sample_of_netdata_like_batches() {
    for values in [Values::Tenths, Values::Integers, Values::Zeros] {
        let one = measure(1000, 1, values);
        let ten = measure(200, 10, values);
        eprintln!(
            "remote write {values:?}: 1000 series x 1 sample: snappy {} B = {:.2} B/sample (protobuf {:.2}); \
             200 series x 10 samples: snappy {} B = {:.2} B/sample (protobuf {:.2})",
            one.0,
            one.0 as f64 / 1000.0,
            one.1 as f64 / 1000.0,
            ten.0,
            ten.0 as f64 / 2000.0,
            ten.1 as f64 / 2000.0,
        );
        assert!(one.0 < one.1 / 3, "labels repeat across series: snappy must take off two thirds");
        assert!(ten.0 / 2000 < one.0 / 1000, "samples sharing a label set cost less");
    }
}

#[derive(Clone, Copy, Debug)]
enum Values {
    Tenths,
    Integers,
    Zeros,
}

/// (snappy bytes, protobuf bytes) for `series` × `samples` Netdata-like values.
fn measure(series: usize, samples: usize, values: Values) -> (usize, usize) {
    // (chart, context, family, units, dimensions)
    type Chart = (&'static str, &'static str, &'static str, &'static str, &'static [&'static str]);
    const CHARTS: &[Chart] = &[
        (
            "system.cpu",
            "system.cpu",
            "cpu",
            "percentage",
            &["guest_nice", "guest", "steal", "softirq", "irq", "user", "system", "nice", "iowait"],
        ),
        ("net.eth0", "net.net", "eth0", "kilobits/s", &["received", "sent"]),
        ("disk.sda", "disk.io", "sda", "KiB/s", &["reads", "writes"]),
        ("mem.available", "mem.available", "system", "MiB", &["MemAvailable"]),
        (
            "apps.cpu",
            "apps.cpu",
            "cpu",
            "percentage",
            &["ssh", "cron", "dnsmasq", "netifd", "odhcpd", "uhttpd", "hostapd"],
        ),
    ];
    let mut batch = rw::Batch::new();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let t0 = 1_765_000_000_000i64;
    let mut made = 0;
    'hosts: for host in 0.. {
        let hostname = format!("router-{host:04}");
        for &(chart, context, family, units, dims) in CHARTS {
            let metric = rw::stored_metric_name("netdata", context, units, rw::Reduction::Average);
            for dim in dims {
                if made == series {
                    break 'hosts;
                }
                made += 1;
                let labels = rw::dimension_labels(&metric, chart, family, dim, &hostname);
                batch.request().series(&labels);
                for k in 0..samples {
                    let v = match values {
                        // Averages over 10 s of integer collections: tenths, mostly small.
                        Values::Tenths => (next() % 100_000) as f64 / 10.0,
                        Values::Integers => (next() % 1_000_000) as f64,
                        Values::Zeros => 0.0,
                    };
                    batch.request().sample(v, t0 + 10_000 * k as i64);
                }
            }
        }
    }
    let raw = batch.request().finish().len();
    let body = batch.body().unwrap().len();
    (body, raw)
}
