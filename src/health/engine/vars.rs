//! The variables an alarm's expressions see, in Netdata's lookup order (protocol.md §9.1):
//! `$this`, `$after`, `$before`, `$now`, `$status` and the status constants; the chart's
//! variables (`last_collected_t`, `green`, `red`, `update_every`, each dimension by id and by
//! name — its last stored value —, `<dim>_raw`, `<dim>_last_collected_t`, the chart's custom
//! variables (`VARIABLE CHART`), the other alarms of the chart by name); the family's
//! (dimensions and alarms of the charts of the same family, `<context>.<dim>`); the host's
//! (`<chart id or name>.<dim, alarm or custom chart variable>`, then the host's custom
//! variables: `VARIABLE HOST`, `active_processors`, `netfilter_conntrack_max`, …).
//!
//! Values are read when asked for, each with one short chart lock.

use std::sync::Arc;

use super::alarm::{Alarm, ChartKey};
use super::status::Status;
use crate::clock::USEC_PER_SEC;
use crate::health::expr::Vars;
use crate::rrd::{Chart, Host};

/// The variables of one alarm's evaluation.
pub struct AlarmVars<'a> {
    pub this: &'a Alarm,
    /// Every alarm of the host (the one evaluated included).
    pub alarms: &'a [Alarm],
    /// Every usable chart of the host.
    pub charts: &'a [(Arc<Chart>, ChartKey)],
    /// The host, for its custom variables.
    pub host: &'a Host,
    pub now: i64,
}

impl Vars for AlarmVars<'_> {
    fn get(&self, name: &str) -> Option<f64> {
        let a = self.this;
        let special = match name {
            "this" => Some(a.value),
            "after" => Some(a.db_after as f64),
            "before" => Some(a.db_before as f64),
            "now" => Some(self.now as f64),
            "status" => Some(a.status.value()),
            _ => Status::parse(name).filter(|s| *s != Status::Raised).map(Status::value),
        };
        if special.is_some() {
            return special;
        }
        // The chart's.
        match name {
            "green" => return Some(a.config.green.unwrap_or(f64::NAN)),
            "red" => return Some(a.config.red.unwrap_or(f64::NAN)),
            "update_every" => return Some(f64::from(a.chart.update_every())),
            "last_collected_t" => {
                return Some(a.chart.with_view(|v, _| (v.last_collected_ut() / USEC_PER_SEC) as f64))
            }
            _ => {}
        }
        if let Some(v) = dimension(&a.chart, name) {
            return Some(v);
        }
        if let Some(v) = a.chart.variable(name) {
            return Some(v);
        }
        let same_chart = |o: &&Alarm| Arc::ptr_eq(&o.chart, &a.chart);
        if let Some(o) = self.alarms.iter().filter(same_chart).find(|o| o.name() == name) {
            return Some(o.value);
        }
        // The family's.
        let family = &a.key.family;
        for (chart, _) in self.charts.iter().filter(|(c, k)| &k.family == family && !Arc::ptr_eq(c, &a.chart))
        {
            if let Some(v) = dimension(chart, name) {
                return Some(v);
            }
        }
        for (chart, key) in self.charts.iter().filter(|(_, k)| &k.family == family) {
            if let Some(dim) = name.strip_prefix(key.context.as_str()).and_then(|r| r.strip_prefix('.')) {
                if let Some(v) = dimension(chart, dim) {
                    return Some(v);
                }
            }
        }
        if let Some(o) = self.alarms.iter().filter(|o| &o.key.family == family).find(|o| o.name() == name) {
            return Some(o.value);
        }
        // The host's: `<chart id or name>.<dimension or alarm>`.
        for (at, _) in name.match_indices('.') {
            let (chart_key, rest) = (&name[..at], &name[at + 1..]);
            let Some((chart, _)) = self.charts.iter().find(|(_, k)| k.id == chart_key || k.name == chart_key)
            else {
                continue;
            };
            if let Some(v) = dimension(chart, rest) {
                return Some(v);
            }
            if let Some(o) = self.alarms.iter().find(|o| Arc::ptr_eq(&o.chart, chart) && o.name() == rest) {
                return Some(o.value);
            }
            if let Some(v) = chart.variable(rest) {
                return Some(v);
            }
        }
        self.host.variable(name)
    }
}

/// A dimension variable of `chart`: `<dim>` (last stored value), `<dim>_raw` (last
/// collected integer), `<dim>_last_collected_t`; by id or by name.
fn dimension(chart: &Chart, name: &str) -> Option<f64> {
    chart.with_view(|v, _| {
        let is = |d: &crate::rrd::DimView<'_>, n: &str| d.meta().id == n || d.meta().name == n;
        if let Some(d) = v.dimensions().find(|d| is(d, name)) {
            return Some(d.last_stored_value());
        }
        if let Some(base) = name.strip_suffix("_raw") {
            if let Some(d) = v.dimensions().find(|d| is(d, base)) {
                return Some(d.last_collected_value() as f64);
            }
        }
        if let Some(base) = name.strip_suffix("_last_collected_t") {
            if let Some(d) = v.dimensions().find(|d| is(d, base)) {
                return Some((d.last_collected_ut() / USEC_PER_SEC) as f64);
            }
        }
        None
    })
}
