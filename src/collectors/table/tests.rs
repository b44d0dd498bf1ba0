//! The table walker's tests, and the fixture helpers the collectors' tests share.

use std::path::PathBuf;

use super::*;
use crate::clock::USEC_PER_SEC;

use crate::rrd::HostSettings;

pub const T0: u64 = 1_700_000_000 * USEC_PER_SEC + USEC_PER_SEC / 2;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn host() -> Arc<Host> {
    Arc::new(Host::new(
        "00000000-0000-0000-0000-000000000001",
        "test",
        HostSettings { history: 60, ..HostSettings::default() },
    ))
}

/// A scratch directory unique to this test.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nanodata-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `c` over fixtures `names` (under `tests/fixtures/proc`) copied in turn to `target`,
/// one second apart from [`T0`].
pub fn drive(c: &mut dyn Collector, target: &std::path::Path, names: &[&str]) {
    for (i, f) in names.iter().enumerate() {
        std::fs::copy(fixture(&format!("proc/{f}")), target).unwrap();
        c.collect(T0 + i as u64 * USEC_PER_SEC).unwrap();
    }
}

/// The last stored value of dimension `dim` of chart `chart`.
pub fn last(host: &Host, chart: &str, dim: &str) -> Option<f64> {
    let c = host.chart(chart)?;
    let i = c.dimension_index(dim)?;
    c.query(i, 0, i64::MAX).last().and_then(|p| p.value)
}

pub fn approx(v: Option<f64>, want: f64) -> bool {
    v.is_some_and(|v| (v - want).abs() < 1e-3)
}

static SPECS: [Spec; 2] = [
    Spec::new("t", "a", "A", "x", "f", 1, &[Dim::inc("Ip", "InReceives", "received", 1)]),
    Spec::new("t", "b", "B", "x", "f", 2, &[Dim::abs("Tcp", "MaxConn", "max", 1)]).option("b"),
];

#[test]
fn pairs_are_found_by_name_and_auto_waits_for_non_zero() {
    let host = host();
    let table = Table::new(Arc::clone(&host), Some("m"), &[("f", &SPECS)], &|_, _| Mode::Auto, false, 1);
    let mut cols = Columns::default();
    let mut t = table;
    parse_pairs("Ip: Forwarding InReceives\nIp: 1 0\nTcp: MaxConn\nTcp: -1\n", &mut cols, &mut t);
    assert_eq!(t.values, [Some(0), Some(-1)]);
    t.publish(T0);
    assert!(host.chart("t.a").is_none(), "all zero: auto waits");
    assert!(host.chart("t.b").is_some());
    // Columns move: found by name again.
    t.clear();
    parse_pairs("Ip: InReceives Forwarding\nIp: 7 1\n", &mut cols, &mut t);
    assert_eq!(t.values, [Some(7), None]);
    t.publish(T0 + USEC_PER_SEC);
    assert!(host.chart("t.a").is_some());
}

#[test]
fn charts_of_one_switch_appear_together() {
    static PAIR: [Spec; 3] = [
        Spec::new("t", "icmp", "P", "x", "f", 1, &[Dim::inc("Icmp", "InMsgs", "received", 1)]).option("icmp"),
        Spec::new("t", "icmp_errors", "E", "x", "f", 2, &[Dim::inc("Icmp", "InErrors", "InErrors", 1)])
            .option("icmp"),
        Spec::new("t", "other", "O", "x", "f", 3, &[Dim::inc("Icmp", "OutRare", "rare", 1)]),
    ];
    let host = host();
    let mut t = Table::new(Arc::clone(&host), Some("m"), &[("f", &PAIR)], &|_, _| Mode::Auto, false, 1);
    parse_key_values("Icmp: InMsgs 0\nIcmp: InErrors 0\nIcmp: OutRare 0\n", &mut t);
    t.publish(T0);
    assert!(host.chart("t.icmp").is_none() && host.chart("t.icmp_errors").is_none());
    t.clear();
    parse_key_values("Icmp: InMsgs 3\nIcmp: InErrors 0\nIcmp: OutRare 0\n", &mut t);
    t.publish(T0 + USEC_PER_SEC);
    assert!(host.chart("t.icmp").is_some());
    assert!(host.chart("t.icmp_errors").is_some(), "its switch's packets are non-zero");
    assert!(host.chart("t.other").is_none(), "a chart of no switch waits for its own");
}

#[test]
fn switches_yes_and_no() {
    let host = host();
    let mode = |_: &str, s: &Spec| if s.option == "b" { Mode::No } else { Mode::Yes };
    let mut t = Table::new(Arc::clone(&host), Some("m"), &[("f", &SPECS)], &mode, false, 1);
    parse_key_values("Ip: InReceives 0\nTcp: MaxConn 5\n", &mut t);
    t.publish(T0);
    assert!(host.chart("t.a").is_some(), "yes shows zeros");
    assert!(host.chart("t.b").is_none(), "no never shows");
}

#[test]
fn signed_numbers() {
    assert_eq!(parse_signed("-1"), -1);
    assert_eq!(parse_signed("42"), 42);
    assert_eq!(parse_signed("x"), 0);
}

/// The counters of a `Section: names` / `Section: values` file as a reader independent of
/// the walker sees them.
fn pairs_of(text: &str) -> Vec<(String, String, i64)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for pair in lines.chunks(2) {
        let [header, values] = pair else { continue };
        let (section, names) = header.split_once(':').unwrap();
        let values = values.split_once(':').unwrap().1;
        for (n, v) in names.split_whitespace().zip(values.split_whitespace()) {
            out.push((section.to_owned(), n.to_owned(), v.parse::<i64>().unwrap()));
        }
    }
    out
}

/// The counters of a `SECTION: name value name value …` file.
fn key_values_of(text: &str) -> Vec<(String, String, i64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let (section, rest) = line.split_once(':').unwrap();
        let words: Vec<&str> = rest.split_whitespace().collect();
        for kv in words.chunks(2) {
            out.push((section.to_owned(), kv[0].to_owned(), kv[1].parse::<i64>().unwrap()));
        }
    }
    out
}

type Counters = [(String, String, i64)];

/// Checks every chart of `specs` against its row, and its last stored value against the
/// counters `before` and `after` (one second apart); returns how many non-zero values it
/// compared.
fn assert_walked(host: &Host, specs: &[Spec], module: &str, before: &Counters, after: &Counters) -> usize {
    let counter = |set: &Counters, d: &Dim| {
        set.iter().find(|(s, n, _)| s == d.section && n == d.field).map_or(0, |c| c.2)
    };
    let mut checked = 0;
    for spec in specs {
        let id = format!("{}.{}", spec.look.type_, spec.id);
        let chart = host.chart(&id).unwrap();
        let m = chart.meta();
        assert_eq!(
            (m.title.as_str(), m.units.as_str(), m.family.as_str(), m.priority, m.chart_type),
            (spec.look.title, spec.look.units, spec.family, spec.look.priority, spec.look.chart_type),
            "{id}"
        );
        assert_eq!(
            (m.options.detail, m.module.as_str(), m.plugin.as_str()),
            (spec.look.detail, module, PLUGIN)
        );
        let dims = chart.dimensions();
        assert_eq!(dims.len(), spec.dims.len(), "{id}");
        for (i, (got, want)) in dims.iter().zip(spec.dims).enumerate() {
            let multiplier = if want.pages { want.multiplier * page_size() } else { want.multiplier };
            assert_eq!(
                (got.id.as_str(), got.name.as_str(), got.algorithm, got.multiplier, got.divisor),
                (want.id, want.name, want.algorithm, multiplier, want.divisor),
                "{id}"
            );
            let raw = match want.algorithm {
                Algorithm::Incremental if counter(after, want) < counter(before, want) => continue,
                Algorithm::Incremental => counter(after, want) - counter(before, want),
                _ => counter(after, want),
            };
            let expect = raw as f64 * multiplier as f64 / want.divisor as f64;
            let stored = chart.query(i, 0, i64::MAX).last().and_then(|p| p.value);
            let near = stored.is_some_and(|v| (v - expect).abs() <= 1e-3 * expect.abs().max(1.0));
            assert!(near, "{id} {}: stored {stored:?}, the fixture says {expect}", want.id);
            checked += usize::from(expect != 0.0);
        }
    }
    checked
}

/// Runs `c` over fixtures `names` copied in turn to `target`, on whole seconds (so that the
/// values stored are the collected ones, not interpolated).
fn drive_whole_seconds(c: &mut dyn Collector, target: &Path, names: &[&str]) {
    for (i, f) in names.iter().enumerate() {
        std::fs::copy(fixture(&format!("proc/{f}")), target).unwrap();
        c.collect(T0 - USEC_PER_SEC / 2 + i as u64 * USEC_PER_SEC).unwrap();
    }
}

fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("proc/{name}"))).unwrap()
}

#[test]
fn the_walker_reproduces_a_fixture() {
    // Every chart of `/proc/net/snmp` and `/proc/net/sockstat`, forced on: each chart and
    // dimension is what its table row says, and each last stored value is the counter's
    // rate over the last second (incremental) or its value (absolute), scaled as the row
    // says, computed here from the fixture text by readers of their own. (A counter that
    // wraps is left to the test of wraps.)
    let dir = scratch("walker");
    std::fs::create_dir_all(dir.join("proc/net")).unwrap();
    let host = host();
    let options = crate::collectors::net_netstat::Options { netstat: false, snmp: true, snmp6: false };
    let mut c = keyed(Arc::clone(&host), &dir, &options, &|_, _| Mode::Yes, false, 1);
    drive_whole_seconds(&mut c, &dir.join("proc/net/snmp"), &["net_snmp.1", "net_snmp.2"]);
    let (before, after) = (pairs_of(&read_fixture("net_snmp.1")), pairs_of(&read_fixture("net_snmp.2")));
    let specs = &crate::collectors::net_snmp::CHARTS;
    assert_eq!(host.chart_count(), specs.len());
    let module = crate::collectors::net_netstat::MODULE;
    let snmp = assert_walked(&host, specs, module, &before, &after);

    let host = self::host();
    let options = crate::collectors::net_sockstat::Options { sockstat: true, sockstat6: false };
    let mut c = keyed(Arc::clone(&host), &dir, &options, &|_, _| Mode::Yes, false, 1);
    let name = "net_sockstat.real-x86_64";
    drive_whole_seconds(&mut c, &dir.join("proc/net/sockstat"), &[name, name]);
    let counters = key_values_of(&read_fixture(name));
    let specs = &crate::collectors::net_sockstat::CHARTS;
    assert_eq!(host.chart_count(), specs.len());
    let sockstat = assert_walked(&host, specs, "/proc/net/sockstat", &counters, &counters);
    assert!(snmp >= 5 && sockstat >= 5, "only {snmp} + {sockstat} non-zero values compared");
    std::fs::remove_dir_all(&dir).unwrap();
}
