//! The engine over a real host: charts collected into, passes at chosen times.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::bind::tests::config;
use super::*;
use crate::clock::USEC_PER_SEC;
use crate::config::settings::NodeSettings;
use crate::health::config::{Delay, Kind, Lookup};
use crate::health::expr::Expr;
use crate::query::Group;
use crate::rrd::{Chart, ChartMeta, DimensionMeta, Host, HostSettings, Hosts};

const T0: i64 = 1_700_000_000;

fn expr(s: &str) -> Option<Expr> {
    Some(Expr::parse(s).expect("expression"))
}

fn hosts() -> (Hosts, Arc<Chart>) {
    let hosts = Hosts::new(Host::new("g0", "h", HostSettings { history: 120, ..HostSettings::default() }));
    let chart = hosts
        .localhost()
        .chart_define(ChartMeta::new("test", "load").context("test.load").family("load").units("%"));
    chart.dimension(DimensionMeta::new("x").name("ex"));
    (hosts, chart)
}

/// Collects `v` at `T0 + k` (+0.2 s) for every `k` in `ks`. Slot `T0 + k` is interpolated
/// between the collections at `k − 0.8` and `k + 0.2` (protocol.md §5.5), so it holds `v`
/// exactly from the second collection of `v` on (the first slot is a gap).
fn collect(chart: &Chart, ks: std::ops::RangeInclusive<i64>, v: i64) {
    for k in ks {
        let mut c = chart.begin((T0 + k) as u64 * USEC_PER_SEC + 200_000, 0, false);
        c.set(0, v);
        c.end();
    }
}

/// `template: high` on `test.load`: average of the last 10 s, warn above 5, crit above 50.
fn high() -> AlarmConfig {
    let mut c = config(Kind::Template, "high", "test.load");
    c.lookup = Some(Lookup {
        group: Group::Average,
        after: -10,
        before: 0,
        every: 10,
        options: Default::default(),
        anomaly_bit: false,
        of: None,
        foreach: None,
    });
    c.warn = expr("$this > 5");
    c.crit = expr("$this > 50");
    c.units = Some("%".into());
    c.info = Some("load is high".into());
    c.class = Some("Utilization".into());
    c.to = Some("sysadmin".into());
    c
}

fn health(configs: Vec<AlarmConfig>) -> Health {
    Health::new(&NodeSettings::default().health, configs).without_files()
}

fn statuses(h: &Health) -> Vec<(Status, Status)> {
    let mut log: Vec<_> = h.host_log("g0", 0).into_iter().map(|e| (e.old_status, e.status)).collect();
    log.reverse();
    log
}

#[test]
fn a_template_looks_up_evaluates_and_logs_its_changes() {
    let (hosts, chart) = hosts();
    let h = health(vec![high()]);
    collect(&chart, 0..=20, 2);
    assert_eq!(h.pass(&hosts, T0 + 20), T0 + 30, "next due in `every`");
    let a = &h.host_alarms("g0")[0];
    assert_eq!(
        (a.name.as_str(), a.chart.as_str(), a.status, a.value),
        ("high", "test.load", Status::Clear, 2.0)
    );
    assert_eq!((a.db_after, a.db_before, a.update_every), (T0 + 11, T0 + 20, 10));
    assert_eq!(a.value_string(), "2%");
    assert_eq!(h.counts("h"), Counts { normal: 1, ..Counts::default() });

    collect(&chart, 21..=25, 8);
    assert_eq!(h.pass(&hosts, T0 + 25), T0 + 30, "not due: nothing evaluated");
    assert_eq!(h.host_alarms("g0")[0].value, 2.0);
    collect(&chart, 26..=40, 8);
    // Due since T0 + 30; the window ends on a multiple of 10 s: slots 31..40, all 8 (slot
    // 21, between a 2 and an 8, would not be).
    assert_eq!(h.pass(&hosts, T0 + 40), T0 + 50);
    assert_eq!(h.host_alarms("g0")[0].value, 8.0);
    collect(&chart, 41..=60, 100);
    h.pass(&hosts, T0 + 60);
    collect(&chart, 61..=80, 1);
    h.pass(&hosts, T0 + 80);
    use Status::*;
    assert_eq!(
        statuses(&h),
        [(Uninitialized, Clear), (Clear, Warning), (Warning, Critical), (Critical, Clear)]
    );

    let log = h.host_log("g0", 0);
    let (clear, crit, warn, first) = (&log[0], &log[1], &log[2], &log[3]);
    assert_eq!(first.duration, 0);
    assert_eq!((warn.when, warn.duration, warn.value, warn.old_value), (T0 + 40, 20, 8.0, 2.0));
    assert_eq!((crit.value, clear.value), (100.0, 1.0));
    assert_eq!(warn.non_clear_duration, 0, "it left CLEAR");
    assert_eq!(crit.non_clear_duration, 20, "20 s of WARNING");
    assert_eq!(clear.non_clear_duration, 40, "20 s of WARNING + 20 s of CRITICAL");
    assert_eq!((warn.updates_id, warn.updated_by_id), (first.unique_id, crit.unique_id));
    assert!(first.updated && warn.updated && crit.updated && !clear.updated);
    assert_eq!(warn.alarm_event_id, first.alarm_event_id + 1);
    // Notifications: the first CLEAR (nothing sent yet) no; WARNING, CRITICAL, CLEAR yes.
    let ran: Vec<bool> = log.iter().rev().map(|e| e.exec_run).collect();
    assert_eq!(ran, [false, true, true, true]);
    assert!(log.iter().all(|e| e.processed));
    assert_eq!(h.host_log("g0", crit.unique_id).len(), 1, "after");
    assert_eq!(h.latest_unique_id("g0"), clear.unique_id);
}

#[test]
fn a_template_with_the_real_expressions() {
    let (hosts, chart) = hosts();
    let h = Health::new(&NodeSettings::default().health, vec![high()]).without_files();
    collect(&chart, 0..=20, 2);
    h.pass(&hosts, T0 + 20);
    collect(&chart, 21..=40, 8);
    h.pass(&hosts, T0 + 40);
    collect(&chart, 41..=60, 100);
    h.pass(&hosts, T0 + 60);
    use Status::*;
    assert_eq!(statuses(&h), [(Uninitialized, Clear), (Clear, Warning), (Warning, Critical)]);
    assert_eq!(h.host_alarms("g0")[0].value, 100.0);
}

#[test]
fn an_alarm_waits_for_two_collections_and_data_in_its_window() {
    let (hosts, chart) = hosts();
    let mut c = high();
    c.lookup.as_mut().unwrap().after = -60;
    let h = health(vec![c]);
    collect(&chart, 0..=0, 2);
    h.pass(&hosts, T0 + 1);
    assert_eq!(h.host_alarms("g0")[0].status, Status::Uninitialized, "one collection");
    collect(&chart, 1..=20, 2);
    h.pass(&hosts, T0 + 20);
    assert_eq!(h.host_alarms("g0")[0].status, Status::Uninitialized, "the window starts before the data");
    collect(&chart, 21..=70, 2);
    h.pass(&hosts, T0 + 70);
    assert_eq!(h.host_alarms("g0")[0].status, Status::Clear);
}

#[test]
fn variables_follow_netdata_order() {
    let (hosts, chart) = hosts();
    let other =
        hosts.localhost().chart_define(ChartMeta::new("test", "other").context("ctx.other").family("load"));
    other.dimension(DimensionMeta::new("y"));
    let calc = |name: &str, source: &str| {
        let mut c = config(Kind::Alarm, name, "test.load");
        c.calc = expr(source);
        c.every = Some(1);
        c.green = Some(3.0);
        c
    };
    let configs = vec![
        calc("by_id", "$x"),
        calc("by_name", "$ex"),
        calc("raw", "$x_raw"),
        calc("collected_t", "$x_last_collected_t"),
        calc("green", "$green"),
        calc("status", "$WARNING"),
        calc("every", "$update_every"),
        calc("other_alarm", "$by_id"),
        calc("family_dim", "$y"),
        calc("context_dim", "$ctx.other.y"),
        calc("host_dim", "$test.other.y"),
        calc("host_alarm", "$test.load.green"),
        calc("unknown", "$nothing"),
    ];
    let h = health(configs);
    collect(&chart, 0..=10, 7);
    collect(&other, 0..=10, 40);
    h.pass(&hosts, T0 + 10);
    h.pass(&hosts, T0 + 11); // other alarms' values as of the previous pass
    let v: Vec<(String, f64)> = h.host_alarms("g0").into_iter().map(|a| (a.name, a.value)).collect();
    let want = [
        ("by_id", 7.0),
        ("by_name", 7.0),
        ("raw", 7.0),
        ("collected_t", (T0 + 10) as f64),
        ("green", 3.0),
        ("status", 3.0),
        ("every", 1.0),
        ("other_alarm", 7.0),
        ("family_dim", 40.0),
        ("context_dim", 40.0),
        ("host_dim", 40.0),
        ("host_alarm", 3.0),
    ];
    for (name, value) in want {
        assert_eq!(v.iter().find(|(n, _)| n == name).map(|(_, x)| *x), Some(value), "{name}");
    }
    assert!(v.iter().find(|(n, _)| n == "unknown").is_some_and(|(_, x)| x.is_nan()));
}

#[test]
fn alarms_bind_as_charts_appear_and_are_removed_with_them() {
    let (hosts, chart) = hosts();
    let h = health(vec![high(), config(Kind::Template, "net", "net.net")]);
    h.pass(&hosts, T0);
    assert_eq!(h.host_alarms("g0").len(), 1);
    // A child on this parent, and a new chart on it.
    let child = hosts.add(Host::new("g1", "child", HostSettings::default()));
    let eth = child.chart_define(ChartMeta::new("net", "eth0").context("net.net"));
    h.pass(&hosts, T0 + 1);
    assert_eq!(h.host_alarms("child").iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["net"]);
    // Obsolete: REMOVED and freed.
    let mut meta = chart.meta();
    meta.options.obsolete = true;
    chart.redefine(meta);
    h.pass(&hosts, T0 + 2);
    assert!(h.host_alarms("g0").is_empty());
    assert_eq!(statuses(&h), [(Status::Uninitialized, Status::Removed)]);
    // The child goes away: its alarms are REMOVED and its health forgotten.
    drop(eth);
    hosts.remove("g1");
    h.pass(&hosts, T0 + 3);
    assert!(!h.runs_on("g1") && h.runs_on("g0"));
}

#[test]
fn a_flap_inside_the_delay_sends_nothing() {
    let (hosts, chart) = hosts();
    let mut c = high();
    c.delay = Delay { up: 30, down: 0, multiplier: 1.0, max: None };
    let h = health(vec![c]);
    collect(&chart, 0..=20, 2);
    h.pass(&hosts, T0 + 20);
    // The first CLEAR (higher than UNINITIALIZED) took the up delay: until T0 + 50.
    assert_eq!(h.host_log("g0", 0)[0].delay_up_to_timestamp, T0 + 50);
    collect(&chart, 21..=40, 8);
    h.pass(&hosts, T0 + 40); // WARNING inside that delay: 30 × multiplier 1, until T0 + 70
    let warn = h.host_log("g0", 0)[0].clone();
    assert_eq!((warn.status, warn.delay, warn.delay_up_to_timestamp), (Status::Warning, 30, T0 + 70));
    assert!(!warn.processed);
    collect(&chart, 41..=60, 2);
    h.pass(&hosts, T0 + 60); // CLEAR inside the delay: the WARNING is superseded
    collect(&chart, 61..=90, 2);
    h.pass(&hosts, T0 + 90);
    let log = h.host_log("g0", 0);
    assert!(log.iter().all(|e| !e.exec_run), "{log:?}");
    assert!(log[1].updated && !log[1].processed, "the WARNING was never notified");
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("nanodata-health-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn the_log_survives_a_restart_and_alarm_ids_are_kept() {
    let dir = scratch("restart");
    let mut settings = NodeSettings::default().health;
    settings.log_dir = dir.clone();
    let (hosts, chart) = hosts();
    collect(&chart, 0..=20, 2);
    let h = Health::new(&settings, vec![high()]);
    h.pass(&hosts, T0 + 20);
    let before = h.host_log("g0", 0);
    let id = h.host_alarms("g0")[0].id;
    drop(h);
    assert!(dir.join("g0.log").exists());

    let h = Health::new(&settings, vec![high()]);
    collect(&chart, 21..=40, 8);
    h.pass(&hosts, T0 + 40);
    let after = h.host_log("g0", 0);
    assert_eq!(after.len(), 2);
    assert_eq!(after[1].unique_id, before[0].unique_id);
    assert_eq!(after[0].updates_id, before[0].unique_id);
    assert_eq!((after[0].alarm_id, after[0].alarm_event_id), (id, 2));
    assert_eq!(h.host_alarms("g0")[0].id, id);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_notification_program_gets_netdatas_29_arguments() {
    let dir = scratch("notify");
    let out = dir.join("args");
    let script = dir.join("notify.sh");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nexit 3\n", out.display()))
        .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let (hosts, chart) = hosts();
    let mut c = high();
    c.exec = Some(script.to_string_lossy().into_owned());
    let h = health(vec![c]);
    h.start_notifier(Duration::from_secs(10)).unwrap();
    collect(&chart, 0..=20, 2);
    h.pass(&hosts, T0 + 20);
    collect(&chart, 21..=40, 8);
    h.pass(&hosts, T0 + 40);
    let warn = h.host_log("g0", 0)[0].clone();
    let deadline = crate::clock::now_monotonic() + Duration::from_secs(10);
    while h.host_log("g0", 0)[0].exec_code != 3 && crate::clock::now_monotonic() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let args: Vec<&str> = text.lines().collect();
    let want = [
        "sysadmin".to_owned(),
        "h".into(),
        warn.unique_id.to_string(),
        warn.alarm_id.to_string(),
        "2".into(),
        (T0 + 40).to_string(),
        "high".into(),
        "test.load".into(),
        "load".into(),
        "WARNING".into(),
        "CLEAR".into(),
        "8".into(),
        "2".into(),
        "1@/test/high.conf".into(),
        "20".into(),
        "0".into(),
        "%".into(),
        "load is high".into(),
        "8%".into(),
        "2%".into(),
        "$this > 5".into(),
        "NOERRMSG".into(),
        "1".into(),
        "0".into(),
        format!("high={}", T0 + 40),
        String::new(),
        "Utilization".into(),
        "UNKNOWN=0=UNKNOWN".into(),
        String::new(),
    ];
    assert_eq!(args, want.iter().map(String::as_str).collect::<Vec<_>>());
    let done = h.host_log("g0", 0)[0].clone();
    assert!(done.exec_run && done.exec_failed);
    assert_eq!(done.exec_code, 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_repeating_alarm_notifies_every_period_and_its_clear_once() {
    let dir = scratch("repeat");
    let out = dir.join("statuses");
    let script = dir.join("notify.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho \"${{10}} $6\" >> '{}'\n", out.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let (hosts, chart) = hosts();
    let mut c = high();
    c.exec = Some(script.to_string_lossy().into_owned());
    c.repeat = crate::health::config::Repeat { off: false, warning: Some(10), critical: None };
    let h = health(vec![c]);
    h.start_notifier(Duration::from_secs(10)).unwrap();
    collect(&chart, 0..=20, 2);
    h.pass(&hosts, T0 + 20); // CLEAR: not a repeat (nothing raised yet)
    collect(&chart, 21..=40, 8);
    h.pass(&hosts, T0 + 40); // WARNING: sent at once (never repeated before)
    collect(&chart, 41..=50, 8);
    h.pass(&hosts, T0 + 50); // still WARNING, 10 s later: again
    collect(&chart, 51..=60, 2);
    h.pass(&hosts, T0 + 60); // CLEAR: once, with the warning period
    collect(&chart, 61..=70, 2);
    h.pass(&hosts, T0 + 70); // nothing more
    let want = format!("WARNING {}\nWARNING {}\nCLEAR {}\n", T0 + 40, T0 + 50, T0 + 60);
    let deadline = crate::clock::now_monotonic() + Duration::from_secs(10);
    while std::fs::read_to_string(&out).unwrap_or_default().len() < want.len()
        && crate::clock::now_monotonic() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), want);
    let a = &h.host_alarms("g0")[0];
    assert_eq!((a.times_repeat, a.last_repeat, a.warn_repeat_every), (3, T0 + 60, 10));
    // The log's entries of a repeating alarm are not what notifies.
    assert!(h.host_log("g0", 0).iter().all(|e| !e.exec_run));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn foreach_runs_one_alarm_per_dimension_on_that_dimension() {
    let (hosts, chart) = hosts();
    chart.dimension(DimensionMeta::new("y"));
    let mut c = high();
    c.lookup.as_mut().unwrap().foreach = Some("*".into());
    let h = health(vec![c]);
    for k in 0..=20 {
        let mut col = chart.begin((T0 + k) as u64 * USEC_PER_SEC + 200_000, 0, false);
        col.set(0, 2);
        col.set(1, 8);
        col.end();
    }
    h.pass(&hosts, T0 + 20);
    let got: Vec<_> =
        h.host_alarms("g0").into_iter().map(|a| (a.name.clone(), a.status, a.value, a.dimension)).collect();
    assert_eq!(
        got,
        [
            ("high_ex".to_owned(), Status::Clear, 2.0, Some("x".to_owned())),
            ("high_y".to_owned(), Status::Warning, 8.0, Some("y".to_owned())),
        ]
    );
    assert_eq!(h.host_alarms("g0")[1].lookup().unwrap().dimensions, "y");
}

#[test]
fn a_child_that_just_connected_waits_a_minute() {
    let (hosts, _) = hosts();
    let child = hosts.add(Host::new("g1", "child", HostSettings::default()));
    child.set_child_status(crate::rrd::ChildStatus { reachable: true, since: T0, ..Default::default() });
    // `postpone alarms on connect seconds = 60` (the receiver sets this on every connect).
    child.set_health_policy(crate::rrd::HealthPolicy::on_connect(None, 60, 3600, T0));
    child.chart_define(ChartMeta::new("net", "eth0").context("net.net"));
    let h = health(vec![config(Kind::Template, "net", "net.net")]);
    h.pass(&hosts, T0 + 59);
    assert!(h.host_alarms("child").is_empty(), "postponed: not even bound");
    h.pass(&hosts, T0 + 60);
    assert_eq!(h.host_alarms("child").len(), 1);
}

#[test]
fn health_auto_follows_the_child_s_connection_and_no_leaves_it_off() {
    let (hosts, _) = hosts();
    let child = hosts.add(Host::new("g1", "child", HostSettings::default()));
    child.set_child_status(crate::rrd::ChildStatus { reachable: true, since: T0, ..Default::default() });
    child.set_health_policy(crate::rrd::HealthPolicy::on_connect(None, 0, 3600, T0));
    child.chart_define(ChartMeta::new("net", "eth0").context("net.net"));
    let h = health(vec![config(Kind::Template, "net", "net.net")]);
    h.pass(&hosts, T0 + 1);
    assert_eq!(h.host_alarms("child").len(), 1, "auto: bound while connected");
    // The child leaves: nothing of it stays bound (REMOVED, logged).
    child.set_reachable(false, T0 + 2);
    h.pass(&hosts, T0 + 3);
    assert!(h.host_alarms("child").is_empty(), "auto: nothing stale once the child left");
    assert_eq!(h.host_log("child", 0)[0].status, Status::Removed);
    // Back: bound again.
    child.set_reachable(true, T0 + 4);
    h.pass(&hosts, T0 + 5);
    assert_eq!(h.host_alarms("child").len(), 1, "auto: bound again once back");
    // `health enabled = no`: never bound, even connected.
    child.set_health_policy(crate::rrd::HealthPolicy::on_connect(Some(false), 0, 3600, T0 + 6));
    h.pass(&hosts, T0 + 7);
    assert!(h.host_alarms("child").is_empty(), "no: nothing bound");
}

#[test]
fn a_reload_rebinds_every_host_to_the_new_entries() {
    let (hosts, _) = hosts();
    let child = hosts.add(Host::new("g1", "child", HostSettings::default()));
    child.chart_define(ChartMeta::new("net", "eth0").context("net.net"));
    let h = health(vec![config(Kind::Template, "old_one", "net.net")]);
    h.pass(&hosts, T0);
    let names = |h: &Health| h.host_alarms("child").into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(names(&h), ["old_one"]);
    h.reload(vec![config(Kind::Template, "new_one", "net.net")]);
    assert_eq!(h.entries(), 1);
    h.pass(&hosts, T0 + 1);
    assert_eq!(names(&h), ["new_one"], "the old entry's alarm is gone, the new one bound");
    let log = h.host_log("child", 0);
    assert!(
        log.iter().any(|e| e.name == "old_one" && e.status == Status::Removed),
        "the old alarm is logged REMOVED: {log:?}"
    );
}

#[test]
fn a_child_that_reconnects_is_not_notified_again_of_what_was_already_sent() {
    let dir = scratch("reconnect");
    let out = dir.join("statuses");
    let script = dir.join("notify.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho \"${{10}} $2\" >> '{}'\n", out.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let (hosts, _) = hosts();
    let child = hosts.add(Host::new("g1", "child", HostSettings { history: 120, ..HostSettings::default() }));
    child.set_child_status(crate::rrd::ChildStatus { reachable: true, since: T0, ..Default::default() });
    child.set_health_policy(crate::rrd::HealthPolicy::on_connect(None, 0, 3600, T0));
    let chart = child.chart_define(ChartMeta::new("test", "load").context("test.load").family("load"));
    chart.dimension(DimensionMeta::new("x"));
    let mut c = high();
    c.exec = Some(script.to_string_lossy().into_owned());
    let h = health(vec![c]);
    h.start_notifier(Duration::from_secs(10)).unwrap();
    collect(&chart, 0..=20, 8);
    h.pass(&hosts, T0 + 20); // WARNING: notified
    child.set_reachable(false, T0 + 21);
    h.pass(&hosts, T0 + 22); // away (auto): REMOVED, which notifies no one
    child.set_reachable(true, T0 + 30);
    child.set_health_policy(crate::rrd::HealthPolicy::on_connect(None, 0, 3600, T0 + 30));
    collect(&chart, 30..=45, 8);
    h.pass(&hosts, T0 + 45); // WARNING again: the last notification said WARNING already
    collect(&chart, 46..=60, 2);
    h.pass(&hosts, T0 + 60); // CLEAR: notified
    let want = "WARNING child\nCLEAR child\n";
    let deadline = crate::clock::now_monotonic() + Duration::from_secs(10);
    while std::fs::read_to_string(&out).unwrap_or_default().len() < want.len()
        && crate::clock::now_monotonic() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let log: Vec<_> = h.host_log("child", 0).into_iter().rev().map(|e| (e.old_status, e.status)).collect();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), want, "log: {log:?}");
    assert!(log.contains(&(Status::Warning, Status::Removed)), "{log:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[path = "tests_vars.rs"]
mod custom_variables;
