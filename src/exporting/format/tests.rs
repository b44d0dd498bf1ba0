//! Each format against lines written by hand from Netdata 1.37's format strings
//! (protocol.md §10): names and ids, sanitising, tags and labels, `%0.7f` and integers.

use super::*;
use crate::exporting::source::{DataSource, Metric, Value};
use crate::rrd::{label_source, ChartMeta, ChildStatus, DimensionMeta, Host, HostSettings, Hosts, Label};

const T: i64 = 1_700_000_000;

fn chart() -> ChartMeta {
    let mut c = ChartMeta::new("net", "eth0-1").family("eth0-1").context("net.net").units("kilobits/s");
    c.name = "net.lan side".into();
    c
}

fn dims() -> (DimensionMeta, DimensionMeta) {
    (DimensionMeta::new("received").name("in put"), DimensionMeta::new("sent/x").name("out"))
}

/// As configured: Netdata stores `room` as `lab 1:a_b` and `rack` as `r:2` (its label
/// rules), and each connector writes what is stored.
fn labels() -> Vec<Label> {
    let l = |name: &str, value: &str, source| Label { name: name.into(), value: value.into(), source };
    vec![
        l("_os_name", "Debian GNU/Linux", label_source::AUTO),
        l("room", "lab 1;a~b", label_source::CONFIG),
        l("rack", "r=2", label_source::CONFIG),
    ]
}

fn options(names: NameSource, labels: SendLabels) -> FormatOptions {
    FormatOptions { prefix: "netdata".into(), names, labels }
}

/// One batch of `values` (one per dimension of [`dims`]) of host `router`.
fn batch(format: Format, opts: FormatOptions, tags: &str, values: &[(Value, i64)]) -> String {
    let (c, (d0, d1)) = (chart(), dims());
    let labels = labels();
    let mut f = format.formatter(opts);
    let mut out = Vec::new();
    f.begin_batch(&mut out);
    f.begin_host(&HostInfo { hostname: "router", tags, labels: &labels });
    for (dim, (value, timestamp)) in [&d0, &d1].into_iter().zip(values) {
        f.metric(&mut out, &Metric { chart: &c, dimension: dim, value: *value, timestamp: *timestamp });
    }
    f.end_batch(&mut out);
    String::from_utf8(out).expect("utf-8")
}

fn stored() -> Vec<(Value, i64)> {
    vec![(Value::Stored(1.5), T), (Value::Stored(-0.000_000_06), T)]
}

fn collected() -> Vec<(Value, i64)> {
    vec![(Value::Collected(-42), T + 3), (Value::Collected(9_000_000_000), T + 4)]
}

const CONFIGURED: SendLabels = SendLabels { configured: true, automatic: false };
const AUTOMATIC: SendLabels = SendLabels { configured: false, automatic: true };
const NO_LABELS: SendLabels = SendLabels { configured: false, automatic: false };
const ALL_LABELS: SendLabels = SendLabels { configured: true, automatic: true };

#[test]
fn graphite_lines() {
    let got = batch(Format::Graphite, options(NameSource::Names, CONFIGURED), "", &stored());
    assert_eq!(
        got,
        "netdata.router.net.lan_side.in_put;room=lab_1:a_b;rack=r:2 1.5000000 1700000000\n\
         netdata.router.net.lan_side.out;room=lab_1:a_b;rack=r:2 -0.0000001 1700000000\n"
    );
    let got = batch(Format::Graphite, options(NameSource::Ids, AUTOMATIC), "dc=eu", &collected());
    assert_eq!(
        got,
        "netdata.router.net.eth0_1.received;dc=eu;_os_name=Debian_GNU/Linux -42 1700000003\n\
         netdata.router.net.eth0_1.sent_x;dc=eu;_os_name=Debian_GNU/Linux 9000000000 1700000004\n"
    );
    let got = batch(Format::Graphite, options(NameSource::Names, NO_LABELS), "", &collected()[..1]);
    assert_eq!(got, "netdata.router.net.lan_side.in_put -42 1700000003\n");
}

#[test]
fn labels_are_written_as_netdata_stores_them() {
    // Netdata 1.37.1 with `[host labels]` `Zone Name = (a)[b]`, `@@ = x`: the name is lower
    // case with `_` for the space, `[`/`]` become `_`, and `@@` (all `_`) is not stored.
    let l = |name: &str, value: &str| Label {
        name: name.into(),
        value: value.into(),
        source: label_source::CONFIG,
    };
    let labels = [l("Zone Name", "(a)[b]"), l("@@", "x"), l("e", "")];
    let (c, (d0, _)) = (chart(), dims());
    let mut out = Vec::new();
    for format in [Format::Graphite, Format::OpentsdbTelnet, Format::Json] {
        let mut f = format.formatter(options(NameSource::Ids, CONFIGURED));
        f.begin_host(&HostInfo { hostname: "h", tags: "", labels: &labels });
        f.metric(&mut out, &Metric { chart: &c, dimension: &d0, value: Value::Collected(1), timestamp: T });
    }
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "netdata.h.net.eth0_1.received;zone_name=(a)_b_;e=[none] 1 1700000000\n\
         put netdata.net.eth0_1.received 1700000000 1 host=h zone_name=_a__b_ e=_none_\n\
         {\"prefix\":\"netdata\",\"hostname\":\"h\",\"labels\":{\"zone_name\":\"(a)_b_\",\"e\":\"[none]\"},\
         \"chart_id\":\"net.eth0-1\",\"chart_name\":\"net.lan side\",\"chart_family\":\"eth0-1\",\"chart_context\":\"net.net\",\
         \"chart_type\":\"net\",\"units\":\"kilobits/s\",\"id\":\"received\",\"name\":\"in put\",\"value\":1,\"timestamp\":1700000000}\n"
    );
}

#[test]
fn no_label_part_when_no_label_passes() {
    // Netdata would write `…in_put; 2.0…`, `host=h ` and `"host":"h",}` here.
    let (c, (d, _)) = (chart(), dims());
    let only_auto = [Label { name: "_a".into(), value: "1".into(), source: label_source::AUTO }];
    for (format, want) in [
        (Format::Graphite, "netdata.h.net.lan_side.in_put 2.0000000 1700000000\n"),
        (Format::OpentsdbTelnet, "put netdata.net.lan_side.in_put 1700000000 2.0000000 host=h\n"),
        (
            Format::OpentsdbHttp,
            "[\n{\"metric\":\"netdata.net.lan_side.in_put\",\"timestamp\":1700000000,\"value\":2.0000000,\"tags\":{\"host\":\"h\"}}\n]\n",
        ),
    ] {
        for labels in [&[][..], &only_auto[..]] {
            let mut f = format.formatter(options(NameSource::Names, CONFIGURED));
            let mut out = Vec::new();
            f.begin_batch(&mut out);
            f.begin_host(&HostInfo { hostname: "h", tags: "", labels });
            f.metric(&mut out, &Metric { chart: &c, dimension: &d, value: Value::Stored(2.0), timestamp: T });
            f.end_batch(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{format:?}");
        }
    }
}

#[test]
fn opentsdb_telnet_lines() {
    let got = batch(Format::OpentsdbTelnet, options(NameSource::Names, CONFIGURED), "", &stored());
    assert_eq!(
        got,
        "put netdata.net.lan_side.in_put 1700000000 1.5000000 host=router room=lab_1_a_b rack=r_2\n\
         put netdata.net.lan_side.out 1700000000 -0.0000001 host=router room=lab_1_a_b rack=r_2\n"
    );
    let got = batch(Format::OpentsdbTelnet, options(NameSource::Ids, ALL_LABELS), "dc=eu", &collected());
    assert_eq!(
        got,
        "put netdata.net.eth0_1.received 1700000003 -42 host=router dc=eu _os_name=Debian_GNU/Linux room=lab_1_a_b rack=r_2\n\
         put netdata.net.eth0_1.sent_x 1700000004 9000000000 host=router dc=eu _os_name=Debian_GNU/Linux room=lab_1_a_b rack=r_2\n"
    );
    let got = batch(Format::OpentsdbTelnet, options(NameSource::Names, NO_LABELS), "", &collected()[..1]);
    assert_eq!(got, "put netdata.net.lan_side.in_put 1700000003 -42 host=router\n");
}

#[test]
fn opentsdb_http_array() {
    let got = batch(Format::OpentsdbHttp, options(NameSource::Names, CONFIGURED), "", &stored());
    assert_eq!(
        got,
        "[\n\
         {\"metric\":\"netdata.net.lan_side.in_put\",\"timestamp\":1700000000,\"value\":1.5000000,\"tags\":{\"host\":\"router\",\"room\":\"lab_1_a_b\",\"rack\":\"r_2\"}},\n\
         {\"metric\":\"netdata.net.lan_side.out\",\"timestamp\":1700000000,\"value\":-0.0000001,\"tags\":{\"host\":\"router\",\"room\":\"lab_1_a_b\",\"rack\":\"r_2\"}}\n\
         ]\n"
    );
    // Tags go inside the host tag's value, as Netdata writes them.
    let got = batch(Format::OpentsdbHttp, options(NameSource::Ids, NO_LABELS), "dc=eu", &collected()[..1]);
    assert_eq!(
        got,
        "[\n{\"metric\":\"netdata.net.eth0_1.received\",\"timestamp\":1700000003,\"value\":-42,\"tags\":{\"host\":\"router dc=eu\"}}\n]\n"
    );
    let v: serde_json::Value = serde_json::from_str(&batch(
        Format::OpentsdbHttp,
        options(NameSource::Names, CONFIGURED),
        "",
        &stored(),
    ))
    .expect("valid JSON");
    assert_eq!(v[1]["tags"]["rack"], "r_2");
}

#[test]
fn json_records() {
    let got = batch(Format::Json, options(NameSource::Names, CONFIGURED), "", &stored()[..1]);
    assert_eq!(
        got,
        "{\"prefix\":\"netdata\",\"hostname\":\"router\",\"labels\":{\"room\":\"lab 1:a_b\",\"rack\":\"r:2\"},\
         \"chart_id\":\"net.eth0-1\",\"chart_name\":\"net.lan side\",\"chart_family\":\"eth0-1\",\
         \"chart_context\": \"net.net\",\"chart_type\":\"net\",\"units\": \"kilobits/s\",\
         \"id\":\"received\",\"name\":\"in put\",\"value\":1.5000000,\"timestamp\": 1700000000}\n"
    );
    // As collected: no spaces after the colons; names do not change JSON records.
    let got = batch(Format::Json, options(NameSource::Ids, NO_LABELS), "dc=eu", &collected());
    assert_eq!(
        got,
        "{\"prefix\":\"netdata\",\"hostname\":\"router\",\"host_tags\":\"dc=eu\",\
         \"chart_id\":\"net.eth0-1\",\"chart_name\":\"net.lan side\",\"chart_family\":\"eth0-1\",\
         \"chart_context\":\"net.net\",\"chart_type\":\"net\",\"units\":\"kilobits/s\",\
         \"id\":\"received\",\"name\":\"in put\",\"value\":-42,\"timestamp\":1700000003}\n\
         {\"prefix\":\"netdata\",\"hostname\":\"router\",\"host_tags\":\"dc=eu\",\
         \"chart_id\":\"net.eth0-1\",\"chart_name\":\"net.lan side\",\"chart_family\":\"eth0-1\",\
         \"chart_context\":\"net.net\",\"chart_type\":\"net\",\"units\":\"kilobits/s\",\
         \"id\":\"sent/x\",\"name\":\"out\",\"value\":9000000000,\"timestamp\":1700000004}\n"
    );
    // Tags that are JSON are written as JSON.
    let got = batch(Format::Json, options(NameSource::Ids, AUTOMATIC), "{\"dc\":\"eu\"}", &collected()[..1]);
    assert!(
        got.starts_with(
            "{\"prefix\":\"netdata\",\"hostname\":\"router\",\"host_tags\":{\"dc\":\"eu\"},\
             \"labels\":{\"_os_name\":\"Debian GNU/Linux\"},\"chart_id\""
        ),
        "{got}"
    );
    let v: serde_json::Value = serde_json::from_str(got.trim_end()).expect("valid JSON");
    assert_eq!(v["host_tags"]["dc"], "eu");
}

#[test]
fn json_http_array() {
    let got = batch(Format::JsonHttp, options(NameSource::Names, NO_LABELS), "", &collected());
    let rec = |id: &str, name: &str, value: &str, t: i64| {
        format!(
            "{{\"prefix\":\"netdata\",\"hostname\":\"router\",\"chart_id\":\"net.eth0-1\",\
             \"chart_name\":\"net.lan side\",\"chart_family\":\"eth0-1\",\"chart_context\":\"net.net\",\
             \"chart_type\":\"net\",\"units\":\"kilobits/s\",\"id\":\"{id}\",\"name\":\"{name}\",\
             \"value\":{value},\"timestamp\":{t}}}"
        )
    };
    let want = format!(
        "[\n{},\n{}\n]\n",
        rec("received", "in put", "-42", T + 3),
        rec("sent/x", "out", "9000000000", T + 4)
    );
    assert_eq!(got, want);
    let v: serde_json::Value = serde_json::from_str(&got).expect("valid JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    // An empty batch is still an array.
    let mut f = Format::JsonHttp.formatter(options(NameSource::Names, NO_LABELS));
    let mut out = Vec::new();
    f.begin_batch(&mut out);
    f.end_batch(&mut out);
    assert_eq!(out, b"[\n\n]\n");
}

#[test]
fn json_strings_are_escaped() {
    let (mut c, d) = (chart(), DimensionMeta::new("a"));
    c.units = "\"q\"".into();
    let mut f = Format::Json.formatter(options(NameSource::Names, NO_LABELS));
    let mut out = Vec::new();
    f.begin_host(&HostInfo { hostname: "h", tags: "", labels: &[] });
    f.metric(&mut out, &Metric { chart: &c, dimension: &d, value: Value::Collected(1), timestamp: T });
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["units"], "\"q\"");
}

#[test]
fn host_and_chart_filters() {
    let f = Filters::default();
    assert!(f.host("anything", true) && f.host("child1", false));
    let f = Filters::new("localhost !child* *", "system.* !*");
    assert!(f.host("child1", true), "the node itself is matched as `localhost`");
    assert!(!f.host("child1", false));
    assert!(f.host("other", false));
    let mut c = ChartMeta::new("disk", "sda");
    assert!(!f.chart(&c));
    c.name = "system.root".into();
    assert!(f.chart(&c), "matched by name");
    assert!(f.chart(&ChartMeta::new("system", "cpu")), "matched by id");
    let f = Filters::new("", "");
    assert!(f.host("x", false), "no hosts pattern: every host");
    assert!(!f.chart(&ChartMeta::new("system", "cpu")), "no charts pattern: no chart");
}

#[test]
fn a_batch_covers_every_host_with_its_own_name_tags_and_labels() {
    let settings = HostSettings { history: 60, ..HostSettings::default() };
    let hosts = Hosts::new(Host::new("g0", "me", settings.clone()));
    let child = hosts.add(Host::new("g1", "child1", settings));
    child.set_child_status(ChildStatus { tags: "dc=eu".into(), ..ChildStatus::default() });
    child.set_labels(vec![Label { name: "role".into(), value: "edge".into(), source: label_source::CONFIG }]);
    for (i, h) in [hosts.localhost(), &child].into_iter().enumerate() {
        for id in ["cpu", "skip"] {
            let c = h.chart_define(ChartMeta::new("system", id));
            c.dimension(DimensionMeta::new("user"));
            let mut col = c.begin((T as u64 + 1) * crate::clock::USEC_PER_SEC, 0, false);
            col.set(0, 10 + i as i64);
            col.end();
        }
    }
    let filters = Filters::new("localhost *", "system.cpu");
    let batch = Batch {
        export: Export { source: DataSource::AsCollected, after: T, before: T + 10 },
        filters: &filters,
        hostname: "node-name",
    };
    let mut f = Format::Graphite.formatter(options(NameSource::Names, CONFIGURED));
    let mut out = Vec::new();
    let n = write_batch(f.as_mut(), &mut out, &hosts, &batch);
    assert_eq!(n, 2);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "netdata.node-name.system.cpu.user 10 1700000001\n\
         netdata.child1.system.cpu.user;dc=eu;role=edge 11 1700000001\n"
    );
}
