//! `/api/v1/allmetrics?format=prometheus|prometheus_all_hosts` passes `promtool check metrics`
//! (issue 15 item 6): a nanodata parent with a test plugin that defines two charts of one
//! context (two "interfaces"), and a streamed nanodata child whose charts share their contexts
//! with the parent's own. Netdata 1.37 writes one `# TYPE`/`# HELP` per chart, so such a
//! family gets several and promtool rejects the answer.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::netdata::{free_port, http_get, API_KEY};
use common::{require, wait_until, Dep, Node};

/// Two charts of context `test.net`; titles and families hold a backslash and a quote, so
/// HELP and label escaping are checked too.
const PLUGIN: &str = r#"#!/bin/sh
for i in eth0 eth1; do
  echo "CHART test.net_$i '' 'traffic of $i \\ \"in\"' 'kilobits/s' 'fam \"$i\" \\ x' 'test.net' line 1 1"
  echo "DIMENSION received '' incremental 8 1000"
  echo "DIMENSION sent '' incremental 8 1000"
done
n=0
while :; do
  for i in eth0 eth1; do
    echo "BEGIN test.net_$i"; echo "SET received = $((n*1000))"; echo "SET sent = $((n*500))"; echo END
  done
  n=$((n+1)); sleep 1
done
"#;

/// Runs `promtool check metrics` on `text`: its exit code and what it printed.
fn promtool(text: &str) -> (Option<i32>, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    // promtool stops reading at a parse error: a broken pipe then is its answer, not ours.
    let _ = child.stdin.take().expect("stdin").write_all(text.as_bytes());
    let out = child.wait_with_output().expect("promtool ran");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), said)
}

/// The plugin's two charts in `text`: one HELP (and TYPE) for their family and their four
/// samples right under it; HELP escapes the title's backslash (its quotes stay), label
/// values escape both.
fn one_family(text: &str, types: bool, average: bool) -> Result<(), String> {
    let (family, kind) = if average {
        ("netdata_test_net_kilobits_persec_average", "gauge")
    } else {
        ("netdata_test_net_total", "counter")
    };
    let lines: Vec<&str> = text.lines().collect();
    let help = format!("# HELP {family} ");
    let at: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].starts_with(&help)).collect();
    if at.len() != 1 {
        return Err(format!("{} HELP lines for {family}, not 1", at.len()));
    }
    let want = format!("{help}netdata \"traffic of eth0 \\\\ \"in\"\" with units \"kilobits/s\"");
    if !lines[at[0]].starts_with(&want) {
        return Err(format!("HELP line {:?} does not start with {want:?}", lines[at[0]]));
    }
    let mut next = at[0] + 1;
    if types {
        let want = format!("# TYPE {family} {kind}");
        if lines.iter().filter(|l| l.starts_with(&format!("# TYPE {family} "))).count() != 1
            || lines.get(next) != Some(&want.as_str())
        {
            return Err(format!("not one {want:?} right after the HELP"));
        }
        next += 1;
    }
    let samples: Vec<&str> =
        lines.iter().filter(|l| l.starts_with(&format!("{family}{{"))).copied().collect();
    if samples.len() != 4 || lines.get(next..next + 4) != Some(&samples[..]) {
        return Err(format!("not 2 charts x 2 dimensions right under the HELP/TYPE: {samples:?}"));
    }
    let want = format!(
        "{family}{{chart=\"test.net_eth1\",family=\"fam \\\"eth1\\\" \\\\ x\",dimension=\"received\""
    );
    if !samples[2].starts_with(&want) {
        return Err(format!("sample {:?} does not start with {want:?}", samples[2]));
    }
    Ok(())
}

#[test]
fn both_prometheus_formats_pass_promtool_with_and_without_types() {
    if !require(Dep::Promtool, "checks the Prometheus exposition format") {
        return;
    }
    let port = free_port();
    let parent = Node::new("promparent", "ram");
    let plugins = parent.dir.join("plugins.d");
    std::fs::create_dir_all(&plugins).unwrap();
    let path = plugins.join("twonet.plugin");
    std::fs::write(&path, PLUGIN).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    parent.append_config(&format!(
        "[directories]\n\tplugins = {}\n[web]\n\tbind to = 127.0.0.1:{port}\n",
        plugins.display()
    ));
    parent.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let parent_run = parent.start_ready(&[]);

    let child = Node::new("promkid", "ram");
    child.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let child_run = child.start_ready(&[]);

    // Both plugin charts collected twice (incremental: values from the second one), and the
    // child's own system.cpu streamed to the parent.
    wait_until(
        "the plugin charts and the child's charts are exported",
        Duration::from_secs(30),
        &[&parent_run, &child_run],
        || {
            http_get(port, "/api/v1/allmetrics?format=prometheus_all_hosts&timestamps=no").is_some_and(|t| {
                t.contains("chart=\"test.net_eth0\"")
                    && t.contains("chart=\"test.net_eth1\"")
                    && t.contains("instance=\"it-promkid\"")
                    && t.lines().any(|l| {
                        l.starts_with("netdata_system_cpu_") && l.contains("instance=\"it-promkid\"")
                    })
            })
        },
    );

    let mut failures = Vec::new();
    for format in ["prometheus", "prometheus_all_hosts"] {
        for types in ["yes", "no"] {
            for source in ["average", "as-collected"] {
                let query =
                    format!("/api/v1/allmetrics?format={format}&help=yes&types={types}&data={source}");
                let text = http_get(port, &query).unwrap_or_else(|| panic!("{query} answers"));
                if let Err(e) = one_family(&text, types == "yes", source == "average") {
                    failures.push(format!("{query}: {e}\n{text}"));
                }
                let (code, said) = promtool(&text);
                // Exit 1 is a parse error (a second TYPE, a family's samples apart, a bad
                // escape): what this test is about. Exit 3 is promtool's lint on Netdata's own
                // metric names, which nanodata keeps (camelCase `netdata_ipv4_udperrors_InErrors_total`,
                // `kilobits`/`milliseconds` not base units, a `_ms` part); any other remark fails.
                let lint_only = code == Some(3)
                    && said.lines().all(|l| {
                        l.contains("metric names should be written in 'snake_case'")
                            || l.contains("should not have \"_total\" suffix")
                            || l.contains("counter metrics should have \"_total\" suffix")
                            || l.contains("use base unit")
                            || l.contains("should not contain abbreviated units")
                            || l.trim().is_empty()
                    });
                if code != Some(0) {
                    eprintln!("{query}: promtool exit {code:?}, {} lint findings", said.lines().count());
                }
                if code != Some(0) && !lint_only {
                    failures.push(format!("{query}: promtool exit {code:?}:\n{said}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "promtool rejected:\n{}", failures.join("\n"));
}
