//! The health endpoints over a real engine: one host, one chart collected by hand, two
//! alarms driven by `Health::pass` at chosen times; the bodies parsed as JSON and checked
//! key by key against Netdata 1.37's shapes (protocol.md §8.5, §9.1).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use super::json_value::Value;
use super::*;
use crate::clock::USEC_PER_SEC;
use crate::config::settings::NodeSettings;
use crate::health::Health;
use crate::rrd::{Chart, ChartMeta, DimensionMeta, Host, HostSettings, Hosts};
use crate::web::api::handle;
use crate::web::http::{Method, Request};

const T0: i64 = 1_700_000_000;
const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

/// `high`: average of 10 s above 5 warns. `broken`: its calc divides by zero (inf × 0 is
/// inf, a failed calc), so it has no value (NaN); `NaN > 1` is false, so it is CLEAR (as a
/// Netdata 1.37 alarm with the same calc is).
const CONF: &str = "
template: high
      on: test.load
  lookup: average -10s
   every: 10s
    warn: $this > 5
    crit: $this > 50
   units: %
    info: load is <high>
      to: sysadmin

   alarm: broken
      on: test.load
    calc: $ex / 0 * 0
   every: 10s
    warn: $this > 1
   units: ms
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
    let chart = hosts
        .localhost()
        .chart_define(ChartMeta::new("test", "load").context("test.load").family("load").units("%"));
    chart.dimension(DimensionMeta::new("x").name("ex"));
    let (configs, errors) = crate::health::config::parse(CONF, Path::new("/etc/netdata/health.d/t.conf"));
    assert!(errors.is_empty(), "{errors:?}");
    let health = Arc::new(Health::new(&NodeSettings::default().health, configs).without_files());
    let ctx = Context::for_tests(Arc::clone(&hosts), Some(Arc::clone(&health)), TOKEN, "localhost");
    Fixture { hosts, health, chart, ctx }
}

/// Collects `v` at `T0 + k` (+0.2 s) for every `k` in `ks`: slot `T0 + k` holds `v` from the
/// second collection of `v` on.
fn collect(chart: &Chart, ks: std::ops::RangeInclusive<i64>, v: i64) {
    for k in ks {
        let mut c = chart.begin((T0 + k) as u64 * USEC_PER_SEC + 200_000, 0, false);
        c.set(0, v);
        c.end();
    }
}

/// 8 for 20 s, one pass at T0 + 20: `high` = 8 ⇒ WARNING; `broken` = NaN ⇒ CLEAR. Alarms
/// bind before templates: `broken` is logged first (unique id T0 + 20), `high` second.
fn warned() -> Fixture {
    let f = fixture();
    collect(&f.chart, 0..=20, 8);
    f.health.pass(&f.hosts, T0 + 20);
    f
}

fn request(target: &str, token: Option<&str>) -> Request {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Request {
        method: Method::Get,
        path: path.to_owned(),
        query: query.to_owned(),
        target: target.to_owned(),
        keep_alive: false,
        http10: false,
        accepts_gzip: false,
        host: None,
        auth_token: token.map(str::to_owned),
        if_none_match: None,
        if_modified_since: None,
    }
}

fn get_from(ctx: &Context, target: &str, token: Option<&str>, peer: &str) -> (u16, String) {
    let peer: IpAddr = peer.parse().unwrap();
    let r = handle(ctx, &request(target, token), peer);
    (r.status.code(), String::from_utf8(r.body).unwrap())
}

fn get(f: &Fixture, target: &str) -> Value {
    let (code, body) = get_from(&f.ctx, target, None, "127.0.0.1");
    assert_eq!(code, 200, "{target}: {body}");
    Value::parse(&body).unwrap_or_else(|e| panic!("{target}: {e}\n{body}"))
}

fn manage(f: &Fixture, query: &str) -> String {
    let (code, body) = get_from(&f.ctx, &format!("/api/v1/manage/health?{query}"), Some(TOKEN), "127.0.0.1");
    assert_eq!(code, 200, "{body}");
    body
}

#[test]
fn alarms_lists_raised_alarms_by_default_and_every_alarm_with_all() {
    let f = warned();
    let v = get(&f, "/api/v1/alarms");
    assert_eq!(v.keys(), ["hostname", "latest_alarm_log_unique_id", "status", "now", "alarms"]);
    assert_eq!(v["hostname"].str(), "h");
    assert_eq!(v["status"], Value::Bool(true));
    // Unique ids start at the time the host's health was created (T0 + 20): two changes.
    assert_eq!(v["latest_alarm_log_unique_id"].num(), (T0 + 21) as f64);
    assert_eq!(v["alarms"].keys(), ["test.load.high"], "CLEAR is not active");
    assert_eq!(get(&f, "/api/v1/alarms?active")["alarms"].keys(), ["test.load.high"]);

    let all = get(&f, "/api/v1/alarms?all");
    assert_eq!(all["alarms"].keys(), ["test.load.broken", "test.load.high"]);
    let a = &all["alarms"]["test.load.high"];
    assert_eq!(
        a.keys(),
        [
            "id",
            "config_hash_id",
            "name",
            "chart",
            "family",
            "class",
            "component",
            "type",
            "active",
            "disabled",
            "silenced",
            "exec",
            "recipient",
            "source",
            "units",
            "info",
            "status",
            "last_status_change",
            "last_updated",
            "next_update",
            "update_every",
            "delay_up_duration",
            "delay_down_duration",
            "delay_max_duration",
            "delay_multiplier",
            "delay",
            "delay_up_to_timestamp",
            "warn_repeat_every",
            "crit_repeat_every",
            "value_string",
            "last_repeat",
            "times_repeat",
            "db_after",
            "db_before",
            "lookup_method",
            "lookup_after",
            "lookup_before",
            "lookup_options",
            "warn",
            "warn_parsed",
            "crit",
            "crit_parsed",
            "green",
            "red",
            "value",
        ]
    );
    assert_eq!(a["status"].str(), "WARNING");
    assert_eq!(a["value"].num(), 8.0);
    assert_eq!(a["value_string"].str(), "8%");
    assert_eq!(a["class"].str(), "Unknown", "no class: Netdata says Unknown");
    assert_eq!((a["active"].clone(), a["disabled"].clone()), (Value::Bool(true), Value::Bool(false)));
    assert_eq!(a["recipient"].str(), "sysadmin");
    assert_eq!(a["source"].str(), "2@/etc/netdata/health.d/t.conf");
    assert_eq!(a["info"].str(), "load is <high>");
    assert_eq!(a["warn"].str(), "$this &gt; 5", "expressions are HTML-escaped like Netdata's");
    assert_eq!(a["warn_parsed"].str(), "(${this} &gt; 5)");
    assert_eq!(a["warn_repeat_every"].str(), "0", "a string");
    assert_eq!(a["last_repeat"].str(), "0", "a string");
    assert_eq!((a["update_every"].num(), a["last_updated"].num()), (10.0, (T0 + 20) as f64));
    assert_eq!((a["db_after"].num(), a["db_before"].num()), ((T0 + 11) as f64, (T0 + 20) as f64));
    assert_eq!((a["lookup_method"].str(), a["lookup_after"].num()), ("average", -10.0));
    assert_eq!((a["green"].clone(), a["red"].clone()), (Value::Null, Value::Null));

    let b = &all["alarms"]["test.load.broken"];
    assert_eq!(b["status"].str(), "CLEAR");
    assert_eq!(b["value"], Value::Null, "NaN is null");
    assert_eq!(b["value_string"].str(), "-");
    assert!(b.get("lookup_method").is_none(), "no lookup, no lookup keys");
    assert_eq!(b["calc"].str(), "$ex &#x2F; 0 * 0");
}

#[test]
fn alarms_values_log_and_count_have_netdatas_shapes() {
    let f = warned();
    let v = get(&f, "/api/v1/alarms_values");
    assert_eq!(v.keys(), ["hostname", "alarms"]);
    assert_eq!(v["alarms"].keys(), ["test.load.high"]);
    let a = &v["alarms"]["test.load.high"];
    assert_eq!(a.keys(), ["id", "value", "last_updated", "status"]);
    assert_eq!((a["value"].num(), a["status"].str()), (8.0, "WARNING"));
    let all = get(&f, "/api/v1/alarms_values?all");
    assert_eq!(all["alarms"]["test.load.broken"]["value"], Value::Null);

    let log = get(&f, "/api/v1/alarm_log");
    let Value::Arr(entries) = &log else { panic!("an array") };
    assert_eq!(entries.len(), 2);
    let (high, broken) = (&entries[0], &entries[1]);
    assert_eq!(
        high.keys(),
        [
            "hostname",
            "utc_offset",
            "timezone",
            "unique_id",
            "alarm_id",
            "alarm_event_id",
            "config_hash_id",
            "name",
            "chart",
            "context",
            "family",
            "class",
            "component",
            "type",
            "processed",
            "updated",
            "exec_run",
            "exec_failed",
            "exec",
            "recipient",
            "exec_code",
            "source",
            "command",
            "units",
            "when",
            "duration",
            "non_clear_duration",
            "status",
            "old_status",
            "delay",
            "delay_up_to_timestamp",
            "updated_by_id",
            "updates_id",
            "value_string",
            "old_value_string",
            "last_repeat",
            "silenced",
            "info",
            "value",
            "old_value",
        ]
    );
    assert_eq!((high["name"].str(), high["unique_id"].num()), ("high", (T0 + 21) as f64));
    assert_eq!((broken["name"].str(), broken["unique_id"].num()), ("broken", (T0 + 20) as f64));
    assert_eq!((high["status"].str(), high["old_status"].str()), ("WARNING", "UNINITIALIZED"));
    assert_eq!((high["value"].num(), high["old_value"].clone()), (8.0, Value::Null));
    assert_eq!(high["silenced"].str(), "false", "a string in 1.37");
    assert_eq!(high["info"].str(), "load is &lt;high&gt;", "the log's info is HTML-escaped");
    assert_eq!(high["exec_run"].num(), (T0 + 20) as f64, "the time it ran");
    assert_eq!(broken["info"], Value::Null, "no info: null");
    assert_eq!(broken["value"], Value::Null);

    let Value::Arr(newer) = get(&f, &format!("/api/v1/alarm_log?after={}", T0 + 20)) else { panic!() };
    assert_eq!(newer.len(), 1);
    assert_eq!(newer[0]["name"].str(), "high");
    let Value::Arr(none) = get(&f, "/api/v1/alarm_log?chart=other.chart") else { panic!() };
    assert!(none.is_empty());

    let count = |q: &str| get(&f, &format!("/api/v1/alarm_count{q}"));
    assert_eq!(count(""), Value::Arr(vec![Value::Num(1.0)]), "RAISED by default");
    assert_eq!(count("?status=CLEAR"), Value::Arr(vec![Value::Num(1.0)]));
    assert_eq!(count("?status=UNDEFINED"), Value::Arr(vec![Value::Num(0.0)]));
    assert_eq!(count("?status=garbage"), Value::Arr(vec![Value::Num(1.0)]), "as RAISED");
    assert_eq!(count("?context=other"), Value::Arr(vec![Value::Num(0.0)]));
    assert_eq!(count("?context=other&context=test.*"), Value::Arr(vec![Value::Num(1.0)]));
}

#[test]
fn info_charts_and_shell_show_the_alarms() {
    let f = warned();
    let info = get(&f, "/api/v1/info");
    let a = &info["alarms"];
    assert_eq!(a.keys(), ["normal", "warning", "critical"]);
    assert_eq!((a["normal"].num(), a["warning"].num(), a["critical"].num()), (1.0, 1.0, 0.0));

    let charts = get(&f, "/api/v1/charts");
    assert_eq!(charts["alarms_count"].num(), 2.0);
    let alarms = &charts["charts"]["test.load"]["alarms"];
    assert_eq!(alarms.keys(), ["broken", "high"]);
    assert_eq!(alarms["high"].keys(), ["id", "status", "units", "update_every"]);
    assert_eq!((alarms["high"]["status"].str(), alarms["high"]["units"].str()), ("WARNING", "%"));
    assert_eq!(alarms["broken"]["update_every"].num(), 10.0);
    let one = get(&f, "/api/v1/chart?chart=test.load");
    assert_eq!(one["alarms"]["high"]["id"], alarms["high"]["id"]);

    let (_, shell) = get_from(&f.ctx, "/api/v1/allmetrics?format=shell", None, "127.0.0.1");
    let tail = shell.split("# NETDATA ALARMS RUNNING\n").nth(1).expect("the alarms header");
    assert_eq!(
        tail,
        "NETDATA_ALARM_TEST_LOAD_BROKEN_VALUE=\"\"      # ms\nNETDATA_ALARM_TEST_LOAD_BROKEN_STATUS=\"CLEAR\"\n\
         NETDATA_ALARM_TEST_LOAD_HIGH_VALUE=\"8\"      # %\nNETDATA_ALARM_TEST_LOAD_HIGH_STATUS=\"WARNING\"\n"
    );
}

#[test]
fn alarm_variables_lists_chart_family_and_host_variables() {
    let f = warned();
    let v = get(&f, "/api/v1/alarm_variables?chart=test.load");
    assert_eq!(
        v.keys(),
        [
            "chart",
            "chart_name",
            "chart_context",
            "chart_variables",
            "family",
            "family_variables",
            "host",
            "host_variables"
        ]
    );
    let c = &v["chart_variables"];
    assert_eq!(c["ex"].num(), 8.0, "by name: the last stored value");
    assert_eq!(c["x"].num(), 8.0, "by id");
    assert_eq!(c["x_raw"].num(), 8.0);
    assert_eq!(c["x_last_collected_t"].num(), (T0 + 20) as f64);
    assert_eq!(c["last_collected_t"].num(), (T0 + 20) as f64);
    assert_eq!(c["update_every"].num(), 1.0);
    assert_eq!(c["high"].num(), 8.0, "the chart's alarms by name");
    assert_eq!(c["broken"], Value::Null);
    assert_eq!(c["green"], Value::Null);
    assert_eq!(v["family_variables"]["test.load.ex"].num(), 8.0, "<context>.<dim>");
    assert_eq!(v["host_variables"]["test.load.x_raw"].num(), 8.0);
    assert_eq!(v["host_variables"]["test.load.high"].num(), 8.0);
    let (code, _) = get_from(&f.ctx, "/api/v1/alarm_variables", None, "127.0.0.1");
    assert_eq!(code, 400);
    let (code, _) = get_from(&f.ctx, "/api/v1/alarm_variables?chart=nope", None, "127.0.0.1");
    assert_eq!(code, 404);
}

#[test]
fn manage_needs_the_token_and_an_allowed_address() {
    let f = warned();
    let path = "/api/v1/manage/health?cmd=SILENCE%20ALL";
    let (code, body) = get_from(&f.ctx, path, None, "127.0.0.1");
    assert_eq!((code, body.as_str()), (403, "Auth Error\n"));
    let (code, body) = get_from(&f.ctx, path, Some("22222222-2222-3333-4444-555555555555"), "127.0.0.1");
    assert_eq!((code, body.as_str()), (403, "Auth Error\n"));
    let (code, _) = get_from(&f.ctx, path, Some(TOKEN), "10.1.2.3");
    assert_eq!(code, 403, "`allow management from = localhost`");
    assert!(!f.health.silencers().all, "nothing changed");
    let empty = Context::for_tests(Arc::clone(&f.hosts), Some(Arc::clone(&f.health)), "", "*");
    let (code, _) = get_from(&empty, path, Some(""), "127.0.0.1");
    assert_eq!(code, 403, "no token configured: nobody gets in");
    let (code, body) = get_from(&f.ctx, path, Some(TOKEN), "127.0.0.1");
    assert_eq!((code, body.as_str()), (200, "All alarm notifications are silenced\n"));
}

#[test]
fn manage_silence_notifies_no_one_and_disable_stops_evaluation() {
    let f = fixture();
    collect(&f.chart, 0..=20, 8);
    assert_eq!(manage(&f, "cmd=SILENCE&alarm=hi*"), format!("{}{}", manage::MSG_SILENCE, manage::MSG_ADDED));
    f.health.pass(&f.hosts, T0 + 20);
    let all = get(&f, "/api/v1/alarms?all");
    assert_eq!(all["alarms"]["test.load.high"]["silenced"], Value::Bool(true));
    assert_eq!(all["alarms"]["test.load.broken"]["silenced"], Value::Bool(false), "not selected");
    let Value::Arr(log) = get(&f, "/api/v1/alarm_log?chart=test.load") else { panic!() };
    let high = log.iter().find(|e| e["name"].str() == "high").unwrap();
    assert_eq!((high["status"].str(), high["silenced"].str()), ("WARNING", "true"));
    assert_eq!(high["exec_run"].num(), 0.0, "evaluated, not notified");

    let list = Value::parse(&manage(&f, "cmd=LIST")).unwrap();
    assert_eq!(list.keys(), ["all", "type", "silencers"]);
    assert_eq!((list["all"].clone(), list["type"].str()), (Value::Bool(false), "SILENCE"));
    assert_eq!(
        list["silencers"],
        Value::Arr(vec![Value::Obj(vec![("alarm".into(), Value::Str("hi*".into()))])])
    );

    assert_eq!(manage(&f, "cmd=DISABLE%20ALL"), manage::MSG_DISABLE_ALL);
    collect(&f.chart, 21..=40, 100);
    f.health.pass(&f.hosts, T0 + 40);
    let high = &get(&f, "/api/v1/alarms?all")["alarms"]["test.load.high"];
    assert_eq!((high["disabled"].clone(), high["silenced"].clone()), (Value::Bool(true), Value::Bool(false)));
    assert_eq!(
        (high["status"].str(), high["last_updated"].num()),
        ("WARNING", (T0 + 20) as f64),
        "not evaluated: 100 would be CRITICAL"
    );

    assert_eq!(manage(&f, "cmd=RESET"), manage::MSG_RESET);
    f.health.pass(&f.hosts, T0 + 40);
    let high = &get(&f, "/api/v1/alarms?all")["alarms"]["test.load.high"];
    assert_eq!((high["status"].str(), high["disabled"].clone()), ("CRITICAL", Value::Bool(false)));
    assert_eq!(
        manage(&f, "alarm=x"),
        format!("{}{}", manage::MSG_ADDED, manage::MSG_NO_TYPE),
        "a selector without a type warns"
    );
    assert_eq!(manage(&f, "cmd=NOPE"), "", "an unknown command does nothing");
}

#[test]
fn without_health_the_endpoints_keep_their_shapes() {
    let f = warned();
    let off = Context::for_tests(Arc::clone(&f.hosts), None, TOKEN, "localhost");
    let body = |t: &str| get_from(&off, t, None, "127.0.0.1").1;
    let v = Value::parse(&body("/api/v1/alarms?all")).unwrap();
    assert_eq!(v.keys(), ["hostname", "latest_alarm_log_unique_id", "status", "now", "alarms"]);
    assert_eq!((v["status"].clone(), v["alarms"].keys().len()), (Value::Bool(false), 0));
    assert_eq!(body("/api/v1/alarm_log"), "[\n]\n");
    assert_eq!(body("/api/v1/alarm_count"), "[0]\n");
    let v = Value::parse(&body("/api/v1/alarms_values")).unwrap();
    assert_eq!(v.keys(), ["hostname", "alarms"]);
    let v = Value::parse(&body("/api/v1/info")).unwrap();
    assert_eq!(v["alarms"]["warning"].num(), 0.0);
}
