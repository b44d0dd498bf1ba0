//! Memory stays flat when charts come and go, against the real binary with `[db] cleanup
//! obsolete charts after secs = 2`: a scripted child (raw protocol over a socket) streams
//! 1500 charts per round to a `map`-mode parent, and a plugin defines 900 per round on a
//! node in memory mode `none`; each round collects them, marks them obsolete and starts over
//! with new ids, five rounds, while one live chart keeps being collected.
//!
//! Checked each round: the obsolete charts disappear from `/api/v1/charts` at once, then
//! from the host entirely (`/api/v1/chart` answers 404), their map files are deleted, the
//! log counts each chart removed once, the source is never refused for its chart limit (the
//! removed ids are forgotten), and the node's resident memory (`VmRSS` of
//! `/proc/<pid>/status`) after the cleanup is back near the RSS before any churn chart.
//!
//! How RSS is compared: each round's peak must be well above the pre-churn RSS (so the
//! measure is known to see the charts: about +16 MiB on the parent, +2 MiB for the plugin).
//! After the cleanup every round must be back within a margin of that pre-churn RSS and
//! within a smaller one of the first round's, so growth over rounds fails too. glibc's
//! malloc keeps freed memory in its heap; the housekeeping thread calls `malloc_trim` after
//! a cleanup (and once more on the next run), without which (measured) the parent settled
//! about 6 MiB above its pre-churn RSS — flat over rounds, but not back. The figures are
//! printed (`cargo test --test churn -- --nocapture`).
//!
//! Also here: obsolete charts travelling child → headless proxy → parent and freed on every
//! hop; the hosts of children gone for good freed with their files (`[db] cleanup orphan
//! hosts after secs`); and the real Netdata 1.37.1 parent taking the obsolete flag from a
//! nanodata child.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::netdata::{free_port, http_get, require_netdata, NetdataParent, ParentOptions, API_KEY};
use common::{wait_until, Node, Run};

/// Charts per round (the parent accepts 2000 per child: later rounds only fit because the
/// removed charts are forgotten).
const CHARTS: usize = 1500;
/// Dimensions per chart.
const DIMS: usize = 2;
const ROUNDS: usize = 5;
/// How far a round's post-cleanup RSS may be above the RSS before any churn.
const BASELINE_MARGIN_KIB: u64 = 2048;
/// How far a round's post-cleanup RSS may be above the first round's.
const GROWTH_MARGIN_KIB: u64 = 1024;
const CLEANUP_SECS: u64 = 2;
/// Charts per round of the plugin (a plugin may define 1000).
const PLUGIN_CHARTS: usize = 900;
/// The plugin's charts have no storage (mode none): a round costs about 2 MiB, so the
/// margins are tighter.
const PLUGIN_BASELINE_MARGIN_KIB: u64 = 1024;
const PLUGIN_GROWTH_MARGIN_KIB: u64 = 512;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

fn config(node: &Node, port: u16) {
    node.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}\n\
         [db]\n\tcleanup obsolete charts after secs = {CLEANUP_SECS}\n\tdelete obsolete charts files = yes\n"
    ));
}

/// A child accepted by the parent on `port`, speaking version 4 (plain text, no
/// replication).
fn child(port: u16, guid: &str, hostname: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let q =
        format!("key={API_KEY}&hostname={hostname}&machine_guid={guid}&update_every=1&os=linux&hops=1&ver=4");
    write!(s, "STREAM {q} HTTP/1.1\r\nUser-Agent: scripted/1\r\nAccept: */*\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 256];
    while start.elapsed() < Duration::from_secs(5) && !got.ends_with(b"=4") {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("handshake: {e}"),
        }
    }
    let reply = String::from_utf8_lossy(&got);
    assert!(reply.starts_with("Hit me baby, push them over"), "not accepted: {reply:?}");
    s
}

const LIVE_DEFINITION: &str = "CHART \"churn_live.x\" \"\" \"live\" \"things\" \"live\" \"churn.live\" \"line\" 1 1 \"\" \"churn\" \"\"\nDIMENSION \"v\" \"v\" \"absolute\" 1 1 \"\"\n";

/// Collects the live chart every second until dropped; writes of the rounds go through
/// the same socket, one whole line batch at a time (the lock keeps them apart).
struct Live {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

static WRITE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn live_collector(mut s: TcpStream) -> Live {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let mut v = 0;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            v += 1;
            let _guard = WRITE.lock().unwrap();
            let _ = s.write_all(format!("BEGIN \"churn_live.x\" 1000000\nSET \"v\" = {v}\nEND\n").as_bytes());
            drop(_guard);
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    Live { stop, thread: Some(thread) }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Writes a batch of lines between the live chart's collections.
fn send(s: &mut TcpStream, text: &str) {
    let _guard = WRITE.lock().unwrap();
    s.write_all(text.as_bytes()).unwrap();
}

fn chart_id(round: usize, i: usize) -> String {
    format!("churn.r{round}_{i}")
}

/// The definitions of a round's charts, `obsolete` or not.
fn definitions(round: usize, obsolete: bool) -> String {
    let mut out = String::new();
    let options = if obsolete { "obsolete" } else { "" };
    for i in 0..CHARTS {
        let id = chart_id(round, i);
        out.push_str(&format!(
            "CHART \"{id}\" \"\" \"churn {i}\" \"things\" \"churn\" \"churn.things\" \"line\" {} 1 \"{options}\" \"churn\" \"\"\n",
            1000 + i
        ));
        for d in 0..DIMS {
            out.push_str(&format!("DIMENSION \"d{d}\" \"d{d}\" \"absolute\" 1 1 \"\"\n"));
        }
    }
    out
}

/// One collection of every chart of a round.
fn collection(round: usize, value: usize) -> String {
    let mut out = String::new();
    for i in 0..CHARTS {
        out.push_str(&format!("BEGIN \"{}\" 1000000\n", chart_id(round, i)));
        for d in 0..DIMS {
            out.push_str(&format!("SET \"d{d}\" = {}\n", value + i + d));
        }
        out.push_str("END\n");
    }
    out
}

/// How many charts of `prefix` the host lists.
fn listed(port: u16, host: &str, prefix: &str) -> usize {
    let body = http_get(port, &format!("/host/{host}/api/v1/charts")).expect("charts");
    body.matches(&format!("\"id\": \"{prefix}")).count()
}

fn known(port: u16, host: &str, id: &str) -> bool {
    http_get(port, &format!("/host/{host}/api/v1/chart?chart={id}")).is_some()
}

/// Charts of `host` removed so far, from the cleanup's log lines.
fn removed_in_log(run: &Run, host: &str) -> usize {
    let needle = format!("host '{host}': removed ");
    run.log().lines().filter_map(|l| l.split(&needle).nth(1)?.split(' ').next()?.parse::<usize>().ok()).sum()
}

/// Map files of the round still on disk, counted in the host's database directory.
fn files_of_round(host_dir: &Path, round: usize) -> usize {
    let prefix = format!("churn.r{round}_");
    std::fs::read_dir(host_dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| std::fs::read_dir(e.path()).map(|d| d.count()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_parent_frees_the_obsolete_charts_of_a_child_and_does_not_grow_over_rounds() {
    let port = free_port();
    let node = Node::new("churn-parent", "map");
    config(&node, port);
    node.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let mut run = node.start_ready(&[]);
    let pid = run.pid();
    let guid = uuid::Uuid::new_v4().hyphenated().to_string();
    let host = "churner";
    let host_dir = node.dir.join("cache").join(&guid);
    let mut s = child(port, &guid, host);
    // A chart that lives through every round, collected all along (a child always has some):
    // it must never be removed.
    s.write_all(LIVE_DEFINITION.as_bytes()).unwrap();
    let live = live_collector(s.try_clone().unwrap());
    std::thread::sleep(Duration::from_secs(2));
    let before = rss_kib(pid);

    let mut after = Vec::new();
    for round in 0..ROUNDS {
        send(&mut s, &definitions(round, false));
        for k in 0..3 {
            send(&mut s, &collection(round, k * 10));
            std::thread::sleep(Duration::from_secs(1));
        }
        wait_until("the round's charts are listed", Duration::from_secs(10), &[&run], || {
            listed(port, host, &format!("churn.r{round}_")) == CHARTS
        });
        assert_eq!(files_of_round(&host_dir, round), CHARTS * DIMS, "a map file per dimension");
        let peak = rss_kib(pid);

        send(&mut s, &definitions(round, true));
        let sent = Instant::now();
        let last = chart_id(round, CHARTS - 1);
        // Obsolete: no longer listed at once, still held until the cleanup time passed.
        wait_until("obsolete charts are not listed", Duration::from_secs(5), &[&run], || {
            listed(port, host, "churn.") == 0
        });
        if round == 0 && sent.elapsed() < Duration::from_secs(1) {
            assert!(known(port, host, &last), "freed before [db] cleanup obsolete charts after secs");
        }
        wait_until("obsolete charts are freed", Duration::from_secs(20), &[&run], || {
            !known(port, host, &chart_id(round, 0)) && !known(port, host, &last)
        });
        // The log line comes once the storage is dropped (unmapping the deleted files can take
        // the file system seconds for thousands of them).
        wait_until("the log says they were removed", Duration::from_secs(60), &[&run], || {
            removed_in_log(&run, host) == (round + 1) * CHARTS
        });
        assert_eq!(files_of_round(&host_dir, round), 0, "their map files are deleted");
        // Let the event loop and the allocator settle before measuring.
        std::thread::sleep(Duration::from_secs(1));
        let rss = rss_kib(pid);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let parts: Vec<&str> =
            status.lines().filter(|l| l.starts_with("RssAnon") || l.starts_with("RssFile")).collect();
        println!(
            "round {round}: RSS before any chart {before} KiB, peak {peak} KiB, after cleanup {rss} KiB ({})",
            parts.join(", ").split_whitespace().collect::<Vec<_>>().join(" ")
        );
        assert!(peak > before + 8192, "a round of {CHARTS} charts should cost memory: {before} → {peak} KiB");
        assert!(
            rss <= before + BASELINE_MARGIN_KIB,
            "round {round} ended at {rss} KiB, more than {BASELINE_MARGIN_KIB} KiB above the {before} KiB before any chart"
        );
        after.push(rss);
    }
    assert_eq!(removed_in_log(&run, host), ROUNDS * CHARTS, "every chart removed once");
    let baseline = after[0];
    for (round, rss) in after.iter().enumerate().skip(1) {
        assert!(
            *rss <= baseline + GROWTH_MARGIN_KIB,
            "round {round} ended at {rss} KiB, more than {GROWTH_MARGIN_KIB} KiB above round 0's {baseline} KiB: {after:?}"
        );
    }
    assert!(known(port, host, "churn_live.x"), "the live chart is still there");
    assert_eq!(listed(port, host, "churn_live.x"), 1);
    assert!(run.is_running(), "the parent survived");
    drop(live);
    drop(s);
    run.stop_orderly();
}

/// A plugin that, each time the test creates `<dir>/go.<round>`, defines `PLUGIN_CHARTS`
/// charts `churnp.r<round>_<i>` of two dimensions, collects them three times and marks them
/// obsolete; in between it keeps collecting `churnp_live.x`.
fn churn_plugin(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"#!/bin/sh
echo "CHART churnp_live.x '' live n '' '' line 1 1 ''"
echo "DIMENSION v '' absolute 1 1"
r=0
i=0
while [ $r -lt {ROUNDS} ]; do
  while [ ! -e '{d}/go.'$r ]; do
    i=$((i+1)); echo "BEGIN churnp_live.x"; echo "SET v = $i"; echo END; sleep 0.5
  done
  awk -v r=$r -v n={PLUGIN_CHARTS} 'BEGIN {{ for (i = 0; i < n; i++) printf "CHART churnp.r%d_%d \"\" t u \"\" \"\" line 1000 1 \"\"\nDIMENSION a\nDIMENSION b\n", r, i }}'
  for k in 1 2 3; do
    awk -v r=$r -v n={PLUGIN_CHARTS} -v k=$k 'BEGIN {{ for (i = 0; i < n; i++) printf "BEGIN churnp.r%d_%d\nSET a = %d\nSET b = %d\nEND\n", r, i, i + k, k }}'
    sleep 1
  done
  awk -v r=$r -v n={PLUGIN_CHARTS} 'BEGIN {{ for (i = 0; i < n; i++) printf "CHART churnp.r%d_%d \"\" t u \"\" \"\" line 1000 1 \"obsolete\"\n", r, i }}'
  r=$((r+1))
done
while :; do i=$((i+1)); echo "BEGIN churnp_live.x"; echo "SET v = $i"; echo END; sleep 1; done
"#
    )
}

#[test]
fn a_headless_node_frees_the_obsolete_charts_of_a_plugin_and_does_not_grow_over_rounds() {
    use std::os::unix::fs::PermissionsExt;
    let port = free_port();
    // Memory mode none (a headless collector's), with the API on to look at the charts.
    let node = Node::new("churn-plugin", "none");
    config(&node, port);
    let plugins = node.dir.join("plugins.d");
    std::fs::create_dir_all(&plugins).unwrap();
    node.append_config(&format!("[directories]\n\tplugins = {}\n", plugins.display()));
    let script = plugins.join("churn.plugin");
    std::fs::write(&script, churn_plugin(&node.dir)).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut run = node.start_ready(&[]);
    let pid = run.pid();
    let host = "it-churn-plugin";
    wait_until("the live chart", Duration::from_secs(20), &[&run], || known(port, host, "churnp_live.x"));
    std::thread::sleep(Duration::from_secs(2));
    let before = rss_kib(pid);

    let mut after = Vec::new();
    for round in 0..ROUNDS {
        std::fs::write(node.dir.join(format!("go.{round}")), "").unwrap();
        let last = format!("churnp.r{round}_{}", PLUGIN_CHARTS - 1);
        wait_until("the round's charts", Duration::from_secs(20), &[&run], || known(port, host, &last));
        let peak = rss_kib(pid);
        wait_until("the log says they were removed", Duration::from_secs(60), &[&run], || {
            removed_in_log(&run, host) == (round + 1) * PLUGIN_CHARTS
        });
        assert!(!known(port, host, &last) && !known(port, host, &format!("churnp.r{round}_0")));
        assert_eq!(listed(port, host, "churnp."), 0);
        std::thread::sleep(Duration::from_secs(1));
        let rss = rss_kib(pid);
        println!("plugin round {round}: RSS before any chart {before} KiB, peak {peak} KiB, after cleanup {rss} KiB");
        assert!(
            peak > before + 1024,
            "a round of {PLUGIN_CHARTS} charts should cost memory: {before} → {peak} KiB"
        );
        assert!(
            rss <= before + PLUGIN_BASELINE_MARGIN_KIB,
            "round {round} ended at {rss} KiB, more than {PLUGIN_BASELINE_MARGIN_KIB} KiB above the {before} KiB before any chart"
        );
        after.push(rss);
    }
    let baseline = after[0];
    for (round, rss) in after.iter().enumerate().skip(1) {
        assert!(*rss <= baseline + PLUGIN_GROWTH_MARGIN_KIB, "round {round} grew: {after:?}");
    }
    // 5 rounds × 900 charts went through a source limited to 1000: the freed ones were
    // forgotten, and the plugin was never disabled.
    assert!(known(port, host, "churnp_live.x"), "the live chart stays");
    assert!(!run.log().contains("would exceed the limit"), "{}", run.log());
    run.stop_orderly();
}

/// A scripted child streams to a headless proxy (memory mode none) that streams to a
/// parent: when the child marks its charts obsolete, the proxy forwards the flag (the
/// definition once, as Netdata's sender does), and both the proxy and the parent free them.
#[test]
fn obsolete_charts_travel_through_a_proxy_and_are_freed_on_every_hop() {
    const N: usize = 200;
    let parent_port = free_port();
    let parent = Node::new("churn-pparent", "ram");
    config(&parent, parent_port);
    parent.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let mut parent_run = parent.start_ready(&[]);
    let proxy_port = free_port();
    let proxy = Node::new("churn-proxy", "none");
    config(&proxy, proxy_port);
    proxy.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{parent_port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n\n\
         [{API_KEY}]\n\tenabled = yes\n\tdefault memory mode = none\n"
    ));
    let mut proxy_run = proxy.start_ready(&[]);
    let guid = uuid::Uuid::new_v4().hyphenated().to_string();
    let host = "proxied";
    let mut s = child(proxy_port, &guid, host);
    s.write_all(LIVE_DEFINITION.as_bytes()).unwrap();
    let live = live_collector(s.try_clone().unwrap());

    let mut text = String::new();
    for i in 0..N {
        text.push_str(&format!(
            "CHART \"hop.c{i}\" \"\" \"t\" \"u\" \"hop\" \"hop.c\" \"line\" 1000 1 \"\" \"churn\" \"\"\nDIMENSION \"x\" \"x\" \"absolute\" 1 1 \"\"\n"
        ));
    }
    send(&mut s, &text);
    for k in 0..3 {
        let mut data = String::new();
        for i in 0..N {
            data.push_str(&format!("BEGIN \"hop.c{i}\" 1000000\nSET \"x\" = {}\nEND\n", i + k));
        }
        send(&mut s, &data);
        std::thread::sleep(Duration::from_secs(1));
    }
    let last = format!("hop.c{}", N - 1);
    wait_until("the parent lists the proxied charts", Duration::from_secs(30), &[&parent_run], || {
        http_get(parent_port, &format!("/host/{host}/api/v1/charts"))
            .is_some_and(|b| b.matches("\"id\": \"hop.c").count() == N)
    });

    let mut obsolete = String::new();
    for i in 0..N {
        obsolete.push_str(&format!(
            "CHART \"hop.c{i}\" \"\" \"t\" \"u\" \"hop\" \"hop.c\" \"line\" 1000 1 \"obsolete\" \"churn\" \"\"\n"
        ));
    }
    send(&mut s, &obsolete);
    for (port, run, what) in [(proxy_port, &proxy_run, "proxy"), (parent_port, &parent_run, "parent")] {
        wait_until(&format!("the {what} frees them"), Duration::from_secs(30), &[run], || {
            removed_in_log(run, host) == N
        });
        assert!(!known(port, host, &last) && !known(port, host, "hop.c0"), "{what}");
        assert!(known(port, host, "churn_live.x"), "{what}: the live chart stays");
    }
    drop(live);
    drop(s);
    proxy_run.stop_orderly();
    parent_run.stop_orderly();
}

/// Children that stream their charts and go away for good, one after another: `[db] cleanup
/// orphan hosts after secs` removes each host with its files, off the event loop, and the
/// parent's RSS comes back each time.
#[test]
fn the_hosts_of_children_gone_for_good_are_freed() {
    let port = free_port();
    let node = Node::new("churn-orphans", "map");
    config(&node, port);
    node.append_config("\tcleanup orphan hosts after secs = 2\n\tdelete orphan hosts files = yes\n");
    node.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let mut run = node.start_ready(&[]);
    let pid = run.pid();
    std::thread::sleep(Duration::from_secs(2));
    let before = rss_kib(pid);
    let mut after = Vec::new();
    for round in 0..3 {
        let guid = uuid::Uuid::new_v4().hyphenated().to_string();
        let host = format!("gone{round}");
        let mut s = child(port, &guid, &host);
        send(&mut s, &definitions(round, false));
        for k in 0..3 {
            send(&mut s, &collection(round, k));
            std::thread::sleep(Duration::from_secs(1));
        }
        wait_until("the child's charts", Duration::from_secs(10), &[&run], || {
            listed(port, &host, &format!("churn.r{round}_")) == CHARTS
        });
        let peak = rss_kib(pid);
        drop(s);
        let freed = format!("host '{host}': freed");
        wait_until("the orphan host is freed", Duration::from_secs(60), &[&run], || {
            run.log().contains(&freed)
        });
        assert!(http_get(port, &format!("/host/{host}/api/v1/info")).is_none());
        assert!(!node.dir.join("cache").join(&guid).exists(), "its files are deleted");
        std::thread::sleep(Duration::from_secs(1));
        let rss = rss_kib(pid);
        println!("orphan round {round}: RSS before any child {before} KiB, peak {peak} KiB, after {rss} KiB");
        assert!(peak > before + 8192, "{before} → {peak} KiB");
        assert!(rss <= before + BASELINE_MARGIN_KIB, "round {round}: {before} → {rss} KiB");
        after.push(rss);
    }
    assert!(after.iter().all(|&r| r <= after[0] + GROWTH_MARGIN_KIB), "{after:?}");
    run.stop_orderly();
}

/// A nanodata child whose plugin marks a chart obsolete streams to the real Netdata 1.37.1
/// parent: the parent takes the flag (the chart leaves its `/api/v1/charts`) while the
/// child's other charts stay, and the child frees the chart after its cleanup time.
#[test]
fn a_netdata_parent_takes_the_obsolete_flag_from_a_nanodata_child() {
    use std::os::unix::fs::PermissionsExt;
    if !require_netdata("a_netdata_parent_takes_the_obsolete_flag") {
        return;
    }
    let base = std::env::temp_dir().join(format!("nanodata-nd-churn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let port = free_port();
    let parent =
        NetdataParent::start(&base, port, ParentOptions { compression: false, ..Default::default() });
    let node = Node::new("ndobsolete", "none");
    let web = free_port();
    config(&node, web);
    node.write_stream_conf(&format!(
        "[stream]\n    enabled = yes\n    destination = 127.0.0.1:{port}\n    api key = {API_KEY}\n    timeout seconds = 10\n    reconnect delay seconds = 1\n"
    ));
    let plugins = node.dir.join("plugins.d");
    std::fs::create_dir_all(&plugins).unwrap();
    node.append_config(&format!("[directories]\n\tplugins = {}\n", plugins.display()));
    let go = node.dir.join("go");
    let script = plugins.join("obs.plugin");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             echo \"CHART obs.one '' 'Obsolete soon' n '' '' line 1 1 ''\"\n\
             echo \"DIMENSION v '' absolute 1 1\"\n\
             echo \"CHART obs.two '' 'Stays' n '' '' line 1 1 ''\"\n\
             echo \"DIMENSION v '' absolute 1 1\"\n\
             i=0\n\
             while [ ! -e '{}' ]; do i=$((i+1)); for c in one two; do echo \"BEGIN obs.$c\"; echo \"SET v = $i\"; echo END; done; sleep 1; done\n\
             echo \"CHART obs.one '' 'Obsolete soon' n '' '' line 1 1 'obsolete'\"\n\
             while :; do i=$((i+1)); echo \"BEGIN obs.two\"; echo \"SET v = $i\"; echo END; sleep 1; done\n",
            go.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut run = node.start_ready(&[]);
    run.wait_for_log("established communication - sending metrics", Duration::from_secs(20));
    let hostname = "it-ndobsolete";
    parent.wait_for_chart(hostname, "obs.one", Duration::from_secs(30));
    let listed_on_parent = |id: &str| {
        parent
            .get(&format!("/host/{hostname}/api/v1/charts"))
            .is_some_and(|b| b.contains(&format!("\"{id}\":")) || b.contains(&format!("\"id\": \"{id}\"")))
    };
    wait_until("the parent lists both charts", Duration::from_secs(20), &[&run], || {
        listed_on_parent("obs.one") && listed_on_parent("obs.two")
    });
    std::fs::write(&go, "").unwrap();
    wait_until("the parent stops listing the obsolete chart", Duration::from_secs(20), &[&run], || {
        !listed_on_parent("obs.one")
    });
    assert!(listed_on_parent("obs.two"), "the other chart stays on the parent");
    wait_until("the child frees it", Duration::from_secs(20), &[&run], || !known(web, hostname, "obs.one"));
    assert!(known(web, hostname, "obs.two"));
    assert!(run.log().contains(&format!("host '{hostname}': removed 1 obsolete chart(s)")), "{}", run.log());
    run.stop_orderly();
    drop(parent);
    let _ = std::fs::remove_dir_all(&base);
}
