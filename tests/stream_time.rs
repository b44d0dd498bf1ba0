//! Time from a child is bounded (issue 12, item 1), over a real socket against the real
//! binary: a child that keeps sending `BEGIN <chart> 3599000000` (each line an hour ahead) on
//! a 1000-dimension chart is disconnected with a log line naming it and the reason, its
//! chart's clock never gets past the parent's now plus the tolerance, and another child
//! streaming at the same time loses no second.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::netdata::{free_port, http_get, API_KEY};
use common::{witness, Node, Run};
use nanodata::clock::now_realtime_sec;

/// The tolerance of `nanodata::rrd::MAX_FUTURE_SECS`.
const TOLERANCE: i64 = nanodata::rrd::MAX_FUTURE_SECS as i64;
const DIMS: usize = 1000;
const LEAPS: usize = 300;

/// A parent keeping an hour (so an hour-long leap stays inside the retention and, without
/// the bound, would be interpolated slot by slot).
fn parent(port: u16) -> (Node, Run) {
    let node = Node::new("timeparent", "ram");
    node.append_config(&format!("[db]\n\tretention = 3600\n[web]\n\tbind to = 127.0.0.1:{port}\n"));
    node.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n"));
    let run = node.start_ready(&[]);
    (node, run)
}

/// The witness child streaming alongside (host `it-timegood`).
const GOOD: &str = "timegood";

/// `last_entry` of an `/api/v1/chart` answer.
fn last_entry(chart: &str) -> i64 {
    chart
        .split("\"last_entry\":")
        .nth(1)
        .and_then(|r| r.trim_start().split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no last_entry in {chart}"))
}

/// Reads until the parent closes the connection; panics if it does not within 20 s.
fn read_until_closed(s: &mut TcpStream, run: &Run) {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < Duration::from_secs(20) {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return, // reset: closed with unread bytes
        }
    }
    panic!("the parent did not close the leaping child's connection; log:\n{}", run.log());
}

#[test]
fn a_child_leaping_into_the_future_is_disconnected_and_harms_no_one() {
    let port = free_port();
    let (_node, mut run) = parent(port);
    let (_good, mut good_run) = witness::start(GOOD, port);
    good_run.wait_for_log("established communication", Duration::from_secs(20));
    witness::wait_for(port, GOOD, now_realtime_sec() - 3, &run);
    // The window checked for the good child starts at a second it already has.
    let from = witness::newest(port, GOOD);

    let mut s = witness::scripted(port, "leaper");
    let mut def =
        String::from("CHART \"leap.c\" \"\" \"t\" \"u\" \"f\" \"leap.c\" \"line\" 1 1 \"   \" \"p\" \"\"\n");
    for i in 0..DIMS {
        def.push_str(&format!("DIMENSION \"d{i}\" \"d{i}\" \"absolute\" 1 1 \"  \"\n"));
    }
    // Two honest collections give the chart a clock; then replicated points and a chart
    // state an hour ahead (refused, no strike), then the leaps.
    let attack_start = now_realtime_sec();
    let far = attack_start + 3_600;
    def.push_str(&format!("CHART_DEFINITION_END 1 {far} {far}\n"));
    def.push_str("BEGIN \"leap.c\"\nSET \"d0\" = 1\nEND\nBEGIN \"leap.c\" 1000000\nSET \"d0\" = 2\nEND\n");
    s.write_all(def.as_bytes()).unwrap();
    let mut lines = format!(
        "RBEGIN \"leap.c\"\nRBEGIN '' {} {far} {far}\nRSET \"d0\" 5 \"\"\nRSSTATE {} {}\nREND 1 1 {far} true 1 {far} {far}\n",
        far - 1,
        far * 1_000_000,
        far * 1_000_000
    );
    for _ in 0..LEAPS {
        lines.push_str("BEGIN \"leap.c\" 3599000000\nSET \"d0\" = 1\nEND\n");
    }
    // The parent may close while the lines are still being written.
    let _ = s.write_all(lines.as_bytes());

    // (b) the connection is closed, (a) with a log line naming the child and the reason.
    read_until_closed(&mut s, &run);
    run.wait_for_log(
        "collections refused for moving their chart's clock into the future",
        Duration::from_secs(10),
    );
    let log = run.log();
    let line = log
        .lines()
        .find(|l| l.contains("collections refused for moving their chart's clock into the future"))
        .unwrap_or_default();
    assert!(
        line.contains("STREAM leaper [receive from [127.0.0.1]:")
            && line.contains("BEGIN 'leap.c' 3599000000")
            && line.contains("closing the connection"),
        "{line}"
    );
    assert!(log.contains("leap.c' not stored: it is ahead of our clock"), "the far replicated point:\n{log}");
    assert!(log.contains("RSSTATE of chart 'leap.c' refused"), "{log}");

    // (c) the chart's last stored time is not past now + the tolerance.
    let chart = http_get(port, "/host/leaper/api/v1/chart?chart=leap.c").expect("the leaper's chart");
    let last = last_entry(&chart);
    let now = now_realtime_sec();
    assert!(last >= attack_start - 5, "the honest collections are stored: {last}");
    assert!(last <= now + TOLERANCE, "last entry {last} is beyond now {now} + {TOLERANCE}");

    // (d) the good child lost no second around the attack.
    witness::assert_every_second(port, GOOD, from, &run);
    let log = run.log();
    assert!(
        !log.lines().any(|l| l.contains("STREAM it-timegood") && l.contains("disconnected")),
        "the good child was dropped:\n{log}"
    );
    good_run.stop_orderly();
    run.stop_orderly();
}

/// A plugin whose `BEGIN` microseconds leap an hour ahead: the leaps are refused (its
/// chart never gets past now + the tolerance) and after repeated ones it is stopped with a
/// log line saying why.
#[test]
fn a_plugin_leaping_into_the_future_is_stopped() {
    use std::os::unix::fs::PermissionsExt;
    let port = free_port();
    let node = Node::new("timeplugin", "ram");
    let dir = node.dir.join("plugins.d");
    std::fs::create_dir_all(&dir).unwrap();
    node.append_config(&format!(
        "[db]\n\tretention = 3600\n[web]\n\tbind to = 127.0.0.1:{port}\n[directories]\n\tplugins = {}\n",
        dir.display()
    ));
    // Three honest collections, then hour-long leaps, one every 10 ms.
    let body = "echo \"CHART leap.p '' 'Leap' 'n' '' '' line 1 1\"\n\
                echo \"DIMENSION v '' absolute 1 1\"\n\
                for i in 1 2 3; do echo \"BEGIN leap.p\"; echo \"SET v = $i\"; echo END; sleep 1; done\n\
                while :; do echo \"BEGIN leap.p 3599000000\"; echo \"SET v = 9\"; echo END; sleep 0.01; done\n";
    let path = dir.join("leaper.plugin");
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut run = node.start_ready(&[]);
    run.wait_for_log(
        "collections refused for moving their chart's clock into the future",
        Duration::from_secs(30),
    );
    let log = run.log();
    let line = log
        .lines()
        .find(|l| l.contains("collections refused for moving their chart's clock into the future"))
        .unwrap_or_default();
    assert!(line.contains("'leaper.plugin'") && line.contains("BEGIN 'leap.p' 3599000000"), "{line}");
    assert!(line.contains("stopping it"), "{line}");
    let chart = http_get(port, "/api/v1/chart?chart=leap.p").expect("the plugin's chart");
    let last = last_entry(&chart);
    let now = now_realtime_sec();
    assert!(last > 0 && last <= now + TOLERANCE, "last entry {last}, now {now}");
    run.stop_orderly();
}
