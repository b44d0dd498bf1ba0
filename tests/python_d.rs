//! Netdata's `python.d.plugin` (Debian's `netdata-plugins-python`, 1.37) runs unchanged under
//! nanodata: started from `/usr/lib/netdata/plugins.d` with its stock configuration and a user
//! configuration that enables only its `fail2ban` module, one job `local` reading a fail2ban
//! log the test writes in a temporary directory. (1.37's python.d has no web server log
//! module — `web_log` moved to go.d — so its log module is fail2ban's; it counts `Found`,
//! `Ban` and `Unban` lines per jail like web_log counts response codes.)
//!
//! The charts arrive with the ids, names, contexts, units, priorities, dimensions and labels
//! python.d gives them under Netdata (`fail2ban_<job>.jails_bans`, …), the values are those
//! of the generated log (bans per second, IPs in jail), and the same charts and values reach
//! a nanodata parent under `/host/<child>/`.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::netdata::{free_port, http_get, parse_csv, API_KEY};
use common::{api_points, require, wait_until, Dep, Node, Run};
use serde_json::Value;

const STOCK: &str = "/usr/lib/netdata";
/// Seconds of traffic.
const SECONDS: usize = 10;

/// A chart as python.d's fail2ban module and its framework define it (`fail2ban.chart.py`'s
/// chart table; `bases/charts.py`: type `<module>_<job>`, priorities from the job's 60000 up
/// in chart order, the runtime chart at 145000 in family `python.d`).
struct Expected {
    id: &'static str,
    title: &'static str,
    units: &'static str,
    family: &'static str,
    context: &'static str,
    priority: i64,
    /// (dimension id, name)
    dims: &'static [(&'static str, &'static str)],
}

const CHARTS: &[Expected] = &[
    Expected {
        id: "fail2ban_local.jails_failed_attempts",
        title: "Failed attempts",
        units: "attempts/s",
        family: "failed attempts",
        context: "fail2ban.failed_attempts",
        priority: 60000,
        dims: &[("sshd_failed_attempts", "sshd"), ("nginx-http-auth_failed_attempts", "nginx-http-auth")],
    },
    Expected {
        id: "fail2ban_local.jails_bans",
        title: "Bans",
        units: "bans/s",
        family: "bans",
        context: "fail2ban.bans",
        priority: 60001,
        dims: &[("sshd", "sshd"), ("nginx-http-auth", "nginx-http-auth")],
    },
    Expected {
        id: "fail2ban_local.jails_banned_ips",
        title: "Banned IP addresses (since the last restart of netdata)",
        units: "ips",
        family: "banned ips",
        context: "fail2ban.banned_ips",
        priority: 60002,
        dims: &[("sshd_in_jail", "sshd"), ("nginx-http-auth_in_jail", "nginx-http-auth")],
    },
    Expected {
        id: "netdata.runtime_fail2ban_local",
        title: "Execution time",
        units: "ms",
        family: "python.d",
        context: "netdata.pythond_runtime",
        priority: 145000,
        dims: &[("run_time", "run time")],
    },
];

/// The fail2ban side: its jail configuration (two jails enabled, one disabled) and its log.
struct Fail2ban {
    log: std::path::PathBuf,
}

impl Fail2ban {
    fn new(dir: &Path) -> Fail2ban {
        let f2b = dir.join("f2b");
        std::fs::create_dir_all(f2b.join("jail.d")).unwrap();
        std::fs::write(f2b.join("jail.conf"), "").unwrap();
        std::fs::write(f2b.join("jail.local"), "").unwrap();
        std::fs::write(
            f2b.join("jail.d/nanodata-test.local"),
            "[sshd]\nenabled = true\n\n[nginx-http-auth]\nenabled = true\n\n[recidive]\nenabled = false\n",
        )
        .unwrap();
        let log = f2b.join("fail2ban.log");
        std::fs::write(
            &log,
            "2024-05-01 10:00:00,000 fail2ban.server         [1234]: INFO    Starting Fail2ban v1.0.2\n",
        )
        .unwrap();
        Fail2ban { log }
    }

    /// python.d's configuration: only fail2ban runs, with one job `local` on this jail.
    fn configure(&self, etc: &Path) {
        std::fs::create_dir_all(etc.join("python.d")).unwrap();
        std::fs::write(etc.join("python.d.conf"), "enabled: yes\ndefault_run: no\nfail2ban: yes\n").unwrap();
        let f2b = self.log.parent().unwrap().display().to_string();
        std::fs::write(
            etc.join("python.d/fail2ban.conf"),
            format!(
                "local:\n  log_path: '{f2b}/fail2ban.log'\n  conf_path: '{f2b}/jail.local'\n  conf_dir: '{f2b}/jail.d/'\n"
            ),
        )
        .unwrap();
    }

    /// Appends one second of traffic in one write: 3 bans and 5 failures in `sshd`, 1 ban and
    /// 2 failures in `nginx-http-auth`, from the second second on the unban of an IP banned
    /// the second before, a ban in the disabled jail `recidive`, and a line that is no event.
    fn second(&self, i: usize) {
        let mut text = String::new();
        let mut line = |what: &str| {
            text.push_str(&format!("2024-05-01 10:00:{:02},{:03} {what}\n", i % 60, i));
        };
        for k in 0..5 {
            line(&format!(
                "fail2ban.filter         [1234]: INFO    [sshd] Found 203.0.113.{} - 2024-05-01",
                10 * i + k
            ));
        }
        for k in 0..3 {
            line(&format!("fail2ban.actions        [1234]: NOTICE  [sshd] Ban 192.0.2.{}", 3 * i + k + 1));
        }
        if i > 0 {
            line(&format!(
                "fail2ban.actions        [1234]: NOTICE  [sshd] Unban 192.0.2.{}",
                3 * (i - 1) + 1
            ));
        }
        for k in 0..2 {
            line(&format!(
                "fail2ban.filter         [1234]: INFO    [nginx-http-auth] Found 198.51.100.{}",
                100 + 2 * i + k
            ));
        }
        line(&format!("fail2ban.actions        [1234]: NOTICE  [nginx-http-auth] Ban 198.51.100.{}", i + 1));
        line(&format!("fail2ban.actions        [1234]: NOTICE  [recidive] Ban 192.0.2.{}", 200 + i));
        line("fail2ban.filter         [1234]: INFO    [sshd] Ignore 127.0.0.1 by ip");
        let mut f = std::fs::OpenOptions::new().append(true).open(&self.log).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }
}

/// CLOCK_MONOTONIC in seconds: python.d's jobs collect on its whole seconds.
fn monotonic() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn wall() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Writes `SECONDS` seconds of traffic, each half-way between two of python.d's collections
/// (so each collection reads exactly one second of it); returns the wall-clock seconds of the
/// first and the last write.
fn traffic(f2b: &Fail2ban) -> (i64, i64) {
    let mut first = 0;
    for i in 0..SECONDS {
        let now = monotonic();
        let mut at = now.floor() + 0.5;
        if at < now + 0.05 {
            at += 1.0;
        }
        std::thread::sleep(Duration::from_secs_f64(at - now));
        f2b.second(i);
        if i == 0 {
            first = wall();
        }
    }
    (first, wall())
}

/// `/api/v1/charts` (of `prefix`: empty, or `/host/<name>`) as JSON.
fn charts(port: u16, prefix: &str) -> Option<Value> {
    serde_json::from_str(&http_get(port, &format!("{prefix}/api/v1/charts"))?).ok()
}

/// Every point of one dimension (by id) over the last 2 minutes, oldest first.
fn points(port: u16, prefix: &str, chart: &str, dim: &str) -> Vec<(i64, f64)> {
    let path = format!(
        "{prefix}/api/v1/data?chart={chart}&dimensions={dim}&after=-120&points=0&group=average&gtime=0&format=csv&options=seconds|match-ids"
    );
    let (labels, rows) = parse_csv(&http_get(port, &path).unwrap_or_default());
    assert_eq!(labels.len(), 1, "{path}: one column, got {labels:?}");
    let mut out: Vec<(i64, f64)> =
        rows.iter().filter_map(|(t, v)| Some((*t, v.first().copied().flatten()?))).collect();
    out.sort_by_key(|p| p.0);
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The charts of `CHARTS` as `/api/v1/charts` of `prefix` shows them, checked field by field.
fn check_definitions(port: u16, prefix: &str, logs: &[&Run]) {
    let all = charts(port, prefix).unwrap_or_else(|| panic!("{prefix}/api/v1/charts answers"));
    for e in CHARTS {
        let c = &all["charts"][e.id];
        let logs = || logs.iter().map(|r| r.log()).collect::<Vec<_>>().join("\n----\n");
        assert!(c.is_object(), "{prefix}: no chart {}; logs:\n{}", e.id, logs());
        let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
        let (type_, _) = e.id.split_once('.').unwrap();
        assert_eq!(text("id"), e.id, "{c}");
        assert_eq!(text("name"), e.id, "python.d gives no names: {c}");
        assert_eq!(text("type"), type_, "{c}");
        assert_eq!(text("title"), format!("{} ({})", e.title, e.id), "{c}");
        assert_eq!(text("units"), e.units, "{c}");
        assert_eq!(text("family"), e.family, "{c}");
        assert_eq!(text("context"), e.context, "{c}");
        assert_eq!(text("chart_type"), "line", "{c}");
        assert_eq!(text("plugin"), "python.d.plugin", "{c}");
        assert_eq!(text("module"), "fail2ban", "{c}");
        assert_eq!(c["priority"].as_i64(), Some(e.priority), "{c}");
        assert_eq!(c["update_every"].as_i64(), Some(1), "{c}");
        let dims: BTreeMap<String, String> = c["dimensions"]
            .as_object()
            .map(|d| {
                d.iter()
                    .map(|(id, v)| (id.clone(), v["name"].as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let want: BTreeMap<String, String> =
            e.dims.iter().map(|(i, n)| (i.to_string(), n.to_string())).collect();
        assert_eq!(dims, want, "{prefix} {}: the disabled jail recidive has none: {c}", e.id);
        let labels = &c["chart_labels"];
        assert_eq!(labels["_collect_job"].as_str(), Some("local"), "{c}");
        assert_eq!(labels["_collect_plugin"].as_str(), Some("python.d.plugin"), "{c}");
        assert_eq!(labels["_collect_module"].as_str(), Some("fail2ban"), "{c}");
    }
}

/// The values of the generated log. Rates: bans and failures per second are the counts of one
/// second of traffic while it runs, and over the whole window they add up to the lines
/// written (an incremental dimension stores its increments spread over the seconds, nothing
/// lost). IPs in jail: every ban of a new IP adds one, every unban of a jailed one takes one.
fn check_values(port: u16, prefix: &str, (first, last): (i64, i64)) -> BTreeMap<String, Vec<(i64, f64)>> {
    let n = SECONDS as f64;
    let mut all = BTreeMap::new();
    let rates = [
        ("fail2ban_local.jails_bans", "sshd", 3.0),
        ("fail2ban_local.jails_bans", "nginx-http-auth", 1.0),
        ("fail2ban_local.jails_failed_attempts", "sshd_failed_attempts", 5.0),
        ("fail2ban_local.jails_failed_attempts", "nginx-http-auth_failed_attempts", 2.0),
    ];
    for (chart, dim, per_second) in rates {
        let p = points(port, prefix, chart, dim);
        let total: f64 = p.iter().map(|(_, v)| v).sum();
        assert!(
            (total - per_second * n).abs() < 0.05,
            "{prefix} {chart} {dim}: {total} in all, want {}: {p:?}",
            per_second * n
        );
        let steady: Vec<f64> =
            p.iter().filter(|(t, _)| *t >= first + 2 && *t <= last).map(|(_, v)| *v).collect();
        assert!(
            steady.len() >= SECONDS - 3,
            "{prefix} {chart} {dim}: points in [{}, {last}]: {p:?}",
            first + 2
        );
        let m = median(steady);
        assert!(
            (m - per_second).abs() < 0.2,
            "{prefix} {chart} {dim}: {m}/s while the log grew by {per_second}/s: {p:?}"
        );
        assert!(
            p.iter().all(|(t, v)| *t >= first || *v == 0.0),
            "{prefix} {chart} {dim}: nothing before the traffic: {p:?}"
        );
        all.insert(format!("{chart}/{dim}"), p);
    }
    for (dim, want) in [("sshd_in_jail", 3.0 * n - (n - 1.0)), ("nginx-http-auth_in_jail", n)] {
        let p = points(port, prefix, "fail2ban_local.jails_banned_ips", dim);
        assert_eq!(p.last().map(|x| x.1), Some(want), "{prefix} {dim}: {p:?}");
        assert!(p.windows(2).all(|w| w[1].1 >= w[0].1), "{prefix} {dim} only grows: {p:?}");
        all.insert(format!("jails_banned_ips/{dim}"), p);
    }
    let runtime = points(port, prefix, "netdata.runtime_fail2ban_local", "run_time");
    assert!(runtime.len() >= SECONDS, "{prefix}: the job's runtime is charted every second: {runtime:?}");
    all
}

#[test]
fn netdata_s_python_d_plugin_runs_under_nanodata_and_its_charts_reach_a_parent() {
    if !require(Dep::NetdataPluginsPython, "the plugin under test") {
        return;
    }
    let stock = Path::new(STOCK);
    let quiet = "[plugins]\n\tproc = no\n\tdiskspace = no\n\ttimex = no\n[health]\n\tenabled = no\n";

    let pport = free_port();
    let parent = Node::new("pyd-parent", "ram");
    parent.append_config(&format!("{quiet}[web]\n\tbind to = 127.0.0.1:{pport}\n"));
    parent.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let parent_run = parent.start_ready(&[]);

    // The child: Netdata's plugin directory as it is installed, nothing but python.d enabled,
    // the stock configuration of the package and the user configuration of the test.
    let cport = free_port();
    let child = Node::new("pyd-child", "ram");
    let f2b = Fail2ban::new(&child.dir);
    f2b.configure(&child.dir.join("etc"));
    child.append_config(&format!(
        "{quiet}[web]\n\tbind to = 127.0.0.1:{cport}\n\
         [directories]\n\tplugins = \"{}\"\n\tstock config = {}\n\
         [plugins]\n\tenable running new plugins = no\n\tpython.d = yes\n",
        stock.join("plugins.d").display(),
        stock.join("conf.d").display(),
    ));
    child.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{pport}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let mut child_run = child.start_ready(&[]);
    child_run.wait_for_log("'python.d.plugin': started", Duration::from_secs(10));
    // python.d waits 1.5 s, loads its modules, checks the job, then collects every second.
    wait_until("python.d's fail2ban job collects", Duration::from_secs(45), &[&child_run], || {
        api_points(cport, "fail2ban_local.jails_bans", "sshd") >= 2
    });
    assert!(
        child.dir.join("lib/lock/fail2ban_local.collector.lock").exists(),
        "the job's lock, in <lib>/lock"
    );

    let window = traffic(&f2b);
    // Let the last second's increment be stored (it is spread up to the next collection).
    std::thread::sleep(Duration::from_secs(4));

    check_definitions(cport, "", &[&child_run]);
    let on_child = check_values(cport, "", window);

    // The parent: the same charts under /host/<child>/, with the same numbers.
    let host = "/host/it-pyd-child";
    wait_until(
        "the parent has the child's python.d charts",
        Duration::from_secs(30),
        &[&parent_run, &child_run],
        || charts(pport, host).is_some_and(|c| CHARTS.iter().all(|e| c["charts"][e.id].is_object())),
    );
    check_definitions(pport, host, &[&parent_run, &child_run]);
    let on_parent = check_values(pport, host, window);
    for (key, child_points) in &on_child {
        let parent_points: BTreeMap<i64, f64> = on_parent[key].iter().copied().collect();
        let same =
            child_points.iter().filter(|(t, v)| parent_points.get(t).is_some_and(|p| (p - v).abs() < 1e-3));
        assert!(
            same.count() >= SECONDS,
            "{key}: the parent stores what the child stores: child {child_points:?}, parent {:?}",
            on_parent[key]
        );
    }

    let log = child_run.log();
    assert!(!log.contains("'python.d.plugin': line"), "no protocol errors: {log}");
    assert!(!log.contains("python.d ERROR: plugin"), "python.d itself is content: {log}");
    assert!(log.contains("fail2ban[local] : check success"), "{log}");
    assert!(child_run.stop_orderly() < Duration::from_millis(2500));
}
