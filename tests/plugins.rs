//! External plugins under the real daemon: charts arriving from a plugin, every way a
//! plugin can misbehave (garbage, an over-long line, silence, exits, DISABLE, a flood), a
//! prompt stop with plugins running, the shipped `gateway_ping.plugin`, and Netdata's own
//! `charts.d.plugin` from Debian's `netdata-plugins-bash`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{db_points, require, Dep, Node};

/// Creates `<node>/plugins.d`, points `[directories] plugins` at it and returns it.
fn plugins_dir(node: &Node) -> PathBuf {
    let dir = node.dir.join("plugins.d");
    std::fs::create_dir_all(&dir).unwrap();
    node.append_config(&format!("[directories]\n\tplugins = {}\n", dir.display()));
    dir
}

/// Writes an executable `/bin/sh` plugin `<name>.plugin` whose first act is to append a
/// line to `<node>/<name>.starts` (so tests count starts).
fn plugin(node: &Node, name: &str, body: &str) {
    let path = node.dir.join("plugins.d").join(format!("{name}.plugin"));
    let starts = node.dir.join(format!("{name}.starts"));
    std::fs::write(&path, format!("#!/bin/sh\necho $$ >> '{}'\n{body}\n", starts.display())).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn starts(node: &Node, name: &str) -> Vec<u32> {
    std::fs::read_to_string(node.dir.join(format!("{name}.starts")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// A plugin that defines `test.<name>` with dimension `v` and collects every second.
fn collecting(name: &str) -> String {
    format!(
        "echo \"CHART test.{name} '' 'Test' 'n' '' '' line 1 $1\"\n\
         echo \"DIMENSION v '' absolute 1 1\"\n\
         i=0\n\
         while :; do\n  echo \"BEGIN test.{name}\"; echo \"SET v = $i\"; echo END\n  i=$((i+1)); sleep 1\ndone"
    )
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_plugin_s_charts_arrive_and_stop_is_prompt_with_plugins_running() {
    let node = Node::new("plugin-good", "map");
    plugins_dir(&node);
    plugin(&node, "good", &collecting("good"));
    // Ignores SIGTERM: must be killed after the grace period, and reaped.
    plugin(&node, "stubborn", "trap '' TERM\nwhile :; do sleep 1; done");
    let mut run = node.start(&[]);
    run.wait_for_points(&node, "test.good", "v", 3, Duration::from_secs(20));
    run.wait_for_log("'stubborn.plugin': started", Duration::from_secs(5));
    let stubborn = starts(&node, "stubborn");
    assert_eq!(stubborn.len(), 1);
    let took = run.stop_orderly();
    assert!(took < Duration::from_millis(2500), "stop took {took:?}; log:\n{}", run.log());
    let log = run.log();
    assert!(log.contains("'stubborn.plugin': still running 500 ms after SIGTERM; sending SIGKILL"), "{log}");
    assert!(log.contains("'good.plugin': stopped"), "{log}");
    assert!(!alive(stubborn[0]), "the stubborn plugin was killed and reaped");
    let points = db_points(&node.db_file("test.good", "v"));
    assert!(points.len() >= 3, "{points:?}");
}

#[test]
fn misbehaving_plugins_are_stopped_then_restarted_or_disabled() {
    let node = Node::new("plugin-bad", "ram");
    plugins_dir(&node);
    node.append_config("[plugin:hang]\n\tkill after silent seconds = 2\n");
    plugin(&node, "garbage", "echo 'hello world'\nsleep 100");
    plugin(&node, "longline", "head -c 102400 /dev/zero | tr '\\0' x\necho\nsleep 100");
    plugin(
        &node,
        "hang",
        "echo \"CHART test.hang '' '' '' '' '' line 1 1\"\necho 'DIMENSION v'\n\
         echo 'BEGIN test.hang'; echo 'SET v = 1'; echo END\nexec sleep 1000",
    );
    plugin(&node, "exit0", "echo \"CHART test.exit0 '' '' '' '' '' line 1 1\"\necho 'DIMENSION v'\necho 'BEGIN test.exit0'\necho 'SET v = 1'\necho END\nexit 0");
    plugin(&node, "exit1", "exit 1");
    plugin(&node, "disable", "echo DISABLE\nsleep 100");
    plugin(
        &node,
        "unknownset",
        "echo \"CHART test.u '' '' '' '' '' line 1 1\"\necho 'BEGIN test.u'\necho 'SET nope = 1'\nsleep 100",
    );

    let mut run = node.start(&[]);
    let limit = Duration::from_secs(15);
    run.wait_for_log("'garbage.plugin': line 1: unknown keyword 'hello'; stopping it", limit);
    run.wait_for_log("'garbage.plugin': killed by signal 15 after 0 collections; restarting in 10 s", limit);
    run.wait_for_log(
        "'longline.plugin': line 1: line of at least 102400 bytes is longer than the limit of 15360 bytes",
        limit,
    );
    run.wait_for_log("'exit1.plugin': exited with code 1 after 0 collections; disabled", limit);
    run.wait_for_log("'disable.plugin': line 1: the source asked to be disabled (DISABLE)", limit);
    run.wait_for_log("'unknownset.plugin': line 3: SET for unknown dimension 'nope'", limit);
    run.wait_for_log("'hang.plugin': no output for 2 s; stopping it", limit);
    run.wait_for_log("'hang.plugin': killed by signal 15 after 1 collections; restarting in 1 s", limit);
    run.wait_for_log("'exit0.plugin': exited with code 0 after 1 collections; restarting in 1 s", limit);
    std::thread::sleep(Duration::from_secs(4));
    let log = run.log();
    assert!(
        starts(&node, "exit0").len() >= 3,
        "exit 0 after collecting: restarted every second; log:\n{log}"
    );
    assert!(starts(&node, "hang").len() >= 2, "a silent plugin that had collected is restarted; log:\n{log}");
    assert_eq!(starts(&node, "exit1").len(), 1, "exit 1 without data: disabled");
    assert_eq!(starts(&node, "disable").len(), 1, "DISABLE: never restarted");
    assert_eq!(starts(&node, "unknownset").len(), 1, "✖ errors disable");
    for pid in starts(&node, "exit1").into_iter().chain(starts(&node, "disable")) {
        assert!(!alive(pid), "pid {pid} reaped");
    }
    run.stop_orderly();
}

#[test]
fn new_plugins_are_found_by_the_rescan_unless_disabled() {
    let node = Node::new("plugin-rescan", "ram");
    plugins_dir(&node);
    node.append_config("[plugins]\n\tcheck for new plugins every = 1\n\toff = no\n");
    let mut run = node.start(&[]);
    run.wait_for_log(common::READY, Duration::from_secs(10));
    plugin(&node, "late", &collecting("late"));
    plugin(&node, "off", &collecting("off"));
    run.wait_for_log("'late.plugin': started", Duration::from_secs(5));
    run.wait_for_log("'off.plugin' is disabled by [plugins] off = no", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(starts(&node, "off").is_empty());
    assert_eq!(starts(&node, "late").len(), 1, "started once, not again by later scans");
    run.stop_orderly();
}

#[test]
fn a_flooding_plugin_does_not_starve_the_others() {
    let node = Node::new("plugin-flood", "map");
    plugins_dir(&node);
    plugin(&node, "flood", "exec yes FLUSH");
    plugin(&node, "floodsets", "echo \"CHART test.fs '' '' '' '' '' line 1 1\"\necho 'DIMENSION v'\nyes 'BEGIN test.fs\nSET v = 1\nEND'");
    plugin(&node, "good", &collecting("good"));
    let mut run = node.start(&[]);
    run.wait_for_points(&node, "test.good", "v", 4, Duration::from_secs(25));
    assert!(run.is_running());
    assert_eq!(starts(&node, "flood").len(), 1, "a flood of valid lines is not an error");
    let took = run.stop_orderly();
    assert!(took < Duration::from_millis(2500), "stop took {took:?}");
}

#[test]
fn the_shipped_gateway_ping_plugin_measures_loopback() {
    if !require(Dep::Ping, "the plugin runs ping") {
        return;
    }
    let node = Node::new("plugin-ping", "map");
    let dir = plugins_dir(&node);
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins.d/gateway_ping.plugin");
    std::fs::copy(&shipped, dir.join("gateway_ping.plugin")).unwrap();
    // Only loopback is pinged here.
    node.append_config("[plugin:gateway_ping]\n\tcommand options = 127.0.0.1\n");
    let mut run = node.start(&[]);
    run.wait_for_points(&node, "gateway.packets", "sent", 3, Duration::from_secs(20));
    run.wait_for_points(&node, "gateway.latency", "avg", 3, Duration::from_secs(10));
    let log = run.log();
    assert!(!log.contains("gateway_ping.plugin': line"), "no protocol errors: {log}");
    let took = run.stop_orderly();
    assert!(took < Duration::from_millis(2500), "the plugin exits on SIGTERM: {took:?}");
    assert!(run.log().contains("'gateway_ping.plugin': stopped (exited with code 0)"), "{}", run.log());
}

/// Netdata's `charts.d.plugin` (bash) with its `example` module, unmodified, from Debian's
/// `netdata-plugins-bash` package.
#[test]
fn netdata_s_charts_d_plugin_runs_under_nanodata() {
    let stock = Path::new("/usr/lib/netdata");
    let plugin_file = stock.join("plugins.d/charts.d.plugin");
    if !require(Dep::NetdataPluginsBash, "the plugin under test") {
        return;
    }
    let node = Node::new("plugin-chartsd", "map");
    let dir = plugins_dir(&node);
    // charts.d.plugin finds its modules in $NETDATA_PLUGINS_DIR/../charts.d and sources
    // $NETDATA_PLUGINS_DIR/loopsleepms.sh.inc.
    std::os::unix::fs::symlink(&plugin_file, dir.join("charts.d.plugin")).unwrap();
    std::os::unix::fs::symlink(stock.join("plugins.d/loopsleepms.sh.inc"), dir.join("loopsleepms.sh.inc"))
        .unwrap();
    std::os::unix::fs::symlink(stock.join("charts.d"), node.dir.join("charts.d")).unwrap();
    // Stock configuration from the package; user configuration in the node's config dir.
    node.append_config(&format!("[directories]\n\tstock config = {}\n", stock.join("conf.d").display()));
    let etc = node.dir.join("etc");
    std::fs::create_dir_all(etc.join("charts.d")).unwrap();
    std::fs::write(etc.join("charts.d.conf"), "enable_all_charts=\"no\"\nexample=\"force\"\n").unwrap();
    std::fs::write(etc.join("charts.d/example.conf"), "example_magic_number=12345\nexample_update_every=1\n")
        .unwrap();

    let mut run = node.start(&[]);
    run.wait_for_points(&node, "example.random2", "random", 3, Duration::from_secs(30));
    run.wait_for_points(&node, "example.random", "random1", 2, Duration::from_secs(10));
    let log = run.log();
    assert!(!log.contains("'charts.d.plugin': line"), "no protocol errors: {log}");
    assert!(run.stop_orderly() < Duration::from_millis(2500));
}
