//! The real Netdata 1.37.1 (Debian's package) as a child streaming into a nanodata parent on
//! loopback: plain, LZ4 and TLS (`^SSL=force`). The child keeps its own database and API, so
//! what the nanodata parent recomputed from the raw integers is compared with what the
//! Netdata child itself stored for the same seconds.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use common::netdata::{
    certificates, data_query, data_retrying, free_port, http_get, ChildOptions, NetdataChild, Rows, API_KEY,
};
use common::{require, Dep, Node, Run};

/// A nanodata parent on `bind` accepting [`API_KEY`]; `web_extra` goes into `[web]`.
fn nanodata_parent(name: &str, bind: &str, web_extra: &str) -> (Node, Run) {
    let node = Node::new(name, "ram");
    node.append_config(&format!("[web]\n\tbind to = {bind}\n{web_extra}"));
    node.write_stream_conf(&format!(
        "[{API_KEY}]\n\tenabled = yes\n\tdefault memory mode = ram\n\tdefault history = 3600\n"
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

/// Waits until `/host/<host>/api/v1/chart?chart=<chart>` answers on the parent.
fn wait_for_chart(port: u16, host: &str, chart: &str, run: &Run, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if http_get(port, &format!("/host/{host}/api/v1/chart?chart={chart}")).is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("no chart {chart} of host {host} on the nanodata parent after {limit:?}; log:\n{}", run.log());
}

/// Compares the parent's rows with the child's for the seconds both hold; returns how many
/// seconds were compared.
fn compare(chart: &str, parent: &Rows, child: &Rows) -> usize {
    let (plabels, prows) = parent;
    let (clabels, crows) = child;
    assert!(
        !plabels.is_empty() && !clabels.is_empty(),
        "{chart}: no data (parent {parent:?}, child {child:?})"
    );
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for (t, pvalues) in prows {
        let Some((_, cvalues)) = crows.iter().find(|(ct, _)| ct == t) else { continue };
        let mut all = true;
        for (i, label) in plabels.iter().enumerate() {
            let Some(j) = clabels.iter().position(|l| l == label) else {
                panic!("{chart}: dimension {label} is not on the child ({clabels:?})")
            };
            match (pvalues.get(i).copied().flatten(), cvalues.get(j).copied().flatten()) {
                (Some(p), Some(c)) => {
                    // Both ends pack values into 4-byte storage numbers (7 significant digits).
                    if (p - c).abs() > 1e-6 * c.abs().max(1.0) {
                        mismatches.push(format!("{t} {label}: parent {p}, child {c}"));
                    }
                }
                _ => all = false,
            }
        }
        if all {
            compared += 1;
        }
    }
    assert!(mismatches.is_empty(), "{chart}: values differ:\n{}", mismatches.join("\n"));
    compared
}

/// The seconds a Netdata 1.37.1 child replays to a parent that came up at `parent_up`: its
/// history answers a replication request from the first second it stored in full up to its
/// first empty second (then it sends `REND … true`), and only the seconds before `parent_up`
/// are surely replayed rather than sent live.
fn replayable(child: &Rows, parent_up: i64) -> Vec<i64> {
    let full = |v: &[Option<f64>]| !v.is_empty() && v.iter().all(Option::is_some);
    child
        .1
        .iter()
        .filter(|(t, _)| *t < parent_up)
        .skip_while(|(_, v)| !full(v))
        .take_while(|(_, v)| full(v))
        .map(|(t, _)| *t)
        .collect()
}

/// Asserts that the parent holds every one of `seconds`, each dimension equal to the child's.
fn assert_replayed(chart: &str, parent: &Rows, child: &Rows, seconds: &[i64]) {
    let (plabels, prows) = parent;
    let (clabels, crows) = child;
    assert_eq!(plabels, clabels, "{chart}: the dimensions differ");
    let mut problems = Vec::new();
    for t in seconds {
        let Some((_, cvalues)) = crows.iter().find(|(ct, _)| ct == t) else {
            panic!("{chart}: {t} is not in the child's rows")
        };
        let Some((_, pvalues)) = prows.iter().find(|(pt, _)| pt == t) else {
            problems.push(format!("{t}: no row on the parent"));
            continue;
        };
        let wrong: Vec<String> = plabels
            .iter()
            .enumerate()
            .filter_map(|(i, label)| {
                match (pvalues.get(i).copied().flatten(), cvalues.get(i).copied().flatten()) {
                    // Both ends pack values into 4-byte storage numbers (7 significant digits).
                    (Some(p), Some(c)) if (p - c).abs() <= 1e-6 * c.abs().max(1.0) => None,
                    (p, c) => Some(format!("{label}: parent {p:?}, child {c:?}")),
                }
            })
            .collect();
        if !wrong.is_empty() {
            problems.push(format!("{t}: {}", wrong.join(", ")));
        }
    }
    assert!(
        problems.is_empty(),
        "{chart}: {} of the {} replayed seconds are wrong or missing:\n{}\nparent {parent:?}\nchild {child:?}",
        problems.len(),
        seconds.len(),
        problems.join("\n")
    );
}

fn stream_and_compare(name: &str, compression: bool, tls: bool) {
    let stream_port = free_port();
    // The API is read on a plain address; with TLS the child streams to a `^SSL=force` one.
    let port = if tls { free_port() } else { stream_port };
    let hostname = format!("nd{name}");
    let certs = std::env::temp_dir().join(format!("nanodata-ndp-certs-{name}-{}", std::process::id()));
    let (bind, web_extra, dest) = if tls {
        let (cert, key, _) = certificates(&certs);
        (
            format!("127.0.0.1:{stream_port}^SSL=force 127.0.0.1:{port}"),
            format!("\tssl certificate = {}\n\tssl key = {}\n", cert.display(), key.display()),
            format!("127.0.0.1:{stream_port}:SSL"),
        )
    } else {
        (format!("127.0.0.1:{port}"), String::new(), format!("127.0.0.1:{port}"))
    };
    let (_node, mut run) = nanodata_parent(name, &bind, &web_extra);
    let base = std::env::temp_dir().join(format!("nanodata-ndp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let child_port = free_port();
    let child = NetdataChild::start(
        &base,
        ChildOptions {
            hostname: hostname.clone(),
            destination: dest,
            api_key: API_KEY.into(),
            compression,
            memory_mode: "ram".into(),
            web_port: Some(child_port),
            health: false,
        },
    );
    wait_for_chart(port, &hostname, "system.cpu", &run, Duration::from_secs(40));
    let accepted = run.log();
    let caps =
        accepted.lines().find(|l| l.contains("negotiated capabilities")).unwrap_or_default().to_owned();
    assert_eq!(caps.contains("COMPRESSION"), compression, "{caps}");
    assert!(caps.contains("REPLICATION"), "{caps}");
    std::thread::sleep(Duration::from_secs(10));

    let now = nanodata::clock::now_realtime_sec();
    let (after, before) = (now - 60, now - 2);
    for chart in ["system.cpu", "system.intr", "system.ctxt", "system.processes", "system.forks"] {
        let parent = data_retrying(port, &data_query(&format!("/host/{hostname}"), chart, after, before));
        let mine = child.data(chart, after, before);
        let n = compare(chart, &parent, &mine);
        assert!(n >= 6, "{chart}: only {n} seconds compared\nparent {parent:?}\nchild {mine:?}");
    }
    // The child as the parent shows it.
    let info = http_get(port, "/api/v1/info").unwrap();
    assert!(
        info.contains(&format!("\"hostname\": \"{hostname}\", \"reachable\": true, \"hops\": 1")),
        "{info}"
    );
    let child_info = http_get(port, &format!("/host/{hostname}/api/v1/info")).unwrap();
    assert!(child_info.contains("\"kernel_name\": \"Linux\""), "{child_info}");
    assert_eq!(run.count_in_log("closing the connection"), 0, "{}", run.log());
    drop(child);
    run.wait_for_log("disconnected (completed", Duration::from_secs(30));
    let info = http_get(port, "/api/v1/info").unwrap();
    assert!(info.contains(&format!("\"hostname\": \"{hostname}\", \"reachable\": false")), "{info}");
    assert!(http_get(port, &format!("/host/{hostname}/api/v1/data?chart=system.cpu&after=-30")).is_some());
    run.stop_orderly();
    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(&certs);
}

#[test]
fn netdata_child_plain_stream_matches_its_own_database() {
    if !require(Dep::Netdata, "the Netdata child") {
        return;
    }
    stream_and_compare("plain", false, false);
}

#[test]
fn netdata_child_lz4_stream_matches_its_own_database() {
    if !require(Dep::Netdata, "the Netdata child") {
        return;
    }
    stream_and_compare("lz4", true, false);
}

#[test]
fn netdata_child_tls_stream_to_a_force_ssl_port() {
    if !require(Dep::Netdata, "the Netdata child") || !require(Dep::Openssl, "the test certificates") {
        return;
    }
    stream_and_compare("tls", true, true);
}

#[test]
fn netdata_child_history_is_replicated_when_the_parent_comes_up() {
    if !require(Dep::Netdata, "the Netdata child") {
        return;
    }
    let port = free_port();
    let hostname = "ndrepl".to_string();
    let base = std::env::temp_dir().join(format!("nanodata-ndp-repl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let child_port = free_port();
    // The child collects on its own for a while: the parent does not exist yet.
    let child = NetdataChild::start(
        &base,
        ChildOptions {
            hostname: hostname.clone(),
            destination: format!("127.0.0.1:{port}"),
            api_key: API_KEY.into(),
            compression: true,
            memory_mode: "ram".into(),
            web_port: Some(child_port),
            health: false,
        },
    );
    let start = Instant::now();
    while child.get("/api/v1/info").is_none() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(15));
    let parent_up = nanodata::clock::now_realtime_sec();
    let (_node, mut run) = nanodata_parent("repl", &format!("127.0.0.1:{port}"), "");
    wait_for_chart(port, &hostname, "system.cpu", &run, Duration::from_secs(40));
    std::thread::sleep(Duration::from_secs(5));
    // The seconds before the parent started come from replication: every one the child can
    // replay must be there, with the child's values.
    let (after, before) = (parent_up - 120, parent_up - 1);
    for chart in ["system.cpu", "system.intr", "system.processes"] {
        let parent = data_retrying(port, &data_query(&format!("/host/{hostname}"), chart, after, before));
        let mine = child.data(chart, after, before);
        let seconds = replayable(&mine, parent_up);
        // The child collected for about 15 s before the parent came up; a starved child has
        // a gap earlier and replays less, but never nothing.
        assert!(seconds.len() >= 3, "{chart}: the child itself holds too little\nchild {mine:?}");
        assert_replayed(chart, &parent, &mine, &seconds);
    }
    // And the live seconds after it, continuing from the replicated state.
    let now = nanodata::clock::now_realtime_sec();
    let parent =
        data_retrying(port, &data_query(&format!("/host/{hostname}"), "system.cpu", parent_up, now - 1));
    let n = compare("system.cpu", &parent, &child.data("system.cpu", parent_up, now - 1));
    assert!(n >= 3, "live seconds after replication: {n}");
    assert_eq!(run.count_in_log("closing the connection"), 0, "{}", run.log());
    drop(child);
    run.stop_orderly();
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn nanodata_child_through_a_headless_nanodata_proxy_to_netdata() {
    if !require(Dep::Netdata, "the Netdata parent") {
        return;
    }
    use common::netdata::{NetdataParent, ParentOptions};
    let base = std::env::temp_dir().join(format!("nanodata-ndp-proxy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let parent_port = free_port();
    let parent = NetdataParent::start(&base, parent_port, ParentOptions::default());
    let proxy_port = free_port();
    let proxy = Node::new("ndproxy", "none");
    proxy.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{proxy_port}\n"));
    proxy.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{parent_port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n\n\
         [{API_KEY}]\n\tenabled = yes\n\tdefault memory mode = none\n"
    ));
    let mut proxy_run = proxy.start_ready(&[]);
    let child_port = free_port();
    let child = Node::new("ndpchild", "ram");
    child.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{child_port}\n"));
    child.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{proxy_port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let mut child_run = child.start_ready(&[]);
    child_run.wait_for_log("established communication", Duration::from_secs(20));
    proxy_run.wait_for_log("proxying this child", Duration::from_secs(20));
    parent.wait_for_chart("it-ndpchild", "system.cpu", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(8));
    let now = nanodata::clock::now_realtime_sec();
    for chart in ["system.intr", "system.cpu", "system.processes"] {
        // The headless proxy's RAM window holds the same values too.
        let proxied = data_retrying(proxy_port, &data_query("/host/it-ndpchild", chart, now - 30, now - 1));
        let theirs = parent.data("it-ndpchild", chart, now - 30, now - 1);
        let mine = data_retrying(child_port, &data_query("", chart, now - 30, now - 1));
        // A 1.37 parent leaves the first live point after replication empty; later ones match.
        let n = compare(chart, &theirs, &mine);
        assert!(n >= 4, "{chart}: only {n} seconds compared\nparent {theirs:?}\nchild {mine:?}");
        assert!(compare(chart, &proxied, &mine) >= 4, "{chart}: proxy {proxied:?}");
    }
    // The Netdata parent sees the child two hops away, behind the proxy one hop away (a
    // busy parent may not answer at once: asked again for up to 20 s).
    let start = Instant::now();
    let mut info = parent.get("/api/v1/info").unwrap_or_default();
    while mirrored(&info, "it-ndpchild").is_none() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(500));
        info = parent.get("/api/v1/info").unwrap_or_default();
    }
    assert_eq!(mirrored(&info, "it-ndpchild"), Some((true, 2)), "{info}");
    assert_eq!(mirrored(&info, "it-ndproxy"), Some((true, 1)), "{info}");
    child_run.stop_orderly();
    proxy_run.stop_orderly();
    drop(parent);
    let _ = std::fs::remove_dir_all(&base);
}

/// `(reachable, hops)` of `hostname` in the `mirrored_hosts_status` of an `/api/v1/info` answer
/// (Netdata's or nanodata's spacing).
fn mirrored(info: &str, hostname: &str) -> Option<(bool, u32)> {
    let compact: String = info.chars().filter(|c| !c.is_whitespace()).collect();
    let entry = compact.split(&format!("\"hostname\":\"{hostname}\",")).nth(1)?;
    let entry = &entry[..entry.find('}')?];
    let field = |name: &str| {
        let rest = entry.split(&format!("\"{name}\":")).nth(1)?;
        Some(rest.split(',').next()?.to_owned())
    };
    Some((field("reachable")? == "true", field("hops")?.parse().ok()?))
}

#[test]
fn a_gap_in_the_netdata_childs_history_ends_replication_and_live_data_follows() {
    if !require(Dep::Netdata, "the Netdata child") {
        return;
    }
    let port = free_port();
    let hostname = "ndgap".to_string();
    let base = std::env::temp_dir().join(format!("nanodata-ndp-gap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let child = NetdataChild::start(
        &base,
        ChildOptions {
            hostname: hostname.clone(),
            destination: format!("127.0.0.1:{port}"),
            api_key: API_KEY.into(),
            compression: true,
            memory_mode: "ram".into(),
            web_port: Some(free_port()),
            health: false,
        },
    );
    let start = Instant::now();
    while child.get("/api/v1/info").is_none() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Seconds of history, a frozen child (a gap in its own database), more history.
    std::thread::sleep(Duration::from_secs(6));
    child.freeze(Duration::from_secs(4));
    std::thread::sleep(Duration::from_secs(6));
    let parent_up = nanodata::clock::now_realtime_sec();
    let (_node, mut run) = nanodata_parent("gap", &format!("127.0.0.1:{port}"), "");
    wait_for_chart(port, &hostname, "system.cpu", &run, Duration::from_secs(40));
    std::thread::sleep(Duration::from_secs(6));
    let now = nanodata::clock::now_realtime_sec();
    let parent =
        data_retrying(port, &data_query(&format!("/host/{hostname}"), "system.cpu", parent_up - 60, now - 1));
    let mine = child.data("system.cpu", parent_up - 60, now - 1);
    // Every second the child can replay (1.37.1 stops at its gap) equals its own values.
    let seconds = replayable(&mine, parent_up);
    assert!(seconds.len() >= 3, "the child itself holds too little before its gap\nchild {mine:?}");
    let gap_at = seconds.last().map_or(0, |t| t + 1);
    assert!(
        gap_at < parent_up - 1,
        "the frozen child has no gap before the parent came up ({parent_up})\nchild {mine:?}"
    );
    assert_replayed("system.cpu", &parent, &mine, &seconds);
    // And the live seconds after the parent came up are all there.
    let live = parent.1.iter().filter(|(t, v)| *t > parent_up + 1 && v.iter().all(Option::is_some)).count();
    assert!(live >= 4, "live seconds after replication: {live}\nparent {parent:?}");
    assert_eq!(run.count_in_log("closing the connection"), 0, "{}", run.log());
    drop(child);
    run.stop_orderly();
    let _ = std::fs::remove_dir_all(&base);
}
