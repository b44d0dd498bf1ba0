//! Chart definitions as data: a [`Look`] is everything of a `CHART` line but the chart's id
//! and family, and a [`Template`] is a chart repeated per device (one per disk, one per
//! network interface) with the dimensions each copy gets.
//!
//! Collectors write their charts as static tables of these and walk them; the code that
//! turns a row into chart metadata lives here once, so a new chart is a new row.

use std::sync::Arc;

use crate::rrd::{Algorithm, Chart, ChartMeta, ChartType, DimensionMeta, Host};

/// What every internal collector's charts say is their plugin.
pub const PLUGIN: &str = "proc.plugin";

/// How a chart looks: its `CHART` line but for the id and the family.
#[derive(Copy, Clone, Debug)]
pub struct Look {
    pub type_: &'static str,
    pub title: &'static str,
    pub units: &'static str,
    /// Empty: Netdata's default, `type.id`.
    pub context: &'static str,
    pub priority: i64,
    pub chart_type: ChartType,
    pub detail: bool,
}

impl Look {
    /// A line chart, not a detail one, of the default context.
    pub const fn new(type_: &'static str, title: &'static str, units: &'static str, priority: i64) -> Look {
        Look { type_, title, units, context: "", priority, chart_type: ChartType::Line, detail: false }
    }

    /// The metadata of chart `type.id` of `family`, collected by `module` of [`PLUGIN`].
    pub fn meta(&self, id: &str, family: &str, module: &str, update_every: u32) -> ChartMeta {
        let mut m = ChartMeta::new(self.type_, id)
            .title(self.title)
            .units(self.units)
            .family(family)
            .chart_type(self.chart_type)
            .priority(self.priority)
            .update_every(update_every)
            .source(PLUGIN, module);
        if !self.context.is_empty() {
            m = m.context(self.context);
        }
        if self.detail {
            m = m.detail();
        }
        m
    }
}

/// A chart each device gets, `type.<device>` in context `context`; `S` says where each
/// dimension's value comes from on the device's line.
pub struct Template<S: 'static> {
    pub look: Look,
    pub algorithm: Algorithm,
    /// Dimension id, multiplier, divisor and the value's source.
    pub dims: &'static [(&'static str, i64, i64, S)],
}

impl<S> Template<S> {
    /// An incremental line chart.
    pub const fn new(
        type_: &'static str,
        title: &'static str,
        units: &'static str,
        context: &'static str,
        priority: i64,
        dims: &'static [(&'static str, i64, i64, S)],
    ) -> Template<S> {
        let look = Look { context, ..Look::new(type_, title, units, priority) };
        Template { look, algorithm: Algorithm::Incremental, dims }
    }
    pub const fn area(self) -> Template<S> {
        Template { look: Look { chart_type: ChartType::Area, ..self.look }, ..self }
    }
    pub const fn detail(self) -> Template<S> {
        Template { look: Look { detail: true, ..self.look }, ..self }
    }
    pub const fn absolute(self) -> Template<S> {
        Template { algorithm: Algorithm::Absolute, ..self }
    }

    /// Defines the chart `meta` (from [`Look::meta`], labels added) with this template's
    /// dimensions.
    pub fn define(&self, host: &Host, meta: ChartMeta) -> Arc<Chart> {
        let chart = host.chart_define(meta);
        for &(id, mul, div, _) in self.dims {
            chart.dimension(DimensionMeta::new(id).algorithm(self.algorithm).scale(mul, div));
        }
        chart
    }
}

/// Marks the charts of a device that disappeared obsolete.
pub fn set_obsolete(charts: &[Option<Arc<Chart>>]) {
    for chart in charts.iter().flatten() {
        let mut meta = chart.meta();
        meta.options.obsolete = true;
        chart.redefine(meta);
    }
}
