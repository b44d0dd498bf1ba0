//! Custom host variables end to end: a headless nanodata child runs a plugin that sends
//! `VARIABLE HOST it_limit = <n>` (n read from a file) and streams to a nanodata parent
//! whose user health.d has an alarm `calc: $it_limit` on the child's chart. The parent's
//! `/host/<child>/api/v1/alarms?all` shows the alarm with the value 7; when the plugin
//! changes the variable to 9 the parent's alarm follows (the child sends host variables
//! again when they change). The child's own `active_processors` (from its `/proc/stat`)
//! reaches the parent too.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::netdata::{free_port, http_get, API_KEY};
use common::{wait_until, Node};

const LIMIT: Duration = Duration::from_secs(30);

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The `value` of alarm `key` (`<chart>.<alarm>`) in an `/api/v1/alarms` answer.
fn alarm_value(body: &str, key: &str) -> Option<f64> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json["alarms"][key]["value"].as_f64()
}

/// Netdata's `active_processors`: the last `cpuN` line's N + 1.
fn processors() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let last = stat
        .lines()
        .rev()
        .find_map(|l| l.split_whitespace().next()?.strip_prefix("cpu")?.parse::<u32>().ok())?;
    Some(f64::from(last + 1))
}

#[test]
fn a_child_host_variable_reaches_the_parent_s_alarm_and_follows_changes() {
    let port = free_port();

    // The parent: a database, health on, only the test alarm (an empty stock directory).
    let parent = Node::new("vparent", "ram");
    let user_dir = parent.dir.join("health.d");
    let stock_dir = parent.dir.join("stock-health.d");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::create_dir_all(&stock_dir).unwrap();
    std::fs::write(
        user_dir.join("vars.conf"),
        "   alarm: it_limit_seen\n      on: test.hvar\n    calc: $it_limit\n   every: 1s\n      to: silent\n",
    )
    .unwrap();
    parent.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}\n\
         [health]\n\tenabled = yes\n\
         [directories]\n\thealth config = {}\n\tstock health config = {}\n",
        user_dir.display(),
        stock_dir.display()
    ));
    parent.write_stream_conf(&format!(
        "[{API_KEY}]\n\tenabled = yes\n\tdefault postpone alarms on connect seconds = 0\n"
    ));

    // The child: headless, one plugin whose host variable comes from a file.
    let child = Node::new("vchild", "none");
    let plugins = child.dir.join("plugins.d");
    std::fs::create_dir_all(&plugins).unwrap();
    let limit = child.dir.join("limit");
    std::fs::write(&limit, "7\n").unwrap();
    write_exec(
        &plugins.join("hvar.plugin"),
        &format!(
            "#!/bin/sh\necho \"CHART test.hvar '' 'Test' 'n' 'vfam' 'test.hvctx' line 1 1\"\n\
             echo \"DIMENSION v '' absolute 1 1\"\n\
             while :; do l=$(cat '{}' 2>/dev/null || echo 0)\n  echo \"VARIABLE HOST it_limit = $l\"\n  \
             echo 'BEGIN test.hvar'; echo 'SET v = 1'; echo END\n  sleep 1\ndone\n",
            limit.display()
        ),
    );
    child.append_config(&format!("[web]\n\tmode = none\n[directories]\n\tplugins = {}\n", plugins.display()));
    child.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));

    let parent_run = parent.start_ready(&[]);
    let child_run = child.start_ready(&[]);
    let name = "it-vchild";
    let alarms = || http_get(port, &format!("/host/{name}/api/v1/alarms?all")).unwrap_or_default();
    let key = "test.hvar.it_limit_seen";

    wait_until(
        "the parent's alarm reads the child's $it_limit = 7",
        LIMIT,
        &[&parent_run, &child_run],
        || alarm_value(&alarms(), key) == Some(7.0),
    );

    std::fs::write(&limit, "9\n").unwrap();
    wait_until("the alarm follows the change to 9", LIMIT, &[&parent_run, &child_run], || {
        alarm_value(&alarms(), key) == Some(9.0)
    });

    // `alarm_variables` on the parent lists the child's host variables, the collector's
    // `active_processors` among them.
    let body = http_get(port, &format!("/host/{name}/api/v1/alarm_variables?chart=test.hvar")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["host_variables"]["it_limit"].as_f64(), Some(9.0), "{body}");
    if let Some(n) = processors() {
        assert_eq!(json["host_variables"]["active_processors"].as_f64(), Some(n), "{body}");
    }
    assert!(json["chart_variables"].get("it_limit").is_none(), "a host variable, not the chart's: {body}");
}
