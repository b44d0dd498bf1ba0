//! The side-by-side half of `exporting_formats`: the nanodata daemon and Netdata 1.37.1
//! export the same charts of the same machine through the same instances, each to sinks of
//! its own, and what they sent is compared by *shape*: per connector, the set of metrics
//! (graphite path; OpenTSDB metric; JSON chart id, dimension id and name) and, for each
//! metric, its line with the value and the timestamp replaced by placeholders that say
//! their format (`%lld` for `as collected`, `%0.7f` for `average`). The label part is kept
//! (OpenTSDB tags sorted), JSON keys in order with every field but the value and timestamp.
//! The HTTP variants must send the same request line and `Content-Type`, every header
//! Netdata sends, and `[⏎` objects joined by `,⏎` `⏎]⏎`. Timestamps are checked to be
//! seconds of now, on the instance's `update every` for `average`, and the same for both
//! agents modulo the `update every`.
//!
//! [`EXCEPTIONS`] lists what one agent sends and the other does not, with the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;

use super::{Case, HOSTNAME};
use crate::common::exporting::Sink;

/// Charts both agents collect from `/proc` with the same dimensions on any Linux machine
/// (dimensions that come and go with the hardware — interrupts, softirqs, zram, ICMP
/// message types — are left out). Those of them Netdata exports here are compared.
pub const CHARTS: &[&str] = &[
    "system.cpu",
    "system.load",
    "system.ram",
    "system.net",
    "system.ip",
    "system.processes",
    "system.active_processes",
    "system.forks",
    "system.ctxt",
    "system.intr",
    "system.uptime",
    "system.pgpgio",
    "mem.available",
    "mem.committed",
    "mem.kernel",
    "mem.slab",
    "mem.writeback",
    "mem.pgfaults",
    "ipv4.packets",
    "ipv4.tcpsock",
    "ipv4.tcppackets",
    "ipv4.tcpopens",
    "ipv4.udppackets",
    "ipv4.sockstat_sockets",
    "ipv4.sockstat_tcp_sockets",
];

/// Charts every Linux machine has: the comparison is never made over nothing.
const CORE: &[&str] = &["system.cpu", "system.ram", "system.processes", "mem.available", "ipv4.packets"];

/// What one agent sends and the other does not: `(agent, what, why)`. Host labels named
/// here are taken out of both agents' lines before they are compared.
pub const EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "Netdata",
        "host label _is_ephemeral=false",
        "Netdata 1.37 gives its own host this label (false unless set) with the CONFIG source, \
         so 'send configured labels' exports it; nanodata's hosts carry only [host labels] as \
         configured labels",
    ),
    ("Netdata", "host label _has_unstable_connection=false", "the same"),
    (
        "Netdata",
        "an HTTP request with an empty array '[\\n\\n]\\n'",
        "Netdata POSTs a batch with no metric in it (the first exports after its start); \
         nanodata does not send empty batches",
    ),
];

/// The host labels of [`EXCEPTIONS`].
const EXCEPT_LABELS: &[&str] = &["_is_ephemeral", "_has_unstable_connection"];

/// How the connectors are told apart.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Graphite,
    Telnet,
    Json,
    OpentsdbHttp,
    JsonHttp,
}

/// The sinks of a case, with their connector and the instance's `update every`.
fn sinks(case: &Case) -> [(&'static str, Kind, i64, &Sink); 6] {
    [
        ("graphite", Kind::Graphite, 1, &case.graphite),
        ("graphite every 5 s", Kind::Graphite, 5, &case.graphite5),
        ("opentsdb", Kind::Telnet, 1, &case.telnet),
        ("json", Kind::Json, 1, &case.json),
        ("opentsdb:http", Kind::OpentsdbHttp, 1, &case.opentsdb_http),
        ("json:http", Kind::JsonHttp, 1, &case.json_http),
    ]
}

/// The compared charts either agent exports on this machine (from the `as collected` JSON
/// records); fails when one of [`CORE`] is not among Netdata's.
pub fn charts_here(netdata_collected: &Case, ours_collected: &Case, logs: &str) -> BTreeSet<&'static str> {
    let charts = |case: &Case| -> BTreeSet<&'static str> {
        case.json.lines().iter().filter_map(|l| chart_in(Kind::Json, l)).collect()
    };
    let seen = charts(netdata_collected);
    for c in CORE {
        assert!(seen.contains(c), "Netdata exported no {c}; charts seen: {seen:?}\n{logs}");
    }
    seen.union(&charts(ours_collected)).copied().collect()
}

/// True when every sink of `case` has sent something of each of `charts`.
pub fn covers(case: &Case, charts: &BTreeSet<&str>) -> bool {
    sinks(case).iter().all(|(_, kind, _, sink)| {
        let mut missing: BTreeSet<&str> = charts.clone();
        for item in items(*kind, sink).unwrap_or_default() {
            if let Some(chart) = chart_in(*kind, &item) {
                missing.remove(chart);
            }
        }
        missing.is_empty()
    })
}

/// The compared chart of a line or object, found without parsing it all (polled often).
fn chart_in(kind: Kind, item: &str) -> Option<&'static str> {
    let after = |key: &str| item.split_once(key).and_then(|(_, rest)| rest.split('"').next());
    match kind {
        Kind::Graphite => chart_of(item, &format!("netdata.{HOSTNAME}.")),
        Kind::Telnet => chart_of(item.split(' ').nth(1)?, "netdata."),
        Kind::OpentsdbHttp => chart_of(after("\"metric\":\"")?, "netdata."),
        Kind::Json | Kind::JsonHttp => {
            let id = after("\"chart_id\":\"")?;
            CHARTS.iter().copied().find(|c| *c == id)
        }
    }
}

/// What one sink of one agent sent for the compared charts.
#[derive(Default, Debug)]
struct Sent {
    /// Metric → the distinct shapes of its lines.
    shapes: BTreeMap<String, BTreeSet<String>>,
    /// Chart → the distinct timestamps of its lines.
    times: BTreeMap<String, BTreeSet<i64>>,
    /// What was wrong with the HTTP requests.
    requests: Vec<String>,
    /// Header names Netdata's requests carry (lower case), request lines, content types.
    headers: BTreeSet<String>,
    request_lines: BTreeSet<String>,
    content_types: BTreeSet<String>,
}

/// One metric line or object, read.
struct Read {
    chart: String,
    key: String,
    shape: String,
    timestamp: Option<i64>,
}

/// The lines (plain connectors) or the objects of every POSTed array (HTTP connectors);
/// `Err` says what was wrong with a request.
fn items(kind: Kind, sink: &Sink) -> Result<Vec<String>, String> {
    match kind {
        Kind::Graphite | Kind::Telnet | Kind::Json => Ok(sink.lines()),
        Kind::OpentsdbHttp | Kind::JsonHttp => {
            let mut out = Vec::new();
            for (_, body) in sink.requests() {
                out.extend(array_objects(&body)?);
            }
            Ok(out)
        }
    }
}

/// The objects of a batch body `[⏎{…},⏎{…}⏎]⏎` (`[⏎⏎]⏎` when empty).
fn array_objects(body: &str) -> Result<Vec<String>, String> {
    let inner = body
        .strip_prefix("[\n")
        .and_then(|b| b.strip_suffix("\n]\n"))
        .ok_or_else(|| format!("the body is not '[\\n' … '\\n]\\n': {body:?}"))?;
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    let objects: Vec<String> = inner.split(",\n").map(str::to_owned).collect();
    match objects.iter().find(|o| !(o.starts_with('{') && o.ends_with('}'))) {
        Some(bad) => Err(format!("not an object between ',\\n': {bad:?}")),
        None => Ok(objects),
    }
}

/// The format of a value: `<%lld>`, `<%0.7f>`, or what it is when neither.
fn value_shape(v: &str, raw: bool) -> String {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = v.strip_prefix('-').unwrap_or(v);
    let fixed7 = unsigned.split_once('.').is_some_and(|(i, f)| digits(i) && f.len() == 7 && digits(f));
    match (raw, digits(unsigned), fixed7) {
        (true, true, _) => "<%lld>".into(),
        (false, _, true) => "<%0.7f>".into(),
        _ => format!("<{} value {v:?}>", if raw { "not an integer" } else { "not %0.7f" }),
    }
}

/// The chart of the compared ones a metric name `<head><chart>.<dimension>` belongs to.
fn chart_of(metric: &str, head: &str) -> Option<&'static str> {
    let rest = metric.strip_prefix(head)?;
    CHARTS.iter().copied().find(|c| rest.strip_prefix(c).is_some_and(|d| d.starts_with('.')))
}

/// Reads one line or object of `kind`; `Err` when it is not one of the compared charts
/// (or not readable at all).
fn read(kind: Kind, item: &str, raw: bool) -> Result<Read, String> {
    match kind {
        Kind::Graphite => {
            // `<path>[;labels] <value> <t>`
            let mut parts = item.rsplitn(3, ' ');
            let (t, v, path) =
                (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let mut segments = path.split(';');
            let metric = segments.next().unwrap_or("");
            let chart = chart_of(metric, &format!("netdata.{HOSTNAME}.")).ok_or("not compared")?;
            let kept: Vec<&str> =
                segments.filter(|s| !is_excepted(s.split('=').next().unwrap_or(""))).collect();
            let path = std::iter::once(metric).chain(kept).collect::<Vec<_>>().join(";");
            Ok(Read {
                chart: chart.into(),
                key: metric.into(),
                shape: format!("{path} {} {}", value_shape(v, raw), time_shape(t)),
                timestamp: t.parse().ok(),
            })
        }
        Kind::Telnet => {
            // `put <metric> <t> <value> tags…`
            let words: Vec<&str> = item.split(' ').collect();
            let (put, metric, t, v) = (
                words[0],
                words.get(1).copied().unwrap_or(""),
                words.get(2).copied().unwrap_or(""),
                words.get(3).copied().unwrap_or(""),
            );
            let chart = chart_of(metric, "netdata.").ok_or("not compared")?;
            let mut tags: Vec<&str> = words
                .iter()
                .skip(4)
                .copied()
                .filter(|w| !is_excepted(w.split('=').next().unwrap_or("")))
                .collect();
            tags.sort_unstable();
            Ok(Read {
                chart: chart.into(),
                key: metric.into(),
                shape: format!("{put} {metric} {} {} {}", time_shape(t), value_shape(v, raw), tags.join(" ")),
                timestamp: t.parse().ok(),
            })
        }
        Kind::OpentsdbHttp => {
            // {"metric":"…","timestamp":t,"value":v,"tags":{…}}
            let object: Json = serde_json::from_str(item).map_err(|e| format!("{e}: {item}"))?;
            let metric = object["metric"].as_str().unwrap_or("");
            let chart = chart_of(metric, "netdata.").ok_or("not compared")?;
            let (head, _) = item.split_once(",\"tags\":{").ok_or_else(|| format!("no tags: {item}"))?;
            let (head, t) = placeholders(head, raw);
            let mut tags: Vec<String> = object["tags"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| !is_excepted(k))
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("<not a string>")))
                        .collect()
                })
                .unwrap_or_default();
            tags.sort_unstable();
            Ok(Read {
                chart: chart.into(),
                key: metric.into(),
                shape: format!("{head},\"tags\":{{{}}}}}", tags.join(",")),
                timestamp: t,
            })
        }
        Kind::Json | Kind::JsonHttp => {
            let record: Json = serde_json::from_str(item).map_err(|e| format!("{e}: {item}"))?;
            let field = |k: &str| record[k].as_str().unwrap_or("").to_owned();
            let chart = CHARTS.iter().find(|c| field("chart_id") == **c).ok_or("not compared")?;
            let (mut shape, t) = placeholders(item, raw);
            for label in EXCEPT_LABELS {
                shape = strip_json_label(&shape, label);
            }
            Ok(Read {
                chart: (*chart).into(),
                key: format!("{} {} {}", field("chart_id"), field("id"), field("name")),
                shape,
                timestamp: t,
            })
        }
    }
}

fn is_excepted(label: &str) -> bool {
    EXCEPT_LABELS.contains(&label)
}

fn time_shape(t: &str) -> String {
    if t.parse::<i64>().is_ok() {
        "<t>".into()
    } else {
        format!("<not a timestamp {t:?}>")
    }
}

/// The JSON text `text` with the number after `"value":` and after `"timestamp":` (and its
/// optional space) replaced by placeholders; and the timestamp.
fn placeholders(text: &str, raw: bool) -> (String, Option<i64>) {
    let mut out = text.to_owned();
    let mut timestamp = None;
    for key in ["\"timestamp\":", "\"value\":"] {
        let Some(at) = out.rfind(key) else { continue };
        let start = at + key.len() + usize::from(out[at + key.len()..].starts_with(' '));
        let len = out[start..].find([',', '}']).unwrap_or(out.len() - start);
        let number = out[start..start + len].to_owned();
        let shape = if key == "\"value\":" {
            value_shape(&number, raw)
        } else {
            timestamp = number.parse().ok();
            time_shape(&number)
        };
        out.replace_range(start..start + len, &shape);
    }
    (out, timestamp)
}

/// `text` without the JSON member `"label":"…"` (and the comma that joined it).
fn strip_json_label(text: &str, label: &str) -> String {
    let key = format!("\"{label}\":\"");
    let Some(start) = text.find(&key) else { return text.to_owned() };
    let Some(len) = text[start + key.len()..].find('"') else { return text.to_owned() };
    let end = start + key.len() + len + 1;
    if text[..start].ends_with(',') {
        format!("{}{}", &text[..start - 1], &text[end..])
    } else if text[end..].starts_with(',') {
        format!("{}{}", &text[..start], &text[end + 1..])
    } else {
        format!("{}{}", &text[..start], &text[end..])
    }
}

/// Everything one sink of one agent sent for the compared charts.
fn collect(kind: Kind, sink: &Sink, raw: bool, charts: &BTreeSet<&str>) -> Sent {
    let mut sent = Sent::default();
    if matches!(kind, Kind::OpentsdbHttp | Kind::JsonHttp) {
        for (head, body) in sink.requests() {
            let mut lines = head.lines();
            sent.request_lines.insert(lines.next().unwrap_or("").to_owned());
            for h in lines {
                let (name, value) = h.split_once(':').unwrap_or((h, ""));
                let name = name.trim().to_ascii_lowercase();
                if name == "content-type" {
                    sent.content_types.insert(value.trim().to_owned());
                }
                sent.headers.insert(name);
            }
            if let Err(e) = array_objects(&body) {
                sent.requests.push(e);
            }
        }
    }
    for item in items(kind, sink).unwrap_or_default() {
        // Lines of other charts and unreadable ones: the byte-for-byte half reads Netdata's.
        let Ok(m) = read(kind, &item, raw) else { continue };
        if !charts.contains(m.chart.as_str()) {
            continue;
        }
        sent.shapes.entry(m.key).or_default().insert(m.shape);
        if let Some(t) = m.timestamp {
            sent.times.entry(m.chart).or_default().insert(t);
        }
    }
    sent
}

/// Compares every connector of `ours` (the nanodata daemon) with `theirs` (Netdata) over
/// `charts`; returns how many metrics were compared.
pub fn compare(theirs: &Case, ours: &Case, charts: &BTreeSet<&str>, logs: &str) -> usize {
    let raw = theirs.raw();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64;
    let mut compared = 0;
    let mut failures = Vec::new();
    for ((name, kind, every, their_sink), (_, _, _, our_sink)) in sinks(theirs).into_iter().zip(sinks(ours)) {
        let what = format!("[{}] {name}", theirs.source);
        let (t, o) = (collect(kind, their_sink, raw, charts), collect(kind, our_sink, raw, charts));
        if o.shapes.is_empty() {
            failures.push(format!("{what}: nanodata sent nothing of {charts:?}"));
            continue;
        }
        // The metrics.
        let (tk, ok): (BTreeSet<&String>, BTreeSet<&String>) =
            (t.shapes.keys().collect(), o.shapes.keys().collect());
        let only_theirs: Vec<_> = tk.difference(&ok).collect();
        let only_ours: Vec<_> = ok.difference(&tk).collect();
        if !only_theirs.is_empty() || !only_ours.is_empty() {
            failures.push(format!(
                "{what}: metrics only Netdata sent: {only_theirs:?}; only nanodata: {only_ours:?}"
            ));
        }
        // Their shapes.
        for key in tk.intersection(&ok) {
            if t.shapes[*key] != o.shapes[*key] {
                failures.push(format!(
                    "{what}: {key}\n  Netdata:  {:?}\n  nanodata: {:?}",
                    t.shapes[*key], o.shapes[*key]
                ));
            } else {
                compared += 1;
            }
        }
        // Timestamps: seconds of now; for `average`, a chart's on one second of each
        // `update every` of the instance, the same second for both agents.
        for (who, sent) in [("Netdata", &t), ("nanodata", &o)] {
            if let Some(bad) = sent.times.values().flatten().find(|&&ts| !(now - 600..=now + 2).contains(&ts))
            {
                failures.push(format!("{what}: {who} sent the timestamp {bad}, not seconds of now ({now})"));
            }
        }
        if !raw {
            let residues = |s: &Sent| -> BTreeMap<String, BTreeSet<i64>> {
                s.times
                    .iter()
                    .map(|(c, ts)| (c.clone(), ts.iter().map(|t| t.rem_euclid(every)).collect()))
                    .collect()
            };
            let (tr, or) = (residues(&t), residues(&o));
            if tr.values().chain(or.values()).any(|r| r.len() != 1) || tr != or {
                failures.push(format!(
                    "{what}: timestamps modulo {every} by chart: Netdata {tr:?}, nanodata {or:?}"
                ));
            }
        }
        // The HTTP requests.
        if matches!(kind, Kind::OpentsdbHttp | Kind::JsonHttp) {
            let want_line = BTreeSet::from(["POST /api/put HTTP/1.1".to_owned()]);
            let want_type = BTreeSet::from(["application/json".to_owned()]);
            for (who, sent) in [("Netdata", &t), ("nanodata", &o)] {
                if sent.request_lines != want_line || sent.content_types != want_type {
                    failures.push(format!(
                        "{what}: {who}'s request lines {:?} and Content-Types {:?}",
                        sent.request_lines, sent.content_types
                    ));
                }
                if !sent.requests.is_empty() {
                    failures.push(format!("{what}: {who}'s bodies: {:?}", sent.requests));
                }
            }
            let missing: Vec<_> = t.headers.difference(&o.headers).collect();
            if !missing.is_empty() {
                failures.push(format!("{what}: headers Netdata sends and nanodata does not: {missing:?}"));
            }
        }
    }
    // Timestamps and HTTP first: one line each, and the metrics' differences may be many.
    failures.sort_by_key(|f| !(f.contains("timestamp") || f.contains("request") || f.contains("header")));
    assert!(
        failures.is_empty(),
        "nanodata's daemon and Netdata sent different shapes ({} differences; the first 30):\n{}\n\n\
         exceptions allowed: {EXCEPTIONS:?}\n{logs}",
        failures.len(),
        failures.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
    compared
}
