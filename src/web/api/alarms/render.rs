//! The JSON (and shell) text of the health endpoints from the engine's views, key by key
//! as Netdata 1.37 prints them (checked against a running 1.37.1): numbers plain, NaN as
//! `null`, `delay_multiplier` with six decimals, the repeat periods and `last_repeat` as
//! strings, the expressions HTML-escaped.

use std::fmt::Write as _;

use super::{html_escape, Filter};
use crate::health::engine::ChartVariables;
use crate::health::{AlarmView, Health, LogEntry, Status};
use crate::rrd::Host;
use crate::simple_pattern::SimplePattern;
use crate::web::json;

/// The alarms a listing shows: on a chart that was collected, and for `Active` only
/// WARNING and CRITICAL ones.
fn listed(h: &Health, host: &Host, filter: Filter) -> Vec<AlarmView> {
    h.host_alarms(host.guid())
        .into_iter()
        .filter(|a| filter == Filter::All || matches!(a.status, Status::Warning | Status::Critical))
        .filter(|a| {
            host.chart_by_id_or_name(&a.chart).is_some_and(|c| c.with_view(|v, _| v.last_collected_ut()) > 0)
        })
        .collect()
}

fn or_unknown(s: &Option<String>) -> &str {
    s.as_deref().filter(|s| !s.is_empty()).unwrap_or("Unknown")
}

/// `"key":"escaped"` (or `null` when empty) and `,\n`, Netdata's `health_string2json`.
fn string2json(o: &mut String, indent: &str, key: &str, value: &str) {
    let _ = write!(o, "{indent}\"{key}\":");
    if value.is_empty() {
        o.push_str("null");
    } else {
        o.push('"');
        html_escape(o, value);
        o.push('"');
    }
    o.push_str(",\n");
}

/// `"key": "value",\n` with the value JSON-escaped.
fn field(o: &mut String, indent: &str, key: &str, value: &str) {
    let _ = write!(o, "{indent}\"{key}\": ");
    json::str(o, value);
    o.push_str(",\n");
}

pub fn alarms(h: &Health, host: &Host, filter: Filter, now: i64) -> String {
    let list = listed(h, host, filter);
    let mut o = String::with_capacity(256 + list.len() * 1536);
    o.push_str("{\n\t\"hostname\": ");
    json::str(&mut o, host.hostname());
    let _ = write!(
        o,
        ",\n\t\"latest_alarm_log_unique_id\": {},\n\t\"status\": {},\n\t\"now\": {now},\n\t\"alarms\": {{\n",
        h.latest_unique_id(host.guid()),
        h.enabled_for(host)
    );
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            o.push_str(",\n");
        }
        alarm(&mut o, a);
    }
    o.push_str("\n\t}\n}\n");
    o
}

fn alarm(o: &mut String, a: &AlarmView) {
    let c = &a.config;
    let t = "\t\t\t";
    o.push_str("\t\t");
    json::str(o, &format!("{}.{}", a.chart, a.name));
    let _ = writeln!(o, ": {{\n{t}\"id\": {},", a.id);
    field(o, t, "config_hash_id", &a.config_hash_id);
    field(o, t, "name", &a.name);
    field(o, t, "chart", &a.chart);
    field(o, t, "family", &a.family);
    field(o, t, "class", or_unknown(&c.class));
    field(o, t, "component", or_unknown(&c.component));
    field(o, t, "type", or_unknown(&c.type_));
    let _ = writeln!(
        o,
        "{t}\"active\": true,\n{t}\"disabled\": {},\n{t}\"silenced\": {},",
        a.disabled, a.silenced
    );
    field(o, t, "exec", &a.exec);
    field(o, t, "recipient", &a.recipient);
    field(o, t, "source", &c.source);
    field(o, t, "units", c.units.as_deref().unwrap_or(""));
    field(o, t, "info", c.info.as_deref().unwrap_or(""));
    field(o, t, "status", a.status.as_str());
    let _ = writeln!(
        o,
        "{t}\"last_status_change\": {},\n{t}\"last_updated\": {},\n{t}\"next_update\": {},\n{t}\"update_every\": {},\n{t}\"delay_up_duration\": {},\n{t}\"delay_down_duration\": {},\n{t}\"delay_max_duration\": {},\n{t}\"delay_multiplier\": {:.6},\n{t}\"delay\": {},\n{t}\"delay_up_to_timestamp\": {},\n{t}\"warn_repeat_every\": \"{}\",\n{t}\"crit_repeat_every\": \"{}\",",
        a.last_status_change,
        a.last_updated,
        a.next_update,
        a.update_every,
        a.delay_up_duration,
        a.delay_down_duration,
        a.delay_max_duration,
        a.delay_multiplier,
        a.delay,
        a.delay_up_to_timestamp,
        a.warn_repeat_every,
        a.crit_repeat_every,
    );
    field(o, t, "value_string", &a.value_string());
    let _ =
        writeln!(o, "{t}\"last_repeat\": \"{}\",\n{t}\"times_repeat\": {},", a.last_repeat, a.times_repeat);
    if c.no_clear_notification {
        let _ = writeln!(o, "{t}\"no_clear_notification\": true,");
    }
    if let Some(l) = a.lookup() {
        if !l.dimensions.is_empty() {
            string2json(o, t, "lookup_dimensions", &l.dimensions);
        }
        let _ = writeln!(
            o,
            "{t}\"db_after\": {},\n{t}\"db_before\": {},\n{t}\"lookup_method\": \"{}\",\n{t}\"lookup_after\": {},\n{t}\"lookup_before\": {},",
            a.db_after, a.db_before, l.method, l.after, l.before
        );
        field(o, t, "lookup_options", &l.options);
    }
    for (name, e) in [("calc", &c.calc), ("warn", &c.warn), ("crit", &c.crit)] {
        if let Some(e) = e {
            string2json(o, t, name, e.source());
            string2json(o, t, &format!("{name}_parsed"), &e.parsed());
        }
    }
    let _ = write!(o, "{t}\"green\":");
    json::opt(o, c.green);
    let _ = write!(o, ",\n{t}\"red\":");
    json::opt(o, c.red);
    let _ = write!(o, ",\n{t}\"value\":");
    json::num(o, a.value);
    o.push_str("\n\t\t}");
}

pub fn alarms_values(h: &Health, host: &Host, filter: Filter) -> String {
    let list = listed(h, host, filter);
    let mut o = String::with_capacity(128 + list.len() * 160);
    o.push_str("{\n\t\"hostname\": ");
    json::str(&mut o, host.hostname());
    o.push_str(",\n\t\"alarms\": {\n");
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            o.push_str(",\n");
        }
        o.push_str("\t\t");
        json::str(&mut o, &format!("{}.{}", a.chart, a.name));
        let _ = write!(o, ": {{\n\t\t\t\"id\": {},\n\t\t\t\"value\":", a.id);
        json::num(&mut o, a.value);
        let _ = write!(
            o,
            ",\n\t\t\t\"last_updated\":{},\n\t\t\t\"status\": \"{}\"\n\t\t}}",
            a.last_updated, a.status
        );
    }
    o.push_str("\n\t}\n}\n");
    o
}

pub fn alarm_log(h: &Health, host: &Host, after: u32, chart: Option<&str>, timezone: &str) -> String {
    let entries: Vec<LogEntry> =
        h.host_log(host.guid(), after).into_iter().filter(|e| chart.is_none_or(|c| e.chart == c)).collect();
    let mut o = String::with_capacity(16 + entries.len() * 1536);
    o.push('[');
    let abbrev = if timezone.ends_with("UTC") { "UTC" } else { timezone };
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        entry(&mut o, e, host.hostname(), abbrev);
    }
    o.push_str("\n]\n");
    o
}

fn entry(o: &mut String, e: &LogEntry, hostname: &str, timezone: &str) {
    let t = "\t\t";
    o.push_str("\n\t{\n");
    field(o, t, "hostname", hostname);
    let _ = writeln!(o, "{t}\"utc_offset\": 0,");
    field(o, t, "timezone", timezone);
    let _ = writeln!(
        o,
        "{t}\"unique_id\": {},\n{t}\"alarm_id\": {},\n{t}\"alarm_event_id\": {},",
        e.unique_id, e.alarm_id, e.alarm_event_id
    );
    field(o, t, "config_hash_id", &e.config_hash_id);
    field(o, t, "name", &e.name);
    field(o, t, "chart", &e.chart);
    field(o, t, "context", &e.context);
    field(o, t, "family", &e.family);
    let unknown = |s: &str| if s.is_empty() { "Unknown".to_owned() } else { s.to_owned() };
    field(o, t, "class", &unknown(&e.class));
    field(o, t, "component", &unknown(&e.component));
    field(o, t, "type", &unknown(&e.type_));
    let exec_run = if e.exec_run { e.exec_run_timestamp } else { 0 };
    let _ = writeln!(
        o,
        "{t}\"processed\": {},\n{t}\"updated\": {},\n{t}\"exec_run\": {exec_run},\n{t}\"exec_failed\": {},",
        e.processed, e.updated, e.exec_failed
    );
    field(o, t, "exec", &e.exec);
    field(o, t, "recipient", &e.recipient);
    let _ = writeln!(o, "{t}\"exec_code\": {},", e.exec_code.max(0));
    field(o, t, "source", &e.source);
    field(o, t, "command", crate::health::engine::NO_EDIT_COMMAND);
    field(o, t, "units", &e.units);
    let _ = writeln!(
        o,
        "{t}\"when\": {},\n{t}\"duration\": {},\n{t}\"non_clear_duration\": {},\n{t}\"status\": \"{}\",\n{t}\"old_status\": \"{}\",\n{t}\"delay\": {},\n{t}\"delay_up_to_timestamp\": {},\n{t}\"updated_by_id\": {},\n{t}\"updates_id\": {},",
        e.when,
        e.duration,
        e.non_clear_duration,
        e.status,
        e.old_status,
        e.delay,
        e.delay_up_to_timestamp,
        e.updated_by_id,
        e.updates_id
    );
    field(o, t, "value_string", &e.value_string());
    field(o, t, "old_value_string", &e.old_value_string());
    let _ = writeln!(o, "{t}\"last_repeat\": \"{}\",\n{t}\"silenced\": \"{}\",", e.last_repeat, e.silenced);
    string2json(o, t, "info", &e.info);
    if e.no_clear_notification {
        let _ = writeln!(o, "{t}\"no_clear_notification\": true,");
    }
    let _ = write!(o, "{t}\"value\":");
    json::num(o, e.value);
    let _ = write!(o, ",\n{t}\"old_value\":");
    json::num(o, e.old_value);
    o.push_str("\n\t}");
}

/// How many listed alarms are in `status` (`RAISED`: WARNING or CRITICAL; an unknown word
/// counts as `RAISED`) on the `contexts` given.
pub fn count(h: &Health, host: &Host, status: &str, contexts: Option<&SimplePattern>) -> usize {
    let wanted = Status::parse(status).unwrap_or(Status::Raised);
    listed(h, host, Filter::All)
        .iter()
        .filter(|a| contexts.is_none_or(|p| p.matches(&a.context)))
        .filter(|a| match wanted {
            Status::Raised => matches!(a.status, Status::Warning | Status::Critical),
            s => a.status == s,
        })
        .count()
}

/// `/api/v1/alarm_variables`: numbers with five decimals (Netdata's `%0.5f`), NaN `null`.
pub fn variables(v: &ChartVariables) -> String {
    let size = (v.chart_variables.len() + v.family_variables.len() + v.host_variables.len()) * 48;
    let mut o = String::with_capacity(256 + size);
    o.push_str("{\n\t\"chart\": ");
    json::str(&mut o, &v.chart);
    o.push_str(",\n\t\"chart_name\": ");
    json::str(&mut o, &v.chart_name);
    o.push_str(",\n\t\"chart_context\": ");
    json::str(&mut o, &v.chart_context);
    o.push_str(",\n\t\"chart_variables\": ");
    object(&mut o, &v.chart_variables);
    o.push_str(",\n\t\"family\": ");
    json::str(&mut o, &v.family);
    o.push_str(",\n\t\"family_variables\": ");
    object(&mut o, &v.family_variables);
    o.push_str(",\n\t\"host\": ");
    json::str(&mut o, &v.host);
    o.push_str(",\n\t\"host_variables\": ");
    object(&mut o, &v.host_variables);
    o.push_str("\n}\n");
    o
}

fn object(o: &mut String, vars: &[(String, f64)]) {
    o.push('{');
    for (i, (name, value)) in vars.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("\n\t\t");
        json::str(o, name);
        o.push_str(": ");
        if value.is_finite() {
            let _ = write!(o, "{value:.5}");
        } else {
            o.push_str("null");
        }
    }
    o.push_str("\n\t}");
}

/// The `# NETDATA ALARMS RUNNING` lines of the shell format (the header is written by the
/// caller).
pub fn shell(h: &Health, host: &Host, filter: Option<&SimplePattern>, out: &mut String) {
    let name = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
    };
    for a in listed(h, host, Filter::All) {
        if filter.is_some_and(|f| !f.matches(&a.chart_name)) {
            continue;
        }
        let prefix = format!("NETDATA_ALARM_{}_{}", name(&a.chart_name), name(&a.name));
        let value = if a.value.is_finite() {
            let s = format!("{:.0}", a.value);
            if s == "-0" {
                "0".to_owned()
            } else {
                s
            }
        } else {
            String::new()
        };
        let units = a.config.units.as_deref().unwrap_or("");
        let _ = writeln!(out, "{prefix}_VALUE=\"{value}\"      # {units}");
        let _ = writeln!(out, "{prefix}_STATUS=\"{}\"", a.status);
    }
}
