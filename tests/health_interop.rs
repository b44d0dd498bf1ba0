//! Health against the real Netdata 1.37.1 (Debian's package): a Netdata child that keeps its
//! own database and runs its own health streams into a nanodata parent that loads the same
//! stock `health.d` (Debian's `/usr/lib/netdata/conf.d/health.d`, read in place). The alarms
//! the parent binds to the child's charts, and their statuses, must be the ones the child
//! shows in its own `/api/v1/alarms?all`.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::netdata::{free_port, http_get, ChildOptions, NetdataChild, API_KEY};
use common::{require, Dep, Node};

const STOCK: &str = "/usr/lib/netdata/conf.d/health.d";

/// `"<chart>.<alarm>"` → (status, value) of an `/api/v1/alarms?all` answer.
fn alarms(body: &str) -> BTreeMap<String, (String, Option<f64>)> {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    let all = v["alarms"].as_object().unwrap_or_else(|| panic!("no \"alarms\" object: {body}"));
    all.iter()
        .map(|(k, a)| {
            let status = a["status"].as_str().unwrap_or_else(|| panic!("{k}: no status")).to_string();
            (k.clone(), (status, a["value"].as_f64()))
        })
        .collect()
}

/// What differs between the child's own alarms and the parent's for it.
fn differences(
    child: &BTreeMap<String, (String, Option<f64>)>,
    parent: &BTreeMap<String, (String, Option<f64>)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, (cs, _)) in child {
        match parent.get(k) {
            None => out.push(format!("{k}: on the child ({cs}), not bound on the parent")),
            Some((ps, _)) if ps != cs => out.push(format!("{k}: child {cs}, parent {ps}")),
            _ => {}
        }
    }
    for (k, (ps, _)) in parent {
        if !child.contains_key(k) {
            out.push(format!("{k}: bound on the parent ({ps}), not on the child"));
        }
    }
    out
}

#[test]
fn a_nanodata_parent_alarms_on_a_netdata_child_as_the_child_does() {
    if !require(Dep::Netdata, "the differential health test runs the real Netdata 1.37 as the child") {
        return;
    }
    assert!(std::path::Path::new(STOCK).is_dir(), "{STOCK} is missing: Debian's netdata package installs it");
    let port = free_port();
    let parent = Node::new("health-diff-parent", "ram");
    std::fs::create_dir_all(parent.dir.join("health.d")).unwrap();
    parent.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}\n\
         [directories]\n\tstock health config = {STOCK}\n\thealth config = {}\n\
         [health]\n\tenabled = yes\n\tscript to execute on alarm = /bin/true\n",
        parent.dir.join("health.d").display()
    ));
    parent.write_stream_conf(&format!(
        "[{API_KEY}]\n\tenabled = yes\n\tdefault memory mode = ram\n\tdefault history = 3600\n\
         \thealth enabled by default = yes\n\tdefault postpone alarms on connect seconds = 0\n"
    ));
    let mut run = parent.start_ready(&[]);

    let child_port = free_port();
    let base = std::env::temp_dir().join(format!("nanodata-health-diff-child-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let hostname = "ndhealth".to_string();
    let mut child = NetdataChild::start(
        &base,
        ChildOptions {
            hostname: hostname.clone(),
            destination: format!("127.0.0.1:{port}"),
            api_key: API_KEY.into(),
            compression: true,
            memory_mode: "ram".into(),
            web_port: Some(child_port),
            health: true,
        },
    );

    // Both sides evaluate on their own schedules (every 10 s to 5 min); an alarm that has
    // just become runnable on one side may not be on the other yet. The sets and statuses
    // must agree at some moment within the limit, after every alarm of `every` ≤ 1 min has
    // run on both sides at least once.
    let start = Instant::now();
    let limit = Duration::from_secs(150);
    let settle = Duration::from_secs(75);
    let mut last = Vec::new();
    let mut compared = 0;
    let mut clear = 0;
    while start.elapsed() < limit {
        std::thread::sleep(Duration::from_secs(3));
        if !run.is_running() {
            panic!("the nanodata parent stopped; log:\n{}", run.log());
        }
        let (Some(c), Some(p)) = (
            http_get(child_port, "/api/v1/alarms?all"),
            http_get(port, &format!("/host/{hostname}/api/v1/alarms?all")),
        ) else {
            continue;
        };
        let (c, p) = (alarms(&c), alarms(&p));
        if start.elapsed() < settle || c.is_empty() {
            continue;
        }
        last = differences(&c, &p);
        compared = c.len();
        clear = c.values().filter(|(s, _)| s == "CLEAR").count();
        if last.is_empty() {
            break;
        }
    }
    eprintln!(
        "after {:?}: {compared} alarms on the child, {clear} CLEAR, {} differences",
        start.elapsed(),
        last.len()
    );
    let child_log = child.log();
    child.stop();
    let _ = std::fs::remove_dir_all(&base);
    assert!(compared >= 20, "the Netdata child bound only {compared} alarms; its log:\n{child_log}");
    assert!(
        last.is_empty(),
        "after {:?} the parent's alarms for the child still differ from the child's own ({} alarms on the child):\n{}\nparent log:\n{}",
        start.elapsed(),
        compared,
        last.join("\n"),
        run.log()
    );
    // Not only alarms that never ran: some were evaluated to CLEAR on both sides.
    assert!(clear >= 5, "only {clear} of the {compared} alarms were CLEAR on both sides");
}
