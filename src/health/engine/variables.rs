//! The variables of one chart as `/api/v1/alarm_variables` lists them (Netdata 1.37
//! names): the chart's own (`last_collected_t`, `green`, `red`, `update_every`, its
//! alarms by name, each dimension `<dim>`, `<dim>_raw`, `<dim>_last_collected_t` by id and
//! by name, its custom variables), its family's (every chart of the same family:
//! `<chart>.<var>`, alarms by name, dimensions plain and as `<context>.<dim>`), and the
//! host's (`<chart id or name>.<var, dim or alarm>`, then the host's custom variables). The first of two equal names wins, as in Netdata's
//! dictionaries. These are the names the expression resolver (`vars`) answers.

use std::collections::HashSet;
use std::sync::Arc;

use crate::clock::USEC_PER_SEC;
use crate::rrd::{Chart, Host};

/// One chart's variables, each list in Netdata's order (NaN: no value).
#[derive(Clone, Debug, Default)]
pub struct ChartVariables {
    pub chart: String,
    pub chart_name: String,
    pub chart_context: String,
    pub family: String,
    pub host: String,
    pub chart_variables: Vec<(String, f64)>,
    pub family_variables: Vec<(String, f64)>,
    pub host_variables: Vec<(String, f64)>,
}

/// A list that keeps the first value of each name.
#[derive(Default)]
struct Vars {
    seen: HashSet<String>,
    list: Vec<(String, f64)>,
}

impl Vars {
    fn add(&mut self, name: String, v: f64) {
        if self.seen.insert(name.clone()) {
            self.list.push((name, v));
        }
    }
}

/// A dimension's id, name and its three variables (suffix, value).
type DimVars = (String, String, [(&'static str, f64); 3]);

/// What one chart contributes.
struct Facts {
    id: String,
    name: String,
    family: String,
    context: String,
    /// `last_collected_t`, `green`, `red`, `update_every`.
    base: [(&'static str, f64); 4],
    /// Per dimension: (id, name, [(suffix, value)]).
    dims: Vec<DimVars>,
    /// The chart's alarms: (name, value).
    alarms: Vec<(String, f64)>,
    /// The chart's custom variables: (name, value).
    custom: Vec<(String, f64)>,
}

fn facts(chart: &Arc<Chart>, alarms: &[(String, String, f64)]) -> Facts {
    let m = chart.meta();
    let (last, dims, custom) = chart.with_view(|v, _| {
        let dims = v
            .dimensions()
            .map(|d| {
                let dm = d.meta();
                let values = [
                    ("", d.last_stored_value()),
                    ("_raw", d.last_collected_value() as f64),
                    ("_last_collected_t", (d.last_collected_ut() / USEC_PER_SEC) as f64),
                ];
                (dm.id.clone(), dm.name.clone(), values)
            })
            .collect();
        let custom = v.variables().iter().map(|(n, x)| (n.to_owned(), x)).collect();
        ((v.last_collected_ut() / USEC_PER_SEC) as f64, dims, custom)
    });
    Facts {
        base: [
            ("last_collected_t", last),
            ("green", f64::NAN),
            ("red", f64::NAN),
            ("update_every", f64::from(m.update_every)),
        ],
        alarms: alarms.iter().filter(|(c, _, _)| *c == m.id).map(|(_, n, v)| (n.clone(), *v)).collect(),
        dims,
        custom,
        id: m.id,
        name: m.name,
        family: m.family,
        context: m.context,
    }
}

/// The variables of `chart` (id or name) of `host`; `alarms` are the host's (chart id,
/// alarm name, value).
pub fn list(host: &Host, chart: &str, alarms: &[(String, String, f64)]) -> Option<ChartVariables> {
    let target = host.chart_by_id_or_name(chart)?;
    let all: Vec<Facts> = host.charts().iter().map(|c| facts(c, alarms)).collect();
    let me = facts(&target, alarms);

    let mut chart_vars = Vars::default();
    for (n, v) in me.base {
        chart_vars.add(n.to_owned(), v);
    }
    for (n, v) in &me.alarms {
        chart_vars.add(n.clone(), *v);
    }
    for (id, name, values) in &me.dims {
        for (suffix, v) in values {
            chart_vars.add(format!("{id}{suffix}"), *v);
            chart_vars.add(format!("{name}{suffix}"), *v);
        }
    }
    for (n, v) in &me.custom {
        chart_vars.add(n.clone(), *v);
    }

    let mut family = Vars::default();
    for f in all.iter().filter(|f| f.family == me.family) {
        for (n, v) in f.base {
            family.add(format!("{}.{n}", f.id), v);
            family.add(format!("{}.{n}", f.name), v);
        }
        for (n, v) in &f.custom {
            family.add(format!("{}.{n}", f.id), *v);
            family.add(format!("{}.{n}", f.name), *v);
        }
        for (n, v) in &f.alarms {
            family.add(n.clone(), *v);
        }
        for (id, name, values) in &f.dims {
            for (suffix, v) in values {
                family.add(format!("{id}{suffix}"), *v);
                family.add(format!("{name}{suffix}"), *v);
                family.add(format!("{}.{id}{suffix}", f.context), *v);
                family.add(format!("{}.{name}{suffix}", f.context), *v);
            }
        }
    }

    let mut host_vars = Vars::default();
    for f in &all {
        for prefix in [&f.id, &f.name] {
            for (n, v) in f.base {
                host_vars.add(format!("{prefix}.{n}"), v);
            }
            for (n, v) in f.alarms.iter().chain(&f.custom) {
                host_vars.add(format!("{prefix}.{n}"), *v);
            }
        }
        for (id, name, values) in &f.dims {
            for (suffix, v) in values {
                for prefix in [&f.id, &f.name] {
                    host_vars.add(format!("{prefix}.{id}{suffix}"), *v);
                    host_vars.add(format!("{prefix}.{name}{suffix}"), *v);
                }
            }
        }
    }

    host.with_variables(|vars| {
        for (n, v) in vars.iter() {
            host_vars.add(n.to_owned(), v);
        }
    });

    Some(ChartVariables {
        chart: me.id,
        chart_name: me.name,
        chart_context: me.context,
        family: me.family,
        host: host.hostname().to_owned(),
        chart_variables: chart_vars.list,
        family_variables: family.list,
        host_variables: host_vars.list,
    })
}
