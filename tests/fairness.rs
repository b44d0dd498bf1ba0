//! Fairness of the one event loop, against the real binary on loopback: data queries too
//! large for one turn are refused with a 400 (exact reason) before they allocate (the peak
//! RSS of the process is read from /proc), a child's backlog is applied over several turns
//! while the API answers, and slow HTTP clients — a half-sent head, a client that does not
//! read a large response, a burst of pipelined requests — do not hold up anyone else.
//!
//! No timing thresholds: waits are bounded loops that fail with the log attached.

// Tests and benches time themselves with the standard clock; clippy.toml's rule is for src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::netdata::{free_port, API_KEY};
use common::{Node, Run};

/// Dimensions of the scripted child's big chart (the default `max dimensions per chart`).
const DIMS: usize = 1000;
/// Seconds between the first and the last replicated point of the big chart.
const SPAN: i64 = 5200;

fn parent(name: &str) -> (Node, Run, u16) {
    let port = free_port();
    let node = Node::new(name, "ram");
    node.append_config(&format!("[web]\n\tbind to = 127.0.0.1:{port}\n"));
    node.write_stream_conf(&format!("[{API_KEY}]\n\tenabled = yes\n\tdefault history = 6000\n"));
    let run = node.start_ready(&[]);
    (node, run, port)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A scripted child, accepted (plain text, replication granted).
fn child(port: u16, hostname: &str, first_bytes: &[u8]) -> TcpStream {
    let guid = uuid::Uuid::new_v4();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let q = format!(
        "key={API_KEY}&hostname={hostname}&machine_guid={guid}&update_every=1&os=linux&hops=1&ver=15352"
    );
    let mut head = format!("STREAM {q} HTTP/1.1\r\nUser-Agent: scripted/1\r\n\r\n").into_bytes();
    head.extend_from_slice(first_bytes);
    s.write_all(&head).unwrap();
    let got = read_for(&mut s, |g| g.len() >= 30, Duration::from_secs(20));
    assert!(
        got.starts_with(b"Hit me baby, push them over"),
        "not accepted: {:?}",
        String::from_utf8_lossy(&got)
    );
    s
}

/// Reads until `done(bytes so far)` or `limit`.
fn read_for(s: &mut TcpStream, done: impl Fn(&[u8]) -> bool, limit: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit && !done(&got) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    got
}

fn definition(chart: &str, dims: usize) -> String {
    let mut t =
        format!("CHART \"{chart}\" \"\" \"t\" \"u\" \"f\" \"{chart}\" \"line\" 1 1 \"   \" \"p\" \"\"\n");
    for i in 0..dims {
        t.push_str(&format!("DIMENSION \"d{i}\" \"d{i}\" \"absolute\" 1 1 \"  \"\n"));
    }
    t
}

/// A child `big` whose chart `big.c` of [`DIMS`] dimensions holds, by replication, two points
/// [`SPAN`] − 1 seconds apart: the stored range is `(first, last)`.
fn big_chart(port: u16) -> (TcpStream, i64, i64) {
    let t = now();
    let (first, last) = (t - SPAN, t - 1);
    let mut s = child(port, "big", b"");
    let mut text = definition("big.c", DIMS);
    text.push_str(&format!("CHART_DEFINITION_END {first} {last} {t}\n"));
    s.write_all(text.as_bytes()).unwrap();
    // The parent asks in steps; each is answered with the points inside it.
    for step in 0.. {
        assert!(step < 100, "replication does not end");
        let asked = read_for(&mut s, |g| g.ends_with(b"\n"), Duration::from_secs(20));
        let asked = String::from_utf8_lossy(&asked).into_owned();
        let words: Vec<&str> = asked.split_whitespace().collect();
        assert!(words.len() == 5 && words[0] == "REPLAY_CHART" && words[1] == "\"big.c\"", "{asked:?}");
        let flag = words[2].trim_matches('"');
        let (a, b): (i64, i64) = (words[3].parse().unwrap(), words[4].parse().unwrap());
        let mut answer = String::from("RBEGIN \"big.c\"\n");
        for end in [first + 1, last] {
            if end > a && end <= b {
                answer.push_str(&format!("RBEGIN '' {} {end} {t}\n", end - 1));
                for i in 0..DIMS {
                    answer.push_str(&format!("RSET \"d{i}\" {}.0000000 \"\"\n", i + 1));
                }
            }
        }
        answer.push_str(&format!("REND 1 {first} {last} {flag} {a} {b} {t}\n"));
        s.write_all(answer.as_bytes()).unwrap();
        if flag == "true" {
            break;
        }
    }
    (s, first + 1, last)
}

/// One request on a fresh connection: `(status, body)`; `None` if no complete answer came
/// within 60 s.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Waits (bounded) until the data query answers 200 with a body containing `needle`.
fn wait_for_data(port: u16, path: &str, needle: &str, run: &Run) {
    for _ in 0..100 {
        if get(port, path).is_some_and(|(s, b)| s == 200 && b.contains(needle)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{path}: no answer with {needle:?}; log:\n{}", run.log());
}

/// Whether `got` holds a whole response (its head and `Content-Length` bytes of body).
fn complete_response(got: &[u8]) -> bool {
    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&got[..end]);
    let length: Option<usize> =
        head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).and_then(|v| v.trim().parse().ok());
    length.is_some_and(|n| got.len() >= end + 4 + n)
}

/// A field of /proc/<pid>/status in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn oversized_queries_get_a_400_with_the_reason_before_any_allocation() {
    let (_node, run, port) = parent("oversized");
    let (_big, first, last) = big_chart(port);
    let data = "/host/big/api/v1/data?chart=big.c";
    // The replicated points are in: the newest row holds d0's value.
    wait_for_data(port, &format!("{data}&dimensions=d0&after=-60&points=1&group=max"), "1", &run);
    let slots = (last - first + 1) as usize;

    // Every dimension over the whole stored range: more stored points than one query reads.
    let read_refusal = format!(
        "the query would read {} stored points ({DIMS} dimensions over {slots} points of time); at most \
         4000000 per query: shorten the window (after, before) or select fewer dimensions",
        DIMS * slots
    );
    // 333 dimensions (d1*, d2*, d3*) at every stored point: more values than one answer holds.
    let values_refusal = format!(
        "the answer would hold {slots} points × 333 dimensions = {} values; at most 500000: ask for fewer \
         points or dimensions",
        slots * 333
    );
    let baseline = status_kib(run.pid(), "VmHWM:");
    for _ in 0..5 {
        for (path, reason) in [
            (format!("{data}&after=-6000&points=0"), &read_refusal),
            (
                format!("{data}&after=-94608000&before=0&points=9223372036854775807&group=median"),
                &read_refusal,
            ),
            (format!("{data}&after={first}&before={last}&gtime=1&options=percentage"), &read_refusal),
            (format!("{data}&after=-6000&dimensions=d1*|d2*|d3*&points=0"), &values_refusal),
            (format!("{data}&after=-6000&dimensions=d1*|d2*|d3*&points=99999999999"), &values_refusal),
        ] {
            let (status, body) = get(port, &path).unwrap_or_else(|| panic!("{path}: no answer"));
            assert_eq!(status, 400, "{path}: {}", &body[..body.len().min(300)]);
            assert_eq!(body, format!("{reason}\n"), "{path}");
        }
    }
    // Narrower queries of the same data are answered: a huge `points` is capped to the window.
    let (status, body) =
        get(port, &format!("{data}&after=-6000&dimensions=d0&points=99999999999&format=csv"))
            .expect("an answer");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.lines().count(), 1 + slots, "a header and one row per stored point");
    let (status, body) =
        get(port, &format!("{data}&after=-6000&dimensions=d1*|d2*|d3*&points=1000&format=csv")).unwrap();
    assert_eq!(status, 200);
    assert_eq!(body.lines().next().unwrap().split(',').count(), 1 + 333);
    let grown = status_kib(run.pid(), "VmHWM:").saturating_sub(baseline);
    assert!(
        grown < 48 * 1024,
        "the peak RSS grew by {grown} KiB over {baseline} KiB while answering bounded queries"
    );
}

#[test]
fn a_child_s_backlog_is_applied_over_several_turns_while_the_api_answers() {
    let (_node, mut run, port) = parent("backlog");
    // The backlog goes out with the handshake, before the parent has read anything: 30 000
    // collections of a 3-dimension chart, 150 000 lines.
    let mut backlog = definition("flood.c", 3);
    backlog.push_str("CHART_DEFINITION_END 0 0 0\n");
    for i in 0..30_000 {
        backlog
            .push_str(&format!("BEGIN \"flood.c\"\nSET \"d0\" = {i}\nSET \"d1\" = 1\nSET \"d2\" = 2\nEND\n"));
    }
    let lines = backlog.lines().count();
    let writer = std::thread::spawn(move || {
        let mut s = child(port, "flood", backlog.as_bytes());
        // Keep the connection until the parent has applied everything.
        let _ = read_for(&mut s, |_| false, Duration::from_secs(3));
        s
    });
    // The API answers while the backlog is applied.
    let mut answered = 0;
    for _ in 0..20 {
        if let Some((200, body)) = get(port, "/api/v1/info") {
            assert!(body.contains("\"version\""), "{body}");
            answered += 1;
        }
    }
    assert_eq!(answered, 20, "log:\n{}", run.log());
    // Closed once written: the parent applies the rest, then sees the end of the stream.
    drop(writer.join().unwrap());
    run.wait_for_log("disconnected (completed 30000 updates).", Duration::from_secs(60));
    let needle = "turn(s) of the event loop ended at this child's work budget.";
    run.wait_for_log(needle, Duration::from_secs(20));
    let log = run.log();
    let line = log.lines().find(|l| l.contains(needle)).unwrap();
    let turns: u64 = line.split(": ").last().unwrap().split(' ').next().unwrap().parse().unwrap();
    // At most 8192 lines a turn (LINES_PER_TURN): at least lines / 8192 turns ended at the
    // budget (more where the 2 ms time slice ended them first).
    assert!(turns as usize >= lines / 8192, "{lines} lines in {turns} paused turns: {line}");
    assert!(line.contains("STREAM flood [receive from [127.0.0.1]:"), "{line}");
}

#[test]
fn slow_and_greedy_http_clients_do_not_hold_up_the_others() {
    let (_node, run, port) = parent("slowloris");
    let (_big, _, _) = big_chart(port);
    let big = "/host/big/api/v1/data?chart=big.c&after=-3000&points=1000&dimensions=d1*|d2*|d3*|d4*";
    wait_for_data(port, &format!("{big}&dimensions=d0"), "1", &run);

    // A half-sent head, held open.
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET /api/v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slo").unwrap();
    // Clients that ask for ~10 MB each and never read.
    let mut greedy = Vec::new();
    for _ in 0..3 {
        let mut g = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(g, "GET {big} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        greedy.push(g);
    }
    // 200 pipelined requests in one write.
    let mut pipelined = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let burst = "GET /api/v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(200);
    pipelined.write_all(burst.as_bytes()).unwrap();

    // Everyone else is served.
    for _ in 0..10 {
        let (status, body) = get(port, "/api/v1/info").expect("an answer to /api/v1/info");
        assert_eq!(status, 200, "{body}");
        let (status, body) =
            get(port, "/host/big/api/v1/data?chart=big.c&dimensions=d5&after=-60&points=1&group=max")
                .expect("an answer to a small data query");
        assert_eq!((status, body.contains("6")), (200, true), "{body}");
    }
    // The pipelined client gets its 200 answers, in order, on its one connection.
    pipelined.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let got = read_for(
        &mut pipelined,
        |g| g.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count() >= 200,
        Duration::from_secs(60),
    );
    assert_eq!(got.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count(), 200);
    // The greedy clients still get their whole answers once they read.
    for g in &mut greedy {
        g.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        let got = read_for(g, complete_response, Duration::from_secs(60));
        assert!(complete_response(&got), "{} bytes, incomplete", got.len());
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{}", &text[..text.len().min(300)]);
        assert!(got.len() > 2 * 1024 * 1024, "a big answer: {} bytes", got.len());
    }
    // The half head is still open (it ends at the request timeout, not before).
    half.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut b = [0u8; 16];
    assert!(
        matches!(half.read(&mut b), Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
    );
}
