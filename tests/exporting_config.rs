//! `exporting.conf` is read from the configuration directory like `stream.conf`:
//! `-W dumpconfig3` renders it (an instance shows what it inherits from
//! `[exporting:global]`), `-W get3`/`-W set3` read and override it, and at start a bad value
//! is logged with its file and line and `[backend]` of nanodata.conf is mapped with a log
//! line.

mod common;

use std::time::Duration;

use common::Node;

fn write_exporting_conf(node: &Node, text: &str) {
    std::fs::create_dir_all(node.dir.join("etc")).unwrap();
    std::fs::write(node.dir.join("etc/exporting.conf"), text).unwrap();
}

#[test]
fn dumpconfig3_get3_and_set3() {
    let node = Node::new("xconfdump", "ram");
    write_exporting_conf(
        &node,
        "[exporting:global]\n\tprefix = fleet\n[graphite:http:relay]\n\tenabled = yes\n\tdestination = 127.0.0.1\n",
    );
    let dump = node.command(&["-W", "dumpconfig3"]);
    assert!(dump.contains("(exporting.conf dialect)"), "{dump}");
    assert!(
        dump.contains("[graphite:http:relay]\n\tenabled = yes\n\tdestination = 127.0.0.1\n\t# data source = average\n\t# prefix = fleet\n"),
        "{dump}"
    );
    assert_eq!(node.command(&["-W", "get3", "graphite:http:relay", "destination", "x"]).trim(), "127.0.0.1");
    assert_eq!(node.command(&["-W", "get3", "graphite:http:relay", "timeout ms", "x"]).trim(), "x", "unset");
    let out = node.command(&["-W", "set3", "graphite:http:relay", "prefix", "own", "-W", "dumpconfig3"]);
    assert!(out.contains("\tprefix = own\n"), "{out}");
    // nanodata.conf and stream.conf are not touched by it.
    assert!(!node.command(&["-W", "dumpconfig"]).contains("graphite:http:relay"));
}

#[test]
fn start_logs_bad_values_with_file_and_line_and_maps_backend() {
    let node = Node::new("xconfrun", "ram");
    node.append_config("[backend]\n\tenabled = no\n\ttype = opentsdb\n\tdestination = 127.0.0.1\n");
    write_exporting_conf(&node, "[exporting:global]\n\tenabled = no\n[json:j]\n\tupdate every = soon\n");
    let mut run = node.start_ready(&[]);
    run.wait_for_log("exporting instance 'backend'", Duration::from_secs(10));
    let log = run.log();
    let bad = log.lines().find(|l| l.contains("invalid value 'soon'")).unwrap_or_else(|| panic!("{log}"));
    assert!(bad.contains("WARN") && bad.contains("exporting.conf:4:") && bad.contains("[json:j]"), "{bad}");
    let mapped = log.lines().find(|l| l.contains("section [backend]")).unwrap_or_else(|| panic!("{log}"));
    assert!(mapped.contains("nanodata.conf:") && mapped.contains("type opentsdb"), "{mapped}");
    run.stop_orderly();
}

#[test]
fn only_enabled_instances_get_a_thread() {
    let node = Node::new("xconfthreads", "ram");
    write_exporting_conf(
        &node,
        "[graphite:g]\n\tenabled = yes\n\tdestination = 127.0.0.1:2003\n[json:off]\n\tenabled = no\n",
    );
    let mut run = node.start_ready(&[]);
    let said = "exporting: instance 'g' (graphite) sends average every 10 s to 127.0.0.1:2003";
    run.wait_for_log(said, Duration::from_secs(10));
    let log = run.log();
    assert!(!log.contains("instance 'off'"), "a disabled instance is not started:\n{log}");
    let threads: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", run.pid()))
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|c| c.trim().to_owned())
        .filter(|c| c.starts_with("exp-"))
        .collect();
    assert_eq!(threads, ["exp-g"], "one thread per enabled instance");
    run.stop_orderly();
}
