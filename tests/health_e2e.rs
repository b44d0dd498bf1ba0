//! Health on a parent, end to end: a headless nanodata child (`[db] mode = none`, no web
//! server) runs a plugin whose value the test sets through a file, and streams to a nanodata
//! parent that evaluates a test template on the child's chart. The alarm goes WARNING in
//! the parent's `/host/<child>/api/v1/alarms`; the notification script receives Netdata's 29
//! arguments for it. When the child stops, the parent's `streaming_child_disconnected` (a
//! user file without the stock delay) notifies CRITICAL for the child, and with `health
//! enabled by default = auto` the child's alarms are gone (nothing stale).

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::netdata::{free_port, http_get, API_KEY};
use common::{wait_until, Node};

const LIMIT: Duration = Duration::from_secs(30);

/// One run of the notification script: its arguments.
fn calls(dir: &Path) -> Vec<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "call"));
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|text| {
            // First line: the argument count; then one argument a line.
            let mut lines = text.lines();
            let n: usize = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0);
            let args: Vec<String> = lines.map(str::to_owned).collect();
            assert_eq!(args.len(), n, "an argument with a newline? {text}");
            args
        })
        .collect()
}

fn find_call(dir: &Path, alarm: &str, status: &str) -> Option<Vec<String>> {
    calls(dir).into_iter().find(|a| a.len() >= 10 && a[6] == alarm && a[9] == status)
}

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_child_alarm_notifies_through_the_parent_and_its_disconnection_too() {
    let port = free_port();

    // The parent: a database, health on, the repository's stock alarms and a user directory
    // with the test template and a `streaming.conf` that replaces the stock one.
    let parent = Node::new("hparent", "ram");
    let user_dir = parent.dir.join("health.d");
    let calls_dir = parent.dir.join("calls");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::create_dir_all(&calls_dir).unwrap();
    std::fs::write(
        user_dir.join("test.conf"),
        "template: it_value_high\n      on: test.hctx\n  lookup: average -3s unaligned\n   every: 1s\n    warn: $this > 5\n      to: sysadmin\n",
    )
    .unwrap();
    std::fs::write(
        user_dir.join("streaming.conf"),
        " template: streaming_child_disconnected\n       on: netdata.streaming_child\n     calc: $connected\n    every: 1s\n    units: status\n     crit: $this == 0\n       to: sysadmin\n",
    )
    .unwrap();
    let script = parent.dir.join("notify.sh");
    write_exec(
        &script,
        &format!(
            "#!/bin/sh\nf='{}'/$(date +%s%N)-$$\n{{ echo $#; for a in \"$@\"; do printf '%s\\n' \"$a\"; done; }} > \"$f.tmp\"\nmv \"$f.tmp\" \"$f.call\"\n",
            calls_dir.display()
        ),
    );
    let stock = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf.d/health.d");
    parent.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}\n\
         [health]\n\tenabled = yes\n\tscript to execute on alarm = {}\n\
         [directories]\n\thealth config = {}\n\tstock health config = {}\n",
        script.display(),
        user_dir.display(),
        stock.display()
    ));
    parent.write_stream_conf(&format!(
        "[{API_KEY}]\n\tenabled = yes\n\thealth enabled by default = auto\n\tdefault postpone alarms on connect seconds = 0\n"
    ));

    // The child: headless, one plugin reading its value from a file.
    let child = Node::new("hchild", "none");
    let plugins = child.dir.join("plugins.d");
    std::fs::create_dir_all(&plugins).unwrap();
    let value = child.dir.join("value");
    std::fs::write(&value, "1\n").unwrap();
    write_exec(
        &plugins.join("hval.plugin"),
        &format!(
            "#!/bin/sh\necho \"CHART test.hval '' 'Test value' 'n' 'hfam' 'test.hctx' line 1 1\"\n\
             echo \"DIMENSION v '' absolute 1 1\"\n\
             while :; do v=$(cat '{}' 2>/dev/null || echo 0)\n  echo 'BEGIN test.hval'; echo \"SET v = $v\"; echo END\n  sleep 1\ndone\n",
            value.display()
        ),
    );
    child.append_config(&format!("[web]\n\tmode = none\n[directories]\n\tplugins = {}\n", plugins.display()));
    child.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));

    let parent_run = parent.start_ready(&[]);
    let mut child_run = child.start_ready(&[]);
    let name = "it-hchild";
    let alarms = |q: &str| http_get(port, &format!("/host/{name}/api/v1/alarms{q}")).unwrap_or_default();

    wait_until("the child's test alarm is bound and evaluated", LIMIT, &[&parent_run, &child_run], || {
        alarms("?all").contains("\"test.hval.it_value_high\"")
            && alarms("?all").contains("\"status\": \"CLEAR\"")
    });
    assert!(!alarms("").contains("it_value_high"), "CLEAR is not listed by default");

    std::fs::write(&value, "10\n").unwrap();
    wait_until("the alarm goes WARNING on the parent", LIMIT, &[&parent_run, &child_run], || {
        let a = alarms("");
        a.contains("\"test.hval.it_value_high\"") && a.contains("\"status\": \"WARNING\"")
    });

    let mut warning = None;
    wait_until("the notification script runs for the WARNING", LIMIT, &[&parent_run], || {
        warning = find_call(&calls_dir, "it_value_high", "WARNING");
        warning.is_some()
    });
    let args = warning.unwrap();
    assert_eq!(args.len(), 29, "{args:?}");
    assert_eq!(args[0], "sysadmin", "1: recipient");
    assert_eq!(args[1], name, "2: the child's hostname");
    assert_eq!(args[6], "it_value_high", "7: alarm name");
    assert_eq!(args[7], "test.hval", "8: chart id");
    assert_eq!(args[8], "hfam", "9: family");
    assert_eq!(args[9], "WARNING", "10: status");
    let guid = std::fs::read_to_string(child.dir.join("lib/registry/netdata.public.unique.id")).unwrap();
    assert_eq!(args[28], guid.trim(), "29: the child's machine GUID");

    child_run.stop_orderly();
    let mut critical = None;
    wait_until("streaming_child_disconnected notifies CRITICAL", LIMIT, &[&parent_run], || {
        critical = find_call(&calls_dir, "streaming_child_disconnected", "CRITICAL");
        critical.is_some()
    });
    let args = critical.unwrap();
    assert_eq!(args.len(), 29, "{args:?}");
    assert!(args[7].contains(name), "8: the chart names the child: {args:?}");
    assert_eq!(args[8], name, "9: the family is the child's hostname");
    assert_eq!(args[28], "", "29: the parent's own alarm: no child GUID");

    wait_until("the child's alarms are gone (health auto, child away)", LIMIT, &[&parent_run], || {
        let all = alarms("?all");
        !all.is_empty() && !all.contains("it_value_high")
    });
    assert!(alarms("?all").contains("\"status\": false"), "health is off for the child: {}", alarms("?all"));
}
