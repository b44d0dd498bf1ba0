//! Growing past one parent, as the README says: four children sharded over two parents (each
//! child lists its own parent first and the other as a standby), both parents started from
//! the shipped `conf.d/roles/parent/` (its `exporting.conf` included) and remote-writing every
//! host they hold into one VictoriaMetrics on loopback. Only the store's address, its path
//! (single-node VictoriaMetrics takes `/api/v1/write` where a cluster's vminsert takes
//! `/insert/0/prometheus/api/v1/write`), `enabled` and a shorter `update every` are set on
//! the command line.
//!
//! Checked: every host of the fleet — both parents and all four children — is in the store;
//! when a parent stops, its children fail over to the other one, which exports them from
//! then on, so their series go on in the store.

#![allow(clippy::disallowed_methods)] // tests time themselves with the standard clock

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::backends::Backend;
use common::netdata::free_port;
use common::roles::start_role;
use common::{require, Dep, Node, Run};

const INSTANCE: &str = "prometheus_remote_write:fleet";
const CPU: &str = "netdata_system_cpu_percentage_average";

fn parent(name: &str, port: u16, vm: &Backend) -> (Node, Run) {
    let node = Node::new(name, "map");
    let set3 = |option: &'static str, value: String| ("set3", INSTANCE, option, value);
    let run = start_role(
        &node,
        "parent",
        name,
        Some(port),
        None,
        &[
            set3("enabled", "yes".into()),
            set3("destination", format!("127.0.0.1:{}", vm.port)),
            set3("remote write URL path", "/api/v1/write".into()),
            set3("update every", "2".into()),
        ],
    );
    (node, run)
}

fn child(name: &str, destinations: &str) -> (Node, Run) {
    let node = Node::new(name, "none");
    let run = start_role(&node, "headless-collector", name, None, Some(destinations), &[]);
    (node, run)
}

/// The `instance` labels of the series named `metric` in the store.
fn instances(vm: &Backend, metric: &str) -> BTreeSet<String> {
    vm.get("/internal/force_flush");
    let r = vm.get(&format!("/api/v1/series?match[]={metric}"));
    let json: serde_json::Value = serde_json::from_slice(&r.body).expect("series JSON");
    json["data"]
        .as_array()
        .map(|series| series.iter().filter_map(|s| s["instance"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The newest sample time (seconds) of `metric` for `instance`.
fn newest(vm: &Backend, metric: &str, instance: &str) -> Option<i64> {
    vm.get("/internal/force_flush");
    let r = vm.get(&format!("/api/v1/export?match[]={metric}{{instance=%22{instance}%22}}"));
    String::from_utf8_lossy(&r.body)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|j| j["timestamps"].as_array()?.iter().filter_map(serde_json::Value::as_i64).max())
        .max()
        .map(|ms| ms / 1000)
}

fn logs(runs: &[&Run]) -> String {
    runs.iter().map(|r| r.log()).collect::<Vec<_>>().join("\n-----\n")
}

#[test]
fn a_fleet_sharded_over_two_parents_lands_in_one_store() {
    if !require(Dep::VictoriaMetrics, "the scale-out store the parents remote-write into") {
        return;
    }
    let vm = Backend::victoria_metrics();
    let (pa, pb) = (free_port(), free_port());
    let (_na, mut ra) = parent("it-so-parent-a", pa, &vm);
    let (_nb, rb) = parent("it-so-parent-b", pb, &vm);
    let a_first = format!("127.0.0.1:{pa} 127.0.0.1:{pb}");
    let b_first = format!("127.0.0.1:{pb} 127.0.0.1:{pa}");
    let kids: Vec<(Node, Run)> = [("it-so-child-1", &a_first), ("it-so-child-2", &a_first)]
        .into_iter()
        .chain([("it-so-child-3", &b_first), ("it-so-child-4", &b_first)])
        .map(|(name, dest)| child(name, dest))
        .collect();

    let fleet: BTreeSet<String> = [
        "it-so-parent-a",
        "it-so-parent-b",
        "it-so-child-1",
        "it-so-child-2",
        "it-so-child-3",
        "it-so-child-4",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info = instances(&vm, "netdata_info");
        let cpu = instances(&vm, CPU);
        if info == fleet && cpu == fleet {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every host of the fleet reached the store in 60 s: netdata_info {info:?}, {CPU} {cpu:?}\n{}\n{}",
            logs(&[&ra, &rb]),
            vm.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Parent A goes away; children 1 and 2 move to B, which exports them from then on.
    ra.stop_orderly();
    let stopped = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let deadline = Instant::now() + Duration::from_secs(60);
    for kid in ["it-so-child-1", "it-so-child-2"] {
        loop {
            // Newer than anything A could have exported: its last window ended before it stopped.
            if newest(&vm, CPU, kid).is_some_and(|t| t > stopped) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{kid}'s series stopped with parent A (newest {:?}, A stopped at {stopped})\n{}\n{}",
                newest(&vm, CPU, kid),
                logs(&[&rb, &kids[0].1, &kids[1].1]),
                vm.log()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    assert!(
        rb.log().contains("it-so-child-1"),
        "parent B received child 1 after the failover:\n{}",
        rb.log()
    );
}
