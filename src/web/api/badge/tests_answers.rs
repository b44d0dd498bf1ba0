//! Whole badge answers over a host whose chart is collected by hand and a health engine
//! driven by `Health::pass`: values, headers, colours by alarm status, the ACLs.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use super::tests::pairs;
use super::*;
use crate::clock::USEC_PER_SEC;
use crate::config::settings::NodeSettings;
use crate::health::Health;
use crate::rrd::{ChartMeta, DimensionMeta, Host, HostSettings, Hosts};
use crate::web::http::{parse, Parsed};

const T0: i64 = 1_700_000_000;

/// `warm`: the average of 10 s above 5 warns, above 50 is critical.
const CONF: &str = "
template: warm
      on: test.load
  lookup: average -10s of a
   every: 10s
    warn: $this > 5
    crit: $this > 50
   units: %
";

struct Fixture {
    hosts: Arc<Hosts>,
    health: Arc<Health>,
    chart: Arc<Chart>,
    ctx: Context,
}

fn fixture() -> Fixture {
    let hosts =
        Arc::new(Hosts::new(Host::new("g0", "h", HostSettings { history: 120, ..HostSettings::default() })));
    let chart =
        hosts.localhost().chart_define(ChartMeta::new("test", "load").context("test.load").units("%"));
    chart.dimension(DimensionMeta::new("a"));
    chart.dimension(DimensionMeta::new("b"));
    let (configs, errors) = crate::health::config::parse(CONF, Path::new("/etc/netdata/health.d/t.conf"));
    assert!(errors.is_empty(), "{errors:?}");
    let health = Arc::new(Health::new(&NodeSettings::default().health, configs).without_files());
    let ctx = Context::for_tests(Arc::clone(&hosts), Some(Arc::clone(&health)), "", "localhost");
    Fixture { hosts, health, chart, ctx }
}

/// Collects `a`, `b` at `T0 + k` (+0.2 s) for every `k` in `ks`.
fn collect(chart: &Chart, ks: std::ops::RangeInclusive<i64>, a: i64, b: i64) {
    for k in ks {
        let mut c = chart.begin((T0 + k) as u64 * USEC_PER_SEC + 200_000, 0, false);
        c.set(0, a);
        c.set(1, b);
        c.end();
    }
}

/// The answer's status, headers (`Cache-Control` first) and (label, value, value box colour).
fn get(f: &Fixture, query: &str, now: i64) -> (u16, String, (String, String, String)) {
    let r = answer(&f.ctx, f.hosts.localhost(), &pairs(query), now);
    let body = String::from_utf8(r.body).unwrap();
    (r.status.code(), format!("Cache-Control: {}\r\n{}", r.cache_control, r.headers), texts(&body))
}

/// (label, value, value box fill) of a badge SVG.
fn texts(svg: &str) -> (String, String, String) {
    let text = |class: &str| {
        let marker = format!("<text class=\"{class}\"");
        let start = svg.rfind(&marker).unwrap_or_else(|| panic!("no {class}: {svg}"));
        let from = start + svg[start..].find('>').unwrap() + 1;
        svg[from..from + svg[from..].find('<').unwrap()].to_owned()
    };
    let fill = svg.split("<rect class=\"bdge-rect-val\"").nth(1).unwrap();
    let fill = fill.split("fill=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    (text("bdge-lbl-lbl"), text("bdge-lbl-val"), fill)
}

fn t(l: &str, v: &str, c: &str) -> (String, String, String) {
    (l.to_owned(), v.to_owned(), c.to_owned())
}

#[test]
fn a_chart_badge_shows_the_newest_point_summed_over_its_dimensions() {
    let f = fixture();
    collect(&f.chart, 0..=20, 3, 5);
    let now = T0 + 20;
    let (code, headers, shown) = get(&f, "chart=test.load", now);
    assert_eq!(code, 200);
    assert_eq!(shown, t("test.load", "8%", "#4c1"));
    assert_eq!(
        headers,
        format!(
            "Cache-Control: no-cache, no-store, must-revalidate\r\nPragma: no-cache\r\nExpires: {}\r\n",
            http_date(now + 1)
        )
    );
    assert_eq!(get(&f, "chart=test.load&dimension=a", now).2, t("a", "3%", "#4c1"));
    // a's share of a + b: 3 / 8.
    assert_eq!(
        get(&f, "chart=test.load&dimension=a&options=percentage&units=x", now).2,
        t("a", "37.5 x", "#4c1")
    );
    assert_eq!(
        get(&f, "chart=test.load&label=load&multiply=10&divide=3&precision=2&value_color=red>20|blue", now).2,
        t("load", "26.67%", "#e05d44")
    );
    assert_eq!(get(&f, "chart=test.load&dimension=nothing&label=x", now).2, t("x", "-", "#999"));
}

#[test]
fn refresh_sets_the_header_and_the_expiry() {
    let f = fixture();
    collect(&f.chart, 0..=20, 3, 5);
    let now = T0 + 20;
    let (_, h, _) = get(&f, "chart=test.load&refresh=auto", now);
    assert_eq!(h, format!("Cache-Control: no-cache, no-store, must-revalidate\r\nPragma: no-cache\r\nExpires: {}\r\nRefresh: 1\r\n", http_date(now + 1)));
    let (_, h, _) = get(&f, "chart=test.load&refresh=auto&after=-10", now);
    assert!(h.ends_with("Refresh: 10\r\n") && h.contains(&http_date(now + 10)), "{h}");
    let (_, h, _) = get(&f, "chart=test.load&refresh=auto&after=-10&options=unaligned", now);
    assert!(h.ends_with("Refresh: 1\r\n"), "{h}");
    let (_, h, _) = get(&f, "chart=test.load&refresh=-7", now);
    assert!(h.ends_with("Refresh: 7\r\n"), "{h}");
    // Two absolute ends: kept for the refresh period.
    let (_, h, _) = get(&f, &format!("chart=test.load&after={}&before={now}&refresh=5", now - 5), now);
    assert_eq!(h, format!("Cache-Control: public\r\nExpires: {}\r\nRefresh: 5\r\n", http_date(now + 5)));
    let (_, h, _) = get(&f, &format!("chart=test.load&after=-5&before={now}&refresh=5"), now);
    assert!(
        h.starts_with("Cache-Control: no-cache, no-store, must-revalidate\r\nPragma: no-cache\r\n"),
        "{h}"
    );
    // A chart not collected for `update every × (1 + 2)` s has no value and no refresh.
    let (_, h, shown) = get(&f, "chart=test.load&refresh=5", now + 4);
    assert_eq!((h.contains("Refresh"), shown), (false, t("test.load", "-", "#999")));
}

#[test]
fn unknown_charts_and_alarms_are_badges_and_a_missing_chart_is_400() {
    let f = fixture();
    collect(&f.chart, 0..=20, 3, 5);
    let (code, _, shown) = get(&f, "chart=nonexist&label=x&value_color=red", T0 + 20);
    assert_eq!((code, shown), (200, t("chart not found", "-", "#999")));
    let (code, _, shown) = get(&f, "chart=test.load&alarm=nope", T0 + 20);
    assert_eq!((code, shown), (200, t("alarm not found", "-", "#999")));
    let r = answer(&f.ctx, f.hosts.localhost(), &pairs("alarm=warm"), T0 + 20);
    assert_eq!(r.status.code(), 400);
    assert_eq!(String::from_utf8(r.body).unwrap(), "No chart id is given at the request.\n");
}

#[test]
fn an_alarm_badge_is_coloured_by_its_status() {
    let f = fixture();
    collect(&f.chart, 0..=20, 8, 0);
    f.health.pass(&f.hosts, T0 + 20);
    let q = "chart=test.load&alarm=warm";
    assert_eq!(get(&f, q, T0 + 20).2, t("warm", "8%", "#fe7d37"), "WARNING is orange");
    assert_eq!(
        get(&f, &format!("{q}&value_color=blue&label=w&units=u"), T0 + 20).2,
        t("w", "8 u", "#007ec6")
    );
    let (_, h, _) = get(&f, &format!("{q}&refresh=auto"), T0 + 20);
    assert_eq!(
        h,
        format!("Cache-Control: public\r\nExpires: {}\r\nRefresh: 10\r\n", http_date(T0 + 30)),
        "the alarm's every, cacheable"
    );
    collect(&f.chart, 21..=40, 100, 0);
    f.health.pass(&f.hosts, T0 + 40);
    assert_eq!(get(&f, q, T0 + 40).2, t("warm", "100%", "#e05d44"), "CRITICAL is red");
    collect(&f.chart, 41..=60, 1, 0);
    f.health.pass(&f.hosts, T0 + 60);
    assert_eq!(get(&f, q, T0 + 60).2, t("warm", "1%", "#4c1"), "CLEAR is bright green");
    assert_eq!(get(&f, &format!("{q}&multiply=3&precision=1"), T0 + 60).2, t("warm", "3.0%", "#4c1"));
}

#[test]
fn an_alarm_name_becomes_a_label_with_spaces() {
    let f = fixture();
    let conf = "alarm: ram_in_use\n on: test.load\n calc: 1\n every: 10s\n warn: $this > 5\n";
    let (configs, errors) = crate::health::config::parse(conf, Path::new("/x.conf"));
    assert!(errors.is_empty(), "{errors:?}");
    f.health.reload(configs);
    collect(&f.chart, 0..=20, 1, 1);
    f.health.pass(&f.hosts, T0 + 20);
    assert_eq!(get(&f, "chart=test.load&alarm=ram_in_use", T0 + 20).2, t("ram in use", "1", "#4c1"));
}

fn raw(target: &str) -> crate::web::http::Request {
    match parse(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(), 16384) {
        Parsed::Http(r, _) => r,
        _ => panic!("not a request: {target}"),
    }
}

#[test]
fn badges_open_to_either_the_dashboard_or_the_badges_acl() {
    let mut f = fixture();
    collect(&f.chart, 0..=20, 3, 5);
    let local: IpAddr = "127.0.0.1".parse().unwrap();
    let code = |f: &Fixture, target: &str| crate::web::api::handle(&f.ctx, &raw(target), local).status.code();
    let none = SimplePattern::parse("10.*");
    f.ctx.allow_badges = none.clone();
    assert_eq!(code(&f, "/api/v1/badge.svg?chart=test.load"), 200, "the dashboard ACL lets badges through");
    f.ctx.allow_dashboard = none.clone();
    assert_eq!(code(&f, "/api/v1/badge.svg?chart=test.load"), 403);
    assert_eq!(code(&f, "/host/h/api/v1/badge.svg?chart=test.load"), 403);
    f.ctx.allow_badges = SimplePattern::parse("localhost");
    assert_eq!(code(&f, "/api/v1/badge.svg?chart=test.load"), 200);
    assert_eq!(code(&f, "/host/h/api/v1/badge.svg?chart=test.load"), 200);
    assert_eq!(code(&f, "/api/v1/info"), 403, "the badges ACL opens badges only");
    // Listeners' `=ACL` lists: either permission, each with its own pattern.
    let dash = vec!["dashboard".to_string()];
    let badges = vec!["badges".to_string()];
    assert!(allowed(&f.ctx, &badges, local));
    assert!(!allowed(&f.ctx, &dash, local), "a dashboard-only port needs the dashboard pattern");
    f.ctx.allow_dashboard = SimplePattern::parse("*");
    assert!(allowed(&f.ctx, &dash, local));
    f.ctx.allow_badges = none;
    assert!(!allowed(&f.ctx, &badges, local), "a badges-only port needs the badges pattern");
    assert!(allowed(&f.ctx, &[], local), "no list: everything");
}

#[test]
fn extreme_parameters_make_a_badge_not_a_panic() {
    let f = fixture();
    collect(&f.chart, 0..=20, 3, 5);
    for q in [
        "chart=test.load&after=-9223372036854775808&before=9223372036854775807&points=99999999999999999999&group=median",
        "chart=test.load&multiply=-9223372036854775808&divide=-1&precision=99999999999&scale=99999999999",
        "chart=test.load&fixed_width_lbl=9999999999&fixed_width_val=1&refresh=-9223372036854775808",
        "chart=test.load&units=seconds&multiply=9223372036854775807&value_color=red<-9223372036854775808|:|!|<<<<",
        "chart=test.load&label=%F0%9F%98%80<&value_color=||||&label_color=%C3%BF&options=|,, ",
        "chart=test.load&alarm=&dimension=&dimension=*&dims=!*",
    ] {
        let (code, _, (label, value, _)) = get(&f, q, T0 + 20);
        assert_eq!(code, 200, "{q}");
        assert!(!label.is_empty() || q.contains("label="), "{q}");
        assert!(!value.is_empty(), "{q}");
    }
}
