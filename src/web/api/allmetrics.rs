//! `/api/v1/allmetrics` (protocol.md §8.4): shell, json, prometheus and
//! prometheus_all_hosts.

mod prometheus;

use std::fmt::Write as _;

use crate::rrd::{Chart, Host};
use crate::simple_pattern::SimplePattern;
use crate::web::context::Context;
use crate::web::http::{Response, Status};
use crate::web::json;

/// Most distinct `server` values remembered for average/sum windows (oldest forgotten).
const MAX_SERVERS: usize = 256;
/// Most slots of each dimension an average/sum reads: a `server` that last scraped long ago
/// (or a made-up one reused days later) gets the average of the last hour of 1 s slots
/// instead of a walk over the whole retention of every metric inside the event loop.
pub const MAX_WINDOW_SLOTS: i64 = 3600;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Format {
    Shell,
    Json,
    Prometheus,
    PrometheusAllHosts,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Source {
    AsCollected,
    Average,
    Sum,
}

impl Source {
    pub fn parse(s: &str) -> Option<Source> {
        Some(match s {
            "as collected" | "raw" | "as-collected" | "as_collected" | "ascollected" => Source::AsCollected,
            "average" => Source::Average,
            "sum" | "volume" => Source::Sum,
            _ => return None,
        })
    }
}

/// `[prometheus:exporter]` defaults, overridable per request.
#[derive(Clone, Debug)]
pub struct PrometheusDefaults {
    pub prefix: String,
    pub source: Source,
    pub names: bool,
    pub timestamps: bool,
}

impl PrometheusDefaults {
    /// The `[prometheus:exporter]` section of `cfg` (its built-in defaults when absent).
    pub fn from_config(cfg: &crate::config::Config) -> PrometheusDefaults {
        PrometheusDefaults {
            prefix: cfg.text_in("prometheus:exporter", "prefix", "netdata"),
            source: Source::parse(&cfg.text_in("prometheus:exporter", "data source", "average"))
                .unwrap_or(Source::Average),
            names: cfg.bool_in("prometheus:exporter", "send names instead of ids", true),
            timestamps: cfg.bool_in("prometheus:exporter", "send timestamps", true),
        }
    }
}

struct Prom {
    prefix: String,
    source: Source,
    names: bool,
    timestamps: bool,
    help: bool,
    types: bool,
    hideunits: bool,
    server: String,
}

pub fn allmetrics(ctx: &Context, host: &Host, pairs: &[(String, String)]) -> Response {
    let mut format = Format::Shell;
    let mut filter = None;
    let d = &ctx.prometheus;
    let mut p = Prom {
        prefix: d.prefix.clone(),
        source: d.source,
        names: d.names,
        timestamps: d.timestamps,
        help: false,
        types: false,
        hideunits: false,
        server: String::new(),
    };
    for (name, v) in pairs {
        if v.is_empty() {
            continue;
        }
        let flag = |v: &str| -> Result<bool, String> {
            match v {
                "yes" | "1" | "true" => Ok(true),
                "no" | "0" | "false" => Ok(false),
                _ => Err(format!("parameter '{name}' must be yes or no, not '{v}'")),
            }
        };
        let r: Result<(), String> = (|| {
            match name.as_str() {
                "format" => {
                    format = match v.as_str() {
                        "shell" => Format::Shell,
                        "json" => Format::Json,
                        "prometheus" => Format::Prometheus,
                        "prometheus_all_hosts" => Format::PrometheusAllHosts,
                        _ => return Err(format!("unknown format '{v}'")),
                    }
                }
                "filter" => filter = Some(SimplePattern::parse(v)),
                "server" => p.server = v.chars().take(256).collect(),
                "prefix" => {
                    if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                        return Err("parameter 'prefix' may hold only letters, digits, '_' and ':'".into());
                    }
                    p.prefix = v.clone();
                }
                "data" | "source" | "data source" | "data-source" | "data_source" | "datasource" => {
                    p.source = Source::parse(v).ok_or_else(|| format!("unknown data source '{v}'"))?
                }
                "names" => p.names = flag(v)?,
                "timestamps" => p.timestamps = flag(v)?,
                "help" => p.help = flag(v)?,
                "types" => p.types = flag(v)?,
                "hideunits" => p.hideunits = flag(v)?,
                "variables" | "oldunits" => {
                    flag(v)?;
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = r {
            return Response::text(Status::BadRequest, e);
        }
    }
    let now = crate::clock::now_realtime_sec();
    match format {
        Format::Shell => {
            let mut out = shell(host, filter.as_ref());
            super::alarms::shell_lines(ctx, host, filter.as_ref(), &mut out);
            Response::new(Status::Ok, "text/plain; charset=utf-8", out)
        }
        Format::Json => Response::json(json_format(host, filter.as_ref())),
        Format::Prometheus => {
            let mut out = String::with_capacity(16 * 1024);
            prometheus::write(ctx, &[host], &p, filter.as_ref(), false, now, &mut out);
            Response::new(Status::Ok, "text/plain; version=0.0.4", out)
        }
        Format::PrometheusAllHosts => {
            let mut out = String::with_capacity(16 * 1024);
            let all = ctx.hosts.all();
            let hosts: Vec<&Host> = all.iter().map(|h| &**h).collect();
            prometheus::write(ctx, &hosts, &p, filter.as_ref(), true, now, &mut out);
            Response::new(Status::Ok, "text/plain; version=0.0.4", out)
        }
    }
}

fn visible(host: &Host, c: &Chart) -> bool {
    crate::web::api::charts::listed(host, c)
}

/// Upper-cased, every non-alphanumeric character as `_` (shell variable names).
fn shell_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

fn prom_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

fn prom_units(units: &str) -> String {
    if units == "%" {
        return "percent".into();
    }
    let u = match units.strip_suffix("/s") {
        Some(base) => format!("{base}_persec"),
        None => units.to_owned(),
    };
    prom_name(&u.replace('%', "percent"))
}

fn label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn shell(host: &Host, filter: Option<&SimplePattern>) -> String {
    let mut out = String::with_capacity(8192);
    for c in host.charts() {
        if !visible(host, &c) {
            continue;
        }
        let m = c.meta();
        if filter.is_some_and(|f| !f.matches(&m.name)) {
            continue;
        }
        let chart = shell_name(&m.name);
        let _ = writeln!(out, "\n# chart: {} (name: {})", m.id, m.name);
        let mut total = 0.0;
        for (d, (_, stored)) in c.dimensions().iter().zip(c.last_values()) {
            if d.options.hidden {
                continue;
            }
            let v = if stored.is_finite() {
                total += stored;
                format!("{:.0}", stored)
            } else {
                String::new()
            };
            let _ = writeln!(out, "NETDATA_{chart}_{}=\"{v}\"      # {}", shell_name(&d.name), m.units);
        }
        let _ = writeln!(out, "NETDATA_{chart}_VISIBLETOTAL=\"{total:.0}\"      # {}", m.units);
    }
    out.push_str("\n# NETDATA ALARMS RUNNING\n");
    out
}

fn json_format(host: &Host, filter: Option<&SimplePattern>) -> String {
    let mut out = String::from("{");
    let mut n = 0;
    for c in host.charts() {
        if !visible(host, &c) {
            continue;
        }
        let m = c.meta();
        if filter.is_some_and(|f| !f.matches(&m.id) && !f.matches(&m.name)) {
            continue;
        }
        if n > 0 {
            out.push(',');
        }
        n += 1;
        out.push_str("\n\t");
        json::str(&mut out, &m.id);
        out.push_str(": {\n\t\t\"name\":");
        json::str(&mut out, &m.name);
        out.push_str(",\n\t\t\"family\":");
        json::str(&mut out, &m.family);
        out.push_str(",\n\t\t\"context\":");
        json::str(&mut out, &m.context);
        out.push_str(",\n\t\t\"units\":");
        json::str(&mut out, &m.units);
        let _ = write!(
            out,
            ",\n\t\t\"last_updated\": {},\n\t\t\"dimensions\": {{",
            c.last_entry_t().unwrap_or(0)
        );
        for (i, (d, (_, stored))) in c.dimensions().iter().zip(c.last_values()).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n\t\t\t");
            json::str(&mut out, &d.id);
            out.push_str(": {\n\t\t\t\t\"name\": ");
            json::str(&mut out, &d.name);
            out.push_str(",\n\t\t\t\t\"value\": ");
            json::num(&mut out, stored);
            out.push_str("\n\t\t\t}");
        }
        out.push_str("\n\t\t}\n\t}");
    }
    out.push_str("\n}\n");
    out
}

#[cfg(test)]
mod tests;
