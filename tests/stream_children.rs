//! A nanodata parent charts each child's connection on its own host: a real nanodata child
//! streams to it on loopback, `netdata.streaming_child_<child hostname>` appears with
//! `connected` = 1, and reads 0 once the child has stopped.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::netdata::{free_port, http_get, parse_csv, API_KEY};
use common::{wait_until, Node, Run};

/// The newest value of `dim` of the parent's chart `chart`, if it holds one.
fn newest(port: u16, chart: &str, dim: &str) -> Option<f64> {
    let body = http_get(
        port,
        &format!(
            "/api/v1/data?chart={chart}&dimensions={dim}&after=-5&points=0&format=csv&options=seconds|match-ids"
        ),
    )?;
    let (labels, rows) = parse_csv(&body);
    if labels != [dim] {
        return None;
    }
    // Newest first.
    rows.iter().find_map(|(_, v)| v.first().copied().flatten())
}

/// The first string value of `"key"` in a JSON text (the chart API's top-level fields come
/// before its dimensions and labels).
fn field(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

fn parent(port: u16, db: &str) -> (Node, Run) {
    let node = Node::new("chartparent", "ram");
    node.append_config(&format!("{db}[web]\n\tbind to = 127.0.0.1:{port}\n"));
    node.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let run = node.start_ready(&[]);
    (node, run)
}

fn child(port: u16) -> (Node, Run) {
    let node = Node::new("chartkid", "ram");
    node.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

#[test]
fn the_parent_charts_a_child_connected_then_disconnected() {
    let port = free_port();
    let (_parent_node, parent_run) = parent(port, "");
    let (_child_node, mut child_run) = child(port);
    // Node::new names the host `it-<name>`.
    let chart = "netdata.streaming_child_it-chartkid";

    wait_until(
        "the child's connection chart reads connected = 1",
        Duration::from_secs(20),
        &[&parent_run, &child_run],
        || newest(port, chart, "connected") == Some(1.0),
    );
    let def = http_get(port, &format!("/api/v1/chart?chart={chart}")).expect("the chart is served");
    assert_eq!(field(&def, "id").as_deref(), Some(chart), "{def}");
    assert_eq!(field(&def, "context").as_deref(), Some("netdata.streaming_child"), "{def}");
    assert_eq!(field(&def, "family").as_deref(), Some("it-chartkid"), "{def}");
    assert_eq!(field(&def, "units").as_deref(), Some("status"), "{def}");
    assert!(field(&def, "title").is_some_and(|t| t.contains("it-chartkid")), "{def}");
    assert!(def.contains("\"connected\"") && def.contains("\"seconds_since_data\""), "{def}");
    // Streaming every second: no delay to report.
    assert_eq!(newest(port, chart, "seconds_since_data"), Some(0.0));

    child_run.stop_orderly();
    wait_until("connected = 0 after the child stopped", Duration::from_secs(15), &[&parent_run], || {
        newest(port, chart, "connected") == Some(0.0)
    });
    // The delay grows once past the child's update every (1 s) and a second of jitter.
    wait_until("seconds_since_data grows", Duration::from_secs(15), &[&parent_run], || {
        newest(port, chart, "seconds_since_data").is_some_and(|s| s >= 3.0)
    });
}

#[test]
fn the_chart_of_a_child_removed_as_an_orphan_goes_away() {
    let port = free_port();
    // The `[db]` section is the last one Node::new wrote: these lines extend it.
    let db = "\tcleanup orphan hosts after secs = 2\n\tcleanup obsolete charts after secs = 2\n";
    let (_parent_node, parent_run) = parent(port, db);
    let (_child_node, mut child_run) = child(port);
    let chart = "netdata.streaming_child_it-chartkid";
    let logs = [&parent_run, &child_run];
    wait_until("the child's connection chart exists", Duration::from_secs(20), &logs, || {
        newest(port, chart, "connected") == Some(1.0)
    });
    child_run.stop_orderly();
    // Removed 2 s after the disconnection, its chart obsolete then, freed 2 s later.
    wait_until("the chart is gone after the orphan cleanup", Duration::from_secs(30), &[&parent_run], || {
        http_get(port, &format!("/api/v1/chart?chart={chart}")).is_none()
    });
    let log = parent_run.log();
    assert!(log.contains("host 'it-chartkid'") && log.contains("removing it"), "{log}");
    assert!(log.contains("host 'it-chartparent': removed 1 obsolete chart(s)"), "{log}");
}
