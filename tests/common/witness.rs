//! A well-behaved nanodata child streaming to a parent under test, as a witness: the attack
//! tests check that it loses no second on the parent while another child misbehaves. And
//! [`scripted`], the misbehaving child's connection.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::netdata::{http_get, API_KEY};
use super::{Node, Run};
use nanodata::clock::now_realtime_sec;

/// Starts the witness `name` (host `it-<name>`), streaming to the parent on `port`.
pub fn start(name: &str, port: u16) -> (Node, Run) {
    let node = Node::new(name, "ram");
    node.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

/// The witness's system.cpu rows on the parent for `[after, before]` as
/// `(time, all values present)`.
pub fn rows(port: u16, name: &str, after: i64, before: i64) -> Vec<(i64, bool)> {
    let body = http_get(
        port,
        &format!(
            "/host/it-{name}/api/v1/data?chart=system.cpu&after={after}&before={before}&points=0&format=csv&options=seconds"
        ),
    )
    .unwrap_or_default();
    body.lines()
        .skip(1)
        .filter_map(|l| {
            let mut fields = l.split(',');
            let t = fields.next()?.parse::<f64>().ok()? as i64;
            let complete = fields.all(|v| !v.is_empty() && v != "null" && v.parse::<f64>().is_ok());
            Some((t, complete))
        })
        .collect()
}

/// The newest second the parent holds for the witness (0: none in the last 10 s).
pub fn newest(port: u16, name: &str) -> i64 {
    let now = now_realtime_sec();
    rows(port, name, now - 10, now).iter().map(|r| r.0).max().unwrap_or(0)
}

/// Waits (up to 30 s) until the parent holds the witness's data up to `at_least`.
pub fn wait_for(port: u16, name: &str, at_least: i64, parent: &Run) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if newest(port, name) >= at_least {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("the witness '{name}' has no data up to {at_least} on the parent; log:\n{}", parent.log());
}

/// Asserts that the parent holds every second of the witness from `from` to two seconds
/// from now, each with all its values (waiting for the last ones to arrive).
pub fn assert_every_second(port: u16, name: &str, from: i64, parent: &Run) {
    let to = now_realtime_sec() + 2;
    wait_for(port, name, to + 1, parent);
    let rows = rows(port, name, from, to);
    let mut times: Vec<i64> = rows.iter().map(|r| r.0).collect();
    times.sort_unstable();
    let want: Vec<i64> = (from..=to).collect();
    assert_eq!(times, want, "seconds of the witness '{name}' on the parent; log:\n{}", parent.log());
    assert!(rows.iter().all(|r| r.1), "a second of the witness '{name}' is empty: {rows:?}");
}

/// Connects to the parent on `port` as a scripted child `hostname` with replication (version
/// 5056, no compression), after checking the parent's exact reply.
pub fn scripted(port: u16, hostname: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let q = format!(
        "key={API_KEY}&hostname={hostname}&machine_guid={}&update_every=1&os=linux&hops=1&ver=15352",
        uuid::Uuid::new_v4().hyphenated()
    );
    s.write_all(format!("STREAM {q} HTTP/1.1\r\nUser-Agent: scripted/1\r\nAccept: */*\r\n\r\n").as_bytes())
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let start = Instant::now();
    while !got.ends_with(b"version=5056") && start.elapsed() < Duration::from_secs(5) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(String::from_utf8_lossy(&got), "Hit me baby, push them over with the version=5056");
    s
}
