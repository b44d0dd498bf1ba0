//! `/api/v1/data` (protocol.md §8.3): the request and its typed options; the query itself
//! is [`crate::query`]'s and the formats are [`render`]'s.
//!
//! [`DataQuery::parse`] turns the query string into a value that cannot hold a bad
//! parameter (a bad one is a 400 with a one-line reason): the window, group method,
//! dimensions and value options become a [`query::Request`], the format and the
//! presentation options (`flip`, `jsonwrap`, `ms`, …) stay here. A query too large for one
//! turn of the event loop is refused by the engine ([`MAX_READ`], [`MAX_VALUES`]).

mod render;

use crate::query::{self, Group, Request, Rows, Target};
use crate::rrd::Host;
use crate::simple_pattern::SimplePattern;

pub use crate::query::{QueryError, MAX_POINTS, MAX_READ, MAX_VALUES};
pub use render::render;

/// A parsed `/api/v1/data` request.
#[derive(Clone, Debug)]
pub struct DataQuery {
    pub target: Target,
    /// What the engine answers: window, points, group, dimensions, value options.
    pub request: Request,
    pub format: Format,
    pub render: RenderOptions,
    pub callback: Option<String>,
    pub filename: Option<String>,
    pub req_id: String,
}

impl DataQuery {
    /// Parses the decoded query parameters. Unknown parameter names are ignored (Netdata
    /// clients add their own, like `_=<timestamp>`); bad values of known ones are errors.
    pub fn parse(pairs: &[(String, String)]) -> Result<DataQuery, String> {
        let mut target = None;
        let mut dims: Vec<String> = Vec::new();
        let mut q = DataQuery {
            target: Target::Chart(String::new()),
            request: Request::default(),
            format: Format::Json,
            render: RenderOptions::default(),
            callback: None,
            filename: None,
            req_id: "0".into(),
        };
        let int = |name: &str, v: &str| -> Result<i64, String> {
            v.trim().parse::<i64>().map_err(|_| format!("parameter '{name}' must be an integer, not '{v}'"))
        };
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            let v = value.as_str();
            match name.as_str() {
                "chart" => target = Some(Target::Chart(v.to_owned())),
                "context" => target = Some(Target::Context(v.to_owned())),
                "dimension" | "dim" | "dimensions" | "dims" => dims.push(v.to_owned()),
                "after" => q.request.after = int(name, v)?,
                "before" => q.request.before = int(name, v)?,
                "points" => {
                    let p = int(name, v)?;
                    if p < 0 {
                        return Err(format!("parameter 'points' must not be negative: {p}"));
                    }
                    q.request.points = (p as usize).min(MAX_POINTS);
                }
                "group" => {
                    q.request.group = Group::parse(v).ok_or_else(|| format!("unknown group method '{v}'"))?
                }
                "gtime" => {
                    q.request.gtime = int(name, v)?;
                    if q.request.gtime < 0 {
                        return Err(format!("parameter 'gtime' must not be negative: {}", q.request.gtime));
                    }
                }
                "group_options" => q.request.group_options = v.to_owned(),
                "format" => q.format = Format::parse(v).ok_or_else(|| format!("unknown format '{v}'"))?,
                "options" => {
                    for w in
                        v.split(|c: char| c == '|' || c == ',' || c.is_whitespace()).filter(|w| !w.is_empty())
                    {
                        if !set_option(&mut q.request.options, &mut q.render, w) {
                            return Err(format!("unknown option '{w}'"));
                        }
                    }
                }
                "callback" => {
                    if !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')) {
                        return Err("parameter 'callback' must be a JavaScript identifier".into());
                    }
                    q.callback = Some(v.to_owned());
                }
                "filename" => {
                    if v.chars().any(|c| c == '"' || c == '/' || c == '\\' || c.is_control()) {
                        return Err("parameter 'filename' has forbidden characters".into());
                    }
                    q.filename = Some(v.to_owned());
                }
                "tqx" => {
                    for kv in v.split(';') {
                        if let Some(id) = kv.strip_prefix("reqId:") {
                            if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                                return Err("tqx reqId must be alphanumeric".into());
                            }
                            q.req_id = id.to_owned();
                        } else if let Some(out) = kv.strip_prefix("out:") {
                            if out == "csv" {
                                q.format = Format::Csv;
                            } else if out == "html" {
                                q.format = Format::Html;
                            } else if out == "tsv-excel" {
                                q.format = Format::Tsv;
                            }
                        }
                    }
                }
                "timeout" => {
                    int(name, v)?;
                }
                "tier" => {
                    q.request.tier = Some(usize::try_from(int(name, v)?.clamp(0, 4)).unwrap_or(0));
                }
                _ => {}
            }
        }
        q.target = target.ok_or("parameter 'chart' or 'context' is required")?;
        if !dims.is_empty() {
            q.request.dimensions = Some(SimplePattern::parse_with(&dims.join(","), ",| \t\r\n"));
        }
        if q.format == Format::Jsonp && q.callback.is_none() {
            q.callback = Some("callback".into());
        }
        Ok(q)
    }
}

/// Runs `q` on `host` (see [`query::run`]).
pub fn run(host: &Host, q: &DataQuery, now: i64) -> Result<Rows, QueryError> {
    query::run(host, &q.target, &q.request, now)
}

/// The output formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsonp,
    Datatable,
    Datasource,
    Csv,
    Tsv,
    Ssv,
    SsvComma,
    Array,
    Html,
    Markdown,
    CsvJsonArray,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "json" => Format::Json,
            "jsonp" => Format::Jsonp,
            "datatable" => Format::Datatable,
            "datasource" => Format::Datasource,
            "csv" => Format::Csv,
            "tsv" | "tsv-excel" => Format::Tsv,
            "ssv" => Format::Ssv,
            "ssvcomma" => Format::SsvComma,
            "array" => Format::Array,
            "html" => Format::Html,
            "markdown" => Format::Markdown,
            "csvjsonarray" => Format::CsvJsonArray,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonp => "jsonp",
            Format::Datatable => "datatable",
            Format::Datasource => "datasource",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Ssv => "ssv",
            Format::SsvComma => "ssvcomma",
            Format::Array => "array",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::CsvJsonArray => "csvjsonarray",
        }
    }

    /// Formats whose body is JSON (so `jsonwrap` embeds them as values, not strings).
    pub fn is_json(self) -> bool {
        matches!(
            self,
            Format::Json
                | Format::Jsonp
                | Format::Datatable
                | Format::Datasource
                | Format::Array
                | Format::CsvJsonArray
        )
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json | Format::Datatable | Format::Array | Format::CsvJsonArray => "application/json",
            Format::Jsonp | Format::Datasource => "application/javascript",
            Format::Html => "text/html; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        }
    }
}

/// The `options` words that change only how the rows are written.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// `flip`, `reversed`, `reverse`: oldest row first.
    pub flip: bool,
    /// The answer inside the envelope with the query's facts.
    pub jsonwrap: bool,
    /// `ms`, `milliseconds`: times in milliseconds.
    pub milliseconds: bool,
    /// Times as epoch seconds in the text formats (instead of local dates).
    pub seconds: bool,
    /// `json` rows as objects keyed by dimension name.
    pub objectrows: bool,
    /// Accepted and echoed; no effect here.
    pub google_json: bool,
    /// `anomaly-bit`, `selected-tier`, `raw`, `jw-anomaly-rates`, `virtual-points`:
    /// accepted and echoed as Netdata 1.37 echoes them; no effect here.
    pub echoed: [bool; 5],
}

/// The words of [`RenderOptions::echoed`], in Netdata's order.
const ECHOED: [&str; 5] = ["anomaly-bit", "selected-tier", "raw", "jw-anomaly-rates", "virtual-points"];

impl RenderOptions {
    /// Sets the option `word` names; `false` when it names none of these.
    fn set(&mut self, word: &str) -> bool {
        let flag = match word {
            "flip" | "reversed" | "reverse" => &mut self.flip,
            "jsonwrap" => &mut self.jsonwrap,
            "ms" | "milliseconds" => &mut self.milliseconds,
            "seconds" => &mut self.seconds,
            "objectrows" => &mut self.objectrows,
            "google_json" => &mut self.google_json,
            w => match ECHOED.iter().position(|&e| e == w) {
                Some(i) => &mut self.echoed[i],
                None => return false,
            },
        };
        *flag = true;
        true
    }
}

/// Words accepted for compatibility that have no effect here (anomaly bits, tiers, raw, …).
const IGNORED_OPTIONS: &[&str] = &["natural-points", "plan", "debug", "nonzero-ignore"];

/// Applies one `options` word; `false` for an unknown word (a 400).
fn set_option(values: &mut query::Options, render: &mut RenderOptions, word: &str) -> bool {
    values.set(word) || render.set(word) || IGNORED_OPTIONS.contains(&word)
}

/// The jsonwrap `options` field as Netdata 1.37.1 writes it (recorded): the options given,
/// each once under its first name, comma-separated, in Netdata's order, then
/// `natural-points` (or `virtual-points` when asked for), then `all-dimensions`.
fn option_names(values: &query::Options, render: &RenderOptions) -> String {
    let [anomaly_bit, selected_tier, raw, jw_anomaly_rates, virtual_points] = render.echoed;
    let all = [
        (values.nonzero, "nonzero"),
        (render.flip, "flip"),
        (render.jsonwrap, "jsonwrap"),
        (values.min2max, "min2max"),
        (render.milliseconds, "ms"),
        (values.absolute, "abs"),
        (values.display_absolute, "display_absolute"),
        (render.seconds, "seconds"),
        (values.null2zero, "null2zero"),
        (render.objectrows, "objectrows"),
        (render.google_json, "google_json"),
        (values.percentage, "percentage"),
        (values.unaligned, "unaligned"),
        (values.match_ids, "match_ids"),
        (values.match_names, "match_names"),
        (anomaly_bit, "anomaly-bit"),
        (selected_tier, "selected-tier"),
        (raw, "raw"),
        (jw_anomaly_rates, "jw-anomaly-rates"),
        (!virtual_points, "natural-points"),
        (virtual_points, "virtual-points"),
        (values.all_dimensions, "all-dimensions"),
    ];
    all.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests;
