//! The formats of `/api/v1/data`: the rows of the engine written as `json`, `jsonp`,
//! `datatable`, `datasource`, `csv`, `tsv`, `ssv`, `ssvcomma`, `array`, `html`, `markdown`
//! or `csvjsonarray`, optionally inside the `jsonwrap` envelope, byte for byte as Netdata
//! 1.37 writes them.

use std::fmt::Write as _;

use super::{option_names, DataQuery, Format};
use crate::query::{row_value, Rows};
use crate::web::json;

/// Renders the rows in the query's format (with the jsonwrap envelope when asked).
/// Returns the body and its content type.
pub fn render(q: &DataQuery, chart_id: &str, chart_name: &str, rows: &Rows) -> (String, &'static str) {
    let payload = payload(q, rows);
    let wrap = q.render.jsonwrap;
    if !wrap && !matches!(q.format, Format::Jsonp | Format::Datasource) {
        // The rows are the body: no envelope, no second copy.
        return (payload, q.format.content_type());
    }
    let mut body = String::with_capacity(payload.len() + 1024);
    let callback = match q.format {
        Format::Jsonp => q.callback.as_deref(),
        _ => None,
    };
    if let Some(cb) = callback {
        body.push_str(cb);
        body.push('(');
    }
    if q.format == Format::Datasource {
        let _ = write!(
            body,
            "google.visualization.Query.setResponse({{version:'0.6',reqId:'{}',status:'ok',sig:'{}',table:",
            q.req_id, rows.last_entry
        );
    }
    if wrap {
        envelope(&mut body, q, chart_id, chart_name, rows, &payload);
    } else {
        body.push_str(&payload);
    }
    if q.format == Format::Datasource {
        body.push_str("});");
    }
    if callback.is_some() {
        body.push_str(");");
    }
    let ct = if wrap && !matches!(q.format, Format::Jsonp | Format::Datasource) {
        "application/json"
    } else {
        q.format.content_type()
    };
    (body, ct)
}

fn envelope(out: &mut String, q: &DataQuery, id: &str, name: &str, rows: &Rows, payload: &str) {
    let strs = |out: &mut String, v: &[String]| {
        out.push('[');
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            json::str(out, s);
        }
        out.push(']');
    };
    let nums = |out: &mut String, v: &[Option<f64>]| {
        out.push('[');
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            json::opt(out, *x);
        }
        out.push(']');
    };
    let newest: Vec<Option<f64>> =
        rows.values.last().cloned().unwrap_or_else(|| vec![None; rows.names.len()]);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for r in &rows.values {
        for v in r.iter().flatten() {
            min = min.min(*v);
            max = max.max(*v);
        }
    }
    if !min.is_finite() {
        min = 0.0;
        max = 0.0;
    }
    out.push_str("{\n   \"api\": 1,\n   \"id\": ");
    json::str(out, id);
    out.push_str(",\n   \"name\": ");
    json::str(out, name);
    let _ = write!(
        out,
        ",\n   \"view_update_every\": {},\n   \"update_every\": {},\n   \"first_entry\": {},\n   \"last_entry\": {},\n   \"before\": {},\n   \"after\": {},\n   \"group\": \"{}\",\n   \"options\": \"{}\",\n   \"dimension_names\": ",
        rows.view_update_every,
        rows.update_every,
        rows.first_entry,
        rows.last_entry,
        rows.before,
        rows.after,
        q.request.group.name(),
        option_names(&q.request.options, &q.render)
    );
    strs(out, &rows.names);
    out.push_str(",\n   \"dimension_ids\": ");
    strs(out, &rows.ids);
    out.push_str(",\n   \"functions\": [],");
    if matches!(q.target, crate::query::Target::Context(_)) {
        out.push_str("\n   \"chart_ids\": ");
        strs(out, &rows.chart_ids);
        out.push(',');
    }
    out.push_str("\n   \"latest_values\": ");
    nums(out, &rows.latest);
    out.push_str(",\n   \"view_latest_values\": ");
    nums(out, &newest);
    let _ = write!(
        out,
        ",\n   \"dimensions\": {},\n   \"points\": {},\n   \"format\": \"{}\",\n   \"db_points_per_tier\": [ {} ],\n   \"result\": ",
        rows.names.len(),
        rows.times.len(),
        q.format.name(),
        rows.db_points_per_tier.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
    );
    if q.format.is_json() {
        out.push_str(payload);
    } else {
        json::str(out, payload);
    }
    out.push_str(",\n \"min\": ");
    json::num(out, min);
    out.push_str(",\n \"max\": ");
    json::num(out, max);
    out.push_str("\n}\n");
}

/// The rows in display order (newest first unless `flip`).
fn order(q: &DataQuery, n: usize) -> Box<dyn Iterator<Item = usize>> {
    if q.render.flip {
        Box::new(0..n)
    } else {
        Box::new((0..n).rev())
    }
}

fn time_bytes(out: &mut Vec<u8>, q: &DataQuery, t: i64) {
    json::int_bytes(out, t);
    if q.render.milliseconds {
        out.extend_from_slice(b"000");
    }
}

fn time_value(out: &mut String, q: &DataQuery, t: i64) {
    crate::web::json::push_int(out, t);
    if q.render.milliseconds {
        out.push_str("000");
    }
}

/// Time as a local date, or epoch (s/ms) with the `seconds`/`ms` options: the text formats.
fn time_text(out: &mut String, q: &DataQuery, t: i64) {
    if q.render.milliseconds || q.render.seconds {
        time_value(out, q, t);
    } else {
        out.push_str(std::str::from_utf8(&crate::logging::local_timestamp(t)).unwrap_or("?"));
    }
}

fn payload(q: &DataQuery, rows: &Rows) -> String {
    let n = rows.times.len();
    let mut out = String::with_capacity(64 + n * (16 + 12 * rows.names.len()));
    let value = |out: &mut String, v: Option<f64>| json::opt(out, v);
    match q.format {
        Format::Json | Format::Jsonp => {
            out.push_str("{\n \"labels\": [\"time\"");
            if rows.names.is_empty() {
                out.push_str(",\"no data\"");
            }
            let quoted: Vec<String> = rows
                .names
                .iter()
                .map(|name| {
                    let mut q = String::new();
                    json::str(&mut q, name);
                    q
                })
                .collect();
            for name in &quoted {
                out.push(',');
                out.push_str(name);
            }
            out.push_str("],\n    \"data\":\n [\n");
            // The rows as bytes (numbers and punctuation only), one text check at the end.
            let mut text = Vec::with_capacity(n * (16 + 12 * rows.names.len()));
            for (k, r) in order(q, n).enumerate() {
                if k > 0 {
                    text.extend_from_slice(b",\n");
                }
                if q.render.objectrows {
                    text.extend_from_slice(b" { \"time\": ");
                    time_bytes(&mut text, q, rows.times[r]);
                    for (d, v) in rows.values[r].iter().enumerate() {
                        text.push(b',');
                        text.extend_from_slice(quoted[d].as_bytes());
                        text.extend_from_slice(b": ");
                        json::opt_bytes(&mut text, *v);
                    }
                    text.push(b'}');
                } else {
                    text.extend_from_slice(b" [ ");
                    time_bytes(&mut text, q, rows.times[r]);
                    if rows.names.is_empty() {
                        text.extend_from_slice(b",null");
                    }
                    for v in &rows.values[r] {
                        text.push(b',');
                        json::opt_bytes(&mut text, *v);
                    }
                    text.push(b']');
                }
            }
            match std::str::from_utf8(&text) {
                Ok(rows) => out.push_str(rows),
                Err(_) => out.push_str(&String::from_utf8_lossy(&text)),
            }
            out.push_str("\n]\n}");
        }
        Format::Datatable | Format::Datasource => {
            out.push_str("{\n \"cols\":\n [\n  {\"id\":\"\",\"label\":\"time\",\"pattern\":\"\",\"type\":\"datetime\"},\n  {\"id\":\"\",\"label\":\"\",\"pattern\":\"\",\"type\":\"string\",\"p\":{\"role\":\"annotation\"}},\n  {\"id\":\"\",\"label\":\"\",\"pattern\":\"\",\"type\":\"string\",\"p\":{\"role\":\"annotationText\"}}");
            for name in &rows.names {
                out.push_str(",\n  {\"id\":\"\",\"label\":");
                json::str(&mut out, name);
                out.push_str(",\"pattern\":\"\",\"type\":\"number\"}");
            }
            out.push_str("\n ],\n \"rows\":\n [\n");
            for (k, r) in order(q, n).enumerate() {
                if k > 0 {
                    out.push_str(",\n");
                }
                let ts = crate::logging::local_timestamp(rows.times[r]);
                let ts = std::str::from_utf8(&ts).unwrap_or("1970-01-01 00:00:00");
                let f = |a: usize, b: usize| ts.get(a..b).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
                let _ = write!(
                    out,
                    "  {{\"c\":[{{\"v\":\"Date({},{},{},{},{},{})\"}},{{\"v\":null}},{{\"v\":null}}",
                    f(0, 4),
                    f(5, 7).saturating_sub(1),
                    f(8, 10),
                    f(11, 13),
                    f(14, 16),
                    f(17, 19)
                );
                for v in &rows.values[r] {
                    out.push_str(",{\"v\":");
                    value(&mut out, *v);
                    out.push('}');
                }
                out.push_str("]}");
            }
            out.push_str("\n ]\n}\n");
        }
        Format::Csv | Format::Tsv | Format::Markdown | Format::Html => {
            let (sep, line_start, line_end, cell_start, cell_end) = match q.format {
                Format::Csv => (",", "", "\r\n", "", ""),
                Format::Tsv => ("\t", "", "\r\n", "", ""),
                Format::Markdown => ("|", "", "\r\n", "", ""),
                _ => ("", "<tr>", "</tr>\n", "<td>", "</td>"),
            };
            if q.format == Format::Html {
                out.push_str("<html>\n<center>\n<table border=\"0\" cellpadding=\"5\" cellspacing=\"5\">\n");
            }
            out.push_str(line_start);
            let _ = write!(out, "{cell_start}time{cell_end}");
            for name in &rows.names {
                out.push_str(sep);
                out.push_str(cell_start);
                if q.format == Format::Html {
                    html_escape(&mut out, name);
                } else {
                    out.push_str(name);
                }
                out.push_str(cell_end);
            }
            out.push_str(line_end);
            if q.format == Format::Markdown {
                out.push_str(":---:");
                for _ in &rows.names {
                    out.push_str("|:---:");
                }
                out.push_str("\r\n");
            }
            for r in order(q, n) {
                out.push_str(line_start);
                out.push_str(cell_start);
                time_text(&mut out, q, rows.times[r]);
                out.push_str(cell_end);
                for v in &rows.values[r] {
                    out.push_str(sep);
                    out.push_str(cell_start);
                    match v {
                        Some(v) => json::num(&mut out, *v),
                        None if q.format == Format::Markdown || q.format == Format::Html => {
                            out.push_str("null")
                        }
                        None => {}
                    }
                    out.push_str(cell_end);
                }
                out.push_str(line_end);
            }
            if q.format == Format::Html {
                out.push_str("</table>\n</center>\n</html>\n");
            }
        }
        Format::CsvJsonArray => {
            out.push_str("[\n[\"time\"");
            for name in &rows.names {
                out.push(',');
                json::str(&mut out, name);
            }
            out.push(']');
            for r in order(q, n) {
                out.push_str(",\n[");
                if q.render.milliseconds || q.render.seconds {
                    time_value(&mut out, q, rows.times[r]);
                } else {
                    out.push('"');
                    time_text(&mut out, q, rows.times[r]);
                    out.push('"');
                }
                for v in &rows.values[r] {
                    out.push(',');
                    value(&mut out, *v);
                }
                out.push(']');
            }
            out.push_str("\n]\n");
        }
        Format::Ssv | Format::SsvComma | Format::Array => {
            let sep = match q.format {
                Format::Ssv => " ",
                _ => ",",
            };
            if q.format == Format::Array {
                out.push('[');
            }
            for (k, r) in order(q, n).enumerate() {
                if k > 0 {
                    out.push_str(sep);
                }
                match row_value(&rows.values[r], q.request.options.min2max) {
                    Some(v) => json::num(&mut out, v),
                    None if q.request.options.null2zero => out.push('0'),
                    None => out.push_str(if q.format == Format::Array { "null" } else { "" }),
                }
            }
            if q.format == Format::Array {
                out.push(']');
            }
            if q.format != Format::Array {
                out.push('\n');
            }
        }
    }
    out
}

fn html_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}
