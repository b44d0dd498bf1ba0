//! nanodata as a headless child streaming to the real Netdata 1.37.1 parent (Debian's
//! package) on loopback: plain, LZ4 and TLS, values and metadata checked on the parent,
//! the rejections, and the gap that replication fills after the parent restarts.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::netdata::{certificates, free_port, NetdataParent, ParentOptions, API_KEY};
use common::{require, Dep, Node};

fn child_stream_conf(port: u16, extra: &str) -> String {
    format!(
        "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{port}{extra}\n    api key = {API_KEY}\n    timeout seconds = 10\n    reconnect delay seconds = 1\n"
    )
}

/// Every stored point of `chart` on the child, by dimension id: `t → value`.
fn child_points(node: &Node, chart: &str, dims: &[String]) -> HashMap<String, HashMap<i64, f64>> {
    dims.iter()
        .map(|d| {
            let pts = nanodata::db::read_file(&node.db_file(chart, d))
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(t, n)| n.value().map(|v| (t, v)))
                .collect();
            (d.clone(), pts)
        })
        .collect()
}

/// Checks that the parent holds, for at least `min` recent seconds, exactly what the child
/// stored for `chart`.
fn assert_same_values(parent: &NetdataParent, node: &Node, hostname: &str, chart: &str, min: usize) {
    let now = nanodata::clock::now_realtime_sec();
    let (labels, rows) = parent.data(hostname, chart, now - 30, now);
    assert!(!labels.is_empty(), "no data for {chart} on the parent; log:\n{}", parent.log());
    let child = child_points(node, chart, &labels);
    let mut compared = 0;
    // A 1.37 parent leaves the first live point after replication empty and interpolates
    // the second over an interval it measures on its own clock (with any 1.37 child):
    // compare from the third point with data on.
    let first_live = rows.iter().position(|(_, v)| v.iter().any(Option::is_some)).unwrap_or(0);
    for (t, values) in rows.iter().skip(first_live + 2) {
        let mut all_present = true;
        for (label, value) in labels.iter().zip(values) {
            let (Some(mine), Some(theirs)) = (child[label].get(t), value) else {
                all_present = false;
                continue;
            };
            // Both ends pack values into 4-byte storage numbers (7 significant digits).
            let tolerance = 1e-6 * mine.abs().max(1.0);
            assert!(
                (mine - theirs).abs() <= tolerance,
                "{chart} {label} at {t}: child {mine}, parent {theirs}"
            );
        }
        if all_present {
            compared += 1;
        }
    }
    assert!(compared >= min, "only {compared} seconds of {chart} compared; parent rows {rows:?}");
}

/// Netdata's `active_processors`: the last `cpuN` line of `/proc/stat`, N + 1.
fn processors() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let last = stat
        .lines()
        .rev()
        .find_map(|l| l.split_whitespace().next()?.strip_prefix("cpu")?.parse::<u32>().ok())?;
    Some(f64::from(last + 1))
}

fn stream_and_compare(
    name: &str,
    parent_options: ParentOptions,
    dest_extra: &str,
    stream_extra: &str,
) -> String {
    let base = std::env::temp_dir().join(format!("nanodata-nd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let port = free_port();
    let parent = NetdataParent::start(&base, port, parent_options);
    let node = Node::new(name, "map");
    let hostname = format!("it-{name}");
    node.write_stream_conf(&(child_stream_conf(port, dest_extra) + stream_extra));
    let mut run = node.start_ready(&[]);
    run.wait_for_log("established communication - sending metrics", Duration::from_secs(20));
    parent.wait_for_chart(&hostname, "system.cpu", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(8));
    for chart in ["system.cpu", "system.intr", "system.processes"] {
        assert_same_values(&parent, &node, &hostname, chart, 4);
    }
    // Metadata as the child defined it.
    let meta = parent.get(&format!("/host/{hostname}/api/v1/chart?chart=system.cpu")).unwrap();
    for needle in [
        "\"units\": \"percentage\"",
        "\"family\": \"cpu\"",
        "\"chart_type\": \"stacked\"",
        "\"priority\": 100",
    ] {
        assert!(meta.contains(needle), "{needle} in {meta}");
    }
    // The child's host variables (`VARIABLE HOST active_processors = N`, sent on connect)
    // are taken by Netdata's parser and listed among the host's variables.
    let vars = parent.get(&format!("/host/{hostname}/api/v1/alarm_variables?chart=system.cpu")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&vars).unwrap();
    assert_eq!(json["host_variables"]["active_processors"].as_f64(), processors(), "{vars}");
    let log = run.log();
    run.stop_orderly();
    drop(parent);
    let _ = std::fs::remove_dir_all(&base);
    log
}

#[test]
fn plain_stream_to_netdata_matches_what_the_child_computed() {
    if !require(Dep::Netdata, "the Netdata parent") {
        return;
    }
    let log =
        stream_and_compare("ndplain", ParentOptions { compression: false, ..Default::default() }, "", "");
    let line = log.lines().find(|l| l.contains("negotiated capabilities")).unwrap();
    assert!(line.contains("REPLICATION") && !line.contains("COMPRESSION"), "{line}");
}

#[test]
fn lz4_stream_to_netdata_matches_what_the_child_computed() {
    if !require(Dep::Netdata, "the Netdata parent") {
        return;
    }
    let log = stream_and_compare("ndlz4", ParentOptions::default(), "", "");
    let line = log.lines().find(|l| l.contains("negotiated capabilities")).unwrap();
    assert!(line.contains("COMPRESSION"), "{line}");
}

#[test]
fn tls_stream_to_netdata_with_skip_verification_and_with_a_ca_file() {
    if !require(Dep::Netdata, "the Netdata parent") {
        return;
    }
    if !require(Dep::Openssl, "the test certificates") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("nanodata-nd-certs-{}", std::process::id()));
    let (cert, key, ca) = certificates(&dir);
    let options = ParentOptions { tls: Some((cert, key)), ..Default::default() };
    stream_and_compare("ndtlsskip", options.clone(), ":SSL", "    ssl skip certificate verification = yes\n");
    let ca = format!("    CAfile = {}\n", ca.display());
    stream_and_compare("ndtlsca", options, ":SSL", &ca);
}

#[test]
fn an_untrusted_certificate_is_refused_with_a_reason() {
    if !require(Dep::Netdata, "the Netdata parent") {
        return;
    }
    if !require(Dep::Openssl, "the test certificates") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("nanodata-nd-certs2-{}", std::process::id()));
    let (cert, key, _) = certificates(&dir);
    let (_, _, other) = certificates(&dir.join("other"));
    let base = std::env::temp_dir().join(format!("nanodata-nd-untrusted-{}", std::process::id()));
    let port = free_port();
    let _parent =
        NetdataParent::start(&base, port, ParentOptions { tls: Some((cert, key)), ..Default::default() });
    let node = Node::new("ndtlsbad", "ram");
    let ca = format!("    CAfile = {}\n", other.display());
    node.write_stream_conf(&(child_stream_conf(port, ":SSL") + &ca));
    let mut run = node.start_ready(&[]);
    run.wait_for_log("TLS handshake failed", Duration::from_secs(20));
    assert_eq!(run.count_in_log("established communication"), 0);
    run.stop_orderly();
}

#[test]
fn rejections_are_logged_and_retried_after_the_back_off() {
    if !require(Dep::Netdata, "the Netdata parent") {
        return;
    }
    let base = std::env::temp_dir().join(format!("nanodata-nd-reject-{}", std::process::id()));
    let port = free_port();
    let parent = NetdataParent::start(&base, port, ParentOptions::default());

    // A wrong API key.
    let wrong = Node::new("ndwrongkey", "ram");
    wrong.write_stream_conf(
        &child_stream_conf(port, "").replace(API_KEY, "99999999-2222-3333-4444-555555555555"),
    );
    let mut run = wrong.start_ready(&[]);
    run.wait_for_log("denied access", Duration::from_secs(20));
    run.wait_for_log("next connection attempt in", Duration::from_secs(5));
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(run.count_in_log("connecting..."), 1, "no tight loop after a denial:\n{}", run.log());
    let wait_line = run.log().lines().find(|l| l.contains("next connection attempt in")).unwrap().to_owned();
    let secs: u64 =
        wait_line.split("attempt in ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(secs >= 48, "a denial waits about a minute: {wait_line}");
    run.stop_orderly();

    // The same machine GUID twice: the second is told it is already streaming.
    let first = Node::new("ndfirst", "ram");
    first.write_stream_conf(&child_stream_conf(port, ""));
    let mut run1 = first.start_ready(&[]);
    run1.wait_for_log("established communication", Duration::from_secs(20));
    let clone = Node::new("ndclone", "ram");
    clone.copy_guid_from(&first);
    clone.write_stream_conf(&child_stream_conf(port, ""));
    let mut run2 = clone.start_ready(&[]);
    run2.wait_for_log("already streamed", Duration::from_secs(20));
    run2.wait_for_log("next connection attempt in", Duration::from_secs(5));
    run2.stop_orderly();
    run1.stop_orderly();
    drop(parent);

    // An address the API key does not allow.
    let base = std::env::temp_dir().join(format!("nanodata-nd-reject2-{}", std::process::id()));
    let port = free_port();
    let _parent =
        NetdataParent::start(&base, port, ParentOptions { allow_from: "10.*".into(), ..Default::default() });
    let denied = Node::new("nddeniedip", "ram");
    denied.write_stream_conf(&child_stream_conf(port, ""));
    let mut run = denied.start_ready(&[]);
    run.wait_for_log("denied access", Duration::from_secs(20));
    run.stop_orderly();
}

#[test]
fn a_parent_restart_leaves_no_gap_for_a_headless_child() {
    if !require(Dep::Netdata, "the Netdata parent") {
        return;
    }
    let base = std::env::temp_dir().join(format!("nanodata-nd-gap-{}", std::process::id()));
    let port = free_port();
    let mut parent = NetdataParent::start(&base, port, ParentOptions::default());
    let node = Node::new("ndgap", "none");
    node.write_stream_conf(&(child_stream_conf(port, "") + "    replication window = 300\n"));
    let mut run = node.start_ready(&[]);
    run.wait_for_log("established communication", Duration::from_secs(20));
    parent.wait_for_chart("it-ndgap", "system.cpu", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(3));

    parent.stop();
    let down_from = nanodata::clock::now_realtime_sec();
    std::thread::sleep(Duration::from_secs(30));
    let down_to = nanodata::clock::now_realtime_sec();
    parent.restart();
    parent.wait_for_chart("it-ndgap", "system.cpu", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(5));

    // The seconds the parent was down. (A 1.37 parent leaves the first second after each
    // replication empty, with any child; that second lies outside this window.)
    let (labels, rows) = parent.data("it-ndgap", "system.cpu", down_from, down_to);
    assert!(!labels.is_empty());
    let user = labels.iter().position(|l| l == "user").unwrap();
    let missing: Vec<i64> = rows.iter().filter(|(_, v)| v[user].is_none()).map(|(t, _)| *t).collect();
    assert!(rows.len() >= 29, "the parent holds the 30 s it was down: {} rows", rows.len());
    assert!(
        missing.is_empty(),
        "empty seconds while the parent was down ({down_from}..{down_to}): {missing:?}\n{rows:?}"
    );
    run.stop_orderly();
}
