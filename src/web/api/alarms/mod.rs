//! The health endpoints (protocol.md §8.5, §9.1), shaped like Netdata 1.37's: `alarms`
//! (`?all`, `?active`), `alarm_log?after=&chart=`, `alarm_count?status=&context=`,
//! `alarm_variables?chart=`, `alarms_values`, and `manage/health` (see [`manage`]); plus
//! the alarm parts of other endpoints (`info` counts, the `alarms` of each chart, the
//! alarms of `allmetrics?format=shell`).
//!
//! With health off for a host — disabled in `netdata.conf`, `[db] mode = none`, a child
//! whose `health enabled` is `no` or `auto` while it is away, or a build without the
//! `health` feature — the endpoints keep their shapes with nothing in them, as Netdata's
//! do: `"status": false` and no alarms, an empty log, `[0]`.

pub mod manage;
#[cfg(feature = "health")]
mod render;

use std::collections::HashMap;

use crate::rrd::Host;
use crate::simple_pattern::SimplePattern;
use crate::web::context::Context;
use crate::web::http::{Response, Status};
use crate::web::json;

/// What `/api/v1/charts` and `/api/v1/chart` show of an alarm in a chart's `alarms`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartAlarm {
    pub id: u32,
    pub name: String,
    pub status: &'static str,
    pub units: String,
    pub update_every: u32,
}

/// Alarm counts for `/api/v1/info`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct InfoCounts {
    pub normal: usize,
    pub warning: usize,
    pub critical: usize,
}

/// Answers the health endpoints; `None` for other names.
pub fn route(ctx: &Context, host: &Host, api: &str, pairs: &[(String, String)]) -> Option<Response> {
    let r = match api {
        "alarms" => Response::json(alarms(ctx, host, Filter::of(pairs))),
        "alarms_values" => Response::json(alarms_values(ctx, host, Filter::of(pairs))),
        "alarm_log" => {
            let after = param(pairs, "after").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            let after = u32::try_from(after.max(0)).unwrap_or(u32::MAX);
            Response::json(alarm_log(ctx, host, after, param(pairs, "chart")))
        }
        "alarm_count" => Response::json(alarm_count(ctx, host, pairs)),
        "alarm_variables" => alarm_variables(ctx, host, pairs),
        _ => return None,
    };
    Some(r)
}

/// Which alarms a listing shows.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// WARNING and CRITICAL only (the default, `?active`).
    Active,
    /// Every alarm (`?all`).
    All,
}

impl Filter {
    /// `all` anywhere in the parameters wins (Netdata looks for the word).
    pub fn of(pairs: &[(String, String)]) -> Filter {
        if pairs.iter().any(|(n, _)| n == "all") {
            Filter::All
        } else {
            Filter::Active
        }
    }
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.as_str())
}

/// The body of `/api/v1/alarms`.
pub fn alarms(ctx: &Context, host: &Host, filter: Filter) -> String {
    #[cfg(feature = "health")]
    if let Some(h) = &ctx.health {
        return render::alarms(h, host, filter, crate::clock::now_realtime_sec());
    }
    let _ = (ctx, filter);
    let mut o = String::from("{\n\t\"hostname\": ");
    json::str(&mut o, host.hostname());
    o.push_str(&format!(
        ",\n\t\"latest_alarm_log_unique_id\": 0,\n\t\"status\": false,\n\t\"now\": {},\n\t\"alarms\": {{\n\n\t}}\n}}\n",
        crate::clock::now_realtime_sec()
    ));
    o
}

/// The body of `/api/v1/alarms_values`.
pub fn alarms_values(ctx: &Context, host: &Host, filter: Filter) -> String {
    #[cfg(feature = "health")]
    if let Some(h) = &ctx.health {
        return render::alarms_values(h, host, filter);
    }
    let _ = (ctx, filter);
    let mut o = String::from("{\n\t\"hostname\": ");
    json::str(&mut o, host.hostname());
    o.push_str(",\n\t\"alarms\": {\n\n\t}\n}\n");
    o
}

/// The body of `/api/v1/alarm_log` (entries with `unique_id > after`, newest first; of
/// one chart, by id or name, when given).
pub fn alarm_log(ctx: &Context, host: &Host, after: u32, chart: Option<&str>) -> String {
    #[cfg(feature = "health")]
    if let Some(h) = &ctx.health {
        let chart =
            chart.map(|c| host.chart_by_id_or_name(c).map_or_else(|| c.to_owned(), |ch| ch.id().to_owned()));
        return render::alarm_log(h, host, after, chart.as_deref(), &ctx.timezone);
    }
    let _ = (ctx, host, after, chart);
    "[\n]\n".to_owned()
}

/// `/api/v1/alarm_count?status=&context=`: how many alarms of the host (of the contexts
/// given, a simple pattern; repeated `context` add up) are in `status` (`RAISED`, the
/// default and any unknown word: WARNING or CRITICAL), as a JSON array of one number.
pub fn alarm_count(ctx: &Context, host: &Host, pairs: &[(String, String)]) -> String {
    let status = param(pairs, "status").unwrap_or("RAISED");
    let contexts: Vec<&str> =
        pairs.iter().filter(|(n, v)| n == "context" && !v.is_empty()).map(|(_, v)| v.as_str()).collect();
    let contexts = (!contexts.is_empty()).then(|| SimplePattern::parse_with(&contexts.join("|"), ",| \t"));
    #[cfg(feature = "health")]
    if let Some(h) = &ctx.health {
        return format!("[{}]\n", render::count(h, host, status, contexts.as_ref()));
    }
    let _ = (ctx, host, status, contexts);
    "[0]\n".to_owned()
}

/// `/api/v1/alarm_variables?chart=`.
fn alarm_variables(ctx: &Context, host: &Host, pairs: &[(String, String)]) -> Response {
    let Some(key) = param(pairs, "chart") else {
        return Response::text(Status::BadRequest, "No chart id is given at the request.");
    };
    let Some(chart) = host.chart_by_id_or_name(key) else {
        return Response::text(Status::NotFound, format!("Chart is not found: {key}"));
    };
    #[cfg(feature = "health")]
    {
        let alarms: Vec<(String, String, f64)> = ctx
            .health
            .as_ref()
            .map(|h| h.host_alarms(host.guid()).into_iter().map(|a| (a.chart, a.name, a.value)).collect())
            .unwrap_or_default();
        if let Some(v) = crate::health::engine::list_chart_variables(host, chart.id(), &alarms) {
            return Response::json(render::variables(&v));
        }
    }
    let _ = ctx;
    let m = chart.meta();
    let mut o = String::from("{\n\t\"chart\": ");
    json::str(&mut o, &m.id);
    o.push_str(",\n\t\"chart_name\": ");
    json::str(&mut o, &m.name);
    o.push_str(",\n\t\"chart_context\": ");
    json::str(&mut o, &m.context);
    o.push_str(",\n\t\"chart_variables\": {\n\t},\n\t\"family\": ");
    json::str(&mut o, &m.family);
    o.push_str(",\n\t\"family_variables\": {\n\t},\n\t\"host\": ");
    json::str(&mut o, host.hostname());
    o.push_str(",\n\t\"host_variables\": {\n\t}\n}\n");
    Response::json(o)
}

/// The alarms of every chart of `host` (chart id → alarms), for `/api/v1/charts`.
pub fn chart_alarms(ctx: &Context, host: &Host) -> HashMap<String, Vec<ChartAlarm>> {
    #[cfg_attr(not(feature = "health"), allow(unused_mut))]
    let mut map: HashMap<String, Vec<ChartAlarm>> = HashMap::new();
    #[cfg(feature = "health")]
    if let Some(h) = &ctx.health {
        for a in h.host_alarms(host.guid()) {
            map.entry(a.chart.clone()).or_default().push(ChartAlarm {
                id: a.id,
                status: a.status.as_str(),
                units: a.config.units.clone().unwrap_or_default(),
                update_every: a.update_every,
                name: a.name,
            });
        }
    }
    let _ = (ctx, host);
    map
}

/// `/api/v1/info` `alarms`.
pub fn info_counts(ctx: &Context, host: &Host) -> InfoCounts {
    #[cfg(feature = "health")]
    if let Some(h) = &ctx.health {
        let c = h.counts(host.guid());
        return InfoCounts { normal: c.normal, warning: c.warning, critical: c.critical };
    }
    let _ = (ctx, host);
    InfoCounts::default()
}

/// The alarm lines that end `/api/v1/allmetrics?format=shell`: per alarm of a chart whose
/// name passes `filter`, `NETDATA_ALARM_<CHART>_<ALARM>_VALUE="<rounded>"      # <units>`
/// and `…_STATUS="<status>"`.
pub fn shell_lines(ctx: &Context, host: &Host, filter: Option<&SimplePattern>, out: &mut String) {
    #[cfg(feature = "health")]
    if let Some(h) = &ctx.health {
        render::shell(h, host, filter, out);
    }
    let _ = (ctx, host, filter, out);
}

/// Netdata's `buffer_strcat_htmlescape` (the expressions and the log's `info`).
pub fn html_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '/' => out.push_str("&#x2F;"),
            '\'' => out.push_str("&#x27;"),
            c => json::escape_into(out, &c.to_string()),
        }
    }
}

#[cfg(all(test, feature = "health"))]
pub(crate) mod json_value;
#[cfg(all(test, feature = "health"))]
mod tests;
