//! A nanodata parent on loopback, driven by scripted children speaking raw protocol bytes:
//! every refusal with Netdata's exact reply and its log line, and malformed streams that
//! lose only their own connection while another child (a real nanodata child) keeps being
//! served.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::netdata::{free_port, http_get, API_KEY};
use common::{Node, Run};

const DENIED: &str = "You are not permitted to access this. Check the logs for more info.";
const NOT_ALLOWED: &str = "You are not allowed to access this resource.";
const ALREADY: &str = "This GUID is already streaming to this server";
const LOCALHOST: &str = "Don't hit me baby, you are trying to stream my localhost back";
const BUSY: &str = "The server is too busy now to accept this request. Try later.";
const DISABLED_KEY: &str = "22222222-2222-3333-4444-555555555555";
const IP_KEY: &str = "33333333-2222-3333-4444-555555555555";
const DISABLED_GUID: &str = "44444444-2222-3333-4444-555555555555";

fn stream_conf() -> String {
    format!(
        "[{API_KEY}]\n\tenabled = yes\n\n[{DISABLED_KEY}]\n\tenabled = no\n\n\
         [{IP_KEY}]\n\tenabled = yes\n\tallow from = 10.*\n\n\
         [{DISABLED_GUID}]\n\ttype = machine\n\tenabled = no\n"
    )
}

/// A parent whose web server listens on `port` with `web` extra `[web]` lines.
fn parent(name: &str, bind: &str, web: &str) -> (Node, Run) {
    let node = Node::new(name, "ram");
    node.append_config(&format!("[web]\n\tbind to = {bind}\n{web}"));
    node.write_stream_conf(&stream_conf());
    let run = node.start_ready(&[]);
    (node, run)
}

fn head(query: &str) -> String {
    format!("STREAM {query} HTTP/1.1\r\nUser-Agent: scripted/1\r\nAccept: */*\r\n\r\n")
}

fn query(key: &str, guid: &str, hostname: &str, ver: u32) -> String {
    format!("key={key}&hostname={hostname}&machine_guid={guid}&update_every=1&os=linux&hops=1&ver={ver}")
}

fn guid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    s
}

/// Everything the parent sends until it closes (at most 10 s).
fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < Duration::from_secs(10) {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return got, // reset
        }
    }
    panic!("the parent did not close the connection; got {:?}", String::from_utf8_lossy(&got));
}

/// The reply to a head: the bytes that arrive within a short while (the connection stays up).
fn reply(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 256];
    while start.elapsed() < Duration::from_secs(5) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.starts_with(b"Hit me baby") && got.len() >= 30 {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if !got.is_empty() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// A refused request: the exact reply bytes, then the close.
fn refused(port: u16, q: &str) -> String {
    let mut s = connect(port);
    s.write_all(head(q).as_bytes()).unwrap();
    String::from_utf8(read_until_closed(&mut s)).unwrap()
}

/// An accepted scripted child.
fn accepted(port: u16, key: &str, guid: &str, hostname: &str, ver: u32) -> TcpStream {
    let mut s = connect(port);
    s.write_all(head(&query(key, guid, hostname, ver)).as_bytes()).unwrap();
    let r = reply(&mut s);
    assert!(r.starts_with("Hit me baby, push them over"), "not accepted: {r:?}");
    s
}

#[test]
fn every_refusal_gets_netdata_s_exact_reply_and_a_log_line() {
    let port = free_port();
    let other = free_port();
    // The second address does not allow streaming.
    let (node, mut run) = parent("refusals", &format!("127.0.0.1:{port} 127.0.0.1:{other}=dashboard"), "");
    let g = guid();
    let cases: Vec<(String, &str, &str)> = vec![
        (format!("hostname=h&machine_guid={g}"), DENIED, "request without an API key"),
        (format!("key={API_KEY}&machine_guid={g}"), DENIED, "request without a hostname"),
        (format!("key={API_KEY}&hostname=h"), DENIED, "without a machine GUID"),
        (format!("key=secret&hostname=h&machine_guid={g}"), DENIED, "API key 'secret' is not a valid UUID"),
        (
            format!("key={API_KEY}&hostname=h&machine_guid=abc"),
            DENIED,
            "machine GUID 'abc' of host 'h' is not a valid UUID",
        ),
        (query("55555555-2222-3333-4444-555555555555", &g, "h", 16376), DENIED, "(not in stream.conf)"),
        (query(DISABLED_KEY, &g, "h", 16376), DENIED, "(not enabled)"),
        (query(IP_KEY, &g, "h", 16376), DENIED, "is not permitted from this IP"),
        (
            query(API_KEY, DISABLED_GUID, "h", 16376),
            DENIED,
            "machine GUID '44444444-2222-3333-4444-555555555555' of host 'h' is not allowed (not enabled)",
        ),
        (query(API_KEY, &node.guid(), "h", 16376), LOCALHOST, "uses my own machine GUID"),
    ];
    for (q, expected, reason) in &cases {
        assert_eq!(&refused(port, q), expected, "{q}");
        run.wait_for_log(reason, Duration::from_secs(5));
    }
    assert_eq!(run.count_in_log("Forbidding access."), cases.len() - 1, "{}", run.log());
    // An address of [web] bind to without the streaming permission.
    assert_eq!(refused(other, &query(API_KEY, &g, "h", 16376)), NOT_ALLOWED);
    run.wait_for_log("the address is not in [web] allow streaming from", Duration::from_secs(5));

    // One stream per GUID: the second connection is refused while the first is live.
    let first = accepted(port, API_KEY, &g, "twin", 16376);
    assert_eq!(refused(port, &query(API_KEY, &g, "twin", 16376)), ALREADY);
    run.wait_for_log("is already streaming to this server", Duration::from_secs(5));
    drop(first);
    run.wait_for_log("disconnected (completed 0 updates)", Duration::from_secs(5));
    // The host is kept, unreachable, and the GUID may connect again.
    let info = http_get(port, "/api/v1/info").unwrap();
    assert!(info.contains("\"hostname\": \"twin\", \"reachable\": false"), "{info}");
    let again = accepted(port, API_KEY, &g, "twin", 16376);
    drop(again);
    run.stop_orderly();
}

#[test]
fn web_allow_streaming_from_and_the_rate_limit() {
    let port = free_port();
    let (_node, mut run) =
        parent("ratelimit", &format!("127.0.0.1:{port}"), "\tallow streaming from = 10.*\n");
    assert_eq!(refused(port, &query(API_KEY, &guid(), "h", 16376)), NOT_ALLOWED);
    run.wait_for_log("allow streaming from. Forbidding access.", Duration::from_secs(5));
    run.stop_orderly();

    let port = free_port();
    let (_node, mut run) = parent(
        "ratelimit2",
        &format!("127.0.0.1:{port}"),
        "\taccept a streaming request every seconds = 60\n",
    );
    let _first = accepted(port, API_KEY, &guid(), "a", 16376);
    assert_eq!(refused(port, &query(API_KEY, &guid(), "b", 16376)), BUSY);
    run.wait_for_log("too busy to accept new streaming request. Will be allowed in", Duration::from_secs(5));
    run.stop_orderly();
}

/// Versions and their exact prompts (protocol.md §1.4, peer.md §2.3).
#[test]
fn prompts_follow_the_child_s_version() {
    let port = free_port();
    let (_node, mut run) = parent("prompts", &format!("127.0.0.1:{port}"), "");
    for (ver, prompt) in [
        (None, "Hit me baby, push them over..."),
        (Some(2), "Hit me baby, push them over and bring the host labels..."),
        (Some(4), "Hit me baby, push them over with the version=4"),
        (Some(5), "Hit me baby, push them over with the version=5"),
        (Some(15352), "Hit me baby, push them over with the version=5056"),
        (Some(16376), "Hit me baby, push them over with the version=6080"),
    ] {
        let mut q = format!("key={API_KEY}&hostname=p&machine_guid={}", guid());
        if let Some(v) = ver {
            q.push_str(&format!("&ver={v}"));
        }
        let mut s = connect(port);
        s.write_all(head(&q).as_bytes()).unwrap();
        assert_eq!(reply(&mut s), prompt, "ver {ver:?}");
    }
    run.stop_orderly();
}

/// A nanodata child streaming to `port`, and the parent's view of it.
fn good_child(port: u16) -> (Node, Run) {
    let node = Node::new("goodchild", "ram");
    node.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

/// The newest second the parent holds for the good child's system.cpu.
fn newest(port: u16) -> i64 {
    let body = http_get(
        port,
        "/host/it-goodchild/api/v1/data?chart=system.cpu&after=-10&points=0&format=csv&options=seconds",
    )
    .unwrap_or_default();
    body.lines().nth(1).and_then(|l| l.split(',').next()).and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0)
        as i64
}

fn wait_until_fresh(port: u16, run: &Run) -> i64 {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let t = newest(port);
        if t >= nanodata::clock::now_realtime_sec() - 3 {
            return t;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("the good child's data is not fresh on the parent; log:\n{}", run.log());
}

/// An LZ4 block that decodes to ~30 KB from 130 bytes.
fn bomb() -> Vec<u8> {
    let mut block = vec![0x1F, b'x', 0x01, 0x00];
    block.extend(std::iter::repeat_n(255u8, 120));
    block.push(0);
    block.extend_from_slice(&[0x10, b'\n']);
    let len = block.len();
    let mut wire = vec![0xFA, 0x80 | (len & 0x7F) as u8, 0x80 | ((len >> 7) & 0x7F) as u8, 0x0A];
    wire.extend(block);
    wire
}

#[test]
fn malformed_streams_lose_only_their_own_connection() {
    let port = free_port();
    let (_node, mut run) = parent("malformed", &format!("127.0.0.1:{port}"), "");
    let (_child, mut child_run) = good_child(port);
    child_run.wait_for_log("established communication", Duration::from_secs(20));
    wait_until_fresh(port, &run);

    let chart = "CHART \"bad.c\" \"\" \"t\" \"u\" \"f\" \"bad.c\" \"line\" 1 1 \"   \" \"p\" \"\"\n";
    let mut many_dims = String::from(chart);
    for i in 0..1001 {
        many_dims.push_str(&format!("DIMENSION \"d{i}\" \"d{i}\" \"absolute\" 1 1 \"  \"\n"));
    }
    let mut long = "VARIABLE HOST x = ".to_string() + &"1".repeat(20_000);
    long.push('\n');
    let cases: Vec<(u32, Vec<u8>, &str)> = vec![
        (15352, b"SET \"a\" = 1\n".to_vec(), "SET without a chart; closing the connection."),
        (
            15352,
            b"HELLO there\n".to_vec(),
            "sent command 'HELLO' which is not known by netdata, for host 'bad'. Disabling it. Closing the connection.",
        ),
        (15352, long.into_bytes(), "is longer than the limit of 15360 bytes; closing the connection."),
        (15352, many_dims.into_bytes(), "would exceed the limit of 1000 dimensions of chart 'bad.c'"),
        (
            15352,
            format!("{chart}REND 1 0 0 true 0 0 0\n").into_bytes(),
            "REND for chart 'bad.c' that was never requested",
        ),
        (16376, b"CHART \"x.y\"\n".to_vec(), "bad LZ4 block header 43 48 41 52; closing the connection."),
        (16376, bomb(), "decompression bomb?); closing the connection."),
    ];
    for (ver, payload, reason) in cases {
        let mut s = accepted(port, API_KEY, &guid(), "bad", ver);
        let _ = s.write_all(&payload);
        let rest = read_until_closed(&mut s);
        assert!(!rest.contains(&b'\n') || rest.starts_with(b"REPLAY_CHART"), "{rest:?}");
        run.wait_for_log(reason, Duration::from_secs(5));
        // The other child is still served.
        let before = newest(port);
        std::thread::sleep(Duration::from_millis(1500));
        assert!(newest(port) > before, "the good child stalled after '{reason}'; log:\n{}", run.log());
    }
    let log = run.log();
    assert!(
        !log.lines().any(|l| l.contains("STREAM it-goodchild") && l.contains("disconnected")),
        "the good child was dropped:\n{log}"
    );
    assert_eq!(
        run.count_in_log("client willing to stream metrics for host 'it-goodchild'"),
        1,
        "accepted once:\n{log}"
    );
    child_run.stop_orderly();
    run.stop_orderly();
}

#[test]
fn orphan_hosts_are_removed_by_the_timer() {
    let port = free_port();
    let node = Node::new("orphans", "ram");
    node.append_config(&format!(
        "[web]\n\tbind to = 127.0.0.1:{port}\n[db]\n\tcleanup orphan hosts after secs = 2\n"
    ));
    node.write_stream_conf(&stream_conf());
    let mut run = node.start_ready(&[]);
    let g = guid();
    let child = accepted(port, API_KEY, &g, "orphan", 16376);
    assert!(http_get(port, "/host/orphan/api/v1/info").is_some());
    drop(child);
    run.wait_for_log("disconnected (completed", Duration::from_secs(5));
    // Still readable right after the disconnection, gone after the timeout without any
    // other connection happening.
    assert!(http_get(port, &format!("/host/{g}/api/v1/info")).is_some());
    run.wait_for_log(
        "more than [db] cleanup orphan hosts after secs = 2; removing it",
        Duration::from_secs(10),
    );
    assert!(http_get(port, "/host/orphan/api/v1/info").is_none());
    let info = http_get(port, "/api/v1/info").unwrap();
    assert!(!info.contains(&g), "{info}");
    run.stop_orderly();
}

#[test]
fn hosts_and_charts_are_capped_from_stream_conf() {
    let port = free_port();
    let node = Node::new("caps", "ram");
    node.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{port}\n"));
    node.write_stream_conf(&format!(
        "[stream]\n\tmax child hosts = 1\n\tmax charts per child = 3\n{}",
        stream_conf()
    ));
    let mut run = node.start_ready(&[]);
    let mut first = accepted(port, API_KEY, &guid(), "one", 15352);
    // A second child host is over the cap: the busy reply makes it retry later.
    assert_eq!(refused(port, &query(API_KEY, &guid(), "two", 16376)), BUSY);
    run.wait_for_log("this parent already has 1 child hosts, the most it accepts", Duration::from_secs(5));
    // The fourth chart of a child closes its connection.
    let mut charts = String::new();
    for i in 0..4 {
        charts.push_str(&format!(
            "CHART \"c.{i}\" \"\" \"t\" \"u\" \"f\" \"c.{i}\" \"line\" 1 1 \"   \" \"p\" \"\"\n"
        ));
    }
    first.write_all(charts.as_bytes()).unwrap();
    read_until_closed(&mut first);
    run.wait_for_log("chart 'c.3' would exceed the limit of 3 charts per source", Duration::from_secs(5));
    run.stop_orderly();
}

#[test]
fn a_headless_proxy_streams_its_children_onward() {
    let parent_port = free_port();
    let (_parent, mut parent_run) = parent("pparent", &format!("127.0.0.1:{parent_port}"), "");
    let proxy_port = free_port();
    let proxy = Node::new("proxy", "none");
    proxy.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{proxy_port}\n"));
    proxy.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{parent_port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n\n\
         [{API_KEY}]\n\tenabled = yes\n\tdefault memory mode = none\n"
    ));
    let mut proxy_run = proxy.start_ready(&[]);
    let child = Node::new("pchild", "ram");
    child.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = 127.0.0.1:{proxy_port}\n\tapi key = {API_KEY}\n\treconnect delay seconds = 1\n"
    ));
    let mut child_run = child.start_ready(&[]);
    child_run.wait_for_log("established communication", Duration::from_secs(20));
    proxy_run.wait_for_log("STREAM it-pchild [send]: proxying this child", Duration::from_secs(20));
    parent_run.wait_for_log("STREAM it-pchild [receive from", Duration::from_secs(20));
    let start = Instant::now();
    loop {
        let info = http_get(parent_port, "/api/v1/info").unwrap_or_default();
        let data = http_get(parent_port, "/host/it-pchild/api/v1/data?chart=system.cpu&after=-3&format=csv")
            .unwrap_or_default();
        if info.contains("\"hostname\": \"it-pchild\", \"reachable\": true, \"hops\": 2")
            && info.contains("\"hostname\": \"it-proxy\", \"reachable\": true, \"hops\": 1")
            && data.lines().count() >= 2
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the parent does not show the proxied child: {info}\n{data}\nproxy log:\n{}",
            proxy_run.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // The proxy keeps no database of the child but serves its definitions.
    let charts = http_get(proxy_port, "/host/it-pchild/api/v1/charts").unwrap();
    assert!(charts.contains("\"memory_mode\": \"none\""), "{charts}");
    child_run.stop_orderly();
    proxy_run.stop_orderly();
    parent_run.stop_orderly();
}
