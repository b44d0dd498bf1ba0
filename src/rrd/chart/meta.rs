//! What `CHART` and `DIMENSION` lines say: a chart's and a dimension's metadata, with
//! builder methods for the collectors.

use super::zero_is_one;
use crate::rrd::{label_source, Algorithm, ChartOptions, ChartType, DimensionOptions, Label};

/// Everything a `CHART` line says about a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartMeta {
    /// `type.id`.
    pub id: String,
    /// `type.name`; equal to `id` when the chart has no name of its own.
    pub name: String,
    pub title: String,
    pub units: String,
    pub family: String,
    pub context: String,
    pub chart_type: ChartType,
    pub priority: i64,
    pub update_every: u32,
    pub options: ChartOptions,
    pub plugin: String,
    pub module: String,
    pub labels: Vec<Label>,
}

impl ChartMeta {
    /// A chart `type.id` with Netdata's defaults for everything else: no name, empty title,
    /// units `unknown`, family = type, context = `type.id`, line, priority 1000, every 1 s.
    pub fn new(type_: &str, id: &str) -> ChartMeta {
        let full = format!("{type_}.{id}");
        ChartMeta {
            name: full.clone(),
            context: full.clone(),
            id: full,
            title: String::new(),
            units: "unknown".into(),
            family: type_.into(),
            chart_type: ChartType::Line,
            priority: 1000,
            update_every: 1,
            options: ChartOptions::default(),
            plugin: String::new(),
            module: String::new(),
            labels: Vec::new(),
        }
    }

    /// The part of the id before the first `.`.
    pub fn type_part(&self) -> &str {
        self.id.split_once('.').map_or(self.id.as_str(), |(t, _)| t)
    }

    pub fn title(mut self, v: &str) -> Self {
        self.title = v.into();
        self
    }
    pub fn units(mut self, v: &str) -> Self {
        self.units = v.into();
        self
    }
    pub fn family(mut self, v: &str) -> Self {
        self.family = v.into();
        self
    }
    pub fn context(mut self, v: &str) -> Self {
        self.context = v.into();
        self
    }
    pub fn chart_type(mut self, v: ChartType) -> Self {
        self.chart_type = v;
        self
    }
    pub fn priority(mut self, v: i64) -> Self {
        self.priority = v;
        self
    }
    pub fn update_every(mut self, v: u32) -> Self {
        self.update_every = v.max(1);
        self
    }
    pub fn detail(mut self) -> Self {
        self.options.detail = true;
        self
    }
    /// Sets plugin and module and the `_collect_plugin`/`_collect_module` labels Netdata adds.
    pub fn source(mut self, plugin: &str, module: &str) -> Self {
        self.plugin = plugin.into();
        self.module = module.into();
        let src = label_source::AUTO | label_source::PERMANENT;
        self.labels.retain(|l| l.name != "_collect_plugin" && l.name != "_collect_module");
        self.labels.push(Label { name: "_collect_plugin".into(), value: plugin.into(), source: src });
        // Netdata labels a chart without a module "[none]".
        let module_label = if module.is_empty() { "[none]" } else { module };
        self.labels.push(Label { name: "_collect_module".into(), value: module_label.into(), source: src });
        self
    }
}

/// Everything a `DIMENSION` line says about a dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct DimensionMeta {
    pub id: String,
    pub name: String,
    pub algorithm: Algorithm,
    pub multiplier: i64,
    pub divisor: i64,
    pub options: DimensionOptions,
}

impl DimensionMeta {
    /// A dimension named like its id: absolute, ×1 ÷1.
    pub fn new(id: &str) -> DimensionMeta {
        DimensionMeta {
            id: id.into(),
            name: id.into(),
            algorithm: Algorithm::Absolute,
            multiplier: 1,
            divisor: 1,
            options: DimensionOptions::default(),
        }
    }
    pub fn name(mut self, v: &str) -> Self {
        self.name = v.into();
        self
    }
    pub fn algorithm(mut self, v: Algorithm) -> Self {
        self.algorithm = v;
        self
    }
    /// Multiplier and divisor; 0 means 1, as in Netdata.
    pub fn scale(mut self, multiplier: i64, divisor: i64) -> Self {
        self.multiplier = zero_is_one(multiplier);
        self.divisor = zero_is_one(divisor);
        self
    }
    pub fn hidden(mut self) -> Self {
        self.options.hidden = true;
        self
    }
}
