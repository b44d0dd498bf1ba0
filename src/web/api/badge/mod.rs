//! `/api/v1/badge.svg` (also under `/host/<child>/`): status badges for wikis and README
//! files, answered as Netdata 1.37 answers them (checked side by side against a running
//! 1.37.1 in `tests/web_badges.rs`).
//!
//! A badge shows one value: the newest point of a chart query (`chart`, `dimension`s,
//! `after`, `before`, `points`, `group`, `options` — through [`crate::query`], the engine of
//! `/api/v1/data`), or with `alarm` the alarm's current value, coloured by its status. Then
//! `multiply`/`divide`, the units' way of reading ([`format`]) and the colours ([`color`])
//! make the texts, and [`svg`] draws them.
//!
//! What Netdata does with bad input, this does too: bad numbers read as Netdata's `str2l`
//! reads them (`abc` is 0), unknown `group`s and `options` words are ignored, an unknown
//! chart or alarm is a badge saying so (200), only a missing `chart` is a 400. A chart not
//! collected within `update every × (gap when lost iterations above + 2)` seconds, a query
//! that selects no dimension, or one too large for the event loop shows `-`.
//!
//! `[web] allow badges from`: like Netdata 1.37, a client may fetch badges when it passes
//! either `allow dashboard from` or `allow badges from` ([`allowed`] adds the listeners'
//! `=ACL` lists); otherwise 403.

mod color;
mod format;
mod svg;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_answers;

use std::net::IpAddr;
use std::sync::Arc;

use crate::query::{self, Group};
use crate::rrd::{Chart, Host};
use crate::simple_pattern::SimplePattern;
use crate::web::bind::BindSpec;
use crate::web::context::{Acl, Context};
use crate::web::http::{Response, Status};

pub use color::leading_integer;
pub use format::{auto_number, value_text};
pub use svg::{text_width, Badge};

/// The endpoint, after `/api/v1/`.
pub const ENDPOINT: &str = "badge.svg";

/// Whether `path` asks for a badge: `/api/v1/badge.svg` or `/host/<host>/api/v1/badge.svg`.
pub fn is_badge_path(path: &str) -> bool {
    const TAIL: &str = "/api/v1/badge.svg";
    match path.strip_prefix("/host/") {
        Some(rest) => rest.strip_suffix(TAIL).is_some_and(|h| !h.is_empty() && !h.contains('/')),
        None => path == TAIL,
    }
}

/// Whether a client at `peer`, on a listener whose `=ACL` list is `listener_acl`, may fetch
/// badges: Netdata 1.37 lets them through under either the dashboard or the badges
/// permission, each needing the listener to grant it and the client to pass its `allow …
/// from` pattern.
pub fn allowed(ctx: &Context, listener_acl: &[String], peer: IpAddr) -> bool {
    (BindSpec::allows(listener_acl, "dashboard") && ctx.allowed(Acl::Dashboard, peer))
        || (BindSpec::allows(listener_acl, "badges") && ctx.allowed(Acl::Badges, peer))
}

/// `refresh`: none, `auto`, or every so many seconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    None,
    /// The alarm's `every`; for a chart, its `update every` with `unaligned`, else the
    /// window (`before − after`).
    Auto,
    Every(u32),
}

/// A parsed badge request. Every parameter is optional; empty ones count as not given.
#[derive(Clone, Debug, PartialEq)]
pub struct BadgeQuery {
    pub chart: Option<String>,
    pub alarm: Option<String>,
    /// Every `dimension`/`dimensions` value, joined by `|` (also the default label).
    pub dimensions: Option<String>,
    /// `None`: minus the chart's `update every` (the last point).
    pub after: Option<i64>,
    pub before: i64,
    /// 0: one row per stored point.
    pub points: usize,
    pub group: Group,
    pub group_options: String,
    pub options: query::Options,
    pub label: Option<String>,
    pub units: Option<String>,
    pub label_color: Option<String>,
    pub value_color: Option<String>,
    pub label_text_color: Option<String>,
    pub value_text_color: Option<String>,
    /// Never 0.
    pub multiply: i64,
    pub divide: i64,
    /// Decimals; `None`: by the value's size.
    pub precision: Option<usize>,
    /// Percent, 100 ..= 10 000 000.
    pub scale: u32,
    pub refresh: Refresh,
    /// Both `fixed_width_lbl` and `fixed_width_val`, when both are positive.
    pub fixed_widths: Option<(u32, u32)>,
}

impl BadgeQuery {
    /// Reads the decoded query parameters; never fails (see the module's notes).
    pub fn parse(pairs: &[(String, String)]) -> BadgeQuery {
        let mut q = BadgeQuery {
            chart: None,
            alarm: None,
            dimensions: None,
            after: None,
            before: 0,
            points: 1,
            group: Group::Average,
            group_options: String::new(),
            options: query::Options::default(),
            label: None,
            units: None,
            label_color: None,
            value_color: None,
            label_text_color: None,
            value_text_color: None,
            multiply: 1,
            divide: 1,
            precision: None,
            scale: 100,
            refresh: Refresh::None,
            fixed_widths: None,
        };
        let (mut fixed_label, mut fixed_value) = (None, None);
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            let v = value.as_str();
            let int = || leading_integer(v);
            match name.as_str() {
                "chart" => q.chart = Some(v.to_owned()),
                "alarm" => q.alarm = Some(v.to_owned()),
                "dimension" | "dim" | "dimensions" | "dims" => match &mut q.dimensions {
                    Some(d) => {
                        d.push('|');
                        d.push_str(v);
                    }
                    None => q.dimensions = Some(v.to_owned()),
                },
                "after" => q.after = Some(int()),
                "before" => q.before = int(),
                "points" => q.points = usize::try_from(int()).unwrap_or(0).min(query::MAX_POINTS),
                "group" => q.group = Group::parse(v).unwrap_or(Group::Average),
                "group_options" => q.group_options = v.to_owned(),
                "options" => {
                    for w in v.split(|c: char| c == '|' || c == ',' || c.is_whitespace()) {
                        q.options.set(w);
                    }
                }
                "label" => q.label = Some(v.to_owned()),
                "units" => q.units = Some(v.to_owned()),
                "label_color" => q.label_color = Some(v.to_owned()),
                "value_color" => q.value_color = Some(v.to_owned()),
                "text_color_lbl" => q.label_text_color = Some(v.to_owned()),
                "text_color_val" => q.value_text_color = Some(v.to_owned()),
                "multiply" => q.multiply = int(),
                "divide" => q.divide = int(),
                "precision" => q.precision = usize::try_from(int()).ok(),
                "scale" => q.scale = u32::try_from(int().clamp(100, 10_000_000)).unwrap_or(100),
                "refresh" => {
                    q.refresh = if v == "auto" {
                        Refresh::Auto
                    } else {
                        match u32::try_from(int().unsigned_abs().min(u64::from(u32::MAX))).unwrap_or(0) {
                            0 => Refresh::None,
                            n => Refresh::Every(n),
                        }
                    }
                }
                "fixed_width_lbl" => fixed_label = Some(int()),
                "fixed_width_val" => fixed_value = Some(int()),
                _ => {}
            }
        }
        if q.multiply == 0 {
            q.multiply = 1;
        }
        if q.divide == 0 {
            q.divide = 1;
        }
        if let (Some(l), Some(v)) = (fixed_label, fixed_value) {
            if l > 0 && v > 0 {
                let px = |n: i64| u32::try_from(n.min(1_000_000)).unwrap_or(1);
                q.fixed_widths = Some((px(l), px(v)));
            }
        }
        q
    }

    /// `value` × `multiply` ÷ `divide`.
    fn scaled(&self, value: f64) -> f64 {
        value * self.multiply as f64 / self.divide as f64
    }
}

/// Answers `/api/v1/badge.svg` for `host`.
pub fn badge(ctx: &Context, host: &Arc<Host>, pairs: &[(String, String)]) -> Response {
    answer(ctx, host, pairs, crate::clock::now_realtime_sec())
}

/// [`badge`] at time `now` (tests).
pub fn answer(ctx: &Context, host: &Arc<Host>, pairs: &[(String, String)], now: i64) -> Response {
    let q = BadgeQuery::parse(pairs);
    let Some(chart_key) = q.chart.as_deref() else {
        return Response::text(Status::BadRequest, "No chart id is given at the request.");
    };
    let Some(chart) = host.chart_by_id_or_name(chart_key) else {
        return not_found(&q, "chart not found", now);
    };
    if let Some(name) = q.alarm.as_deref() {
        return match find_alarm(ctx, host, &chart, name) {
            Some(alarm) => alarm_badge(&q, &alarm, now),
            None => not_found(&q, "alarm not found", now),
        };
    }
    chart_badge(&q, host, &chart, now)
}

/// What a badge shows of an alarm.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmValue {
    pub name: String,
    /// NaN: none.
    pub value: f64,
    pub units: String,
    /// The colour of its status (a name of [`color::named`]).
    pub status_color: &'static str,
    pub update_every: u32,
}

#[cfg(feature = "health")]
fn find_alarm(ctx: &Context, host: &Host, chart: &Chart, name: &str) -> Option<AlarmValue> {
    use crate::health::Status as S;
    let health = ctx.health.as_ref()?;
    let a = health.host_alarms(host.guid()).into_iter().find(|a| a.chart == chart.id() && a.name == name)?;
    Some(AlarmValue {
        status_color: match a.status {
            S::Critical => "red",
            S::Warning => "orange",
            S::Clear => "brightgreen",
            S::Undefined => "lightgrey",
            // Netdata gives UNINITIALIZED the colour "#000", which its own colour check
            // refuses, so it shows grey; and grey for the rest.
            S::Uninitialized | S::Removed | S::Raised => "grey",
        },
        name: a.name,
        value: a.value,
        units: a.config.units.clone().unwrap_or_default(),
        update_every: a.update_every,
    })
}

#[cfg(not(feature = "health"))]
fn find_alarm(_: &Context, _: &Host, _: &Chart, _: &str) -> Option<AlarmValue> {
    None
}

/// How long a client may keep the answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Caching {
    /// Not at all (`Pragma: no-cache`; expires in a second, as Netdata's API answers).
    None,
    /// For `refresh` seconds (Netdata's alarm badges with a refresh, and chart badges of an
    /// absolute window).
    For(u32),
    /// Not kept, but expires after `refresh` seconds (chart badges of a window relative to
    /// now, with a refresh).
    NoneExpiresIn(u32),
}

/// The badge of an unknown chart or alarm: the reason as label, `-`, default colours.
fn not_found(q: &BadgeQuery, reason: &str, now: i64) -> Response {
    let badge = Badge {
        label: reason.to_owned(),
        value: "-".to_owned(),
        label_color: format!("#{}", color::LABEL),
        value_color: format!("#{}", color::NO_VALUE),
        label_text_color: format!("#{}", color::TEXT),
        value_text_color: format!("#{}", color::TEXT),
        scale: q.scale,
        fixed_widths: None,
    };
    respond(&badge, Caching::None, None, now)
}

fn alarm_badge(q: &BadgeQuery, a: &AlarmValue, now: i64) -> Response {
    let refresh = match q.refresh {
        Refresh::None => None,
        Refresh::Auto => Some(a.update_every).filter(|&n| n > 0),
        Refresh::Every(n) => Some(n),
    };
    let label = q.label.clone().unwrap_or_else(|| a.name.replace('_', " "));
    let units = q.units.clone().unwrap_or_else(|| a.units.clone());
    let badge = draw(q, label, q.scaled(a.value), &units, Some(a.status_color));
    let caching = refresh.map_or(Caching::None, Caching::For);
    respond(&badge, caching, refresh, now)
}

fn chart_badge(q: &BadgeQuery, host: &Host, chart: &Arc<Chart>, now: i64) -> Response {
    let meta = chart.meta();
    let ue = i64::from(meta.update_every.max(1));
    let after = q.after.unwrap_or(-ue);
    let refresh = match q.refresh {
        Refresh::None => None,
        Refresh::Auto if q.options.unaligned => u32::try_from(ue).ok(),
        Refresh::Auto => u32::try_from(q.before.saturating_sub(after).unsigned_abs()).ok().filter(|&n| n > 0),
        Refresh::Every(n) => Some(n),
    };
    let label = q.label.clone().or_else(|| q.dimensions.clone()).unwrap_or_else(|| meta.name.clone());
    let units = q.units.clone().unwrap_or_else(|| {
        if q.options.percentage {
            "%".to_owned()
        } else {
            meta.units.clone()
        }
    });

    let gap = i64::from(host.settings().gap_when_lost_iterations_above) + 2;
    let fresh = chart.last_entry_t().is_some_and(|last| last >= now - ue * gap);
    let request = query::Request {
        after,
        before: q.before,
        points: q.points,
        group: q.group,
        gtime: 0,
        group_options: q.group_options.clone(),
        dimensions: q.dimensions.as_deref().map(|d| SimplePattern::parse_with(d, ",| \t\r\n")),
        options: q.options,
        tier: None,
    };
    let value = match fresh.then(|| query::run_chart(chart, &request, now)) {
        Some(Ok(rows)) if !rows.ids.is_empty() => {
            Some(rows.values.last().and_then(|row| query::row_value(row, q.options.min2max)))
        }
        _ => None,
    };
    match value {
        Some(v) => {
            let badge = draw(q, label, v.map_or(f64::NAN, |v| q.scaled(v)), &units, None);
            // A window of two absolute times may be kept for the refresh period, as Netdata's.
            let absolute = |t: i64| t.unsigned_abs() > query::RELATIVE_LIMIT.unsigned_abs();
            let keep =
                if absolute(after) && absolute(q.before) { Caching::For } else { Caching::NoneExpiresIn };
            respond(&badge, refresh.map_or(Caching::None, keep), refresh, now)
        }
        // No answer: no value, and nothing to refresh.
        None => respond(&draw(q, label, f64::NAN, &units, None), Caching::None, None, now),
    }
}

/// The badge for `value` (NaN: none): the texts and the colours of the request, the value
/// colour by default `status_color` (an alarm's), else by whether there is a value.
fn draw(q: &BadgeQuery, label: String, value: f64, units: &str, status_color: Option<&str>) -> Badge {
    let default_value_color = if value.is_nan() { color::NO_VALUE } else { color::VALUE };
    let spec = q.value_color.as_deref().or(status_color).unwrap_or(default_value_color);
    Badge {
        label,
        value: value_text(value, units, q.precision),
        label_color: color::resolve(q.label_color.as_deref().unwrap_or(color::LABEL), color::LABEL),
        value_color: color::resolve(color::pick(spec, value), color::LABEL),
        label_text_color: color::resolve(q.label_text_color.as_deref().unwrap_or(color::TEXT), color::TEXT),
        value_text_color: color::resolve(q.value_text_color.as_deref().unwrap_or(color::TEXT), color::TEXT),
        scale: q.scale,
        fixed_widths: q.fixed_widths,
    }
}

/// The SVG answer with Netdata's caching headers and, with a refresh, `Refresh: N`.
fn respond(badge: &Badge, caching: Caching, refresh: Option<u32>, now: i64) -> Response {
    let mut r = Response::new(Status::Ok, "image/svg+xml", svg::render(badge));
    let (cache_control, headers) = cache_headers(caching, now);
    r.cache_control = cache_control;
    r.headers = headers;
    if let Some(n) = refresh {
        r.headers.push_str(&format!("Refresh: {n}\r\n"));
    }
    r
}

/// Netdata's `Cache-Control` for `caching`, and the `Pragma` and `Expires` lines at `now`.
pub fn cache_headers(caching: Caching, now: i64) -> (&'static str, String) {
    let (cache_control, expires) = match caching {
        Caching::None => (NOT_KEPT, now + 1),
        Caching::NoneExpiresIn(n) => (NOT_KEPT, now + i64::from(n)),
        Caching::For(n) => ("public", now + i64::from(n)),
    };
    let mut h = String::with_capacity(64);
    if cache_control == NOT_KEPT {
        h.push_str("Pragma: no-cache\r\n");
    }
    h.push_str("Expires: ");
    h.push_str(&http_date(expires));
    h.push_str("\r\n");
    (cache_control, h)
}

/// Netdata's `Cache-Control` of an answer that must not be kept.
const NOT_KEPT: &str = "no-cache, no-store, must-revalidate";

/// `secs` (Unix time) as an HTTP date: `Sun, 06 Dec 2026 19:16:32 GMT`.
pub fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (the proleptic Gregorian calendar in 400-year eras).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
