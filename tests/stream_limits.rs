//! Bounds on what one authenticated child may make a parent do (issue 12), over a real
//! socket against the real binary, while a good nanodata child streams to the same parent:
//!
//! * replicated points outside the range the parent asked for (an hour apart, as in the
//!   attack bench's `replay-past`) are refused, and the child is disconnected with a log line
//!   naming it and the reason;
//! * a child answering replication with `REND … false` without progress has that chart's
//!   replication ended (a log line, an empty "stream now" request), and is disconnected the
//!   second time;
//! * a child defining more dimensions than `[stream] max dimensions per child` is
//!   disconnected with a log line, and what it defined stays within the bound;
//!
//! and the good child loses no second through all of it.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::netdata::{free_port, http_get, API_KEY};
use common::{witness, Node, Run};
use nanodata::clock::now_realtime_sec;

/// The parent's bound on dimensions per child in this test (the good child has fewer).
const MAX_DIMS: usize = 3000;

fn parent(port: u16) -> (Node, Run) {
    let node = Node::new("limitsparent", "ram");
    node.append_config(&format!("[db]\n\tretention = 3600\n[web]\n\tbind to = 127.0.0.1:{port}\n"));
    node.write_stream_conf(&format!(
        "[stream]\n\tmax dimensions per child = {MAX_DIMS}\n[{API_KEY}]\n\tenabled = yes\n"
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

/// The witness child streaming alongside (host `it-limitsgood`).
const GOOD: &str = "limitsgood";

/// Reads one line (the parent's `REPLAY_CHART`), waiting up to 10 s.
fn read_line(s: &mut TcpStream, run: &Run) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(_) if b[0] == b'\n' => return String::from_utf8_lossy(&line).into_owned(),
            Ok(_) => line.push(b[0]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    panic!("no line from the parent (got {:?}); log:\n{}", String::from_utf8_lossy(&line), run.log());
}

/// Reads until the parent closes the connection; panics if it does not within 20 s.
fn read_until_closed(s: &mut TcpStream, run: &Run, what: &str) {
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
    panic!("the parent did not close the connection of {what}; log:\n{}", run.log());
}

/// The log line containing `needle` (waiting for it up to 10 s).
fn log_line(run: &mut Run, needle: &str) -> String {
    run.wait_for_log(needle, Duration::from_secs(10));
    run.log().lines().find(|l| l.contains(needle)).unwrap_or_default().to_owned()
}

fn chart_def(id: &str, dims: usize) -> String {
    let mut def = format!("CHART \"{id}\" \"\" \"t\" \"u\" \"f\" \"{id}\" \"line\" 1 1 \"   \" \"p\" \"\"\n");
    for i in 0..dims {
        def.push_str(&format!("DIMENSION \"d{i}\" \"d{i}\" \"absolute\" 1 1 \"  \"\n"));
    }
    def
}

/// `REPLAY_CHART "<id>" "<bool>" <after> <before>` → (start streaming, after, before).
fn parse_request(line: &str, chart: &str) -> (bool, i64, i64) {
    let w: Vec<&str> = line.split_whitespace().collect();
    assert!(w.len() == 5 && w[0] == "REPLAY_CHART" && w[1] == format!("\"{chart}\""), "{line}");
    (w[2] == "\"true\"", w[3].parse().unwrap(), w[4].parse().unwrap())
}

/// Points an hour apart from 2001 on, each with a `child_now` just after it, in answer to a
/// request for the last hour: refused as outside the range, and the child is disconnected.
fn replay_outside_the_request(port: u16, run: &mut Run) {
    let mut s = witness::scripted(port, "replaypast");
    let now = now_realtime_sec();
    let mut def = chart_def("past.c", 10);
    def.push_str(&format!("CHART_DEFINITION_END {} {now} {now}\n", now - 3600));
    s.write_all(def.as_bytes()).unwrap();
    let (_, after, before) = parse_request(&read_line(&mut s, run), "past.c");
    assert!(after >= now - 3600 && after < before && before <= now_realtime_sec(), "{after} {before}");
    let mut lines = String::from("RBEGIN \"past.c\"\n");
    for k in 0..1_000i64 {
        let start = 1_000_000_000 + k * 3600;
        lines.push_str(&format!("RBEGIN '' {start} {} {}\n", start + 1, start + 2));
        for d in 0..10 {
            lines.push_str(&format!("RSET \"d{d}\" 1.0000000 \"\"\n"));
        }
    }
    let _ = s.write_all(lines.as_bytes()); // the parent may close meanwhile
    read_until_closed(&mut s, run, "the child replaying the past");
    let line = log_line(run, "replicated points refused for lying outside the range asked");
    assert!(
        line.contains("STREAM replaypast [receive from [127.0.0.1]:")
            && line.contains("RBEGIN 'past.c' 1000")
            && line.contains(&format!("outside the range asked for ({after}..{before})"))
            && line.contains("closing the connection"),
        "{line}"
    );
    // Nothing of 2001 was stored.
    let chart = http_get(
        port,
        "/host/replaypast/api/v1/data?chart=past.c&after=999999000&before=1000100000&points=0&format=csv",
    )
    .unwrap_or_default();
    assert!(chart.lines().count() <= 1, "points of 2001 were stored: {chart}");
}

/// `REND … false` answers that move nothing: the first ends the chart's replication with an
/// empty request, the second disconnects.
fn replay_without_progress(port: u16, run: &mut Run) {
    let mut s = witness::scripted(port, "noprogress");
    let now = now_realtime_sec();
    let mut def = chart_def("stuck.c", 2);
    def.push_str(&format!("CHART_DEFINITION_END {} {now} {now}\n", now - 600));
    s.write_all(def.as_bytes()).unwrap();
    let (_, after, before) = parse_request(&read_line(&mut s, run), "stuck.c");
    assert!(after > 0 && after < before, "{after} {before}");
    // "Not finished", and the answer ends where the request started.
    let first = now - 600;
    s.write_all(format!("RBEGIN \"stuck.c\"\nREND 1 {first} {now} false {after} {after} {now}\n").as_bytes())
        .unwrap();
    let next = read_line(&mut s, run);
    assert_eq!(parse_request(&next, "stuck.c"), (true, 0, 0), "the chart is told to stream");
    let line = log_line(run, "no progress; its replication ends");
    assert!(line.contains("replication of chart 'stuck.c'") && line.contains("127.0.0.1:"), "{line}");
    // The same to the empty request: disconnected.
    s.write_all(format!("RBEGIN \"stuck.c\"\nREND 1 0 0 false 0 0 {now}\n").as_bytes()).unwrap();
    read_until_closed(&mut s, run, "the child without progress");
    let line = log_line(run, "replication answers of this chart made no progress");
    assert!(
        line.contains("STREAM noprogress [receive from [127.0.0.1]:")
            && line.contains("chart 'stuck.c': 2 replication answers")
            && line.contains("closing the connection"),
        "{line}"
    );
}

/// Four charts of 1000 dimensions against a bound of 3000 per child.
fn too_many_dimensions(port: u16, run: &mut Run) {
    let mut s = witness::scripted(port, "manydims");
    let mut def = String::new();
    for c in 0..4 {
        def.push_str(&chart_def(&format!("many.c{c}"), 1000));
    }
    let _ = s.write_all(def.as_bytes());
    read_until_closed(&mut s, run, "the child with too many dimensions");
    let line = log_line(run, "more than the limit of 3000");
    assert!(
        line.contains("STREAM manydims [receive from [127.0.0.1]:")
            && line
                .contains("chart 'many.c3': 1 more dimension(s) would bring this source to 3001 dimensions")
            && line.contains("closing the connection"),
        "{line}"
    );
    let c2 = http_get(port, "/host/manydims/api/v1/chart?chart=many.c2").expect("the third chart");
    assert!(c2.contains("\"d999\""), "the charts within the bound are whole: {c2}");
    let c3 = http_get(port, "/host/manydims/api/v1/chart?chart=many.c3").unwrap_or_default();
    assert!(!c3.contains("\"d0\""), "the chart over the bound has no dimension: {c3}");
}

#[test]
fn children_over_the_bounds_are_disconnected_and_a_good_child_keeps_every_second() {
    let port = free_port();
    let (_node, mut run) = parent(port);
    let (_good, mut good_run) = witness::start(GOOD, port);
    good_run.wait_for_log("established communication", Duration::from_secs(20));
    witness::wait_for(port, GOOD, now_realtime_sec() - 3, &run);
    let from = witness::newest(port, GOOD);

    replay_outside_the_request(port, &mut run);
    replay_without_progress(port, &mut run);
    too_many_dimensions(port, &mut run);

    witness::assert_every_second(port, GOOD, from, &run);
    let log = run.log();
    assert!(
        !log.lines().any(|l| l.contains("STREAM it-limitsgood") && l.contains("closing")),
        "the good child was dropped:\n{log}"
    );
    good_run.stop_orderly();
    run.stop_orderly();
}
