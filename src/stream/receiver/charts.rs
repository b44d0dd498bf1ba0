//! The parent's chart of each child's connection, on its own host: one chart per child
//! host in the registry, `netdata.streaming_child_<hostname>` of context
//! [`CONTEXT`], family = the child's hostname, with two dimensions: `connected` (1 while a
//! STREAM connection of the child is up, else 0) and `seconds_since_data` (seconds since data
//! last came from the child; 0 while it arrives within the child's `update every` plus a
//! second of jitter). Netdata 1.37 has no such chart; the stock alarm
//! `streaming_child_disconnected` (health.d/streaming.conf) is bound to it.
//!
//! Guarantees: at most one chart per child the registry holds (the registry is bounded by
//! `max child hosts`); a child removed from the registry (orphan cleanup) has its chart
//! marked obsolete on the next tick, so `[db] cleanup obsolete charts after secs` frees it;
//! nothing is charted on a node without a database (`[db] mode = none`). No I/O and no clock:
//! the hub calls [`ChildCharts::collect`] once a second with the time.

use std::collections::HashMap;
use std::sync::Arc;

use crate::clock::USEC_PER_SEC;
use crate::db::MemoryMode;
use crate::rrd::{label_source, Chart, ChartMeta, ChartType, DimensionMeta, Host, Hosts, Label};

/// The context of every child's connection chart.
pub const CONTEXT: &str = "netdata.streaming_child";

/// The charts' type part, and the prefix of their id part.
const TYPE: &str = "netdata";
const ID_PREFIX: &str = "streaming_child_";
/// After `netdata.streaming_*` of the sender.
const PRIORITY: i64 = 130_040;

/// The chart id (`type.id`) Netdata would give `hostname` here: every character but ASCII
/// letters and digits, `.`, `_` and `-` becomes `_`, letters are lowercased.
pub fn chart_id(hostname: &str) -> String {
    let mut id = format!("{TYPE}.{ID_PREFIX}");
    id.extend(hostname.chars().map(|c| match c {
        'A'..='Z' => c.to_ascii_lowercase(),
        'a'..='z' | '0'..='9' | '.' | '_' | '-' => c,
        _ => '_',
    }));
    id
}

/// The connection charts of the children, by machine GUID.
#[derive(Default)]
pub struct ChildCharts {
    children: HashMap<String, ChildChart>,
    /// Collections so far: an entry not seen in the latest is of a removed child.
    tick: u64,
}

struct ChildChart {
    chart: Arc<Chart>,
    /// When data last came from the child (unix seconds), once seen.
    last_data: Option<i64>,
    /// The tick that last found the child in the registry.
    seen: u64,
}

impl ChildCharts {
    /// How many children have a chart.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// One collection at `now` (unix seconds) of every child in `hosts` onto localhost;
    /// `last_data` tells, for a connected child, when its receiver last got data. Charts of
    /// children no longer in the registry become obsolete.
    pub fn collect(&mut self, hosts: &Hosts, last_data: &dyn Fn(&Host) -> Option<i64>, now: i64) {
        let localhost = hosts.localhost();
        if localhost.settings().mode == MemoryMode::None {
            return;
        }
        let children = hosts.all();
        let now_ut = u64::try_from(now).unwrap_or(0).saturating_mul(USEC_PER_SEC);
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        for host in children.iter().skip(1) {
            let Some((reachable, since)) = host.child_connection() else { continue };
            if !self.children.contains_key(host.guid()) {
                let chart = define(localhost, host, &self.unique_id(host));
                self.children.insert(host.guid().to_owned(), ChildChart { chart, last_data: None, seen: 0 });
            }
            let Some(entry) = self.children.get_mut(host.guid()) else { continue };
            entry.seen = tick;
            if reachable {
                if let Some(t) = last_data(host) {
                    entry.last_data = Some(t);
                }
            }
            // Never seen sending: count from when it connected (or went away).
            let age = now.saturating_sub(entry.last_data.unwrap_or(since)).max(0);
            let expected = i64::from(host.settings().update_every.max(1)) + 1;
            let late = if age <= expected { 0 } else { age };
            let mut c = entry.chart.begin(now_ut, 0, false);
            c.set(0, i64::from(reachable));
            c.set(1, late);
            c.end();
        }
        self.children.retain(|_, entry| {
            let kept = entry.seen == tick;
            if !kept {
                let mut meta = entry.chart.meta();
                meta.options.obsolete = true;
                entry.chart.redefine(meta);
            }
            kept
        });
    }

    /// The chart id for `host`: from its hostname, unless another child's chart has it
    /// (children named alike, e.g. a fleet of `OpenWrt` routers), then suffixed with the
    /// start of the machine GUID (all of it if that is taken too).
    fn unique_id(&self, host: &Host) -> String {
        let taken = |id: &str| self.children.values().any(|c| c.chart.id() == id);
        let plain = chart_id(host.hostname());
        if !taken(&plain) {
            return plain;
        }
        let guid: String = host.guid().chars().filter(char::is_ascii_alphanumeric).collect();
        let short = format!("{plain}_{}", &guid[..guid.len().min(8)]);
        if !taken(&short) {
            return short;
        }
        format!("{plain}_{guid}")
    }
}

fn define(localhost: &Host, child: &Host, id: &str) -> Arc<Chart> {
    let name = child.hostname();
    let id_part = id.strip_prefix(TYPE).and_then(|s| s.strip_prefix('.')).unwrap_or(id);
    let mut meta = ChartMeta::new(TYPE, id_part)
        .title(&format!("Streaming connection of child {name}"))
        .units("status")
        .family(name)
        .context(CONTEXT)
        .chart_type(ChartType::Line)
        .priority(PRIORITY)
        .update_every(1)
        .source("netdata", "streaming");
    let source = label_source::AUTO | label_source::PERMANENT;
    meta.labels.push(Label { name: "child_hostname".into(), value: name.into(), source });
    meta.labels.push(Label { name: "child_machine_guid".into(), value: child.guid().into(), source });
    // A chart of a child that went and came back is revived by the redefinition.
    let chart = localhost.chart_define(meta);
    chart.dimension(DimensionMeta::new("connected"));
    chart.dimension(DimensionMeta::new("seconds_since_data"));
    chart
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rrd::{ChildStatus, HostSettings};

    const T0: i64 = 1_700_000_000;

    fn hosts(mode: MemoryMode) -> Hosts {
        Hosts::new(Host::new("p", "parent", HostSettings { mode, history: 60, ..HostSettings::default() }))
    }

    fn child(hosts: &Hosts, guid: &str, name: &str, since: i64) -> Arc<Host> {
        let h = hosts.add(Host::new(guid, name, HostSettings::default()));
        h.set_child_status(ChildStatus { reachable: true, hops: 1, since, ..ChildStatus::default() });
        h
    }

    /// The last stored value of a dimension (`None`: empty slot).
    fn last(chart: &Chart, dim: usize) -> Option<f64> {
        let points = chart.query(dim, 0, i64::MAX);
        points.last().and_then(|p| p.value)
    }

    #[test]
    fn ids_are_sanitised_like_netdata_chart_ids() {
        assert_eq!(chart_id("router-1"), "netdata.streaming_child_router-1");
        assert_eq!(chart_id("My Router.lan"), "netdata.streaming_child_my_router.lan");
        assert_eq!(chart_id("a/b:c=é"), "netdata.streaming_child_a_b_c__");
    }

    #[test]
    fn a_child_is_charted_connected_then_disconnected_then_obsolete() {
        let hosts = hosts(MemoryMode::Ram);
        let c = child(&hosts, "g1", "edge", T0);
        let mut charts = ChildCharts::default();
        let data = std::cell::Cell::new(Some(T0));
        let last_data = |_: &Host| data.get();
        for t in T0..T0 + 5 {
            data.set(Some(t));
            charts.collect(&hosts, &last_data, t);
        }
        let chart = hosts.localhost().chart("netdata.streaming_child_edge").expect("charted");
        let meta = chart.meta();
        assert_eq!(
            (meta.context.as_str(), meta.family.as_str(), meta.units.as_str()),
            (CONTEXT, "edge", "status")
        );
        assert!(meta.title.contains("edge"));
        assert_eq!(last(&chart, 0), Some(1.0));
        assert_eq!(last(&chart, 1), Some(0.0), "data every second");

        // Gone at T0+5 (last data at T0+4): 0 connected; late once past 1 s + 1 s of jitter.
        c.set_reachable(false, T0 + 5);
        data.set(None);
        charts.collect(&hosts, &last_data, T0 + 5);
        assert_eq!((last(&chart, 0), last(&chart, 1)), (Some(0.0), Some(0.0)));
        charts.collect(&hosts, &last_data, T0 + 6);
        assert_eq!(last(&chart, 1), Some(0.0), "2 s after the last data: within jitter");
        charts.collect(&hosts, &last_data, T0 + 7);
        assert_eq!(last(&chart, 1), Some(3.0));
        charts.collect(&hosts, &last_data, T0 + 8);
        assert_eq!((last(&chart, 0), last(&chart, 1)), (Some(0.0), Some(4.0)));

        // Orphan cleanup removes the host: its chart goes obsolete, and the entry with it.
        hosts.remove("g1");
        charts.collect(&hosts, &last_data, T0 + 9);
        assert!(chart.obsolete_since().is_some());
        assert!(charts.is_empty());

        // It comes back: the same chart id, live again.
        child(&hosts, "g1", "edge", T0 + 20);
        charts.collect(&hosts, &last_data, T0 + 20);
        let again = hosts.localhost().chart("netdata.streaming_child_edge").expect("charted");
        assert!(again.obsolete_since().is_none());
        assert_eq!(charts.len(), 1);
    }

    #[test]
    fn a_child_that_never_sent_counts_from_its_connection() {
        let hosts = hosts(MemoryMode::Ram);
        child(&hosts, "g1", "quiet", T0);
        let mut charts = ChildCharts::default();
        for t in T0..=T0 + 10 {
            charts.collect(&hosts, &|_| None, t);
        }
        let chart = hosts.localhost().chart("netdata.streaming_child_quiet").expect("charted");
        assert_eq!((last(&chart, 0), last(&chart, 1)), (Some(1.0), Some(10.0)));
    }

    #[test]
    fn children_named_alike_get_distinct_charts() {
        let hosts = hosts(MemoryMode::Ram);
        child(&hosts, "aaaaaaaa-1111-2222-3333-444444444444", "OpenWrt", T0);
        child(&hosts, "bbbbbbbb-1111-2222-3333-444444444444", "openwrt", T0);
        let mut charts = ChildCharts::default();
        charts.collect(&hosts, &|_| Some(T0), T0);
        let ids: Vec<String> = hosts.localhost().charts().iter().map(|c| c.id().to_owned()).collect();
        assert_eq!(ids, ["netdata.streaming_child_openwrt", "netdata.streaming_child_openwrt_bbbbbbbb"]);
    }

    #[test]
    fn nothing_is_charted_without_a_database_or_without_children() {
        let none = hosts(MemoryMode::None);
        child(&none, "g1", "edge", T0);
        let mut charts = ChildCharts::default();
        charts.collect(&none, &|_| Some(T0), T0);
        assert_eq!((none.localhost().chart_count(), charts.len()), (0, 0));

        let alone = hosts(MemoryMode::Ram);
        charts.collect(&alone, &|_| Some(T0), T0);
        assert_eq!(alone.localhost().chart_count(), 0);
    }
}
