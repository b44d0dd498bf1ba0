//! The parts kept across batches follow every change of what they are made of: the lines
//! of each batch are the ones written by hand from Netdata's formats for the state of that
//! batch.

use super::*;
use crate::exporting::format::{write_batch, Filters, Format, FormatOptions, Graphite, SendLabels};
use crate::exporting::names::NameSource;
use crate::exporting::source::Export;
use crate::rrd::{label_source, ChartMeta, DimensionMeta, Host, HostSettings, Hosts, Label};

const T: i64 = 1_700_000_000;

fn options() -> FormatOptions {
    FormatOptions { prefix: "netdata".into(), names: NameSource::Names, labels: SendLabels::default() }
}

fn role(value: &str) -> Vec<Label> {
    vec![Label { name: "role".into(), value: value.into(), source: label_source::CONFIG }]
}

/// A node and a child `child1` with chart `system.cpu` (dimension `user`); [`collect`]
/// collects it once a second from T + 1 to T + 60 with the value 5.
fn hosts() -> (Hosts, Arc<Host>, Arc<Chart>) {
    let settings = HostSettings { history: 120, ..HostSettings::default() };
    let hosts = Hosts::new(Host::new("g0", "me", settings.clone()));
    let child = hosts.add(Host::new("g1", "child1", settings));
    child.set_labels(role("edge"));
    let chart = child.chart_define(ChartMeta::new("system", "cpu").family("cpu").units("percentage"));
    chart.dimension(DimensionMeta::new("user"));
    (hosts, child, chart)
}

fn collect(chart: &Chart) {
    for s in 1..=60u64 {
        let mut c = chart.begin((T as u64 + s) * crate::clock::USEC_PER_SEC, 0, false);
        c.set(0, 5);
        c.end();
    }
}

fn text(f: &mut dyn Formatter, hosts: &Hosts, export: Export, filters: &Filters) -> String {
    let batch = Batch { export, filters, hostname: "me" };
    let mut out = Vec::new();
    write_batch(f, &mut out, hosts, &batch);
    String::from_utf8(out).expect("utf-8")
}

const COLLECTED: Export = Export { source: DataSource::AsCollected, after: T + 50, before: T + 60 };
/// The window (after, before) = (T + 50, T + 60) moved back by 2 × 1 s, its end cut by one
/// step: T + 48 … T + 57, stamped T + 57.
const AVERAGE: Export = Export { source: DataSource::Average, after: T + 50, before: T + 60 };

#[test]
fn graphite_lines_follow_renames_new_dimensions_and_label_changes() {
    let (hosts, child, chart) = hosts();
    collect(&chart);
    let only_child = Filters::new("!localhost *", "*");
    let mut f = Format::Graphite.formatter(options());
    let mut batch = || text(f.as_mut(), &hosts, COLLECTED, &only_child);
    assert_eq!(batch(), "netdata.child1.system.cpu.user;role=edge 5 1700000060\n");
    assert_eq!(batch(), "netdata.child1.system.cpu.user;role=edge 5 1700000060\n", "from the kept parts");
    chart.dimension(DimensionMeta::new("user").name("usr time"));
    assert_eq!(batch(), "netdata.child1.system.cpu.usr_time;role=edge 5 1700000060\n", "a dimension renamed");
    let mut meta = chart.meta();
    meta.name = "system.processor".into();
    chart.redefine(meta);
    assert_eq!(
        batch(),
        "netdata.child1.system.processor.usr_time;role=edge 5 1700000060\n",
        "the chart renamed"
    );
    child.set_labels(role("core 2"));
    assert_eq!(
        batch(),
        "netdata.child1.system.processor.usr_time;role=core_2 5 1700000060\n",
        "labels changed"
    );
    chart.dimension(DimensionMeta::new("system"));
    // Added after the collections: never collected, so nothing `as collected` until it is.
    assert_eq!(batch(), "netdata.child1.system.processor.usr_time;role=core_2 5 1700000060\n");
    let mut c = chart.begin((T as u64 + 61) * crate::clock::USEC_PER_SEC, 0, false);
    c.set(0, 6);
    c.set(1, 7);
    c.end();
    assert_eq!(
        batch(),
        "netdata.child1.system.processor.usr_time;role=core_2 6 1700000061\n\
         netdata.child1.system.processor.system;role=core_2 7 1700000061\n",
        "a dimension added"
    );
}

#[test]
fn json_records_follow_the_kind_of_value() {
    let (hosts, _child, chart) = hosts();
    collect(&chart);
    let only_child = Filters::new("!localhost *", "*");
    let mut f = Format::Json
        .formatter(FormatOptions { labels: SendLabels { configured: false, automatic: false }, ..options() });
    let head = "{\"prefix\":\"netdata\",\"hostname\":\"child1\",\"chart_id\":\"system.cpu\",\"chart_name\":\"system.cpu\",\
                \"chart_family\":\"cpu\",\"chart_context\":";
    let collected = format!(
        "{head}\"system.cpu\",\"chart_type\":\"system\",\"units\":\"percentage\",\"id\":\"user\",\"name\":\"user\",\
         \"value\":5,\"timestamp\":1700000060}}\n"
    );
    // Every stored value is 5; the window of an export at T + 60 ends at T + 57.
    let average = format!(
        "{head} \"system.cpu\",\"chart_type\":\"system\",\"units\": \"percentage\",\"id\":\"user\",\"name\":\"user\",\
         \"value\":5.0000000,\"timestamp\": 1700000057}}\n"
    );
    assert_eq!(text(f.as_mut(), &hosts, COLLECTED, &only_child), collected);
    assert_eq!(text(f.as_mut(), &hosts, AVERAGE, &only_child), average);
    assert_eq!(text(f.as_mut(), &hosts, COLLECTED, &only_child), collected);
}

#[test]
fn the_parts_of_charts_left_out_of_a_batch_are_dropped() {
    let (hosts, _child, chart) = hosts();
    collect(&chart);
    let mut f = Cached::new(Graphite::new(options()));
    let all = Filters::new("*", "*");
    assert_eq!(
        text(&mut f, &hosts, COLLECTED, &all),
        "netdata.child1.system.cpu.user;role=edge 5 1700000060\n"
    );
    assert_eq!(f.entries.len(), 1);
    assert_eq!(text(&mut f, &hosts, COLLECTED, &Filters::new("*", "disk.*")), "");
    assert_eq!(f.entries.len(), 0, "a chart the filter leaves out");
    text(&mut f, &hosts, COLLECTED, &all);
    assert_eq!(f.entries.len(), 1);
    drop(hosts);
    let (hosts, _child, chart) = self::hosts();
    collect(&chart);
    assert_eq!(
        text(&mut f, &hosts, COLLECTED, &all),
        "netdata.child1.system.cpu.user;role=edge 5 1700000060\n"
    );
    assert_eq!(f.entries.len(), 1, "the chart that is gone");
}
