//! The log lines Netdata's streaming guides quote (`tail -f error.log | grep STREAM`), each
//! provoked in the situation the guide describes and found in nanodata's log with Netdata's
//! words: a child that cannot connect, a "parent" that is not a Netdata, a child and a
//! parent that connect, a full send buffer and the reconnection after it, and on a parent
//! a child sending an unknown command, a `SET` without a dimension, a child that goes
//! away, a refused API key and the streaming rate limit.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::netdata::{free_port, API_KEY};
use common::{Node, Run};

const BUSY: &str = "The server is too busy now to accept this request. Try later.";

/// A child `it-<name>` without a web server or a database, streaming to `destination`.
fn child(name: &str, destination: &str, extra: &str) -> (Node, Run) {
    let node = Node::new(name, "none");
    node.append_config("[web]\n\tmode = none\n");
    node.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = {destination}\n\tapi key = {API_KEY}\n\
         \ttimeout seconds = 10\n\treconnect delay seconds = 1\n{extra}"
    ));
    let run = node.start_ready(&[]);
    (node, run)
}

/// A parent on `port` (`[web]` lines `web`), accepting [`API_KEY`] with `key_extra`.
fn parent(name: &str, port: u16, web: &str, key_extra: &str) -> (Node, Run) {
    let node = Node::new(name, "ram");
    node.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{port}\n{web}"));
    node.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n{key_extra}"));
    let run = node.start_ready(&[]);
    (node, run)
}

/// The first line of the run's log containing `needle`, waiting for it (at most `secs`).
fn line(run: &mut Run, needle: &str, secs: u64) -> String {
    run.wait_for_log(needle, Duration::from_secs(secs));
    run.log().lines().find(|l| l.contains(needle)).unwrap_or_default().to_owned()
}

/// Where `needle` first appears in `log` at or after `from` (panics with the log).
fn at(log: &str, needle: &str, from: usize) -> usize {
    match log[from..].find(needle) {
        Some(i) => from + i,
        None => panic!("no {needle:?} after byte {from} of the log:\n{log}"),
    }
}

/// The number after `before` in `line`.
fn number_after(line: &str, before: &str) -> u64 {
    let rest = line.split(before).nth(1).unwrap_or_else(|| panic!("no {before:?} in {line}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

/// Reads a STREAM request head (up to the empty line) from a fake parent's connection.
fn read_head(s: &mut impl Read) -> Vec<u8> {
    let mut head = Vec::new();
    let mut b = [0u8; 1024];
    let start = Instant::now();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && start.elapsed() < Duration::from_secs(10) {
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&b[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    head
}

/// A scripted child connected to a parent on `port` as host `hostname` (protocol V1: no
/// replication, plain text), after the parent's prompt.
fn scripted(port: u16, hostname: &str) -> (TcpStream, u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let local = s.local_addr().unwrap().port();
    s.write_all(head(API_KEY, hostname).as_bytes()).unwrap();
    let reply = read_all(&mut s, Some(b"Hit me baby, push them over..."));
    assert_eq!(reply, "Hit me baby, push them over...", "the parent's prompt");
    (s, local)
}

fn head(key: &str, hostname: &str) -> String {
    let guid = uuid::Uuid::new_v4().hyphenated().to_string();
    format!(
        "STREAM key={key}&hostname={hostname}&machine_guid={guid}&update_every=1&os=linux&hops=1 HTTP/1.1\r\n\
         User-Agent: scripted/1\r\nAccept: */*\r\n\r\n"
    )
}

/// What the peer sends until it closes, or until `until` has arrived (at most 10 s).
fn read_all(s: &mut TcpStream, until: Option<&[u8]>) -> String {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if until.is_some_and(|u| got.len() >= u.len()) {
            break;
        }
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// A fake parent on a TCP port answering every STREAM request with `reply`, then closing,
/// until it is dropped.
struct FakeParent {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeParent {
    fn answering(reply: &'static [u8]) -> FakeParent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            while !done.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(60) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                        read_head(&mut s);
                        let _ = s.write_all(reply);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        FakeParent { port, stop, thread: Some(thread) }
    }
}

impl Drop for FakeParent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_child_that_cannot_connect_says_so_in_netdata_s_words() {
    let port = free_port(); // nothing listens there
    let (_node, mut run) = child("ll-refused", &format!("127.0.0.1:{port}"), "");
    let prefix = format!("STREAM it-ll-refused [send to 127.0.0.1:{port}]");
    run.wait_for_log(&format!("{prefix}: failed to connect"), Duration::from_secs(20));
    let log = run.log();
    // ECONNREFUSED is 111 on every Linux architecture but MIPS.
    let errno = if cfg!(any(target_arch = "mips", target_arch = "mips64")) { 146 } else { 111 };
    let i = at(&log, &format!("{prefix}: connecting..."), 0);
    let i = at(
        &log,
        &format!("Failed to connect to '127.0.0.1', port '{port}' (errno {errno}, Connection refused)"),
        i,
    );
    at(&log, &format!("{prefix}: failed to connect"), i);
    // Netdata's thread name carries STREAM where the message itself does not: grep finds it.
    let failed = log.lines().find(|l| l.contains("Failed to connect to '")).unwrap();
    assert!(failed.contains("ERROR : STREAM_SENDER[it-ll-refused] : Failed to connect to '"), "{failed}");
    assert!(!log.contains("initializing communication..."), "{log}");
    run.stop_orderly();
}

#[test]
fn a_parent_that_is_not_a_netdata_is_reported_as_such() {
    let fake = FakeParent::answering(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let (_node, mut run) = child("ll-garbage", &format!("127.0.0.1:{}", fake.port), "");
    let prefix = format!("STREAM it-ll-garbage [send to 127.0.0.1:{}]", fake.port);
    let bad = line(&mut run, "server is not replying properly (is it a netdata?)", 20);
    assert!(
        bad.contains(&format!(" : {prefix}: server is not replying properly (is it a netdata?).")),
        "{bad}"
    );
    assert!(bad.contains("HTTP/1.1 404 Not Found"), "nanodata adds the reply: {bad}");
    let log = run.log();
    let i = at(&log, &format!("{prefix}: connecting..."), 0);
    let i = at(&log, &format!("{prefix}: initializing communication..."), i);
    let i = at(&log, &format!("{prefix}: waiting response from remote netdata..."), i);
    at(&log, &format!("{prefix}: server is not replying properly (is it a netdata?)"), i);
    assert!(!log.contains("established communication"), "{log}");
    run.stop_orderly();
}

#[test]
fn a_child_and_its_parent_log_the_guide_s_lines_from_connection_to_end_of_file() {
    let port = free_port();
    let (parent_node, mut parent_run) = parent(
        "ll-parent",
        port,
        "",
        "\tdefault history = 1200\n\tdefault memory mode = ram\n\thealth enabled by default = auto\n",
    );
    let (child_node, mut child_run) = child("ll-child", &format!("127.0.0.1:{port}"), "");

    // The child.
    let prefix = format!("STREAM it-ll-child [send to 127.0.0.1:{port}]");
    child_run.wait_for_log("STREAM it-ll-child [send]: ready - sending metrics...", Duration::from_secs(20));
    let log = child_run.log();
    let i = at(&log, &format!("{prefix}: connecting..."), 0);
    let i = at(&log, &format!("{prefix}: initializing communication..."), i);
    let i = at(&log, &format!("{prefix}: waiting response from remote netdata..."), i);
    let i = at(&log, &format!("{prefix}: established communication - sending metrics..."), i);
    at(&log, "STREAM it-ll-child [send]: ready - sending metrics...", i);
    assert!(!log.contains("discarding"), "nothing to discard on a first connection:\n{log}");

    // The parent: the child's port is in the first line.
    let new = line(&mut parent_run, "new client connection.", 10);
    let child_port = number_after(&new, "STREAM [receive from [127.0.0.1]:");
    assert!(
        new.ends_with(&format!("STREAM [receive from [127.0.0.1]:{child_port}]: new client connection.")),
        "{new}"
    );
    let guid = child_node.guid();
    let at_parent = format!("STREAM it-ll-child [receive from [127.0.0.1]:{child_port}]");
    parent_run.wait_for_log(&format!("{at_parent}: receiving metrics..."), Duration::from_secs(10));
    let log = parent_run.log();
    let d = parent_node.dir.display();
    let i = at(&log, &format!("STREAM [receive from [127.0.0.1]:{child_port}]: new client connection."), 0);
    let i = at(
        &log,
        &format!(
            "{at_parent}: Host 'it-ll-child' with guid '{guid}' initialized, os: linux, update every: 1, memory mode: ram, \
             history entries: 1200, streaming: disabled, health: auto, cache_dir: '{d}/cache/{guid}', \
             varlib_dir: '{d}/lib'"
        ),
        i,
    );
    let i = at(
        &log,
        &format!(
            "{at_parent}: client willing to stream metrics for host 'it-ll-child' with machine_guid '{guid}': \
             update every = 1, history = 1200, memory mode = ram, health auto"
        ),
        i,
    );
    let i = at(&log, &format!("{at_parent}: initializing communication..."), i);
    at(&log, &format!("{at_parent}: receiving metrics..."), i);

    // The child goes away.
    child_run.stop_orderly();
    parent_run.wait_for_log(&format!("{at_parent}: read failed: end of file"), Duration::from_secs(10));
    parent_run.stop_orderly();
}

#[test]
fn a_parent_logs_unknown_commands_sets_without_a_dimension_ends_of_file_and_refusals() {
    let port = free_port();
    let (_node, mut run) = parent("ll-protocol", port, "", "");

    // A command the protocol does not have (the guide: a cut `BEGIN`).
    let (mut s, p) = scripted(port, "ll-unknown");
    s.write_all(b"B\n").unwrap();
    read_all(&mut s, None);
    let unknown = line(&mut run, "which is not known by netdata", 10);
    assert!(
        unknown.ends_with(&format!(
            "STREAM ll-unknown [receive from [127.0.0.1]:{p}]: sent command 'B' which is not known by netdata, \
             for host 'll-unknown'. Disabling it. Closing the connection."
        )),
        "{unknown}"
    );
    assert!(run.log().contains(&format!("STREAM [receive from [127.0.0.1]:{p}]: new client connection.")));

    // A SET whose dimension got lost.
    let (mut s, p) = scripted(port, "ll-set");
    s.write_all(b"CHART a.b '' 't' 'u' 'f' 'a.b' line 1 1\nDIMENSION d\nBEGIN a.b\nSET '' = 5\n").unwrap();
    read_all(&mut s, None);
    let set = line(&mut run, "without a dimension", 10);
    assert!(
        set.ends_with(&format!(
            "STREAM ll-set [receive from [127.0.0.1]:{p}]: requested a SET on chart 'a.b' of host 'll-set', \
             without a dimension. Disabling it. Closing the connection."
        )),
        "{set}"
    );

    // A child that goes away.
    let (s, p) = scripted(port, "ll-eof");
    drop(s);
    run.wait_for_log(
        &format!("STREAM ll-eof [receive from [127.0.0.1]:{p}]: read failed: end of file"),
        Duration::from_secs(10),
    );

    // A refused API key: Netdata's reason, then ours.
    let key = "99999999-2222-3333-4444-555555555555";
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let p = s.local_addr().unwrap().port();
    s.write_all(head(key, "ll-denied").as_bytes()).unwrap();
    read_all(&mut s, None);
    let denied = line(&mut run, "Forbidding access.", 10);
    assert!(
        denied.ends_with(&format!(
            "STREAM [receive from [127.0.0.1]:{p}]: API key '{key}' is not allowed (not in stream.conf). Forbidding access."
        )),
        "{denied}"
    );
    run.stop_orderly();
}

#[test]
fn the_streaming_rate_limit_says_when_the_next_request_is_allowed() {
    let port = free_port();
    let (_node, mut run) = parent("ll-busy", port, "\taccept a streaming request every seconds = 60\n", "");
    let (_first, _) = scripted(port, "ll-first");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let p = s.local_addr().unwrap().port();
    s.write_all(head(API_KEY, "ll-second").as_bytes()).unwrap();
    assert_eq!(read_all(&mut s, None), BUSY);
    let busy = line(&mut run, "too busy to accept new streaming request", 10);
    let prefix = format!("STREAM [receive from [127.0.0.1]:{p}]: too busy to accept new streaming request. Will be allowed in ");
    assert!(busy.contains(&prefix), "{busy}");
    // 60 s after the first was accepted, which was at most a second or two ago.
    let secs = number_after(&busy, &prefix);
    assert!((58..=60).contains(&secs), "{busy}");
    assert!(busy.contains(&format!("Will be allowed in {secs} secs.")), "{busy}");
    run.stop_orderly();
}

/// A plugin defining 10 charts of 400 dimensions and collecting them every second: about
/// 250 KB of definitions and 60 KB of values a second, more than a 64 KiB send buffer and
/// a unix socket hold when nobody reads.
/// The plugin waits (at most 60 s) for the file `connected` in the node's directory before
/// it defines its charts, so that the test can start the flood once the sender is connected:
/// else a busy machine can fill the buffer before the first byte is written.
fn big_plugin(node: &Node) {
    let dir = node.dir.join("plugins.d");
    std::fs::create_dir_all(&dir).unwrap();
    node.append_config(&format!("[directories]\n\tplugins = {}\n", dir.display()));
    let (mut define, mut collect) = (String::new(), String::new());
    for c in 0..10 {
        define.push_str(&format!("CHART big.c{c} '' 'Big' 'n' '' '' line 1 1\n"));
        collect.push_str(&format!("BEGIN big.c{c}\n"));
        for d in 0..400 {
            define.push_str(&format!("DIMENSION dimension_{d} '' absolute 1 1\n"));
            collect.push_str(&format!("SET dimension_{d} = {}\n", 1_000_000 + d));
        }
        collect.push_str("END\n");
    }
    std::fs::write(node.dir.join("define.txt"), define).unwrap();
    std::fs::write(node.dir.join("collect.txt"), collect).unwrap();
    let d = node.dir.display();
    let path = dir.join("big.plugin");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nn=0\nwhile [ ! -e '{d}/connected' ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done\n\
             cat '{d}/define.txt'\nwhile :; do cat '{d}/collect.txt'; sleep 1; done\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_full_send_buffer_and_the_reconnection_after_it() {
    // A fake parent on a unix socket: it accepts and never reads, until told to close; the
    // next connection is read and thrown away.
    let node = Node::new("ll-full", "none");
    let sock = node.dir.join("parent.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    listener.set_nonblocking(true).unwrap();
    let close_first = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let connected = node.dir.join("connected");
    let fake = {
        let (close_first, stop) = (Arc::clone(&close_first), Arc::clone(&stop));
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut first = None;
            let mut others = Vec::new();
            let mut b = vec![0u8; 65536];
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(90) {
                if let Ok((mut s, _)) = listener.accept() {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                    read_head(&mut s);
                    s.write_all(b"Hit me baby, push them over...").unwrap();
                    s.set_nonblocking(true).unwrap();
                    if first.is_none() && !close_first.load(Ordering::Relaxed) {
                        // The sender is connected: the plugin may flood it now.
                        std::fs::write(&connected, b"").unwrap();
                        first = Some(s);
                    } else {
                        others.push(s);
                    }
                }
                if close_first.load(Ordering::Relaxed) {
                    first = None;
                }
                for s in &mut others {
                    while matches!(s.read(&mut b), Ok(n) if n > 0) {}
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    node.append_config("[web]\n\tmode = none\n");
    big_plugin(&node);
    node.write_stream_conf(&format!(
        "[stream]\n\tenabled = yes\n\tdestination = unix:{}\n\tapi key = {API_KEY}\n\
         \tbuffer size bytes = 65536\n\ttimeout seconds = 60\n\treconnect delay seconds = 1\n",
        sock.display()
    ));
    let mut run = node.start_ready(&[]);
    let prefix = format!("STREAM it-ll-full [send to unix:{}]", sock.display());

    let full = line(&mut run, "too many data pending", 30);
    assert!(
        full.contains(&format!("{prefix}: too many data pending - buffer is 65536 bytes long, ")),
        "{full}"
    );
    let unsent = number_after(&full, "bytes long, ");
    let total = number_after(&full, "we have sent ");
    let this = number_after(&full, "bytes in total, ");
    assert!(unsent > 0 && unsent <= 65536, "{full}");
    assert!(total > 0 && total == this, "all of it on the first connection: {full}");
    assert!(
        full.contains(
            " on this connection. nanodata does not close the connection: it drops this collection instead"
        ),
        "{full}"
    );

    // The parent closes; on the next connection what was left is discarded.
    close_first.store(true, Ordering::Relaxed);
    let discarding = line(&mut run, "bytes of metrics already in the buffer.", 30);
    let n = number_after(&discarding, "STREAM it-ll-full [send]: discarding ");
    assert!(n > 0 && n <= 65536, "{discarding}");
    let log = run.log();
    let first = at(&log, &format!("{prefix}: established communication - sending metrics..."), 0);
    let first_ready = at(&log, "STREAM it-ll-full [send]: ready - sending metrics...", first);
    let again = at(&log, &format!("{prefix}: established communication - sending metrics..."), first_ready);
    let i = at(&log, "STREAM it-ll-full [send]: discarding ", again);
    at(&log, "STREAM it-ll-full [send]: ready - sending metrics...", i);
    run.stop_orderly();
    stop.store(true, Ordering::Relaxed);
    let _ = fake.join();
}
