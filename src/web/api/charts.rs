//! `/api/v1/charts` and `/api/v1/chart` (protocol.md §8.2).

use std::collections::HashMap;

use super::alarms::{chart_alarms, ChartAlarm};
use crate::db::MemoryMode;
use crate::rrd::{Chart, Host};
use crate::web::context::{Context, API_VERSION};
use crate::web::http::{Response, Status};
use crate::web::json;

/// Whether a chart is listed: not hidden, not obsolete, with dimensions, stored somewhere.
pub fn listed(host: &Host, chart: &Chart) -> bool {
    let m = chart.meta();
    !m.options.hidden
        && !m.options.obsolete
        && host.settings().mode != MemoryMode::None
        && !chart.dimensions().is_empty()
}

/// The body of `/api/v1/charts`.
pub fn charts(ctx: &Context, host: &Host) -> String {
    let list: Vec<_> = host.charts().into_iter().filter(|c| listed(host, c)).collect();
    let s = host.settings();
    let mut o = String::with_capacity(2048 + list.len() * 1024);
    o.push_str("{\n\t\"hostname\": ");
    json::str(&mut o, host.hostname());
    o.push_str(",\n\t\"version\": ");
    json::str(&mut o, API_VERSION);
    o.push_str(&format!(
        ",\n\t\"release_channel\": \"stable\",\n\t\"os\": \"linux\",\n\t\"timezone\": \"{}\",\n\t\"update_every\": {},\n\t\"history\": {},\n\t\"memory_mode\": \"{}\",\n\t\"custom_info\": \"\",\n\t\"charts\": {{",
        ctx.timezone,
        s.update_every,
        s.history,
        s.mode.as_str()
    ));
    let mut dims = 0;
    let mut memory = 0;
    let alarms = chart_alarms(ctx, host);
    let alarms_count: usize = alarms.values().map(Vec::len).sum();
    for (i, c) in list.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("\n\t\t");
        json::str(&mut o, c.id());
        o.push_str(": ");
        dims += chart_object(&mut o, c, &alarms);
        memory += c.memory_bytes();
    }
    let hosts = ctx.hosts.all();
    o.push_str(&format!(
        "\n\t}},\n\t\"charts_count\": {},\n\t\"dimensions_count\": {},\n\t\"alarms_count\": {},\n\t\"rrd_memory_bytes\": {},\n\t\"hosts_count\": {},\n\t\"hosts\": [",
        list.len(),
        dims,
        alarms_count,
        memory,
        hosts.len()
    ));
    for (i, h) in hosts.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("\n\t\t{\n\t\t\t\"hostname\": ");
        json::str(&mut o, h.hostname());
        o.push_str("\n\t\t}");
    }
    o.push_str("\n\t]\n}\n");
    o
}

/// `/api/v1/chart?chart=<id or name>`.
pub fn chart(ctx: &Context, host: &Host, pairs: &[(String, String)]) -> Response {
    let Some(key) = pairs.iter().find(|(n, v)| n == "chart" && !v.is_empty()).map(|(_, v)| v) else {
        return Response::text(Status::BadRequest, "parameter 'chart' is required");
    };
    match host.chart_by_id_or_name(key) {
        Some(c) => {
            let mut o = String::with_capacity(2048);
            chart_object(&mut o, &c, &chart_alarms(ctx, host));
            o.push('\n');
            Response::json(o)
        }
        None => Response::text(Status::NotFound, format!("chart '{key}' is not found")),
    }
}

/// Writes one CHART object, with its alarms from `alarms` (chart id → alarms); returns how
/// many dimensions it listed.
pub fn chart_object(o: &mut String, c: &Chart, alarms: &HashMap<String, Vec<ChartAlarm>>) -> usize {
    let m = c.meta();
    let dims = c.dimensions();
    let first = c.first_entry_any_tier_t().unwrap_or(0);
    let last = c.last_entry_t().unwrap_or(0);
    let duration = if last > 0 { last - first + i64::from(m.update_every) } else { 0 };
    o.push_str("{\n\t\t\t\"id\": ");
    json::str(o, &m.id);
    o.push_str(",\n\t\t\t\"name\": ");
    json::str(o, &m.name);
    o.push_str(",\n\t\t\t\"type\": ");
    json::str(o, m.type_part());
    o.push_str(",\n\t\t\t\"family\": ");
    json::str(o, &m.family);
    o.push_str(",\n\t\t\t\"context\": ");
    json::str(o, &m.context);
    o.push_str(",\n\t\t\t\"title\": ");
    json::str(o, &format!("{} ({})", m.title, m.name));
    o.push_str(&format!(",\n\t\t\t\"priority\": {},\n\t\t\t\"plugin\": ", m.priority));
    json::str(o, &m.plugin);
    o.push_str(",\n\t\t\t\"module\": ");
    json::str(o, &m.module);
    o.push_str(",\n\t\t\t\"units\": ");
    json::str(o, &m.units);
    o.push_str(",\n\t\t\t\"data_url\": ");
    json::str(o, &format!("/api/v1/data?chart={}", m.name));
    o.push_str(",\n\t\t\t\"chart_type\": ");
    json::str(o, m.chart_type.as_str());
    o.push_str(&format!(
        ",\n\t\t\t\"duration\": {duration},\n\t\t\t\"first_entry\": {first},\n\t\t\t\"last_entry\": {last},\n\t\t\t\"update_every\": {},\n\t\t\t\"dimensions\": {{",
        m.update_every
    ));
    let mut n = 0;
    for d in dims.iter().filter(|d| !d.options.hidden && !d.options.obsolete) {
        if n > 0 {
            o.push(',');
        }
        n += 1;
        o.push_str("\n\t\t\t\t");
        json::str(o, &d.id);
        o.push_str(": { \"name\": ");
        json::str(o, &d.name);
        o.push_str(" }");
    }
    o.push_str("\n\t\t\t},\n\t\t\t\"chart_variables\": {},\n\t\t\t\"green\": null,\n\t\t\t\"red\": null,\n\t\t\t\"alarms\": {");
    for (i, a) in alarms.get(&m.id).map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        o.push_str(if i > 0 { ",\n\t\t\t\t" } else { "\n\t\t\t\t" });
        json::str(o, &a.name);
        o.push_str(&format!(
            ": {{\n\t\t\t\t\t\"id\": {},\n\t\t\t\t\t\"status\": \"{}\",\n\t\t\t\t\t\"units\": ",
            a.id, a.status
        ));
        json::str(o, &a.units);
        o.push_str(&format!(",\n\t\t\t\t\t\"update_every\": {}\n\t\t\t\t}}", a.update_every));
    }
    o.push_str("\n\t\t\t},\n\t\t\t\"chart_labels\": {");
    for (i, l) in m.labels.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("\n\t\t\t\t");
        json::str(o, &l.name);
        o.push_str(": ");
        json::str(o, &l.value);
    }
    o.push_str("\n\t\t\t},\n\t\t\t\"functions\": {}\n\t\t}");
    n
}
