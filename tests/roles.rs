//! The four roles of Netdata's streaming design, each started from its shipped
//! configuration in `conf.d/roles/` (only directories, the loopback port, the destination and
//! the host name are set on the command line), chained on loopback:
//!
//! headless collector → headless proxy → proxy with a database → central parent
//!
//! and what each one keeps, serves and forwards is checked.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::netdata::{data_query, data_retrying, free_port, http_get, Rows};
use common::roles::start_role;
use common::{wait_until, Node};

fn local(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// Every `.db` file below `dir`.
fn db_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "db") {
                found.push(p);
            }
        }
    }
    found
}

/// Seconds where both hold every dimension; panics on any difference.
fn same_values(chart: &str, a: &Rows, b: &Rows) -> usize {
    assert_eq!(a.0, b.0, "{chart}: the dimensions differ");
    let mut equal = 0;
    for (t, va) in &a.1 {
        let Some((_, vb)) = b.1.iter().find(|(tb, _)| tb == t) else { continue };
        if va.iter().chain(vb.iter()).any(|v| v.is_none()) {
            continue;
        }
        assert_eq!(va, vb, "{chart} at {t}: the proxy stored {va:?}, the parent {vb:?}");
        equal += 1;
    }
    equal
}

#[test]
fn four_roles_from_their_shipped_configs_chained() {
    let (proxy_port, dbproxy_port, parent_port) = (free_port(), free_port(), free_port());
    let parent = Node::new("role-parent", "map");
    let mut parent_run = start_role(&parent, "parent", "it-role-parent", Some(parent_port), None, &[]);
    let dbproxy = Node::new("role-dbproxy", "map");
    let mut dbproxy_run = start_role(
        &dbproxy,
        "proxy-with-db",
        "it-role-dbproxy",
        Some(dbproxy_port),
        Some(&local(parent_port)),
        &[],
    );
    let proxy = Node::new("role-proxy", "none");
    let mut proxy_run = start_role(
        &proxy,
        "headless-proxy",
        "it-role-proxy",
        Some(proxy_port),
        Some(&local(dbproxy_port)),
        &[],
    );
    let collector = Node::new("role-collector", "none");
    let mut collector_run = start_role(
        &collector,
        "headless-collector",
        "it-role-collector",
        None,
        Some(&local(proxy_port)),
        &[],
    );

    // The collector opens no port and streams to the headless proxy.
    collector_run.wait_for_log("web server is disabled", Duration::from_secs(5));
    collector_run.wait_for_log("established communication", Duration::from_secs(20));
    let logs = [&collector_run, &proxy_run, &dbproxy_run, &parent_run];

    // The parent sees the whole chain, each node one hop further away.
    wait_until("the parent lists every node of the chain", Duration::from_secs(40), &logs, || {
        let info = http_get(parent_port, "/api/v1/info").unwrap_or_default();
        [("it-role-dbproxy", 1), ("it-role-proxy", 2), ("it-role-collector", 3)].iter().all(|(h, hops)| {
            info.contains(&format!("\"hostname\": \"{h}\", \"reachable\": true, \"hops\": {hops}"))
        })
    });
    // Give every hop some seconds of the collector's data.
    wait_until("the parent stores the collector's system.cpu", Duration::from_secs(30), &logs, || {
        let now = nanodata::clock::now_realtime_sec();
        let rows =
            data_retrying(parent_port, &data_query("/host/it-role-collector", "system.cpu", now - 30, now));
        rows.1.iter().filter(|(_, v)| v.iter().all(|x| x.is_some())).count() >= 8
    });

    // The proxy with a database and the parent stored the same values for the collector.
    let now = nanodata::clock::now_realtime_sec();
    for chart in ["system.cpu", "system.intr", "system.ctxt"] {
        let q = data_query("/host/it-role-collector", chart, now - 30, now - 2);
        let kept = data_retrying(dbproxy_port, &q);
        let top = data_retrying(parent_port, &q);
        let n = same_values(chart, &kept, &top);
        assert!(n >= 5, "{chart}: only {n} seconds held by both\nproxy {kept:?}\nparent {top:?}");
    }

    // The collector's own cost, as the parent sees it: bytes it streamed, CPU of its threads.
    let now = nanodata::clock::now_realtime_sec();
    let own = |chart: &str| {
        data_retrying(parent_port, &data_query("/host/it-role-collector", chart, now - 20, now - 2))
    };
    let (labels, rows) = own("netdata.streaming_sent");
    assert_eq!(labels, ["sent"], "{rows:?}");
    assert!(rows.iter().any(|(_, v)| v[0].is_some_and(|x| x > 0.0)), "nothing sent? {rows:?}");
    let (labels, rows) = own("netdata.streaming_buffer");
    assert_eq!(labels, ["used", "free"], "{rows:?}");
    let (labels, rows) = own("netdata.workers_cpu");
    // Each of these workers has values in the window (an empty answer must not pass), and every
    // value is a thread's share of at most the 2 cores.
    for worker in ["proc.stat", "proc.meminfo", "netdata.stats"] {
        let Some(i) = labels.iter().position(|l| l == worker) else {
            panic!("no worker {worker} in {labels:?}")
        };
        let seen = rows.iter().filter(|(_, v)| v.get(i).copied().flatten().is_some()).count();
        assert!(seen >= 5, "{worker}: only {seen} seconds with a value: {rows:?}");
    }
    let values: Vec<f64> = rows.iter().flat_map(|(_, v)| v.iter().flatten().copied()).collect();
    assert!(
        values.iter().all(|x| (0.0..=200.0).contains(x)),
        "a thread's CPU is a share of at most the 2 cores: {rows:?}"
    );

    // The headless proxy serves its child's definitions but keeps no database.
    let charts = http_get(proxy_port, "/host/it-role-collector/api/v1/charts").unwrap_or_default();
    assert!(charts.contains("\"memory_mode\": \"none\""), "headless proxy: {charts}");
    collector_run.stop_orderly();
    proxy_run.stop_orderly();
    dbproxy_run.stop_orderly();
    parent_run.stop_orderly();

    // What each role left on disk: nothing for the headless ones; memory-mapped files of
    // every host for the proxy with a database and for the parent.
    assert_eq!(db_files(&collector.dir.join("cache")), Vec::<PathBuf>::new(), "headless collector");
    assert_eq!(db_files(&proxy.dir.join("cache")), Vec::<PathBuf>::new(), "headless proxy");
    let collector_guid = collector.guid();
    assert!(!collector_guid.is_empty());
    for (node, who) in [(&dbproxy, "proxy with a database"), (&parent, "parent")] {
        let files = db_files(&node.dir.join("cache").join(&collector_guid));
        assert!(
            files.iter().any(|f| f.to_string_lossy().contains("system.cpu")),
            "{who}: no database files of the collector ({files:?})"
        );
    }
}
